"""Hostile and broken submissions, graded through ``fashion-lessons grade`` (issue 5, item 3).

One grading run holds every case as a separate student (grading is the slow part): broken
files, tampered tests and metadata, runaway code, crashing kernels, faked test results,
and code that reaches out of its kernel (reading solutions and the gradebook, a loopback
server, writing into another student's folder, the repository, the host's /tmp and home).
Next to them: an honest reference student, an honest student with a plausible wrong
answer, and a victim whose notebook another student tries to overwrite.

Expected scores are never typed in: full marks come from the solution notebook's nbgrader
metadata, and the wrong answer's score from a second run that grades the two honest
students alone. Each case says what it expects and why (``Case.why``).

Real nbgrader, real kernels, nothing mocked; no network beyond a server on 127.0.0.1 that
the test runs itself.
"""

from __future__ import annotations

import csv
import dataclasses
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import hostile
import pytest
from helpers import REPO

from fashion_lessons.sandbox.processes import kill_tree

pytestmark = pytest.mark.slow

ASSIGNMENT = "02-scale-pixels"  # no TensorFlow import: seconds per notebook
NOTEBOOK = "scale_pixels"
FUNCTION = "scale_pixels"
# A plausible mistake: dividing by 256 instead of 255. Its score is measured, not typed in.
WRONG_BODY = "return np.asarray(images, dtype=np.float32) / np.float32(256)"

# Grading options, passed where `fashion-lessons grade --help` lists them.
TIMEOUT = 20  # --timeout: seconds a cell may run (an honest cell here takes 1-5 s, loaded)
WALL_CLOCK = 120  # --wall-clock: seconds one submission may take in all
MEMORY_CAP_GIB = 4  # --memory-gib: memory cap of each kernel
WORKERS = 2  # --workers
RUN_BOUND = 480  # seconds the whole hostile grading run may take (a shared, loaded machine)
FEEDBACK_LIMIT = 5 * 2**20  # bytes: a sane feedback file
PRINT_FLOOD_LINES = 3_000_000
LONG_LINE_MIB = 30
HUGE_IMAGE_MIB = 50


def _memory_bomb_bytes() -> int:
    """1 GiB above the kernels' memory cap (only 1 GiB of it written: the machine is shared)."""
    return (MEMORY_CAP_GIB + 1) * 2**30


# --- the cases -----------------------------------------------------------------------------

MAX, WRONG, ZERO = "max", "wrong", "zero"
VICTIM = "zy-victim"
HONEST_REFERENCE = "zy-honest-reference"
HONEST_WRONG = "zy-honest-wrong"
# Sorted last, so that nobody else is graded after it writes to the gradebook.
TAMPERER = "zz-tamper-gradebook"


@dataclasses.dataclass(frozen=True)
class Context:
    """What the builders need: the three base notebooks and the run's paths."""

    stub: object
    reference: object
    wrong: object
    answer_source: str
    out: Path
    port: int
    markers: tuple[Path, ...]


@dataclasses.dataclass(frozen=True)
class Case:
    """One student of the hostile run.

    Attributes
    ----------
    student : str
    expect : {"max", "wrong", "zero"}
        Full marks, the honest wrong answer's score, or nothing.
    why : str
        Why that is the score the student's real work deserves.
    build : callable
        Context -> {file name: text} for ``SUBMISSIONS/<student>/<ASSIGNMENT>/``.
    reason : bool
        Whether grades.csv must give a reason (something went wrong).
    gradable : bool
        Whether the submission is a valid notebook of the right name, so feedback is due.
    """

    student: str
    expect: str
    why: str
    build: Callable[[Context], dict[str, str]]
    reason: bool = False
    gradable: bool = True


def _one(notebook) -> dict[str, str]:
    return {f"{NOTEBOOK}.ipynb": hostile.notebook_text(notebook)}


def _write_elsewhere(ctx: Context):
    victim_notebook = ctx.out / "submitted" / VICTIM / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    return hostile.write_elsewhere(
        ctx.reference,
        targets=list(ctx.markers),
        sabotage=[victim_notebook],
        sabotage_text=hostile.notebook_text(ctx.stub),
    )


CASES = [
    Case(
        "h-stub",
        ZERO,
        "the released exercise, untouched: no answer",
        lambda c: _one(c.stub),
    ),
    Case(
        "h-tests-weakened",
        WRONG,
        "wrong answer, tests turned into `assert True`: locked test cells are restored "
        "from the gradebook, so the wrong answer is tested as usual",
        lambda c: _one(hostile.weaken_tests(c.wrong)),
    ),
    Case(
        "h-tests-replaced",
        ZERO,
        "stub answer, each test cell replaced by a working answer: test cells are restored, "
        "the answer cell still raises NotImplementedError",
        lambda c: _one(hostile.replace_tests(c.stub, c.answer_source + "\nassert True")),
    ),
    Case(
        "h-tests-deleted",
        WRONG,
        "wrong answer, test cells deleted: they are added back (add_missing_cells)",
        lambda c: _one(hostile.delete_tests(c.wrong)),
    ),
    Case(
        "h-cells-duplicated",
        WRONG,
        "wrong answer, every cell twice: each test counts once",
        lambda c: _one(hostile.duplicate_cells(c.wrong)),
    ),
    Case(
        "h-points-raised",
        WRONG,
        "wrong answer, test points x100 in the metadata: points come from the gradebook",
        lambda c: _one(hostile.raise_points(c.wrong)),
    ),
    Case(
        "h-tests-markdown",
        WRONG,
        "wrong answer, test cells turned into markdown: the cell type is restored and the "
        "tests run",
        lambda c: _one(hostile.tests_to_markdown(c.wrong)),
    ),
    Case(
        "h-metadata-stripped",
        WRONG,
        "wrong answer, tests weakened, then all nbgrader metadata removed (as pasting the "
        "cells into a new notebook does): the weakened cells are no tests any more, the real "
        "tests must be run against the student's functions; losing the metadata must "
        "neither help nor cost points",
        lambda c: _one(hostile.strip_nbgrader_metadata(hostile.weaken_tests(c.wrong))),
    ),
    Case(
        "h-truncated-json",
        ZERO,
        "the reference notebook cut in half: not a notebook, nothing can run",
        lambda c: {f"{NOTEBOOK}.ipynb": hostile.truncated_json(c.reference)},
        reason=True,
        gradable=False,
    ),
    Case(
        "h-empty-file",
        ZERO,
        "an empty file in place of the notebook",
        lambda c: {f"{NOTEBOOK}.ipynb": ""},
        reason=True,
        gradable=False,
    ),
    Case(
        "h-missing-notebook",
        ZERO,
        "an empty assignment folder",
        lambda c: {},
        reason=True,
        gradable=False,
    ),
    Case(
        "h-extra-notebook",
        MAX,
        "the reference notebook plus a stray copy of the stub: the stray one is ignored, "
        "the right one earns full marks",
        lambda c: {**_one(c.reference), f"{NOTEBOOK}-Copy1.ipynb": hostile.notebook_text(c.stub)},
    ),
    Case(
        "h-infinite-loop",
        MAX,
        "reference answer, then a loop that never ends in the same cell: the loop is cut "
        "(interrupted), the functions were already defined, so every test passes",
        lambda c: _one(hostile.add_infinite_loop(c.reference)),
        reason=True,
    ),
    Case(
        "h-uninterruptible-loop",
        ZERO,
        "reference answer, then a loop that ignores SIGINT: the kernel never becomes free "
        "again, no test can run in it (a restarted kernel would lack the functions)",
        lambda c: _one(hostile.add_infinite_loop(c.reference, interruptible=False)),
        reason=True,
    ),
    Case(
        "h-print-flood",
        MAX,
        f"reference answer, then {PRINT_FLOOD_LINES:,} printed lines: output is noise, the "
        "answer is right",
        lambda c: _one(hostile.add_print_flood(c.reference, PRINT_FLOOD_LINES)),
    ),
    Case(
        "h-long-line",
        MAX,
        f"reference answer, then one {LONG_LINE_MIB} MiB line on stdout (a line limit does "
        "not cut it)",
        lambda c: _one(hostile.add_long_line(c.reference, LONG_LINE_MIB)),
    ),
    Case(
        "h-huge-image",
        MAX,
        f"reference answer, then a {HUGE_IMAGE_MIB} MiB PNG displayed",
        lambda c: _one(hostile.add_huge_image(c.reference, HUGE_IMAGE_MIB)),
    ),
    Case(
        "h-memory-bomb",
        ZERO,
        "fills more memory than a grading kernel may use before defining the (reference) "
        "functions: the memory cap stops the cell there, so nothing is defined",
        lambda c: _one(hostile.add_memory_bomb(c.reference, _memory_bomb_bytes())),
    ),
    Case(
        "h-os-exit",
        ZERO,
        "reference answer, then os._exit(1): the kernel is gone, no test can run in it (a "
        "restarted kernel would lack the functions)",
        lambda c: _one(hostile.add_os_exit(c.reference)),
        reason=True,
    ),
    Case(
        "h-sys-exit",
        WRONG,
        "wrong answer, then sys.exit(): in IPython that is an exception in the answer cell, "
        "the tests still run",
        lambda c: _one(hostile.add_sys_exit(c.wrong)),
    ),
    Case(
        "h-hide-tracebacks",
        WRONG,
        "wrong answer; IPython's showtraceback and sys.excepthook replaced by no-ops so "
        "failing tests show no error: they must still fail",
        lambda c: _one(hostile.hide_tracebacks(c.wrong)),
        reason=True,
    ),
    Case(
        "h-swallow-exceptions",
        WRONG,
        "wrong answer; an IPython AST transformer wraps every later cell (the tests) in "
        "try/except: failing tests must still fail",
        lambda c: _one(hostile.swallow_exceptions(c.wrong)),
        reason=True,
    ),
    Case(
        "h-patch-numpy",
        WRONG,
        "wrong answer; np.allclose, np.array_equal, np.isclose and np.testing's asserts "
        "patched to always agree: the wrong values must still fail",
        lambda c: _one(hostile.patch_numpy(c.wrong)),
        reason=True,
    ),
    Case(
        "h-fake-arrays",
        ZERO,
        "wrong answer returned as an ndarray subclass whose min/max and comparisons lie: "
        "the grader removes the lying class, so the function that returns it earns nothing",
        lambda c: _one(hostile.fake_arrays(c.wrong, FUNCTION)),
        reason=True,
    ),
    Case(
        "h-read-solutions",
        ZERO,
        "stub answer; reads solutions/ (output copy, repository, relative paths) and the "
        "gradebook and executes any solution found: the kernel cannot read them",
        lambda c: _one(hostile.read_solutions(c.stub, c.out, REPO, ASSIGNMENT, NOTEBOOK)),
    ),
    Case(
        "h-loopback",
        ZERO,
        "stub answer; fetches a working answer from a server on 127.0.0.1: no network in the "
        "kernel",
        lambda c: _one(hostile.connect_loopback(c.stub, c.port)),
    ),
    Case(
        "h-write-elsewhere",
        MAX,
        f"reference answer; writes into {VICTIM}'s folders (replacing their notebook by the "
        "stub), the repository, the host's /tmp and home: the writes fail, the own answer "
        "is right",
        lambda c: _one(_write_elsewhere(c)),
    ),
    Case(
        VICTIM,
        MAX,
        "the reference notebook, which h-write-elsewhere tries to overwrite with the stub",
        lambda c: _one(c.reference),
    ),
    Case(
        HONEST_REFERENCE,
        MAX,
        "the reference notebook",
        lambda c: _one(c.reference),
    ),
    Case(
        HONEST_WRONG,
        WRONG,
        "a plausible wrong answer (divides by 256)",
        lambda c: _one(c.wrong),
    ),
    Case(
        TAMPERER,
        ZERO,
        "stub answer; sets its own manual scores to the maximum in the gradebook while its "
        "notebook runs: the kernel cannot reach the gradebook",
        lambda c: _one(hostile.tamper_gradebook(c.stub, c.out, TAMPERER)),
    ),
]
CASE_IDS = [case.student for case in CASES]
BY_STUDENT = {case.student: case for case in CASES}


# --- running the grader ------------------------------------------------------------------


class LoopbackServer:
    """A TCP server on 127.0.0.1 that records every connection and serves ``payload``."""

    def __init__(self, payload: bytes):
        self.payload = payload
        self.connections: list[tuple[str, bytes]] = []
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, peer = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    first = conn.recv(1024)
                    conn.sendall(self.payload)
                except OSError:
                    first = b"?"
                self.connections.append((f"{peer[0]}:{peer[1]}", first))

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()


def _fashion_lessons() -> str:
    script = Path(sys.executable).parent / "fashion-lessons"
    return str(script) if script.exists() else "fashion-lessons"


def grade_options() -> list[str]:
    """Options for ``grade``: ``--workers 2`` and ``--timeout`` where the CLI has them."""
    result = subprocess.run(
        [_fashion_lessons(), "grade", "--help"], capture_output=True, text=True, timeout=60
    )
    wanted = {
        "--workers": WORKERS,
        "--timeout": TIMEOUT,
        "--wall-clock": WALL_CLOCK,
        "--memory-gib": MEMORY_CAP_GIB,
    }
    options = []
    for option, value in wanted.items():
        if option in result.stdout:
            options += [option, str(value)]
    return options


@dataclasses.dataclass
class Run:
    """A finished (or killed) ``fashion-lessons grade`` run."""

    out: Path
    returncode: int | None
    seconds: float
    log: str
    rows: dict[tuple[str, str], dict[str, str]]
    options: list[str]

    def row(self, student: str, assignment: str = ASSIGNMENT) -> dict[str, str]:
        key = (student, assignment)
        assert key in self.rows, f"no row for {key} in grades.csv\n{self.tail()}"
        return self.rows[key]

    def score(self, student: str) -> float:
        return float(self.row(student)["score"])

    def tail(self, lines: int = 40) -> str:
        return "grading log (end):\n" + "\n".join(self.log.splitlines()[-lines:])

    def outputs(self, student: str) -> str:
        """The printed output of a student's autograded notebook (for messages)."""
        path = self.out / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        if not path.exists():
            return "(no autograded notebook)"
        notebook = hostile.read_notebook(path)
        texts = []
        for cell in notebook.cells:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    texts.append(output.get("text", "")[:2000])
                elif output.get("output_type") == "error":
                    texts.append(f"{output.get('ename')}: {output.get('evalue')}"[:500])
        return "\n".join(texts)


@dataclasses.dataclass
class Pending:
    """A started ``fashion-lessons grade`` run."""

    process: subprocess.Popen
    out: Path
    log: Path
    options: list[str]
    started: float


def start_grade(submissions: Path, out: Path, log: Path) -> Pending:
    """Start ``fashion-lessons grade`` in its own session, output to ``log``."""
    options = grade_options()
    command = [_fashion_lessons(), "grade", str(submissions), "--out", str(out), *options]
    with log.open("w") as stream:
        process = subprocess.Popen(
            command,
            stdout=stream,
            stderr=subprocess.STDOUT,
            cwd=log.parent,
            start_new_session=True,
        )
    return Pending(process, out, log, options, time.monotonic())


def finish_grade(pending: Pending) -> Run:
    """Wait for a run (killing it and its workers RUN_BOUND s after its start); read grades.csv."""
    remaining = max(1.0, RUN_BOUND - (time.monotonic() - pending.started))
    try:
        returncode = pending.process.wait(timeout=remaining)
    except subprocess.TimeoutExpired:
        kill_tree(pending.process.pid)
        returncode = None
    seconds = time.monotonic() - pending.started
    rows = {}
    grades = pending.out / "grades.csv"
    if grades.exists():
        with grades.open(newline="", encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                rows[(row["student_id"], row["assignment"])] = row
    text = pending.log.read_text(encoding="utf-8", errors="replace")
    return Run(pending.out, returncode, seconds, text, rows, pending.options)


def _notebooks(assignment: str):
    exercise = REPO / "exercises" / assignment / f"{NOTEBOOK}.ipynb"
    solution = REPO / "solutions" / assignment / f"{NOTEBOOK}.ipynb"
    return hostile.read_notebook(exercise), hostile.read_notebook(solution)


def _write_submission(root: Path, student: str, files: dict[str, str]) -> None:
    folder = root / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


@dataclasses.dataclass
class HostileRun:
    run: Run
    context: Context
    connections: list
    leaked: dict[Path, bool]


@pytest.fixture(scope="session")
def base_notebooks():
    """(stub, reference, wrong) notebooks of ASSIGNMENT, and the reference answer's source."""
    stub, solution = _notebooks(ASSIGNMENT)
    reference = hostile.reference_submission(stub, solution)
    wrong = hostile.with_answer_body(stub, WRONG_BODY)
    answer = "\n\n".join(c.source for c in reference.cells if hostile.is_answer_cell(c))
    return stub, reference, wrong, answer


@pytest.fixture(scope="session")
def full_marks() -> float:
    """ASSIGNMENT's points, from the solution notebook's nbgrader metadata."""
    return hostile.max_points(_notebooks(ASSIGNMENT)[1])


@pytest.fixture(scope="session")
def grading_runs(tmp_path_factory, base_notebooks) -> tuple[HostileRun, Run]:
    """Two concurrent grading runs: every case as one student, and the honest students alone.

    Leaked marker files outside the output folder are removed as soon as the run ends.
    """
    stub, reference, wrong, answer = base_notebooks
    alone_root = tmp_path_factory.mktemp("alone")
    _write_submission(alone_root / "submissions", HONEST_REFERENCE, _one(reference))
    _write_submission(alone_root / "submissions", HONEST_WRONG, _one(wrong))
    root = tmp_path_factory.mktemp("hostile")
    submissions, out = root / "submissions", root / "out"
    token = uuid.uuid4().hex[:12]
    markers = (
        out / "submitted" / VICTIM / f"hostile-{token}.txt",
        out / "autograded" / VICTIM / f"hostile-{token}.txt",
        REPO / f".hostile-{token}.txt",
        Path("/tmp") / f"fashion-lessons-hostile-{token}.txt",
        Path.home() / f".fashion-lessons-hostile-{token}.txt",
    )
    server = LoopbackServer(answer.encode())
    try:
        context = Context(stub, reference, wrong, answer, out, server.port, markers)
        for case in CASES:
            _write_submission(submissions, case.student, case.build(context))
        alone = start_grade(alone_root / "submissions", alone_root / "out", alone_root / "log")
        pending = start_grade(submissions, out, root / "grade.log")
        alone_run, run = finish_grade(alone), finish_grade(pending)
    finally:
        server.close()
    leaked = {}
    for marker in markers[2:]:  # outside the output folder: remove at once
        leaked[marker] = marker.exists()
        marker.unlink(missing_ok=True)
    for marker in markers[:2]:
        leaked[marker] = marker.exists()
    return HostileRun(run, context, server.connections, leaked), alone_run


@pytest.fixture(scope="session")
def hostile_run(grading_runs) -> HostileRun:
    """The run with every case."""
    return grading_runs[0]


@pytest.fixture(scope="session")
def alone_run(grading_runs) -> Run:
    """The two honest students graded on their own."""
    return grading_runs[1]


def _expected(case: Case, full: float, alone: Run) -> float:
    return {MAX: full, ZERO: 0.0, WRONG: alone.score(HONEST_WRONG)}[case.expect]


# --- the tests ---------------------------------------------------------------------------


def test_run_finishes_in_time(hostile_run):
    run = hostile_run.run
    assert run.returncode == 0, (
        f"grade ended with {run.returncode} after {run.seconds:.0f} s "
        f"(None: killed at {RUN_BOUND} s)\n{run.tail()}"
    )
    assert run.seconds < RUN_BOUND


def test_every_student_has_a_row_for_every_assignment(hostile_run):
    run = hostile_run.run
    assignments = sorted(
        p.name for p in (REPO / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb"))
    )
    expected = {(s, a) for s in CASE_IDS for a in assignments}
    assert set(run.rows) == expected, run.tail()
    for (student, assignment), row in run.rows.items():
        full = sum(
            hostile.max_points(hostile.read_notebook(p))
            for p in (REPO / "solutions" / assignment).glob("*.ipynb")
        )
        assert float(row["max_score"]) == full, (student, assignment, row)
        if assignment != ASSIGNMENT:
            assert float(row["score"]) == 0 and row["reason"], (student, assignment, row)


def test_honest_students_score_as_when_graded_alone(hostile_run, alone_run, full_marks):
    assert alone_run.returncode == 0, alone_run.tail()
    alone_wrong = alone_run.score(HONEST_WRONG)
    assert alone_run.score(HONEST_REFERENCE) == full_marks
    assert 0 < alone_wrong < full_marks, "the wrong answer should earn some points, not all"
    run = hostile_run.run
    assert run.score(HONEST_REFERENCE) == full_marks, run.row(HONEST_REFERENCE)
    assert run.score(HONEST_WRONG) == alone_wrong, run.row(HONEST_WRONG)


@pytest.mark.parametrize("student", CASE_IDS)
def test_score(student, hostile_run, alone_run, full_marks):
    case, run = BY_STUDENT[student], hostile_run.run
    expected = _expected(case, full_marks, alone_run)
    row = run.row(student)
    assert float(row["max_score"]) == full_marks, row
    assert float(row["score"]) == expected, (
        f"{student}: score {row['score']}, expected {expected:g} ({case.expect}: {case.why}); "
        f"reason: {row['reason']!r}\noutputs:\n{run.outputs(student)[:3000]}"
    )


@pytest.mark.parametrize("student", [c.student for c in CASES if c.reason])
def test_reason_is_recorded(student, hostile_run):
    row = hostile_run.run.row(student)
    assert row["reason"].strip(), f"{student}: no reason in grades.csv ({BY_STUDENT[student].why})"


@pytest.mark.parametrize("student", [c.student for c in CASES if c.gradable])
def test_feedback_exists_and_is_small(student, hostile_run):
    run = hostile_run.run
    path = run.out / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html"
    assert path.is_file(), f"no feedback for {student}; reason: {run.row(student)['reason']!r}"
    size = path.stat().st_size
    assert size < FEEDBACK_LIMIT, f"{student}: feedback is {size / 2**20:.1f} MiB"


def test_no_feedback_file_is_huge(hostile_run):
    feedback = hostile_run.run.out / "feedback"
    sizes = {p: p.stat().st_size for p in feedback.rglob("*") if p.is_file()}
    big = {str(p.relative_to(feedback)): f"{s / 2**20:.1f} MiB" for p, s in sizes.items()}
    big = {p: s for p, s in big.items() if sizes[feedback / p] >= FEEDBACK_LIMIT}
    assert not big, big


def test_extra_notebook_is_ignored(hostile_run):
    run = hostile_run.run
    stray = f"{NOTEBOOK}-Copy1"
    graded = list((run.out / "autograded").rglob(f"{stray}.*")) + list(
        (run.out / "feedback").rglob(f"{stray}.*")
    )
    assert not graded, graded


def test_loopback_server_saw_no_connection(hostile_run):
    assert hostile_run.connections == [], hostile_run.run.outputs("h-loopback")


def test_nothing_written_outside_the_allowed_places(hostile_run):
    leaked = [str(path) for path, existed in hostile_run.leaked.items() if existed]
    assert not leaked, (
        f"h-write-elsewhere wrote {leaked}\n{hostile_run.run.outputs('h-write-elsewhere')}"
    )


def test_solutions_and_gradebook_cannot_be_read(hostile_run):
    outputs = hostile_run.run.outputs("h-read-solutions")
    read = [line for line in outputs.splitlines() if line.startswith(("READ", "USED"))]
    assert not read, outputs


def test_gradebook_holds_only_the_graders_scores(hostile_run):
    gradebook = hostile_run.run.out / "gradebook.db"
    with sqlite3.connect(f"file:{gradebook}?mode=ro", uri=True) as db:
        manual = db.execute(
            "SELECT submitted_assignment.student_id, base_cell.name, grade.manual_score "
            "FROM grade JOIN base_cell ON grade.cell_id = base_cell.id "
            "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment "
            "ON submitted_notebook.assignment_id = submitted_assignment.id "
            "WHERE grade.manual_score IS NOT NULL"
        ).fetchall()
    assert manual == [], (manual, hostile_run.run.outputs(TAMPERER))
