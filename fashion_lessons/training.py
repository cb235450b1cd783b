"""Seeded training and what a training history says about overfitting."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # TensorFlow is imported by the functions that train, not by the module,
    import keras  # so the history helpers (and plots) load in a fraction of a second


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy and TensorFlow so a run can be repeated."""
    import keras

    keras.utils.set_random_seed(seed)


def _check_data(images: np.ndarray, labels: np.ndarray) -> None:
    """ValueError unless there is at least one image and one label per image."""
    if len(images) != len(labels):
        raise ValueError(
            f"images and labels differ in length: {len(images)} images, {len(labels)} labels"
        )
    if len(images) == 0:
        raise ValueError("no images: pass at least one image and its label")


def _check_positive(**counts: int) -> None:
    for name, count in counts.items():
        if count < 1:
            raise ValueError(f"{name} must be at least 1, found {count}")


def train(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    epochs: int,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    batch_size: int = 32,
    verbose: str | int = "auto",
    callbacks: list | None = None,
    seed: int = 0,
) -> keras.callbacks.History:
    """Train ``model`` with ``fit`` on batches drawn in a new order every epoch.

    ``keras.utils.set_random_seed`` followed by ``fit(images, labels, shuffle=True)``
    replays one batch order in every epoch (Keras 3); the training images come instead
    from :func:`make_dataset`, which reshuffles each epoch from ``seed``, so a run is
    both reshuffled and repeatable.

    Parameters
    ----------
    model : keras.Model
        A compiled model, e.g. from :func:`fashion_lessons.models.build_model`.
    images : (n, 28, 28) float32 ndarray
        Scaled images (see :func:`fashion_lessons.preprocess.scale_images`).
    labels : (n,) integer ndarray
        Labels 0–9.
    epochs : int
        Passes over ``images``.
    validation_data : (images, labels), optional
        Evaluated after every epoch; adds ``val_loss`` and ``val_accuracy`` to the history.
    batch_size : int, default 32
    verbose : "auto", 0, 1 or 2
        Keras' progress display.
    callbacks : list of keras.callbacks.Callback, optional
    seed : int, default 0
        Seeds the order of the batches.

    Returns
    -------
    keras.callbacks.History
    """
    _check_data(images, labels)
    _check_positive(epochs=epochs)
    return model.fit(
        make_dataset(images, labels, batch_size, seed),
        epochs=epochs,
        validation_data=validation_data,
        shuffle=False,  # the dataset reshuffles itself each epoch
        verbose=verbose,
        callbacks=callbacks,
    )


SEED_BATCH_SIZE = 32
SEED_LEARNING_RATE = 0.001
FAST_BATCH_SIZE = 256


def scaled_learning_rate(batch_size: int) -> float:
    """Adam's learning rate for ``batch_size``, scaled from the seed's 0.001 at 32.

    Larger batches average out more noise, so each step can be longer. For Adam the
    square-root rule (learning rate ∝ √batch size) keeps the training dynamics close
    (Malladi et al., 2022, "On the SDEs and scaling rules for adaptive gradient
    algorithms"): 256 → 0.0028.
    """
    return SEED_LEARNING_RATE * (batch_size / SEED_BATCH_SIZE) ** 0.5


def make_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int = 0):
    """An in-memory ``tf.data`` pipeline: shuffled every epoch, batched, prefetched.

    Parameters
    ----------
    images : (n, 28, 28) float32 ndarray
    labels : (n,) integer ndarray
    batch_size : int
    seed : int
        Seeds the shuffle order, so runs repeat.

    Returns
    -------
    tf.data.Dataset
        Yields ``(images, labels)`` batches of (batch_size, 28, 28) float32 and (batch_size,).
    """
    import tensorflow as tf

    _check_data(images, labels)
    _check_positive(batch_size=batch_size)
    return (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


def train_fast(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    epochs: int,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    batch_size: int = FAST_BATCH_SIZE,
    seed: int = 0,
    verbose: str | int = "auto",
    callbacks: list | None = None,
) -> keras.callbacks.History:
    """Train like :func:`train`, several times faster: a larger batch with a matched
    learning rate, fed by ``tf.data``, with several steps per call into TensorFlow.

    The model is recompiled (Adam at :func:`scaled_learning_rate` of ``batch_size``), so
    pass a freshly built model; its layers and weights are kept.

    Parameters
    ----------
    model : keras.Model
    images : (n, 28, 28) float32 ndarray
        Scaled images.
    labels : (n,) integer ndarray
    epochs : int
    validation_data : (images, labels), optional
    batch_size : int, default 256
    seed : int, default 0
        Seeds the shuffle order.
    verbose : "auto", 0, 1 or 2
    callbacks : list of keras.callbacks.Callback, optional

    Returns
    -------
    keras.callbacks.History
    """
    from fashion_lessons.models import compile_model

    _check_data(images, labels)  # before the model is compiled again
    _check_positive(epochs=epochs, batch_size=batch_size)
    compile_model(model, scaled_learning_rate(batch_size), steps_per_execution=10)
    return train(
        model, images, labels, epochs, validation_data, batch_size, verbose, callbacks, seed
    )


def history_dict(history) -> dict[str, list[float]]:
    """Return the per-epoch metrics of a Keras ``History`` or of its ``.history`` dict."""
    metrics = getattr(history, "history", history)
    if not isinstance(metrics, Mapping):
        raise TypeError(
            f"expected a keras History or its .history dict, found {type(history).__name__}"
        )
    return {key: [float(value) for value in values] for key, values in metrics.items()}


def _curves(history, *keys: str) -> list[list[float]]:
    metrics = history_dict(history)
    missing = [key for key in keys if not metrics.get(key)]
    if missing:
        raise ValueError(
            f"the history has no {' or '.join(missing)}: train with validation_data "
            "and the 'accuracy' metric"
        )
    return [metrics[key] for key in keys]


def overfitting_gap(history) -> float:
    """Last-epoch training accuracy minus validation accuracy, as ``fit`` reported them.

    ``fit``'s training accuracy is a running average over an epoch whose weights kept
    changing (with dropout switched on, if any); :func:`accuracy_gap` measures both sides
    the same way and is the gap the lessons use.
    """
    train_accuracy, val_accuracy = _curves(history, "accuracy", "val_accuracy")
    return train_accuracy[-1] - val_accuracy[-1]


def accuracy_gap(
    model: keras.Model,
    train_data: tuple[np.ndarray, np.ndarray],
    validation_data: tuple[np.ndarray, np.ndarray],
    batch_size: int = 1024,
) -> float:
    """The gap: training accuracy minus validation accuracy, both from ``evaluate``.

    Both accuracies are measured the same way, on the same (final or restored) weights
    in inference mode, dropout switched off.

    Parameters
    ----------
    model : keras.Model
        A trained model compiled with the ``accuracy`` metric.
    train_data, validation_data : ((n, 28, 28) float32 ndarray, (n,) integer ndarray)
        Scaled images and their labels.
    batch_size : int, default 1024
        Images per evaluation step; does not change the result.

    Returns
    -------
    float
        Positive when the model does better on the images it trained on.
    """
    accuracies = []
    for images, labels in (train_data, validation_data):
        _check_data(images, labels)
        _, accuracy = model.evaluate(images, labels, batch_size=batch_size, verbose=0)
        accuracies.append(float(accuracy))
    return accuracies[0] - accuracies[1]


def best_epoch(history) -> int:
    """The 1-based epoch with the lowest validation loss (the first, on ties)."""
    (val_loss,) = _curves(history, "val_loss")
    return int(np.argmin(val_loss)) + 1


@dataclasses.dataclass(frozen=True)
class HistorySummary:
    """The numbers a training history comes down to.

    ``best_epoch`` has the lowest validation loss; ``gap`` is :func:`overfitting_gap`.
    """

    epochs: int
    final_train_accuracy: float
    final_val_accuracy: float
    best_epoch: int
    best_val_loss: float
    best_val_accuracy: float
    final_val_loss: float
    gap: float


def summarize_history(history) -> HistorySummary:
    """Summarize a ``History`` (or its dict) with ``accuracy``, ``val_accuracy``, ``val_loss``."""
    train_accuracy, val_accuracy, val_loss = _curves(
        history, "accuracy", "val_accuracy", "val_loss"
    )
    best = best_epoch(history)
    return HistorySummary(
        epochs=len(train_accuracy),
        final_train_accuracy=train_accuracy[-1],
        final_val_accuracy=val_accuracy[-1],
        best_epoch=best,
        best_val_loss=val_loss[best - 1],
        best_val_accuracy=val_accuracy[best - 1],
        final_val_loss=val_loss[-1],
        gap=overfitting_gap(history),
    )
