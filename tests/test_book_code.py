"""The lessons' code, copied from the built site into an empty notebook, runs on its own.

A reader who types the code cells of the load → scale → model → train pages into one
fresh notebook, in order, needs nothing from the course package. This test takes those
cells from the executed notebooks of the built site (``_build/jupyter_execute``) — every
cell a reader sees, none of the hidden ones — and runs them in one fresh kernel whose
Keras cache holds the data (where ``keras.datasets.fashion_mnist.load_data()`` looks).
The load, scale and model pages run on the full data and must print what the site
printed; the training page runs on a 3,000-image subset, so its numbers differ, and it
must train, evaluate and predict as the page does.
"""

from __future__ import annotations

import ast
import json

import nbformat
import pytest
from nbclient import NotebookClient
from test_book import BUILD, site  # noqa: F401 - the fixture that builds the site

from fashion_lessons.data import prepare_keras_cache

PAGES = ["load", "scale", "model", "train"]
HIDDEN = {"remove-cell", "remove-input"}
SUBSET = (
    "train_images, train_labels = train_images[:3000], train_labels[:3000]\n"
    "test_images, test_labels = test_images[:1000], test_labels[:1000]\n"
)


def _visible_code_cells(name: str) -> list[dict]:
    notebook = json.loads((BUILD / "jupyter_execute" / "book" / f"{name}.ipynb").read_text())
    return [
        cell
        for cell in notebook["cells"]
        if cell["cell_type"] == "code" and not HIDDEN & set(cell["metadata"].get("tags", []))
    ]


def _source(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _text_outputs(cell: dict) -> list[str]:
    """What a cell printed or returned as text (figures and rich HTML left out)."""
    texts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream" and output["name"] == "stdout":
            texts.append("".join(output["text"]))
        elif output["output_type"] == "execute_result":
            texts.append("".join(output["data"].get("text/plain", "")))
    return texts


@pytest.fixture(scope="module")
def reader_run(site, tmp_path_factory, monkeypatch_module):  # noqa: F811
    """The visible cells of the four pages, run in order in one fresh kernel."""
    keras_home = tmp_path_factory.mktemp("keras-home")
    monkeypatch_module.setenv("KERAS_HOME", str(keras_home))
    prepare_keras_cache()
    cells, origins = [], []
    for name in PAGES:
        for cell in _visible_code_cells(name):
            cells.append(nbformat.v4.new_code_cell(_source(cell)))
            origins.append((name, cell))
            if name == "train" and "load_data()" in _source(cell):
                cells.append(nbformat.v4.new_code_cell(SUBSET))
                origins.append((name, None))
    cells.append(nbformat.v4.new_code_cell("import sys\nprint(sorted(sys.modules))"))
    notebook = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": keras_home}}
    ).execute()
    return list(zip(origins, notebook.cells[:-1])), notebook.cells[-1]


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_the_pages_show_no_course_code():
    for name in PAGES:
        for cell in _visible_code_cells(name):
            assert "fashion_lessons" not in _source(cell), (name, _source(cell)[:80])
            assert "glue(" not in _source(cell) and "perf_counter" not in _source(cell)


def test_the_copied_code_needs_nothing_from_the_course_package(reader_run):
    _, modules_cell = reader_run
    modules = ast.literal_eval("".join(modules_cell.outputs[0]["text"]))
    assert "keras" in modules, "the check itself sees imported modules"
    # (The editable install's import hook, __editable___fashion_lessons_…_finder, is
    # loaded at start-up by every interpreter of this environment; it is not the package.)
    course = [name for name in modules if name.split(".")[0] in ("fashion_lessons", "myst_nb")]
    assert not course, f"the reader's code imported {course}"


def test_load_scale_and_model_pages_print_what_the_site_printed(reader_run):
    runs, _ = reader_run
    compared = 0
    for (name, page_cell), run_cell in runs:
        if name == "train" or page_cell is None or "summary()" in _source(page_cell):
            continue
        expected = _text_outputs(page_cell)
        assert _text_outputs(run_cell) == expected, f"{name}: {_source(page_cell)[:60]}"
        compared += bool(expected)
    assert compared >= 8, f"only {compared} cells with text output were compared"


def test_the_training_page_trains_evaluates_and_predicts_on_a_subset(reader_run):
    runs, _ = reader_run
    train = {_source(page)[:40]: run for (name, page), run in runs if name == "train" and page}
    outputs = {start: "\n".join(_text_outputs(cell)) for start, cell in train.items()}
    fit = next(text for start, text in outputs.items() if "model.fit(" in start)
    assert fit.count("Epoch ") == 5 and "accuracy" in fit
    lines = [line for text in outputs.values() for line in text.splitlines()]
    evaluated = next(line for line in lines if line.startswith("test accuracy:"))
    assert float(evaluated.split(":")[1]) > 0.7  # 3,000 images, 5 epochs; chance is 0.1
    single = next(text for start, text in outputs.items() if start.startswith("image = "))
    assert single.startswith("(28, 28)\n(1, 28, 28)\n")
