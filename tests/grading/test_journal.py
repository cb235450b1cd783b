"""The journal and the run id: a killed grading run resumes and grades each submission once."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest
from helpers import (
    REPO,
    cli_command,
    exercise,
    grade_rows,
    hand_in,
    processes_naming,
    run_cli,
    solution,
    zygote_processes,
)

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
    assert processes_naming(out) == [], "workers or kernels outlived the killed run"
    assert zygote_processes() - zygotes_before == set(), "a zygote outlived the killed run"
    graded_before = read_journal(out, (out / ".grading" / "run_id").read_text())

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"resuming: {len(graded_before)} of 24" in rerun.stdout
    entries = [line for line in journal.read_text().splitlines() if line.endswith("}")]
    keys = [(e["student_id"], e["assignment"]) for e in map(__import__("json").loads, entries)]
    assert len(keys) == len(set(keys)) == 24, "a submission was graded twice or not at all"
    rows = grade_rows(out)
    assert len(rows) == 24
    for student in students:
        row = rows[(student, ASSIGNMENT)]
        expected = row["max_score"] if student.startswith("ref") else "0"
        assert row["score"] == expected, (student, row)
    for key, result in graded_before.items():
        assert float(rows[key]["score"]) == result.score  # earlier grades survived


def test_ctrl_c_stops_at_the_submissions_being_graded(tmp_path):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) ends the run with
    130: what was graded stays in the journal, the queued submissions are never started."""
    import os
    import signal
    import subprocess
    import time

    submissions, out = tmp_path / "submissions", tmp_path / "out"
    students = [f"ref{i}" for i in range(6)]
    for student in students:
        hand_in(submissions, student, ASSIGNMENT, solution(ASSIGNMENT))
    run = subprocess.Popen(
        cli_command("grade", submissions, "--out", out, "--workers", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    journal = out / STATE_DIR / JOURNAL
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and run.poll() is None:
        if journal.exists() and f'"{ASSIGNMENT}", "score": 5' in journal.read_text():
            break  # one submission is graded, the next is running
        time.sleep(0.1)
    assert run.poll() is None, "the run ended before it could be interrupted"
    os.killpg(run.pid, signal.SIGINT)
    output, _ = run.communicate(timeout=120)
    assert run.returncode == 130, output
    assert "interrupted" in output and "Traceback" not in output, output
    run_id = (out / STATE_DIR / "run_id").read_text()
    journaled = read_journal(out, run_id)
    graded = {student for student, assignment in journaled if assignment == ASSIGNMENT}
    assert graded and all(journaled[(s, ASSIGNMENT)].score == 5 for s in graded)
    started = {s for s in students if (out / "autograded" / s / ASSIGNMENT).exists()}
    assert len(started - graded) <= 1, f"queued submissions were graded after Ctrl-C: {started}"
    time.sleep(1)
    assert processes_naming(out) == [], "workers or kernels outlived the interrupted run"


def test_another_class_is_refused_unless_fresh_which_replaces_the_grades(tmp_path):
    """A folder holding one run's grades keeps them; ``--fresh`` grades the new class in it."""
    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "out"
    hand_in(first, "blank", ASSIGNMENT, exercise(ASSIGNMENT))
    hand_in(second, "ref", ASSIGNMENT, solution(ASSIGNMENT))
    graded = run_cli("grade", first, "--out", out, "--workers", "1")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    grades = (out / "grades.csv").read_text()

    refused = run_cli("grade", second, "--out", out, "--workers", "1")
    assert refused.returncode != 0
    assert "--fresh" in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    assert (out / "grades.csv").read_text() == grades, "the refused run changed the grades"

    replaced = run_cli("grade", second, "--out", out, "--workers", "1", "--fresh")
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr
    rows = grade_rows(out)
    assert {student for student, _ in rows} == {"ref"}, "the first class's rows remain"
    row = rows[("ref", ASSIGNMENT)]
    assert float(row["score"]) == float(row["max_score"]) > 0, row
    assert not (out / "feedback" / "blank").exists(), "the first class's feedback remains"


PRE_LAYERS_COMMIT = "ff9c44b"
"""The last commit whose grading side was one module (course.py) beside isolation.py."""


@pytest.fixture
def pre_layers_checkout(tmp_path) -> Path:
    """The package, nbgrader_config.py and one assignment of ``PRE_LAYERS_COMMIT``."""
    import subprocess
    import tarfile

    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs the repository's git history")
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", PRE_LAYERS_COMMIT]
        + ["fashion_lessons", "nbgrader_config.py", "solutions/header.ipynb"]
        + [f"solutions/{ASSIGNMENT}"],  # one assignment keeps the gradebook quick to build
        capture_output=True,
        timeout=60,
    )
    if archive.returncode != 0:
        pytest.skip(f"commit {PRE_LAYERS_COMMIT} is not in this clone (a shallow one?)")
    checkout = tmp_path / "pre-layers"
    checkout.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(checkout, filter="data")
    return checkout


def test_a_run_started_by_the_pre_layers_code_resumes_with_the_same_grades(
    tmp_path, pre_layers_checkout
):
    """Killed mid-run under the old code, finished by this one: nothing graded twice, and
    the grades are those of a run of the old code alone."""
    import os
    import signal
    import subprocess
    import time

    from fashion_lessons.grading.pipeline import grade
    from fashion_lessons.grading.types import IsolationOptions

    submissions = tmp_path / "submissions"
    students = {"blank": exercise(ASSIGNMENT), "ref0": solution(ASSIGNMENT)}
    students["ref1"] = solution(ASSIGNMENT)
    for student, notebook in students.items():
        hand_in(submissions, student, ASSIGNMENT, notebook)
    out = tmp_path / "out"
    # Unsandboxed: the sandbox would show kernels this checkout's package, not the old one.
    old = [sys.executable, "-m", "fashion_lessons.cli", "grade", str(submissions)]
    old += ["--out", str(out), "--workers", "1", "--no-sandbox"]
    env = dict(os.environ, PYTHONPATH=str(pre_layers_checkout))
    run = subprocess.Popen(
        old,
        cwd=pre_layers_checkout,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    journal = out / STATE_DIR / JOURNAL
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and run.poll() is None:
        if journal.exists() and journal.read_text().count('"score"') >= 1:
            break  # the first student is in, the second one's notebook is running
        time.sleep(0.1)
    assert run.poll() is None, "the old run ended before it could be killed"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert "fashion_lessons.hardening" in (out / "nbgrader_config.py").read_text()
    graded_before = read_journal(out, (out / STATE_DIR / "run_id").read_text())

    lines = []
    report = grade(
        submissions,
        out,
        root=pre_layers_checkout,
        isolation=IsolationOptions(sandbox=False),
        progress=lines.append,
    )
    assert f"resuming: {len(graded_before)} of 3 submissions already graded" in lines
    keys = [(r.student_id, r.assignment) for r in read_journal(out, _run_id(out)).values()]
    assert len(keys) == len(set(keys)) == 3
    rows = grade_rows(report.out)
    for student in students:
        row = rows[(student, ASSIGNMENT)]
        expected = row["max_score"] if student.startswith("ref") else "0"
        assert row["score"] == expected, (student, row)
    assert float(rows[("ref0", ASSIGNMENT)]["max_score"]) > 0
    for key, result in graded_before.items():
        assert float(rows[key]["score"]) == result.score


def _run_id(out: Path) -> str:
    return (out / STATE_DIR / "run_id").read_text()
