"""Result objects: frozen, with the common fields and a to_frame(); pandas input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from kypho.stats import (
    chi_square,
    describe,
    independent_t,
    mann_whitney,
    paired_t,
    smd_continuous,
    variance_test,
)

X = [5.1, 4.9, 6.2, 5.8, 6.0, 5.5]
Y = [4.2, 4.8, 5.0, 4.4, 4.9, 4.6, 5.3]

RESULTS = {
    "variance_test": lambda: variance_test(X, Y),
    "independent_t": lambda: independent_t(X, Y),
    "paired_t": lambda: paired_t(X, Y[:6]),
    "mann_whitney": lambda: mann_whitney(X, Y),
    "chi_square": lambda: chi_square([[12, 8], [5, 15]]),
    "smd_continuous": lambda: smd_continuous(X, Y),
}


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_results_are_frozen_and_carry_the_common_fields(name: str) -> None:
    result = RESULTS[name]()
    for field in ("method", "statistic", "dof", "p_value"):
        assert hasattr(result, field), field
    assert isinstance(result.method, str)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.method = "changed"  # type: ignore[misc]
    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 1
    assert frame.loc[0, "method"] == result.method


def test_t_result_frame_flattens_the_variance_test() -> None:
    frame = independent_t(X, Y).to_frame()
    assert frame.loc[0, "variance_test_method"] == "F test of variances"
    assert frame.loc[0, "p_value"] == pytest.approx(independent_t(X, Y).p_value)


def test_pandas_columns_with_missing_values_are_accepted() -> None:
    series = pd.Series([1, None, 3, 4], dtype="Int64")
    result = describe(series)
    assert (result.n, result.n_missing, result.mean) == (3, 1, pytest.approx(8 / 3))
    other = pd.Series([2.0, 2.5, np.nan, 5.0, 6.0], dtype="Float64")
    assert independent_t(series, other).n2 == 4
