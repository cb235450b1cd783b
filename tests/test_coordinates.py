"""One place for the course's coordinates, and every place derived from it agrees.

The repository's URL and branch are written only in ``_config.yml``; the version only in
``fashion_lessons.__version__``. A fork changes ``_config.yml`` (and runs ``make
release``): the exercises' install line, the site's clone command, its buttons and its
Colab links all follow. Other files name no repository at all.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

import fashion_lessons
from fashion_lessons.coordinates import CoordinatesError, read_coordinates
from fashion_lessons.grading.header import FillHeader, fill_placeholders

REPO = Path(__file__).resolve().parent.parent
GITHUB = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+")


def test_the_coordinates_come_from_config_yml():
    coordinates = read_coordinates(REPO)
    assert coordinates.repository_url.startswith("https://github.com/")
    assert coordinates.version == fashion_lessons.__version__
    assert coordinates.requirement() == (
        f"fashion-lessons @ git+{coordinates.repository_url}@v{fashion_lessons.__version__}"
    )


def test_no_other_file_names_the_repository():
    url = read_coordinates(REPO).repository_url
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    mentions = []
    for name in tracked:
        path = REPO / name
        if name in ("_config.yml",) or not path.is_file() or name.startswith("exercises/"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if url in text or url.removeprefix("https://") in text:
            mentions.append(name)
    assert mentions == [], "the repository is written there too; derive it from _config.yml"


def test_the_released_exercises_follow_config_yml():
    requirement = read_coordinates(REPO).requirement()
    for path in sorted((REPO / "exercises").glob("*/*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert f'\\"{requirement}\\"' in text, path
        assert "{{" not in text, f"{path}: an unfilled placeholder"


def test_a_fork_changes_one_file(tmp_path):
    (tmp_path / "_config.yml").write_text(
        "repository:\n  url: https://github.com/someone/my-course\n  branch: teaching\n"
    )
    fork = read_coordinates(tmp_path)
    assert fork.clone_command == "git clone https://github.com/someone/my-course.git"
    assert fork.folder == "my-course"
    assert fork.colab_url("exercises/a/b.ipynb") == (
        "https://colab.research.google.com/github/someone/my-course/blob/teaching/exercises/a/b.ipynb"
    )
    header = nbformat.read(REPO / "solutions" / "header.ipynb", as_version=4)
    filled, _ = FillHeader(course_root=str(tmp_path)).preprocess(header, {"unique_key": "x"})
    text = "\n".join(cell.source for cell in filled.cells)
    assert "git+https://github.com/someone/my-course@v" in text
    assert "fashion-lessons check x.ipynb" in text and "{{" not in text


@pytest.mark.parametrize(
    "config",
    ["", "repository:\n  url: https://gitlab.com/a/b\n  branch: main\n",
     "repository:\n  url: https://github.com/a/b\n"],
)  # fmt: skip
def test_bad_coordinates_are_a_clear_error(tmp_path, config):
    if config:
        (tmp_path / "_config.yml").write_text(config)
    with pytest.raises(CoordinatesError, match="_config.yml"):
        read_coordinates(tmp_path)


def test_an_unknown_placeholder_is_an_error():
    with pytest.raises(KeyError, match="packge"):
        fill_placeholders("{{ packge }}", {"package": "x"})


@pytest.fixture(scope="module")
def site() -> Path:
    site = REPO / "_build" / "html"
    if not (site / "book" / "welcome.html").is_file():
        pytest.skip("the site is not built (make book)")
    return site


def test_the_site_shows_the_clone_command_and_the_install_line(site):
    coordinates = read_coordinates(REPO)
    for page in ("welcome", "docker"):
        text = re.sub(r"<[^>]+>", "", (site / "book" / f"{page}.html").read_text())
        text = text.replace("&#64;", "@").replace("&quot;", '"')
        assert coordinates.clone_command in text, page
        assert f"cd {coordinates.folder}" in text and "make install" in text, page
        assert f'python -m pip install "{coordinates.requirement()}"' in text, page
        assert "{{" not in text, page


def test_every_exercise_has_a_colab_link_to_its_notebook(site):
    coordinates = read_coordinates(REPO)
    hrefs = re.findall(r'href="([^"]+)"', (site / "book" / "exercises.html").read_text())
    colab = sorted(href for href in hrefs if href.startswith("https://colab.research.google.com/"))
    expected = sorted(
        coordinates.colab_url(path.relative_to(REPO).as_posix())
        for path in (REPO / "exercises").glob("*/*.ipynb")
    )
    assert colab == expected and len(expected) == 6


def test_every_lesson_notebook_for_colab_installs_the_course_first(site):
    requirement = read_coordinates(REPO).requirement("book")
    lessons = sorted((site / "_sources" / "book").glob("*.ipynb"))
    assert len(lessons) >= 6
    for path in lessons:
        first = json.loads(path.read_text())["cells"][0]
        assert first["cell_type"] == "code", path.name
        assert f'"{requirement}"' in "".join(first["source"]), path.name


def test_the_readme_says_how_a_fork_publishes_its_site():
    readme = (REPO / "README.md").read_text()
    assert "repository:" in readme and "make release" in readme and "make publish" in readme
    assert "gh-pages" in readme and "pages.yml" in readme
    assert not GITHUB.search(readme.replace("https://github.com/zalandoresearch/fashion-mnist", ""))
