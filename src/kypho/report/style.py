"""One style for every figure kypho draws: colours, journal sizes, fonts, layout checks.

The report's figures (:mod:`kypho.report.figures`) and the "Beyond the paper"
section (:mod:`kypho.beyond.report`) take their colours and sizes from here, so
a group has the same colour in every figure and a figure fits a journal column.

* Groups are coloured in declared order from the Okabe–Ito palette, which stays
  distinct under the common colour-vision deficiencies: the first group blue, the
  second vermillion (the two most distinct hues under deuteranopia and protanopia).
* Sizes: one journal column is 3.5 in (89 mm) wide, two columns 7.2 in (183 mm),
  the widths most journals give for figures (e.g. Elsevier's artwork guidelines:
  90 mm single, 190 mm double column).
* Text is at least 6.5 pt at print size.

:func:`text_outside` lists the texts that a figure would clip: a test runs it on
every figure of a report.

References
----------
Okabe, M. & Ito, K. (2008). Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.text import Text

__all__ = [
    "DOUBLE_COLUMN_IN",
    "FONT_PT",
    "GROUP_COLOURS",
    "OKABE_ITO",
    "SINGLE_COLUMN_IN",
    "SMALL_PT",
    "TITLE_PT",
    "group_colour",
    "new_figure",
    "style_axes",
    "text_outside",
]

OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",
)
GROUP_COLOURS: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")
"""Colours of the groups, in the schema's group order (first group blue, second vermillion)."""

SINGLE_COLUMN_IN = 3.5
DOUBLE_COLUMN_IN = 7.2
FONT_PT = 8.0
SMALL_PT = 7.0
TITLE_PT = 8.5


def group_colour(index: int) -> str:
    """The colour of the group at ``index`` in the schema's group order."""
    return GROUP_COLOURS[index % len(GROUP_COLOURS)]


def new_figure(width: float = SINGLE_COLUMN_IN, height: float = 2.8) -> Figure:
    """A bare figure (no pyplot) of a journal size with constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def style_axes(ax: object) -> None:
    """The journal look: no top or right spine, small tick labels."""
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        return
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(labelsize=SMALL_PT)


def text_outside(figure: Figure, *, tolerance: float = 0.5) -> list[Text]:
    """The visible, non-empty texts whose drawn extent leaves the figure.

    Draws the figure (so the layout engine has run) and compares each text's
    window extent with the figure's, in pixels, allowing ``tolerance`` pixels.
    An empty list means nothing is clipped.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = (
        figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)
    )
    canvas.draw()  # type: ignore[no-untyped-call]
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    width, height = figure.bbox.width, figure.bbox.height
    # Tick labels of ticks beyond the axis limits exist but are not drawn.
    hidden: set[int] = set()
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                loc = tick.get_loc()
                if loc is None or not low - 1e-9 * abs(high - low) <= loc <= high + 1e-9 * abs(
                    high - low
                ):
                    hidden.update((id(tick.label1), id(tick.label2)))
    outside: list[Text] = []
    for artist in figure.findobj(Text):
        if id(artist) in hidden or not artist.get_visible() or not artist.get_text().strip():
            continue
        box = artist.get_window_extent(renderer)
        if (
            box.x0 < -tolerance
            or box.y0 < -tolerance
            or box.x1 > width + tolerance
            or box.y1 > height + tolerance
        ):
            outside.append(artist)
    return outside
