"""Records through files and back: template, CSV, Excel, SPSS (kypho's and others')."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kypho.io import example_records, read_table, write_table, write_template
from kypho.io.tables import spss_codes
from kypho.measures import derive
from kypho.schema import load_schema
from kypho.validate import validate

SCHEMA = load_schema()
FIXTURES = Path(__file__).with_name("io_fixtures")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _typed(raw: pd.DataFrame) -> pd.DataFrame:
    result = validate(raw, SCHEMA)
    assert result.n_rejected == 0, result.problems["message"].tolist()
    assert result.unknown_columns == []
    return result.data.reset_index(drop=True)


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return example_records(60, schema=SCHEMA, seed=21, missing=0.2)


def _fill(template: Path, raw: pd.DataFrame, target: Path) -> Path:
    """Type ``raw`` into the template the way a person would: drop-down words, real dates."""
    book = openpyxl.load_workbook(template)
    sheet = book["Data"]
    header = [c.value for c in sheet[1]]
    for column, name in enumerate(header, start=1):
        values = raw[name]
        for row, value in enumerate(values.tolist(), start=2):
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                continue
            if isinstance(value, bool):
                value = "yes" if value else "no"
            elif isinstance(value, pd.Timestamp):
                value = value.to_pydatetime()
            sheet.cell(row=row, column=column, value=value)
    book.save(target)
    return target


def test_filled_template_reads_back_without_loss(tmp_path: Path, raw: pd.DataFrame) -> None:
    template = write_template(tmp_path / "entry.xlsx", SCHEMA)
    filled = _fill(template, raw, tmp_path / "filled.xlsx")
    before = _sha(filled)
    back = read_table(filled, schema=SCHEMA)
    assert _sha(filled) == before
    assert len(back) == len(raw)
    pd.testing.assert_frame_equal(_typed(back), _typed(raw))


def test_filled_template_extra_column_is_reported_not_dropped(
    tmp_path: Path, raw: pd.DataFrame
) -> None:
    filled = _fill(write_template(tmp_path / "e.xlsx", SCHEMA), raw.head(3), tmp_path / "f.xlsx")
    book = openpyxl.load_workbook(filled)
    sheet = book["Data"]
    extra = sheet.max_column + 1
    sheet.cell(row=1, column=extra, value="ward")
    for row in (2, 3, 4):
        sheet.cell(row=row, column=extra, value=f"W{row}")
    book.save(filled)
    back = read_table(filled, schema=SCHEMA)
    assert back["ward"].tolist() == ["W2", "W3", "W4"]
    result = validate(back, SCHEMA)
    assert result.unknown_columns == ["ward"]
    assert result.n_accepted == 3


def test_columns_named_by_label_read_like_names(tmp_path: Path, raw: pd.DataFrame) -> None:
    once = [v.name for v in SCHEMA.input_variables if v.measure is None]
    by_label = raw[once].rename(columns={n: SCHEMA[n].label for n in once})
    path = tmp_path / "labels.csv"
    by_label.to_csv(path, index=False)
    back = read_table(path, schema=SCHEMA)
    pd.testing.assert_frame_equal(_typed(back), _typed(raw[once]))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".sav"])
def test_written_records_read_back_the_same(tmp_path: Path, raw: pd.DataFrame, suffix: str) -> None:
    typed = _typed(raw)
    path = write_table(typed, tmp_path / f"records{suffix}", schema=SCHEMA)
    before = _sha(path)
    back = read_table(path, schema=SCHEMA)
    assert _sha(path) == before
    pd.testing.assert_frame_equal(_typed(back), typed)


@pytest.mark.parametrize("suffix", [".csv", ".sav"])
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1), missing=st.floats(0.0, 0.95))
def test_round_trip_property(tmp_path: Path, suffix: str, seed: int, missing: float) -> None:
    """Property: any valid records, any share of gaps, come back identical."""
    typed = _typed(example_records(12, schema=SCHEMA, seed=seed, missing=missing))
    path = write_table(typed, tmp_path / f"records{suffix}", schema=SCHEMA)
    pd.testing.assert_frame_equal(_typed(read_table(path, schema=SCHEMA)), typed)


@pytest.mark.parametrize("suffix", [".csv", ".sav"])
def test_derived_tables_survive_a_round_trip(
    tmp_path: Path, raw: pd.DataFrame, suffix: str
) -> None:
    """Writing derive()'s output and starting again from the file gives the same results."""
    # random landmarks make wedge angles outside the declared range; leave them out
    landmarks = [v.name for v in SCHEMA.input_variables if v.unit == "px"]
    raw = raw.assign(**{name: np.nan for name in landmarks})
    derived = derive(_typed(raw), SCHEMA)
    path = write_table(derived, tmp_path / f"derived{suffix}", schema=SCHEMA)
    result = validate(read_table(path, schema=SCHEMA), SCHEMA)
    assert result.n_rejected == 0
    assert set(result.ignored_columns) == set(derived.columns) - set(_typed(raw).columns)
    again = derive(result.data.reset_index(drop=True), SCHEMA)
    pd.testing.assert_frame_equal(again, derived)


def test_sav_written_independently_with_value_labels(tmp_path: Path) -> None:
    """A file in SPSS's own conventions (written with pyreadstat, not kypho)."""
    path = tmp_path / "office.sav"
    frame = pd.DataFrame(
        {
            "patient_id": ["A1", "A2", "A3"],
            "group": [0.0, 1.0, 1.0],
            "sex": [2.0, 1.0, 2.0],
            "age": [70.0, 999.0, 81.0],
            "pain": [1.0, 0.0, np.nan],
            "level": [12.0, 13.0, 1.0],
            "denis_subtype": [2.0, 1.0, 3.0],
            "operation_date": [dt.date(2020, 1, 2), dt.date(2021, 2, 3), dt.date(2019, 12, 31)],
        }
    )
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels={"group": "Treatment arm", "sex": "Sex"},
        variable_value_labels={
            "group": {0: "Control group", 1: "Experimental group"},
            "sex": {1: "MALE", 2: "FEMALE"},
            "pain": {0: "No", 1: "Yes"},
            "level": {1: "T1", 12: "T12", 13: "L1"},
            "denis_subtype": {1: "A (both endplates)", 2: "B (superior endplate)", 3: "C"},
        },
        missing_ranges={"age": [999]},
    )
    before = _sha(path)
    result = validate(read_table(path, schema=SCHEMA), SCHEMA, strict=True)
    assert _sha(path) == before
    assert result.n_accepted == 2
    assert result.problems[["row", "field", "problem"]].values.tolist() == [[2, "age", "required"]]
    data = result.data
    assert data["group"].astype(str).tolist() == ["control", "experimental"]
    assert data["sex"].astype(str).tolist() == ["female", "female"]
    assert data["pain"].tolist() == [True, pd.NA]
    assert data["level"].astype(str).tolist() == ["T12", "T1"]
    assert data["denis_subtype"].astype(str).tolist() == ["B", "C"]
    assert data["operation_date"].tolist() == [
        pd.Timestamp("2020-01-02"),
        pd.Timestamp("2019-12-31"),
    ]


def test_sav_made_by_pspp() -> None:
    """pspp_records.sav was written by GNU PSPP from io_fixtures/pspp_records.sps.

    PSPP printed (io_fixtures/pspp_records.csv): value labels group 1 'Experimental
    group', 2 'Control group'; sex 1 'Male', 2 'Female'; pain 0 'No', 1 'Yes';
    user-missing values age 99 and pain 9; data rows P-001 .. P-004 where P-004
    has sex 3 (no label) and P-003 the level 't11'.
    """
    path = FIXTURES / "pspp_records.sav"
    before = _sha(path)
    result = validate(read_table(path, schema=SCHEMA), SCHEMA, strict=True)
    assert _sha(path) == before
    problems = result.problems[["record", "field", "problem"]].values.tolist()
    assert problems == [["P-002", "age", "required"], ["P-004", "sex", "type"]]
    data = result.data.set_index("patient_id")
    assert data.index.tolist() == ["P-001", "P-003"]
    assert data["group"].astype(str).tolist() == ["experimental", "control"]
    assert data["sex"].astype(str).tolist() == ["female", "female"]
    assert data["age"].tolist() == [71, 65]
    assert data["pain"].tolist() == [True, pd.NA]  # 9 is user-missing
    assert data["operation_date"].tolist() == [
        pd.Timestamp("2020-03-01"),
        pd.Timestamp("2022-01-02"),
    ]
    assert data.loc["P-001", "vas_pre"] == pytest.approx(6.5, abs=0)
    assert pd.isna(data.loc["P-003", "vas_pre"])
    assert data["level"].astype(str).tolist() == ["L1", "T11"]


def _pspp_tables(path: Path) -> dict[str, list[list[str]]]:
    """Split PSPP's CSV output into its tables: title -> rows (header first)."""
    tables: dict[str, list[list[str]]] = {}
    title = ""
    for row in csv.reader(path.read_text(encoding="utf-8").splitlines()):
        if row and row[0].startswith("Table: "):
            title = row[0].removeprefix("Table: ")
            tables[title] = []
        elif row and title:
            tables[title].append(row)
    return tables


def test_pspp_reads_kypho_sav_with_schema_labels() -> None:
    """PSPP opened io_fixtures/kypho_records.sav (written by kypho, make_kypho_sav.py).

    Its DISPLAY DICTIONARY and LIST output is io_fixtures/kypho_records.pspp.csv;
    every label and measurement level it printed must be the schema's.
    """
    tables = _pspp_tables(FIXTURES / "kypho_records.pspp.csv")
    variables = {row[0]: row for row in tables["Variables"][1:]}
    measure_words = {"ordinal": "Ordinal", "number": "Scale", "integer": "Scale", "date": "Scale"}
    for name, row in variables.items():
        var = SCHEMA[name]
        assert row[2] == var.display_label
        assert row[3] == measure_words.get(var.type, "Nominal")
    assert variables["operation_date"][7] == "DATE11"
    printed: dict[str, dict[str, str]] = {}
    current = ""
    for label_row in tables["Value Labels"][1:]:
        current = label_row[0] or current
        printed.setdefault(current, {})[label_row[1]] = label_row[2]
    for name in variables:
        var = SCHEMA[name]
        if var.type in ("category", "ordinal"):
            expected = {str(n): var.levels[c] for c, n in spss_codes(var).items()}
            assert printed[var.display_label] == expected
        elif var.type == "boolean":
            assert printed[var.display_label] == {"0": "no", "1": "yes"}
    listed = tables["Data List"]
    columns = listed[0]
    typed = _maker().records()
    assert [row[columns.index("patient_id")] for row in listed[1:]] == typed["patient_id"].tolist()
    for name in ("group", "level", "asia_grade"):
        codes = spss_codes(SCHEMA[name])
        printed_codes = [row[columns.index(name)] for row in listed[1:]]
        assert printed_codes == [str(codes[c]) for c in typed[name].astype(str)], name
    printed_pain = [row[columns.index("pain")] for row in listed[1:]]
    assert printed_pain == [".", "0", "1", "0"]


def _maker() -> ModuleType:
    """io_fixtures/make_kypho_sav.py, the script that wrote kypho_records.sav."""
    spec = spec_from_file_location("make_kypho_sav", FIXTURES / "make_kypho_sav.py")
    assert spec is not None
    assert spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_kypho_sav_matches_the_current_writer(tmp_path: Path) -> None:
    """The file PSPP checked is still what kypho writes (same data, labels, formats)."""
    fresh = write_table(_maker().records(), tmp_path / "fresh.sav", schema=SCHEMA)
    old_frame, old_meta = pyreadstat.read_sav(str(FIXTURES / "kypho_records.sav"))
    new_frame, new_meta = pyreadstat.read_sav(str(fresh))
    pd.testing.assert_frame_equal(new_frame, old_frame)
    for field in (
        "column_names_to_labels",
        "variable_value_labels",
        "variable_measure",
        "original_variable_types",
    ):
        assert getattr(new_meta, field) == getattr(old_meta, field), field


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".sav"])
def test_no_records_round_trip(tmp_path: Path, suffix: str) -> None:
    """An unfilled template gives zero typed rows, which write and read back as zero rows."""
    empty = validate(read_table(write_template(tmp_path / "t.xlsx", SCHEMA), schema=SCHEMA))
    assert empty.n_read == 0
    path = write_table(empty.data, tmp_path / f"none{suffix}", schema=SCHEMA)
    back = read_table(path, schema=SCHEMA)
    assert len(back) == 0
    assert list(back.columns) == [v.name for v in SCHEMA.input_variables]
