"""Paired t test: a measurement after against the same patients' value before."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, overload

import numpy as np
from numpy.typing import ArrayLike

from kypho.errors import StatisticsError
from kypho.stats import _dist as sps
from kypho.stats._common import (
    Alternative,
    as_values,
    check_alternative,
    check_probability,
    out,
    result_frame,
    where_many,
)
from kypho.stats._types import F, FloatArray, I, IntArray, ResultDisplay
from kypho.stats.describe import moments

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PairedTResult", "paired_t"]


@dataclass(frozen=True, repr=False)
class PairedTResult(ResultDisplay, Generic[F, I]):
    """Result of a paired t test of ``after − before``.

    Attributes
    ----------
    method : str
        ``"Paired t"``.
    statistic, dof, p_value : float or ndarray
        t = d̄/(s_d/√n), df = n − 1.
    mean_difference, sd_difference, se_difference : float or ndarray
        Mean, SD and SE of the differences d = after − before.
    ci_low, ci_high : float or ndarray
        CI of the mean difference.
    n_pairs, n_dropped : int or ndarray
        Complete pairs used, and pairs left out because a side was missing.
    effect_size : float or ndarray
        d̄/s_d (Cohen's d_z of the change).
    """

    method: str
    statistic: F
    dof: F
    p_value: F
    mean_difference: F
    sd_difference: F
    se_difference: F
    ci_low: F
    ci_high: F
    n_pairs: I
    n_dropped: I
    effect_size: F
    confidence: float
    alternative: str

    def to_frame(self) -> pd.DataFrame:
        """Return the fields as a one-row (or one-row-per-sample) DataFrame."""
        return result_frame(self)


@overload
def paired_t(
    before: ArrayLike,
    after: ArrayLike,
    *,
    confidence: float = 0.95,
    alternative: Alternative = "two-sided",
    axis: None = None,
) -> PairedTResult[float, int]: ...
@overload
def paired_t(
    before: ArrayLike,
    after: ArrayLike,
    *,
    confidence: float = 0.95,
    alternative: Alternative = "two-sided",
    axis: int,
) -> PairedTResult[FloatArray, IntArray]: ...
def paired_t(
    before: ArrayLike,
    after: ArrayLike,
    *,
    confidence: float = 0.95,
    alternative: Alternative = "two-sided",
    axis: int | None = None,
) -> PairedTResult[Any, Any]:
    """Paired-samples t test of the change ``after − before``.

    Parameters
    ----------
    before, after : array_like
        The same patients' values at two times, in the same order. A pair with
        NaN on either side is dropped and counted in ``n_dropped``.
    confidence : float
        Level of the CI of the mean change.
    alternative : {"two-sided", "less", "greater"}
        About the mean of after − before.
    axis : int, optional
        Batch mode: the axis along which the patients of each sample lie.

    Returns
    -------
    PairedTResult

    Raises
    ------
    StatisticsError
        Different lengths, fewer than 2 complete pairs, or all differences equal.

    Notes
    -----
    dᵢ = afterᵢ − beforeᵢ, t = d̄ / (s_d/√n) with n − 1 degrees of freedom,
    CI = d̄ ± t_{1−α/2, n−1}·s_d/√n. This is R's ``t.test(after, before,
    paired = TRUE)``; SPSS's "Paired Samples Test" of the pair (before, after)
    prints before − after, i.e. the same t with the opposite sign.

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6, 1-25.

    Examples
    --------
    >>> r = paired_t([47.1, 52.3, 44.8, 50.2], [84.2, 88.1, 80.9, 87.0])
    >>> round(r.mean_difference, 2), round(r.statistic, 2), r.n_pairs
    (36.45, 120.94, 4)
    """
    check_alternative(alternative)
    confidence = check_probability("confidence", confidence)
    single = axis is None
    b = as_values(before, "before", axis)
    a = as_values(after, "after", axis)
    if a.shape != b.shape:
        raise StatisticsError(
            "before and after must have the same shape, one value per patient "
            f"(got {b.shape} and {a.shape} with the paired axis last)"
        )
    d = a - b
    n, mean, var = moments(d)
    n_dropped = d.shape[-1] - n
    few = n < 2
    if few.any():
        if single:
            raise StatisticsError(
                "a paired t test needs at least 2 complete pairs "
                f"(got {int(n)}; {int(n_dropped)} dropped for a missing side)"
            )
        raise StatisticsError(
            "a paired t test needs at least 2 complete pairs; " + where_many(few, "fewer remain")
        )
    flat = var == 0
    if flat.any():
        detail = "" if single else "; " + where_many(flat, "this happens")
        raise StatisticsError(
            "every difference after − before is the same, so the SD of the differences "
            "is 0 and t is undefined" + detail
        )
    nf = n.astype(float)
    df = nf - 1.0
    sd = np.sqrt(var)
    se = sd / np.sqrt(nf)
    t = mean / se
    a_ = 1.0 - confidence
    if alternative == "two-sided":
        p = np.minimum(2.0 * sps.t.sf(np.abs(t), df), 1.0)
        crit = sps.t.isf(a_ / 2.0, df)
        lo, hi = mean - crit * se, mean + crit * se
    elif alternative == "greater":
        p = sps.t.sf(t, df)
        lo, hi = mean - sps.t.isf(a_, df) * se, np.full_like(mean, np.inf)
    else:
        p = sps.t.cdf(t, df)
        lo, hi = np.full_like(mean, -np.inf), mean + sps.t.isf(a_, df) * se
    return PairedTResult(
        method="Paired t",
        statistic=out(t, single),
        dof=out(df, single),
        p_value=out(p, single),
        mean_difference=out(mean, single),
        sd_difference=out(sd, single),
        se_difference=out(se, single),
        ci_low=out(lo, single),
        ci_high=out(hi, single),
        n_pairs=out(n, single),
        n_dropped=out(n_dropped, single),
        effect_size=out(mean / sd, single),
        confidence=confidence,
        alternative=alternative,
    )
