"""The whole term as the instructors page shows it: every command of its "whole term"
section is run here, in order, on Canvas and Moodle downloads built here (with hostile
entries), and the page's shown outputs are compared with the real ones.

Real zip files, the real `fashion-lessons grade` (sandboxed), and the exported CSVs
checked cell by cell against the penalties computed here from the dates.
"""

from __future__ import annotations

import csv
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from graded_class import WRONG
from helpers import REPO, cli_command, solution, with_answer

from fashion_lessons.grading.late import FINAL_SCORES_HEADING

ROSTER = """student_id,name,email,canvas_id,sis_user_id,sis_login_id,section,idnumber
jdoe,Jane Doe,jane@example.edu,101,S101,jdoe,A,N101
jsmith,John Smith,john@example.edu,102,S102,jsmith,A,N102
alee,Ann Lee,ann@example.edu,103,S103,alee,B,N103
ext,Eve Xu,eve@example.edu,104,S104,exu,B,N104
absent,Al Sent,al@example.edu,105,S105,asent,B,N105
"""
PAGE = REPO / "book" / "instructors.md"


def term_section() -> str:
    """The "whole term" section of the instructors page."""
    text = PAGE.read_text(encoding="utf-8")
    start = text.index("(the-whole-term)=")
    return text[start : text.index("\n## ", start + 20)]


def fenced(language: str) -> list[str]:
    """The contents of the section's code blocks in ``language``."""
    return re.findall(rf"^```{language}\n(.*?)^```$", term_section(), flags=re.M | re.S)


def console_steps() -> list[tuple[str, list[str]]]:
    """(command, shown output lines) of every ``$`` line of the section's console blocks."""
    steps = []
    for block in fenced("console"):
        lines = block.splitlines()
        while lines:
            command = lines.pop(0)
            assert command.startswith("$ "), command
            while command.endswith("\\"):
                command = command[:-1] + lines.pop(0)
            output = []
            while lines and not lines[0].startswith("$ "):
                output.append(lines.pop(0))
            steps.append((" ".join(command[2:].split()), output))
    return steps


def shows(shown: list[str], real: str) -> bool:
    """Whether ``real`` is what the page shows: a line ``...`` stands for any lines, ``...``
    in a line for any text, and a number of seconds for any number."""
    parts = []
    for line in shown:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
            continue
        tokens = re.split(r"(\.\.\.|\b\d+(?:\.\d+)? s\b)", line)
        pattern = "".join(
            "[^\n]*" if t == "..." else r"[\d.]+ s" if t.endswith(" s") else re.escape(t)
            for t in tokens
        )
        parts.append(pattern + r"\n")
    return re.fullmatch("".join(parts), real.rstrip("\n") + "\n") is not None


def released_in_a_copy(root: Path) -> subprocess.CompletedProcess:
    """`fashion-lessons release` on a copy of the course, so the repository stays as it is."""
    course = root / "course"
    course.mkdir()
    for name in ("solutions", "fashion_lessons"):
        shutil.copytree(REPO / name, course / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "nbgrader_config.py", course)
    env = {**os.environ, "PYTHONPATH": str(course)}
    command = [sys.executable, "-m", "fashion_lessons.cli", "release"]
    return subprocess.run(command, capture_output=True, text=True, cwd=course, env=env)


def run_step(command: str, root: Path) -> subprocess.CompletedProcess:
    """Run one command of the page in ``root``, as an instructor types it."""
    args = shlex.split(command)
    if args == ["fashion-lessons", "release"]:
        return released_in_a_copy(root)
    if args[0] == "fashion-lessons":
        args = cli_command(*args[1:])
    elif args[0] == "python":
        args = [sys.executable, *args[1:]]
    return subprocess.run(args, capture_output=True, text=True, timeout=900, cwd=root)


STEPS = {
    "canvas": "import canvas",
    "moodle": "import moodle",
    "grade": "grade",
    "export-canvas": "export canvas",
    "export-moodle": "export moodle",
    "similarity": "similarity",
}
"""Short names of the page's commands the checks below look at."""


def step(runs: dict, prefix: str) -> subprocess.CompletedProcess:
    """The run of the page's one command that starts with ``prefix``."""
    (found,) = [run for command, run in runs.items() if command.startswith(prefix)]
    return found


def add(archive, name, data, when, mode=None):
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        info.external_attr = mode << 16
    archive.writestr(info, data)


def wrong_01() -> bytes:
    notebook = with_answer(solution("01-load-data"), *WRONG["01-load-data"])
    return nbformat.writes(notebook).encode()


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """The whole term's files and the outputs of every command."""
    root = tmp_path_factory.mktemp("term")
    (root / "roster.csv").write_text(ROSTER)
    (root / "course.toml").write_text(fenced("toml")[0])
    ref01, ref02 = solution("01-load-data").read_bytes(), solution("02-scale-pixels").read_bytes()
    with zipfile.ZipFile(root / "canvas.zip", "w") as archive:
        add(archive, "doejane_101_5001_load_data.ipynb", ref01, (2026, 10, 5, 20, 0, 0))
        # 30 h late: 2 started days, 20 %
        add(archive, "smithjohn_LATE_102_5002_load_data-2.ipynb", ref01, (2026, 10, 7, 5, 59, 0))
        add(archive, "leeann_103_5003_load_data (1).ipynb", wrong_01(), (2026, 10, 5, 9, 0, 0))
        # 30 h after the due date, but within the extension
        add(archive, "xueve_LATE_104_5004_load_data.ipynb", ref01, (2026, 10, 7, 5, 59, 0))
        add(archive, "../../escape_105_1_load_data.ipynb", ref01, (2026, 10, 5, 9, 0, 0))
        add(archive, "sentai_105_2_x.ipynb", b"/etc/passwd", (2026, 10, 5, 9, 0, 0), stat.S_IFLNK)
        add(archive, "sentai_105_3_notes.txt", b"notes", (2026, 10, 5, 9, 0, 0))
    with zipfile.ZipFile(root / "moodle.zip", "w") as archive:
        folder = "{}_{}_assignsubmission_file_/scale_pixels.ipynb"
        add(archive, folder.format("Jane Doe", 7001), ref02, (2026, 10, 12, 8, 0, 0))
        # 8 days late: beyond zero_after_days
        add(archive, folder.format("John Smith", 7002), ref02, (2026, 10, 20, 23, 59, 0))
        escaping = "Ann Lee_7003_assignsubmission_file_/../../../evil.ipynb"
        add(archive, escaping, ref02, (2026, 10, 12, 8, 0, 0))
    submissions = root / "submissions"
    page = {command: run_step(command, root) for command, _ in console_steps()}
    runs = {name: step(page, f"fashion-lessons {command}") for name, command in STEPS.items()}
    runs["page"] = page
    return root, submissions, runs


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(newline="", encoding="utf-8")))


def test_imports_land_and_hostile_entries_are_refused(term):
    root, submissions, runs = term
    for lms in ("canvas", "moodle"):
        run = runs[lms]
        assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(p.name for p in submissions.iterdir()) == ["alee", "ext", "jdoe", "jsmith"]
    assert (submissions / "alee/01-load-data/load_data.ipynb").exists()  # renamed
    assert not (submissions / "alee/02-scale-pixels").exists()
    assert not list(root.glob("escape*")) and not list(root.parent.glob("evil*"))
    report = rows(root / "canvas-import.csv")
    refused = [r["entry"] for r in report if r["status"] == "refused"]
    assert len(refused) == 3
    assert [r["student_id"] for r in report if r["status"] == "missing"] == ["absent"]
    assert (
        "did not hand in: alee, absent, ext"
        in runs["moodle"].stdout.replace("absent, alee, ext", "alee, absent, ext")
        or "did not hand in: absent, alee, ext" in runs["moodle"].stdout
    )


def test_grades_csv_has_late_columns(term):
    root, _, runs = term
    assert runs["grade"].returncode == 0, runs["grade"].stdout + runs["grade"].stderr
    grades = {(r["student_id"], r["assignment"]): r for r in rows(root / "out" / "grades.csv")}
    max01 = float(grades[("jdoe", "01-load-data")]["max_score"])
    max02 = float(grades[("jdoe", "02-scale-pixels")]["max_score"])

    def check(student, assignment, raw, late_by, penalty):
        row = grades[(student, assignment)]
        assert float(row["score"]) == pytest.approx(raw), row
        assert float(row["late_by"]) == pytest.approx(late_by, abs=0.01), row
        assert float(row["penalty"]) == pytest.approx(penalty), row
        assert float(row["final_score"]) == pytest.approx(raw - penalty), row

    check("jdoe", "01-load-data", max01, 0, 0)
    check("jsmith", "01-load-data", max01, 30, round(0.2 * max01, 2))
    check("ext", "01-load-data", max01, 0, 0)
    wrong = float(grades[("alee", "01-load-data")]["score"])
    assert 0 < wrong < max01
    check("alee", "01-load-data", wrong, 0, 0)
    check("jdoe", "02-scale-pixels", max02, 0, 0)
    check("jsmith", "02-scale-pixels", max02, 8 * 24, max02)
    assert grades[("alee", "02-scale-pixels")]["reason"] == "no submission"
    page = (root / "out/feedback/jsmith/01-load-data/load_data.html").read_text()
    assert "Late penalty: 10% per started day late" in page and "Content-Security-Policy" in page
    penalty = grades[("jsmith", "01-load-data")]["penalty"]
    assert f"jsmith 01-load-data: late by 30.00 h, -{penalty} points" in runs["grade"].stdout
    summary = (root / "out" / "summary.txt").read_text(encoding="utf-8")
    assert summary.startswith(FINAL_SCORES_HEADING)
    jsmith = next(line for line in summary.splitlines() if line.startswith("jsmith "))
    final = float(grades[("jsmith", "01-load-data")]["final_score"])
    assert f"{final:g}/{max01:g}*" in jsmith and f"0/{max02:g}*" in jsmith


def test_exported_canvas_and_moodle_files(term):
    root, _, runs = term
    grades = {(r["student_id"], r["assignment"]): r for r in rows(root / "out" / "grades.csv")}
    assert runs["export-canvas"].returncode == 0, step(runs, "fashion-lessons export canvas").stderr
    canvas = list(csv.reader((root / "canvas.csv").open(newline="")))
    header = canvas[0]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert "01-load-data (9001)" in header and "02-scale-pixels" in header
    assert canvas[1][0] == "Points Possible"
    by_id = {row[1]: row for row in canvas[2:]}
    assert sorted(by_id) == ["101", "102", "103", "104", "105"]
    ids = {"101": "jdoe", "102": "jsmith", "103": "alee", "104": "ext"}
    for column, assignment in ((5, "01-load-data"), (6, "02-scale-pixels")):
        assert canvas[1][column] == f"{float(grades[('jdoe', assignment)]['max_score']):g}"
        for canvas_id, student in ids.items():
            expected = grades[(student, assignment)]
            value = "0" if expected["reason"] == "no submission" else expected["final_score"]
            assert float(by_id[canvas_id][column]) == pytest.approx(float(value))
        assert by_id["105"][column] == "0"  # not handed in at all
    assert runs["export-moodle"].returncode == 0, step(runs, "fashion-lessons export moodle").stderr
    moodle = rows(root / "moodle.csv")
    assert [r["Email address"] for r in moodle][0] == "jane@example.edu"
    smith = next(r for r in moodle if r["Email address"] == "john@example.edu")
    assert float(smith["02-scale-pixels"]) == 0  # zero after seven days
    assert float(smith["01-load-data"]) == pytest.approx(
        float(grades[("jsmith", "01-load-data")]["final_score"])
    )


def test_similarity_runs_on_the_graded_class(term):
    root, _, runs = term
    assert runs["similarity"].returncode == 0, step(runs, "fashion-lessons similarity").stderr
    pairs = rows(root / "out" / "similarity.csv")
    assert {r["assignment"] for r in pairs} == {"01-load-data", "02-scale-pixels"}
    # reference solutions share only base code
    reference_pair = next(
        r for r in pairs if {r["student_a"], r["student_b"]} == {"jdoe", "jsmith"}
        and r["assignment"] == "01-load-data"
    )  # fmt: skip
    assert float(reference_pair["similarity"]) == 0


def test_the_page_shows_the_real_outputs(term):
    """Every command of the page ran, and printed what the page shows."""
    _, _, runs = term
    steps = console_steps()
    assert len(steps) >= 10
    for command, shown in steps:
        run = runs["page"][command]
        assert run.returncode == 0, (command, run.stdout, run.stderr)
        assert shows(shown, run.stdout), (
            f"$ {command}\nshown:\n" + "\n".join(shown) + (f"\nreal:\n{run.stdout}")
        )
    (roster,) = fenced("text")
    assert shows(roster.splitlines(), ROSTER)


def test_the_page_covers_every_step_of_the_term():
    commands = " ".join(command for command, _ in console_steps())
    for step_command in ("release", "import canvas", "import moodle", "grade", "similarity"):
        assert f"fashion-lessons {step_command}" in commands
    assert "export canvas" in commands and "export moodle" in commands
    assert "ls out/feedback" in commands  # the pages handed back


def test_shows_matches_only_what_was_printed():
    """The page check can fail: other text, a missing line, or a changed number."""
    real = "graded 6 in 43.1 s\nalee  7/8\njdoe  8/8\n"
    assert shows(["graded 6 in 12 s", "...", "jdoe  8/8"], real)
    assert shows(["graded ... s", "alee  7/8", "jdoe  8/8"], real)
    assert not shows(["graded 6 in 12 s", "jdoe  8/8"], real)
    assert not shows(["graded 6 in 12 s", "alee  6/8", "jdoe  8/8"], real)
    assert not shows(["graded 7 in 12 s", "..."], real)
