"""Grades back into the LMS: a gradebook CSV that Canvas or Moodle imports.

- **Canvas** (Grades → Import): the columns of its own gradebook export, ``Student, ID,
  SIS User ID, SIS Login ID, Section``, then one column per assignment named
  ``Name (canvas_assignment_id)``, and a second row ``Points Possible`` with each
  assignment's maximum. Canvas matches students by ``ID``/``SIS User ID``/``SIS Login ID``
  and assignments by the id in brackets (a column without one creates a new assignment).
- **Moodle** (Grades → Import → CSV file): an identifier column (``Email address`` or
  ``ID number``, chosen in ``course.toml``) mapped to the user field of that name, then one
  column per assignment, each mapped to a grade item in the import form.

The score is ``final_score`` when ``grades.csv`` has it (late penalties applied), else
``score``. Students on the roster without a submission get 0 or a blank cell
(``[export] missing`` in ``course.toml``).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

from fashion_lessons.files import write_atomic
from fashion_lessons.grading.roster import Student
from fashion_lessons.grading.term_config import TermConfig

LMS_NAMES = ("canvas", "moodle")
_NO_SUBMISSION = "no submission"
_MOODLE_IDENTIFIERS = {"email": "Email address", "idnumber": "ID number"}


class ExportError(ValueError):
    """``grades.csv`` or the roster cannot make an LMS file; says what is wrong."""


@dataclasses.dataclass(frozen=True)
class ExportReport:
    """What :func:`export_grades` wrote and what it had to leave out."""

    path: Path
    students: int
    assignments: list[str]
    not_on_roster: list[str]
    without_identifier: list[str]


def read_grades(out: Path) -> tuple[dict[tuple[str, str], dict[str, str]], dict[str, float]]:
    """Rows of ``OUT/grades.csv`` by (student, assignment), and each assignment's maximum."""
    path = Path(out) / "grades.csv"
    if not path.is_file():
        raise ExportError(f"{path}: missing; run `fashion-lessons grade ... --out {out}` first")
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        needed = {"student_id", "assignment", "score", "max_score"}
        if not needed <= set(reader.fieldnames or []):
            raise ExportError(f"{path}: expected the columns {', '.join(sorted(needed))}")
        rows = {(r["student_id"], r["assignment"]): r for r in reader}
    max_scores = {a: float(r["max_score"]) for (_, a), r in rows.items()}
    return rows, max_scores


def _cell(row: dict[str, str] | None, config: TermConfig) -> str:
    if row is None or row.get("reason") == _NO_SUBMISSION:
        return "0" if config.missing == "zero" else ""
    value = row.get("final_score") or row["score"]
    return f"{float(value):g}"


def export_grades(
    lms: str, out: Path, target: Path, roster: list[Student], config: TermConfig
) -> ExportReport:
    """Write ``target`` for the LMS's gradebook import, atomically.

    Parameters
    ----------
    lms : {"canvas", "moodle"}
    out : Path
        A grading output folder holding ``grades.csv``.
    target : Path
        The CSV file to write.
    roster : list of Student
        Every student to export, with their LMS identifiers.
    config : TermConfig
        ``missing``, ``moodle_identifier`` and ``canvas_assignment_ids``.

    Returns
    -------
    ExportReport
        Graded students missing from the roster and roster students without the identifier
        the LMS needs are left out and listed there.
    """
    if lms not in LMS_NAMES:
        raise ExportError(f"unknown LMS {lms!r}; expected one of {', '.join(LMS_NAMES)}")
    rows, max_scores = read_grades(out)
    assignments = sorted(max_scores)
    on_roster = {s.student_id for s in roster}
    not_on_roster = sorted({s for s, _ in rows} - on_roster)
    text = io.StringIO(newline="")
    write_rows = _write_canvas if lms == "canvas" else _write_moodle
    without = write_rows(csv.writer(text), rows, max_scores, roster, config)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, text.getvalue())
    exported = len(roster) - len(without)
    return ExportReport(target, exported, assignments, not_on_roster, without)


def _write_canvas(writer, rows, max_scores, roster, config) -> list[str]:
    """Canvas' header, points-possible row and a row per student; return who lacks an id."""
    assignments = sorted(max_scores)
    ids = config.canvas_assignment_ids
    names = [f"{a} ({ids[a]})" if a in ids else a for a in assignments]
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *names])
    writer.writerow(
        ["Points Possible", "", "", "", "", *(f"{max_scores[a]:g}" for a in assignments)]
    )
    without = []
    for s in roster:
        if not (s.canvas_id or s.sis_user_id or s.sis_login_id):
            without.append(s.student_id)
            continue
        cells = [_cell(rows.get((s.student_id, a)), config) for a in assignments]
        writer.writerow([s.name, s.canvas_id, s.sis_user_id, s.sis_login_id, s.section, *cells])
    return without


def _write_moodle(writer, rows, max_scores, roster, config) -> list[str]:
    """Moodle's header and a row per student; return who lacks the chosen identifier."""
    assignments = sorted(max_scores)
    field = config.moodle_identifier
    writer.writerow([_MOODLE_IDENTIFIERS[field], "Full name", *assignments])
    without = []
    for s in roster:
        identifier = getattr(s, field)
        if not identifier:
            without.append(s.student_id)
            continue
        cells = [_cell(rows.get((s.student_id, a)), config) for a in assignments]
        writer.writerow([identifier, s.name, *cells])
    return without
