"""Grading on a real Dask ``LocalCluster`` (worker processes on loopback): the same grades as
the local pool, cell by cell; an unreachable scheduler; the worker command; the SLURM job
script of the book. Workers and the coordinator killed: ``test_distributed_faults.py``."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time

import psutil
import pytest
from dask_class import OPTIONS, SCALE, cell_grades, cells, journal_keys, rows
from helpers import REPO, cli_command

from fashion_lessons.grading.config import assignment_ids
from fashion_lessons.grading.pipeline import grade

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


@pytest.fixture(scope="module")
def cluster_run(mixed_class, cluster, client, tmp_path_factory):
    """The same class graded through the cluster's scheduler."""
    out = tmp_path_factory.mktemp("dask") / "out"
    lines: list[str] = []
    report = grade(
        mixed_class,
        out,
        isolation=OPTIONS,
        scheduler=cluster.scheduler_address,
        progress=lines.append,
    )
    return report, lines


def test_the_cluster_grades_like_the_local_pool_cell_by_cell(local_out, cluster_run):
    report, lines = cluster_run
    assert rows(report.out) == rows(local_out)  # scores, maxima and reasons alike
    assert len(rows(report.out)) == 4 * len(assignment_ids(report.out))
    graded = [(r.student_id, r.assignment) for r in report.results if r.reason != "no submission"]
    assert len(graded) == 5
    for student, assignment in graded:
        if student != "hog":  # its kernel is killed at a moment that varies from run to run
            assert cells(report.out, student, assignment) == cells(
                local_out, student, assignment
            ), (student, assignment)
        local_pages = sorted(os.listdir(local_out / "feedback" / student / assignment))
        pages = sorted(os.listdir(report.out / "feedback" / student / assignment))
        assert pages == local_pages and pages
    assert cell_grades(report.out) == cell_grades(local_out)
    assert cell_grades(report.out)  # the gradebook holds the graded cells
    by_student = {r.student_id: r for r in report.results if r.assignment == SCALE}
    assert by_student["ref"].score == by_student["ref"].max_score > 0
    assert by_student["blank"].score == 0
    assert 0 < by_student["wrong"].score < by_student["wrong"].max_score  # partial credit
    assert "memory bound" in by_student["hog"].reason and by_student["hog"].score == 0
    assert any("whole-submission bounds by" in line for line in lines)
    assert len(journal_keys(report.out)) == len(set(journal_keys(report.out))) == 24


def test_an_unreachable_scheduler_is_one_line_and_nothing_is_written(mixed_class, tmp_path):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "out"
    command = cli_command(
        "grade", mixed_class, "--out", out, "--scheduler", f"tcp://127.0.0.1:{port}"
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        f"error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}; nothing was graded"
    ], result.stderr
    assert not out.exists()


def test_the_worker_command_joins_the_scheduler_with_the_grading_plugin(cluster, client, tmp_path):
    from fashion_lessons.grading.dask_worker import PLUGIN_NAME

    before = set(client.scheduler_info()["workers"])
    command = cli_command("worker", cluster.scheduler_address)
    command += ["--nthreads", "1", "--name", "extra", "--local-directory", str(tmp_path)]
    worker = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        added: set = set()
        while time.monotonic() < deadline and not added:
            added = set(client.scheduler_info()["workers"]) - before
            time.sleep(0.5)
        assert added, "the worker did not join"
        (address,) = added

        def has_plugin(dask_worker=None):
            return PLUGIN_NAME in dask_worker.plugins

        assert client.run(has_plugin, workers=[address]) == {address: True}
        assert client.scheduler_info()["workers"][address]["name"] == "extra"
        # Its zygotes start with its first submission: joining costs no TensorFlow import.
        commands = []
        for child in psutil.Process(worker.pid).children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                commands.append(" ".join(child.cmdline()))
        assert commands, "the worker command runs its worker in a child process"
        assert not [c for c in commands if "fashion_lessons.sandbox.zygote_server" in c]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)


def test_the_books_slurm_cluster_renders_a_job_script_that_starts_grading_workers():
    """The SLURMCluster example of book/instructors.md, run as written up to its job script."""
    pytest.importorskip("dask_jobqueue")
    page = (REPO / "book" / "instructors.md").read_text()
    (example,) = re.findall(r"```python\n(# slurm_cluster\.py.*?)```", page, flags=re.S)
    setup = example.split("cluster.scale(")[0]  # no jobs submitted here
    namespace: dict = {}
    exec(compile(setup, "slurm_cluster.py", "exec"), namespace)
    cluster = namespace["cluster"]
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert script.startswith("#!/usr/bin/env bash")
    assert "#SBATCH --cpus-per-task=" in script and "#SBATCH -t " in script
    assert re.search(r"-m fashion_lessons\.grading\.dask_worker tcp://\S+:\d+ ", script), script
    assert "--nthreads" in script and "--memory-limit" in script
    assert "module load" not in script or "bubblewrap" in script
