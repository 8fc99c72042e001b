"""Numbers to journal text: the one formatting policy and the one table layout.

Every number kypho prints — in tables, running text, figures and the "Beyond the
paper" section — goes through the functions here:

* :func:`format_number`: fixed decimals (a variable's declared ``precision``),
  a true minus sign (U+2212), never exponent notation, ``"—"`` for a missing value;
* :func:`format_estimate`: a number without a declared precision (a risk, an odds
  ratio) to three significant digits, still fixed-point;
* :func:`format_p` / :func:`p_phrase`: P values in one style, chosen by the plan's
  ``p_style`` and set for a report with :func:`number_style` — ``"leading-zero"``
  ("P < 0.001", "P = 0.048") or ``"apa"`` ("P < .001", "P = .048");
* :func:`format_interval` and :func:`format_ci`: "1.62 (−0.39 to 3.62)".

:func:`layout` turns a :class:`~kypho.analysis.Table` into a :class:`Grid` of
strings (header, rows with a kind and an indent, footnotes). Markdown, HTML, CSV,
LaTeX and Word only draw a grid; none of them decides what a cell says.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from kypho.analysis.model import Comparison, Row, Summary, Table

__all__ = [
    "P_STYLES",
    "Grid",
    "GridRow",
    "format_ci",
    "format_estimate",
    "format_interval",
    "format_number",
    "format_p",
    "format_statistic",
    "format_summary",
    "group_noun",
    "in_sentence",
    "layout",
    "number_style",
    "p_phrase",
]

GridKind = Literal["data", "section", "header", "level", "within", "missing"]
MINUS = "\u2212"
P_STYLES: tuple[str, ...] = ("leading-zero", "apa")
_P_STYLE: contextvars.ContextVar[str] = contextvars.ContextVar(
    "kypho_p_style", default="leading-zero"
)


@contextlib.contextmanager
def number_style(p_style: str = "leading-zero") -> Iterator[None]:
    """Print P values in ``p_style`` inside the ``with`` block (see :data:`P_STYLES`).

    Examples
    --------
    >>> with number_style("apa"):
    ...     p_phrase(0.0004), format_p(0.048)
    ('P < .001', '.048')
    >>> p_phrase(0.0004)
    'P < 0.001'
    """
    if p_style not in P_STYLES:
        raise ValueError(f"p_style must be one of {', '.join(P_STYLES)} (got {p_style!r})")
    token = _P_STYLE.set(p_style)
    try:
        yield
    finally:
        _P_STYLE.reset(token)


@dataclass(frozen=True)
class GridRow:
    """One printed row: its cells (first = label), its kind and the label's indent."""

    cells: tuple[str, ...]
    kind: GridKind = "data"
    indent: int = 0


@dataclass(frozen=True)
class Grid:
    """A table as text: caption, column headings, rows and footnotes."""

    number: int
    title: str
    header: tuple[str, ...]
    rows: tuple[GridRow, ...]
    footnotes: tuple[str, ...]

    @property
    def caption(self) -> str:
        """``"Table 3. VAS scores"``."""
        return f"Table {self.number}. {self.title}"


def format_number(value: float | None, decimals: int = 2) -> str:
    """Fixed decimals with a typographic minus; ``"—"`` for a missing value.

    Examples
    --------
    >>> format_number(-1.234, 2)
    '−1.23'
    >>> format_number(None)
    '—'
    """
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{value:.{max(decimals, 0)}f}"
    # "-0.00" reads as a signed zero: print it as 0.
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    return text.replace("-", MINUS)


def format_estimate(value: float | None, digits: int = 3) -> str:
    """A number without a declared precision, to ``digits`` significant digits.

    Fixed-point whatever the size (no "1.2e-05"), typographic minus, at most six
    decimals (smaller values print as 0).

    Examples
    --------
    >>> format_estimate(-0.08114), format_estimate(0.27803), format_estimate(1234.6)
    ('−0.0811', '0.278', '1235')
    >>> format_estimate(0.0000123), format_estimate(float("nan"))
    ('0.0000123', '—')
    """
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = min(max(digits - 1 - magnitude, 0), 7)
    return format_number(value, decimals)


def format_p(p: float | None, *, decimals: int = 3) -> str:
    """A P value as journals print it: ``"<0.001"``, else three decimals.

    P is clipped into [0, 1] first, so a rounding excursion of the engine can
    never print as an impossible value. In the ``"apa"`` style (see
    :func:`number_style`) the leading zero is dropped: ``"<.001"``, ``".048"``.

    Examples
    --------
    >>> format_p(0.00042), format_p(0.0483), format_p(1.0000000002), format_p(None)
    ('<0.001', '0.048', '1.000', '—')
    """
    if p is None or math.isnan(p):
        return "—"
    p = min(max(p, 0.0), 1.0)
    threshold = 10.0**-decimals
    text = f"<{threshold:.{decimals}f}" if p < threshold else f"{p:.{decimals}f}"
    if _P_STYLE.get() == "apa":
        text = text.replace("0.", ".", 1) if not text.startswith("1") else text
    return text


def p_phrase(p: float | None) -> str:
    """``"P = 0.048"`` or ``"P < 0.001"``, for running text.

    Examples
    --------
    >>> p_phrase(0.0001), p_phrase(0.25), p_phrase(None)
    ('P < 0.001', 'P = 0.250', 'P not computed')
    """
    text = format_p(p)
    if text == "—":
        return "P not computed"
    return f"P < {text[1:]}" if text.startswith("<") else f"P = {text}"


def _dof(dof: float | tuple[float, float] | None) -> str:
    if dof is None:
        return ""
    values = dof if isinstance(dof, tuple) else (dof,)
    parts = [f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}" for v in values]
    return " (" + ", ".join(parts) + ")"


def format_statistic(comparison: Comparison | None) -> str:
    """``"t = 1.60 (104)"``, ``"t′ = 0.74 (96.0)"``, ``"χ² = 3.25 (1)"``,
    ``"U = 651.5, Z = −5.0"``; ``"Fisher exact"``; ``"—"`` when not computed."""
    if comparison is None:
        return ""
    if comparison.statistic is None:
        if comparison.test in ("fisher", "ffh"):
            return "Fisher exact" if comparison.test == "fisher" else "Exact (Monte Carlo)"
        return "—"
    if comparison.test == "mann-whitney":
        z = "" if comparison.z is None else f", Z = {format_number(comparison.z, 2)}"
        return f"U = {format_number(comparison.statistic, 1)}{z}"
    return f"{comparison.symbol} = {format_number(comparison.statistic, 2)}{_dof(comparison.dof)}"


def format_interval(low: float | None, high: float | None, decimals: int | None = None) -> str:
    """``"−0.39 to 3.62"``: an interval, at ``decimals`` or (``None``) 3 significant digits.

    Examples
    --------
    >>> format_interval(-0.0811, 0.278), format_interval(-0.391, 3.6249, 2)
    ('−0.0811 to 0.278', '−0.39 to 3.62')
    """
    if decimals is None:
        return f"{format_estimate(low)} to {format_estimate(high)}"
    return f"{format_number(low, decimals)} to {format_number(high, decimals)}"


def format_ci(comparison: Comparison | None, decimals: int) -> str:
    """``"1.62 (−0.39 to 3.62)"``: a difference with its confidence interval."""
    if comparison is None or comparison.difference is None:
        return ""
    return (
        f"{format_number(comparison.difference, decimals)} "
        f"({format_interval(comparison.ci_low, comparison.ci_high, decimals)})"
    )


def format_summary(cell: Summary, *, alpha: float = 0.05) -> str:
    """A group's value: ``"69.47 ± 6.90"``, ``"12 (21.8)"``, ``"12:43"``, ``"55"``.

    A later timepoint significantly different from baseline (paired P < α) gets
    the paper's ``*``.
    """
    if cell.kind == "n":
        return str(cell.n)
    if cell.kind == "ratio":
        return ":".join(str(c) for c in cell.counts)
    if cell.kind == "count":
        percent = cell.percent
        return f"{cell.count} ({format_number(percent, 1)})" if percent is not None else "0"
    text = f"{format_number(cell.mean, cell.precision)} ± {format_number(cell.sd, cell.precision)}"
    within = cell.within
    if within is not None and within.p_value is not None and within.p_value < alpha:
        text += "*"
    return text


def _within(cell: Summary) -> str:
    within = cell.within
    if within is None:
        return ""
    if within.p_value is None:
        return "paired t: not computed"
    p_text = p_phrase(within.p_value)
    return f"t = {format_number(within.statistic, 2)}{_dof(within.dof)}, {p_text}"


def layout(table: Table, *, alpha: float = 0.05) -> Grid:
    """Lay a table out as text.

    Columns: the row label, one column per group, then the difference with its
    CI (tables with continuous comparisons), the test statistic with its df, P,
    and the SMD (tables that show it). Under a later timepoint's values comes a
    row with each group's paired t against baseline; under a row with missing
    values, a row ``n (missing)`` per group.
    """
    header = ["", *table.columns]
    if table.show_difference:
        header.append("Difference (95% CI)")
    header += ["Statistic", "P"]
    if table.show_smd:
        header.append("SMD")
    width = len(header)
    groups = len(table.columns)
    rows: list[GridRow] = []
    for row in table.rows:
        if row.kind == "section":
            rows.append(GridRow((row.label, *[""] * (width - 1)), "section", row.indent))
            continue
        rows.append(GridRow(_main_cells(table, row, alpha), _kind(row), row.indent))
        if any(c.within is not None for c in row.cells):
            cells = ["", *(_within(c) for c in row.cells)]
            rows.append(GridRow(tuple(cells + [""] * (width - 1 - groups)), "within", row.indent))
        if row.kind != "level" and row.any_missing:
            cells = ["n (missing)", *(f"{c.n} ({c.n_missing})" for c in row.cells)]
            rows.append(
                GridRow(tuple(cells + [""] * (width - 1 - groups)), "missing", row.indent + 1)
            )
    return Grid(
        number=table.number,
        title=table.title,
        header=tuple(header),
        rows=tuple(rows),
        footnotes=table.footnotes,
    )


def _kind(row: Row) -> GridKind:
    if row.kind == "header":
        return "header"
    if row.kind == "level":
        return "level"
    return "data"


def _main_cells(table: Table, row: Row, alpha: float) -> tuple[str, ...]:
    if row.kind == "header":
        values = ["" for _ in row.cells]
    else:
        values = [format_summary(c, alpha=alpha) for c in row.cells]
    cells = [row.label, *values]
    comparison = row.comparison
    if table.show_difference:
        decimals = row.cells[0].precision if row.cells else 2
        cells.append(format_ci(comparison, decimals))
    cells.append(format_statistic(comparison))
    cells.append(format_p(comparison.p_value) if comparison is not None else "")
    if table.show_smd:
        cells.append(format_number(row.smd, 2) if row.smd is not None else "")
    return tuple(cells)


def in_sentence(label: str) -> str:
    """A label inside a sentence: first letter in lower case, unless it opens an acronym.

    Examples
    --------
    >>> in_sentence("Bone cement leakage"), in_sentence("VAS score"), in_sentence("ODI")
    ('bone cement leakage', 'VAS score', 'ODI')
    """
    return label[:1].lower() + label[1:] if label[:2] != label[:2].upper() else label


def group_noun(label: str) -> str:
    """A group's label as a noun inside a sentence.

    Examples
    --------
    >>> group_noun("Experimental group"), group_noun("Conservative care")
    ('experimental group', 'conservative care group')
    """
    noun = in_sentence(label)
    return noun if noun.casefold().endswith(" group") else noun + " group"
