"""The similarity report: a copied-and-renamed answer ranks first among honest ones."""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import nbformat
from helpers import REPO, exercise, solution

from fashion_lessons.grading.notebooks import grade_id as grade_id_of
from fashion_lessons.grading.similarity import similarity_report

ASSIGNMENT = "01-load-data"
STUB_BODY = "    # YOUR CODE HERE\n    raise NotImplementedError()"

# Five honest students: the same three functions, written in their own ways.
HONEST = {
    "ana": {
        "class_counts": """
            counts = np.zeros(10, dtype=int)
            for label in labels:
                counts[int(label)] += 1
            return counts""",
        "class_name": """
            names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
            if label < 0 or label > 9:
                raise ValueError("label out of range")
            return names[label]""",
        "describe_images": """
            n, h, w = images.shape
            return dict(count=n, height=h, width=w,
                        min=int(images.min()), max=int(images.max()))""",
    },
    "ben": {
        "class_counts": """
            values, found = np.unique(labels, return_counts=True)
            result = np.zeros(10, dtype=np.int64)
            result[values] = found
            return result""",
        "class_name": """
            try:
                index = int(label)
            except TypeError:
                raise ValueError("not a label")
            if index not in range(10):
                raise ValueError(f"{index} is not a label")
            return CLASS_NAMES[index]""",
        "describe_images": """
            summary = {}
            summary["count"] = len(images)
            summary["height"] = images.shape[1]
            summary["width"] = images.shape[2]
            summary["min"] = int(np.min(images))
            summary["max"] = int(np.max(images))
            return summary""",
    },
    "chen": {
        "class_counts": """
            from collections import Counter
            tally = Counter(int(x) for x in labels)
            return np.array([tally.get(k, 0) for k in range(10)])""",
        "class_name": """
            lookup = dict(enumerate(CLASS_NAMES))
            if label in lookup:
                return lookup[label]
            raise ValueError("unknown label: %r" % (label,))""",
        "describe_images": """
            lowest = int(images.reshape(-1).min())
            highest = int(images.reshape(-1).max())
            return {"count": images.shape[0], "height": images.shape[1],
                    "width": images.shape[2], "min": lowest, "max": highest}""",
    },
    "dana": {
        "class_counts": """
            labels = np.asarray(labels).ravel()
            return np.array([np.sum(labels == k) for k in range(10)], dtype=np.int64)""",
        "class_name": """
            assert_ok = isinstance(label, (int, np.integer)) and 0 <= label < 10
            if not assert_ok:
                raise ValueError("expected a label from 0 to 9")
            return str(CLASS_NAMES[label])""",
        "describe_images": """
            stats = {key: 0 for key in ("count", "height", "width", "min", "max")}
            stats["count"], stats["height"], stats["width"] = map(int, images.shape)
            stats["min"], stats["max"] = int(images.min()), int(images.max())
            return stats""",
    },
    "eli": {
        "class_counts": """
            histogram, _ = np.histogram(labels, bins=np.arange(11))
            return histogram.astype(np.int64)""",
        "class_name": """
            if label in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9):
                return CLASS_NAMES[label]
            else:
                raise ValueError(f"label {label} outside 0-9")""",
        "describe_images": """
            flat = images.ravel()
            return {"count": int(images.shape[0]), "height": int(images.shape[1]),
                    "width": int(images.shape[2]),
                    "min": int(flat.min()), "max": int(flat.max())}""",
    },
}

# Ben's answers with every variable renamed and the comments rewritten.
COPIED = {
    "class_counts": """
        # which labels are there and how often
        uniq, cnt = np.unique(labels, return_counts=True)
        out = np.zeros(10, dtype=np.int64)  # start from zero
        out[uniq] = cnt
        return out""",
    "class_name": """
        try:
            idx = int(label)  # numpy ints too
        except TypeError:
            raise ValueError("not a label")
        if idx not in range(10):
            raise ValueError(f"{idx} is not a label")
        return CLASS_NAMES[idx]""",
    "describe_images": """
        info = {}
        info["count"] = len(images)   # number of pictures
        info["height"] = images.shape[1]
        info["width"] = images.shape[2]
        info["min"] = int(np.min(images))
        info["max"] = int(np.max(images))
        return info""",
}


def hand_in(folder: Path, answers: dict[str, str]) -> None:
    """The released exercise with ``answers`` typed into its answer cells."""
    notebook = nbformat.read(exercise(ASSIGNMENT), as_version=4)
    for cell in notebook.cells:
        grade_id = grade_id_of(cell)
        if grade_id in answers:
            body = textwrap.indent(textwrap.dedent(answers[grade_id]).strip("\n"), "    ")
            assert STUB_BODY in cell.source
            cell.source = cell.source.replace(STUB_BODY, body)
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "load_data.ipynb")


def test_copied_and_renamed_answer_ranks_first(tmp_path):
    submitted = tmp_path / "submissions"
    for student, answers in HONEST.items():
        hand_in(submitted / student / ASSIGNMENT, answers)
    hand_in(submitted / "zed" / ASSIGNMENT, COPIED)
    # two students who handed in the reference solution's code share only base code
    reference = nbformat.read(solution(ASSIGNMENT), as_version=4)
    for student in ("ref1", "ref2"):
        (submitted / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(reference, submitted / student / ASSIGNMENT / "load_data.ipynb")
    pairs = similarity_report(
        submitted, REPO / "solutions", REPO / "exercises", tmp_path / "out", top=3
    )
    assert len(pairs) == 28  # 8 students, every pair once
    first = pairs[0]
    assert {first.first, first.second} == {"ben", "zed"}, [(p.first, p.second) for p in pairs[:3]]
    assert first.score > 0.6
    assert first.score > 2 * pairs[1].score
    reference_pair = next(p for p in pairs if {p.first, p.second} == {"ref1", "ref2"})
    assert reference_pair.score == 0
    rows = list(csv.DictReader((tmp_path / "out" / "similarity.csv").open()))
    assert (rows[0]["student_a"], rows[0]["student_b"]) == ("ben", "zed")
    page = (tmp_path / "out" / "similarity.html").read_text()
    assert "Content-Security-Policy" in page and "<mark>" in page
    assert "uniq, cnt = np.unique" in page  # the copy's shared lines are shown


def test_student_text_is_escaped(tmp_path):
    submitted = tmp_path / "submissions"
    hostile = {
        "class_counts": 'text = "</pre><script>alert(1)</script>"\n'
        + "\n".join(f"value_{i} = len(text) * {i} + sum(labels)" for i in range(8))
    }
    hand_in(submitted / "<img src=x onerror=alert(1)>" / ASSIGNMENT, hostile)
    hand_in(submitted / "y" / ASSIGNMENT, hostile)
    similarity_report(submitted, REPO / "solutions", REPO / "exercises", tmp_path / "out")
    page = (tmp_path / "out" / "similarity.html").read_text()
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
