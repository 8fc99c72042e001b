"""Unit tests of kypho.stats Mann–Whitney U."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats as sps

from kypho.errors import StatisticsError
from kypho.stats import mann_whitney, mann_whitney_from_counts


def _brute_force_p(x: list[float], y: list[float], alternative: str) -> float:
    """Exact permutation P of the rank sum by listing every split of the pooled data."""
    pooled = np.array(x + y)
    ranks = sps.rankdata(pooled)
    observed = ranks[: len(x)].sum()
    sums = np.array(
        [ranks[list(c)].sum() for c in itertools.combinations(range(pooled.size), len(x))]
    )
    le = np.mean(sums <= observed + 1e-9)
    ge = np.mean(sums >= observed - 1e-9)
    if alternative == "greater":
        return float(ge)
    if alternative == "less":
        return float(le)
    return float(min(1.0, 2 * min(le, ge)))


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([1.0, 2.0, 2.0, 3.0, 5.0], [2.0, 3.0, 3.0, 4.0, 4.0, 6.0]),
        ([1.0, 1.0, 1.0, 2.0], [2.0, 2.0, 3.0, 3.0, 3.0]),
        ([0.5, 2.5, 3.5], [1.5, 4.5, 5.5, 6.5]),
    ],
)
def test_exact_p_equals_full_enumeration(x: list[float], y: list[float], alternative: str) -> None:
    result = mann_whitney(x, y, method="exact", alternative=alternative)  # type: ignore[arg-type]
    assert result.exact is True
    assert result.p_value == pytest.approx(_brute_force_p(x, y, alternative), rel=1e-12)


def test_auto_is_exact_without_ties_and_asymptotic_with_ties() -> None:
    assert mann_whitney([1.0, 2.0, 3.0], [4.0, 5.0]).exact is True
    assert mann_whitney([1.0, 2.0, 2.0], [4.0, 5.0]).exact is False
    assert mann_whitney(np.arange(50.0), np.arange(50.0) + 0.5).exact is False


def test_all_values_tied_is_documented_no_difference() -> None:
    for method in ("asymptotic", "exact"):
        result = mann_whitney([2.0, 2.0, 2.0], [2.0, 2.0], method=method)  # type: ignore[arg-type]
        assert result.z == 0.0
        assert result.p_value == 1.0
        assert result.u == 3.0
        assert result.effect_size == 0.0


def test_w_is_y_rank_sum_when_mean_ranks_are_equal() -> None:
    """PSPP prints W = 7 for x = (1, 2, 5, 6), y = (3, 4): equal mean ranks 3.5."""
    result = mann_whitney([1.0, 2.0, 5.0, 6.0], [3.0, 4.0])
    assert (result.u, result.w) == (4.0, 7.0)


def test_spss_conventions() -> None:
    result = mann_whitney([1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0, 8.0], method="asymptotic")
    assert (result.u, result.u1, result.u2, result.w) == (0.0, 0.0, 15.0, 6.0)
    assert result.z == pytest.approx(-7.5 / np.sqrt(3 * 5 * 9 / 12))
    assert result.effect_size == -1.0
    assert result.statistic == result.u
    assert result.dof is None
    assert result.method == "Mann–Whitney U"


def test_counts_equal_expanded_raw_data() -> None:
    c1, c2 = [4, 7, 10, 34], [11, 18, 14, 12]
    raw = mann_whitney(np.repeat([1, 2, 3, 4], c1), np.repeat([1, 2, 3, 4], c2), method="exact")
    counts = mann_whitney_from_counts(c1, c2, method="exact")
    for field in ("u", "w", "z", "p_value", "effect_size", "rank_sum1"):
        assert getattr(counts, field) == pytest.approx(getattr(raw, field), rel=1e-12)


def test_counts_batch_equals_single_tables() -> None:
    c1 = np.array([[4, 7, 10, 34], [1, 0, 3, 2], [5, 5, 5, 5]])
    c2 = np.array([[11, 18, 14, 12], [2, 2, 0, 1], [5, 5, 5, 5]])
    batch = mann_whitney_from_counts(c1, c2, continuity=True)
    for i in range(3):
        one = mann_whitney_from_counts(c1[i], c2[i], continuity=True)
        assert batch.p_value[i] == pytest.approx(one.p_value, rel=1e-12)
        assert batch.n1[i] == one.n1


def test_raw_batch_equals_single_samples() -> None:
    rng = np.random.default_rng(9)
    x = rng.integers(1, 5, size=(20, 12)).astype(float)
    y = rng.integers(1, 5, size=(20, 9)).astype(float)
    x[3] = rng.permutation(12) + 0.5  # one row without ties takes the exact path
    y[3] = np.arange(9) * 1.3
    batch = mann_whitney(x, y, axis=1)
    for i in range(20):
        one = mann_whitney(x[i], y[i])
        assert batch.exact[i] == one.exact
        for field in ("u", "w", "z", "p_value"):
            assert getattr(batch, field)[i] == pytest.approx(getattr(one, field), rel=1e-12)


def test_missing_values_are_dropped_in_single_mode_and_refused_in_batches() -> None:
    assert mann_whitney([1.0, np.nan, 3.0], [2.0, 4.0]).n1 == 2
    with pytest.raises(StatisticsError) as info:
        mann_whitney([[1.0, np.nan]], [[2.0, 3.0]], axis=1)
    assert str(info.value) == (
        "a batch passed to mann_whitney must not contain NaN; drop missing values and test "
        "each sample on its own, or use mann_whitney_from_counts"
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: mann_whitney([], [1.0]),
            "each group needs at least one non-missing value (got n1=0, n2=1)",
        ),
        (
            lambda: mann_whitney_from_counts([0, 0], [1, 2]),
            "each group needs at least one counted patient (got group totals 0 and 3)",
        ),
        (
            lambda: mann_whitney_from_counts([1, -2], [1, 2]),
            "counts1 must be counts (whole numbers ≥ 0) (got [-2.0])",
        ),
        (
            lambda: mann_whitney_from_counts([1, 2.5], [1, 2]),
            "counts1 must be counts (whole numbers ≥ 0) (got [2.5])",
        ),
        (
            lambda: mann_whitney_from_counts([1, 2, 3], [1, 2]),
            "counts1 and counts2 must list the same categories (got shapes (3,) and (2,))",
        ),
        (
            lambda: mann_whitney([1.0], [2.0], method="permutation"),
            "method must be one of 'auto', 'asymptotic', 'exact' (got 'permutation')",
        ),
        (
            lambda: mann_whitney([1.0], [2.0], continuity="yes"),
            "continuity must be True or False (got 'yes')",
        ),
        (
            lambda: mann_whitney(np.arange(3000.0), np.arange(3000.0), method="exact"),
            "the exact Mann–Whitney P is limited to small samples (got n1=3000, n2=3000); "
            "use method='asymptotic'",
        ),
    ],
)
def test_errors_name_the_problem(call: object, message: str) -> None:
    with pytest.raises(StatisticsError) as info:
        call()  # type: ignore[operator]
    assert str(info.value) == message


def test_continuity_moves_z_toward_zero() -> None:
    x, y = [1.0, 2.0, 2.0, 5.0, 7.0], [3.0, 4.0, 6.0, 8.0, 9.0, 9.0]
    plain = mann_whitney(x, y, method="asymptotic")
    corrected = mann_whitney(x, y, method="asymptotic", continuity=True)
    assert plain.z < corrected.z <= 0.0
    assert corrected.p_value > plain.p_value


def test_large_groups_run_vectorised() -> None:
    rng = np.random.default_rng(4)
    result = mann_whitney(rng.normal(size=200_000), rng.normal(0.01, 1, size=150_000))
    assert result.exact is False
    assert 0.0 <= result.p_value <= 1.0
    assert result.n1 == 200_000
