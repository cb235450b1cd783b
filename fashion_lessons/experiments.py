"""Seeded training experiments the book shares between pages, cached on disk.

The overfitting page and the dropout page both need the same longer training run of
the seed's model (dropout rate 0). :func:`run_experiment` trains one configuration and
stores its numbers in a small JSON file keyed by every parameter that changes the
result (and the Keras version), so the second page reads what the first computed.
Delete the cache folder (the book keeps it under ``_build/``) and the next run
recomputes everything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from fashion_lessons.files import write_atomic

STEPS_PER_EXECUTION = 10
"""Batches per call into TensorFlow. Saves Python overhead per step (about a third of
the time on two cores) without changing the result, so it is not part of the cache key."""


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Everything that determines the outcome of one seeded training run.

    Attributes
    ----------
    dropout_rate : float
        Rate of the Dropout layer after the hidden layer (0 means no Dropout layer).
    epochs : int
    batch_size : int
    seed : int
    validation_size : int
        The last ``validation_size`` training images are held out for validation.
    hidden_units : int
    learning_rate : float
    """

    dropout_rate: float = 0.0
    epochs: int = 20
    batch_size: int = 128
    seed: int = 0
    validation_size: int = 10_000
    hidden_units: int = 128
    learning_rate: float = 0.001

    def key(self) -> str:
        """A short hash of the parameters and the Keras version, used as the cache file name."""
        import keras

        text = json.dumps({**dataclasses.asdict(self), "keras": keras.__version__}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class ExperimentResult:
    """The numbers one run comes down to.

    Attributes
    ----------
    config : ExperimentConfig
    history : dict of str to list of float
        Keras' per-epoch ``accuracy``, ``loss``, ``val_accuracy`` and ``val_loss``.
        ``accuracy`` is measured while training, so with dropout switched on.
    train_accuracy : float
        Accuracy on the training images (without the validation part), measured after
        training with ``evaluate``, i.e. in inference mode with dropout switched off.
    validation_accuracy : float
        Accuracy on the held-out validation images after the last epoch.
    test_accuracy : float
        Accuracy on the 10,000 test images.
    seconds : float
        Wall time of training and evaluation when the run was computed.
    cached : bool
        True when the result was read from the cache rather than computed now.
    """

    config: ExperimentConfig
    history: dict[str, list[float]]
    train_accuracy: float
    validation_accuracy: float
    test_accuracy: float
    seconds: float
    cached: bool = False

    @property
    def gap(self) -> float:
        """Training accuracy minus test accuracy, both measured with dropout switched off."""
        return self.train_accuracy - self.test_accuracy

    @property
    def fit_train_accuracy(self) -> float:
        """Last-epoch training accuracy as ``fit`` reports it (dropout switched on)."""
        return self.history["accuracy"][-1]


def _validate_arrays(train_images, train_labels, test_images, test_labels, validation_size):
    for name, images, labels in (
        ("train", train_images, train_labels),
        ("test", test_images, test_labels),
    ):
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.float32:
            raise ValueError(
                f"expected scaled {name} images of shape (n, 28, 28) and dtype float32, "
                f"found shape {images.shape} and dtype {images.dtype}; "
                "use fashion_lessons.preprocess.scale_images"
            )
        if len(images) != len(labels):
            raise ValueError(
                f"{name} images and labels differ in length: {len(images)} vs {len(labels)}"
            )
    if not 0 < validation_size < len(train_images):
        raise ValueError(
            f"validation_size must lie between 1 and {len(train_images) - 1}, "
            f"found {validation_size}"
        )


def _read_cache(file: Path, config: ExperimentConfig) -> ExperimentResult | None:
    try:
        stored = json.loads(file.read_text())
    except (OSError, ValueError):
        return None
    if stored.get("config") != dataclasses.asdict(config):
        return None
    return ExperimentResult(
        config=config,
        history=stored["history"],
        train_accuracy=stored["train_accuracy"],
        validation_accuracy=stored["validation_accuracy"],
        test_accuracy=stored["test_accuracy"],
        seconds=stored["seconds"],
        cached=True,
    )


def _write_cache(file: Path, result: ExperimentResult) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    stored = {
        "config": dataclasses.asdict(result.config),
        "history": result.history,
        "train_accuracy": result.train_accuracy,
        "validation_accuracy": result.validation_accuracy,
        "test_accuracy": result.test_accuracy,
        "seconds": result.seconds,
    }
    write_atomic(file, json.dumps(stored, indent=1))  # a reader never sees half a file


def run_experiment(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    config: ExperimentConfig | None = None,
    cache_dir: str | os.PathLike | None = None,
    verbose: int = 0,
) -> ExperimentResult:
    """Train the seed's model once under ``config`` and measure it, or read the cached result.

    The model is :func:`fashion_lessons.models.build_model` with ``config.dropout_rate``,
    trained after ``set_seed(config.seed)`` on all but the last ``config.validation_size``
    training images, which serve as validation data. It runs
    :data:`STEPS_PER_EXECUTION` batches per call into TensorFlow: same batches, same
    updates, less overhead.

    Parameters
    ----------
    train_images : (n, 28, 28) float32 ndarray
        Scaled training images (60,000 for the full set).
    train_labels : (n,) integer ndarray
    test_images : (m, 28, 28) float32 ndarray
        Scaled test images.
    test_labels : (m,) integer ndarray
    config : ExperimentConfig, optional
        Defaults to ``ExperimentConfig()``: no dropout, 20 epochs, batch size 128, seed 0.
    cache_dir : path, optional
        Folder for the cached result; None computes without caching.
    verbose : int, default 0
        Keras' progress display while training (0 silent, 2 one line per epoch).

    Returns
    -------
    ExperimentResult
    """
    from fashion_lessons.models import build_model, compile_model
    from fashion_lessons.training import history_dict, set_seed, train

    config = config or ExperimentConfig()
    _validate_arrays(train_images, train_labels, test_images, test_labels, config.validation_size)
    cache_file = None
    if cache_dir is not None:
        cache_file = Path(cache_dir) / f"experiment-{config.key()}.json"
        cached = _read_cache(cache_file, config)
        if cached is not None:
            return cached

    start = time.perf_counter()
    split = len(train_images) - config.validation_size
    fit_images, fit_labels = train_images[:split], train_labels[:split]
    validation = (train_images[split:], train_labels[split:])
    set_seed(config.seed)
    model = build_model(
        hidden_units=config.hidden_units,
        dropout_rate=config.dropout_rate,
        learning_rate=config.learning_rate,
    )
    compile_model(model, config.learning_rate, steps_per_execution=STEPS_PER_EXECUTION)
    history = train(
        model,
        fit_images,
        fit_labels,
        epochs=config.epochs,
        validation_data=validation,
        batch_size=config.batch_size,
        verbose=verbose,
    )
    _, train_accuracy = model.evaluate(fit_images, fit_labels, batch_size=1024, verbose=0)
    _, test_accuracy = model.evaluate(test_images, test_labels, batch_size=1024, verbose=0)
    metrics = history_dict(history)
    result = ExperimentResult(
        config=config,
        history=metrics,
        train_accuracy=float(train_accuracy),
        validation_accuracy=metrics["val_accuracy"][-1],
        test_accuracy=float(test_accuracy),
        seconds=time.perf_counter() - start,
    )
    if cache_file is not None:
        _write_cache(cache_file, result)
    return result


def dropout_experiment(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    rates: Iterable[float] = (0.0, 0.2, 0.5),
    cache_dir: str | os.PathLike | None = None,
    **settings,
) -> dict[float, ExperimentResult]:
    """Run :func:`run_experiment` once per dropout rate, everything else equal.

    Parameters
    ----------
    train_images, train_labels, test_images, test_labels
        As for :func:`run_experiment`.
    rates : iterable of float in [0, 1), default (0.0, 0.2, 0.5)
    cache_dir : path, optional
    **settings
        Other :class:`ExperimentConfig` fields (``epochs``, ``batch_size``, ``seed``, ...),
        the same for every rate.

    Returns
    -------
    dict of float to ExperimentResult
        In the order of ``rates``.
    """
    return {
        float(rate): run_experiment(
            train_images,
            train_labels,
            test_images,
            test_labels,
            ExperimentConfig(dropout_rate=float(rate), **settings),
            cache_dir=cache_dir,
        )
        for rate in rates
    }
