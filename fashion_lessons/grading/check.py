"""``fashion-lessons check``: run one notebook in a fresh kernel and score its visible tests.

The same steps as ``nbgrader validate`` plus ``IgnorePattern``, so TensorFlow's log lines
count as they do when grading; :func:`format_check_report` is the text students read.
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

from fashion_lessons.grading.config import COURSE_ROOT, load_config
from fashion_lessons.grading.nbgrader_apps import kernel_stderr_discarded, nbgrader_environment
from fashion_lessons.grading.notebooks import (
    grade_id,
    points_of_tests,
    read_notebook,
    released_tests,
)
from fashion_lessons.grading.types import CourseError, ExecutionOptions, format_points


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
    def has_passed(self) -> bool:
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
    missing : dict of str to float
        Test cells the exercise was released with that the notebook lacks, with their
        points (grading puts them back and runs them).
    failed : list of str
        Other code cells that raised an error or were stopped at the time limit, each as
        ``name: error`` (tests after them may pass on what ran before the error).
    """

    notebook: Path
    tests: list[TestResult]
    changed: list[str]
    seconds: float
    missing: dict[str, float] = dataclasses.field(default_factory=dict)
    failed: list[str] = dataclasses.field(default_factory=list)

    @property
    def points(self) -> float:
        return sum(test.points for test in self.tests)

    @property
    def max_points(self) -> float:
        return sum(test.max_points for test in self.tests)

    @property
    def has_passed(self) -> bool:
        passed = bool(self.tests) and all(test.has_passed for test in self.tests)
        return passed and not self.changed and not self.missing


# What a cell ends with when the time limit interrupts it (or nbclient gives up on it).
TIMEOUT_ERRORS = ("KeyboardInterrupt", "CellTimeoutError")


def _docstring_line(source: str) -> str:
    match = re.match(r'\s*(?:"""|\'\'\')\s*(.+?)\s*(?:"""|\'\'\'|$)', source, flags=re.M)
    return match.group(1).strip() if match else ""


def _raised(cell) -> str:
    """The exception a code cell ended with, as one line, or ''."""
    from nbconvert.filters import strip_ansi

    for output in cell.get("outputs", []):
        if output.output_type == "error":
            ename = output.get("ename", "Error")
            evalue = strip_ansi(str(output.get("evalue", ""))).strip()
            if ename == "NotImplementedError" and not evalue:
                evalue = "a function is not written yet (replace `raise NotImplementedError()`)"
            if ename in TIMEOUT_ERRORS:
                return f"{ename}: stopped at the time limit of a cell; does it loop forever?"
            return f"{ename}: {evalue}" if evalue else ename
    return ""


def _cell_error(cell) -> str:
    """The error a code cell ended with (exception line, or stderr), or ''."""
    from nbconvert.filters import strip_ansi

    if raised := _raised(cell):
        return raised
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == "stderr":
            return "wrote to stderr: " + strip_ansi(output.text).strip()[:500]
    return ""


def _changed_cells(notebook) -> list[str]:
    """grade_ids of read-only or test cells whose source differs from the released one."""
    from nbgrader import utils

    return [
        grade_id(cell) or "?"
        for cell in notebook.cells
        if utils.is_locked(cell)
        and "checksum" in cell.metadata.get("nbgrader", {})
        and cell.metadata.nbgrader["checksum"] != utils.compute_checksum(cell)
    ]


def _missing_tests(notebook) -> dict[str, float]:
    """The released exercise's test cells that ``notebook`` lacks, with their points."""
    present = points_of_tests(notebook)
    return {
        name: points for name, points in released_tests(notebook).items() if name not in present
    }


def _failed_cells(notebook) -> list[str]:
    """Code cells other than tests that raised or were stopped at the time limit, each as
    ``name: error``."""
    from nbgrader import utils

    failed = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "code" and not utils.is_grade(cell) and (raised := _raised(cell)):
            failed.append(f"{_cell_name(cell, number)}: {raised}")
    return failed


def _cell_name(cell, number: int) -> str:
    """A cell's grade_id, else its number and first line: what a student can find it by."""
    if grade_id(cell):
        return grade_id(cell)
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    return f"cell {number} ({first[:40]}{'…' if len(first) > 40 else ''})"


def _test_results(notebook) -> list[TestResult]:
    """Every executed autograder test cell, in notebook order."""
    from nbgrader import utils

    tests = []
    for cell in notebook.cells:
        if not utils.is_grade(cell) or cell.cell_type != "code":
            continue
        points, max_points = utils.determine_grade(cell)
        tests.append(
            TestResult(
                grade_id=grade_id(cell),
                description=_docstring_line(cell.source),
                points=float(points or 0.0),
                max_points=float(max_points),
                message=_cell_error(cell),
            )
        )
    return tests


def check_notebook(
    path: Path, root: Path = COURSE_ROOT, execution: ExecutionOptions | None = None
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
    execution : ExecutionOptions, optional

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
    changed, missing = _changed_cells(notebook), _missing_tests(notebook)
    config = load_config(root, execution, required=False)
    start = time.perf_counter()
    resources: dict = {}
    with (
        nbgrader_environment(),
        utils.setenv(NBGRADER_VALIDATING="1", NBGRADER_EXECUTION="validate"),
        utils.chdir(str(path.parent)),
        kernel_stderr_discarded(),
    ):
        try:
            for step in (CheckCellMetadata, ClearOutput, Execute, IgnorePattern):
                notebook, resources = step(config=config).preprocess(notebook, resources)
        except Exception as error:
            raise CourseError(
                f"{path}: running it failed: {type(error).__name__}: {error}"
            ) from error
    seconds = time.perf_counter() - start
    tests, failed = _test_results(notebook), _failed_cells(notebook)
    return CheckReport(path, tests, changed, seconds, missing, failed)


def format_check_report(report: CheckReport, width: int = 88) -> str:
    """The readable text ``fashion-lessons check`` prints: one block per test."""
    import textwrap

    lines = [f"Checked {report.notebook.name} in a fresh kernel ({report.seconds:.0f} s).", ""]
    earned = 0.0
    for test in report.tests:
        earned += test.points
        verdict = "PASS" if test.has_passed else "FAIL"
        lines.append(
            f"{verdict}  {test.grade_id}  "
            f"{format_points(test.points)}/{format_points(test.max_points)} points "
            f"(so far {format_points(earned)}/{format_points(report.max_points)})"
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
    passed = sum(test.has_passed for test in report.tests)
    lines.append(
        f"{passed} of {len(report.tests)} tests passed: "
        f"{format_points(report.points)} of {format_points(report.max_points)} points "
        "on the visible tests."
    )
    if report.changed:
        lines.append(
            f"Warning: {len(report.changed)} read-only or test cell(s) were changed "
            f"({', '.join(report.changed)}). Grading restores the originals, so your changes "
            "there will not count."
        )
    for failure in report.failed:
        lines.extend(textwrap.wrap(f"Warning: a cell failed: {failure}", width))
    if report.missing:
        deleted = ", ".join(f"{t} ({format_points(p)} points)" for t, p in report.missing.items())
        lines.append(
            f"Warning: test cell(s) missing from your notebook: {deleted}. Grading puts them "
            "back and runs them: download the exercise again and copy your answers into it."
        )
    lines.append(
        "Hidden tests are added when your notebook is graded: make every function right "
        "for any valid input, not only for these examples."
    )
    return "\n".join(lines)
