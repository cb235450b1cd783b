"""Import paths that users, the book, the docs and older grading folders rely on."""

from __future__ import annotations

import importlib
import re

import pytest
from helpers import REPO

DOCUMENTS = [
    REPO / "README.md",
    *sorted((REPO / "book").rglob("*.md")),
    *sorted((REPO / "benchmarks").glob("*.py")),
    *sorted((REPO / "benchmarks").glob("*.md")),
]
IMPORT = re.compile(r"^\s*from (fashion_lessons(?:\.\w+)*) import \(?([\w, \n]+?)\)?$", re.M)


def documented_imports() -> list[tuple[str, str]]:
    """Every ``from fashion_lessons… import NAME`` that the book and the docs show."""
    found = set()
    for document in DOCUMENTS:
        for module, names in IMPORT.findall(document.read_text(encoding="utf-8")):
            found.update((module, name.strip()) for name in names.split(",") if name.strip())
    return sorted(found)


def test_the_docs_show_imports_of_the_package():
    modules = {module for module, _ in documented_imports()}
    assert {"fashion_lessons.data", "fashion_lessons.sandbox"} <= modules


@pytest.mark.parametrize(("module", "name"), documented_imports())
def test_every_documented_import_works(module, name):
    assert hasattr(importlib.import_module(module), name), f"from {module} import {name}"


def test_the_sandbox_names_import_from_the_package():
    from fashion_lessons.sandbox import (  # noqa: F401
        KERNEL_NAME,
        Limits,
        SandboxUnavailable,
        check_sandbox,
        install_kernelspec,
        kernel_manager,
        sandbox_command,
    )


def test_the_hardening_preprocessors_keep_their_old_import_path():
    from fashion_lessons import hardening
    from fashion_lessons.grading import hardening as moved

    for name in ("CapOutputs", "DisarmTampering", "RestoreMissingCells", "tampering_notes"):
        assert getattr(hardening, name) is getattr(moved, name)
