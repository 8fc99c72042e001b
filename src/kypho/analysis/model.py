"""The table model: what the analysis computed, before any formatting.

One model feeds every renderer (Markdown, HTML, CSV, LaTeX, Word), the figures and
the generated text. Cells hold numbers and the statistics engine's result objects;
how they are printed ("69.47 ± 6.90", "<0.001") is the report layer's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

__all__ = [
    "AnalysisResult",
    "Comparison",
    "Row",
    "Summary",
    "Table",
]

SummaryKind = Literal["n", "mean_sd", "count", "ratio"]
RowKind = Literal["n", "section", "continuous", "header", "level", "count"]


@dataclass(frozen=True)
class Comparison:
    """One statistical comparison, with the engine's result object.

    Attributes
    ----------
    test
        Key of the test that ran: ``"student"``, ``"welch"``, ``"cochran-cox"``,
        ``"anova"``, ``"pearson"``, ``"yates"``, ``"fisher"``, ``"mann-whitney"``,
        ``"paired-t"``; ``"not-computed"`` when the test could not run.
    symbol
        The statistic's symbol as printed: ``t``, ``t′``, ``F``, ``χ²``, ``U``.
    statistic, dof, p_value
        The statistic, its degrees of freedom (a tuple for F; ``None`` where there
        is none) and the P value (``None`` if not computed).
    method, reason
        The engine's name of the test and its sentence on why it was chosen (or why
        nothing could be computed).
    difference, ci_low, ci_high
        Between-group mean difference (first group minus second) with its CI, or
        the within-group mean change (later minus baseline) for a paired test.
    z
        The normal approximation Z of a Mann–Whitney test.
    result
        The statistics engine's result object (``None`` if not computed).
    """

    test: str
    symbol: str
    statistic: float | None
    dof: float | tuple[float, float] | None
    p_value: float | None
    method: str
    reason: str
    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    z: float | None = None
    result: Any = None

    @property
    def computed(self) -> bool:
        """Whether a P value exists."""
        return self.p_value is not None


@dataclass(frozen=True)
class Summary:
    """The value of one group in one row.

    Attributes
    ----------
    kind
        ``"n"`` (patients), ``"mean_sd"``, ``"count"`` (n with % of ``total``) or
        ``"ratio"`` (counts of a two-level category, ``counts``).
    n, n_missing
        Patients with a value, and patients of the group without one.
    mean, sd
        For ``mean_sd``.
    count, total
        For ``count``: patients in the category and the denominator of the %.
    counts
        For ``ratio``: the count of each level.
    precision
        Decimals of the mean and SD (from the schema).
    within
        The paired comparison against baseline for a later timepoint.
    """

    kind: SummaryKind
    n: int
    n_missing: int = 0
    mean: float | None = None
    sd: float | None = None
    count: int | None = None
    total: int | None = None
    counts: tuple[int, ...] = ()
    precision: int = 2
    within: Comparison | None = None

    @property
    def percent(self) -> float | None:
        """100 · count / total, or ``None``."""
        if self.count is None or not self.total:
            return None
        return 100.0 * self.count / self.total


@dataclass(frozen=True)
class Row:
    """One row of a table.

    Attributes
    ----------
    label
        Row label as printed.
    kind
        ``"n"``, ``"section"`` (heading only), ``"continuous"`` (mean ± SD),
        ``"header"`` (a categorical variable whose levels follow, carrying its test),
        ``"level"`` (one level of the preceding header), ``"count"`` (a yes/no
        count with its own test).
    cells
        One :class:`Summary` per group (empty for a section or header).
    comparison
        The between-group comparison shown on this row.
    smd
        Standardised mean difference (Table 1 only).
    variable, timepoint
        The column behind the row, for figures, text and the CSV.
    indent
        Nesting level of the label.
    """

    label: str
    kind: RowKind
    cells: tuple[Summary, ...] = ()
    comparison: Comparison | None = None
    smd: float | None = None
    variable: str | None = None
    timepoint: str | None = None
    indent: int = 0

    @property
    def any_missing(self) -> bool:
        """Whether some patient of some group lacks this row's value."""
        return any(c.n_missing > 0 for c in self.cells)


@dataclass(frozen=True, repr=False)
class Table:
    """One table of the report.

    Attributes
    ----------
    number, title
        As in the paper ("Table 3", "VAS scores").
    columns
        Group labels, in the order of each row's ``cells``.
    rows
        The rows in order.
    footnotes
        Sentences under the table (tests used and why, marks).
    show_smd, show_difference
        Whether the SMD column and the difference (95% CI) column apply.
    """

    number: int
    title: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    footnotes: tuple[str, ...] = ()
    show_smd: bool = False
    show_difference: bool = False

    def __repr__(self) -> str:
        return (
            f"Table({self.number}, {self.title!r}, {len(self.rows)} rows, "
            f"columns={list(self.columns)!r})"
        )

    def _repr_html_(self) -> str:
        from kypho.report.format import layout
        from kypho.report.render import TABLE_CSS, to_html

        return f"<style>{TABLE_CSS}</style>" + to_html(layout(self))

    def row(self, label: str) -> Row:
        """The first row with this label."""
        for row in self.rows:
            if row.label == label:
                return row
        raise KeyError(f"table {self.number} has no row {label!r}")

    def to_frame(self) -> pd.DataFrame:
        """One line per (row, group) with the numbers, for pandas users and the CSV."""
        return rows_frame((self,))


@dataclass(frozen=True, repr=False)
class AnalysisResult:
    """Every table, with what the text, figures and report need to describe them.

    Attributes
    ----------
    tables
        Tables in order of their numbers.
    groups, group_labels
        Group codes and labels, in column order.
    n_by_group
        Patients analysed per group.
    alpha, confidence, t_prime
        The plan's options.
    tests_used
        Test keys that ran anywhere, for the methods paragraph.
    plan_source
        Where the plan came from.
    figures, p_style
        The plan's declared figures and P-value style, for the report.
    timepoint_phrases
        ``{timepoint: how running text says it}`` ("before the operation"), from
        the schema, for the generated text.
    variable_phrases
        ``{variable or repeated measure: how running text names it}``, only for
        those whose schema entry declares a ``phrase``.
    """

    tables: tuple[Table, ...]
    groups: tuple[str, ...]
    group_labels: tuple[str, ...]
    n_by_group: tuple[int, ...]
    alpha: float
    confidence: float
    t_prime: str
    tests_used: frozenset[str] = field(default_factory=frozenset)
    plan_source: str = ""
    figures: tuple[Mapping[str, Any], ...] = ()
    p_style: str = "leading-zero"
    timepoint_phrases: Mapping[str, str] = field(default_factory=dict)
    variable_phrases: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        groups = ", ".join(
            f"{label} n = {n}" for label, n in zip(self.group_labels, self.n_by_group, strict=True)
        )
        numbers = ", ".join(str(t.number) for t in self.tables)
        return f"AnalysisResult(tables {numbers}; {groups})"

    def _repr_html_(self) -> str:
        from kypho.report.format import layout
        from kypho.report.render import TABLE_CSS, to_html

        return f"<style>{TABLE_CSS}</style>" + "\n".join(
            to_html(layout(t, alpha=self.alpha)) for t in self.tables
        )

    def table(self, number: int) -> Table:
        """The table with this number."""
        for table in self.tables:
            if table.number == number:
                return table
        raise KeyError(f"no table {number}")

    def to_frame(self) -> pd.DataFrame:
        """Every number of every table, one line per (table, row, group)."""
        return rows_frame(self.tables)


def rows_frame(tables: tuple[Table, ...]) -> pd.DataFrame:
    """Long, machine-readable form of tables: numbers, not formatted text."""
    records: list[dict[str, Any]] = []
    for table in tables:
        for index, row in enumerate(table.rows):
            if row.kind == "section":
                continue
            comp = row.comparison
            base: dict[str, Any] = {
                "table": table.number,
                "row": index + 1,
                "label": row.label,
                "variable": row.variable,
                "timepoint": row.timepoint,
                "test": comp.test if comp else None,
                "statistic": comp.statistic if comp else None,
                "dof": _dof_text(comp.dof) if comp else None,
                "p_value": comp.p_value if comp else None,
                "difference": comp.difference if comp else None,
                "ci_low": comp.ci_low if comp else None,
                "ci_high": comp.ci_high if comp else None,
                "smd": row.smd,
            }
            cells = row.cells or ()
            if not cells:
                records.append({**base, "group": None})
                continue
            for group, cell in zip(table.columns, cells, strict=True):
                within = cell.within
                records.append(
                    {
                        **base,
                        "group": group,
                        "n": cell.n,
                        "n_missing": cell.n_missing,
                        "mean": cell.mean,
                        "sd": cell.sd,
                        "count": cell.count,
                        "percent": cell.percent,
                        "within_t": within.statistic if within else None,
                        "within_dof": _dof_text(within.dof) if within else None,
                        "within_p": within.p_value if within else None,
                        "within_change": within.difference if within else None,
                    }
                )
    return pd.DataFrame.from_records(records)


def _dof_text(dof: float | tuple[float, float] | None) -> str | None:
    if dof is None:
        return None
    if isinstance(dof, tuple):
        return ", ".join(f"{d:g}" for d in dof)
    return f"{dof:g}"
