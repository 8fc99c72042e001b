"""Tests of equal variances in two groups: F ratio, Levene, Brown–Forsythe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, overload

import numpy as np
from numpy.typing import ArrayLike

from kypho.errors import StatisticsError
from kypho.stats import _dist as sps
from kypho.stats._common import (
    Alternative,
    as_two_samples,
    check_alternative,
    check_choice,
    check_probability,
    out,
    result_frame,
    where_many,
)
from kypho.stats._types import F, FloatArray, I, IntArray, ResultDisplay
from kypho.stats.describe import moments

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "VarianceMethod",
    "VarianceTestResult",
    "f_ratio_from_summary",
    "variance_core",
    "variance_test",
]

VarianceMethod = Literal["F", "levene", "brown-forsythe"]

_METHOD_NAMES = {
    "F": "F test of variances",
    "levene": "Levene (mean-centred)",
    "brown-forsythe": "Brown–Forsythe (median-centred Levene)",
}


@dataclass(frozen=True, repr=False)
class VarianceTestResult(ResultDisplay, Generic[F, I]):
    """Result of a two-sample test of equal variances.

    Attributes
    ----------
    method : str
        ``"F test of variances"``, ``"Levene (mean-centred)"`` or
        ``"Brown–Forsythe (median-centred Levene)"``.
    statistic : float or ndarray
        F = s₁²/s₂² for the F test; Levene's W (an F statistic) otherwise.
    dof, dof_denominator : float or ndarray
        Numerator and denominator degrees of freedom of the reference F
        distribution: (n₁ − 1, n₂ − 1) for the F test, (1, n₁ + n₂ − 2) for Levene.
    p_value : float or ndarray
        Two-sided for the F test unless ``alternative`` says otherwise; Levene and
        Brown–Forsythe are upper-tail tests by construction.
    variance_ratio : float or ndarray
        s₁²/s₂².
    ci_low, ci_high : float, ndarray or None
        Confidence interval of σ₁²/σ₂² (F test only, as R's ``var.test``).
    n1, n2 : int or ndarray
        Values used in each group.
    """

    method: str
    statistic: F
    dof: F
    dof_denominator: F
    p_value: F
    variance_ratio: F
    ci_low: F | None
    ci_high: F | None
    n1: I
    n2: I
    alternative: str

    def to_frame(self) -> pd.DataFrame:
        """Return the fields as a one-row (or one-row-per-sample) DataFrame."""
        return result_frame(self)


def _group_counts_check(n1: IntArray, n2: IntArray, single: bool) -> None:
    small = (n1 < 2) | (n2 < 2)
    if small.any():
        if single:
            raise StatisticsError(
                "each group needs at least 2 non-missing values to compare variances "
                f"(got n1={int(n1)}, n2={int(n2)})"
            )
        raise StatisticsError(
            "each group needs at least 2 non-missing values to compare variances; "
            + where_many(small, "fewer are present")
        )


def f_ratio_from_summary(
    var1: FloatArray,
    n1: FloatArray,
    var2: FloatArray,
    n2: FloatArray,
    alternative: str,
    confidence: float,
) -> tuple[FloatArray, ...]:
    """F ratio, P value and CI of σ₁²/σ₂² from variances and sizes (arrays).

    Returns (ratio, df1, df2, p, ci_low, ci_high). Callers have checked that no
    variance is zero in both groups.
    """
    df1 = n1 - 1.0
    df2 = n2 - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = var1 / var2
    lower = sps.f.cdf(ratio, df1, df2)
    if alternative == "two-sided":
        a = (1.0 - confidence) / 2.0
        with np.errstate(divide="ignore"):
            lo = ratio / _f_quantile(1.0 - a, df1, df2)
            hi = ratio / _f_quantile(a, df1, df2)
    elif alternative == "greater":
        lo = ratio / _f_quantile(confidence, df1, df2)
        hi = np.full_like(ratio, np.inf)
    else:
        lo = np.zeros_like(ratio)
        hi = ratio / _f_quantile(1.0 - confidence, df1, df2)
    upper = sps.f.sf(ratio, df1, df2)
    if alternative == "two-sided":
        p = np.minimum(2.0 * np.minimum(lower, upper), 1.0)
    elif alternative == "greater":
        p = upper
    else:
        p = lower
    return ratio, df1, df2, p, lo, hi


def _f_quantile(q: float, df1: FloatArray, df2: FloatArray) -> FloatArray:
    """q-quantile of F(df1, df2), evaluated once per distinct pair of dfs.

    Studies of equal size share their dfs, so a batch needs one evaluation.
    """
    d1, d2 = np.broadcast_arrays(
        np.asarray(df1, dtype=np.float64), np.asarray(df2, dtype=np.float64)
    )
    pairs, inverse = np.unique(
        np.stack([d1.ravel(), d2.ravel()], axis=1), axis=0, return_inverse=True
    )
    values = sps.f.ppf(q, pairs[:, 0], pairs[:, 1])
    return np.asarray(values[inverse.ravel()].reshape(d1.shape), dtype=np.float64)


@overload
def variance_test(
    x: ArrayLike,
    y: ArrayLike,
    *,
    method: VarianceMethod = "F",
    alternative: Alternative = "two-sided",
    confidence: float = 0.95,
    axis: None = None,
) -> VarianceTestResult[float, int]: ...
@overload
def variance_test(
    x: ArrayLike,
    y: ArrayLike,
    *,
    method: VarianceMethod = "F",
    alternative: Alternative = "two-sided",
    confidence: float = 0.95,
    axis: int,
) -> VarianceTestResult[FloatArray, IntArray]: ...
def variance_test(
    x: ArrayLike,
    y: ArrayLike,
    *,
    method: VarianceMethod = "F",
    alternative: Alternative = "two-sided",
    confidence: float = 0.95,
    axis: int | None = None,
) -> VarianceTestResult[Any, Any]:
    """Test whether two groups have equal variances.

    Parameters
    ----------
    x, y : array_like
        The two groups; NaN values are left out.
    method : {"F", "levene", "brown-forsythe"}
        ``"F"``: the variance-ratio F test the paper names ("variance homogeneity
        F test"), as R's ``var.test``. ``"levene"``: Levene's test centred on the
        group means, which SPSS prints beside its t test. ``"brown-forsythe"``:
        Levene's test centred on the group medians, robust to skewness.
    alternative : {"two-sided", "less", "greater"}
        For the F test only: the alternative about σ₁²/σ₂². Levene-type tests are
        one-tailed by construction and accept only ``"two-sided"``.
    confidence : float
        Level of the CI of σ₁²/σ₂² (F test only).
    axis : int, optional
        Batch mode: the axis of ``x`` and ``y`` along which each sample lies;
        the other axes must match.

    Returns
    -------
    VarianceTestResult

    Raises
    ------
    StatisticsError
        A group with fewer than 2 values, both groups constant, or an unknown option.

    Notes
    -----
    F test: F = s₁²/s₂² ~ F(n₁ − 1, n₂ − 1); two-sided P = 2·min(P(F ≤ f), P(F ≥ f)),
    CI = [f / F₁₋α/₂, f / F_α/₂].

    Levene: zᵢⱼ = |xᵢⱼ − x̄ᵢ| (Brown–Forsythe: |xᵢⱼ − medianᵢ|), then the one-way
    ANOVA F of the z's: W = (N − 2)·Σnᵢ(z̄ᵢ − z̄)² / Σ(zᵢⱼ − z̄ᵢ)² ~ F(1, N − 2).
    If one group is constant its variance is 0 and the ratio is 0 or ∞ (P = 0)
    – a documented, finite answer; both groups constant is an error.

    References
    ----------
    Levene, H. (1960). Robust tests for equality of variances. In Olkin (ed.),
    Contributions to Probability and Statistics, 278-292.
    Brown, M.B. & Forsythe, A.B. (1974). Robust tests for the equality of
    variances. J. Am. Stat. Assoc. 69, 364-367.

    Examples
    --------
    >>> r = variance_test([5.1, 4.9, 6.2, 5.8, 6.0], [4.2, 4.8, 5.0, 4.4, 4.9])
    >>> round(r.statistic, 3), round(r.p_value, 3)
    (2.754, 0.35)
    """
    check_choice("method", method, tuple(_METHOD_NAMES))
    check_alternative(alternative)
    confidence = check_probability("confidence", confidence)
    if method != "F" and alternative != "two-sided":
        raise StatisticsError(
            f"alternative must be 'two-sided' for method {method!r}, whose test is "
            f"one-tailed by construction (got {alternative!r})"
        )
    single = axis is None
    a, b = as_two_samples(x, y, axis)
    n1, m1, v1 = moments(a)
    n2, m2, v2 = moments(b)
    return variance_core(a, b, (n1, m1, v1), (n2, m2, v2), method, alternative, confidence, single)


def variance_core(
    a: FloatArray,
    b: FloatArray,
    mom1: tuple[IntArray, FloatArray, FloatArray],
    mom2: tuple[IntArray, FloatArray, FloatArray],
    method: str,
    alternative: str,
    confidence: float,
    single: bool,
) -> VarianceTestResult[Any, Any]:
    """:func:`variance_test` on validated arrays (sample axis last) and their moments.

    Lets :func:`kypho.stats.independent_t` reuse the moments it has computed.
    """
    n1, m1, v1 = mom1
    n2, m2, v2 = mom2
    _group_counts_check(n1, n2, single)
    both_const = (v1 == 0) & (v2 == 0)
    if both_const.any():
        detail = "" if single else "; " + where_many(both_const, "this happens")
        raise StatisticsError(
            "both groups have zero variance, so no test of equal variances is defined" + detail
        )
    ratio = v1 / np.where(v2 == 0, np.nan, v2)
    ratio = np.where(v2 == 0, np.inf, ratio)
    if method == "F":
        ratio, df1, df2, p, lo, hi = f_ratio_from_summary(
            v1, n1.astype(float), v2, n2.astype(float), alternative, confidence
        )
        return VarianceTestResult(
            method=_METHOD_NAMES[method],
            statistic=out(ratio, single),
            dof=out(df1, single),
            dof_denominator=out(df2, single),
            p_value=out(p, single),
            variance_ratio=out(ratio, single),
            ci_low=out(lo, single),
            ci_high=out(hi, single),
            n1=out(n1, single),
            n2=out(n2, single),
            alternative=alternative,
        )
    if method == "levene":
        c1, c2 = m1, m2
    else:
        c1 = np.nanmedian(a, axis=-1)
        c2 = np.nanmedian(b, axis=-1)
    z1 = np.abs(a - c1[..., None])
    z2 = np.abs(b - c2[..., None])
    _, zm1, zv1 = moments(z1)
    _, zm2, zv2 = moments(z2)
    n1f = n1.astype(float)
    n2f = n2.astype(float)
    big_n = n1f + n2f
    grand = (n1f * zm1 + n2f * zm2) / big_n
    between = n1f * (zm1 - grand) ** 2 + n2f * (zm2 - grand) ** 2
    within = (n1f - 1.0) * zv1 + (n2f - 1.0) * zv2
    with np.errstate(divide="ignore", invalid="ignore"):
        w = (big_n - 2.0) * between / within
    # Within-group spread of the deviations is zero only when every deviation in
    # each group is equal (e.g. two values per group): W is then infinite unless
    # the groups' mean deviations agree too, in which case no difference shows.
    w = np.where(within == 0, np.where(between == 0, 0.0, np.inf), w)
    p = sps.f.sf(w, 1.0, big_n - 2.0)
    return VarianceTestResult(
        method=_METHOD_NAMES[method],
        statistic=out(w, single),
        dof=out(np.ones_like(big_n), single),
        dof_denominator=out(big_n - 2.0, single),
        p_value=out(p, single),
        variance_ratio=out(ratio, single),
        ci_low=None,
        ci_high=None,
        n1=out(n1, single),
        n2=out(n2, single),
        alternative=alternative,
    )
