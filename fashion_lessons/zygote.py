"""Sandboxed kernels forked from a process that has imported TensorFlow once.

Every graded notebook imports TensorFlow, and a fresh kernel pays seconds of CPU for
that — more than most notebooks' own work. A *zygote* is a long-lived process inside
the bubblewrap sandbox (with its own PID namespace) that imports TensorFlow, Keras,
NumPy, matplotlib, ipykernel and this package once, then forks one kernel per notebook.
A fork shares those pages copy-on-write, so a kernel is ready in milliseconds.

Three programs share this module:

- the grading process starts one :class:`Zygote` per worker slot and, after each
  submission, asks it (``ping``) whether it is idle and clean, restarting it if not;
- the zygote (``python -m fashion_lessons.zygote serve``) forks kernels on request and,
  after each, kills every process left in its PID namespace and empties its ``/tmp``,
  so nothing of one student reaches the next;
- the launcher (``python -m fashion_lessons.zygote launch``) is the kernelspec's
  program: nbgrader starts it like a kernel; it asks the zygote for a kernel, lives as
  long as that kernel, and the kernel is killed when the launcher dies.

A kernel cannot reach the zygote: the zygote's socket is outside the sandbox (passed
in as an open descriptor), its control pipe is closed in every kernel, and the zygote
is not dumpable, so a kernel of the same user cannot trace it or read its memory. A
kernel can still kill the zygote; the next ``ping`` then fails and the grading process
starts a new one, so only that student's own notebook suffers.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fashion_lessons.sandbox import Limits, SandboxUnavailable, sandbox_command

PRELOAD = (
    "numpy",
    "tensorflow",
    "keras",
    "matplotlib.pyplot",
    "ipykernel.kernelapp",
    "fashion_lessons.checks",
    "fashion_lessons.data",
    "fashion_lessons.models",
    "fashion_lessons.plots",
    "fashion_lessons.preprocess",
    "fashion_lessons.training",
)
START_TIMEOUT_S = 180.0  # preloading takes a few seconds, more on a loaded machine
IDLE_TIMEOUT_S = 30.0
IPCRM = "/usr/bin/ipcrm"  # a kernel killed by its launcher is gone well within this
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value}) failed")


def _remove(entry: Path) -> None:
    """Delete a file, link or folder tree, even one a student made read-only."""
    if entry.is_dir() and not entry.is_symlink():
        with contextlib.suppress(OSError):
            entry.chmod(0o700)
        _remove_contents(entry)
        with contextlib.suppress(OSError):
            entry.rmdir()
    else:
        with contextlib.suppress(OSError):
            entry.unlink()


def _remove_contents(folder: Path, keep: Path | None = None) -> None:
    """Delete everything in ``folder`` except ``keep`` and the folders leading to it."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        if keep is not None and (entry == keep or entry in keep.parents):
            if entry != keep:
                _remove_contents(entry, keep)
            continue
        _remove(entry)


# --- the grading process' side ---------------------------------------------------------


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
    """

    def __init__(self, limits: Limits, log: Path):
        self.limits = limits
        self.log = Path(log)
        # Unix socket paths are limited to 107 bytes: a short folder under /tmp.
        self.slot = Path(tempfile.mkdtemp(prefix="fl-slot-"))
        self.runtime = self.slot / "run"
        self.work = self.slot / "work"
        self.socket_path = self.slot / "zygote.sock"
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._ready = False
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
            "fashion_lessons.zygote",
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
            "fashion_lessons.zygote",
            "serve",
            str(listener.fileno()),
            json.dumps(self.limits.__dict__),
        ]
        argv = sandbox_command(
            command,
            self.work,
            self.runtime,
            self.limits,
            process_limits=False,
            pid_namespace=True,
            chdir=self.slot,
        )
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                pass_fds=(listener.fileno(),),
            )
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
        _remove_contents(self.runtime)
        _remove_contents(self.work)

    def _restart(self) -> None:
        self._stop()
        self.restarts += 1
        self._ready = False
        self._start()

    def _stop(self) -> None:
        from fashion_lessons.isolation import kill_tree

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
        _remove_contents(self.slot)
        shutil.rmtree(self.slot, ignore_errors=True)


# --- the zygote, inside the sandbox ----------------------------------------------------


def serve(listener_fd: int, limits: Limits) -> None:
    """Preload, say ``ready``, then fork a kernel per connection; answer ``ping`` when idle."""
    _prctl(_PR_SET_DUMPABLE, 0)  # no ptrace or /proc/<pid>/mem from kernels of our user
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]  # as ipykernel_launcher does; IPython adds '' back in each kernel
    # matplotlib reads its backend when first imported, so set what ipykernel would.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    from fashion_lessons.data import DataError, load_data

    with contextlib.suppress(DataError):
        load_data()  # cached in this process: every kernel gets it without reading
    listener = socket.socket(fileno=listener_fd)
    zygote_fds = {0, 1, 2, listener_fd}
    preloaded_fds = {int(fd) for fd in os.listdir("/proc/self/fd")} - zygote_fds
    devices = set(os.listdir("/dev"))  # the sandbox's /dev is a writable tmpfs too
    os.write(1, b"ready\n")
    while True:
        readable = select.select([listener, 0], [], [])[0]
        if 0 in readable:
            line = os.read(0, 64)
            if not line:
                return  # the grading process is gone
            if b"ping" in line:
                os.write(1, b"pong\n")
        if listener in readable:
            connection, _ = listener.accept()
            with connection:
                _serve_one(connection, limits, preloaded_fds)
            _clean_up(devices)


def _serve_one(connection: socket.socket, limits: Limits, preloaded_fds: set[int]) -> None:
    connection.settimeout(10)
    try:
        request = json.loads(connection.makefile("rb").readline(65536))
        connection_file, cwd = str(request["connection_file"]), str(request["cwd"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    connection.settimeout(None)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            _become_kernel(connection_file, cwd, limits, parent, preloaded_fds)
        finally:
            os._exit(1)
    watch = os.pidfd_open(pid)
    try:
        with contextlib.suppress(OSError):
            connection.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        while True:
            readable = select.select([watch, connection], [], [])[0]
            if watch in readable:
                _, status = os.waitpid(pid, 0)
                with contextlib.suppress(OSError):
                    connection.sendall(
                        json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode() + b"\n"
                    )
                return
            if not connection.recv(1):  # the launcher died: so does its kernel
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return
    finally:
        os.close(watch)


def _clean_up(devices: set[str], deadline_s: float = 10.0) -> None:
    """Kill every other process in this PID namespace, then remove what kernels wrote.

    The sandbox's writable places are ``/tmp``, ``/dev`` (with ``/dev/shm``), System V
    IPC objects and the slot's work and runtime folders, which the grading process
    empties. Exits if processes would not die, so that the grading process starts a new
    zygote.

    Parameters
    ----------
    devices : set of str
        The entries of ``/dev`` when the zygote started; any other is removed.
    deadline_s : float
    """
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            os.kill(-1, signal.SIGKILL)  # all but the namespace's init and this process
        except ProcessLookupError:
            break
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        if time.monotonic() > deadline:
            sys.exit("leftover processes would not die")
        time.sleep(0.005)
    _remove_contents(Path("/tmp"), keep=Path.cwd())  # the slot's binds stay
    _remove_contents(Path("/dev/shm"))
    for name in set(os.listdir("/dev")) - devices:
        _remove(Path("/dev") / name)
    if os.path.exists(IPCRM):  # shared memory, semaphores and queues of this namespace
        subprocess.run([IPCRM, "--all"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _become_kernel(
    connection_file: str, cwd: str, limits: Limits, parent: int, preloaded_fds: set[int]
) -> None:
    """In the forked child: drop everything of the zygote, then run ipykernel."""
    import resource

    os.setsid()
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    _prctl(_PR_SET_DUMPABLE, 1)  # a normal process again (the zygote stays protected)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # never the zygote's control pipe
        os.dup2(null, fd)
    keep = {0, 1, 2} | preloaded_fds
    for fd in {int(fd) for fd in os.listdir("/proc/self/fd")} - keep:
        with contextlib.suppress(OSError):
            os.close(fd)
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(cwd)
    os.environ["HOME"] = cwd
    sys.argv = ["ipykernel_launcher", "-f", connection_file]
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(argv=["-f", connection_file])
    os._exit(0)


# --- the launcher, the kernelspec's program --------------------------------------------


def launch(socket_path: str, work: str, connection_file: str) -> int:
    """Get a kernel from the zygote for the notebook in the current folder; return its code.

    The notebook's folder is copied into the slot's work folder, the only one the
    kernel may write, which starts empty for every kernel.
    """
    work_folder = Path(work)
    _remove_contents(work_folder)
    shutil.copytree(Path.cwd(), work_folder, dirs_exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(socket_path)
        request = {"connection_file": connection_file, "cwd": str(work_folder)}
        connection.sendall(json.dumps(request).encode() + b"\n")
        replies = connection.makefile("rb")
        for line in replies:
            reply = json.loads(line)
            if "exit" in reply:
                code = int(reply["exit"])
                return code if code >= 0 else 128 - code
    return 1  # the zygote died


def main(argv: list[str] | None = None) -> int:
    """``serve FD LIMITS_JSON`` or ``launch SOCKET WORK CONNECTION_FILE``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"] and len(argv) == 3:
        serve(int(argv[1]), Limits(**json.loads(argv[2])))
        return 0
    if argv[:1] == ["launch"] and len(argv) == 4:
        return launch(*argv[1:])
    print(main.__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
