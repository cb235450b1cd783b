"""The grading side's option and result types, and the error it raises."""

from __future__ import annotations

import dataclasses

from fashion_lessons.sandbox.bounds import Bounds
from fashion_lessons.sandbox.bubblewrap import Limits


class CourseError(Exception):
    """The course, a notebook or a folder is not what the pipeline expects; says what to do."""


@dataclasses.dataclass(frozen=True)
class ExecutionOptions:
    """How nbgrader executes notebooks when checking and grading.

    Attributes
    ----------
    kernel_name : str, optional
        The Jupyter kernel every notebook runs in; defaults to ``Execute.kernel_name`` of
        the nbgrader settings ("python3", the Python running this code). Without the
        sandbox, point it at another kernelspec to change how students' code runs.
    timeout : int, optional
        Seconds (more than 0) a single cell may run; defaults to ``Execute.timeout`` of the
        settings.
    show_hidden_tests : bool, default False
        Show the hidden tests' code in feedback pages (nbgrader's own behaviour); the
        pages stay inert either way.
    """

    kernel_name: str | None = None
    timeout: int | None = None
    show_hidden_tests: bool = False

    def __post_init__(self):
        if self.timeout is not None and not self.timeout > 0:
            raise CourseError(f"a cell's timeout must be positive, found {self.timeout} s")


@dataclasses.dataclass(frozen=True)
class IsolationOptions:
    """How each submission is kept apart from the grader and from the others.

    Attributes
    ----------
    sandbox : bool
        Run kernels in the bubblewrap sandbox (default); False runs them unprotected.
    wall_clock_s : float
        Limit in seconds (more than 0) for a whole submission (all its notebooks); the worker
        is killed beyond it.
    memory_bytes : int
        Address-space limit of a sandboxed kernel (more than 0).
    zygote : bool
        Fork sandboxed kernels from a zygote that has imported TensorFlow once
        (:mod:`fashion_lessons.sandbox.zygote`, default) instead of starting each anew.
    bounds : Bounds, optional
        Whole-submission bounds of forked kernels (memory of all processes, their number,
        bytes written); none when None.
    """

    sandbox: bool = True
    wall_clock_s: float = 600.0
    memory_bytes: int = Limits.memory_bytes
    zygote: bool = True
    bounds: Bounds | None = None

    def __post_init__(self):
        if not self.wall_clock_s > 0:
            raise CourseError(f"the wall-clock limit must be positive, found {self.wall_clock_s} s")
        if not self.memory_bytes > 0:
            raise CourseError(f"the memory cap must be positive, found {self.memory_bytes} bytes")

    @property
    def forks_kernels(self) -> bool:
        """Whether kernels are forked from zygotes (sandboxed, zygote on)."""
        return self.sandbox and self.zygote


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


def format_points(value: float) -> str:
    """Points as a student reads them: ``5``, ``2.5``."""
    return f"{value:g}"
