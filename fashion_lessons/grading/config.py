"""Load a course's nbgrader configuration, and list its assignments."""

from __future__ import annotations

from pathlib import Path

from fashion_lessons.coordinates import COURSE_ROOT
from fashion_lessons.grading.feedback_safety import feedback_config
from fashion_lessons.grading.settings import apply_course_settings
from fashion_lessons.grading.types import CourseError, ExecutionOptions

NBGRADER_CONFIG_FILE = "nbgrader_config.py"


def default_config():
    """The course's nbgrader settings, for use without a course folder."""
    from traitlets.config import Config

    config = Config()
    apply_course_settings(config)
    return config


def load_config(
    root: Path = COURSE_ROOT, execution: ExecutionOptions | None = None, required: bool = True
):
    """Read ``nbgrader_config.py`` from ``root``; apply ``execution`` and the feedback
    pages' protection (:func:`~fashion_lessons.grading.feedback_safety.feedback_config`).

    Parameters
    ----------
    root : Path
        The course folder.
    execution : ExecutionOptions, optional
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
    if (root / NBGRADER_CONFIG_FILE).is_file():
        config = PyFileConfigLoader(NBGRADER_CONFIG_FILE, path=str(root)).load_config()
    elif required:
        raise CourseError(
            f"{root / NBGRADER_CONFIG_FILE}: missing; expected the course's nbgrader config"
        )
    else:
        config = default_config()
    overrides = Config()
    overrides.CourseDirectory.root = str(root)
    if execution is not None and execution.kernel_name:
        overrides.Execute.kernel_name = execution.kernel_name
    if execution is not None and execution.timeout:
        overrides.Execute.timeout = execution.timeout
    overrides.merge(feedback_config(execution is not None and execution.show_hidden_tests))
    config.merge(overrides)
    return config


def check_course_folder(root: Path) -> None:
    """Raise :class:`CourseError` unless ``root`` holds ``nbgrader_config.py`` and assignments
    in ``solutions/``."""
    if not (Path(root) / NBGRADER_CONFIG_FILE).is_file():
        raise CourseError(
            f"{root}: not a course folder; expected {NBGRADER_CONFIG_FILE} and solutions/ in it"
        )
    assignment_ids(root)


def assignment_ids(root: Path = COURSE_ROOT) -> list[str]:
    """The assignments: the folders of ``solutions/`` that hold a notebook, sorted."""
    source = Path(root) / "solutions"
    if not source.is_dir():
        raise CourseError(f"{source}: no such folder; expected solutions/<assignment>/*.ipynb")
    found = sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))
    if not found:
        raise CourseError(f"{source}: no assignment folders with notebooks found")
    return found
