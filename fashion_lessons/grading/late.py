"""Late work: how late a submission was, its penalty, and a sentence saying so.

The submission time is nbgrader's ``timestamp.txt`` in the submission folder (written by
``fashion-lessons import`` or nbgrader's exchange); the due date, extensions and the rule
come from ``course.toml`` (:mod:`fashion_lessons.grading.term_config`). The raw score is
never changed: ``grades.csv`` gets the time, the lateness, the penalty and the final score
beside it, and each feedback page a sentence explaining the final score.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import html
import io
import math
import re
from pathlib import Path

from fashion_lessons.files import write_atomic
from fashion_lessons.grading.submission_time import read_timestamp
from fashion_lessons.grading.term_config import PenaltyRule, TermConfig
from fashion_lessons.grading.types import SubmissionResult

FINAL_SCORES_HEADING = "Final scores, late penalties applied (raw scores and penalties: grades.csv)"
"""The first line of ``summary.txt`` when a term's late rule applies."""
LATE_COLUMNS = ("submitted_at", "due", "late_by", "penalty", "final_score")
"""Columns added to ``grades.csv``; ``late_by`` is in hours, ``penalty`` in points."""
_SECTION = re.compile(r'<section id="late-work">.*?</section>\n?', re.S)


@dataclasses.dataclass(frozen=True)
class Lateness:
    """The late-work verdict of one submission.

    Attributes
    ----------
    submitted_at, due : datetime or None
    late_seconds : float
        0 when on time, within the grace period, or when a time is unknown.
    days : int
        Started days late that the rule charges for.
    percent : float
        Penalty in percent of the raw score.
    score, penalty, final_score : float
        Raw score, points taken off, and what is left.
    extended : bool
        ``due`` is the student's extension.
    """

    submitted_at: dt.datetime | None
    due: dt.datetime | None
    late_seconds: float
    days: int
    percent: float
    score: float
    penalty: float
    final_score: float
    extended: bool = False


def penalty_percent(rule: PenaltyRule, late_seconds: float) -> tuple[int, float]:
    """Started days charged and the penalty percentage for ``late_seconds`` of lateness."""
    late_seconds -= rule.grace_minutes * 60
    if late_seconds <= 0:
        return 0, 0.0
    days = math.ceil(late_seconds / 86400)
    if rule.zero_after_days is not None and late_seconds > rule.zero_after_days * 86400:
        return days, 100.0
    return days, min(rule.percent_per_day * days, rule.max_percent, 100.0)


def assess(
    config: TermConfig,
    student: str,
    assignment: str,
    submitted_at: dt.datetime | None,
    score: float,
) -> Lateness:
    """Apply the term's rule to one submission's time and raw score."""
    due = config.due_for(student, assignment)
    extended = assignment in config.extensions.get(student, {})
    if due is None or submitted_at is None:
        return Lateness(submitted_at, due, 0.0, 0, 0.0, score, 0.0, score, extended)
    late_seconds = max((submitted_at - due).total_seconds(), 0.0)
    days, percent = penalty_percent(config.rule, late_seconds)
    if days == 0:
        late_seconds = 0.0
    penalty = round(score * percent / 100, 2)
    return Lateness(
        submitted_at, due, late_seconds, days, percent, score, penalty, score - penalty, extended
    )


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float) -> str:
    days, rest = divmod(int(round(seconds)), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} day{'s' * (days != 1)}"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes or not parts else []
    return " ".join(parts)


def explain(late: Lateness, max_score: float, rule: PenaltyRule) -> str:
    """One or two sentences for the feedback page saying how the final score came about."""
    points = f"{late.final_score:g} of {max_score:g} points"
    if late.due is None:
        return f"Final score: {points} (this assignment has no due date)."
    due = f"due {_when(late.due)}" + (" after your extension" if late.extended else "")
    if late.submitted_at is None:
        return (
            f"Final score: {points}; no submission time was recorded, so no late penalty ({due})."
        )
    if late.late_seconds == 0:
        return f"Handed in on time ({_when(late.submitted_at)}, {due}): final score {points}."
    if late.percent >= 100 and rule.zero_after_days is not None:
        how = f"more than {rule.zero_after_days:g} days late earns no credit"
    else:
        how = (
            f"{rule.percent_per_day:g}% per started day late, at most {rule.max_percent:g}%: "
            f"{late.days} day{'s' * (late.days != 1)} → {late.percent:g}%"
        )
    return (
        f"Handed in {_duration(late.late_seconds)} late ({_when(late.submitted_at)}, {due}). "
        f"Late penalty: {how} of the raw score {late.score:g} = {late.penalty:g} points; "
        f"final score {late.score:g} − {late.penalty:g} = {points}."
    )


def _number(value: float) -> str:
    return f"{value:g}"


def annotate_grades(out: Path, config: TermConfig) -> list[dict[str, str]]:
    """Add the late-work columns to ``OUT/grades.csv`` and a sentence to each feedback page.

    Reads the submission times from ``OUT/submitted/<student>/<assignment>/timestamp.txt``.
    Running it again recomputes everything from the raw scores (the added columns and the
    sentence are replaced, not repeated).

    Returns
    -------
    list of dict
        The rows written, keyed by column name.
    """
    out = Path(out)
    path = out / "grades.csv"
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        base = [c for c in reader.fieldnames or [] if c not in LATE_COLUMNS]
        rows = list(reader)
    written = []
    for row in rows:
        student, assignment = row["student_id"], row["assignment"]
        score, max_score = float(row["score"]), float(row["max_score"])
        submitted_at = read_timestamp(out / "submitted" / student / assignment)
        late = assess(config, student, assignment, submitted_at, score)
        row = {c: row[c] for c in base}
        row.update(
            submitted_at=_when(submitted_at) if submitted_at else "",
            due=_when(late.due) if late.due else "",
            late_by=f"{late.late_seconds / 3600:.2f}",
            penalty=_number(late.penalty),
            final_score=_number(late.final_score),
        )
        written.append(row)
        _add_sentence(
            out / "feedback" / student / assignment, explain(late, max_score, config.rule)
        )
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=base + list(LATE_COLUMNS))
    writer.writeheader()
    writer.writerows(written)
    write_atomic(path, text.getvalue())
    return written


def _add_sentence(folder: Path, sentence: str) -> None:
    section = f'<section id="late-work"><p>{html.escape(sentence)}</p></section>\n'
    for page in sorted(folder.glob("*.html")) if folder.is_dir() else []:
        text = _SECTION.sub("", page.read_text(encoding="utf-8"))
        # first thing in the body: the final score is what the student looks for
        body = re.search(r"<body[^>]*>\n?", text)
        at = body.end() if body else 0
        text = text[:at] + section + text[at:]
        write_atomic(page, text)


def with_final_scores(
    results: list[SubmissionResult], rows: list[dict[str, str]]
) -> list[SubmissionResult]:
    """``results`` with each score replaced by its final score; a late one says why.

    Parameters
    ----------
    results : list of SubmissionResult
        Raw scores.
    rows : list of dict
        What :func:`annotate_grades` returned for them.
    """
    by_key = {(row["student_id"], row["assignment"]): row for row in rows}
    final = []
    for result in results:
        row = by_key[(result.student_id, result.assignment)]
        if float(row["penalty"]) == 0:
            final.append(result)
            continue
        late = f"late by {row['late_by']} h, -{row['penalty']} points"
        reason = "; ".join(filter(None, [result.reason, late]))
        final.append(dataclasses.replace(result, score=float(row["final_score"]), reason=reason))
    return final
