"""Scaffolding the test files share: the repository, course notebooks, hand-ins, the CLI,
and a runner for sandboxed kernels."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium, which Playwright drives (never a downloaded browser)."""
WITHOUT_TENSORFLOW = ("numpy",)
"""What a test zygote preloads when no test of it uses TensorFlow, whose import costs
seconds of CPU in every zygote and in every replacement of one."""

ASSIGNMENTS = {
    "01-load-data": "load_data",
    "02-scale-pixels": "scale_pixels",
    "03-build-model": "build_model",
    "04-train-evaluate": "train_evaluate",
    "05-overfitting": "overfitting",
    "06-dropout": "dropout",
}
"""Every assignment of the course and its notebook's name."""


def solution(assignment: str) -> Path:
    """The reference solution notebook of ``assignment``."""
    return REPO / "solutions" / assignment / f"{ASSIGNMENTS[assignment]}.ipynb"


def exercise(assignment: str) -> Path:
    """The released exercise notebook of ``assignment``."""
    return REPO / "exercises" / assignment / f"{ASSIGNMENTS[assignment]}.ipynb"


def with_answer(source: Path, grade_id: str, code: str):
    """The notebook at ``source`` with the answer cell ``grade_id`` replaced by ``code``."""
    import nbformat
    from nbgrader.utils import is_solution

    from fashion_lessons.grading.notebooks import grade_id as grade_id_of

    notebook = nbformat.read(source, as_version=4)
    cells = [c for c in notebook.cells if grade_id_of(c) == grade_id]
    assert len(cells) == 1 and is_solution(cells[0]), grade_id
    cells[0].source = code
    return notebook


def hand_in(submissions: Path, student: str, assignment: str, notebook) -> Path:
    """Put a notebook (a path to copy, JSON text, or a notebook object) where ``grade``
    looks: ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``."""
    import nbformat

    path = submissions / student / assignment / f"{ASSIGNMENTS[assignment]}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(notebook, Path):
        shutil.copy(notebook, path)
    elif isinstance(notebook, str):
        path.write_text(notebook, encoding="utf-8")
    else:
        nbformat.write(notebook, path)
    return path


def cli_command(*args) -> list[str]:
    """The ``fashion-lessons`` command line run with this Python."""
    return [sys.executable, "-m", "fashion_lessons.cli", *map(str, args)]


def run_cli(*args, env=None, timeout=300, cwd=REPO) -> subprocess.CompletedProcess:
    """Run ``fashion-lessons ARGS`` as a user does; capture its output as text."""
    return subprocess.run(
        cli_command(*args), capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout
    )


def environment(**extra) -> dict[str, str]:
    """This process's environment with ``extra`` variables set."""
    return {**os.environ, **extra}


@contextlib.contextmanager
def started_kernel(data: Path, runtime: Path, name: str, cwd: Path):
    """Start the kernel of a kernelspec written by ``install_kernelspec``.

    Yields
    ------
    (run, manager)
        ``run(code)`` executes code and returns the reply status with the text (or error
        name) printed; ``manager`` is the kernel's ``KernelManager``.
    """
    from fashion_lessons.sandbox import kernel_manager

    manager = kernel_manager(data, runtime, name)
    manager.start_kernel(cwd=str(cwd))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)

    def run(code: str) -> tuple[str, str]:
        pieces = []

        def collect(message):
            content = message["content"]
            pieces.append(content.get("text") or content.get("ename") or "")

        reply = client.execute_interactive(code, timeout=60, output_hook=collect)
        return reply["content"]["status"], "".join(pieces)

    try:
        yield run, manager
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@contextlib.contextmanager
def forked_kernel(zygote, tmp_path: Path, files: dict[str, str] | None = None, before=None):
    """A kernel forked by ``zygote`` for a notebook folder in ``tmp_path``.

    ``files`` (name to text) are put in the folder first; ``before`` is called just before
    the kernel starts. Yields ``(run, manager)`` as :func:`started_kernel` does.
    """
    from fashion_lessons.sandbox import install_kernelspec

    folder, data = tmp_path / "notebook", tmp_path / "jupyter"
    folder.mkdir(exist_ok=True)
    for name, text in (files or {}).items():
        (folder / name).write_text(text)
    kernelspec = install_kernelspec(data, folder, zygote.runtime, argv=zygote.kernel_argv())
    if before is not None:
        before()
    with started_kernel(data, zygote.runtime, kernelspec, folder) as (run, manager):
        yield run, manager


def zygote_processes() -> set[int]:
    """Zygotes, their kernels (forked, so named alike) and kernel launchers running now,
    except those another pytest-xdist worker started (a leak of ours counts: an orphan
    descends from no worker)."""
    import psutil

    me, controller = os.getpid(), os.getppid()

    def is_another_workers(process) -> bool:
        try:
            return any(a.pid != me and a.ppid() == controller for a in process.parents())
        except psutil.Error:
            return False

    return {
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if "fashion_lessons.sandbox.zygote_server" in " ".join(p.info["cmdline"] or [])
        and not is_another_workers(p)
    }


def processes_naming(path: Path) -> list[list[str]]:
    """The command lines of the running processes that name ``path`` (a run's workers,
    kernels and launchers name its output folder)."""
    import psutil

    return [
        p.info["cmdline"]
        for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"] and str(path) in " ".join(p.info["cmdline"])
    ]


def grade_rows(out: Path) -> dict[tuple[str, str], dict[str, str]]:
    """The rows of ``OUT/grades.csv`` by (student, assignment)."""
    import csv

    with open(out / "grades.csv", newline="", encoding="utf-8") as stream:
        return {(row["student_id"], row["assignment"]): row for row in csv.DictReader(stream)}


def built_once(tmp_path_factory, name: str, build) -> Path:
    """A folder that ``build(folder)`` fills once per test run, shared by every
    pytest-xdist worker: the first worker to get here builds it, the others wait and reuse.

    A build that raised is started again by the next caller.
    """
    import fcntl

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' base folders share this parent
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder
