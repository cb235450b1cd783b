"""The run's identity and its journal of finished submissions, which make grading resumable.

A run is identified by :func:`run_id` (the solutions, the submissions and whether the
sandbox is on). Each finished submission is appended to ``OUT/.grading/journal.jsonl``
and fsynced, so a run killed at any moment and started again with the same inputs keeps
every recorded grade and grades every other submission once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

from fashion_lessons.files import write_atomic
from fashion_lessons.grading.types import SubmissionResult
from fashion_lessons.grading.workspace import STATE_DIR

JOURNAL = "journal.jsonl"
RUN_ID_FILE = "run_id"


def fingerprint(*folders: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file in ``folders``."""
    digest = hashlib.sha256()
    for folder in folders:
        folder = Path(folder)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def run_id(solutions: Path, submissions: Path, sandboxed: bool) -> str:
    """The identity of a grading run: what is graded, against what, and how safely."""
    return fingerprint(solutions, submissions) + ("" if sandboxed else "-unsandboxed")


def recorded_run_id(out: Path) -> str | None:
    """The run id stored in ``out`` when its grading started, or None."""
    path = Path(out) / STATE_DIR / RUN_ID_FILE
    return path.read_text() if path.exists() else None


def record_run_id(out: Path, identity: str) -> None:
    """Store the run id in ``out`` (after the submissions are collected)."""
    path = Path(out) / STATE_DIR / RUN_ID_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, identity)


def read_journal(out: Path, identity: str) -> dict[tuple[str, str], SubmissionResult]:
    """Results already recorded for the run ``identity`` (a torn last line is ignored)."""
    journal = Path(out) / STATE_DIR / JOURNAL
    done: dict[tuple[str, str], SubmissionResult] = {}
    if not journal.exists():
        return done
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill: that submission is graded again
        if entry.pop("run_id", None) == identity:
            result = SubmissionResult(**entry)
            done[(result.student_id, result.assignment)] = result
    return done


def holds_grades(out: Path) -> bool:
    """Whether ``out`` holds a journal with any recorded grade."""
    journal = Path(out) / STATE_DIR / JOURNAL
    return journal.exists() and journal.stat().st_size > 0


def append_journal(out: Path, identity: str, result: SubmissionResult) -> None:
    """Record one finished submission durably (fsynced) before it is reported."""
    journal = Path(out) / STATE_DIR / JOURNAL
    line = json.dumps({"run_id": identity, **dataclasses.asdict(result)}) + "\n"
    journal.parent.mkdir(exist_ok=True)
    with open(journal, "a", encoding="utf-8") as stream:
        stream.write(line)
        stream.flush()
        os.fsync(stream.fileno())
