"""Property checks that the exercises' autograder tests call.

Each ``check_*`` function returns ``None`` when the property holds and raises
:class:`AssertionError` with a message a student can act on when it does not: what was
expected, what was found, and, where it helps, how to fix it. The checks test
behaviour and properties (shapes, dtypes, ranges, what a layer computes), never the
spelling of an answer: a functional-API model or ``activation=tf.nn.relu`` passes as well
as the reference's ``Sequential`` and ``"relu"``. None of them is a graded answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:200]


def check_array(
    value, *, shape=None, kind: str | None = None, dtype=None, name: str = "the result"
):
    """Check that ``value`` is a NumPy array of the expected shape and dtype.

    Parameters
    ----------
    value : object
        What the student's function returned.
    shape : tuple of int, optional
        The expected shape.
    kind : {"integer", "float"}, optional
        The expected family of dtypes (any width).
    dtype : numpy dtype, optional
        The exact expected dtype, e.g. ``np.float32``.
    name : str
        How the message calls ``value``, e.g. ``"class_counts(y_train)"``.
    """
    if not isinstance(value, np.ndarray):
        raise AssertionError(
            f"{name} should be a NumPy array, but it is {_describe(value)}. "
            "Return an ndarray (np.asarray turns a list into one)."
        )
    if shape is not None and value.shape != tuple(shape):
        raise AssertionError(f"{name} should have shape {tuple(shape)}, found {value.shape}")
    if kind == "integer" and not np.issubdtype(value.dtype, np.integer):
        raise AssertionError(
            f"{name} should hold integers, found dtype {value.dtype}. "
            "Counts and labels are whole numbers: use an integer dtype."
        )
    if kind == "float" and not np.issubdtype(value.dtype, np.floating):
        raise AssertionError(f"{name} should hold floating-point numbers, found {value.dtype}")
    if dtype is not None and value.dtype != np.dtype(dtype):
        raise AssertionError(
            f"{name} should have dtype {np.dtype(dtype)}, found {value.dtype}. "
            f"Convert with .astype(np.{np.dtype(dtype)}) or pass dtype=np.{np.dtype(dtype)}."
        )


def check_range(values, low: float, high: float, name: str = "the values"):
    """Check that every value lies in ``[low, high]``.

    Parameters
    ----------
    values : ndarray of numbers
    low, high : float
        Inclusive bounds.
    name : str
    """
    values = np.asarray(values)
    if values.size and (values.min() < low or values.max() > high):
        raise AssertionError(
            f"{name} should lie between {low} and {high}, found values from "
            f"{values.min()} to {values.max()}"
        )


def check_python_ints(summary, keys: Sequence[str], name: str = "the result"):
    """Check that ``summary`` is a dict with exactly ``keys``, each a Python ``int``.

    NumPy integers (``np.int64`` …) are not Python ints: convert them with ``int(...)``.
    """
    if not isinstance(summary, Mapping):
        raise AssertionError(f"{name} should be a dict, but it is {_describe(summary)}")
    if set(summary) != set(keys):
        raise AssertionError(
            f"{name} should have exactly the keys {sorted(keys)}, found {sorted(summary)}"
        )
    for key in keys:
        value = summary[key]
        if type(value) is not int:
            raise AssertionError(
                f"{name}[{key!r}] should be a Python int, found {type(value).__name__} "
                f"{value!r}. Convert NumPy numbers with int(...)."
            )


def check_bool(value, name: str = "the result"):
    """Check that ``value`` is a boolean (Python ``bool`` or ``np.bool_``)."""
    if not isinstance(value, (bool, np.bool_)):
        raise AssertionError(f"{name} should be True or False, found {_describe(value)}")


def check_raises(expected: type[BaseException], function: Callable, *args, **kwargs):
    """Check that ``function(*args, **kwargs)`` raises ``expected``.

    A different exception, or none at all, fails with a message naming the call.
    """
    call = f"{getattr(function, '__name__', 'the function')}({', '.join(map(repr, args))})"
    try:
        result = function(*args, **kwargs)
    except expected:
        return
    except Exception as error:
        detail = f" ({error})" if str(error) else ""
        raise AssertionError(
            f"{call} raised {type(error).__name__}{detail}; expected {expected.__name__}. "
            f"Check the argument yourself and raise {expected.__name__} with a message."
        ) from error
    raise AssertionError(
        f"{call} returned {result!r}; expected it to raise {expected.__name__}. "
        f"Check the argument and raise {expected.__name__} when it is out of range."
    )


def history_from(metrics: Mapping[str, Sequence[float]]):
    """Wrap a dict of per-epoch metrics in a ``keras.callbacks.History``, as ``fit`` returns.

    Parameters
    ----------
    metrics : mapping of metric name to list of float
        e.g. ``{"accuracy": [0.7, 0.8], "val_accuracy": [0.7, 0.75]}``.
    """
    import keras

    history = keras.callbacks.History()
    history.history = {key: list(values) for key, values in metrics.items()}
    history.epoch = list(range(len(next(iter(metrics.values()), []))))
    return history


# --- Keras models -----------------------------------------------------------------


def _check_is_model(model, name: str):
    import keras

    if not isinstance(model, keras.Model):
        raise AssertionError(
            f"{name} should return a keras.Model (e.g. keras.Sequential), but it returned "
            f"{_describe(model)}. Did you forget the return statement?"
        )


def _layers(model) -> list:
    """The layers that compute something, in order (input layers left out)."""
    import keras

    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def _apply_activation(activation, values: np.ndarray) -> np.ndarray:
    import keras

    result = activation(keras.ops.convert_to_tensor(values))
    return np.asarray(keras.ops.convert_to_numpy(result), dtype=np.float64)


def activation_name(activation) -> str:
    """Tell what an activation computes: ``"relu"``, ``"softmax"``, ``"linear (no activation)"``
    or ``"other"``.

    Decided by applying it to a few numbers, so ``"relu"``, ``keras.activations.relu``
    and ``tf.nn.relu`` are all ``"relu"``.
    """
    values = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]], dtype=np.float32)
    try:
        result = _apply_activation(activation, values)
    except Exception:
        return "other"
    if np.allclose(result, np.maximum(values, 0), atol=1e-6):
        return "relu"
    if np.allclose(result, values, atol=1e-6):
        return "linear (no activation)"
    exp = np.exp(values - values.max())
    if np.allclose(result, exp / exp.sum(), atol=1e-6):
        return "softmax"
    return "other"


def check_model_io(model, name: str = "build_model()", probabilities: bool = True):
    """Check that ``model`` takes (n, 28, 28) images and returns (n, 10) outputs.

    With ``probabilities`` (the default) the outputs must also be non-negative and sum
    to 1 for each image, as a softmax layer's do.
    """
    _check_is_model(model, name)
    images = np.random.default_rng(0).random((4, *IMAGE_SHAPE), dtype=np.float32)
    try:
        output = np.asarray(model.predict(images, verbose=0))
    except Exception as error:
        raise AssertionError(
            f"the model of {name} could not predict a batch of (4, 28, 28) images: "
            f"{type(error).__name__}: {error}. Give it an input of shape (28, 28)."
        ) from error
    if output.shape != (4, NUM_CLASSES):
        raise AssertionError(
            f"for 4 images of 28×28 the model of {name} should output shape (4, 10), one "
            f"score per class, found {output.shape}"
        )
    sums_to_one = np.allclose(output.sum(axis=1), 1.0, atol=1e-4)
    if probabilities and ((output < 0).any() or not sums_to_one):
        raise AssertionError(
            f"the outputs of {name} should be probabilities (non-negative, summing to 1 "
            f"per image); the first row is {[round(float(v), 3) for v in output[0]]}. "
            "Does the last layer use the softmax activation?"
        )


def check_dense_stack(
    model,
    dense: Sequence[tuple[int, str]],
    dropout_rate: float | None = None,
    name: str = "build_model()",
):
    """Check the layer structure: Dense layers in order, optionally a Dropout after the first.

    Flattening may be spelled any way (``Flatten``, ``Reshape``); the checks are the
    Dense layers' sizes and what their activations compute.

    Parameters
    ----------
    model : keras.Model
    dense : sequence of (units, activation) pairs
        e.g. ``[(128, "relu"), (10, "softmax")]``; activation is ``"relu"`` or ``"softmax"``.
    dropout_rate : float, optional
        When given, the layer right after the first Dense layer must be a ``Dropout``
        of this rate, and there must be no other Dropout layer.
    name : str
    """
    import keras

    _check_is_model(model, name)
    layers = _layers(model)
    dense_layers = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
    found = [(layer.units, activation_name(layer.activation)) for layer in dense_layers]
    expected = [(units, activation) for units, activation in dense]
    if found != expected:
        raise AssertionError(
            f"the Dense layers of {name} should be {expected} (units, activation), found "
            f"{found}. Check the number of units and each layer's activation."
        )
    dropouts = [layer for layer in layers if isinstance(layer, keras.layers.Dropout)]
    if dropout_rate is None:
        if dropouts:
            raise AssertionError(f"{name} should have no Dropout layer, found {len(dropouts)}")
        return
    after_hidden = layers.index(dense_layers[0]) + 1
    if len(dropouts) != 1 or layers[after_hidden] is not dropouts[0]:
        order = [type(layer).__name__ for layer in layers]
        raise AssertionError(
            f"{name} should have exactly one Dropout layer, right after the Dense "
            f"{dense[0][0]} layer; the layers are {order}"
        )
    if not np.isclose(dropouts[0].rate, dropout_rate):
        raise AssertionError(
            f"the Dropout layer should drop a fraction {dropout_rate} of the units, "
            f"found rate={dropouts[0].rate}. Pass the function's rate to Dropout."
        )


def check_parameter_count(model, expected: int, name: str = "build_model()"):
    """Check the number of trainable parameters (101,770 for the seed's model)."""
    _check_is_model(model, name)
    count = int(sum(np.prod(weight.shape) for weight in model.trainable_weights))
    if count != expected:
        raise AssertionError(
            f"the model of {name} should have {expected:,} trainable parameters, found "
            f"{count:,}. Compare your layers with the description in the docstring."
        )


def check_compiled(model, name: str = "build_model()"):
    """Check the compilation by behaviour: Adam, sparse categorical cross-entropy, accuracy.

    The loss and the accuracy that ``model.evaluate`` reports on a few images are compared
    with the ones computed from ``model.predict``, so any spelling of the loss (a string,
    a class or a function) passes.
    """
    import keras

    _check_is_model(model, name)
    if getattr(model, "optimizer", None) is None or getattr(model, "compiled", True) is False:
        raise AssertionError(
            f"the model of {name} is not compiled: call model.compile(optimizer=..., "
            "loss=..., metrics=[...]) before returning it"
        )
    if not isinstance(model.optimizer, keras.optimizers.Adam):
        raise AssertionError(
            f"the model of {name} should be compiled with the Adam optimizer, found "
            f"{type(model.optimizer).__name__}"
        )
    rng = np.random.default_rng(1)
    images = rng.random((16, *IMAGE_SHAPE), dtype=np.float32)
    labels = rng.integers(0, NUM_CLASSES, size=16).astype(np.uint8)
    try:
        results = model.evaluate(images, labels, verbose=0, return_dict=True)
    except Exception as error:
        raise AssertionError(
            f"evaluating the model of {name} on integer labels 0–9 failed with "
            f"{type(error).__name__}: {str(error)[:300]}. Check the compile arguments: "
            "loss='sparse_categorical_crossentropy' (the labels are integers 0–9, not one-hot "
            "vectors) and metrics=['accuracy']."
        ) from error
    probabilities = np.asarray(model.predict(images, verbose=0), dtype=np.float64)
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1.0)
    expected_loss = float(-np.mean(np.log(picked)))
    loss = float(results["loss"])
    if not np.isclose(loss, expected_loss, rtol=1e-3, atol=1e-4):
        raise AssertionError(
            f"the model of {name} reports a loss of {loss:.4f} where sparse categorical "
            f"cross-entropy of its predictions is {expected_loss:.4f}: compile it with "
            "loss='sparse_categorical_crossentropy'"
        )
    expected_accuracy = float(np.mean(np.argmax(probabilities, axis=1) == labels))
    accuracies = {key: float(value) for key, value in results.items() if "acc" in key}
    if not any(np.isclose(value, expected_accuracy) for value in accuracies.values()):
        raise AssertionError(
            f"the model of {name} should report accuracy while training and evaluating, "
            f"found only the metrics {sorted(results)}: compile it with metrics=['accuracy']"
        )
