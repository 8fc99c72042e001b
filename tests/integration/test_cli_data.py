"""kypho validate / template / dictionary through click's test runner."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from kypho.cli import main
from kypho.io import data_dictionary, example_records
from kypho.io.dictionary import markdown_table
from kypho.schema import load_schema

SCHEMA = load_schema()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _bad_csv(tmp_path: Path) -> Path:
    raw = example_records(4, schema=SCHEMA, seed=3)
    raw.loc[0, "vas_pre"] = None
    raw.loc[1, "age"] = 300
    raw.loc[2, "sex"] = "F"
    raw["ward"] = "W1"
    path = tmp_path / "bad.csv"
    raw.to_csv(path, index=False)
    return path


def test_validate_clean_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "clean.csv"
    example_records(8, schema=SCHEMA, seed=3).to_csv(path, index=False)
    before = _sha(path)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == f"{path}: 8 rows read: 8 accepted, 0 rejected (0 problems)\n"
    assert _sha(path) == before


def test_validate_reports_every_problem_and_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    path = _bad_csv(tmp_path)
    before = _sha(path)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    # field-level by default (issue 16): the records are kept, the two fields flagged;
    # rows are named by the file's line (line 1 is the header)
    assert result.output.splitlines() == [
        f"{path}: 4 rows read: 4 accepted, 0 rejected, 2 fields flagged (set missing) (2 problems)",
        "unknown columns (not in the schema, not used): ward",
        "missing values among accepted rows: sex 1, age 1, vas_pre 1",
        "problems:",
        "  record P-00002 (line 3), 'age' must be a whole number from 18 to 120 (got 300)",
        "  record P-00003 (line 4), 'sex' must be one of 'male', 'female' (got 'F')",
    ]
    strict = runner.invoke(main, ["validate", str(path), "--strict"])
    assert strict.exit_code == 1
    assert strict.output.splitlines()[:3] == [
        f"{path}: 4 rows read: 2 accepted, 2 rejected (2 problems)",
        "unknown columns (not in the schema, not used): ward",
        "missing values among accepted rows: vas_pre 1",
    ]
    assert _sha(path) == before


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_validate_writes_the_problems_table(runner: CliRunner, tmp_path: Path, suffix: str) -> None:
    report = tmp_path / f"problems{suffix}"
    result = runner.invoke(main, ["validate", str(_bad_csv(tmp_path)), "--report", str(report)])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == f"problems table written to {report}"
    table = pd.read_csv(report) if suffix == ".csv" else pd.read_excel(report)
    assert list(table.columns) == [
        "row", "record", "field", "value", "problem", "message", "action"
    ]  # fmt: skip
    assert table[["row", "field", "problem", "action"]].values.tolist() == [
        [3, "age", "range", "flagged"],
        [4, "sex", "type", "flagged"],
    ]


def test_validate_report_extension(runner: CliRunner, tmp_path: Path) -> None:
    report = tmp_path / "problems.json"
    result = runner.invoke(main, ["validate", str(_bad_csv(tmp_path)), "--report", str(report)])
    assert result.exit_code == 2
    assert result.output == (
        f"error: cannot write the report to {str(report)!r}: unsupported extension "
        "'.json'; allowed: .csv, .xlsx\n"
    )


def test_validate_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.output == f"error: cannot read {str(path)!r}: no such file\n"


def test_validate_with_an_extension(runner: CliRunner, tmp_path: Path) -> None:
    ext = tmp_path / "ext.yaml"
    ext.write_text("extend_repeated: {vas: [d3]}\n", encoding="utf-8")
    raw = example_records(3, schema=SCHEMA, seed=5)
    raw["vas_d3"] = [1.0, 11.0, None]
    path = tmp_path / "ext.csv"
    raw.to_csv(path, index=False)
    plain = runner.invoke(main, ["validate", str(path)])
    assert "unknown columns (not in the schema, not used): vas_d3" in plain.output
    extended = runner.invoke(main, ["validate", str(path), "--extension", str(ext)])
    assert extended.exit_code == 1
    assert extended.output.splitlines()[-1] == (
        "  record P-00002 (line 3), 'vas_d3' must be a number from 0 to 10 (got 11)"
    )


def test_template_then_validate_the_filled_workbook(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "entry.xlsx"
    result = runner.invoke(main, ["template", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"wrote {out}: {len(SCHEMA.input_variables)} columns on sheet 'Data'\n"
    )
    book = openpyxl.load_workbook(out)
    sheet = book["Data"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("patient_id") + 1, value="P-1")
    sheet.cell(row=2, column=header.index("group") + 1, value="control")
    sheet.cell(row=2, column=header.index("sex") + 1, value="female")
    sheet.cell(row=2, column=header.index("age") + 1, value=72)
    sheet.cell(row=2, column=header.index("level") + 1, value="L1")
    sheet.cell(row=2, column=header.index("pain") + 1, value="yes")
    book.save(out)
    checked = runner.invoke(main, ["validate", str(out)])
    assert checked.exit_code == 0, checked.output
    assert checked.output.splitlines()[0] == (
        f"{out}: 1 row read: 1 accepted, 0 rejected (0 problems)"
    )


def test_template_with_extension(runner: CliRunner, tmp_path: Path) -> None:
    ext = tmp_path / "ext.yaml"
    ext.write_text(
        "variables:\n  - {name: smoker, label: Smoker, type: boolean, role: baseline}\n",
        encoding="utf-8",
    )
    out = tmp_path / "entry.xlsx"
    result = runner.invoke(main, ["template", "--out", str(out), "--extension", str(ext)])
    assert result.exit_code == 0, result.output
    header = [c.value for c in openpyxl.load_workbook(out)["Data"][1]]
    assert "smoker" in header
    assert len(header) == len(SCHEMA.input_variables) + 1


def test_template_needs_xlsx(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "entry.csv"
    result = runner.invoke(main, ["template", "--out", str(out)])
    assert result.exit_code == 2
    assert result.output == (
        f"error: cannot write the template to {str(out)!r}: the template is an Excel "
        "workbook, its name must end in .xlsx (got '.csv')\n"
    )
    assert not out.exists()


def test_template_needs_out(runner: CliRunner) -> None:
    result = runner.invoke(main, ["template"])
    assert result.exit_code == 2
    assert "Missing option '--out'" in result.output


def test_dictionary_to_stdout(runner: CliRunner) -> None:
    result = runner.invoke(main, ["dictionary"])
    assert result.exit_code == 0
    assert result.output == markdown_table(data_dictionary(SCHEMA))


@pytest.mark.parametrize("suffix", [".csv", ".md", ".xlsx"])
def test_dictionary_to_file(runner: CliRunner, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"dictionary{suffix}"
    result = runner.invoke(main, ["dictionary", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out}: {len(SCHEMA)} variables\n"
    assert out.stat().st_size > 0


def test_dictionary_with_a_bad_schema(runner: CliRunner, tmp_path: Path) -> None:
    ext = tmp_path / "ext.yaml"
    ext.write_text("colour: blue\n", encoding="utf-8")
    result = runner.invoke(main, ["dictionary", "--extension", str(ext)])
    assert result.exit_code == 2
    # the wording after the key is the schema loader's; only the start is ours to fix
    assert result.output.startswith(f"error: {ext}: unknown extension key(s) colour; allowed: ")


def test_validate_reads_the_named_sheet(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        example_records(2, schema=SCHEMA, seed=1).to_excel(writer, sheet_name="Data", index=False)
        example_records(5, schema=SCHEMA, seed=2).to_excel(writer, sheet_name="Later", index=False)
    first = runner.invoke(main, ["validate", str(path)])
    assert (
        first.output.splitlines()[0] == f"{path}: 2 rows read: 2 accepted, 0 rejected (0 problems)"
    )
    later = runner.invoke(main, ["validate", str(path), "--sheet", "Later"])
    assert later.exit_code == 0, later.output
    assert (
        later.output.splitlines()[0] == f"{path}: 5 rows read: 5 accepted, 0 rejected (0 problems)"
    )


def test_validate_a_sav_file(runner: CliRunner, tmp_path: Path) -> None:
    from kypho.io import write_table
    from kypho.validate import validate

    typed = validate(example_records(6, schema=SCHEMA, seed=4), SCHEMA).data
    path = write_table(typed, tmp_path / "records.sav", schema=SCHEMA)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == f"{path}: 6 rows read: 6 accepted, 0 rejected (0 problems)\n"
