"""Worked examples whose answers are exact fractions, derivable by hand.

- Fisher, R.A. (1935). The Design of Experiments, §2: the lady tasting tea. With
  4 of 8 cups of each kind and all 4 milk-first cups named correctly, 3 of 4 gives
  P(≥ 3 right) = (C(4,3)·C(4,1) + C(4,4)·C(4,0)) / C(8,4) = 17/70.
- Mann, H.B. & Whitney, D.R. (1947), Table I: for n₁ = 3, n₂ = 5, P(U ≤ 0) = 1/56,
  P(U ≤ 1) = 2/56, P(U ≤ 2) = 4/56 (number of arrangements over C(8, 3) = 56).
- Yates, F. (1934) continuity correction in closed form for a 2×2 table:
  χ² = N(|ad − bc| − N/2)² / (r₁r₂c₁c₂).

Tolerance: rel 1e-12 (the exact values are rational).
"""

from __future__ import annotations

import pytest

from kypho.stats import chi_square, mann_whitney


def test_lady_tasting_tea_one_sided_p_is_17_over_70() -> None:
    result = chi_square([[3, 1], [1, 3]], method="fisher", alternative="greater")
    assert result.p_value == pytest.approx(17 / 70, rel=1e-12)


def test_lady_tasting_tea_all_correct_is_1_over_70() -> None:
    result = chi_square([[4, 0], [0, 4]], method="fisher", alternative="greater")
    assert result.p_value == pytest.approx(1 / 70, rel=1e-12)


@pytest.mark.parametrize(
    ("x", "u", "one_sided"),
    [
        ([1.0, 2.0, 3.0], 0.0, 1 / 56),
        ([1.0, 2.0, 4.0], 1.0, 2 / 56),
        ([1.0, 2.0, 5.0], 2.0, 4 / 56),
    ],
)
def test_mann_whitney_exact_tail_matches_table_of_mann_and_whitney(
    x: list[float], u: float, one_sided: float
) -> None:
    y = [v for v in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0) if v not in x]
    result = mann_whitney(x, y, method="exact", alternative="less")
    assert result.u == u
    assert result.p_value == pytest.approx(one_sided, rel=1e-12)
    two_sided = mann_whitney(x, y, method="exact")
    assert two_sided.p_value == pytest.approx(2 * one_sided, rel=1e-12)


def test_yates_matches_its_closed_form() -> None:
    a, b, c, d = 12, 8, 5, 15
    n = a + b + c + d
    closed = n * (abs(a * d - b * c) - n / 2) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
    assert chi_square([[a, b], [c, d]], method="yates").statistic == pytest.approx(
        closed, rel=1e-12
    )
