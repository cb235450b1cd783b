"""Show a figure in a notebook as a PNG with its alt text, without pyplot."""

from __future__ import annotations

from matplotlib.figure import Figure


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
