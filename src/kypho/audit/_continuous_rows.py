"""Checks of continuous rows: scale, GRIM/GRIMMER/DEBIT, t and t′, statcheck, paired t.

Every recomputation from printed means and SDs is carried over the box of their
rounding intervals (see ``docs/audit.md``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
from scipy import special

from kypho.audit._base import (
    Ctx,
    decision_finding,
    fmt,
    fmt_p,
    interval,
    overlaps,
    p_is,
    p_range_finding,
    significance,
    span,
)
from kypho.audit.granularity import debit, grim, grimmer
from kypho.audit.model import ContinuousRow, MeanSDCell, SummaryTables
from kypho.audit.result import Finding, Status
from kypho.errors import AuditError, StatisticsError
from kypho.stats import independent_t_from_summary

__all__ = ["BetweenTests", "between_tests", "continuous_findings"]

# Points per SD interval when a recomputation is carried over the rounding box. The t
# statistic is monotone in each SD, so the ends would do; Welch's df is not, and a few
# inner points cover it.
_GRID = 5


def _t_sf(t: Any, dof: Any) -> Any:
    """Upper tail of Student's t: what ``scipy.stats.t.sf(t, dof)`` returns (it calls
    ``special.stdtr(dof, -t)``), without the distribution object's per-call checks,
    which cost more than the tail itself in a per-row check."""
    return special.stdtr(dof, np.negative(t))


def _scale_findings(ctx: Ctx, row: ContinuousRow, key: str, cell: MeanSDCell) -> list[Finding]:
    out: list[Finding] = []
    sc = row.scale
    assumption = sc.note or None if sc.assumed else None
    common: dict[str, Any] = {"group": key, "section": row.section, "assumption": assumption}
    if sc.min is not None or sc.max is not None:
        lo = -math.inf if sc.min is None else sc.min
        hi = math.inf if sc.max is None else sc.max
        bounds = f"{'(−∞' if sc.min is None else f'[{sc.min:g}'}, {'∞)' if sc.max is None else f'{sc.max:g}]'}"
        bad = cell.mean.high < lo or cell.mean.low > hi
        out.append(
            ctx.finding(
                row.label,
                "mean",
                "mean_bounds",
                "impossible" if bad else "consistent",
                f"the mean {'lies outside' if bad else 'lies within'} the scale's bounds {bounds}",
                reported=cell.mean.text,
                **common,
            )
        )
    if cell.sd.value < 0:
        out.append(
            ctx.finding(
                row.label,
                "SD",
                "sd_bounds",
                "impossible",
                "an SD cannot be negative",
                reported=cell.sd.text,
                **common,
            )
        )
    elif sc.min is not None and sc.max is not None and cell.n >= 2:
        # Largest sample SD of n values in [a, b] with mean M: √((M − a)(b − M)·n/(n − 1)),
        # largest where M is nearest the middle of the scale.
        m = min(max((sc.min + sc.max) / 2.0, cell.mean.low), cell.mean.high)
        m = min(max(m, sc.min), sc.max)
        sd_max = math.sqrt(max((m - sc.min) * (sc.max - m), 0.0) * cell.n / (cell.n - 1))
        bad = cell.sd.low > sd_max
        out.append(
            ctx.finding(
                row.label,
                "SD",
                "sd_bounds",
                "impossible" if bad else "consistent",
                (
                    f"{cell.n} values in {bounds} with mean {cell.mean.text} have an SD of at most "
                    f"{sd_max:.3f}"
                ),
                reported=cell.sd.text,
                recomputed=f"≤ {sd_max:.3f}",
                recomputed_high=sd_max,
                **common,
            )
        )
    if sc.type == "integer":
        out.extend(_grim_findings(ctx, row, key, cell, common))
    elif sc.type == "binary" and cell.n < 2:
        out.append(
            ctx.finding(
                row.label,
                "mean ± SD",
                "debit",
                "not_checkable",
                f"an SD needs at least 2 values (n = {cell.n})",
                reported=cell.text,
                method="DEBIT",
                **common,
            )
        )
    elif sc.type == "binary":
        d = debit(cell.mean, cell.sd, cell.n, rounding=ctx.rounding)
        out.append(
            ctx.finding(
                row.label,
                "mean ± SD",
                "debit",
                "consistent" if d.consistent else "inconsistent",
                (
                    f"{', '.join(map(str, d.counts))} of {cell.n} binary values give this mean and SD"
                    if d.consistent
                    else f"no count of ones among {cell.n} binary values gives mean {cell.mean.text} "
                    f"with SD {cell.sd.text}"
                ),
                reported=cell.text,
                recomputed=", ".join(f"{k}/{cell.n}" for k in d.counts) or None,
                method="DEBIT",
                **common,
            )
        )
    return out


def _grim_findings(
    ctx: Ctx, row: ContinuousRow, key: str, cell: MeanSDCell, common: dict[str, Any]
) -> list[Finding]:
    g = grim(cell.mean, cell.n, rounding=ctx.rounding)
    out = []
    if not g.applicable:
        out.append(
            ctx.finding(
                row.label,
                "mean",
                "grim",
                "not_checkable",
                f"with n = {cell.n} every mean to {cell.mean.decimals} decimals is possible for whole numbers",
                reported=cell.mean.text,
                method="GRIM",
                **common,
            )
        )
    else:
        out.append(
            ctx.finding(
                row.label,
                "mean",
                "grim",
                "consistent" if g.consistent else "inconsistent",
                (
                    f"a total of {cell.n} whole-number values gives this mean"
                    if g.consistent
                    else f"no total of {cell.n} whole-number values has a mean that rounds to "
                    f"{cell.mean.text}; the nearest possible means are {' and '.join(g.nearest)}"
                ),
                reported=cell.mean.text,
                recomputed=", ".join(g.nearest),
                method="GRIM",
                **common,
            )
        )
    if cell.n < 2:
        return out
    gm = grimmer(
        cell.mean, cell.sd, cell.n, low=row.scale.min, high=row.scale.max, rounding=ctx.rounding
    )
    if not gm.grim_consistent:
        out.append(
            ctx.finding(
                row.label,
                "SD",
                "grimmer",
                "not_checkable",
                "the mean already fails GRIM, so no whole-number data have it and the SD cannot be tested",
                reported=cell.sd.text,
                method="GRIMMER",
                **common,
            )
        )
        return out
    rng = f"≥ {gm.sd_min:.3f}" if gm.sd_max is None else f"{gm.sd_min:.3f} to {gm.sd_max:.3f}"
    if gm.consistent:
        reason = "some whole-number data with this mean have this SD"
    elif gm.sd_min is not None and gm.sd_min > cell.sd.high:
        reason = (
            f"whole-number data of n = {cell.n} with mean {cell.mean.text} have an SD of at least "
            f"{gm.sd_min:.3f}"
        )
    elif gm.sd_max is not None and gm.sd_max < cell.sd.low:
        reason = f"whole-number data of n = {cell.n} on this scale with mean {cell.mean.text} have an SD of at most {gm.sd_max:.3f}"
    else:
        reason = (
            "no whole-number sum of squares gives this SD: it would need a sum of squares of the "
            "other parity than the sum"
        )
    out.append(
        ctx.finding(
            row.label,
            "SD",
            "grimmer",
            "consistent" if gm.consistent else "inconsistent",
            reason,
            reported=cell.sd.text,
            recomputed=f"possible SDs {rng}",
            recomputed_low=gm.sd_min,
            recomputed_high=gm.sd_max,
            method="GRIMMER",
            **common,
        )
    )
    return out


@dataclass(frozen=True)
class _TRange:
    """A t test recomputed over the rounding box of the printed summaries."""

    method: str
    t: float
    t_lo: float
    t_hi: float
    p: float
    p_lo: float
    p_hi: float
    dof: float | None


_DECLARED = {
    "t/t'": "t / t′",
    "anova": "variance analysis (ANOVA)",
    "unknown": "no test named",
}
# Declared tests for which the F rule picks between Student t and t′.
_RULED = ("t/t'", "unknown")
_TMethod = Literal["student", "welch", "cochran-cox"]
_TEST_NAMES = {"student": "Student t", "welch": "Welch t′", "cochran-cox": "Cochran–Cox t′"}
_T_TESTS = ("t/t'", "student", "welch", "cochran-cox", "anova", "unknown")


def _box(c1: MeanSDCell, c2: MeanSDCell) -> tuple[np.ndarray[Any, np.dtype[np.float64]], ...]:
    """The rounding box of a pair of cells as t-test inputs (difference, SD₁, SD₂)."""
    d_lo = (c1.mean.value - c1.mean.half_unit) - (c2.mean.value + c2.mean.half_unit)
    d_hi = (c1.mean.value + c1.mean.half_unit) - (c2.mean.value - c2.mean.half_unit)
    diffs = [d_lo, d_hi] + ([0.0] if d_lo < 0.0 < d_hi else [])
    s1 = np.linspace(*interval(c1.sd, floor=c1.sd.half_unit * 1e-6), _GRID)
    s2 = np.linspace(*interval(c2.sd, floor=c2.sd.half_unit * 1e-6), _GRID)
    return tuple(x.ravel() for x in np.meshgrid(np.array(diffs), s1, s2, indexing="ij"))


def _t_ranges(pairs: Sequence[tuple[MeanSDCell, MeanSDCell]], name: str) -> list[_TRange]:
    """|t| and P for the printed values and their range over the rounding box, for
    many pairs of cells in one call of the t test (one batch of every pair's point
    and box, split back afterwards)."""
    method = cast(_TMethod, name)
    m1, s1, n1, m2, s2, n2, ends = [], [], [], [], [], [], []
    for c1, c2 in pairs:
        d, a, b = _box(c1, c2)
        m1 += [np.array([c1.mean.value]), d]
        s1 += [np.array([c1.sd.value]), a]
        m2 += [np.array([c2.mean.value]), np.zeros_like(d)]
        s2 += [np.array([c2.sd.value]), b]
        n1.append(np.full(d.size + 1, float(c1.n)))
        n2.append(np.full(d.size + 1, float(c2.n)))
        ends.append(d.size + 1)
    res = independent_t_from_summary(
        *(np.concatenate(v) for v in (m1, s1, n1, m2, s2, n2)), method=method
    )
    t = np.asarray(res.statistic, dtype=np.float64)
    p = np.asarray(res.p_value, dtype=np.float64)
    dof = None if res.dof is None else np.asarray(res.dof, dtype=np.float64)
    out = []
    start = 0
    for size in ends:
        t_abs = np.abs(t[start + 1 : start + size])
        p_box = p[start + 1 : start + size]
        out.append(
            _TRange(
                _TEST_NAMES[method],
                abs(float(t[start])),
                float(t_abs.min()),
                float(t_abs.max()),
                float(p[start]),
                float(p_box.min()),
                float(p_box.max()),
                None if dof is None else float(dof[start]),
            )
        )
        start += size
    return out


def _cell_key(c: MeanSDCell) -> tuple[float, float, float, float, int]:
    return (c.mean.value, c.mean.half_unit, c.sd.value, c.sd.half_unit, c.n)


def _pair_key(c1: MeanSDCell, c2: MeanSDCell) -> tuple[Any, ...]:
    return (*_cell_key(c1), *_cell_key(c2))


@dataclass(frozen=True)
class _FRule:
    """The F test of variances on a pair of printed SDs."""

    statistic: float
    dof: float
    dof_denominator: float
    p: float


@dataclass
class BetweenTests:
    """The between-group t tests of every continuous row of a study, computed in a few
    batched calls (one per t-test kind, one for the F rule) before the rows are checked.

    Rows are looked up by their printed values, so a row that is not in the batch is
    computed on its own, with the same code.
    """

    t: dict[tuple[Any, ...], _TRange] = field(default_factory=dict)
    f: dict[tuple[Any, ...], _FRule] = field(default_factory=dict)

    def t_range(self, c1: MeanSDCell, c2: MeanSDCell, name: str) -> _TRange:
        key = (*_pair_key(c1, c2), name)
        found = self.t.get(key)
        if found is None:
            found = self.t[key] = _t_ranges([(c1, c2)], name)[0]
        return found

    def f_rule(self, c1: MeanSDCell, c2: MeanSDCell, alpha: float) -> _FRule:
        key = (*_pair_key(c1, c2), alpha)
        found = self.f.get(key)
        if found is None:
            found = self.f[key] = _f_rules([(c1, c2)], alpha)[0]
        return found


def _f_rules(pairs: Sequence[tuple[MeanSDCell, MeanSDCell]], alpha: float) -> list[_FRule]:
    """The F rule (Student t or t′) for many pairs of cells in one call."""

    def column(k: int, what: str) -> np.ndarray[Any, np.dtype[np.float64]]:
        cells = [pair[k] for pair in pairs]
        if what == "n":
            return np.array([c.n for c in cells], dtype=np.float64)
        return np.array([getattr(c, what).value for c in cells], dtype=np.float64)

    res = independent_t_from_summary(
        column(0, "mean"),
        column(0, "sd"),
        column(0, "n"),
        column(1, "mean"),
        column(1, "sd"),
        column(1, "n"),
        method="auto",
        alpha=alpha,
    )
    vt = res.variance_test
    if vt is None:  # pragma: no cover - "auto" always runs the variance test
        raise AuditError("the F test of variances did not run")
    stat, df1, df2, p = (
        np.asarray(v, dtype=np.float64).reshape(-1)
        for v in (vt.statistic, vt.dof, vt.dof_denominator, vt.p_value)
    )
    return [
        _FRule(float(stat[i]), float(df1[i]), float(df2[i]), float(p[i])) for i in range(len(pairs))
    ]


def _between_pairs(
    row: ContinuousRow, keys: tuple[str, str]
) -> tuple[MeanSDCell, MeanSDCell] | None:
    """The two cells of a row whose between-group t test is checked, or None."""
    c1, c2 = row.cells[keys[0]], row.cells[keys[1]]
    if row.test not in _T_TESTS or c1.n < 2 or c2.n < 2:
        return None
    # A negative SD is already impossible (sd_bounds); two zero SDs leave t undefined.
    if min(c1.sd.value, c2.sd.value) < 0 or max(c1.sd.value, c2.sd.value) == 0:
        return None
    return c1, c2


def ctx_between(ctx: Ctx) -> BetweenTests:
    """The table's batched t tests; a fresh, empty cache when the caller made none."""
    return ctx.between if isinstance(ctx.between, BetweenTests) else BetweenTests()


def between_tests(tables: SummaryTables, alpha: float) -> BetweenTests:
    """Every between-group t test the study's continuous rows need, batched.

    A batch the t test refuses (a value it cannot use) is left out: those rows are
    then computed one by one, where the refusal names the row's own values.
    """
    keys = (tables.groups[0].key, tables.groups[1].key)
    by_method: dict[str, dict[tuple[Any, ...], tuple[MeanSDCell, MeanSDCell]]] = {}
    pairs: dict[tuple[Any, ...], tuple[MeanSDCell, MeanSDCell]] = {}
    for table in tables.tables:
        for row in table.rows:
            if not isinstance(row, ContinuousRow):
                continue
            pair = _between_pairs(row, keys)
            if pair is None:
                continue
            key = _pair_key(*pair)
            pairs[key] = pair
            for name in _candidates(row.test):
                by_method.setdefault(name, {})[key] = pair
    cache = BetweenTests()
    for name, todo in by_method.items():
        try:
            ranges = _t_ranges(list(todo.values()), name)
        except StatisticsError:
            continue
        cache.t.update({(*k, name): r for k, r in zip(todo, ranges, strict=True)})
    if pairs:
        try:
            rules = _f_rules(list(pairs.values()), alpha)
        except StatisticsError:
            return cache
        cache.f.update({(*k, alpha): r for k, r in zip(pairs, rules, strict=True)})
    return cache


def _candidates(declared: str) -> list[str]:
    if declared in ("student", "anova"):
        return ["student"]
    if declared in ("welch", "cochran-cox"):
        return [declared]
    return ["student", "welch", "cochran-cox"]


def continuous_findings(ctx: Ctx, row: ContinuousRow) -> list[Finding]:
    out: list[Finding] = []
    for key in ctx.keys:
        out.extend(_scale_findings(ctx, row, key, row.cells[key]))
    if row.p is not None:
        out.append(p_range_finding(ctx, row.label, row.p))
    k1, k2 = ctx.keys
    if row.test in _T_TESTS and row.cells[k1].n >= 2 and row.cells[k2].n >= 2:
        pair = _between_pairs(row, ctx.keys)
        if pair is None:  # a negative SD, or both SDs 0: no t test
            return out
        out.extend(_between_t(ctx, row, *pair))
    for key in ctx.keys:
        cell = row.cells[key]
        if cell.within is not None:
            out.extend(_within(ctx, row, key, cell))
    return out


def _variance_rule(
    ctx: Ctx, row: ContinuousRow, c1: MeanSDCell, c2: MeanSDCell
) -> tuple[str, Finding]:
    vt = ctx_between(ctx).f_rule(c1, c2, ctx.alpha)
    unequal = vt.p < ctx.alpha
    rule = "welch" if unequal else "student"
    f_text = f"F({vt.dof:g}, {vt.dof_denominator:g}) = {vt.statistic:.3f}, {p_is(fmt_p(vt.p))}"
    calls = "t′ (variances differ)" if unequal else "Student t (variances homogeneous)"
    common: dict[str, Any] = {
        "reported": _DECLARED.get(row.test, row.test),
        "recomputed": f"{f_text}: {calls}",
        "section": row.section,
        "method": "F test of variances on the printed SDs",
        "recomputed_value": vt.p,
    }
    if row.test in _RULED:
        status: Status = "not_checkable"
        reason = (
            f"the F test on the printed SDs ({f_text}) calls for {calls}; the table does not say "
            "which of t and t′ it used"
        )
    else:
        # Student's t (and ANOVA) assume equal variances; t′ is for unequal ones.
        pooled = row.test in ("student", "anova")
        status = "consistent" if pooled != unequal else "inconsistent"
        used = _DECLARED.get(row.test, _TEST_NAMES.get(row.test, row.test))
        reason = f"the table used {used}; the F test ({f_text}) calls for {calls}"
    return rule, ctx.finding(row.label, "test", "variance_test", status, reason, **common)


def _between_t(ctx: Ctx, row: ContinuousRow, c1: MeanSDCell, c2: MeanSDCell) -> list[Finding]:
    out: list[Finding] = []
    rule, vfinding = _variance_rule(ctx, row, c1, c2)
    out.append(vfinding)
    names = _candidates(row.test)
    primary = "student" if row.test == "anova" else rule if row.test in _RULED else names[0]
    tests = ctx_between(ctx)
    ranges = {m: tests.t_range(c1, c2, m) for m in dict.fromkeys([primary, *names])}
    main = ranges[primary]
    assumption = None
    if row.test == "unknown":
        assumption = "the table names no test: Student t, Welch t′ and Cochran–Cox t′ are tried"
    elif row.test == "t/t'":
        assumption = "t′ read as Welch's t′ (what SPSS prints) or Cochran–Cox's t′; the table does not say which"
    elif row.test == "anova":
        assumption = (
            "two-group one-way ANOVA: F = t² on (1, n₁ + n₂ − 2) df, the same P as Student's t"
        )
    stat = row.statistic
    if stat is not None and stat.name in ("t", "F"):
        square = stat.name == "F"
        lo, hi, val = (
            (main.t_lo, main.t_hi, main.t)
            if not square
            else (main.t_lo**2, main.t_hi**2, main.t**2)
        )
        ok = overlaps(stat.value, lo, hi)
        label = "F" if square else "t"
        out.append(
            ctx.finding(
                row.label,
                label,
                "t_from_summaries",
                "consistent" if ok else "inconsistent",
                (
                    f"|{label}| recomputed from the printed means, SDs and n is {span(val, lo, hi)}"
                    + ("" if ok else f"; the table prints {stat.value.text}")
                ),
                reported=stat.value.text,
                recomputed=span(val, lo, hi),
                section=row.section,
                method=main.method,
                recomputed_value=val,
                recomputed_low=lo,
                recomputed_high=hi,
                assumption=assumption,
            )
        )
    if row.p is not None:
        matching = [m for m, r in ranges.items() if overlaps(row.p, r.p_lo, r.p_hi)]
        texts = "; ".join(
            f"{r.method}: {span(r.p, r.p_lo, r.p_hi, fmt_p)}" for r in ranges.values()
        )
        if matching:
            which = ", ".join(ranges[m].method for m in matching)
            reason = f"matches {which} from the printed summaries"
            if primary not in matching:
                reason += f", not the {main.method} the table's rule calls for"
            status: Status = "consistent"
        else:
            reason = f"P from the printed means, SDs and n: {texts}; the table prints {row.p.text}"
            status = "inconsistent"
        out.append(
            ctx.finding(
                row.label,
                "P",
                "p_from_summaries",
                status,
                reason,
                reported=row.p.text,
                recomputed=span(main.p, main.p_lo, main.p_hi, fmt_p),
                section=row.section,
                method=main.method,
                recomputed_value=main.p,
                recomputed_low=main.p_lo,
                recomputed_high=main.p_hi,
                assumption=assumption,
            )
        )
        if stat is not None and stat.name in ("t", "F"):
            out.append(_statcheck_between(ctx, row, c1, c2, names, primary))
        out.append(
            decision_finding(
                ctx,
                row.label,
                row.p,
                main.p,
                main.p_lo,
                main.p_hi,
                main.method,
                section=row.section,
            )
        )
    return out


def _welch_dof(c1: MeanSDCell, c2: MeanSDCell) -> np.ndarray[Any, np.dtype[np.float64]]:
    s1 = np.linspace(*interval(c1.sd, floor=c1.sd.half_unit * 1e-6), _GRID)
    s2 = np.linspace(*interval(c2.sd, floor=c2.sd.half_unit * 1e-6), _GRID)
    a, b = np.meshgrid(s1 * s1 / c1.n, s2 * s2 / c2.n)
    dof: np.ndarray[Any, np.dtype[np.float64]] = (a + b) ** 2 / (
        a * a / (c1.n - 1) + b * b / (c2.n - 1)
    )
    return dof.ravel()


def _statcheck_between(
    ctx: Ctx,
    row: ContinuousRow,
    c1: MeanSDCell,
    c2: MeanSDCell,
    names: Sequence[str],
    primary: str,
) -> Finding:
    """statcheck's rule: P from the printed statistic over its rounding interval."""
    stat = row.statistic
    p_rep = row.p
    if stat is None or p_rep is None:  # pragma: no cover - caller checks
        raise AuditError("statcheck needs a printed statistic and P")
    t_lo, t_hi = interval(stat.value, floor=0.0)
    if stat.name == "F":
        t_lo, t_hi = math.sqrt(t_lo), math.sqrt(t_hi)
    student_df = c1.n + c2.n - 2.0
    dofs: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {"student": np.array([student_df])}
    if "welch" in names or "cochran-cox" in names:
        dofs["welch"] = _welch_dof(c1, c2)
    ranges = {}
    for name, dof in dofs.items():
        p_at = 2.0 * _t_sf(np.array([t_lo, t_hi])[:, None], dof[None, :])
        p_point = float(np.median(2.0 * _t_sf(abs(stat.value.value), dof)))
        ranges[name] = (p_point, float(p_at.min()), float(p_at.max()))
    main_name = "student" if primary not in dofs else primary
    p, lo, hi = ranges[main_name]
    matching = [n for n, (_, a, b) in ranges.items() if overlaps(p_rep, a, b)]
    df_text = f"df = {student_df:g} (n₁ + n₂ − 2)"
    if "welch" in dofs:
        wd = dofs["welch"]
        df_text += f" for Student t, Welch df {wd.min():.1f} to {wd.max():.1f} for t′"
    assumption = f"the paper prints no df: {df_text}"
    label = {"student": "Student t", "welch": "Welch t′"}
    if matching:
        status: Status = "consistent"
        reason = f"P from the printed {stat.name} = {stat.value.value:g} matches ({', '.join(label[m] for m in matching)})"
    else:
        status = "inconsistent"
        texts = "; ".join(
            f"{p_is(span(v, a, b, fmt_p))} ({label[n]})" for n, (v, a, b) in ranges.items()
        )
        reason = (
            f"the printed {stat.name} = {stat.value.value:g} gives {texts}; the table prints {p_rep.text}, "
            "so the printed statistic and P do not belong together"
        )
    decision_error = None
    said = significance(p_rep, ctx.alpha)
    if said is not None and (hi < ctx.alpha or lo >= ctx.alpha):
        decision_error = said != (hi < ctx.alpha)
    return ctx.finding(
        row.label,
        "P",
        "p_from_statistic",
        status,
        reason,
        reported=f"{stat.name} = {stat.value.text}, P = {p_rep.text}",
        recomputed=span(p, lo, hi, fmt_p),
        section=row.section,
        method=f"{label[main_name]} P from the printed statistic",
        recomputed_value=p,
        recomputed_low=lo,
        recomputed_high=hi,
        assumption=assumption,
        decision_error=decision_error,
    )


def _within(ctx: Ctx, row: ContinuousRow, key: str, cell: MeanSDCell) -> list[Finding]:
    within = cell.within
    if within is None:  # pragma: no cover - caller checks
        return []
    out: list[Finding] = []
    if within.p is not None:
        out.append(p_range_finding(ctx, row.label, within.p, "within P", key))
    ref_row = next(
        (r for r in ctx.table.rows if isinstance(r, ContinuousRow) and r.label == within.versus),
        None,
    )
    if ref_row is None:
        raise AuditError(
            f"table {ctx.table.number}, row {row.label!r}: 'within.versus' names {within.versus!r}, "
            "which is not a continuous row of the same table"
        )
    ref = ref_row.cells[key]
    n = min(ref.n, cell.n)
    stat = within.statistic
    base: dict[str, Any] = {"group": key, "section": row.section, "method": "paired t"}
    if n < 2:
        return out
    # The paired t is d̄√n / s_d with s_d² = s₁² + s₂² − 2r·s₁s₂; over every correlation
    # r in [−1, 1], s_d runs from |s₁ − s₂| to s₁ + s₂. Over the rounding box too:
    d_lo = abs(cell.mean.value - ref.mean.value) - cell.mean.half_unit - ref.mean.half_unit
    d_hi = abs(cell.mean.value - ref.mean.value) + cell.mean.half_unit + ref.mean.half_unit
    d_lo = max(d_lo, 0.0)
    s_sum_hi = cell.sd.high + ref.sd.high
    s_gap_lo = max(abs(cell.sd.value - ref.sd.value) - cell.sd.half_unit - ref.sd.half_unit, 0.0)
    t_min = d_lo * math.sqrt(n) / s_sum_hi if s_sum_hi > 0 else math.inf
    t_max = d_hi * math.sqrt(n) / s_gap_lo if s_gap_lo > 0 else math.inf
    dof = n - 1
    assumption = (
        f"the same {n} patients at both times; df = {dof} (n − 1); the SD of the differences is "
        "not printed, so every within-patient correlation from −1 to 1 is allowed"
    )
    t_text = f"{fmt(t_min)} to {'∞' if math.isinf(t_max) else fmt(t_max)}"
    if stat is not None and stat.name == "t":
        ok = overlaps(stat.value, t_min, t_max)
        out.append(
            ctx.finding(
                row.label,
                "within t",
                "paired_t_bounds",
                "consistent" if ok else "impossible",
                (
                    f"against {within.versus} ({ref.mean.text}±{ref.sd.text} → {cell.text}), a paired t "
                    f"can only be {t_text} whatever the within-patient correlation"
                    + ("" if ok else f"; the table prints {stat.value.text}")
                ),
                reported=f"t = {stat.value.text}",
                recomputed=t_text,
                recomputed_low=t_min,
                recomputed_high=t_max,
                assumption=assumption,
                **base,
            )
        )
    p_lo = float(2.0 * _t_sf(t_max, dof)) if not math.isinf(t_max) else 0.0
    p_hi = float(2.0 * _t_sf(t_min, dof))
    if within.p is not None and stat is not None and stat.name == "t":
        lo_t, hi_t = interval(stat.value, floor=0.0)
        q_lo, q_hi = float(2.0 * _t_sf(hi_t, dof)), float(2.0 * _t_sf(lo_t, dof))
        q = float(2.0 * _t_sf(abs(stat.value.value), dof))
        ok = overlaps(within.p, q_lo, q_hi)
        out.append(
            ctx.finding(
                row.label,
                "within P",
                "p_from_statistic",
                "consistent" if ok else "inconsistent",
                f"P from the printed t = {stat.value.value:g} on {dof} df is {fmt_p(q)}"
                + ("" if ok else f"; the table prints {within.p.text}"),
                reported=f"{within.text}",
                recomputed=span(q, q_lo, q_hi, fmt_p),
                recomputed_value=q,
                recomputed_low=q_lo,
                recomputed_high=q_hi,
                assumption=f"df = {dof} (n − 1; the paper prints no df)",
                **base,
            )
        )
    if within.p is not None:
        # No single paired P follows from the summaries; the largest one any correlation
        # allows (at the smallest t) is the value shown.
        out.append(
            decision_finding(
                ctx,
                row.label,
                within.p,
                p_hi,
                p_lo,
                p_hi,
                "paired t over all within-patient correlations",
                column="within P",
                group=key,
                section=row.section,
            )
        )
    return out
