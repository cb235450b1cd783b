"""Grade many submissions with parallel workers, each with its own warm zygote, journaled.

A zygote with whole-submission bounds is armed before each submission and asked after it
whether a bound was breached (:func:`autograde_with_zygote`); the Dask workers of
:mod:`fashion_lessons.grading.dask_worker` grade with the same two functions.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from fashion_lessons.grading.feedback import (
    NO_SUBMISSION,
    failed_submission,
    no_submission,
    split_handed_in,
)
from fashion_lessons.grading.journal import append_journal, read_journal
from fashion_lessons.grading.preloads import kernel_preloads
from fashion_lessons.grading.types import ExecutionOptions, IsolationOptions, SubmissionResult
from fashion_lessons.grading.workers import KernelSlot, autograde_isolated, start_worker_server
from fashion_lessons.grading.workspace import STATE_DIR, GradingCourse
from fashion_lessons.sandbox.bubblewrap import Limits, check_sandbox
from fashion_lessons.sandbox.enclosures import describe
from fashion_lessons.sandbox.zygote import Zygote
from fashion_lessons.sandbox.zygote_server import PRELOAD


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

    Each finished submission is journaled (:mod:`fashion_lessons.grading.journal`) as run
    ``identity`` before the next is reported: a run killed at any moment and started again
    grades every remaining submission once and keeps every recorded grade. Only
    handed-in submissions take a worker; its zygote preloads what their notebooks import.

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
    if isolation.forks_kernels and isolation.bounds is not None:
        say(describe(isolation.bounds, Limits.tmp_bytes))
    todo = [pair for pair in pairs if pair not in done]
    handed_in, missing = split_handed_in(course, todo)
    if handed_in:
        start_worker_server()
    workers = max(1, min(workers, len(handed_in)))
    lock = threading.Lock()
    idle_zygotes: queue.Queue = queue.Queue()

    def record(pair: tuple[str, str], result: SubmissionResult) -> None:
        with lock:
            append_journal(course.out, identity, result)
            done[pair] = result
            say(progress_line(len(done), len(pairs), result))

    for pair in missing:
        record(pair, no_submission(course, *pair))
    preload = kernel_preloads(course, [assignment for _, assignment in handed_in])
    with _zygotes(course.out, isolation, workers if handed_in else 0, preload) as zygotes:
        for zygote in zygotes:
            idle_zygotes.put(zygote)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            run = functools.partial(_grade_one, course, isolation, execution, idle_zygotes)
            futures = {pool.submit(run, pair): pair for pair in handed_in}
            try:
                for future in as_completed(futures):
                    record(futures[future], future.result())
            except BaseException:  # Ctrl-C: stop at the submissions being graded
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    return [done[pair] for pair in pairs]


def _grade_one(course, isolation, execution, idle_zygotes: queue.Queue, pair) -> SubmissionResult:
    """Grade one (student, assignment) pair in a kernel of an idle zygote, or in its own."""
    if not isolation.forks_kernels:
        return autograde_isolated(course, pair[0], pair[1], isolation, execution)
    zygote = idle_zygotes.get()  # one per worker thread, never two submissions at once
    try:
        return autograde_with_zygote(course, pair[0], pair[1], zygote, isolation, execution)
    finally:
        zygote.make_idle()  # nothing of this student reaches the next one
        idle_zygotes.put(zygote)


def autograde_with_zygote(
    course: GradingCourse,
    student: str,
    assignment: str,
    zygote: Zygote,
    isolation: IsolationOptions,
    execution: ExecutionOptions | None = None,
) -> SubmissionResult:
    """:func:`autograde_isolated` with ``zygote``'s kernels; over a bound it scores 0.

    Parameters
    ----------
    zygote : Zygote
        Idle; its enclosure (if any) bounds the submission as a whole, and the reason
        names the bound it went over.
    """
    zygote.wait_ready()
    if zygote.enclosure is not None:
        zygote.enclosure.arm()
    slot = KernelSlot(zygote.kernel_argv(), zygote.runtime)
    result = autograde_isolated(course, student, assignment, isolation, execution, slot)
    breach = zygote.enclosure.breach() if zygote.enclosure is not None else None
    if breach and result.reason != NO_SUBMISSION:
        return failed_submission(course, student, assignment, breach, result.seconds)
    return result


def progress_line(count: int, total: int, result: SubmissionResult) -> str:
    """The grade log's line for a finished submission, the ``count``-th of ``total``."""
    note = f" — {result.reason}" if result.reason else ""
    return (
        f"[{count}/{total}] {result.student_id} {result.assignment}: "
        f"{result.score:g}/{result.max_score:g} ({result.seconds:.1f} s){note}"
    )


def start_zygotes(
    logs: Path, isolation: IsolationOptions, count: int, preload: tuple[str, ...] = PRELOAD
) -> list[Zygote]:
    """Start ``count`` kernel zygotes (none unless they fork kernels), logging into ``logs``.

    They preload ``preload`` at the same time; each one's :meth:`~Zygote.wait_ready`
    waits for it.
    """
    started: list[Zygote] = []
    if isolation.forks_kernels:
        limits = Limits(memory_bytes=isolation.memory_bytes)
        try:
            for index in range(count):
                log = Path(logs) / f"zygote-{index}.log"
                started.append(Zygote(limits, log, isolation.bounds, preload))
        except BaseException:
            for zygote in started:
                zygote.close()
            raise
    return started


@contextlib.contextmanager
def _zygotes(out: Path, isolation: IsolationOptions, count: int, preload: tuple[str, ...]):
    """:func:`start_zygotes` for the run in ``out``; stop them after."""
    started = start_zygotes(Path(out) / STATE_DIR, isolation, count, preload)
    try:
        yield started
    finally:
        for zygote in started:
            zygote.close()
