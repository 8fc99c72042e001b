"""write_table: typed records out, encoded from the schema; SPSS metadata checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kypho.errors import DataError, InputFileError
from kypho.io import example_records, read_table, write_table
from kypho.io.tables import spss_codes
from kypho.schema import load_schema
from kypho.validate import validate

SCHEMA = load_schema()


@pytest.fixture(scope="module")
def typed() -> pd.DataFrame:
    return validate(example_records(25, seed=11, missing=0.2)).data


def test_csv_lists_write_the_none_token_for_an_empty_list(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3"],
            "leak_sites": pd.array(["", "C;S", pd.NA], dtype="string"),
        }
    )
    path = write_table(frame, tmp_path / "o.csv")
    assert path.read_text(encoding="utf-8").splitlines() == [
        "patient_id,leak_sites",
        f"P1,{SCHEMA.none_token}",
        "P2,C;S",
        "P3,",
    ]


def test_csv_writes_codes_booleans_and_iso_dates(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "group": pd.Categorical(["control", None], categories=["experimental", "control"]),
            "pain": pd.array([True, pd.NA], dtype="boolean"),
            "age": pd.array([70, pd.NA], dtype="Int64"),
            "operation_date": pd.to_datetime(["2020-03-01", None]),
        }
    )
    path = write_table(frame, tmp_path / "o.csv")
    assert path.read_text(encoding="utf-8").splitlines() == [
        "group,pain,age,operation_date",
        "control,True,70,2020-03-01",
        ",,,",
    ]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=10))
def test_csv_numbers_round_trip_exactly(tmp_path: Path, values: list[float]) -> None:
    frame = pd.DataFrame({"operation_time": values})
    back = read_table(write_table(frame, tmp_path / "o.csv", schema=SCHEMA), schema=SCHEMA)
    assert back["operation_time"].tolist() == values


def test_the_frame_is_not_modified(tmp_path: Path, typed: pd.DataFrame) -> None:
    before = typed.copy(deep=True)
    for suffix in (".csv", ".xlsx", ".sav"):
        write_table(typed, tmp_path / f"o{suffix}")
    pd.testing.assert_frame_equal(typed, before)


def test_xlsx_has_data_and_dictionary_sheets(tmp_path: Path, typed: pd.DataFrame) -> None:
    path = write_table(typed[["patient_id", "group", "vas_pre"]], tmp_path / "o.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Data", "Dictionary"]
    assert [c.value for c in book["Data"][1]] == ["patient_id", "group", "vas_pre"]
    names = [row[0].value for row in book["Dictionary"].iter_rows(min_row=2)]
    assert names == ["patient_id", "group", "vas_pre"]


def test_xlsx_refuses_more_rows_than_a_sheet_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kypho.io.tables._EXCEL_MAX_ROWS", 3)
    path = tmp_path / "o.xlsx"
    with pytest.raises(InputFileError) as info:
        write_table(pd.DataFrame({"a": [1, 2, 3]}), path)
    assert str(info.value) == (
        f"cannot write {str(path)!r}: 3 rows do not fit an Excel sheet "
        "(at most 2 below the header); write .csv or .sav"
    )
    assert not path.exists()


def test_sav_metadata_comes_from_the_schema(tmp_path: Path, typed: pd.DataFrame) -> None:
    path = write_table(typed, tmp_path / "o.sav")
    _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    for var in SCHEMA.input_variables:
        assert meta.column_names_to_labels[var.name] == var.display_label
        expected_measure = {"ordinal": "ordinal", "number": "scale", "integer": "scale"}.get(
            var.type, "scale" if var.type == "date" else "nominal"
        )
        assert meta.variable_measure[var.name] == expected_measure
        if var.type in ("category", "ordinal"):
            labels = meta.variable_value_labels[var.name]
            assert labels == {float(n): var.levels[c] for c, n in spss_codes(var).items()}
        elif var.type == "boolean":
            assert meta.variable_value_labels[var.name] == {0.0: "no", 1.0: "yes"}
        else:
            assert var.name not in meta.variable_value_labels
    assert meta.variable_value_labels["group"] == {1.0: "Experimental group", 2.0: "Control group"}
    assert meta.original_variable_types["operation_date"] == "DATE11"
    assert meta.original_variable_types["age"] == "F8.0"


def test_sav_stores_level_codes_as_numbers(tmp_path: Path, typed: pd.DataFrame) -> None:
    path = write_table(typed, tmp_path / "o.sav")
    raw, _ = pyreadstat.read_sav(str(path))
    expected = typed["group"].astype(object).map({"experimental": 1.0, "control": 2.0})
    assert raw["group"].tolist() == expected.tolist()
    expected_pain = typed["pain"].astype("Float64").astype("float64")
    np.testing.assert_array_equal(raw["pain"].to_numpy(), expected_pain.to_numpy())


def test_spss_codes_use_whole_number_codes_as_they_are() -> None:
    schema = load_schema(
        extensions=[
            {
                "variables": [
                    {"name": "grade", "type": "ordinal", "levels": {"0": "Normal", "2": "Bad"}},
                ]
            }
        ]
    )
    assert spss_codes(schema["grade"]) == {"0": 0, "2": 2}
    clash = load_schema(
        extensions=[{"variables": [{"name": "ward", "type": "category", "levels": ["7", "07"]}]}]
    )
    assert spss_codes(clash["ward"]) == {"7": 1, "07": 2}
    assert spss_codes(schema["sex"]) == {"male": 1, "female": 2}


def test_sav_refuses_an_undeclared_level(tmp_path: Path) -> None:
    frame = pd.DataFrame({"sex": ["male", "F", "other"]})
    with pytest.raises(DataError) as info:
        write_table(frame, tmp_path / "o.sav")
    assert str(info.value) == (
        "cannot write 'sex' to SPSS: 2 value(s) are not one of 'male', 'female', "
        "e.g. 'F'; write validated data (kypho.validate)"
    )


def test_sav_refuses_a_non_boolean(tmp_path: Path) -> None:
    frame = pd.DataFrame({"pain": [1.0, 2.0]})
    with pytest.raises(DataError) as info:
        write_table(frame, tmp_path / "o.sav")
    assert str(info.value) == (
        "cannot write 'pain' to SPSS: 1 value(s) are not yes/no (true/false, 1/0), "
        "e.g. np.float64(2.0); write validated data (kypho.validate)"
    )


def test_sav_refuses_a_name_spss_cannot_hold(tmp_path: Path) -> None:
    path = tmp_path / "o.sav"
    with pytest.raises(InputFileError) as info:
        write_table(pd.DataFrame({"ward number": [1]}), path)
    assert str(info.value) == (
        f"cannot write {str(path)!r}: column 'ward number' is not a valid SPSS variable name "
        "(a letter first, then letters, digits or _.@#$, at most 64 bytes, not a reserved word)"
    )


def test_sav_other_columns_are_written_plainly(tmp_path: Path) -> None:
    frame = pd.DataFrame({"ward": ["a", None], "beds": [3, 4], "flag": [True, False]})
    path = write_table(frame, tmp_path / "o.sav")
    raw, meta = pyreadstat.read_sav(str(path))
    assert raw["ward"].tolist() == ["a", ""]
    assert raw["beds"].tolist() == [3.0, 4.0]
    assert raw["flag"].tolist() == [1.0, 0.0]
    assert meta.variable_value_labels == {}


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "o.feather"
    with pytest.raises(InputFileError) as info:
        write_table(pd.DataFrame({"a": [1]}), path)
    assert str(info.value) == (
        f"cannot write {str(path)!r}: unsupported extension '.feather'; kypho writes .csv, "
        ".sav, .xlsx, .parquet"
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".sav"])
def test_folder_that_does_not_exist(tmp_path: Path, suffix: str) -> None:
    folder = tmp_path / "no" / "such"
    path = folder / f"o{suffix}"
    with pytest.raises(InputFileError) as info:
        write_table(pd.DataFrame({"a": [1]}), path)
    assert str(info.value) == (f"cannot write {str(path)!r}: folder {str(folder)!r} does not exist")


def test_xlsx_text_starting_with_equals_stays_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"patient_id": ["P1", "P2"], "notes": ["=2 levels", "=SUM(A1:A2)"]})
    path = write_table(frame, tmp_path / "o.xlsx")
    sheet = openpyxl.load_workbook(path)["Data"]
    assert [(c.value, c.data_type) for c in sheet["B"][1:]] == [
        ("=2 levels", "s"),
        ("=SUM(A1:A2)", "s"),
    ]
    assert read_table(path)["notes"].tolist() == ["=2 levels", "=SUM(A1:A2)"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".sav"])
def test_non_ascii_text_round_trips(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "patient_name": ["张伟", "Zoë Ørsted"],
            "notes": ["腰痛, 骨质疏松", "ok"],
        }
    )
    back = read_table(write_table(frame, tmp_path / f"o{suffix}", schema=SCHEMA), schema=SCHEMA)
    assert back[["patient_name", "notes"]].values.tolist() == [
        ["张伟", "腰痛, 骨质疏松"],
        ["Zoë Ørsted", "ok"],
    ]


def test_sav_refuses_text_in_number_and_date_columns(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        write_table(pd.DataFrame({"age": [70, "x"]}), tmp_path / "o.sav")
    assert str(info.value) == (
        "cannot write 'age' to SPSS: 1 value(s) are not a whole number from 18 to 120, "
        "e.g. 'x'; write validated data (kypho.validate)"
    )
    with pytest.raises(DataError) as info:
        write_table(pd.DataFrame({"operation_date": ["2020-01-01", "soon"]}), tmp_path / "o.sav")
    assert str(info.value) == (
        "cannot write 'operation_date' to SPSS: 1 value(s) are not a date (YYYY-MM-DD) "
        "from 1990-01-01 to 2100-12-31, e.g. 'soon'; write validated data (kypho.validate)"
    )
