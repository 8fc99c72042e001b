"""Vectorised 2×2 χ² test with the paper's "auto" choice, for batches of tables.

``kypho.stats.chi_square`` accepts batches of tables, but for power simulation
it is about ten times slower than needed (it also computes risk ratios, odds
ratios and their CIs for every table) and it refuses a batch holding any table
with an empty margin, which simulated studies with rare events produce. This
private helper computes only the test choice and P, by the same rule as
``kypho.stats.chi_square(method="auto")``, and a unit test checks that both
agree table by table:

* N ≥ 40 and every expected count ≥ 5: Pearson's χ²;
* N ≥ 40 and some expected count in [1, 5): Yates's continuity-corrected χ²;
* N < 40 or some expected count < 1: Fisher's exact test (two-sided, summing the
  tables no more probable than the observed one, as R's ``fisher.test``).

A table with an empty row or column (e.g. no leakage in either group) has no
defined statistic; it is counted as "not rejected" (P = 1).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import special, stats

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

PEARSON, YATES, FISHER, UNDEFINED = 0, 1, 2, 3
TEST_NAMES = ("Pearson χ²", "Yates χ²", "Fisher exact", "undefined (empty margin)")

# R's fisher.test treats probabilities within this relative distance of the
# observed table's probability as equal, to be robust to rounding.
_FISHER_RELATIVE_TOLERANCE = 1e-7


def chi_square_2x2_auto(
    events1: IntArray, others1: IntArray, events2: IntArray, others2: IntArray
) -> tuple[FloatArray, IntArray]:
    """P values and test codes for tables [[events1, others1], [events2, others2]].

    Returns
    -------
    p_value : ndarray of float
    test : ndarray of int
        ``PEARSON``, ``YATES``, ``FISHER`` or ``UNDEFINED`` per table.
    """
    a, b, c, d = (np.asarray(v, dtype=np.float64) for v in (events1, others1, events2, others2))
    r1, r2 = a + b, c + d
    c1, c2 = a + c, b + d
    n = r1 + r2
    undefined = (r1 == 0) | (r2 == 0) | (c1 == 0) | (c2 == 0)
    expected_min = np.minimum(r1, r2) * np.minimum(c1, c2) / n
    test = np.where(
        (n < 40) | (expected_min < 1),
        FISHER,
        np.where(expected_min < 5, YATES, PEARSON),
    )
    test = np.where(undefined, UNDEFINED, test).astype(np.int64)
    p = np.ones(a.shape)
    denominator = r1 * r2 * c1 * c2
    cross = np.abs(a * d - b * c)
    for code, correction in ((PEARSON, 0.0), (YATES, 0.5)):
        rows = test == code
        if rows.any():
            diff = np.maximum(cross[rows] - correction * n[rows], 0.0)
            statistic = n[rows] * diff**2 / denominator[rows]
            p[rows] = stats.chi2.sf(statistic, 1)
    rows = test == FISHER
    if rows.any():
        p[rows] = _fisher_two_sided(a[rows], r1[rows], r2[rows], c1[rows])
    return p, test


def _fisher_two_sided(a: FloatArray, r1: FloatArray, r2: FloatArray, c1: FloatArray) -> FloatArray:
    """Two-sided Fisher P for many tables at once (hypergeometric over a's support)."""
    grid = np.arange(int(r1.max()) + 1, dtype=np.float64)[None, :]
    low = np.maximum(0.0, c1 - r2)[:, None]
    high = np.minimum(r1, c1)[:, None]
    inside = (grid >= low) & (grid <= high)
    # log P(A = x) = log C(r1, x) + log C(r2, c1 - x) - log C(r1 + r2, c1)
    x = np.where(inside, grid, low)
    log_pmf = (
        _log_choose(r1[:, None], x)
        + _log_choose(r2[:, None], c1[:, None] - x)
        - _log_choose(r1[:, None] + r2[:, None], c1[:, None])
    )
    pmf = np.where(inside, np.exp(log_pmf), 0.0)
    observed = np.take_along_axis(pmf, a.astype(np.int64)[:, None], axis=1)
    keep = pmf <= observed * (1 + _FISHER_RELATIVE_TOLERANCE)
    p: FloatArray = np.minimum((pmf * keep).sum(axis=1), 1.0)
    return p


def _log_choose(n: FloatArray, k: FloatArray) -> FloatArray:
    result: FloatArray = (
        special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    )
    return result
