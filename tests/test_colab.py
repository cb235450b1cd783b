"""The Colab route, as close as this machine gets to it.

Colab's runtime has TensorFlow (the plain ``tensorflow`` distribution) and Jupyter, and
not this course. The test makes such an environment from PyPI's files, opens a released
exercise with its reference answers filled in, and runs it top to bottom in a kernel of
that environment: the first cell installs the course (here from the freshly built
wheel, through ``FASHION_LESSONS_PACKAGE``; on Colab from the release tag that
``_config.yml`` and ``__version__`` name). Every test must pass, ``fashion-lessons check``
must give full marks, and the environment must still have its one TensorFlow.
"""

from __future__ import annotations

import json

import pytest
from routes import (
    REPO,
    check_score,
    colab_runtime,
    filled_exercise,
    installed,
    offline_pip_env,
    run,
)

import fashion_lessons
from fashion_lessons.coordinates import read_coordinates

# Fresh environments with TensorFlow: `make test-routes`, not `make test`.
pytestmark = [pytest.mark.slow, pytest.mark.route]


@pytest.fixture(scope="module")
def colab():
    """(bin folder, wheelhouse, wheel): a runtime with tensorflow and jupyter, no course."""
    bin_dir, house, wheel = colab_runtime()
    packages = installed(bin_dir)
    if "fashion-lessons" in packages:  # the pip route's test ran first: start over
        result = run([bin_dir / "python", "-m", "pip", "uninstall", "--yes", "fashion-lessons"])
        assert result.returncode == 0, result.stderr
    return bin_dir, house, wheel


def _errors(notebook: dict) -> list[str]:
    return [
        f"{output['ename']}: {output['evalue']}"
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if output["output_type"] == "error"
    ]


def test_the_exercise_installs_the_course_and_scores_full_marks(colab, tmp_path):
    bin_dir, house, wheel = colab
    before = installed(bin_dir)
    notebook = filled_exercise(tmp_path / "load_data.ipynb")
    env = offline_pip_env(house, FASHION_LESSONS_PACKAGE=str(wheel), TF_CPP_MIN_LOG_LEVEL="2")
    executed = run(
        [bin_dir / "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output",
         "executed.ipynb", "--ExecutePreprocessor.timeout=300", notebook.name],
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert executed.returncode == 0, executed.stderr[-4000:]
    result = json.loads((tmp_path / "executed.ipynb").read_text())
    assert _errors(result) == []

    after = installed(bin_dir)
    assert after["fashion-lessons"] == fashion_lessons.__version__
    assert after["tensorflow"] == before["tensorflow"], "TensorFlow was replaced"
    assert "tensorflow-cpu" not in after, "a second TensorFlow was installed"
    assert {name: before[name] for name in before if after.get(name) != before[name]} == {}

    # Now the course is there: the first cell must not install anything (a package
    # source that does not exist would fail if it tried).
    env["FASHION_LESSONS_PACKAGE"] = str(tmp_path / "no-such-wheel.whl")
    check = run([bin_dir / "fashion-lessons", "check", "executed.ipynb"], cwd=tmp_path, env=env)
    earned, total = check_score(check.stdout)
    assert check.returncode == 0 and earned == total > 0, check.stdout[-3000:]


def test_every_exercise_installs_this_version_from_the_repository():
    requirement = read_coordinates(REPO).requirement()
    assert requirement.endswith(f"@v{fashion_lessons.__version__}")
    for path in sorted((REPO / "exercises").glob("*/*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        install = "".join(cells[1]["source"])
        assert cells[1]["cell_type"] == "code", path
        assert f'"{requirement}"' in install and "%pip install --quiet" in install, path
        assert "except ModuleNotFoundError" in install, f"{path}: installs unconditionally"
        instructions = "".join(cells[0]["source"])
        assert f"!fashion-lessons check {path.name}" in instructions, path
        assert "Download .ipynb" in instructions, path
