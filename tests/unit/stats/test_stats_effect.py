"""Unit tests of SMDs and P-value adjustment."""

from __future__ import annotations

import numpy as np
import pytest

from kypho.errors import StatisticsError
from kypho.stats import adjust_pvalues, smd_categorical, smd_continuous


def test_smd_continuous_sign_and_batch() -> None:
    x, y = [1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.5]
    single = smd_continuous(x, y)
    assert single.smd < 0
    assert smd_continuous(y, x).smd == pytest.approx(-single.smd)
    batch = smd_continuous(np.array([x, y]), np.array([y, x]), axis=1)
    np.testing.assert_allclose(batch.smd, [single.smd, -single.smd])
    assert single.dof is None
    assert single.p_value is None
    assert single.to_frame().loc[0, "method"] == "SMD (continuous)"


def test_smd_categorical_two_levels_is_signed_binary() -> None:
    assert smd_categorical([12, 43], [14, 41]).method == "SMD (binary)"
    assert smd_categorical([12, 43], [12, 43]).smd == 0.0


def test_smd_categorical_is_invariant_to_level_order() -> None:
    a, b = [4, 7, 10, 34], [11, 18, 14, 12]
    order = [2, 0, 3, 1]
    assert smd_categorical(a, b).smd == pytest.approx(
        smd_categorical(np.take(a, order), np.take(b, order)).smd, rel=1e-10
    )


def test_smd_categorical_with_a_level_empty_in_both_groups() -> None:
    with_empty = smd_categorical([4, 0, 7, 10], [11, 0, 18, 14])
    without = smd_categorical([4, 7, 10], [11, 18, 14])
    assert with_empty.smd == pytest.approx(without.smd, rel=1e-10)


def test_smd_errors() -> None:
    with pytest.raises(StatisticsError) as info:
        smd_continuous([1.0], [1.0, 2.0])
    assert str(info.value) == "each group needs at least 2 non-missing values for an SMD"
    with pytest.raises(StatisticsError) as info:
        smd_categorical([5, 0], [0, 5])
    assert str(info.value) == (
        "the binary SMD is undefined when one group has all patients in one level and the "
        "other group all in the other"
    )
    with pytest.raises(StatisticsError) as info:
        smd_categorical([1, 2, 3], [1, 2])
    assert str(info.value) == (
        "counts1 and counts2 must list the same levels (got shapes (3,) and (2,))"
    )


def test_adjust_pvalues_keeps_order_and_is_monotone() -> None:
    p = np.array([0.2, 0.001, 0.04, 0.03])
    for method in ("holm", "bh"):
        adjusted = adjust_pvalues(p, method=method)  # type: ignore[arg-type]
        assert np.all(adjusted >= p)
        assert np.all(adjusted <= 1.0)
        order = np.argsort(p)
        assert np.all(np.diff(adjusted[order]) >= 0)


def test_adjust_pvalues_batch_rows_are_independent() -> None:
    p = np.array([[0.01, 0.04, 0.03], [0.5, 0.2, 0.9]])
    batch = adjust_pvalues(p, method="bh")
    np.testing.assert_allclose(batch[1], adjust_pvalues(p[1], method="bh"))
    np.testing.assert_allclose(adjust_pvalues(p.T, method="bh", axis=0), batch.T)


@pytest.mark.parametrize(
    ("p", "message"),
    [
        ([0.2, 1.5], "P values must lie in [0, 1] (got [1.5])"),
        (
            [0.2, np.nan],
            "p contains NaN; drop the missing P values before adjusting, since the adjustment depends on how many there are",
        ),
    ],
)
def test_adjust_pvalues_errors(p: list[float], message: str) -> None:
    with pytest.raises(StatisticsError) as info:
        adjust_pvalues(p)
    assert str(info.value) == message
