"""``kypho power`` through click's test runner."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest
from click.testing import CliRunner

from kypho.audit import paper_tables_path
from kypho.cli import main

matplotlib.use("Agg")


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["power", *args])
    return result.exit_code, result.output


def test_explicit_proportions_print_power_size_and_simulation(tmp_path: Path) -> None:
    figure = tmp_path / "curve.png"
    code, output = _run(
        "--kind",
        "proportions",
        "--p1",
        "0.164",
        "--p2",
        "0.036",
        "--n",
        "55",
        "--power",
        "0.8",
        "--sims",
        "400",
        "--seed",
        "2",
        "--figure",
        str(figure),
    )
    assert code == 0, output
    # Analytic power at 55 (R power.prop.test, strict: 0.6118163) and size for 0.8 (85.04 -> 86).
    assert "        55        55     0.612" in output
    assert "n per group 1 for power 0.8: 86 (analytic 85.04; group 2: 86)" in output
    assert "simulated power at 86:" in output
    assert figure.read_bytes().startswith(b"\x89PNG")


def test_from_audit_table_7_gives_grade_and_leakage_endpoints() -> None:
    code, output = _run("--from-audit", str(paper_tables_path()), "--table", "7", "--sims", "0")
    assert code == 0, output
    assert "Table 7: Distribution grade of bone cement — ordinal" in output
    assert "Table 7: Number of bone cement leakage (Leakage) — two proportions" in output
    assert "Table 3" not in output
    assert "simulated" not in output


def test_from_data_reads_a_dataset(tmp_path: Path) -> None:
    from kypho.analysis.demo import demo_cohort

    path = tmp_path / "cohort.csv"
    demo_cohort(110, seed=0).to_csv(path, index=False)
    code, output = _run("--from-data", str(path), "--row", "leakage", "--sims", "0")
    assert code == 0, output
    assert "Bone cement leakage — two proportions" in output
    assert "(observed n 55/55)" in output
    assert (
        "cohort.csv: 110 records read, 0 rejected by validation (see kypho validate), 110 eligible patients used."
        in output
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "means", "--mean1", "1"], "error: --kind means needs --sd1, --mean2, --sd2\n"),
        (
            [],
            "error: give --kind (proportions, means or ordinal) with its values, or --from-audit FILE, or --from-data FILE\n",
        ),
        (
            ["--kind", "ordinal", "--grades1", "1,2", "--grades2", "1,2,3"],
            "error: --grades1 and --grades2 must list the same number (at least 2) of non-negative counts or proportions (got '1,2' and '1,2,3')\n",
        ),
    ],
)
def test_bad_inputs_exit_with_a_message(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["power", *args])
    assert result.exit_code == 2
    assert result.output.endswith(message)


def test_ordinal_explicit_counts_and_method_choice() -> None:
    code, output = _run(
        "--kind",
        "ordinal",
        "--grades1",
        "4,7,10,34",
        "--grades2",
        "11,18,14,12",
        "--method",
        "noether",
        "--sims",
        "0",
        "--n",
        "30",
    )
    assert code == 0, output
    assert "Noether formula with tie-corrected null variance" in output


def test_long_simulations_show_progress() -> None:
    result = CliRunner().invoke(
        main,
        [
            "power",
            "--kind",
            "proportions",
            "--p1",
            "0.3",
            "--p2",
            "0.5",
            "--n",
            "20",
            "--sims",
            "20000",
            "--power",
            "0.8",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Simulating studies" in result.output
    assert "simulated power at" in result.output


def test_ratio_must_be_positive() -> None:
    code, output = _run("--kind", "proportions", "--p1", "0.3", "--p2", "0.5", "--ratio", "-1")
    assert code == 2
    assert output.endswith("error: ratio must be a finite number greater than 0 (got -1.0)\n")
