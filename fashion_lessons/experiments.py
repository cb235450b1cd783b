"""Seeded training experiments the book shares between pages, cached on disk.

:func:`run_experiment` trains one configuration and stores its numbers in a small JSON
file keyed by every parameter that changes the result (and the Keras version), so a page
that needs a run another page computed reads it instead of training again.
Runs on the ``"stacked"`` path train together (:func:`run_stacked`), each still
cached on its own.

The cache folder is the ``cache_dir`` argument, else the ``FASHION_LESSONS_CACHE``
environment variable (the book sets it to a folder under ``_build/``); with neither,
nothing is cached. Delete the folder and the next run recomputes everything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

from fashion_lessons.files import write_atomic

CACHE_ENV_VAR = "FASHION_LESSONS_CACHE"

PATHS = ("seed", "fast", "stacked")
"""The ways a run can be trained (see :attr:`ExperimentConfig.path`)."""

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
        Adam's step size on the ``"seed"`` path; the other paths scale their own.
    train_size : int or None
        Train on the first ``train_size`` images before the validation part; None uses
        all of them.
    path : {"seed", "fast", "stacked"}
        ``"seed"`` trains with :func:`fashion_lessons.training.train` at ``batch_size``
        and ``learning_rate``; ``"fast"`` with :func:`fashion_lessons.training.train_fast`
        (``batch_size`` with a matched learning rate, several steps per call);
        ``"stacked"`` with :func:`fashion_lessons.stacked.train_stacked` at the same
        matched learning rate, together with the other runs of a sweep.
    patience : int or None
        Stop when the validation loss has not improved for ``patience`` epochs, and
        keep the weights of the epoch with the lowest validation loss
        (``keras.callbacks.EarlyStopping(restore_best_weights=True)``). None trains all
        ``epochs`` and keeps the last weights.
    """

    dropout_rate: float = 0.0
    epochs: int = 20
    batch_size: int = 128
    seed: int = 0
    validation_size: int = 10_000
    hidden_units: int = 128
    learning_rate: float = 0.001
    train_size: int | None = None
    path: str = "seed"
    patience: int | None = None

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
        Accuracy on the images trained on, measured after training with ``evaluate``
        (inference mode, dropout switched off) on the kept weights: those of the best
        epoch with ``patience``, else the last.
    validation_accuracy : float
        Accuracy on the held-out validation images, measured the same way.
    test_accuracy : float
        Accuracy on the 10,000 test images, measured the same way.
    seconds : float
        Wall time of training and evaluation when the run was computed (for stacked
        runs, the stack's time divided by its runs).
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
        """The gap: training minus validation accuracy, both from ``evaluate``, kept weights."""
        return self.train_accuracy - self.validation_accuracy

    @property
    def best_epoch(self) -> int:
        """The 1-based epoch with the lowest validation loss."""
        return int(np.argmin(self.history["val_loss"])) + 1

    @property
    def best_val_loss(self) -> float:
        """The lowest validation loss of the run."""
        return min(self.history["val_loss"])

    @property
    def fit_train_accuracy(self) -> float:
        """Last-epoch training accuracy as ``fit`` reports it (dropout switched on)."""
        return self.history["accuracy"][-1]


def _validated(train_images, train_labels, test_images, test_labels, validation_size):
    """The four arrays, images as float32; a clear error for anything else."""
    arrays = []
    for name, images, labels in (
        ("train", train_images, train_labels),
        ("test", test_images, test_labels),
    ):
        images = np.asarray(images)
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype.kind != "f":
            raise ValueError(
                f"expected scaled {name} images of shape (n, 28, 28) and a float dtype, "
                f"found shape {images.shape} and dtype {images.dtype}; "
                "divide the pixels by 255.0 first"
            )
        if len(images) != len(labels):
            raise ValueError(
                f"{name} images and labels differ in length: {len(images)} vs {len(labels)}"
            )
        arrays += [images.astype(np.float32, copy=False), np.asarray(labels)]
    if not 0 < validation_size < len(train_images):
        raise ValueError(
            f"validation_size must lie between 1 and {len(train_images) - 1}, "
            f"found {validation_size}"
        )
    return arrays


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


def _cache_file(config: ExperimentConfig, cache_dir) -> Path | None:
    folder = cache_dir if cache_dir is not None else os.environ.get(CACHE_ENV_VAR)
    if not folder:
        return None
    return Path(folder) / f"experiment-{config.key()}.json"


def read_cached(config: ExperimentConfig, cache_dir=None) -> ExperimentResult | None:
    """The stored result of ``config`` in ``cache_dir`` (or ``$FASHION_LESSONS_CACHE``), if any."""
    file = _cache_file(config, cache_dir)
    return None if file is None else _read_cache(file, config)


def _split_sizes(config: ExperimentConfig, count: int) -> tuple[int, int]:
    """Where validation starts among ``count`` training images, and how many images train."""
    if config.path not in PATHS:
        raise ValueError(f"path must be one of {', '.join(PATHS)}, found {config.path!r}")
    split = count - config.validation_size
    size = split if config.train_size is None else config.train_size
    if not 0 < size <= split:
        raise ValueError(f"train_size must lie between 1 and {split}, found {config.train_size}")
    return split, size


def _trained_model(config: ExperimentConfig, images, labels, validation, verbose: int):
    """Build the model ``config`` describes, seed it and train it on the path it names."""
    import keras

    from fashion_lessons.models import build_model, compile_model
    from fashion_lessons.training import set_seed, train, train_fast

    set_seed(config.seed)
    model = build_model(
        hidden_units=config.hidden_units,
        dropout_rate=config.dropout_rate,
        learning_rate=config.learning_rate,
    )
    callbacks = []
    if config.patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=config.patience, restore_best_weights=True
            )
        )
    settings = dict(
        epochs=config.epochs,
        validation_data=validation,
        batch_size=config.batch_size,
        seed=config.seed,
        verbose=verbose,
        callbacks=callbacks,
    )
    if config.path == "fast":
        return model, train_fast(model, images, labels, **settings)
    compile_model(model, config.learning_rate, steps_per_execution=STEPS_PER_EXECUTION)
    return model, train(model, images, labels, **settings)


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

    The model is :func:`fashion_lessons.models.build_model` with ``config.hidden_units``
    and ``config.dropout_rate``, trained after ``set_seed(config.seed)`` on the images
    before the last ``config.validation_size`` (the first ``config.train_size`` of them),
    which serve as validation data. Every epoch sees the images in a new order.

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
        Folder for the cached result; defaults to ``$FASHION_LESSONS_CACHE``; with
        neither, the run is computed and not stored.
    verbose : int, default 0
        Keras' progress display while training (0 silent, 2 one line per epoch).

    Returns
    -------
    ExperimentResult
    """
    config = config or ExperimentConfig()
    arrays = _validated(
        train_images, train_labels, test_images, test_labels, config.validation_size
    )
    sizes = _split_sizes(config, len(arrays[0]))  # a bad path or size fails even when cached
    if config.path == "stacked":
        return run_stacked([config], *arrays, cache_dir=cache_dir)[0]
    cached = read_cached(config, cache_dir)
    if cached is not None:
        return cached
    cache_file = _cache_file(config, cache_dir)
    result = _train_and_measure(config, arrays, sizes, verbose)
    if cache_file is not None:
        _write_cache(cache_file, result)
    return result


def _train_and_measure(config: ExperimentConfig, arrays, sizes, verbose: int) -> ExperimentResult:
    """One Keras run of ``config`` on the validated ``arrays``, measured and timed;
    ``sizes`` is where validation starts and how many images train (:func:`_split_sizes`)."""
    from fashion_lessons.training import history_dict

    train_images, train_labels, test_images, test_labels = arrays
    split, size = sizes
    start = time.perf_counter()
    fit_images, fit_labels = train_images[:size], train_labels[:size]
    validation = (train_images[split:], train_labels[split:])
    model, history = _trained_model(config, fit_images, fit_labels, validation, verbose)
    accuracies = [
        float(model.evaluate(images, labels, batch_size=1024, verbose=0)[1])
        for images, labels in ((fit_images, fit_labels), validation, (test_images, test_labels))
    ]
    return ExperimentResult(
        config=config,
        history=history_dict(history),
        train_accuracy=accuracies[0],
        validation_accuracy=accuracies[1],
        test_accuracy=accuracies[2],
        seconds=time.perf_counter() - start,
    )


def run_stacked(
    configs: list[ExperimentConfig],
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    cache_dir: str | os.PathLike | None = None,
) -> list[ExperimentResult]:
    """Train the runs ``configs`` describe together, on the ``"stacked"`` path.

    The configurations may differ only in ``seed`` and ``dropout_rate``. Runs found in
    the cache are read; the others train in one :func:`fashion_lessons.stacked.train_stacked`
    call at Adam's rate matched to ``batch_size``, and are measured and stored like
    :func:`run_experiment`'s.

    Returns
    -------
    list of ExperimentResult
        In the order of ``configs``.
    """
    from fashion_lessons.stacked import train_stacked
    from fashion_lessons.training import scaled_learning_rate

    first = configs[0]
    shared = {f.name for f in dataclasses.fields(first)} - {"seed", "dropout_rate"}
    if any(getattr(c, name) != getattr(first, name) for c in configs for name in shared):
        raise ValueError("stacked runs may differ only in seed and dropout_rate")
    if any(c.path != "stacked" for c in configs):
        raise ValueError("run_stacked trains configurations whose path is 'stacked'")
    arrays = _validated(train_images, train_labels, test_images, test_labels, first.validation_size)
    train_images, train_labels, test_images, test_labels = arrays
    split, size = _split_sizes(first, len(train_images))
    results = {index: read_cached(config, cache_dir) for index, config in enumerate(configs)}
    missing = [index for index, result in results.items() if result is None]
    if missing:
        start = time.perf_counter()
        fit = (train_images[:size], train_labels[:size])
        validation = (train_images[split:], train_labels[split:])
        runs = train_stacked(
            [configs[i].seed for i in missing],
            [configs[i].dropout_rate for i in missing],
            *fit,
            validation_data=validation,
            evaluation_sets=(fit, validation, (test_images, test_labels)),
            epochs=first.epochs,
            batch_size=first.batch_size,
            learning_rate=scaled_learning_rate(first.batch_size),
            patience=first.patience,
            hidden_units=first.hidden_units,
        )
        seconds = (time.perf_counter() - start) / len(missing)
        for index, run in zip(missing, runs):
            results[index] = ExperimentResult(configs[index], run.history, *run.accuracies, seconds)
            file = _cache_file(configs[index], cache_dir)
            if file is not None:
                _write_cache(file, results[index])
    return [results[index] for index in range(len(configs))]
