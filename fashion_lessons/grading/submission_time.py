"""When a submission was handed in: nbgrader's ``timestamp.txt`` in the submission folder.

``fashion-lessons import`` writes it from the LMS's upload time, nbgrader's exchange writes
it on ``submit``; the late-work rule reads it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

TIMESTAMP_FILE = "timestamp.txt"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's ExchangeSubmit default


def format_timestamp(moment: dt.datetime) -> str:
    """``moment`` (timezone-aware) in UTC, in nbgrader's format."""
    return moment.astimezone(dt.timezone.utc).strftime(TIMESTAMP_FORMAT)


def write_timestamp(folder: Path, moment: dt.datetime) -> None:
    """Write ``moment`` (timezone-aware) as ``folder/timestamp.txt``."""
    (Path(folder) / TIMESTAMP_FILE).write_text(format_timestamp(moment), encoding="utf-8")


def read_timestamp(folder: Path) -> dt.datetime | None:
    """The submission time in ``folder/timestamp.txt`` (nbgrader's format), or None.

    None also when the file is a link, too long or unreadable as a time: a submission
    folder is student material, and a bad time must not stop the class's grading.
    """
    from nbgrader.utils import parse_utc

    path = Path(folder) / TIMESTAMP_FILE
    if path.is_symlink() or not path.is_file() or path.stat().st_size > 100:
        return None
    try:
        moment = parse_utc(path.read_text(encoding="utf-8").strip())
    except (ValueError, OverflowError, UnicodeDecodeError, TypeError):
        return None
    return moment.replace(tzinfo=dt.timezone.utc)
