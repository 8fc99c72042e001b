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
    OKABE_ITO,
    plot_flow,
    plot_grades,
    plot_leakage,
    plot_measure,
    plot_radiographic,
    save_figure,
)
from kypho.schema import load_schema
from kypho.validate import validate


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
        assert line.get_color() == OKABE_ITO[g]
    # The error bar of the first group at the first timepoint: mean ± t(n−1)·SD/√n.
    cell = rows[0].cells[0]
    half = stats.t.ppf(0.975, cell.n - 1) * (cell.sd or 0.0) / math.sqrt(cell.n)
    segments = ax.containers[0].lines[2][0].get_segments()
    low, high = sorted(point[1] for point in segments[0])
    assert low == pytest.approx((cell.mean or 0.0) - half, rel=1e-9)
    assert high == pytest.approx((cell.mean or 0.0) + half, rel=1e-9)
    assert [t.get_text() for t in ax.get_xticklabels()] == [r.label for r in rows]


def test_radiographic_panels() -> None:
    axes = plot_radiographic(demo_result())
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
    ax = plot_grades(table)
    levels = [r for r in table.rows if r.kind == "level" and r.variable == "cement_grade"]
    assert len(ax.containers) == 4
    for container, level in zip(ax.containers, levels, strict=True):
        heights = [bar.get_height() for bar in container]
        assert heights == pytest.approx([c.percent for c in level.cells])
    tops = [sum(c[g].get_height() for c in ax.containers) for g in range(2)]
    assert tops == pytest.approx([100.0, 100.0])


def test_leakage_bars_are_counts() -> None:
    table = demo_result().table(7)
    ax = plot_leakage(table)
    rows = [r for r in table.rows if r.variable in ("leak_B", "leak_C", "leak_S", "leak_D")]
    for g, container in enumerate(ax.containers):
        assert [bar.get_height() for bar in container] == [r.cells[g].count for r in rows]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Type B", "Type C", "Type S", "Type D"]


def test_flow_boxes_hold_counts() -> None:
    flow = Flow(
        screened=120,
        excluded=10,
        included=110,
        first_reason={"inclusion_f": 7, "exclusion_a": 3},
        included_by_group={"experimental": 55, "control": 55},
        labels={"inclusion_f": "Age 60 years or older", "exclusion_a": "Other fractures"},
    )
    ax = plot_flow(flow, group_labels={"experimental": "Experimental", "control": "Control"})
    texts = [t.get_text() for t in ax.texts]
    assert "Patients screened\n(n = 120)" in texts
    assert "Included\n(n = 110)" in texts
    assert "Excluded (n = 10)\nAge 60 years or older: 7\nOther fractures: 3" in texts
    assert "Experimental\n(n = 55)" in texts
    assert "Control\n(n = 55)" in texts


def test_save_figure_png_and_svg(tmp_path: Path) -> None:
    figure = Figure(figsize=(2, 2))
    figure.subplots().plot([0, 1], [0, 1])
    png, svg = save_figure(figure, tmp_path, "line")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text
    assert "<dc:date>" not in text
