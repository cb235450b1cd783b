"""The pip route: the wheel and the sdist, and the wheel in a fresh environment.

``python -m build`` makes both and ``twine check`` accepts them. The wheel is installed
(not editable, with pip) into a new virtual environment that sees nothing of this
repository and already holds TensorFlow and Jupyter (the Colab test's environment,
shared to install TensorFlow once per run; the wheel's requirements are checked on their
own), and runs ``fashion-lessons data``, ``check`` and ``grade`` from outside the clone.
"""

from __future__ import annotations

import csv
import re
import shutil
import sys
import tarfile
import zipfile

import pytest
from routes import (
    REPO,
    check_score,
    colab_runtime,
    filled_exercise,
    installed,
    offline_pip_env,
    run,
    wheel_metadata,
)

import fashion_lessons

# Fresh environments with TensorFlow: `make test-routes`, not `make test`.
pytestmark = [pytest.mark.slow, pytest.mark.route]


@pytest.fixture(scope="module")
def dist():
    """(wheel, sdist) made by ``python -m build`` for this run."""
    wheel = colab_runtime()[2]
    (sdist,) = wheel.parent.glob("*.tar.gz")
    return wheel, sdist


@pytest.fixture(scope="module")
def wheel_env():
    """The fresh environment with the course's wheel installed by pip."""
    bin_dir, house, wheel = colab_runtime()
    result = run(
        [bin_dir / "python", "-m", "pip", "install", "--quiet", wheel],
        env=offline_pip_env(house),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return bin_dir


def test_twine_accepts_the_wheel_and_the_sdist(dist):
    result = run([sys.executable, "-m", "twine", "check", "--strict", *dist])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2


def test_one_version_number_names_both_distributions(dist):
    wheel, sdist = dist
    version = fashion_lessons.__version__
    assert wheel.name == f"fashion_lessons-{version}-py3-none-any.whl"
    assert sdist.name == f"fashion_lessons-{version}.tar.gz"
    assert wheel_metadata(wheel)["Version"] == version
    # pyproject.toml reads it from the package instead of repeating it.
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and version not in pyproject


def test_the_wheel_asks_for_plain_tensorflow_only(dist):
    requires = wheel_metadata(dist[0]).get_all("Requires-Dist")
    tensorflow = [r for r in requires if r.startswith("tensorflow")]
    assert tensorflow == ["tensorflow>=2.16"], requires
    # Building the website is an extra, not something Colab has to install.
    assert not any(r.startswith("jupyter-book") and "extra" not in r for r in requires)


def test_the_distributions_hold_the_package_and_no_solutions(dist):
    wheel, sdist = dist
    names = zipfile.ZipFile(wheel).namelist()
    assert "fashion_lessons/cli.py" in names and "fashion_lessons/grading/header.py" in names
    data = [n for n in names if n.endswith("share/jupyter/lab/settings/overrides.json")]
    assert len(data) == 1, "JupyterLab's settings for the lessons are missing"
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    for files in (names, members):
        assert not any("solutions/" in name or "BEGIN SOLUTION" in name for name in files)
    assert any(m.endswith("jupyter/overrides.json") for m in members)


def test_the_wheel_runs_data_check_and_grade_in_a_fresh_environment(wheel_env, tmp_path):
    bin_dir = wheel_env
    packages = installed(bin_dir)
    assert packages["fashion-lessons"] == fashion_lessons.__version__
    assert "tensorflow" in packages and "tensorflow-cpu" not in packages
    # The package comes from the wheel, not from this repository.
    code = "import fashion_lessons; print(fashion_lessons.__file__)"
    where = run([bin_dir / "python", "-c", code], cwd=tmp_path)
    assert where.stdout.strip().startswith(str(bin_dir.parent)), where.stdout + where.stderr

    data = run([bin_dir / "fashion-lessons", "data", "--offline"], cwd=tmp_path)
    assert data.returncode == 0, data.stdout + data.stderr
    assert "60000" in data.stdout.replace(",", "")

    notebook = filled_exercise(tmp_path / "work" / "load_data.ipynb")
    check = run([bin_dir / "fashion-lessons", "check", notebook.name], cwd=notebook.parent)
    earned, total = check_score(check.stdout)
    assert check.returncode == 0 and earned == total > 0, check.stdout[-3000:]

    # An instructor grades from a course folder: a copy of the clone's course files.
    course = tmp_path / "course"
    course.mkdir()
    for name in ("nbgrader_config.py", "_config.yml"):
        shutil.copy(REPO / name, course / name)
    shutil.copytree(REPO / "solutions", course / "solutions")
    submissions = tmp_path / "handed-in"
    filled_exercise(submissions / "ada" / "01-load-data" / "load_data.ipynb")
    blank = submissions / "bob" / "01-load-data" / "load_data.ipynb"
    blank.parent.mkdir(parents=True)
    shutil.copy(REPO / "exercises" / "01-load-data" / "load_data.ipynb", blank)
    out = tmp_path / "grading"
    grade = run(
        [bin_dir / "fashion-lessons", "grade", submissions, "--out", out, "--course", course,
         "--workers", "1"],
        cwd=tmp_path,
    )  # fmt: skip
    assert grade.returncode == 0, grade.stdout[-3000:] + grade.stderr[-3000:]
    rows = {
        (row["student_id"], row["assignment"]): row
        for row in csv.DictReader((out / "grades.csv").open())
    }
    ada, bob = rows["ada", "01-load-data"], rows["bob", "01-load-data"]
    assert float(ada["score"]) == float(ada["max_score"]) > 0, ada
    assert float(bob["score"]) == 0, bob
    assert re.search(r"ada\s", (out / "summary.txt").read_text())
