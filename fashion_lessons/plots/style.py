"""The figure style: a colour-blind-safe palette and the finish every figure gets."""

from __future__ import annotations

from matplotlib.figure import Figure

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


def finish(figure: Figure, title: str, alt_text: str) -> Figure:
    figure.suptitle(title)
    figure.alt_text = alt_text
    return figure
