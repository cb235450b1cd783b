"""Turn a Canvas or Moodle bulk download into ``SUBMISSIONS/<student>/<assignment>/``.

Canvas names every file of a bulk download ``name_[LATE_]userid_submissionid_filename``
(``doejane_LATE_12345_67890_load_data-2.ipynb``) in one flat folder; Moodle puts each
participant's files in a folder ``Full Name_participantid_assignsubmission_file_/`` (or
prefixes that to each file name when not downloading "in folders").

Every entry is checked before a byte is extracted: a path that escapes the folder, a link,
a file that is not a notebook, a notebook that is not valid JSON, two files for one notebook
of one student, and a zip bomb (a total or per-file size cap and a compression ratio cap,
from the archive's directory, then enforced again while reading) are refused with a reason.
Everything is written into a staging folder inside ``SUBMISSIONS`` and moved into place
at the end, one ``<student>/<assignment>`` folder per rename, so an interrupted import
leaves no half-written submission.

The submission time is the zip entry's time (Canvas and Moodle stamp each file with the
upload time, in the server's time zone); it is written as nbgrader's ``timestamp.txt``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

from fashion_lessons.grading.archive_checks import (
    ImportLimits,
    archive_reason,
    bomb_reason,
    notebook_problem,
    read_capped,
    unsafe_path_reason,
)
from fashion_lessons.grading.roster import Student, normalize_name
from fashion_lessons.grading.submission_time import format_timestamp, write_timestamp

LMS_NAMES = ("canvas", "moodle")

_CANVAS = re.compile(
    r"^(?P<name>[^_/]+)_(?:(?P<late>late)_)?(?P<user>\d+)_(?P<submission>\d+)_(?P<file>[^/]+)$",
    re.IGNORECASE,
)
_MOODLE = re.compile(
    r"^(?P<name>[^/]+?)_(?P<user>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?:/|(?=[^/]))"
    r"(?P<file>[^/]+)$"
)
# "load_data (1)", "load_data-2", "load_data_3", "load_data copy", "Load Data"
_COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|[-_ ]\d+|[-_ ]copy)+$", re.IGNORECASE)


class DownloadRefused(Exception):
    """The download as a whole cannot be imported (not a zip, a zip bomb ...); nothing written."""


@dataclasses.dataclass(frozen=True)
class Refusal:
    """An archive entry that was not imported, and why."""

    entry: str
    reason: str
    student_id: str = ""


@dataclasses.dataclass(frozen=True)
class Imported:
    """A notebook written to ``SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb``."""

    student_id: str
    notebook: str
    entry: str
    submitted_at: dt.datetime
    lms_late: bool = False
    note: str = ""


@dataclasses.dataclass
class ImportReport:
    """What :func:`import_download` did: who handed in, who did not, what was refused."""

    lms: str
    assignment: str
    imported: list[Imported]
    missing: list[str]
    refused: list[Refusal]

    @property
    def students(self) -> list[str]:
        return sorted({item.student_id for item in self.imported})

    def text(self) -> str:
        """A readable summary, one line per notebook, missing student and refusal."""
        lines = [
            f"{self.assignment} from a {self.lms} download: {len(self.students)} handed in, "
            f"{len(self.missing)} did not, {len(self.refused)} file(s) refused"
        ]
        if self.imported:
            lines.append("handed in:")
            for item in sorted(self.imported, key=lambda i: (i.student_id, i.notebook)):
                flags = " (LMS marks it late)" if item.lms_late else ""
                note = f" [{item.note}]" if item.note else ""
                when = item.submitted_at.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
                lines.append(
                    f"  {item.student_id}: {item.notebook}.ipynb at {when} UTC{flags}{note}"
                )
        if self.missing:
            lines.append("did not hand in: " + ", ".join(self.missing))
        if self.refused:
            lines.append("refused:")
            lines += [f"  {r.entry}: {r.reason}" for r in self.refused]
        return "\n".join(lines)

    def csv_text(self) -> str:
        """The same as CSV: student_id, status, notebook, entry, submitted_at, reason."""
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(["student_id", "status", "notebook", "entry", "submitted_at", "reason"])
        for item in sorted(self.imported, key=lambda i: (i.student_id, i.notebook)):
            writer.writerow(
                [
                    item.student_id,
                    "late" if item.lms_late else "handed in",
                    item.notebook,
                    item.entry,
                    format_timestamp(item.submitted_at),
                    item.note,
                ]
            )
        for student in self.missing:
            writer.writerow([student, "missing", "", "", "", "no submission in the download"])
        for refusal in self.refused:
            writer.writerow([refusal.student_id, "refused", "", refusal.entry, "", refusal.reason])
        return out.getvalue()


def expected_notebooks(solutions: Path, assignment: str) -> list[str]:
    """The notebook names (without ``.ipynb``) of ``solutions/<assignment>/``."""
    folder = Path(solutions) / assignment
    names = sorted(path.stem for path in folder.glob("*.ipynb"))
    if not names:
        raise DownloadRefused(f"{folder}: no such assignment (no notebooks found there)")
    return names


def match_notebook(filename: str, expected: list[str]) -> str | None:
    """The expected notebook a submitted file name stands for, or None.

    ``load_data (1).ipynb``, ``load_data-2.ipynb`` and ``Load Data.ipynb`` all match
    ``load_data``.
    """

    def key(stem: str) -> str:
        return re.sub(r"[-\s]+", "_", _COPY_SUFFIX.sub("", stem.strip())).casefold()

    stem = filename[: -len(".ipynb")] if filename.lower().endswith(".ipynb") else filename
    candidates = [name for name in expected if key(name) == key(stem)]
    return candidates[0] if len(candidates) == 1 else None


def _entry_time(info: zipfile.ZipInfo, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime(*info.date_time, tzinfo=zone)


@dataclasses.dataclass
class _Candidate:
    student_id: str
    lms_user: str
    notebook: str
    info: zipfile.ZipInfo
    late: bool
    note: str
    data: bytes = b""


def import_download(
    lms: str,
    download: Path,
    assignment: str,
    into: Path,
    solutions: Path,
    roster: list[Student] | None = None,
    limits: ImportLimits | None = None,
    zip_timezone: str = "UTC",
) -> ImportReport:
    """Import one assignment's bulk download into ``into/<student>/<assignment>/``.

    Parameters
    ----------
    lms : {"canvas", "moodle"}
    download : Path
        The ``.zip`` the LMS produced.
    assignment : str
        The assignment id (a folder of ``solutions``).
    into : Path
        The submissions folder; created if missing. A student whose
        ``<student>/<assignment>`` folder exists already is refused, never overwritten.
    solutions : Path
        The course's ``solutions/`` folder: the expected notebook names.
    roster : list of Student, optional
        Maps Canvas user ids (``canvas_id``) or Moodle full names (``name``) to student ids
        and lists who did not hand in. Without it the LMS's numeric id is the student id.
    limits : ImportLimits, default ``ImportLimits()``
    zip_timezone : str
        The time zone the LMS server wrote the zip entry times in (an IANA name).

    Returns
    -------
    ImportReport

    Raises
    ------
    DownloadRefused
        Not a zip file, an unknown LMS or assignment, or an archive over the size caps;
        nothing is written then.
    """
    if lms not in LMS_NAMES:
        raise DownloadRefused(f"unknown LMS {lms!r}; expected one of {', '.join(LMS_NAMES)}")
    limits = limits or ImportLimits()
    expected = expected_notebooks(solutions, assignment)
    zone = ZoneInfo(zip_timezone)
    download, into = Path(download), Path(into)
    with _open_zip(download) as archive:
        reason = archive_reason(archive.infolist(), limits)
        if reason:
            raise DownloadRefused(f"{download}: {reason}")
        candidates, refused = _select(lms, archive.infolist(), expected, roster, limits)
        kept = _readable(archive, candidates, limits, refused)
    kept, more = _without_conflicts(kept, into, assignment)
    refused += more
    imported = _write(kept, into, assignment, zone)
    handed_in = {item.student_id for item in imported}
    missing = sorted(s.student_id for s in roster or [] if s.student_id not in handed_in)
    return ImportReport(lms, assignment, imported, missing, refused)


def _open_zip(download: Path) -> zipfile.ZipFile:
    """The download as an open zip file; DownloadRefused when it is not one."""
    try:
        return zipfile.ZipFile(download)
    except (zipfile.BadZipFile, OSError) as error:
        raise DownloadRefused(f"{download}: not a readable zip file ({error})") from error


def _readable(archive, candidates, limits: ImportLimits, refused: list[Refusal]):
    """The candidates whose entry reads within its size and holds a notebook, with their
    bytes; each other one is added to ``refused`` with its reason."""
    kept = []
    for candidate in candidates:
        data = read_capped(archive, candidate.info, limits.max_file_bytes)
        if data is None:
            refused.append(Refusal(candidate.info.filename, "inflates beyond its declared size"))
            continue
        problem = notebook_problem(data)
        if problem:
            refused.append(Refusal(candidate.info.filename, problem, candidate.student_id))
            continue
        candidate.data = data
        kept.append(candidate)
    return kept


def _select(lms, infos, expected, roster, limits):
    """Parse and check every entry's metadata; nothing is read yet."""
    by_canvas = {s.canvas_id: s.student_id for s in roster or [] if s.canvas_id}
    by_name: dict[str, list[str]] = {}
    for s in roster or []:
        if s.name:
            by_name.setdefault(normalize_name(s.name), []).append(s.student_id)
    candidates, refused = [], []
    for info in infos:
        name = info.filename
        reason = unsafe_path_reason(name)
        mode = info.external_attr >> 16
        if not reason and stat.S_ISLNK(mode):
            reason = "a symbolic link"
        if reason:
            refused.append(Refusal(name, reason))
            continue
        if info.is_dir():
            continue
        reason = bomb_reason(info, limits)
        if reason:
            refused.append(Refusal(name, reason))
            continue
        match = (_CANVAS if lms == "canvas" else _MOODLE).match(name)
        if match is None:
            refused.append(Refusal(name, f"does not follow {lms.title()}'s file naming"))
            continue
        if lms == "moodle" and match["plugin"] != "file":
            refused.append(Refusal(name, f"a Moodle {match['plugin']} submission, not a file"))
            continue
        filename, user = match["file"], match["user"]
        if roster is None:
            student = user
        elif lms == "canvas":
            student = by_canvas.get(user, "")
            if not student:
                refused.append(Refusal(name, f"Canvas user {user} is not on the roster"))
                continue
        else:
            found = by_name.get(normalize_name(match["name"]), [])
            if len(found) != 1:
                why = "not on the roster" if not found else "matches several roster rows"
                refused.append(Refusal(name, f"participant {match['name']!r} is {why}"))
                continue
            student = found[0]
        if not filename.lower().endswith(".ipynb"):
            refused.append(Refusal(name, "not a notebook (.ipynb)", student))
            continue
        notebook, note = match_notebook(filename, expected), ""
        if notebook is None and len(expected) == 1:
            notebook, note = expected[0], f"renamed from {filename}"
        elif notebook is None:
            wanted = ", ".join(f"{e}.ipynb" for e in expected)
            refused.append(Refusal(name, f"matches none of {wanted}", student))
            continue
        elif f"{notebook}.ipynb" != filename:
            note = f"renamed from {filename}"
        late = lms == "canvas" and bool(match["late"])
        candidates.append(_Candidate(student, user, notebook, info, late, note))
    return candidates, refused


def _without_conflicts(candidates, into: Path, assignment: str):
    """Drop students handed in twice (two LMS users, or two files for one notebook)."""
    refused, kept = [], []
    users: dict[str, set[str]] = {}
    files: dict[tuple[str, str], int] = {}
    for c in candidates:
        users.setdefault(c.student_id, set()).add(c.lms_user)
        files[(c.student_id, c.notebook)] = files.get((c.student_id, c.notebook), 0) + 1
    for c in candidates:
        if len(users[c.student_id]) > 1:
            reason = f"duplicate student: {c.student_id} is several LMS users"
        elif files[(c.student_id, c.notebook)] > 1:
            reason = f"duplicate: several files for {c.student_id}'s {c.notebook}.ipynb"
        elif (into / c.student_id / assignment).exists():
            reason = f"{c.student_id}/{assignment} was imported already; remove it to re-import"
        else:
            kept.append(c)
            continue
        refused.append(Refusal(c.info.filename, reason, c.student_id))
    return kept, refused


def _write(candidates, into: Path, assignment: str, zone: ZoneInfo) -> list[Imported]:
    """Write every kept notebook into a staging folder, then rename folders into place."""
    if not candidates:
        return []
    into.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=into))
    moved: list[Path] = []
    try:
        imported, times = [], {}
        for c in candidates:
            folder = staging / c.student_id / assignment
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{c.notebook}.ipynb").write_bytes(c.data)
            moment = _entry_time(c.info, zone)
            times[c.student_id] = max(times.get(c.student_id, moment), moment)
            imported.append(
                Imported(c.student_id, c.notebook, c.info.filename, moment, c.late, c.note)
            )
        for student, moment in times.items():
            write_timestamp(staging / student / assignment, moment)
        for student in sorted(times):
            (into / student).mkdir(exist_ok=True)
            target = into / student / assignment
            os.rename(staging / student / assignment, target)
            moved.append(target)
    except BaseException:
        for target in moved:  # take back what was moved: all or nothing
            shutil.rmtree(target, ignore_errors=True)
            if not any(target.parent.iterdir()):
                target.parent.rmdir()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return imported
