"""Imports in fashion_lessons/ go one way: cli → grading → sandbox → course library →
small shared helpers, with no cycles. Function-level imports count."""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import REPO

LAYERS = {
    "cli": 4,
    "term_commands": 4,
    "grading": 3,
    "hardening": 3,  # the old import path of grading.hardening
    "sandbox": 2,
    **dict.fromkeys(
        (
            "data",
            "preprocess",
            "models",
            "training",
            "stacked",
            "experiments",
            "sweeps",
            "plots",
            "checks",
        ),
        1,
    ),
    "files": 0,
    "coordinates": 0,
    "__init__": 0,
}
"""The layer of each top-level module or subpackage of the package: higher imports lower."""


def module_names(package_dir: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package's is its ``__init__.py``)."""
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that module ``name`` imports, anywhere in its code."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    return {module for module in found if module in known and module != name}


def layer_of(module: str) -> int | None:
    """The layer of a dotted module name of the package, None when unclassified."""
    parts = module.split(".")
    return LAYERS.get(parts[1] if len(parts) > 1 else "__init__")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle found by a depth-first search, each as the modules along it."""
    cycles, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def layering_problems(package_dir: Path) -> list[str]:
    """Upward imports, import cycles and unclassified modules of the package, in words."""
    modules = module_names(package_dir)
    graph = {name: imports_of(name, path, set(modules)) for name, path in modules.items()}
    problems = [f"{name}: not in LAYERS" for name in modules if layer_of(name) is None]
    for name, targets in sorted(graph.items()):
        for target in sorted(targets):
            low, high = layer_of(name), layer_of(target)
            if low is not None and high is not None and high > low:
                problems.append(f"{name} imports {target} from a higher layer")
    problems += ["import cycle: " + " → ".join(cycle) for cycle in _cycles(graph)]
    return problems


def test_the_package_imports_one_way_without_cycles():
    assert layering_problems(REPO / "fashion_lessons") == []


def _write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / "fashion_lessons" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "fashion_lessons"


CLEAN = {
    "__init__.py": "",
    "files.py": "import os\n",
    "data.py": "from fashion_lessons.files import write_atomic\n",
    "sandbox/__init__.py": "from fashion_lessons.sandbox.bubblewrap import Limits\n",
    "sandbox/bubblewrap.py": "import fashion_lessons\nfrom fashion_lessons import data\n",
    "grading/__init__.py": "",
    "grading/types.py": "from ..sandbox import bubblewrap\n",
    "grading/pipeline.py": "from fashion_lessons.grading import types\n",
    "cli.py": "def main():\n    from fashion_lessons.grading.pipeline import grade\n",
}


def test_the_checker_accepts_a_package_that_imports_one_way(tmp_path):
    assert layering_problems(_write(tmp_path, CLEAN)) == []


def test_the_checker_catches_an_upward_import_inside_a_function(tmp_path):
    upward = {"checks.py": "def check():\n    from fashion_lessons.sandbox import Limits\n"}
    problems = layering_problems(_write(tmp_path, CLEAN | upward))
    assert problems == [
        "fashion_lessons.checks imports fashion_lessons.sandbox from a higher layer"
    ]


def test_the_checker_catches_a_relative_upward_import(tmp_path):
    upward = {"sandbox/bubblewrap.py": "from ..grading import pipeline\n"}
    problems = layering_problems(_write(tmp_path, CLEAN | upward))
    assert problems[0] == (
        "fashion_lessons.sandbox.bubblewrap imports fashion_lessons.grading.pipeline "
        "from a higher layer"
    )
    assert problems[1].startswith("import cycle: ")  # grading imports that module too


def test_the_checker_catches_a_cycle_within_a_layer(tmp_path):
    cycle = {"grading/types.py": "def f():\n    import fashion_lessons.grading.pipeline\n"}
    problems = layering_problems(_write(tmp_path, CLEAN | cycle))
    assert problems == [
        "import cycle: fashion_lessons.grading.pipeline → fashion_lessons.grading.types"
        " → fashion_lessons.grading.pipeline"
    ]


def test_the_checker_names_a_module_outside_every_layer(tmp_path):
    problems = layering_problems(_write(tmp_path, CLEAN | {"stray.py": ""}))
    assert problems == ["fashion_lessons.stray: not in LAYERS"]


def test_the_readme_layout_lists_every_module():
    """Each module of the package has its line in the README's layout (``plots/`` as one)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    package = REPO / "fashion_lessons"
    modules = {
        path.name
        for path in package.rglob("*.py")
        if path.name != "__init__.py" and path.parent != package / "plots"
    }
    assert "plots/" in readme
    assert sorted(name for name in modules if name not in readme.split()) == []
