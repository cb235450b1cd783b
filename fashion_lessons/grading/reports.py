"""What a grading run reports: ``grades.csv``, the summary table, the score histogram."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from fashion_lessons.files import write_atomic
from fashion_lessons.grading.types import SubmissionResult, format_points

GRADES_FILE = "grades.csv"
SUMMARY_FILE = "summary.txt"
HISTOGRAM_FILE = "scores.png"
GRADES_COLUMNS = ("student_id", "assignment", "score", "max_score", "reason")
REPORT_FILES = (GRADES_FILE, SUMMARY_FILE, HISTOGRAM_FILE)


def write_grades_csv(results: Sequence[SubmissionResult], path: Path) -> None:
    """Write ``grades.csv`` atomically: it is either complete or the old file stays."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(GRADES_COLUMNS)
    for r in results:
        score, max_score = format_points(r.score), format_points(r.max_score)
        writer.writerow([r.student_id, r.assignment, score, max_score, r.reason])
    write_atomic(Path(path), text.getvalue())


def summary_table(results: Sequence[SubmissionResult], assignments: Sequence[str]) -> str:
    """One row per student, one column per assignment, then the total; a mean row last."""
    students = sorted({r.student_id for r in results})
    by_key = {(r.student_id, r.assignment): r for r in results}
    name_width = max([len("student"), len("mean")] + [len(s) for s in students])
    widths = [max(len(a), 7) for a in assignments]
    header = f"{'student':<{name_width}}  " + "  ".join(
        f"{a:>{w}}" for a, w in zip(assignments, widths)
    )
    lines = [header + "    total", "-" * (len(header) + 9)]
    for student in students:
        cells, total, total_max = [], 0.0, 0.0
        for assignment, width in zip(assignments, widths):
            r = by_key[(student, assignment)]
            total, total_max = total + r.score, total_max + r.max_score
            mark = "*" if r.reason else " "
            points = f"{format_points(r.score)}/{format_points(r.max_score)}{mark}"
            cells.append(f"{points:>{width}}")
        lines.append(f"{student:<{name_width}}  " + "  ".join(cells) + f"  {total:g}/{total_max:g}")
    means = []
    for assignment, width in zip(assignments, widths):
        scores = [by_key[(s, assignment)].score for s in students]
        means.append(f"{sum(scores) / len(scores):>{width}.1f}")
    lines.append(f"{'mean':<{name_width}}  " + "  ".join(means))
    notes = [r for r in results if r.reason]
    if notes:
        lines += ["", "* see the reason:"]
        lines += [f"  {r.student_id} {r.assignment}: {r.reason}" for r in notes]
    return "\n".join(lines)


def save_histogram(results: Sequence[SubmissionResult], total_max: float, path: Path) -> None:
    """A PNG histogram of every student's total score out of ``total_max``."""
    from fashion_lessons.plots import plot_score_histogram

    students = sorted({r.student_id for r in results})
    totals = [sum(r.score for r in results if r.student_id == s) for s in students]
    figure = plot_score_histogram(totals, total_max)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    write_atomic(path, buffer.getvalue())
