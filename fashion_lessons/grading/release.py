"""``fashion-lessons release``: generate ``exercises/`` from ``solutions/`` with nbgrader.

The result depends only on ``solutions/`` (byte-identical on a rerun), and a failure
leaves the old ``exercises/`` untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from fashion_lessons.grading.config import (
    COURSE_ROOT,
    NBGRADER_CONFIG_FILE,
    assignment_ids,
    load_config,
)
from fashion_lessons.grading.nbgrader_apps import converter, last_error, run_app
from fashion_lessons.grading.notebooks import (
    TEST_MANIFEST,
    points_of_tests,
    write_notebook_normalized,
)
from fashion_lessons.grading.types import CourseError


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

    root = Path(root).resolve()
    target = Path(target)
    written = []
    with tempfile.TemporaryDirectory(prefix="fashion-lessons-release-") as scratch:
        scratch = Path(scratch)
        shutil.copytree(root / "solutions", scratch / "solutions")
        shutil.copy(root / NBGRADER_CONFIG_FILE, scratch / NBGRADER_CONFIG_FILE)
        config = load_config(scratch)
        # nbgrader records the cells in a gradebook even here: a throwaway one.
        config.CourseDirectory.db_url = f"sqlite:///{scratch / 'gradebook.db'}"
        released = scratch / config.CourseDirectory.release_directory
        for assignment in assignment_ids(scratch):
            ok, log = run_app(converter(GenerateAssignment, config, assignment))
            if not ok:
                raise CourseError(f"generating {assignment} failed: {last_error(log)}\n{log}")
        for notebook_path in sorted(released.rglob("*.ipynb")):
            relative = notebook_path.relative_to(released)
            notebook = nbformat.read(notebook_path, as_version=nbformat.NO_CONVERT)
            # `check` names the tests a student deleted: grading puts them back
            notebook.metadata[TEST_MANIFEST] = {"tests": points_of_tests(notebook)}
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
