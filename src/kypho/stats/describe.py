"""Descriptive statistics of one measurement: n, mean ± SD, quartiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, overload

import numpy as np
from numpy.typing import ArrayLike

from kypho.errors import StatisticsError
from kypho.stats._common import as_values, check_choice, out, result_frame, where_many
from kypho.stats._types import F, FloatArray, I, IntArray, ResultDisplay

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DescribeResult", "describe", "moments"]

QuartileMethod = Literal["spss", "r"]

# SPSS (EXAMINE, FREQUENCIES) places the p-th percentile at (n + 1)p, Hyndman & Fan's
# type 6; R's quantile() default is type 7. NumPy names them "weibull" and "linear".
_QUARTILE_METHODS: dict[str, Literal["weibull", "linear"]] = {"spss": "weibull", "r": "linear"}


@dataclass(frozen=True, repr=False)
class DescribeResult(ResultDisplay, Generic[F, I]):
    """Summary of one sample (or of each sample of a batch).

    Attributes
    ----------
    n, n_missing : int or ndarray
        Non-missing values used, and NaN values left out.
    mean, sd, se : float or ndarray
        Mean, standard deviation with denominator n − 1 and standard error sd/√n.
        ``sd`` and ``se`` are NaN when n = 1 (no spread can be estimated).
    median, q1, q3, minimum, maximum : float or ndarray
        Quartiles by the rule named in ``quartile_method``.
    quartile_method : str
        ``"spss"`` (Hyndman–Fan type 6) or ``"r"`` (type 7).
    """

    n: I
    n_missing: I
    mean: F
    sd: F
    se: F
    median: F
    q1: F
    q3: F
    minimum: F
    maximum: F
    quartile_method: str

    def to_frame(self) -> pd.DataFrame:
        """Return the fields as a one-row (or one-row-per-sample) DataFrame."""
        return result_frame(self)


def moments(values: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
    """Count, mean and variance (n − 1) along the last axis, ignoring NaN.

    Notes
    -----
    The corrected two-pass algorithm: with dᵢ = xᵢ − x̄₀ about the first-pass
    mean x̄₀, mean = x̄₀ + Σd/n and SS = Σd² − (Σd)²/n, so that large constant
    offsets (NIST NumAcc4: 10⁷ + 0.1 steps) cost no accuracy. NumPy's pairwise
    summation keeps the rounding error of Σx and Σd at O(log n) ulps.
    Where n < 2 the variance is NaN.

    References
    ----------
    Chan, T.F., Golub, G.H. & LeVeque, R.J. (1983). Algorithms for computing the
    sample variance: analysis and recommendations. Am. Stat. 37(3), 242-247.
    """
    lead = values.shape[:-1]
    if values.shape[-1] == 0 or values.size == 0:
        return (
            np.zeros(lead, dtype=np.int64),
            np.full(lead, np.nan),
            np.full(lead, np.nan),
        )
    rows = values.reshape(-1, values.shape[-1])
    # Work through big batches in blocks of about 2**20 values: the temporaries
    # then stay in cache and are reused, instead of a fresh full-size array each.
    step = max(1, (1 << 20) // max(1, rows.shape[1]))
    parts = [_block_moments(rows[i : i + step]) for i in range(0, rows.shape[0], step)]
    n = np.concatenate([p[0] for p in parts]).reshape(lead)
    mean = np.concatenate([p[1] for p in parts]).reshape(lead)
    var = np.concatenate([p[2] for p in parts]).reshape(lead)
    return n.astype(np.int64), mean, var


def _block_moments(values: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        if values.shape[-1] > 0 and not np.isnan(values).any():
            n = np.full(values.shape[:-1], values.shape[-1], dtype=np.int64)
            mean0 = values.mean(axis=-1)
            shifted = values - mean0[..., None]
        else:
            present = ~np.isnan(values)
            n = present.sum(axis=-1)
            mean0 = np.where(present, values, 0.0).sum(axis=-1) / n
            shifted = np.where(present, values - mean0[..., None], 0.0)
        corr = shifted.sum(axis=-1)
        mean = mean0 + corr / n
        ss = np.einsum("...i,...i->...", shifted, shifted)
        var = (ss - corr * corr / n) / (n - 1)
    var = np.where(n > 1, np.maximum(var, 0.0), np.nan)
    return n.astype(np.int64), mean, var


@overload
def describe(
    x: ArrayLike, *, axis: None = None, quartiles: QuartileMethod = "spss"
) -> DescribeResult[float, int]: ...
@overload
def describe(
    x: ArrayLike, *, axis: int, quartiles: QuartileMethod = "spss"
) -> DescribeResult[FloatArray, IntArray]: ...
def describe(
    x: ArrayLike, *, axis: int | None = None, quartiles: QuartileMethod = "spss"
) -> DescribeResult[Any, Any]:
    """Describe a measurement: n, missing, mean, SD, SE, median, quartiles, range.

    Parameters
    ----------
    x : array_like
        The values; NaN marks a missing value, which is counted and left out.
    axis : int, optional
        ``None`` (default): ``x`` is one sample. An integer: the observations of
        each sample lie along this axis of ``x`` and the result fields are arrays.
    quartiles : {"spss", "r"}
        Quartile rule: ``"spss"`` puts the p-th quantile at position (n + 1)p
        (SPSS's HAVERAGE, Hyndman–Fan type 6); ``"r"`` uses R's default, type 7.

    Returns
    -------
    DescribeResult

    Raises
    ------
    StatisticsError
        If a sample has no non-missing value, ``x`` contains ±inf, or an option is
        unknown.

    Notes
    -----
    mean = Σx/n (refined by a second pass), SD = √(Σ(x − mean)²/(n − 1)),
    SE = SD/√n. For n = 1 the SD and SE are NaN by definition.

    References
    ----------
    Hyndman, R.J. & Fan, Y. (1996). Sample quantiles in statistical packages.
    Am. Stat. 50(4), 361-365.

    Examples
    --------
    >>> r = describe([2.0, 4.0, 4.0, 5.0, float("nan")])
    >>> (r.n, r.n_missing, r.mean, round(r.sd, 4))
    (4, 1, 3.75, 1.2583)
    """
    check_choice("quartiles", quartiles, tuple(_QUARTILE_METHODS))
    values = as_values(x, "x", axis)
    n, mean, var = moments(values)
    empty = n == 0
    if empty.any():
        if axis is None:
            raise StatisticsError("x has no non-missing values; describe needs at least one")
        raise StatisticsError(
            "x has no non-missing values " + where_many(empty, "in the sample") + "; "
            "describe needs at least one per sample"
        )
    n_missing = values.shape[-1] - n
    sd = np.sqrt(var)
    se = sd / np.sqrt(n)
    q1, median, q3 = np.nanquantile(
        values, np.array([0.25, 0.5, 0.75]), axis=-1, method=_QUARTILE_METHODS[quartiles]
    )
    single = axis is None
    return DescribeResult(
        n=out(n, single),
        n_missing=out(n_missing, single),
        mean=out(mean, single),
        sd=out(sd, single),
        se=out(se, single),
        median=out(median, single),
        q1=out(q1, single),
        q3=out(q3, single),
        minimum=out(np.nanmin(values, axis=-1), single),
        maximum=out(np.nanmax(values, axis=-1), single),
        quartile_method=quartiles,
    )
