"""Mann–Whitney U against R's wilcox.test and PSPP's NPAR TESTS /M-W.

Sources: tests/reference/oracles/stats/stats_oracle.out (R 4.2.2 ``wilcox.test``:
its ``W`` is kypho's ``u1``; the ``?wilcox.test`` example data wx/wy; the grade
counts of the paper's Table 7) and stats_pspp.csv (PSPP 1.6.2: U, Wilcoxon W, Z,
asymptotic P, and the Ranks table). Tolerance: rel 1e-10 against R (exact P: 1e-12);
half a unit of the last printed digit against PSPP.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kypho.stats import mann_whitney, mann_whitney_from_counts

REL = 1e-10
GRADES1 = [4, 7, 10, 34]
GRADES2 = [11, 18, 14, 12]


@pytest.mark.parametrize(
    ("case", "a", "b", "kwargs"),
    [
        ("w_exact_greater", "wx", "wy", {"alternative": "greater"}),
        ("w_exact_two", "wx", "wy", {}),
        ("w_asym_nocc", "wx", "wy", {"method": "asymptotic"}),
        ("w_asym_cc", "wx", "wy", {"method": "asymptotic", "continuity": True}),
        ("xy_mw", "x", "y", {}),
        ("long_exact", "lx", "ly", {}),
    ],
)
def test_mann_whitney_matches_r(r_oracle: Any, case: str, a: str, b: str, kwargs: Any) -> None:
    """R: wilcox.test(a, b, exact = ..., correct = ..., alternative = ...)."""
    result = mann_whitney(r_oracle.data[a], r_oracle.data[b], **kwargs)
    assert result.u1 == r_oracle(case, "statistic")
    assert result.p_value == pytest.approx(r_oracle(case, "p_value"), rel=REL)


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("grades_nocc", {}),
        ("grades_cc", {"continuity": True}),
        ("grades_cc_less", {"continuity": True, "alternative": "less"}),
    ],
)
def test_mann_whitney_from_counts_matches_r_on_expanded_grades(
    r_oracle: Any, case: str, kwargs: Any
) -> None:
    """R: wilcox.test(rep(1:4, Table 7 counts), ..., exact = FALSE)."""
    from_counts = mann_whitney_from_counts(GRADES1, GRADES2, **kwargs)
    raw = mann_whitney(np.repeat([1, 2, 3, 4], GRADES1), np.repeat([1, 2, 3, 4], GRADES2), **kwargs)
    for result in (from_counts, raw):
        assert result.u1 == r_oracle(case, "statistic")
        assert result.p_value == pytest.approx(r_oracle(case, "p_value"), rel=REL)


@pytest.mark.parametrize(("index", "a", "b"), [(0, "x", "y"), (2, "wx", "wy")])
def test_mann_whitney_matches_pspp(r_oracle: Any, pspp: Any, index: int, a: str, b: str) -> None:
    """PSPP NPAR TESTS /M-W: U, Wilcoxon W (rank sum of the group with the smaller
    mean rank), Z with the tie correction and asymptotic two-tailed P."""
    stats_row = pspp.tables("Test Statistics")[index].rows[1]
    ranks = pspp.tables("Ranks")[index].rows
    result = mann_whitney(r_oracle.data[a], r_oracle.data[b], method="asymptotic")
    for value, cell in zip(
        (result.u, result.w, result.z, result.p_value), stats_row[1:5], strict=True
    ):
        assert pspp.matches(value, cell), (value, cell)
    assert pspp.matches(result.mean_rank1, ranks[1][3])
    assert pspp.matches(result.rank_sum1, ranks[1][4])
    assert pspp.matches(result.mean_rank2, ranks[2][3])
    assert pspp.matches(result.rank_sum2, ranks[2][4])


def test_mann_whitney_from_counts_matches_pspp_on_grades(pspp: Any) -> None:
    """PSPP on the 110 patients of Table 7 listed one per line: U = 837,
    W = 2377, Z = −4.25."""
    row = pspp.tables("Test Statistics")[1].rows[1]
    result = mann_whitney_from_counts(GRADES1, GRADES2)
    for value, cell in zip((result.u, result.w, result.z, result.p_value), row[1:5], strict=True):
        assert pspp.matches(value, cell), (value, cell)


@pytest.mark.parametrize(("case", "a", "b"), [("xy_rb", "x", "y")])
def test_rank_biserial_matches_r_formula(r_oracle: Any, case: str, a: str, b: str) -> None:
    """R: 2·W/(n₁n₂) − 1 with W from wilcox.test (Kerby 2014)."""
    result = mann_whitney(r_oracle.data[a], r_oracle.data[b])
    assert result.effect_size == pytest.approx(r_oracle(case, "effect_size"), rel=1e-12)


def test_rank_biserial_from_counts_matches_r_formula(r_oracle: Any) -> None:
    result = mann_whitney_from_counts(GRADES1, GRADES2)
    assert result.effect_size == pytest.approx(r_oracle("grades_rb", "effect_size"), rel=1e-12)
