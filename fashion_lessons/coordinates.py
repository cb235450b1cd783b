"""Where the course lives, written once, and every address derived from it.

The repository's URL and branch are set in one place, the ``repository:`` section of
``_config.yml`` (a fork changes that section); the version in one place,
``fashion_lessons.__version__``. The site's buttons, the clone command on the welcome
page, the Colab links and the install line of every notebook are derived here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fashion_lessons import __version__

COURSE_ROOT = Path(__file__).resolve().parent.parent
"""The course folder (a clone of the repository), where ``_config.yml`` lives."""

BOOK_CONFIG_FILE = "_config.yml"
DISTRIBUTION = "fashion-lessons"
COLAB = "https://colab.research.google.com"


class CoordinatesError(ValueError):
    """``_config.yml`` does not say where the course's repository is."""


@dataclasses.dataclass(frozen=True)
class Coordinates:
    """The course's repository and version.

    Attributes
    ----------
    repository_url : str
        ``https://github.com/OWNER/NAME``, without a trailing slash or ``.git``.
    branch : str
        The branch the exercises and the sources are read from.
    version : str
        The course package's version; its release is the git tag ``v<version>``.
    """

    repository_url: str
    branch: str
    version: str = __version__

    @property
    def owner_and_name(self) -> str:
        """``OWNER/NAME`` of the GitHub repository."""
        return self.repository_url.removeprefix("https://github.com/")

    @property
    def folder(self) -> str:
        """The folder ``git clone`` creates."""
        return self.repository_url.rsplit("/", 1)[-1]

    @property
    def clone_command(self) -> str:
        return f"git clone {self.repository_url}.git"

    @property
    def release_tag(self) -> str:
        return f"v{self.version}"

    def requirement(self, extras: str = "") -> str:
        """The pip requirement of this version of the course, from its release tag.

        Parameters
        ----------
        extras : str, optional
            e.g. ``"book"`` for what the lessons need besides the package.
        """
        name = f"{DISTRIBUTION}[{extras}]" if extras else DISTRIBUTION
        return f"{name} @ git+{self.repository_url}@{self.release_tag}"

    def colab_url(self, path: str, branch: str | None = None) -> str:
        """The Colab address of the notebook ``path`` in the repository (default branch)."""
        return f"{COLAB}/github/{self.owner_and_name}/blob/{branch or self.branch}/{path}"


def read_coordinates(root: Path = COURSE_ROOT) -> Coordinates:
    """Read the repository's URL and branch from ``root/_config.yml``.

    Raises
    ------
    CoordinatesError
        When the file or its ``repository.url`` / ``repository.branch`` is missing, or the
        URL is not a GitHub repository's (Colab opens notebooks from GitHub only).
    """
    import yaml

    path = Path(root) / BOOK_CONFIG_FILE
    if not path.is_file():
        raise CoordinatesError(f"{path}: missing; the course's coordinates are set there")
    repository = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("repository") or {}
    url = str(repository.get("url") or "").rstrip("/").removesuffix(".git")
    branch = str(repository.get("branch") or "")
    parts = url.removeprefix("https://github.com/").split("/")
    if not url.startswith("https://github.com/") or len(parts) != 2 or not all(parts):
        raise CoordinatesError(
            f"{path}: repository.url is {url!r}; expected https://github.com/OWNER/NAME"
        )
    if not branch:
        raise CoordinatesError(f"{path}: repository.branch is missing (e.g. main)")
    return Coordinates(url, branch)
