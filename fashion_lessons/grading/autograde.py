"""Autograde one collected submission through nbgrader and write its feedback.

Bad work never raises: a missing or invalid notebook, a kernel that dies or a failing
nbgrader step scores 0 with the reason (:func:`~.feedback.failed_submission`); a cell
that times out scores 0 for its tests and is named in the reason.
"""

from __future__ import annotations

import os
import time

from fashion_lessons.grading.feedback import (
    failed_submission,
    has_submission,
    no_submission,
)
from fashion_lessons.grading.hardening import tampering_notes
from fashion_lessons.grading.nbgrader_apps import converter, last_error, run_app
from fashion_lessons.grading.notebooks import grade_id, read_notebook
from fashion_lessons.grading.types import CourseError, SubmissionResult
from fashion_lessons.grading.workspace import GradingCourse


def _autograded_notebooks(course: GradingCourse, student: str, assignment: str) -> list:
    """(path, notebook) of each autograded notebook of the submission, sorted by path."""
    import nbformat

    folder = course.out / "autograded" / student / assignment
    return [(path, nbformat.read(path, as_version=4)) for path in sorted(folder.glob("*.ipynb"))]


def _grading_notes(course: GradingCourse, student: str, assignment: str) -> list[str]:
    """Cells that timed out, and what the hardening removed, per autograded notebook."""
    notes = []
    autograded = _autograded_notebooks(course, student, assignment)
    for path, notebook in autograded:
        for cell in notebook.cells:
            if any(output.get("ename") == "CellTimeoutError" for output in cell.get("outputs", [])):
                notes.append(f"{path.stem}: {grade_id(cell) or 'a cell'} timed out")
    for path, notebook in autograded:
        notes += [
            f"grader tampering removed: {path.stem} {note}" for note in tampering_notes(notebook)
        ]
    return notes


def _score(course: GradingCourse, student: str, assignment: str) -> float:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            return float(gb.find_submission(assignment, student).score)
        except MissingEntry:
            return 0.0


def _unreadable(course: GradingCourse, student: str, assignment: str) -> tuple[list[str], str]:
    """The notebooks missing from a submission, and why it cannot be graded ('' if it can)."""
    folder = course.out / "submitted" / student / assignment
    expected = course.notebooks[assignment]
    missing = [nb for nb in expected if not (folder / f"{nb}.ipynb").exists()]
    if len(missing) == len(expected):
        found = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
        return missing, f"no {', '.join(m + '.ipynb' for m in missing)} (found {found})"
    for notebook in expected:
        if notebook not in missing:
            try:
                read_notebook(folder / f"{notebook}.ipynb")
            except CourseError as error:
                return missing, str(error).replace(str(folder) + os.sep, "")
    return missing, ""


def autograde_submission(course: GradingCourse, student: str, assignment: str) -> SubmissionResult:
    """Autograde one collected submission and write its feedback; never raises for bad work.

    The submission must be in ``course.out/submitted/<student>/<assignment>/``.
    """
    from nbgrader.converters import Autograde, GenerateFeedback

    start = time.perf_counter()
    if not has_submission(course, student, assignment):
        return no_submission(course, student, assignment)
    missing, problem = _unreadable(course, student, assignment)
    if problem:
        return failed_submission(course, student, assignment, problem, time.perf_counter() - start)
    app = converter(Autograde, course.config, assignment, student)
    app.create_student = True
    ok, log = run_app(app)
    if not ok:
        reason = f"autograding failed: {last_error(log)}"
        return failed_submission(course, student, assignment, reason, time.perf_counter() - start)
    feedback = converter(GenerateFeedback, course.config, assignment, student)
    feedback.force = True
    feedback_ok, feedback_log = run_app(feedback)
    notes = [f"missing {m}.ipynb" for m in missing] + _grading_notes(course, student, assignment)
    if not feedback_ok:
        notes.append(f"no feedback: {last_error(feedback_log)}")
    score = _score(course, student, assignment)
    return SubmissionResult(
        student,
        assignment,
        score,
        course.max_scores[assignment],
        "; ".join(notes),
        time.perf_counter() - start,
    )
