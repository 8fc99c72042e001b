"""Mann–Whitney U (Wilcoxon rank-sum) test, SPSS conventions by default."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kypho.errors import StatisticsError
from kypho.stats import _dist as sps
from kypho.stats._common import (
    Alternative,
    as_two_samples,
    check_alternative,
    check_choice,
    out,
    result_frame,
)
from kypho.stats._types import B, F, FloatArray, I, IntArray, ResultDisplay

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MWMethod",
    "MannWhitneyResult",
    "mann_whitney",
    "mann_whitney_from_counts",
    "rank_sum_null_distribution",
]

MWMethod = Literal["auto", "asymptotic", "exact"]

# R's wilcox.test computes the exact P when both groups have fewer than 50 values
# and there are no ties; "auto" follows that rule.
_EXACT_BELOW = 50
# The exact distribution is tabulated as an (n₁ + 1) × (max score sum + 1) array;
# beyond this many cells it would take more memory than a test should.
_EXACT_MAX_CELLS = 40_000_000


@dataclass(frozen=True, repr=False)
class MannWhitneyResult(ResultDisplay, Generic[F, I, B]):
    """Result of a Mann–Whitney U test of x against y.

    Attributes
    ----------
    method : str
        ``"Mann–Whitney U"``.
    statistic, u : float or ndarray
        U = min(U₁, U₂), as SPSS prints it.
    u1, u2 : float or ndarray
        U₁ = R₁ − n₁(n₁ + 1)/2 (pairs with x > y, ties counting ½; R's ``W`` of
        ``wilcox.test(x, y)``), U₂ = n₁n₂ − U₁.
    w : float or ndarray
        Wilcoxon W as SPSS/PSPP print it: the rank sum of the group with the
        smaller mean rank (of y when the mean ranks are equal).
    z : float or ndarray
        (U − n₁n₂/2)/σ with the tie correction (≤ 0, SPSS's sign), moved ½ toward
        0 when ``continuity``; 0 when all values are tied.
    dof : None
        No degrees of freedom.
    p_value : float or ndarray
        Exact or normal-approximation P (see ``exact``).
    exact : bool or ndarray
        Whether the P value is exact (permutation distribution of the rank sum).
    effect_size : float or ndarray
        Rank-biserial correlation (U₁ − U₂)/(n₁n₂), in [−1, 1]; positive when x
        tends to be larger.
    n1, n2, rank_sum1, rank_sum2, mean_rank1, mean_rank2 : float or ndarray
        The "Ranks" table.
    continuity : bool
        Whether the normal approximation used the ½ continuity correction.
    """

    method: str
    statistic: F
    u: F
    u1: F
    u2: F
    w: F
    z: F
    dof: None
    p_value: F
    exact: B
    effect_size: F
    n1: I
    n2: I
    rank_sum1: F
    rank_sum2: F
    mean_rank1: F
    mean_rank2: F
    continuity: bool
    alternative: str

    def to_frame(self) -> pd.DataFrame:
        """Return the fields as a one-row (or one-row-per-sample) DataFrame."""
        return result_frame(self)


def rank_sum_null_distribution(scores: ArrayLike, n1: int) -> tuple[FloatArray, FloatArray]:
    """Permutation distribution of the sum of ``n1`` of the given integer scores.

    Returns (sums, probabilities): each way of choosing ``n1`` of the N scores is
    equally likely under H0. With doubled mid-ranks as scores this is the exact
    conditional null distribution of 2·R₁, ties included.

    Notes
    -----
    Dynamic programme over items: ways[j, s] counts the j-subsets of the items
    seen so far whose scores sum to s. Counts are kept in float64 (exact up to
    2⁵³, and to 16 significant digits beyond), then divided by C(N, n1).
    """
    s = np.asarray(scores, dtype=np.int64)
    low = int(np.sort(s)[:n1].sum())
    high = int(np.sort(s)[::-1][:n1].sum())
    width = high - low + 1
    if (n1 + 1) * (int(s.sum()) + 1) > _EXACT_MAX_CELLS:
        raise StatisticsError(
            f"the exact Mann–Whitney P is limited to small samples (got n1={n1}, "
            f"n2={s.size - n1}); use method='asymptotic'"
        )
    ways = np.zeros((n1 + 1, int(s.sum()) + 1))
    ways[0, 0] = 1.0
    total = 0
    for score in s:
        v = int(score)
        total += v
        # Walk j downwards so that each item is used at most once.
        ways[1:, v : total + 1] += ways[:-1, : total + 1 - v]
    counts = ways[n1, low : high + 1]
    sums = np.arange(low, low + width, dtype=np.float64)
    keep = counts > 0
    probs = counts[keep] / math.comb(s.size, n1)
    return sums[keep], probs


def _exact_p(sums: FloatArray, probs: FloatArray, observed: float, alternative: str) -> float:
    # Relative tolerance as in R, so that floating-point noise in the observed
    # statistic does not move it out of its own tail.
    eps = 1e-7 * max(1.0, abs(observed))
    le = float(probs[sums <= observed + eps].sum())
    ge = float(probs[sums >= observed - eps].sum())
    if alternative == "two-sided":
        return min(1.0, 2.0 * min(le, ge))
    if alternative == "greater":
        return min(1.0, ge)
    return min(1.0, le)


def _finish(
    r1: FloatArray,
    n1: FloatArray,
    n2: FloatArray,
    tie_term: FloatArray,
    exact_p: FloatArray,
    is_exact: NDArray[np.bool_],
    *,
    continuity: bool,
    alternative: str,
    single: bool,
) -> MannWhitneyResult[Any, Any, Any]:
    big_n = n1 + n2
    u1 = r1 - n1 * (n1 + 1.0) / 2.0
    u2 = n1 * n2 - u1
    r2 = big_n * (big_n + 1.0) / 2.0 - r1
    mean_u = n1 * n2 / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        var_u = n1 * n2 / 12.0 * ((big_n + 1.0) - tie_term / (big_n * (big_n - 1.0)))
    sigma = np.sqrt(np.maximum(var_u, 0.0))
    all_tied = sigma == 0
    safe_sigma = np.where(all_tied, 1.0, sigma)
    dev = u1 - mean_u
    cc = 0.5 if continuity else 0.0
    if alternative == "two-sided":
        zdir = (np.abs(dev) - cc) / safe_sigma
        p_asym = np.minimum(2.0 * sps.norm.sf(np.abs(zdir)), 1.0)
    elif alternative == "greater":
        zdir = (dev - cc) / safe_sigma
        p_asym = sps.norm.sf(zdir)
    else:
        zdir = (dev + cc) / safe_sigma
        p_asym = sps.norm.cdf(zdir)
    z = np.where(all_tied, 0.0, -np.abs((np.abs(dev) - cc) / safe_sigma))
    p_asym = np.where(all_tied, 1.0, p_asym)
    p = np.where(is_exact, exact_p, p_asym)
    u = np.minimum(u1, u2)
    # PSPP (and SPSS) print the rank sum of the group whose U is the smaller one,
    # i.e. the group with the smaller mean rank; y's when they are equal.
    w = np.where(u1 < u2, r1, r2)
    return MannWhitneyResult(
        method="Mann–Whitney U",
        statistic=out(u, single),
        u=out(u, single),
        u1=out(u1, single),
        u2=out(u2, single),
        w=out(w, single),
        z=out(z, single),
        dof=None,
        p_value=out(p, single),
        exact=out(is_exact, single),
        effect_size=out((u1 - u2) / (n1 * n2), single),
        n1=out(n1.astype(np.int64), single),
        n2=out(n2.astype(np.int64), single),
        rank_sum1=out(r1, single),
        rank_sum2=out(r2, single),
        mean_rank1=out(r1 / n1, single),
        mean_rank2=out(r2 / n2, single),
        continuity=continuity,
        alternative=alternative,
    )


def _doubled_midranks(pooled: FloatArray) -> tuple[NDArray[np.int64], FloatArray]:
    """Twice the mid-rank of every value (an integer) and Σ(t³ − t) along the last axis.

    One sort per sample: in sorted order a tie group runs from the last position
    where the value changed (``first``) to the next change (``last``); every
    member's mid-rank is (first + last)/2 + 1 and its group has t = last − first + 1
    members, so summing t² − 1 over the members gives Σ(t³ − t) over the groups.
    """
    order = np.argsort(pooled, axis=-1)
    ordered = np.take_along_axis(pooled, order, axis=-1)
    size = pooled.shape[-1]
    index = np.broadcast_to(np.arange(size), pooled.shape)
    starts = np.ones(pooled.shape, dtype=bool)
    starts[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    ends = np.ones(pooled.shape, dtype=bool)
    ends[..., :-1] = starts[..., 1:]
    first = np.maximum.accumulate(np.where(starts, index, 0), axis=-1)
    last = np.flip(
        np.minimum.accumulate(np.flip(np.where(ends, index, size - 1), axis=-1), axis=-1),
        axis=-1,
    )
    t = (last - first + 1).astype(np.float64)
    tie_term = (t * t - 1.0).sum(axis=-1)
    scores = np.empty(pooled.shape, dtype=np.int64)
    np.put_along_axis(scores, order, first + last + 2, axis=-1)
    return scores, tie_term


def _check_options(method: object, continuity: object, alternative: object) -> None:
    check_choice("method", method, ("auto", "asymptotic", "exact"))
    check_alternative(alternative)
    if not isinstance(continuity, bool):
        raise StatisticsError(f"continuity must be True or False (got {continuity!r})")


def _exact_for_rows(
    scores2: NDArray[np.int64],
    n1: int,
    r1: FloatArray,
    rows: NDArray[np.bool_],
    has_ties: NDArray[np.bool_],
    alternative: str,
) -> FloatArray:
    """Exact P for the flagged rows of a 2-D array of doubled mid-ranks."""
    p = np.full(r1.shape, np.nan)
    plain = rows & ~has_ties
    if plain.any():
        # Without ties the scores are 2, 4, …, 2N in every row: one null
        # distribution serves them all, read through its cumulative sums.
        first = int(np.flatnonzero(plain)[0])
        sums, probs = rank_sum_null_distribution(np.sort(scores2[first]), n1)
        p[plain] = _exact_p_many(sums, probs, 2.0 * r1[plain], alternative)
    for i in np.flatnonzero(rows & has_ties):
        sums, probs = rank_sum_null_distribution(scores2[i], n1)
        p[i] = _exact_p(sums, probs, 2.0 * r1[i], alternative)
    return p


def _exact_p_many(
    sums: FloatArray, probs: FloatArray, observed: FloatArray, alternative: str
) -> FloatArray:
    """:func:`_exact_p` for many observed sums against one distribution."""
    eps = 1e-7 * np.maximum(1.0, np.abs(observed))
    cdf = np.concatenate([[0.0], np.cumsum(probs)])
    sf = np.concatenate([np.cumsum(probs[::-1])[::-1], [0.0]])
    le = cdf[np.searchsorted(sums, observed + eps, side="right")]
    ge = sf[np.searchsorted(sums, observed - eps, side="left")]
    if alternative == "two-sided":
        return np.asarray(np.minimum(1.0, 2.0 * np.minimum(le, ge)))
    if alternative == "greater":
        return np.asarray(np.minimum(1.0, ge))
    return np.asarray(np.minimum(1.0, le))


@overload
def mann_whitney(
    x: ArrayLike,
    y: ArrayLike,
    *,
    method: MWMethod = "auto",
    continuity: bool = False,
    alternative: Alternative = "two-sided",
    axis: None = None,
) -> MannWhitneyResult[float, int, bool]: ...
@overload
def mann_whitney(
    x: ArrayLike,
    y: ArrayLike,
    *,
    method: MWMethod = "auto",
    continuity: bool = False,
    alternative: Alternative = "two-sided",
    axis: int,
) -> MannWhitneyResult[FloatArray, IntArray, NDArray[np.bool_]]: ...
def mann_whitney(
    x: ArrayLike,
    y: ArrayLike,
    *,
    method: MWMethod = "auto",
    continuity: bool = False,
    alternative: Alternative = "two-sided",
    axis: int | None = None,
) -> MannWhitneyResult[Any, Any, Any]:
    """Mann–Whitney U (Wilcoxon rank-sum) test of x against y.

    Parameters
    ----------
    x, y : array_like
        Ordinal or continuous values (e.g. cement distribution grades 1–4). In
        single mode NaN values are left out; a batch must not contain NaN.
    method : {"auto", "asymptotic", "exact"}
        ``"exact"``: the permutation distribution of the rank sum (with ties, the
        exact conditional distribution given the tie pattern). ``"asymptotic"``:
        the normal approximation with the tie correction (SPSS's "Asymp. Sig.").
        ``"auto"``: exact when both groups have fewer than 50 values and there are
        no ties (R's rule), else asymptotic. In a batch, samples without ties share
        one exact distribution (fast); an exact P with ties is tabulated sample by
        sample (slow for large batches).
    continuity : bool
        Apply the ½ continuity correction to the normal approximation. False is
        SPSS's convention; True reproduces R's ``wilcox.test`` default.
    alternative : {"two-sided", "less", "greater"}
        "greater": x tends to be larger than y.
    axis : int, optional
        Batch mode: the axis along which each sample lies.

    Returns
    -------
    MannWhitneyResult

    Raises
    ------
    StatisticsError
        An empty group, NaN in a batch, an exact P too large to tabulate, or a bad
        option.

    Notes
    -----
    Pool both groups and rank them, ties getting their mid-rank. R₁ = rank sum of
    x, U₁ = R₁ − n₁(n₁+1)/2, U₂ = n₁n₂ − U₁, U = min(U₁, U₂).
    σ² = n₁n₂/12·((N + 1) − Σ(t³ − t)/(N(N − 1))), t the size of each tie group;
    z = (U − n₁n₂/2)/σ. If every value is tied σ = 0: documented result z = 0,
    P = 1 (no evidence of a difference).

    References
    ----------
    Mann, H.B. & Whitney, D.R. (1947). On a test of whether one of two random
    variables is stochastically larger than the other. Ann. Math. Stat. 18, 50-60.
    Kerby, D.S. (2014). The simple difference formula: an approach to teaching
    nonparametric correlation. Compr. Psychol. 3, 11.IT.3.1.

    Examples
    --------
    >>> r = mann_whitney([1.83, 0.50, 1.62, 2.48, 1.68], [0.878, 0.647, 0.598, 2.05, 1.06])
    >>> r.u, r.w, r.exact, round(r.p_value, 4)
    (8.0, 23.0, True, 0.4206)
    """
    _check_options(method, continuity, alternative)
    single = axis is None
    a, b = as_two_samples(x, y, axis)
    if single:
        a = a[~np.isnan(a)]
        b = b[~np.isnan(b)]
    elif np.isnan(a).any() or np.isnan(b).any():
        raise StatisticsError(
            "a batch passed to mann_whitney must not contain NaN; drop missing values "
            "and test each sample on its own, or use mann_whitney_from_counts"
        )
    n1, n2 = a.shape[-1], b.shape[-1]
    if n1 == 0 or n2 == 0:
        raise StatisticsError(
            f"each group needs at least one non-missing value (got n1={n1}, n2={n2})"
        )
    pooled = np.concatenate([a, b], axis=-1)
    scores2, tie_term = _doubled_midranks(pooled)
    r1 = scores2[..., :n1].sum(axis=-1) / 2.0
    has_ties = tie_term > 0
    shape = r1.shape
    if method == "exact":
        rows = np.ones(shape, dtype=bool)
    elif method == "auto":
        rows = ~has_ties & (n1 < _EXACT_BELOW) & (n2 < _EXACT_BELOW)
    else:
        rows = np.zeros(shape, dtype=bool)
    flat_scores = scores2.reshape(-1, n1 + n2)
    exact_p = _exact_for_rows(
        flat_scores, n1, r1.reshape(-1), rows.reshape(-1), has_ties.reshape(-1), alternative
    ).reshape(shape)
    nf1 = np.full(shape, float(n1))
    nf2 = np.full(shape, float(n2))
    return _finish(
        r1,
        nf1,
        nf2,
        tie_term,
        exact_p,
        rows,
        continuity=continuity,
        alternative=alternative,
        single=single,
    )


def mann_whitney_from_counts(
    counts1: ArrayLike,
    counts2: ArrayLike,
    *,
    method: MWMethod = "asymptotic",
    continuity: bool = False,
    alternative: Alternative = "two-sided",
) -> MannWhitneyResult[Any, Any, Any]:
    """Mann–Whitney U test from a table of ordered-category counts.

    Parameters
    ----------
    counts1, counts2 : array_like
        Counts of each ordered category (e.g. grades I–IV) in group 1 and group 2,
        lowest category first. 1-D for one table; ``(..., K)`` arrays for a batch of
        tables (categories along the last axis), which give array fields.
    method : {"auto", "asymptotic", "exact"}
        As :func:`mann_whitney`. Graded data are heavily tied, so ``"auto"`` is
        asymptotic unless there happen to be no ties; ``"exact"`` gives the exact
        conditional P. Default ``"asymptotic"``, SPSS's "Asymp. Sig.".
    continuity, alternative
        As :func:`mann_whitney`.

    Returns
    -------
    MannWhitneyResult

    Raises
    ------
    StatisticsError
        Negative, non-integer or non-finite counts, an empty group, mismatched
        category counts.

    Notes
    -----
    With tₖ patients in category k and cₖ = Σ_{j<k} tⱼ, every patient of category
    k has mid-rank cₖ + (tₖ + 1)/2; R₁ = Σ n₁ₖ·(cₖ + (tₖ + 1)/2) and the tie term
    is Σ(tₖ³ − tₖ). The result equals :func:`mann_whitney` on the expanded data.

    Examples
    --------
    Cement distribution grades I–IV of the paper's Table 7:

    >>> r = mann_whitney_from_counts([4, 7, 10, 34], [11, 18, 14, 12])
    >>> r.u, r.w, round(r.z, 2), f"{r.p_value:.1e}"
    (837.0, 2377.0, -4.25, '2.1e-05')
    """
    _check_options(method, continuity, alternative)
    c1 = _counts(counts1, "counts1")
    c2 = _counts(counts2, "counts2")
    if c1.shape != c2.shape:
        raise StatisticsError(
            "counts1 and counts2 must list the same categories "
            f"(got shapes {c1.shape} and {c2.shape})"
        )
    single = c1.ndim == 1
    n1 = c1.sum(axis=-1)
    n2 = c2.sum(axis=-1)
    if (n1 == 0).any() or (n2 == 0).any():
        raise StatisticsError(
            "each group needs at least one counted patient "
            f"(got group totals {n1.astype(np.int64).tolist()} and {n2.astype(np.int64).tolist()})"
        )
    t = c1 + c2
    before = np.cumsum(t, axis=-1) - t
    mid = before + (t + 1.0) / 2.0
    r1 = (c1 * mid).sum(axis=-1)
    tie_term = (t**3 - t).sum(axis=-1)
    has_ties = tie_term > 0
    if method == "exact":
        rows = np.ones(r1.shape, dtype=bool)
    elif method == "auto":
        rows = ~has_ties & (n1 < _EXACT_BELOW) & (n2 < _EXACT_BELOW)
    else:
        rows = np.zeros(r1.shape, dtype=bool)
    exact_p = np.full(r1.shape, np.nan)
    for idx in np.ndindex(r1.shape):
        if not rows[idx]:
            continue
        scores2 = np.repeat((2.0 * mid[idx]).astype(np.int64), t[idx].astype(np.int64))
        sums, probs = rank_sum_null_distribution(scores2, int(n1[idx]))
        exact_p[idx] = _exact_p(sums, probs, 2.0 * float(r1[idx]), alternative)
    return _finish(
        r1,
        n1,
        n2,
        tie_term,
        exact_p,
        rows,
        continuity=continuity,
        alternative=alternative,
        single=single,
    )


def _counts(value: ArrayLike, name: str) -> FloatArray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatisticsError(f"{name} must be counts (whole numbers ≥ 0) ({exc})") from exc
    if arr.ndim == 0:
        raise StatisticsError(f"{name} must list one count per category (got a scalar)")
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if bad.any():
        raise StatisticsError(
            f"{name} must be counts (whole numbers ≥ 0) (got {arr[bad].tolist()[:5]!r})"
        )
    return arr
