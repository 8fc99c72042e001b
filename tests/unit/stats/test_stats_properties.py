"""Properties every test must keep (Hypothesis).

- Swapping the groups flips the sign of t and of the difference and keeps P.
- Shifting both groups by a constant changes nothing.
- Scaling both groups by c > 0 scales the difference (and its CI) by c and keeps t, P.
- P is always within [0, 1].
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kypho.stats import (
    chi_square,
    independent_t,
    mann_whitney,
    mann_whitney_from_counts,
    paired_t,
)

# Rounded values keep the sample variances well away from rounding noise, so that
# "unchanged" can be asserted at a tight relative tolerance.
values = st.integers(-500, 500).map(lambda v: v / 10)


def group(min_size: int = 2, max_size: int = 25) -> st.SearchStrategy[np.ndarray]:
    return st.lists(values, min_size=min_size, max_size=max_size).map(np.array)


METHODS = ("student", "welch", "cochran-cox")
SETTINGS = settings(max_examples=60, deadline=None)


def _spread(x: np.ndarray, y: np.ndarray) -> bool:
    return bool(np.ptp(x) > 0 or np.ptp(y) > 0)


@SETTINGS
@given(x=group(), y=group(), method=st.sampled_from(METHODS))
def test_swapping_groups_flips_t_and_keeps_p(x: np.ndarray, y: np.ndarray, method: str) -> None:
    assume(_spread(x, y))
    ab = independent_t(x, y, method=method)  # type: ignore[arg-type]
    ba = independent_t(y, x, method=method)  # type: ignore[arg-type]
    assert ba.statistic == pytest.approx(-ab.statistic, rel=1e-9, abs=1e-12)
    assert ba.mean_difference == pytest.approx(-ab.mean_difference, rel=1e-9, abs=1e-12)
    assert ba.p_value == pytest.approx(ab.p_value, rel=1e-9, abs=1e-14)
    assert ba.ci_low == pytest.approx(-ab.ci_high, rel=1e-9, abs=1e-12)
    assert 0.0 <= ab.p_value <= 1.0


@SETTINGS
@given(x=group(), y=group(), shift=st.integers(-1000, 1000), method=st.sampled_from(METHODS))
def test_shifting_both_groups_changes_nothing(
    x: np.ndarray, y: np.ndarray, shift: int, method: str
) -> None:
    assume(_spread(x, y))
    base = independent_t(x, y, method=method)  # type: ignore[arg-type]
    moved = independent_t(x + shift, y + shift, method=method)  # type: ignore[arg-type]
    assert moved.mean_difference == pytest.approx(base.mean_difference, rel=1e-7, abs=1e-9)
    assert moved.statistic == pytest.approx(base.statistic, rel=1e-6, abs=1e-9)
    assert moved.p_value == pytest.approx(base.p_value, rel=1e-6, abs=1e-12)
    mw0, mw1 = mann_whitney(x, y), mann_whitney(x + shift, y + shift)
    assert (mw1.u, mw1.p_value) == (mw0.u, mw0.p_value)


@SETTINGS
@given(
    x=group(),
    y=group(),
    scale=st.sampled_from([0.01, 0.5, 3.0, 1000.0]),
    method=st.sampled_from(METHODS),
)
def test_scaling_both_groups_scales_the_difference(
    x: np.ndarray, y: np.ndarray, scale: float, method: str
) -> None:
    assume(_spread(x, y))
    base = independent_t(x, y, method=method)  # type: ignore[arg-type]
    scaled = independent_t(x * scale, y * scale, method=method)  # type: ignore[arg-type]
    assert scaled.mean_difference == pytest.approx(
        base.mean_difference * scale, rel=1e-9, abs=1e-12
    )
    assert scaled.ci_high == pytest.approx(base.ci_high * scale, rel=1e-9, abs=1e-12)
    assert scaled.statistic == pytest.approx(base.statistic, rel=1e-9, abs=1e-12)
    assert scaled.p_value == pytest.approx(base.p_value, rel=1e-8, abs=1e-14)
    assert scaled.effect_size == pytest.approx(base.effect_size, rel=1e-9, abs=1e-12)


@SETTINGS
@given(x=group(), y=group(), alternative=st.sampled_from(["two-sided", "less", "greater"]))
def test_p_values_lie_in_unit_interval(x: np.ndarray, y: np.ndarray, alternative: str) -> None:
    assume(_spread(x, y))
    for method in ("auto", *METHODS):
        p = independent_t(x, y, method=method, alternative=alternative).p_value  # type: ignore[arg-type]
        assert 0.0 <= p <= 1.0
    for method in ("asymptotic", "exact"):
        for continuity in (False, True):
            p = mann_whitney(
                x,
                y,
                method=method,
                continuity=continuity,  # type: ignore[arg-type]
                alternative=alternative,
            ).p_value  # type: ignore[arg-type]
            assert 0.0 <= p <= 1.0


@SETTINGS
@given(x=group(), y=group())
def test_mann_whitney_swap_keeps_u_and_p(x: np.ndarray, y: np.ndarray) -> None:
    ab, ba = mann_whitney(x, y), mann_whitney(y, x)
    assert (ab.u, ab.w) == (ba.u, ba.w) or ab.mean_rank1 == ab.mean_rank2
    assert ab.p_value == pytest.approx(ba.p_value, rel=1e-12)
    assert ab.effect_size == pytest.approx(-ba.effect_size, abs=1e-15)
    assert -1.0 <= ab.effect_size <= 1.0


@SETTINGS
@given(
    data=arrays(np.int64, (2, 2, 4), elements=st.integers(0, 30)),
)
def test_paired_and_table_tests_keep_p_in_unit_interval(data: np.ndarray) -> None:
    before, after = data[0].ravel().astype(float), data[1].ravel().astype(float)
    assume(np.ptp(after - before) > 0)
    result = paired_t(before, after)
    assert 0.0 <= result.p_value <= 1.0
    swapped = paired_t(after, before)
    assert swapped.statistic == pytest.approx(-result.statistic)
    table = data[0, :, :2] + 1
    for method in ("pearson", "yates", "fisher", "auto"):
        assert 0.0 <= chi_square(table, method=method).p_value <= 1.0  # type: ignore[arg-type]
    counts = mann_whitney_from_counts(data[0, 0] + 1, data[0, 1] + 1)
    assert 0.0 <= counts.p_value <= 1.0


@SETTINGS
@given(
    before=group(min_size=3, max_size=20),
    change=st.lists(values, min_size=3, max_size=20),
    shift=st.integers(-1000, 1000),
    scale=st.sampled_from([0.01, 2.0, 1000.0]),
)
def test_paired_t_is_shift_invariant_and_scales_the_change(
    before: np.ndarray, change: list[float], shift: int, scale: float
) -> None:
    n = min(before.size, len(change))
    b = before[:n]
    a = b + np.array(change[:n])
    # changes are multiples of 0.1: a smaller spread is float noise around a constant
    # difference, for which t is undefined
    assume(np.ptp(a - b) > 1e-6)
    base = paired_t(b, a)
    moved = paired_t(b + shift, a + shift)
    scaled = paired_t(b * scale, a * scale)
    assert moved.statistic == pytest.approx(base.statistic, rel=1e-6, abs=1e-9)
    assert moved.mean_difference == pytest.approx(base.mean_difference, rel=1e-6, abs=1e-9)
    assert scaled.mean_difference == pytest.approx(base.mean_difference * scale, rel=1e-9)
    assert scaled.p_value == pytest.approx(base.p_value, rel=1e-8, abs=1e-14)


@SETTINGS
@given(x=group(min_size=1), y=group(min_size=1), scale=st.sampled_from([0.5, 3.0, 100.0]))
def test_mann_whitney_depends_on_order_only(x: np.ndarray, y: np.ndarray, scale: float) -> None:
    base = mann_whitney(x, y)
    transformed = mann_whitney(np.exp(x / 50) * scale, np.exp(y / 50) * scale)
    assert (transformed.u, transformed.w) == (base.u, base.w)
    assert transformed.p_value == pytest.approx(base.p_value, rel=1e-12)


@SETTINGS
@given(table=arrays(np.int64, (2, 2), elements=st.integers(1, 60)))
def test_two_by_two_tests_ignore_transposition_and_row_order(table: np.ndarray) -> None:
    for method in ("pearson", "yates", "fisher"):
        base = chi_square(table, method=method)  # type: ignore[arg-type]
        assert chi_square(table.T, method=method).p_value == pytest.approx(  # type: ignore[arg-type]
            base.p_value, rel=1e-9
        )
        assert chi_square(table[::-1], method=method).p_value == pytest.approx(  # type: ignore[arg-type]
            base.p_value, rel=1e-9
        )
    swapped = chi_square(table[::-1])
    assert swapped.risk_difference == pytest.approx(-chi_square(table).risk_difference)
