"""The property checks the exercises' tests call: they pass right answers in any spelling
and fail wrong ones with a message that says what to fix."""

from __future__ import annotations

import numpy as np
import pytest

from fashion_lessons import checks


def _fails(match: str, function, *args, **kwargs) -> str:
    with pytest.raises(AssertionError, match=match) as caught:
        function(*args, **kwargs)
    return str(caught.value)


def test_check_array():
    checks.check_array(np.zeros(10, dtype=np.int64), shape=(10,), kind="integer")
    _fails("should be a NumPy array", checks.check_array, [0] * 10, shape=(10,))
    _fails(r"shape \(10,\), found \(8,\)", checks.check_array, np.zeros(8, int), shape=(10,))
    _fails("should hold integers", checks.check_array, np.zeros(10), kind="integer")
    message = _fails("dtype float32", checks.check_array, np.zeros(3), dtype=np.float32)
    assert ".astype(np.float32)" in message


def test_check_range_and_python_ints_and_bool():
    checks.check_range(np.array([0.0, 1.0]), 0, 1)
    _fails("between 0 and 1, found values from 0.0 to 2.0", checks.check_range, [0.0, 2.0], 0, 1)
    keys = ["count", "max"]
    checks.check_python_ints({"count": 1, "max": 255}, keys)
    _fails("exactly the keys", checks.check_python_ints, {"count": 1}, keys)
    message = _fails(
        "Python int", checks.check_python_ints, {"count": 1, "max": np.uint8(255)}, keys
    )
    assert "int(...)" in message
    checks.check_bool(np.bool_(True))
    _fails("True or False", checks.check_bool, 1)


def test_check_raises():
    def strict(value):
        if value > 9:
            raise ValueError("too big")
        return value

    checks.check_raises(ValueError, strict, 10)
    _fails(
        r"strict\(3\) returned 3; expected it to raise ValueError",
        checks.check_raises,
        ValueError,
        strict,
        3,
    )

    def unwritten(value):
        raise NotImplementedError()

    _fails(
        "raised NotImplementedError; expected ValueError",
        checks.check_raises,
        ValueError,
        unwritten,
        10,
    )


def test_history_from():
    history = checks.history_from({"accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.5]})
    assert history.history["val_accuracy"] == [0.4, 0.5] and history.epoch == [0, 1]


def test_activation_name_by_behaviour():
    import keras
    import tensorflow as tf

    assert checks.activation_name(tf.nn.relu) == "relu"
    assert checks.activation_name(keras.activations.get("relu")) == "relu"
    assert checks.activation_name(keras.activations.softmax) == "softmax"
    assert checks.activation_name(keras.activations.sigmoid) == "other"
    assert checks.activation_name(keras.activations.linear) == "linear (no activation)"


def _seed_model(hidden_activation="relu", output_activation="softmax", dropout=None, compile=True):
    import keras

    layers = [
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation=hidden_activation),
    ]
    if dropout is not None:
        layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(10, activation=output_activation))
    model = keras.Sequential(layers)
    if compile:
        model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
    return model


def test_model_checks_pass_the_reference_and_a_functional_model():
    import keras
    import tensorflow as tf

    expected = [(128, "relu"), (10, "softmax")]
    for model in (_seed_model(), _seed_model(hidden_activation=tf.nn.relu)):
        checks.check_model_io(model)
        checks.check_dense_stack(model, expected)
        checks.check_parameter_count(model, 101_770)
        checks.check_compiled(model)

    inputs = keras.Input((28, 28))
    hidden = keras.layers.Dense(128, activation="relu")(keras.layers.Reshape((784,))(inputs))
    dropped = keras.layers.Dropout(0.3)(hidden)
    functional = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(dropped))
    functional.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    checks.check_model_io(functional)
    checks.check_dense_stack(functional, expected, dropout_rate=0.3)
    checks.check_compiled(functional)


def test_model_checks_fail_wrong_models_with_advice():
    expected = [(128, "relu"), (10, "softmax")]
    _fails("keras.Model", checks.check_model_io, None)
    _fails("softmax", checks.check_model_io, _seed_model(output_activation=None))
    _fails(r"\(128, 'other'\)", checks.check_dense_stack, _seed_model("sigmoid"), expected)
    _fails("no Dropout layer", checks.check_dense_stack, _seed_model(dropout=0.2), expected)
    _fails("right after the Dense", checks.check_dense_stack, _seed_model(), expected, 0.2)
    _fails("rate=0.5", checks.check_dense_stack, _seed_model(dropout=0.5), expected, 0.2)
    _fails("not compiled", checks.check_compiled, _seed_model(compile=False))
    sgd = _seed_model(compile=False)
    sgd.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    _fails("Adam optimizer", checks.check_compiled, sgd)
    one_hot = _seed_model(compile=False)
    one_hot.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    _fails("sparse_categorical_crossentropy", checks.check_compiled, one_hot)
    no_metric = _seed_model(compile=False)
    no_metric.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    _fails("metrics=\\['accuracy'\\]", checks.check_compiled, no_metric)
