"""What a grading run's zygotes preload: the modules its assignments' notebooks import."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from fashion_lessons.grading.notebooks import read_notebook
from fashion_lessons.grading.workspace import GradingCourse
from fashion_lessons.sandbox.zygote_server import PRELOAD


def imported_modules(source: str) -> set[str]:
    """The absolute module names a code cell imports.

    ``from m import n`` gives both ``m`` and ``m.n`` (``n`` may be a submodule). IPython
    syntax (magics, ``!`` commands) is translated first; a cell that still does not parse
    imports nothing.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def preloads_imported_by(notebooks: Iterable[Path]) -> tuple[str, ...]:
    """The zygote preloads (:data:`PRELOAD`, in its order) that ``notebooks`` import.

    A preload counts when a notebook imports it or something inside it
    (``keras.layers`` counts for ``keras``); what the preloads import comes along.
    """
    names: set[str] = set()
    for path in notebooks:
        for cell in read_notebook(path).cells:
            if cell.cell_type == "code":
                names |= imported_modules(cell.source)
    return tuple(
        module
        for module in PRELOAD
        if any(name == module or name.startswith(module + ".") for name in names)
    )


def kernel_preloads(course: GradingCourse, assignments: Iterable[str]) -> tuple[str, ...]:
    """The zygote preloads the reference notebooks of ``assignments`` import."""
    return preloads_imported_by(
        course.out / "solutions" / assignment / f"{notebook}.ipynb"
        for assignment in sorted(set(assignments))
        for notebook in course.notebooks.get(assignment, ())
    )
