"""Figures of a model's predictions: probability bars, a prediction grid, the confusion matrix."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from fashion_lessons.data import CLASS_NAMES
from fashion_lessons.plots.style import NEUTRAL_COLOR, RIGHT_COLOR, WRONG_COLOR, finish


def _bars(axes, probabilities: np.ndarray, true_label: int, fontsize: float = 10) -> None:
    """Horizontal probability bars, one per class, each labelled with its class name."""
    predicted = int(np.argmax(probabilities))
    colors = [NEUTRAL_COLOR] * len(probabilities)
    hatches = [""] * len(probabilities)
    colors[predicted] = RIGHT_COLOR if predicted == true_label else WRONG_COLOR
    hatches[predicted] = "" if predicted == true_label else "//"
    bars = axes.barh(range(len(probabilities)), probabilities, color=colors)
    for bar, hatch in zip(bars, hatches):
        bar.set_hatch(hatch)
    bars[true_label].set_edgecolor("black")
    bars[true_label].set_linewidth(1.5)
    axes.set_xlim(0, 1)
    axes.set_yticks(range(len(probabilities)), CLASS_NAMES, fontsize=fontsize)
    axes.invert_yaxis()  # label 0 on top, as in the list of class names
    axes.tick_params(axis="x", labelsize=fontsize)
    axes.set_xlabel("probability", fontsize=fontsize)


def _verdict(probabilities: np.ndarray, true_label: int) -> tuple[str, str]:
    predicted = int(np.argmax(probabilities))
    right = predicted == true_label
    mark = "✓" if right else "✗"
    text = f"{mark} {CLASS_NAMES[predicted]} {100 * float(np.max(probabilities)):.0f}%" + (
        "" if right else f" (is {CLASS_NAMES[true_label]})"
    )
    return text, RIGHT_COLOR if right else WRONG_COLOR


def plot_prediction(image: np.ndarray, probabilities: np.ndarray, true_label: int) -> Figure:
    """Show an image beside the model's probability for each class.

    The predicted class's bar is blue when right, vermillion and hatched when wrong;
    the true class's bar has a black outline; the caption starts with ✓ or ✗.

    Parameters
    ----------
    image : (28, 28) ndarray
    probabilities : (10,) float ndarray
        Softmax output for ``image``.
    true_label : int
    """
    probabilities = np.asarray(probabilities, dtype=float)
    true_label = int(true_label)
    figure = Figure(figsize=(5.6, 2.8), layout="constrained")
    image_axes, bar_axes = figure.subplots(1, 2, width_ratios=[1, 1.3])
    image_axes.imshow(image, cmap="binary")
    image_axes.set_axis_off()
    text, color = _verdict(probabilities, true_label)
    image_axes.set_title(text, color=color, fontsize=11)
    _bars(bar_axes, probabilities, true_label, fontsize=10)
    predicted = int(np.argmax(probabilities))
    return finish(
        figure,
        "One prediction",
        f"A clothing image and a bar chart of the predicted probability of each class. "
        f"The model predicts {CLASS_NAMES[predicted]} with probability "
        f"{probabilities[predicted]:.2f}; the true class is {CLASS_NAMES[true_label]}, so "
        f"the prediction is {'right' if predicted == true_label else 'wrong'}.",
    )


def plot_prediction_grid(
    images: np.ndarray,
    probabilities: np.ndarray,
    labels: np.ndarray,
    rows: int = 6,
    columns: int = 1,
) -> Figure:
    """Show ``rows × columns`` predictions, each as image plus probability bars.

    Each bar is labelled with its class name; one column keeps the labels legible on a
    phone-sized screen.

    Parameters
    ----------
    images : (n, 28, 28) ndarray
    probabilities : (n, 10) float ndarray
    labels : (n,) integer ndarray
    """
    count = min(rows * columns, len(images))
    figure = Figure(figsize=(4.4 * columns, 1.9 * rows), layout="constrained")
    grid = figure.subplots(rows, 2 * columns, squeeze=False, width_ratios=[1, 1.5] * columns)
    wrong = 0
    for index in range(rows * columns):
        image_axes, bar_axes = grid[
            index // columns, 2 * (index % columns) : 2 * (index % columns) + 2
        ]
        image_axes.set_axis_off()
        if index >= count:
            bar_axes.set_axis_off()
            continue
        true_label = int(labels[index])
        image_axes.imshow(images[index], cmap="binary")
        text, color = _verdict(probabilities[index], true_label)
        image_axes.set_title(text, color=color, fontsize=10)
        _bars(bar_axes, np.asarray(probabilities[index], dtype=float), true_label, fontsize=10)
        bar_axes.set_xlabel("")
        wrong += int(np.argmax(probabilities[index])) != true_label
    return finish(
        figure,
        f"{count} test predictions (✓ right, ✗ wrong; true class outlined)",
        f"A grid of {count} test images, each beside a bar chart of class probabilities; "
        f"{count - wrong} are predicted right and {wrong} wrong.",
    )


def plot_confusion_matrix(true_labels: np.ndarray, predicted_labels: np.ndarray) -> Figure:
    """Show how often each true class (rows) is predicted as each class (columns).

    Parameters
    ----------
    true_labels, predicted_labels : (n,) integer ndarray
    """
    matrix = confusion_matrix(true_labels, predicted_labels)
    figure = Figure(figsize=(6, 5.6), layout="constrained")
    axes = figure.add_subplot()
    shown = axes.imshow(matrix, cmap="cividis")
    figure.colorbar(shown, ax=axes, label="images")
    ticks = range(len(CLASS_NAMES))
    axes.set_xticks(ticks, CLASS_NAMES, rotation=60, ha="right", fontsize=11)
    axes.set_yticks(ticks, CLASS_NAMES, fontsize=11)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    threshold = matrix.max() / 2
    for row in ticks:
        for column in ticks:
            axes.text(
                column,
                row,
                str(matrix[row, column]),
                ha="center",
                va="center",
                fontsize=9,
                color="black" if matrix[row, column] > threshold else "white",
            )
    off_diagonal = matrix - np.diag(np.diag(matrix))
    row, column = np.unravel_index(np.argmax(off_diagonal), matrix.shape)
    return finish(
        figure,
        "Confusion matrix on the test set",
        f"A 10 by 10 confusion matrix of true against predicted classes. The most common "
        f"mistake is {CLASS_NAMES[row]} predicted as {CLASS_NAMES[column]} "
        f"({off_diagonal[row, column]} images).",
    )


def confusion_matrix(true_labels: np.ndarray, predicted_labels: np.ndarray) -> np.ndarray:
    """Count (true, predicted) pairs.

    Returns
    -------
    (10, 10) int64 ndarray
        ``matrix[t, p]`` is the number of images of class ``t`` predicted as ``p``.
    """
    true_labels = np.asarray(true_labels, dtype=np.int64)
    predicted_labels = np.asarray(predicted_labels, dtype=np.int64)
    if true_labels.shape != predicted_labels.shape:
        raise ValueError(
            f"true and predicted labels differ in shape: {true_labels.shape} vs "
            f"{predicted_labels.shape}"
        )
    classes = len(CLASS_NAMES)
    pairs = true_labels * classes + predicted_labels
    return np.bincount(pairs, minlength=classes * classes).reshape(classes, classes)
