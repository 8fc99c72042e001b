"""GRIM, GRIMMER and DEBIT on hand-computed cases."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kypho.audit import debit, grim, grimmer
from kypho.errors import AuditError


def test_grim_rejects_vas_mean_834_of_55() -> None:
    """8.34 × 55 = 458.7: totals 458 and 459 give 8.327… → 8.33 and 8.345… → 8.35.

    (Table 3, experimental group, preoperative VAS, if scores are whole points.)
    """
    r = grim("8.34", 55)
    assert (r.consistent, r.applicable, r.nearest) == (False, True, ("8.33", "8.35"))


def test_grim_accepts_age_6947_of_55() -> None:
    """69.47 × 55 = 3820.85: the total 3821 gives 69.4727… → 69.47."""
    r = grim("69.47", 55)
    assert (r.consistent, r.nearest) == (True, ("69.47",))


def test_grim_rounding_half_either_way_is_accepted() -> None:
    """5 values summing to 13 have mean 2.6 exactly; printed to 0 decimals as "3"
    (half up) — and 2.5 = 25/10 prints as "2" (half even) or "3" (half up): both pass."""
    assert grim("3", 5).consistent
    assert grim("2", 10).applicable is False  # 10 ≥ 10⁰: any whole-number mean possible
    assert grim("2.5", 2).consistent
    assert grim("2.4", 2).consistent is False


def test_grim_with_items() -> None:
    """Mean 3.47 of 10 patients × 3 items: 104/30 = 3.4667 → 3.47 is possible; with
    1 item, 34/10 = 3.40 and 35/10 = 3.50 are the only neighbours."""
    assert grim("3.47", 10, items=3).consistent
    assert not grim("3.47", 10).consistent


def test_grim_not_applicable_for_large_n() -> None:
    """n = 120 ≥ 10² for two decimals: every mean is possible."""
    r = grim("8.34", 120)
    assert (r.consistent, r.applicable) == (True, False)


@given(st.integers(1, 99), st.integers(0, 990))
def test_grim_accepts_every_true_mean(n: int, total: int) -> None:
    """Any real whole-number data set passes GRIM at 2 decimals."""
    assert grim(f"{total / n:.2f}", n).consistent


def test_grimmer_lowest_sd_of_whole_numbers() -> None:
    """Mean 0.15 of 55 whole numbers: total 8 (8/55 = 0.145 → 0.15). The least spread
    data are 8 ones and 47 zeros: SD = √((8 − 8²/55)/54) = √0.12660 = 0.3558. A printed
    SD of 0.09 (Table 3, 48 h) is therefore impossible for whole points."""
    r = grimmer("0.15", "0.09", 55, low=0, high=10)
    assert r.grim_consistent
    assert not r.consistent
    assert r.sd_min == pytest.approx(0.355808, abs=1e-6)


def test_grimmer_parity() -> None:
    """Mean 1.16 of 55 (total 64), SD 0.59: Q = Σx² ∈ [0.585²·54 + 64²/55,
    0.595²·54 + 64²/55] = [92.95, 93.59], so Q = 93, odd; but Q ≡ total (mod 2) = even."""
    assert not grimmer("1.16", "0.59", 55).consistent
    # SD 0.60: Q ∈ [0.595²·54 + 74.47, 0.605²·54 + 74.47] = [93.59, 94.24] → Q = 94, even.
    assert grimmer("1.16", "0.60", 55).consistent


def test_grimmer_largest_sd_on_bounded_scale() -> None:
    """Mean 5.0 of 4 values in [0, 10]: at most 0, 0, 10, 10: SD = √(100/3) = 5.7735, so
    "5.9" ([5.85, 5.95]) is impossible and "5.77" possible."""
    r = grimmer("5.0", "5.9", 4, low=0, high=10)
    assert not r.consistent
    assert r.sd_max == pytest.approx(5.773503, abs=1e-6)
    assert grimmer("5.0", "5.77", 4, low=0, high=10).consistent


def test_grimmer_mean_failing_grim() -> None:
    r = grimmer("8.34", "0.27", 55)
    assert (r.consistent, r.grim_consistent, r.sd_min) == (False, False, None)


@given(st.lists(st.integers(0, 10), min_size=2, max_size=60))
def test_grimmer_accepts_every_true_data_set(values: list[int]) -> None:
    n = len(values)
    mean = sum(values) / n
    sd = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5
    assert grimmer(f"{mean:.2f}", f"{sd:.2f}", n, low=0, high=10).consistent


def test_debit_hand_computed() -> None:
    """10 ones of 25: mean 0.40, SD = √(25 × 0.4 × 0.6 / 24) = √0.25 = 0.50."""
    r = debit("0.40", "0.50", 25)
    assert (r.consistent, r.counts) == (True, (10,))
    assert not debit("0.40", "0.30", 25).consistent


@given(st.integers(2, 200), st.data())
def test_debit_accepts_every_true_binary_data_set(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    p = k / n
    sd = (n * p * (1 - p) / (n - 1)) ** 0.5
    assert debit(f"{p:.2f}", f"{sd:.2f}", n).consistent


def test_granularity_errors_name_the_value() -> None:
    with pytest.raises(AuditError) as exc:
        grim("8,34", 55)
    assert str(exc.value) == "GRIM mean: expected a printed number such as '8.34' (got '8,34')"
    with pytest.raises(AuditError) as exc:
        grimmer("1.0", "0.5", 1)
    assert str(exc.value) == "GRIMMER: n must be at least 2 for an SD (got 1)"
    with pytest.raises(AuditError) as exc:
        debit("0.5", "0.5", 0)
    assert str(exc.value) == "DEBIT: n must be a whole number of at least 1 (got 0)"


def test_results_to_frame() -> None:
    frame = grim("8.34", 55).to_frame()
    assert list(frame["consistent"]) == [False]
    assert list(grimmer("1.16", "0.60", 55).to_frame()["n"]) == [55]
    assert list(debit("0.40", "0.50", 25).to_frame()["counts"]) == [(10,)]
