"""Run nbgrader's converters quietly and turn their logs into one-line reasons."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def nbgrader_environment() -> Iterator[None]:
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
def kernel_stderr_discarded() -> Iterator[None]:
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


def quiet_logger(name: str) -> logging.Logger:
    """A logger that nbgrader's apps write to; captured, never printed."""
    logger = logging.getLogger(f"fashion_lessons.nbgrader.{name}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def converter(app_class, config, assignment: str, student: str | None = None):
    """An nbgrader converter (``GenerateAssignment``, ``Autograde`` ...) for one assignment.

    Parameters
    ----------
    app_class : type
        The converter class.
    config : traitlets.config.Config
    assignment : str
    student : str, optional
        For converters that work on one student's submission.

    Returns
    -------
    nbgrader.converters.BaseConverter
        With ``force`` set, logging to a :func:`quiet_logger`.
    """
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    if student is not None:
        coursedir.student_id = student
    app = app_class(coursedir=coursedir, config=config, log=quiet_logger(app_class.__name__))
    app.force = True
    return app


def run_app(app) -> tuple[bool, str]:
    """Start an nbgrader converter; return whether it succeeded and its log."""
    from nbgrader.utils import capture_log

    with nbgrader_environment():
        result = capture_log(app)
    return bool(result["success"]), result.get("log", "") + result.get("error", "")


def last_error(log: str) -> str:
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
