"""The graded class several test files share (``graded_class.py``), graded once per run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from graded_class import hand_in_class
from helpers import built_once, run_cli


@pytest.fixture(scope="session")
def class_folder(tmp_path_factory) -> Path:
    """SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb for the five students."""
    return built_once(tmp_path_factory, "class-submissions", hand_in_class)


@pytest.fixture(scope="session")
def graded(class_folder, tmp_path_factory) -> tuple[Path, str]:
    """`fashion-lessons grade` run once on the class: its output folder and stdout."""

    def grade(folder: Path) -> None:
        run = run_cli("grade", class_folder, "--out", folder / "out", timeout=900, cwd=class_folder)
        assert run.returncode == 0, run.stdout + run.stderr
        (folder / "stdout.txt").write_text(run.stdout, encoding="utf-8")

    folder = built_once(tmp_path_factory, "graded-class", grade)
    return folder / "out", (folder / "stdout.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def grades(graded) -> dict[tuple[str, str], dict]:
    """The rows of the graded class's ``grades.csv`` by (student, assignment)."""
    out, _ = graded
    with open(out / "grades.csv", newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    return {(row["student_id"], row["assignment"]): row for row in rows}
