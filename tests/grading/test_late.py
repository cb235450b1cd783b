"""Late work: due dates, extensions and the penalty rule from a real course.toml."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from fashion_lessons.grading.late import (
    FINAL_SCORES_HEADING,
    annotate_grades,
    assess,
    explain,
    penalty_percent,
)
from fashion_lessons.grading.term_config import (
    PenaltyRule,
    TermConfigError,
    load_term_config,
)

UTC = dt.timezone.utc
COURSE_TOML = """
time_zone = "Europe/Berlin"
[due]
"01-load-data" = 2026-10-05T23:59:00
"02-scale-pixels" = 2026-10-12
[extensions.ext]
"01-load-data" = 2026-10-08T23:59:00
[late]
percent_per_day = 10
max_percent = 30
zero_after_days = 7
grace_minutes = 5
[export]
missing = "blank"
"""


@pytest.fixture
def config(tmp_path):
    (tmp_path / "course.toml").write_text(COURSE_TOML)
    return load_term_config(tmp_path / "course.toml")


def test_due_dates_are_read_in_the_course_time_zone(config):
    assert config.due["01-load-data"] == dt.datetime(2026, 10, 5, 21, 59, tzinfo=UTC)
    assert config.due["02-scale-pixels"] == dt.datetime(2026, 10, 12, 21, 59, 59, tzinfo=UTC)
    assert config.due_for("ext", "01-load-data") == dt.datetime(2026, 10, 8, 21, 59, tzinfo=UTC)
    assert config.due_for("ext", "02-scale-pixels") == config.due["02-scale-pixels"]
    assert config.missing == "blank"


@pytest.mark.parametrize(
    ("late_hours", "days", "percent"),
    [
        (0, 0, 0),
        (0.05, 0, 0),
        (0.1, 1, 10),
        (24, 1, 10),
        (25, 2, 20),
        (24 * 5, 5, 30),
        (24 * 8, 8, 100),
    ],
)
def test_penalty_rule(late_hours, days, percent):
    rule = PenaltyRule(percent_per_day=10, max_percent=30, zero_after_days=7, grace_minutes=5)
    assert penalty_percent(rule, late_hours * 3600) == (days, percent)


def test_assess_late_extended_and_on_time(config):
    due = config.due["01-load-data"]
    late = assess(config, "amy", "01-load-data", due + dt.timedelta(hours=30), 8.0)
    assert (late.days, late.percent, late.penalty, late.final_score) == (2, 20.0, 1.6, 6.4)
    extended = assess(config, "ext", "01-load-data", due + dt.timedelta(hours=30), 8.0)
    assert extended.penalty == 0 and extended.final_score == 8.0 and extended.extended
    unknown = assess(config, "amy", "01-load-data", None, 8.0)
    assert unknown.penalty == 0
    sentence = explain(late, 10, config.rule)
    assert "1 day 6 h late" in sentence and "1.6 points" in sentence and "6.4 of 10" in sentence
    assert "after your extension" in explain(extended, 10, config.rule)


def test_bad_config_is_a_clear_error(tmp_path):
    path = tmp_path / "course.toml"
    path.write_text("[late]\npercent_per_dya = 10\n")
    with pytest.raises(TermConfigError, match="percent_per_dya"):
        load_term_config(path)
    path.write_text("[due]\n'01-load-data' = 'tomorrow'\n")
    with pytest.raises(TermConfigError, match="date and time"):
        load_term_config(path)
    assert load_term_config(tmp_path / "none.toml").due == {}


def test_annotate_grades_adds_columns_and_a_sentence_once(config, tmp_path):
    out = tmp_path / "out"
    (out / "feedback" / "amy" / "01-load-data").mkdir(parents=True)
    page = out / "feedback" / "amy" / "01-load-data" / "load_data.html"
    page.write_text("<html><body>\n<h1>load_data</h1></body></html>")
    for student, when in [("amy", "2026-10-07 09:30:00.000000 UTC"), ("bob", None)]:
        folder = out / "submitted" / student / "01-load-data"
        folder.mkdir(parents=True)
        if when:
            (folder / "timestamp.txt").write_text(when)
    (out / "grades.csv").write_text(
        "student_id,assignment,score,max_score,reason\n"
        "amy,01-load-data,7,10,\nbob,01-load-data,5,10,\n"
    )
    for _ in range(2):
        annotate_grades(out, config)
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert rows[0]["late_by"] == "35.52" and rows[0]["penalty"] == "1.4"
    assert rows[0]["final_score"] == "5.6" and rows[0]["score"] == "7"
    assert rows[1]["penalty"] == "0" and rows[1]["final_score"] == "5"
    text = page.read_text()
    assert text.count('id="late-work"') == 1 and "final score 7 − 1.4 = 5.6 of 10" in text
    assert text.index("late-work") < text.index("<h1>")


def test_summary_and_histogram_show_final_scores(config, tmp_path):
    """With a term, summary.txt and scores.png are computed from the final scores."""
    import io

    from fashion_lessons.grading.pipeline import write_reports
    from fashion_lessons.grading.types import SubmissionResult
    from fashion_lessons.grading.workspace import GradingCourse
    from fashion_lessons.plots import plot_score_histogram

    out = tmp_path / "out"
    folder = out / "submitted" / "amy" / "01-load-data"
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text("2026-10-07 09:30:00.000000 UTC")
    course = GradingCourse(out, None, ["01-load-data"], {"01-load-data": []}, {"01-load-data": 10})
    results = [
        SubmissionResult("amy", "01-load-data", 7.0, 10.0),
        SubmissionResult("bob", "01-load-data", 5.0, 10.0, "no submission"),
    ]

    def histogram(totals) -> bytes:
        buffer = io.BytesIO()
        plot_score_histogram(totals, 10).savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    summary = write_reports(course, results, config)
    assert summary.startswith(FINAL_SCORES_HEADING)
    assert "5.6/10*" in summary and "amy 01-load-data: late by 35.52 h, -1.4 points" in summary
    assert (out / "summary.txt").read_text() == summary + "\n"
    png = (out / "scores.png").read_bytes()
    assert png == histogram([5.6, 5.0]) and png != histogram([7.0, 5.0])
    raw = write_reports(course, results)
    assert not raw.startswith(FINAL_SCORES_HEADING) and "7/10" in raw
