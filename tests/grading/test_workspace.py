"""The grading folder's gradebook: made as nbgrader makes one, without its subprocess."""

from __future__ import annotations

import sqlite3

from fashion_lessons.grading.nbgrader_apps import nbgrader_environment
from fashion_lessons.grading.workspace import create_gradebook


def _schema_and_version(path) -> tuple[list[str], list[tuple]]:
    with sqlite3.connect(path) as db:
        schema = sorted(row[0] for row in db.execute("SELECT sql FROM sqlite_master") if row[0])
        version = db.execute("SELECT version_num FROM alembic_version").fetchall()
    return schema, version


def test_a_created_gradebook_equals_the_one_nbgrader_creates(tmp_path):
    from nbgrader.api import Gradebook

    with nbgrader_environment(), Gradebook(f"sqlite:///{tmp_path / 'nbgrader.db'}"):
        pass
    create_gradebook(f"sqlite:///{tmp_path / 'ours.db'}")
    ours = _schema_and_version(tmp_path / "ours.db")
    assert ours == _schema_and_version(tmp_path / "nbgrader.db")
    assert len(ours[0]) > 10 and len(ours[1]) == 1
    with Gradebook(f"sqlite:///{tmp_path / 'ours.db'}", "course") as gradebook:
        gradebook.add_student("s1")  # nbgrader uses it as its own
        assert [s.id for s in gradebook.students] == ["s1"]
