"""Grading in killable worker processes: sandbox, wall-clock limit, journal and resume."""

from __future__ import annotations

import shutil

import nbformat
import psutil
import pytest
from helpers import cli_command, exercise, hand_in, solution, with_answer, zygote_processes

from fashion_lessons.grading.intake import collect_submissions
from fashion_lessons.grading.journal import JOURNAL, read_journal
from fashion_lessons.grading.pool import grade_all
from fashion_lessons.grading.types import IsolationOptions
from fashion_lessons.grading.workers import autograde_isolated
from fashion_lessons.grading.workspace import STATE_DIR, prepare_grading

ASSIGNMENT = "02-scale-pixels"
NOTEBOOK = "scale_pixels.ipynb"
# Never returns; sleeps rather than spins, so the wait costs no CPU on a shared machine.
SPIN = "import time\n\ndef scale_pixels(images):\n    while True:\n        time.sleep(0.1)\n"
WHO_AM_I = (
    "import os, sys\nprint('uid', os.getuid())\n"
    "print('tensorflow imported:', 'tensorflow' in sys.modules)\n"
    "def scale_pixels(images):\n    return (images / 255).astype('float32')\n"
)

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """A grading folder with four students of one assignment, collected, not yet graded."""
    submissions = tmp_path_factory.mktemp("submissions")
    for student, notebook in {
        "ref": solution(ASSIGNMENT),
        "blank": exercise(ASSIGNMENT),
        "spin": with_answer(solution(ASSIGNMENT), "scale_pixels", SPIN),
        "whoami": with_answer(solution(ASSIGNMENT), "scale_pixels", WHO_AM_I),
    }.items():
        hand_in(submissions, student, ASSIGNMENT, notebook)
    prepared = prepare_grading(tmp_path_factory.mktemp("grading") / "out")
    collect_submissions(submissions, prepared)
    return prepared


def test_collected_students_are_in_the_gradebook_before_any_worker_starts(graded_course):
    """Two workers grading one student's assignments at once must not both add the student."""
    from nbgrader.api import Gradebook

    with Gradebook(graded_course.db_url, graded_course.course_id) as gradebook:
        assert sorted(s.id for s in gradebook.students) == ["blank", "ref", "spin", "whoami"]


def _printed_lines(course, student: str) -> list[str]:
    """The lines a student's graded notebook printed."""
    graded = nbformat.read(course.out / "autograded" / student / ASSIGNMENT / NOTEBOOK, 4)
    return [
        line
        for cell in graded.cells
        for output in cell.get("outputs", [])
        for line in output.get("text", "").splitlines()
    ]


def test_kernels_run_sandboxed_as_an_unprivileged_user(graded_course):
    result = autograde_isolated(graded_course, "whoami", ASSIGNMENT)
    assert result.score == result.max_score > 0, result.reason
    assert [line for line in _printed_lines(graded_course, "whoami") if "uid" in line] == [
        "uid 1000"
    ]


def test_a_run_of_notebooks_without_tensorflow_forks_kernels_without_it(graded_course):
    """Zygotes preload what the handed-in notebooks import; a missing one adds nothing."""
    pairs = [("whoami", ASSIGNMENT), ("whoami", "04-train-evaluate")]
    shown, missing = grade_all(graded_course, pairs, "run-preloads", workers=2)
    assert shown.score == shown.max_score > 0, shown.reason
    assert missing.reason == "no submission"
    assert "tensorflow imported: False" in _printed_lines(graded_course, "whoami")


def test_wall_clock_limit_kills_the_worker_and_its_kernel(graded_course):
    options = IsolationOptions(wall_clock_s=20)
    result = autograde_isolated(graded_course, "spin", ASSIGNMENT, options)
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


def test_a_submission_killed_by_the_wall_clock_leaves_its_zygote_clean(graded_course):
    """The next student on the same zygote is graded in full; no kernel outlives the run."""
    before = zygote_processes()
    options = IsolationOptions(wall_clock_s=20)
    pairs = [("spin", ASSIGNMENT), ("ref", ASSIGNMENT)]
    spin, ref = grade_all(graded_course, pairs, "run-spin", options, workers=1)
    assert spin.score == 0 and "wall-clock limit of 20 s" in spin.reason
    assert ref.score == ref.max_score > 0, ref.reason
    assert zygote_processes() - before == set()


def test_fresh_kernels_grade_like_forked_ones(graded_course):
    pairs = [("ref", ASSIGNMENT), ("whoami", ASSIGNMENT), ("blank", ASSIGNMENT)]
    forked = grade_all(graded_course, pairs, "run-forked", workers=2)
    fresh_options = IsolationOptions(zygote=False)
    fresh = grade_all(graded_course, pairs, "run-fresh", fresh_options, workers=2)
    assert [r.score for r in fresh] == [r.score for r in forked]
    assert [r.score > 0 for r in fresh] == [True, True, False]


def test_parallel_grading_is_journaled_and_resumes_without_regrading(graded_course):
    pairs = [("ref", ASSIGNMENT), ("blank", ASSIGNMENT)]
    first = grade_all(graded_course, pairs, identity="run-1", workers=2)
    assert [r.student_id for r in first] == ["ref", "blank"]
    assert first[0].score == first[0].max_score > 0 and first[1].score == 0
    lines = []
    again = grade_all(graded_course, pairs, identity="run-1", workers=2, progress=lines.append)
    assert again == first  # read back from the journal, seconds included: nothing re-ran
    assert lines == ["resuming: 2 of 2 submissions already graded"]
    # A torn last line (a kill mid-write) is ignored, not fatal.
    journal = graded_course.out / STATE_DIR / JOURNAL
    with open(journal, "a") as stream:
        stream.write('{"run_id": "run-1", "student_id": "ref"')
    assert read_journal(graded_course.out, "run-1").keys() == set(pairs)


def test_a_corrupt_dataset_stops_grading_before_anyone_is_zeroed(tmp_path, data_copy):
    """Grading refuses to start, says why, and leaves an earlier run's grades alone."""
    import os
    import subprocess

    submissions = tmp_path / "submissions"
    hand_in(submissions, "ref", ASSIGNMENT, solution(ASSIGNMENT))
    out = tmp_path / "out"
    out.mkdir()
    (out / ".fashion-lessons-grading").write_text("made by fashion-lessons grade\n")
    (out / "grades.csv").write_text("student_id,assignment,score,max_score,reason\n")
    before = (out / "grades.csv").read_bytes()
    (data_copy / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08\x00 broken")
    env = dict(os.environ, FASHION_MNIST_DIR=str(data_copy))
    run = subprocess.run(
        cli_command("grade", submissions, "--out", out),
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

    submissions = tmp_path / "submissions"
    for student in ("ref1", "ref2"):
        hand_in(submissions, student, ASSIGNMENT, solution(ASSIGNMENT))
    out = tmp_path / "out"
    (out / "feedback").mkdir(parents=True)
    (out / ".fashion-lessons-grading").write_text("made by fashion-lessons grade\n")
    grade = cli_command("grade", submissions, "--out", out, "--workers", "1")
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


def test_the_workers_warm_up_renders_a_feedback_page():
    """What the workers' server runs before forking them works (its import hides failures)."""
    from fashion_lessons.grading.worker_warmup import warm_up

    page = warm_up()
    assert "<em>Notes</em>" in page and "Content-Security-Policy" in page
