"""Issue 16: each silent change is a reported problem, each traceback a clear error."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from kypho.errors import InputFileError
from kypho.io import read_table
from kypho.schema import load_schema
from kypho.validation import validate

SCHEMA = load_schema()
HEAD = "patient_id,group,sex,age,level"


def _problems(path: Path) -> list[str]:
    return validate(read_table(path, schema=SCHEMA), SCHEMA).problems["message"].tolist()


def _csv(tmp_path: Path, header: str, *cells: str) -> Path:
    path = tmp_path / "r.csv"
    lines = [f"{HEAD},{header}"] + [f"P{i},control,male,70,L1,{c}" for i, c in enumerate(cells)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_non_finite_and_huge_numbers_are_reported(tmp_path: Path) -> None:
    path = _csv(tmp_path, "vas_pre", "1e400", "inf", "-inf", "1" * 400, "5")
    allowed = "must be a number from 0 to 10"
    assert _problems(path) == [
        f"record P0 (line 2), 'vas_pre' {allowed} (got '1e400')",
        f"record P1 (line 3), 'vas_pre' {allowed} (got 'inf')",
        f"record P2 (line 4), 'vas_pre' {allowed} (got '-inf')",
        f"record P3 (line 5), 'vas_pre' {allowed} (got '{'1' * 400}')",
    ]


def test_partial_zoned_and_unrepresentable_dates_are_reported_as_written(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "birth_date",
        "2020",
        "2020-03",
        "1950-03-01T00:00:00Z",
        "1500-01-01",
        "1899-10-31",
        "1950-03-01",
    )
    allowed = "must be a date (YYYY-MM-DD) from 1900-01-01 to 2100-12-31"
    assert _problems(path) == [
        f"record P0 (line 2), 'birth_date' {allowed} (got '2020')",
        f"record P1 (line 3), 'birth_date' {allowed} (got '2020-03')",
        f"record P2 (line 4), 'birth_date' {allowed} (got '1950-03-01T00:00:00Z')",
        f"record P3 (line 5), 'birth_date' {allowed} (got '1500-01-01')",
        f"record P4 (line 6), 'birth_date' {allowed} (got '1899-10-31')",
    ]


def test_all_zoned_dates_in_a_column_are_reported(tmp_path: Path) -> None:
    path = _csv(tmp_path, "operation_date", "2020-03-01T10:00:00Z", "2020-03-02T10:00:00Z")
    assert len(_problems(path)) == 2


def test_lone_separators_in_a_list_are_not_no_leak(tmp_path: Path) -> None:
    path = _csv(tmp_path, "leak_sites", ";", '","', ";;", "none")
    result = validate(read_table(path, schema=SCHEMA), SCHEMA)
    assert result.problems["value"].tolist() == ["';'", "','", "';;'"]
    assert result.data["leak_sites"].tolist()[:3] == [pd.NA, pd.NA, pd.NA]
    assert result.data["leak_sites"].iloc[3] == ""


def test_truncated_and_long_lines_reject_their_record(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(f"{HEAD}\nP1,control,male,70,L1\nP2,control,male\nP3,control,male,70,L1,x\n")
    result = validate(read_table(path, schema=SCHEMA), SCHEMA)
    assert result.n_read == 3
    assert result.n_accepted == 1
    assert result.rejected["row"].tolist() == [3, 4]
    assert result.problems["message"].tolist() == [
        "record P2 (line 3), 'age' could not be read: line 3 has 3 of the header's 5 fields "
        "(cut short?); fix the line in the file (got '')",
        "record P2 (line 3), 'level' could not be read: line 3 has 3 of the header's 5 fields "
        "(cut short?); fix the line in the file (got '')",
        "record P3 (line 4), 'level' could not be read: line 4 has 6 fields, the header 5 "
        "(the last column holds 'L1,x'); fix the line in the file (got 'L1,x')",
    ]


def test_a_hundred_thousand_columns_are_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n" + "1," * 99_999 + "1\n")
    started = time.perf_counter()
    with pytest.raises(InputFileError) as exc:
        read_table(path)
    assert time.perf_counter() - started < 30  # linear: not the 151 s of issue 16
    assert str(exc.value) == (
        f"cannot read {str(path)!r}: the header has 100,000 columns; kypho reads at most "
        "5,000 (a study's schema has far fewer)"
    )


def _book(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Data"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_formula_without_value_and_true_in_a_number_column(tmp_path: Path) -> None:
    path = _book(
        tmp_path / "b.xlsx",
        [
            [*HEAD.split(","), "vas_pre", "hb_pre"],
            ["P1", "control", "male", 70, "L1", "=1+1", 120],
            ["P2", "control", "male", 70, "L1", 5, True],
        ],
    )
    assert _problems(path) == [
        "record P1 (sheet 'Data', row 2), 'vas_pre' could not be read: the formula =1+1 has no "
        "saved result (the workbook was not calculated); open it in Excel, let it calculate, "
        "and save it (got '=1+1')",
        "record P2 (sheet 'Data', row 3), 'hb_pre' must be a number from 30 to 250 (got True)",
    ]


def test_xlsx_zip_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 50_000_000)
    with pytest.raises(InputFileError) as exc:
        read_table(path)
    message = str(exc.value)
    assert message.startswith(
        f"cannot read {str(path)!r}: its part 'xl/worksheets/sheet1.xml' expands "
    )
    assert message.endswith(
        "times (50,000,000 bytes), more than the 100 times a real worksheet does; kypho "
        "does not open it"
    )


@pytest.mark.parametrize("cut", [10, 200, 2000, -300])
def test_corrupt_xlsx_is_a_clear_error(tmp_path: Path, cut: int) -> None:
    good = _book(tmp_path / "g.xlsx", [HEAD.split(","), ["P1", "control", "male", 70, "L1"]])
    path = tmp_path / "bad.xlsx"
    data = good.read_bytes()
    path.write_bytes(data[:cut] + bytes(64) + data[cut + 64 :])
    # zeroed bytes where the archive's directory does not look: it may still read
    message = ""
    try:
        raw = read_table(path)
    except InputFileError as exc:
        message = str(exc)
    if message:
        assert message.startswith(f"cannot read {str(path)!r}: not a readable Excel .xlsx ")
    else:
        assert validate(raw, SCHEMA).n_read == 1


def test_sav_rows_are_cases(tmp_path: Path) -> None:
    path = tmp_path / "r.sav"
    frame = pd.DataFrame(
        {"patient_id": ["P1", "P2"], "group": ["control"] * 2, "sex": ["male", "F"]}
        | {"age": [70.0, 71.0], "level": ["L1", "L1"]}
    )
    pyreadstat.write_sav(frame, str(path))
    assert _problems(path) == [
        "record P2 (case 2), 'sex' must be one of 'male', 'female' (got 'F')"
    ]
