"""A sandboxed Jupyter kernel for grading untrusted notebooks, built on bubblewrap.

Autograding runs a student's code with the instructor's rights; nbgrader itself does
not protect against that. Each grading kernel here runs under ``bwrap`` with:

- its own user, network, IPC and UTS namespaces (no network at all, loopback
  included), as an unprivileged user;
- read-only views of ``/usr``, the Python installation, the virtual environment,
  the ``fashion_lessons`` package folder and the dataset folder — nothing else of
  the host, so no solutions, gradebook, other submissions or home directories;
- one writable scratch folder (the submission's own grading folder) and a small
  private ``/tmp``;
- resource limits: address space (memory), CPU seconds, file size;
- one thread for each of TensorFlow's pools, since kernels grade side by side.

The kernel talks to the grader over ZeroMQ's ``ipc`` transport through socket files
in a per-kernel runtime folder, since TCP loopback is cut off with the network.
A kernel started on its own gets no PID namespace (ipykernel would take bwrap's init
as a sign its parent died); a zygote's sandbox gets one (see
:mod:`fashion_lessons.sandbox.zygote`). Kernelspecs for such kernels are written by
:mod:`fashion_lessons.sandbox.kernels`.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import fashion_lessons

SANDBOX_UID = 1000
PACKAGE_ROOT = Path(fashion_lessons.__file__).resolve().parent
"""The whole ``fashion_lessons`` package folder, which kernels are shown read-only."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed kernel.

    Attributes
    ----------
    memory_bytes : int
        Address-space limit (``RLIMIT_AS``); allocations beyond it raise MemoryError.
    cpu_seconds : int
        CPU-time limit (``RLIMIT_CPU``); the kernel is killed beyond it.
    file_bytes : int
        Largest file the kernel may write (``RLIMIT_FSIZE``).
    tmp_bytes : int
        Size of the private ``/tmp``.
    """

    memory_bytes: int = 4 * 2**30
    cpu_seconds: int = 600
    file_bytes: int = 64 * 2**20
    tmp_bytes: int = 256 * 2**20


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


INSTALL_HINT = (
    "Grading runs each student's notebook in a bubblewrap sandbox. Install it with "
    "'sudo apt-get install bubblewrap' (or 'make install' as root), or pass --no-sandbox "
    "to grade without protection (only for submissions you trust)."
)


def find_bwrap() -> str:
    """Return the path of ``bwrap`` or raise :class:`SandboxUnavailable`."""
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed. {INSTALL_HINT}")
    return path


def _data_directory() -> Path | None:
    """The dataset folder this process uses, which the kernel is shown as well."""
    from fashion_lessons.data import DataError, find_data

    try:
        return find_data(download=False).directory.resolve()
    except DataError:
        return None  # a notebook that needs the data then fails with the package's clear error


def _read_only_paths(data: Path | None) -> list[Path]:
    """What the kernel may read: Python, the environment, the package and the data."""
    package = PACKAGE_ROOT
    paths = [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), package]
    if data is not None:
        paths.append(data)
    fonts = Path("/etc/fonts")
    if fonts.is_dir():
        paths.append(fonts)
    unique: list[Path] = []
    for path in paths:
        if not str(path).startswith("/usr/") and path not in unique:
            unique.append(path)
    return unique


# Kernels grade side by side, one per worker, so TensorFlow's thread pools (one thread per
# core each by default) would only compete for the same cores; the course's small models
# gain nothing from more than one thread per pool.
TENSORFLOW_THREADS = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}


def _environment(scratch: Path, data: Path | None) -> dict[str, str]:
    """The sandboxed program's whole environment."""
    environment = {
        "HOME": str(scratch),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONDONTWRITEBYTECODE": "1",
        **TENSORFLOW_THREADS,
    }
    if data is not None:  # the same copy of the data as the grader, wherever it was found
        environment["FASHION_MNIST_DIR"] = str(data)
    return environment


def sandbox_command(
    command: list[str],
    scratch: Path,
    runtime: Path | None = None,
    limits: Limits = Limits(),
    process_limits: bool = True,
    pid_namespace: bool = False,
    chdir: Path | None = None,
    scratch_mounts: list[str] | None = None,
) -> list[str]:
    """Wrap ``command`` so it runs inside the sandbox.

    Parameters
    ----------
    command : list of str
        The program and its arguments, e.g. an ipykernel launch line.
    scratch : Path
        The only writable folder (bound at the same path, the working directory).
    runtime : Path, optional
        The kernel's connection folder (connection file and ipc sockets), writable.
    limits : Limits
    process_limits : bool
        Apply the memory, CPU and file limits to ``command``; a zygote sets them on
        each kernel it forks instead.
    pid_namespace : bool
        Give the sandbox its own PID namespace (for a zygote, whose kernels' parent is
        the zygote, not bwrap's init).
    chdir : Path, optional
        Working directory, ``scratch`` by default.
    scratch_mounts : list of str, optional
        bubblewrap options that mount ``scratch`` (and other writable places) instead of
        binding it, e.g. sized tmpfs mounts
        (:func:`fashion_lessons.sandbox.bounds.bwrap_arguments`).

    Returns
    -------
    list of str
    """
    argv = [*_namespaces(pid_namespace), "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "sbin"):
        if Path(f"/{name}").is_symlink():
            argv += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    # The private /tmp first: binds that follow may live below /tmp (a checkout or a
    # grading folder there) and must stay visible on top of it.
    argv += ["--size", str(limits.tmp_bytes), "--tmpfs", "/tmp"]
    data = _data_directory()
    for path in _read_only_paths(data):
        argv += ["--ro-bind", str(path), str(path)]
    argv += scratch_mounts or ["--bind", str(scratch), str(scratch)]
    if runtime is not None:
        argv += ["--bind", str(runtime), str(runtime)]
    argv += ["--remount-ro", "/"]  # the sandbox's own root: nothing writable but the binds
    argv += ["--chdir", str(chdir or scratch), "--clearenv"]
    for name, value in _environment(scratch, data).items():
        argv += ["--setenv", name, value]
    return [*argv, "--", *(_prlimit(limits) if process_limits else []), *command]


def _namespaces(pid_namespace: bool) -> list[str]:
    """bwrap and its options for new user, network, IPC and UTS namespaces (and PID ones
    if asked), as user :data:`SANDBOX_UID` in a session of its own, dying with its parent."""
    return [
        find_bwrap(),
        "--unshare-user",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        *(["--unshare-pid"] if pid_namespace else []),
    ]


def _prlimit(limits: Limits) -> list[str]:
    """The prefix that runs a command under the memory, CPU-time and file-size limits."""
    return [
        "/usr/bin/prlimit",
        f"--as={limits.memory_bytes}",
        f"--cpu={limits.cpu_seconds}",
        f"--fsize={limits.file_bytes}",
        "--core=0",
        "--",
    ]


def check_sandbox() -> None:
    """Run a trivial program in the sandbox; raise :class:`SandboxUnavailable` if it fails."""
    scratch = Path(os.environ.get("TMPDIR", "/tmp"))
    try:
        result = subprocess.run(
            sandbox_command([sys.executable, "-c", "pass"], scratch),
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SandboxUnavailable(f"bubblewrap could not start ({error}). {INSTALL_HINT}") from error
    if result.returncode != 0:
        raise SandboxUnavailable(
            f"bubblewrap is installed but cannot create a sandbox here: "
            f"{result.stderr.strip()[-300:]}. {INSTALL_HINT}"
        )
