"""Bounds on a whole submission, and the sandbox's mounts and launch that carry them out.

Per-process limits (:class:`~fashion_lessons.sandbox.bubblewrap.Limits`: address space,
CPU seconds, file size) do not stop a notebook that starts many processes. A
:class:`Bounds` covers everything one submission runs, together:

- **memory** held by all its processes (resident pages and the tmpfs files they wrote)
  and **processes** at once, held by :mod:`fashion_lessons.sandbox.enclosures`;
- **bytes written** in each place it may write: its folder, ``/tmp`` and ``/dev/shm`` are
  sized tmpfs mounts inside the sandbox (a full one says "No space left on device"), and
  the rest of ``/dev`` is read-only (:func:`bwrap_arguments`, :func:`stage_in`).

:func:`private_launch` hides what the sandbox's own helper carries: bubblewrap reads its
options from a file descriptor and runs with an empty environment, so the sandbox's PID 1
(bwrap itself) shows neither the grader's environment nor its paths in
``/proc/1/environ`` or ``/proc/1/cmdline``; the grader and every other host process are
outside the sandbox's PID namespace.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
import shutil
from pathlib import Path

from fashion_lessons.files import empty_folder
from fashion_lessons.sandbox.bubblewrap import Limits

STAGE = "/run/fl-submission"
"""Where a sandbox sees its submission folder read-only; copied into its sized tmpfs folder."""


@dataclasses.dataclass(frozen=True)
class Bounds:
    """What one submission may use in all, whatever it runs.

    Attributes
    ----------
    memory_bytes : int
        Memory held by all its processes together (on top of the idle kernel zygote).
    processes : int
        Processes at once (threads count too under the cgroup pids controller).
    folder_bytes : int
        Size of its working folder (a tmpfs holding a copy of the submission).
    shm_bytes : int
        Size of ``/dev/shm``. The size of ``/tmp`` is ``Limits.tmp_bytes``.
    """

    memory_bytes: int = Limits.memory_bytes
    processes: int = 512
    folder_bytes: int = 256 * 2**20
    shm_bytes: int = 64 * 2**20


def bwrap_arguments(scratch: Path, bounds: Bounds) -> list[str]:
    """bubblewrap options that make every writable place a sized tmpfs.

    ``scratch`` (filled by the grader) is shown read-only at :data:`STAGE`; a tmpfs of
    ``bounds.folder_bytes`` takes its place, to be filled by :func:`stage_in`.
    ``/dev/shm`` becomes a tmpfs of ``bounds.shm_bytes`` and the rest of ``/dev`` read-only.
    They replace the bind of ``scratch`` (see ``sandbox_command``'s ``scratch_mounts``).
    """
    return [
        "--ro-bind", str(scratch), STAGE,
        "--size", str(bounds.folder_bytes), "--tmpfs", str(scratch),
        "--size", str(bounds.shm_bytes), "--tmpfs", "/dev/shm",
        "--remount-ro", "/dev",
    ]  # fmt: skip


def is_staged() -> bool:
    """Inside a sandbox: whether its folder is a sized tmpfs filled from :data:`STAGE`."""
    return Path(STAGE).is_dir()


def stage_in(folder: Path) -> None:
    """Inside the sandbox: empty the tmpfs ``folder``, then copy the submission into it."""
    empty_folder(folder)
    with contextlib.suppress(OSError, shutil.Error):
        shutil.copytree(STAGE, folder, dirs_exist_ok=True, symlinks=True)


def private_launch(
    argv: list[str], options_file: Path, join: list[str] = (), keep_fds: tuple[int, ...] = ()
) -> list[str]:
    """Rewrite a bubblewrap command line so that bwrap carries nothing of the grader.

    Parameters
    ----------
    argv : list of str
        ``[bwrap, OPTIONS..., "--", COMMAND...]`` (see ``sandbox_command``).
    options_file : Path
        Where bwrap's options are written (NUL-separated; outside the sandbox).
    join : list of str
        ``cgroup.procs`` files the launcher writes itself into first, so that every
        process of the sandbox starts inside the cgroups
        (:meth:`fashion_lessons.sandbox.enclosures.Enclosure.join_files`).
    keep_fds : tuple of int
        Descriptors passed on to the sandbox, which the options must not take.

    Returns
    -------
    list of str
        A ``/bin/sh`` command that joins the cgroups, then runs bwrap with an empty
        environment, its options read from ``options_file``.
    """
    split = argv.index("--")
    bwrap, options, command = argv[0], argv[1:split], argv[split:]
    Path(options_file).write_bytes(b"".join(o.encode() + b"\0" for o in options))
    script = "".join(f"echo $$ > {shlex.quote(str(path))} && " for path in join)
    fd = min(set(range(3, 10)) - set(keep_fds))  # bwrap closes it once read
    script += f'exec /usr/bin/env -i "$0" --args {fd} "$@" {fd}< {shlex.quote(str(options_file))}'
    return ["/bin/sh", "-c", script, bwrap, *command]
