"""``fashion-lessons grade``: precheck, resume or prepare, grade in workers, report.

:func:`grade` builds a grading folder from ``solutions/`` (or resumes the same run in it),
collects a folder of submissions, grades each one in a sandboxed worker
(:func:`fashion_lessons.grading.pool.grade_all`, or on a Dask cluster with
:mod:`fashion_lessons.grading.distributed`) and writes feedback, ``grades.csv``, a
summary table and a score histogram.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from fashion_lessons.files import write_atomic
from fashion_lessons.grading import journal
from fashion_lessons.grading.config import COURSE_ROOT, check_course_folder
from fashion_lessons.grading.intake import (
    check_submissions_folder,
    collect_submissions,
    scan_submissions,
)
from fashion_lessons.grading.late import FINAL_SCORES_HEADING, annotate_grades, with_final_scores
from fashion_lessons.grading.pool import grade_all
from fashion_lessons.grading.reports import (
    GRADES_FILE,
    HISTOGRAM_FILE,
    SUMMARY_FILE,
    save_histogram,
    summary_table,
    write_grades_csv,
)
from fashion_lessons.grading.term_config import TermConfig
from fashion_lessons.grading.types import (
    CourseError,
    ExecutionOptions,
    IsolationOptions,
    SubmissionResult,
)
from fashion_lessons.grading.workspace import (
    GradingCourse,
    add_students,
    open_grading,
    prepare_grading,
)
from fashion_lessons.sandbox.bubblewrap import SandboxUnavailable


@dataclasses.dataclass(frozen=True)
class GradeReport:
    """The outcome of :func:`grade`."""

    out: Path
    results: list[SubmissionResult]
    grades_csv: Path
    histogram: Path
    summary: str
    ignored: list[str]


def check_dataset() -> None:
    """Stop before grading when the dataset is broken: it would zero the whole class."""
    from fashion_lessons.data import DataError, find_data, load_arrays

    try:
        load_arrays(find_data(download=False))
    except DataError as error:
        raise CourseError(f"grading did not start, the dataset is not usable: {error}") from error


def _check_inputs(root: Path, submissions: Path, out: Path, workers: int) -> None:
    """Stop before anything is written to OUT when the course, the submissions folder, the
    output folder, the number of workers or the dataset cannot make a grading run."""
    if workers < 1:
        raise CourseError(f"grading needs at least one worker, found {workers}")
    check_course_folder(root)
    check_submissions_folder(submissions)
    submissions = submissions.resolve()
    if out == submissions or submissions in out.parents or out in submissions.parents:
        # OUT would be graded as a student, or a new run would empty the submissions
        raise CourseError(
            f"{out}: the output folder and {submissions} must not hold one another; "
            "choose an output folder outside the submissions"
        )
    check_dataset()


def _open_or_prepare(submissions, out, root, execution, identity, replace_other_run, say):
    """The grading folder of run ``identity``: reopened if it is that run, else built anew."""
    if journal.recorded_run_id(out) == identity:
        course = open_grading(out, execution)
        students, _, ignored = scan_submissions(Path(submissions), course.assignments)
        add_students(course, students)  # a folder an older version made may lack them
        say(f"resuming the grading run in {out}")
    else:
        if journal.holds_grades(out) and not replace_other_run:
            raise CourseError(
                f"{out}: holds grades of another run (other submissions or solutions). "
                "Grade into a new folder, or pass --fresh to replace them."
            )
        say(f"building a new gradebook from {root / 'solutions'} in {out}")
        course = prepare_grading(out, root, execution)
        students, _, ignored = collect_submissions(Path(submissions), course)
        journal.record_run_id(out, identity)
    for entry in ignored:
        say(f"ignored {entry}")
    return course, students, ignored


def write_reports(
    course: GradingCourse, results: list[SubmissionResult], term: TermConfig | None = None
) -> str:
    """Write ``grades.csv``, ``summary.txt`` and ``scores.png``; return the summary.

    With a ``term``, ``grades.csv`` gets the late-work columns beside the raw score, each
    feedback page a sentence on its final score, and the summary and histogram show final
    scores (the summary says so in its first line).
    """
    write_grades_csv(results, course.out / GRADES_FILE)
    heading = ""
    if term is not None:
        results = with_final_scores(results, annotate_grades(course.out, term))
        heading = FINAL_SCORES_HEADING + "\n\n"
    summary = heading + summary_table(results, course.assignments)
    write_atomic(course.out / SUMMARY_FILE, summary + "\n")
    save_histogram(results, sum(course.max_scores.values()), course.out / HISTOGRAM_FILE)
    return summary


def _connect(scheduler: str | None):
    """A Dask client of the scheduler at ``scheduler``; None to grade locally."""
    if scheduler is None:
        return None
    from fashion_lessons.grading.distributed import connect

    return connect(scheduler)


def _grade_pairs(course, pairs, identity, isolation, execution, workers, client, say):
    """Grade on the Dask cluster of ``client``, or with a local pool of ``workers``."""
    try:
        if client is None:
            return grade_all(course, pairs, identity, isolation, execution, workers, say)
        from fashion_lessons.grading.distributed import grade_on_cluster

        with client:
            return grade_on_cluster(course, pairs, identity, client, isolation, execution, say)
    except SandboxUnavailable as error:
        raise CourseError(str(error)) from error


def grade(
    submissions: Path,
    out: Path,
    root: Path = COURSE_ROOT,
    execution: ExecutionOptions | None = None,
    isolation: IsolationOptions | None = None,
    workers: int = 1,
    replace_other_run: bool = False,
    progress: Callable[[str], None] | None = None,
    scheduler: str | None = None,
    term: TermConfig | None = None,
) -> GradeReport:
    """Grade a folder of submissions; write grades, feedback and a summary.

    Parameters
    ----------
    submissions : Path
        ``SUBMISSIONS/<student_id>/<assignment_id>/<notebook>.ipynb``.
    out : Path
        The output folder: ``gradebook.db``, ``autograded/``, ``feedback/``, ``summary.txt``,
        ``scores.png``, ``grades.csv`` (a row per student and assignment).
    root : Path
        The course folder (``nbgrader_config.py``, ``solutions/``).
    execution, isolation : ExecutionOptions, IsolationOptions, optional
        How notebooks execute; the sandbox (on by default), the wall-clock limit per
        submission and the memory cap.
    workers : int, default 1
        Submissions graded in parallel.
    replace_other_run : bool, default False
        Replace the grades of another run in ``out``; the same run always resumes.
    progress : callable, optional
        Called with one line of text per step.
    scheduler : str, optional
        A Dask scheduler's address: grade on its workers instead of a local pool; this
        process stays the only writer of ``out`` (:mod:`fashion_lessons.grading.distributed`).
    term : TermConfig, optional
        Due dates, extensions and the late rule, applied by :func:`write_reports`.

    Returns
    -------
    GradeReport
    """
    say = progress or (lambda line: None)
    started = time.perf_counter()
    root, out = Path(root).resolve(), Path(out).resolve()
    isolation = isolation or IsolationOptions()
    _check_inputs(root, Path(submissions), out, workers)
    client = _connect(scheduler)  # an unreachable scheduler stops before anything is written
    identity = journal.run_id(root / "solutions", Path(submissions), isolation.sandbox)
    course, students, ignored = _open_or_prepare(
        submissions, out, root, execution, identity, replace_other_run, say
    )
    pairs = [(s, a) for s in students for a in course.assignments]
    where = f"Dask at {scheduler}" if scheduler else f"{workers} worker(s)"
    say(f"{len(students)} students × {len(course.assignments)} assignments, {where}")
    results = _grade_pairs(course, pairs, identity, isolation, execution, workers, client, say)
    summary = write_reports(course, results, term)
    say(f"graded {len(pairs)} submissions in {time.perf_counter() - started:.0f} s")
    grades_csv, histogram = course.out / GRADES_FILE, course.out / HISTOGRAM_FILE
    return GradeReport(course.out, results, grades_csv, histogram, summary, ignored)
