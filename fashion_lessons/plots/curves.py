"""Figures of numbers over training runs: learning curves, comparisons, sweeps, scores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from fashion_lessons.plots.style import NEUTRAL_COLOR, OKABE_ITO, RIGHT_COLOR, SERIES_COLORS, finish
from fashion_lessons.training import history_dict


def plot_learning_curves(history, title: str = "Training and validation curves") -> Figure:
    """Plot loss (top) and accuracy (bottom) per epoch, training against validation.

    A dotted line marks the epoch with the lowest validation loss. With no loss in the
    history, only the accuracy panel is drawn.

    Parameters
    ----------
    history : keras History or its ``.history`` dict
        Must contain ``accuracy`` and ``val_accuracy``; ``loss`` and ``val_loss`` add the
        loss panel and the mark.
    """
    metrics = history_dict(history)
    train, val = metrics["accuracy"], metrics["val_accuracy"]
    epochs = np.arange(1, len(train) + 1)
    has_loss = bool(metrics.get("loss")) and bool(metrics.get("val_loss"))
    figure = Figure(figsize=(6, 6.2 if has_loss else 3.6), layout="constrained")
    panels = figure.subplots(2 if has_loss else 1, 1, sharex=True, squeeze=False)[:, 0]
    rows = [("loss", "loss")] if has_loss else []
    rows.append(("accuracy", "accuracy"))
    best = int(np.argmin(metrics["val_loss"])) + 1 if has_loss else None
    for axes, (key, label) in zip(panels, rows):
        axes.plot(epochs, metrics[key], "o-", color=RIGHT_COLOR, label="training", markersize=4)
        axes.plot(
            epochs,
            metrics[f"val_{key}"],
            "s--",
            color=OKABE_ITO["orange"],
            label="validation",
            markersize=4,
        )
        if best is not None:
            axes.axvline(
                best, color=NEUTRAL_COLOR, linestyle=":", label=f"lowest validation loss ({best})"
            )
        axes.set_ylabel(label)
        axes.legend(fontsize=9, loc="best")
    panels[-1].set_xlabel("epoch")
    panels[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    gap = train[-1] - val[-1]
    text = (
        f"Line chart over {len(train)} epochs. Training accuracy ends at {train[-1]:.3f}, "
        f"validation accuracy at {val[-1]:.3f} (a difference of {gap:.3f})"
    )
    if has_loss:
        text += (
            f". Validation loss is lowest at epoch {best} ({metrics['val_loss'][best - 1]:.3f}) "
            f"and ends at {metrics['val_loss'][-1]:.3f}; training loss ends at "
            f"{metrics['loss'][-1]:.3f}."
        )
    else:
        text += f"; validation accuracy is highest at epoch {int(np.argmax(val)) + 1}."
    return finish(figure, title, text)


def plot_learning_curve_comparison(
    histories: Mapping[str, object],
    title: str = "Training and validation loss",
    key: str = "loss",
) -> Figure:
    """Compare several runs: training (top) and validation (bottom) curves of one metric.

    Parameters
    ----------
    histories : mapping of run name to keras History or ``.history`` dict
    title : str
    key : {"loss", "accuracy"}
        The metric; the history needs ``key`` and ``val_key``.
    """
    figure = Figure(figsize=(6, 6.2), layout="constrained")
    panels = figure.subplots(2, 1, sharex=True)
    descriptions = []
    markers = ["o", "s", "^", "D", "v"]
    for index, (name, history) in enumerate(histories.items()):
        metrics = history_dict(history)
        epochs = np.arange(1, len(metrics[key]) + 1)
        color = SERIES_COLORS[index % len(SERIES_COLORS)]
        marker = markers[index % len(markers)]
        for axes, series in zip(panels, (key, f"val_{key}")):
            axes.plot(epochs, metrics[series], f"{marker}-", color=color, label=name, markersize=3)
        best = int(np.argmin(metrics["val_loss"])) + 1 if metrics.get("val_loss") else None
        descriptions.append(
            f"{name}: training {key} {metrics[key][-1]:.3f}, validation {key} "
            f"{metrics[f'val_{key}'][-1]:.3f} at the end"
            + (f", lowest validation loss at epoch {best}" if best else "")
        )
    for axes, label in zip(panels, (f"training {key}", f"validation {key}")):
        axes.set_ylabel(label)
        axes.legend(fontsize=9, loc="best")
    panels[-1].xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    panels[-1].set_xlabel("epoch")
    return finish(
        figure,
        title,
        f"Two line charts of {key} per epoch, training above and validation below, for "
        + "; ".join(descriptions)
        + ".",
    )


def plot_sweep(
    values: Mapping[str, Mapping[float, Sequence[float]]],
    measure: str,
    title: str,
) -> Figure:
    """Show every seed's value per dropout rate, with mean ± standard deviation.

    Parameters
    ----------
    values : mapping of panel name to (mapping of rate to the seeds' values)
        One panel per entry, e.g. one per training-set size.
    measure : str
        The y-axis label, e.g. "validation accuracy at the best epoch".
    title : str
    """
    figure = Figure(figsize=(6, 3.4 * len(values)), layout="constrained")
    panels = figure.subplots(len(values), 1, squeeze=False)[:, 0]
    descriptions = []
    for axes, (panel, by_rate) in zip(panels, values.items()):
        rates = list(by_rate)
        for position, rate in enumerate(rates):
            points = np.asarray(by_rate[rate], dtype=float)
            color = SERIES_COLORS[position % len(SERIES_COLORS)]
            offsets = np.linspace(-0.12, 0.12, len(points)) if len(points) > 1 else [0.0]
            axes.plot(position + np.asarray(offsets), points, "o", color=color, alpha=0.8)
            mean, sd = points.mean(), points.std(ddof=1) if len(points) > 1 else 0.0
            axes.errorbar(
                position + 0.3, mean, yerr=sd, fmt="D", color="black", capsize=4, markersize=5
            )
            descriptions.append(f"{panel}, rate {rate:g}: mean {mean:.3f}, sd {sd:.3f}")
        axes.set_xticks(range(len(rates)), [f"rate {rate:g}" for rate in rates], fontsize=10)
        axes.set_xlim(-0.5, len(rates) - 0.3)
        axes.set_ylabel(measure, fontsize=10)
        axes.set_title(panel, fontsize=11)
    return finish(
        figure,
        title,
        "Dot plot of each seed's value per dropout rate, with the mean and a bar of one "
        "standard deviation beside the dots. " + "; ".join(descriptions) + ".",
    )


def plot_score_histogram(scores: Sequence[float], max_score: float) -> Figure:
    """Histogram of the students' total scores, for an instructor's grading report.

    Parameters
    ----------
    scores : sequence of float
        One total score per student.
    max_score : float
        The highest possible total; the x axis spans 0 to it.
    """
    scores = np.asarray(scores, dtype=float)
    figure = Figure(figsize=(6, 3.6), layout="constrained")
    axes = figure.add_subplot()
    bins = np.linspace(0, max_score, 11) if max_score > 0 else 10
    axes.hist(scores, bins=bins, color=OKABE_ITO["blue"], edgecolor="white")
    axes.set_xlim(0, max_score if max_score > 0 else 1)
    axes.set_xlabel(f"total score (out of {max_score:g})")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    if len(scores):
        summary = (
            f"{len(scores)} students; scores range from {scores.min():g} to {scores.max():g}, "
            f"mean {scores.mean():.1f}"
        )
    else:
        summary = "no students"
    return finish(
        figure,
        "Distribution of total scores",
        f"Histogram of total scores out of {max_score:g} in ten equal bins: {summary}.",
    )
