"""The journal and the run id: a killed grading run resumes and grades each submission once."""

from __future__ import annotations

import shutil

import psutil
import pytest
from helpers import cli_command, exercise, hand_in, solution, zygote_processes

from fashion_lessons.grading.journal import JOURNAL, fingerprint, read_journal
from fashion_lessons.grading.workspace import STATE_DIR

ASSIGNMENT = "02-scale-pixels"

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


def test_fingerprint_changes_with_content(tmp_path):
    (tmp_path / "a").write_text("1")
    before = fingerprint(tmp_path)
    (tmp_path / "a").write_text("2")
    assert fingerprint(tmp_path) != before


def test_kill_9_of_the_whole_run_then_rerun_grades_each_submission_once(tmp_path):
    """The grading process group is killed mid-run; the rerun finishes and nothing is lost."""
    import csv
    import os
    import signal
    import subprocess
    import time

    submissions = tmp_path / "submissions"
    students = {f"ref{i}": solution(ASSIGNMENT) for i in range(3)} | {"blank": exercise(ASSIGNMENT)}
    for student, notebook in students.items():
        hand_in(submissions, student, ASSIGNMENT, notebook)
    out = tmp_path / "out"
    command = cli_command("grade", submissions, "--out", out, "--workers", "1")
    journal = out / STATE_DIR / JOURNAL
    zygotes_before = zygote_processes()
    run = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and run.poll() is None:
        lines = journal.read_text().count('"score"') if journal.exists() else 0
        if lines >= 8:  # 6 assignments of the first student are in, the second is running
            break
        time.sleep(0.2)
    assert run.poll() is None, "the run ended before it could be killed"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    time.sleep(1)
    orphans = [
        p.info["cmdline"]
        for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"] and str(out) in " ".join(p.info["cmdline"])
    ]
    assert orphans == [], "workers or kernels outlived the killed run"
    assert zygote_processes() - zygotes_before == set(), "a zygote outlived the killed run"
    graded_before = read_journal(out, (out / ".grading" / "run_id").read_text())

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"resuming: {len(graded_before)} of 24" in rerun.stdout
    entries = [line for line in journal.read_text().splitlines() if line.endswith("}")]
    keys = [(e["student_id"], e["assignment"]) for e in map(__import__("json").loads, entries)]
    assert len(keys) == len(set(keys)) == 24, "a submission was graded twice or not at all"
    with open(out / "grades.csv", newline="") as stream:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(stream)}
    assert len(rows) == 24
    for student in students:
        row = rows[(student, ASSIGNMENT)]
        expected = row["max_score"] if student.startswith("ref") else "0"
        assert row["score"] == expected, (student, row)
    for key, result in graded_before.items():
        assert float(rows[key]["score"]) == result.score  # earlier grades survived
