"""Feedback pages, and the one way a submission that cannot be graded is recorded."""

from __future__ import annotations

import contextlib
import html

from fashion_lessons.files import write_atomic
from fashion_lessons.grading.inert_html import page
from fashion_lessons.grading.types import SubmissionResult
from fashion_lessons.grading.workspace import GradingCourse

NO_SUBMISSION = "no submission"


def has_submission(course: GradingCourse, student: str, assignment: str) -> bool:
    """Whether the student handed the assignment in (it was collected into ``submitted/``)."""
    return (course.out / "submitted" / student / assignment).is_dir()


def split_handed_in(
    course: GradingCourse, pairs: list[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``pairs`` of (student, assignment) split into handed in and missing, each in order."""
    handed_in, missing = [], []
    for pair in pairs:
        (handed_in if has_submission(course, *pair) else missing).append(pair)
    return handed_in, missing


def no_submission(course: GradingCourse, student: str, assignment: str) -> SubmissionResult:
    """The row of an assignment the student did not hand in: 0 points, no feedback."""
    return SubmissionResult(student, assignment, 0.0, course.max_scores[assignment], NO_SUBMISSION)


def write_failure_feedback(
    course: GradingCourse, student: str, assignment: str, reason: str
) -> None:
    """A feedback page saying why a submission could not be graded (score 0)."""
    folder = course.out / "feedback" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    body = (
        f"<h1>{html.escape(assignment)}: 0 points</h1>"
        f"<p>Your submission could not be graded: {html.escape(reason)}.</p>"
        "<p>Run <code>fashion-lessons check NOTEBOOK</code> before handing in to see "
        "every test pass or fail.</p>"
    )
    text = page(f"{assignment}: not graded", body)
    for notebook in course.notebooks[assignment]:
        write_atomic(folder / f"{notebook}.html", text)


def forget_submission(course: GradingCourse, student: str, assignment: str) -> None:
    """Remove a submission from the gradebook, so none of a failed run's grades linger."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.course_id) as gradebook:
        with contextlib.suppress(MissingEntry):
            gradebook.remove_submission(assignment, student)


def failed_submission(
    course: GradingCourse, student: str, assignment: str, reason: str, seconds: float
) -> SubmissionResult:
    """Record a submission that could not be graded: no gradebook entry, a feedback page
    with the reason, and its row of 0 points.

    Parameters
    ----------
    course : GradingCourse
    student, assignment : str
    reason : str
        What went wrong, in words a student can act on.
    seconds : float
        Time spent on it.

    Returns
    -------
    SubmissionResult
    """
    forget_submission(course, student, assignment)
    write_failure_feedback(course, student, assignment, reason)
    max_score = course.max_scores[assignment]
    return SubmissionResult(student, assignment, 0.0, max_score, reason, seconds)
