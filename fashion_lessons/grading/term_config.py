"""The term's settings in ``course.toml``: due dates, extensions, late rule, LMS export.

Why a file of its own: ``nbgrader_config.py`` configures how notebooks are generated and
run, and is Python that every nbgrader process executes; nbgrader keeps due dates in its
gradebook, which ``fashion-lessons grade`` rebuilds from ``solutions/`` on every fresh run,
and it has no per-student extension setting or percent-per-day rule. The term's dates
change every term and are edited by people who should not have to write Python, so they
live in a TOML data file read with the standard library. Example::

    time_zone = "Europe/Berlin"          # for dates written without an offset

    [due]
    "01-load-data" = 2026-10-05T23:59:00

    [extensions.jsmith]                  # student id -> assignment -> new due date
    "01-load-data" = 2026-10-08T23:59:00

    [late]
    percent_per_day = 10                 # of the raw score, per started day late
    max_percent = 50
    zero_after_days = 7                  # optional: no credit beyond this
    grace_minutes = 5

    [export]
    missing = "zero"                     # or "blank": students without a submission
    moodle_identifier = "email"          # or "idnumber"
    [export.canvas_assignment_ids]       # Canvas's id of each assignment, if it exists there
    "01-load-data" = 1001
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TERM_FILE = "course.toml"
"""The term's settings file in the course folder, beside ``nbgrader_config.py``."""


class TermConfigError(ValueError):
    """``course.toml`` holds something :func:`load_term_config` cannot use; says what."""


@dataclasses.dataclass(frozen=True)
class PenaltyRule:
    """How much of a late submission's raw score is taken off.

    Attributes
    ----------
    percent_per_day : float
        Percent of the raw score per started day late (after the grace period).
    max_percent : float
        Cap of that percentage.
    zero_after_days : float or None
        Beyond this many days late the penalty is 100 %.
    grace_minutes : float
        Lateness up to this is forgiven (uploads that finished a minute late).
    """

    percent_per_day: float = 0.0
    max_percent: float = 100.0
    zero_after_days: float | None = None
    grace_minutes: float = 0.0


@dataclasses.dataclass(frozen=True)
class TermConfig:
    """Everything ``course.toml`` says; an empty term (no due dates) when there is no file."""

    due: dict[str, dt.datetime] = dataclasses.field(default_factory=dict)
    extensions: dict[str, dict[str, dt.datetime]] = dataclasses.field(default_factory=dict)
    rule: PenaltyRule = PenaltyRule()
    missing: str = "zero"
    moodle_identifier: str = "email"
    canvas_assignment_ids: dict[str, str] = dataclasses.field(default_factory=dict)

    def due_for(self, student: str, assignment: str) -> dt.datetime | None:
        """The student's due date: their extension if they have one, else the assignment's."""
        return self.extensions.get(student, {}).get(assignment) or self.due.get(assignment)


def _moment(value, zone: ZoneInfo, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, dt.date):
        # a bare date means the end of that day
        return dt.datetime.combine(value, dt.time(23, 59, 59), tzinfo=zone)
    raise TermConfigError(f"{where}: expected a date and time like 2026-10-05T23:59:00")


def load_term_config(path: Path) -> TermConfig:
    """Read ``course.toml``; a missing file is an empty term.

    Raises
    ------
    TermConfigError
        Invalid TOML, a value of the wrong type, or an unknown option value.
    """
    path = Path(path)
    if not path.is_file():
        return TermConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise TermConfigError(f"{path}: not valid TOML ({error})") from error
    try:
        zone = ZoneInfo(raw.get("time_zone", "UTC"))
    except Exception as error:
        raise TermConfigError(f"{path}: unknown time_zone {raw.get('time_zone')!r}") from error
    due = {a: _moment(v, zone, f"{path} [due] {a}") for a, v in raw.get("due", {}).items()}
    extensions = {
        student: {a: _moment(v, zone, f"{path} [extensions.{student}] {a}") for a, v in t.items()}
        for student, t in raw.get("extensions", {}).items()
    }
    late = raw.get("late", {})
    unknown = set(late) - {f.name for f in dataclasses.fields(PenaltyRule)}
    if unknown:
        raise TermConfigError(f"{path} [late]: unknown setting(s) {', '.join(sorted(unknown))}")
    try:
        rule = PenaltyRule(**{k: (None if v is None else float(v)) for k, v in late.items()})
    except (TypeError, ValueError) as error:
        raise TermConfigError(f"{path} [late]: numbers expected ({error})") from error
    export = raw.get("export", {})
    missing = export.get("missing", "zero")
    if missing not in ("zero", "blank"):
        raise TermConfigError(f"{path} [export] missing: expected 'zero' or 'blank'")
    identifier = export.get("moodle_identifier", "email")
    if identifier not in ("email", "idnumber"):
        raise TermConfigError(f"{path} [export] moodle_identifier: expected 'email' or 'idnumber'")
    ids = {a: str(v) for a, v in export.get("canvas_assignment_ids", {}).items()}
    return TermConfig(due, extensions, rule, missing, identifier, ids)
