"""Find the submissions of ``SUBMISSIONS/<student>/<assignment>/`` and copy them in."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from fashion_lessons.grading.types import CourseError
from fashion_lessons.grading.workspace import GradingCourse, add_students


def check_submissions_folder(submissions: Path) -> None:
    """Raise :class:`CourseError` unless ``submissions`` is a folder."""
    if not Path(submissions).is_dir():
        raise CourseError(
            f"{submissions}: no such folder. Expected SUBMISSIONS/<student_id>/"
            "<assignment_id>/<notebook>.ipynb"
        )


def scan_submissions(
    submissions: Path, assignments: Sequence[str]
) -> tuple[list[str], dict[str, set[str]], list[str]]:
    """List ``SUBMISSIONS/<student>/<assignment>/`` without copying anything.

    Returns
    -------
    students : list of str
        Every student folder, sorted.
    submitted : dict
        For each student, the assignments they handed in.
    ignored : list of str
        Entries that are not ``<student>/<assignment>/`` folders of a known assignment.
    """
    submissions = Path(submissions).resolve()
    check_submissions_folder(submissions)
    students, submitted, ignored = [], {}, []
    for student_dir in sorted(submissions.iterdir()):
        if not student_dir.is_dir() or student_dir.name.startswith("."):
            ignored.append(f"{student_dir.name}: not a student folder")
            continue
        student = student_dir.name
        students.append(student)
        submitted[student] = set()
        for assignment_dir in sorted(student_dir.iterdir()):
            if assignment_dir.name not in assignments or not assignment_dir.is_dir():
                ignored.append(f"{student}/{assignment_dir.name}: not an assignment of the course")
                continue
            submitted[student].add(assignment_dir.name)
    if not students:
        raise CourseError(f"{submissions}: no student folders found")
    return students, submitted, ignored


def collect_submissions(
    submissions: Path, course: GradingCourse
) -> tuple[list[str], dict[str, set[str]], list[str]]:
    """Copy ``SUBMISSIONS/<student>/<assignment>/`` into the course's ``submitted/`` and
    add its students to the gradebook.

    Returns what :func:`scan_submissions` returns.
    """
    students, submitted, ignored = scan_submissions(submissions, course.assignments)
    for student in students:
        for assignment in sorted(submitted[student]):
            target = course.out / "submitted" / student / assignment
            shutil.copytree(Path(submissions) / student / assignment, target, symlinks=True)
    add_students(course, students)
    return students, submitted, ignored
