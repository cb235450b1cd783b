"""Process helpers of the grader and the sandbox: kill a tree, tell a dead process, die
with the parent, prctl."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
KILL_WAIT_S = 10.0  # how long a killed process may take to exit


def prctl(option: int, value: int) -> None:
    """Call Linux's ``prctl(option, value)``; raise ``OSError`` when it fails."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value}) failed")


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (even by ``kill -9``).

    Exits at once when the parent died before the request took effect.
    """
    with contextlib.suppress(OSError, AttributeError):
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:
        sys.exit(1)


def kill_tree(pid: int) -> None:
    """Kill a process and every descendant (kernels may have left its session); return
    once all of them are dead, or after ``KILL_WAIT_S``."""
    import psutil

    try:
        parent = psutil.Process(pid)
        processes = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    # Dead is enough: a zombie holds nothing, and a grandchild is reaped by whoever
    # inherits it, which may be an init that reaps only every second or so.
    deadline = time.monotonic() + KILL_WAIT_S
    while not all(map(is_dead, processes)) and time.monotonic() < deadline:
        time.sleep(0.005)


def is_dead(process) -> bool:
    """Whether ``process`` (a ``psutil.Process``) has exited, reaped or not."""
    import psutil

    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
