"""What the figures drew: the data in the axes must be the numbers of the tables."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy import stats

from kypho.analysis import AnalysisResult, analyze, load_plan
from kypho.analysis.demo import demo_cohort
from kypho.eligibility import Flow
from kypho.measures import derive
from kypho.report.figures import (
    plot_flow,
    plot_grades,
    plot_leakage,
    plot_measure,
    plot_radiographic,
    save_figure,
)
from kypho.report.style import GROUP_COLOURS, text_outside
from kypho.schema import load_schema
from kypho.validate import validate

PANELS = ((4, "ant_height_ratio"), (5, "mid_height_ratio"), (6, "wedge_angle"))
LEAKS = ("leak_B", "leak_C", "leak_S", "leak_D")


@cache
def demo_result() -> AnalysisResult:
    schema = load_schema()
    data = derive(validate(demo_cohort(80, seed=11)).data, schema)
    return analyze(data, schema, load_plan())


def test_vas_lines_are_table_means_with_ci() -> None:
    result = demo_result()
    table = result.table(3)
    ax = plot_measure(table, "vas")
    rows = [r for r in table.rows if r.timepoint is not None]
    assert [c.get_label() for c in ax.containers] == list(table.columns)
    for g, container in enumerate(ax.containers):
        line = container.lines[0]
        expected = [r.cells[g].mean for r in rows]
        np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float), expected, rtol=1e-12)
        assert line.get_color() == GROUP_COLOURS[g]
    # The error bar of the first group at the first timepoint: mean ± t(n−1)·SD/√n.
    cell = rows[0].cells[0]
    half = stats.t.ppf(0.975, cell.n - 1) * (cell.sd or 0.0) / math.sqrt(cell.n)
    segments = ax.containers[0].lines[2][0].get_segments()
    low, high = sorted(point[1] for point in segments[0])
    assert low == pytest.approx((cell.mean or 0.0) - half, rel=1e-9)
    assert high == pytest.approx((cell.mean or 0.0) + half, rel=1e-9)
    assert [t.get_text() for t in ax.get_xticklabels()] == [r.label for r in rows]


def test_radiographic_panels() -> None:
    axes = plot_radiographic(demo_result(), PANELS)
    assert len(axes) == 3
    assert axes[0].get_figure() is axes[2].get_figure()
    titles = [ax.get_title().replace("\n", " ") for ax in axes]
    assert titles == [
        "Ratio of anterior height of injured vertebral body",
        "Ratio of middle height of injured vertebral body",
        "Wedge angle of injured vertebra",
    ]
    assert axes[1].get_legend() is None


def test_grade_bars_are_group_percentages() -> None:
    table = demo_result().table(7)
    ax = plot_grades(table, "cement_grade")
    levels = [r for r in table.rows if r.kind == "level" and r.variable == "cement_grade"]
    assert len(ax.containers) == 4
    for container, level in zip(ax.containers, levels, strict=True):
        heights = [bar.get_height() for bar in container]
        assert heights == pytest.approx([c.percent for c in level.cells])
    tops = [sum(c[g].get_height() for c in ax.containers) for g in range(2)]
    assert tops == pytest.approx([100.0, 100.0])


def test_leakage_bars_are_counts() -> None:
    table = demo_result().table(7)
    ax = plot_leakage(table, LEAKS)
    rows = [r for r in table.rows if r.variable in LEAKS]
    for g, container in enumerate(ax.containers):
        assert [bar.get_height() for bar in container] == [r.cells[g].count for r in rows]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Type B", "Type C", "Type S", "Type D"]


def test_flow_boxes_hold_counts_and_every_reason_in_words() -> None:
    flow = Flow(
        screened=120,
        excluded=10,
        included=110,
        first_reason={"inclusion_f": 7, "inclusion_c:unknown": 2, "exclusion_a": 1},
        included_by_group={"experimental": 55, "control": 55},
        labels={"inclusion_f": "inclusion (f) Age 60 years or older"},
        reasons={
            "inclusion_f": "Younger than 60 years",
            "inclusion_c:unknown": "BMD T-score not recorded",
            "exclusion_a": "Other fractures",
        },
        not_assessed=["inclusion_f"],
    )
    ax = plot_flow(
        flow,
        group_labels={"experimental": "Experimental", "control": "Control"},
        missing={"control": [("VAS score, 48 h", 2)]},
    )
    texts = [t.get_text() for t in ax.texts if t.get_text()]  # arrows are empty annotations
    n = "(n\u00a0=\u00a0{})".format
    assert texts == [
        "Patients screened\n(n = 120)",
        f"Excluded (n = 10)\n\u2022 Younger than 60 years {n(7)}\n"
        f"\u2022 BMD T-score not recorded {n(2)}\n\u2022 Other fractures {n(1)}",
        "Included\n(n = 110)",
        "Experimental\n(n = 55)",
        "Control\n(n = 55)",
        "Analysed (n = 55)\nNo values missing",
        f"Analysed (n = 55)\nValues missing:\n\u2022 VAS score, 48 h {n(2)}",
        "Not assessed (column absent from the data): inclusion (f) Age 60\nyears or older.",
    ]
    figure = ax.get_figure()
    assert isinstance(figure, Figure)
    assert figure.get_figwidth() == pytest.approx(3.5)
    assert text_outside(figure) == []


def test_flow_wraps_long_reasons_inside_the_box() -> None:
    reasons = {f"exclusion_{i}": "A very long reason for exclusion " * 3 for i in range(12)}
    flow = Flow(
        screened=200,
        excluded=60,
        included=140,
        first_reason={key: 5 for key in reasons},
        included_by_group={"experimental": 70, "control": 70},
        reasons=reasons,
    )
    ax = plot_flow(flow)
    excluded = ax.texts[1].get_text().split("\n")
    assert len(excluded) > 1 + 12  # every reason, wrapped over several lines
    assert not any("more" in line for line in excluded)
    figure = ax.get_figure()
    assert isinstance(figure, Figure)
    assert text_outside(figure) == []
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    box = ax.patches[1].get_window_extent(renderer)
    text = ax.texts[1].get_window_extent(renderer)
    assert box.x0 <= text.x0
    assert text.x1 <= box.x1
    assert box.y0 <= text.y0
    assert text.y1 <= box.y1


def test_save_figure_png_and_svg(tmp_path: Path) -> None:
    figure = Figure(figsize=(2, 2))
    figure.subplots().plot([0, 1], [0, 1])
    png, svg = save_figure(figure, tmp_path, "line")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text
    assert "<dc:date>" not in text


def test_every_figure_of_the_plan_is_drawn_captioned_and_unclipped() -> None:
    from kypho.report.figure_plan import draw_figures

    result = demo_result()
    drawn = draw_figures(result)
    assert drawn.notes == ()
    assert [f.name for f in drawn.figures] == [
        "figure1_vas",
        "figure2_radiographic",
        "figure3_cement_grade",
        "figure4_leakage",
    ]
    assert [f.number for f in drawn.figures] == [1, 2, 3, 4]
    assert drawn.figures[0].full_caption == (
        "Figure 1. VAS score over time by group (mean with 95% CI)."
    )
    assert [f.after_table for f in drawn.figures] == [3, 6, 7, 7]
    for made in drawn.figures:
        assert text_outside(made.figure) == [], made.name


def test_a_declared_figure_that_cannot_be_drawn_is_a_note_not_a_silent_gap() -> None:
    from dataclasses import replace

    from kypho.report.figure_plan import draw_figures

    result = demo_result()
    renamed = [dict(f) for f in result.figures]
    renamed[0]["measure"] = "pain_score"
    drawn = draw_figures(replace(result, figures=tuple(renamed)))
    assert "figure1_vas" not in [f.name for f in drawn.figures]
    assert drawn.notes == (
        "Figure 'figure1_vas' of the plan was not drawn: table 3 shows no measure 'pain_score'.",
    )


def test_a_malformed_figure_declaration_is_an_error() -> None:
    from kypho.errors import AnalysisError
    from kypho.report.figure_plan import figure_specs

    with pytest.raises(AnalysisError, match="figure f: needs a caption"):
        figure_specs([{"name": "f", "kind": "measure", "table": 3, "measure": "vas"}])
    with pytest.raises(AnalysisError, match="kind must be one of measure, measures, grades"):
        figure_specs([{"name": "f", "kind": "pie", "caption": "x"}])


def test_save_figure_writes_a_reproducible_pdf_when_asked(tmp_path: Path) -> None:
    figure = Figure(figsize=(2, 2))
    figure.subplots().plot([0, 1], [0, 1])
    first = save_figure(figure, tmp_path / "a", "line", pdf=True)
    second = save_figure(figure, tmp_path / "b", "line", pdf=True)
    assert [p.name for p in first] == ["line.png", "line.svg", "line.pdf"]
    assert first[2].read_bytes()[:5] == b"%PDF-"
    assert first[2].read_bytes() == second[2].read_bytes()
    assert [p.name for p in save_figure(figure, tmp_path / "c", "line")] == ["line.png", "line.svg"]
