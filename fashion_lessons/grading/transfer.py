"""What travels between the grading coordinator and a Dask worker, as plain data.

No shared file system or database is needed: folders travel as ``{relative path: bytes}``
(:func:`read_folder`, :func:`write_folder`), an assignment's source as tar.gz bytes
(:func:`pack_course`, :func:`unpack_course`), and a submission's gradebook rows as nested
dicts and lists (:func:`export_grades` on the worker, :func:`import_grades` on the
coordinator).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import tarfile
from pathlib import Path

from fashion_lessons.files import empty_folder, write_atomic
from fashion_lessons.grading.config import NBGRADER_CONFIG_FILE
from fashion_lessons.grading.feedback import forget_submission
from fashion_lessons.grading.types import CourseError
from fashion_lessons.grading.workspace import GradingCourse


def read_folder(folder: Path) -> dict[str, bytes]:
    """Every regular file below ``folder`` by its relative path (links are left out)."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(Path(folder).rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Replace ``folder``'s contents with ``files`` (relative paths inside it only)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    empty_folder(folder, ignore_errors=False)
    for name, data in files.items():
        target = (folder / name).resolve()
        if folder.resolve() not in target.parents:
            raise CourseError(f"a grading worker returned a file outside its folder: {name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)


def pack_course(out: Path, assignment: str) -> tuple[bytes, str]:
    """One assignment's source in the grading folder ``out`` as tar.gz bytes, and their SHA-256.

    The source is the assignment's folder of ``solutions/``, the files next to it (the
    header notebook) and ``nbgrader_config.py``: a worker builds its private gradebook of
    that assignment from it (:func:`unpack_course`).
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        solutions = Path(out) / "solutions"
        archive.add(solutions / assignment, arcname=f"solutions/{assignment}")
        for shared in sorted(p for p in solutions.iterdir() if p.is_file()):
            archive.add(shared, arcname=f"solutions/{shared.name}")
        archive.add(Path(out) / NBGRADER_CONFIG_FILE, arcname=NBGRADER_CONFIG_FILE)
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def unpack_course(source: bytes, folder: Path) -> None:
    """Extract :func:`pack_course`'s bytes into ``folder`` (plain files and folders only)."""
    with tarfile.open(fileobj=io.BytesIO(source), mode="r:gz") as archive:
        archive.extractall(folder, filter="data")


def export_grades(course: GradingCourse, student: str, assignment: str) -> dict | None:
    """The gradebook rows of one submission, as plain data (None when it has none)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.course_id) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return None
        notebooks = {
            notebook.name: {
                "flagged": notebook.flagged,
                "grades": {
                    grade.name: [
                        grade.auto_score,
                        grade.manual_score,
                        grade.extra_credit,
                        grade.needs_manual_grade,
                    ]
                    for grade in notebook.grades
                },
                "comments": {
                    comment.name: [comment.auto_comment, comment.manual_comment]
                    for comment in notebook.comments
                },
            }
            for notebook in submission.notebooks
        }
        stamp = submission.timestamp.isoformat() if submission.timestamp else None
        return {"timestamp": stamp, "notebooks": notebooks}


def import_grades(course: GradingCourse, student: str, assignment: str, rows: dict | None):
    """Replace the gradebook rows of one submission with ``rows`` from :func:`export_grades`."""
    from nbgrader.api import Gradebook

    forget_submission(course, student, assignment)
    if rows is None:
        return
    stamp = rows["timestamp"]
    with Gradebook(course.db_url, course.course_id) as gradebook:
        gradebook.update_or_create_student(student)
        submission = gradebook.add_submission(
            assignment,
            student,
            timestamp=datetime.datetime.fromisoformat(stamp) if stamp else None,
        )
        for notebook in submission.notebooks:
            saved = rows["notebooks"][notebook.name]
            notebook.flagged = saved["flagged"]
            for grade in notebook.grades:
                values = saved["grades"][grade.name]
                grade.auto_score, grade.manual_score, grade.extra_credit = values[:3]
                grade.needs_manual_grade = values[3]
            for comment in notebook.comments:
                comment.auto_comment, comment.manual_comment = saved["comments"][comment.name]
        gradebook.db.commit()
