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

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from kypho.analysis.aggregate import category_codes
from kypho.errors import StatisticsError
from kypho.stats import _dist as sps  # scipy.stats' distributions, without importing it

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
    from sufficient statistics, so the cost is one pass over the data however
    many patients there are: with :math:`\\lambda = \\sigma^2_u/\\sigma^2_e` a
    patient with :math:`m` measurements has
    :math:`V_i^{-1} = \\sigma_e^{-2}(I - \\frac{\\lambda}{1 + m\\lambda}J)`, so
    :math:`X^TV^{-1}X`, :math:`X^TV^{-1}y`, :math:`y^TV^{-1}y` and
    :math:`\\log|V|` are sums over the patients with the same :math:`m` of their
    cell counts, cell sums and squared totals. :math:`\\sigma^2_e` is profiled
    out and the REML criterion is maximised over the one parameter
    :math:`\\lambda \\ge 0` (a grid, then Brent's method), the boundary
    :math:`\\lambda = 0` included. A model-based mean is :math:`L\\hat\\beta` with SE
    :math:`\\sqrt{L \\hat V L^T}`, :math:`\\hat V = \\hat\\sigma^2_e (X^T H^{-1} X)^{-1}` as
    ``nlme::lme`` reports it; CIs and P values use the normal distribution
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
    if len(groups) != 2:
        raise StatisticsError(f"groups must name exactly 2 groups (got {list(groups)!r})")
    if len(times) < 2:
        raise StatisticsError(f"times must name at least 2 timepoints (got {list(times)!r})")
    y = np.asarray(values, dtype=np.float64).ravel()
    g = _codes(group, groups, "group", "groups")
    t = _codes(time, times, "time", "times")
    ids = pd.factorize(np.asarray(patient).ravel())[0]
    if not (g.size == t.size == ids.size == y.size):
        raise StatisticsError(
            f"values, patient, group and time must have the same length "
            f"(got {y.size}, {ids.size}, {g.size}, {t.size})"
        )
    design = _design(y, ids, g, t, groups, times, measure)
    return _fit_codes(design, groups=groups, times=times, measure=measure, confidence=confidence)


def _codes(labels: ArrayLike, levels: Sequence[str], what: str, names: str) -> NDArray[np.int64]:
    """Positions of ``labels`` among ``levels`` (compared as text); unknown labels raise."""
    text = pd.Series(np.asarray(labels).ravel()).astype("string")
    codes = pd.Categorical(text, categories=[str(v) for v in levels]).codes.astype(np.int64)
    unknown = sorted(set(text[(codes < 0) & text.notna().to_numpy()].unique()))
    if unknown or text.isna().any():
        shown = unknown + (["<missing>"] if text.isna().any() else [])
        raise StatisticsError(f"{what} labels {shown} are not among {names} {list(levels)!r}")
    return codes


# Patient × cell counts held in memory at once (values); bounds memory at ~32 MB.
_VALUES_PER_BLOCK = 4_000_000


@dataclass(frozen=True)
class _Sufficient:
    """What the REML criterion needs, summed over patients with the same size ``m``."""

    cell_count: NDArray[np.float64]  # (K,) measurements per cell
    cell_sum: NDArray[np.float64]  # (K,) Σ y per cell
    yy: float  # Σ y²
    sizes: NDArray[np.float64]  # (S,) the distinct patient sizes m
    patients: NDArray[np.float64]  # (S,) patients with each size
    nn: NDArray[np.float64]  # (S, K, K) Σ n_i n_iᵀ (n_i: patient i's cell counts)
    ns: NDArray[np.float64]  # (S, K) Σ n_i s_i (s_i: patient i's total)
    ss: NDArray[np.float64]  # (S,) Σ s_i²
    n_obs: int


def _sufficient(
    y: NDArray[np.float64], ids: NDArray[np.int64], cell: NDArray[np.int64], k: int
) -> _Sufficient:
    n_patients = int(ids.max()) + 1
    m = np.bincount(ids, minlength=n_patients)
    s = np.bincount(ids, weights=y, minlength=n_patients)
    sizes, which = np.unique(m[m > 0], return_inverse=True)
    present = np.flatnonzero(m > 0)
    size_of = np.full(n_patients, -1, dtype=np.int64)
    size_of[present] = which
    nn = np.zeros((sizes.size, k, k))
    ns = np.zeros((sizes.size, k))
    ss = np.bincount(which, weights=s[present] ** 2, minlength=sizes.size)
    # Patients' cell counts, a block of patients at a time (bounded memory).
    block = max(1, _VALUES_PER_BLOCK // k)
    order = np.argsort(ids, kind="stable")
    ids_sorted, cell_sorted = ids[order], cell[order]
    starts = np.searchsorted(ids_sorted, np.arange(0, n_patients, block))
    ends = [*starts[1:], ids_sorted.size]
    for first, (lo, hi) in zip(
        range(0, n_patients, block), zip(starts, ends, strict=True), strict=True
    ):
        count = min(block, n_patients - first)
        local = ids_sorted[lo:hi] - first
        counts = np.bincount(local * k + cell_sorted[lo:hi], minlength=count * k)
        counts = counts.reshape(count, k).astype(np.float64)
        group_of = size_of[first : first + count]
        for j in np.unique(group_of[group_of >= 0]):
            rows = counts[group_of == j]
            nn[j] += rows.T @ rows
            ns[j] += rows.T @ s[first : first + count][group_of == j]
    return _Sufficient(
        cell_count=np.bincount(cell, minlength=k).astype(np.float64),
        cell_sum=np.bincount(cell, weights=y, minlength=k).astype(np.float64),
        yy=float(y @ y),
        sizes=sizes.astype(np.float64),
        patients=np.bincount(which, minlength=sizes.size).astype(np.float64),
        nn=nn,
        ns=ns,
        ss=ss.astype(np.float64),
        n_obs=int(y.size),
    )


def _reml_parts(
    suff: _Sufficient, lam: float
) -> tuple[float, NDArray[np.float64], NDArray[np.float64], float]:
    """(−2 × profiled REML log-likelihood up to a constant, A, μ̂, σ̂²_e) at λ = σ²_u/σ²_e."""
    w = lam / (1.0 + suff.sizes * lam)
    a = np.diag(suff.cell_count) - np.einsum("s,sij->ij", w, suff.nn)
    c = suff.cell_sum - w @ suff.ns
    q = suff.yy - float(w @ suff.ss)
    chol = np.linalg.cholesky(a)
    mu = np.linalg.solve(a, c)
    dof = suff.n_obs - a.shape[0]
    rss = max(q - float(c @ mu), 0.0)
    sigma2 = rss / dof
    logdet_h = float(suff.patients @ np.log1p(suff.sizes * lam))
    logdet_a = 2.0 * float(np.sum(np.log(np.diag(chol))))
    criterion = dof * math.log(max(sigma2, 1e-300)) + logdet_h + logdet_a
    return criterion, a, mu, sigma2


def _maximise_reml(suff: _Sufficient) -> tuple[float, bool]:
    """λ̂ ≥ 0 maximising the profiled REML likelihood, and whether Brent converged.

    Searched as ρ = λ/(1 + λ) ∈ [0, 1): a grid of 41 points, then Brent's
    bounded method in the grid cell around the best point; ρ = 0 (no patient
    variance) is a candidate of its own.
    """

    def objective(rho: float) -> float:
        try:
            return _reml_parts(suff, rho / (1.0 - rho))[0]
        except np.linalg.LinAlgError:
            return math.inf

    top = 1.0 - 1e-9
    grid = np.linspace(0.0, top, 41)
    values = np.array([objective(float(r)) for r in grid])
    best = int(np.argmin(values))
    if not math.isfinite(values[best]):
        raise StatisticsError("the REML criterion is not finite anywhere (singular design)")
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
    fit = optimize.minimize_scalar(
        objective, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12, "maxiter": 500}
    )
    rho, value = (
        (float(fit.x), float(fit.fun)) if fit.fun <= values[best] else (grid[best], values[best])
    )
    if objective(0.0) <= value:
        rho = 0.0
    return rho / (1.0 - rho), bool(fit.success)


@dataclass(frozen=True)
class _Design:
    """Measurements as integer codes, checked: each group and each cell has enough."""

    y: NDArray[np.float64]
    ids: NDArray[np.int64]
    cell: NDArray[np.int64]  # group index × n_times + time index
    counts: NDArray[np.int64]  # measurements per cell
    n_patients: int


def _design(
    y: NDArray[np.float64],
    ids: NDArray[np.int64],
    g: NDArray[np.int64],
    t: NDArray[np.int64],
    groups: Sequence[str],
    times: Sequence[str],
    measure: str,
) -> _Design:
    """Drop missing values and check that every group × time cell can be estimated."""
    keep = ~np.isnan(y)
    if not keep.all():
        y, ids, g, t = y[keep], ids[keep], g[keep], t[keep]
    n_times = len(times)
    if y.size:
        ids = pd.factorize(ids)[0]
    n_patients = int(ids.max()) + 1 if y.size else 0
    patient_group = np.zeros((n_patients, 2), dtype=bool)
    patient_group[ids, g] = True
    cell = g * n_times + t
    counts = np.bincount(cell, minlength=2 * n_times)
    _check_design(
        patient_group.sum(axis=0), counts, int(y.size), groups=groups, times=times, measure=measure
    )
    return _Design(y, ids, cell, counts, n_patients)


def _check_design(
    patients: NDArray[np.int64],
    counts: NDArray[np.int64],
    n_obs: int,
    *,
    groups: Sequence[str],
    times: Sequence[str],
    measure: str,
) -> None:
    """The model's requirements: 2 patients per group, every cell, more data than means."""
    for i, name in enumerate(groups):
        count = int(patients[i])
        if count < 2:
            raise StatisticsError(
                f"group {name!r} needs at least 2 patients with a measurement of {measure} (got {count})"
            )
    n_times = len(times)
    missing_cells = [
        f"{groups[gi]} at {times[ti]}"
        for gi in range(2)
        for ti in range(n_times)
        if counts[gi * n_times + ti] == 0
    ]
    if missing_cells:
        raise StatisticsError(
            f"no measurement of {measure} for {', '.join(missing_cells)}; every group needs every timepoint"
        )
    k = 2 * n_times
    if n_obs <= k:
        raise StatisticsError(
            f"{n_obs} measurements of {measure} cannot fit {k} means and two variances"
        )


def _fit_wide(
    y: NDArray[np.float64],
    g: NDArray[np.int64],
    *,
    groups: Sequence[str],
    times: Sequence[str],
    measure: str,
    confidence: float,
) -> TrajectoryResult:
    """The REML fit from a patients × timepoints matrix (one row per patient; NaN missing).

    The same sufficient statistics as :func:`_sufficient` computes from the long
    layout, read off the matrix directly: a patient's cell counts are the
    row's observed-mask within the block of its group, so each block of
    Σ nᵢnᵢᵀ is maskᵀmask over that group's patients with the same number of
    measurements. A few passes over the matrix (one per such key), no sorting or
    hashing of ids.
    """
    n_times = y.shape[1]
    k = 2 * n_times
    observed = ~np.isnan(y)
    # (row sums of a few columns: counting and a matrix product beat numpy's sum)
    m = np.count_nonzero(observed, axis=1)
    present = m > 0
    if not present.all():
        y, observed, g, m = y[present], observed[present], g[present], m[present]
    values = np.where(observed, y, 0.0)
    totals = values @ np.ones(n_times)
    sizes, which = np.unique(m, return_inverse=True)
    # Patients by (number of measurements, group): a few keys. Each key's rows are
    # taken once; its block of Σ nᵢnᵢᵀ is maskᵀmask and of Σ nᵢsᵢ maskᵀtotals
    # (matrix products), its cells' counts and sums the columns' sums.
    key = which * 2 + g
    nn = np.zeros((sizes.size, k, k))
    ns = np.zeros((sizes.size, k))
    cell_count = np.zeros(k)
    cell_sum = np.zeros(k)
    in_group = np.zeros(2, dtype=np.int64)
    for j in np.unique(key):
        rows = key == j
        size, gi = divmod(int(j), 2)
        block = slice(gi * n_times, (gi + 1) * n_times)
        mask = observed[rows].astype(np.float64)
        nn[size, block, block] = mask.T @ mask
        ns[size, block] = mask.T @ totals[rows]
        cell_count[block] += mask.sum(axis=0)
        cell_sum[block] += values[rows].sum(axis=0)
        in_group[gi] += mask.shape[0]
    counts = cell_count.astype(np.int64)
    _check_design(in_group, counts, int(m.sum()), groups=groups, times=times, measure=measure)
    suff = _Sufficient(
        cell_count=cell_count,
        cell_sum=cell_sum,
        yy=float(np.einsum("ij,ij->", values, values)),
        sizes=sizes.astype(np.float64),
        patients=np.bincount(which, minlength=sizes.size).astype(np.float64),
        nn=nn,
        ns=ns,
        ss=np.bincount(which, weights=totals**2, minlength=sizes.size).astype(np.float64),
        n_obs=int(m.sum()),
    )
    return _from_sufficient(
        suff,
        counts,
        int(y.shape[0]),
        groups=groups,
        times=times,
        measure=measure,
        confidence=confidence,
    )


def _wald(
    est: NDArray[np.float64], se: NDArray[np.float64], z: float
) -> dict[str, NDArray[np.float64]]:
    """The normal-theory CI and two-sided P of estimates with their SEs."""
    return {
        "ci_low": est - z * se,
        "ci_high": est + z * se,
        "p_value": 2 * sps.norm.sf(np.abs(est / se)),
    }


def _fit_codes(
    design: _Design, *, groups: Sequence[str], times: Sequence[str], measure: str, confidence: float
) -> TrajectoryResult:
    """The REML fit of a checked design (see :func:`_design`)."""
    suff = _sufficient(design.y, design.ids, design.cell, 2 * len(times))
    return _from_sufficient(
        suff,
        design.counts,
        design.n_patients,
        groups=groups,
        times=times,
        measure=measure,
        confidence=confidence,
    )


def _from_sufficient(
    suff: _Sufficient,
    counts: NDArray[np.int64],
    n_patients: int,
    *,
    groups: Sequence[str],
    times: Sequence[str],
    measure: str,
    confidence: float,
) -> TrajectoryResult:
    """The REML estimates and the result tables from the sufficient statistics."""
    n_times = len(times)
    lam, converged = _maximise_reml(suff)
    _, a, mu, s2e = _reml_parts(suff, lam)
    # Cell means μ = M β, M the treatment-coding contrast of each cell.
    contrast = np.array([_contrast(gi, ti, n_times) for gi in range(2) for ti in range(n_times)])
    to_beta = np.linalg.inv(contrast)
    beta = to_beta @ mu
    cov = s2e * to_beta @ np.linalg.inv(a) @ to_beta.T
    cov = (cov + cov.T) / 2
    s2u = lam * s2e
    notes: tuple[str, ...] = ()
    if lam == 0.0:
        notes = (
            "the patient variance is estimated at 0 (its lower bound): a patient's "
            "measurements are no more alike than those of different patients",
        )
    fixed, means, differences = _tables(beta, cov, contrast, counts, groups, times, confidence)
    inter = np.arange(n_times + 1, 2 * n_times)
    b = beta[inter]
    chi2 = float(b @ np.linalg.solve(cov[np.ix_(inter, inter)], b))
    return TrajectoryResult(
        measure=measure,
        groups=(str(groups[0]), str(groups[1])),
        times=tuple(str(v) for v in times),
        fixed=fixed,
        means=means,
        differences=differences,
        sigma2_patient=s2u,
        sigma2_residual=s2e,
        icc=s2u / (s2u + s2e) if s2u + s2e > 0 else math.nan,
        interaction_chi2=chi2,
        interaction_dof=n_times - 1,
        interaction_p=float(sps.chi2.sf(chi2, n_times - 1)),
        n_patients=n_patients,
        n_observations=suff.n_obs,
        converged=converged,
        notes=notes,
        confidence=confidence,
    )


def _tables(
    beta: NDArray[np.float64],
    cov: NDArray[np.float64],
    contrast: NDArray[np.float64],
    counts: NDArray[np.int64],
    groups: Sequence[str],
    times: Sequence[str],
    confidence: float,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The fixed effects, the model-based cell means and the group differences by time."""
    n_times = len(times)
    z = float(sps.norm.isf((1 - confidence) / 2))

    def estimate(rows: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        est = rows @ beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", rows, cov, rows))
        return est, se

    se_fixed = np.sqrt(np.diag(cov))
    fixed = pd.DataFrame(
        {
            "term": [_term_label(nm, groups, times) for nm in _names(n_times)],
            "estimate": beta,
            "se": se_fixed,
            **_wald(beta, se_fixed, z),
        }
    )
    cells = [(gi, ti) for gi in range(2) for ti in range(n_times)]
    est, se = estimate(contrast)
    means = pd.DataFrame(
        {
            "group": [groups[gi] for gi, _ in cells],
            "time": [times[ti] for _, ti in cells],
            "estimate": est,
            "se": se,
            "ci_low": est - z * se,
            "ci_high": est + z * se,
            "n": [int(counts[gi * n_times + ti]) for gi, ti in cells],
        }
    )
    diff_rows = np.array(
        [_contrast(1, ti, n_times) - _contrast(0, ti, n_times) for ti in range(n_times)]
    )
    d_est, d_se = estimate(diff_rows)
    differences = pd.DataFrame(
        {"time": list(times), "difference": d_est, "se": d_se, **_wald(d_est, d_se, z)}
    )
    return fixed, means, differences


def _names(n_times: int) -> list[str]:
    """Names of the treatment-coded fixed effects, in the order of :func:`_contrast`."""
    return [
        "intercept",
        "group",
        *(f"time[{t}]" for t in range(1, n_times)),
        *(f"group:time[{t}]" for t in range(1, n_times)),
    ]


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
    _memo: dict[str, Any] | None = None,
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
    # The patients' coding is the same for every measure of one data set: the
    # report passes a dict (``_memo``) to keep it between its four fits.
    patients = (_memo or {}).get("patients")
    if not isinstance(patients, _Patients):
        patients = _patients(data, schema)
        if _memo is not None:
            _memo["patients"] = patients
    matrix = np.column_stack(
        [
            pd.to_numeric(data[columns[tp]], errors="coerce").to_numpy(dtype=float)[patients.rows]
            for tp in order
        ]
    )
    label = schema[columns[order[0]]].measure_display_label
    if patients.ids is None:
        # One row per patient (the usual case): the matrix is the design.
        return _fit_wide(
            matrix,
            patients.groups,
            groups=(control, experimental),
            times=order,
            measure=label,
            confidence=confidence,
        )
    n_rows, n_times = patients.rows.size, len(order)
    groups = (control, experimental)
    design = _design(
        matrix.T.ravel(),
        np.tile(patients.ids, n_times),
        np.tile(patients.groups, n_times),
        np.repeat(np.arange(n_times, dtype=np.int64), n_rows),
        groups,
        order,
        label,
    )
    return _fit_codes(design, groups=groups, times=order, measure=label, confidence=confidence)


@dataclass(frozen=True)
class _Patients:
    """The rows of the two groups, their group codes, and patient codes if an id repeats."""

    rows: NDArray[np.int64]
    groups: NDArray[np.int64]
    ids: NDArray[np.int64] | None


def _patients(data: pd.DataFrame, schema: Schema) -> _Patients:
    experimental, control = schema.group_levels
    # Control is the reference (code 0), experimental the compared group (1), others -1.
    codes = category_codes(data[schema.group_column], (experimental, control))
    g_row = np.where(codes == 0, 1, np.where(codes == 1, 0, -1))
    rows = np.flatnonzero(g_row >= 0)
    chosen = data[schema.id_column].iloc[rows]
    # counting the distinct ids (hashed in the column's own storage) costs half of
    # coding them; they are coded only when one repeats
    if chosen.nunique() == rows.size:  # (a missing id counts as no id, as in the coding)
        return _Patients(rows, g_row[rows].astype(np.int64), None)
    ids, _ = pd.factorize(chosen.to_numpy())
    return _Patients(rows, g_row[rows].astype(np.int64), ids)


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
