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
