"""Planning the next study: endpoints from published tables or from data, power curves.

An :class:`Endpoint` states what a future study expects for one comparison — two
proportions, two means with SDs, or two grade distributions. Endpoints come from
explicit numbers, from a summary-table file of the audit format
(:func:`endpoints_from_summary`) or from a dataset (:func:`endpoints_from_data`).
:func:`analytic_power` and :func:`simulated_power` dispatch to
:mod:`kypho.beyond.power` and :mod:`kypho.beyond.montecarlo`;
:func:`plot_power_curves` draws power against size per group.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from kypho.analysis.aggregate import category_codes
from kypho.beyond import montecarlo, power
from kypho.errors import StatisticsError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from kypho.analysis.plan import Plan
    from kypho.audit.model import SummaryTables
    from kypho.schema import Schema

__all__ = [
    "ANALYTIC_ENOUGH",
    "SIMULATION_LIMIT",
    "Endpoint",
    "EndpointPlan",
    "analytic_power",
    "endpoints_from_data",
    "endpoints_from_summary",
    "plan_endpoint",
    "plot_power_curves",
    "simulated_power",
]

Kind = Literal["proportions", "means", "ordinal"]


@dataclass(frozen=True)
class Endpoint:
    """What a planned two-group study expects for one comparison.

    Attributes
    ----------
    label : str
        A name for tables and figures.
    kind : {"proportions", "means", "ordinal"}
        The kind of endpoint.
    values1, values2 : tuple of float
        Group 1 and group 2: ``(p,)`` for proportions, ``(mean, sd)`` for means,
        the grade probabilities (lowest first) for ordinal endpoints.
    groups : tuple of str
        Names of group 1 and group 2.
    observed_n : tuple of int, optional
        The sizes the values were observed with, if known.
    """

    label: str
    kind: Kind
    values1: tuple[float, ...]
    values2: tuple[float, ...]
    groups: tuple[str, str] = ("group 1", "group 2")
    observed_n: tuple[int, int] | None = None

    def describe(self) -> str:
        """The expected values in words."""
        g1, g2 = self.groups
        if self.kind == "proportions":
            return f"{g1} {self.values1[0]:.3g} vs {g2} {self.values2[0]:.3g}"
        if self.kind == "means":
            return (
                f"{g1} {self.values1[0]:.4g} ± {self.values1[1]:.3g} vs "
                f"{g2} {self.values2[0]:.4g} ± {self.values2[1]:.3g} (mean ± SD)"
            )
        p1 = ", ".join(f"{v:.2f}" for v in self.values1)
        p2 = ", ".join(f"{v:.2f}" for v in self.values2)
        return f"{g1} ({p1}) vs {g2} ({p2}) (grade proportions)"


def analytic_power(
    endpoint: Endpoint,
    *,
    n: float | None = None,
    power_target: float | None = None,
    ratio: float = 1.0,
    alpha: float = 0.05,
    method: str | None = None,
) -> power.PowerResult:
    """Analytic power at ``n`` patients in group 1, or the size for ``power_target``.

    Parameters
    ----------
    endpoint : Endpoint
    n : float, optional
        Patients in group 1 (give this or ``power_target``).
    power_target : float, optional
        Power to solve the size for.
    ratio : float
        Group 2 size over group 1 size.
    alpha : float
        Two-sided significance level.
    method : str, optional
        Formula of :mod:`kypho.beyond.power`; by default ``"normal"``
        (proportions), ``"student"`` when the two SDs are equal and ``"welch"``
        otherwise (means), ``"whitehead"`` (ordinal).

    Returns
    -------
    PowerResult

    Notes
    -----
    Means and proportions use ``strict=True``: a rejection in either direction
    counts, which is what the simulated analysis estimates (it differs from R's
    default only for tiny effects).

    Examples
    --------
    >>> leak = Endpoint("Leakage", "proportions", (0.036,), (0.164,))
    >>> round(analytic_power(leak, n=55).power, 3)
    0.612
    """
    if endpoint.kind == "proportions":
        return power.power_proportions(
            endpoint.values1[0],
            endpoint.values2[0],
            n=n,
            power=power_target,
            ratio=ratio,
            alpha=alpha,
            method=method or "normal",
            strict=True,
        )
    if endpoint.kind == "means":
        (m1, s1), (m2, s2) = endpoint.values1, endpoint.values2
        chosen = method or ("student" if s1 == s2 else "welch")
        return power.power_means(
            m1 - m2,
            s1,
            sd2=s2,
            n=n,
            power=power_target,
            ratio=ratio,
            alpha=alpha,
            method=chosen,
            strict=True,
        )
    return power.power_ordinal(
        endpoint.values1,
        endpoint.values2,
        n=n,
        power=power_target,
        ratio=ratio,
        alpha=alpha,
        method=method or "whitehead",
    )


def simulated_power(
    endpoint: Endpoint,
    *,
    n: int,
    ratio: float = 1.0,
    alpha: float = 0.05,
    sims: int = 2000,
    seed: int | None = None,
    progress: montecarlo.Progress | None = None,
) -> montecarlo.SimulatedPower:
    """Monte Carlo power of the analysis's own test ("auto" choices) at ``n``.

    Parameters
    ----------
    endpoint : Endpoint
    n : int
        Patients in group 1.
    ratio, alpha
        As in :func:`analytic_power`.
    sims : int
        Simulated studies.
    seed : int, optional
        Seed of the simulations.
    progress : callable, optional
        ``progress(done, total)`` after each batch.

    Returns
    -------
    SimulatedPower
        From :mod:`kypho.beyond.montecarlo`: means are simulated as normal data
        with the endpoint's means and SDs.
    """
    common: dict[str, Any] = {
        "n": n,
        "ratio": ratio,
        "alpha": alpha,
        "sims": sims,
        "seed": seed,
        "progress": progress,
    }
    if endpoint.kind == "proportions":
        return montecarlo.simulate_power_proportions(
            endpoint.values1[0], endpoint.values2[0], **common
        )
    if endpoint.kind == "means":
        (m1, s1), (m2, s2) = endpoint.values1, endpoint.values2
        return montecarlo.simulate_power_means(m1, s1, m2, s2, **common)
    return montecarlo.simulate_power_ordinal(endpoint.values1, endpoint.values2, **common)


def endpoints_from_summary(tables: SummaryTables) -> list[Endpoint]:
    """Endpoints for every comparable row of published summary tables.

    Continuous rows give means, count rows and two-level categorical rows give
    proportions (the first level is the event), ordinal rows give grade
    distributions. Rows with identical values in both groups, and categorical
    rows with more than two unordered levels, are left out.

    Parameters
    ----------
    tables : kypho.audit.model.SummaryTables
        As :func:`kypho.audit.load_summary_tables` returns.

    Returns
    -------
    list of Endpoint
        Labelled ``"Table N: row"``.
    """
    from kypho.audit.model import CategoricalRow, ContinuousRow, CountRow

    g1, g2 = tables.groups
    names = (g1.label, g2.label)
    found: list[Endpoint] = []
    for table in tables.tables:
        for row in table.rows:
            label = f"Table {table.number}: {row.label}"
            if isinstance(row, ContinuousRow):
                c1, c2 = row.cells[g1.key], row.cells[g2.key]
                endpoint = Endpoint(
                    label,
                    "means",
                    (c1.mean.value, c1.sd.value),
                    (c2.mean.value, c2.sd.value),
                    names,
                    (c1.n, c2.n),
                )
            elif isinstance(row, CountRow):
                k1, k2 = row.cells[g1.key], row.cells[g2.key]
                endpoint = Endpoint(
                    label,
                    "proportions",
                    (k1.count / k1.n,),
                    (k2.count / k2.n,),
                    names,
                    (k1.n, k2.n),
                )
            elif isinstance(row, CategoricalRow) and (row.ordinal or len(row.levels) == 2):
                counts1 = [level.cells[g1.key].count for level in row.levels]
                counts2 = [level.cells[g2.key].count for level in row.levels]
                n1, n2 = sum(counts1), sum(counts2)
                if n1 == 0 or n2 == 0:
                    continue
                if row.ordinal:
                    endpoint = Endpoint(
                        label,
                        "ordinal",
                        tuple(c / n1 for c in counts1),
                        tuple(c / n2 for c in counts2),
                        names,
                        (n1, n2),
                    )
                else:
                    endpoint = Endpoint(
                        f"{label} ({row.levels[0].label})",
                        "proportions",
                        (counts1[0] / n1,),
                        (counts2[0] / n2,),
                        names,
                        (n1, n2),
                    )
            else:
                continue
            if _comparable(endpoint):
                found.append(endpoint)
    return found


def _comparable(endpoint: Endpoint) -> bool:
    """Whether a power calculation is defined (distinct groups, valid values)."""
    if endpoint.values1 == endpoint.values2:
        return False
    if endpoint.kind == "proportions":
        return all(0 < v[0] < 1 for v in (endpoint.values1, endpoint.values2))
    if endpoint.kind == "means":
        return endpoint.values1[1] > 0 and endpoint.values2[1] > 0
    return True


def endpoints_from_data(
    data: pd.DataFrame, schema: Schema, plan: Plan | None = None
) -> list[Endpoint]:
    """Endpoints observed in a derived dataset (after validation and ``derive``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient with the schema's group column and derived columns.
    schema : kypho.schema.Schema
        The study schema (group levels, labels, measures).
    plan : kypho.analysis.Plan, optional
        The analysis plan whose ``beyond.power`` section names the endpoints;
        the built-in plan when omitted.

    Returns
    -------
    list of Endpoint
        In the plan's order: its ``proportions`` (share of yes), ``ordinal``
        (grade distributions) and ``means`` variables, then each ``repeated``
        measure at every timepoint after ``baseline`` (means), where present in
        ``data``.

    Raises
    ------
    kypho.errors.StatisticsError
        The group column is missing or a group has no patient.
    """
    if plan is None:
        from kypho.analysis.plan import load_plan

        plan = load_plan()
    spec = plan.beyond
    group_col = schema.group_column
    if group_col not in data.columns:
        raise StatisticsError(f"the data have no group column {group_col!r}")
    g1, g2 = schema.group_levels
    groups = category_codes(data[group_col], (g1, g2))
    in1, in2 = groups == 0, groups == 1
    if not in1.any() or not in2.any():
        raise StatisticsError(
            f"both groups need patients (got {int(in1.sum())} {g1!r} and {int(in2.sum())} {g2!r})"
        )
    names = (g1, g2)
    found: list[Endpoint] = []

    def label(column: str) -> str:
        if column not in schema:
            return column
        var = schema[column]
        if var.timepoint and var.timepoint in schema.timepoints:
            return f"{var.measure_display_label}, {schema.timepoints[var.timepoint].label}"
        return var.display_label

    for column in spec.power_proportions:
        if column not in data.columns:
            continue
        events = data[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        a, b = events[in1 & ~np.isnan(events)], events[in2 & ~np.isnan(events)]
        if a.size and b.size:
            found.append(
                Endpoint(
                    label(column), "proportions", (a.mean(),), (b.mean(),), names, (a.size, b.size)
                )
            )
    for column in spec.power_ordinal:
        if column not in data.columns:
            continue
        grade = data[column]
        levels = list(schema[column].codes) if column in schema else None
        if not levels:
            levels = list(pd.Categorical(grade).categories)
        codes = category_codes(grade, levels)
        c1 = np.bincount(codes[in1 & (codes >= 0)], minlength=len(levels))
        c2 = np.bincount(codes[in2 & (codes >= 0)], minlength=len(levels))
        if c1.sum() and c2.sum():
            found.append(
                Endpoint(
                    label(column),
                    "ordinal",
                    tuple(float(v) for v in c1 / c1.sum()),
                    tuple(float(v) for v in c2 / c2.sum()),
                    names,
                    (int(c1.sum()), int(c2.sum())),
                )
            )
    columns = list(spec.power_means)
    for measure in spec.power_repeated:
        if measure in schema.repeated:
            columns += [f"{measure}_{tp}" for tp in schema.repeated[measure] if tp != spec.baseline]
    for column in columns:
        if column not in data.columns:
            continue
        values = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
        a, b = values[in1 & ~np.isnan(values)], values[in2 & ~np.isnan(values)]
        if a.size < 2 or b.size < 2:
            continue
        endpoint = Endpoint(
            label(column),
            "means",
            (float(a.mean()), float(a.std(ddof=1))),
            (float(b.mean()), float(b.std(ddof=1))),
            names,
            (a.size, b.size),
        )
        if _comparable(endpoint):
            found.append(endpoint)
    return [e for e in found if _comparable(e)]


SIMULATION_LIMIT = 1000
"""Largest study (both groups) whose power is simulated; larger ones use the formula.

Simulating S studies of N patients costs S × N; beyond this size the tests'
data-driven choices are settled (Pearson's χ², Student's or Welch's t on large
samples) and the analytic power is accurate, so the planning cost stays bounded
whatever the size of the cohort analysed.
"""

ANALYTIC_ENOUGH = 0.999
"""Analytic power at or above which a simulation would only confirm "≈ 1"."""


@dataclass(frozen=True)
class EndpointPlan:
    """The power of the study that was run, and the size of the next one, for one endpoint.

    Attributes
    ----------
    endpoint : Endpoint
    n1, n2 : int
        The observed group sizes.
    analytic : PowerResult
        Analytic power at ``(n1, n2)``.
    simulated : SimulatedPower or None
        Monte Carlo power of the analysis's own test at ``(n1, n2)``; None when
        the analytic value is used (see ``simulated_note``).
    simulated_note : str
        Why there is no simulation ("" when there is one).
    n_needed : dict of float to int or None
        Patients per group (equal groups) for each target power; None when the
        effect is too small for any reachable size.
    next_simulated : SimulatedPower or None
        Monte Carlo power at the size needed for the first target, a check of
        the formula against the analysis's own test; None when that size is
        above :data:`SIMULATION_LIMIT` or the analytic value is ≈ 1.
    """

    endpoint: Endpoint
    n1: int
    n2: int
    analytic: power.PowerResult
    simulated: montecarlo.SimulatedPower | None
    simulated_note: str
    n_needed: dict[float, int | None]
    next_simulated: montecarlo.SimulatedPower | None


def _why_not_simulated(n1: int, n2: int, analytic: float) -> str:
    if analytic >= ANALYTIC_ENOUGH:
        return f"analytic power ≥ {ANALYTIC_ENOUGH}: a simulation would only confirm it"
    if n1 + n2 > SIMULATION_LIMIT:
        return (
            f"{n1 + n2:,} patients > {SIMULATION_LIMIT:,}: at this size the analytic power "
            "is accurate and the tests' choices are settled"
        )
    return ""


def plan_endpoint(
    endpoint: Endpoint,
    *,
    targets: Sequence[float] = (0.8, 0.9),
    sims: int = 2000,
    seed: int | None = None,
    alpha: float = 0.05,
) -> EndpointPlan:
    """Power at the observed size and the size of the next study, at a bounded cost.

    Parameters
    ----------
    endpoint : Endpoint
        With ``observed_n`` (the sizes of the study that was run).
    targets : sequence of float
        Powers to size the next study for (equal groups).
    sims : int
        Simulated studies per Monte Carlo estimate.
    seed : int, optional
        Seed of the simulations.
    alpha : float
        Two-sided significance level.

    Returns
    -------
    EndpointPlan
        Simulations run only for studies of at most :data:`SIMULATION_LIMIT`
        patients whose analytic power is below :data:`ANALYTIC_ENOUGH`, so the
        cost does not grow with the size of the analysed cohort.

    Raises
    ------
    kypho.errors.StatisticsError
        The endpoint has no observed sizes, or invalid values.
    """
    if endpoint.observed_n is None:
        raise StatisticsError(f"endpoint {endpoint.label!r} has no observed group sizes")
    n1, n2 = (int(v) for v in endpoint.observed_n)
    ratio = n2 / n1
    now = analytic_power(endpoint, n=float(n1), ratio=ratio, alpha=alpha)
    note = _why_not_simulated(n1, n2, now.power)
    simulated = (
        None
        if note
        else simulated_power(endpoint, n=n1, ratio=ratio, sims=sims, seed=seed, alpha=alpha)
    )
    needed: dict[float, int | None] = {}
    for target in targets:
        try:
            need = analytic_power(endpoint, power_target=target, alpha=alpha)
            needed[target] = math.ceil(need.n1 - 1e-9)
        except StatisticsError:
            needed[target] = None
    first = needed.get(targets[0]) if targets else None
    next_simulated = None
    if first is not None and first >= 2 and 2 * first <= SIMULATION_LIMIT:
        next_simulated = simulated_power(endpoint, n=first, sims=sims, seed=seed, alpha=alpha)
    return EndpointPlan(
        endpoint=endpoint,
        n1=n1,
        n2=n2,
        analytic=now,
        simulated=simulated,
        simulated_note=note,
        n_needed=needed,
        next_simulated=next_simulated,
    )


def plot_power_curves(
    endpoints: Sequence[Endpoint],
    *,
    sizes: Sequence[float],
    ratio: float = 1.0,
    alpha: float = 0.05,
    target: float | None = 0.8,
    simulated: dict[str, list[montecarlo.SimulatedPower]] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Analytic power against patients per group, one line per endpoint.

    Parameters
    ----------
    endpoints : sequence of Endpoint
    sizes : sequence of float
        Sizes of group 1 at which to draw (a smooth grid is drawn between the
        smallest and the largest).
    ratio, alpha
        As in :func:`analytic_power`.
    target : float, optional
        Draws a dashed horizontal line at this power.
    simulated : dict, optional
        Monte Carlo results per endpoint label, drawn as points with ±2 MC SE bars.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.5, 4.2))
    low, high = max(2.0, float(min(sizes))), float(max(sizes))
    grid = np.unique(np.linspace(low, max(high, low + 1), 60))
    from matplotlib import colormaps

    colours = colormaps["tab10"].colors  # type: ignore[attr-defined]
    for i, endpoint in enumerate(endpoints):
        colour = colours[i % len(colours)]
        curve = [analytic_power(endpoint, n=float(m), ratio=ratio, alpha=alpha).power for m in grid]
        ax.plot(grid, curve, color=colour, label=endpoint.label)
        for point in (simulated or {}).get(endpoint.label, []):
            ax.errorbar(
                point.n1,
                point.power,
                yerr=2 * point.mcse,
                fmt="o",
                color=colour,
                markersize=4,
                capsize=2,
            )
    if target is not None:
        ax.axhline(target, color="0.5", linestyle="--", linewidth=0.8)
    ax.set_xlabel("Patients per group" if ratio == 1 else "Patients in group 1")
    ax.set_ylabel(f"Power (two-sided α = {alpha:g})")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize="small", loc="lower right")
    ax.set_title("Power by sample size (lines: analytic; points: Monte Carlo ± 2 SE)")
    return ax
