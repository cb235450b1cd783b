"""The header every exercise starts with, filled in with the course's coordinates.

``solutions/header.ipynb`` (nbgrader's ``IncludeHeaderFooter.header``) holds placeholders:
``{{ package_requirement }}`` in the cell that installs the course where it is missing
(Colab), ``{{ notebook }}`` where the instructions name the notebook's file. The
:class:`FillHeader` preprocessor runs right after nbgrader includes the header, so the
released exercises carry the repository and version of ``_config.yml`` and
``fashion_lessons.__version__``, never a copy of them typed by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from fashion_lessons.coordinates import BOOK_CONFIG_FILE, COURSE_ROOT, read_coordinates

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def fill_placeholders(source: str, values: dict[str, str]) -> str:
    """Replace every ``{{ name }}`` of ``source`` by ``values[name]``.

    Raises
    ------
    KeyError
        For a placeholder ``values`` has no value for (a typo in the header).
    """

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"unknown placeholder {{{{ {name} }}}}; known: {sorted(values)}")
        return values[name]

    return PLACEHOLDER.sub(value, source)


class FillHeader(NbGraderPreprocessor):
    """Fill the header's placeholders with the course's coordinates and the file's name.

    Where the package runs without its repository (installed from a wheel, grading from
    a course folder elsewhere), there is no ``_config.yml`` to read: the header is left
    as it is, which changes nothing graded (header cells carry no points).
    """

    course_root = Unicode(
        "", help="folder whose _config.yml gives the repository (default: the package's clone)"
    ).tag(config=True)

    def preprocess(self, nb, resources):
        root = Path(self.course_root) if self.course_root else COURSE_ROOT
        if not (Path(root) / BOOK_CONFIG_FILE).is_file():
            self.log.warning("no %s in %s: the header is left unfilled", BOOK_CONFIG_FILE, root)
            return nb, resources
        coordinates = read_coordinates(root)
        values = {
            "package_requirement": coordinates.requirement(),
            "notebook": f"{resources['unique_key']}.ipynb",
        }
        for cell in nb.cells:
            if PLACEHOLDER.search(cell.source):
                cell.source = fill_placeholders(cell.source, values)
        return nb, resources
