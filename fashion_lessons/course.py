"""The graded course on top of nbgrader: release exercises, check a notebook, grade a class.

- :func:`release` regenerates ``exercises/`` from ``solutions/`` (nbgrader's
  ``generate_assignment``), byte-identically on a rerun.
- :func:`check_notebook` runs one notebook in a fresh kernel (nbgrader's validation
  preprocessors plus ``IgnorePattern``) and reports every test with its points; it is what
  ``fashion-lessons check`` prints for students.
- :func:`grade` builds a fresh gradebook from ``solutions/`` in an output folder, collects a
  folder of submissions, autogrades each one (:func:`autograde_submission`), writes
  feedback, ``grades.csv``, a summary table and a score histogram.

nbgrader's configuration comes from ``nbgrader_config.py`` at the course root; the kernel
and the per-cell timeout can be overridden per run through :class:`GradingOptions`.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parent.parent
"""The course folder: ``nbgrader_config.py``, ``solutions/`` and ``exercises/`` live here."""

CONFIG_FILE = "nbgrader_config.py"
GRADES_FILE = "grades.csv"
SUMMARY_FILE = "summary.txt"
HISTOGRAM_FILE = "scores.png"
GRADES_COLUMNS = ("student_id", "assignment", "score", "max_score", "reason")
_MARKER = ".fashion-lessons-grading"
# What `grade` creates in its output folder, and may therefore replace on a rerun.
_OUTPUT_ENTRIES = (
    "gradebook.db",
    "solutions",
    "exercises",
    "submitted",
    "autograded",
    "feedback",
    GRADES_FILE,
    SUMMARY_FILE,
    HISTOGRAM_FILE,
)


class CourseError(Exception):
    """The course, a notebook or a folder is not what the pipeline expects; says what to do."""


@dataclasses.dataclass(frozen=True)
class GradingOptions:
    """How notebooks are executed when checking and grading.

    Attributes
    ----------
    kernel_name : str, optional
        The Jupyter kernel every notebook runs in; defaults to ``Execute.kernel_name`` of
        ``nbgrader_config.py`` ("python3", the Python running this code). Point it at another
        kernelspec (e.g. a sandboxed one) to change how students' code runs.
    timeout : int, optional
        Seconds a single cell may run; defaults to ``Execute.timeout`` of the config.
    """

    kernel_name: str | None = None
    timeout: int | None = None


# --- configuration -----------------------------------------------------------------


# What running a notebook needs when there is no course folder, e.g. `fashion-lessons check`
# in the course's Docker image, where only the package and the exercises are installed.
# The same values are in nbgrader_config.py (a test keeps the two equal).
KERNEL_NAME = "python3"
CELL_TIMEOUT = 120
STDERR_NOISE_PATTERN = (
    r"(?m)^("
    r"WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"
    r"|To enable the following instructions:"
    r"|WARNING:(tensorflow|absl):"
    r"|\S+\.py:\d+: \w*Warning: "
    r")"
)


def default_config():
    """The execution settings of ``nbgrader_config.py``, for use without a course folder."""
    from traitlets.config import Config

    config = Config()
    config.Execute.kernel_name = KERNEL_NAME
    config.Execute.timeout = CELL_TIMEOUT
    config.IgnorePattern.enabled = True
    config.IgnorePattern.pattern = STDERR_NOISE_PATTERN
    return config


def load_config(
    root: Path = COURSE_ROOT, options: GradingOptions | None = None, required: bool = True
):
    """Read ``nbgrader_config.py`` from ``root`` and apply ``options``.

    Parameters
    ----------
    root : Path
        The course folder.
    options : GradingOptions, optional
    required : bool, default True
        Whether a missing config file is an error; otherwise :func:`default_config` is used.

    Returns
    -------
    traitlets.config.Config
        With ``CourseDirectory.root`` set to ``root``.
    """
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    if (root / CONFIG_FILE).is_file():
        config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    elif required:
        raise CourseError(f"{root / CONFIG_FILE}: missing; expected the course's nbgrader config")
    else:
        config = default_config()
    overrides = Config()
    overrides.CourseDirectory.root = str(root)
    if options is not None and options.kernel_name:
        overrides.Execute.kernel_name = options.kernel_name
    if options is not None and options.timeout:
        overrides.Execute.timeout = options.timeout
    config.merge(overrides)
    return config


def assignment_ids(root: Path = COURSE_ROOT) -> list[str]:
    """The assignments: the folders of ``solutions/`` that hold a notebook, sorted."""
    source = Path(root) / "solutions"
    found = sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))
    if not found:
        raise CourseError(f"{source}: no assignment folders with notebooks found")
    return found


@contextlib.contextmanager
def _nbgrader_environment() -> Iterator[None]:
    """Make nbgrader's helper commands (``alembic``) of this environment findable."""
    bin_dir = str(Path(sys.executable).parent)
    old = os.environ.get("PATH", "")
    if bin_dir not in old.split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + old
    try:
        yield
    finally:
        os.environ["PATH"] = old


@contextlib.contextmanager
def _kernel_stderr_discarded() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null while kernels run, then restore it.

    A kernel inherits it, and TensorFlow writes its C++ log lines straight to it besides
    sending them to the notebook; the terminal of `fashion-lessons check` needs neither.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _quiet_logger(name: str) -> logging.Logger:
    """A logger that nbgrader's apps write to; captured, never printed."""
    logger = logging.getLogger(f"fashion_lessons.nbgrader.{name}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def _run(app) -> tuple[bool, str]:
    """Start an nbgrader converter; return whether it succeeded and its log."""
    from nbgrader.utils import capture_log

    result = capture_log(app)
    return bool(result["success"]), result.get("log", "") + result.get("error", "")


def _last_error(log: str) -> str:
    """The most telling line of an nbgrader error log, for a one-line reason."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    if any("DeadKernelError" in line for line in lines):
        return "the kernel died (the notebook crashed Python or ran out of memory)"
    for line in reversed(lines):
        # nbgrader's own closing exception only says "see the above traceback"
        if "NbGraderException" in line:
            continue
        if re.match(r"^[\w.]*(Error|Exception|Interrupt)\b:?", line):
            return line[:300]
    errors = [line for line in lines if line.startswith("[ERROR]")]
    return (errors[0] if errors else (lines[-1] if lines else "unknown error"))[:300]


def write_notebook_normalized(notebook, path: Path) -> None:
    """Write a notebook as normalized JSON (sorted keys, indent 1, final newline)."""
    import nbformat

    path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")


# --- release ------------------------------------------------------------------------


def generate_exercises(root: Path, target: Path) -> list[Path]:
    """Generate every exercise from ``root/solutions`` into the folder ``target``.

    nbgrader runs in a scratch copy of the course (no gradebook is written). Each notebook
    is re-serialized as normalized JSON, so the result depends only on ``solutions/``.

    Returns
    -------
    list of Path
        The notebooks written, relative to ``target``.
    """
    import nbformat
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    root = Path(root).resolve()
    target = Path(target)
    written = []
    with tempfile.TemporaryDirectory(prefix="fashion-lessons-release-") as scratch:
        scratch = Path(scratch)
        shutil.copytree(root / "solutions", scratch / "solutions")
        shutil.copy(root / CONFIG_FILE, scratch / CONFIG_FILE)
        config = load_config(scratch)
        # nbgrader records the cells in a gradebook even here: a throwaway one.
        config.CourseDirectory.db_url = f"sqlite:///{scratch / 'gradebook.db'}"
        released = Path(config.CourseDirectory.release_directory)
        for assignment in assignment_ids(scratch):
            coursedir = CourseDirectory(config=config)
            coursedir.assignment_id = assignment
            app = GenerateAssignment(coursedir=coursedir, config=config, log=_quiet_logger("r"))
            app.force = True
            with _nbgrader_environment():
                ok, log = _run(app)
            if not ok:
                raise CourseError(f"generating {assignment} failed: {_last_error(log)}\n{log}")
        for notebook_path in sorted((scratch / released).rglob("*.ipynb")):
            relative = notebook_path.relative_to(scratch / released)
            notebook = nbformat.read(notebook_path, as_version=nbformat.NO_CONVERT)
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            write_notebook_normalized(notebook, destination)
            written.append(relative)
    return written


def release(root: Path = COURSE_ROOT) -> list[Path]:
    """Regenerate ``exercises/`` from ``solutions/``, replacing it as a whole.

    The new exercises are generated next to the old ones and swapped in only when every
    assignment succeeded, so a failure leaves the old ``exercises/`` untouched.

    Returns
    -------
    list of Path
        The exercise notebooks, relative to the course root.
    """
    root = Path(root).resolve()
    target = root / load_config(root).CourseDirectory.release_directory
    staging = Path(tempfile.mkdtemp(prefix=".exercises-new-", dir=root))
    staging.chmod(0o755)  # mkdtemp makes it private; exercises are for everyone to read
    try:
        written = generate_exercises(root, staging)
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=".exercises-old-", dir=root))
            os.replace(target, old / "exercises")
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return [target.relative_to(root) / path for path in written]


# --- check --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TestResult:
    """One autograder test cell after a run.

    Attributes
    ----------
    grade_id : str
        e.g. ``"test_class_counts_shape"``.
    description : str
        The first line of the cell's docstring.
    points, max_points : float
    message : str
        Empty when the test passed; otherwise the error (``AssertionError: …``).
    """

    grade_id: str
    description: str
    points: float
    max_points: float
    message: str

    @property
    def passed(self) -> bool:
        return self.points >= self.max_points and not self.message


@dataclasses.dataclass(frozen=True)
class CheckReport:
    """What :func:`check_notebook` found.

    Attributes
    ----------
    notebook : Path
    tests : list of TestResult
        In notebook order.
    changed : list of str
        grade_ids of test or read-only cells whose contents were changed (grading restores
        the originals, so changes there do not count).
    seconds : float
        Wall-clock time of the run.
    """

    notebook: Path
    tests: list[TestResult]
    changed: list[str]
    seconds: float

    @property
    def points(self) -> float:
        return sum(test.points for test in self.tests)

    @property
    def max_points(self) -> float:
        return sum(test.max_points for test in self.tests)

    @property
    def passed(self) -> bool:
        return bool(self.tests) and all(test.passed for test in self.tests) and not self.changed


def _docstring_line(source: str) -> str:
    match = re.match(r'\s*(?:"""|\'\'\')\s*(.+?)\s*(?:"""|\'\'\'|$)', source, flags=re.M)
    return match.group(1).strip() if match else ""


def _cell_error(cell) -> str:
    """The error a code cell ended with (exception line, or stderr), or ''."""
    from nbconvert.filters import strip_ansi

    for output in cell.get("outputs", []):
        if output.output_type == "error":
            ename = output.get("ename", "Error")
            evalue = strip_ansi(str(output.get("evalue", ""))).strip()
            if ename == "NotImplementedError" and not evalue:
                evalue = "a function is not written yet (replace `raise NotImplementedError()`)"
            return f"{ename}: {evalue}" if evalue else ename
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == "stderr":
            return "wrote to stderr: " + strip_ansi(output.text).strip()[:500]
    return ""


def read_notebook(path: Path):
    """Read and validate a notebook; :class:`CourseError` saying what is wrong otherwise."""
    import nbformat

    path = Path(path)
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except FileNotFoundError as error:
        raise CourseError(f"{path}: no such notebook") from error
    except Exception as error:  # JSON or schema errors
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise CourseError(
            f"{path}: not a valid Jupyter notebook ({type(error).__name__}: {first_line[:200]})"
        ) from error
    return notebook


def check_notebook(
    path: Path, root: Path = COURSE_ROOT, options: GradingOptions | None = None
) -> CheckReport:
    """Run a notebook from top to bottom in a fresh kernel and score its visible tests.

    The same steps as ``nbgrader validate`` (check the metadata, clear the outputs, execute),
    plus ``IgnorePattern``, so TensorFlow's log lines count as they do when grading.

    Parameters
    ----------
    path : Path
        A filled-in exercise (or a solution notebook).
    root : Path
        The course folder holding ``nbgrader_config.py``.
    options : GradingOptions, optional

    Returns
    -------
    CheckReport

    Raises
    ------
    CourseError
        If the file is not a valid notebook or holds no autograder tests.
    """
    from nbgrader import utils
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, Execute, IgnorePattern

    path = Path(path).resolve()
    notebook = read_notebook(path)
    if not any(utils.is_grade(cell) for cell in notebook.cells):
        raise CourseError(
            f"{path}: has no autograder test cells. Check the exercise notebook itself, "
            "as downloaded, not a copy made with another tool."
        )
    changed = [
        cell.metadata.nbgrader.get("grade_id", "?")
        for cell in notebook.cells
        if utils.is_locked(cell)
        and "checksum" in cell.metadata.get("nbgrader", {})
        and cell.metadata.nbgrader["checksum"] != utils.compute_checksum(cell)
    ]
    config = load_config(root, options, required=False)
    start = time.perf_counter()
    resources: dict = {}
    with (
        _nbgrader_environment(),
        utils.setenv(NBGRADER_VALIDATING="1", NBGRADER_EXECUTION="validate"),
        utils.chdir(str(path.parent)),
        _kernel_stderr_discarded(),
    ):
        try:
            for step in (CheckCellMetadata, ClearOutput, Execute, IgnorePattern):
                notebook, resources = step(config=config).preprocess(notebook, resources)
        except Exception as error:
            raise CourseError(
                f"{path}: running it failed: {type(error).__name__}: {error}"
            ) from error
    seconds = time.perf_counter() - start
    tests = []
    for cell in notebook.cells:
        if not utils.is_grade(cell) or cell.cell_type != "code":
            continue
        points, max_points = utils.determine_grade(cell)
        tests.append(
            TestResult(
                grade_id=cell.metadata.nbgrader["grade_id"],
                description=_docstring_line(cell.source),
                points=float(points or 0.0),
                max_points=float(max_points),
                message=_cell_error(cell),
            )
        )
    return CheckReport(notebook=path, tests=tests, changed=changed, seconds=seconds)


def _points(value: float) -> str:
    return f"{value:g}"


def format_check_report(report: CheckReport, width: int = 88) -> str:
    """The readable text ``fashion-lessons check`` prints: one block per test."""
    import textwrap

    lines = [f"Checked {report.notebook.name} in a fresh kernel ({report.seconds:.0f} s).", ""]
    earned = 0.0
    for test in report.tests:
        earned += test.points
        verdict = "PASS" if test.passed else "FAIL"
        lines.append(
            f"{verdict}  {test.grade_id}  "
            f"{_points(test.points)}/{_points(test.max_points)} points "
            f"(so far {_points(earned)}/{_points(report.max_points)})"
        )
        if test.description:
            lines.append(f"      {test.description}")
        if test.message:
            for paragraph in test.message.splitlines()[:6]:
                lines.extend(
                    textwrap.wrap(
                        paragraph, width, initial_indent="      > ", subsequent_indent="        "
                    )
                )
    lines.append("")
    passed = sum(test.passed for test in report.tests)
    lines.append(
        f"{passed} of {len(report.tests)} tests passed: "
        f"{_points(report.points)} of {_points(report.max_points)} points on the visible tests."
    )
    if report.changed:
        lines.append(
            f"Warning: {len(report.changed)} read-only or test cell(s) were changed "
            f"({', '.join(report.changed)}). Grading restores the originals, so your changes "
            "there will not count."
        )
    lines.append(
        "Hidden tests are added when your notebook is graded: make every function right "
        "for any valid input, not only for these examples."
    )
    return "\n".join(lines)


# --- grade --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SubmissionResult:
    """The grade of one student's assignment.

    Attributes
    ----------
    student_id, assignment : str
    score, max_score : float
    reason : str
        Empty when graded normally; otherwise why the score is 0 or may surprise
        (no submission, invalid notebook, kernel died, a cell timed out ...).
    seconds : float
        Wall-clock time spent autograding.
    """

    student_id: str
    assignment: str
    score: float
    max_score: float
    reason: str = ""
    seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class GradingCourse:
    """A grading run's course folder (``OUT``): gradebook, solutions, submissions.

    Build it with :func:`prepare_grading`; pass it to :func:`autograde_submission`.
    """

    out: Path
    config: object
    assignments: tuple[str, ...]
    notebooks: dict[str, tuple[str, ...]]
    max_scores: dict[str, float]

    @property
    def db_url(self) -> str:
        return self.config.CourseDirectory.db_url


@dataclasses.dataclass(frozen=True)
class GradeReport:
    """The outcome of :func:`grade`."""

    out: Path
    results: list[SubmissionResult]
    grades_csv: Path
    histogram: Path
    summary: str
    ignored: list[str]


def _check_output_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise CourseError(f"{out}: exists and is not a folder; choose an output folder")
    if out.is_dir() and any(out.iterdir()) and not (out / _MARKER).exists():
        raise CourseError(
            f"{out}: the folder is not empty and was not made by `fashion-lessons grade`; "
            "choose a new or empty output folder"
        )


def prepare_grading(
    out: Path, root: Path = COURSE_ROOT, options: GradingOptions | None = None
) -> GradingCourse:
    """Create a fresh grading course in ``out``: a copy of ``solutions/`` and a new gradebook.

    What an earlier run left in ``out`` (gradebook, submissions, feedback, grades) is
    replaced; ``out`` must be new, empty, or made by an earlier run.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    root, out = Path(root).resolve(), Path(out).resolve()
    _check_output_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / _MARKER).write_text("made by fashion-lessons grade\n", encoding="utf-8")
    for name in _OUTPUT_ENTRIES:
        entry = out / name
        if entry.is_dir():
            # Empty it rather than remove it: it may be a mount point of its own.
            for child in entry.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        elif entry.exists():
            entry.unlink()
    shutil.copytree(root / "solutions", out / "solutions")
    shutil.copy(root / CONFIG_FILE, out / CONFIG_FILE)
    config = load_config(out, options)
    config.CourseDirectory.db_url = f"sqlite:///{out / 'gradebook.db'}"
    assignments = tuple(assignment_ids(out))
    with _nbgrader_environment():
        for assignment in assignments:
            coursedir = CourseDirectory(config=config)
            coursedir.assignment_id = assignment
            app = GenerateAssignment(coursedir=coursedir, config=config, log=_quiet_logger("g"))
            app.force = True
            ok, log = _run(app)
            if not ok:
                raise CourseError(f"building the gradebook for {assignment} failed:\n{log}")
    return open_grading(out, options)


def open_grading(out: Path, options: GradingOptions | None = None) -> GradingCourse:
    """Reopen a grading course made by :func:`prepare_grading`, changing nothing in it."""
    from nbgrader.api import Gradebook

    out = Path(out).resolve()
    if not (out / _MARKER).exists() or not (out / "gradebook.db").exists():
        raise CourseError(f"{out}: not a grading folder made by `fashion-lessons grade`")
    config = load_config(out, options)
    # Parallel workers share the SQLite gradebook: wait for a lock instead of failing.
    config.CourseDirectory.db_url = f"sqlite:///{out / 'gradebook.db'}?timeout=120"
    assignments = tuple(assignment_ids(out))
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gb:
        notebooks = {
            a: tuple(sorted(nb.name for nb in gb.find_assignment(a).notebooks)) for a in assignments
        }
        max_scores = {a: float(gb.find_assignment(a).max_score) for a in assignments}
    return GradingCourse(out, config, assignments, notebooks, max_scores)


def scan_submissions(
    submissions: Path, assignments: Sequence[str]
) -> tuple[list[str], dict[str, set[str]], list[str]]:
    """List ``SUBMISSIONS/<student>/<assignment>/`` without copying anything.

    Returns
    -------
    students : list of str
        Every student folder, sorted.
    submitted : dict
        For each student, the assignments they handed in.
    ignored : list of str
        Entries that are not ``<student>/<assignment>/`` folders of a known assignment.
    """
    submissions = Path(submissions).resolve()
    if not submissions.is_dir():
        raise CourseError(
            f"{submissions}: no such folder. Expected SUBMISSIONS/<student_id>/"
            "<assignment_id>/<notebook>.ipynb"
        )
    students, submitted, ignored = [], {}, []
    for student_dir in sorted(submissions.iterdir()):
        if not student_dir.is_dir() or student_dir.name.startswith("."):
            ignored.append(f"{student_dir.name}: not a student folder")
            continue
        student = student_dir.name
        students.append(student)
        submitted[student] = set()
        for assignment_dir in sorted(student_dir.iterdir()):
            if assignment_dir.name not in assignments or not assignment_dir.is_dir():
                ignored.append(f"{student}/{assignment_dir.name}: not an assignment of the course")
                continue
            submitted[student].add(assignment_dir.name)
    if not students:
        raise CourseError(f"{submissions}: no student folders found")
    return students, submitted, ignored


def collect_submissions(
    submissions: Path, course: GradingCourse
) -> tuple[list[str], dict[str, set[str]], list[str]]:
    """Copy ``SUBMISSIONS/<student>/<assignment>/`` into the course's ``submitted/``.

    Returns what :func:`scan_submissions` returns.
    """
    students, submitted, ignored = scan_submissions(submissions, course.assignments)
    for student in students:
        for assignment in sorted(submitted[student]):
            target = course.out / "submitted" / student / assignment
            shutil.copytree(Path(submissions) / student / assignment, target, symlinks=True)
    return students, submitted, ignored


def _timeouts(course: GradingCourse, student: str, assignment: str) -> list[str]:
    import nbformat

    found = []
    folder = course.out / "autograded" / student / assignment
    for path in sorted(folder.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            for output in cell.get("outputs", []):
                if output.get("ename") == "CellTimeoutError":
                    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "a cell")
                    found.append(f"{path.stem}: {grade_id} timed out")
    return found


def _score(course: GradingCourse, student: str, assignment: str) -> float:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.config.CourseDirectory.course_id) as gb:
        try:
            return float(gb.find_submission(assignment, student).score)
        except MissingEntry:
            return 0.0


def autograde_submission(course: GradingCourse, student: str, assignment: str) -> SubmissionResult:
    """Autograde one collected submission and write its feedback; never raises for bad work.

    The submission must be in ``course.out/submitted/<student>/<assignment>/``. A notebook
    that is not valid JSON, a kernel that dies or a failing nbgrader step gives a score of
    0 and the reason; a cell that times out scores 0 for its tests and is named in the
    reason.
    """
    from nbgrader.converters import Autograde, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory

    start = time.perf_counter()
    max_score = course.max_scores[assignment]

    def result(score: float, reason: str = "") -> SubmissionResult:
        return SubmissionResult(
            student, assignment, score, max_score, reason, time.perf_counter() - start
        )

    folder = course.out / "submitted" / student / assignment
    if not folder.is_dir():
        return result(0.0, "no submission")

    def failed(reason: str) -> SubmissionResult:
        write_failure_feedback(course, student, assignment, reason)
        return result(0.0, reason)

    missing = [nb for nb in course.notebooks[assignment] if not (folder / f"{nb}.ipynb").exists()]
    if len(missing) == len(course.notebooks[assignment]):
        found = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
        return failed(f"no {', '.join(m + '.ipynb' for m in missing)} (found {found})")
    for notebook in course.notebooks[assignment]:
        if notebook not in missing:
            try:
                read_notebook(folder / f"{notebook}.ipynb")
            except CourseError as error:
                return failed(str(error).replace(str(folder) + os.sep, ""))

    with _nbgrader_environment():
        coursedir = CourseDirectory(config=course.config)
        coursedir.assignment_id, coursedir.student_id = assignment, student
        app = Autograde(coursedir=coursedir, config=course.config, log=_quiet_logger("a"))
        app.force, app.create_student = True, True
        ok, log = _run(app)
        if not ok:
            return failed(f"autograding failed: {_last_error(log)}")
        coursedir = CourseDirectory(config=course.config)
        coursedir.assignment_id, coursedir.student_id = assignment, student
        feedback = GenerateFeedback(
            coursedir=coursedir, config=course.config, log=_quiet_logger("f")
        )
        feedback.update_config(_feedback_config())
        feedback.force = True
        feedback_ok, feedback_log = _run(feedback)
    notes = [f"missing {m}.ipynb" for m in missing] + _timeouts(course, student, assignment)
    notes += [f"grader tampering removed: {n}" for n in _tampering(course, student, assignment)]
    if not feedback_ok:
        notes.append(f"no feedback: {_last_error(feedback_log)}")
    return result(_score(course, student, assignment), "; ".join(notes))


def _tampering(course: GradingCourse, student: str, assignment: str) -> list[str]:
    """What :class:`fashion_lessons.hardening.DisarmTampering` removed, per notebook."""
    import nbformat

    from fashion_lessons.hardening import tampering_notes

    notes = []
    for path in sorted((course.out / "autograded" / student / assignment).glob("*.ipynb")):
        notes += [f"{path.stem} {note}" for note in tampering_notes(nbformat.read(path, 4))]
    return notes


def write_failure_feedback(
    course: GradingCourse, student: str, assignment: str, reason: str
) -> None:
    """A feedback page saying why a submission could not be graded (score 0)."""
    import html

    folder = course.out / "feedback" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(assignment)}: not graded</title></head><body>"
        f"<h1>{html.escape(assignment)}: 0 points</h1>"
        f"<p>Your submission could not be graded: {html.escape(reason)}.</p>"
        "<p>Run <code>fashion-lessons check NOTEBOOK</code> before handing in to see "
        "every test pass or fail.</p></body></html>\n"
    )
    for notebook in course.notebooks[assignment]:
        _write_atomic(folder / f"{notebook}.html", page)


def _feedback_config():
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "feedback"
    return config


def write_grades_csv(results: Sequence[SubmissionResult], path: Path) -> None:
    """Write ``grades.csv`` atomically: it is either complete or the old file stays."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(GRADES_COLUMNS)
    for r in results:
        writer.writerow(
            [r.student_id, r.assignment, _points(r.score), _points(r.max_score), r.reason]
        )
    _write_atomic(Path(path), text.getvalue())


def summary_table(results: Sequence[SubmissionResult], assignments: Sequence[str]) -> str:
    """One row per student, one column per assignment, then the total; a mean row last."""
    students = sorted({r.student_id for r in results})
    by_key = {(r.student_id, r.assignment): r for r in results}
    name_width = max([len("student"), len("mean")] + [len(s) for s in students])
    widths = [max(len(a), 7) for a in assignments]
    header = f"{'student':<{name_width}}  " + "  ".join(
        f"{a:>{w}}" for a, w in zip(assignments, widths)
    )
    lines = [header + "    total", "-" * (len(header) + 9)]
    for student in students:
        cells, total, total_max = [], 0.0, 0.0
        for assignment, width in zip(assignments, widths):
            r = by_key[(student, assignment)]
            total, total_max = total + r.score, total_max + r.max_score
            mark = "*" if r.reason else " "
            cells.append(f"{_points(r.score) + '/' + _points(r.max_score) + mark:>{width}}")
        lines.append(f"{student:<{name_width}}  " + "  ".join(cells) + f"  {total:g}/{total_max:g}")
    means = []
    for assignment, width in zip(assignments, widths):
        scores = [by_key[(s, assignment)].score for s in students]
        means.append(f"{sum(scores) / len(scores):>{width}.1f}")
    lines.append(f"{'mean':<{name_width}}  " + "  ".join(means))
    notes = [r for r in results if r.reason]
    if notes:
        lines += ["", "* see the reason:"]
        lines += [f"  {r.student_id} {r.assignment}: {r.reason}" for r in notes]
    return "\n".join(lines)


def grade(
    submissions: Path,
    out: Path,
    root: Path = COURSE_ROOT,
    options: GradingOptions | None = None,
    progress: Callable[[str], None] | None = None,
    isolation_options=None,
    workers: int = 1,
    fresh: bool = False,
) -> GradeReport:
    """Grade a folder of submissions with a fresh gradebook; write grades, feedback, a summary.

    Parameters
    ----------
    submissions : Path
        ``SUBMISSIONS/<student_id>/<assignment_id>/<notebook>.ipynb``.
    out : Path
        The output folder: ``gradebook.db``, ``autograded/``, ``feedback/<student>/
        <assignment>/<notebook>.html``, ``grades.csv`` (one row per student × assignment:
        student_id, assignment, score, max_score, reason), ``summary.txt``, ``scores.png``.
    root : Path
        The course folder (``nbgrader_config.py``, ``solutions/``).
    options : GradingOptions, optional
    progress : callable, optional
        Called with one line of text per step.
    isolation_options : fashion_lessons.isolation.IsolationOptions, optional
        Sandbox (on by default), wall-clock limit per submission, memory cap.
    workers : int, default 1
        Submissions graded in parallel.
    fresh : bool, default False
        Replace the grades of a different earlier run in ``out``. A rerun with the same
        solutions and submissions always resumes: what is graded stays graded.

    Returns
    -------
    GradeReport
    """
    from fashion_lessons import isolation

    say = progress or (lambda line: None)
    started = time.perf_counter()
    root, out = Path(root).resolve(), Path(out).resolve()
    _check_dataset()
    run_id = isolation.fingerprint(root / "solutions", Path(submissions)) + (
        "" if isolation_options is None or isolation_options.sandbox else "-unsandboxed"
    )
    run_file = out / isolation.STATE_DIR / "run_id"
    if run_file.exists() and run_file.read_text() == run_id:
        course = open_grading(out, options)
        students, _, ignored = scan_submissions(Path(submissions), course.assignments)
        say(f"resuming the grading run in {out}")
    else:
        if isolation.read_journal_any(out) and not fresh:
            raise CourseError(
                f"{out}: holds grades of another run (other submissions or solutions). "
                "Grade into a new folder, or pass --fresh to replace them."
            )
        say(f"building a fresh gradebook from {root / 'solutions'} in {out}")
        course = prepare_grading(out, root, options)
        students, _, ignored = collect_submissions(Path(submissions), course)
        run_file.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(run_file, run_id)
    for entry in ignored:
        say(f"ignored {entry}")
    pairs = [(s, a) for s in students for a in course.assignments]
    say(f"{len(students)} students × {len(course.assignments)} assignments, {workers} worker(s)")
    from fashion_lessons.sandbox import SandboxUnavailable

    try:
        results = isolation.grade_all(
            course,
            pairs,
            run_id,
            isolation_options or isolation.IsolationOptions(),
            options,
            workers=workers,
            progress=say,
        )
    except SandboxUnavailable as error:
        raise CourseError(str(error)) from error
    grades_csv = course.out / GRADES_FILE
    write_grades_csv(results, grades_csv)
    summary = summary_table(results, course.assignments)
    _write_atomic(course.out / SUMMARY_FILE, summary + "\n")
    histogram = course.out / HISTOGRAM_FILE
    _save_histogram(results, course, histogram)
    say(f"graded {len(pairs)} submissions in {time.perf_counter() - started:.0f} s")
    return GradeReport(course.out, results, grades_csv, histogram, summary, ignored)


def _check_dataset() -> None:
    """Stop before grading when the dataset is broken: it would zero the whole class."""
    from fashion_lessons.data import DataError, find_data, load_arrays

    try:
        load_arrays(find_data(download=False))
    except DataError as error:
        raise CourseError(f"grading did not start, the dataset is not usable: {error}") from error


def _write_atomic(path: Path, data: str | bytes) -> None:
    """Write a temporary file next to ``path``, then rename it: never a half-written file."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _save_histogram(results: Sequence[SubmissionResult], course: GradingCourse, path: Path):
    from fashion_lessons.plots import plot_score_histogram

    students = sorted({r.student_id for r in results})
    total_max = sum(course.max_scores.values())
    totals = [sum(r.score for r in results if r.student_id == s) for s in students]
    figure = plot_score_histogram(totals, total_max)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    _write_atomic(path, buffer.getvalue())
