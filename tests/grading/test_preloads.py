"""What a grading run's zygotes preload: the modules its handed-in notebooks import."""

from __future__ import annotations

import nbformat
from helpers import ASSIGNMENTS, solution

from fashion_lessons.grading.preloads import (
    imported_modules,
    kernel_preloads,
    preloads_imported_by,
)
from fashion_lessons.sandbox.zygote_server import PRELOAD

TENSORFLOW = {"tensorflow", "keras"}  # importing Keras imports TensorFlow


def test_imports_are_read_in_every_spelling():
    source = (
        "%matplotlib inline\n"  # IPython syntax does not hide the imports after it
        "import numpy as np, keras.layers\n"
        "from fashion_lessons import checks\n"
        "from .local import thing\n"  # relative: nothing to preload
        "def f():\n    import json\n"
    )
    assert imported_modules(source) == {
        "numpy",
        "keras.layers",
        "fashion_lessons",
        "fashion_lessons.checks",
        "json",
    }
    assert imported_modules("def broken(:\n    import keras\n") == set()


def test_a_preload_counts_when_a_notebook_imports_it_or_inside_it(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("import tensorflow  # prose, not code"),
        nbformat.v4.new_code_cell(
            "import keras.layers\nfrom fashion_lessons.data import load_data"
        ),
    ]
    path = tmp_path / "a.ipynb"
    nbformat.write(notebook, path)
    assert preloads_imported_by([path]) == ("keras", "fashion_lessons.data")


def test_only_the_tensorflow_assignments_preload_tensorflow(tmp_path):
    from fashion_lessons.grading.workspace import GradingCourse

    course = GradingCourse(
        tmp_path,
        None,
        tuple(ASSIGNMENTS),
        {assignment: (solution(assignment).stem,) for assignment in ASSIGNMENTS},
        {},
    )
    (tmp_path / "solutions").symlink_to(solution("01-load-data").parent.parent)
    light = kernel_preloads(course, ["01-load-data", "02-scale-pixels", "02-scale-pixels"])
    assert light == ("numpy", "fashion_lessons.checks", "fashion_lessons.data")
    for assignment in ("03-build-model", "04-train-evaluate", "05-overfitting", "06-dropout"):
        assert TENSORFLOW & set(kernel_preloads(course, [assignment])), assignment
    everything = kernel_preloads(course, ASSIGNMENTS)
    assert set(everything) <= set(PRELOAD) and "fashion_lessons.models" in everything
    assert kernel_preloads(course, ["99-unknown"]) == ()
