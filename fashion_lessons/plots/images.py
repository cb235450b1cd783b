"""Figures of the images themselves: one image, a grid, pixel histograms, class balance."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from fashion_lessons.data import CLASS_NAMES
from fashion_lessons.plots.style import OKABE_ITO, finish


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
    return finish(
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
    return finish(
        figure,
        f"The first {min(count, len(images))} images and their classes",
        f"A {rows} by {columns} grid of greyscale clothing images labelled: {names}.",
    )


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
    return finish(
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
    return finish(
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
    return finish(
        figure,
        "The same image, " + " and ".join(titles),
        f"{len(images)} identical-looking heat maps of the same image; {ranges}.",
    )
