"""Tests on tables of counts, as the audit needs them.

Private helpers: when this module was written ``kypho.stats`` did not yet export
``chi_square`` nor ``mann_whitney_from_counts``. They compute only what the audit
compares with printed values (P of Pearson, Yates and Fisher; U, Z and P of the
Mann–Whitney test from grade counts), for one small table at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

__all__ = ["ChiSquareP", "MannWhitneyCounts", "chi_square_p", "mann_whitney_counts"]


@dataclass(frozen=True)
class ChiSquareP:
    """P values of a groups × levels table under each candidate test.

    ``rule`` is the test the usual 2×2 rule picks (Pearson when n ≥ 40 and every
    expected count ≥ 5; Yates when n ≥ 40 and the smallest expected count is in
    [1, 5); Fisher otherwise); larger tables use Pearson. A test that is undefined for
    the table (an empty column) holds None.
    """

    pearson: float | None
    pearson_statistic: float | None
    dof: int
    yates: float | None
    fisher: float | None
    min_expected: float
    rule: str


def chi_square_p(table: NDArray[np.int64]) -> ChiSquareP:
    """Pearson, Yates (2×2) and Fisher (2×2) P for a table of counts.

    Notes
    -----
    Pearson: X² = Σ (O − E)²/E with E = row total × column total / N, on
    (r − 1)(c − 1) df. Yates (2×2): Σ (max(0, |O − E| − ½))²/E, as R's
    ``chisq.test(correct=TRUE)`` (the correction never exceeds |O − E|). Fisher:
    the two-sided exact P summing the tables no more probable than the observed one.

    References
    ----------
    Agresti A. Categorical Data Analysis, 3rd ed. Wiley; 2013. Sections 3.2, 3.5.
    """
    full = np.asarray(table, dtype=np.int64)
    # Fisher's test is defined on any 2×2 table, an empty column included (P = 1).
    fisher = float(sps.fisher_exact(full).pvalue) if full.shape == (2, 2) else None
    obs = full.astype(np.float64)
    # Levels nobody has are dropped: they add nothing to X² and make E = 0.
    obs = obs[:, obs.sum(axis=0) > 0]
    obs = obs[obs.sum(axis=1) > 0, :]
    n = obs.sum()
    r, c = obs.shape
    if r < 2 or c < 2:
        return ChiSquareP(None, None, 0, None, fisher, 0.0, "fisher")
    expected = np.outer(obs.sum(axis=1), obs.sum(axis=0)) / n
    x2 = float(((obs - expected) ** 2 / expected).sum())
    dof = (r - 1) * (c - 1)
    pearson = float(sps.chi2.sf(x2, dof))
    yates = None
    min_e = float(expected.min())
    rule = "pearson"
    if (r, c) == (2, 2):
        dev = np.maximum(np.abs(obs - expected) - 0.5, 0.0)
        yates = float(sps.chi2.sf(float((dev**2 / expected).sum()), 1))
        if n < 40 or min_e < 1:
            rule = "fisher"
        elif min_e < 5:
            rule = "yates"
    return ChiSquareP(pearson, x2, dof, yates, fisher, min_e, rule)


@dataclass(frozen=True)
class MannWhitneyCounts:
    """Mann–Whitney U from grade counts: U (the smaller), Z and the asymptotic P."""

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
    """U, Z and P of the Mann–Whitney test from the counts of each ordered grade.

    Notes
    -----
    Every patient of a grade gets the grade's mid-rank. U₁ = R₁ − n₁(n₁ + 1)/2,
    U = min(U₁, n₁n₂ − U₁) (SPSS's U). With ties,
    σ² = n₁n₂/12 · ((N + 1) − Σ(tⱼ³ − tⱼ)/(N(N − 1))), Z = (U − n₁n₂/2)/σ and
    P = 2Φ(−|Z|) (SPSS's "Asymp. Sig."); ``p_continuity`` subtracts ½ from
    |U − n₁n₂/2| first (R's ``wilcox.test`` default with ties).

    References
    ----------
    Lehmann EL. Nonparametrics: Statistical Methods Based on Ranks. Springer; 2006.
    Chapter 1, section 4.
    """
    a = np.asarray(counts1, dtype=np.float64)
    b = np.asarray(counts2, dtype=np.float64)
    t = a + b
    n1, n2 = a.sum(), b.sum()
    total = n1 + n2
    upper = np.cumsum(t)
    midrank = upper - (t - 1.0) / 2.0
    r1 = float((a * midrank).sum())
    u1 = r1 - n1 * (n1 + 1.0) / 2.0
    u = min(u1, n1 * n2 - u1)
    ties = float((t**3 - t).sum())
    sigma = float(np.sqrt(n1 * n2 / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0)))))
    dev = u - n1 * n2 / 2.0
    z = dev / sigma
    p = float(2.0 * sps.norm.sf(abs(z)))
    pc = float(2.0 * sps.norm.sf(max(abs(dev) - 0.5, 0.0) / sigma))
    return MannWhitneyCounts(u, u1, z, p, pc, sigma, int(n1), int(n2))
