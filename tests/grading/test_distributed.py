"""Grading on a real Dask ``LocalCluster`` (worker processes on loopback): the same grades as
the local pool, cell by cell; workers killed mid-submission; the coordinator killed and
resumed; an unreachable scheduler; the worker command; the SLURM job script of the book."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import distributed
import nbformat
import pytest
from helpers import ASSIGNMENTS, REPO, cli_command, exercise, hand_in, solution, with_answer

from fashion_lessons.grading.config import assignment_ids
from fashion_lessons.grading.distributed import grade_on_cluster
from fashion_lessons.grading.intake import collect_submissions
from fashion_lessons.grading.journal import JOURNAL
from fashion_lessons.grading.late import LATE_COLUMNS
from fashion_lessons.grading.pipeline import grade
from fashion_lessons.grading.reports import GRADES_FILE
from fashion_lessons.grading.types import IsolationOptions
from fashion_lessons.grading.workspace import STATE_DIR, prepare_grading
from fashion_lessons.sandbox.bounds import Bounds

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")

LOAD, SCALE = "01-load-data", "02-scale-pixels"
NOTEBOOK = {a: f"{ASSIGNMENTS[a]}.ipynb" for a in (LOAD, SCALE)}
WRONG = "def scale_pixels(images):\n    return images.astype('float32')\n"
# Three processes, each far below a kernel's own cap, together over the submission's bound.
HOG = (
    "import subprocess, sys\n"
    "child = 'held = []\\nwhile True:\\n    held.append(bytearray(2**24))\\n'\n"
    "children = [subprocess.Popen([sys.executable, '-c', child]) for _ in range(3)]\n"
    "[c.wait() for c in children]\n"
    "def scale_pixels(images):\n    return (images / 255).astype('float32')\n"
)
OPTIONS = IsolationOptions(
    memory_bytes=3 * 2**30, bounds=Bounds(memory_bytes=400 * 2**20), wall_clock_s=240
)


def _answer(code: str):
    return with_answer(solution(SCALE), "scale_pixels", code)


@pytest.fixture(scope="module")
def mixed_class(tmp_path_factory):
    """Reference, blank, wrong and memory-hogging submissions; most assignments missing."""
    folder = tmp_path_factory.mktemp("submissions")
    students = {
        "ref": {LOAD: solution(LOAD), SCALE: solution(SCALE)},
        "blank": {SCALE: exercise(SCALE)},
        "wrong": {SCALE: _answer(WRONG)},
        "hog": {SCALE: _answer(HOG)},
    }
    for student, assignments in students.items():
        for assignment, notebook in assignments.items():
            hand_in(folder, student, assignment, notebook)
    return folder


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes with one thread each, on loopback."""
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
    with distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def local_run(mixed_class, tmp_path_factory):
    """The class graded by today's local pool with two workers."""
    out = tmp_path_factory.mktemp("local") / "out"
    return grade(mixed_class, out, isolation=OPTIONS, workers=2)


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


def _rows(out) -> list[dict]:
    """The grading columns of ``grades.csv``; the CLI adds the term's late-work columns."""
    with open(out / GRADES_FILE, newline="") as stream:
        return [
            {k: v for k, v in row.items() if k not in LATE_COLUMNS}
            for row in csv.DictReader(stream)
        ]


def _journal_keys(out) -> list[tuple[str, str]]:
    journal = out / STATE_DIR / JOURNAL
    entries = [json.loads(line) for line in journal.read_text().splitlines() if line.endswith("}")]
    return [(entry["student_id"], entry["assignment"]) for entry in entries]


def _cells(out, student, assignment):
    """Each cell of the autograded notebook: type, source and outputs (no timings)."""
    path = out / "autograded" / student / assignment / NOTEBOOK[assignment]
    notebook = nbformat.read(path, as_version=4)
    return [
        (cell.cell_type, cell.source, json.dumps(cell.get("outputs", []), sort_keys=True))
        for cell in notebook.cells
    ]


def _cell_grades(out):
    from nbgrader.api import Gradebook, SubmittedNotebook

    grades = {}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
        for submission in gradebook.db.query(SubmittedNotebook):
            for grade in submission.grades:
                key = (submission.student.id, submission.assignment.assignment.name, grade.name)
                grades[key] = (grade.auto_score, grade.manual_score, grade.needs_manual_grade)
            for comment in submission.comments:
                key = (submission.student.id, submission.assignment.assignment.name, comment.name)
                grades[key] = (comment.auto_comment,)
    return grades


def test_the_cluster_grades_like_the_local_pool_cell_by_cell(local_run, cluster_run):
    report, lines = cluster_run
    assert _rows(report.out) == _rows(local_run.out)  # scores, maxima and reasons alike
    assert len(_rows(report.out)) == 4 * len(assignment_ids(report.out))
    graded = [(r.student_id, r.assignment) for r in report.results if r.reason != "no submission"]
    assert len(graded) == 5
    for student, assignment in graded:
        if student != "hog":  # its kernel is killed at a moment that varies from run to run
            assert _cells(report.out, student, assignment) == _cells(
                local_run.out, student, assignment
            ), (student, assignment)
        local_pages = sorted(os.listdir(local_run.out / "feedback" / student / assignment))
        pages = sorted(os.listdir(report.out / "feedback" / student / assignment))
        assert pages == local_pages and pages
    assert _cell_grades(report.out) == _cell_grades(local_run.out)
    assert _cell_grades(report.out)  # the gradebook holds the graded cells
    by_student = {r.student_id: r for r in report.results if r.assignment == SCALE}
    assert by_student["ref"].score == by_student["ref"].max_score > 0
    assert by_student["blank"].score == 0
    assert 0 < by_student["wrong"].score < by_student["wrong"].max_score  # partial credit
    assert "memory bound" in by_student["hog"].reason and by_student["hog"].score == 0
    assert any("whole-submission bounds by" in line for line in lines)
    assert len(_journal_keys(report.out)) == len(set(_journal_keys(report.out))) == 24


def _kill_worker_running(client, student: str, deaths: list, limit: int, stop: threading.Event):
    """Kill (SIGKILL) every worker seen grading ``student``'s task, at most ``limit`` times."""
    while not stop.is_set() and len(deaths) < limit:
        for worker, keys in client.processing().items():
            if any(f"-{student}-" in str(key) for key in keys):
                time.sleep(2)  # well into the submission
                keys = client.processing().get(worker, ())
                if not any(f"-{student}-" in str(key) for key in keys):
                    break
                try:
                    pid = client.run(os.getpid, workers=[worker])[worker]
                except Exception:
                    break
                os.kill(pid, signal.SIGKILL)
                deaths.append((worker, time.monotonic()))
                break  # one worker at a time
        time.sleep(0.2)


def _grade_in_thread(target):
    outcome: dict = {}

    def run():
        try:
            outcome["results"] = target()
        except BaseException as error:  # reported by the test
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_worker_killed_mid_submission_is_graded_again_and_counted_once(
    mixed_class, cluster, client, local_run, tmp_path
):
    out = tmp_path / "out"
    deaths: list = []
    stop = threading.Event()
    thread, outcome = _grade_in_thread(
        lambda: grade(mixed_class, out, isolation=OPTIONS, scheduler=cluster.scheduler_address)
    )
    killer = threading.Thread(target=_kill_worker_running, args=(client, "ref", deaths, 1, stop))
    killer.start()
    thread.join(timeout=900)
    stop.set()
    killer.join()
    assert "error" not in outcome, outcome.get("error")
    assert len(deaths) == 1, "no worker was caught grading the reference submission"
    assert _rows(out) == _rows(local_run.out)
    keys = _journal_keys(out)
    assert len(keys) == len(set(keys)) == 24


def test_a_submission_that_kills_every_worker_is_given_up_and_the_rest_graded(
    mixed_class, cluster, client, tmp_path
):
    prepared = prepare_grading(tmp_path / "out")
    students, _, _ = collect_submissions(mixed_class, prepared)
    pairs = [(s, a) for s in students for a in (LOAD, SCALE)]
    deaths: list = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_worker_running, args=(client, "wrong", deaths, 9, stop))
    killer.start()
    try:
        results = grade_on_cluster(prepared, pairs, "run-killer", client, OPTIONS, max_tries=2)
    finally:
        stop.set()
        killer.join()
        # the given-up submission may still hold a worker's thread until its time limit;
        # fresh workers keep that from delaying the next test
        client.restart(wait_for_workers=True)
    by_pair = {(r.student_id, r.assignment): r for r in results}
    wrong = by_pair[("wrong", SCALE)]
    assert wrong.score == 0 and wrong.reason == "given up: grading it stopped 2 Dask workers"
    assert len(deaths) == 2
    assert by_pair[("ref", SCALE)].score == by_pair[("ref", SCALE)].max_score > 0
    assert by_pair[("ref", LOAD)].score == by_pair[("ref", LOAD)].max_score > 0
    page = prepared.out / "feedback" / "wrong" / SCALE / NOTEBOOK[SCALE].replace("ipynb", "html")
    assert "given up" in page.read_text()
    assert len(results) == len(pairs)


def test_the_coordinator_killed_with_kill_9_resumes_from_its_journal(
    mixed_class, cluster, local_run, tmp_path
):
    calm = tmp_path / "submissions"  # the class without the memory hog (bounds by default)
    shutil.copytree(mixed_class, calm, ignore=shutil.ignore_patterns("hog"))
    out = tmp_path / "out"
    command = cli_command("grade", calm, "--out", out, "--scheduler", cluster.scheduler_address)
    command += ["--memory-gib", "3", "--wall-clock", "240"]
    journal = out / STATE_DIR / JOURNAL
    run = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and run.poll() is None:
        text = journal.read_text() if journal.exists() else ""
        if text.count('"reason": ""') >= 1:  # a graded submission is in, others are not
            break
        time.sleep(0.1)
    assert run.poll() is None, "the run ended before it could be killed"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    before = _journal_keys(out)
    assert 0 < len(before) < 18

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"resuming: {len(set(before))} of 18" in rerun.stdout
    keys = _journal_keys(out)
    assert len(keys) == len(set(keys)) == 18, "a submission was recorded twice or not at all"
    rows = _rows(out)
    assert len(rows) == 18
    local = {(r["student_id"], r["assignment"]): r for r in _rows(local_run.out)}
    for row in rows:
        assert row == local[(row["student_id"], row["assignment"])]


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
