"""Figures of the perfusion model: fill maps, leakage and pressure over time.

Plotting functions take ``ax=None`` (or ``axes=None``) and return what they drew on.
Text is set in the report's sizes (:data:`kypho.report.style.FONT_PT`): the comparison
figure is 7.2 in wide and still reads at 7 pt when a page shrinks it to 6.3 in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from kypho.report.style import FONT_PT, TITLE_PT
from kypho.simulate.model import SimulationResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["comparison_figure", "plot_fill", "plot_leakage", "plot_pressure"]

_MARROW = (0.93, 0.93, 0.93)


def _colours() -> tuple[str, ...]:
    from kypho.report.figures import OKABE_ITO

    return OKABE_ITO


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[k : k + 2], 16) / 255 for k in (1, 3, 5)])


def _style(ax: Axes) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(labelsize=FONT_PT)


def plot_fill(result: SimulationResult, *, ax: Axes | None = None) -> Axes:
    """The final fill of the section, one colour per batch (anterior on the left).

    Each cell's colour mixes the batches' colours with the marrow's grey by
    their fractions.
    """
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(3.2, 2.6), layout="constrained").subplots()
    colours = _colours()
    image = np.tile(np.array(_MARROW), (*result.fraction.shape, 1))
    marrow = np.clip(1.0 - result.batch_fraction.sum(axis=0), 0.0, 1.0)
    image = image * marrow[..., None]
    for k in range(result.batch_fraction.shape[0]):
        image = image + result.batch_fraction[k][..., None] * _rgb(colours[(k + 1) % len(colours)])
    ax.imshow(
        np.clip(image, 0, 1),
        origin="lower",
        extent=(0, result.depth_mm, 0, result.height_mm),
        interpolation="nearest",
    )
    for k, name in enumerate(result.batches):
        ax.plot([], [], "s", color=colours[(k + 1) % len(colours)], label=f"batch {name}")
    ax.set_xlabel("anterior → posterior (mm)", fontsize=FONT_PT)
    ax.set_ylabel("inferior → superior (mm)", fontsize=FONT_PT)
    grade = result.grade or "ungraded"
    ax.set_title(
        f"{result.protocol}: leaked {result.leaked_total_ml:.2f} ml, "
        f"lateral {result.area_lateral_pct:.0f}%, grade {grade}",
        fontsize=FONT_PT,
    )
    ax.legend(fontsize=FONT_PT, loc="upper right", frameon=False)
    ax.tick_params(labelsize=FONT_PT)
    return ax


def plot_leakage(results: Sequence[SimulationResult], *, ax: Axes | None = None) -> Axes:
    """Cumulative leaked cement (ml) through each exit over time, one colour per protocol."""
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(3.2, 2.6), layout="constrained").subplots()
    colours = _colours()
    styles = ("-", "--", ":", "-.")
    for k, result in enumerate(results):
        minutes = result.time_s / 60
        for e, name in enumerate(result.exits):
            if name == "cortex":
                continue
            ax.plot(
                minutes,
                result.leaked_ml[:, e],
                styles[e % len(styles)],
                color=colours[k % len(colours)],
                label=f"{result.protocol}: {name}",
                lw=1.2,
            )
    ax.set_xlabel("time since first mixing (min)", fontsize=FONT_PT)
    ax.set_ylabel("cement leaked (ml)", fontsize=FONT_PT)
    ax.legend(fontsize=FONT_PT, frameon=False, loc="center right")
    _style(ax)
    return ax


def plot_pressure(results: Sequence[SimulationResult], *, ax: Axes | None = None) -> Axes:
    """Pressure at the tube's opening over time (kPa above the exits'), per protocol."""
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(3.2, 2.6), layout="constrained").subplots()
    colours = _colours()
    for k, result in enumerate(results):
        ax.plot(
            result.time_s / 60,
            result.pressure_kpa,
            ".",
            ms=2,
            color=colours[k % len(colours)],
            label=result.protocol,
        )
    ax.set_yscale("log")
    ax.set_xlabel("time since first mixing (min)", fontsize=FONT_PT)
    ax.set_ylabel("injection pressure (kPa)", fontsize=FONT_PT)
    ax.legend(fontsize=FONT_PT, frameon=False)
    _style(ax)
    return ax


def comparison_figure(results: Sequence[SimulationResult]) -> Figure:
    """One figure: the fill of each protocol, leaked volume and pressure over time."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.2, 5.4), layout="constrained")
    grid = figure.subplots(2, 2)
    for k, result in enumerate(results[:2]):
        plot_fill(result, ax=grid[0][k])
    plot_leakage(results, ax=grid[1][0])
    plot_pressure(results, ax=grid[1][1])
    figure.suptitle(
        "In-silico model of cement perfusion (2D Darcy; a model with stated assumptions)",
        fontsize=TITLE_PT,
    )
    return figure
