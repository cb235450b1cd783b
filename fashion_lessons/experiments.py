"""Seeded training experiments the book shares between pages, cached on disk.

:func:`run_experiment` trains one configuration and stores its numbers in a small JSON
file keyed by every parameter that changes the result (and the Keras version), so a page
that needs a run another page computed reads it instead of training again.
:func:`dropout_sweep` repeats runs over dropout rates and seeds, and
:func:`summarize_sweep` and :func:`compare` turn them into mean ± standard deviation and
a verdict worded from the spread.

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
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from fashion_lessons.files import write_atomic

CACHE_ENV_VAR = "FASHION_LESSONS_CACHE"

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
        Adam's step size on the ``"seed"`` path; the ``"fast"`` path scales its own.
    train_size : int or None
        Train on the first ``train_size`` images before the validation part; None uses
        all of them.
    path : {"seed", "fast"}
        ``"seed"`` trains with :func:`fashion_lessons.training.train` at ``batch_size``
        and ``learning_rate``; ``"fast"`` with :func:`fashion_lessons.training.train_fast`
        (``batch_size`` with a matched learning rate, several steps per call).
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


def _split_sizes(config: ExperimentConfig, count: int) -> tuple[int, int]:
    """Where validation starts among ``count`` training images, and how many images train."""
    if config.path not in ("seed", "fast"):
        raise ValueError(f"path must be 'seed' or 'fast', found {config.path!r}")
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
    from fashion_lessons.training import history_dict

    config = config or ExperimentConfig()
    train_images, train_labels, test_images, test_labels = _validated(
        train_images, train_labels, test_images, test_labels, config.validation_size
    )
    split, size = _split_sizes(config, len(train_images))
    cache_file = _cache_file(config, cache_dir)
    if cache_file is not None:
        cached = _read_cache(cache_file, config)
        if cached is not None:
            return cached

    start = time.perf_counter()
    fit_images, fit_labels = train_images[:size], train_labels[:size]
    validation = (train_images[split:], train_labels[split:])
    model, history = _trained_model(config, fit_images, fit_labels, validation, verbose)
    accuracies = [
        float(model.evaluate(images, labels, batch_size=1024, verbose=0)[1])
        for images, labels in ((fit_images, fit_labels), validation, (test_images, test_labels))
    ]
    result = ExperimentResult(
        config=config,
        history=history_dict(history),
        train_accuracy=accuracies[0],
        validation_accuracy=accuracies[1],
        test_accuracy=accuracies[2],
        seconds=time.perf_counter() - start,
    )
    if cache_file is not None:
        _write_cache(cache_file, result)
    return result


_worker_arrays: tuple = ()


def _start_worker(arrays: tuple) -> None:
    global _worker_arrays
    _worker_arrays = arrays


def _run_in_worker(config: ExperimentConfig, cache_dir) -> ExperimentResult:
    return run_experiment(*_worker_arrays, config, cache_dir=cache_dir)


def dropout_sweep(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    rates: Iterable[float] = (0.0, 0.2, 0.5),
    seeds: Iterable[int] = range(5),
    cache_dir: str | os.PathLike | None = None,
    workers: int = 1,
    **settings,
) -> list[ExperimentResult]:
    """Run :func:`run_experiment` for every dropout rate and seed, everything else equal.

    Parameters
    ----------
    train_images, train_labels, test_images, test_labels
        As for :func:`run_experiment`.
    rates : iterable of float in [0, 1), default (0.0, 0.2, 0.5)
    seeds : iterable of int, default 0–4
    cache_dir : path, optional
    workers : int, default 1
        Processes that train at once. Small models spend most of their time in Python
        overhead, so two processes on two cores finish nearly twice as fast; each run
        gives the same numbers in any process.
    **settings
        Other :class:`ExperimentConfig` fields (``epochs``, ``train_size``, ``path``,
        ``patience``, ...), the same for every run.

    Returns
    -------
    list of ExperimentResult
        Rate by rate, seed by seed.
    """
    seeds = list(seeds)
    configs = [
        ExperimentConfig(dropout_rate=float(rate), seed=int(seed), **settings)
        for rate in rates
        for seed in seeds
    ]
    arrays = tuple(
        _validated(train_images, train_labels, test_images, test_labels, configs[0].validation_size)
    )
    results: dict[int, ExperimentResult] = {}
    missing = []
    for index, config in enumerate(configs):
        file = _cache_file(config, cache_dir)
        cached = _read_cache(file, config) if file is not None else None
        if cached is not None:
            results[index] = cached
        else:
            missing.append(index)
    if workers > 1 and len(missing) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        folder = cache_dir if cache_dir is not None else os.environ.get(CACHE_ENV_VAR)
        with ProcessPoolExecutor(
            min(workers, len(missing)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(arrays,),
        ) as pool:
            runs = pool.map(_run_in_worker, [configs[i] for i in missing], [folder] * len(missing))
            results.update(zip(missing, runs))
    else:
        for index in missing:
            results[index] = run_experiment(*arrays, configs[index], cache_dir=cache_dir)
    return [results[index] for index in range(len(configs))]


SWEEP_MEASURES = ("validation_accuracy", "best_val_loss", "gap", "test_accuracy", "best_epoch")
"""What :func:`summarize_sweep` reports for each rate (attributes of ExperimentResult)."""


@dataclasses.dataclass(frozen=True)
class Spread:
    """Mean and sample standard deviation of one measure over the seeds of one rate."""

    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def sd(self) -> float:
        """Sample standard deviation (ddof=1); 0 for a single value."""
        return float(np.std(self.values, ddof=1)) if len(self.values) > 1 else 0.0

    def overlaps(self, other: Spread) -> bool:
        """Whether mean ± sd of the two spreads overlap."""
        return abs(self.mean - other.mean) <= self.sd + other.sd


def summarize_sweep(results: Iterable[ExperimentResult]) -> dict[float, dict[str, Spread]]:
    """Group runs by dropout rate: for each rate, the :data:`SWEEP_MEASURES` over its seeds."""
    grouped: dict[float, list[ExperimentResult]] = {}
    for result in results:
        grouped.setdefault(result.config.dropout_rate, []).append(result)
    return {
        rate: {
            measure: Spread(tuple(float(getattr(run, measure)) for run in runs))
            for measure in SWEEP_MEASURES
        }
        for rate, runs in grouped.items()
    }


def compare(baseline: Spread, other: Spread, higher: str, lower: str) -> str:
    """Word the difference between two spreads from their overlap.

    Returns "no clear difference" when mean ± sd of the two overlap, else ``higher`` or
    ``lower`` for ``other`` above or below ``baseline``.
    """
    if baseline.overlaps(other):
        return "no clear difference"
    return higher if other.mean > baseline.mean else lower
