"""Typed objects for a study's published summary tables.

A :class:`SummaryTables` holds what a paper printed, value by value, as the loader
(:mod:`kypho.audit.loader`) parsed it. Every printed number is a :class:`Reported`:
its text as printed, its value, its number of decimals and, for P values, the
comparison sign ("P < 0.05"). The rounding interval of a printed number is what every
consistency check works with: "32" stands for anything in [31.5, 32.5], "32.00" for
[31.995, 32.005].

Nothing here computes a test; :mod:`kypho.audit.checks` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "CategoricalRow",
    "ContinuousRow",
    "CountCell",
    "CountRow",
    "DeclaredTest",
    "Group",
    "Level",
    "MeanSDCell",
    "NRow",
    "PercentRow",
    "Reported",
    "ReportedStatistic",
    "Row",
    "Scale",
    "SourceRef",
    "SummaryTable",
    "SummaryTables",
    "Within",
]

Comparator = Literal["=", "<", "<=", ">", ">="]
ScaleType = Literal["continuous", "integer", "binary"]
DeclaredTest = Literal[
    "t/t'",
    "student",
    "welch",
    "cochran-cox",
    "anova",
    "chi-square",
    "yates",
    "fisher",
    "mann-whitney",
    "paired-t",
    "unknown",
]


@dataclass(frozen=True)
class Reported:
    """A number as the paper printed it.

    Attributes
    ----------
    text : str
        The printed text, unchanged (``"0.004*"``, ``"< 0.05"``, ``"32"``).
    value : float
        The number.
    decimals : int
        How many digits follow the decimal point in the printed number.
    comparator : str
        ``"="`` for a plain number; ``"<"``, ``"<="``, ``">"``, ``">="`` when the paper
        printed a bound ("P < 0.05").
    marked : bool
        The paper put a star after it (its mark of significance).
    """

    text: str
    value: float
    decimals: int
    comparator: Comparator = "="
    marked: bool = False

    @property
    def half_unit(self) -> float:
        """Half a unit of the last printed digit: the rounding error allowed."""
        return 0.5 * 10.0 ** (-self.decimals)

    @property
    def low(self) -> float:
        """Smallest value that prints as this number (``-inf`` for ``< x``)."""
        if self.comparator in ("<", "<="):
            return float("-inf")
        if self.comparator in (">", ">="):
            return self.value
        return self.value - self.half_unit

    @property
    def high(self) -> float:
        """Largest value that prints as this number (``inf`` for ``> x``)."""
        if self.comparator in (">", ">="):
            return float("inf")
        if self.comparator in ("<", "<="):
            return self.value
        return self.value + self.half_unit


@dataclass(frozen=True)
class ReportedStatistic:
    """A printed test statistic: its name (``t``, ``U``, ``F``, ``chi2``, ``z``) and value."""

    name: str
    value: Reported


@dataclass(frozen=True)
class SourceRef:
    """Where in the paper a row was read: page and line (1-based) and the text."""

    page: int
    line: int
    text: str


@dataclass(frozen=True)
class Scale:
    """The measurement scale of a continuous row, where known.

    ``type`` is ``"continuous"``, ``"integer"`` (whole units: GRIM and GRIMMER apply)
    or ``"binary"`` (0/1 values reported as mean ± SD: DEBIT applies). ``assumed`` says
    the scale is the transcriber's reading, not something the paper states; ``note``
    says why.
    """

    type: ScaleType = "continuous"
    min: float | None = None
    max: float | None = None
    assumed: bool = False
    note: str = ""


@dataclass(frozen=True)
class Group:
    """One of the two compared groups: its key in the file, its label, its size."""

    key: str
    label: str
    n: int


@dataclass(frozen=True)
class Within:
    """A within-group comparison printed under a value ("t = 4.075, P < 0.05")."""

    text: str
    statistic: ReportedStatistic | None
    p: Reported | None
    versus: str
    test: DeclaredTest = "paired-t"


@dataclass(frozen=True)
class MeanSDCell:
    """One group's mean ± SD, with its n and the within-group comparison under it."""

    text: str
    n: int
    mean: Reported
    sd: Reported
    marked: bool = False
    within: Within | None = None


@dataclass(frozen=True)
class CountCell:
    """One group's count (``"4(7.3)"``: 4 cases, 7.3 %), out of ``n``."""

    text: str
    n: int
    count: int
    percent: Reported | None = None


@dataclass(frozen=True)
class PercentRow:
    """A separate row of percentages of one level ("Leakage rate(%) 3.6 16.4")."""

    label: str
    cells: dict[str, Reported]


@dataclass(frozen=True)
class Level:
    """One level of a categorical or ordinal row and its counts by group."""

    label: str
    cells: dict[str, CountCell]
    percent_row: PercentRow | None = None


@dataclass(frozen=True)
class _RowBase:
    label: str
    section: str | None
    test: DeclaredTest
    statistic: ReportedStatistic | None
    statistic_text: str | None
    p: Reported | None


@dataclass(frozen=True)
class NRow:
    """The "Number" row: the group sizes as printed."""

    label: str
    cells: dict[str, int]
    section: str | None = None
    kind: Literal["n"] = "n"
    source: SourceRef | None = None


@dataclass(frozen=True)
class ContinuousRow(_RowBase):
    """A measurement compared between groups: mean ± SD per group."""

    cells: dict[str, MeanSDCell] = field(default_factory=dict)
    scale: Scale = field(default_factory=Scale)
    unit: str = ""
    kind: Literal["continuous"] = "continuous"
    source: SourceRef | None = None


@dataclass(frozen=True)
class CountRow(_RowBase):
    """A yes/no characteristic printed as the number of patients who have it."""

    cells: dict[str, CountCell] = field(default_factory=dict)
    kind: Literal["binary"] = "binary"
    source: SourceRef | None = None


@dataclass(frozen=True)
class CategoricalRow(_RowBase):
    """Counts over several levels; ``ordinal`` rows are graded (Mann–Whitney)."""

    levels: tuple[Level, ...] = ()
    ordinal: bool = False
    source: SourceRef | None = None

    @property
    def kind(self) -> Literal["categorical", "ordinal"]:
        """``"ordinal"`` or ``"categorical"``."""
        return "ordinal" if self.ordinal else "categorical"


Row = NRow | ContinuousRow | CountRow | CategoricalRow


@dataclass(frozen=True)
class SummaryTable:
    """One published table: its number, title, footnotes and rows."""

    number: int
    title: str
    rows: tuple[Row, ...]
    statistic_column: str | None = None
    p_column: str = "P"
    footnotes: tuple[str, ...] = ()
    exhaustive_sections: tuple[str, ...] = ()

    def row(self, label: str, *, section: str | None = None) -> Row:
        """The row with this printed label (and section, where labels repeat).

        Raises
        ------
        KeyError
            When no row, or more than one, has the label.
        """
        found = [
            r for r in self.rows if r.label == label and (section is None or r.section == section)
        ]
        if len(found) != 1:
            labels = ", ".join(repr(r.label) for r in self.rows)
            raise KeyError(
                f"table {self.number} has {len(found)} rows labelled {label!r} (rows: {labels})"
            )
        return found[0]


@dataclass(frozen=True)
class SummaryTables:
    """A study's published summary tables, as printed, for two groups."""

    title: str
    source: str
    groups: tuple[Group, Group]
    tables: tuple[SummaryTable, ...]
    alpha: float = 0.05
    alternative: str = "two-sided"
    methods: str = ""

    def group(self, key: str) -> Group:
        """The group with this key."""
        for g in self.groups:
            if g.key == key:
                return g
        raise KeyError(f"no group {key!r} (groups: {', '.join(g.key for g in self.groups)})")

    def table(self, number: int) -> SummaryTable:
        """The table with this number (as numbered in the paper)."""
        for t in self.tables:
            if t.number == number:
                return t
        numbers = ", ".join(str(t.number) for t in self.tables)
        raise KeyError(f"no table {number} (tables: {numbers})")
