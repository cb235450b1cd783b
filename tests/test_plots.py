"""Every figure function returns a titled Figure with alt text that saves to a PNG."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from fashion_lessons import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sample(fashion):
    (x_train, y_train), _ = fashion
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), size=25)
    return x_train[:25], y_train[:25], probabilities


def _figures(sample):
    images, labels, probabilities = sample
    history = {
        "accuracy": [0.8, 0.85, 0.9],
        "val_accuracy": [0.79, 0.83, 0.84],
        "loss": [0.6, 0.4, 0.3],
        "val_loss": [0.62, 0.45, 0.48],
    }
    predicted = probabilities.argmax(axis=1)
    return {
        "image": plots.plot_image(images[5]),
        "grid": plots.plot_image_grid(images, labels),
        "prediction-right": plots.plot_prediction(images[0], np.eye(10)[labels[0]], labels[0]),
        "prediction-wrong": plots.plot_prediction(
            images[0], probabilities[0], (predicted[0] + 1) % 10
        ),
        "prediction-grid": plots.plot_prediction_grid(images, probabilities, labels),
        "curves": plots.plot_learning_curves(history),
        "comparison": plots.plot_learning_curve_comparison(
            {"rate 0": history, "rate 0.5": history}
        ),
        "confusion": plots.plot_confusion_matrix(labels, predicted),
        "sweep": plots.plot_sweep(
            {"1,000 images": {0.0: [0.80, 0.81, 0.79], 0.5: [0.82, 0.83, 0.82]}},
            "validation accuracy",
            "Dropout over seeds",
        ),
        "histograms": plots.plot_pixel_histograms(images, images / 255),
        "balance": plots.plot_class_balance(labels),
        "side-by-side": plots.plot_side_by_side([images[5], images[5] / 255], ["raw", "scaled"]),
    }


def test_every_figure_saves_to_a_png_with_title_and_alt_text(sample, tmp_path):
    for name, figure in _figures(sample).items():
        assert isinstance(figure, Figure), name
        assert figure.get_suptitle(), f"{name} has no title"
        assert len(figure.alt_text) > 30, f"{name} has no useful alt text"
        path = tmp_path / f"{name}.png"
        figure.savefig(path)
        assert path.read_bytes()[:8] == PNG_SIGNATURE and path.stat().st_size > 5000, name


def test_prediction_tells_right_from_wrong_without_colour(sample):
    images, labels, _ = sample
    right = plots.plot_prediction(images[0], np.eye(10)[labels[0]], labels[0])
    wrong = plots.plot_prediction(images[0], np.eye(10)[(labels[0] + 1) % 10], labels[0])
    right_title = right.axes[0].get_title()
    wrong_title = wrong.axes[0].get_title()
    assert right_title.startswith("✓") and wrong_title.startswith("✗")
    hatched = [bar.get_hatch() for bar in wrong.axes[1].patches if bar.get_hatch()]
    assert hatched, "a wrong prediction's bar is hatched"
    assert "wrong" in wrong.alt_text and "right" in right.alt_text


def test_confusion_matrix_counts_pairs():
    matrix = plots.confusion_matrix([0, 0, 1, 9], [0, 1, 1, 9])
    assert matrix.shape == (10, 10) and matrix.sum() == 4
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[1, 1] == 1 and matrix[9, 9] == 1
    with pytest.raises(ValueError, match="differ in shape"):
        plots.confusion_matrix([0, 1], [0])


def test_learning_curves_alt_text_reports_the_numbers():
    figure = plots.plot_learning_curves({"accuracy": [0.8, 0.9], "val_accuracy": [0.85, 0.84]})
    assert (
        "0.900" in figure.alt_text and "0.840" in figure.alt_text and "epoch 1" in figure.alt_text
    )


def test_learning_curves_mark_the_lowest_validation_loss():
    history = {
        "accuracy": [0.8, 0.9, 0.95],
        "val_accuracy": [0.85, 0.86, 0.85],
        "loss": [0.5, 0.3, 0.2],
        "val_loss": [0.45, 0.40, 0.47],
    }
    figure = plots.plot_learning_curves(history)
    loss_axes, accuracy_axes = figure.axes
    assert loss_axes.get_ylabel() == "loss" and accuracy_axes.get_ylabel() == "accuracy"
    marks = [line for line in loss_axes.lines if list(line.get_xdata()) == [2, 2]]
    assert marks, "the epoch of lowest validation loss (2) is marked"
    assert "lowest at epoch 2" in figure.alt_text


def test_prediction_grid_names_the_class_of_every_bar(sample):
    images, labels, probabilities = sample
    figure = plots.plot_prediction_grid(images, probabilities, labels)
    bar_axes = [axes for axes in figure.axes if axes.patches]
    assert len(bar_axes) == 6
    for axes in bar_axes:
        assert [tick.get_text() for tick in axes.get_yticklabels()] == list(plots.CLASS_NAMES)


def test_sweep_plot_shows_every_seed():
    figure = plots.plot_sweep({"a": {0.0: [0.1, 0.2, 0.3], 0.2: [0.4, 0.5, 0.6]}}, "m", "t")
    dots = [line for line in figure.axes[0].lines if line.get_linestyle() == "None"]
    assert sum(len(line.get_ydata()) for line in dots) >= 6
    assert "rate 0.2: mean 0.500, sd 0.100" in figure.alt_text
