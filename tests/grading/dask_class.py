"""The small class the Dask tests grade (``mixed_class`` in ``conftest.py``), and readers of
a grading folder's rows, journal, cells and cell grades to compare two runs with."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
from helpers import ASSIGNMENTS, exercise, hand_in, solution, with_answer

from fashion_lessons.grading.journal import JOURNAL
from fashion_lessons.grading.late import LATE_COLUMNS
from fashion_lessons.grading.reports import GRADES_FILE
from fashion_lessons.grading.types import IsolationOptions
from fashion_lessons.grading.workspace import STATE_DIR
from fashion_lessons.sandbox.bounds import Bounds

LOAD, SCALE = "01-load-data", "02-scale-pixels"
NOTEBOOK = {a: f"{ASSIGNMENTS[a]}.ipynb" for a in (LOAD, SCALE)}
WRONG = "def scale_pixels(images):\n    return images.astype('float32')\n"
# Three processes, each far below a kernel's own cap, together over the submission's bound.
HOG = (
    "import subprocess, sys\n"
    "child = 'held = []\\nwhile True:\\n    held.append(bytearray(2**24))\\n'\n"
    "children = [subprocess.Popen([sys.executable, '-c', child]) for _ in range(3)]\n"
    "[c.wait() for c in children]\n"
    "def scale_pixels(images):\n    return (images / 255).astype('float32')\n"
)
OPTIONS = IsolationOptions(
    memory_bytes=3 * 2**30, bounds=Bounds(memory_bytes=400 * 2**20), wall_clock_s=240
)


def _answer(code: str):
    return with_answer(solution(SCALE), "scale_pixels", code)


def hand_in_mixed_class(folder: Path) -> None:
    """Reference, blank, wrong and memory-hogging submissions; most assignments missing."""
    students = {
        "ref": {LOAD: solution(LOAD), SCALE: solution(SCALE)},
        "blank": {SCALE: exercise(SCALE)},
        "wrong": {SCALE: _answer(WRONG)},
        "hog": {SCALE: _answer(HOG)},
    }
    for student, assignments in students.items():
        for assignment, notebook in assignments.items():
            hand_in(folder, student, assignment, notebook)


def rows(out) -> list[dict]:
    """The grading columns of ``grades.csv``; the CLI adds the term's late-work columns."""
    with open(out / GRADES_FILE, newline="") as stream:
        return [
            {k: v for k, v in row.items() if k not in LATE_COLUMNS}
            for row in csv.DictReader(stream)
        ]


def journal_keys(out) -> list[tuple[str, str]]:
    """(student, assignment) of each journal entry, in the order they were written."""
    journal = out / STATE_DIR / JOURNAL
    entries = [json.loads(line) for line in journal.read_text().splitlines() if line.endswith("}")]
    return [(entry["student_id"], entry["assignment"]) for entry in entries]


def cells(out, student, assignment):
    """Each cell of the autograded notebook: type, source and outputs (no timings).

    Consecutive pieces of one stream are joined: where the kernel's output thread splits
    a cell's printing into messages depends on timing, not on the grader.
    """
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    path = out / "autograded" / student / assignment / NOTEBOOK[assignment]
    notebook, _ = CoalesceStreamsPreprocessor().preprocess(nbformat.read(path, as_version=4), {})
    return [
        (cell.cell_type, cell.source, json.dumps(cell.get("outputs", []), sort_keys=True))
        for cell in notebook.cells
    ]


def cell_grades(out):
    from nbgrader.api import Gradebook, SubmittedNotebook

    grades = {}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
        for submission in gradebook.db.query(SubmittedNotebook):
            for grade in submission.grades:
                key = (submission.student.id, submission.assignment.assignment.name, grade.name)
                grades[key] = (grade.auto_score, grade.manual_score, grade.needs_manual_grade)
            for comment in submission.comments:
                key = (submission.student.id, submission.assignment.assignment.name, comment.name)
                grades[key] = (comment.auto_comment,)
    return grades
