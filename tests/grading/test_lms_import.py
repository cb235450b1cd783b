"""Importing Canvas and Moodle bulk downloads: real zip files, hostile entries included."""

from __future__ import annotations

import datetime as dt
import stat
import zipfile
from pathlib import Path

import pytest
from helpers import REPO, exercise

from fashion_lessons.grading.lms_import import (
    DownloadRefused,
    ImportLimits,
    import_download,
    match_notebook,
)
from fashion_lessons.grading.roster import Student, read_roster
from fashion_lessons.grading.submission_time import read_timestamp

SOLUTIONS = REPO / "solutions"
STUB = exercise("01-load-data").read_bytes()
ASSIGNMENT = "01-load-data"

ROSTER = [
    Student("jdoe", name="Jane Doe", email="jane@example.edu", canvas_id="12345"),
    Student("jsmith", name="John Smith", email="john@example.edu", canvas_id="23456"),
    Student("alee", name="Ann Lee", email="ann@example.edu", canvas_id="34567"),
    Student("bkhan", name="Bo Khan", email="bo@example.edu", canvas_id="45678"),
    Student("absent", name="Al Sent", email="al@example.edu", canvas_id="56789"),
]


def add(archive: zipfile.ZipFile, name: str, data: bytes, when=(2026, 10, 5, 21, 0, 0), mode=None):
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        info.external_attr = mode << 16
    archive.writestr(info, data)


def canvas_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        add(archive, "doejane_12345_67890_load_data.ipynb", STUB)
        add(archive, "smithjohn_LATE_23456_78901_load_data-2.ipynb", STUB, (2026, 10, 7, 9, 30, 0))
        add(archive, "leeann_34567_89012_load_data (1).ipynb", STUB)
        # hostile or wrong entries
        add(archive, "../escape_45678_1_load_data.ipynb", STUB)
        add(archive, "/etc/abs_45678_1_load_data.ipynb", STUB)
        add(archive, "khanbo_45678_99_link.ipynb", b"/etc/passwd", mode=stat.S_IFLNK | 0o777)
        add(archive, "khanbo_45678_99_notes.txt", b"hello")
        add(archive, "stranger_99999_1_load_data.ipynb", STUB)
        add(archive, "khanbo_45678_99_load_data.ipynb", b"{not json")
        add(archive, "random file.ipynb", STUB)
    return path


def test_canvas_download_lands_in_student_folders_with_times(tmp_path):
    into = tmp_path / "submissions"
    report = import_download(
        "canvas", canvas_zip(tmp_path / "d.zip"), ASSIGNMENT, into, SOLUTIONS, ROSTER
    )
    assert report.students == ["alee", "jdoe", "jsmith"]
    for student in report.students:
        assert (into / student / ASSIGNMENT / "load_data.ipynb").read_bytes() == STUB
    assert sorted(p.name for p in into.iterdir()) == ["alee", "jdoe", "jsmith"]
    late = read_timestamp(into / "jsmith" / ASSIGNMENT)
    assert late == dt.datetime(2026, 10, 7, 9, 30, tzinfo=dt.timezone.utc)
    assert [i.lms_late for i in report.imported if i.student_id == "jsmith"] == [True]
    assert report.missing == ["absent", "bkhan"]
    reasons = {r.entry: r.reason for r in report.refused}
    assert "escapes" in reasons["../escape_45678_1_load_data.ipynb"]
    assert "absolute" in reasons["/etc/abs_45678_1_load_data.ipynb"]
    assert "symbolic link" in reasons["khanbo_45678_99_link.ipynb"]
    assert "not a notebook" in reasons["khanbo_45678_99_notes.txt"]
    assert "not on the roster" in reasons["stranger_99999_1_load_data.ipynb"]
    assert "not a valid Jupyter notebook" in reasons["khanbo_45678_99_load_data.ipynb"]
    assert "naming" in reasons["random file.ipynb"]
    assert not (tmp_path / "escape_45678_1_load_data.ipynb").exists()
    text, table = report.text(), report.csv_text()
    assert "did not hand in: absent, bkhan" in text
    assert table.count("refused") == 7 and "missing" in table


def test_timezone_of_zip_entries_is_applied(tmp_path):
    report = import_download(
        "canvas",
        canvas_zip(tmp_path / "d.zip"),
        ASSIGNMENT,
        tmp_path / "s",
        SOLUTIONS,
        ROSTER,
        zip_timezone="Europe/Berlin",
    )
    late = read_timestamp(tmp_path / "s" / "jsmith" / ASSIGNMENT)
    assert late == dt.datetime(2026, 10, 7, 7, 30, tzinfo=dt.timezone.utc)  # CEST = UTC+2
    assert len(report.imported) == 3


def test_moodle_folders_per_participant(tmp_path):
    path = tmp_path / "moodle.zip"
    with zipfile.ZipFile(path, "w") as archive:
        add(archive, "Jane Doe_1001_assignsubmission_file_/load_data.ipynb", STUB)
        add(archive, "John Smith_1002_assignsubmission_file_/load_data (1).ipynb", STUB)
        add(archive, "John Smith_1002_assignsubmission_onlinetext_/onlinetext.html", b"<p>")
        add(archive, "Ann Lee_1003_assignsubmission_file_load_data.ipynb", STUB)  # flat
        add(archive, "Bo Khan_1004_assignsubmission_file_/a.ipynb", STUB)
        add(archive, "Bo Khan_1004_assignsubmission_file_/b.ipynb", STUB)
    report = import_download("moodle", path, ASSIGNMENT, tmp_path / "s", SOLUTIONS, ROSTER)
    assert report.students == ["alee", "jdoe", "jsmith"]
    reasons = [r.reason for r in report.refused]
    assert any("onlinetext" in r for r in reasons)
    assert sum("duplicate" in r for r in reasons) == 2  # both of Bo's files
    assert report.missing == ["absent", "bkhan"]


def test_without_roster_the_lms_id_is_the_student_id(tmp_path):
    report = import_download(
        "canvas", canvas_zip(tmp_path / "d.zip"), ASSIGNMENT, tmp_path / "s", SOLUTIONS
    )
    assert "12345" in report.students and "99999" in report.students
    assert report.missing == []


def test_duplicate_students_are_refused(tmp_path):
    path = tmp_path / "d.zip"
    roster = [Student("jdoe", canvas_id="12345"), Student("jdoe2", canvas_id="22222")]
    with zipfile.ZipFile(path, "w") as archive:
        add(archive, "doejane_12345_1_load_data.ipynb", STUB)
        add(archive, "doejane_12345_2_load_data-1.ipynb", STUB)
        add(archive, "other_22222_3_load_data.ipynb", STUB)
    report = import_download("canvas", path, ASSIGNMENT, tmp_path / "s", SOLUTIONS, roster)
    assert report.students == ["jdoe2"]
    assert [r.student_id for r in report.refused] == ["jdoe", "jdoe"]
    assert not (tmp_path / "s" / "jdoe").exists()


def test_an_imported_student_is_never_overwritten(tmp_path):
    into = tmp_path / "s"
    zip_path = canvas_zip(tmp_path / "d.zip")
    import_download("canvas", zip_path, ASSIGNMENT, into, SOLUTIONS, ROSTER)
    (into / "jdoe" / ASSIGNMENT / "load_data.ipynb").write_text("graded copy")
    again = import_download("canvas", zip_path, ASSIGNMENT, into, SOLUTIONS, ROSTER)
    assert again.imported == []
    assert (into / "jdoe" / ASSIGNMENT / "load_data.ipynb").read_text() == "graded copy"
    assert any("imported already" in r.reason for r in again.refused)


def test_a_gigabyte_bomb_is_refused_without_extracting(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("doejane_12345_67890_load_data.ipynb")
        info.compress_type = zipfile.ZIP_DEFLATED
        info._compresslevel = 1
        with archive.open(info, "w", force_zip64=True) as stream:
            zeros = b"\0" * 2**24
            for _ in range(64):  # 1 GiB
                stream.write(zeros)
    assert path.stat().st_size < 10 * 2**20
    with pytest.raises(DownloadRefused, match="over the cap"):
        import_download("canvas", path, ASSIGNMENT, tmp_path / "s", SOLUTIONS, ROSTER)
    assert not (tmp_path / "s").exists()


def test_a_high_ratio_entry_is_refused_alone(tmp_path):
    path = tmp_path / "d.zip"
    with zipfile.ZipFile(path, "w") as archive:
        add(archive, "doejane_12345_1_load_data.ipynb", b" " * 30 * 2**20)
        add(archive, "smithjohn_23456_2_load_data.ipynb", STUB)
    report = import_download("canvas", path, ASSIGNMENT, tmp_path / "s", SOLUTIONS, ROSTER)
    assert report.students == ["jsmith"]
    assert "compression ratio" in report.refused[0].reason
    # the same entry with the ratio cap lifted is read, and refused as invalid JSON instead
    lifted = ImportLimits(max_ratio=1e9)
    report = import_download("canvas", path, ASSIGNMENT, tmp_path / "t", SOLUTIONS, ROSTER, lifted)
    assert "not a valid Jupyter notebook" in report.refused[0].reason


def test_not_a_zip_is_refused(tmp_path):
    bad = tmp_path / "d.zip"
    bad.write_text("no zip")
    with pytest.raises(DownloadRefused, match="not a readable zip"):
        import_download("canvas", bad, ASSIGNMENT, tmp_path / "s", SOLUTIONS)
    with pytest.raises(DownloadRefused, match="no such assignment"):
        import_download("canvas", canvas_zip(tmp_path / "e.zip"), "99-x", tmp_path / "s", SOLUTIONS)


@pytest.mark.parametrize(
    "filename", ["load_data.ipynb", "load_data (1).ipynb", "load_data-2.ipynb", "Load Data.ipynb"]
)
def test_renamed_notebooks_match(filename):
    assert match_notebook(filename, ["load_data", "other"]) == "load_data"


def test_unrelated_name_does_not_match():
    assert match_notebook("homework.ipynb", ["load_data", "other"]) is None


def test_roster_rejects_duplicate_ids(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("student_id,canvas_id\na,1\nb,1\n")
    with pytest.raises(ValueError, match="belongs to two students"):
        read_roster(path)
    path.write_text('student_id,name,canvas_id\na,"Doe, Jane",1\n')
    assert read_roster(path) == [Student("a", name="Doe, Jane", canvas_id="1")]


def test_a_bad_timestamp_is_no_time(tmp_path):
    (tmp_path / "timestamp.txt").write_text("yesterday, honest")
    assert read_timestamp(tmp_path) is None
    (tmp_path / "timestamp.txt").unlink()
    (tmp_path / "timestamp.txt").symlink_to("/etc/hostname")
    assert read_timestamp(tmp_path) is None
    assert read_timestamp(tmp_path / "nowhere") is None
