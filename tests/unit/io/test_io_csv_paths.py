"""The CSV reader's two paths give the same table and the same problems.

A file with no quote and no carriage return is read by arrow with its number
columns typed on the way in (``_read_plain``); any other file goes through the
exact path, which reads every field as text first. The same records written with
CRLF line ends take the exact path, so each case below is read both ways and
the tables (values, dtypes, line numbers, attributes) must be identical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kypho.io import read_table
from kypho.io._csvfile import _plain
from kypho.validation import validate

_HEAD = "patient_id,group,sex,age,level,vas_pre,operation_date,last_followup_date"
_ROWS = [
    "P1,control,female,71,L1,{number},2020-03-01,{date}",
    "P2,experimental,male,65,T12,4,2020-03-02,2020-09-02",
]
_NUMBERS = [
    "5", "5.5", " 7 ", "\t7", "+7", "-0", "1.", ".5", "-.5", "+.5e-3", "1.5E+3", "1e5",
    "00012", "3.14159265358979323846", "1e-320", "9007199254740993", "",
    "NA", "na", " NA ", "N/A", "n/a", ".", "NaN", "nan", "NAN", "null", "NULL", "Null",
    "inf", "-inf", "Infinity", "1e400", "-1e400", "1,5", "1d5", "0x10", "1_000", "abc",
    "\u0661\u0662", "\uff11\uff12", "\u00a07", "7 7", "-", "e5", "..5", "TRUE",
]  # fmt: skip
_DATES = [
    "2020-09-01", " 2020-09-01 ", "", "NA", "2020", "2020-09", "2021-02-29", "2020-02-29",
    "2020-09-01T10:00", "2020-09-01 10:00:00", "2020-09-01T10:00Z", "01/09/2020",
    "1677-09-21", "2262-04-12", "2020-13-01", "20200901",
]  # fmt: skip


def _both(tmp_path: Path, rows: list[str]) -> tuple[Path, Path]:
    plain, crlf = tmp_path / "plain.csv", tmp_path / "crlf.csv"
    plain.write_bytes(("\n".join([_HEAD, *rows]) + "\n").encode("utf-8"))
    crlf.write_bytes(("\r\n".join([_HEAD, *rows]) + "\r\n").encode("utf-8"))
    assert _plain(plain)
    assert not _plain(crlf)
    return plain, crlf


def _same(plain: Path, crlf: Path) -> pd.DataFrame:
    # validation is a function of the table and its attrs, so equal tables validate alike
    a, b = read_table(plain), read_table(crlf)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a.attrs == b.attrs
    return a


@pytest.mark.parametrize("number", _NUMBERS)
def test_a_number_cell_reads_the_same_on_both_paths(tmp_path: Path, number: str) -> None:
    rows = [_ROWS[0].format(number=number, date="2020-09-01"), _ROWS[1]]
    table = _same(*_both(tmp_path, rows))
    if number == "5.5":
        assert table["vas_pre"].dtype == np.float64
        assert table["vas_pre"].tolist() == [5.5, 4.0]


@pytest.mark.parametrize("date", _DATES)
def test_a_date_cell_reads_the_same_on_both_paths(tmp_path: Path, date: str) -> None:
    _same(*_both(tmp_path, [_ROWS[0].format(number="5", date=date), _ROWS[1]]))


def test_an_inf_cell_is_reported_not_read(tmp_path: Path) -> None:
    plain, _ = _both(tmp_path, [_ROWS[0].format(number="inf", date="2020-09-01"), _ROWS[1]])
    problems = validate(read_table(plain)).problems
    assert problems["message"].tolist() == [
        "record P1 (line 2), 'vas_pre' must be a number from 0 to 10 (got 'inf')"
    ]


@pytest.mark.parametrize(
    "rows",
    [
        ["P1,control,female,71,L1,5,2020-03-01", _ROWS[1]],  # a field short
        [_ROWS[0].format(number="5", date="2020-09-01") + ",extra", _ROWS[1]],
        [_ROWS[0].format(number="5", date="2020-09-01"), "", _ROWS[1]],  # a blank line
    ],
)
def test_lines_of_the_wrong_width_read_the_same_on_both_paths(
    tmp_path: Path, rows: list[str]
) -> None:
    table = _same(*_both(tmp_path, rows))
    assert table.index.tolist() == ([2, 4] if rows[1] == "" else [2, 3])


def test_a_file_with_a_quote_takes_the_exact_path(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(f'{_HEAD}\n"P1",control,female,71,L1,5,2020-03-01,2020-09-01\n'.encode())
    assert not _plain(path)
    assert read_table(path)["patient_id"].tolist() == ["P1"]


# Text cells around the missing tokens: short ones, ones that only trimming makes
# short (spaces, tabs, a no-break or ideographic space at an end), long ones with
# a visible character at each end, and non-ASCII ones. In the level column they
# are read as an arrow dictionary on the plain path; in the id and notes columns
# as text.
_TEXTS = [
    "", "NA", "na", " NA ", "\tnull\t", "  n/a   ", ".", " . ", "NaN", "NULL", "Null",
    "\u00a0NA\u00a0", "NA\u3000", "\u3000null", "nA.", "N A", "NAN ", "none", "n/a/",
    "not available", "Ünknown", "ÑA", "é", "L1", "L1 ", "x" * 40, " " * 30,
]  # fmt: skip


@pytest.mark.parametrize("text", _TEXTS)
def test_a_text_cell_reads_the_same_on_both_paths(tmp_path: Path, text: str) -> None:
    head = "patient_id,group,sex,age,level,notes"
    plain, crlf = tmp_path / "plain.csv", tmp_path / "crlf.csv"
    rows = [head, f"P1,control,female,71,{text},{text}", "P2,experimental,male,65,T12,ok"]
    plain.write_bytes(("\n".join(rows) + "\n").encode("utf-8"))
    crlf.write_bytes(("\r\n".join(rows) + "\r\n").encode("utf-8"))
    assert _plain(plain)
    table = _same(plain, crlf)
    # missing: a declared token (built-in schema), spaces trimmed, in any case
    missing = text.strip().casefold() in {"", "na", "n/a", ".", "nan", "null"}
    assert table["level"].isna().tolist() == [missing, False]
    assert table["notes"].isna().tolist() == [missing, False]
    if not missing:
        assert table["level"].iloc[0] == text
        assert table["notes"].iloc[0] == text
