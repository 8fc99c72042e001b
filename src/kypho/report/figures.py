"""Figures of the report, drawn from the table model so they match the tables.

Every function takes the analysis (or one of its tables) and an optional
matplotlib ``ax``; without one it makes a new figure of a journal size. All
return what they drew on, so callers and tests can inspect the artists. Figures
are made without :mod:`matplotlib.pyplot` (no global state, no GUI backend), in
the Okabe–Ito palette, which stays distinct under the common colour-vision
deficiencies.

References
----------
Okabe, M. & Ito, K. (2008). Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
von Elm, E. et al. (2007). The Strengthening the Reporting of Observational Studies
in Epidemiology (STROBE) statement. Lancet 370, 1453-1457.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kypho.analysis.model import AnalysisResult, Row, Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "OKABE_ITO",
    "measure_rows",
    "plot_flow",
    "plot_grades",
    "plot_leakage",
    "plot_measure",
    "plot_radiographic",
    "save_figure",
    "svg_text",
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
SINGLE_COLUMN_IN = 3.5
DOUBLE_COLUMN_IN = 7.2
_MARKERS = ("o", "s", "^", "D")


def _new_axes(width: float = SINGLE_COLUMN_IN, height: float = 2.8) -> Axes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure.subplots()


def _style(ax: Axes) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(labelsize=8)


def measure_rows(table: Table, measure: str) -> list[Row]:
    """The timepoint rows of a repeated measure in a table, in time order."""
    rows: list[Row] = []
    inside = False
    for row in table.rows:
        if row.kind == "section":
            inside = row.variable == measure
            continue
        if inside and row.timepoint is not None:
            rows.append(row)
    if not rows:
        raise KeyError(f"table {table.number} shows no measure {measure!r}")
    return rows


def _t_quantile(dof: int, confidence: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2.0, dof))


def plot_measure(
    table: Table,
    measure: str,
    *,
    ax: Axes | None = None,
    confidence: float = 0.95,
    ylabel: str | None = None,
    legend: bool = True,
) -> Axes:
    """Mean with its confidence interval, by group, at each timepoint of a measure.

    Parameters
    ----------
    table
        A table holding the measure (e.g. Table 3 for ``"vas"``).
    measure
        The repeated measure's name.
    ax
        Axes to draw on; ``None`` makes a single-column figure.
    confidence
        Level of the error bars: mean ± t(n − 1) · SD/√n.
    ylabel
        Axis label; ``None`` gives "Mean (unit)" with the unit from the table.
    legend
        Whether to draw the legend of the groups.

    Returns
    -------
    matplotlib.axes.Axes
        One error-bar container per group (``ax.containers``, in group order,
        labelled by group); ``container.lines[0]`` is the line of the table's
        means and ``container.lines[2][0]`` the CI bars.
    """
    ax = ax if ax is not None else _new_axes()
    rows = measure_rows(table, measure)
    section = next(r for r in table.rows if r.kind == "section" and r.variable == measure)
    labels = [r.label for r in rows]
    x = list(range(len(rows)))
    groups = len(table.columns)
    offset = 0.06
    for g, name in enumerate(table.columns):
        means: list[float] = []
        errors: list[float] = []
        for row in rows:
            cell = row.cells[g]
            means.append(cell.mean if cell.mean is not None else math.nan)
            if cell.sd is not None and cell.n > 1:
                errors.append(_t_quantile(cell.n - 1, confidence) * cell.sd / math.sqrt(cell.n))
            else:
                errors.append(math.nan)
        shift = [xi + (g - (groups - 1) / 2) * offset for xi in x]
        ax.errorbar(
            shift,
            means,
            yerr=errors,
            color=OKABE_ITO[g % len(OKABE_ITO)],
            marker=_MARKERS[g % len(_MARKERS)],
            markersize=4,
            linewidth=1.2,
            capsize=2.5,
            label=name,
        )
    ax.set_xticks(x, labels, rotation=20, ha="right")
    unit = section.label.rsplit(" (", 1)[1].rstrip(")") if section.label.endswith(")") else ""
    ax.set_ylabel(ylabel or (f"Mean ({unit})" if unit else "Mean"), fontsize=8)
    ax.set_title(textwrap.fill(section.label.rsplit(" (", 1)[0], 26), fontsize=8.5)
    if legend:
        ax.legend(fontsize=7, frameon=False)
    _style(ax)
    return ax


def plot_radiographic(
    result: AnalysisResult,
    panels: Sequence[tuple[int, str]] = (
        (4, "ant_height_ratio"),
        (5, "mid_height_ratio"),
        (6, "wedge_angle"),
    ),
    *,
    axes: Sequence[Axes] | None = None,
) -> list[Axes]:
    """Anterior and middle height ratios and the wedge angle over time, one panel each.

    ``panels`` lists ``(table number, measure)``; returns the panels' axes.
    """
    if axes is None:
        from matplotlib.figure import Figure

        figure = Figure(figsize=(DOUBLE_COLUMN_IN, 3.0), layout="constrained")
        axes = list(figure.subplots(1, len(panels)))
    drawn = []
    for i, (ax, (number, measure)) in enumerate(zip(axes, panels, strict=True)):
        table = result.table(number)
        drawn.append(
            plot_measure(table, measure, ax=ax, confidence=result.confidence, legend=i == 0)
        )
    return drawn


def _level_block(table: Table, variable: str) -> tuple[Row, list[Row]]:
    rows = list(table.rows)
    for i, row in enumerate(rows):
        if row.kind == "header" and row.variable == variable:
            levels = []
            for following in rows[i + 1 :]:
                if following.kind != "level":
                    break
                levels.append(following)
            return row, levels
    raise KeyError(f"table {table.number} shows no categorical variable {variable!r}")


def plot_grades(table: Table, variable: str = "cement_grade", *, ax: Axes | None = None) -> Axes:
    """Stacked bars: the % of each group in each grade (lowest grade at the bottom).

    Returns the axes; ``ax.containers`` holds one bar container per grade, whose
    bar heights are the groups' percentages.
    """
    ax = ax if ax is not None else _new_axes()
    header, levels = _level_block(table, variable)
    groups = list(table.columns)
    bottoms = [0.0] * len(groups)
    for j, level in enumerate(levels):
        heights = [cell.percent or 0.0 for cell in level.cells]
        ax.bar(
            groups,
            heights,
            bottom=bottoms,
            color=OKABE_ITO[j % len(OKABE_ITO)],
            edgecolor="white",
            linewidth=0.5,
            label=level.label,
            width=0.6,
        )
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    ax.set_ylabel("Patients (%)", fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_title(header.label, fontsize=9)
    ax.legend(fontsize=7, frameon=False, bbox_to_anchor=(1.0, 1.0), loc="upper left")
    _style(ax)
    return ax


def plot_leakage(
    table: Table,
    variables: Sequence[str] = ("leak_B", "leak_C", "leak_S", "leak_D"),
    *,
    ax: Axes | None = None,
) -> Axes:
    """Grouped bars: patients with leakage of each type, by group.

    Returns the axes; ``ax.containers`` holds one bar container per group, whose
    bar heights are the counts of each type (in ``variables`` order, types no table
    row shows left out).
    """
    ax = ax if ax is not None else _new_axes()
    rows = [r for r in table.rows if r.variable in variables and r.kind == "count"]
    if not rows:
        raise KeyError(f"table {table.number} shows none of {', '.join(variables)}")
    order = {v: i for i, v in enumerate(variables)}
    rows.sort(key=lambda r: order[str(r.variable)])
    labels = [r.label.split(" (")[0] for r in rows]
    width = 0.8 / len(table.columns)
    for g, name in enumerate(table.columns):
        positions = [i + (g - (len(table.columns) - 1) / 2) * width for i in range(len(rows))]
        counts = [r.cells[g].count or 0 for r in rows]
        ax.bar(positions, counts, width=width, color=OKABE_ITO[g % len(OKABE_ITO)], label=name)
    ax.set_xticks(range(len(rows)), labels)
    ax.set_ylabel("Patients with leakage (n)", fontsize=8)
    ax.set_title("Bone cement leakage by type", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    _style(ax)
    return ax


def plot_flow(
    flow: Any, *, ax: Axes | None = None, group_labels: dict[str, str] | None = None
) -> Axes:
    """The STROBE-style patient flow: screened → excluded (by first reason) → included by group.

    Parameters
    ----------
    flow
        :class:`kypho.eligibility.Flow` (``screened``, ``excluded``, ``included``,
        ``first_reason``, ``included_by_group``, ``labels``, ``not_assessed``).
    ax
        Axes to draw on; ``None`` makes a new figure.
    group_labels
        Display names of the group codes.

    Returns
    -------
    matplotlib.axes.Axes
        The boxes' texts are ``ax.texts``; arrows are annotations.
    """
    ax = ax if ax is not None else _new_axes(DOUBLE_COLUMN_IN * 0.8, 4.2)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.axis("off")
    box = {
        "boxstyle": "round,pad=0.4",
        "facecolor": "white",
        "edgecolor": "black",
        "linewidth": 0.8,
    }
    arrow = {"arrowstyle": "->", "color": "black", "linewidth": 0.8}
    ax.text(
        3.2,
        9.2,
        f"Patients screened\n(n = {flow.screened})",
        ha="center",
        va="center",
        fontsize=8,
        bbox=box,
    )
    reasons = [
        f"{flow.labels.get(key, key)}: {count}"
        for key, count in sorted(flow.first_reason.items(), key=lambda kv: -kv[1])
        if count
    ]
    excluded = f"Excluded (n = {flow.excluded})"
    if reasons:
        excluded += "\n" + "\n".join(reasons[:8])
        if len(reasons) > 8:
            excluded += f"\n… {len(reasons) - 8} more"
    if flow.not_assessed:
        excluded += "\nNot assessed: " + ", ".join(flow.not_assessed)
    ax.text(6.0, 6.9, excluded, ha="left", va="center", fontsize=6.5, bbox=box, wrap=True)
    ax.text(
        3.2, 4.6, f"Included\n(n = {flow.included})", ha="center", va="center", fontsize=8, bbox=box
    )
    ax.annotate("", xy=(3.2, 5.2), xytext=(3.2, 8.6), arrowprops=arrow)
    ax.annotate("", xy=(5.9, 6.9), xytext=(3.2, 6.9), arrowprops=arrow)
    groups = list(flow.included_by_group.items())
    for i, (code, count) in enumerate(groups):
        x = 3.2 + (i - (len(groups) - 1) / 2) * (4.4 / max(len(groups) - 1, 1))
        name = (group_labels or {}).get(code, code)
        ax.text(x, 1.6, f"{name}\n(n = {count})", ha="center", va="center", fontsize=8, bbox=box)
        ax.annotate("", xy=(x, 2.2), xytext=(3.2, 4.0), arrowprops=arrow)
    return ax


def save_figure(figure: Figure, directory: str | Path, name: str, *, dpi: int = 300) -> list[Path]:
    """Save ``figure`` as ``name.png`` (``dpi``) and ``name.svg``; return both paths."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    svg = target / f"{name}.svg"
    svg.write_text(svg_text(figure), encoding="utf-8")
    png = target / f"{name}.png"
    figure.savefig(png, dpi=dpi, metadata={"Software": "kypho"})
    return [png, svg]


def svg_text(figure: Figure) -> str:
    """The figure as SVG text (no creation date, so reruns give identical files).

    After the first drawing the layout is frozen, so a second format (the PNG)
    does not run the constrained-layout solver again.
    """
    import io

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    figure.set_layout_engine("none")
    return buffer.getvalue()
