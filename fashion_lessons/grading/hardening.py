"""nbgrader preprocessors that make autograding robust to broken and hostile notebooks.

- :class:`RestoreMissingCells` replaces nbgrader 0.9.6's ``OverwriteCells``, whose
  ``add_missing_cells`` crashes on duplicated cells (empty nbgrader metadata left by
  ``DeduplicateIds``) and when the cell before a missing test is missing too.
- :class:`DisarmTampering` removes, before execution, student statements that reach into
  the grader — replacing numpy, Keras or IPython functions, hooking tracebacks, subclassing
  ``ndarray`` to lie in comparisons — and records what it removed, so the rest of the
  work is graded on its merits.
- :class:`CapOutputs` bounds each output by bytes (nbgrader's ``LimitOutput`` counts only
  lines), so a huge image or line cannot bloat the autograded notebook or the feedback.

The tampering check is a static filter, a bar raised, not a proof: the sandbox protects
the machine; code that deceives its own kernel in ways this list does not know can still
pass tests, which is why the autograded notebook is kept for review.
"""

from __future__ import annotations

import ast

from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells
from nbgrader.utils import is_solution

from fashion_lessons.grading.notebooks import grade_id

REMOVED_MARK = "# [grader] removed"
# Names whose attributes a student's code has no business replacing.
_PROTECTED_ROOTS = {
    "np", "numpy", "tf", "tensorflow", "keras", "checks", "fashion_lessons", "builtins",
    "sys", "IPython", "os", "math", "unittest", "pytest", "nbgrader",
}  # fmt: skip
_FORBIDDEN_NAMES = {
    "get_ipython": "uses the IPython shell object",
    "__import__": "imports by name",
    "importlib": "imports by name",
    "setattr": "sets attributes by name",
    "delattr": "deletes attributes by name",
    "exec": "executes generated code",
    "eval": "evaluates generated code",
    "compile": "compiles generated code",
    "ctypes": "uses ctypes",
    "gc": "walks the garbage collector",
    "__builtins__": "changes the builtins",
}
# Attributes only code that hooks the shell or the interpreter touches.
_FORBIDDEN_ATTRIBUTES = {
    "excepthook": "replaces the exception hook",
    "showtraceback": "replaces traceback display",
    "ast_transformers": "transforms later cells",
    "input_transformers_post": "transforms later cells",
    "input_transformers_cleanup": "transforms later cells",
}


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _module_aliases(tree: ast.AST) -> set[str]:
    """Names the code binds to imported modules (``import numpy as np`` → ``np``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def tampering(statement: ast.stmt, modules: set[str]) -> str | None:
    """Why ``statement`` reaches into the grader, or None when it does not."""
    protected = _PROTECTED_ROOTS | modules
    for node in ast.walk(statement):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and _root_name(target) in protected:
                return f"replaces {ast.unparse(target)}"
        if isinstance(node, ast.Name) and node.id in _FORBIDDEN_NAMES:
            return _FORBIDDEN_NAMES[node.id]
        if isinstance(node, ast.Attribute) and node.attr in _FORBIDDEN_ATTRIBUTES:
            return _FORBIDDEN_ATTRIBUTES[node.attr]
        if isinstance(node, ast.alias) and node.name.split(".")[0] in _FORBIDDEN_NAMES:
            return _FORBIDDEN_NAMES[node.name.split(".")[0]]
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                if _root_name(base) in protected:
                    return f"subclasses {ast.unparse(base)}"
    return None


def disarm(source: str) -> tuple[str, list[str]]:
    """Replace tampering statements of a cell by ``pass``; return the source and reasons.

    Statements are judged one by one, top-level or nested in a function body. The new
    source starts with one ``# [grader] removed ...`` comment per statement removed, which
    the feedback shows and :func:`tampering_notes` reads back.
    Source that does not parse (IPython magics, syntax errors) is left as it is: it fails
    or runs on its own merits.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source, []
    modules = _module_aliases(tree)
    reasons: list[str] = []

    def clean(body: list[ast.stmt]) -> list[ast.stmt]:
        kept = []
        for statement in body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                statement.body = clean(statement.body) or [ast.Pass()]
                kept.append(statement)
                continue
            why = tampering(statement, modules)
            if why is None:
                kept.append(statement)
            else:
                reasons.append(f"line {statement.lineno}: {why}")
                kept.append(ast.copy_location(ast.Pass(), statement))
        return kept

    tree.body = clean(tree.body)
    if not reasons:
        return source, []
    header = "".join(f"{REMOVED_MARK} {reason}\n" for reason in reasons)
    return header + ast.unparse(tree) + "\n", reasons


def is_nbgrader_cell(cell) -> bool:
    """Whether nbgrader tracks the cell (a grade, solution, locked or task cell)."""
    return grade_id(cell) is not None


class DisarmTampering(NbGraderPreprocessor):
    """Remove statements that tamper with the grader from student-editable code cells."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or (is_nbgrader_cell(cell) and not is_solution(cell)):
            return cell, resources  # tests and locked cells come from the source, untouched
        source, reasons = disarm(cell.source)
        if reasons:
            cell.source = source
        return cell, resources


class RestoreMissingCells(OverwriteCells):
    """``OverwriteCells`` whose restoring of missing test cells survives any notebook.

    A missing grade cell goes back after the nearest cell that precedes it in the source
    notebook and is present in the submission; with none present, at the end (after the
    student's code, which the tests need). Missing task cells go at the end.
    """

    def preprocess(self, nb, resources):
        # DeduplicateIds leaves an empty nbgrader dict on each duplicate, which later
        # steps reject as an outdated schema: a duplicate is a plain cell of the student's.
        for cell in nb.cells:
            if "nbgrader" in cell.metadata and grade_id(cell) is None:
                del cell.metadata["nbgrader"]
        return super().preprocess(nb, resources)

    def _present_ids(self, nb) -> list[str | None]:
        return [grade_id(cell) for cell in nb.cells]

    def add_missing_grade_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_ids = [cell.name for cell in source_nb.source_cells]
        source_by_id = {cell.name: cell for cell in source_nb.source_cells}
        solution_ids = {cell.name for cell in source_nb.solution_cells}
        for grade_cell in sorted(source_nb.grade_cells, key=lambda c: source_ids.index(c.name)):
            present = self._present_ids(nb)
            if grade_cell.name in present:
                continue
            self.log.warning("Missing grade cell %s, adding it back", grade_cell.name)
            cell = self.missing_cell_transform(
                source_by_id[grade_cell.name],
                grade_cell.max_score,
                is_solution=grade_cell.name in solution_ids,
            )
            position = len(nb.cells)
            for earlier in reversed(source_ids[: source_ids.index(grade_cell.name)]):
                if earlier in present:
                    position = len(present) - present[::-1].index(earlier)  # after its last copy
                    break
            nb.cells.insert(position, cell)
        return nb, resources

    def add_missing_task_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_by_id = {cell.name: cell for cell in source_nb.source_cells}
        present = set(self._present_ids(nb))
        for task_cell in source_nb.task_cells:
            if task_cell.name not in present:
                cell = self.missing_cell_transform(
                    source_by_id[task_cell.name], task_cell.max_score, is_task=True
                )
                nb.cells.append(cell)
        return nb, resources


class CapOutputs(NbGraderPreprocessor):
    """Bound every output by bytes: long text is cut, big rich outputs become a note."""

    max_text_bytes = 100_000
    max_data_bytes = 1_000_000

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and len(output.text) > self.max_text_bytes:
                output.text = (
                    output.text[: self.max_text_bytes]
                    + f"\n[output cut by the grader at {self.max_text_bytes:,} characters]\n"
                )
            elif output.get("output_type") == "error":
                output.traceback = [line[:10_000] for line in output.traceback[:200]]
            data = output.get("data")
            if data is not None:
                size = sum(len(str(value)) for value in data.values())
                if size > self.max_data_bytes:
                    output.data = {
                        "text/plain": f"[an output of {size:,} bytes was removed by the grader]"
                    }
                    output.metadata = {}
        return cell, resources


def tampering_notes(notebook) -> list[str]:
    """What :class:`DisarmTampering` removed from ``notebook``, one note per statement."""
    notes = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        where = grade_id(cell) or f"cell {index + 1}"
        for line in cell.source.splitlines():
            if line.startswith(REMOVED_MARK):
                notes.append(f"{where} {line[len(REMOVED_MARK) :].strip()}")
    return notes
