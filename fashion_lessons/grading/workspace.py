"""The grading folder (``OUT``): a copy of the solutions, a new gradebook, the run's state.

:func:`prepare_grading` builds it, :func:`open_grading` reopens it unchanged; both give a
:class:`GradingCourse`, which the rest of the grading side works on.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from fashion_lessons.files import empty_folder
from fashion_lessons.grading.config import (
    COURSE_ROOT,
    NBGRADER_CONFIG_FILE,
    assignment_ids,
    load_config,
)
from fashion_lessons.grading.nbgrader_apps import converter, run_app
from fashion_lessons.grading.reports import REPORT_FILES
from fashion_lessons.grading.types import CourseError, ExecutionOptions

MARKER = ".fashion-lessons-grading"
STATE_DIR = ".grading"  # inside OUT: the journal, workers' results, kernelspecs, logs
# What `grade` creates in its output folder, and may therefore replace on a rerun.
OUTPUT_ENTRIES = (
    "gradebook.db",
    "solutions",
    "exercises",
    "submitted",
    "autograded",
    "feedback",
    *REPORT_FILES,
)


@dataclasses.dataclass(frozen=True)
class GradingCourse:
    """A grading run's course folder (``OUT``): gradebook, solutions, submissions.

    Build it with :func:`prepare_grading`; pass it to
    :func:`fashion_lessons.grading.autograde.autograde_submission`.
    """

    out: Path
    config: object
    assignments: tuple[str, ...]
    notebooks: dict[str, tuple[str, ...]]
    max_scores: dict[str, float]

    @property
    def db_url(self) -> str:
        return self.config.CourseDirectory.db_url

    @property
    def course_id(self) -> str:
        return self.config.CourseDirectory.course_id

    def state_folder(self, student: str, assignment: str) -> Path:
        """Where the worker grading this submission keeps its result, kernelspec and log."""
        return self.out / STATE_DIR / f"{student}.{assignment}"


def _check_output_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise CourseError(f"{out}: exists and is not a folder; choose an output folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise CourseError(
            f"{out}: the folder is not empty and was not made by `fashion-lessons grade`; "
            "choose a new or empty output folder"
        )


def prepare_grading(
    out: Path, root: Path = COURSE_ROOT, execution: ExecutionOptions | None = None
) -> GradingCourse:
    """Create a new grading course in ``out``: a copy of ``solutions/`` and a new gradebook.

    What an earlier run left in ``out`` (gradebook, submissions, feedback, grades) is
    replaced; ``out`` must be new, empty, or made by an earlier run.
    """
    from nbgrader.converters import GenerateAssignment

    root, out = Path(root).resolve(), Path(out).resolve()
    _check_output_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by fashion-lessons grade\n", encoding="utf-8")
    for name in OUTPUT_ENTRIES:
        entry = out / name
        if entry.is_dir():
            empty_folder(entry, ignore_errors=False)  # it may be a mount point of its own
        elif entry.exists():
            entry.unlink()
    shutil.copytree(root / "solutions", out / "solutions", dirs_exist_ok=True)
    shutil.copy(root / NBGRADER_CONFIG_FILE, out / NBGRADER_CONFIG_FILE)
    config = load_config(out, execution)
    config.CourseDirectory.db_url = f"sqlite:///{out / 'gradebook.db'}"
    create_gradebook(config.CourseDirectory.db_url)
    for assignment in assignment_ids(out):
        ok, log = run_app(converter(GenerateAssignment, config, assignment))
        if not ok:
            raise CourseError(f"building the gradebook for {assignment} failed:\n{log}")
    return open_grading(out, execution)


def create_gradebook(db_url: str) -> None:
    """Create an empty gradebook at ``db_url`` as nbgrader's ``Gradebook`` does.

    nbgrader asks a new process (``alembic heads``, 1.7 s) for the schema's version to
    stamp; the same answer comes from its migration scripts in a fraction of that.
    """
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.api import Base
    from nbgrader.dbutil import ALEMBIC_DIR
    from sqlalchemy import create_engine, text

    migrations = Config()
    migrations.set_main_option("script_location", ALEMBIC_DIR)
    version = ScriptDirectory.from_config(migrations).get_current_head()
    engine = create_engine(db_url)
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(
                text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            )
            connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": version})
    finally:
        engine.dispose()


def open_grading(out: Path, execution: ExecutionOptions | None = None) -> GradingCourse:
    """Reopen a grading course made by :func:`prepare_grading`, changing nothing in it."""
    from nbgrader.api import Gradebook

    out = Path(out).resolve()
    if not (out / MARKER).exists() or not (out / "gradebook.db").exists():
        raise CourseError(f"{out}: not a grading folder made by `fashion-lessons grade`")
    config = load_config(out, execution)
    # Parallel workers share the SQLite gradebook: wait for a lock instead of failing.
    config.CourseDirectory.db_url = f"sqlite:///{out / 'gradebook.db'}?timeout=120"
    assignments = tuple(assignment_ids(out))
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gb:
        notebooks = {
            a: tuple(sorted(nb.name for nb in gb.find_assignment(a).notebooks)) for a in assignments
        }
        max_scores = {a: float(gb.find_assignment(a).max_score) for a in assignments}
    return GradingCourse(out, config, assignments, notebooks, max_scores)


def add_students(course: GradingCourse, students: list[str]) -> None:
    """Put every student in the gradebook before grading starts.

    nbgrader's autograde adds a missing student itself, but two workers grading the same
    student's assignments at once would both try, and the second fails on the unique id.
    """
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course.course_id) as gradebook:
        for student in students:
            gradebook.update_or_create_student(student)
