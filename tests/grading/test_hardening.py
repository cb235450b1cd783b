"""The grader's static defences: tampering removed, honest code untouched, outputs capped."""

from __future__ import annotations

import nbformat
import pytest

from fashion_lessons.grading.hardening import CapOutputs, disarm, tampering_notes

HONEST = '''import numpy as np
import keras

def scale_pixels(images):
    """Scale."""
    result = np.asarray(images, dtype=np.float32) / 255
    result.flags.writeable = True
    return result

model = keras.Sequential([keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
history = model.evaluate
'''


def test_honest_code_is_left_exactly_as_written():
    assert disarm(HONEST) == (HONEST, [])


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        ("np.allclose = lambda *a, **k: True", "replaces np.allclose"),
        ("np.testing.assert_allclose = print", "replaces np.testing.assert_allclose"),
        ("import numpy as n2\nn2.array_equal = max", "replaces n2.array_equal"),
        ("checks.check_array = print", "replaces checks.check_array"),
        ("get_ipython().showtraceback = print", "replaces traceback display"),
        ("import sys\nsys.excepthook = print", "replaces sys.excepthook"),
        ("ip = get_ipython()\nip.ast_transformers.append(1)", "uses the IPython shell object"),
        ("class Fake(np.ndarray):\n    pass", "subclasses np.ndarray"),
        ("setattr(np, 'allclose', max)", "sets attributes by name"),
        ("__import__('numpy').allclose = max", "imports by name"),
        ("import ctypes", "uses ctypes"),
        ("exec('x = 1')", "executes generated code"),
    ],
)
def test_tampering_statements_are_removed_with_a_reason(statement, why):
    source = f"import numpy as np\n{statement}\nx = 1\n"
    cleaned, reasons = disarm(source)
    assert any(why in reason for reason in reasons), reasons
    assert "x = 1" in cleaned
    compile(cleaned, "<cell>", "exec")  # still runs


def test_tampering_inside_a_function_is_removed_and_the_function_kept():
    source = "def scale_pixels(images):\n    np.allclose = max\n    return images / 256\n"
    cleaned, reasons = disarm(source)
    assert reasons == ["line 2: replaces np.allclose"]
    assert "return images / 256" in cleaned and "np.allclose" not in cleaned.split("\n", 1)[1]


def test_unparsable_cells_are_left_alone():
    assert disarm("%timeit x\n") == ("%timeit x\n", [])


def test_notes_are_read_back_from_a_notebook():
    cleaned, _ = disarm("import numpy as np\nnp.allclose = max\n")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cleaned)])
    assert tampering_notes(notebook) == ["cell 1 line 2: replaces np.allclose"]


def test_outputs_are_capped_by_bytes():
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="y" * 1_000_000),
        nbformat.v4.new_output("display_data", data={"image/png": "A" * 5_000_000}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "small"}, execution_count=1),
    ]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    capped, _ = CapOutputs().preprocess(notebook, {})
    stream, image, small = capped.cells[0].outputs
    assert len(stream.text) < 150_000 and "cut by the grader" in stream.text
    assert image.data == {"text/plain": "[an output of 5,000,000 bytes was removed by the grader]"}
    assert small.data == {"text/plain": "small"}


def test_preprocessors_are_enabled_by_default():
    """nbconvert skips a disabled preprocessor silently; these must always run."""
    from fashion_lessons.grading.hardening import DisarmTampering, RestoreMissingCells

    assert DisarmTampering().enabled and CapOutputs().enabled and RestoreMissingCells().enabled
