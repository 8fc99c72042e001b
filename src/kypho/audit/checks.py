"""The audit: recompute what the printed summaries allow and classify each printed value.

Every printed number stands for an interval (its rounding); every recomputation is
carried over the box of those intervals, so a recomputed value is a range, and a
printed value is **consistent** when its own interval meets the recomputed range.

Statuses:

``consistent``
    The printed value is within what the printed summaries allow.
``inconsistent``
    It is not: no value within the rounding of the printed summaries gives it.
``impossible``
    No data could give it at all (a P above 1, a count above n, identical counts with
    P far from 1, a paired t no within-patient correlation allows, a mean outside the
    scale).
``not_checkable``
    The check cannot decide (the scale makes GRIM uninformative, the recomputed P
    straddles alpha, the paper does not say which variant it used).

The rules for each check are in ``docs/audit.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, cast

import numpy as np
from scipy import stats as sps

from kypho.audit._counts import chi_square_p, mann_whitney_counts
from kypho.audit.granularity import debit, grim, grimmer
from kypho.audit.model import (
    CategoricalRow,
    ContinuousRow,
    CountCell,
    CountRow,
    MeanSDCell,
    NRow,
    Reported,
    SummaryTable,
    SummaryTables,
)
from kypho.audit.result import AuditReport, Finding, Status
from kypho.errors import AuditError
from kypho.stats import independent_t_from_summary

__all__ = ["audit"]

# Points per SD interval when a recomputation is carried over the rounding box. The t
# statistic is monotone in each SD, so the ends would do; Welch's df is not, and a few
# inner points cover it.
_GRID = 5


def audit(tables: SummaryTables, *, alpha: float | None = None) -> AuditReport:
    """Audit a study's printed summary tables.

    Parameters
    ----------
    tables : SummaryTables
        As read by :func:`kypho.audit.load_summary_tables`.
    alpha : float, optional
        Significance level for decision errors; defaults to the study's (0.05).

    Returns
    -------
    AuditReport
        One finding per checked value, in table and row order.

    Raises
    ------
    AuditError
        When ``alpha`` is not strictly between 0 and 1.

    Notes
    -----
    See the module docstring for the statuses and ``docs/audit.md`` for each check.

    References
    ----------
    Nuijten MB, et al. The prevalence of statistical reporting errors in psychology
    (1985-2013). Behav Res Methods 2016;48:1205-1226 (statcheck's rule).
    Brown NJL, Heathers JAJ. The GRIM test. Soc Psychol Personal Sci 2017;8:363-369.

    Examples
    --------
    >>> from kypho.audit import load_paper_tables
    >>> report = audit(load_paper_tables())
    >>> report.counts()["impossible"] > 0
    True
    """
    a = tables.alpha if alpha is None else alpha
    if isinstance(a, bool) or not isinstance(a, int | float) or not 0.0 < a < 1.0:
        raise AuditError(f"alpha must be a number strictly between 0 and 1 (got {alpha!r})")
    findings: list[Finding] = []
    for table in tables.tables:
        ctx = _Ctx(tables, table, float(a))
        for row in table.rows:
            if isinstance(row, NRow):
                findings.extend(_n_row(ctx, row))
            elif isinstance(row, ContinuousRow):
                findings.extend(_continuous(ctx, row))
            elif isinstance(row, CountRow):
                findings.extend(_binary(ctx, row))
            else:
                findings.extend(_categorical(ctx, row))
        findings.extend(_sections(ctx))
    from kypho import __version__

    return AuditReport(
        title=tables.title,
        source=tables.source,
        groups=tuple((g.key, g.label, g.n) for g in tables.groups),
        alpha=float(a),
        findings=tuple(findings),
        kypho_version=__version__,
    )


@dataclass(frozen=True)
class _Ctx:
    study: SummaryTables
    table: SummaryTable
    alpha: float

    @property
    def keys(self) -> tuple[str, str]:
        return self.study.groups[0].key, self.study.groups[1].key

    def finding(
        self, row: str, column: str, check: str, status: Status, reason: str, **kw: Any
    ) -> Finding:
        return Finding(self.table.number, row, column, check, status, reason, **kw)


# ---------------------------------------------------------------- formatting helpers


def fmt_p(p: float) -> str:
    """A recomputed P as text: 4 decimals, or 2 significant digits below 0.001."""
    if p < 0.001:
        return f"{p:.1e}"
    return f"{p:.4f}"


def _fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


def _span(value: float, lo: float, hi: float, f: Any = _fmt) -> str:
    if f(lo) == f(hi):
        return str(f(value))
    return f"{f(value)} [{f(lo)}, {f(hi)}]"


def _overlaps(rep: Reported, lo: float, hi: float) -> bool:
    """The printed value's interval meets [lo, hi]."""
    return rep.low <= hi and lo <= rep.high


def _significance(rep: Reported, alpha: float) -> bool | None:
    """Whether a printed P says significant at alpha; None when it cannot tell."""
    if rep.comparator == "=":
        # "P = 0.050" may stand for 0.0496 or 0.0504: its side of 0.05 is not printed.
        if rep.low < alpha < rep.high or rep.value == alpha:
            return None
        return rep.value < alpha
    if rep.comparator in ("<", "<="):
        return True if rep.value <= alpha else None
    return False if rep.value >= alpha else None


def _p_range(
    ctx: _Ctx, row: str, rep: Reported, column: str = "P", group: str | None = None
) -> Finding:
    if rep.value > 1.0 or rep.value < 0.0:
        return ctx.finding(
            row,
            column,
            "p_range",
            "impossible",
            f"a P value is a probability, so it lies between 0 and 1; {rep.text} does not",
            reported=rep.text,
            group=group,
        )
    return ctx.finding(
        row, column, "p_range", "consistent", "within [0, 1]", reported=rep.text, group=group
    )


def _decision(
    ctx: _Ctx,
    row: str,
    rep: Reported,
    p: float,
    lo: float,
    hi: float,
    method: str,
    *,
    column: str = "P",
    group: str | None = None,
    section: str | None = None,
) -> Finding:
    said = _significance(rep, ctx.alpha)
    found = True if hi < ctx.alpha else False if lo >= ctx.alpha else None
    recomputed = _span(p, lo, hi, fmt_p)
    kw: dict[str, Any] = {
        "reported": rep.text,
        "recomputed": recomputed,
        "group": group,
        "section": section,
        "method": method,
        "recomputed_value": p,
        "recomputed_low": lo,
        "recomputed_high": hi,
    }
    a = f"{ctx.alpha:g}"
    if said is None:
        return ctx.finding(
            row,
            column,
            "decision",
            "not_checkable",
            f"P {rep.text} does not say on which side of {a} P lies",
            **kw,
        )
    if found is None:
        return ctx.finding(
            row,
            column,
            "decision",
            "not_checkable",
            f"the recomputed P ranges over {a} within the rounding of the printed values",
            **kw,
        )
    words = {True: "significant", False: "not significant"}
    if said == found:
        return ctx.finding(
            row,
            column,
            "decision",
            "consistent",
            f"{words[said]} at {a}, as printed",
            decision_error=False,
            **kw,
        )
    return ctx.finding(
        row,
        column,
        "decision",
        "inconsistent",
        f"decision error: printed P {rep.text} is {words[said]} at {a}, the recomputed P "
        f"{recomputed} ({method}) is {words[found]}",
        decision_error=True,
        **kw,
    )


# ---------------------------------------------------------------- rows


def _n_row(ctx: _Ctx, row: NRow) -> list[Finding]:
    out = []
    for g in ctx.study.groups:
        printed = row.cells[g.key]
        ok = printed == g.n
        out.append(
            ctx.finding(
                row.label,
                "n",
                "group_size",
                "consistent" if ok else "inconsistent",
                f"the study's {g.label} has n = {g.n}"
                + ("" if ok else f", the table prints {printed}"),
                reported=str(printed),
                recomputed=str(g.n),
                group=g.key,
                section=row.section,
            )
        )
    return out


def _interval(rep: Reported, *, floor: float | None = None) -> tuple[float, float]:
    lo, hi = rep.value - rep.half_unit, rep.value + rep.half_unit
    if floor is not None:
        lo = max(lo, floor)
    return lo, hi


def _scale_findings(ctx: _Ctx, row: ContinuousRow, key: str, cell: MeanSDCell) -> list[Finding]:
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
    elif sc.type == "binary":
        d = debit(cell.mean, cell.sd, cell.n)
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
    ctx: _Ctx, row: ContinuousRow, key: str, cell: MeanSDCell, common: dict[str, Any]
) -> list[Finding]:
    g = grim(cell.mean, cell.n)
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
    gm = grimmer(cell.mean, cell.sd, cell.n, low=row.scale.min, high=row.scale.max)
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


_DECLARED = {"t/t'": "t / t′", "anova": "variance analysis (ANOVA)"}
_TMethod = Literal["student", "welch", "cochran-cox"]
_TEST_NAMES = {"student": "Student t", "welch": "Welch t′", "cochran-cox": "Cochran–Cox t′"}


def _t_range(c1: MeanSDCell, c2: MeanSDCell, name: str) -> _TRange:
    """|t| and P for the printed values and their range over the rounding box."""
    method = cast(_TMethod, name)
    point = independent_t_from_summary(
        c1.mean.value, c1.sd.value, c1.n, c2.mean.value, c2.sd.value, c2.n, method=method
    )
    d_lo = (c1.mean.value - c1.mean.half_unit) - (c2.mean.value + c2.mean.half_unit)
    d_hi = (c1.mean.value + c1.mean.half_unit) - (c2.mean.value - c2.mean.half_unit)
    diffs = [d_lo, d_hi] + ([0.0] if d_lo < 0.0 < d_hi else [])
    s1 = np.linspace(*_interval(c1.sd, floor=c1.sd.half_unit * 1e-6), _GRID)
    s2 = np.linspace(*_interval(c2.sd, floor=c2.sd.half_unit * 1e-6), _GRID)
    d, a, b = (x.ravel() for x in np.meshgrid(np.array(diffs), s1, s2, indexing="ij"))
    zeros = np.zeros_like(d)
    box = independent_t_from_summary(d, a, c1.n, zeros, b, c2.n, method=method)
    t_abs = np.abs(np.asarray(box.statistic, dtype=np.float64))
    p = np.asarray(box.p_value, dtype=np.float64)
    return _TRange(
        _TEST_NAMES[method],
        abs(float(point.statistic)),
        float(t_abs.min()),
        float(t_abs.max()),
        float(point.p_value),
        float(p.min()),
        float(p.max()),
        None if point.dof is None else float(point.dof),
    )


def _candidates(declared: str) -> list[str]:
    if declared in ("student", "anova"):
        return ["student"]
    if declared in ("welch", "cochran-cox"):
        return [declared]
    return ["student", "welch", "cochran-cox"]


def _continuous(ctx: _Ctx, row: ContinuousRow) -> list[Finding]:
    k1, k2 = ctx.keys
    c1, c2 = row.cells[k1], row.cells[k2]
    out: list[Finding] = []
    for key in ctx.keys:
        out.extend(_scale_findings(ctx, row, key, row.cells[key]))
    if row.p is not None:
        out.append(_p_range(ctx, row.label, row.p))
    if row.test in ("t/t'", "student", "welch", "cochran-cox", "anova") and c1.n >= 2 and c2.n >= 2:
        if c1.sd.value <= 0 and c2.sd.value <= 0:
            return out
        out.extend(_between_t(ctx, row, c1, c2))
    for key in ctx.keys:
        cell = row.cells[key]
        if cell.within is not None:
            out.extend(_within(ctx, row, key, cell))
    return out


def _variance_rule(
    ctx: _Ctx, row: ContinuousRow, c1: MeanSDCell, c2: MeanSDCell
) -> tuple[str, Finding]:
    res = independent_t_from_summary(
        c1.mean.value,
        c1.sd.value,
        c1.n,
        c2.mean.value,
        c2.sd.value,
        c2.n,
        method="auto",
        alpha=ctx.alpha,
    )
    vt = res.variance_test
    if vt is None:  # pragma: no cover - "auto" always runs the variance test
        raise AuditError("the F test of variances did not run")
    unequal = float(vt.p_value) < ctx.alpha
    rule = "welch" if unequal else "student"
    f_text = f"F({vt.dof:g}, {vt.dof_denominator:g}) = {float(vt.statistic):.3f}, P = {fmt_p(float(vt.p_value))}"
    calls = "t′ (variances differ)" if unequal else "Student t (variances homogeneous)"
    common: dict[str, Any] = {
        "reported": _DECLARED.get(row.test, row.test),
        "recomputed": f"{f_text}: {calls}",
        "section": row.section,
        "method": "F test of variances on the printed SDs",
        "recomputed_value": float(vt.p_value),
    }
    if row.test == "t/t'":
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


def _between_t(ctx: _Ctx, row: ContinuousRow, c1: MeanSDCell, c2: MeanSDCell) -> list[Finding]:
    out: list[Finding] = []
    rule, vfinding = _variance_rule(ctx, row, c1, c2)
    out.append(vfinding)
    names = _candidates(row.test)
    primary = "student" if row.test == "anova" else rule if row.test == "t/t'" else names[0]
    ranges = {m: _t_range(c1, c2, m) for m in dict.fromkeys([primary, *names])}
    main = ranges[primary]
    assumption = None
    if row.test == "t/t'":
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
        ok = _overlaps(stat.value, lo, hi)
        label = "F" if square else "t"
        out.append(
            ctx.finding(
                row.label,
                label,
                "t_from_summaries",
                "consistent" if ok else "inconsistent",
                (
                    f"|{label}| recomputed from the printed means, SDs and n is {_span(val, lo, hi)}"
                    + ("" if ok else f"; the table prints {stat.value.text}")
                ),
                reported=stat.value.text,
                recomputed=_span(val, lo, hi),
                section=row.section,
                method=main.method,
                recomputed_value=val,
                recomputed_low=lo,
                recomputed_high=hi,
                assumption=assumption,
            )
        )
    if row.p is not None:
        matching = [m for m, r in ranges.items() if _overlaps(row.p, r.p_lo, r.p_hi)]
        texts = "; ".join(
            f"{r.method}: {_span(r.p, r.p_lo, r.p_hi, fmt_p)}" for r in ranges.values()
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
                recomputed=_span(main.p, main.p_lo, main.p_hi, fmt_p),
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
            _decision(
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
    s1 = np.linspace(*_interval(c1.sd, floor=c1.sd.half_unit * 1e-6), _GRID)
    s2 = np.linspace(*_interval(c2.sd, floor=c2.sd.half_unit * 1e-6), _GRID)
    a, b = np.meshgrid(s1 * s1 / c1.n, s2 * s2 / c2.n)
    dof: np.ndarray[Any, np.dtype[np.float64]] = (a + b) ** 2 / (
        a * a / (c1.n - 1) + b * b / (c2.n - 1)
    )
    return dof.ravel()


def _statcheck_between(
    ctx: _Ctx,
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
    t_lo, t_hi = _interval(stat.value, floor=0.0)
    if stat.name == "F":
        t_lo, t_hi = math.sqrt(t_lo), math.sqrt(t_hi)
    student_df = c1.n + c2.n - 2.0
    dofs: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {"student": np.array([student_df])}
    if "welch" in names or "cochran-cox" in names:
        dofs["welch"] = _welch_dof(c1, c2)
    ranges = {}
    for name, dof in dofs.items():
        p_at = 2.0 * sps.t.sf(np.array([t_lo, t_hi])[:, None], dof[None, :])
        p_point = float(np.median(2.0 * sps.t.sf(abs(stat.value.value), dof)))
        ranges[name] = (p_point, float(p_at.min()), float(p_at.max()))
    main_name = "student" if primary not in dofs else primary
    p, lo, hi = ranges[main_name]
    matching = [n for n, (_, a, b) in ranges.items() if _overlaps(p_rep, a, b)]
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
        texts = "; ".join(f"{label[n]}: {_span(v, a, b, fmt_p)}" for n, (v, a, b) in ranges.items())
        reason = (
            f"the printed {stat.name} = {stat.value.value:g} gives P {texts}; the table prints {p_rep.text}, "
            "so the printed statistic and P do not belong together"
        )
    decision_error = None
    said = _significance(p_rep, ctx.alpha)
    if said is not None and (hi < ctx.alpha or lo >= ctx.alpha):
        decision_error = said != (hi < ctx.alpha)
    return ctx.finding(
        row.label,
        "P",
        "p_from_statistic",
        status,
        reason,
        reported=f"{stat.name} = {stat.value.text}, P = {p_rep.text}",
        recomputed=_span(p, lo, hi, fmt_p),
        section=row.section,
        method=f"{label[main_name]} P from the printed statistic",
        recomputed_value=p,
        recomputed_low=lo,
        recomputed_high=hi,
        assumption=assumption,
        decision_error=decision_error,
    )


def _within(ctx: _Ctx, row: ContinuousRow, key: str, cell: MeanSDCell) -> list[Finding]:
    within = cell.within
    if within is None:  # pragma: no cover - caller checks
        return []
    out: list[Finding] = []
    if within.p is not None:
        out.append(_p_range(ctx, row.label, within.p, "within P", key))
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
    t_text = f"{_fmt(t_min)} to {'∞' if math.isinf(t_max) else _fmt(t_max)}"
    if stat is not None and stat.name == "t":
        ok = _overlaps(stat.value, t_min, t_max)
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
    p_lo = float(2.0 * sps.t.sf(t_max, dof)) if not math.isinf(t_max) else 0.0
    p_hi = float(2.0 * sps.t.sf(t_min, dof))
    if within.p is not None and stat is not None and stat.name == "t":
        lo_t, hi_t = _interval(stat.value, floor=0.0)
        q_lo, q_hi = float(2.0 * sps.t.sf(hi_t, dof)), float(2.0 * sps.t.sf(lo_t, dof))
        q = float(2.0 * sps.t.sf(abs(stat.value.value), dof))
        ok = _overlaps(within.p, q_lo, q_hi)
        out.append(
            ctx.finding(
                row.label,
                "within P",
                "p_from_statistic",
                "consistent" if ok else "inconsistent",
                f"P from the printed t = {stat.value.value:g} on {dof} df is {fmt_p(q)}"
                + ("" if ok else f"; the table prints {within.p.text}"),
                reported=f"{within.text}",
                recomputed=_span(q, q_lo, q_hi, fmt_p),
                recomputed_value=q,
                recomputed_low=q_lo,
                recomputed_high=q_hi,
                assumption=f"df = {dof} (n − 1; the paper prints no df)",
                **base,
            )
        )
    if within.p is not None:
        mid = float(
            2.0 * sps.t.sf(math.sqrt(t_min * t_max) if not math.isinf(t_max) else t_min, dof)
        )
        out.append(
            _decision(
                ctx,
                row.label,
                within.p,
                min(max(mid, p_lo), p_hi),
                p_lo,
                p_hi,
                "paired t over all within-patient correlations",
                column="within P",
                group=key,
                section=row.section,
            )
        )
    return out


# ---------------------------------------------------------------- counts


def _count_findings(
    ctx: _Ctx, row_label: str, section: str | None, key: str, cell: CountCell, level: str | None
) -> list[Finding]:
    out = []
    where = f"{level}: " if level else ""
    if cell.count > cell.n:
        out.append(
            ctx.finding(
                row_label,
                "count",
                "counts",
                "impossible",
                f"{where}{cell.count} patients out of a group of {cell.n}",
                reported=cell.text,
                group=key,
                section=section,
            )
        )
    if cell.percent is not None:
        out.append(_percent(ctx, row_label, section, key, cell.count, cell.n, cell.percent, level))
    return out


def _percent(
    ctx: _Ctx,
    row: str,
    section: str | None,
    key: str,
    count: int,
    n: int,
    rep: Reported,
    level: str | None,
) -> Finding:
    value = 100.0 * count / n
    where = f"{level}: " if level else ""
    if rep.value > 100.0 or rep.value < 0.0:
        status: Status = "impossible"
        reason = f"{where}a percentage of patients lies between 0 and 100"
    elif _overlaps(rep, value, value):
        status, reason = "consistent", f"{where}{count}/{n} = {value:.2f} %"
    else:
        status, reason = (
            "inconsistent",
            f"{where}{count}/{n} = {value:.2f} %, which does not round to {rep.text}",
        )
    return ctx.finding(
        row,
        "%",
        "percent",
        status,
        reason,
        reported=rep.text,
        recomputed=f"{value:.{rep.decimals}f}",
        group=key,
        section=section,
        method="100 × count / n",
        recomputed_value=value,
    )


def _table_test(
    ctx: _Ctx,
    label: str,
    section: str | None,
    declared: str,
    rep_p: Reported | None,
    groups_by_levels: np.ndarray[Any, np.dtype[np.int64]],
    shown: str,
) -> list[Finding]:
    out: list[Finding] = []
    if rep_p is None:
        return out
    out.append(_p_range(ctx, label, rep_p))
    props = [
        tuple(Fraction(int(c), int(r.sum())) for c in r) for r in groups_by_levels if r.sum() > 0
    ]
    identical = len(props) == 2 and props[0] == props[1]
    if identical:
        ok = rep_p.high >= 1.0
        out.append(
            ctx.finding(
                label,
                "P",
                "identical_counts",
                "consistent" if ok else "impossible",
                (
                    f"identical proportions in both groups ({shown}) give χ² = 0 and P = 1 under any test"
                    + ("" if ok else f"; the table prints {rep_p.text}")
                ),
                reported=rep_p.text,
                recomputed="1",
                section=section,
                recomputed_value=1.0,
            )
        )
    res = chi_square_p(groups_by_levels)
    variants = {
        "pearson": ("Pearson χ²", res.pearson),
        "yates": ("Yates-corrected χ²", res.yates),
        "fisher": ("Fisher's exact test", res.fisher),
    }
    allowed = {
        "chi-square": ["pearson", "yates", "fisher"],
        "yates": ["yates"],
        "fisher": ["fisher"],
    }.get(declared, ["pearson", "yates", "fisher"])
    primary = declared if declared in ("yates", "fisher") else res.rule
    if variants[primary][1] is None:
        primary = "fisher" if res.fisher is not None else "pearson"
    name, p = variants[primary]
    if p is None:
        # One level only (everyone has it, in both groups) and not 2×2: no test is defined.
        if not identical:
            out.append(
                ctx.finding(
                    label,
                    "P",
                    "p_from_summaries",
                    "not_checkable",
                    "no test is defined for this table",
                    reported=rep_p.text,
                    section=section,
                )
            )
        return out
    # P from counts is exact arithmetic on whole numbers: only the printed P is rounded.
    found = {k: v for k, (_, v) in variants.items() if v is not None and k in allowed}
    matching = [k for k, v in found.items() if _overlaps(rep_p, v, v)]
    all_text = "; ".join(f"{variants[k][0]} {fmt_p(v)}" for k, v in found.items())
    why = {
        "pearson": "n ≥ 40 and every expected count ≥ 5",
        "yates": "n ≥ 40 and an expected count below 5",
        "fisher": "n < 40 or an expected count below 1",
    }[res.rule]
    degenerate = ""
    if res.pearson is None:
        degenerate = " (χ² is undefined: a level is empty in both groups)"
    elif groups_by_levels.shape[1] != (groups_by_levels.sum(axis=0) > 0).sum():
        degenerate = " (levels no patient has are left out)"
    if matching:
        status: Status = "consistent"
        reason = f"matches {', '.join(variants[k][0] for k in matching)} on {shown}{degenerate}"
    else:
        status = "inconsistent"
        reason = f"from {shown}{degenerate}: {all_text}; the table prints {rep_p.text}"
    assumption = None
    if declared == "chi-square":
        assumption = f"'chi-square test': Pearson, Yates or Fisher accepted; the usual rule picks {variants[res.rule][0]} ({why})"
    out.append(
        ctx.finding(
            label,
            "P",
            "p_from_summaries",
            status,
            reason,
            reported=rep_p.text,
            recomputed=fmt_p(p),
            section=section,
            method=name,
            recomputed_value=p,
            recomputed_low=p,
            recomputed_high=p,
            assumption=assumption,
        )
    )
    out.append(_decision(ctx, label, rep_p, p, p, p, name, section=section))
    return out


def _binary(ctx: _Ctx, row: CountRow) -> list[Finding]:
    out: list[Finding] = []
    for key in ctx.keys:
        out.extend(_count_findings(ctx, row.label, row.section, key, row.cells[key], None))
    if any(c.count > c.n for c in row.cells.values()):
        return out
    table = np.array(
        [[c.count, c.n - c.count] for c in (row.cells[k] for k in ctx.keys)], dtype=np.int64
    )
    shown = " vs ".join(f"{row.cells[k].count}/{row.cells[k].n}" for k in ctx.keys)
    out.extend(_table_test(ctx, row.label, row.section, row.test, row.p, table, shown))
    return out


def _categorical(ctx: _Ctx, row: CategoricalRow) -> list[Finding]:
    out: list[Finding] = []
    for key in ctx.keys:
        n = row.levels[0].cells[key].n
        for level in row.levels:
            out.extend(
                _count_findings(ctx, row.label, row.section, key, level.cells[key], level.label)
            )
            if level.percent_row is not None:
                pr = level.percent_row
                out.append(
                    _percent(
                        ctx,
                        pr.label,
                        row.section,
                        key,
                        level.cells[key].count,
                        level.cells[key].n,
                        pr.cells[key],
                        level.label,
                    )
                )
        total = sum(level.cells[key].count for level in row.levels)
        status: Status = (
            "consistent" if total == n else "impossible" if total > n else "inconsistent"
        )
        reason = f"the levels add up to {total} of n = {n}"
        if total < n:
            reason += "; missing values are not reported"
        out.append(
            ctx.finding(
                row.label,
                "count",
                "counts",
                status,
                reason,
                reported=str(total),
                recomputed=str(n),
                group=key,
                section=row.section,
            )
        )
    table = np.array([[lv.cells[k].count for lv in row.levels] for k in ctx.keys], dtype=np.int64)
    if any(lv.cells[k].count > lv.cells[k].n for lv in row.levels for k in ctx.keys):
        return out
    shown = " vs ".join(":".join(str(lv.cells[k].count) for lv in row.levels) for k in ctx.keys)
    if row.ordinal and row.test in ("mann-whitney", "unknown"):
        out.extend(_mann_whitney(ctx, row, table, shown))
    else:
        out.extend(_table_test(ctx, row.label, row.section, row.test, row.p, table, shown))
    return out


def _mann_whitney(
    ctx: _Ctx, row: CategoricalRow, table: np.ndarray[Any, np.dtype[np.int64]], shown: str
) -> list[Finding]:
    out: list[Finding] = []
    if (table.sum(axis=1) == 0).any() or (table.sum(axis=0) > 0).sum() < 2:
        out.append(
            ctx.finding(
                row.label,
                "P",
                "p_from_summaries",
                "not_checkable",
                "a group has no patient counted, or every patient is in one grade: no rank test is defined",
                reported=None if row.p is None else row.p.text,
                section=row.section,
            )
        )
        return out
    mw = mann_whitney_counts(table[0], table[1])
    n1n2 = mw.n1 * mw.n2
    assumption = "levels ordered as listed; SPSS's U (the smaller of U₁ and U₂), normal approximation with the tie correction"
    method = "Mann–Whitney U (asymptotic, tie-corrected)"
    stat = row.statistic
    if stat is not None and stat.name == "U":
        u_rep = stat.value
        if u_rep.value < 0 or u_rep.value > n1n2:
            status: Status = "impossible"
            reason = f"U lies between 0 and n₁n₂ = {n1n2}"
        elif _overlaps(u_rep, mw.u, mw.u):
            status, reason = "consistent", f"U from the grade counts {shown} is {mw.u:g}"
        elif _overlaps(u_rep, n1n2 - mw.u, n1n2 - mw.u):
            status, reason = (
                "consistent",
                f"the printed U is the larger U₂ = n₁n₂ − U = {n1n2 - mw.u:g}",
            )
        else:
            status = "inconsistent"
            reason = f"from the grade counts {shown}: U = {mw.u:g} (U₂ = {n1n2 - mw.u:g}); the table prints {u_rep.text}"
        out.append(
            ctx.finding(
                row.label,
                "U",
                "u_from_counts",
                status,
                reason,
                reported=u_rep.text,
                recomputed=f"{mw.u:g}",
                section=row.section,
                method=method,
                recomputed_value=mw.u,
                assumption=assumption,
            )
        )
    if row.p is None:
        return out
    out.append(_p_range(ctx, row.label, row.p))
    ok = _overlaps(row.p, mw.p_value, mw.p_value) or _overlaps(
        row.p, mw.p_continuity, mw.p_continuity
    )
    out.append(
        ctx.finding(
            row.label,
            "P",
            "p_from_summaries",
            "consistent" if ok else "inconsistent",
            (
                f"from the grade counts {shown}: Z = {mw.z:.3f}, P = {fmt_p(mw.p_value)} "
                f"({fmt_p(mw.p_continuity)} with the continuity correction)"
                + ("" if ok else f"; the table prints {row.p.text}")
            ),
            reported=row.p.text,
            recomputed=fmt_p(mw.p_value),
            section=row.section,
            method=method,
            recomputed_value=mw.p_value,
            assumption=assumption,
        )
    )
    if stat is not None and stat.name == "U" and 0 <= stat.value.value <= n1n2:
        # statcheck's rule for U: Z from the printed U (its rounding interval) and the
        # tie-corrected σ of the printed grade counts.
        lo_u, hi_u = _interval(stat.value)
        zs = [(u - n1n2 / 2.0) / mw.sigma for u in (lo_u, hi_u)]
        ps = [float(2.0 * sps.norm.sf(abs(z))) for z in zs]
        if min(zs) <= 0.0 <= max(zs):
            ps.append(1.0)
        q = float(2.0 * sps.norm.sf(abs((stat.value.value - n1n2 / 2.0) / mw.sigma)))
        ok = _overlaps(row.p, min(ps), max(ps))
        out.append(
            ctx.finding(
                row.label,
                "P",
                "p_from_statistic",
                "consistent" if ok else "inconsistent",
                (
                    f"the printed U = {stat.value.value:g} gives Z = {(stat.value.value - n1n2 / 2.0) / mw.sigma:.3f}, P = {fmt_p(q)}"
                    + ("" if ok else f"; the table prints {row.p.text}")
                ),
                reported=f"U = {stat.value.text}, P = {row.p.text}",
                recomputed=_span(q, min(ps), max(ps), fmt_p),
                section=row.section,
                method=method,
                recomputed_value=q,
                recomputed_low=min(ps),
                recomputed_high=max(ps),
                assumption=assumption,
            )
        )
    out.append(
        _decision(
            ctx, row.label, row.p, mw.p_value, mw.p_value, mw.p_value, method, section=row.section
        )
    )
    return out


# ---------------------------------------------------------------- sections


def _sections(ctx: _Ctx) -> Iterable[Finding]:
    out: list[Finding] = []
    for section in ctx.table.exhaustive_sections:
        rows = [r for r in ctx.table.rows if isinstance(r, CountRow) and r.section == section]
        if not rows:
            continue
        label = " / ".join(r.label for r in rows)
        for key in ctx.keys:
            n = rows[0].cells[key].n
            total = sum(r.cells[key].count for r in rows)
            status: Status = (
                "consistent" if total == n else "impossible" if total > n else "inconsistent"
            )
            out.append(
                ctx.finding(
                    label,
                    "count",
                    "counts",
                    status,
                    f"the rows of '{section}' add up to {total} of n = {n}",
                    reported=str(total),
                    recomputed=str(n),
                    group=key,
                    section=section,
                )
            )
        ps = [r.p for r in rows]
        if len(rows) == 2 and all(p is not None for p in ps):
            p1, p2 = (p for p in ps if p is not None)
            ok = p1.low <= p2.high and p2.low <= p1.high
            out.append(
                ctx.finding(
                    label,
                    "P",
                    "section_p",
                    "consistent" if ok else "inconsistent",
                    (
                        f"'{rows[0].label}' and '{rows[1].label}' split each group in two: they are one "
                        f"2×2 table with one χ² and one P"
                        + ("" if ok else f"; the table prints {p1.text} and {p2.text}")
                    ),
                    reported=f"{p1.text}, {p2.text}",
                    section=section,
                )
            )
    return out
