"""``kypho synth`` through the click test runner: files written, report printed, errors."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

from kypho.cli import main
from kypho.io import read_table
from kypho.validate import validate


def test_default_run_writes_the_bundled_cohort_and_prints_the_report(tmp_path: Path) -> None:
    out = tmp_path / "cohort.csv"
    result = CliRunner().invoke(main, ["synth", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        f"Wrote 124 SYNTHETIC patients (110 eligible, 14 screened but ineligible), "
        f"seed 20200101, to {out}."
    )
    assert lines[1] == (
        "192 published values checked: 127 reproduced, 7 not reproduced, 58 impossible."
    )
    assert lines[2] == "Not reproduced:"
    # the cohort's own values (after "cohort") depend on the seed; the rest does not
    assert re.search(
        r"^  Table 3, 2h after operation vs Preoperation \[vas_2h\], experimental t: published "
        r"4\.075, cohort [0-9.]+ \[impossible\]: impossible on these summaries: with means "
        r"8\.34 and 3\.41, SDs 0\.27 and 0\.34 \(n = 55\) the SD of the differences is at "
        r"most 0\.61, so \|t\| ≥ 59\.9$",
        result.output,
        flags=re.MULTILINE,
    )
    assert re.search(
        r"^  Table 3, Preoperation \[vas_pre\], P: published 1\.108, cohort [0-9.]+ "
        r"\(Student\), [0-9.]+ \(Welch\) \[impossible\]: a P value cannot exceed 1$",
        result.output,
        flags=re.MULTILINE,
    )
    assert (
        "  Table 1, Pain, P: published 0.364, cohort undefined [impossible]: every patient in "
        "both groups is in one category: the chi-square test is undefined and identical "
        "counts cannot give P below 1"
    ) in lines
    bundled = resources.files("kypho").joinpath("data", "cohort.csv").read_bytes()
    assert out.read_bytes() == bundled


def test_n_writes_a_larger_cohort_in_excel(tmp_path: Path) -> None:
    out = tmp_path / "big.xlsx"
    result = CliRunner().invoke(
        main, ["synth", "--n", "200", "--seed", "5", "--quiet", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"Wrote 200 SYNTHETIC patients (200 eligible, 0 screened but ineligible), seed 5, to {out}."
    )
    raw = read_table(out)
    assert len(raw) == 200
    assert validate(raw).n_rejected == 0


def test_sav_output_and_full_report(tmp_path: Path) -> None:
    out = tmp_path / "cohort.sav"
    report = tmp_path / "report.csv"
    result = CliRunner().invoke(
        main, ["synth", "--seed", "3", "--out", str(out), "--report", str(report), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert validate(read_table(out)).n_rejected == 0
    header = report.read_text(encoding="utf-8").splitlines()[0]
    assert header == "table,row,column,reported,achieved,status,reason"


def test_unsupported_extension_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "cohort.txt"
    result = CliRunner().invoke(main, ["synth", "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.startswith(
        f"error: cannot write {str(out)!r}: unsupported extension '.txt'"
    )


def test_source_file_with_the_paper_tables(tmp_path: Path) -> None:
    source = resources.files("kypho").joinpath("data", "paper_tables.yaml")
    out = tmp_path / "c.csv"
    with resources.as_file(source) as path:
        result = CliRunner().invoke(
            main,
            ["synth", "--source", str(path), "--seed", "20200101", "--out", str(out), "--quiet"],
        )
    assert result.exit_code == 0, result.output
    bundled = resources.files("kypho").joinpath("data", "cohort.csv").read_bytes()
    assert out.read_bytes() == bundled


def test_n_10000_counts_are_the_published_proportions(tmp_path: Path) -> None:
    """5000 per group; 12/55 of 5000 = 1090.9 -> 1091 men (largest remainder), etc."""
    out = tmp_path / "big.csv"
    result = CliRunner().invoke(main, ["synth", "--n", "10000", "--seed", "9", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (
        "Large cohort: summaries drawn from the published distributions, not matched to the "
        "printed rounding; counts scaled to the cohort size."
    ) in result.output.splitlines()
    raw = read_table(out)
    by_group = raw.groupby("group")
    assert by_group.size().to_dict() == {"control": 5000, "experimental": 5000}
    men = raw[raw["sex"] == "male"].groupby("group").size().to_dict()
    assert men == {"experimental": 1091, "control": 1273}
    leaks = raw[raw["leak_sites"] != "none"].groupby("group").size().to_dict()
    assert leaks == {"experimental": 182, "control": 818}


def test_module_entry_regenerates_the_bundled_file(tmp_path: Path) -> None:
    """``python -m kypho.synth --out FILE`` (what scripts/make_cohort.py runs)."""
    from kypho.synth.__main__ import main as module_main

    out = tmp_path / "cohort.csv"
    with pytest.raises(SystemExit) as info:
        module_main(["--out", str(out)])
    assert info.value.code == 0
    bundled = resources.files("kypho").joinpath("data", "cohort.csv").read_bytes()
    assert out.read_bytes() == bundled
