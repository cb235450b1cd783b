"""The seed's model and its dropout variant: layers, activations, compile settings."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fashion_lessons.models import build_model


def test_seed_model_structure_and_parameter_count():
    model = build_model()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Flatten", "Dense", "Dense"]
    assert model.input_shape == (None, 28, 28)
    assert model.output_shape == (None, 10)
    hidden, output = model.layers[1], model.layers[2]
    assert hidden.units == 128 and hidden.activation is keras.activations.relu
    assert output.units == 10 and output.activation is keras.activations.softmax
    assert model.count_params() == 101_770 == 784 * 128 + 128 + 128 * 10 + 10


def test_compiled_with_adam_sparse_crossentropy_and_accuracy():
    model = build_model()
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert model.loss == "sparse_categorical_crossentropy"
    results = model.evaluate(np.zeros((2, 28, 28)), np.array([0, 1]), verbose=0, return_dict=True)
    assert set(results) == {"loss", "accuracy"}


def test_outputs_are_probabilities():
    probabilities = build_model()(np.random.default_rng(0).random((4, 28, 28))).numpy()
    assert probabilities.shape == (4, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_dropout_only_when_rate_positive():
    model = build_model(dropout_rate=0.2)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Flatten", "Dense", "Dropout", "Dense"]
    assert model.layers[2].rate == pytest.approx(0.2)
    assert model.count_params() == 101_770  # dropout has no weights
    assert "Dropout" not in [type(layer).__name__ for layer in build_model(dropout_rate=0).layers]


def test_hidden_units_change_the_parameter_count():
    assert build_model(hidden_units=64).count_params() == 784 * 64 + 64 + 64 * 10 + 10


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_bad_dropout_rate_is_rejected(rate):
    with pytest.raises(ValueError, match="dropout_rate"):
        build_model(dropout_rate=rate)


def _page_cell(marker: str) -> str:
    """The one code cell of the model lesson that contains ``marker``."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "book" / "model.md").read_text()
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", page, flags=re.S)
    found = [cell for cell in cells if marker in cell]
    assert len(found) == 1, f"the model lesson has one cell with {marker}"
    return found[0].replace("model.summary()", "")


def _architecture(model) -> list:
    """Each layer's class and configuration, without the names Keras numbers."""
    layers = []
    for layer in model.layers:
        config = {key: value for key, value in layer.get_config().items() if key != "name"}
        layers.append((type(layer).__name__, config))
    return layers


def test_build_model_is_exactly_the_model_lessons_code():
    namespace = {"keras": keras}
    exec(_page_cell("keras.Sequential("), namespace)
    page_model = namespace["model"]
    model = build_model()
    assert _architecture(page_model) == _architecture(model)
    assert page_model.input_shape == model.input_shape
    assert page_model.count_params() == model.count_params() == 101_770
    exec(_page_cell("model.compile("), namespace)
    assert type(page_model.optimizer) is type(model.optimizer)
    assert float(page_model.optimizer.learning_rate) == pytest.approx(
        float(model.optimizer.learning_rate)
    )
    assert page_model.loss == model.loss


def test_the_architecture_check_would_catch_a_different_model():
    other = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(128, "sigmoid"),
            keras.layers.Dense(10, "softmax"),
        ]
    )
    assert _architecture(other) != _architecture(build_model())
