"""Exporting grades.csv to Canvas's and Moodle's gradebook import formats."""

from __future__ import annotations

import csv

import pytest

from fashion_lessons.grading.lms_export import ExportError, export_grades
from fashion_lessons.grading.roster import Student
from fashion_lessons.grading.term_config import TermConfig

ROSTER = [
    Student("jdoe", "Doe, Jane", "jane@example.edu", "12345", "S1", "jdoe", "A", "N1"),
    Student("jsmith", "Smith, John", "john@example.edu", "23456", "S2", "jsmith", "A", "N2"),
    Student("absent", "Sent, Al", "al@example.edu", "56789", "S3", "asent", "B", "N3"),
    Student("noid", "Id, No"),
]
GRADES = (
    "student_id,assignment,score,max_score,reason,submitted_at,due,late_by,penalty,final_score\n"
    "jdoe,01-load-data,6,6,,,,0.00,0,6\n"
    "jdoe,02-scale-pixels,0,4,no submission,,,0.00,0,0\n"
    "jsmith,01-load-data,5,6,,,,30.00,1,4\n"
    "jsmith,02-scale-pixels,4,4,,,,0.00,0,4\n"
    "ghost,01-load-data,3,6,,,,0.00,0,3\n"
)


@pytest.fixture
def out(tmp_path):
    (tmp_path / "grades.csv").write_text(GRADES)
    return tmp_path


def read(path):
    return list(csv.reader(path.open(newline="")))


def test_canvas_gradebook_csv(out, tmp_path):
    config = TermConfig(canvas_assignment_ids={"01-load-data": "1001"})
    report = export_grades("canvas", out, tmp_path / "canvas.csv", ROSTER, config)
    rows = read(tmp_path / "canvas.csv")
    assert rows[0] == [
        "Student", "ID", "SIS User ID", "SIS Login ID", "Section",
        "01-load-data (1001)", "02-scale-pixels",
    ]  # fmt: skip
    assert rows[1] == ["Points Possible", "", "", "", "", "6", "4"]
    assert rows[2] == ["Doe, Jane", "12345", "S1", "jdoe", "A", "6", "0"]
    assert rows[3] == ["Smith, John", "23456", "S2", "jsmith", "A", "4", "4"]  # after penalty
    assert rows[4] == ["Sent, Al", "56789", "S3", "asent", "B", "0", "0"]
    assert len(rows) == 5
    assert report.not_on_roster == ["ghost"] and report.without_identifier == ["noid"]


def test_moodle_csv_with_blank_for_missing(out, tmp_path):
    config = TermConfig(missing="blank", moodle_identifier="idnumber")
    export_grades("moodle", out, tmp_path / "moodle.csv", ROSTER, config)
    rows = read(tmp_path / "moodle.csv")
    assert rows[0] == ["ID number", "Full name", "01-load-data", "02-scale-pixels"]
    assert rows[1:] == [
        ["N1", "Doe, Jane", "6", ""],
        ["N2", "Smith, John", "4", "4"],
        ["N3", "Sent, Al", "", ""],
    ]


def test_raw_score_when_no_late_columns(tmp_path):
    (tmp_path / "grades.csv").write_text(
        "student_id,assignment,score,max_score,reason\njdoe,01-load-data,5.5,6,\n"
    )
    export_grades("moodle", tmp_path, tmp_path / "m.csv", ROSTER[:1], TermConfig())
    assert read(tmp_path / "m.csv")[1] == ["jane@example.edu", "Doe, Jane", "5.5"]


def test_missing_grades_is_a_clear_error(tmp_path):
    with pytest.raises(ExportError, match="run `fashion-lessons grade"):
        export_grades("canvas", tmp_path, tmp_path / "c.csv", ROSTER, TermConfig())
    assert not (tmp_path / "c.csv").exists()
