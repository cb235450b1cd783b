"""Small modules and short functions: no module of fashion_lessons/ over 450 lines, no
function over 60 lines of code (docstrings, comments and blank lines not counted), and
none whose whole definition, docstring included, spans more than 60 lines."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

from helpers import REPO

MAX_MODULE_LINES = 450
MAX_FUNCTION_CODE_LINES = 60


def code_lines(source: str) -> set[int]:
    """Line numbers holding code: not blank, not only a comment, not part of a docstring."""
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (
            tokenize.COMMENT,
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
            tokenize.ENDMARKER,
        ):
            lines.update(range(token.start[0], token.end[0] + 1))
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                lines -= set(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def long_functions(path: Path, limit: int = MAX_FUNCTION_CODE_LINES) -> list[str]:
    """``module:function (N lines)`` for each function with more than ``limit`` code lines."""
    source = path.read_text(encoding="utf-8")
    code = code_lines(source)
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            count = len(code & set(range(node.lineno, node.end_lineno + 1)))
            if count > limit:
                found.append(f"{path.name}:{node.name} ({count} lines)")
    return found


def long_definitions(path: Path, limit: int = MAX_FUNCTION_CODE_LINES) -> list[str]:
    """``module:function (N lines)`` for each function spanning more than ``limit`` lines,
    from its first decorator to its last line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            span = node.end_lineno - first + 1
            if span > limit:
                found.append(f"{path.name}:{node.name} ({span} lines)")
    return found


def _modules() -> list[Path]:
    return sorted((REPO / "fashion_lessons").rglob("*.py"))


def test_no_module_is_over_the_limit():
    long = {
        str(path.relative_to(REPO / "fashion_lessons")): len(path.read_text().splitlines())
        for path in _modules()
    }
    assert {name: count for name, count in long.items() if count > MAX_MODULE_LINES} == {}


def test_no_function_is_over_the_limit():
    assert [entry for path in _modules() for entry in long_functions(path)] == []


def test_no_function_definition_spans_over_the_limit():
    assert [entry for path in _modules() for entry in long_definitions(path)] == []


def test_the_function_counter_skips_docstrings_comments_and_blank_lines(tmp_path):
    body = "    x = 1\n" * 59
    source = f'def f():\n    """Doc\n\n    string."""\n    # why\n\n{body}'
    path = tmp_path / "m.py"
    path.write_text(source)
    assert long_functions(path) == []  # the def line and 59 statements
    path.write_text(source.replace("    # why\n", "    # why\n    y = 2\n"))
    assert long_functions(path) == ["m.py:f (61 lines)"]


def test_the_span_counter_counts_decorators_and_docstrings(tmp_path):
    path = tmp_path / "m.py"
    path.write_text('@decorator\ndef f():\n    """Doc."""\n' + "    x = 1\n" * 57)
    assert long_definitions(path) == []  # 60 lines
    path.write_text('@decorator\ndef f():\n    """Doc\n\n    string."""\n' + "    x = 1\n" * 57)
    assert long_definitions(path) == ["m.py:f (62 lines)"]
