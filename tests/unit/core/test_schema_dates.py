"""Dates written exactly YYYY-MM-DD are read by arithmetic; the result is the Timestamp one.

``kypho.schema.dtypes`` reads such a date from its digits (with the proleptic
Gregorian calendar's month lengths and leap years) instead of making a pandas
Timestamp per distinct value. Every other spelling still goes through the
Timestamp path, so these tests compare the two on the same texts: real and
impossible days, leap years (1900 and 2100 are not, 2000 is), months 00 and 13,
and the bounds of what pandas holds (1677-09-22 to 2262-04-11).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kypho.schema.dtypes import _date, _date_table, parse_dates

_YEARS = [0, 1, 1600, 1676, 1677, 1678, 1899, 1900, 1970, 2000, 2020, 2021, 2024, 2100, 2262, 2263]
_DAYS = [0, 1, 9, 10, 11, 12, 21, 22, 28, 29, 30, 31, 32, 99]


def _expected(text: str) -> np.datetime64 | None:
    stamp = _date(text)
    return None if stamp is None else stamp.as_unit("ns").to_datetime64()


def test_plain_dates_read_as_the_timestamp_path_reads_them() -> None:
    texts = [f"{y:04d}-{m:02d}-{d:02d}" for y in _YEARS for m in range(14) for d in _DAYS]
    table, wrong = _date_table(texts)
    for i, text in enumerate(texts):
        expected = _expected(text)
        assert bool(wrong[i]) == (expected is None), text
        if expected is not None:
            assert table[i] == expected, text
    assert np.isnat(table[-1])
    # a sample the test states outright, beside the comparison
    got = dict(zip(texts, wrong.tolist(), strict=False))
    assert got["2000-02-29"] is False
    assert got["1900-02-29"] is True
    assert got["2100-02-29"] is True
    assert got["2024-02-29"] is False
    assert got["1677-09-21"] is True
    assert got["1677-09-22"] is False
    assert got["2262-04-11"] is False
    assert got["2262-04-12"] is True
    assert got["2020-13-01"] is True


@pytest.mark.parametrize(
    "text",
    [
        " 2020-03-01",
        "2020-03-01 ",
        "2020-03-01T10:00",
        "2020-3-01",
        "2020-03-01Z",
        "２０２０-03-01",
    ],
)
def test_other_spellings_keep_the_timestamp_path(text: str) -> None:
    dates, bad = parse_dates(pd.Series([text, "2020-03-01"], dtype=object))
    expected = _expected(text)
    assert bool(bad[0]) == (expected is None)
    if expected is not None:
        assert dates[0] == expected
    assert dates[1] == np.datetime64("2020-03-01", "ns")
