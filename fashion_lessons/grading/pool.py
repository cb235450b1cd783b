"""Grade many submissions with parallel workers, each with its own warm zygote, journaled."""

from __future__ import annotations

import contextlib
import queue
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from fashion_lessons.grading.journal import append_journal, read_journal
from fashion_lessons.grading.types import ExecutionOptions, IsolationOptions, SubmissionResult
from fashion_lessons.grading.workers import KernelSlot, autograde_isolated
from fashion_lessons.grading.workspace import STATE_DIR, GradingCourse
from fashion_lessons.sandbox.bubblewrap import Limits, check_sandbox
from fashion_lessons.sandbox.zygote import Zygote


def grade_all(
    course: GradingCourse,
    pairs: list[tuple[str, str]],
    identity: str,
    isolation: IsolationOptions | None = None,
    execution: ExecutionOptions | None = None,
    workers: int = 1,
    progress=None,
) -> list[SubmissionResult]:
    """Grade ``pairs`` of (student, assignment) with ``workers`` parallel workers.

    Each finished submission is appended to the journal of the run ``identity``
    (:mod:`fashion_lessons.grading.journal`) before the next is reported, so a run killed
    at any moment and started again with the same inputs grades every remaining
    submission once and keeps every recorded grade.

    Returns
    -------
    list of SubmissionResult
        In the order of ``pairs``.
    """
    say = progress or (lambda line: None)
    isolation = isolation or IsolationOptions()
    if isolation.sandbox:
        check_sandbox()
    done = read_journal(course.out, identity)
    if done:
        say(f"resuming: {len(done)} of {len(pairs)} submissions already graded")
    todo = [pair for pair in pairs if pair not in done]
    workers = max(1, min(workers, len(todo)))
    lock = threading.Lock()
    idle_zygotes: queue.Queue = queue.Queue()

    def run(pair: tuple[str, str]) -> SubmissionResult:
        if not isolation.forks_kernels:
            return autograde_isolated(course, pair[0], pair[1], isolation, execution)
        zygote = idle_zygotes.get()  # one per worker thread, never two submissions at once
        try:
            zygote.wait_ready()
            slot = KernelSlot(zygote.kernel_argv(), zygote.runtime)
            return autograde_isolated(course, pair[0], pair[1], isolation, execution, slot)
        finally:
            zygote.make_idle()  # nothing of this student reaches the next one
            idle_zygotes.put(zygote)

    with _zygotes(course.out, isolation, workers if todo else 0) as zygotes:
        for zygote in zygotes:
            idle_zygotes.put(zygote)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run, pair): pair for pair in todo}
            for future in as_completed(futures):
                result = future.result()
                with lock:
                    append_journal(course.out, identity, result)
                    done[futures[future]] = result
                    say(_progress_line(len(done), len(pairs), result))
    return [done[pair] for pair in pairs]


def _progress_line(count: int, total: int, result: SubmissionResult) -> str:
    note = f" — {result.reason}" if result.reason else ""
    return (
        f"[{count}/{total}] {result.student_id} {result.assignment}: "
        f"{result.score:g}/{result.max_score:g} ({result.seconds:.1f} s){note}"
    )


@contextlib.contextmanager
def _zygotes(out: Path, isolation: IsolationOptions, count: int):
    """Start ``count`` kernel zygotes (none unless they fork kernels); stop them after."""
    started: list[Zygote] = []
    try:
        if isolation.forks_kernels:
            limits = Limits(memory_bytes=isolation.memory_bytes)
            for index in range(count):
                started.append(Zygote(limits, Path(out) / STATE_DIR / f"zygote-{index}.log"))
        yield started
    finally:
        for zygote in started:
            zygote.close()
