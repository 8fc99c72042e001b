"""Run the analysis plan on a study's data and build the table model.

The engine makes one vectorised pass per column (:mod:`kypho.analysis.aggregate`)
and runs each between-group test on the resulting summaries, so its cost is linear
in the number of patients with a small constant. Tests come from
:mod:`kypho.stats`; the engine only chooses which, as the plan declares:

* continuous, between groups: the F test of variances, then Student's t, or t′
  when the F test rejects equal variances at α (``independent_t_from_summary``
  with ``method="auto"``); ``test: anova`` gives the one-way ANOVA F, which for two
  groups is the square of Student's t with the same P;
* continuous, within a group: the paired t test of each later timepoint against
  the baseline;
* counts: the χ² test (``chi_square`` with ``method="auto"``, which says when it
  used the continuity correction or Fisher's exact test);
* grades: the Mann–Whitney U test from the table of grade counts.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from kypho.analysis.aggregate import (
    as_float,
    category_codes,
    group_counts,
    group_moments,
    group_rows,
)
from kypho.analysis.model import AnalysisResult, Comparison, Row, Summary, Table
from kypho.analysis.plan import (
    Plan,
    RowSpec,
    TableSpec,
    default_test,
    load_plan,
    measure_timepoints,
)
from kypho.errors import AnalysisError, StatisticsError
from kypho.schema import Schema, Variable, load_schema

__all__ = ["TEST_NOTES", "analyze"]

# Footnote sentence per test key: what the test is and why it was chosen.
TEST_NOTES: dict[str, str] = {
    "student": "t: Student's independent-samples t test (variances equal by the F test, P ≥ α).",
    "welch": "t′: Welch's t′ test with Satterthwaite's df (variances unequal by the F test, P < α).",
    "cochran-cox": "t′: Cochran–Cox t′ test (variances unequal by the F test, P < α).",
    "anova": (
        "F: one-way analysis of variance (the paper's 'variance analysis'); with two groups "
        "F = t² of Student's t test, with the same P."
    ),
    "pearson": "χ²: Pearson's chi-square test.",
    "yates": "χ²: chi-square test with Yates's continuity correction (an expected count below 5).",
    "fisher": "Fisher's exact test (small expected counts); no χ² statistic.",
    "ffh": "Fisher–Freeman–Halton exact test (Monte Carlo), as expected counts were small.",
    "mann-whitney": "U: Mann–Whitney U rank-sum test with the normal approximation Z (ties corrected).",
    "paired-t": "Paired t test against the baseline value within each group (t and P under the value).",
}


@dataclass
class _Context:
    data: pd.DataFrame
    schema: Schema
    plan: Plan
    groups: NDArray[np.int64]
    k: int
    rows_of: list[NDArray[np.intp]]
    tests_used: set[str] = field(default_factory=set)
    table_tests: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def analyze(
    data: pd.DataFrame,
    schema: Schema | None = None,
    plan: Plan | None = None,
) -> AnalysisResult:
    """Compute every table of the plan from typed, derived data.

    Parameters
    ----------
    data
        One row per analysed patient (typically ``derive(validate(raw).data)``
        restricted to the included patients), with the group column and every
        column the plan names.
    schema
        The study schema; ``None`` loads the built-in one.
    plan
        The analysis plan; ``None`` loads the built-in plan of the paper.

    Returns
    -------
    AnalysisResult
        The tables, in plan order, with numbers and result objects.

    Raises
    ------
    AnalysisError
        The plan names a variable, measure or timepoint the schema lacks, or a
        column the data lack, or the group column has no patients.

    Notes
    -----
    Patients whose group is missing or not a declared group are left out. A
    test that cannot run (e.g. a group with fewer than two values) gives a
    comparison with ``test="not-computed"`` and the engine's reason, never a crash.

    References
    ----------
    The paper's "Statistical methods" (shared/paper/kyphoplasty-staged-perfusion.txt).

    Examples
    --------
    >>> import pandas as pd
    >>> from kypho.analysis.plan import Plan, load_plan
    >>> plan = Plan(tables=(load_plan().table(2),))
    >>> df = pd.DataFrame({"group": ["experimental"] * 3 + ["control"] * 3,
    ...     "operation_time": [30.0, 32, 34, 28, 29, 33],
    ...     "blood_loss": [1.0, 2, 3, 2, 2, 2.5], "cement_volume": [5.0, 6, 5, 5, 4, 5]})
    >>> result = analyze(df, plan=plan)
    >>> cell = result.table(2).rows[0].cells[0]
    >>> (cell.n, cell.mean, cell.sd)
    (3, 32.0, 2.0)
    """
    schema = schema if schema is not None else load_schema()
    plan = plan if plan is not None else load_plan()
    plan.check(schema)
    levels = schema.group_levels
    if schema.group_column not in data.columns:
        raise AnalysisError(
            f"the data have no group column {schema.group_column!r}; every analysis compares "
            f"the groups {', '.join(map(repr, levels))}"
        )
    groups = category_codes(data[schema.group_column], levels)
    k = len(levels)
    n_by_group = np.bincount(groups[groups >= 0], minlength=k)[:k]
    ctx = _Context(
        data=data,
        schema=schema,
        plan=plan,
        groups=groups,
        k=k,
        # Row numbers of each group: taking by index is cheaper than boolean
        # masking when the same split is applied to many columns.
        rows_of=group_rows(groups, k),
    )
    group_var = schema[schema.group_column]
    columns = tuple(group_var.levels[c] for c in levels)
    empty = [columns[i] for i in range(k) if n_by_group[i] == 0]
    if empty:
        # A report with n = 0 in a column compares nothing; say so instead.
        counts = ", ".join(f"{columns[i]} {int(n_by_group[i])}" for i in range(k))
        raise AnalysisError(
            f"{' and '.join(empty)} {'has' if len(empty) == 1 else 'have'} no patient to "
            f"analyse (patients per group: {counts}), so the groups cannot be compared; "
            f"check the {group_var.label.lower()} column ({schema.group_column!r}) and the "
            "eligibility of that group's records"
        )
    tables = tuple(_table(ctx, spec, columns, n_by_group) for spec in plan.tables)
    return AnalysisResult(
        tables=tables,
        groups=levels,
        group_labels=columns,
        n_by_group=tuple(int(n) for n in n_by_group),
        alpha=plan.alpha,
        confidence=plan.confidence,
        t_prime=plan.t_prime,
        tests_used=frozenset(ctx.tests_used),
        plan_source=plan.source,
        figures=plan.figures,
        p_style=plan.p_style,
        timepoint_phrases={name: tp.in_text for name, tp in schema.timepoints.items()},
        variable_phrases={(var.measure or var.name): var.phrase for var in schema if var.phrase},
    )


def _table(
    ctx: _Context, spec: TableSpec, columns: tuple[str, ...], n_by_group: NDArray[np.int64]
) -> Table:
    ctx.table_tests = set()
    ctx.notes = []
    rows: list[Row] = []
    for row_spec in spec.rows:
        rows.extend(_rows(ctx, spec, row_spec, n_by_group))
    footnotes = [TEST_NOTES[t] for t in TEST_NOTES if t in ctx.table_tests and t != "paired-t"]
    if any(c.within is not None for r in rows for c in r.cells):
        footnotes.append(
            f"* P < {ctx.plan.alpha:g} against the baseline value in the same group "
            "(paired t test of the change, later value minus baseline, so a fall gives a "
            "negative t; t with its df and P under the value)."
        )
    if any(r.comparison is not None and r.comparison.difference is not None for r in rows):
        footnotes.append(
            f"Difference: {columns[0]} minus {columns[-1]}, with its "
            f"{100 * ctx.plan.confidence:g}% confidence interval."
        )
    if spec.smd:
        footnotes.append(
            "SMD: standardised mean difference (mean difference over the pooled SD; for a "
            "two-level row the difference in proportions over the pooled SD; for more levels "
            "the Mahalanobis-distance SMD of Yang & Dalton 2012)."
        )
    if any(r.any_missing for r in rows):
        footnotes.append("n (missing): patients analysed and patients without a value, per group.")
    footnotes.extend(_choice_notes(rows, columns))
    footnotes.extend(dict.fromkeys(ctx.notes))
    footnotes.extend(spec.footnotes)
    return Table(
        number=spec.number,
        title=spec.title,
        columns=columns,
        rows=tuple(rows),
        footnotes=tuple(footnotes),
        show_smd=spec.smd,
        show_difference=any(
            r.comparison is not None and r.comparison.difference is not None for r in rows
        ),
    )


_NOTED_CHOICES = frozenset(["welch", "cochran-cox", "yates", "fisher", "ffh"])


def _choice_notes(rows: list[Row], columns: tuple[str, ...] = ()) -> list[str]:
    """Why a row departs from the default test (t′, corrected χ², exact test) or has none.

    The sentences are the reader's: P values as the report prints them (never
    "2.9e-10"), and a test that could not run explained by the data (a group
    without values) rather than by the statistics engine's exception text, which
    stays in :attr:`Comparison.reason` for the API.
    """
    from kypho.report.format import p_phrase

    notes = []
    section = ""
    for row in rows:
        if row.kind == "section":
            section = row.label
        comparison = row.comparison
        if comparison is None or not comparison.reason:
            continue
        name = f"{section}, {row.label}" if row.timepoint and section else row.label
        if comparison.test == "not-computed":
            notes.append(f"{name}: no test could be computed: {_why_not(row, columns)}.")
        elif comparison.test in ("welch", "cochran-cox") and comparison.result is not None:
            check = getattr(comparison.result, "variance_test", None)
            p_value = getattr(check, "p_value", None)
            if check is None or p_value is None:
                notes.append(f"{name}: {comparison.reason}")
                continue
            notes.append(
                f"{name}: {check.method}: {p_phrase(float(p_value))}, below α, so the variances "
                f"differ and {comparison.method} (unequal variances) was used."
            )
        elif comparison.test in _NOTED_CHOICES:
            notes.append(f"{name}: {comparison.reason}")
    return notes


def _why_not(row: Row, columns: tuple[str, ...]) -> str:
    """A test that could not run, explained by the counts of its row."""
    few = [
        (columns[g] if g < len(columns) else f"group {g + 1}", cell.n)
        for g, cell in enumerate(row.cells)
        if cell.n < (2 if cell.kind == "mean_sd" else 1)
    ]
    if few:
        return "; ".join(
            f"{label} has {'no patient' if n == 0 else f'{n} patient'} with a value"
            for label, n in few
        )
    if all(c.kind == "mean_sd" and c.sd == 0 for c in row.cells):
        return "every patient has the same value, so there is no variation to test"
    reason = row.comparison.reason if row.comparison is not None else ""
    # The engine's own sentences for the data (e.g. one category only) are kept;
    # a programmer's message is not shown to the reader.
    if reason and not any(mark in reason for mark in ("(got", "must be", "nan", "Error")):
        return reason.rstrip(".")
    return "the values of this row do not allow the test"


def _rows(
    ctx: _Context, table: TableSpec, spec: RowSpec, n_by_group: NDArray[np.int64]
) -> list[Row]:
    if spec.kind == "n":
        cells = tuple(Summary(kind="n", n=int(n)) for n in n_by_group)
        return [Row(label=spec.label or "Number", kind="n", cells=cells)]
    if spec.kind == "section":
        return [Row(label=str(spec.label), kind="section")]
    if spec.kind == "measure":
        return _measure_rows(ctx, spec)
    var = ctx.schema[str(spec.name)]
    column = _column(ctx, var.name, table.number)
    test = spec.test or default_test(var)
    if var.type in ("number", "integer") and spec.display not in ("any", "count"):
        return [_continuous_row(ctx, var, column, spec.label or var.display_label, test, table.smd)]
    if var.type == "boolean" or spec.display in ("any", "count"):
        values = as_float(column)
        if var.type != "boolean":
            values = np.where(np.isnan(values), np.nan, (values > 0).astype(np.float64))
        codes = np.where(np.isnan(values), -1, values).astype(np.int64)
        counts = group_counts(codes, ctx.groups, ctx.k, 2, rows=ctx.rows_of)
        label = spec.label or var.label
        if spec.display == "yes-no":
            return _level_rows(
                ctx, var, label, counts[:, ::-1], ("Yes", "No"), test, table.smd, (1, 0)
            )
        comparison = _counts_test(ctx, counts[:, ::-1], test)
        cells = tuple(
            Summary(
                kind="count",
                n=int(counts[i].sum()),
                n_missing=int(len(ctx.rows_of[i]) - counts[i].sum()),
                count=int(counts[i, 1]),
                total=int(counts[i].sum()),
            )
            for i in range(ctx.k)
        )
        # the row shows the count of "yes" (level 1): the SMD is that level's
        smd = _smd_categorical(counts[:, ::-1]) if table.smd else None
        return [
            Row(
                label=label,
                kind="count",
                cells=cells,
                comparison=comparison,
                smd=smd,
                variable=var.name,
            )
        ]
    codes = category_codes(column, var.codes)
    counts = group_counts(codes, ctx.groups, ctx.k, len(var.codes), rows=ctx.rows_of)
    label = spec.label or var.label
    if spec.display == "ratio":
        comparison = _counts_test(ctx, counts, test)
        cells = tuple(
            Summary(
                kind="ratio",
                n=int(counts[i].sum()),
                n_missing=int(len(ctx.rows_of[i]) - counts[i].sum()),
                counts=tuple(int(c) for c in counts[i]),
            )
            for i in range(ctx.k)
        )
        smd = _smd_categorical(counts) if table.smd else None
        return [
            Row(
                label=label,
                kind="count",
                cells=cells,
                comparison=comparison,
                smd=smd,
                variable=var.name,
            )
        ]
    names = tuple(var.levels[c] for c in var.codes)
    return _level_rows(ctx, var, label, counts, names, test, table.smd, tuple(var.codes))


def _level_rows(
    ctx: _Context,
    var: Variable,
    label: str,
    counts: NDArray[np.int64],
    names: tuple[str, ...],
    test: str,
    smd: bool,
    codes: Sequence[object],
) -> list[Row]:
    if test == "mann-whitney":
        comparison = _grade_test(ctx, counts)
    else:
        comparison = _counts_test(ctx, counts, test)
    totals = counts.sum(axis=1)
    header_cells = tuple(
        Summary(
            kind="n",
            n=int(totals[i]),
            n_missing=int(len(ctx.rows_of[i]) - totals[i]),
        )
        for i in range(ctx.k)
    )
    rows = [
        Row(
            label=label,
            kind="header",
            cells=header_cells,
            comparison=comparison,
            smd=_smd_categorical(counts) if smd else None,
            variable=var.name,
        )
    ]
    for j, name in enumerate(names):
        cells = tuple(
            Summary(kind="count", n=int(totals[i]), count=int(counts[i, j]), total=int(totals[i]))
            for i in range(ctx.k)
        )
        rows.append(
            Row(label=name, kind="level", cells=cells, variable=var.name, indent=1, timepoint=None)
        )
    del codes
    return rows


def _continuous_row(
    ctx: _Context,
    var: Variable,
    column: pd.Series,
    label: str,
    test: str,
    smd: bool,
    *,
    timepoint: str | None = None,
    within: Sequence[Comparison | None] | None = None,
    indent: int = 0,
) -> Row:
    values = as_float(column)
    n, missing, mean, variance = group_moments(values, ctx.groups, ctx.k, rows=ctx.rows_of)
    sd = np.sqrt(variance)
    precision = var.precision if var.precision is not None else 2
    cells = tuple(
        Summary(
            kind="mean_sd",
            n=int(n[i]),
            n_missing=int(missing[i]),
            mean=_num(mean[i]),
            sd=_num(sd[i]),
            precision=precision,
            within=None if within is None else within[i],
        )
        for i in range(ctx.k)
    )
    if test == "mann-whitney":
        comparison: Comparison | None = _rank_test(ctx, values)
    elif test == "none" or ctx.k != 2:
        comparison = None
    else:
        comparison = _t_test(ctx, n, mean, sd, anova=test == "anova")
    smd_value = None
    if smd and ctx.k == 2:
        from kypho.stats import smd_continuous

        try:
            smd_value = _num(smd_continuous(values[ctx.rows_of[0]], values[ctx.rows_of[1]]).smd)
        except StatisticsError:
            smd_value = None
    return Row(
        label=label,
        kind="continuous",
        cells=cells,
        comparison=comparison,
        smd=smd_value,
        variable=var.name,
        timepoint=timepoint,
        indent=indent,
    )


def _measure_rows(ctx: _Context, spec: RowSpec) -> list[Row]:
    measure = str(spec.name)
    timepoints = measure_timepoints(spec, ctx.schema)
    columns = ctx.schema.measure_columns(measure)
    first = ctx.schema[columns[timepoints[0]]]
    label = spec.label or first.measure_display_label
    rows = [Row(label=label, kind="section", variable=measure)]
    baseline = spec.baseline
    base_values = None
    if baseline is not None:
        base_values = as_float(_column(ctx, columns[baseline], 0, measure))
    test = spec.test or "t"
    for tp in timepoints:
        var = ctx.schema[columns[tp]]
        column = _column(ctx, var.name, 0, measure)
        within: list[Comparison | None] | None = None
        if base_values is not None and tp != baseline:
            after = as_float(column)
            within = [_paired(ctx, base_values[r], after[r]) for r in ctx.rows_of]
        rows.append(
            _continuous_row(
                ctx,
                var,
                column,
                ctx.schema.timepoints[tp].label,
                test,
                False,
                timepoint=tp,
                within=within,
                indent=1,
            )
        )
    return rows


def _column(ctx: _Context, name: str, table: int, measure: str | None = None) -> pd.Series:
    if name not in ctx.data.columns:
        what = f"measure {measure!r}" if measure else f"table {table}"
        raise AnalysisError(
            f"the data have no column {name!r}, which the analysis plan needs for {what}; "
            "derive the measures first (kypho.measures.derive) or remove the row from the plan"
        )
    return ctx.data[name]


def _num(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _not_computed(symbol: str, exc: Exception) -> Comparison:
    return Comparison(
        test="not-computed",
        symbol=symbol,
        statistic=None,
        dof=None,
        p_value=None,
        method="not computed",
        reason=str(exc),
    )


def _t_test(
    ctx: _Context,
    n: NDArray[np.int64],
    mean: NDArray[np.float64],
    sd: NDArray[np.float64],
    *,
    anova: bool,
) -> Comparison:
    from kypho.stats import independent_t_from_summary

    try:
        result = independent_t_from_summary(
            float(mean[0]),
            float(sd[0]),
            int(n[0]),
            float(mean[1]),
            float(sd[1]),
            int(n[1]),
            method="student" if anova else "auto",
            t_prime="cochran-cox" if ctx.plan.t_prime == "cochran-cox" else "welch",
            alpha=ctx.plan.alpha,
            confidence=ctx.plan.confidence,
        )
    except StatisticsError as exc:
        return _not_computed("F" if anova else "t", exc)
    if anova:
        key = "anova"
        statistic = float(result.statistic) ** 2
        dof: float | tuple[float, float] | None = (1.0, float(n[0] + n[1] - 2))
        symbol = "F"
    else:
        key = "student" if bool(result.equal_variance) else ctx.plan.t_prime
        statistic = float(result.statistic)
        dof = None if result.dof is None else float(result.dof)
        symbol = "t" if key == "student" else "t′"
    ctx.tests_used.add(key)
    ctx.table_tests.add(key)
    return Comparison(
        test=key,
        symbol=symbol,
        statistic=statistic,
        dof=dof,
        p_value=_p(result.p_value),
        method=result.method if not anova else "One-way ANOVA (two groups: F = t²)",
        reason=result.reason,
        difference=float(result.mean_difference),
        ci_low=float(result.ci_low),
        ci_high=float(result.ci_high),
        result=result,
    )


def _p(value: Any) -> float:
    # P is a probability: clip rounding excursions (e.g. 1 + 1e-16) into [0, 1].
    return min(max(float(value), 0.0), 1.0)


def _paired(
    ctx: _Context, before: NDArray[np.float64], after: NDArray[np.float64]
) -> Comparison | None:
    from kypho.stats import paired_t

    if before.size == 0:
        return None
    try:
        result = paired_t(before, after, confidence=ctx.plan.confidence)
    except StatisticsError as exc:
        ctx.notes.append(f"Paired t test not computed: {exc}.")
        return _not_computed("t", exc)
    ctx.tests_used.add("paired-t")
    ctx.table_tests.add("paired-t")
    return Comparison(
        test="paired-t",
        symbol="t",
        statistic=float(result.statistic),
        dof=float(result.dof),
        p_value=_p(result.p_value),
        method=result.method,
        reason="within-group change from baseline",
        difference=float(result.mean_difference),
        ci_low=float(result.ci_low),
        ci_high=float(result.ci_high),
        result=result,
    )


def _counts_test(ctx: _Context, counts: NDArray[np.int64], test: str) -> Comparison | None:
    if test == "none" or ctx.k != 2:
        return None
    from kypho.stats import chi_square

    # A level nobody has adds no information and an expected count of zero; the
    # test runs on the levels observed, and the table says so if it dropped any.
    observed = counts[:, counts.sum(axis=0) > 0]
    try:
        if observed.shape[1] < 2:
            raise StatisticsError(
                "every patient with a value falls in one category, so the groups cannot differ"
            )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = chi_square(observed, confidence=ctx.plan.confidence)
        ctx.notes.extend(str(w.message) + "." for w in caught)
    except StatisticsError as exc:
        return _not_computed("χ²", exc)
    key = str(result.tests)
    symbol = "" if key in ("fisher", "ffh") else "χ²"
    ctx.tests_used.add(key)
    ctx.table_tests.add(key)
    statistic = getattr(result, "statistic", None)
    dof = getattr(result, "dof", None)
    return Comparison(
        test=key,
        symbol=symbol,
        statistic=None if statistic is None else _num(statistic),
        dof=None if dof is None else _num(dof),
        p_value=_p(result.p_value),
        method=str(result.method),
        reason=str(getattr(result, "reason", "")),
        result=result,
    )


def _grade_test(ctx: _Context, counts: NDArray[np.int64]) -> Comparison | None:
    if ctx.k != 2:
        return None
    from kypho.stats import mann_whitney_from_counts

    try:
        result = mann_whitney_from_counts(counts[0], counts[1])
    except StatisticsError as exc:
        return _not_computed("U", exc)
    return _mw_comparison(ctx, result)


def _rank_test(ctx: _Context, values: NDArray[np.float64]) -> Comparison | None:
    if ctx.k != 2:
        return None
    from kypho.stats import mann_whitney

    try:
        result = mann_whitney(values[ctx.rows_of[0]], values[ctx.rows_of[1]])
    except StatisticsError as exc:
        return _not_computed("U", exc)
    return _mw_comparison(ctx, result)


def _mw_comparison(ctx: _Context, result: Any) -> Comparison:
    ctx.tests_used.add("mann-whitney")
    ctx.table_tests.add("mann-whitney")
    return Comparison(
        test="mann-whitney",
        symbol="U",
        statistic=float(result.u),
        dof=None,
        p_value=_p(result.p_value),
        method=str(result.method),
        reason="grades are ordinal",
        z=_num(result.z),
        result=result,
    )


def _smd_categorical(counts: NDArray[np.int64]) -> float | None:
    """SMD of a categorical row from the group × level counts (kypho.stats)."""
    from kypho.stats import smd_categorical

    keep = counts.sum(axis=0) > 0
    if counts.shape[0] != 2 or keep.sum() < 2 or (counts.sum(axis=1) == 0).any():
        return None
    try:
        return _num(smd_categorical(counts[0, keep], counts[1, keep]).smd)
    except StatisticsError:
        return None
