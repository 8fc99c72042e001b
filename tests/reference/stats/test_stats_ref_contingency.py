"""χ², Fisher's exact test and 2×2 effect measures against R and PSPP.

Sources: tests/reference/oracles/stats/stats_oracle.out (R 4.2.2 ``chisq.test``,
``fisher.test`` incl. its help-page examples TeaTasting, Convictions and Job,
``prop.test(correct = FALSE)`` for the CI of the risk difference, and the Woolf /
Katz log-scale CIs by formula) and stats_pspp.csv (PSPP 1.6.2 ``CROSSTABS
/STATISTICS = CHISQ``). Tolerance: rel 1e-10 against R's closed forms; Monte
Carlo P within 5 standard errors (√(p(1 − p)/B)); half a unit of the last digit
against PSPP.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from kypho.stats import StatisticsWarning, chi_square

REL = 1e-10
LEAK = [[2, 53], [9, 46]]
MID = [[12, 8], [5, 15]]
TEA = [[3, 1], [1, 3]]
CONVICTIONS = [[2, 15], [10, 3]]
JOB = np.array([1, 2, 1, 0, 3, 3, 6, 1, 10, 10, 14, 9, 6, 7, 12, 11]).reshape(4, 4).T
PARTY = [[762, 327, 468], [484, 239, 477]]


@pytest.mark.parametrize(
    ("case", "table", "method"),
    [
        ("agresti_party", PARTY, "pearson"),
        ("leak_pearson", LEAK, "pearson"),
        ("leak_yates", LEAK, "yates"),
        ("mid_pearson", MID, "pearson"),
        ("mid_yates", MID, "yates"),
        ("grades_chisq", [[4, 7, 10, 34], [11, 18, 14, 12]], "pearson"),
    ],
)
def test_chi_square_matches_r_chisq_test(r_oracle: Any, case: str, table: Any, method: Any) -> None:
    """R: chisq.test(table, correct = TRUE|FALSE)."""
    result = chi_square(table, method=method)
    for field in ("statistic", "dof", "p_value"):
        assert getattr(result, field) == pytest.approx(r_oracle(case, field), rel=REL), field


@pytest.mark.parametrize(
    ("case", "table", "alternative"),
    [
        ("leak_fisher", LEAK, "two-sided"),
        ("leak_fisher_less", LEAK, "less"),
        ("tea_greater", TEA, "greater"),
        ("tea_two", TEA, "two-sided"),
        ("conv_less", CONVICTIONS, "less"),
        ("conv_two", CONVICTIONS, "two-sided"),
    ],
)
def test_fisher_2x2_matches_r_fisher_test(
    r_oracle: Any, case: str, table: Any, alternative: Any
) -> None:
    """R: fisher.test(table, alternative = ...)."""
    result = chi_square(table, method="fisher", alternative=alternative)
    assert result.method == "Fisher exact"
    assert result.p_value == pytest.approx(r_oracle(case, "p_value"), rel=REL)


def test_rxc_fisher_monte_carlo_agrees_with_r_exact(r_oracle: Any) -> None:
    """R: fisher.test(Job) (4×4, network algorithm, exact) — our Monte Carlo
    estimate with B = 20 000 lies within 5 standard errors."""
    b = 20_000
    result = chi_square(JOB, method="fisher", monte_carlo_samples=b, seed=7)
    exact = r_oracle("job_exact", "p_value")
    assert result.tests == "ffh-mc"
    assert result.monte_carlo_samples == b
    assert abs(result.p_value - exact) <= 5 * math.sqrt(exact * (1 - exact) / b)


SMALL = [[1, 2, 0], [3, 0, 4]]


@pytest.mark.parametrize(
    ("case", "table"),
    [
        ("small_exact", SMALL),
        ("small_exact_t", np.array(SMALL).T),
        ("wide_exact", [[3, 5, 2, 8, 1], [6, 1, 4, 2, 7]]),
        ("grades_fisher", [[4, 7, 10, 34], [11, 18, 14, 12]]),
    ],
)
def test_two_row_fisher_freeman_halton_matches_r_exactly(
    r_oracle: Any, case: str, table: Any
) -> None:
    """R: fisher.test(table) on 2×C and R×2 tables, enumerated exactly here."""
    result = chi_square(table, method="fisher")
    assert result.tests == "ffh"
    assert result.method == "Fisher–Freeman–Halton exact"
    assert result.monte_carlo_samples is None
    assert result.p_value == pytest.approx(r_oracle(case, "p_value"), rel=1e-10)


def test_rxc_auto_warns_and_switches_to_exact_on_sparse_table(r_oracle: Any) -> None:
    with pytest.warns(StatisticsWarning, match="Fisher–Freeman–Halton"):
        result = chi_square(SMALL)
    assert result.method == "Fisher–Freeman–Halton exact"
    assert result.statistic is None
    assert result.p_value == pytest.approx(r_oracle("small_exact", "p_value"), rel=1e-10)


@pytest.mark.parametrize(("case", "table"), [("leak", LEAK), ("mid", MID)])
def test_two_by_two_measures_match_r(r_oracle: Any, case: str, table: Any) -> None:
    """R: prop.test(c(a, c), c(a + b, c + d), correct = FALSE)$conf.int for the
    risk difference; Woolf (OR) and Katz (RR) log-scale CIs by formula."""
    result = chi_square(table)
    assert result.rd_ci_low == pytest.approx(r_oracle(f"{case}_rd", "ci_low"), rel=REL)
    assert result.rd_ci_high == pytest.approx(r_oracle(f"{case}_rd", "ci_high"), rel=REL)
    for field in (
        "odds_ratio",
        "or_ci_low",
        "or_ci_high",
        "relative_risk",
        "rr_ci_low",
        "rr_ci_high",
    ):
        expected = r_oracle(f"{case}_ratio", field)
        assert getattr(result, field) == pytest.approx(expected, rel=REL), field


@pytest.mark.parametrize(("index", "table"), [(1, LEAK), (2, MID)])
def test_chi_square_matches_pspp_crosstabs(pspp: Any, index: int, table: Any) -> None:
    """PSPP CROSSTABS: Pearson Chi-Square, Continuity Correction and Fisher's
    one-tailed exact P.

    PSPP's two-tailed Fisher P (.030 for the leakage table) is not the
    R/SPSS definition (sum of the tables no more probable than the observed one:
    0.0524 in R), so only its one-tailed value is compared.
    """
    rows = {r[0]: r for r in pspp.tables("Chi-Square Tests")[index].rows}
    pearson = chi_square(table, method="pearson")
    yates = chi_square(table, method="yates")
    assert pspp.matches(pearson.statistic, rows["Pearson Chi-Square"][1])
    assert pspp.matches(pearson.p_value, rows["Pearson Chi-Square"][3])
    assert pspp.matches(yates.statistic, rows["Continuity Correction"][1])
    assert pspp.matches(yates.p_value, rows["Continuity Correction"][3])
    a = np.asarray(table)
    # The one-tailed P is the tail in the direction the table leans.
    leaning = "less" if a[0, 0] * a[1, 1] < a[0, 1] * a[1, 0] else "greater"
    fisher = chi_square(table, method="fisher", alternative=leaning)
    assert pspp.matches(fisher.p_value, rows["Fisher's Exact Test"][5])
