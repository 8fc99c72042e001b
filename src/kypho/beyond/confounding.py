"""Confounding: propensity score, inverse-probability weighting and matching.

The paper's groups were not randomised: the surgical method was chosen per
patient, so a difference in leakage could come from who received which method.
The propensity score — the probability of the experimental method given the
baseline characteristics of Table 1 — is estimated by logistic regression. Two
analyses then compare like with like:

* **IPW** (inverse-probability weighting, stabilised weights): every patient is
  weighted by P(own group) / P(own group | covariates); the weighted groups have
  the covariate distribution of the whole cohort. Estimates the average effect
  in the whole cohort (ATE).
* **Matching**: each experimental patient is paired with the nearest control on
  the logit of the propensity score, without replacement, within a caliper of
  0.2 SD of that logit (Austin 2011). Estimates the effect in the experimental
  group (ATT).

Balance is shown as standardised mean differences (SMD) before and after; an
|SMD| below 0.1 is the usual mark of good balance. Both analyses assume that
every confounder is measured (no unmeasured confounding) and that each patient
could have received either method (positivity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from kypho.analysis.aggregate import category_codes
from kypho.errors import StatisticsError
from kypho.stats import _dist as sps  # scipy.stats' distributions, without importing it

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from kypho.analysis.plan import Plan
    from kypho.schema import Schema

__all__ = [
    "ConfoundingResult",
    "adjust_for_confounding",
    "ordinal_logit",
    "plot_love",
    "propensity_analysis",
]

FloatArray = NDArray[np.float64]

# Propensity scores this close to 0 or 1 signal a lack of overlap (positivity).
_EXTREME = 0.025


@dataclass(frozen=True)
class ConfoundingResult:
    """Propensity-score analyses of the group effect.

    Attributes
    ----------
    propensity : numpy.ndarray
        Estimated P(experimental | covariates) per analysed patient.
    weights : numpy.ndarray
        Stabilised IPW weights per analysed patient.
    pairs : numpy.ndarray
        ``(n_pairs, 2)`` row positions (treated, control) of the matched pairs.
    caliper : float
        Caliper on the logit of the propensity score.
    balance : pandas.DataFrame
        ``covariate``, ``smd_before``, ``smd_ipw``, ``smd_matched``.
    binary_effects : pandas.DataFrame
        Per ``analysis`` (unadjusted, IPW, matched): ``risk_treated``,
        ``risk_control``, ``risk_difference``, ``rd_ci_low``, ``rd_ci_high``,
        ``odds_ratio``, ``or_ci_low``, ``or_ci_high``, ``note``.
    ordinal_effects : pandas.DataFrame
        Per ``analysis``: proportional-odds ``odds_ratio`` with CI (empty when no
        ordinal outcome was given).
    covariates : tuple of str
        Covariate columns of the propensity model (after dummy coding).
    dropped : tuple of str
        Covariates left out, with the reason (e.g. constant).
    notes : tuple of str
        Warnings about the analysis: extreme propensity scores (positivity),
        experimental patients left unmatched.
    n_treated, n_control : int
        Patients analysed (complete covariates).
    confidence : float
        Level of the CIs.
    """

    propensity: FloatArray
    weights: FloatArray
    pairs: NDArray[np.int64]
    caliper: float
    balance: pd.DataFrame
    binary_effects: pd.DataFrame
    ordinal_effects: pd.DataFrame
    covariates: tuple[str, ...]
    dropped: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    n_treated: int = 0
    n_control: int = 0
    confidence: float = 0.95

    def to_frame(self) -> pd.DataFrame:
        """The binary-outcome effects, one row per analysis."""
        return self.binary_effects.copy()


def _weighted_smd(x: FloatArray, treated: NDArray[np.bool_], w: FloatArray) -> float:
    """SMD with weighted means and weighted variances (0/1 columns: p(1 − p))."""
    out = []
    for mask in (treated, ~treated):
        ww = w[mask]
        m = float(np.sum(ww * x[mask]) / np.sum(ww))
        v = float(np.sum(ww * (x[mask] - m) ** 2) / np.sum(ww))
        out.append((m, v))
    (m1, v1), (m0, v0) = out
    pooled = math.sqrt((v1 + v0) / 2)
    if pooled == 0:
        return 0.0 if m1 == m0 else math.inf
    return (m1 - m0) / pooled


def _patterns(columns: FloatArray) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
    """Distinct rows of ``columns``: (inverse index per row, first row of each pattern).

    Baseline covariates are few and discrete (sex, age in years, yes/no), so a
    million patients fall into a few thousand patterns: fitting on the patterns,
    each with its count, is the same likelihood at a fraction of the cost.
    """
    # Each column's distinct values numbered (NaN one of them), the numbers of a row
    # joined into one integer key (mixed radix), and the keys numbered in order of
    # first appearance: the patterns of a groupby over every column with sort=False
    # and dropna=False, in the same order, at a fraction of its cost at 10⁶ rows.
    n = columns.shape[0]
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for j in range(columns.shape[1]):
        codes, uniques = pd.factorize(columns[:, j], use_na_sentinel=False)
        if span > (np.iinfo(np.int64).max // max(len(uniques), 1)):
            # too many combinations for one integer: number the partial keys first
            key, done = pd.factorize(key)
            span = len(done)
        key = key * len(uniques) + codes
        span *= max(len(uniques), 1)
    inverse, _ = pd.factorize(key)
    inverse = inverse.astype(np.int64, copy=False)
    if n == 0:
        return inverse, np.zeros(0, dtype=np.intp)
    # a pattern's first row is where the running highest number first rises to it
    highest = np.maximum.accumulate(inverse)
    first = np.flatnonzero(np.concatenate(([True], highest[1:] > highest[:-1])))
    return inverse, first.astype(np.intp)


def _logit_fit(treated: NDArray[np.bool_], x: FloatArray) -> FloatArray:
    """Propensity scores by maximum-likelihood logistic regression (with intercept).

    The log-likelihood is summed over the distinct covariate patterns, each
    weighted by its number of patients (and of treated patients), which is the
    same function as the sum over patients.
    """
    inverse, first = _patterns(x)
    size = np.bincount(inverse).astype(float)
    events = np.bincount(inverse, weights=treated.astype(float))
    design = np.column_stack([np.ones(first.size), x[first]])

    def negloglik(beta: FloatArray) -> float:
        eta = design @ beta
        return float(np.sum(size * np.logaddexp(0, eta) - events * eta))

    def gradient(beta: FloatArray) -> FloatArray:
        grad: FloatArray = design.T @ (size * special.expit(design @ beta) - events)
        return grad

    fit = optimize.minimize(
        negloglik, np.zeros(design.shape[1]), jac=gradient, method="BFGS", options={"gtol": 1e-9}
    )
    ps: FloatArray = special.expit(design @ fit.x)[inverse]
    return ps


def _match(treated: NDArray[np.bool_], logit_ps: FloatArray, caliper: float) -> NDArray[np.int64]:
    """Greedy 1:1 nearest-neighbour matching without replacement within the caliper.

    Treated patients are matched from the highest propensity score down (they
    have the fewest close controls); each takes the nearest control still
    available, the earliest row among equally near ones. The controls are held
    sorted by score, grouped by distinct score, with "next available" links that
    skip used-up scores, so the cost is O(N log N) rather than
    O(treated × controls); runs of treated patients with the same score take
    their controls from one distinct score at a time.
    """
    treated_rows = np.flatnonzero(treated)
    order = treated_rows[np.argsort(-logit_ps[treated_rows], kind="stable")]
    controls = np.flatnonzero(~treated)
    if order.size == 0 or controls.size == 0 or not caliper >= 0:
        return np.empty((0, 2), dtype=np.int64)
    # Controls by (score, row): each distinct score holds its rows in row order.
    by_score = controls[np.lexsort((controls, logit_ps[controls]))]
    values, first = np.unique(logit_ps[by_score], return_index=True)
    stop = np.append(first[1:], by_score.size)
    taken = first.copy()  # next unused position within each distinct score
    u = values.size
    # left[j]: nearest distinct score ≤ j with a control left (−1: none); right: ≥ j (u: none).
    left = np.arange(u)
    right = np.arange(u)

    def find_left(j: int) -> int:
        root = j
        while root >= 0 and left[root] != root:
            root = left[root]
        while j >= 0 and left[j] != j:  # path compression
            left[j], j = root, left[j]
        return root

    def find_right(j: int) -> int:
        root = j
        while root < u and right[root] != root:
            root = right[root]
        while j < u and right[j] != j:
            right[j], j = root, right[j]
        return root

    pairs: list[NDArray[np.int64]] = []
    score_t = logit_ps[order]
    start = 0
    while start < order.size:
        x = score_t[start]
        end = start + 1
        while end < order.size and score_t[end] == x:
            end += 1
        position = int(np.searchsorted(values, x))
        i = start
        while i < end:
            lo = find_left(position - 1) if position > 0 else -1
            hi = find_right(position) if position < u else u
            d_lo = abs(values[lo] - x) if lo >= 0 else math.inf
            d_hi = abs(values[hi] - x) if hi < u else math.inf
            if min(d_lo, d_hi) > caliper:
                break  # nobody left within the caliper, for this score or any later one of it
            if d_lo < d_hi or (d_lo == d_hi and by_score[taken[lo]] < by_score[taken[hi]]):
                j, many = lo, d_lo != d_hi
            else:
                j, many = hi, d_lo != d_hi
            # Strictly nearest: the whole run takes from it; a tie: one patient, then look again.
            k = min(end - i, stop[j] - taken[j]) if many else 1
            pairs.append(np.column_stack((order[i : i + k], by_score[taken[j] : taken[j] + k])))
            taken[j] += k
            i += k
            if taken[j] == stop[j]:
                left[j] = j - 1
                right[j] = j + 1
        start = end
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    return np.concatenate(pairs).astype(np.int64)


def _weighted_binary(
    y: FloatArray, treated: NDArray[np.bool_], w: FloatArray, z: float
) -> dict[str, float | str]:
    """Weighted risks, RD and OR with sandwich (robust) CIs.

    The weighted regression of y on (1, treated) is saturated, so its estimates
    are the weighted risks; the sandwich variance A⁻¹BA⁻¹ uses
    A = Σ wᵢ·dᵢ·xᵢxᵢᵀ and B = Σ wᵢ²(yᵢ − μᵢ)²·xᵢxᵢᵀ with dᵢ = 1 (identity link, RD)
    or μᵢ(1 − μᵢ) (logit link, OR).
    """
    p1 = float(np.sum(w[treated] * y[treated]) / np.sum(w[treated]))
    p0 = float(np.sum(w[~treated] * y[~treated]) / np.sum(w[~treated]))
    mu = np.where(treated, p1, p0)

    def cross(weights: FloatArray) -> FloatArray:
        # Σ weightᵢ·xᵢxᵢᵀ with xᵢ = (1, treatedᵢ): [[Σ all, Σ treated], [Σ treated, Σ treated]]
        every, among_treated = float(np.sum(weights)), float(np.sum(weights[treated]))
        return np.array([[every, among_treated], [among_treated, among_treated]])

    b = cross((w * (y - mu)) ** 2)
    a_rd = cross(w)
    v_rd = np.linalg.solve(a_rd, np.linalg.solve(a_rd, b).T)
    se_rd = math.sqrt(v_rd[1, 1])
    rd = p1 - p0
    result: dict[str, float | str] = {
        "risk_treated": p1,
        "risk_control": p0,
        "risk_difference": rd,
        "rd_ci_low": rd - z * se_rd,
        "rd_ci_high": rd + z * se_rd,
        "note": "",
    }
    if min(p1, p0) <= 0 or max(p1, p0) >= 1:
        result.update(odds_ratio=math.nan, or_ci_low=math.nan, or_ci_high=math.nan)
        result["note"] = "odds ratio undefined: a group has no events (or only events)"
        return result
    a_or = cross(w * mu * (1 - mu))
    v_or = np.linalg.solve(a_or, np.linalg.solve(a_or, b).T)
    log_or = float(special.logit(p1) - special.logit(p0))
    se = math.sqrt(v_or[1, 1])
    result.update(
        odds_ratio=math.exp(log_or),
        or_ci_low=math.exp(log_or - z * se),
        or_ci_high=math.exp(log_or + z * se),
    )
    return result


def _matched_binary(y: FloatArray, pairs: NDArray[np.int64], z: float) -> dict[str, float | str]:
    """Paired RD (SE of pair differences) and the conditional (McNemar) OR = b/c."""
    yt, yc = y[pairs[:, 0]], y[pairs[:, 1]]
    diff = yt - yc
    n = diff.size
    rd = float(diff.mean())
    se = float(diff.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    discordant_t = int(np.sum((yt == 1) & (yc == 0)))
    discordant_c = int(np.sum((yt == 0) & (yc == 1)))
    result: dict[str, float | str] = {
        "risk_treated": float(yt.mean()),
        "risk_control": float(yc.mean()),
        "risk_difference": rd,
        "rd_ci_low": rd - z * se,
        "rd_ci_high": rd + z * se,
        "note": f"{n} pairs; discordant pairs {discordant_t} (treated event) / {discordant_c} (control event)",
    }
    if discordant_t == 0 or discordant_c == 0:
        result.update(odds_ratio=math.nan, or_ci_low=math.nan, or_ci_high=math.nan)
        result["note"] = str(result["note"]) + "; conditional odds ratio undefined (a zero count)"
        return result
    log_or = math.log(discordant_t / discordant_c)
    se_or = math.sqrt(1 / discordant_t + 1 / discordant_c)
    result.update(
        odds_ratio=math.exp(log_or),
        or_ci_low=math.exp(log_or - z * se_or),
        or_ci_high=math.exp(log_or + z * se_or),
    )
    return result


def ordinal_logit(
    y: ArrayLike,
    x: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    clusters: ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weighted proportional-odds (cumulative logit) model with a sandwich covariance.

    Parameters
    ----------
    y : array_like of int
        Category codes 0 … K−1 (ordered).
    x : array_like, shape (n, p)
        Covariates (no intercept column: the cut-points play its part).
    weights : array_like, optional
        Observation weights (e.g. IPW); default 1.
    clusters : array_like, optional
        Cluster labels (e.g. matched pairs) for a cluster-robust sandwich.

    Returns
    -------
    beta : ndarray, shape (p,)
        Log odds ratios of being in a *higher* category per unit of each covariate.
    se : ndarray, shape (p,)
        Sandwich (robust) standard errors of ``beta``.
    cutpoints : ndarray, shape (K−1,)

    Notes
    -----
    :math:`P(Y \\le k \\mid x) = \\operatorname{expit}(\\theta_k - x^T\\beta)`, the
    parameterisation of ``statsmodels.miscmodels.ordinal_model.OrderedModel``.
    The weighted log-likelihood :math:`\\sum_i w_i \\log \\pi_i` is maximised by
    BFGS with its analytic score; the covariance is :math:`A^{-1} B A^{-1}` with
    :math:`A` the (numerically differentiated) negative Hessian and
    :math:`B = \\sum_i w_i^2 s_i s_i^T` (or summed within clusters). With unit
    weights the point estimates are the ordinary maximum-likelihood ones.

    References
    ----------
    .. [1] McCullagh P. Regression models for ordinal data. J R Stat Soc B
       1980;42:109–142.
    .. [2] Lumley T, Scott A. Fitting regression models to survey data. Stat
       Sci 2017;32:265–278 (weighted estimating equations, sandwich variance).
    """
    all_codes = np.asarray(y, dtype=np.int64)
    all_design = np.asarray(x, dtype=np.float64).reshape(all_codes.size, -1)
    all_w = np.ones(all_codes.size) if weights is None else np.asarray(weights, dtype=np.float64)
    k = int(all_codes.max()) + 1
    if k < 2 or np.any(np.bincount(all_codes, minlength=k) == 0):
        raise StatisticsError(
            f"the ordinal outcome needs every category 0 to {k - 1} observed at least once "
            f"(got counts {np.bincount(all_codes, minlength=k).tolist()})"
        )
    p = all_design.shape[1]
    # Patients with the same category, covariates and weight contribute identical
    # terms: fit on the distinct ones, each counted `mult` times.
    inverse, first = _patterns(np.column_stack([all_codes, all_design, all_w]))
    mult = np.bincount(inverse).astype(float)
    codes, design, w = all_codes[first], all_design[first], all_w[first]

    def parts(params: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        theta, beta = params[: k - 1], params[k - 1 :]
        eta = design @ beta
        bounds = np.concatenate(([-np.inf], theta, [np.inf]))
        upper = special.expit(bounds[codes + 1] - eta)
        lower = special.expit(bounds[codes] - eta)
        prob = np.clip(upper - lower, 1e-300, None)
        return upper, lower, prob, theta

    def scores(params: FloatArray) -> FloatArray:
        upper, lower, prob, _ = parts(params)
        f_up, f_low = upper * (1 - upper), lower * (1 - lower)
        s = np.zeros((codes.size, k - 1 + p))
        rows = np.arange(codes.size)
        has_up = codes < k - 1
        has_low = codes > 0
        s[rows[has_up], codes[has_up]] += f_up[has_up] / prob[has_up]
        s[rows[has_low], codes[has_low] - 1] -= f_low[has_low] / prob[has_low]
        s[:, k - 1 :] = -design * ((f_up - f_low) / prob)[:, None]
        return s

    def negloglik(params: FloatArray) -> float:
        return -float(np.sum(mult * w * np.log(parts(params)[2])))

    def gradient(params: FloatArray) -> FloatArray:
        grad: FloatArray = -((mult * w)[:, None] * scores(params)).sum(axis=0)
        return grad

    counts = np.bincount(codes, weights=mult * w, minlength=k)
    start = special.logit(np.cumsum(counts)[:-1] / counts.sum())
    fit = optimize.minimize(
        negloglik,
        np.concatenate((start, np.zeros(p))),
        jac=gradient,
        method="BFGS",
        options={"gtol": 1e-10, "maxiter": 2000},
    )
    params = fit.x
    step = 1e-6
    hessian = np.empty((params.size, params.size))
    for j in range(params.size):
        e = np.zeros(params.size)
        e[j] = step
        hessian[:, j] = (gradient(params + e) - gradient(params - e)) / (2 * step)
    hessian = (hessian + hessian.T) / 2
    s = scores(params) * w[:, None]
    if clusters is not None:
        labels = pd.factorize(np.asarray(clusters))[0]
        # each cluster's summed scores, a column at a time (np.add.at's sums, faster)
        size = int(labels.max()) + 1
        summed = np.column_stack(
            [np.bincount(labels, weights=s[inverse, c], minlength=size) for c in range(s.shape[1])]
        )
        meat = summed.T @ summed
    else:
        meat = (s * mult[:, None]).T @ s
    bread = np.linalg.inv(hessian)
    cov = bread @ meat @ bread
    se: FloatArray = np.sqrt(np.diag(cov))[k - 1 :]
    beta: FloatArray = params[k - 1 :]
    cut: FloatArray = params[: k - 1]
    return beta, se, cut


def propensity_analysis(
    treated: ArrayLike,
    covariates: pd.DataFrame,
    outcome: ArrayLike,
    *,
    ordinal_outcome: ArrayLike | None = None,
    caliper_sd: float = 0.2,
    confidence: float = 0.95,
    group_names: tuple[str, str] = ("treated group", "control group"),
) -> ConfoundingResult:
    """Propensity score, IPW and matching for a binary (and an ordinal) outcome.

    Parameters
    ----------
    treated : array_like of bool
        True for the experimental group.
    covariates : pandas.DataFrame
        Numeric covariates, one column each (dummy-code categories beforehand);
        rows align with ``treated``. Constant columns are dropped.
    outcome : array_like of 0/1
        The binary outcome (leakage).
    ordinal_outcome : array_like of int, optional
        Category codes 0 … K−1 of an ordinal outcome (cement grade); negative
        codes mark missing values, which leave that analysis only.
    caliper_sd : float
        Caliper in SDs of the logit of the propensity score (Austin: 0.2).
    confidence : float
        Level of the CIs.
    group_names : tuple of 2 str
        How the notes name the treated and the control group.

    Returns
    -------
    ConfoundingResult

    Raises
    ------
    kypho.errors.StatisticsError
        Fewer than 2 patients in a group, or mismatched lengths.

    Notes
    -----
    Stabilised weights: :math:`w_i = P(T) / e(x_i)` for treated and
    :math:`(1 - P(T)) / (1 - e(x_i))` for controls, with :math:`e` the propensity
    score. SMD: :math:`(\\bar x_1 - \\bar x_0)/\\sqrt{(s_1^2 + s_0^2)/2}` with
    weighted means and variances for the weighted and the matched samples.
    The IPW standard errors are sandwich (robust) ones that treat the weights as
    known, which is conservative for the ATE (Lunceford & Davidian 2004).

    References
    ----------
    .. [1] Rosenbaum PR, Rubin DB. The central role of the propensity score in
       observational studies for causal effects. Biometrika 1983;70:41–55.
    .. [2] Austin PC. Optimal caliper widths for propensity-score matching.
       Pharm Stat 2011;10:150–161.
    .. [3] Austin PC, Stuart EA. Moving towards best practice when using inverse
       probability of treatment weighting. Stat Med 2015;34:3661–3679.
    .. [4] Lunceford JK, Davidian M. Stratification and weighting via the
       propensity score. Stat Med 2004;23:2937–2960.
    """
    t = np.asarray(treated, dtype=bool)
    y = np.asarray(outcome, dtype=np.float64)
    if len(covariates) != t.size or y.size != t.size:
        raise StatisticsError(
            f"treated, covariates and outcome must have the same length (got {t.size}, {len(covariates)}, {y.size})"
        )
    if t.sum() < 2 or (~t).sum() < 2:
        raise StatisticsError(
            f"each group needs at least 2 patients (got {int(t.sum())} treated, {int((~t).sum())} control)"
        )
    x = covariates.astype(float)
    constant = [c for c in x.columns if x[c].nunique(dropna=True) <= 1]
    x = x.drop(columns=constant)
    z = float(sps.norm.isf((1 - confidence) / 2))
    ps = _logit_fit(t, x.to_numpy()) if x.shape[1] else np.full(t.size, t.mean())
    share = t.mean()
    weights = np.where(t, share / ps, (1 - share) / (1 - ps))
    logit_ps = special.logit(ps)
    caliper = caliper_sd * float(np.std(logit_ps, ddof=1))
    pairs = _match(t, logit_ps, caliper)
    matched = np.zeros(t.size)
    np.add.at(matched, pairs.ravel(), 1.0)
    ones = np.ones(t.size)
    balance = pd.DataFrame(
        {
            "covariate": list(x.columns),
            "smd_before": [_weighted_smd(x[c].to_numpy(), t, ones) for c in x.columns],
            "smd_ipw": [_weighted_smd(x[c].to_numpy(), t, weights) for c in x.columns],
            "smd_matched": [
                _weighted_smd(x[c].to_numpy(), t, matched) if len(pairs) else math.nan
                for c in x.columns
            ],
        }
    )
    rows = [
        {"analysis": "unadjusted", **_weighted_binary(y, t, ones, z)},
        {"analysis": "IPW (ATE)", **_weighted_binary(y, t, weights, z)},
    ]
    if len(pairs) >= 2:
        rows.append({"analysis": "matched (ATT)", **_matched_binary(y, pairs, z)})
    binary = pd.DataFrame(rows)
    ordinal = pd.DataFrame(columns=["analysis", "odds_ratio", "or_ci_low", "or_ci_high", "note"])
    if ordinal_outcome is not None:
        ordinal = _ordinal_effects(
            np.asarray(ordinal_outcome, dtype=np.int64), t, weights, pairs, z
        )
    notes = []
    extreme = int(np.sum((ps < _EXTREME) | (ps > 1 - _EXTREME)))
    if extreme:
        notes.append(
            f"{extreme} patient(s) have a propensity score below {_EXTREME} or above {1 - _EXTREME} "
            f"(largest weight {weights.max():.1f}): the groups barely overlap there, so the "
            "weighted estimates lean on few patients"
        )
    unmatched = int(t.sum()) - len(pairs)
    if unmatched:
        notes.append(
            f"{unmatched} of the {int(t.sum())} patients of the {group_names[0]} found no match "
            f"in the {group_names[1]} within the caliper ({caliper:.3g} on the logit scale) and "
            "are left out of the matched analysis"
        )
    return ConfoundingResult(
        propensity=ps,
        weights=weights,
        pairs=pairs,
        caliper=caliper,
        balance=balance,
        binary_effects=binary,
        ordinal_effects=ordinal,
        covariates=tuple(x.columns),
        dropped=tuple(f"{c} (constant)" for c in constant),
        notes=tuple(notes),
        n_treated=int(t.sum()),
        n_control=int((~t).sum()),
        confidence=confidence,
    )


def _ordinal_effects(
    codes: NDArray[np.int64],
    t: NDArray[np.bool_],
    weights: FloatArray,
    pairs: NDArray[np.int64],
    z: float,
) -> pd.DataFrame:
    ok = codes >= 0
    rows = []
    setups: list[tuple[str, NDArray[np.int64], FloatArray | None, NDArray[np.int64] | None]] = [
        ("unadjusted", np.flatnonzero(ok), None, None),
        ("IPW (ATE)", np.flatnonzero(ok), weights, None),
    ]
    if len(pairs) >= 2:
        members = pairs.ravel()
        pair_id = np.repeat(np.arange(len(pairs)), 2)
        keep = ok[members]
        setups.append(("matched (ATT)", members[keep], None, pair_id[keep]))
    for name, idx, w, cl in setups:
        # Grades nobody in this sample has carry no information; number the rest 0, 1, ...
        observed = np.unique(codes[idx], return_inverse=True)[1]
        try:
            beta, se, _ = ordinal_logit(
                observed,
                t[idx].astype(float)[:, None],
                weights=None if w is None else w[idx],
                clusters=cl,
            )
        except StatisticsError as exc:
            rows.append(
                {
                    "analysis": name,
                    "odds_ratio": math.nan,
                    "or_ci_low": math.nan,
                    "or_ci_high": math.nan,
                    "note": str(exc),
                }
            )
            continue
        rows.append(
            {
                "analysis": name,
                "odds_ratio": math.exp(beta[0]),
                "or_ci_low": math.exp(beta[0] - z * se[0]),
                "or_ci_high": math.exp(beta[0] + z * se[0]),
                "note": "proportional odds; OR > 1: experimental tends to higher grades; robust SE"
                + ("; clustered by pair" if cl is not None else ""),
            }
        )
    return pd.DataFrame(rows)


def _covariate_frame(data: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """Numeric design of the covariates: numbers as they are, 0/1 for booleans,
    one indicator per non-reference level for categories."""
    parts = {}
    for name in names:
        column = data[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            levels = list(column.cat.categories)
            for level in levels[1:]:
                parts[f"{name}={level}"] = (column == level).astype(float).where(column.notna())
        elif pd.api.types.is_bool_dtype(column.dtype) or str(column.dtype) == "boolean":
            parts[name] = column.astype("Float64").astype(float)
        else:
            parts[name] = pd.to_numeric(column, errors="coerce").astype(float)
    return pd.DataFrame(parts, index=data.index)


def adjust_for_confounding(
    data: pd.DataFrame,
    schema: Schema,
    *,
    covariates: tuple[str, ...] | None = None,
    outcome: str | None = None,
    ordinal_outcome: str | None = None,
    plan: Plan | None = None,
    caliper_sd: float = 0.2,
    confidence: float = 0.95,
) -> ConfoundingResult:
    """Propensity-score analyses of the study's group effect on leakage and grade.

    Parameters
    ----------
    data : pandas.DataFrame
        Derived study data (one row per patient).
    schema : kypho.schema.Schema
        The study schema (group column and levels).
    covariates : tuple of str, optional
        Baseline columns for the propensity model; absent ones are skipped.
        Default: the plan's ``beyond.propensity.covariates``.
    outcome : str, optional
        Binary outcome column; default: the plan's ``beyond.propensity.outcome``.
    ordinal_outcome : str, optional
        Ordered categorical outcome column; default: the plan's
        ``beyond.propensity.ordinal_outcome`` (none if the plan names none).
    plan : kypho.analysis.Plan, optional
        The analysis plan whose ``beyond`` section gives the defaults; the
        built-in plan when omitted.
    caliper_sd, confidence
        As in :func:`propensity_analysis`.

    Returns
    -------
    ConfoundingResult
        Patients with a missing covariate, group or outcome are left out.

    Raises
    ------
    kypho.errors.StatisticsError
        No outcome declared, missing outcome or group column, or too few patients.
    """
    if plan is None:
        from kypho.analysis.plan import load_plan

        plan = load_plan()
    spec = plan.beyond
    covariates = spec.covariates if covariates is None else covariates
    outcome = spec.outcome if outcome is None else outcome
    ordinal_outcome = spec.ordinal_outcome if ordinal_outcome is None else ordinal_outcome
    if outcome is None:
        raise StatisticsError(
            "the analysis plan declares no outcome for the propensity analysis "
            "(beyond: propensity: outcome:)"
        )
    needed = [schema.group_column, outcome]
    absent = [c for c in needed if c not in data.columns]
    if absent:
        raise StatisticsError(
            f"the data lack the columns {absent} needed for the propensity analysis"
        )
    present = tuple(c for c in covariates if c in data.columns)
    experimental, control = schema.group_levels
    # 0 experimental, 1 control, -1 neither (matched by text, categories converted once).
    group = category_codes(data[schema.group_column], (experimental, control))
    x = _covariate_frame(data, present)
    y = data[outcome].astype("Float64")
    usable = (group >= 0) & (x.notna().all(axis=1) & y.notna()).to_numpy(dtype=bool)
    keep = usable
    codes = None
    if ordinal_outcome is not None and ordinal_outcome in data.columns:
        column = data[ordinal_outcome]
        cat = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
        codes = np.asarray(cat.cat.codes, dtype=np.int64)[keep]
    result = propensity_analysis(
        (group == 0)[keep],
        x[keep].reset_index(drop=True),
        y.to_numpy(dtype=float, na_value=np.nan)[keep],
        ordinal_outcome=codes,
        caliper_sd=caliper_sd,
        confidence=confidence,
        group_names=_group_names(schema),
    )
    missing = [f"{c} (not in the data)" for c in covariates if c not in present]
    if missing:
        return ConfoundingResult(**{**result.__dict__, "dropped": result.dropped + tuple(missing)})
    return result


def _group_names(schema: Schema) -> tuple[str, str]:
    """The two groups as the notes name them, from their labels ("vertebroplasty group")."""
    from kypho.report.format import group_noun

    labels = schema[schema.group_column].levels
    first, second = (group_noun(labels.get(code, code)) for code in schema.group_levels)
    return first, second


def plot_love(result: ConfoundingResult, *, ax: Axes | None = None) -> Axes:
    """Love plot: |SMD| of each covariate before and after adjustment.

    Parameters
    ----------
    result : ConfoundingResult
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One marker series per column of ``result.balance`` (before, IPW, matched),
        covariates on the y axis, a dashed line at 0.1.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 0.4 * len(result.balance) + 1.5))
    y = np.arange(len(result.balance))
    styles = (
        ("smd_before", "Before", "o", "#D55E00"),
        ("smd_ipw", "IPW", "s", "#0072B2"),
        ("smd_matched", "Matched", "^", "#009E73"),
    )
    for column, label, marker, colour in styles:
        ax.scatter(np.abs(result.balance[column]), y, marker=marker, color=colour, label=label)
    ax.axvline(0.1, color="0.5", linestyle="--", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(result.balance["covariate"])
    ax.set_xlabel("Absolute standardised mean difference")
    ax.set_title("Covariate balance")
    ax.legend(loc="lower right")
    return ax
