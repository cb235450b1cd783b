"""The class roster: one row per student, with the identifiers each LMS knows them by.

``roster.csv`` has a header row; only ``student_id`` is required::

    student_id,name,email,canvas_id,sis_user_id,sis_login_id,section,idnumber
    jdoe,"Doe, Jane",jane.doe@example.edu,12345,S1001,jdoe,Section A,S1001

``student_id`` is the folder name under SUBMISSIONS and the id in ``grades.csv``;
``canvas_id`` is Canvas's numeric user id (the number in a bulk download's file names and
the "ID" column of its gradebook); ``name`` is matched against Moodle's folder names;
``email`` and ``idnumber`` identify students in a Moodle grade import.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

COLUMNS = (
    "student_id",
    "name",
    "email",
    "canvas_id",
    "sis_user_id",
    "sis_login_id",
    "section",
    "idnumber",
)


class RosterError(ValueError):
    """The roster file is not what :func:`read_roster` expects; says what is wrong."""


@dataclasses.dataclass(frozen=True)
class Student:
    """One roster row; empty strings where the roster has no such column or value."""

    student_id: str
    name: str = ""
    email: str = ""
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    idnumber: str = ""


def normalize_name(name: str) -> str:
    """Case- and spacing-insensitive form of a person's name, for matching Moodle folders."""
    return " ".join(name.casefold().replace(",", " ").split())


def read_roster(path: Path) -> list[Student]:
    """Read ``roster.csv``; each student id and each LMS id must be unique.

    Raises
    ------
    RosterError
        Missing ``student_id`` column, an empty or duplicate ``student_id``, or a
        ``canvas_id`` shared by two students.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8-sig") as stream:
        reader = csv.DictReader(stream)
        if reader.fieldnames is None or "student_id" not in reader.fieldnames:
            raise RosterError(f"{path}: expected a header row with a student_id column")
        students = []
        for number, row in enumerate(reader, start=2):
            values = {c: (row.get(c) or "").strip() for c in COLUMNS}
            if not values["student_id"]:
                raise RosterError(f"{path}, line {number}: empty student_id")
            students.append(Student(**values))
    for column in ("student_id", "canvas_id", "email"):
        seen: dict[str, str] = {}
        for student in students:
            value = getattr(student, column)
            if value and value in seen:
                raise RosterError(
                    f"{path}: {column} {value!r} belongs to two students "
                    f"({seen[value]} and {student.student_id})"
                )
            seen[value] = student.student_id
    return students
