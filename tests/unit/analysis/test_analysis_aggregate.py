"""The one-pass group summaries agree with pandas' groupby on any data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kypho.analysis.aggregate import category_codes, group_counts, group_moments

values = st.lists(
    st.tuples(
        st.integers(min_value=-1, max_value=2),
        st.one_of(st.none(), st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(values)
def test_group_moments_match_pandas(pairs: list[tuple[int, float | None]]) -> None:
    groups = np.array([g for g, _ in pairs], dtype=np.int64)
    x = np.array([np.nan if v is None else v for _, v in pairs], dtype=np.float64)
    n, missing, mean, var = group_moments(x, groups, 3)
    frame = pd.DataFrame({"g": groups, "x": x})
    for k in range(3):
        part = frame.loc[frame.g == k, "x"]
        assert n[k] == part.notna().sum()
        assert missing[k] == part.isna().sum()
        if n[k] > 0:
            assert np.isclose(mean[k], part.mean(), rtol=1e-9, atol=1e-9)
        if n[k] > 1:
            assert np.isclose(var[k], part.var(ddof=1), rtol=1e-7, atol=1e-6)
        else:
            assert np.isnan(var[k])


def test_group_counts_and_codes() -> None:
    column = pd.Series(["b", "a", None, "b", "z"])
    codes = category_codes(column, ("a", "b"))
    assert codes.tolist() == [1, 0, -1, 1, -1]
    groups = np.array([0, 0, 1, 1, -1])
    table = group_counts(codes, groups, 2, 2)
    assert table.tolist() == [[1, 1], [0, 1]]


def test_category_codes_of_a_categorical_match_its_text() -> None:
    """Other categories than the levels: codes as the column's text would give them."""
    column = pd.Series(pd.Categorical(["b", None, "x", "a", "b"], categories=["x", "b", "a"]))
    expected = category_codes(column.astype("string"), ("a", "b"))
    assert category_codes(column, ("a", "b")).tolist() == expected.tolist() == [1, -1, -1, 0, 1]
    numbers = pd.Series(pd.Categorical([2, 1, None], categories=[1, 2]))
    assert category_codes(numbers, ("1", "2")).tolist() == [1, 0, -1]
