"""Faults while grading on a Dask ``LocalCluster``: a worker killed mid-submission, a
submission that kills every worker, the coordinator killed with ``kill -9`` and resumed,
another coordinator starting while a submission is being graded."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time

import pytest
from dask_class import LOAD, NOTEBOOK, OPTIONS, SCALE, journal_keys, rows
from helpers import cli_command, hand_in, solution, with_answer

from fashion_lessons.grading.dask_worker import PLUGIN_NAME, GradingPlugin
from fashion_lessons.grading.distributed import grade_on_cluster
from fashion_lessons.grading.intake import collect_submissions
from fashion_lessons.grading.journal import JOURNAL
from fashion_lessons.grading.pipeline import grade
from fashion_lessons.grading.workspace import STATE_DIR, prepare_grading

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


def _pid_if_grading(student: str, dask_worker=None) -> int | None:
    """On a worker: its process id if a thread of it is grading ``student`` right now."""
    running = [str(task.key) for task in dask_worker.state.all_running_tasks]
    return os.getpid() if any(f"-{student}-" in key for key in running) else None


def _kill_worker_running(client, student: str, deaths: list, limit: int, stop: threading.Event):
    """Kill (SIGKILL) every worker seen grading ``student``'s task, at most ``limit`` times.

    Each worker reports what it is executing itself: the scheduler's view lags a killed
    worker, and a submission may be over before a delay chosen here would end.
    """
    while not stop.is_set() and len(deaths) < limit:
        # A worker that is just dying or restarting answers with an error: skipped.
        answers = client.run(_pid_if_grading, student, on_error="return")
        for worker, pid in answers.items():
            if isinstance(pid, int):
                os.kill(pid, signal.SIGKILL)
                deaths.append((worker, time.monotonic()))
                break  # one worker at a time
        time.sleep(0.1)


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
    mixed_class, cluster, client, local_out, tmp_path
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
    assert rows(out) == rows(local_out)
    keys = journal_keys(out)
    assert len(keys) == len(set(keys)) == 24


def test_the_coordinator_killed_with_kill_9_resumes_from_its_journal(
    mixed_class, cluster, local_out, tmp_path
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
    before = journal_keys(out)
    assert 0 < len(before) < 18

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"resuming: {len(set(before))} of 18" in rerun.stdout
    keys = journal_keys(out)
    assert len(keys) == len(set(keys)) == 18, "a submission was recorded twice or not at all"
    graded = rows(out)
    assert len(graded) == 18
    local = {(r["student_id"], r["assignment"]): r for r in rows(local_out)}
    for row in graded:
        assert row == local[(row["student_id"], row["assignment"])]


# Sleeps in the answer cell, so its kernel is still running when a new plugin arrives.
SLOW = (
    "import time\n\ntime.sleep(5)\n\n"
    "def scale_pixels(images):\n    return np.asarray(images, dtype=np.float32) / np.float32(255)\n"
)


def _kernel_running(student: str, dask_worker=None) -> bool:
    """On a worker: whether nbgrader has started executing ``student``'s notebook, which
    it copies into the autograded folder first."""
    home = getattr(dask_worker.plugins.get(PLUGIN_NAME), "home", None)
    return home is not None and any(home.glob(f"courses/*/out/autograded/{student}"))


def _plugin_folders(dask_worker=None) -> tuple[list[str], str]:
    """On a worker: the plugins' folders there, and the current plugin's."""
    home = dask_worker.plugins[PLUGIN_NAME].home
    return sorted(os.listdir(home.parent)), home.name


def test_a_coordinator_starting_meanwhile_does_not_disturb_a_submission_being_graded(
    cluster, client, tmp_path
):
    """A coordinator that starts (a resumed run, say) registers the grading plugin anew,
    and Dask tears the old one down: a kernel still grading with the old plugin keeps
    its zygote and folder, and both go once it ends."""
    submissions = tmp_path / "submissions"
    hand_in(submissions, "slow", SCALE, with_answer(solution(SCALE), "scale_pixels", SLOW))
    prepared = prepare_grading(tmp_path / "out")
    collect_submissions(submissions, prepared)
    thread, outcome = _grade_in_thread(
        lambda: grade_on_cluster(prepared, [("slow", SCALE)], "run-slow", client, OPTIONS)
    )
    deadline = time.monotonic() + 300
    # a worker that cannot answer (one restarting) returns its error: not a yes
    while True not in client.run(_kernel_running, "slow", on_error="return").values():
        assert time.monotonic() < deadline and thread.is_alive(), outcome
        time.sleep(0.1)
    # as every coordinator does when it starts
    client.register_plugin(GradingPlugin(OPTIONS), name=PLUGIN_NAME)
    thread.join(timeout=600)
    assert "error" not in outcome, outcome.get("error")
    [result] = outcome["results"]
    assert result.score == result.max_score > 0 and result.reason == "", result
    assert result.seconds < OPTIONS.wall_clock_s / 2, result  # never waited for the limit
    for folders, current in client.run(_plugin_folders).values():
        assert folders == [current]  # the retired plugin's folder is gone


def test_a_submission_that_kills_every_worker_is_given_up_and_the_rest_graded(
    mixed_class, cluster, client, tmp_path
):
    """Last in the file: the given-up submission may hold a worker's thread until its time
    limit, and only closing the cluster ends that."""
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
    by_pair = {(r.student_id, r.assignment): r for r in results}
    wrong = by_pair[("wrong", SCALE)]
    assert wrong.score == 0 and wrong.reason == "given up: grading it stopped 2 Dask workers"
    assert len(deaths) == 2
    assert by_pair[("ref", SCALE)].score == by_pair[("ref", SCALE)].max_score > 0
    assert by_pair[("ref", LOAD)].score == by_pair[("ref", LOAD)].max_score > 0
    page = prepared.out / "feedback" / "wrong" / SCALE / NOTEBOOK[SCALE].replace("ipynb", "html")
    assert "given up" in page.read_text()
    assert len(results) == len(pairs)
