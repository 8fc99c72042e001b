"""Monte Carlo power: agreement with the analytic power within its simulation error.

Each comparison allows 4 Monte Carlo standard errors (plus, where the analytic
formula is itself an approximation, the size of that approximation stated in
the test). Seeds are fixed, so the tests are deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit, logit

from kypho.beyond import (
    power_means,
    power_ordinal,
    power_proportions,
    simulate_power_means,
    simulate_power_ordinal,
    simulate_power_proportions,
)
from kypho.errors import StatisticsError

SIMS = 4000


def test_student_power_matches_noncentral_t() -> None:
    """method='student' is exactly the test power.t.test describes (strict: both tails)."""
    mc = simulate_power_means(0.0, 1.0, 0.5, 1.0, n=40, method="student", sims=SIMS, seed=11)
    exact = power_means(0.5, 1.0, n=40, strict=True).power
    assert abs(mc.power - exact) <= 4 * mc.mcse
    assert mc.tests_used == {"Student t": SIMS}


def test_auto_t_procedure_with_equal_variances_is_close_to_student() -> None:
    """With equal true SDs the F test rarely switches to t′; power ≈ Student's."""
    mc = simulate_power_means(0.0, 1.0, 0.5, 1.0, n=40, sims=SIMS, seed=12)
    exact = power_means(0.5, 1.0, n=40, strict=True).power
    assert abs(mc.power - exact) <= 4 * mc.mcse
    assert sum(mc.tests_used.values()) == SIMS
    # The F test at α = 0.05 rejects equal variances in about 5% of studies.
    assert mc.tests_used["Welch t′"] / SIMS == pytest.approx(
        0.05, abs=4 * math.sqrt(0.05 * 0.95 / SIMS)
    )


def test_welch_power_matches_welch_approximation() -> None:
    mc = simulate_power_means(0.0, 1.0, 0.6, 2.0, n=30, method="welch", sims=SIMS, seed=13)
    approx = power_means(0.6, 1.0, sd2=2.0, n=30, method="welch", strict=True).power
    assert abs(mc.power - approx) <= 4 * mc.mcse


def test_chi_square_power_matches_normal_approximation() -> None:
    """With all expected counts ≥ 5 the 'auto' rule runs Pearson's χ², as power.prop.test assumes."""
    mc = simulate_power_proportions(0.3, 0.5, n=100, sims=SIMS, seed=14)
    approx = power_proportions(0.3, 0.5, n=100, strict=True).power
    assert mc.tests_used == {"Pearson χ²": SIMS}
    assert abs(mc.power - approx) <= 4 * mc.mcse


def test_mann_whitney_power_matches_ordinal_formulas_under_proportional_odds() -> None:
    """Grades built from a proportional-odds shift (OR 2): both formulas within 4 MC SE.

    Whitehead's formula is known to run slightly high for larger odds ratios; here
    its error (about 0.01) is inside the tolerance of 4 SE ≈ 0.03.
    """
    p1 = np.array([0.2, 0.3, 0.3, 0.2])
    cum2 = expit(logit(np.cumsum(p1)[:-1]) - math.log(2.0))
    p2 = np.diff(np.concatenate(([0.0], cum2, [1.0])))
    mc = simulate_power_ordinal(p1, p2, n=60, sims=SIMS, seed=15)
    for method in ("whitehead", "noether"):
        analytic = power_ordinal(p1, p2, n=60, method=method).power
        assert abs(mc.power - analytic) <= 4 * mc.mcse, method


@pytest.mark.parametrize("kind", ["proportions", "means", "ordinal"])
def test_size_under_the_null_is_near_alpha(kind: str) -> None:
    if kind == "proportions":
        mc = simulate_power_proportions(0.3, 0.3, n=100, sims=SIMS, seed=16)
    elif kind == "means":
        mc = simulate_power_means(5.0, 2.0, 5.0, 2.0, n=30, sims=SIMS, seed=16)
    else:
        mc = simulate_power_ordinal([1, 2, 3, 4], [1, 2, 3, 4], n=50, sims=SIMS, seed=16)
    se = math.sqrt(0.05 * 0.95 / SIMS)
    assert abs(mc.power - 0.05) <= 4 * se


def test_same_seed_same_answer_and_progress_is_reported() -> None:
    calls: list[tuple[int, int]] = []
    first = simulate_power_ordinal(
        [4, 7, 10, 34],
        [11, 18, 14, 12],
        n=20,
        sims=500,
        seed=3,
        progress=lambda done, total: calls.append((done, total)),
    )
    second = simulate_power_ordinal([4, 7, 10, 34], [11, 18, 14, 12], n=20, sims=500, seed=3)
    assert first == second
    assert calls[-1] == (500, 500)
    assert first.mcse == pytest.approx(math.sqrt(first.power * (1 - first.power) / 500))
    frame = first.to_frame()
    assert frame.loc[0, "used_Mann–Whitney Z"] == 500


def test_bad_simulation_sizes_are_refused() -> None:
    with pytest.raises(StatisticsError) as info:
        simulate_power_means(0, 1, 1, 1, n=1)
    assert str(info.value) == "n must be a whole number of at least 2 (got 1)"
    with pytest.raises(StatisticsError) as info:
        simulate_power_proportions(0.1, 0.2, n=10, sims=0)
    assert str(info.value) == "sims must be a whole number of at least 1 (got 0)"


def test_simulated_proportions_count_every_branch_of_the_auto_rule() -> None:
    """Small groups and rare events reach Fisher, Yates and the empty-margin case."""
    mc = simulate_power_proportions(0.01, 0.08, n=30, sims=SIMS, seed=21)
    assert sum(mc.tests_used.values()) == SIMS
    assert {"Fisher exact", "undefined (empty margin)"} <= set(mc.tests_used)
    mc = simulate_power_proportions(0.06, 0.2, n=60, sims=SIMS, seed=22)
    assert {"Pearson χ²", "Yates χ²"} <= set(mc.tests_used)
