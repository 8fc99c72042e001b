"""The analysis engine: numbers in the tables against hand computation and kypho.stats."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kypho.analysis import Plan, RowSpec, TableSpec, analyze, load_plan
from kypho.errors import AnalysisError
from kypho.schema import load_schema
from kypho.stats import chi_square, independent_t, mann_whitney, paired_t

SCHEMA = load_schema()


def small_cohort() -> pd.DataFrame:
    """Three experimental and three control patients, small enough to compute by hand."""
    return pd.DataFrame(
        {
            "group": pd.Categorical(
                ["experimental"] * 3 + ["control"] * 3, categories=["experimental", "control"]
            ),
            "operation_time": [30.0, 32.0, 34.0, 28.0, 29.0, 33.0],
            "vas_pre": [8.0, 8.0, 9.0, 8.0, 7.0, 9.0],
            "vas_2h": [3.0, 4.0, 3.0, 3.0, 3.0, 4.0],
            "vas_4h": [1.0, 1.0, 2.0, 1.0, 2.0, 2.0],
            "vas_48h": [0.0, 0.5, 0.0, 0.0, 0.5, 0.5],
            "cement_grade": pd.Categorical(
                ["II", "III", "IV", "I", "II", "III"],
                categories=["I", "II", "III", "IV"],
                ordered=True,
            ),
            "sex": pd.Categorical(
                ["male", "female", "female", "female", "female", "female"],
                categories=["male", "female"],
            ),
        }
    )


def plan_of(*rows: RowSpec, smd: bool = False) -> Plan:
    return Plan(tables=(TableSpec(number=1, title="Test", rows=rows, smd=smd),))


def test_continuous_row_matches_hand_computation() -> None:
    """Operation time, experimental 30, 32, 34 vs control 28, 29, 33.

    By hand: means 32 and 30; SDs √((4+0+4)/2) = 2 and √((4+1+9)/2) = √7 = 2.6458;
    F = 4/7 does not reject equal variances, so Student's t: pooled variance
    (2·4 + 2·7)/4 = 5.5, SE = √(5.5·(1/3 + 1/3)) = 1.91485, t = 2/1.91485 = 1.04447,
    df = 4. R 4.x, ``t.test(c(30,32,34), c(28,29,33), var.equal=TRUE)`` prints
    t = 1.0444659, df = 4, p-value = 0.3552324, 95% CI −3.316487614 to 7.316487614;
    ``var.test`` P = 0.7272727273.
    """
    result = analyze(
        small_cohort(), SCHEMA, plan_of(RowSpec(kind="variable", name="operation_time"))
    )
    row = result.table(1).rows[0]
    exp, ctl = row.cells
    assert (exp.n, exp.mean, exp.sd) == (3, 32.0, 2.0)
    assert ctl.mean == pytest.approx(30.0)
    assert ctl.sd == pytest.approx(math.sqrt(7.0), rel=1e-12)
    comparison = row.comparison
    assert comparison is not None
    assert comparison.test == "student"
    assert comparison.symbol == "t"
    assert comparison.statistic == pytest.approx(1.0444659, rel=1e-7)
    assert comparison.dof == 4.0
    assert comparison.p_value == pytest.approx(0.3552324, rel=1e-6)
    assert comparison.difference == pytest.approx(2.0)
    assert comparison.ci_low == pytest.approx(-3.316487614, rel=1e-8)
    assert comparison.ci_high == pytest.approx(7.316487614, rel=1e-8)
    engine = independent_t([30.0, 32.0, 34.0], [28.0, 29.0, 33.0])
    assert comparison.statistic == pytest.approx(engine.statistic, rel=1e-12)
    assert comparison.p_value == pytest.approx(engine.p_value, rel=1e-12)
    assert comparison.result.variance_test.p_value == pytest.approx(0.7272727273, rel=1e-9)


def test_anova_row_is_student_t_squared() -> None:
    """For two groups the one-way ANOVA F is t² with df (1, n − 2) and the same P."""
    result = analyze(
        small_cohort(),
        SCHEMA,
        plan_of(RowSpec(kind="variable", name="operation_time", test="anova")),
    )
    comparison = result.table(1).rows[0].comparison
    assert comparison is not None
    assert comparison.test == "anova"
    assert comparison.statistic == pytest.approx(1.0444659**2, rel=1e-6)
    assert comparison.dof == (1.0, 4.0)
    assert comparison.p_value == pytest.approx(0.3552324, rel=1e-6)
    assert "anova" in result.tests_used


def test_measure_rows_with_paired_t_against_baseline() -> None:
    """VAS, experimental group, before 8, 8, 9 and 2 h after 3, 4, 3.

    By hand: changes −5, −4, −6; mean −5, SD 1, SE 1/√3, t = −5√3 = −8.660254,
    df = 2. R ``t.test(c(3,4,3), c(8,8,9), paired=TRUE)`` prints t = -8.660254,
    df = 2, p-value = 0.01307246, CI −7.484137712 to −2.515862288.
    """
    result = analyze(
        small_cohort(), SCHEMA, plan_of(RowSpec(kind="measure", name="vas", baseline="pre"))
    )
    table = result.table(1)
    labels = [r.label for r in table.rows]
    assert labels == [
        "VAS score (points)",
        "Preoperation",
        "2 h after operation",
        "4 h after operation",
        "48 h after operation",
    ]
    pre = table.rows[1]
    assert all(c.within is None for c in pre.cells)
    within = table.rows[2].cells[0].within
    assert within is not None
    assert within.statistic == pytest.approx(-8.660254, rel=1e-6)
    assert within.dof == 2.0
    assert within.p_value == pytest.approx(0.01307246, rel=1e-6)
    assert within.difference == pytest.approx(-5.0)
    assert within.ci_low == pytest.approx(-7.484137712, rel=1e-8)
    control = table.rows[2].cells[1].within
    engine = paired_t([8.0, 7.0, 9.0], [3.0, 3.0, 4.0])
    assert control is not None
    assert control.statistic == pytest.approx(engine.statistic, rel=1e-12)
    assert control.p_value == pytest.approx(engine.p_value, rel=1e-12)


def test_grade_row_mann_whitney_from_counts() -> None:
    """Grades II, III, IV vs I, II, III (scores 2, 3, 4 vs 1, 2, 3).

    By hand: U₁ = pairs where the experimental grade is higher, ties ½:
    grade 2 → 1 + ½, grade 3 → 2 + ½, grade 4 → 3; U₁ = 7, U₂ = 9 − 7 = 2, and
    SPSS reports U = min = 2. R ``wilcox.test(c(2,3,4), c(1,2,3), correct=FALSE,
    exact=FALSE)`` prints W = 7, p-value = 0.2611546.
    """
    result = analyze(small_cohort(), SCHEMA, plan_of(RowSpec(kind="variable", name="cement_grade")))
    table = result.table(1)
    header, *levels = table.rows
    assert header.kind == "header"
    assert [r.label for r in levels] == ["Grade I", "Grade II", "Grade III", "Grade IV"]
    assert [r.cells[0].count for r in levels] == [0, 1, 1, 1]
    assert [r.cells[1].count for r in levels] == [1, 1, 1, 0]
    assert levels[1].cells[0].percent == pytest.approx(100.0 / 3.0)
    comparison = header.comparison
    assert comparison is not None
    assert comparison.test == "mann-whitney"
    assert comparison.statistic == 2.0
    assert comparison.p_value == pytest.approx(0.2611546, rel=1e-6)
    engine = mann_whitney([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    assert comparison.z == pytest.approx(engine.z, rel=1e-12)


def test_ratio_row_counts_and_chi_square_engine() -> None:
    """Gender shown as male:female counts, 1:2 and 0:3, tested on the 2 × 2 table."""
    result = analyze(
        small_cohort(), SCHEMA, plan_of(RowSpec(kind="variable", name="sex", display="ratio"))
    )
    row = result.table(1).rows[0]
    assert [c.counts for c in row.cells] == [(1, 2), (0, 3)]
    engine = chi_square(np.array([[1, 2], [0, 3]]))
    assert row.comparison is not None
    assert row.comparison.p_value == pytest.approx(engine.p_value, rel=1e-12)
    assert row.comparison.test == str(engine.tests)


def test_missing_values_are_counted_per_group() -> None:
    data = small_cohort()
    data.loc[1, "operation_time"] = np.nan
    result = analyze(data, SCHEMA, plan_of(RowSpec(kind="variable", name="operation_time")))
    row = result.table(1).rows[0]
    assert [(c.n, c.n_missing) for c in row.cells] == [(2, 1), (3, 0)]
    assert row.cells[0].mean == 32.0
    assert row.any_missing
    assert any("n (missing)" in note for note in result.table(1).footnotes)


def test_degenerate_count_row_is_reported_not_computed() -> None:
    data = small_cohort()
    data["pain"] = pd.array([True] * 6, dtype="boolean")
    result = analyze(data, SCHEMA, plan_of(RowSpec(kind="variable", name="pain")))
    comparison = result.table(1).rows[0].comparison
    assert comparison is not None
    assert comparison.test == "not-computed"
    assert comparison.p_value is None
    assert comparison.reason == (
        "every patient with a value falls in one category, so the groups cannot differ"
    )
    assert result.table(1).footnotes[-1] == (
        "Pain: no test could be computed: every patient with a value falls in one category, "
        "so the groups cannot differ."
    )


def test_input_data_not_modified() -> None:
    data = small_cohort()
    before = data.copy(deep=True)
    analyze(data, SCHEMA, plan_of(RowSpec(kind="measure", name="vas", baseline="pre")))
    pd.testing.assert_frame_equal(data, before)


def test_missing_column_names_column_and_fix() -> None:
    data = small_cohort().drop(columns=["operation_time"])
    with pytest.raises(AnalysisError) as info:
        analyze(data, SCHEMA, plan_of(RowSpec(kind="variable", name="operation_time")))
    assert str(info.value) == (
        "the data have no column 'operation_time', which the analysis plan needs for table 1; "
        "derive the measures first (kypho.measures.derive) or remove the row from the plan"
    )


def test_swapping_group_labels_flips_difference_keeps_p() -> None:
    data = small_cohort()
    swapped = data.copy()
    swapped["group"] = pd.Categorical(
        np.where(data["group"] == "experimental", "control", "experimental"),
        categories=["experimental", "control"],
    )
    plan = plan_of(RowSpec(kind="variable", name="operation_time"))
    a = analyze(data, SCHEMA, plan).table(1).rows[0].comparison
    b = analyze(swapped, SCHEMA, plan).table(1).rows[0].comparison
    assert a is not None
    assert b is not None
    assert b.difference == pytest.approx(-(a.difference or 0.0))
    assert b.p_value == pytest.approx(a.p_value)


def test_default_plan_on_demo_cohort_has_seven_tables() -> None:
    from kypho.analysis.demo import demo_cohort
    from kypho.measures import derive
    from kypho.validate import validate

    data = derive(validate(demo_cohort(60, seed=3)).data, SCHEMA)
    result = analyze(data, SCHEMA, load_plan())
    assert [t.number for t in result.tables] == [1, 2, 3, 4, 5, 6, 7]
    assert result.n_by_group == (30, 30)
    table1 = result.table(1)
    assert table1.show_smd
    age = table1.row("Age (yr)")
    expected_smd = (
        data.loc[data.group == "experimental", "age"].astype(float).mean()
        - data.loc[data.group == "control", "age"].astype(float).mean()
    ) / math.sqrt(
        (
            data.loc[data.group == "experimental", "age"].astype(float).var()
            + data.loc[data.group == "control", "age"].astype(float).var()
        )
        / 2
    )
    assert age.smd == pytest.approx(expected_smd, rel=1e-9)
    for table in result.tables:
        for row in table.rows:
            if row.comparison is not None and row.comparison.p_value is not None:
                assert 0.0 <= row.comparison.p_value <= 1.0


def test_unequal_variances_use_t_prime_and_say_why() -> None:
    """SDs 30.3 vs 0.19 (variance ratio ≈ 25 000): the F test rejects, so Welch's t′."""
    data = pd.DataFrame(
        {
            "group": ["experimental"] * 10 + ["control"] * 10,
            "operation_time": [float(v) for v in range(10, 110, 10)]
            + [50.0 + 0.1 * (i % 3) for i in range(10)],
        }
    )
    result = analyze(data, SCHEMA, plan_of(RowSpec(kind="variable", name="operation_time")))
    table = result.table(1)
    comparison = table.rows[0].comparison
    assert comparison is not None
    assert comparison.test == "welch"
    assert comparison.symbol == "t′"
    engine = independent_t(data.operation_time[:10].to_numpy(), data.operation_time[10:].to_numpy())
    assert comparison.dof == pytest.approx(engine.dof, rel=1e-12)
    assert comparison.reason.startswith("F test of variances: P = ")
    # The footnote words the choice for the reader: P as the report prints it.
    assert (
        "Operation time (min): F test of variances: P < 0.001, below α, so the variances "
        "differ and Welch t′ (unequal variances) was used." in table.footnotes
    )
