"""Checks of count rows: group sizes, counts, percentages, χ²/Fisher, Mann–Whitney, sections.

P values from counts are exact arithmetic on whole numbers: only the printed P is
rounded, so the printed P's interval is compared with the recomputed P itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any, cast

import numpy as np

from kypho.audit._base import (
    Ctx,
    decision_finding,
    fmt_p,
    interval,
    overlaps,
    p_is,
    p_range_finding,
    span,
)
from kypho.audit._engine import chi_square_p, mann_whitney_counts
from kypho.audit.model import (
    CategoricalRow,
    CountCell,
    CountRow,
    NRow,
    Reported,
    ReportedStatistic,
)
from kypho.audit.result import Finding, Status
from kypho.stats import _dist as sps

__all__ = ["binary_findings", "categorical_findings", "n_row_findings", "section_findings"]


def n_row_findings(ctx: Ctx, row: NRow) -> list[Finding]:
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


def _count_findings(
    ctx: Ctx, row_label: str, section: str | None, key: str, cell: CountCell, level: str | None
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
    ctx: Ctx,
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
    elif overlaps(rep, value, value):
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
    ctx: Ctx,
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
    out.append(p_range_finding(ctx, label, rep_p))
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
    matching = [k for k, v in found.items() if overlaps(rep_p, v, v)]
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
    out.append(decision_finding(ctx, label, rep_p, p, p, p, name, section=section))
    return out


def binary_findings(ctx: Ctx, row: CountRow) -> list[Finding]:
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
    out.extend(_chi2_statistic(ctx, row.label, row.section, row.statistic, row.p, table, shown))
    return out


def _chi2_statistic(
    ctx: Ctx,
    label: str,
    section: str | None,
    stat: ReportedStatistic | None,
    rep_p: Reported | None,
    table: np.ndarray[Any, np.dtype[np.int64]],
    shown: str,
) -> list[Finding]:
    """A printed χ² against χ² from the printed counts, and its P (statcheck's rule)."""
    if stat is None or stat.name != "chi2":
        return []
    from kypho.stats import chi_square

    kept = table[:, table.sum(axis=0) > 0]
    kept = kept[kept.sum(axis=1) > 0, :]
    out: list[Finding] = []
    if kept.shape[0] < 2 or kept.shape[1] < 2:
        return out
    dof = (kept.shape[0] - 1) * (kept.shape[1] - 1)
    values = {"Pearson χ²": float(cast(float, chi_square(kept, method="pearson").statistic))}
    if kept.shape == (2, 2):
        values["Yates-corrected χ²"] = float(
            cast(float, chi_square(kept, method="yates").statistic)
        )
    matching = [k for k, v in values.items() if overlaps(stat.value, v, v)]
    listed = "; ".join(f"{k} = {v:.3f}" for k, v in values.items())
    out.append(
        ctx.finding(
            label,
            "χ²",
            "chi_square_from_counts",
            "consistent" if matching else "inconsistent",
            (
                f"matches {', '.join(matching)} from {shown}"
                if matching
                else f"from {shown}: {listed}; the table prints {stat.value.text}"
            ),
            reported=stat.value.text,
            recomputed=listed,
            section=section,
            method="χ² from the printed counts",
            recomputed_value=values["Pearson χ²"],
        )
    )
    if rep_p is not None:
        lo, hi = interval(stat.value)
        p_hi = float(sps.chi2.sf(max(lo, 0.0), dof))
        p_lo = float(sps.chi2.sf(hi, dof))
        q = float(sps.chi2.sf(stat.value.value, dof))
        ok = overlaps(rep_p, p_lo, p_hi)
        out.append(
            ctx.finding(
                label,
                "P",
                "p_from_statistic",
                "consistent" if ok else "inconsistent",
                f"P from the printed χ² = {stat.value.text} on {dof} df is {fmt_p(q)}"
                + ("" if ok else f"; the table prints {rep_p.text}"),
                reported=f"χ² = {stat.value.text}, P = {rep_p.text}",
                recomputed=span(q, p_lo, p_hi, fmt_p),
                section=section,
                method="χ² P from the printed statistic",
                recomputed_value=q,
                recomputed_low=p_lo,
                recomputed_high=p_hi,
                assumption=f"df = {dof} from the table's shape",
            )
        )
    return out


def categorical_findings(ctx: Ctx, row: CategoricalRow) -> list[Finding]:
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
        out.extend(_chi2_statistic(ctx, row.label, row.section, row.statistic, row.p, table, shown))
    return out


def _mann_whitney(
    ctx: Ctx, row: CategoricalRow, table: np.ndarray[Any, np.dtype[np.int64]], shown: str
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
        elif overlaps(u_rep, mw.u, mw.u):
            status, reason = "consistent", f"U from the grade counts {shown} is {mw.u:g}"
        elif overlaps(u_rep, n1n2 - mw.u, n1n2 - mw.u):
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
    out.append(p_range_finding(ctx, row.label, row.p))
    ok = overlaps(row.p, mw.p_value, mw.p_value) or overlaps(
        row.p, mw.p_continuity, mw.p_continuity
    )
    out.append(
        ctx.finding(
            row.label,
            "P",
            "p_from_summaries",
            "consistent" if ok else "inconsistent",
            (
                f"from the grade counts {shown}: Z = {mw.z:.3f}, {p_is(fmt_p(mw.p_value))} "
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
        lo_u, hi_u = interval(stat.value)
        zs = [(u - n1n2 / 2.0) / mw.sigma for u in (lo_u, hi_u)]
        ps = [float(2.0 * sps.norm.sf(abs(z))) for z in zs]
        if min(zs) <= 0.0 <= max(zs):
            ps.append(1.0)
        q = float(2.0 * sps.norm.sf(abs((stat.value.value - n1n2 / 2.0) / mw.sigma)))
        ok = overlaps(row.p, min(ps), max(ps))
        out.append(
            ctx.finding(
                row.label,
                "P",
                "p_from_statistic",
                "consistent" if ok else "inconsistent",
                (
                    f"the printed U = {stat.value.value:g} gives Z = {(stat.value.value - n1n2 / 2.0) / mw.sigma:.3f}, {p_is(fmt_p(q))}"
                    + ("" if ok else f"; the table prints {row.p.text}")
                ),
                reported=f"U = {stat.value.text}, P = {row.p.text}",
                recomputed=span(q, min(ps), max(ps), fmt_p),
                section=row.section,
                method=method,
                recomputed_value=q,
                recomputed_low=min(ps),
                recomputed_high=max(ps),
                assumption=assumption,
            )
        )
    out.append(
        decision_finding(
            ctx, row.label, row.p, mw.p_value, mw.p_value, mw.p_value, method, section=row.section
        )
    )
    return out


# ---------------------------------------------------------------- sections


def section_findings(ctx: Ctx) -> Iterable[Finding]:
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
