"""Unit tests of kypho.stats.paired_t."""

from __future__ import annotations

import numpy as np
import pytest

from kypho.errors import StatisticsError
from kypho.stats import paired_t


def test_pairs_with_a_missing_side_are_dropped_and_counted() -> None:
    result = paired_t([1.0, 2.0, np.nan, 4.0, 5.0], [2.0, 4.0, 3.0, np.nan, 6.5])
    assert (result.n_pairs, result.n_dropped) == (3, 2)
    assert result.mean_difference == pytest.approx((1.0 + 2.0 + 1.5) / 3)
    assert result.dof == 2.0


def test_sign_is_after_minus_before() -> None:
    result = paired_t([47.0, 52.0, 45.0, 50.0], [85.0, 88.0, 81.0, 86.0])
    assert result.statistic > 0
    assert result.mean_difference == pytest.approx(36.5)
    assert result.ci_low < 36.5 < result.ci_high


def test_batch_equals_single() -> None:
    rng = np.random.default_rng(8)
    before = rng.normal(50, 6, size=(10, 55))
    after = before + rng.normal(35, 4, size=(10, 55))
    after[2, 7] = np.nan
    batch = paired_t(before, after, axis=1)
    for i in range(10):
        one = paired_t(before[i], after[i])
        assert batch.p_value[i] == pytest.approx(one.p_value, rel=1e-12)
        assert batch.n_dropped[i] == one.n_dropped


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        (
            [1.0, 2.0],
            [1.0, 2.0, 3.0],
            "before and after must have the same shape, one value per patient "
            "(got (2,) and (3,) with the paired axis last)",
        ),
        (
            [1.0, np.nan, 3.0],
            [2.0, 3.0, np.nan],
            "a paired t test needs at least 2 complete pairs (got 1; 2 dropped for a missing side)",
        ),
        (
            [],
            [],
            "a paired t test needs at least 2 complete pairs (got 0; 0 dropped for a missing side)",
        ),
        (
            [1.0, 2.0, 3.0],
            [2.0, 3.0, 4.0],
            "every difference after − before is the same, so the SD of the differences is 0 "
            "and t is undefined",
        ),
    ],
)
def test_degenerate_pairs_are_clear_errors(
    before: list[float], after: list[float], message: str
) -> None:
    with pytest.raises(StatisticsError) as info:
        paired_t(before, after)
    assert str(info.value) == message


def test_one_sided_alternatives() -> None:
    before, after = [1.0, 2.0, 3.0, 4.0], [2.0, 2.5, 4.5, 5.0]
    greater = paired_t(before, after, alternative="greater")
    less = paired_t(before, after, alternative="less")
    assert greater.p_value + less.p_value == pytest.approx(1.0)
    assert greater.ci_high == np.inf
    assert less.ci_low == -np.inf
