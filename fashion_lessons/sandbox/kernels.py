"""Kernelspecs whose kernels run in the bubblewrap sandbox, and a manager to start them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fashion_lessons.sandbox.bubblewrap import Limits, sandbox_command

KERNEL_NAME = "fashion-lessons-sandbox"
# IPython's input history stays in memory, as in nbclient's own kernels: a history file
# would be written into the submission's bounded folder while the student's code runs,
# and when that code fills the folder, IPython's error message lands in the cell's output.
KERNEL_OPTIONS = ("--HistoryManager.hist_file=:memory:",)


def install_kernelspec(
    data_dir: Path,
    scratch: Path,
    runtime: Path,
    limits: Limits | None = None,
    argv: list[str] | None = None,
) -> str:
    """Write a kernelspec whose kernel runs sandboxed; return its name.

    Parameters
    ----------
    data_dir : Path
        A Jupyter data folder; put it first on ``JUPYTER_PATH`` for the grader.
    scratch : Path
        The kernel's only writable folder (the submission's grading folder).
    runtime : Path
        The kernel's connection folder; set ``JUPYTER_RUNTIME_DIR`` to it and use the
        ``ipc`` transport with an ``ip`` inside it.
    limits : Limits
    argv : list of str, optional
        A program that provides the sandboxed kernel itself, such as a zygote's launcher
        (:mod:`fashion_lessons.sandbox.zygote`); ``scratch`` and ``limits`` are then its business.
    """
    limits = limits or Limits()
    kernel = [
        sys.executable,
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
        *KERNEL_OPTIONS,
    ]
    spec = {
        "argv": argv or sandbox_command(kernel, scratch, runtime, limits),
        "display_name": "Python 3 (fashion-lessons sandbox)",
        "language": "python",
        "metadata": {"debugger": False},
        # A signal would reach bwrap's session, not the kernel: interrupt by message.
        "interrupt_mode": "message",
    }
    folder = data_dir / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
    return KERNEL_NAME


def kernel_manager(data_dir: Path, runtime: Path, name: str = KERNEL_NAME):
    """A Jupyter ``KernelManager`` for a kernelspec written by :func:`install_kernelspec`.

    Parameters
    ----------
    data_dir, runtime : Path
        As given to :func:`install_kernelspec`.
    name : str

    Returns
    -------
    jupyter_client.manager.KernelManager
        Not started; talks to the kernel over ipc sockets in ``runtime``.
    """
    from jupyter_client.manager import KernelManager

    manager = KernelManager(
        kernel_name=name,
        transport="ipc",
        ip=str(Path(runtime) / "kernel"),
        connection_file=str(Path(runtime) / "kernel.json"),
    )
    manager.kernel_spec_manager.kernel_dirs = [str(Path(data_dir) / "kernels")]
    return manager
