"""The numerical core of kypho.synth: exact standardisation, bounds, repair, apportioning."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kypho.synth.draw import Target, apportion, fit, repair, shape, standardise, trajectories


def test_standardise_hits_mean_and_sd_exactly() -> None:
    x = np.random.default_rng(1).gamma(2.0, 1.0, 55)
    y = standardise(x, 32.0, 4.46)
    assert np.mean(y) == pytest.approx(32.0, abs=1e-12)
    assert np.std(y, ddof=1) == pytest.approx(4.46, abs=1e-12)


def test_standardise_of_a_constant_is_the_mean() -> None:
    assert standardise(np.ones(5), 3.0, 1.0).tolist() == [3.0] * 5


def test_shape_near_a_lower_bound_is_skewed_and_non_negative() -> None:
    """VAS 48 h, 0.15 ± 0.09 on [0, 10]: a normal would go below 0, the gamma does not."""
    z = np.random.default_rng(2).standard_normal(100_000)
    y = shape(z, 0.15, 0.09, 0.0, 10.0)
    assert y.min() >= 0.0
    assert np.mean(y) == pytest.approx(0.15, rel=0.02)
    assert np.std(y) == pytest.approx(0.09, rel=0.05)
    assert np.mean((y - y.mean()) ** 3) > 0  # right-skewed, away from the bound


def test_shape_near_an_upper_bound_is_mirrored() -> None:
    z = np.random.default_rng(3).standard_normal(100_000)
    y = shape(z, 9.8, 0.2, 0.0, 10.0)
    assert y.max() <= 10.0
    assert np.mean((y - y.mean()) ** 3) < 0


def test_fit_keeps_bounds_and_moments() -> None:
    z = np.random.default_rng(4).standard_normal(55)
    y = fit(shape(z, 0.15, 0.09, 0.0, 10.0), 0.15, 0.09, 0.0, 10.0)
    assert y.min() >= 0.0
    assert np.mean(y) == pytest.approx(0.15, abs=1e-9)
    assert np.std(y, ddof=1) == pytest.approx(0.09, abs=1e-9)


def test_repair_on_a_grid_reaches_the_printed_rounding() -> None:
    """Whole-number ages with mean 69.47 ± 6.90 (n = 55): only a total of 3821 prints as 69.47."""
    rng = np.random.default_rng(5)
    y = np.round(fit(rng.standard_normal(55) * 7 + 69.5, 69.47, 6.90, 60.0, None))
    target = Target(69.47, 6.90, 0.005, 0.005)
    k, ok = repair(y, np.ones(55), np.full(55, 60.0), np.full(55, np.inf), target, rng)
    fixed = y + k
    assert ok
    assert fixed.sum() == 3821
    assert round(float(np.std(fixed, ddof=1)), 2) == 6.90
    assert fixed.min() >= 60


def test_repair_reports_an_impossible_target() -> None:
    """0/1 values cannot have mean 0.5 and SD 0.1 (n = 10)."""
    y = np.array([0.0, 1.0] * 5)
    target = Target(0.5, 0.1, 0.005, 0.005)
    _, ok = repair(y, np.ones(10), np.zeros(10), np.ones(10), target, np.random.default_rng(0))
    assert not ok


def test_trajectories_correlation() -> None:
    z = trajectories(np.random.default_rng(6), 200_000, 3, rho=0.5)
    c = np.corrcoef(z.T)
    assert c[0, 1] == pytest.approx(0.5, abs=0.01)
    assert np.std(z[:, 2]) == pytest.approx(1.0, abs=0.01)


def test_apportion_example() -> None:
    assert apportion(10, [12, 43]).tolist() == [2, 8]
    assert apportion(0, [1, 2]).tolist() == [0, 0]


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=10_000),
    weights=st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=6).filter(
        lambda w: sum(w) > 0
    ),
)
def test_apportion_adds_up_and_stays_within_one_of_the_quota(
    total: int, weights: list[int]
) -> None:
    parts = apportion(total, weights)
    quota = total * np.array(weights) / sum(weights)
    assert parts.sum() == total
    assert np.all(np.abs(parts - quota) < 1.0)


def test_repair_t_hits_a_possible_t_and_keeps_the_summaries() -> None:
    """VAS 2 h of the paper: 3.41 ± 0.34 vs 3.43 ± 0.41 (n = 55 each), printed t = 0.381."""
    from kypho.synth.draw import Movable, repair_t

    rng = np.random.default_rng(11)
    targets = (Target(3.41, 0.34, 0.005, 0.005), Target(3.43, 0.41, 0.005, 0.005))
    groups = []
    for tgt in targets:
        y = np.round(fit(rng.standard_normal(55), tgt.mean, tgt.sd, 0.0, 10.0), 1)
        k, ok = repair(y, np.full(55, 0.1), np.zeros(55), np.full(55, 10.0), tgt, rng)
        assert ok
        groups.append(
            Movable(y + k * 0.1, np.full(55, 0.1), np.zeros(55), np.full(55, 10.0), tgt, k)
        )
    a, b = groups
    assert repair_t(a, b, 0.381, 0.0005, rng)
    for g in groups:
        assert g.target.hit(float(np.mean(g.y)), float(np.std(g.y, ddof=1)))
    sp = np.sqrt((np.var(a.y, ddof=1) + np.var(b.y, ddof=1)) / 2)
    t = abs(np.mean(a.y) - np.mean(b.y)) / (sp * np.sqrt(2 / 55))
    assert round(float(t), 3) == 0.381


@settings(max_examples=100, deadline=None)
@given(
    counts=st.lists(st.integers(0, 40), min_size=0, max_size=4),
    n=st.integers(0, 120),
    seed=st.integers(0, 2**32 - 1),
)
def test_labels_have_the_counts_and_are_the_codes_shuffled(
    counts: list[int], n: int, seed: int
) -> None:
    """Exactly the counts (the rest filled, all cut at n), as shuffling the codes themselves."""
    from kypho.synth.cohort import _labels

    named = {f"code{i}": c for i, c in enumerate(counts)}
    got = _labels(np.random.default_rng(seed), n, named, "rest")
    sizes = [*counts, max(n - sum(counts), 0)]
    written = np.repeat(np.array([*named, "rest"]), sizes)[:n]
    assert got.tolist() == np.random.default_rng(seed).permutation(written).tolist()
    assert sorted(got.tolist()) == sorted(written.tolist())
