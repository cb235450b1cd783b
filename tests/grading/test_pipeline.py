"""The graded course end to end: release, grade a class through the CLI, check a notebook.

One real grading run (the session fixture ``graded`` of ``conftest.py``, ~3–4 minutes on
2 cores, shared with the feedback-safety tests) serves most tests: real nbgrader, real
kernels, real data and real training. Its students are described in ``graded_class.py``:
every solution must pass every test, hidden ones included; every untouched exercise must
fail every autograded test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from graded_class import VARIANT
from helpers import ASSIGNMENTS, hand_in, solution, with_answer
from nbgrader.utils import is_grade

from fashion_lessons.grading.autograde import autograde_submission
from fashion_lessons.grading.intake import collect_submissions
from fashion_lessons.grading.reports import write_grades_csv
from fashion_lessons.grading.types import CourseError, ExecutionOptions, SubmissionResult
from fashion_lessons.grading.workspace import prepare_grading


def _score(row) -> tuple[float, float]:
    return float(row["score"]), float(row["max_score"])


# --- (b)–(e) one grading run --------------------------------------------------------


@pytest.mark.slow
def test_grades_csv_has_one_row_per_student_and_assignment(grades):
    students = {"ref", "blank", "wrong", "variant", "broken"}
    assert set(grades) == {(s, a) for s in students for a in ASSIGNMENTS}


@pytest.mark.slow
def test_reference_solutions_pass_every_test(grades, graded):
    """(b) every solution notebook, handed in as is, passes all its tests, hidden ones too."""
    for assignment in ASSIGNMENTS:
        score, max_score = _score(grades["ref", assignment])
        assert max_score > 0 and score == max_score, (assignment, grades["ref", assignment])
        assert grades["ref", assignment]["reason"] == ""


@pytest.mark.slow
def test_untouched_exercises_fail_every_test(grades, graded):
    """(c) an untouched exercise fails every autograded test cell (each scores 0)."""
    from nbgrader.api import Gradebook

    out, _ = graded
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for assignment, name in ASSIGNMENTS.items():
            notebook = gb.find_submission_notebook(name, assignment, "blank")
            assert notebook.grades, assignment
            for grade in notebook.grades:
                assert grade.score == 0, f"{assignment} {grade.name} passes on a blank exercise"
            assert _score(grades["blank", assignment])[0] == 0


@pytest.mark.slow
def test_one_wrong_answer_lands_strictly_between(grades):
    """(d) one plausible mistake costs some points, not all."""
    for assignment in ASSIGNMENTS:
        score, max_score = _score(grades["wrong", assignment])
        assert 0 < score < max_score, (assignment, score, max_score)


@pytest.mark.slow
def test_other_spellings_and_keras_warnings_get_full_marks(grades):
    """(e) functional API, tf.nn.relu, Keras objects and a warning on stderr: full marks."""
    for assignment in VARIANT:
        score, max_score = _score(grades["variant", assignment])
        assert score == max_score, grades["variant", assignment]


@pytest.mark.slow
def test_keras_warning_really_lands_in_a_test_cell(class_folder, tmp_path):
    """Without IgnorePattern (plain `nbgrader validate`), the variant's warning fails a test.

    This shows that the full marks above are IgnorePattern's doing.
    """
    notebook = class_folder / "variant" / "03-build-model" / "build_model.ipynb"
    shutil.copy(notebook, tmp_path / notebook.name)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    run = subprocess.run(
        [str(Path(sys.executable).parent / "nbgrader"), "validate", notebook.name],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert "VALIDATION FAILED ON 1 CELL" in run.stdout, run.stdout
    assert "keras/src/layers" in run.stdout, run.stdout  # where the warning comes from


@pytest.mark.slow
def test_broken_submissions_score_zero_with_a_reason(grades):
    invalid = grades["broken", "01-load-data"]
    assert _score(invalid)[0] == 0 and "not a valid Jupyter notebook" in invalid["reason"]
    died = grades["broken", "02-scale-pixels"]
    assert _score(died)[0] == 0
    assert re.search(r"kernel|died", died["reason"], flags=re.I), died
    missing = grades["broken", "03-build-model"]
    assert _score(missing) == (0, _score(grades["ref", "03-build-model"])[1])
    assert missing["reason"] == "no submission"


@pytest.mark.slow
def test_outputs_feedback_summary_and_histogram(graded, grades):
    out, stdout = graded
    for assignment, name in ASSIGNMENTS.items():
        for student in ("ref", "blank", "wrong"):
            html = out / "feedback" / student / assignment / f"{name}.html"
            assert html.is_file() and html.stat().st_size > 1000, html
    assert (out / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    assert "student" in summary and "ref" in summary and "mean" in summary
    assert summary in stdout
    progress = re.findall(r"^\[(\d+)/30\] (\S+) (\S+): ", stdout, flags=re.M)
    assert len(progress) == 30, stdout  # one progress line per student × assignment
    assert {(student, assignment) for _, student, assignment in progress} == set(grades)
    assert "ignored broken/99-unknown" in stdout
    assert not list(out.glob(".grades-*")), "a temporary grades file was left behind"


@pytest.mark.slow
def test_total_points_per_assignment(grades):
    """The totals the README and the book state (they come from the test cells' points)."""
    totals = {a: _score(grades["ref", a])[1] for a in ASSIGNMENTS}
    expected = {}
    for assignment in ASSIGNMENTS:
        notebook = nbformat.read(solution(assignment), as_version=4)
        expected[assignment] = sum(
            float(c.metadata.nbgrader.points) for c in notebook.cells if is_grade(c)
        )
    assert totals == expected


def test_grade_refuses_a_foreign_output_folder(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("precious", encoding="utf-8")
    with pytest.raises(CourseError, match="not empty"):
        prepare_grading(tmp_path / "out")
    assert (tmp_path / "out" / "thesis.tex").read_text(encoding="utf-8") == "precious"


def test_grades_csv_is_written_atomically(tmp_path):
    results = [SubmissionResult("s1", "01-load-data", 3.0, 8.0, "")]
    path = tmp_path / "grades.csv"
    path.write_text("old", encoding="utf-8")

    broken = SubmissionResult("s2", "01-load-data", "no number", 8.0)  # fails halfway
    with pytest.raises(ValueError):
        write_grades_csv([*results, broken], path)
    assert path.read_text(encoding="utf-8") == "old"
    assert list(tmp_path.iterdir()) == [path]
    write_grades_csv(results, path)
    assert path.read_text(encoding="utf-8").splitlines() == [
        "student_id,assignment,score,max_score,reason",
        "s1,01-load-data,3,8,",
    ]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Object of type:Warning")  # nbgrader's own SQLAlchemy use
def test_a_cell_that_times_out_costs_its_tests_and_is_reported(tmp_path):
    """A function that never returns: its tests time out and score 0, the others count."""
    submissions = tmp_path / "submissions"
    # Sleeps rather than spins: interrupted all the same, and no CPU burnt waiting.
    looping = "import time\n\ndef class_name(label):\n    while True:\n        time.sleep(0.1)\n"
    hand_in(
        submissions,
        "looper",
        "01-load-data",
        with_answer(solution("01-load-data"), "class_name", looping),
    )
    grading = prepare_grading(tmp_path / "out", execution=ExecutionOptions(timeout=8))
    collect_submissions(submissions, grading)
    result = autograde_submission(grading, "looper", "01-load-data")
    # class_name's two test cells (2 of 8 points) time out; class_counts and describe_images pass
    assert (result.score, result.max_score) == (6, 8), result
    assert "test_class_name_values timed out" in result.reason, result
    assert "test_class_name_errors timed out" in result.reason, result


def test_the_python_api_refuses_zero_workers_before_writing(tmp_path):
    from fashion_lessons.grading.pipeline import grade

    hand_in(tmp_path / "submissions", "ada", "02-scale-pixels", solution("02-scale-pixels"))
    with pytest.raises(CourseError, match="at least one worker"):
        grade(tmp_path / "submissions", tmp_path / "out", workers=0)
    assert not (tmp_path / "out").exists()
