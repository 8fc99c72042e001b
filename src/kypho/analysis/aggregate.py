"""One-pass, vectorised group summaries: the only work in the analysis that grows with N.

Every function takes a column as a NumPy array and the patients' group codes
(``0 … k−1``, ``−1`` for a patient outside every group) and returns per-group
numbers computed over each group's values taken out as one contiguous array
(:func:`numpy.take` of the group's rows, then NumPy's own sums and
:func:`numpy.bincount`), so a million patients cost a few milliseconds per
column. The statistical tests then run on these summaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["as_float", "category_codes", "group_counts", "group_moments", "group_rows"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def as_float(column: pd.Series) -> FloatArray:
    """The column as float64 with NaN for missing (booleans become 0/1)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy().astype(np.float64)
        codes[codes < 0] = np.nan
        return codes
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def category_codes(column: pd.Series, levels: Sequence[Any]) -> NDArray[np.int64]:
    """Codes 0 … L−1 of ``levels`` in declared order; −1 for missing or unknown.

    A value is matched by its text (as ``column.astype("string")`` shows it). For
    a categorical column only its categories are converted, not every row, which
    at 10⁶ rows is the difference between milliseconds and a second.
    """
    index = pd.Index(list(levels))
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy().astype(np.int64)
        if tuple(str(c) for c in column.cat.categories) == tuple(levels):
            return codes
        names = pd.Index(column.cat.categories.astype("string"))
        per_category = np.asarray(index.get_indexer(names), dtype=np.int64)
        return np.where(codes >= 0, per_category[np.maximum(codes, 0)], -1)
    # get_indexer gives −1 for values outside the levels; missing values are
    # replaced by a string no level can equal.
    text = pd.Index(column.astype("string").fillna("\x00"))
    return np.asarray(index.get_indexer(text), dtype=np.int64)


def group_rows(groups: NDArray[np.int64], k: int) -> list[NDArray[np.intp]]:
    """Each group's row numbers, in row order (patients outside every group in none)."""
    return [np.flatnonzero(groups == g) for g in range(k)]


def group_moments(
    values: FloatArray,
    groups: NDArray[np.int64],
    k: int,
    *,
    rows: Sequence[NDArray[np.intp]] | None = None,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Per-group n, n missing, mean and variance (denominator n − 1).

    ``rows`` are the groups' row numbers (:func:`group_rows`), computed once by
    a caller that summarises many columns over the same groups; without them
    they are found here. The numbers do not depend on whether they are given.

    Notes
    -----
    Each group's values are taken out as one contiguous array (so the sums are
    NumPy's pairwise sums, not a scatter into bins per row). Two passes: the
    group mean, then the sum of squared deviations from it less the square of
    the (rounding-level) sum of deviations over n, which keeps the variance
    accurate when the values sit far from zero (Chan, Golub & LeVeque 1983).
    The variance is NaN where n < 2.

    References
    ----------
    Chan, T.F., Golub, G.H. & LeVeque, R.J. (1983). Algorithms for computing the
    sample variance: analysis and recommendations. Am. Stat. 37(3), 242-247.

    Examples
    --------
    >>> n, miss, mean, var = group_moments(
    ...     np.array([1.0, 3.0, np.nan, 10.0]), np.array([0, 0, 0, 1]), 2)
    >>> n.tolist(), miss.tolist(), mean.tolist(), var[0].item()
    ([2, 1], [1, 0], [2.0, 10.0], 2.0)
    """
    rows = group_rows(groups, k) if rows is None else rows
    n = np.zeros(k, dtype=np.int64)
    total = np.zeros(k, dtype=np.int64)
    mean = np.full(k, np.nan)
    var = np.full(k, np.nan)
    for g, where in enumerate(rows):
        x = values.take(where)
        total[g] = x.size
        missing = np.isnan(x)
        if missing.any():
            x = x[~missing]
        n[g] = x.size
        if x.size == 0:
            continue
        mean[g] = x.sum() / x.size
        dev = x - mean[g]
        ss = np.einsum("i,i->", dev, dev)
        corr = dev.sum()
        if x.size > 1:
            var[g] = max((ss - corr * corr / x.size) / (x.size - 1), 0.0)
    return n, total - n, mean, var


def group_counts(
    codes: NDArray[np.int64],
    groups: NDArray[np.int64],
    k: int,
    levels: int,
    *,
    rows: Sequence[NDArray[np.intp]] | None = None,
) -> IntArray:
    """A k × L table: patients of each group in each level (missing codes, −1, left out).

    ``rows`` as for :func:`group_moments`.
    """
    rows = group_rows(groups, k) if rows is None else rows
    table = np.zeros((k, levels), dtype=np.int64)
    for g, where in enumerate(rows):
        # Code −1 (missing) counts in bin 0, which is dropped.
        table[g] = np.bincount(codes.take(where) + 1, minlength=levels + 1)[1 : levels + 1]
    return table
