"""The wheel: built from the tree, installed (not editable) into a new environment, it holds
every subpackage and grades a submission."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from helpers import REPO, hand_in, solution

ASSIGNMENT = "02-scale-pixels"
GRADE_ONE = """
import sys
from pathlib import Path

import fashion_lessons
from fashion_lessons.grading.pipeline import grade
from fashion_lessons.grading.types import IsolationOptions

print(Path(fashion_lessons.__file__).resolve().parent)
report = grade(Path(sys.argv[1]), Path(sys.argv[2]), root=Path(sys.argv[3]),
               isolation=IsolationOptions(sandbox=False))
(result,) = report.results
print(result.score, result.max_score)
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Built from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(REPO / "fashion_lessons", source / "fashion_lessons")
    for name in ("pyproject.toml", "README.md", "jupyter/overrides.json"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(dist), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (path,) = dist.glob("fashion_lessons-*.whl")
    return path


def test_the_wheel_holds_every_subpackage(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = sorted(
        path.parent.relative_to(REPO).as_posix()
        for path in (REPO / "fashion_lessons").rglob("__init__.py")
    )
    assert {"fashion_lessons", "fashion_lessons/grading", "fashion_lessons/sandbox"} <= set(
        packages
    )
    for module in (REPO / "fashion_lessons").rglob("*.py"):
        assert module.relative_to(REPO).as_posix() in names


def test_the_installed_wheel_grades_a_submission(wheel, tmp_path):
    """A new virtual environment that borrows this one's dependencies, not its package."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    purelib = Path(subprocess.check_output([python, "-c", where], text=True).strip())
    # A path in a .pth file is added as is: this environment's editable finder stays out.
    (purelib / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # nbgrader runs its dependencies' commands (alembic) from PATH.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    course = tmp_path / "course"  # one assignment keeps the gradebook quick to build
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    shutil.copy(REPO / "solutions" / "header.ipynb", course / "solutions")
    shutil.copy(REPO / "nbgrader_config.py", course)
    submissions = tmp_path / "submissions"
    hand_in(submissions, "ref", ASSIGNMENT, solution(ASSIGNMENT))
    run = subprocess.run(
        [python, "-c", GRADE_ONE, submissions, tmp_path / "out", course],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=dict(os.environ, PATH=path),
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    package, scores = run.stdout.strip().splitlines()[-2:]
    assert Path(package) == purelib / "fashion_lessons"
    score, max_score = map(float, scores.split())
    assert score == max_score > 0
