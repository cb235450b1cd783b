"""Grading in killable worker processes: sandbox, wall-clock limit, journal and resume."""

from __future__ import annotations

import shutil

import nbformat
import psutil
import pytest
from conftest import REPO

from fashion_lessons import course, isolation

ASSIGNMENT = "02-scale-pixels"
NOTEBOOK = "scale_pixels.ipynb"
SPIN = "def scale_pixels(images):\n    while True:\n        pass\n"
WHO_AM_I = (
    "import os\nprint('uid', os.getuid())\n"
    "def scale_pixels(images):\n    return (images / 255).astype('float32')\n"
)

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


def _answer(code: str):
    notebook = nbformat.read(REPO / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)
    (cell,) = [
        c
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "scale_pixels"
    ]
    cell.source = code
    return notebook


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """A grading folder with four students of one assignment, collected, not yet graded."""
    submissions = tmp_path_factory.mktemp("submissions")
    for student, notebook in {
        "ref": nbformat.read(REPO / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4),
        "blank": nbformat.read(REPO / "exercises" / ASSIGNMENT / NOTEBOOK, as_version=4),
        "spin": _answer(SPIN),
        "whoami": _answer(WHO_AM_I),
    }.items():
        folder = submissions / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / NOTEBOOK)
    prepared = course.prepare_grading(tmp_path_factory.mktemp("grading") / "out")
    course.collect_submissions(submissions, prepared)
    return prepared


def test_kernels_run_sandboxed_as_an_unprivileged_user(graded_course):
    result = isolation.autograde_isolated(graded_course, "whoami", ASSIGNMENT)
    assert result.score == result.max_score > 0, result.reason
    graded = nbformat.read(
        graded_course.out / "autograded" / "whoami" / ASSIGNMENT / NOTEBOOK, as_version=4
    )
    printed = [
        output.get("text", "")
        for cell in graded.cells
        for output in cell.get("outputs", [])
        if "uid" in output.get("text", "")
    ]
    assert printed == ["uid 1000\n"]


def test_wall_clock_limit_kills_the_worker_and_its_kernel(graded_course):
    options = isolation.IsolationOptions(wall_clock_s=20)
    result = isolation.autograde_isolated(graded_course, "spin", ASSIGNMENT, options)
    assert result.score == 0 and "wall-clock limit of 20 s" in result.reason
    assert result.seconds < 60
    leftovers = [
        p.info["cmdline"]
        for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"] and str(graded_course.out) in " ".join(p.info["cmdline"])
    ]
    assert leftovers == []
    # Nothing half-graded stays in the gradebook.
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(graded_course.db_url, "fashion-lessons") as gradebook:
        with pytest.raises(MissingEntry):
            gradebook.find_submission(ASSIGNMENT, "spin")


def _zygote_processes() -> set[int]:
    """Zygotes, their kernels (forked, so named alike) and kernel launchers."""
    return {
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if "fashion_lessons.zygote" in " ".join(p.info["cmdline"] or [])
    }


def test_a_submission_killed_by_the_wall_clock_leaves_its_zygote_clean(graded_course):
    """The next student on the same zygote is graded in full; no kernel outlives the run."""
    before = _zygote_processes()
    options = isolation.IsolationOptions(wall_clock_s=20)
    pairs = [("spin", ASSIGNMENT), ("ref", ASSIGNMENT)]
    spin, ref = isolation.grade_all(graded_course, pairs, "run-spin", options, workers=1)
    assert spin.score == 0 and "wall-clock limit of 20 s" in spin.reason
    assert ref.score == ref.max_score > 0, ref.reason
    assert _zygote_processes() - before == set()


def test_fresh_kernels_grade_like_forked_ones(graded_course):
    pairs = [("ref", ASSIGNMENT), ("whoami", ASSIGNMENT), ("blank", ASSIGNMENT)]
    forked = isolation.grade_all(graded_course, pairs, "run-forked", workers=2)
    fresh_options = isolation.IsolationOptions(zygote=False)
    fresh = isolation.grade_all(graded_course, pairs, "run-fresh", fresh_options, workers=2)
    assert [r.score for r in fresh] == [r.score for r in forked]
    assert [r.score > 0 for r in fresh] == [True, True, False]


def test_parallel_grading_is_journaled_and_resumes_without_regrading(graded_course):
    pairs = [("ref", ASSIGNMENT), ("blank", ASSIGNMENT)]
    first = isolation.grade_all(graded_course, pairs, run_id="run-1", workers=2)
    assert [r.student_id for r in first] == ["ref", "blank"]
    assert first[0].score == first[0].max_score > 0 and first[1].score == 0
    lines = []
    again = isolation.grade_all(
        graded_course, pairs, run_id="run-1", workers=2, progress=lines.append
    )
    assert again == first  # read back from the journal, seconds included: nothing re-ran
    assert lines == ["resuming: 2 of 2 submissions already graded"]
    # A torn last line (a kill mid-write) is ignored, not fatal.
    journal = graded_course.out / isolation.STATE_DIR / isolation.JOURNAL
    with open(journal, "a") as stream:
        stream.write('{"run_id": "run-1", "student_id": "ref"')
    assert isolation.read_journal(graded_course.out, "run-1").keys() == set(pairs)


def test_fingerprint_changes_with_content(tmp_path):
    (tmp_path / "a").write_text("1")
    before = isolation.fingerprint(tmp_path)
    (tmp_path / "a").write_text("2")
    assert isolation.fingerprint(tmp_path) != before


def test_kill_9_of_the_whole_run_then_rerun_grades_each_submission_once(tmp_path):
    """The grading process group is killed mid-run; the rerun finishes and nothing is lost."""
    import csv
    import os
    import signal
    import subprocess
    import sys
    import time

    submissions = tmp_path / "submissions"
    students = {f"ref{i}": "solutions" for i in range(3)} | {"blank": "exercises"}
    for student, source in students.items():
        folder = submissions / student / ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copy(REPO / source / ASSIGNMENT / NOTEBOOK, folder / NOTEBOOK)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "fashion_lessons.cli", "grade", str(submissions)]
    command += ["--out", str(out), "--workers", "1"]
    journal = out / isolation.STATE_DIR / isolation.JOURNAL
    zygotes_before = _zygote_processes()
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
    assert _zygote_processes() - zygotes_before == set(), "a zygote outlived the killed run"
    graded_before = isolation.read_journal(out, (out / ".grading" / "run_id").read_text())

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


def test_a_corrupt_dataset_stops_grading_before_anyone_is_zeroed(tmp_path, data_copy):
    """Grading refuses to start, says why, and leaves an earlier run's grades alone."""
    import os
    import subprocess
    import sys

    submissions = tmp_path / "submissions"
    (submissions / "ref" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(REPO / "solutions" / ASSIGNMENT / NOTEBOOK, submissions / "ref" / ASSIGNMENT)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".fashion-lessons-grading").write_text("made by fashion-lessons grade\n")
    (out / "grades.csv").write_text("student_id,assignment,score,max_score,reason\n")
    before = (out / "grades.csv").read_bytes()
    (data_copy / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08\x00 broken")
    env = dict(os.environ, FASHION_MNIST_DIR=str(data_copy))
    run = subprocess.run(
        [sys.executable, "-m", "fashion_lessons.cli", "grade", str(submissions), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 2
    assert "dataset is not usable" in run.stderr and "t10k-images-idx3-ubyte.gz" in run.stderr
    assert "Traceback" not in run.stderr
    assert (out / "grades.csv").read_bytes() == before


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_a_full_disk_while_writing_feedback_keeps_grades_consistent(tmp_path):
    """Feedback lands on a full file system; scores, gradebook and grades.csv stay right."""
    import csv
    import subprocess
    import sys

    submissions = tmp_path / "submissions"
    for student in ("ref1", "ref2"):
        (submissions / student / ASSIGNMENT).mkdir(parents=True)
        shutil.copy(REPO / "solutions" / ASSIGNMENT / NOTEBOOK, submissions / student / ASSIGNMENT)
    out = tmp_path / "out"
    (out / "feedback").mkdir(parents=True)
    (out / ".fashion-lessons-grading").write_text("made by fashion-lessons grade\n")
    grade = [sys.executable, "-m", "fashion_lessons.cli", "grade", str(submissions)]
    grade += ["--out", str(out), "--workers", "1"]
    # A private mount namespace with a 16 KiB file system as OUT/feedback: it fills up
    # with the first feedback page.
    script = f"mount -t tmpfs -o size=16k tmpfs {out / 'feedback'} && " + " ".join(
        f"'{part}'" for part in grade
    )
    run = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if "mount" in run.stderr and "permission denied" in run.stderr.lower():
        pytest.skip("mounting a file system is not allowed here")
    assert run.returncode == 0, run.stdout + run.stderr
    with open(out / "grades.csv", newline="") as stream:
        rows = {r["student_id"]: r for r in csv.DictReader(stream) if r["assignment"] == ASSIGNMENT}
    for student in ("ref1", "ref2"):
        assert rows[student]["score"] == rows[student]["max_score"] != "0", rows[student]
        assert "no feedback" in rows[student]["reason"], rows[student]
        assert "No space left on device" in rows[student]["reason"], rows[student]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", "fashion-lessons") as gradebook:
        for student in ("ref1", "ref2"):
            submission = gradebook.find_submission(ASSIGNMENT, student)
            assert submission.score == float(rows[student]["score"])
