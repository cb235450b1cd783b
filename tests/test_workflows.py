"""The GitHub Actions workflows (tests; the website built and published) pass actionlint,
and they run what this repository runs: `.ci/run`, `make book`, `make publish`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def _actionlint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *map(str, paths)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_actionlint_finds_nothing():
    assert {path.name for path in WORKFLOWS} >= {"tests.yml", "pages.yml"}
    result = _actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - run: echo ${{ github.no_such_thing }}\n"
    )
    result = _actionlint(broken)
    assert result.returncode != 0 and "no_such_thing" in result.stdout


def _runs(workflow: str) -> str:
    steps = [
        step
        for job in yaml.safe_load((REPO / ".github" / "workflows" / workflow).read_text())[
            "jobs"
        ].values()
        for step in job["steps"]
    ]
    return "\n".join(step.get("run", "") for step in steps)


def test_the_tests_workflow_runs_ci_run():
    assert "bash .ci/run" in _runs("tests.yml")


def test_the_pages_workflow_builds_and_publishes_with_the_makefile():
    runs = _runs("pages.yml")
    assert "make book" in runs and "make publish" in runs
    publish = subprocess.run(
        ["make", "--no-print-directory", "-n", "publish"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    branch = yaml.safe_load((REPO / "_config.yml").read_text())["sphinx"]["config"][
        "colab_notebook_branch"
    ]
    # ghp-import pushes to gh-pages, the branch the lessons' Colab buttons read.
    assert "ghp-import --no-jekyll --push --force _build/html" in publish
    assert branch == "gh-pages"
