"""What a synthetic cohort reproduces of the published tables, value by value.

:func:`build_report` compares each published value with the same quantity of the
generated included patients and says, with a reason, whether it is reproduced.
Published test statistics are recomputed from the generated data; where no data
with the published means, SDs and counts could give them (paired t values far too
small for the printed changes, P values above 1, a chi-square P for identical
all-yes counts), the reason says why, so that a reader knows which published
numbers the cohort does not, and cannot, match.

References
----------
.. [1] Brown NJL, Heathers JAJ. The GRIM test. Soc Psychol Personal Sci
   2017;8:363-369 (whole-number means).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from kypho.audit.model import CategoricalRow, CountRow, Reported
from kypho.schema import Schema
from kypho.synth.draw import Movable
from kypho.synth.targets import ContinuousTarget, Targets

__all__ = ["Achieved", "ReportEntry", "Status", "SynthReport", "build_report", "t_range"]

Status = Literal["reproduced", "not_reproduced", "impossible", "approximate", "scaled", "assumed"]
_FAILED: frozenset[str] = frozenset(["not_reproduced", "impossible"])
_ORDER: tuple[Status, ...] = (
    "reproduced",
    "scaled",
    "approximate",
    "assumed",
    "not_reproduced",
    "impossible",
)


@dataclass
class Achieved:
    """What one group of included patients came out as (filled while generating)."""

    values: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    codes: dict[str, npt.NDArray[np.generic]] = field(default_factory=dict)
    leak_sites: npt.NDArray[np.generic] = field(default_factory=lambda: np.array([], dtype=object))
    defaults: dict[str, tuple[float, float]] = field(default_factory=dict)
    # column -> (its values on their grid, a function writing total steps back to the input)
    handles: dict[
        str, tuple[Movable, Callable[[npt.NDArray[np.int64]], npt.NDArray[np.float64]]]
    ] = field(default_factory=dict)
    # summaries of chunks absorbed (a cohort drawn in chunks keeps no arrays):
    # column -> (n, mean, sum of squared deviations); column -> code -> count
    moments: dict[str, tuple[int, float, float]] = field(default_factory=dict)
    code_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    leak_counts: dict[str, int] = field(default_factory=dict)

    def absorb(self, chunk: Achieved) -> None:
        """Add a chunk of the same group's patients, as summaries only.

        Means and sums of squares are combined exactly (Chan, Golub and LeVeque's
        pairwise update), so the report of a cohort drawn in chunks gives its mean
        and SD as if computed over all of it at once (to rounding).
        """
        for column, x in chunk.values.items():
            x = np.asarray(x, dtype=np.float64)
            if len(x) == 0:
                continue
            n_b, mean_b = len(x), float(np.mean(x))
            m2_b = float(np.sum((x - mean_b) ** 2))
            n_a, mean_a, m2_a = self.moments.get(column, (0, 0.0, 0.0))
            n = n_a + n_b
            delta = mean_b - mean_a
            self.moments[column] = (
                n,
                mean_a + delta * n_b / n,
                m2_a + m2_b + delta * delta * n_a * n_b / n,
            )
        for column, codes in chunk.codes.items():
            tally = self.code_counts.setdefault(column, {})
            for code, count in _tally(np.asarray(codes).astype(str)).items():
                tally[code] = tally.get(code, 0) + count
        for code, count in _leak_counts(chunk.leak_sites).items():
            self.leak_counts[code] = self.leak_counts.get(code, 0) + count
        self.defaults.update(chunk.defaults)

    def count(self, column: str, code: str) -> int:
        """Patients with ``code`` in ``column``."""
        if column in self.codes:
            return int(np.sum(self.codes[column] == code))
        return self.code_counts.get(column, {}).get(code, 0)

    def leaks(self) -> dict[str, int]:
        """Leaks by type."""
        return _leak_counts(self.leak_sites) if len(self.leak_sites) else dict(self.leak_counts)

    def summary(self, column: str) -> tuple[float, float, int] | None:
        """Mean, SD and n of a column's values (None when not drawn)."""
        if column in self.values:
            x = self.values[column]
            if len(x) < 2:
                return None
            return float(np.mean(x)), float(np.std(x, ddof=1)), len(x)
        if column in self.moments:
            n, mean, m2 = self.moments[column]
            return (mean, float(np.sqrt(m2 / (n - 1))), n) if n >= 2 else None
        return None


def _tally(codes: npt.NDArray[np.str_]) -> dict[str, int]:
    """How many times each code occurs: one comparison per distinct code (a column
    of codes has a handful), sorting what is left when there are many."""
    out: dict[str, int] = {}
    rest = codes
    while len(rest) and len(out) < 32:
        code = rest[0]
        same = rest == code
        out[str(code)] = int(np.count_nonzero(same))
        rest = rest[~same]
    if len(rest):
        found, counts = np.unique(rest, return_counts=True)
        out.update(zip(found.tolist(), (int(c) for c in counts.tolist()), strict=True))
    return out


def _leak_counts(sites: npt.NDArray[np.generic]) -> dict[str, int]:
    text = np.asarray(sites, dtype=str)
    leaks = pd.Series(text[text != ""]).str.split(";").explode()
    return {str(k): int(v) for k, v in leaks.value_counts().items()}


@dataclass(frozen=True)
class ReportEntry:
    """One published value and what the cohort gives for it.

    ``table`` is the published table's number (0: in no table). ``column`` is the
    group key for summaries and counts, or the statistic's name (``t``, ``P``,
    ``U``) for between-group tests and ``<group> t`` / ``<group> P`` for
    within-group comparisons. ``status``: ``reproduced``; ``not_reproduced`` (possible
    with the published values, not achieved); ``impossible`` (no data consistent with
    the other published values give it); ``approximate`` (another n than published:
    same distribution, not matched to the rounding); ``scaled`` (a count scaled to
    another n); ``assumed`` (not published: kypho's default distribution).
    """

    table: int
    row: str
    column: str
    reported: str
    achieved: str
    status: Status
    reason: str


@dataclass(frozen=True)
class SynthReport:
    """The reproduction report of a synthetic cohort.

    Attributes
    ----------
    entries
        One per published value checked.
    exact
        Whether summaries were repaired to the printed rounding.
    sizes
        Included patients per group.
    unbound
        Published rows the binding does not map to a column (not generated).
    """

    entries: tuple[ReportEntry, ...]
    exact: bool
    sizes: Mapping[str, int]
    unbound: tuple[tuple[int, str], ...] = ()

    @property
    def failures(self) -> tuple[ReportEntry, ...]:
        """Entries not reproduced (or impossible as published)."""
        return tuple(e for e in self.entries if e.status in _FAILED)

    def to_frame(self) -> pd.DataFrame:
        """One row per entry: table, row, column, reported, achieved, status, reason."""
        return pd.DataFrame(
            [e.__dict__ for e in self.entries],
            columns=["table", "row", "column", "reported", "achieved", "status", "reason"],
        )

    def summary(self) -> str:
        """One line: values checked, reproduced, not reproduced."""
        statuses = [e.status for e in self.entries]
        parts = ", ".join(
            f"{statuses.count(s)} {s.replace('_', ' ')}" for s in _ORDER if s in statuses
        )
        return f"{len(self.entries)} published values checked: {parts}"


def _fmt(value: float, decimals: int) -> str:
    return "nan" if not math.isfinite(value) else f"{value:.{decimals}f}"


def _close(value: float, rep: Reported) -> bool:
    """Whether ``value`` prints as the reported number (or satisfies its bound)."""
    if not math.isfinite(value):
        return False
    if rep.comparator == "<":
        return value < rep.value
    if rep.comparator == "<=":
        return value <= rep.value
    if rep.comparator == ">":
        return value > rep.value
    if rep.comparator == ">=":
        return value >= rep.value
    return abs(value - rep.value) <= rep.half_unit * (1 + 1e-9)


def build_report(
    targets: Targets,
    achieved: Mapping[str, Achieved],
    *,
    exact: bool,
    sizes: Mapping[str, int],
    published: Mapping[str, int],
    schema: Schema,
) -> SynthReport:
    """Compare every published value with the generated included patients.

    Parameters
    ----------
    targets
        The bound published values.
    achieved
        Per group, the generated included patients' values.
    exact
        Whether the generator repaired summaries to the printed rounding.
    sizes, published
        Generated and published patients per group.
    schema
        The study schema (for the declared scale of each column).
    """
    entries: list[ReportEntry] = []
    groups = [g for g in schema.group_levels if g in achieved]
    same_size = all(sizes[g] == published[g] for g in groups)
    for t in targets.continuous:
        entries.extend(_continuous(t, targets, achieved, groups, exact, schema))
    for column, ct in targets.counts.items():
        for code, by_group in ct.counts.items():
            for g in groups:
                if g not in by_group:
                    continue
                got = achieved[g].count(column, code)
                want = by_group[g]
                label = f"{column} = {code}"
                if same_size:
                    status: Status = "reproduced" if got == want else "not_reproduced"
                    reason = "" if got == want else f"generated {got}, published {want}"
                else:
                    status = "scaled"
                    reason = f"published {want} of {published[g]}, scaled to {sizes[g]}"
                entries.append(ReportEntry(ct.table, label, g, str(want), str(got), status, reason))
                pct = ct.percents.get(code, {}).get(g)
                if pct is not None and same_size:
                    value = 100.0 * got / sizes[g]
                    decimals = len(pct.split(".")[1]) if "." in pct else 0
                    ok = abs(value - float(pct)) <= 0.5 * 10.0**-decimals * (1 + 1e-9)
                    pct_status: Status = "reproduced"
                    pct_reason = ""
                    if not ok:
                        pct_status = "impossible" if got == want else "not_reproduced"
                        pct_reason = f"{got} of {sizes[g]} is {value:.2f}%" + (
                            ": the printed percentage does not follow from the printed count"
                            if got == want
                            else ""
                        )
                    entries.append(
                        ReportEntry(
                            ct.table,
                            f"{label} (%)",
                            g,
                            pct,
                            _fmt(value, decimals),
                            pct_status,
                            pct_reason,
                        )
                    )
    for g in groups:
        leaks = achieved[g].leaks()
        for code, want in targets.leak_types.get(g, {}).items():
            got = leaks.get(code, 0)
            status = (
                "reproduced" if got == want else ("scaled" if not same_size else "not_reproduced")
            )
            entries.append(
                ReportEntry(
                    0, f"leak type {code} (Results text)", g, str(want), str(got), status, ""
                )
            )
    for g in groups:
        for column, (mean, sd) in achieved[g].defaults.items():
            entries.append(
                ReportEntry(
                    0,
                    f"{column} (not in the published tables)",
                    g,
                    "",
                    f"drawn with mean {mean:g} and SD {sd:g}",
                    "assumed",
                    "the tables give no summary for it: kypho's default distribution was used",
                )
            )
    if same_size and exact:
        entries.extend(_count_tests(targets, achieved, groups))
    return SynthReport(
        entries=tuple(entries), exact=exact, sizes=dict(sizes), unbound=targets.unbound
    )


def _continuous(
    t: ContinuousTarget,
    targets: Targets,
    achieved: Mapping[str, Achieved],
    groups: list[str],
    exact: bool,
    schema: Schema,
) -> list[ReportEntry]:
    out: list[ReportEntry] = []
    stats: dict[str, tuple[float, float, int]] = {}
    for g in groups:
        summary = achieved[g].summary(t.column) if g in t.cells else None
        if summary is None:
            continue
        cell = t.cells[g]
        m, s, size = summary
        stats[g] = summary
        for what, value, rep in (("mean", m, cell.mean), ("SD", s, cell.sd)):
            ok = _close(value, rep)
            status: Status = "reproduced"
            reason = ""
            if not ok and exact and size == cell.n:
                status, reason = (
                    "not_reproduced",
                    "the repair to the printed rounding did not converge",
                )
            elif not ok:
                status = "approximate"
                reason = (
                    f"n = {size}, not the published {cell.n}: drawn from the same "
                    "distribution" + (" and matched as closely as the grid allows" if exact else "")
                )
            out.append(
                ReportEntry(
                    t.table,
                    f"{t.row} {what} [{t.column}]",
                    g,
                    rep.text,
                    _fmt(value, rep.decimals + 2),
                    status,
                    reason,
                )
            )
        scale = t.row_data.scale
        if scale.type == "integer" and schema[t.column].type != "integer":
            why = _integer_impossible(cell.mean, cell.sd, cell.n, scale.min, scale.max)
            if why:
                out.append(
                    ReportEntry(
                        t.table,
                        f"{t.row} scale [{t.column}]",
                        g,
                        f"{cell.mean.text}±{cell.sd.text} on whole points"
                        + (" (assumed by the transcription)" if scale.assumed else ""),
                        "generated on the schema's scale (a number, not whole points)",
                        "not_reproduced",
                        why,
                    )
                )
    same_size = all(stats[g][2] == t.cells[g].n for g in stats)
    if exact and same_size and len(stats) == 2 and len(groups) == 2:
        out.extend(_between(t, stats, groups))
        out.extend(_within(t, targets, achieved, groups))
    return out


def _integer_impossible(
    mean: Reported, sd: Reported, n: int, lo: float | None, hi: float | None
) -> str:
    """Why no ``n`` whole numbers print as this mean and SD ('' when some do)."""
    sums = range(
        math.ceil((mean.value - mean.half_unit) * n),
        math.floor((mean.value + mean.half_unit) * n) + 1,
    )
    if len(sums) == 0:
        return (
            f"GRIM: no {n} whole numbers have a mean that prints as {mean.text} "
            f"(their means are multiples of 1/{n})"
        )
    least = min(_least_sd(total, n) for total in sums)
    if least > sd.value + sd.half_unit:
        return (
            f"no {n} whole numbers with mean {mean.text} have an SD as small as {sd.text} "
            f"(the least possible is {least:.3f})"
        )
    return ""


def _least_sd(total: int, n: int) -> float:
    # the values closest to equal: r of them q + 1, the rest q
    q, r = divmod(total, n)
    ss = n * q * q + r * (2 * q + 1)
    return math.sqrt(max(ss - total * total / n, 0.0) / (n - 1))


def t_range(t: ContinuousTarget, groups: list[str], *, pooled: bool) -> tuple[float, float]:
    """Least and greatest |t| of any data whose means and SDs print as the published ones.

    |t| = |x̄₁ − x̄₂| / SE grows with the mean difference and falls with either SD, so
    its extremes lie at the ends of the rounding intervals.
    """
    c1, c2 = (t.cells[g] for g in groups)
    n1, n2 = c1.n, c2.n
    d_lo = c1.mean.low - c2.mean.high
    d_hi = c1.mean.high - c2.mean.low
    least_diff = 0.0 if d_lo <= 0 <= d_hi else min(abs(d_lo), abs(d_hi))
    most_diff = max(abs(d_lo), abs(d_hi))

    def se(s1: float, s2: float) -> float:
        if pooled:
            sp2 = ((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2) / (n1 + n2 - 2)
            return math.sqrt(sp2 * (1 / n1 + 1 / n2))
        return math.sqrt(s1 * s1 / n1 + s2 * s2 / n2)

    se_hi = se(c1.sd.high, c2.sd.high)
    se_lo = se(max(c1.sd.low, 0.0), max(c2.sd.low, 0.0))
    return least_diff / se_hi, (most_diff / se_lo if se_lo > 0 else math.inf)


def _between(
    t: ContinuousTarget, stats: Mapping[str, tuple[float, float, int]], groups: list[str]
) -> list[ReportEntry]:
    from scipy import stats as sps

    from kypho.stats import independent_t_from_summary

    row = t.row_data
    a, b = (stats[g] for g in groups)
    student = independent_t_from_summary(*a, *b, method="student")
    welch = independent_t_from_summary(*a, *b, method="welch")
    ranges = (t_range(t, groups, pooled=True), t_range(t, groups, pooled=False))
    n1, n2 = (t.cells[g].n for g in groups)
    dofs = (float(n1 + n2 - 2), float(welch.dof) if welch.dof is not None else math.nan)
    out: list[ReportEntry] = []
    label = f"{t.row} [{t.column}]"
    span = (
        f"with the published means and SDs (to their rounding) |t| lies in "
        f"{ranges[0][0]:.3f}–{ranges[0][1]:.3f} (Student) or "
        f"{ranges[1][0]:.3f}–{ranges[1][1]:.3f} (Welch)"
    )
    if row.statistic is not None:
        rep = row.statistic.value
        got = (abs(float(student.statistic)), abs(float(welch.statistic)))
        ok = any(_close(v, rep) for v in got)
        possible = any(rep.low <= hi and rep.high >= lo for lo, hi in ranges)
        status: Status = "reproduced" if ok else ("not_reproduced" if possible else "impossible")
        reason = ""
        if not ok:
            reason = span + (
                "; possible, but not reached with the cohort's values at their stored resolution"
                if possible
                else ""
            )
        out.append(
            ReportEntry(
                t.table,
                label,
                row.statistic.name,
                rep.text,
                f"{got[0]:.3f} (Student), {got[1]:.3f} (Welch)",
                status,
                reason,
            )
        )
    if row.p is not None:
        rep = row.p
        got_p = (float(student.p_value), float(welch.p_value))
        p_ranges = [
            (2 * float(sps.t.sf(hi, dof)), 2 * float(sps.t.sf(lo, dof)))
            for (lo, hi), dof in zip(ranges, dofs, strict=True)
        ]
        if rep.value > 1:
            status = "impossible"
            reason = "a P value cannot exceed 1"
        elif any(_close(v, rep) for v in got_p):
            status, reason = "reproduced", ""
        elif any(rep.low <= hi and rep.high >= lo for lo, hi in p_ranges):
            status = "not_reproduced"
            reason = "possible with the published summaries, but not with this cohort's"
            printed_t = row.statistic.value if row.statistic is not None else None
            if printed_t is not None and printed_t.comparator == "=":
                # the P that the printed t itself implies, on Student's df
                p_hi = 2 * float(sps.t.sf(printed_t.low, dofs[0]))
                p_lo = 2 * float(sps.t.sf(printed_t.high, dofs[0]))
                if rep.high < p_lo or rep.low > p_hi:
                    status = "impossible"
                    reason = (
                        f"possible with the published means and SDs, but not together with "
                        f"the printed t = {printed_t.text}: on {dofs[0]:g} df it gives "
                        f"P = {p_lo:.4f}–{p_hi:.4f}"
                    )
        else:
            status = "impossible"
            reason = (
                f"with the published means and SDs (to their rounding) P lies in "
                f"{p_ranges[0][0]:.3g}–{p_ranges[0][1]:.3g} (Student) or "
                f"{p_ranges[1][0]:.3g}–{p_ranges[1][1]:.3g} (Welch)"
            )
        out.append(
            ReportEntry(
                t.table,
                label,
                "P",
                rep.text,
                f"{got_p[0]:.3f} (Student), {got_p[1]:.3f} (Welch)",
                status,
                reason,
            )
        )
    return out


def _within(
    t: ContinuousTarget,
    targets: Targets,
    achieved: Mapping[str, Achieved],
    groups: list[str],
) -> list[ReportEntry]:
    from scipy import stats as sps

    out: list[ReportEntry] = []
    for g in groups:
        cell = t.cells.get(g)
        if cell is None or cell.within is None:
            continue
        w = cell.within
        base = next(
            (b for b in targets.continuous if b.table == t.table and b.row == w.versus), None
        )
        if base is None or base.column not in achieved[g].values or g not in base.cells:
            continue
        x = achieved[g].values[t.column]
        y = achieved[g].values[base.column]
        res = sps.ttest_rel(y, x)
        t_got, p_got = abs(float(res.statistic)), float(res.pvalue)
        base_cell = base.cells[g]
        label = f"{t.row} vs {w.versus} [{t.column}]"
        if w.statistic is not None:
            rep = w.statistic.value
            ok = _close(t_got, rep)
            reason = ""
            status: Status = "reproduced" if ok else "not_reproduced"
            if not ok:
                m1, s1 = base_cell.mean.value, base_cell.sd.value
                m2, s2 = cell.mean.value, cell.sd.value
                t_min = abs(m1 - m2) / ((s1 + s2) / math.sqrt(cell.n))
                if rep.high < t_min:
                    status = "impossible"
                    reason = (
                        f"impossible on these summaries: with means {base_cell.mean.text} and "
                        f"{cell.mean.text}, SDs {base_cell.sd.text} and {cell.sd.text} (n = {cell.n}) "
                        f"the SD of the differences is at most {s1 + s2:.2f}, so |t| ≥ {t_min:.1f}"
                    )
                else:
                    reason = "the generated correlation over time gives another t"
            out.append(
                ReportEntry(
                    t.table,
                    label,
                    f"{g} t",
                    rep.text,
                    f"{t_got:.3f}",
                    status,
                    reason,
                )
            )
        if w.p is not None:
            ok = _close(p_got, w.p)
            out.append(
                ReportEntry(
                    t.table,
                    label,
                    f"{g} P",
                    w.p.text,
                    f"{p_got:.3g}",
                    "reproduced" if ok else "not_reproduced",
                    "" if ok else "the generated paired differences give this P",
                )
            )
    return out


def _count_tests(
    targets: Targets, achieved: Mapping[str, Achieved], groups: list[str]
) -> list[ReportEntry]:
    out: list[ReportEntry] = []
    for table in targets.tables.tables:
        for row in table.rows:
            if not isinstance(row, CountRow | CategoricalRow) or row.p is None:
                continue
            if isinstance(row, CountRow):
                yes = [row.cells[g].count for g in groups]
                counts = np.array(
                    [yes, [row.cells[g].n - c for g, c in zip(groups, yes, strict=True)]]
                )
            else:
                counts = np.array([[lev.cells[g].count for g in groups] for lev in row.levels])
            out.extend(_count_test(table.number, row, counts))
    return out


def _count_test(
    table: int, row: CountRow | CategoricalRow, counts: npt.NDArray[np.int64]
) -> list[ReportEntry]:
    from scipy import stats as sps

    rep = row.p
    if rep is None:
        return []
    if isinstance(row, CategoricalRow) and row.ordinal:
        scores = np.arange(counts.shape[0])
        a = np.repeat(scores, counts[:, 0])
        b = np.repeat(scores, counts[:, 1])
        mw = sps.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
        u1 = float(mw.statistic)
        u2 = len(a) * len(b) - u1
        entries: list[ReportEntry] = []
        if row.statistic is not None:
            ok = any(_close(u, row.statistic.value) for u in (u1, u2))
            entries.append(
                ReportEntry(
                    table,
                    row.label,
                    "U",
                    row.statistic.value.text,
                    f"{min(u1, u2):.2f}",
                    "reproduced" if ok else "impossible",
                    ""
                    if ok
                    else "the published grade counts give this U (the smaller of U and n₁n₂ − U)",
                )
            )
        p = float(mw.pvalue)
        ok = _close(p, rep)
        entries.append(
            ReportEntry(
                table,
                row.label,
                "P",
                rep.text,
                f"{p:.3f}",
                "reproduced" if ok else "impossible",
                ""
                if ok
                else "the published grade counts give this P (Mann–Whitney, normal approximation with ties)",
            )
        )
        return entries
    nonzero = counts[counts.sum(axis=1) > 0]
    if nonzero.shape[0] < 2:
        return [
            ReportEntry(
                table,
                row.label,
                "P",
                rep.text,
                "undefined",
                "impossible",
                "every patient in both groups is in one category: the chi-square test is "
                "undefined and identical counts cannot give P below 1",
            )
        ]
    pearson = float(sps.chi2_contingency(nonzero, correction=False).pvalue)
    yates = float(sps.chi2_contingency(nonzero, correction=True).pvalue)
    candidates = [pearson, yates]
    if nonzero.shape == (2, 2):
        candidates.append(float(sps.fisher_exact(nonzero).pvalue))
    ok = any(_close(p, rep) for p in candidates)
    return [
        ReportEntry(
            table,
            row.label,
            "P",
            rep.text,
            ", ".join(f"{p:.3f}" for p in candidates),
            "reproduced" if ok else "impossible",
            ""
            if ok
            else "the published counts give these P (Pearson, Yates"
            + (", Fisher" if len(candidates) == 3 else "")
            + "); no data with these counts give the printed one",
        )
    ]
