"""Trajectories over time: a linear mixed model of group × time with a random intercept.

The paper compares the groups at each timepoint with a t test and each
timepoint with baseline by a paired t test — up to seven separate tests per
measure, each ignoring the others. A linear mixed model uses every measurement
of every patient in one model: the mean at each timepoint in each group (fixed
effects for group, time and their interaction) and a random intercept per
patient, which makes a patient's measurements correlated. Patients with a
missing timepoint still contribute their other measurements (valid when data
are missing at random).

Covariance choice
-----------------
A random intercept implies *compound symmetry* within a patient: every
measurement has variance σ²_u + σ²_e and any two measurements of one patient
have covariance σ²_u (intraclass correlation σ²_u/(σ²_u + σ²_e)). It is the
model of the classical repeated-measures (split-plot) ANOVA, it needs two
variance parameters whatever the number of timepoints, and it is estimable with
the paper's 55 patients per group. Its limits: equal variance at every timepoint
and equal correlation between any two timepoints. VAS in particular shrinks
from about 8 ± 0.5 to 0.2 ± 0.1 over 48 h, so its variance is not constant; the
estimates of the means remain unbiased, but their standard errors lean on the
pooled variance. An unstructured covariance (one variance per timepoint, one
correlation per pair) relaxes both and is the next step when the data allow it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from kypho.errors import StatisticsError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from kypho.schema import Schema

__all__ = [
    "TrajectoryResult",
    "fit_trajectory",
    "mixed_model",
    "plot_trajectory",
]


@dataclass(frozen=True)
class TrajectoryResult:
    """A fitted group × time random-intercept model.

    Attributes
    ----------
    measure : str
        What was modelled (label).
    groups : tuple of str
        Reference group first, then the compared group.
    times : tuple of str
        Timepoints in order; the first is the reference.
    fixed : pandas.DataFrame
        One row per fixed effect: ``term``, ``estimate``, ``se``, ``ci_low``,
        ``ci_high``, ``p_value`` (Wald, normal reference).
    means : pandas.DataFrame
        Model-based mean per ``group`` and ``time`` with ``se``, ``ci_low``, ``ci_high``.
    differences : pandas.DataFrame
        Compared group minus reference group at each ``time``, with ``se``, CI, ``p_value``.
    sigma2_patient, sigma2_residual : float
        Variance of the random intercept and of the residual (REML).
    icc : float
        Intraclass correlation σ²_u / (σ²_u + σ²_e).
    interaction_chi2, interaction_dof, interaction_p : float, int, float
        Wald test that the group difference is the same at every timepoint.
    n_patients, n_observations : int
        Patients and measurements used.
    converged : bool
        Whether the optimiser reported convergence.
    notes : tuple of str
        Warnings raised during the fit, verbatim.
    confidence : float
        Level of the CIs.
    """

    measure: str
    groups: tuple[str, str]
    times: tuple[str, ...]
    fixed: pd.DataFrame
    means: pd.DataFrame
    differences: pd.DataFrame
    sigma2_patient: float
    sigma2_residual: float
    icc: float
    interaction_chi2: float
    interaction_dof: int
    interaction_p: float
    n_patients: int
    n_observations: int
    converged: bool
    notes: tuple[str, ...] = field(default=())
    confidence: float = 0.95

    def to_frame(self) -> pd.DataFrame:
        """The group differences by time, with the model's summary in extra columns."""
        frame = self.differences.copy()
        frame.insert(0, "measure", self.measure)
        frame["sigma2_patient"] = self.sigma2_patient
        frame["sigma2_residual"] = self.sigma2_residual
        frame["interaction_p"] = self.interaction_p
        return frame


def _design(
    group: NDArray[np.int64], time: NDArray[np.int64], n_times: int
) -> tuple[NDArray[np.float64], list[str]]:
    """Treatment-coded design: intercept, group, time dummies, group × time dummies."""
    n = group.size
    columns = [np.ones(n), group.astype(float)]
    names = ["intercept", "group"]
    for t in range(1, n_times):
        columns.append((time == t).astype(float))
        names.append(f"time[{t}]")
    for t in range(1, n_times):
        columns.append(group * (time == t).astype(float))
        names.append(f"group:time[{t}]")
    return np.column_stack(columns), names


def _contrast(g: int, t: int, n_times: int) -> NDArray[np.float64]:
    row = np.zeros(2 * n_times)
    row[0] = 1.0
    row[1] = g
    if t > 0:
        row[1 + t] = 1.0
        row[n_times + t] = g
    return row


def mixed_model(
    values: ArrayLike,
    patient: ArrayLike,
    group: ArrayLike,
    time: ArrayLike,
    *,
    groups: Sequence[str],
    times: Sequence[str],
    measure: str = "value",
    confidence: float = 0.95,
) -> TrajectoryResult:
    """Fit ``value ~ group * time + (1 | patient)`` by REML, from long-format arrays.

    Parameters
    ----------
    values : array_like of float
        One measurement per element; NaN rows are dropped.
    patient, group, time : array_like
        Patient id, group label and timepoint label of each measurement.
    groups : sequence of 2 str
        The reference group first (e.g. ``("control", "experimental")``).
    times : sequence of str
        Timepoints in order; the first is the reference (e.g. preoperative).
    measure : str
        Label of the measure, for results and figures.
    confidence : float
        Level of the confidence intervals.

    Returns
    -------
    TrajectoryResult

    Raises
    ------
    kypho.errors.StatisticsError
        Unknown group or time labels, fewer than 2 patients per group, or a
        model that cannot be fitted.

    Notes
    -----
    :math:`y_{it} = \\mu + \\gamma g_i + \\tau_t + (\\gamma\\tau)_t g_i + u_i + e_{it}`,
    :math:`u_i \\sim N(0, \\sigma^2_u)`, :math:`e_{it} \\sim N(0, \\sigma^2_e)`, treatment
    coding (reference group, first time). Fitted by restricted maximum likelihood
    with ``statsmodels.MixedLM``. A model-based mean is :math:`L\\hat\\beta` with SE
    :math:`\\sqrt{L \\hat V L^T}`; CIs and P values use the normal distribution
    (Wald). For a balanced design the REML variance components equal the
    classical ANOVA estimates and the means equal the cell means.

    References
    ----------
    .. [1] Laird NM, Ware JH. Random-effects models for longitudinal data.
       Biometrics 1982;38:963–974.
    .. [2] Fitzmaurice GM, Laird NM, Ware JH. Applied Longitudinal Analysis, 2nd
       ed. Wiley; 2011. Chapters 7–8.
    .. [3] Searle SR, Casella G, McCulloch CE. Variance Components. Wiley; 1992.
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    if len(groups) != 2:
        raise StatisticsError(f"groups must name exactly 2 groups (got {list(groups)!r})")
    if len(times) < 2:
        raise StatisticsError(f"times must name at least 2 timepoints (got {list(times)!r})")
    y = np.asarray(values, dtype=np.float64)
    ids = np.asarray(patient).astype(str)
    g_labels = np.asarray(group).astype(str)
    t_labels = np.asarray(time).astype(str)
    group_index = {str(g): i for i, g in enumerate(groups)}
    time_index = {str(t): i for i, t in enumerate(times)}
    unknown_g = sorted(set(g_labels) - set(group_index))
    if unknown_g:
        raise StatisticsError(f"group labels {unknown_g} are not among groups {list(groups)!r}")
    unknown_t = sorted(set(t_labels) - set(time_index))
    if unknown_t:
        raise StatisticsError(f"time labels {unknown_t} are not among times {list(times)!r}")
    keep = ~np.isnan(y)
    y, ids, g_labels, t_labels = y[keep], ids[keep], g_labels[keep], t_labels[keep]
    g = np.array([group_index[v] for v in g_labels], dtype=np.int64)
    t = np.array([time_index[v] for v in t_labels], dtype=np.int64)
    for i, name in enumerate(groups):
        count = len(set(ids[g == i]))
        if count < 2:
            raise StatisticsError(
                f"group {name!r} needs at least 2 patients with a measurement of {measure} (got {count})"
            )
    n_times = len(times)
    missing_cells = [
        f"{groups[gi]} at {times[ti]}"
        for gi in range(2)
        for ti in range(n_times)
        if not np.any((g == gi) & (t == ti))
    ]
    if missing_cells:
        raise StatisticsError(
            f"no measurement of {measure} for {', '.join(missing_cells)}; every group needs every timepoint"
        )
    x, names = _design(g, t, n_times)
    model = MixedLM(y, x, groups=ids, exog_re=np.ones((y.size, 1)))
    # Gradient methods fail (slowly) when the patient variance is at its boundary
    # (0), which happens when a patient's measurements are barely correlated;
    # Powell's derivative-free search handles the boundary. A moment estimate of
    # the patient variance says which case to expect.
    if _moment_patient_variance(y, x, ids) > 0:
        fit, caught = _fit(model, ["bfgs"])
        reason = "the gradient (BFGS) fit did not converge"
    else:
        fit, caught = None, []
        reason = "the moment estimate of the patient variance is not positive"
    if fit is None or not fit.converged:
        fit, caught = _fit(model, ["powell"])
        caught = [f"fitted with Powell's method because {reason}", *caught]
    if fit is None:
        raise StatisticsError(f"the mixed model of {measure} cannot be fitted: {caught[-1]}")
    notes = tuple(dict.fromkeys(caught))
    k = x.shape[1]
    beta = np.asarray(fit.fe_params, dtype=np.float64)
    cov = np.asarray(fit.cov_params(), dtype=np.float64)[:k, :k]
    z = float(stats.norm.isf((1 - confidence) / 2))

    def estimate(rows: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        est = rows @ beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", rows, cov, rows))
        return est, se

    se_fixed = np.sqrt(np.diag(cov))
    fixed = pd.DataFrame(
        {
            "term": [_term_label(nm, groups, times) for nm in names],
            "estimate": beta,
            "se": se_fixed,
            "ci_low": beta - z * se_fixed,
            "ci_high": beta + z * se_fixed,
            "p_value": 2 * stats.norm.sf(np.abs(beta / se_fixed)),
        }
    )
    cells = [(gi, ti) for gi in range(2) for ti in range(n_times)]
    est, se = estimate(np.array([_contrast(gi, ti, n_times) for gi, ti in cells]))
    means = pd.DataFrame(
        {
            "group": [groups[gi] for gi, _ in cells],
            "time": [times[ti] for _, ti in cells],
            "estimate": est,
            "se": se,
            "ci_low": est - z * se,
            "ci_high": est + z * se,
            "n": [int(np.sum((g == gi) & (t == ti))) for gi, ti in cells],
        }
    )
    diff_rows = np.array(
        [_contrast(1, ti, n_times) - _contrast(0, ti, n_times) for ti in range(n_times)]
    )
    d_est, d_se = estimate(diff_rows)
    differences = pd.DataFrame(
        {
            "time": list(times),
            "difference": d_est,
            "se": d_se,
            "ci_low": d_est - z * d_se,
            "ci_high": d_est + z * d_se,
            "p_value": 2 * stats.norm.sf(np.abs(d_est / d_se)),
        }
    )
    inter = np.arange(n_times + 1, 2 * n_times)
    b = beta[inter]
    chi2 = float(b @ np.linalg.solve(cov[np.ix_(inter, inter)], b))
    s2u = float(np.asarray(fit.cov_re).ravel()[0])
    s2e = float(fit.scale)
    return TrajectoryResult(
        measure=measure,
        groups=(str(groups[0]), str(groups[1])),
        times=tuple(str(v) for v in times),
        fixed=fixed,
        means=means,
        differences=differences,
        sigma2_patient=s2u,
        sigma2_residual=s2e,
        icc=s2u / (s2u + s2e),
        interaction_chi2=chi2,
        interaction_dof=n_times - 1,
        interaction_p=float(stats.chi2.sf(chi2, n_times - 1)),
        n_patients=len(set(ids)),
        n_observations=int(y.size),
        converged=bool(fit.converged),
        notes=notes,
        confidence=confidence,
    )


def _moment_patient_variance(
    y: NDArray[np.float64], x: NDArray[np.float64], ids: NDArray[np.str_]
) -> float:
    """ANOVA (moment) estimate of the patient variance from OLS residuals.

    Only used to choose the optimiser, never reported: for unbalanced data the
    one-way estimator (MSB − MSW)/n₀ with n₀ = (N − Σmᵢ²/N)/(a − 1).
    """
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    residual = y - x @ beta
    _, index = np.unique(ids, return_inverse=True)
    sizes = np.bincount(index).astype(float)
    means = np.bincount(index, residual) / sizes
    a, total = sizes.size, float(y.size)
    if a < 2 or total <= a:
        return 0.0
    msb = float(np.sum(sizes * (means - residual.mean()) ** 2)) / (a - 1)
    msw = float(np.sum((residual - means[index]) ** 2)) / (total - a)
    n0 = (total - float(np.sum(sizes**2)) / total) / (a - 1)
    return (msb - msw) / n0


def _fit(model: Any, method: list[str]) -> tuple[Any, list[str]]:
    """Fit by REML with ``method``; return (fit or None, the warnings and error seen)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = model.fit(reml=True, method=method)
        except (np.linalg.LinAlgError, ValueError) as exc:
            return None, [*(str(w.message) for w in caught), str(exc)]
    return fit, [str(w.message) for w in caught]


def _term_label(name: str, groups: Sequence[str], times: Sequence[str]) -> str:
    if name == "intercept":
        return f"intercept ({groups[0]}, {times[0]})"
    if name == "group":
        return f"{groups[1]} vs {groups[0]} at {times[0]}"
    index = int(name[name.index("[") + 1 : -1])
    if name.startswith("group:"):
        return f"{groups[1]} × {times[index]} (change in difference)"
    return f"{times[index]} vs {times[0]} ({groups[0]})"


def fit_trajectory(
    data: pd.DataFrame,
    schema: Schema,
    measure: str,
    *,
    confidence: float = 0.95,
) -> TrajectoryResult:
    """Fit the group × time mixed model to one repeated measure of the study.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient (wide), with the schema's id and group columns and one
        column per timepoint of ``measure`` (``vas_pre``, ``vas_2h``, …).
    schema : kypho.schema.Schema
        The study schema: timepoints, labels, group levels.
    measure : str
        A repeated measure of the schema, e.g. ``"vas"``, ``"ant_height_ratio"``,
        ``"mid_height_ratio"``, ``"wedge_angle"``.
    confidence : float
        Level of the confidence intervals.

    Returns
    -------
    TrajectoryResult
        The control group (the schema's second group level) is the reference, so
        differences are experimental − control.

    Raises
    ------
    kypho.errors.StatisticsError
        Unknown measure, missing columns, or a model that cannot be fitted.
    """
    if measure not in schema.repeated:
        known = ", ".join(sorted(schema.repeated))
        raise StatisticsError(
            f"{measure!r} is not a repeated measure of the schema (known: {known})"
        )
    columns = schema.measure_columns(measure)
    absent = [c for c in columns.values() if c not in data.columns]
    needed = [schema.id_column, schema.group_column]
    absent += [c for c in needed if c not in data.columns]
    if absent:
        raise StatisticsError(f"the data lack the columns {absent} needed to model {measure!r}")
    order = sorted(columns, key=lambda tp: schema.timepoints[tp].order)
    experimental, control = schema.group_levels
    long = data[[schema.id_column, schema.group_column, *[columns[tp] for tp in order]]].melt(
        id_vars=[schema.id_column, schema.group_column], var_name="column", value_name="value"
    )
    to_time = {columns[tp]: tp for tp in order}
    group = long[schema.group_column].astype("string")
    in_study = group.isin([experimental, control]).fillna(False).to_numpy(dtype=bool)
    long = long[in_study]
    first = schema[columns[order[0]]]
    label = first.measure_display_label
    result = mixed_model(
        pd.to_numeric(long["value"], errors="coerce").to_numpy(dtype=float),
        long[schema.id_column].astype("string").to_numpy(dtype=str),
        long[schema.group_column].astype("string").to_numpy(dtype=str),
        long["column"].map(to_time).to_numpy(dtype=str),
        groups=(control, experimental),
        times=order,
        measure=label,
        confidence=confidence,
    )
    return result


def plot_trajectory(
    result: TrajectoryResult,
    *,
    time_labels: dict[str, str] | None = None,
    group_labels: dict[str, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw the model-based mean of each group over time with its CI.

    Parameters
    ----------
    result : TrajectoryResult
    time_labels, group_labels : dict, optional
        Display labels for timepoint and group codes.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One line (with error bars) per group, x = timepoint index.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    time_labels = time_labels or {}
    group_labels = group_labels or {}
    # Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
    colours = ("#0072B2", "#D55E00")
    positions = np.arange(len(result.times), dtype=float)
    for i, grp in enumerate(reversed(result.groups)):
        rows = result.means[result.means["group"] == grp]
        offset = (i - 0.5) * 0.06
        ax.errorbar(
            positions + offset,
            rows["estimate"].to_numpy(),
            yerr=[
                (rows["estimate"] - rows["ci_low"]).to_numpy(),
                (rows["ci_high"] - rows["estimate"]).to_numpy(),
            ],
            color=colours[i],
            marker="o" if i == 0 else "s",
            capsize=3,
            label=group_labels.get(grp, grp),
        )
    ax.set_xticks(positions)
    ax.set_xticklabels([time_labels.get(t, t) for t in result.times])
    ax.set_ylabel(result.measure)
    ax.set_title(f"{result.measure}: model-based means ({result.confidence:.0%} CI)")
    ax.legend()
    return ax
