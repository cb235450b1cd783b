"""Autograde one submission in its own killable worker process, optionally sandboxed.

The grading process never runs a student's notebook itself. For each submission it forks
a worker (from a server that has imported nbgrader once), waits at most a wall-clock
limit, and kills the worker's whole process tree beyond it. The worker autogrades
through nbgrader with a kernel that, unless told otherwise, runs inside the bubblewrap
sandbox of :mod:`fashion_lessons.sandbox`, forked from the worker slot's zygote
(:mod:`fashion_lessons.sandbox.zygote`), which has imported TensorFlow already. The
worker reports through a result file in a folder the sandboxed kernel cannot see, never
through its output streams, which a student's code could write to.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from fashion_lessons.files import write_atomic
from fashion_lessons.grading.autograde import autograde_submission
from fashion_lessons.grading.feedback import failed_submission, has_submission, no_submission
from fashion_lessons.grading.nbgrader_apps import last_error
from fashion_lessons.grading.types import ExecutionOptions, IsolationOptions, SubmissionResult
from fashion_lessons.grading.workspace import GradingCourse, open_grading
from fashion_lessons.sandbox.bubblewrap import Limits
from fashion_lessons.sandbox.kernels import install_kernelspec
from fashion_lessons.sandbox.processes import die_with_parent, kill_tree

RESULT_FILE = "result.json"
_RUNTIME_PREFIX = "fl-kernel-"


@dataclasses.dataclass(frozen=True)
class KernelSlot:
    """A zygote's kernel launcher, handed to the worker grading with it.

    Attributes
    ----------
    argv : list of str
        The kernelspec's program (see :meth:`fashion_lessons.sandbox.zygote.Zygote.kernel_argv`).
    runtime : Path
        The connection folder the zygote's sandbox shares with the grader.
    """

    argv: list[str]
    runtime: Path


def autograde_isolated(
    course: GradingCourse,
    student: str,
    assignment: str,
    isolation: IsolationOptions | None = None,
    execution: ExecutionOptions | None = None,
    slot: KernelSlot | None = None,
) -> SubmissionResult:
    """Autograde one submission in a worker process; a crash or overrun scores 0 with a reason.

    Parameters
    ----------
    course : GradingCourse
        From :func:`fashion_lessons.grading.workspace.prepare_grading`.
    student, assignment : str
    isolation : IsolationOptions
    execution : ExecutionOptions, optional
        Per-cell timeout; without the sandbox, also the kernel.
    slot : KernelSlot, optional
        A zygote's launcher for the sandboxed kernels; without it each kernel starts
        anew in its own sandbox.

    Returns
    -------
    SubmissionResult
    """
    start = time.perf_counter()
    isolation = isolation or IsolationOptions()
    if not has_submission(course, student, assignment):
        return no_submission(course, student, assignment)
    state = course.state_folder(student, assignment)
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    # A new process per submission, forked from a server that has nbgrader imported
    # already: isolation without paying seconds of imports each time.
    worker = _context().Process(
        target=_worker_entry,
        args=(course.out, student, assignment, isolation, execution, slot, state / "worker.log"),
    )
    worker.start()
    try:
        worker.join(timeout=isolation.wall_clock_s)
        if worker.exitcode is None:
            kill_tree(worker.pid)
            worker.join()
            reason = f"stopped after the wall-clock limit of {isolation.wall_clock_s:g} s"
            return failed_submission(course, student, assignment, reason, _since(start))
    finally:
        kill_tree(worker.pid)  # kernels a finished worker may have left behind
    if worker.exitcode != 0 or not (state / RESULT_FILE).exists():
        log = state / "worker.log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        reason = f"the grading worker failed (exit code {worker.exitcode}): {last_error(text)}"
        return failed_submission(course, student, assignment, reason, _since(start))
    data = json.loads((state / RESULT_FILE).read_text())
    max_score = course.max_scores[assignment]
    return SubmissionResult(
        student, assignment, float(data["score"]), max_score, data["reason"], _since(start)
    )


def _since(start: float) -> float:
    return time.perf_counter() - start


def _sandbox_config(course: GradingCourse, student: str, assignment: str, memory_bytes: int, slot):
    """Point nbgrader's kernel at a per-submission sandboxed kernelspec over ipc sockets."""
    from traitlets.config import Config

    scratch = course.out / "autograded" / student / assignment
    data = course.state_folder(student, assignment) / "jupyter"
    if slot is None:
        # ipc sockets are Unix sockets, whose paths may not exceed 107 bytes: keep it short.
        runtime = Path(tempfile.mkdtemp(prefix=_RUNTIME_PREFIX))
    else:
        runtime = slot.runtime
    limits = Limits(memory_bytes=memory_bytes)
    name = install_kernelspec(data, scratch, runtime, limits, argv=slot.argv if slot else None)
    os.environ["JUPYTER_PATH"] = str(data)
    os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime)
    config = Config()
    config.Execute.kernel_name = name
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(runtime / "kernel")
    config.KernelManager.connection_file = str(runtime / "kernel.json")
    return config


_PRELOAD = [
    "fashion_lessons.grading.workers",
    "nbgrader.converters",
    "nbgrader.api",
    "fashion_lessons.grading.worker_warmup",
]
_contexts: list = []


def _context():
    """A forkserver context whose server has imported nbgrader once for all workers."""
    import multiprocessing

    if not _contexts:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        _contexts.append(context)
    return _contexts[0]


def start_worker_server() -> None:
    """Start the server workers are forked from, so its imports overlap other start-up work
    (the zygotes' TensorFlow); the first worker would otherwise wait for them."""
    from multiprocessing import forkserver

    _context()
    forkserver.ensure_running()


def _worker_entry(out, student, assignment, isolation, execution, slot, log: Path) -> None:
    """Body of a forked worker: output to its log file, then :func:`_worker`."""
    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    os.close(descriptor)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the process's own streams
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    die_with_parent()
    _worker(out, student, assignment, isolation, execution, slot)


def _worker(
    out: Path,
    student: str,
    assignment: str,
    isolation: IsolationOptions,
    execution: ExecutionOptions | None,
    slot: KernelSlot | None = None,
) -> None:
    """The worker process: autograde one submission, write the result file."""
    course = open_grading(out, execution)
    if isolation.sandbox:
        config = _sandbox_config(course, student, assignment, isolation.memory_bytes, slot)
        course.config.merge(config)
    try:
        result = autograde_submission(course, student, assignment)
    finally:
        runtime = os.environ.get("JUPYTER_RUNTIME_DIR", "")
        if Path(runtime).name.startswith(_RUNTIME_PREFIX):
            shutil.rmtree(runtime, ignore_errors=True)
    state = course.state_folder(student, assignment)
    write_atomic(state / RESULT_FILE, json.dumps({"score": result.score, "reason": result.reason}))
