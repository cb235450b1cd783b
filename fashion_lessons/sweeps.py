"""Dropout sweeps: the same run over rates and seeds, summarized as mean ± sd.

:func:`dropout_sweep` repeats :func:`fashion_lessons.experiments.run_experiment` over
dropout rates and seeds (on the ``"stacked"`` path, all of them in one stack);
:func:`summarize_sweep` and :func:`compare` turn the runs into mean ± standard deviation
and a verdict worded from the spread.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable

import numpy as np

from fashion_lessons.experiments import (
    ExperimentConfig,
    ExperimentResult,
    run_experiment,
    run_stacked,
)


def dropout_sweep(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    rates: Iterable[float] = (0.0, 0.2, 0.5),
    seeds: Iterable[int] = range(5),
    cache_dir: str | os.PathLike | None = None,
    **settings,
) -> list[ExperimentResult]:
    """Run :func:`~fashion_lessons.experiments.run_experiment` for every dropout rate and
    seed, everything else equal.

    Parameters
    ----------
    train_images, train_labels, test_images, test_labels
        As for :func:`~fashion_lessons.experiments.run_experiment`.
    rates : iterable of float in [0, 1), default (0.0, 0.2, 0.5)
    seeds : iterable of int, default 0–4
    cache_dir : path, optional
    **settings
        Other :class:`~fashion_lessons.experiments.ExperimentConfig` fields (``epochs``,
        ``train_size``, ``path``, ``patience``, ...), the same for every run. With
        ``path="stacked"`` the runs train together, several times faster than one by one.

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
    arrays = (train_images, train_labels, test_images, test_labels)
    if configs and configs[0].path == "stacked":
        return run_stacked(configs, *arrays, cache_dir=cache_dir)
    return [run_experiment(*arrays, config, cache_dir=cache_dir) for config in configs]


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
