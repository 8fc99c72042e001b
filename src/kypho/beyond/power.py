"""Analytic power and sample size for the study's three kinds of endpoint.

* two proportions (leakage: 3.6% vs 16.4%): the normal approximation of R's
  ``power.prop.test``, the same with the continuity correction of Yates's test,
  and Cohen's arcsine (effect size *h*) approximation;
* two means (VAS, heights, angles): the noncentral-t power of Student's test as
  in R's ``power.t.test``, and a Welch approximation for unequal variances;
* ordinal grades compared by the Mann–Whitney test (cement distribution grade):
  Whitehead's proportional-odds formula and Noether's formula.

Every function solves for whichever of ``n`` (size of group 1) and ``power`` is
left out, as R's ``power.*.test`` functions do. Group 2 has ``ratio * n``
patients. Sizes are returned unrounded; round up to plan a study.

The Monte Carlo counterparts, which run the very tests of the analysis on
simulated studies, are in :mod:`kypho.beyond.montecarlo`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import cast

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from kypho.beyond import _checks
from kypho.errors import StatisticsError
from kypho.stats import _dist as sps  # scipy.stats' distributions, without importing it

__all__ = [
    "OrdinalEffect",
    "PowerResult",
    "ordinal_effect",
    "power_means",
    "power_ordinal",
    "power_proportions",
]

_ALTERNATIVES = ("two-sided", "one-sided")
_MAX_N = 1e7


@dataclass(frozen=True)
class PowerResult:
    """Power of a planned two-group comparison, or the size it needs.

    Attributes
    ----------
    endpoint : str
        ``"two proportions"``, ``"two means"`` or ``"ordinal"``.
    method : str
        The formula used, in words.
    n1, n2 : float
        Patients in group 1 and group 2 (unrounded when solved for).
    power : float
        Probability of rejecting the null hypothesis at ``alpha``.
    alpha : float
        Significance level.
    alternative : str
        ``"two-sided"`` or ``"one-sided"`` (in the direction of the effect).
    effect : float
        The effect the power refers to (see ``effect_label``).
    effect_label : str
        What ``effect`` is, e.g. ``"p1 - p2"`` or ``"common odds ratio"``.
    reference : str
        Where the formula comes from.
    """

    endpoint: str
    method: str
    n1: float
    n2: float
    power: float
    alpha: float
    alternative: str
    effect: float
    effect_label: str
    reference: str

    @property
    def n_total(self) -> float:
        """Patients in both groups."""
        return self.n1 + self.n2

    def to_frame(self) -> pd.DataFrame:
        """One row with every field and ``n_total``."""
        row = asdict(self)
        row["n_total"] = self.n_total
        return pd.DataFrame([row])


def _common(
    n: object, power: object, ratio: object, alpha: object, alternative: object
) -> tuple[float | None, float | None, float, float, str]:
    if (n is None) == (power is None):
        raise StatisticsError(
            f"exactly one of n and power must be None, the one to solve for (got n={n!r}, power={power!r})"
        )
    n_value = None if n is None else _checks.positive("n", n)
    power_value = None if power is None else _checks.probability("power", power)
    ratio_value = _checks.positive("ratio", ratio)
    alpha_value = _checks.probability("alpha", alpha)
    side = _checks.choice("alternative", alternative, _ALTERNATIVES)
    return n_value, power_value, ratio_value, alpha_value, side


def _z(alpha: float, side: str) -> float:
    return float(sps.norm.isf(alpha / 2 if side == "two-sided" else alpha))


def _solve(
    power_of: Callable[[float], float], target: float, lowest: float, what: str
) -> tuple[float, float]:
    """Smallest n1 (continuous) with ``power_of(n1) == target``; returns (n1, power)."""
    if power_of(lowest) >= target:
        # Even the smallest size the test allows reaches the target.
        return lowest, power_of(lowest)
    # Bracket the root by doubling: evaluating at huge sizes first can overflow
    # the noncentral t (NaN) and is never needed for realistic effects.
    low, high = lowest, 2 * lowest
    while not power_of(high) >= target:
        if high >= _MAX_N:
            raise StatisticsError(
                f"power {target} cannot be reached for {what} with up to {_MAX_N:,.0f} patients per group; "
                "the effect is too small (or zero)"
            )
        low, high = high, min(2 * high, _MAX_N)
    n1 = float(optimize.brentq(lambda m: power_of(m) - target, low, high, xtol=1e-10))
    return n1, power_of(n1)


def power_proportions(
    p1: float,
    p2: float,
    *,
    n: float | None = None,
    power: float | None = None,
    ratio: float = 1.0,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    method: str = "normal",
    strict: bool = False,
) -> PowerResult:
    """Power or sample size for comparing two proportions.

    Parameters
    ----------
    p1, p2 : float
        The proportions expected in group 1 and group 2 (e.g. leakage 0.164, 0.036).
    n : float, optional
        Patients in group 1; leave out to solve for it.
    power : float, optional
        Target power; leave out to compute it for ``n``.
    ratio : float
        Group 2 has ``ratio * n`` patients (1: equal groups).
    alpha : float
        Significance level.
    alternative : {"two-sided", "one-sided"}
        The test's sides; one-sided is in the direction of ``p1 - p2``.
    method : {"normal", "continuity", "arcsine"}
        ``"normal"``: the normal approximation to Pearson's χ² test (R's
        ``power.prop.test``); ``"continuity"``: the same for the continuity-corrected
        (Yates) test; ``"arcsine"``: Cohen's *h*.
    strict : bool
        Two-sided only: count rejections in the wrong direction too (R's
        ``strict = TRUE``). The default, like R's, counts only the side of the effect.

    Returns
    -------
    PowerResult

    Raises
    ------
    kypho.errors.StatisticsError
        A proportion outside (0, 1), ``p1 == p2`` when solving for ``n``, or an
        unknown ``method``/``alternative``.

    Notes
    -----
    With :math:`d = |p_1 - p_2|`, :math:`\\bar p = (n_1 p_1 + n_2 p_2)/(n_1 + n_2)`,
    :math:`\\sigma_0 = \\sqrt{\\bar p \\bar q (1/n_1 + 1/n_2)}` (null) and
    :math:`\\sigma_1 = \\sqrt{p_1 q_1/n_1 + p_2 q_2/n_2}`,

    .. math:: 1 - \\beta = \\Phi\\left(\\frac{d - c - z_{1-\\alpha/2}\\,\\sigma_0}{\\sigma_1}\\right)

    with :math:`c = 0` (``"normal"``; for equal groups this is exactly R's
    ``power.prop.test``) or :math:`c = (1/n_1 + 1/n_2)/2`, the continuity correction
    (``"continuity"``; for equal groups, solving for *n* gives Fleiss's
    :math:`n' = \\tfrac{n}{4}(1 + \\sqrt{1 + 4/(n d)})^2`). ``"arcsine"`` uses
    :math:`h = 2\\arcsin\\sqrt{p_1} - 2\\arcsin\\sqrt{p_2}` and
    :math:`1 - \\beta = \\Phi(|h| / \\sqrt{1/n_1 + 1/n_2} - z_{1-\\alpha/2})`.
    One-sided tests use :math:`z_{1-\\alpha}`.

    References
    ----------
    .. [1] R Core Team. ``power.prop.test``, package stats.
    .. [2] Fleiss JL, Levin B, Paik MC. Statistical Methods for Rates and
       Proportions, 3rd ed. Wiley; 2003. §4.2–4.3.
    .. [3] Cohen J. Statistical Power Analysis for the Behavioral Sciences, 2nd
       ed. Erlbaum; 1988. Chapter 6.

    Examples
    --------
    >>> r = power_proportions(0.164, 0.036, power=0.8)
    >>> round(r.n1, 1)
    85.0
    """
    p1 = _checks.probability("p1", p1)
    p2 = _checks.probability("p2", p2)
    n1, target, ratio, alpha, side = _common(n, power, ratio, alpha, alternative)
    method = _checks.choice("method", method, ("normal", "continuity", "arcsine"))
    z = _z(alpha, side)
    other_tail = strict and side == "two-sided"
    d = abs(p1 - p2)

    def power_of(m: float) -> float:
        m2 = ratio * m
        inv = 1.0 / m + 1.0 / m2
        if method == "arcsine":
            h = abs(2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2)))
            shift = h / math.sqrt(inv)
            value = sps.norm.cdf(shift - z)
            if other_tail:
                value += sps.norm.cdf(-shift - z)
            return float(value)
        pbar = (m * p1 + m2 * p2) / (m + m2)
        sd0 = math.sqrt(pbar * (1 - pbar) * inv)
        sd1 = math.sqrt(p1 * (1 - p1) / m + p2 * (1 - p2) / m2)
        cc = inv / 2 if method == "continuity" else 0.0
        value = sps.norm.cdf((d - cc - z * sd0) / sd1)
        if other_tail:
            value += sps.norm.cdf((-d - cc - z * sd0) / sd1)
        return float(value)

    label = {
        "normal": "normal approximation (Pearson χ², no continuity correction)",
        "continuity": "normal approximation with continuity correction (Yates χ²)",
        "arcsine": "arcsine transformation (Cohen's h)",
    }[method]
    reference = {
        "normal": "R power.prop.test; Fleiss, Levin & Paik 2003 §4.2",
        "continuity": "Fleiss, Levin & Paik 2003 §4.3 (Casagrande, Pike & Smith 1978)",
        "arcsine": "Cohen 1988, chapter 6",
    }[method]
    if n1 is None:
        if d == 0:
            raise StatisticsError(
                f"p1 and p2 are equal ({p1}); no sample size gives power above alpha"
            )
        n1, achieved = _solve(
            power_of, cast(float, target), 2.0 / min(1.0, ratio), "two proportions"
        )
    else:
        achieved = power_of(n1)
    return PowerResult(
        endpoint="two proportions",
        method=label,
        n1=n1,
        n2=ratio * n1,
        power=achieved,
        alpha=alpha,
        alternative=side,
        effect=p1 - p2,
        effect_label="p1 - p2",
        reference=reference,
    )


def power_means(
    delta: float,
    sd: float,
    *,
    sd2: float | None = None,
    n: float | None = None,
    power: float | None = None,
    ratio: float = 1.0,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    method: str = "student",
    strict: bool = False,
) -> PowerResult:
    """Power or sample size for comparing two means by a t test.

    Parameters
    ----------
    delta : float
        The true difference of means (group 1 − group 2).
    sd : float
        The standard deviation (of group 1 when ``sd2`` is given).
    sd2 : float, optional
        The standard deviation of group 2; default ``sd``.
    n, power, ratio, alpha, alternative, strict
        As in :func:`power_proportions`.
    method : {"student", "welch"}
        ``"student"``: the pooled-variance test (exact noncentral-t power, as R's
        ``power.t.test``; needs equal SDs); ``"welch"``: Welch's t′ test
        (approximate power).

    Returns
    -------
    PowerResult

    Raises
    ------
    kypho.errors.StatisticsError
        Non-positive SDs, ``method="student"`` with unequal SDs, or ``delta == 0``
        when solving for ``n``.

    Notes
    -----
    Student: with :math:`\\nu = n_1 + n_2 - 2` and noncentrality
    :math:`\\lambda = \\delta / (\\sigma\\sqrt{1/n_1 + 1/n_2})`,
    :math:`1 - \\beta = P(T_{\\nu,\\lambda} > t_{1-\\alpha/2,\\nu})` (plus
    :math:`P(T_{\\nu,\\lambda} < -t_{1-\\alpha/2,\\nu})` when ``strict``), where
    :math:`T_{\\nu,\\lambda}` is noncentral t. This is exact for normal data.

    Welch: the same with :math:`\\lambda = \\delta/\\sqrt{\\sigma_1^2/n_1 + \\sigma_2^2/n_2}`
    and the Welch–Satterthwaite degrees of freedom computed from the true
    variances, :math:`\\nu = (a_1 + a_2)^2 / (a_1^2/(n_1-1) + a_2^2/(n_2-1))`,
    :math:`a_i = \\sigma_i^2/n_i` — an approximation (the estimated df vary from
    study to study); the Monte Carlo power checks it.

    References
    ----------
    .. [1] R Core Team. ``power.t.test``, package stats.
    .. [2] Cohen J. Statistical Power Analysis for the Behavioral Sciences, 2nd
       ed. Erlbaum; 1988. Chapter 2.
    .. [3] Welch BL. The generalization of "Student's" problem when several
       different population variances are involved. Biometrika 1947;34:28–35.

    Examples
    --------
    >>> r = power_means(1.0, 1.0, power=0.9)
    >>> round(r.n1, 2)
    22.02
    """
    delta = _checks.finite("delta", delta)
    sd1 = _checks.positive("sd", sd)
    sd2_value = sd1 if sd2 is None else _checks.positive("sd2", sd2)
    n1, target, ratio, alpha, side = _common(n, power, ratio, alpha, alternative)
    method = _checks.choice("method", method, ("student", "welch"))
    if method == "student" and sd2_value != sd1:
        raise StatisticsError(
            f"method 'student' assumes equal SDs (got sd={sd1}, sd2={sd2_value}); use method='welch'"
        )
    tail = alpha / 2 if side == "two-sided" else alpha
    other_tail = strict and side == "two-sided"
    d = abs(delta)

    def power_of(m: float) -> float:
        m2 = ratio * m
        if method == "student":
            df = m + m2 - 2
            ncp = d / (sd1 * math.sqrt(1 / m + 1 / m2))
        else:
            a1, a2 = sd1**2 / m, sd2_value**2 / m2
            df = (a1 + a2) ** 2 / (a1**2 / (m - 1) + a2**2 / (m2 - 1))
            ncp = d / math.sqrt(a1 + a2)
        q = sps.t.isf(tail, df)
        value = sps.nct.sf(q, df, ncp)
        if other_tail:
            value += sps.nct.cdf(-q, df, ncp)
        return float(value)

    if n1 is None:
        if d == 0:
            raise StatisticsError("delta is 0; no sample size gives power above alpha")
        n1, achieved = _solve(power_of, cast(float, target), 2.0 / min(1.0, ratio), "two means")
    else:
        if n1 < 2 or ratio * n1 < 2:
            raise StatisticsError(
                f"each group needs at least 2 patients for a t test (got n1={n1}, n2={ratio * n1})"
            )
        achieved = power_of(n1)
    label, reference = (
        ("Student t test, noncentral t (equal variances)", "R power.t.test; Cohen 1988, chapter 2")
        if method == "student"
        else (
            "Welch t′ test, noncentral t with Welch–Satterthwaite df (approximation)",
            "Welch 1947; Satterthwaite 1946",
        )
    )
    return PowerResult(
        endpoint="two means",
        method=label,
        n1=n1,
        n2=ratio * n1,
        power=achieved,
        alpha=alpha,
        alternative=side,
        effect=delta,
        effect_label="mean1 - mean2",
        reference=reference,
    )


@dataclass(frozen=True)
class OrdinalEffect:
    """Effect measures of one grade distribution against another.

    Attributes
    ----------
    log_odds_ratio : float
        Log of the common odds ratio of the proportional-odds model fitted to the
        two distributions (positive: group 2 tends to higher grades).
    superiority : float
        :math:`P(X_2 > X_1) + \\tfrac12 P(X_2 = X_1)` for one patient of each group.
    tie_factor : float
        :math:`1 - \\sum_k \\bar p_k^3` of the pooled distribution.
    pooled : numpy.ndarray
        The pooled grade distribution (weighted by group size).
    """

    log_odds_ratio: float
    superiority: float
    tie_factor: float
    pooled: NDArray[np.float64]


def _proportional_odds_log_or(
    probs1: NDArray[np.float64], probs2: NDArray[np.float64], w1: float, w2: float
) -> float:
    """Fit logit P(Y ≤ k | g) = θ_k − β·g to two distributions; return β.

    This is the maximum-likelihood fit the proportional-odds model would reach
    with infinitely many patients from these two distributions in proportion
    w1 : w2 — the natural single odds ratio when the two distributions do not
    follow the model exactly.
    """
    k = probs1.size

    def unpack(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
        theta = x[0] + np.concatenate(([0.0], np.cumsum(np.exp(x[1 : k - 1]))))
        return theta, float(x[k - 1])

    def cell_probs(theta: NDArray[np.float64], shift: float) -> NDArray[np.float64]:
        cum = np.concatenate(([0.0], special.expit(theta - shift), [1.0]))
        return np.clip(np.diff(cum), 1e-300, None)

    def negloglik(x: NDArray[np.float64]) -> float:
        theta, beta = unpack(x)
        return -float(
            w1 * np.sum(probs1 * np.log(cell_probs(theta, 0.0)))
            + w2 * np.sum(probs2 * np.log(cell_probs(theta, beta)))
        )

    pooled_cum = np.cumsum((w1 * probs1 + w2 * probs2) / (w1 + w2))[:-1]
    start_theta = special.logit(np.clip(pooled_cum, 1e-6, 1 - 1e-6))
    gaps = np.log(np.maximum(np.diff(start_theta), 1e-3))
    x0 = np.concatenate(([start_theta[0]], gaps, [0.0]))
    fit = optimize.minimize(negloglik, x0, method="BFGS", options={"gtol": 1e-10})
    return unpack(fit.x)[1]


def ordinal_effect(probs1: ArrayLike, probs2: ArrayLike, *, ratio: float = 1.0) -> OrdinalEffect:
    """Effect measures of grade distribution ``probs2`` against ``probs1``.

    Parameters
    ----------
    probs1, probs2 : array_like
        Grade probabilities (or counts) of group 1 and group 2, lowest grade first.
    ratio : float
        Group 2 size over group 1 size (weights the pooled distribution).

    Returns
    -------
    OrdinalEffect

    Notes
    -----
    The superiority probability counts ties as half:
    :math:`\\sum_{j>i} p_{1i} p_{2j} + \\tfrac12 \\sum_i p_{1i} p_{2i}`.
    """
    p1 = _checks.distribution("probs1", probs1)
    p2 = _checks.distribution("probs2", probs2)
    if p1.size != p2.size:
        raise StatisticsError(
            f"probs1 and probs2 must list the same number of grades (got {p1.size} and {p2.size})"
        )
    ratio = _checks.positive("ratio", ratio)
    return _ordinal_effect(tuple(p1.tolist()), tuple(p2.tolist()), ratio)


# Power curves and sample-size searches ask for the same effect many times;
# the proportional-odds fit is the costly part, so it is cached.
@functools.lru_cache(maxsize=256)
def _ordinal_effect(
    probs1: tuple[float, ...], probs2: tuple[float, ...], ratio: float
) -> OrdinalEffect:
    p1, p2 = np.array(probs1), np.array(probs2)
    pooled = (p1 + ratio * p2) / (1 + ratio)
    cum1_below = np.concatenate(([0.0], np.cumsum(p1)[:-1]))
    superiority = float(np.sum(p2 * (cum1_below + p1 / 2)))
    return OrdinalEffect(
        log_odds_ratio=_proportional_odds_log_or(p1, p2, 1.0, ratio),
        superiority=superiority,
        tie_factor=float(1.0 - np.sum(pooled**3)),
        pooled=pooled,
    )


def power_ordinal(
    probs1: ArrayLike,
    probs2: ArrayLike,
    *,
    n: float | None = None,
    power: float | None = None,
    ratio: float = 1.0,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    method: str = "whitehead",
) -> PowerResult:
    """Power or sample size for comparing two grade distributions by Mann–Whitney.

    Parameters
    ----------
    probs1, probs2 : array_like
        Expected grade probabilities (or counts, e.g. the published table) of
        group 1 and group 2, lowest grade first.
    n, power, ratio, alpha, alternative
        As in :func:`power_proportions`.
    method : {"whitehead", "noether"}
        ``"whitehead"``: the proportional-odds formula; ``"noether"``: from the
        probability of superiority, with the null variance corrected for ties.

    Returns
    -------
    PowerResult
        ``effect`` is the common odds ratio (Whitehead) or the probability of
        superiority (Noether).

    Raises
    ------
    kypho.errors.StatisticsError
        Malformed distributions, or identical ones when solving for ``n``.

    Notes
    -----
    With :math:`N = n_1 + n_2`, the pooled distribution :math:`\\bar p` and
    :math:`\\tau = 1 - \\sum_k \\bar p_k^3`:

    Whitehead (1993): :math:`z_{1-\\beta} = |\\theta|\\sqrt{n_1 n_2 \\tau / (3N)} - z_{1-\\alpha/2}`
    where :math:`\\theta` is the log common odds ratio. Equivalently
    :math:`N = 3(A+1)^2 (z_{1-\\alpha/2} + z_{1-\\beta})^2 / (A\\theta^2\\tau)` with
    :math:`A = n_2/n_1`. When the two distributions do not follow the
    proportional-odds model exactly, :math:`\\theta` is the model's
    maximum-likelihood fit to them (see :func:`ordinal_effect`).

    Noether (1987): :math:`z_{1-\\beta} = |P - \\tfrac12|\\sqrt{12 N c(1-c)/\\tau} - z_{1-\\alpha/2}`
    with :math:`P` the probability of superiority and :math:`c = n_1/N`; for
    continuous data :math:`\\tau = 1` and this is Noether's formula, the factor
    :math:`\\tau` is the tie correction of the null variance of U.

    References
    ----------
    .. [1] Whitehead J. Sample size calculations for ordered categorical data.
       Stat Med 1993;12:2257–2271.
    .. [2] Noether GE. Sample size determination for some common nonparametric
       tests. J Am Stat Assoc 1987;82:645–647.
    .. [3] Zhao YD, Rahardja D, Qu Y. Sample size calculation for the Wilcoxon–
       Mann–Whitney test adjusting for ties. Stat Med 2008;27:462–468.

    Examples
    --------
    >>> r = power_ordinal([4, 7, 10, 34], [11, 18, 14, 12], n=55)
    >>> round(r.power, 3)
    0.996
    """
    n1, target, ratio, alpha, side = _common(n, power, ratio, alpha, alternative)
    method = _checks.choice("method", method, ("whitehead", "noether"))
    effect = ordinal_effect(probs1, probs2, ratio=ratio)
    z = _z(alpha, side)
    tau = effect.tie_factor
    if method == "whitehead":
        size = abs(effect.log_odds_ratio)

        def power_of(m: float) -> float:
            m2 = ratio * m
            return float(sps.norm.cdf(size * math.sqrt(m * m2 * tau / (3 * (m + m2))) - z))

        value, label = math.exp(effect.log_odds_ratio), "common odds ratio (group 2 vs group 1)"
        name, reference = "Whitehead proportional-odds formula", "Whitehead 1993"
    else:
        size = abs(effect.superiority - 0.5)

        def power_of(m: float) -> float:
            total = m * (1 + ratio)
            c = 1 / (1 + ratio)
            return float(sps.norm.cdf(size * math.sqrt(12 * total * c * (1 - c) / tau) - z))

        value, label = effect.superiority, "P(X2 > X1) + P(X2 = X1)/2"
        name, reference = "Noether formula with tie-corrected null variance", "Noether 1987"
    if n1 is None:
        if size < 1e-12:
            raise StatisticsError(
                "the two grade distributions are identical; no sample size gives power above alpha"
            )
        n1, achieved = _solve(
            power_of, cast(float, target), 2.0 / min(1.0, ratio), "two grade distributions"
        )
    else:
        achieved = power_of(n1)
    return PowerResult(
        endpoint="ordinal",
        method=name,
        n1=n1,
        n2=ratio * n1,
        power=achieved,
        alpha=alpha,
        alternative=side,
        effect=value,
        effect_label=label,
        reference=reference,
    )
