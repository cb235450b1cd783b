"""The ``import``, ``export`` and ``similarity`` commands of ``fashion-lessons`` (the term
around grading), and what every command shares: counts read from the command line, and
errors a user can fix printed in one message."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path


def print_error(message: str) -> None:
    """Print ``error: message`` on stderr, wrapped for a terminal."""
    # Paths stay whole, so a user can copy one from the message.
    text = textwrap.fill(
        f"error: {message}", width=88, break_on_hyphens=False, break_long_words=False
    )
    print(text, file=sys.stderr)


def at_least_one(text: str) -> int:
    """A count given on the command line: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, found {value}")
    return value


TERM_FILE_HELP = "the term's due dates, extensions and late rule (default: course.toml)"


def term_file(path: str | None) -> Path:
    """The term file a user named (it must exist), else the course's ``course.toml``."""
    from fashion_lessons.grading.config import COURSE_ROOT
    from fashion_lessons.grading.term_config import TERM_FILE, TermConfigError

    if path is None:
        return COURSE_ROOT / TERM_FILE
    if not Path(path).is_file():
        raise TermConfigError(f"{path}: no such term file")
    return Path(path)


def term_errors() -> tuple[type[Exception], ...]:
    """The errors of the term's files and downloads that a user fixes: one line each."""
    from fashion_lessons.grading.lms_export import ExportError
    from fashion_lessons.grading.lms_import import DownloadRefused
    from fashion_lessons.grading.roster import RosterError
    from fashion_lessons.grading.term_config import TermConfigError

    return (DownloadRefused, ExportError, RosterError, TermConfigError, OSError)


def command_import(args: argparse.Namespace) -> int:
    """Import an LMS bulk download into SUBMISSIONS/<student>/<assignment>/."""
    from fashion_lessons.grading.config import COURSE_ROOT
    from fashion_lessons.grading.lms_import import import_download
    from fashion_lessons.grading.roster import read_roster

    try:
        roster = read_roster(args.roster) if args.roster else None
        report = import_download(
            args.lms,
            Path(args.download),
            args.assignment,
            Path(args.into),
            COURSE_ROOT / "solutions",
            roster,
            zip_timezone=args.zip_timezone,
        )
        if args.report:
            Path(args.report).write_text(report.csv_text(), encoding="utf-8")
    except term_errors() as error:
        print_error(str(error))
        return 2
    print(report.text())
    return 0 if report.imported else 1


def command_export(args: argparse.Namespace) -> int:
    """Write OUT/grades.csv as the LMS's gradebook import file."""
    import dataclasses

    from fashion_lessons.grading.lms_export import export_grades
    from fashion_lessons.grading.roster import read_roster
    from fashion_lessons.grading.term_config import load_term_config

    try:
        config = load_term_config(term_file(args.term))
        if args.missing:
            config = dataclasses.replace(config, missing=args.missing)
        report = export_grades(
            args.lms, Path(args.out), Path(args.into), read_roster(args.roster), config
        )
    except term_errors() as error:
        print_error(str(error))
        return 2
    print(
        f"wrote {report.path}: {report.students} students x {len(report.assignments)} "
        f"assignments for {args.lms.title()}'s gradebook import"
    )
    for student in report.not_on_roster:
        print(f"left out {student}: graded but not on the roster")
    for student in report.without_identifier:
        print(f"left out {student}: the roster has no {args.lms.title()} identifier for them")
    return 0


def command_similarity(args: argparse.Namespace) -> int:
    """Compare students' answer cells per assignment; write OUT/similarity.html and .csv."""
    from fashion_lessons.grading.config import COURSE_ROOT
    from fashion_lessons.grading.similarity import similarity_report

    out = Path(args.out)
    submitted = Path(args.submissions) if args.submissions else out / "submitted"
    if not submitted.is_dir():
        print_error(f"{submitted}: no such folder of <student>/<assignment>/ submissions")
        return 2
    pairs = similarity_report(
        submitted, COURSE_ROOT / "solutions", COURSE_ROOT / "exercises", out, top=args.top
    )
    shown = sorted(pairs, key=lambda p: -p.score)[: args.top]
    for pair in shown:
        print(f"{pair.score:4.0%}  {pair.assignment}  {pair.first} - {pair.second}")
    print(f"{len(pairs)} pairs compared; report: {out / 'similarity.html'} and .csv")
    return 0


def add_term_commands(commands) -> None:
    """``import``, ``export`` and ``similarity``: the term around ``grade``."""
    lms = ("canvas", "moodle")
    imp = commands.add_parser(
        "import", help="turn a Canvas or Moodle bulk download into SUBMISSIONS (instructors)"
    )
    imp.add_argument("lms", choices=lms)
    imp.add_argument("download", help="the .zip the LMS produced")
    imp.add_argument("--assignment", required=True, help="assignment id, e.g. 01-load-data")
    imp.add_argument("--into", required=True, help="the SUBMISSIONS folder")
    imp.add_argument("--roster", help="roster.csv mapping LMS users to student ids")
    imp.add_argument(
        "--zip-timezone", default="UTC", help="time zone of the zip's file times (default: UTC)"
    )
    imp.add_argument("--report", help="also write the import report to this CSV file")
    imp.set_defaults(run=command_import)

    exp = commands.add_parser(
        "export", help="write grades as a Canvas or Moodle gradebook import CSV (instructors)"
    )
    exp.add_argument("lms", choices=lms)
    exp.add_argument("out", help="the grading output folder (holding grades.csv)")
    exp.add_argument("--into", required=True, help="the CSV file to write")
    exp.add_argument("--roster", required=True, help="roster.csv with the LMS identifiers")
    exp.add_argument("--missing", choices=("zero", "blank"), help="for missing submissions")
    exp.add_argument("--term", help=TERM_FILE_HELP)
    exp.set_defaults(run=command_export)

    sim = commands.add_parser(
        "similarity", help="flag pairs of students with similar answers (instructors)"
    )
    sim.add_argument("out", help="the grading output folder; the report is written there")
    sim.add_argument("--submissions", help="folder of submissions (default: OUT/submitted)")
    sim.add_argument("--top", type=at_least_one, default=10, help="pairs shown per assignment")
    sim.set_defaults(run=command_similarity)
