"""What the route tests share: the course's wheel, a wheelhouse, fresh virtual
environments, and an exercise filled in with its reference answers.

Nothing here fakes a route: the wheel is built by ``python -m build``, environments are
real ``venv``s that pip fills from PyPI's own files (downloaded once into a wheelhouse
under ``.cache/``, so a rerun does not download TensorFlow again), and notebooks run in
real kernels.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "route-tests"
EXERCISE = ("01-load-data", "load_data")


def run(command, timeout=900, **kwargs) -> subprocess.CompletedProcess:
    """Run ``command``; its output comes back as text, a failure is the caller's to judge."""
    kwargs.setdefault("capture_output", True)
    return subprocess.run([str(part) for part in command], text=True, timeout=timeout, **kwargs)


def tensorflow_version() -> str:
    """The TensorFlow version the course's own environment resolved to."""
    for name in ("tensorflow", "tensorflow-cpu"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    raise AssertionError("the course's environment has no TensorFlow")


def build_distributions(out: Path) -> tuple[Path, Path]:
    """``python -m build`` of the repository into ``out``: (wheel, sdist)."""
    result = run([sys.executable, "-m", "build", "--outdir", out, REPO], cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return wheel, sdist


def wheel_metadata(wheel: Path):
    """The METADATA of a wheel, as an email.message.Message."""
    import email
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(archive.read(name))


def wheelhouse(wheel: Path, *extra: str) -> Path:
    """A folder with every distribution ``wheel`` and ``extra`` need, from PyPI.

    Kept under ``.cache/`` by what it was asked for (the wheel's own requirements, not its
    contents), so reruns do not download again; the course's wheel is never kept in it.
    """
    requires = "\n".join(wheel_metadata(wheel).get_all("Requires-Dist") or [])
    key = hashlib.sha256((requires + "\n".join(extra)).encode()).hexdigest()[:16]
    house = CACHE / f"wheelhouse-{key}"
    if not (house / ".complete").exists():
        house.mkdir(parents=True, exist_ok=True)
        result = run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--dest", house, wheel, *extra]
        )
        assert result.returncode == 0, result.stderr[-3000:]
        (house / ".complete").write_text(requires)
    for own in house.glob("fashion_lessons-*"):
        own.unlink()
    return house


def fresh_venv(path: Path, house: Path, *requirements: str | Path) -> Path:
    """A new virtual environment (no system site-packages) with ``requirements`` installed
    from ``house`` only; returns its ``bin`` folder."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    bin_dir = path / "bin"
    if requirements:
        result = run(
            [bin_dir / "python", "-m", "pip", "install", "--quiet", "--no-index",
             "--find-links", house, *requirements],
            env=offline_pip_env(house),
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return bin_dir


def offline_pip_env(house: Path, **extra: str) -> dict[str, str]:
    """The environment for pip to install from ``house`` alone (no index at all)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(house), PIP_CONFIG_FILE=os.devnull)
    env.update(extra)
    return env


def installed(bin_dir: Path) -> dict[str, str]:
    """{distribution name (normalized): version} of the environment."""
    result = run([bin_dir / "python", "-m", "pip", "list", "--format", "json"])
    assert result.returncode == 0, result.stderr
    return {
        re.sub(r"[-_.]+", "-", p["name"]).lower(): p["version"] for p in json.loads(result.stdout)
    }


def filled_exercise(target: Path, assignment: str = EXERCISE[0], name: str = EXERCISE[1]) -> Path:
    """The released exercise with every answer cell replaced by the reference answer."""
    exercise = nbformat.read(REPO / "exercises" / assignment / f"{name}.ipynb", as_version=4)
    solution = nbformat.read(REPO / "solutions" / assignment / f"{name}.ipynb", as_version=4)
    answers = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in solution.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }
    filled = 0
    for cell in exercise.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
            filled += 1
    assert filled == len(answers) > 0
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(exercise, target)
    return target


def check_score(output: str) -> tuple[float, float]:
    """The points and the maximum of the last line ``fashion-lessons check`` printed."""
    scores = re.findall(r"so far ([\d.]+)/([\d.]+)", output)
    assert scores, output[-3000:]
    earned, total = scores[-1]
    return float(earned), float(total)


@functools.cache
def colab_runtime() -> tuple[Path, Path, Path]:
    """(bin folder, wheelhouse, wheel): a fresh environment as Colab's runtime is, with
    the plain ``tensorflow`` of the course's version and ``jupyter``, without the course;
    and the course's freshly built wheel. Made once per test run, shared by the Colab
    and the pip routes (the pip route then installs the wheel into it)."""
    scratch = Path(tempfile.mkdtemp(prefix="fashion-lessons-routes-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    wheel, _ = build_distributions(scratch / "dist")
    tensorflow = f"tensorflow=={tensorflow_version()}"
    house = wheelhouse(wheel, tensorflow, "jupyter")
    bin_dir = fresh_venv(scratch / "venv", house, tensorflow, "jupyter")
    return bin_dir, house, wheel
