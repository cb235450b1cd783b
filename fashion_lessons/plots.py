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
    return _finish(
        figure,
        f"{count} test predictions (✓ right, ✗ wrong; true class outlined)",
        f"A grid of {count} test images, each beside a bar chart of class probabilities; "
        f"{count - wrong} are predicted right and {wrong} wrong.",
    )


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
    return _finish(figure, title, text)


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
    return _finish(
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
    return _finish(
        figure,
        title,
        "Dot plot of each seed's value per dropout rate, with the mean and a bar of one "
        "standard deviation beside the dots. " + "; ".join(descriptions) + ".",
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
        (
            f"Bar chart of images per class: {counts.min():,} images in each of the ten classes."
            if counts.min() == counts.max()
            else f"Bar chart of images per class: between {counts.min():,} and "
            f"{counts.max():,} images in each of the ten classes."
        ),
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
