"""Tests on tables of counts, as the audit needs them, through ``kypho.stats``.

The audit compares a printed P with every standard variant of the declared test, so it
asks :func:`kypho.stats.chi_square` for each variant in turn, and handles the printed
tables the engine refuses by design (a level that no patient has in either group).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from kypho.stats import chi_square, mann_whitney_from_counts

__all__ = ["ChiSquareP", "MannWhitneyCounts", "chi_square_p", "mann_whitney_counts"]


@dataclass(frozen=True)
class ChiSquareP:
    """P values of a groups × levels table under each candidate test.

    ``rule`` is the test ``kypho.stats.chi_square(method="auto")`` picks for a 2×2 table
    (Pearson when n ≥ 40 and every expected count ≥ 5; Yates when n ≥ 40 and the
    smallest expected count is in [1, 5); Fisher otherwise); larger tables use Pearson.
    A test that is undefined for the table holds None.
    """

    pearson: float | None
    pearson_statistic: float | None
    dof: int
    yates: float | None
    fisher: float | None
    min_expected: float
    rule: str


def chi_square_p(table: NDArray[np.int64]) -> ChiSquareP:
    """Pearson, Yates (2×2) and Fisher (2×2) P for a groups × levels table of counts.

    Notes
    -----
    Levels no patient has are dropped before the χ² tests: they add nothing to X²
    and would make an expected count 0. A 2×2 table with such a level has only one
    table with its margins, so Fisher's exact P is 1 and χ² is undefined.

    References
    ----------
    Agresti A. Categorical Data Analysis, 3rd ed. Wiley; 2013. Sections 3.1, 3.5.
    """
    full = np.asarray(table, dtype=np.int64)
    kept = full[:, full.sum(axis=0) > 0]
    kept = kept[kept.sum(axis=1) > 0, :]
    r, c = kept.shape
    if r < 2 or c < 2:
        fisher = 1.0 if full.shape == (2, 2) else None
        return ChiSquareP(None, None, 0, None, fisher, 0.0, "fisher")
    pearson = chi_square(kept, method="pearson")
    yates = fisher = None
    rule = "pearson"
    if (r, c) == (2, 2):
        yates = float(chi_square(kept, method="yates").p_value)
        fisher = float(chi_square(kept, method="fisher").p_value)
        rule = str(chi_square(kept, method="auto").tests)
    return ChiSquareP(
        pearson=float(pearson.p_value),
        pearson_statistic=float(cast(float, pearson.statistic)),  # one table: a float
        dof=(r - 1) * (c - 1),
        yates=yates,
        fisher=fisher,
        min_expected=float(pearson.min_expected),
        rule=rule,
    )


@dataclass(frozen=True)
class MannWhitneyCounts:
    """Mann–Whitney U from grade counts: U (the smaller), Z, P, and the σ behind Z."""

    u: float
    u1: float
    z: float
    p_value: float
    p_continuity: float
    sigma: float
    n1: int
    n2: int


def mann_whitney_counts(
    counts1: NDArray[np.int64], counts2: NDArray[np.int64]
) -> MannWhitneyCounts:
    """U, Z and P (with and without continuity correction) from the grade counts.

    Notes
    -----
    U, Z and P come from :func:`kypho.stats.mann_whitney_from_counts` (SPSS's U and
    "Asymp. Sig."; ``p_continuity`` is R's ``wilcox.test`` default). The audit also
    needs σ, to turn a *printed* U into Z: with tⱼ patients in grade j and
    N = n₁ + n₂, σ² = n₁n₂/12 · ((N + 1) − Σ(tⱼ³ − tⱼ)/(N(N − 1))).

    References
    ----------
    Lehmann EL. Nonparametrics: Statistical Methods Based on Ranks. Springer; 2006.
    Chapter 1, section 4.
    """
    a = np.asarray(counts1, dtype=np.float64)
    b = np.asarray(counts2, dtype=np.float64)
    plain = mann_whitney_from_counts(a, b)
    corrected = mann_whitney_from_counts(a, b, continuity=True)
    n1, n2 = float(a.sum()), float(b.sum())
    total = n1 + n2
    t = a + b
    ties = float((t**3 - t).sum())
    sigma = math.sqrt(n1 * n2 / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0))))
    return MannWhitneyCounts(
        u=float(plain.u),
        u1=float(plain.u1),
        z=float(plain.z),
        p_value=float(plain.p_value),
        p_continuity=float(corrected.p_value),
        sigma=sigma,
        n1=int(n1),
        n2=int(n2),
    )
