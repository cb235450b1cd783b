"""The course's Docker image, checked statically (no Docker engine is needed).

hadolint lints the Dockerfile; the tests check that the base image is pinned, every COPY
source exists and is not excluded by .dockerignore, the package and nbgrader are
installed, the exercises land in the notebook directory, and the commands on the book's
Docker page are the ones ``make docker`` and ``make docker-run`` run.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"
HADOLINT = REPO / ".venv" / "bin" / "hadolint"


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            result.append((keyword.upper(), arguments.strip()))
    return result


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    return _instructions(DOCKERFILE.read_text())


def _hadolint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(HADOLINT), "--no-color", str(path)], capture_output=True, text=True, timeout=60
    )


def test_hadolint_finds_nothing():
    result = _hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_hadolint_would_catch_an_unpinned_image(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM tensorflow/tensorflow:latest\nRUN pip install nbgrader\n")
    result = _hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # using latest
    assert "DL3013" in result.stdout  # unpinned pip package


def test_base_image_is_a_pinned_official_tensorflow_jupyter_image(instructions):
    images = [arguments for keyword, arguments in instructions if keyword == "FROM"]
    assert len(images) == 1
    match = re.fullmatch(r"tensorflow/tensorflow:(\d+)\.(\d+)\.(\d+)-jupyter", images[0])
    assert match, f"expected tensorflow/tensorflow:X.Y.Z-jupyter, found {images[0]}"
    version = tuple(int(part) for part in match.groups())
    # pyproject.toml asks for TensorFlow >= 2.16 (Keras 3).
    assert version >= (2, 16, 0)


def _dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(relative: str, patterns: list[str]) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    return any(
        fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
        or fnmatch.fnmatch(part, pattern.removeprefix("**/"))
        for pattern in patterns
        for prefix in prefixes
        for part in parts
    )


def test_every_copy_source_exists_and_is_sent_to_docker(instructions):
    copies = [shlex.split(arguments) for keyword, arguments in instructions if keyword == "COPY"]
    assert copies
    patterns = _dockerignore_patterns()
    for words in copies:
        sources = [word for word in words[:-1] if not word.startswith("--")]
        assert sources, words
        for source in sources:
            matches = sorted(REPO.glob(source.rstrip("/")))
            assert matches, f"COPY source {source} does not exist"
            for match in matches:
                relative = match.relative_to(REPO).as_posix()
                assert not _ignored(relative, patterns), f"{relative} is in .dockerignore"


def test_dockerignore_check_can_fail():
    assert _ignored(".venv/bin/python", [".venv"])
    assert _ignored("fashion_lessons/__pycache__/x.pyc", ["**/__pycache__"])
    assert not _ignored("fashion_lessons/data.py", [".venv", "**/__pycache__"])


def _pyproject_requirements() -> dict[str, str]:
    """Requirement strings of pyproject.toml's dependencies, by lower-case name."""
    text = (REPO / "pyproject.toml").read_text()
    dependencies = re.search(r"^dependencies = \[(.*?)^\]", text, flags=re.S | re.M).group(1)
    requirements = {}
    for requirement in re.findall(r'"([^"]+)"', dependencies):
        spec = requirement.split(";")[0].strip()
        requirements[re.match(r"[A-Za-z0-9_.-]+", spec).group(0).lower()] = spec
    return requirements


def test_the_image_installs_the_package_and_the_course_tools(instructions):
    runs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    copies = [shlex.split(arguments) for keyword, arguments in instructions if keyword == "COPY"]
    copied = {source.rstrip("/") for words in copies for source in words[:-1]}
    assert {"pyproject.toml", "README.md", "fashion_lessons"} <= copied
    # The package itself, without its dependencies: the base image's TensorFlow stays
    # the only one (the package asks for tensorflow-cpu on Linux).
    assert re.search(r"pip install [^&]*--no-deps /opt/fashion-lessons", runs)
    requirements = _pyproject_requirements()
    for name in ("nbgrader", "matplotlib", "jupytext"):
        assert f'"{requirements[name]}"' in runs, f"the image should install {requirements[name]}"
    # The data is fetched and verified at build time, so the container works offline.
    assert "load_data()" in runs


def test_the_exercises_land_in_the_notebook_directory(instructions):
    copies = [shlex.split(arguments) for keyword, arguments in instructions if keyword == "COPY"]
    destinations = {words[-1].rstrip("/"): words[:-1] for words in copies}
    assert destinations.get("/tf/fashion-lessons/exercises") == ["exercises/"]
    assert (REPO / "exercises").is_dir()
    runs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    # `docker run -u <uid>` runs as a user who must be able to save their work there.
    assert "chmod -R a+rwX /tf/fashion-lessons" in runs


def _make_dry_run(*targets: str) -> list[str]:
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *targets],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def _code_blocks(markdown: str) -> list[str]:
    return [
        line.strip()
        for block in re.findall(r"```sh\n(.*?)```", markdown, flags=re.S)
        for line in block.splitlines()
    ]


def test_docker_page_commands_are_the_makefiles():
    page = (REPO / "book" / "docker.md").read_text()
    commands = _code_blocks(page)
    build, run = _make_dry_run("docker"), _make_dry_run("docker-run")
    assert build == ["docker build -t fashion-lessons ."]
    assert len(run) == 1 and run[0].startswith("docker run ")
    assert build[0] in commands
    assert run[0] in commands
    # The image the page runs is the image the page builds.
    tag = shlex.split(build[0])[shlex.split(build[0]).index("-t") + 1]
    assert shlex.split(run[0])[-1] == tag
    assert "`make docker`" in page and "`make docker-run`" in page


def test_docker_page_names_the_dockerfiles_base_image(instructions):
    page = (REPO / "book" / "docker.md").read_text()
    base = next(arguments for keyword, arguments in instructions if keyword == "FROM")
    assert f"`{base}`" in page
    pinned_tag = base.split(":")[1]
    assert f"`{pinned_tag}`" in page


def test_dockerfile_comments_show_the_same_commands():
    header = DOCKERFILE.read_text()
    for command in _make_dry_run("docker") + _make_dry_run("docker-run"):
        assert command in header, command
