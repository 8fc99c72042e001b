"""read_table: one raw row per input row, missing tokens blanked, nothing else lost."""

from __future__ import annotations

import datetime as dt
import hashlib
import string
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kypho.errors import InputFileError
from kypho.io import read_table
from kypho.schema import load_schema
from kypho.validation import UnreadCell

SCHEMA = load_schema()


def _csv(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ------------------------------------------------------------------ CSV


def test_csv_keeps_ids_as_typed_and_numbers_as_float(tmp_path: Path) -> None:
    path = _csv(tmp_path, "patient_id,age,vas_pre,sex\n007,71,3.5,female\n008,65,4,male\n")
    table = read_table(path)
    assert table["patient_id"].tolist() == ["007", "008"]
    assert table["age"].dtype == np.float64
    assert table["vas_pre"].tolist() == [3.5, 4.0]
    assert table["sex"].tolist() == ["female", "male"]


def test_csv_missing_tokens_any_case_and_spacing(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "patient_id,age,notes,sex\nP1, na ,N/A,NULL\nP2,.,nUlL,nan\nP3,70,NA-1,\n",
    )
    table = read_table(path)
    assert table["age"].dtype == np.float64
    assert table["age"].isna().tolist() == [True, True, False]
    assert table["notes"].isna().tolist() == [True, True, False]
    assert table["notes"].iloc[2] == "NA-1"
    assert table["sex"].isna().all()


def test_csv_none_token_of_a_list_is_not_missing(tmp_path: Path) -> None:
    none = SCHEMA.none_token
    path = _csv(tmp_path, f"patient_id,leak_sites\nP1,{none.upper()}\nP2,C;S\nP3,\n")
    assert read_table(path)["leak_sites"].tolist()[:2] == [none.upper(), "C;S"]


def test_csv_text_in_a_number_column_stays_as_typed(tmp_path: Path) -> None:
    path = _csv(tmp_path, "patient_id,age\nP1,70\nP2,7O\nP3,\n")
    table = read_table(path)
    assert table["age"].tolist()[:2] == ["70", "7O"]
    assert pd.isna(table["age"].iloc[2])


def test_csv_columns_named_by_label_are_typed_too(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Patient ID,Age,Operation date\n001,70,2020-03-01\n")
    table = read_table(path)
    assert table["Patient ID"].tolist() == ["001"]
    assert table["Age"].dtype == np.float64
    assert table["Operation date"].tolist() == [pd.Timestamp("2020-03-01")]


def test_csv_dates_become_datetimes(tmp_path: Path) -> None:
    path = _csv(tmp_path, "patient_id,operation_date\nP1,2020-03-01\nP2,\n")
    table = read_table(path)
    assert pd.api.types.is_datetime64_any_dtype(table["operation_date"])
    assert table["operation_date"].iloc[0] == pd.Timestamp("2020-03-01")
    assert pd.isna(table["operation_date"].iloc[1])


def test_csv_a_bad_date_leaves_the_column_as_typed(tmp_path: Path) -> None:
    path = _csv(tmp_path, "patient_id,operation_date\nP1,2020-03-01\nP2,2020-02-30\n")
    table = read_table(path)
    assert table["operation_date"].tolist() == ["2020-03-01", "2020-02-30"]


def test_csv_unknown_columns_are_kept(tmp_path: Path) -> None:
    path = _csv(tmp_path, "patient_id,ward\nP1,3\n")
    # a column the schema does not know is read as the text it holds
    assert read_table(path)["ward"].tolist() == ["3"]


def test_csv_byte_order_mark_is_not_part_of_the_first_name(tmp_path: Path) -> None:
    path = _csv(tmp_path, "\ufeffpatient_id,age\nP1,70\n")
    assert list(read_table(path).columns) == ["patient_id", "age"]


def test_csv_duplicate_column_names_are_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "patient_id,age,age,sex,sex\nP1,70,71,male,male\n")
    with pytest.raises(InputFileError) as info:
        read_table(path)
    assert str(info.value) == (
        f"cannot read {str(path)!r}: column name(s) 'age', 'sex' appear more than once; "
        "rename or remove the copies"
    )


def test_csv_empty_file(tmp_path: Path) -> None:
    path = _csv(tmp_path, "")
    with pytest.raises(InputFileError) as info:
        read_table(path)
    assert str(info.value) == f"cannot read {str(path)!r}: the file is empty (no header row)"


def test_csv_header_only_gives_no_rows(tmp_path: Path) -> None:
    table = read_table(_csv(tmp_path, "patient_id,age\n"))
    assert list(table.columns) == ["patient_id", "age"]
    assert len(table) == 0


def test_csv_not_utf8(tmp_path: Path) -> None:
    path = _csv(tmp_path, "patient_id,notes\nP1,Müller\n", encoding="latin-1")
    with pytest.raises(InputFileError) as info:
        read_table(path)
    assert str(info.value) == (
        f"cannot read {str(path)!r}: not UTF-8 text (byte 21); save it as 'CSV UTF-8'"
    )


def test_csv_ragged_rows_are_kept_and_marked(tmp_path: Path) -> None:
    """A line with too many or too few fields is neither dropped nor padded (issue 16)."""
    path = _csv(tmp_path, "patient_id,age,sex\nP1,70,male\nP2,71,male,extra\n\nP3,72\n")
    table = read_table(path)
    assert table.index.tolist() == [2, 3, 5]
    assert table.index.name == "line"
    assert table["patient_id"].tolist() == ["P1", "P2", "P3"]
    long, short = table["sex"].iloc[1], table["sex"].iloc[2]
    assert isinstance(long, UnreadCell)
    assert (long.text, long.structural) == ("male,extra", True)
    assert long.reason == (
        "line 3 has 4 fields, the header 3 (the last column holds 'male,extra'); "
        "fix the line in the file"
    )
    assert isinstance(short, UnreadCell)
    assert (
        short.reason
        == "line 5 has 2 of the header's 3 fields (cut short?); fix the line in the file"
    )


_CELL = st.one_of(
    st.sampled_from(["", "NA", "n/a", " null ", "None", ".", "NaN", "nan"]),
    st.text(alphabet=string.ascii_letters + string.digits + " -_", max_size=6),
    st.integers(-1000, 1000).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=15))
def test_csv_never_drops_a_row_and_blanks_only_tokens(
    tmp_path: Path, rows: list[list[str]]
) -> None:
    """Property: every row comes back; a cell is NaN exactly when it held a missing token."""
    tokens = {m.strip().casefold() for m in SCHEMA.missing_values}
    rows = [["P", *r[1:]] for r in rows]  # the id column is never empty: lines stay non-blank
    text = "patient_id,notes,ward\n" + "".join(",".join(r) + "\n" for r in rows)
    table = read_table(_csv(tmp_path, text), schema=SCHEMA)
    assert len(table) == len(rows)
    for j, column in enumerate(["notes", "ward"], start=1):
        expected_missing = [r[j].strip().casefold() in tokens for r in rows]
        assert table[column].isna().tolist() == expected_missing


# ------------------------------------------------------------------ Excel


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    first = True
    for title, rows in sheets.items():
        sheet = book.active if first else book.create_sheet(title)
        assert sheet is not None
        sheet.title = title
        first = False
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_xlsx_reads_the_data_sheet_first(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "b.xlsx",
        {"Notes": [["x"], ["y"]], "Data": [["patient_id", "age"], ["P1", 70]]},
    )
    assert read_table(path).to_dict("list") == {"patient_id": ["P1"], "age": [70.0]}
    assert read_table(path, sheet="Notes").to_dict("list") == {"x": ["y"]}


def test_xlsx_without_data_sheet_reads_the_first(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "b.xlsx", {"Sheet A": [["patient_id"], ["P1"]], "B": [["z"]]})
    assert read_table(path).to_dict("list") == {"patient_id": ["P1"]}


def test_xlsx_unknown_sheet(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "b.xlsx", {"Data": [["patient_id"]], "Other": [["a"]]})
    with pytest.raises(InputFileError) as info:
        read_table(path, sheet="Records")
    assert str(info.value) == (
        f"cannot read {str(path)!r}: no sheet 'Records'; sheets: Data, Other"
    )


def test_xlsx_cells_keep_their_types(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "b.xlsx",
        {
            "Data": [
                ["patient_id", "operation_date", "age", "pain", "notes"],
                ["007", dt.datetime(2020, 3, 1), 70, True, "N/A"],
                ["008", None, "n/a", False, "fine"],
            ]
        },
    )
    table = read_table(path)
    assert table["patient_id"].tolist() == ["007", "008"]
    assert table["operation_date"].iloc[0] == pd.Timestamp("2020-03-01")
    assert table["age"].dtype == np.float64
    assert table["age"].isna().tolist() == [False, True]
    assert table["pain"].tolist() == [True, False]
    assert table["notes"].isna().tolist() == [True, False]


def test_xlsx_ignores_trailing_empty_rows_keeps_interior_ones(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "b.xlsx",
        {"Data": [["patient_id", "age"], ["P1", 70], [None, None], ["P3", 72]]},
    )
    book = openpyxl.load_workbook(path)
    sheet = book["Data"]
    sheet.cell(row=40, column=5).number_format = "0.00"  # formatting far below the data
    sheet.cell(row=40, column=2, value="")
    book.save(path)
    table = read_table(path)
    assert len(table) == 3
    assert table["patient_id"].isna().tolist() == [False, True, False]
    assert list(table.columns) == ["patient_id", "age"]


def test_xlsx_values_under_an_empty_header_are_kept(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "b.xlsx", {"Data": [["patient_id", None, "age"], ["P1", 5, 70]]})
    table = read_table(path)
    assert list(table.columns) == ["patient_id", "column B", "age"]
    assert table["column B"].tolist() == [5]


def test_xlsx_duplicate_headers(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "b.xlsx", {"Data": [["age", "age"], [1, 2]]})
    with pytest.raises(InputFileError) as info:
        read_table(path)
    assert str(info.value) == (
        f"cannot read {str(path)!r}: column name(s) 'age' appear more than once; "
        "rename or remove the copies"
    )


def test_xlsx_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = _csv(tmp_path, "patient_id\nP1\n", name="fake.xlsx")
    with pytest.raises(InputFileError) as info:
        read_table(path)
    assert str(info.value) == (
        f"cannot read {str(path)!r}: not a readable Excel .xlsx workbook (BadZipFile: File is "
        "not a zip file); open it in Excel and save it again as .xlsx, or save the sheet as "
        "CSV UTF-8"
    )


# ------------------------------------------------------------------ SPSS


def test_sav_value_labels_are_applied(tmp_path: Path) -> None:
    path = tmp_path / "s.sav"
    frame = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3"],
            "sex": [1.0, 2.0, np.nan],
            "asia_grade": [5.0, 9.0, 1.0],
            "operation_date": pd.to_datetime(["2020-01-02", "2021-05-06", None]),
        }
    )
    pyreadstat.write_sav(
        frame,
        str(path),
        variable_value_labels={
            "sex": {1: "Male", 2: "Female"},
            "asia_grade": {1: "A", 5: "E"},
        },
        variable_format={"operation_date": "DATE11"},
    )
    table = read_table(path)
    assert table["sex"].tolist()[:2] == ["Male", "Female"]
    assert pd.isna(table["sex"].iloc[2])
    # a code without a label arrives as the code, for validation to report
    assert table["asia_grade"].tolist() == ["E", 9.0, "A"]
    assert pd.api.types.is_datetime64_any_dtype(table["operation_date"])
    assert table["operation_date"].iloc[1] == pd.Timestamp("2021-05-06")


def test_sav_empty_strings_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "s.sav"
    pyreadstat.write_sav(pd.DataFrame({"patient_id": ["P1", "P2"], "notes": ["", "NA"]}), str(path))
    assert read_table(path)["notes"].isna().tolist() == [True, True]


def test_sav_that_is_not_a_sav(tmp_path: Path) -> None:
    path = _csv(tmp_path, "patient_id\nP1\n", name="fake.sav")
    with pytest.raises(InputFileError) as info:
        read_table(path)
    assert str(info.value).startswith(f"cannot read {str(path)!r}: not a readable SPSS .sav file (")


# ------------------------------------------------------------------ any file


def test_unsupported_extension(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a\n1\n", name="in.txt")
    with pytest.raises(InputFileError) as info:
        read_table(path)
    assert str(info.value) == (
        f"cannot read {str(path)!r}: unsupported extension '.txt'; kypho reads .csv, .sav, .xlsx, "
        ".parquet"
    )


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    with pytest.raises(InputFileError) as info:
        read_table(path)
    assert str(info.value) == f"cannot read {str(path)!r}: no such file"


def test_sheet_of_a_csv(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a\n1\n")
    with pytest.raises(InputFileError) as info:
        read_table(path, sheet="Data")
    assert str(info.value) == (
        f"cannot read sheet 'Data' of {str(path)!r}: only .xlsx files have sheets"
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".sav"])
def test_input_file_is_never_modified(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame({"patient_id": ["P1", "P2"], "age": [70.0, np.nan], "notes": ["NA", "x"]})
    path = tmp_path / f"in{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        pyreadstat.write_sav(frame, str(path))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    stat_before = path.stat().st_mtime_ns
    read_table(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert path.stat().st_mtime_ns == stat_before


def test_csv_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    path = _csv(tmp_path, 'patient_id;vas_pre;leak_sites\nP1;3,5;"C;S"\nP2;4;none\n')
    table = read_table(path)
    assert table["vas_pre"].tolist() == [3.5, 4.0]
    assert table["leak_sites"].tolist() == ["C;S", "none"]


def test_csv_tabs(tmp_path: Path) -> None:
    path = _csv(tmp_path, "patient_id\tvas_pre\nP1\t3.5\n")
    assert read_table(path).to_dict("list") == {"patient_id": ["P1"], "vas_pre": [3.5]}


def test_csv_single_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "patient_id\nP1\nP2\n")
    assert read_table(path)["patient_id"].tolist() == ["P1", "P2"]


def test_sav_variables_named_by_their_label(tmp_path: Path) -> None:
    path = tmp_path / "s.sav"
    frame = pd.DataFrame(
        {"q1": [71.0], "q2": [2.0], "q3": [70.0], "q4": [1.0], "sex": [1.0], "q5": [3.0]}
    )
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels={
            "q1": "Age",  # a schema label: renamed
            "q2": "Group",
            "q3": "AGE",  # means age too, but q1 already does: kept as it is
            "q4": "Gender",  # the column 'sex' already stands for gender: kept
            "sex": "Gender",
            "q5": "Shoe size",  # not in the schema
        },
        variable_value_labels={"q2": {1: "Experimental group", 2: "Control group"}},
    )
    table = read_table(path)
    assert list(table.columns) == ["age", "group", "q3", "q4", "sex", "q5"]
    assert table["age"].tolist() == [71.0]
    assert table["group"].tolist() == ["Control group"]


def test_xlsx_with_excel_validation_extension_reads_quietly(tmp_path: Path) -> None:
    """Excel saves some drop-downs as an x14 extension; openpyxl warns about it.

    The warning concerns validation rules, not cell values, so read_table
    silences it (the suite turns warnings into errors, so a leak would fail here).
    """
    plain = _workbook(tmp_path / "plain.xlsx", {"Data": [["patient_id", "sex"], ["P1", "male"]]})
    extension = (
        '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        '<x14:dataValidations xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" '
        'count="1"><x14:dataValidation type="list" allowBlank="1"><x14:formula1>'
        "<xm:f>Lists!$A$2:$A$3</xm:f></x14:formula1><xm:sqref>B2:B100</xm:sqref>"
        "</x14:dataValidation></x14:dataValidations></ext></extLst>"
    )
    path = tmp_path / "excel.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", extension.encode() + b"</worksheet>")
            target.writestr(item, data)
    with pytest.warns(UserWarning, match="Data Validation extension is not supported"):
        openpyxl.load_workbook(path)
    assert read_table(path).to_dict("list") == {"patient_id": ["P1"], "sex": ["male"]}
