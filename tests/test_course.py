"""The graded course end to end: release, grade a class through the CLI, check a notebook.

One real grading run (session fixture, ~3–4 minutes on 2 cores) serves most tests: real
nbgrader, real kernels, real data and real training. Its students:

- ``ref`` hands in the reference solutions themselves (test cells, hidden tests and all):
  every solution must pass every test, hidden ones included;
- ``blank`` hands in the untouched exercises: every autograded test must fail;
- ``wrong`` hands in the reference with one plausible mistake per assignment;
- ``variant`` answers two assignments in other spellings than the reference (functional
  API, ``tf.nn.relu``, a layer with ``input_shape`` that makes Keras warn on stderr);
- ``broken`` hands in a file that is not JSON and a notebook whose kernel dies.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import REPO

from fashion_lessons import course

ASSIGNMENTS = {
    "01-load-data": "load_data",
    "02-scale-pixels": "scale_pixels",
    "03-build-model": "build_model",
    "04-train-evaluate": "train_evaluate",
    "05-overfitting": "overfitting",
    "06-dropout": "dropout",
}

# One plausible mistake per assignment: (grade_id of the answer cell, its new source).
WRONG = {
    "01-load-data": (
        "class_name",
        "def class_name(label):\n    return CLASS_NAMES[label]  # no check of the range\n",
    ),
    "02-scale-pixels": (
        "scale_pixels",
        "def scale_pixels(images):\n    return images / 255  # float64, not float32\n",
    ),
    "03-build-model": (
        "build_model",
        "def build_model():\n"
        "    model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),\n"
        "        keras.layers.Dense(128, activation='sigmoid'),\n"
        "        keras.layers.Dense(10, activation='softmax')])\n"
        "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',\n"
        "        metrics=['accuracy'])\n"
        "    return model\n",
    ),
    "04-train-evaluate": (
        "test_accuracy",
        "def test_accuracy(model, images, labels):\n"
        "    _, accuracy = model.evaluate(images, labels, verbose=0)\n"
        "    return 100 * accuracy  # a percentage, not a fraction\n",
    ),
    "05-overfitting": (
        "best_epoch",
        "def best_epoch(history):\n"
        "    metrics = getattr(history, 'history', history)\n"
        "    return int(np.argmax(metrics['val_accuracy']))  # counts from 0\n",
    ),
    "06-dropout": (
        "build_dropout_model",
        "def build_dropout_model(rate):\n"
        "    # no check of the rate: Keras itself accepts a rate of 1\n"
        "    model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),\n"
        "        keras.layers.Dense(128, activation='relu'), keras.layers.Dropout(rate),\n"
        "        keras.layers.Dense(10, activation='softmax')])\n"
        "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',\n"
        "        metrics=['accuracy'])\n"
        "    return model\n",
    ),
}

# Right answers spelled differently from the reference.
VARIANT = {
    # Keras warns on stderr ("Do not pass an `input_shape`...") the first time this runs,
    # which is inside the first test cell: only IgnorePattern keeps the full marks.
    "03-build-model": (
        "build_model",
        "import tensorflow as tf\n\n"
        "def build_model():\n"
        "    model = keras.models.Sequential()\n"
        "    model.add(keras.layers.Flatten(input_shape=(28, 28)))\n"
        "    model.add(keras.layers.Dense(128, activation=tf.nn.relu))\n"
        "    model.add(keras.layers.Dense(10, activation=keras.activations.softmax))\n"
        "    model.compile(optimizer=keras.optimizers.Adam(),\n"
        "        loss=keras.losses.SparseCategoricalCrossentropy(),\n"
        "        metrics=[keras.metrics.SparseCategoricalAccuracy()])\n"
        "    return model\n",
    ),
    "06-dropout": (
        "build_dropout_model",
        "def build_dropout_model(rate):\n"
        "    if rate < 0 or rate >= 1:\n"
        "        raise ValueError('rate must be in [0, 1)')\n"
        "    inputs = keras.Input((28, 28))\n"
        "    x = keras.layers.Reshape((784,))(inputs)\n"
        "    x = keras.layers.Dense(128, activation='relu')(x)\n"
        "    x = keras.layers.Dropout(rate=rate)(x)\n"
        "    outputs = keras.layers.Dense(10, activation='softmax')(x)\n"
        "    model = keras.Model(inputs=inputs, outputs=outputs)\n"
        "    model.compile('adam', keras.losses.sparse_categorical_crossentropy, metrics=['acc'])\n"
        "    return model\n",
    ),
}

KILL_KERNEL = "import os\n\nos._exit(1)\n"


def _solution(assignment: str) -> Path:
    return REPO / "solutions" / assignment / f"{ASSIGNMENTS[assignment]}.ipynb"


def _exercise(assignment: str) -> Path:
    return REPO / "exercises" / assignment / f"{ASSIGNMENTS[assignment]}.ipynb"


def _with_answer(source: Path, grade_id: str, code: str):
    """The notebook at ``source`` with the answer cell ``grade_id`` replaced by ``code``."""
    notebook = nbformat.read(source, as_version=4)
    cells = [
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    ]
    assert len(cells) == 1 and cells[0].metadata.nbgrader.get("solution"), grade_id
    cells[0].source = code
    return notebook


def _hand_in(submissions: Path, student: str, assignment: str, notebook) -> Path:
    path = submissions / student / assignment / f"{ASSIGNMENTS[assignment]}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(notebook, Path):
        shutil.copy(notebook, path)
    elif isinstance(notebook, str):
        path.write_text(notebook, encoding="utf-8")
    else:
        nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="session")
def class_folder(tmp_path_factory) -> Path:
    """SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb for the five students."""
    submissions = tmp_path_factory.mktemp("submissions")
    for assignment in ASSIGNMENTS:
        _hand_in(submissions, "ref", assignment, _solution(assignment))
        _hand_in(submissions, "blank", assignment, _exercise(assignment))
        grade_id, code = WRONG[assignment]
        _hand_in(
            submissions, "wrong", assignment, _with_answer(_solution(assignment), grade_id, code)
        )
    for assignment, (grade_id, code) in VARIANT.items():
        notebook = _with_answer(_solution(assignment), grade_id, code)
        _hand_in(submissions, "variant", assignment, notebook)
    _hand_in(submissions, "broken", "01-load-data", '{"cells": [ this is not JSON')
    dying = _with_answer(_solution("02-scale-pixels"), "scale_pixels", KILL_KERNEL)
    _hand_in(submissions, "broken", "02-scale-pixels", dying)
    (submissions / "broken" / "99-unknown").mkdir()
    return submissions


@pytest.fixture(scope="session")
def graded(class_folder, tmp_path_factory):
    """Run `fashion-lessons grade` once on the class; its output folder and stdout."""
    out = tmp_path_factory.mktemp("graded") / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "fashion_lessons.cli",
            "grade",
            str(class_folder),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=class_folder,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return out, run.stdout


@pytest.fixture(scope="session")
def grades(graded) -> dict[tuple[str, str], dict]:
    out, _ = graded
    with open(out / "grades.csv", newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    return {(row["student_id"], row["assignment"]): row for row in rows}


def _score(row) -> tuple[float, float]:
    return float(row["score"]), float(row["max_score"])


# --- (a) release --------------------------------------------------------------------


def test_exercises_equal_a_fresh_release(tmp_path):
    """(a) exercises/ is exactly what releasing solutions/ produces now (CI: no stale copy)."""
    written = course.generate_exercises(REPO, tmp_path)
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
        text = _exercise(assignment).read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "HIDDEN TESTS"):
            assert marker not in text, f"{assignment}: {marker!r} leaked into the exercise"
        notebook = nbformat.read(_exercise(assignment), as_version=4)
        answers = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
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
        notebook = nbformat.read(_solution(assignment), as_version=4)
        tests = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert len(tests) >= 4, f"{assignment}: too few test cells for real partial credit"
        for cell in tests:
            grade_id = cell.metadata.nbgrader.grade_id
            assert re.fullmatch(r"test_[a-z_]+", grade_id), grade_id
            assert cell.source.startswith('"""') and cell.source.splitlines()[0].endswith('."""')
        assert any("### BEGIN HIDDEN TESTS" in c.source for c in tests), assignment


def test_python3_kernel_is_this_python():
    """The configured kernel runs the Python that grades (the one with fashion_lessons)."""
    from jupyter_client.manager import KernelManager

    config = course.load_config(REPO)
    manager = KernelManager(kernel_name=config.Execute.kernel_name)
    assert manager.format_kernel_cmd()[0] == sys.executable


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
        notebook = nbformat.read(_solution(assignment), as_version=4)
        expected[assignment] = sum(
            float(c.metadata.nbgrader.points)
            for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("grade")
        )
    assert totals == expected


def test_grade_refuses_a_foreign_output_folder(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("precious", encoding="utf-8")
    with pytest.raises(course.CourseError, match="not empty"):
        course.prepare_grading(tmp_path / "out")
    assert (tmp_path / "out" / "thesis.tex").read_text(encoding="utf-8") == "precious"


def test_grades_csv_is_written_atomically(tmp_path):
    results = [course.SubmissionResult("s1", "01-load-data", 3.0, 8.0, "")]
    path = tmp_path / "grades.csv"
    path.write_text("old", encoding="utf-8")

    broken = course.SubmissionResult("s2", "01-load-data", "no number", 8.0)  # fails halfway
    with pytest.raises(ValueError):
        course.write_grades_csv([*results, broken], path)
    assert path.read_text(encoding="utf-8") == "old"
    assert list(tmp_path.iterdir()) == [path]
    course.write_grades_csv(results, path)
    assert path.read_text(encoding="utf-8").splitlines() == [
        "student_id,assignment,score,max_score,reason",
        "s1,01-load-data,3,8,",
    ]


# --- (g) check ----------------------------------------------------------------------


def _check(notebook: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fashion_lessons.cli", "check", str(notebook)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_check_on_a_reference_notebook(tmp_path):
    """(g) a correct notebook: every test PASS, full points, exit status 0."""
    notebook = tmp_path / "load_data.ipynb"
    shutil.copy(_solution("01-load-data"), notebook)
    run = _check(notebook)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASS  test_class_counts_shape  1/1 points (so far 1/8)" in run.stdout
    assert "PASS  test_describe_images_values  2/2 points (so far 8/8)" in run.stdout
    assert "FAIL" not in run.stdout
    assert "6 of 6 tests passed: 8 of 8 points" in run.stdout
    assert "{" not in run.stdout, "no JSON dumps"


@pytest.mark.slow
def test_check_on_a_blank_exercise(tmp_path):
    """(g) an untouched exercise: every test FAIL with an actionable message, exit status 1."""
    notebook = tmp_path / "load_data.ipynb"
    shutil.copy(_exercise("01-load-data"), notebook)
    run = _check(notebook)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.count("FAIL  test_") == 6
    assert "PASS" not in run.stdout
    assert "NotImplementedError: a function is not written yet" in run.stdout
    assert "0 of 6 tests passed: 0 of 8 points" in run.stdout


def test_check_rejects_a_file_that_is_not_a_notebook(tmp_path):
    notebook = tmp_path / "load_data.ipynb"
    notebook.write_text("{ not json", encoding="utf-8")
    run = _check(notebook)
    assert run.returncode == 2
    assert "not a valid Jupyter notebook" in " ".join(run.stderr.split())


def test_header_is_in_every_exercise():
    """The header, with the course's coordinates and the file's name filled in."""
    from fashion_lessons.coordinates import read_coordinates
    from fashion_lessons.header import fill_placeholders

    header = json.loads((REPO / "solutions" / "header.ipynb").read_text(encoding="utf-8"))
    for assignment in ASSIGNMENTS:
        notebook = json.loads(_exercise(assignment).read_text(encoding="utf-8"))
        values = {
            "package_requirement": read_coordinates(REPO).requirement(),
            "notebook": f"{ASSIGNMENTS[assignment]}.ipynb",
        }
        for cell in header["cells"]:
            filled = fill_placeholders("".join(cell["source"]), values)
            cell = {**cell, "source": filled.splitlines(keepends=True)}
            assert cell in notebook["cells"][: len(header["cells"])], cell["id"]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Object of type:Warning")  # nbgrader's own SQLAlchemy use
def test_a_cell_that_times_out_costs_its_tests_and_is_reported(tmp_path):
    """A function that never returns: its tests time out and score 0, the others count."""
    submissions = tmp_path / "submissions"
    looping = "def class_name(label):\n    while True:\n        pass\n"
    _hand_in(
        submissions,
        "looper",
        "01-load-data",
        _with_answer(_solution("01-load-data"), "class_name", looping),
    )
    grading = course.prepare_grading(tmp_path / "out", options=course.GradingOptions(timeout=8))
    course.collect_submissions(submissions, grading)
    result = course.autograde_submission(grading, "looper", "01-load-data")
    # class_name's two test cells (2 of 8 points) time out; class_counts and describe_images pass
    assert (result.score, result.max_score) == (6, 8), result
    assert "test_class_name_values timed out" in result.reason, result
    assert "test_class_name_errors timed out" in result.reason, result


def test_built_in_defaults_equal_nbgrader_config():
    """`check` without a course folder (the Docker image) runs as nbgrader_config.py says."""
    from traitlets.config.loader import PyFileConfigLoader

    from_file = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    defaults = course.default_config()
    for section, values in defaults.items():
        for key, value in values.items():
            assert from_file[section][key] == value, f"{section}.{key} differs"


@pytest.mark.slow
def test_check_works_without_a_course_folder(tmp_path):
    """As in the Docker image: no nbgrader_config.py, no solutions/ next to the package."""
    notebook = tmp_path / "scale_pixels.ipynb"
    shutil.copy(_solution("02-scale-pixels"), notebook)
    report = course.check_notebook(notebook, root=tmp_path)
    assert report.passed and report.points == report.max_points == 5
