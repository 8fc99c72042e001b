"""The data-entry workbook is generated from the schema: header, comments, validations."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.datavalidation import DataValidation

from kypho.errors import InputFileError
from kypho.io import read_table, write_template
from kypho.io.dictionary import DICTIONARY_COLUMNS, allowed_text
from kypho.io.template import BOOLEAN_CHOICES
from kypho.schema import Schema, load_schema

SCHEMA = load_schema()


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    path = write_template(tmp_path_factory.mktemp("tpl") / "entry.xlsx", SCHEMA)
    return openpyxl.load_workbook(path)


def _validations(book: openpyxl.Workbook) -> dict[str, DataValidation]:
    """Header name -> the validation covering that column's data cells."""
    sheet = book["Data"]
    header = {cell.column_letter: cell.value for cell in sheet[1]}
    found: dict[str, DataValidation] = {}
    for rule in sheet.data_validations.dataValidation:
        for cell_range in rule.sqref.ranges:
            letter = cell_range.coord.split(":")[0].rstrip("0123456789")
            assert cell_range.coord == f"{letter}2:{letter}1048576"
            found[header[letter]] = rule
    return found


def _list_entries(book: openpyxl.Workbook, formula: str) -> list[str]:
    """The cells a drop-down's defined name points at."""
    ((sheet_name, cells),) = book.defined_names[formula].destinations
    return [c[0].value for c in book[sheet_name][cells.replace("$", "")]]


def test_sheets(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == ["Data", "Lists", "Dictionary"]
    assert book["Lists"].sheet_state == "hidden"
    assert book.active is not None
    assert book.active.title == "Data"


def test_header_is_the_input_variables(book: openpyxl.Workbook) -> None:
    header = [c.value for c in book["Data"][1]]
    assert header == [v.name for v in SCHEMA.input_variables]
    assert not set(header) & {v.name for v in SCHEMA.derived_variables}


def test_header_comments_and_required_marks(book: openpyxl.Workbook) -> None:
    for cell in book["Data"][1]:
        var = SCHEMA[cell.value]
        text = cell.comment.text
        unit = f"Unit: {var.unit}\n" if var.unit else ""
        assert text.startswith(f"{var.label}\n{unit}Allowed: {allowed_text(var)}")
        assert ("Required." in text) == var.required
        assert bool(cell.font.b) == var.required
    assert book["Data"]["A1"].comment.text == (
        "Patient ID\nAllowed: text\nRequired.\n"
        "Study-specific record id (pseudonym); unique per patient."
    )
    age = next(c for c in book["Data"][1] if c.value == "age")
    assert age.comment.text == ("Age\nUnit: yr\nAllowed: a whole number from 18 to 120\nRequired.")


def test_every_validation_follows_the_declaration(book: openpyxl.Workbook) -> None:
    rules = _validations(book)
    for var in SCHEMA.input_variables:
        rule = rules.get(var.name)
        if var.type in ("id", "string", "list"):
            assert rule is None, var.name
            continue
        assert rule is not None, var.name
        assert rule.allow_blank
        assert rule.error == f"{var.name!r} must be {var.allowed()}"[:255]
        if var.type in ("category", "ordinal"):
            assert rule.type == "list"
            assert rule.formula1 == f"choices_{var.name}"
            assert _list_entries(book, rule.formula1) == list(var.codes)
        elif var.type == "boolean":
            assert rule.type == "list"
            assert _list_entries(book, rule.formula1) == list(BOOLEAN_CHOICES)
        elif var.type == "date":
            assert rule.type == "date"
        else:
            assert rule.type == ("whole" if var.type == "integer" else "decimal")


def test_ranges_and_dates_written_as_declared(book: openpyxl.Workbook) -> None:
    rules = _validations(book)
    age, vas, tscore = rules["age"], rules["vas_pre"], rules["bmd_t_score"]
    assert (age.type, age.operator, age.formula1, age.formula2) == ("whole", "between", "18", "120")
    assert (vas.type, vas.formula1, vas.formula2) == ("decimal", "0", "10")
    assert (tscore.formula1, tscore.formula2) == ("-8", "5")
    landmark = rules["sup_ant_x_pre"]  # declared without bounds: any number
    assert (landmark.formula1, landmark.formula2) == ("-1E+307", "1E+307")
    op = rules["operation_date"]
    assert (op.formula1, op.formula2) == ("DATE(1990,1,1)", "DATE(2100,12,31)")


def test_text_columns_are_formatted_as_text(book: openpyxl.Workbook) -> None:
    sheet = book["Data"]
    formats = {c.value: sheet.column_dimensions[c.column_letter].number_format for c in sheet[1]}
    assert formats["patient_id"] == "@"
    assert formats["group"] == "@"
    assert formats["operation_date"] == "yyyy-mm-dd"


def test_dictionary_sheet(book: openpyxl.Workbook) -> None:
    rows = list(book["Dictionary"].values)
    assert list(rows[0]) == list(DICTIONARY_COLUMNS)
    assert [r[0] for r in rows[1:]] == [v.name for v in SCHEMA]


def test_an_extension_adds_its_column(tmp_path: Path) -> None:
    schema: Schema = load_schema(extensions=[{"extend_repeated": {"vas": ["d3"]}}])
    path = write_template(tmp_path / "t.xlsx", schema)
    header = [c.value for c in openpyxl.load_workbook(path)["Data"][1]]
    assert "vas_d3" in header
    assert "vas_d3" not in [v.name for v in SCHEMA]


def test_an_empty_template_reads_as_no_rows(tmp_path: Path) -> None:
    table = read_table(write_template(tmp_path / "t.xlsx"))
    assert list(table.columns) == [v.name for v in SCHEMA.input_variables]
    assert len(table) == 0


def test_template_must_be_xlsx(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as info:
        write_template(tmp_path / "t.xls")
    assert str(info.value) == (
        f"cannot write the template to {str(tmp_path / 't.xls')!r}: the template is an Excel "
        "workbook, its name must end in .xlsx (got '.xls')"
    )
