"""Reading, writing and inspecting notebooks: validation, normalized JSON, cell metadata."""

from __future__ import annotations

from pathlib import Path

from fashion_lessons.grading.types import CourseError


def grade_id(cell) -> str | None:
    """The nbgrader ``grade_id`` of a cell, or None for a cell nbgrader does not track."""
    return cell.metadata.get("nbgrader", {}).get("grade_id") or None


TEST_MANIFEST = "fashion_lessons"
"""The key of a released exercise's notebook metadata that lists its test cells."""


def points_of_tests(notebook) -> dict[str, float]:
    """The points of each autograder test cell of ``notebook``, by grade_id, in order."""
    from nbgrader import utils

    return {
        grade_id(cell) or "?": float(utils.determine_grade(cell)[1])
        for cell in notebook.cells
        if utils.is_grade(cell) and cell.cell_type == "code"
    }


def released_tests(notebook) -> dict[str, float]:
    """The test cells the exercise was released with (grade_id: points), as recorded in its
    metadata by ``fashion-lessons release``; empty for a notebook without a valid record."""
    record = notebook.metadata.get(TEST_MANIFEST)
    tests = record.get("tests") if isinstance(record, dict) else None
    if not isinstance(tests, dict):
        return {}
    return {
        str(name): float(points)
        for name, points in tests.items()
        if isinstance(points, (int, float)) and not isinstance(points, bool)
    }


def read_notebook(path: Path):
    """Read and validate a notebook; :class:`CourseError` saying what is wrong otherwise."""
    import nbformat

    path = Path(path)
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except FileNotFoundError as error:
        raise CourseError(f"{path}: no such notebook") from error
    except Exception as error:  # JSON or schema errors
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise CourseError(
            f"{path}: not a valid Jupyter notebook ({type(error).__name__}: {first_line[:200]})"
        ) from error
    return notebook


def write_notebook_normalized(notebook, path: Path) -> None:
    """Write a notebook as normalized JSON (sorted keys, indent 1, final newline)."""
    import nbformat

    path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
