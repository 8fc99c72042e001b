"""``kypho analyze`` end to end through the CLI runner: files, numbers, failures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

import kypho.cli.analyze as cli_analyze
from kypho.analysis.demo import demo_cohort
from kypho.cli import main
from kypho.errors import InputFileError
from kypho.report.document import FORMATS


def write_cohort(path: Path, n: int = 60, *, bad_row: bool = True) -> Path:
    raw = demo_cohort(n, seed=4, ineligible=0.05)
    if bad_row:
        raw["age"] = raw["age"].astype(object)
        raw.loc[3, "age"] = "old"
    raw.to_csv(path, index=False)
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["analyze", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Result]:
    root = tmp_path_factory.mktemp("full")
    data = write_cohort(root / "cohort.csv")
    out = root / "report"
    return data, out, run(str(data), "--out", str(out))


def test_full_run_writes_everything(full_run: tuple[Path, Path, Result]) -> None:
    data, out, result = full_run
    assert result.exit_code == 0, result.output
    assert f"report: {out / 'report.html'}" in result.stdout
    assert "[1/7] reading" in result.stderr
    # field-level by default (issue 16): the bad age is flagged, its record kept
    assert (
        "warning: 1 field(s) of kept records flagged and set missing (listed in the report's "
        "data-quality section and data_quality.csv)"
    ) in result.stderr
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    listed = {f["path"] for f in manifest["files"]}
    for name in (
        "report.md",
        "report.html",
        "report.docx",
        "tables.csv",
        "results.csv",
        "tables.tex",
        "data_quality.csv",
        "figures/figure0_flow.png",
        "figures/figure0_flow.pdf",
        "figures/figure1_vas.svg",
        "figures/figure2_radiographic.png",
        "figures/figure3_cement_grade.svg",
        "figures/figure4_leakage.png",
    ):
        assert name in listed
        assert (out / name).is_file()
    assert manifest["summary"]["n_rejected"] == 0
    assert manifest["summary"]["n_accepted"] == 60
    import hashlib

    assert manifest["provenance"]["input_sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert not list(out.glob(".kypho-partial-*"))
    import kypho.beyond

    page = (out / "report.html").read_text(encoding="utf-8")
    has_hook = callable(getattr(kypho.beyond, "report_section", None))
    assert ('<h2 id="beyond">Beyond the paper</h2>' in page) == has_hook


def test_full_run_numbers_match_input(full_run: tuple[Path, Path, Result]) -> None:
    """Table 2's operation time is the plain mean and SD of the accepted, eligible rows."""
    data, out, _ = full_run
    raw = pd.read_csv(data)
    age = pd.to_numeric(raw["age"], errors="coerce")
    kept = raw[age.notna() & (age >= 60)]
    long = pd.read_csv(out / "results.csv")
    rows = long[(long.table == 2) & (long.variable == "operation_time")]
    for group, label in (("experimental", "Experimental group"), ("control", "Control group")):
        values = kept.loc[kept.group == group, "operation_time"]
        line = rows[rows.group == label].iloc[0]
        assert line["n"] == len(values)
        assert line["mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert line["sd"] == pytest.approx(values.std(ddof=1), rel=1e-12)


def test_full_run_docx_holds_seven_tables(full_run: tuple[Path, Path, Result]) -> None:
    from docx import Document

    _, out, _ = full_run
    document = Document(str(out / "report.docx"))
    assert len(document.tables) == 7
    assert document.tables[0].rows[0].cells[1].text == "Experimental group"


def test_no_figures_means_no_figure_anywhere(tmp_path: Path) -> None:
    """``--no-figures``: not the main figures nor the "Beyond the paper" ones; text stays."""
    from kypho.report.document import NO_FIGURES

    data = write_cohort(tmp_path / "c.csv", 60, bad_row=False)
    out = tmp_path / "out"
    result = run(str(data), "--out", str(out), "--format", "html", "--no-figures", "-q")
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="beyond">Beyond the paper</h2>' in page
    assert "Group × time interaction" in page  # the section's tables are there
    assert "<svg" not in page
    assert "<img" not in page
    assert "<figure" not in page
    assert "Figure B" not in page
    assert page.count(NO_FIGURES) == 1
    assert not (out / "figures").exists()
    help_text = CliRunner().invoke(main, ["analyze", "--help"]).output
    assert "No figures anywhere" in help_text


def test_selected_format_without_figures(tmp_path: Path) -> None:
    data = write_cohort(tmp_path / "c.csv", 40, bad_row=False)
    out = tmp_path / "out"
    result = run(str(data), "--out", str(out), "--format", "md", "--no-figures", "-q")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["MANIFEST.json", "report.md"]
    assert result.stderr == ""
    assert "report: " in result.stdout


def test_user_plan_adds_a_row(tmp_path: Path) -> None:
    data = write_cohort(tmp_path / "c.csv", 40, bad_row=False)
    plan = tmp_path / "plan.yaml"
    plan.write_text("add_rows:\n  - {table: 2, rows: [{variable: hb_pre}]}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run(
        str(data), "--out", str(out), "--format", "csv", "--no-figures", "--plan", str(plan)
    )
    assert result.exit_code == 0, result.output
    long = pd.read_csv(out / "results.csv")
    assert "hb_pre" in set(long[long.table == 2].variable)


def test_no_accepted_record_is_an_error(tmp_path: Path) -> None:
    raw = demo_cohort(3, seed=1)
    raw["sex"] = "F"
    data = tmp_path / "bad.csv"
    raw.to_csv(data, index=False)
    out = tmp_path / "out"
    # --strict rejects a record for any problem (the default would flag the field)
    result = CliRunner().invoke(main, ["analyze", str(data), "--out", str(out), "--strict"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "error: no record of bad.csv passed validation (3 rejected), so there is nothing to "
        "analyse; first problems: record P-1 (line 2), 'sex' must be one of 'male', 'female' "
        "(got 'F'); record P-2 (line 3), 'sex' must be one of 'male', 'female' (got 'F'); "
        "record P-3 (line 4), 'sex' must be one of 'male', 'female' (got 'F')"
    )
    assert not (out / "MANIFEST.json").exists()


def test_failed_write_leaves_no_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = write_cohort(tmp_path / "c.csv", 40, bad_row=False)
    out = tmp_path / "out"

    def fail(*args: object, **kwargs: object) -> Path:
        raise InputFileError("disk full while writing report.docx")

    monkeypatch.setattr("kypho.report.word.write_docx", fail)
    result = CliRunner().invoke(main, ["analyze", str(data), "--out", str(out), "--no-figures"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "error: disk full while writing report.docx"
    assert list(out.iterdir()) == []


def test_rerun_replaces_previous_report(tmp_path: Path) -> None:
    data = write_cohort(tmp_path / "c.csv", 40, bad_row=False)
    out = tmp_path / "out"
    assert run(str(data), "--out", str(out), "--format", "md", "--no-figures").exit_code == 0
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    first = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    assert run(str(data), "--out", str(out), "--format", "csv", "--no-figures").exit_code == 0
    second = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    assert {f["path"] for f in first["files"]} == {"report.md"}
    assert {f["path"] for f in second["files"]} == {"tables.csv", "results.csv"}
    assert not (out / "report.md").exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_default_cohort_is_marked_synthetic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kypho.beyond

    # Only the note is under test here; the Beyond section is covered by the full run.
    monkeypatch.delattr(kypho.beyond, "report_section", raising=False)
    data = write_cohort(tmp_path / "cohort.csv", 40, bad_row=False)
    monkeypatch.setattr(cli_analyze, "_default_cohort", lambda: data)
    out = tmp_path / "out"
    result = run(
        "--out", str(out), "--format", "html", "--format", "md", "--format", "docx", "--no-figures"
    )
    assert result.exit_code == 0, result.output
    assert "[1/7] reading the bundled default cohort" in result.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert cli_analyze.SYNTHETIC_NOTE in page
    assert cli_analyze.SYNTHETIC_NOTE in (out / "report.md").read_text(encoding="utf-8")
    import docx

    paragraphs = [p.text for p in docx.Document(str(out / "report.docx")).paragraphs]
    assert cli_analyze.SYNTHETIC_NOTE in paragraphs[:3]


def test_format_choices_match_report_formats() -> None:
    assert cli_analyze.FORMAT_CHOICES == FORMATS


def test_command_module_imports_no_heavy_library() -> None:
    code = (
        "import sys, kypho.cli.analyze; "
        "print(sorted(m for m in ('matplotlib', 'docx', 'scipy', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


BUNDLED = Path(__file__).resolve().parents[2] / "src" / "kypho" / "data" / "cohort.csv"


@pytest.mark.skipif(not BUNDLED.is_file(), reason="the bundled cohort is not installed")
def test_bundled_cohort_reproduces_published_descriptive_columns(tmp_path: Path) -> None:
    """``kypho analyze`` without INPUT, against the paper's printed values.

    Source: shared/paper/kyphoplasty-staged-perfusion.txt, Tables 1, 3 and 7 (e.g.
    "Gender (male to female) 12:43 14:41", "Age (yr ± SD) 69.47±6.90 70.38±7.25",
    "Preoperation 8.34±0.27 8.24±0.67", "Grade I 4(7.3) 11(20.0)", "Leakage 2 9").
    Compared as printed, at the paper's decimals.
    """
    out = tmp_path / "out"
    result = run("--out", str(out), "--format", "md", "--no-figures", "-q")
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text(encoding="utf-8")
    for row in (
        "| Number | 55 | 55 |",
        "| Gender (male to female) | 12:43 | 14:41 |",
        "| Age (yr) | 69.47 ± 6.90 | 70.38 ± 7.25 |",
        "| Constipation | 37 (67.3) | 39 (70.9) |",
        "| \u2003Thoracic vertebra | 32 (58.2) | 30 (54.5) |",
        "| \u2003Preoperation | 8.34 ± 0.27 | 8.24 ± 0.67 |",
        "| \u20032 h after operation | 3.41 ± 0.34\\* | 3.43 ± 0.41\\* |",
        "| \u2003Last follow-up | 86.43 ± 6.57\\* | 87.67 ± 6.07\\* |",
        "| \u2003Grade I | 4 (7.3) | 11 (20.0) |",
        "| \u2003Grade IV | 34 (61.8) | 12 (21.8) |",
        "| \u2003Yes | 2 (3.6) | 9 (16.4) |",
        "| Type C (cortical defect) | 1 (1.8) | 7 (12.7) |",
        "| Type S (segmental vein) | 1 (1.8) | 2 (3.6) |",
    ):
        assert row in report
    assert "SYNTHETIC" in report


def test_reads_from_the_study_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kypho.store import Store

    url = f"sqlite:///{tmp_path / 'study.db'}"
    store = Store.init(url, admin="ada")
    store.import_frame(demo_cohort(40, seed=6), reason="test data")
    monkeypatch.setenv("KYPHO_USER", "ada")
    out = tmp_path / "out"
    result = run("--db", url, "--out", str(out), "--format", "csv", "--no-figures")
    assert result.exit_code == 0, result.output
    assert "records read 40, accepted 40, rejected 0" in result.stdout
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["provenance"]["input"] == f"study store {url}"
    assert manifest["provenance"]["input_sha256"] is None


def test_schema_extension_adds_a_timepoint(tmp_path: Path) -> None:
    """A 12-month VAS declared in a schema extension appears in Table 3, with its paired t."""
    raw = demo_cohort(40, seed=9)
    raw["vas_m12"] = (raw["vas_48h"] + 0.5).round(2)
    data = tmp_path / "c.csv"
    raw.to_csv(data, index=False)
    extension = tmp_path / "schema.yaml"
    extension.write_text(
        "timepoints: {m12: {label: 12 months after operation, order: 6}}\n"
        "extend_repeated: {vas: [m12]}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = run(
        str(data), "--out", str(out), "--format", "csv", "--no-figures", "--schema", str(extension)
    )
    assert result.exit_code == 0, result.output
    long = pd.read_csv(out / "results.csv")
    row = long[(long.table == 3) & (long.variable == "vas_m12")]
    assert list(row.label.unique()) == ["12 months after operation"]
    expected = raw.loc[raw.group == "experimental", "vas_m12"].mean()
    assert row[row.group == "Experimental group"]["mean"].iloc[0] == pytest.approx(expected)
    assert row["within_t"].notna().all()
