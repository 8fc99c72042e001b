"""Unit and property tests of kypho.beyond.power (analytic power and sample size)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from kypho.beyond import ordinal_effect, power_means, power_ordinal, power_proportions
from kypho.errors import StatisticsError


def test_exactly_one_of_n_and_power_must_be_missing() -> None:
    with pytest.raises(StatisticsError) as info:
        power_proportions(0.2, 0.1, n=50, power=0.8)
    assert str(info.value) == (
        "exactly one of n and power must be None, the one to solve for (got n=50, power=0.8)"
    )


def test_proportion_outside_unit_interval_is_refused() -> None:
    with pytest.raises(StatisticsError) as info:
        power_proportions(1.2, 0.1, n=50)
    assert str(info.value) == "p1 must be a number strictly between 0 and 1 (got 1.2)"


def test_unknown_method_is_refused() -> None:
    with pytest.raises(StatisticsError) as info:
        power_proportions(0.2, 0.1, n=50, method="exact")
    assert str(info.value) == (
        "method must be one of 'normal', 'continuity', 'arcsine' (got 'exact')"
    )


def test_student_with_unequal_sds_is_refused() -> None:
    with pytest.raises(StatisticsError) as info:
        power_means(1.0, 1.0, sd2=2.0, n=20)
    assert str(info.value) == (
        "method 'student' assumes equal SDs (got sd=1.0, sd2=2.0); use method='welch'"
    )


def test_zero_effect_cannot_be_solved_for_n() -> None:
    with pytest.raises(StatisticsError) as info:
        power_proportions(0.2, 0.2, power=0.8)
    assert str(info.value) == "p1 and p2 are equal (0.2); no sample size gives power above alpha"
    with pytest.raises(StatisticsError) as info:
        power_ordinal([1, 2, 3], [2, 4, 6], power=0.8)
    assert str(info.value) == (
        "the two grade distributions are identical; no sample size gives power above alpha"
    )


def test_grade_distributions_must_match_in_length() -> None:
    with pytest.raises(StatisticsError) as info:
        power_ordinal([1, 2, 3], [1, 2], n=10)
    assert str(info.value) == (
        "probs1 and probs2 must list the same number of grades (got 3 and 2)"
    )


def test_negative_counts_are_refused() -> None:
    with pytest.raises(StatisticsError) as info:
        power_ordinal([1, -2, 3], [1, 2, 3], n=10)
    assert str(info.value) == (
        "probs1 must be non-negative finite numbers with a positive sum (got [1, -2, 3])"
    )


def test_continuity_corrected_size_is_fleiss_formula() -> None:
    """Fleiss, Levin & Paik (2003) eq. 4.14: n' = n/4 (1 + sqrt(1 + 4/(n d)))²."""
    p1, p2 = 0.164, 0.036
    plain = power_proportions(p1, p2, power=0.8).n1
    corrected = power_proportions(p1, p2, power=0.8, method="continuity").n1
    d = abs(p1 - p2)
    assert corrected == pytest.approx(
        plain / 4 * (1 + math.sqrt(1 + 4 / (plain * d))) ** 2, rel=1e-8
    )


def test_whitehead_with_two_grades_is_the_binary_log_odds_formula() -> None:
    """With two categories 1 − Σp̄³ = 3p̄q̄, so Whitehead's N is the Wald formula for log OR."""
    p1, p2 = 0.3, 0.5
    result = power_ordinal([1 - p1, p1], [1 - p2, p2], n=80)
    log_or = math.log(p2 / (1 - p2) / (p1 / (1 - p1)))
    pbar = (p1 + p2) / 2
    se = math.sqrt(2 / (80 * pbar * (1 - pbar)))
    expected = stats.norm.cdf(abs(log_or) / se - stats.norm.isf(0.025))
    # The common odds ratio is fitted numerically (BFGS), hence rel=1e-6.
    assert result.power == pytest.approx(expected, rel=1e-6)
    assert result.effect == pytest.approx(math.exp(log_or), rel=1e-6)


def test_ordinal_effect_recovers_a_proportional_odds_shift() -> None:
    """Distributions built from one model with OR 2 give back log 2 and ties-as-half superiority."""
    from scipy.special import expit, logit

    p1 = np.array([0.2, 0.3, 0.3, 0.2])
    cum2 = expit(logit(np.cumsum(p1)[:-1]) - math.log(2.0))
    p2 = np.diff(np.concatenate(([0.0], cum2, [1.0])))
    effect = ordinal_effect(p1, p2)
    assert effect.log_odds_ratio == pytest.approx(math.log(2.0), abs=1e-6)
    superiority = sum(p2[j] * p1[i] for i in range(4) for j in range(4) if j > i) + 0.5 * float(
        np.sum(p1 * p2)
    )
    assert effect.superiority == pytest.approx(superiority, rel=1e-12)
    assert effect.tie_factor == pytest.approx(1 - float(np.sum(((p1 + p2) / 2) ** 3)), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    p1=st.floats(0.02, 0.98),
    p2=st.floats(0.02, 0.98),
    target=st.floats(0.5, 0.95),
    method=st.sampled_from(["normal", "continuity", "arcsine"]),
)
def test_solving_for_n_reaches_the_target_power(
    p1: float, p2: float, target: float, method: str
) -> None:
    if abs(p1 - p2) < 0.02:
        return
    solved = power_proportions(p1, p2, power=target, method=method)
    if solved.n1 > 2.0:
        assert power_proportions(p1, p2, n=solved.n1, method=method).power == pytest.approx(
            target, abs=1e-8
        )
    assert solved.power >= target - 1e-8


@settings(max_examples=40, deadline=None)
@given(delta=st.floats(0.05, 3.0), n=st.floats(3, 500))
def test_power_grows_with_n_and_ignores_the_sign_of_delta(delta: float, n: float) -> None:
    low = power_means(delta, 1.0, n=n)
    high = power_means(delta, 1.0, n=n + 5)
    assert high.power >= low.power
    assert power_means(-delta, 1.0, n=n).power == pytest.approx(low.power, rel=1e-12)
    assert 0.0 <= low.power <= 1.0


def test_swapping_groups_keeps_ordinal_power() -> None:
    a, b = [4, 7, 10, 34], [11, 18, 14, 12]
    for method in ("whitehead", "noether"):
        assert power_ordinal(a, b, n=40, method=method).power == pytest.approx(
            power_ordinal(b, a, n=40, method=method).power, rel=1e-6
        )


def test_unequal_allocation_changes_group_two_size() -> None:
    result = power_means(1.0, 1.0, power=0.9, ratio=2.0)
    assert result.n2 == pytest.approx(2 * result.n1)
    assert result.n_total == pytest.approx(3 * result.n1)
    frame = result.to_frame()
    assert list(frame.columns)[-1] == "n_total"
    assert frame.loc[0, "power"] == pytest.approx(0.9, abs=1e-8)


def test_welch_with_equal_sds_and_groups_is_close_to_student() -> None:
    student = power_means(0.5, 1.0, n=30)
    welch = power_means(0.5, 1.0, n=30, method="welch")
    assert welch.power == pytest.approx(student.power, abs=1e-12)
