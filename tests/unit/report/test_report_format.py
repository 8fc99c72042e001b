"""Formatting of numbers and the one table layout every renderer draws."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kypho.report
from kypho.analysis import Comparison, Plan, RowSpec, TableSpec, analyze
from kypho.report.format import (
    format_ci,
    format_number,
    format_p,
    format_statistic,
    layout,
    p_phrase,
)
from kypho.schema import load_schema


def test_public_names_match_all() -> None:
    modules = {
        "document",
        "figure_plan",
        "figures",
        "format",
        "mechanism",
        "render",
        "sections",
        "style",
        "table1",
        "text",
        "word",
    }
    public = [n for n in dir(kypho.report) if not n.startswith("_") and n not in modules]
    assert sorted(kypho.report.__all__) == kypho.report.__all__
    assert [n for n in sorted(public) if n != "annotations"] == kypho.report.__all__


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0, "<0.001"),
        (0.00099, "<0.001"),
        (0.001, "0.001"),
        (0.0483, "0.048"),
        (0.5, "0.500"),
        (1.0, "1.000"),
        (1.0 + 1e-12, "1.000"),
        (-1e-15, "<0.001"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_format_p(p: float | None, text: str) -> None:
    assert format_p(p) == text


@given(st.floats(min_value=-1e-6, max_value=1 + 1e-6, allow_nan=False))
def test_formatted_p_is_never_outside_unit_interval(p: float) -> None:
    text = format_p(p)
    value = float(text.lstrip("<"))
    assert 0.0 <= value <= 1.0


def test_p_phrase_and_numbers() -> None:
    assert p_phrase(0.00001) == "P < 0.001"
    assert p_phrase(0.0456) == "P = 0.046"
    assert format_number(-0.001, 2) == "0.00"
    assert format_number(-2.345, 1) == "\u22122.3"


def comparison(**fields: object) -> Comparison:
    base: dict[str, object] = {
        "test": "student",
        "symbol": "t",
        "statistic": 1.2345,
        "dof": 108.0,
        "p_value": 0.22,
        "method": "Student t",
        "reason": "",
    }
    base.update(fields)
    return Comparison(**base)  # type: ignore[arg-type]


def test_format_statistic_each_kind() -> None:
    assert format_statistic(comparison()) == "t = 1.23 (108)"
    assert format_statistic(comparison(test="welch", symbol="t′", dof=95.96)) == "t′ = 1.23 (96.0)"
    assert format_statistic(comparison(test="anova", symbol="F", dof=(1.0, 108.0))) == (
        "F = 1.23 (1, 108)"
    )
    assert format_statistic(comparison(test="pearson", symbol="χ²", dof=1.0)) == "χ² = 1.23 (1)"
    assert format_statistic(
        comparison(test="mann-whitney", symbol="U", statistic=392.0, dof=None, z=-2.91)
    ) == ("U = 392.0, Z = \u22122.91")
    assert format_statistic(comparison(test="fisher", symbol="", statistic=None, dof=None)) == (
        "Fisher exact"
    )
    assert format_statistic(comparison(test="not-computed", statistic=None, p_value=None)) == "—"
    assert format_statistic(None) == ""


def test_format_ci() -> None:
    c = comparison(difference=1.615, ci_low=-0.39, ci_high=3.62)
    assert format_ci(c, 2) == "1.61 (\u22120.39 to 3.62)"
    assert format_ci(comparison(), 2) == ""


def small_table() -> TableSpec:
    return TableSpec(
        number=3,
        title="VAS",
        rows=(RowSpec(kind="measure", name="vas", baseline="pre"),),
    )


def test_layout_of_measure_table() -> None:
    """Columns, the paper's '*' and the paired t row under each later timepoint."""
    data = pd.DataFrame(
        {
            "group": ["experimental"] * 3 + ["control"] * 3,
            "vas_pre": [8.0, 8.0, 9.0, 8.0, 7.0, 9.0],
            "vas_2h": [3.0, 4.0, 3.0, 3.0, 3.0, 4.0],
            "vas_4h": [1.0, 1.0, 2.0, 1.0, 2.0, None],
            "vas_48h": [0.0, 0.5, 0.0, 0.0, 0.5, 0.5],
        }
    )
    result = analyze(data, load_schema(), Plan(tables=(small_table(),)))
    grid = layout(result.table(3))
    assert grid.caption == "Table 3. VAS"
    assert grid.header == (
        "",
        "Experimental group",
        "Control group",
        "Difference (95% CI)",
        "Statistic",
        "P",
    )
    kinds = [r.kind for r in grid.rows]
    assert kinds == [
        "section",
        "data",
        "data",
        "within",
        "data",
        "within",
        "missing",
        "data",
        "within",
    ]
    two_hours = grid.rows[2].cells
    assert two_hours[0] == "2 h after operation"
    assert two_hours[1] == "3.33 ± 0.58*"
    within = grid.rows[3].cells
    assert within[1] == "t = \u22128.66 (2), P = 0.013"
    assert grid.rows[6].cells[:3] == ("n (missing)", "3 (0)", "2 (1)")
    assert all(len(r.cells) == len(grid.header) for r in grid.rows)


def test_one_p_style_for_the_plan_and_the_formatter() -> None:
    from kypho.analysis.plan import P_STYLES as PLAN_STYLES
    from kypho.report.format import P_STYLES, number_style

    assert PLAN_STYLES == P_STYLES
    with number_style("apa"):
        assert (format_p(0.0004), format_p(0.0483), format_p(1.0)) == ("<.001", ".048", "1.000")
        assert p_phrase(0.0004) == "P < .001"
    assert p_phrase(0.0004) == "P < 0.001"
    with pytest.raises(ValueError, match="p_style must be one of"), number_style("nejm"):
        pass


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_numbers_never_print_exponents_or_hyphen_minus(value: float) -> None:
    from kypho.report.format import format_estimate

    for text in (format_number(value, 2), format_estimate(value)):
        assert "e" not in text.lower()
        assert "-" not in text
