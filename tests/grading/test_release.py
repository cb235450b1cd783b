"""`fashion-lessons release`: exercises/ is exactly what nbgrader makes of solutions/."""

from __future__ import annotations

import json
import re

import nbformat
from helpers import ASSIGNMENTS, REPO, exercise, solution
from nbgrader.utils import is_grade, is_solution

from fashion_lessons.grading.release import generate_exercises


def test_exercises_equal_a_fresh_release(tmp_path):
    """(a) exercises/ is exactly what releasing solutions/ produces now (CI: no stale copy)."""
    written = generate_exercises(REPO, tmp_path)
    committed = sorted(
        p.relative_to(REPO / "exercises") for p in (REPO / "exercises").rglob("*") if p.is_file()
    )
    assert sorted(written) == committed, "run `make release` and commit exercises/"
    for relative in committed:
        assert (tmp_path / relative).read_bytes() == (REPO / "exercises" / relative).read_bytes(), (
            f"exercises/{relative} differs from a fresh release: run `make release` and commit it"
        )


def test_exercises_hide_solutions_and_hidden_tests():
    """Exercises keep each def line and docstring but no solution code and no hidden test."""
    for assignment in ASSIGNMENTS:
        text = exercise(assignment).read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "HIDDEN TESTS"):
            assert marker not in text, f"{assignment}: {marker!r} leaked into the exercise"
        notebook = nbformat.read(exercise(assignment), as_version=4)
        answers = [c for c in notebook.cells if is_solution(c)]
        assert answers, assignment
        for cell in answers:
            assert re.search(r"^def \w+\(", cell.source, re.M), cell.source
            assert '"""' in cell.source and "raise NotImplementedError()" in cell.source
        assert notebook.cells[0].source.startswith("# Fashion Lessons — graded exercise")
        assert "fashion-lessons check" in notebook.cells[0].source


def test_notebooks_are_stripped_and_normalized():
    """Committed notebooks have no outputs and are written in nbformat's normal form."""
    for path in sorted((REPO / "solutions").rglob("*.ipynb")) + sorted(
        (REPO / "exercises").rglob("*.ipynb")
    ):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path
        assert path.read_text(encoding="utf-8") == nbformat.writes(notebook) + "\n", path


def test_test_cells_have_docstrings_and_semantic_ids():
    for assignment in ASSIGNMENTS:
        notebook = nbformat.read(solution(assignment), as_version=4)
        tests = [c for c in notebook.cells if is_grade(c)]
        assert len(tests) >= 4, f"{assignment}: too few test cells for real partial credit"
        for cell in tests:
            grade_id = cell.metadata.nbgrader.grade_id
            assert re.fullmatch(r"test_[a-z_]+", grade_id), grade_id
            assert cell.source.startswith('"""') and cell.source.splitlines()[0].endswith('."""')
        assert any("### BEGIN HIDDEN TESTS" in c.source for c in tests), assignment


def test_header_is_in_every_exercise():
    """The header, with the course's coordinates and the file's name filled in."""
    from fashion_lessons.coordinates import read_coordinates
    from fashion_lessons.grading.header import fill_placeholders

    header = json.loads((REPO / "solutions" / "header.ipynb").read_text(encoding="utf-8"))
    for assignment in ASSIGNMENTS:
        notebook = json.loads(exercise(assignment).read_text(encoding="utf-8"))
        values = {
            "package_requirement": read_coordinates(REPO).requirement(),
            "notebook": f"{ASSIGNMENTS[assignment]}.ipynb",
        }
        for cell in header["cells"]:
            filled = fill_placeholders("".join(cell["source"]), values)
            cell = {**cell, "source": filled.splitlines(keepends=True)}
            assert cell in notebook["cells"][: len(header["cells"])], cell["id"]


def test_every_exercise_records_its_test_cells_and_their_points():
    """What ``check`` compares a student's notebook with: the graded cells of the solution."""
    for assignment in ASSIGNMENTS:
        source = nbformat.read(solution(assignment), as_version=4)
        graded = {
            cell.metadata.nbgrader["grade_id"]: float(cell.metadata.nbgrader["points"])
            for cell in source.cells
            if is_grade(cell) and cell.cell_type == "code"
        }
        released = nbformat.read(exercise(assignment), as_version=4)
        assert released.metadata["fashion_lessons"]["tests"] == graded, assignment
        assert len(graded) >= 3, assignment
