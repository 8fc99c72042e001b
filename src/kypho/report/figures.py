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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kypho.analysis.model import AnalysisResult, Row, Table
from kypho.report.style import (
    DOUBLE_COLUMN_IN,
    FONT_PT,
    OKABE_ITO,
    SINGLE_COLUMN_IN,
    SMALL_PT,
    TITLE_PT,
    group_colour,
    new_figure,
    style_axes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from kypho.eligibility import Flow

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

_MARKERS = ("o", "s", "^", "D")


def _new_axes(width: float = SINGLE_COLUMN_IN, height: float = 2.8) -> Axes:
    return new_figure(width, height).subplots()


def _style(ax: Axes) -> None:
    style_axes(ax)


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
        A table holding the measure (a section row whose ``variable`` is it).
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
            color=group_colour(g),
            marker=_MARKERS[g % len(_MARKERS)],
            markersize=4,
            linewidth=1.2,
            capsize=2.5,
            label=name,
        )
    ax.set_xticks(x, labels, rotation=20, ha="right")
    unit = section.label.rsplit(" (", 1)[1].rstrip(")") if section.label.endswith(")") else ""
    ax.set_ylabel(ylabel or (f"Mean ({unit})" if unit else "Mean"), fontsize=FONT_PT)
    ax.set_title(textwrap.fill(section.label.rsplit(" (", 1)[0], 26), fontsize=TITLE_PT)
    if legend:
        ax.legend(fontsize=SMALL_PT, frameon=False)
    _style(ax)
    return ax


def plot_radiographic(
    result: AnalysisResult,
    panels: Sequence[tuple[int, str]],
    *,
    axes: Sequence[Axes] | None = None,
) -> list[Axes]:
    """Several repeated measures over time side by side (the plan's ``measures`` figure).

    ``panels`` lists ``(table number, measure)``, e.g. the height ratios and the
    wedge angle; returns the panels' axes. Only the first panel has a legend.
    """
    if axes is None:
        axes = list(new_figure(DOUBLE_COLUMN_IN, 3.0).subplots(1, len(panels)))
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


def plot_grades(table: Table, variable: str, *, ax: Axes | None = None) -> Axes:
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
    ax.set_ylabel("Patients (%)", fontsize=FONT_PT)
    ax.set_ylim(0, 100)
    ax.set_title(textwrap.fill(header.label, 40), fontsize=TITLE_PT)
    ax.legend(fontsize=SMALL_PT, frameon=False, bbox_to_anchor=(1.0, 1.0), loc="upper left")
    _style(ax)
    return ax


def plot_leakage(
    table: Table,
    variables: Sequence[str],
    *,
    ax: Axes | None = None,
    title: str | None = None,
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
        ax.bar(positions, counts, width=width, color=group_colour(g), label=name)
    ax.set_xticks(range(len(rows)), labels)
    ax.set_ylabel("Patients with leakage (n)", fontsize=FONT_PT)
    if title:
        ax.set_title(title, fontsize=TITLE_PT)
    ax.legend(fontsize=SMALL_PT, frameon=False)
    _style(ax)
    return ax


@dataclass(frozen=True)
class _Box:
    """A box of the flow diagram: its text and where it sits (points, y down)."""

    text: str
    x: float
    width: float
    size: float
    top: float = 0.0
    height: float = 0.0

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


_PAD = 3.5  # points between a box's edge and its text
_GAP = 12.0  # points between boxes joined by an arrow


def _wrap(text: str, width: float, measure: Callable[[str], float], indent: str = "") -> list[str]:
    """Greedy word wrap of one paragraph to ``width`` points; continuation lines indented."""
    lines: list[str] = []
    current = ""
    # Split at plain spaces only: "(n\u00a0=\u00a03)" stays on one line.
    for word in (w for w in text.split(" ") if w):
        trial = f"{current} {word}" if current else word
        if not current or measure(trial) <= width:
            current = trial
            continue
        lines.append(current)
        current = indent + word
    if current:
        lines.append(current)
    return lines or [""]


def _n(count: int) -> str:
    return f"(n\u00a0=\u00a0{count})"


def _missing_lines(missing: Sequence[tuple[str, int]]) -> list[str]:
    if not missing:
        return ["No values missing"]
    return ["Values missing:", *(f"\u2022 {label} {_n(n)}" for label, n in missing)]


def plot_flow(
    flow: Flow,
    *,
    ax: Axes | None = None,
    group_labels: Mapping[str, str] | None = None,
    missing: Mapping[str, Sequence[tuple[str, int]]] | None = None,
    width: float = SINGLE_COLUMN_IN,
) -> Axes:
    """The STROBE patient flow: screened → excluded by reason → included → groups → analysed.

    Each excluded patient is counted once, under the first criterion failed (the
    counts add up to the excluded total); every reason is printed, worded as the
    reason for exclusion (:meth:`kypho.eligibility.Flow.reason`), and long
    reasons wrap. Under each group, the patients analysed and, per outcome, those
    whose value is missing. Criteria not assessed (their column absent) are named
    in a note under the diagram.

    Parameters
    ----------
    flow
        The screening's :class:`kypho.eligibility.Flow`.
    ax
        Axes to draw on; ``None`` makes a figure ``width`` inches wide, as tall
        as the boxes need. The axes span the figure; its data units are points.
    group_labels
        Display names of the group codes.
    missing
        Per group code, ``(outcome label, patients without a value)`` pairs, in
        the order to print.
    width
        Figure width in inches (one journal column by default).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.texts`` holds one text per box (lines joined by newlines), in the
        order screened, excluded, included, each group, each group's analysed
        box, then the note; ``ax.patches`` the boxes.

    References
    ----------
    von Elm, E. et al. (2007). The STROBE statement: guidelines for reporting
    observational studies. Lancet 370, 1453-1457 (item 13: numbers at each stage,
    reasons for non-participation, a flow diagram).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import Rectangle

    names = dict(group_labels or {})
    missing = missing or {}
    if ax is None:
        figure = new_figure(width, 4.0)
        figure.set_layout_engine("none")
        ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    figure_obj = ax.get_figure()
    if not isinstance(figure_obj, Figure):  # pragma: no cover - an Axes has a figure
        raise TypeError("the axes belong to no figure")
    total_w = ax.get_position().width * figure_obj.get_figwidth() * 72.0
    canvas = FigureCanvasAgg(Figure(dpi=72))
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]

    def measurer(size: float) -> Callable[[str], float]:
        prop = FontProperties(size=size)

        def measure(text: str) -> float:
            w, _, _ = renderer.get_text_width_height_descent(text, prop, ismath=False)
            return float(w)

        return measure

    margin = 2.0
    main_w = 0.36 * (total_w - 2 * margin)
    side_x = margin + main_w + 14.0
    side_w = total_w - margin - side_x
    centre_x = margin + main_w / 2

    def box(lines: list[str], x: float, w: float, size: float) -> _Box:
        measure = measurer(size)
        wrapped: list[str] = []
        for line in lines:
            # A bullet's continuation lines hang under its text.
            indent = "\u2003" if line.startswith("\u2022") else ""
            # 3 points to spare: hinting at other resolutions widens text a little.
            wrapped.extend(_wrap(line, w - 2 * _PAD - 3.0, measure, indent=indent))
        return _Box("\n".join(wrapped), x, w, size)

    screened = box(["Patients screened", f"(n = {flow.screened})"], margin, main_w, FONT_PT)
    reasons = [
        f"\u2022 {flow.reason(key)} {_n(count)}"
        for key, count in flow.first_reason.items()
        if count
    ]
    excluded = box([f"Excluded (n = {flow.excluded})", *reasons], side_x, side_w, SMALL_PT)
    included = box(["Included", f"(n = {flow.included})"], margin, main_w, FONT_PT)
    groups = list(flow.included_by_group.items())
    k = max(len(groups), 1)
    gap = 8.0
    col_w = (total_w - 2 * margin - (k - 1) * gap) / k
    group_boxes = [
        box([names.get(code, code), f"(n = {count})"], margin + i * (col_w + gap), col_w, FONT_PT)
        for i, (code, count) in enumerate(groups)
    ]
    analysed = [
        box(
            [f"Analysed (n = {count})", *_missing_lines(missing.get(code, ()))],
            margin + i * (col_w + gap),
            col_w,
            SMALL_PT,
        )
        for i, (code, count) in enumerate(groups)
    ]
    note = None
    if flow.not_assessed:
        assessed = "; ".join(flow.labels.get(key, key) for key in flow.not_assessed)
        note = box(
            [f"Not assessed (column absent from the data): {assessed}."],
            margin,
            total_w - 2 * margin,
            SMALL_PT,
        )

    # Measure each box's text as drawn, then stack the boxes.
    everything = [screened, excluded, included, *group_boxes, *analysed, *([note] if note else [])]
    heights: dict[int, float] = {}
    probe = Figure(dpi=72)
    FigureCanvasAgg(probe)
    for i, item in enumerate(everything):
        text = probe.text(0, 0, item.text, fontsize=item.size, linespacing=1.25)
        heights[i] = text.get_window_extent(renderer).height + 2 * _PAD
    laid: list[_Box] = []
    for i, item in enumerate(everything):
        laid.append(replace(item, height=heights[i]))
    screened, excluded, included, *rest = laid
    group_boxes = rest[: len(groups)]
    analysed = rest[len(groups) : 2 * len(groups)]
    note = rest[2 * len(groups)] if note else None

    screened = replace(screened, top=margin)
    excluded = replace(excluded, top=screened.bottom + _GAP * 0.6)
    included = replace(included, top=excluded.bottom + _GAP * 0.6)
    group_top = included.bottom + _GAP * 1.6
    group_h = max((b.height for b in group_boxes), default=0.0)
    group_boxes = [replace(b, top=group_top, height=group_h) for b in group_boxes]
    analysed_top = group_top + group_h + _GAP
    analysed_h = max((b.height for b in analysed), default=0.0)
    analysed = [replace(b, top=analysed_top, height=analysed_h) for b in analysed]
    bottom = analysed_top + analysed_h if analysed else included.bottom
    if note is not None:
        note = replace(note, top=bottom + 4.0)
        bottom = note.bottom
    total_h = bottom + margin

    if figure_obj.get_figwidth() * 72.0 == total_w and ax.get_position().height == 1.0:
        figure_obj.set_figheight(total_h / 72.0)
    ax.set_xlim(0, total_w)
    ax.set_ylim(total_h, 0)
    ax.axis("off")

    def draw(item: _Box, *, frame: bool = True, centred: bool = True) -> None:
        if frame:
            ax.add_patch(
                Rectangle(
                    (item.x, item.top),
                    item.width,
                    item.height,
                    facecolor="white",
                    edgecolor="black",
                    linewidth=0.7,
                )
            )
        x = item.centre if centred else item.x + _PAD
        ax.text(
            x,
            item.top + _PAD,
            item.text,
            ha="center" if centred else "left",
            va="top",
            fontsize=item.size,
            linespacing=1.25,
            multialignment="center" if centred else "left",
        )

    arrow = {"arrowstyle": "-|>", "color": "black", "linewidth": 0.7, "mutation_scale": 6}

    def link(x0: float, y0: float, x1: float, y1: float) -> None:
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=arrow)

    draw(screened)
    draw(excluded, centred=False)
    draw(included)
    for item in group_boxes:
        draw(item)
    for item in analysed:
        draw(item, centred=False)
    if note is not None:
        draw(note, frame=False, centred=False)
    link(centre_x, screened.bottom, centre_x, included.top)
    middle = (excluded.top + excluded.bottom) / 2
    link(centre_x, middle, excluded.x, middle)
    split = included.bottom + _GAP * 0.8
    if group_boxes:
        ax.plot([centre_x, centre_x], [included.bottom, split], color="black", linewidth=0.7)
        xs = [b.centre for b in group_boxes]
        ax.plot(
            [min(*xs, centre_x), max(*xs, centre_x)], [split, split], color="black", linewidth=0.7
        )
    for item, result_box in zip(group_boxes, analysed, strict=True):
        link(item.centre, split, item.centre, item.top)
        link(item.centre, item.bottom, item.centre, result_box.top)
    return ax


def save_figure(
    figure: Figure, directory: str | Path, name: str, *, dpi: int = 300, pdf: bool = False
) -> list[Path]:
    """Save ``figure`` as ``name.png`` (``dpi``), ``name.svg`` and, with ``pdf``, ``name.pdf``.

    Returns the paths in that order. The PDF (vector, fonts embedded) carries no
    creation date, so reruns give identical files.
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    svg = target / f"{name}.svg"
    svg.write_text(svg_text(figure), encoding="utf-8")
    png = target / f"{name}.png"
    figure.savefig(png, dpi=dpi, metadata={"Software": "kypho"})
    paths = [png, svg]
    if pdf:
        path = target / f"{name}.pdf"
        figure.savefig(path, format="pdf", metadata={"Creator": "kypho", "CreationDate": None})
        paths.append(path)
    return paths


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
