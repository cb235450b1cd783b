"""The zygote inside the sandbox and the launcher that nbgrader starts as a kernel.

- ``python -m fashion_lessons.sandbox.zygote_server serve FD LIMITS_JSON PRELOAD_JSON`` is
  the zygote: it preloads ipykernel and the modules named (e.g. TensorFlow and the course
  library), forks a kernel per connection and, after each, kills every process left in
  its PID namespace and empties its ``/tmp``, ``/dev/shm``, new ``/dev`` entries and
  System V IPC objects;
- ``python -m fashion_lessons.sandbox.zygote_server launch SOCKET WORK CONNECTION_FILE``
  is the kernelspec's program: it asks the zygote for a kernel, lives as long as that
  kernel, and the kernel is killed when the launcher dies.

The grading process' side is :class:`fashion_lessons.sandbox.zygote.Zygote`.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from fashion_lessons.files import empty_folder, remove_entry
from fashion_lessons.sandbox.bounds import is_staged, stage_in
from fashion_lessons.sandbox.bubblewrap import Limits
from fashion_lessons.sandbox.kernels import KERNEL_OPTIONS
from fashion_lessons.sandbox.processes import PR_SET_DUMPABLE, PR_SET_PDEATHSIG, prctl

# What the course's notebooks import. A zygote preloads all of them unless it is told
# which its kernels need: a run without TensorFlow notebooks saves seconds per zygote.
PRELOAD = (
    "numpy",
    "tensorflow",
    "keras",
    "matplotlib.pyplot",
    "fashion_lessons.checks",
    "fashion_lessons.data",
    "fashion_lessons.models",
    "fashion_lessons.plots",
    "fashion_lessons.preprocess",
    "fashion_lessons.training",
)
KERNEL_MODULE = "ipykernel.kernelapp"  # every kernel runs it
# What a kernel imports as it starts (debugpy, pdb, sqlite3 for its history, psutil, …):
# about 0.15 s of CPU per kernel when imported once here. None starts a thread, so all are
# safe to fork; one that a later IPython no longer has is skipped.
KERNEL_START_MODULES = (
    "ipykernel.debugger",
    "IPython.core.debugger",
    "IPython.core.completerlib",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "psutil",
    "sqlite3",
    "tornado.platform.asyncio",
)
IPCRM = "/usr/bin/ipcrm"  # removes System V IPC objects, which outlive their makers


def serve(listener_fd: int, limits: Limits, preload: tuple[str, ...] = PRELOAD) -> None:
    """Preload, say ``ready``, then fork a kernel per connection; answer ``ping`` when idle.

    Parameters
    ----------
    listener_fd : int
        The listening Unix socket the launchers connect to.
    limits : Limits
        Applied to every kernel.
    preload : tuple of str
        Modules imported once here, besides ipykernel; with ``fashion_lessons.data``
        the dataset is read once too.
    """
    prctl(PR_SET_DUMPABLE, 0)  # no ptrace or /proc/<pid>/mem from kernels of our user
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]  # as ipykernel_launcher does; IPython adds '' back in each kernel
    # matplotlib reads its backend when first imported, so set what ipykernel would.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import importlib

    for module in (*preload, KERNEL_MODULE):
        importlib.import_module(module)
    for module in KERNEL_START_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    if "fashion_lessons.data" in preload:
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
            if is_staged():  # the folder's sized tmpfs, emptied for the next kernel
                empty_folder(Path.cwd() / "work")


def _serve_one(connection: socket.socket, limits: Limits, preloaded_fds: set[int]) -> None:
    connection.settimeout(10)
    try:
        request = json.loads(connection.makefile("rb").readline(65536))
        connection_file, cwd = str(request["connection_file"]), str(request["cwd"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    connection.settimeout(None)
    if is_staged():  # the submission, copied into its sized tmpfs folder
        stage_in(Path(cwd))
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
    empty_folder(Path("/tmp"), keep=Path.cwd())  # the slot's binds stay
    empty_folder(Path("/dev/shm"))
    for name in set(os.listdir("/dev")) - devices:
        remove_entry(Path("/dev") / name)
    if os.path.exists(IPCRM):  # shared memory, semaphores and queues of this namespace
        subprocess.run([IPCRM, "--all"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _become_kernel(
    connection_file: str, cwd: str, limits: Limits, parent: int, preloaded_fds: set[int]
) -> None:
    """In the forked child: drop everything of the zygote, then run ipykernel."""
    import resource

    os.setsid()
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    prctl(PR_SET_DUMPABLE, 1)  # a normal process again (the zygote stays protected)
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
    argv = ["-f", connection_file, *KERNEL_OPTIONS]
    sys.argv = ["ipykernel_launcher", *argv]
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(argv=argv)
    os._exit(0)


def launch(socket_path: str, work: str, connection_file: str) -> int:
    """Get a kernel from the zygote for the notebook in the current folder; return its code.

    The notebook's folder is copied into the slot's work folder, the only one the
    kernel may write, which starts empty for every kernel.
    """
    work_folder = Path(work)
    empty_folder(work_folder)
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
    """``serve FD LIMITS_JSON PRELOAD_JSON`` or ``launch SOCKET WORK CONNECTION_FILE``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"] and len(argv) == 4:
        serve(int(argv[1]), Limits(**json.loads(argv[2])), tuple(json.loads(argv[3])))
        return 0
    if argv[:1] == ["launch"] and len(argv) == 4:
        return launch(*argv[1:])
    print(main.__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
