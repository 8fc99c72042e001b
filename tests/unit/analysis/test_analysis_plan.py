"""The declared analysis plan: the built-in one, user additions, and its error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

import kypho.analysis
from kypho.analysis import RowSpec, load_plan
from kypho.analysis.plan import measure_timepoints
from kypho.errors import AnalysisError
from kypho.schema import load_schema

SCHEMA = load_schema()


def test_public_names_match_all() -> None:
    public = sorted(n for n in dir(kypho.analysis) if not n.startswith("_"))
    modules = {"aggregate", "demo", "engine", "model", "plan"}
    assert sorted(kypho.analysis.__all__) == kypho.analysis.__all__
    assert [n for n in public if n not in modules and n != "annotations"] == kypho.analysis.__all__


def test_builtin_plan_follows_the_paper() -> None:
    plan = load_plan()
    plan.check(SCHEMA)
    assert [t.number for t in plan.tables] == [1, 2, 3, 4, 5, 6, 7]
    assert (plan.alpha, plan.confidence, plan.t_prime, plan.within) == (
        0.05,
        0.95,
        "welch",
        "paired-t",
    )
    assert plan.table(1).smd
    age = next(r for r in plan.table(1).rows if r.name == "age")
    assert age.test == "anova"
    vas = plan.table(3).rows[0]
    assert (vas.kind, vas.name, vas.baseline) == ("measure", "vas", "pre")
    assert measure_timepoints(vas, SCHEMA) == ("pre", "2h", "4h", "48h")


def test_user_plan_adds_row_timepoint_and_table(tmp_path: Path) -> None:
    user = tmp_path / "plan.yaml"
    user.write_text(
        "alpha: 0.01\n"
        "add_rows:\n"
        "  - {table: 2, rows: [{variable: followup_months}]}\n"
        "tables:\n"
        "  - {number: 8, title: Genant grade, rows: [{variable: genant_grade_last}]}\n",
        encoding="utf-8",
    )
    plan = load_plan(extensions=[user])
    plan.check(SCHEMA)
    assert plan.alpha == 0.01
    assert plan.table(2).rows[-1] == RowSpec(kind="variable", name="followup_months")
    assert plan.table(8).title == "Genant grade"
    assert plan.source == f"kypho/data/analysis.yaml + {user}"


def test_timepoint_added_to_schema_and_plan_appears() -> None:
    schema = load_schema(
        extensions=[
            {
                "timepoints": {"m12": {"label": "12 months", "order": 6}},
                "extend_repeated": {"vas": ["m12"]},
            }
        ]
    )
    plan = load_plan(extensions=[{"extend_timepoints": {"vas": ["m12"]}}])
    plan.check(schema)
    vas = plan.table(3).rows[0]
    assert measure_timepoints(vas, schema) == ("pre", "2h", "4h", "48h", "m12")
    # A schema extension alone already shows the new timepoint.
    assert measure_timepoints(load_plan().table(3).rows[0], schema)[-1] == "m12"


def test_unknown_variable_is_named() -> None:
    plan = load_plan(extensions=[{"add_rows": [{"table": 2, "rows": [{"variable": "bmi"}]}]}])
    with pytest.raises(AnalysisError) as info:
        plan.check(SCHEMA)
    assert str(info.value) == "table 2: variable 'bmi' is not in the study schema"


def test_unknown_timepoint_is_named() -> None:
    plan = load_plan(extensions=[{"extend_timepoints": {"vas": ["m12"]}}])
    with pytest.raises(AnalysisError) as info:
        plan.check(SCHEMA)
    assert str(info.value) == (
        "table 3: measure 'vas' has no timepoint 'm12' in the schema; its timepoints are "
        "pre, 2h, 4h, 48h"
    )


def test_wrong_test_for_type_is_named() -> None:
    plan = load_plan(
        extensions=[{"add_rows": [{"table": 2, "rows": [{"variable": "sex", "test": "t"}]}]}]
    )
    with pytest.raises(AnalysisError) as info:
        plan.check(SCHEMA)
    assert str(info.value) == (
        "table 2: test 't' does not apply to category variable 'sex'; allowed: 'chi-square', 'none'"
    )


def test_existing_table_number_is_refused() -> None:
    with pytest.raises(AnalysisError) as info:
        load_plan(extensions=[{"tables": [{"number": 3, "title": "x", "rows": [{"kind": "n"}]}]}])
    assert str(info.value) == (
        "plan extension: table 3 already exists; use add_rows to add rows to it, or give the "
        "new table an unused number"
    )


def test_bad_alpha_and_unknown_key(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError) as info:
        load_plan(extensions=[{"alpha": 5}])
    assert str(info.value) == (
        "kypho/data/analysis.yaml + plan extension: alpha must be a number strictly between "
        "0 and 1 (got 5)"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("colour: red\n", encoding="utf-8")
    with pytest.raises(AnalysisError) as info:
        load_plan(extensions=[bad])
    assert str(info.value) == (
        f"{bad}: unknown key(s) colour; allowed: add_rows, alpha, beyond, confidence, "
        "extend_timepoints, figures, mechanism, p_style, study, t_prime, tables, within"
    )


def test_the_beyond_section_is_declared_and_checked() -> None:
    from kypho.schema import load_schema

    plan = load_plan()
    assert plan.beyond.outcome == "leakage"
    assert plan.beyond.trajectories[0] == "vas"
    assert plan.beyond.baseline == "pre"
    changed = load_plan(extensions=[{"beyond": {"propensity": {"covariates": ["age"]}}}])
    assert changed.beyond.covariates == ("age",)
    assert changed.beyond.outcome == "leakage"  # the parts not named are kept
    wrong = load_plan(extensions=[{"beyond": {"trajectories": ["vas", "height"]}}])
    with pytest.raises(AnalysisError) as info:
        wrong.check(load_schema())
    assert str(info.value).startswith("beyond: 'height' is not a repeated measure of the schema")
    with pytest.raises(AnalysisError) as info:
        load_plan(extensions=[{"beyond": {"power": {"sims": 0}}}])
    assert str(info.value).endswith("beyond.power.sims must be a whole number ≥ 1 (got 0)")
    with pytest.raises(AnalysisError) as info:
        load_plan(extensions=[{"beyond": {"propensity": {"weights": "x"}}}])
    assert "unknown key(s) weights in beyond.propensity" in str(info.value)


def test_unreadable_plan_file(tmp_path: Path) -> None:
    missing = tmp_path / "none.yaml"
    with pytest.raises(AnalysisError) as info:
        load_plan(missing)
    assert (
        str(info.value) == f"cannot read analysis plan {str(missing)!r}: No such file or directory"
    )
