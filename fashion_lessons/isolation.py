"""Autograde one submission in its own killable process, optionally in the sandbox.

The grading process never runs a student's notebook itself. For each submission it forks
a worker (from a server that has imported nbgrader once), waits at most a wall-clock
limit, and kills the worker's whole process tree beyond it. The worker autogrades
through nbgrader with a kernel that, unless told otherwise, runs inside the bubblewrap
sandbox of :mod:`fashion_lessons.sandbox`, forked from the worker slot's zygote
(:mod:`fashion_lessons.zygote`), which has imported TensorFlow already. The worker
reports through a result file in a folder the sandboxed kernel cannot see, never
through its output streams, which a student's code could write to.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from fashion_lessons.course import GradingCourse, GradingOptions, SubmissionResult

STATE_DIR = ".grading"  # inside OUT: results of workers, sandbox kernelspecs and sockets


@dataclasses.dataclass(frozen=True)
class IsolationOptions:
    """How each submission is run.

    Attributes
    ----------
    sandbox : bool
        Run kernels in the bubblewrap sandbox (default); False runs them unprotected.
    wall_clock_s : float
        Limit for a whole submission (all its notebooks); the worker is killed beyond it.
    memory_bytes : int
        Address-space limit of a sandboxed kernel.
    zygote : bool
        Fork sandboxed kernels from a zygote that has imported TensorFlow once
        (:mod:`fashion_lessons.zygote`, default) instead of starting each afresh.
    """

    sandbox: bool = True
    wall_clock_s: float = 600.0
    memory_bytes: int = 4 * 2**30
    zygote: bool = True


@dataclasses.dataclass(frozen=True)
class KernelSlot:
    """A zygote's kernel launcher, handed to the worker grading with it.

    Attributes
    ----------
    argv : list of str
        The kernelspec's program (see :meth:`fashion_lessons.zygote.Zygote.kernel_argv`).
    runtime : Path
        The connection folder the zygote's sandbox shares with the grader.
    """

    argv: list[str]
    runtime: Path


def _state(out: Path, student: str, assignment: str) -> Path:
    return Path(out) / STATE_DIR / f"{student}.{assignment}"


def kill_tree(pid: int) -> None:
    """Kill a process and every descendant (kernels may have left its session)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        processes = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(processes, timeout=10)


def forget_submission(course: GradingCourse, student: str, assignment: str) -> None:
    """Remove a half-graded submission from the gradebook, so none of its grades linger."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.config.CourseDirectory.course_id) as gradebook:
        with contextlib.suppress(MissingEntry):
            gradebook.remove_submission(assignment, student)


def autograde_isolated(
    course: GradingCourse,
    student: str,
    assignment: str,
    options: IsolationOptions = IsolationOptions(),
    grading: GradingOptions | None = None,
    slot: KernelSlot | None = None,
) -> SubmissionResult:
    """Autograde one submission in a worker process; a crash or overrun scores 0 with a reason.

    Parameters
    ----------
    course : GradingCourse
        From :func:`fashion_lessons.course.prepare_grading`.
    student, assignment : str
    options : IsolationOptions
    grading : GradingOptions, optional
        Per-cell timeout; without the sandbox, also the kernel.
    slot : KernelSlot, optional
        A zygote's launcher for the sandboxed kernels; without it each kernel starts
        afresh in its own sandbox.

    Returns
    -------
    SubmissionResult
    """
    start = time.perf_counter()
    max_score = course.max_scores[assignment]
    if not (course.out / "submitted" / student / assignment).is_dir():
        return SubmissionResult(student, assignment, 0.0, max_score, "no submission", 0.0)
    state = _state(course.out, student, assignment)
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    result_file = state / "result.json"

    def failed(reason: str) -> SubmissionResult:
        from fashion_lessons.course import write_failure_feedback

        forget_submission(course, student, assignment)
        write_failure_feedback(course, student, assignment, reason)
        return SubmissionResult(
            student, assignment, 0.0, max_score, reason, time.perf_counter() - start
        )

    # A fresh process per submission, forked from a server that has nbgrader imported
    # already: isolation without paying seconds of imports each time.
    worker = _context().Process(
        target=_worker_entry,
        args=(course.out, student, assignment, options, grading, slot, state / "worker.log"),
    )
    worker.start()
    try:
        worker.join(timeout=options.wall_clock_s)
        if worker.exitcode is None:
            kill_tree(worker.pid)
            worker.join()
            return failed(f"stopped after the wall-clock limit of {options.wall_clock_s:g} s")
    finally:
        kill_tree(worker.pid)  # kernels a finished worker may have left behind
    if worker.exitcode != 0 or not result_file.exists():
        return failed(f"the grading worker failed (exit code {worker.exitcode})")
    data = json.loads(result_file.read_text())
    return SubmissionResult(
        student,
        assignment,
        float(data["score"]),
        max_score,
        data["reason"],
        time.perf_counter() - start,
    )


JOURNAL = "journal.jsonl"


def fingerprint(*folders: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file in ``folders``."""
    import hashlib

    digest = hashlib.sha256()
    for folder in folders:
        folder = Path(folder)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def read_journal(out: Path, run_id: str) -> dict[tuple[str, str], SubmissionResult]:
    """Results already recorded for the run ``run_id`` (a torn last line is ignored)."""
    journal = Path(out) / STATE_DIR / JOURNAL
    done: dict[tuple[str, str], SubmissionResult] = {}
    if not journal.exists():
        return done
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill: that submission is graded again
        if entry.pop("run_id", None) == run_id:
            result = SubmissionResult(**entry)
            done[(result.student_id, result.assignment)] = result
    return done


def read_journal_any(out: Path) -> bool:
    """Whether ``out`` holds a journal with any recorded grade."""
    journal = Path(out) / STATE_DIR / JOURNAL
    return journal.exists() and journal.stat().st_size > 0


def _append_journal(out: Path, run_id: str, result: SubmissionResult) -> None:
    journal = Path(out) / STATE_DIR / JOURNAL
    line = json.dumps({"run_id": run_id, **dataclasses.asdict(result)}) + "\n"
    with open(journal, "a", encoding="utf-8") as stream:
        stream.write(line)
        stream.flush()
        os.fsync(stream.fileno())


def grade_all(
    course: GradingCourse,
    pairs: list[tuple[str, str]],
    run_id: str,
    options: IsolationOptions = IsolationOptions(),
    grading: GradingOptions | None = None,
    workers: int = 1,
    progress=None,
) -> list[SubmissionResult]:
    """Grade ``pairs`` of (student, assignment) with ``workers`` parallel workers.

    Each finished submission is appended to a journal (fsynced) before the next is
    reported, so a run killed at any moment and started again with the same inputs
    grades every remaining submission once and keeps every recorded grade.

    Returns
    -------
    list of SubmissionResult
        In the order of ``pairs``.
    """
    import queue
    import threading
    from concurrent.futures import ThreadPoolExecutor, as_completed

    say = progress or (lambda line: None)
    if options.sandbox:
        from fashion_lessons.sandbox import check_sandbox

        check_sandbox()
    done = read_journal(course.out, run_id)
    if done:
        say(f"resuming: {len(done)} of {len(pairs)} submissions already graded")
    todo = [pair for pair in pairs if pair not in done]
    workers = max(1, min(workers, len(todo)))
    lock = threading.Lock()
    idle_zygotes: queue.Queue = queue.Queue()

    def run(pair: tuple[str, str]) -> SubmissionResult:
        if not (options.sandbox and options.zygote):
            return autograde_isolated(course, pair[0], pair[1], options, grading)
        zygote = idle_zygotes.get()  # one per worker thread, never two submissions at once
        try:
            zygote.wait_ready()
            slot = KernelSlot(zygote.kernel_argv(), zygote.runtime)
            return autograde_isolated(course, pair[0], pair[1], options, grading, slot)
        finally:
            zygote.make_idle()  # nothing of this student reaches the next one
            idle_zygotes.put(zygote)

    with _zygotes(course.out, options, workers if todo else 0) as zygotes:
        for zygote in zygotes:
            idle_zygotes.put(zygote)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run, pair): pair for pair in todo}
            for future in as_completed(futures):
                result = future.result()
                with lock:
                    _append_journal(course.out, run_id, result)
                    done[futures[future]] = result
                    note = f" — {result.reason}" if result.reason else ""
                    say(
                        f"[{len(done)}/{len(pairs)}] {result.student_id} {result.assignment}: "
                        f"{result.score:g}/{result.max_score:g} ({result.seconds:.1f} s){note}"
                    )
    return [done[pair] for pair in pairs]


@contextlib.contextmanager
def _zygotes(out: Path, options: IsolationOptions, count: int):
    """Start ``count`` kernel zygotes (none unless sandboxed with zygotes); stop them after."""
    from fashion_lessons.sandbox import Limits
    from fashion_lessons.zygote import Zygote

    started: list[Zygote] = []
    try:
        if options.sandbox and options.zygote:
            limits = Limits(memory_bytes=options.memory_bytes)
            for index in range(count):
                started.append(Zygote(limits, Path(out) / STATE_DIR / f"zygote-{index}.log"))
        yield started
    finally:
        for zygote in started:
            zygote.close()


def _sandbox_config(
    course: GradingCourse,
    student: str,
    assignment: str,
    memory_bytes: int,
    slot: KernelSlot | None,
):
    """Point nbgrader's kernel at a per-submission sandboxed kernelspec over ipc sockets."""
    from traitlets.config import Config

    from fashion_lessons.sandbox import Limits, install_kernelspec

    state = _state(course.out, student, assignment)
    scratch = course.out / "autograded" / student / assignment
    data = state / "jupyter"
    if slot is None:
        # ipc sockets are Unix sockets, whose paths may not exceed 107 bytes: keep it short.
        runtime = Path(tempfile.mkdtemp(prefix="fl-kernel-"))
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


_PRELOAD = ["fashion_lessons.isolation", "nbgrader.converters", "nbgrader.api", "nbconvert"]
_contexts: list = []


def _context():
    """A forkserver context whose server has imported nbgrader once for all workers."""
    import multiprocessing

    if not _contexts:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        _contexts.append(context)
    return _contexts[0]


def _worker_entry(
    out: Path,
    student: str,
    assignment: str,
    options: IsolationOptions,
    grading: GradingOptions | None,
    slot: KernelSlot | None,
    log: Path,
) -> None:
    """Body of a forked worker: output to its log file, then :func:`_worker`."""
    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    os.close(descriptor)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the process's own streams
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    _die_with_parent()
    _worker(out, student, assignment, options, grading, slot)


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the grading process dies (even by ``kill -9``)."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent died before the request took effect
        sys.exit(1)


def _worker(
    out: Path,
    student: str,
    assignment: str,
    options: IsolationOptions,
    grading: GradingOptions | None,
    slot: KernelSlot | None = None,
) -> None:
    """The worker process: autograde one submission, write the result file."""
    from fashion_lessons.course import autograde_submission, open_grading

    course = open_grading(out, grading)
    if options.sandbox:
        config = _sandbox_config(course, student, assignment, options.memory_bytes, slot)
        course.config.merge(config)
    try:
        result = autograde_submission(course, student, assignment)
    finally:
        runtime = os.environ.get("JUPYTER_RUNTIME_DIR", "")
        if Path(runtime).name.startswith("fl-kernel-"):
            shutil.rmtree(runtime, ignore_errors=True)
    state = _state(course.out, student, assignment)
    temporary = state / "result.json.tmp"
    temporary.write_text(json.dumps({"score": result.score, "reason": result.reason}))
    os.replace(temporary, state / "result.json")
