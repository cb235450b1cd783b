"""Graded classes several test files share, each graded once per run: ``graded_class.py``
for the pipeline, ``dask_class.py`` for Dask; and the Dask tests' cluster."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from graded_class import hand_in_class
from helpers import built_once, grade_rows, run_cli


def _class_folder(tmp_path_factory) -> Path:
    return built_once(tmp_path_factory, "class-submissions", hand_in_class)


def _graded_class(tmp_path_factory) -> tuple[Path, str]:
    class_folder = _class_folder(tmp_path_factory)

    def grade(folder: Path) -> None:
        run = run_cli("grade", class_folder, "--out", folder / "out", timeout=900, cwd=class_folder)
        assert run.returncode == 0, run.stdout + run.stderr
        (folder / "stdout.txt").write_text(run.stdout, encoding="utf-8")

    folder = built_once(tmp_path_factory, "graded-class", grade)
    return folder / "out", (folder / "stdout.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def class_folder(tmp_path_factory) -> Path:
    """SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb for the five students."""
    return _class_folder(tmp_path_factory)


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> tuple[Path, str]:
    """`fashion-lessons grade` run once on the class: its output folder and stdout."""
    return _graded_class(tmp_path_factory)


@pytest.fixture(scope="session")
def graded_later(tmp_path_factory):
    """``graded`` as a function, for a fixture that first does its own work while another
    pytest-xdist worker may be grading the class."""
    return functools.partial(_graded_class, tmp_path_factory)


@pytest.fixture(scope="session")
def grades(graded) -> dict[tuple[str, str], dict]:
    """The rows of the graded class's ``grades.csv`` by (student, assignment)."""
    out, _ = graded
    return grade_rows(out)


@pytest.fixture(scope="session")
def mixed_class(tmp_path_factory) -> Path:
    """The Dask tests' class (``dask_class.py``): reference, blank, wrong, memory hog."""
    from dask_class import hand_in_mixed_class

    return built_once(tmp_path_factory, "mixed-class", hand_in_mixed_class)


@pytest.fixture(scope="session")
def local_out(mixed_class, tmp_path_factory) -> Path:
    """The output folder of ``mixed_class`` graded by the local pool with two workers."""
    from dask_class import OPTIONS

    from fashion_lessons.grading.pipeline import grade

    def grade_locally(folder: Path) -> None:
        grade(mixed_class, folder / "out", isolation=OPTIONS, workers=2)

    return built_once(tmp_path_factory, "mixed-class-local", grade_locally) / "out"


# Dask's own diagnostics, which these tests never read: a sampling profiler every 10 ms in
# each worker and an event-loop check every 20 ms in each process. Idle, they keep a
# cluster busy for the whole test file.
QUIET_DASK = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s"}
# Worker processes forked from the grading workers' server, which has imported nbgrader and
# the grading stack already, rather than spawned: each (re)start imports only Dask.
FORKED_DASK = {"distributed.worker.multiprocessing-method": "forkserver"}


@pytest.fixture(scope="module")
def cluster():
    """A Dask ``LocalCluster`` per test file: two worker processes, one thread each."""
    import dask
    import distributed

    from fashion_lessons.grading.workers import start_worker_server

    start_worker_server()
    with dask.config.set({**QUIET_DASK, **FORKED_DASK}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        yield cluster
        cluster.close()


@pytest.fixture(scope="module")
def client(cluster):
    import distributed

    with distributed.Client(cluster) as client:
        yield client
