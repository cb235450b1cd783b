"""Grading a class on a Dask cluster: the coordinator writes, the workers grade.

``fashion-lessons grade SUBMISSIONS --out OUT --scheduler ADDRESS`` runs the same grading
as the local pool (:mod:`fashion_lessons.grading.pool`), with Dask ``distributed`` placing
the submissions. The coordinator (the process the instructor started) is the only writer
of the gradebook, the journal, ``grades.csv`` and the feedback pages: it sends each
worker a submission's files and the assignment's source as bytes (no shared file system)
and records what comes back in the same folders and gradebook rows as local grading. The
workers' side is :mod:`fashion_lessons.grading.dask_worker`.

Faults: a worker that dies mid-submission makes Dask run that submission again on another
worker; a submission that has taken down ``max_tries`` workers is given up (0, with the
reason). A submission is recorded once, appended to the journal, so a coordinator killed
and started again resumes where it stopped.
"""

from __future__ import annotations

import time
import uuid

from fashion_lessons.files import remove_entry
from fashion_lessons.grading.dask_worker import (
    PLUGIN_NAME,
    GradingPlugin,
    check_scheduler_address,
    grade_remote,
)
from fashion_lessons.grading.feedback import failed_submission, no_submission, split_handed_in
from fashion_lessons.grading.journal import append_journal, read_journal
from fashion_lessons.grading.pool import progress_line
from fashion_lessons.grading.preloads import kernel_preloads
from fashion_lessons.grading.transfer import import_grades, pack_course, read_folder, write_folder
from fashion_lessons.grading.types import (
    CourseError,
    ExecutionOptions,
    IsolationOptions,
    SubmissionResult,
)
from fashion_lessons.grading.workspace import GradingCourse

MAX_TRIES = 3  # workers a submission may take down before it is given up
CONNECT_TIMEOUT_S = 10


def connect(address: str):
    """A Dask client for the scheduler at ``address``; CourseError in one line if unreachable."""
    from distributed import Client

    check_scheduler_address(address)  # a Client of a malformed one would never close
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise CourseError(
            f"cannot reach the Dask scheduler at {address}; nothing was graded"
        ) from error


def _record(course: GradingCourse, student: str, assignment: str, payload: dict):
    """Write a worker's result into the grading folder and gradebook (the coordinator only)."""
    write_folder(course.out / "autograded" / student / assignment, payload["autograded"])
    write_folder(course.out / "feedback" / student / assignment, payload["feedback"])
    import_grades(course, student, assignment, payload["grades"])
    return SubmissionResult(**payload["result"])


def _give_up(course: GradingCourse, student: str, assignment: str, tries: int):
    remove_entry(course.out / "autograded" / student / assignment)
    reason = f"given up: grading it stopped {tries} Dask workers"
    return failed_submission(course, student, assignment, reason, 0.0)


def _configure_scheduler(dask_scheduler=None, allowed: int = MAX_TRIES - 1) -> int:
    """On the scheduler: bound the tries of a submission, and send a worker no more tasks
    than it has threads, so a worker's death counts against the submissions it was grading
    only (Dask counts it against every task it had been sent)."""
    dask_scheduler.allowed_failures = allowed
    dask_scheduler.WORKER_SATURATION = 1.0
    return allowed


def _register(client, plugin: GradingPlugin, tries: int = 3) -> None:
    """Give every worker the plugin; a worker restarting meanwhile fails Dask's broadcast."""
    for attempt in range(tries):
        try:
            client.register_plugin(plugin, name=PLUGIN_NAME)
            return
        except OSError:
            if attempt == tries - 1:
                raise
            time.sleep(5)


def _submit(client, course: GradingCourse, handed_in, execution) -> dict:
    """A task per (student, assignment) of ``handed_in``."""
    sources = {assignment: pack_course(course.out, assignment) for assignment in course.assignments}
    futures = {}
    for student, assignment in handed_in:
        source, fingerprint = sources[assignment]
        job = {
            "course": source,
            "fingerprint": fingerprint,
            "student": student,
            "assignment": assignment,
            "files": read_folder(course.out / "submitted" / student / assignment),
            "execution": execution,
        }
        # One Dask task group ("fashion-lessons", up to the number): a large class is then
        # queued on the scheduler, so a worker holds only the submissions it is grading.
        key = f"fashion-lessons-{len(futures):05d}-{student}-{assignment}-{uuid.uuid4().hex[:8]}"
        futures[client.submit(grade_remote, job, key=key, pure=False)] = (student, assignment)
    return futures


def _outcome(course: GradingCourse, future, pair, max_tries: int, say) -> SubmissionResult:
    """Record one finished task: its result, or the submission given up."""
    from distributed.scheduler import KilledWorker

    student, assignment = pair
    try:
        payload = future.result()
    except KilledWorker:
        return _give_up(course, student, assignment, max_tries)
    except CourseError:
        raise
    except Exception as error:  # a worker that cannot grade at all: stop, keep the rest
        raise CourseError(
            f"grading {student} {assignment} failed on a Dask worker: "
            f"{type(error).__name__}: {str(error)[:300]}"
        ) from error
    say(f"worker {payload['worker']}: whole-submission bounds by {payload['bounds']}")
    return _record(course, student, assignment, payload)


def grade_on_cluster(
    course: GradingCourse,
    pairs: list[tuple[str, str]],
    identity: str,
    client,
    isolation: IsolationOptions,
    execution: ExecutionOptions | None = None,
    progress=None,
    max_tries: int = MAX_TRIES,
) -> list[SubmissionResult]:
    """Grade ``pairs`` of (student, assignment) on the Dask cluster of ``client``.

    Like :func:`fashion_lessons.grading.pool.grade_all`: journaled under the run
    ``identity``, resumable, one result per pair, in the order of ``pairs``.

    Parameters
    ----------
    client : distributed.Client
        From :func:`connect`.
    isolation : IsolationOptions
        How the workers' :class:`~fashion_lessons.grading.dask_worker.GradingPlugin` grades.
    max_tries : int
        Workers a submission may take down (each one dying while grading it) before it
        is given up with 0 and the reason.
    """
    from distributed import as_completed

    say = progress or (lambda line: None)
    done = read_journal(course.out, identity)
    if done:
        say(f"resuming: {len(done)} of {len(pairs)} submissions already graded")
    todo = [pair for pair in pairs if pair not in done]
    handed_in, missing = split_handed_in(course, todo)
    preload = kernel_preloads(course, [assignment for _, assignment in handed_in])
    _register(client, GradingPlugin(isolation, preload))
    client.run_on_scheduler(_configure_scheduler, allowed=max_tries - 1)
    workers = len(client.scheduler_info().get("workers", {}))
    say(f"Dask scheduler {client.scheduler.address}: {workers} worker(s) now")
    seen: set[str] = set()

    def finish(result: SubmissionResult) -> None:
        append_journal(course.out, identity, result)
        done[(result.student_id, result.assignment)] = result
        say(progress_line(len(done), len(pairs), result))

    def once(line: str) -> None:  # each worker's bounds are named the first time only
        if line not in seen:
            seen.add(line)
            say(line)

    for pair in missing:
        finish(no_submission(course, *pair))
    futures = _submit(client, course, handed_in, execution)
    try:
        for future in as_completed(list(futures), loop=client.loop):
            finish(_outcome(course, future, futures[future], max_tries, once))
    finally:
        client.cancel(list(futures))
    return [done[pair] for pair in pairs]
