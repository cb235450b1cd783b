"""An integrity report: how alike students' answers are, pair by pair, per assignment.

Only the answer cells count (cells whose nbgrader metadata says ``solution: true``); what
the released exercise and the reference solution put in those cells is base code, removed
from every student's fingerprints, so a shared docstring or the expected one-liner does not
make two students alike. Fingerprints are copydetect's winnowing (as in MOSS) over code
with names and string literals normalized, so renaming variables or rewriting comments does
not hide a copy. The report flags pairs for a person to look at; it never changes a grade.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import itertools
import re
from pathlib import Path

from fashion_lessons.files import write_atomic
from fashion_lessons.grading.inert_html import page

NOISE_CHARACTERS = 25  # shorter common runs of normalized code are ignored (copydetect's k)
GUARANTEE_CHARACTERS = 30  # longer ones are always found (sets the winnowing window)
_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.M)


@dataclasses.dataclass(frozen=True)
class PairSimilarity:
    """Two students' answers to one assignment.

    Attributes
    ----------
    assignment, first, second : str
    first_share, second_share : float
        Fraction of each one's answer code (after removing base code) found in the other's.
    shared_lines : list of (int, int) ranges per student
        1-based line ranges of each answer document that the other shares.
    """

    assignment: str
    first: str
    second: str
    first_share: float
    second_share: float
    first_text: str
    second_text: str
    first_lines: tuple[tuple[int, int], ...]
    second_lines: tuple[tuple[int, int], ...]

    @property
    def score(self) -> float:
        return (self.first_share + self.second_share) / 2


def answer_code(notebook_path: Path) -> str:
    """The answer cells of a notebook, in order, joined by blank lines; solution markers out."""
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    cells = [
        _MARKER.sub("", cell.source)
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
    ]
    return "\n\n".join(cells)


def _fingerprint(code: str, boilerplate=None):
    import copydetect

    return copydetect.CodeFingerprint(
        "answers.py",
        NOISE_CHARACTERS,
        GUARANTEE_CHARACTERS - NOISE_CHARACTERS + 1,
        boilerplate=boilerplate,
        language="python",
        fp=io.StringIO(code),
    )


def _line_ranges(text: str, slices) -> tuple[tuple[int, int], ...]:
    ranges = []
    for start, end in zip(*slices):
        first = text.count("\n", 0, int(start)) + 1
        last = text.count("\n", 0, max(int(end) - 1, int(start))) + 1
        ranges.append((first, last))
    return tuple(sorted(ranges))


def compare_assignment(
    assignment: str, answers: dict[str, str], base_code: list[str]
) -> list[PairSimilarity]:
    """Every pair of students' answers, most similar first.

    Parameters
    ----------
    assignment : str
    answers : dict
        Student id → their answer code (:func:`answer_code`, notebooks joined).
    base_code : list of str
        The stub's and the reference solution's answer code; never counts.
    """
    import copydetect
    import numpy as np

    base = set()
    for code in base_code:
        base |= _fingerprint(code).hashes
    boilerplate = np.array(sorted(base), dtype=np.int64)
    prints = {s: _fingerprint(code, boilerplate) for s, code in answers.items()}
    pairs = []
    for first, second in itertools.combinations(sorted(prints), 2):
        a, b = prints[first], prints[second]
        if not a.hashes or not b.hashes:
            shares, slices = (0.0, 0.0), (np.zeros((2, 0)), np.zeros((2, 0)))
        else:
            _, shares, slices = copydetect.compare_files(a, b)
        pairs.append(
            PairSimilarity(
                assignment,
                first,
                second,
                float(shares[0]),
                float(shares[1]),
                answers[first],
                answers[second],
                _line_ranges(answers[first], slices[0]) if len(slices[0]) else (),
                _line_ranges(answers[second], slices[1]) if len(slices[1]) else (),
            )
        )
    return sorted(pairs, key=lambda p: (-p.score, p.first, p.second))


def collect_answers(submitted: Path, assignment: str) -> dict[str, str]:
    """Student id → answer code of ``submitted/<student>/<assignment>/*.ipynb``."""
    answers = {}
    for folder in sorted(Path(submitted).glob(f"*/{assignment}")):
        notebooks = sorted(folder.glob("*.ipynb"))
        try:
            answers[folder.parent.name] = "\n\n".join(answer_code(nb) for nb in notebooks)
        except Exception:  # an unreadable notebook is graded 0 elsewhere; nothing to compare
            continue
    return answers


def similarity_report(
    submitted: Path, solutions: Path, exercises: Path, out: Path, top: int = 10
) -> list[PairSimilarity]:
    """Compare every assignment's answers; write ``out/similarity.csv`` and ``.html``.

    Parameters
    ----------
    submitted : Path
        ``<student>/<assignment>/<notebook>.ipynb`` (SUBMISSIONS or ``OUT/submitted``).
    solutions, exercises : Path
        The reference solutions and the released stubs: the base code.
    out : Path
        Where the two files go.
    top : int
        Pairs per assignment shown with their code side by side in the HTML.

    Returns
    -------
    list of PairSimilarity
        Every pair of every assignment, most similar first within each assignment.
    """
    out = Path(out)
    everything = []
    for folder in sorted(p for p in Path(solutions).iterdir() if p.is_dir()):
        assignment = folder.name
        answers = collect_answers(submitted, assignment)
        if len(answers) < 2:
            continue
        base = [answer_code(nb) for nb in sorted(folder.glob("*.ipynb"))]
        base += [answer_code(nb) for nb in sorted((Path(exercises) / assignment).glob("*.ipynb"))]
        everything += compare_assignment(assignment, answers, base)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "similarity.csv", _csv(everything))
    write_atomic(out / "similarity.html", _html(everything, top))
    return everything


def _csv(pairs: list[PairSimilarity]) -> str:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["assignment", "student_a", "student_b", "similarity", "share_a", "share_b"])
    for p in pairs:
        writer.writerow(
            [
                p.assignment,
                p.first,
                p.second,
                f"{p.score:.3f}",
                f"{p.first_share:.3f}",
                f"{p.second_share:.3f}",
            ]
        )
    return text.getvalue()


def _code(text: str, ranges: tuple[tuple[int, int], ...]) -> str:
    marked = {n for first, last in ranges for n in range(first, last + 1)}
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        escaped = html.escape(line) or " "
        lines.append(f"<mark>{escaped}</mark>" if number in marked else escaped)
    return "<pre>" + "\n".join(lines) + "</pre>"


_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:110em}"
    "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em .6em;"
    "vertical-align:top}pre{font-size:.85em;white-space:pre-wrap;margin:0}"
    "mark{background:#ffe08a}"
)


def _html(pairs: list[PairSimilarity], top: int) -> str:
    parts = [
        "<h1>Similarity of answers</h1>",
        "<p>Pairs of students whose answer cells share code, most similar first. Base code "
        "(the exercise as released and the reference solution) is left out, and names and "
        "comments do not count. A high score is a reason to look, not a verdict: grades are "
        "unchanged.</p>",
    ]
    for assignment, group in itertools.groupby(pairs, key=lambda p: p.assignment):
        group = list(group)
        parts.append(f"<h2>{html.escape(assignment)}</h2><table>")
        parts.append("<tr><th>students</th><th>similarity</th><th>shares</th></tr>")
        for p in group[:top]:
            parts.append(
                f"<tr><td>{html.escape(p.first)} – {html.escape(p.second)}</td>"
                f"<td>{p.score:.0%}</td><td>{p.first_share:.0%} / {p.second_share:.0%}</td></tr>"
            )
        parts.append("</table>")
        for p in group[:top]:
            if not (p.first_lines or p.second_lines):
                continue
            parts.append(
                f"<h3>{html.escape(p.first)} and {html.escape(p.second)}: {p.score:.0%}</h3>"
                f"<table><tr><th>{html.escape(p.first)}</th><th>{html.escape(p.second)}</th></tr>"
                f"<tr><td>{_code(p.first_text, p.first_lines)}</td>"
                f"<td>{_code(p.second_text, p.second_lines)}</td></tr></table>"
            )
    return page("Similarity of answers", "\n".join(parts), _STYLE)
