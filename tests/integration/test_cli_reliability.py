"""``kypho reliability`` on a CSV of repeated reads (through the CLI runner)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from kypho.cli import main
from kypho.radiograph.agreement import reliability
from kypho.radiograph.report import reliability_section
from kypho.report.document import NO_FIGURES

READS = """subject,rater,read,ant_height_injured_pre,wedge_angle_pre,grade
P-1,A,1,17.2,12.1,I
P-1,A,2,17.5,12.9,I
P-1,B,1,17.9,13.0,II
P-2,A,1,21.0,15.4,II
P-2,A,2,20.6,14.8,II
P-2,B,1,21.4,15.0,II
P-3,A,1,15.1,9.8,III
P-3,A,2,15.6,10.6,III
P-3,B,1,15.0,10.9,III
P-4,A,1,23.4,20.2,IV
P-4,A,2,23.1,19.1,III
P-4,B,1,24.0,19.5,IV
P-5,A,1,19.8,17.5,II
P-5,A,2,20.3,18.2,II
P-5,B,1,20.5,17.0,I
"""


def test_reliability_prints_writes_and_plots(tmp_path: Path) -> None:
    src = tmp_path / "reads.csv"
    src.write_text(READS, encoding="utf-8")
    before = src.read_bytes()
    out, figs = tmp_path / "rel.csv", tmp_path / "figs"
    result = CliRunner().invoke(
        main,
        [
            "reliability",
            str(src),
            "--out",
            str(out),
            "--figures",
            str(figs),
            "--scale",
            "grade=I,II,III,IV",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "15 reads of 5 subjects by 2 rater(s); 95% CIs" in result.output
    assert "Anterior height of injured vertebra" in result.output
    assert "ICC(A,1)" in result.output
    assert "weighted kappa (quadratic)" in result.output
    table = pd.read_csv(out)
    assert set(table["comparison"]) == {"inter-rater", "intra-rater (A)"}
    assert len(list(figs.glob("bland_altman_*.png"))) == 4  # 2 measures × (inter, intra A)
    assert src.read_bytes() == before


def test_reliability_refuses_an_unknown_grade_scale(tmp_path: Path) -> None:
    src = tmp_path / "reads.csv"
    src.write_text(READS, encoding="utf-8")
    result = CliRunner().invoke(main, ["reliability", str(src)])
    assert result.exit_code == 2
    assert result.output == (
        "error: column 'grade' holds text ('I') where a number was expected; if it is a grade, "
        "give its grades in order (an ordinal variable of the schema, or --scale "
        "grade=GRADE1,GRADE2,... on the command line)\n"
    )


def test_analyze_adds_the_measurement_reliability_section(tmp_path: Path) -> None:
    from kypho.analysis.demo import demo_cohort

    data = tmp_path / "cohort.csv"
    demo_cohort(40, seed=3).to_csv(data, index=False)
    reads = tmp_path / "reads.csv"
    reads.write_text(READS, encoding="utf-8")
    out = tmp_path / "report"
    args = ["analyze", str(data), "--out", str(out), "--format", "html", "--no-figures"]
    result = CliRunner().invoke(main, [*args, "--reliability", str(reads)], catch_exceptions=False)
    assert result.exit_code == 2  # the 'grade' column has no scale the schema knows
    assert "column 'grade' holds text" in result.output
    plain = tmp_path / "reads_plain.csv"
    plain.write_text(
        "\n".join(",".join(line.split(",")[:5]) for line in READS.splitlines()) + "\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, [*args, "--reliability", str(plain)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="reliability">Measurement reliability</h2>' in page
    assert "two-way random effects, absolute agreement, single rater" in page
    assert "Anterior height of injured vertebra" in page
    # --no-figures means no figures anywhere, this section's Bland–Altman plots too.
    assert "<svg" not in page
    assert NO_FIGURES in page
    # The plots the section draws when figures are wanted: 2 measures × 2 comparisons.
    reads_frame = pd.read_csv(plain, dtype=str, keep_default_na=False, na_values=[""])
    fragment, figures = reliability_section(reliability(reads_frame))
    assert len(figures) >= 4
    # Without figures nothing is drawn, and the text is the same.
    assert reliability_section(reliability(reads_frame), figures=False) == (fragment, {})
    assert all(name.startswith("bland_altman_") and b"<svg" in svg for name, svg in figures.items())


def test_reliability_figures_follow_the_output_folder_policy(tmp_path: Path) -> None:
    """A rerun replaces its own plots; a plot of the user's with the same name is refused."""
    src = tmp_path / "reads.csv"
    src.write_text(READS, encoding="utf-8")
    figs = tmp_path / "figs"
    args = ["reliability", str(src), "--figures", str(figs), "--scale", "grade=I,II,III,IV"]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert CliRunner().invoke(main, args).exit_code == 0  # kypho's own plots: replaced
    plot = sorted(figs.glob("bland_altman_*.png"))[0]
    plot.write_bytes(b"my own plot")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "kypho will not replace" in result.stderr
    assert plot.read_bytes() == b"my own plot"
