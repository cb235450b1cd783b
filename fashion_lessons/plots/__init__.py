"""Every figure the book and the exercises show.

Each function returns a :class:`matplotlib.figure.Figure` built without pyplot, so
nothing is shown twice in a notebook and nothing global changes. Each figure has a
title and an ``alt_text`` attribute that describes it for screen readers. Colours come
from the Okabe–Ito palette, which stays distinguishable with colour-vision
deficiencies; right and wrong are also told apart by a ✓/✗ label and a hatch.
"""

from fashion_lessons.data import CLASS_NAMES
from fashion_lessons.plots.curves import (
    plot_learning_curve_comparison,
    plot_learning_curves,
    plot_score_histogram,
    plot_sweep,
)
from fashion_lessons.plots.display import FigureImage, as_image
from fashion_lessons.plots.images import (
    plot_class_balance,
    plot_image,
    plot_image_grid,
    plot_pixel_histograms,
    plot_side_by_side,
)
from fashion_lessons.plots.predictions import (
    confusion_matrix,
    plot_confusion_matrix,
    plot_prediction,
    plot_prediction_grid,
)
from fashion_lessons.plots.style import (
    NEUTRAL_COLOR,
    OKABE_ITO,
    RIGHT_COLOR,
    SERIES_COLORS,
    WRONG_COLOR,
)

__all__ = [
    "CLASS_NAMES",
    "plot_image",
    "plot_image_grid",
    "plot_pixel_histograms",
    "plot_class_balance",
    "plot_side_by_side",
    "plot_prediction",
    "plot_prediction_grid",
    "plot_confusion_matrix",
    "confusion_matrix",
    "plot_learning_curves",
    "plot_learning_curve_comparison",
    "plot_sweep",
    "plot_score_histogram",
    "FigureImage",
    "as_image",
    "NEUTRAL_COLOR",
    "OKABE_ITO",
    "RIGHT_COLOR",
    "SERIES_COLORS",
    "WRONG_COLOR",
]
