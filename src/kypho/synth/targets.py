"""What the synthetic cohort must reproduce: published rows bound to schema columns.

A summary-table file (:mod:`kypho.audit.loader`) says what a paper printed; the
schema says what the data columns are. A :class:`Binding` joins the two: which
table row is which schema variable (or repeated measure), and what each printed
level means. :func:`collect_targets` applies it and returns the targets the
generator works to, with every row it could not bind listed, never dropped.

The binding is data: the ``binding`` section of a synthesis specification
(:func:`kypho.synth.spec.load_synth_spec`); kypho's own, in
``kypho/data/synth.yaml``, binds the paper's Tables 1–7
(``kypho/data/paper_tables.yaml``) to the study schema (``kypho/data/study.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kypho.audit.model import (
    CategoricalRow,
    ContinuousRow,
    CountRow,
    MeanSDCell,
    NRow,
    SummaryTables,
)
from kypho.errors import SchemaError
from kypho.schema import Schema

__all__ = [
    "Binding",
    "ContinuousTarget",
    "CountTarget",
    "Targets",
    "collect_targets",
]


def _fold(text: str) -> str:
    """Compare labels ignoring case and spaces ("2h" is "2 h")."""
    return "".join(text.split()).casefold()


@dataclass(frozen=True)
class Binding:
    """How a study's published rows map to schema columns.

    Attributes
    ----------
    continuous
        ``{(table, row label): column}`` for mean ± SD rows measured once.
    repeated
        ``{table: measure}``: every row of the table is one timepoint of a repeated
        measure, matched by the schema's timepoint label (ignoring case and spaces).
    counts
        ``{(table, row label): (column, code)}`` for rows printing how many patients
        have ``column == code`` (several rows may share a column: thoracic and lumbar).
    categorical
        ``{(table, row label): (column, {printed level: code})}``; an empty mapping
        matches the printed levels with the schema's codes or labels.
    leak_types
        ``{group: {leak type: count}}``, the types of the leaks counted in the
        leakage row; the paper gives them in its text, not in a table.
    """

    continuous: Mapping[tuple[int, str], str] = field(default_factory=dict)
    repeated: Mapping[int, str] = field(default_factory=dict)
    counts: Mapping[tuple[int, str], tuple[str, str]] = field(default_factory=dict)
    categorical: Mapping[tuple[int, str], tuple[str, Mapping[str, str]]] = field(
        default_factory=dict
    )
    leak_types: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ContinuousTarget:
    """A published mean ± SD row bound to a column, with its cells by group."""

    table: int
    row: str
    column: str
    cells: Mapping[str, MeanSDCell]
    row_data: ContinuousRow


@dataclass(frozen=True)
class CountTarget:
    """Published counts of a column's codes by group: ``{code: {group: count}}``.

    ``percents`` holds the printed percentages where the paper gave them,
    ``{code: {group: text}}``; ``rows`` names the published rows it came from.
    """

    table: int
    column: str
    counts: Mapping[str, Mapping[str, int]]
    rows: tuple[str, ...]
    percents: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Targets:
    """Everything the generator must reproduce, and what it could not bind."""

    groups: Mapping[str, int]
    continuous: tuple[ContinuousTarget, ...]
    counts: Mapping[str, CountTarget]
    leak_types: Mapping[str, Mapping[str, int]]
    unbound: tuple[tuple[int, str], ...]
    tables: SummaryTables

    def continuous_for(self, column: str) -> ContinuousTarget | None:
        """The target of a column, if the tables give one."""
        for t in self.continuous:
            if t.column == column:
                return t
        return None


def _level_code(schema: Schema, column: str, printed: str, mapping: Mapping[str, str]) -> str:
    if printed in mapping:
        return mapping[printed]
    var = schema[column]
    for code, label in var.levels.items():
        if _fold(printed) in (_fold(code), _fold(label)):
            return code
    raise SchemaError(
        f"published level {printed!r} of {column!r} matches none of its codes or labels "
        f"({', '.join(var.codes)}); give it in the binding"
    )


def collect_targets(tables: SummaryTables, schema: Schema, binding: Binding) -> Targets:
    """Bind every published row to the schema.

    Raises
    ------
    SchemaError
        When the binding names a column the schema lacks, or a printed level matches
        none of the column's codes.
    """
    continuous: list[ContinuousTarget] = []
    counts: dict[str, dict[str, dict[str, int]]] = {}
    percents: dict[str, dict[str, dict[str, str]]] = {}
    sources: dict[str, tuple[int, list[str]]] = {}
    unbound: list[tuple[int, str]] = []
    tp_by_label = {_fold(tp.label): name for name, tp in schema.timepoints.items()}

    def add_count(
        table: int, row: str, column: str, code: str, group: str, count: int, pct: str | None
    ) -> None:
        counts.setdefault(column, {}).setdefault(code, {})[group] = count
        if pct is not None:
            percents.setdefault(column, {}).setdefault(code, {})[group] = pct
        entry = sources.setdefault(column, (table, []))
        if row not in entry[1]:
            entry[1].append(row)

    for table in tables.tables:
        for row in table.rows:
            key = (table.number, row.label)
            if isinstance(row, NRow):
                continue
            if isinstance(row, ContinuousRow):
                column: str | None = binding.continuous.get(key)
                if column is None and table.number in binding.repeated:
                    tp = tp_by_label.get(_fold(row.label))
                    measure = binding.repeated[table.number]
                    column = f"{measure}_{tp}" if tp is not None else None
                if column is None:
                    unbound.append(key)
                    continue
                schema[column]  # raises SchemaError naming the column when absent
                continuous.append(ContinuousTarget(table.number, row.label, column, row.cells, row))
            elif isinstance(row, CountRow):
                if key not in binding.counts:
                    unbound.append(key)
                    continue
                column, code = binding.counts[key]
                schema[column]
                for group, cell in row.cells.items():
                    pct = cell.percent.text if cell.percent is not None else None
                    add_count(table.number, row.label, column, code, group, cell.count, pct)
            elif isinstance(row, CategoricalRow):
                if key not in binding.categorical:
                    unbound.append(key)
                    continue
                column, mapping = binding.categorical[key]
                for level in row.levels:
                    code = (
                        mapping[level.label]
                        if level.label in mapping
                        else _level_code(schema, column, level.label, mapping)
                    )
                    for group, cell in level.cells.items():
                        pct = cell.percent.text if cell.percent is not None else None
                        if pct is None and level.percent_row is not None:
                            rep = level.percent_row.cells.get(group)
                            pct = rep.text if rep is not None else None
                        add_count(table.number, row.label, column, code, group, cell.count, pct)
    return Targets(
        groups={g.key: g.n for g in tables.groups},
        continuous=tuple(continuous),
        counts={
            col: CountTarget(
                table=sources[col][0],
                column=col,
                counts=codes,
                rows=tuple(sources[col][1]),
                percents=percents.get(col, {}),
            )
            for col, codes in counts.items()
        },
        leak_types=binding.leak_types,
        unbound=tuple(unbound),
        tables=tables,
    )
