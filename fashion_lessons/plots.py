"""Every figure the book and the exercises show.

Each function returns a :class:`matplotlib.figure.Figure` built without pyplot, so
nothing is shown twice in a notebook and nothing global changes. Each figure has a
title and an ``alt_text`` attribute that describes it for screen readers. Colours come
from the Okabe–Ito palette, which stays distinguishable with colour-vision
deficiencies; right and wrong are also told apart by a ✓/✗ label and a hatch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from fashion_lessons.data import CLASS_NAMES
from fashion_lessons.training import history_dict

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
RIGHT_COLOR = OKABE_ITO["blue"]
WRONG_COLOR = OKABE_ITO["vermillion"]
NEUTRAL_COLOR = "#999999"
SERIES_COLORS = [OKABE_ITO[name] for name in ("blue", "orange", "green", "purple", "sky_blue")]


def _finish(figure: Figure, title: str, alt_text: str) -> Figure:
    figure.suptitle(title)
    figure.alt_text = alt_text
    return figure


def plot_image(image: np.ndarray, title: str = "One training image") -> Figure:
    """Show one image as a heat map with a colorbar.

    Parameters
    ----------
    image : (28, 28) ndarray
        Raw (0–255) or scaled (0–1) pixels.
    """
    figure = Figure(figsize=(4.2, 3.6), layout="constrained")
    axes = figure.add_subplot()
    shown = axes.imshow(image, cmap="viridis")
    figure.colorbar(shown, ax=axes, label="pixel value")
    axes.set_xlabel("column")
    axes.set_ylabel("row")
    low, high = float(np.min(image)), float(np.max(image))
    return _finish(
        figure,
        title,
        f"A 28 by 28 heat map of one image with a colorbar; pixel values range from "
        f"{low:g} to {high:g}.",
    )


def plot_image_grid(
    images: np.ndarray, labels: np.ndarray, rows: int = 5, columns: int = 5
) -> Figure:
    """Show the first ``rows × columns`` images in grey, each captioned with its class name.

    Parameters
    ----------
    images : (n, 28, 28) ndarray
    labels : (n,) integer ndarray
    """
    count = rows * columns
    figure = Figure(figsize=(1.6 * columns, 1.75 * rows), layout="constrained")
    for index, axes in enumerate(figure.subplots(rows, columns, squeeze=False).flat):
        axes.set_axis_off()
        if index < min(count, len(images)):
            axes.imshow(images[index], cmap="binary")
            axes.set_title(CLASS_NAMES[int(labels[index])], fontsize=9)
    names = ", ".join(CLASS_NAMES[int(label)] for label in labels[:count])
    return _finish(
        figure,
        f"The first {min(count, len(images))} images and their classes",
        f"A {rows} by {columns} grid of greyscale clothing images labelled: {names}.",
    )


def _bars(axes, probabilities: np.ndarray, true_label: int) -> None:
    predicted = int(np.argmax(probabilities))
    colors = [NEUTRAL_COLOR] * len(probabilities)
    hatches = [""] * len(probabilities)
    colors[predicted] = RIGHT_COLOR if predicted == true_label else WRONG_COLOR
    hatches[predicted] = "" if predicted == true_label else "//"
    bars = axes.bar(range(len(probabilities)), probabilities, color=colors)
    for bar, hatch in zip(bars, hatches):
        bar.set_hatch(hatch)
    bars[true_label].set_edgecolor("black")
    bars[true_label].set_linewidth(1.5)
    axes.set_ylim(0, 1)
    axes.set_xticks(range(len(probabilities)))
    axes.set_ylabel("probability")


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
    figure = Figure(figsize=(7, 3), layout="constrained")
    image_axes, bar_axes = figure.subplots(1, 2, width_ratios=[1, 1.6])
    image_axes.imshow(image, cmap="binary")
    image_axes.set_axis_off()
    text, color = _verdict(probabilities, true_label)
    image_axes.set_title(text, color=color, fontsize=10)
    _bars(bar_axes, probabilities, true_label)
    bar_axes.set_xticklabels(CLASS_NAMES, rotation=60, ha="right", fontsize=8)
    predicted = int(np.argmax(probabilities))
    return _finish(
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
    rows: int = 5,
    columns: int = 3,
) -> Figure:
    """Show ``rows × columns`` predictions, each as image plus probability bars.

    Parameters
    ----------
    images : (n, 28, 28) ndarray
    probabilities : (n, 10) float ndarray
    labels : (n,) integer ndarray
    """
    count = min(rows * columns, len(images))
    figure = Figure(figsize=(4.4 * columns, 1.9 * rows), layout="constrained")
    grid = figure.subplots(rows, 2 * columns, squeeze=False)
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
        image_axes.set_title(text, color=color, fontsize=8)
        _bars(bar_axes, np.asarray(probabilities[index], dtype=float), true_label)
        bar_axes.set_xticklabels([])
        bar_axes.set_ylabel("")
        bar_axes.tick_params(labelsize=7)
        wrong += int(np.argmax(probabilities[index])) != true_label
    return _finish(
        figure,
        f"{count} test predictions (✓ right, ✗ wrong; true class outlined)",
        f"A grid of {count} test images, each beside a bar chart of class probabilities; "
        f"{count - wrong} are predicted right and {wrong} wrong.",
    )


def plot_learning_curves(history, title: str = "Training and validation accuracy") -> Figure:
    """Plot training vs validation accuracy per epoch and mark the final gap.

    Parameters
    ----------
    history : keras History or its ``.history`` dict
        Must contain ``accuracy`` and ``val_accuracy``.
    """
    metrics = history_dict(history)
    train, val = metrics["accuracy"], metrics["val_accuracy"]
    epochs = np.arange(1, len(train) + 1)
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.add_subplot()
    axes.plot(epochs, train, "o-", color=RIGHT_COLOR, label="training")
    axes.plot(epochs, val, "s--", color=OKABE_ITO["orange"], label="validation")
    best = int(np.argmax(val)) + 1
    axes.axvline(best, color=NEUTRAL_COLOR, linestyle=":", label=f"best epoch ({best})")
    gap = train[-1] - val[-1]
    axes.annotate(
        "",
        xy=(epochs[-1], val[-1]),
        xytext=(epochs[-1], train[-1]),
        arrowprops={"arrowstyle": "<->", "color": "black"},
    )
    axes.text(epochs[-1], (train[-1] + val[-1]) / 2, f" gap {gap:+.3f}", va="center")
    axes.set_xlabel("epoch")
    axes.set_ylabel("accuracy")
    axes.set_xticks(epochs)
    axes.legend(loc="lower right")
    return _finish(
        figure,
        title,
        f"Line chart of accuracy over {len(train)} epochs. Training accuracy ends at "
        f"{train[-1]:.3f}, validation accuracy at {val[-1]:.3f}, a gap of {gap:.3f}; "
        f"validation accuracy is highest at epoch {best}.",
    )


def plot_learning_curve_comparison(
    histories: Mapping[str, object], title: str = "Training vs validation accuracy"
) -> Figure:
    """Overlay the learning curves of several runs (e.g. dropout rates).

    Parameters
    ----------
    histories : mapping of run name to keras History or ``.history`` dict
    """
    figure = Figure(figsize=(7, 4.2), layout="constrained")
    axes = figure.add_subplot()
    descriptions = []
    markers = ["o", "s", "^", "D", "v"]
    for index, (name, history) in enumerate(histories.items()):
        metrics = history_dict(history)
        epochs = np.arange(1, len(metrics["accuracy"]) + 1)
        color = SERIES_COLORS[index % len(SERIES_COLORS)]
        marker = markers[index % len(markers)]
        axes.plot(epochs, metrics["accuracy"], f"{marker}-", color=color, label=f"{name} train")
        axes.plot(
            epochs,
            metrics["val_accuracy"],
            f"{marker}--",
            color=color,
            markerfacecolor="white",
            label=f"{name} validation",
        )
        descriptions.append(
            f"{name}: training {metrics['accuracy'][-1]:.3f}, "
            f"validation {metrics['val_accuracy'][-1]:.3f}"
        )
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    axes.set_xlabel("epoch")
    axes.set_ylabel("accuracy")
    axes.legend(fontsize=8, ncols=2, loc="lower right")
    return _finish(
        figure,
        title,
        "Line chart of training (solid) and validation (dashed) accuracy per epoch for "
        + "; ".join(descriptions)
        + ".",
    )


def plot_confusion_matrix(true_labels: np.ndarray, predicted_labels: np.ndarray) -> Figure:
    """Show how often each true class (rows) is predicted as each class (columns).

    Parameters
    ----------
    true_labels, predicted_labels : (n,) integer ndarray
    """
    matrix = confusion_matrix(true_labels, predicted_labels)
    figure = Figure(figsize=(7, 6), layout="constrained")
    axes = figure.add_subplot()
    shown = axes.imshow(matrix, cmap="cividis")
    figure.colorbar(shown, ax=axes, label="images")
    ticks = range(len(CLASS_NAMES))
    axes.set_xticks(ticks, CLASS_NAMES, rotation=60, ha="right")
    axes.set_yticks(ticks, CLASS_NAMES)
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
                fontsize=7,
                color="black" if matrix[row, column] > threshold else "white",
            )
    off_diagonal = matrix - np.diag(np.diag(matrix))
    row, column = np.unravel_index(np.argmax(off_diagonal), matrix.shape)
    return _finish(
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


def plot_pixel_histograms(raw: np.ndarray, scaled: np.ndarray) -> Figure:
    """Histogram the pixel values before and after scaling, side by side.

    Parameters
    ----------
    raw : ndarray of uint8 pixels in 0–255
    scaled : ndarray of float pixels in 0–1
    """
    figure = Figure(figsize=(8, 3.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    for axes, values, name, color in (
        (left, raw, "raw pixels (0–255)", OKABE_ITO["blue"]),
        (right, scaled, "scaled pixels (0–1)", OKABE_ITO["orange"]),
    ):
        axes.hist(np.ravel(values), bins=50, color=color, log=True)
        axes.set_title(name)
        axes.set_xlabel("pixel value")
        axes.set_ylabel("pixels (log scale)")
    return _finish(
        figure,
        "Pixel values before and after scaling",
        f"Two histograms with the same shape: raw pixel values span {np.min(raw):g} to "
        f"{np.max(raw):g}, scaled values {np.min(scaled):g} to {np.max(scaled):g}; most "
        "pixels are background zeros.",
    )


def plot_class_balance(labels: np.ndarray, title: str = "Images per class") -> Figure:
    """Bar chart of how many images each class has.

    Parameters
    ----------
    labels : (n,) integer ndarray of labels 0–9
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(CLASS_NAMES))
    figure = Figure(figsize=(7, 3.2), layout="constrained")
    axes = figure.add_subplot()
    axes.bar(CLASS_NAMES, counts, color=OKABE_ITO["blue"])
    axes.set_ylabel("images")
    axes.set_xlabel("class")
    axes.tick_params(axis="x", rotation=45)
    return _finish(
        figure,
        title,
        f"Bar chart of images per class: between {counts.min()} and {counts.max()} "
        "images in each of the ten classes.",
    )


def plot_side_by_side(images: Sequence[np.ndarray], titles: Sequence[str]) -> Figure:
    """Show images next to each other, each with its own colorbar (e.g. before/after scaling).

    Parameters
    ----------
    images : sequence of (28, 28) ndarray
    titles : sequence of str, one per image
    """
    figure = Figure(figsize=(4 * len(images), 3.4), layout="constrained")
    for axes, image, title in zip(
        figure.subplots(1, len(images), squeeze=False).flat, images, titles
    ):
        shown = axes.imshow(image, cmap="viridis")
        figure.colorbar(shown, ax=axes, label="pixel value")
        axes.set_title(title)
        axes.set_axis_off()
    ranges = "; ".join(
        f"{title}: values {np.min(image):g} to {np.max(image):g}"
        for image, title in zip(images, titles)
    )
    return _finish(
        figure,
        "The same image, " + " and ".join(titles),
        f"{len(images)} identical-looking heat maps of the same image; {ranges}.",
    )


class FigureImage:
    """A figure rendered once to PNG that notebooks and the book show with its alt text.

    Jupyter shows it through ``_repr_html_`` as an ``<img>`` whose ``alt`` attribute is
    the figure's ``alt_text``; frontends that do not render HTML fall back to the PNG.

    Attributes
    ----------
    png : bytes
        The PNG file.
    alt_text : str
    """

    def __init__(self, figure: Figure, dpi: int = 100) -> None:
        import io

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
        self.png = buffer.getvalue()
        self.alt_text = getattr(figure, "alt_text", "") or figure.get_suptitle()

    def _repr_png_(self) -> bytes:
        return self.png

    def _repr_html_(self) -> str:
        import base64
        import html

        data = base64.b64encode(self.png).decode("ascii")
        return (
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.alt_text)}" '
            'style="max-width: 100%; height: auto;" />'
        )


def as_image(figure: Figure, dpi: int = 100) -> FigureImage:
    """Render ``figure`` for display in a notebook, keeping its alt text.

    A :class:`~matplotlib.figure.Figure` made without pyplot has no notebook display of
    its own; ``as_image(plot_image(x))`` as the last line of a cell shows it.

    Parameters
    ----------
    figure : matplotlib Figure
        Usually one returned by a ``plot_*`` function, with an ``alt_text`` attribute.
    dpi : int, default 100

    Returns
    -------
    FigureImage
    """
    return FigureImage(figure, dpi=dpi)


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
    return _finish(
        figure,
        "Distribution of total scores",
        f"Histogram of total scores out of {max_score:g} in ten equal bins: {summary}.",
    )
