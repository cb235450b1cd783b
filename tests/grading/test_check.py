"""`fashion-lessons check`: a student runs one notebook and reads every verdict."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import exercise, run_cli, solution

from fashion_lessons.grading.check import check_notebook


def _check(notebook: Path, folder: Path):
    """``fashion-lessons check`` on a copy of ``notebook`` in ``folder``."""
    shutil.copy(notebook, folder / notebook.name)
    return run_cli("check", folder / notebook.name)


@pytest.mark.slow
def test_check_on_a_reference_notebook(tmp_path):
    """(g) a correct notebook: every test PASS, full points, exit status 0."""
    run = _check(solution("01-load-data"), tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASS  test_class_counts_shape  1/1 points (so far 1/8)" in run.stdout
    assert "PASS  test_describe_images_values  2/2 points (so far 8/8)" in run.stdout
    assert "FAIL" not in run.stdout
    assert "6 of 6 tests passed: 8 of 8 points" in run.stdout
    assert "{" not in run.stdout, "no JSON dumps"


@pytest.mark.slow
def test_check_on_a_blank_exercise(tmp_path):
    """(g) an untouched exercise: every test FAIL with an actionable message, exit status 1."""
    run = _check(exercise("01-load-data"), tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.count("FAIL  test_") == 6
    assert "PASS" not in run.stdout
    assert "NotImplementedError: a function is not written yet" in run.stdout
    assert "0 of 6 tests passed: 0 of 8 points" in run.stdout


def test_check_rejects_a_file_that_is_not_a_notebook(tmp_path):
    notebook = tmp_path / "load_data.ipynb"
    notebook.write_text("{ not json", encoding="utf-8")
    run = run_cli("check", notebook)
    assert run.returncode == 2
    assert "not a valid Jupyter notebook" in " ".join(run.stderr.split())


@pytest.mark.slow
def test_check_works_without_a_course_folder(tmp_path):
    """As in the Docker image: no nbgrader_config.py, no solutions/ next to the package."""
    notebook = tmp_path / "scale_pixels.ipynb"
    shutil.copy(solution("02-scale-pixels"), notebook)
    report = check_notebook(notebook, root=tmp_path)
    assert report.has_passed and report.points == report.max_points == 5


@pytest.mark.slow
def test_a_deleted_test_cell_is_named_with_its_points(tmp_path):
    """Grading puts a deleted test back and runs it, so the check must not pass without it;
    the released exercise records its test cells, so no course folder is needed."""
    import nbformat

    from fashion_lessons.grading.check import format_check_report

    notebook = nbformat.read(exercise("02-scale-pixels"), as_version=4)
    deleted = "test_scale_pixels_values"
    notebook.cells = [
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") != deleted
    ]
    path = tmp_path / "scale_pixels.ipynb"
    nbformat.write(notebook, path)
    report = check_notebook(path, root=tmp_path)
    assert report.missing == {deleted: 2.0}
    assert len(report.tests) == 3 and not report.has_passed
    text = " ".join(format_check_report(report).split())
    assert f"missing from your notebook: {deleted} (2 points)" in text


@pytest.mark.parametrize(
    "record",
    ["garbage", {"tests": ["test_a"]}, {"tests": {"test_a": "2"}}, {"tests": {"test_a": True}}],
)
def test_a_broken_record_of_released_tests_is_no_record(record):
    import nbformat

    from fashion_lessons.grading.notebooks import released_tests

    notebook = nbformat.v4.new_notebook(metadata={"fashion_lessons": record})
    assert released_tests(notebook) == {}
    notebook.metadata["fashion_lessons"] = {"tests": {"test_a": 2, "test_b": 1.5}}
    assert released_tests(notebook) == {"test_a": 2.0, "test_b": 1.5}


@pytest.mark.slow
def test_other_cells_that_fail_or_run_too_long_are_named(tmp_path):
    """The tests can pass on a function defined before its cell failed: the check says so."""
    import nbformat

    from fashion_lessons.grading.check import format_check_report
    from fashion_lessons.grading.types import ExecutionOptions

    notebook = nbformat.read(solution("02-scale-pixels"), as_version=4)
    answer = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source += "\nraise ValueError('a bad last line')\n"
    notebook.cells.append(nbformat.v4.new_code_cell("import time\nwhile True:\n    time.sleep(1)"))
    path = tmp_path / "scale_pixels.ipynb"
    nbformat.write(notebook, path)
    report = check_notebook(path, root=tmp_path, execution=ExecutionOptions(timeout=2))
    assert all(test.has_passed for test in report.tests)
    last = f"cell {len(notebook.cells)} (import time)"
    assert report.failed == [
        "scale_pixels: ValueError: a bad last line",
        f"{last}: KeyboardInterrupt: stopped at the time limit of a cell; does it loop forever?",
    ]
    text = " ".join(format_check_report(report).split())
    assert f"Warning: a cell failed: {last}: KeyboardInterrupt: stopped at the time limit" in text
