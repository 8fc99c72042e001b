"""Unit tests of kypho.stats.describe."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kypho.errors import StatisticsError
from kypho.stats import describe


def test_missing_values_are_counted_and_left_out() -> None:
    result = describe([2.0, np.nan, 4.0, 4.0, 5.0, np.nan])
    assert (result.n, result.n_missing) == (4, 2)
    assert result.mean == 3.75
    assert result.sd == pytest.approx(math.sqrt(((1.75**2) + 2 * 0.25**2 + 1.25**2) / 3))
    assert (result.minimum, result.maximum) == (2.0, 5.0)


def test_single_value_has_documented_nan_spread() -> None:
    result = describe([7.5])
    assert (result.n, result.mean, result.median) == (1, 7.5, 7.5)
    assert math.isnan(result.sd)
    assert math.isnan(result.se)


def test_all_missing_is_an_error() -> None:
    with pytest.raises(StatisticsError) as info:
        describe([np.nan, np.nan])
    assert str(info.value) == "x has no non-missing values; describe needs at least one"


def test_empty_sample_in_batch_names_its_position() -> None:
    with pytest.raises(StatisticsError) as info:
        describe([[1.0, 2.0], [np.nan, np.nan]], axis=1)
    assert str(info.value) == (
        "x has no non-missing values in the sample at batch position(s) (1,); "
        "describe needs at least one per sample"
    )


def test_infinite_values_are_refused() -> None:
    with pytest.raises(StatisticsError) as info:
        describe([1.0, np.inf])
    assert str(info.value) == "x contains infinite values; only finite numbers or NaN"


def test_two_dimensional_input_needs_axis() -> None:
    with pytest.raises(StatisticsError) as info:
        describe(np.zeros((2, 3)))
    assert str(info.value) == (
        "x must be one-dimensional when axis is None (got shape (2, 3)); "
        "pass axis= to test a batch of samples"
    )


def test_out_of_range_axis_is_refused() -> None:
    with pytest.raises(StatisticsError) as info:
        describe(np.zeros((2, 3)), axis=2)
    assert str(info.value) == "axis must be between -2 and 1 for x of shape (2, 3) (got 2)"


def test_unknown_quartile_rule_is_refused() -> None:
    with pytest.raises(StatisticsError) as info:
        describe([1.0, 2.0], quartiles="sas")  # type: ignore[arg-type]
    assert str(info.value) == "quartiles must be one of 'spss', 'r' (got 'sas')"


def test_text_is_refused_with_the_reason() -> None:
    with pytest.raises(StatisticsError, match=r"^x must contain numbers only"):
        describe(["a", "b"])


def test_batch_equals_one_call_per_sample() -> None:
    rng = np.random.default_rng(3)
    data = rng.normal(50, 7, size=(6, 25))
    data[2, 4] = np.nan
    batch = describe(data, axis=1)
    for i, row in enumerate(data):
        one = describe(row)
        for field in ("n", "n_missing", "mean", "sd", "se", "median", "q1", "q3"):
            assert getattr(batch, field)[i] == pytest.approx(getattr(one, field), rel=1e-13)


def test_axis_zero_reads_columns() -> None:
    data = np.arange(12.0).reshape(4, 3)
    assert describe(data, axis=0).mean.tolist() == [4.5, 5.5, 6.5]


def test_input_is_not_modified() -> None:
    data = np.array([3.0, np.nan, 1.0, 2.0])
    copy = data.copy()
    describe(data)
    np.testing.assert_array_equal(data, copy)


def test_to_frame_has_one_row_per_sample() -> None:
    frame = describe(np.arange(10.0).reshape(2, 5), axis=1).to_frame()
    assert frame.shape[0] == 2
    assert frame["mean"].tolist() == [2.0, 7.0]
    assert describe([1.0, 2.0]).to_frame().loc[0, "quartile_method"] == "spss"
