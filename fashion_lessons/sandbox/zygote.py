"""Sandboxed kernels forked from a process that has imported TensorFlow once.

A fresh kernel pays seconds of CPU to import TensorFlow — more than most notebooks' own
work. A *zygote* is a long-lived process inside the bubblewrap sandbox (with its own PID
namespace) that imports ipykernel and what the notebooks import (TensorFlow, Keras,
NumPy, matplotlib, this package) once, then forks one kernel per notebook.
A fork shares those pages copy-on-write, so a kernel is ready in milliseconds.

Three programs take part; this module is the first one's side:

- the grading process starts one :class:`Zygote` per worker slot and, after each
  submission, asks it (``ping``) whether it is idle and clean, restarting it if not;
- the zygote (:mod:`fashion_lessons.sandbox.zygote_server`) forks kernels on request and,
  after each, kills every process left in its PID namespace and empties its ``/tmp``,
  so nothing of one student reaches the next;
- the launcher (:mod:`fashion_lessons.sandbox.zygote_server`) is the kernelspec's
  program: nbgrader starts it like a kernel; it asks the zygote for a kernel, lives as
  long as that kernel, and the kernel is killed when the launcher dies.

A kernel cannot reach the zygote: the zygote's socket is outside the sandbox (passed
in as an open descriptor), its control pipe is closed in every kernel, and the zygote
is not dumpable, so a kernel of the same user cannot trace it or read its memory. A
kernel can still kill the zygote; the next ``ping`` then fails and the grading process
starts a new one, so only that student's own notebook suffers. bubblewrap itself is
started with an empty environment and its options read from a descriptor
(:func:`~fashion_lessons.sandbox.bounds.private_launch`), so nothing of the grader can
be read through the sandbox's ``/proc``; a zygote given :class:`Bounds` holds each
submission within them (:mod:`fashion_lessons.sandbox.enclosures`).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fashion_lessons.files import empty_folder
from fashion_lessons.sandbox.bounds import Bounds, bwrap_arguments, private_launch
from fashion_lessons.sandbox.bubblewrap import Limits, SandboxUnavailable, sandbox_command
from fashion_lessons.sandbox.enclosures import enclosure
from fashion_lessons.sandbox.processes import kill_tree
from fashion_lessons.sandbox.zygote_server import PRELOAD

START_TIMEOUT_S = 180.0  # preloading takes a few seconds, more on a loaded machine
IDLE_TIMEOUT_S = 30.0


class ZygoteFailed(SandboxUnavailable):
    """A zygote did not start, or did not become idle again."""

    def __init__(self, problem: str):
        super().__init__(
            f"{problem}. Grading with --fresh-kernels starts every kernel on its own instead."
        )


class Zygote:
    """One sandboxed zygote serving one grading worker slot.

    Parameters
    ----------
    limits : Limits
        Resource limits applied to every kernel it forks.
    log : Path
        Where the zygote's own stderr goes (kernels' output is discarded).
    bounds : Bounds, optional
        Bound each kernel's submission as a whole; :attr:`enclosure` holds them
        (see :mod:`fashion_lessons.sandbox.enclosures`).
    preload : tuple of str, default every module the course's notebooks import
        Modules imported once in the zygote, so its kernels start with them.
    """

    def __init__(
        self,
        limits: Limits,
        log: Path,
        bounds: Bounds | None = None,
        preload: tuple[str, ...] = PRELOAD,
    ):
        self.limits = limits
        self.bounds = bounds
        self.preload = tuple(preload)
        self.log = Path(log)
        # Unix socket paths are limited to 107 bytes: a short folder under /tmp.
        self.slot = Path(tempfile.mkdtemp(prefix="fl-slot-"))
        self.runtime = self.slot / "run"
        self.work = self.slot / "work"
        self.socket_path = self.slot / "zygote.sock"
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._ready = False
        self.enclosure = None
        if bounds is not None:
            places = {"/tmp": limits.tmp_bytes, "/dev/shm": bounds.shm_bytes}
            places[str(self.work)] = bounds.folder_bytes
            self.enclosure = enclosure(self.slot.name, bounds, places)
        try:
            self._start()  # not waiting yet: several zygotes preload at the same time
        except BaseException:
            shutil.rmtree(self.slot, ignore_errors=True)
            raise

    def wait_ready(self) -> None:
        """Block until the zygote has preloaded; raise :class:`ZygoteFailed` if it cannot.

        A zygote that died while idle (the OOM killer, say) is replaced first.
        """
        if self.process is None or self.process.poll() is not None:
            self._restart()
        if not self._ready:
            self._expect(b"ready", START_TIMEOUT_S)
            self._ready = True

    def kernel_argv(self) -> list[str]:
        """The kernelspec ``argv`` whose kernels this zygote forks."""
        return [
            sys.executable,
            "-m",
            "fashion_lessons.sandbox.zygote_server",
            "launch",
            str(self.socket_path),
            str(self.work),
            "{connection_file}",
        ]

    def _start(self) -> None:
        for folder in (self.runtime, self.work):
            folder.mkdir(exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.socket_path))  # outside the sandbox: no kernel sees it
        listener.listen(8)
        command = [
            sys.executable,
            "-m",
            "fashion_lessons.sandbox.zygote_server",
            "serve",
            str(listener.fileno()),
            json.dumps(self.limits.__dict__),
            json.dumps(self.preload),
        ]
        argv = sandbox_command(
            command,
            self.work,
            self.runtime,
            self.limits,
            process_limits=False,
            pid_namespace=True,
            chdir=self.slot,
            scratch_mounts=bwrap_arguments(self.work, self.bounds) if self.bounds else None,
        )
        # bwrap without the grader's environment and paths, inside the enclosure's cgroups
        joins = self.enclosure.join_files() if self.enclosure else []
        argv = private_launch(argv, self.slot / "bwrap.args", joins, (listener.fileno(),))
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                pass_fds=(listener.fileno(),),
            )
        if self.enclosure is not None:
            self.enclosure.attach(self.process.pid)
        listener.close()  # the zygote holds it now; if it dies, launchers fail at once

    def _expect(self, word: bytes, timeout: float) -> None:
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([stdout], [], [], remaining)[0]:
                raise ZygoteFailed(f"the kernel zygote did not answer within {timeout:g} s")
            chunk = os.read(stdout, 64)
            if not chunk:
                raise ZygoteFailed(
                    f"the kernel zygote exited (code {self.process.wait()}); see {self.log}"
                )
            line += chunk
        if line.strip() != word:
            raise ZygoteFailed(f"the kernel zygote said {line.strip()!r}, not {word!r}")

    def make_idle(self) -> None:
        """Wait until the zygote is idle with nothing left behind; restart it otherwise."""
        try:
            self.wait_ready()
            assert self.process is not None and self.process.stdin is not None
            self.process.stdin.write(b"ping\n")
            self.process.stdin.flush()
            self._expect(b"pong", IDLE_TIMEOUT_S)
        except (OSError, ZygoteFailed):
            self._restart()
        empty_folder(self.runtime)
        empty_folder(self.work)

    def _restart(self) -> None:
        self._stop()
        self.restarts += 1
        self._ready = False
        self._start()

    def _stop(self) -> None:
        if self.process is not None:
            kill_tree(self.process.pid)
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self.process = None

    def close(self) -> None:
        """Stop the zygote and its kernels; remove the slot folder."""
        self._stop()
        if self.enclosure is not None:
            self.enclosure.close()
        empty_folder(self.slot)
        shutil.rmtree(self.slot, ignore_errors=True)
