"""The "Beyond the paper" report section on the demo cohort."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from kypho.analysis.demo import demo_cohort
from kypho.beyond import report_section
from kypho.measures import derive
from kypho.schema import load_schema
from kypho.validate import validate


@pytest.fixture(scope="module")
def section() -> tuple[str, dict[str, bytes], pd.DataFrame]:
    schema = load_schema()
    data = derive(validate(demo_cohort(110, seed=0)).data, schema)
    fragment, figures, captions = report_section(data, schema, sims=500)
    assert list(captions) == list(figures)
    assert all(captions[name].startswith("Figure B") for name in figures)
    return fragment, figures, data


def test_section_holds_the_three_analyses_with_explanations(
    section: tuple[str, dict[str, bytes], pd.DataFrame],
) -> None:
    fragment, _, _ = section
    headings = re.findall(r"<h3>(.*?)</h3>", fragment)
    assert headings == [
        "Sample size for the next study",
        "Trajectories over time (linear mixed model)",
        "Confounding: propensity-score analyses",
    ]
    for words in ("Assumptions:", "compound symmetry", "unmeasured", "Monte Carlo standard error"):
        assert words in fragment
    assert fragment.count('<table class="beyond">') == 1 + 4 + 3


def test_power_table_reports_the_observed_leakage(
    section: tuple[str, dict[str, bytes], pd.DataFrame],
) -> None:
    fragment, _, data = section
    exp = data["group"].astype(str) == "experimental"
    leak = data["leakage"].astype(bool)
    e, c = (f"{100 * leak[m].mean():.1f}%" for m in (exp, ~exp))
    observed = f"Experimental group {e} vs Control group {c}"
    assert f"<td>Bone cement leakage</td><td>{observed}</td><td>55 / 55</td>" in fragment
    # Levels, not codes, and typographic minus signs in numbers.
    assert "sex=" not in fragment
    assert not re.search(r"(?<![\w-])-\d", fragment)


def test_figures_are_svg_and_referred_to(
    section: tuple[str, dict[str, bytes], pd.DataFrame],
) -> None:
    fragment, figures, _ = section
    assert list(figures) == [
        "figure_b1_power_curves.svg",
        "figure_b2_trajectory_vas.svg",
        "figure_b3_trajectory_ant_height_ratio.svg",
        "figure_b4_trajectory_mid_height_ratio.svg",
        "figure_b5_trajectory_wedge_angle.svg",
        "figure_b6_love_plot.svg",
    ]
    for name, payload in figures.items():
        assert b"<svg" in payload, name
        number = name.split("_")[1].upper()
        assert f"Figure {number} (below)" in fragment


def test_a_missing_analysis_is_explained_not_fatal() -> None:
    schema = load_schema()
    data = derive(validate(demo_cohort(40, seed=1)).data, schema).drop(columns=["leakage"])
    fragment, figures, _ = report_section(data, schema, sims=200)
    assert (
        "Not computed: the data lack the columns [&#x27;leakage&#x27;] needed for the propensity analysis"
        in fragment
    )
    assert "figure_b6_love_plot.svg" not in figures


def test_a_failing_part_leaves_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    from kypho.beyond import report

    def broken(*args: object, **kwargs: object) -> object:
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(report, "adjust_for_confounding", broken)
    schema = load_schema()
    data = derive(validate(demo_cohort(40, seed=2)).data, schema)
    fragment, figures, _ = report_section(data, schema, sims=100)
    assert "<p>This analysis could not be computed: LinAlgError: Singular matrix</p>" in fragment
    assert "figure_b2_trajectory_vas.svg" in figures


def test_beyond_figures_share_group_colours_and_clip_nothing() -> None:
    from functools import partial

    from kypho.beyond import report
    from kypho.beyond.confounding import adjust_for_confounding, plot_love
    from kypho.beyond.trajectories import fit_trajectory, plot_trajectory
    from kypho.report.style import GROUP_COLOURS, text_outside

    schema = load_schema()
    data = derive(validate(demo_cohort(110, seed=0)).data, schema)
    trajectory = fit_trajectory(data, schema, "ant_height_ratio")
    figure = report._figure(
        partial(plot_trajectory, trajectory),
        (5.0, 2.8),
        partial(report._trajectory_style, schema=schema, measure=trajectory.measure),
    )
    ax = figure.axes[0]
    colours = {c.get_label(): c.lines[0].get_color() for c in ax.containers}
    assert colours == {"Experimental group": GROUP_COLOURS[0], "Control group": GROUP_COLOURS[1]}
    assert ax.get_title() == ""
    assert ax.get_ylabel() == "Model-based mean (%)"
    assert text_outside(figure) == []
    balance = adjust_for_confounding(data, schema)
    labels = [report._covariate(c, schema) for c in balance.balance["covariate"]]
    love = report._figure(partial(plot_love, balance), (5.6, 2.5))
    assert text_outside(love) == []
    # The power curves too, at the section's size, with their legend.
    from kypho.analysis import load_plan
    from kypho.beyond.planning import endpoints_from_data, plot_power_curves

    main = [e for e in endpoints_from_data(data, schema, load_plan()) if e.kind != "means"][:3]
    curves = report._figure(
        partial(plot_power_curves, main, sizes=[2, 150], simulated={}, target=0.8),
        (report.DOUBLE_COLUMN_IN, 3.2),
        lambda ax: ax.legend(fontsize=report.SMALL_PT, frameon=False, loc="lower right"),
    )
    assert text_outside(curves) == []
    assert [type(f.get_layout_engine()).__name__ for f in (figure, love, curves)] == [
        "TightLayoutEngine"
    ] * 3
    assert "Gender: Female" in labels


def test_without_figures_the_section_keeps_its_tables_and_text(
    section: tuple[str, dict[str, bytes], pd.DataFrame],
) -> None:
    """``figures=False`` (``kypho analyze --no-figures``): the same section, no figure."""
    with_figures, _, data = section
    fragment, figures, captions = report_section(data, load_schema(), sims=500, figures=False)
    assert figures == {}
    assert captions == {}
    assert "Figure B" not in fragment
    # The only difference: the paragraphs that point to a figure below.
    pointers = re.findall(r"\n<p>Figure B\d \(below\)[^\n]*</p>", with_figures)
    assert len(pointers) == 6
    expected = with_figures
    for pointer in pointers:
        expected = expected.replace(pointer, "", 1)
    assert fragment == expected


def test_propensity_scores_in_a_second_process_give_the_same_section(
    section: tuple[str, dict[str, bytes], pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large cohort's propensity part runs in a forked process: the same bytes."""
    from kypho.beyond import report

    with_figures, figures, data = section
    monkeypatch.setattr(report, "PARALLEL_FROM", 0)
    fragment, beside, _ = report_section(data, load_schema(), sims=500)
    assert fragment == with_figures
    assert list(beside) == list(figures)
