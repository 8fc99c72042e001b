"""Unit tests of kypho.stats.chi_square."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kypho.errors import StatisticsError
from kypho.stats import StatisticsWarning, chi_square


def test_auto_picks_pearson_for_large_tables_with_big_expected_counts() -> None:
    result = chi_square([[20, 35], [9, 46]])
    assert result.method == "Pearson χ²"
    assert result.tests == "pearson"
    assert result.reason == (
        "2×2 table: N = 110 ≥ 40 and every expected count is ≥ 5 (smallest 14.5), "
        "so Pearson χ² was used."
    )


def test_auto_picks_yates_when_an_expected_count_is_between_1_and_5() -> None:
    result = chi_square([[1, 54], [7, 48]])
    assert result.method == "Yates-corrected χ²"
    assert result.reason == (
        "2×2 table: N = 110 ≥ 40 and the smallest expected count, 4, is between 1 and 5, "
        "so Yates-corrected χ² was used."
    )


def test_auto_picks_fisher_for_small_n() -> None:
    result = chi_square([[3, 1], [1, 3]])
    assert result.method == "Fisher exact"
    assert result.statistic is None
    assert result.dof is None
    assert result.reason == "2×2 table: N = 8 < 40, so Fisher exact was used."


def test_auto_picks_fisher_when_an_expected_count_is_below_1() -> None:
    result = chi_square([[1, 0], [3, 96]])
    assert result.method == "Fisher exact"
    assert result.reason == (
        "2×2 table: the smallest expected count, 0.04, is below 1, so Fisher exact was used."
    )


def test_rxc_pearson_when_expected_counts_are_large() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = chi_square([[4, 7, 10, 34], [11, 18, 14, 12]])
    assert result.method == "Pearson χ²"
    assert result.dof == 3.0
    assert result.risk_difference is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            [[1, 2], [0, 0]],
            "row 2 of the table is empty (all counts 0), so its expected counts are 0 and no "
            "test of association is defined; drop the row",
        ),
        (
            [[0, 2], [0, 3]],
            "column 1 of the table is empty (all counts 0), so its expected counts are 0 and no "
            "test of association is defined; drop the column",
        ),
        ([[1, -2], [3, 4]], "table must hold counts (whole numbers ≥ 0) (got negative [-2.0])"),
        ([[1, 2.5], [3, 4]], "table must hold counts (whole numbers ≥ 0) (got non-integer [2.5])"),
        (
            [[1, np.nan], [3, 4]],
            "table must hold counts (whole numbers ≥ 0); it contains NaN or inf",
        ),
        ([[1, 2]], "table must have at least 2 rows and 2 columns (got shape (1, 2))"),
        ([1, 2, 3], "table must have at least 2 rows and 2 columns (got shape (3,))"),
    ],
)
def test_bad_tables_are_refused(table: object, message: str) -> None:
    with pytest.raises(StatisticsError) as info:
        chi_square(table)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_empty_row_or_column_in_a_batch_gets_the_documented_result() -> None:
    """A simulated study with no event in either group cannot show an association."""
    tables = np.array([[[1, 54], [3, 52]], [[0, 55], [0, 55]], [[20, 35], [9, 46]]])
    result = chi_square(tables)
    assert result.tests.tolist() == ["yates", "empty", "pearson"]
    assert result.p_value[1] == 1.0
    assert result.statistic[1] == 0.0
    assert result.p_value[2] == pytest.approx(chi_square(tables[2]).p_value, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"method": "yates"},
            "method 'yates' applies to 2×2 tables only (got a 2×3 table); use 'pearson' or 'fisher'",
        ),
        (
            {"alternative": "less"},
            "alternative 'less' needs method='fisher' on a 2×2 table; χ² tests are two-sided",
        ),
        ({"monte_carlo_samples": 10}, "monte_carlo_samples must be a whole number ≥ 1000 (got 10)"),
        (
            {"method": "g-test"},
            "method must be one of 'auto', 'pearson', 'yates', 'fisher' (got 'g-test')",
        ),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(StatisticsError) as info:
        chi_square([[5, 6, 7], [8, 9, 10]], **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_zero_cell_uses_haldane_correction_for_ratios() -> None:
    result = chi_square([[0, 55], [9, 46]])
    assert result.haldane is True
    assert result.odds_ratio == pytest.approx((0.5 * 46.5) / (55.5 * 9.5))
    assert result.risk_difference == pytest.approx(-9 / 55)


def test_batch_of_tables_equals_single_tables() -> None:
    rng = np.random.default_rng(12)
    tables = rng.integers(0, 30, size=(40, 2, 2)) + 1
    batch = chi_square(tables)
    for i in range(40):
        one = chi_square(tables[i])
        assert batch.tests[i] == one.tests
        assert batch.p_value[i] == pytest.approx(one.p_value, rel=1e-12)
        assert batch.odds_ratio[i] == pytest.approx(one.odds_ratio, rel=1e-12)
        if one.statistic is None:
            assert np.isnan(batch.statistic[i])
        else:
            assert batch.statistic[i] == pytest.approx(one.statistic, rel=1e-12)
    frame = batch.to_frame()
    assert len(frame) == 40
    assert "expected" not in frame.columns


def test_fisher_batch_with_different_supports() -> None:
    tables = np.array([[[3, 1], [1, 3]], [[10, 2], [3, 15]], [[0, 5], [5, 0]]])
    batch = chi_square(tables, method="fisher")
    expected = [chi_square(t, method="fisher").p_value for t in tables]
    np.testing.assert_allclose(batch.p_value, expected, rtol=1e-12)


def test_monte_carlo_is_reproducible_with_a_seed() -> None:
    table = [[1, 2, 0], [3, 0, 4], [2, 2, 1]]
    a = chi_square(table, method="fisher", monte_carlo_samples=2000, seed=3)
    b = chi_square(table, method="fisher", monte_carlo_samples=2000, seed=3)
    assert a.tests == "ffh-mc"
    assert a.p_value == b.p_value
    assert a.monte_carlo_samples == 2000


def test_sparse_rxc_batch_warns_once_with_the_count() -> None:
    tables = np.array([[[1, 2, 0], [3, 0, 4]], [[10, 12, 11], [9, 14, 10]]])
    with pytest.warns(StatisticsWarning) as record:
        result = chi_square(tables, monte_carlo_samples=1000)
    assert len(record) == 1
    assert str(record[0].message) == (
        "1 of 2 R×C table(s) have expected counts below 5 in more than 20 % of cells or "
        "below 1; the χ² approximation is unreliable there, so the Fisher–Freeman–Halton "
        "exact test was used instead"
    )
    assert result.tests.tolist() == ["ffh", "pearson"]
    assert result.method == "Fisher–Freeman–Halton exact / Pearson χ² (chosen per table)"


def test_input_table_is_not_modified() -> None:
    table = np.array([[2, 53], [9, 46]])
    copy = table.copy()
    chi_square(table)
    np.testing.assert_array_equal(table, copy)
