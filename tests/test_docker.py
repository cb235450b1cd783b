"""The course's Docker image, checked statically (tests/test_image.py builds and runs it).

hadolint lints the Dockerfile; the tests check that the default base image is TensorFlow's
official image of the TensorFlow this environment resolved, every COPY source exists (or
is made by ``make docker``) and is not excluded by .dockerignore, the package is installed
with its dependencies but no second TensorFlow, the course lands where the run command
mounts the student's folder, and the commands on the book's Docker page are the ones
``make docker`` and ``make docker-run`` run.
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


def _default_base(instructions) -> str:
    arguments = [arguments for keyword, arguments in instructions if keyword == "ARG"]
    return next(a.split("=", 1)[1] for a in arguments if a.startswith("BASE_IMAGE="))


def test_base_image_is_the_official_image_of_the_courses_tensorflow(instructions):
    from routes import tensorflow_version

    images = [arguments for keyword, arguments in instructions if keyword == "FROM"]
    assert images == ["${BASE_IMAGE}"]
    base = _default_base(instructions)
    match = re.fullmatch(r"tensorflow/tensorflow:(\d+\.\d+\.\d+)-jupyter", base)
    assert match, f"expected tensorflow/tensorflow:X.Y.Z-jupyter, found {base}"
    # The same TensorFlow as the course's environment (what pyproject.toml resolves to).
    assert match.group(1) == tensorflow_version()


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
            if source.startswith(".image/"):  # made by `make docker` (docker-data)
                assert "mkdir -p .image/fashion-mnist" in "\n".join(_make_dry_run("docker-data"))
                assert ".image" in (REPO / ".gitignore").read_text()
                continue
            matches = sorted(REPO.glob(source.rstrip("/")))
            assert matches, f"COPY source {source} does not exist"
            for match in matches:
                relative = match.relative_to(REPO).as_posix()
                assert not _ignored(relative, patterns), f"{relative} is in .dockerignore"


def test_dockerignore_check_can_fail():
    assert _ignored(".venv/bin/python", [".venv"])
    assert _ignored("fashion_lessons/__pycache__/x.pyc", ["**/__pycache__"])
    assert not _ignored("fashion_lessons/data.py", [".venv", "**/__pycache__"])


def test_the_image_installs_the_package_without_a_second_tensorflow(instructions):
    runs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    copies = [shlex.split(arguments) for keyword, arguments in instructions if keyword == "COPY"]
    copied = {source.rstrip("/") for words in copies for source in words[:-1]}
    assert {"pyproject.toml", "README.md", "fashion_lessons", "jupyter"} <= copied
    # With its dependencies (the base's tensorflow satisfies the requirement), then a
    # check that fails the build on a conflict or a tensorflow-cpu beside it.
    assert re.search(r"pip install --no-cache-dir \. ", runs)
    assert "pip check" in runs and "! python3 -m pip show --quiet tensorflow-cpu" in runs
    # The data is verified at build time, so the container works offline.
    assert "fashion-lessons data --offline" in runs


def test_the_course_lands_in_the_mounted_folder(instructions):
    copies = [shlex.split(arguments) for keyword, arguments in instructions if keyword == "COPY"]
    destinations = {words[-1].rstrip("/"): words[:-1] for words in copies}
    assert destinations.get("/opt/fashion-lessons/course/exercises") == ["exercises/"]
    assert destinations.get("/opt/fashion-lessons/course/lessons") == ["book/*.md"]
    command = next(arguments for keyword, arguments in instructions if keyword == "CMD")
    # Copied without replacing a student's files, then JupyterLab.
    assert "cp -rn /opt/fashion-lessons/course/. /tf/fashion-lessons/" in command
    assert "jupyter lab" in command
    run = _make_dry_run("docker-run")[-1]
    assert '-v "$PWD/my-work":/tf/fashion-lessons' in run


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


def _docker_commands() -> tuple[str, list[str]]:
    build = [line for line in _make_dry_run("docker") if line.startswith("docker ")]
    return build[0], _make_dry_run("docker-run")


def test_docker_page_commands_are_the_makefiles():
    page = (REPO / "book" / "docker.md").read_text()
    commands = _code_blocks(page)
    build, run = _docker_commands()
    assert build == "docker build -t fashion-lessons ."
    assert run[0] == "mkdir -p my-work" and run[1].startswith("docker run ")
    for command in (build, *run):
        assert command in commands, command
    # The image the page runs is the image the page builds.
    tag = shlex.split(build)[shlex.split(build).index("-t") + 1]
    assert shlex.split(run[1])[-1] == tag
    assert "`make docker`" in page and "`make docker-run`" in page


def test_docker_page_names_the_dockerfiles_base_image(instructions):
    page = (REPO / "book" / "docker.md").read_text()
    base = _default_base(instructions)
    assert f"`{base}`" in page
    pinned_tag = base.split(":")[1]
    assert f"`{pinned_tag}`" in page


def test_dockerfile_comments_show_the_same_commands():
    header = DOCKERFILE.read_text()
    build, run = _docker_commands()
    for command in (build, *run):
        assert command in header, command


def test_readme_shows_the_same_commands():
    readme = " ".join((REPO / "README.md").read_text().split())
    build, run = _docker_commands()
    for command in (build, *run, "make test-image"):
        assert f"`{command}`" in readme, command
