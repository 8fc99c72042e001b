"""Derived measures are declared in the schema (formula, inputs, options) and applied as declared."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from kypho.analysis.demo import demo_cohort
from kypho.errors import SchemaError
from kypho.measures import FORMULAS, derive
from kypho.schema import load_schema
from kypho.validate import validate


def _ext(**derived: Any) -> dict[str, Any]:
    return {"derived": [{"type": "number", "role": "derived", **derived}]}


def test_every_derived_variable_of_the_bundled_schema_has_a_registered_formula() -> None:
    schema = load_schema()
    computed = {o for d in schema.derivations for o in d.outputs}
    measures = {v.measure or v.name for v in schema.derived_variables}
    assert measures == computed - {d.name for d in schema.derivations if d.fill}
    assert {d.formula for d in schema.derivations} <= set(FORMULAS)


def test_an_extension_declares_a_new_measure_without_code() -> None:
    schema = load_schema(
        extensions=[
            _ext(
                name="vas_relief",
                label="VAS relief at 48 h",
                formula="difference",
                inputs={"minuend": "vas_pre", "subtrahend": "vas_48h"},
            )
        ]
    )
    data = validate(demo_cohort(8, seed=3), schema).data
    out = derive(data, schema)
    expected = data["vas_pre"].to_numpy(float) - data["vas_48h"].to_numpy(float)
    np.testing.assert_allclose(out["vas_relief"].to_numpy(float), expected)


def test_a_repeated_derivation_takes_measures_at_its_own_timepoint() -> None:
    schema = load_schema(
        extensions=[
            {
                "derived": [
                    {
                        "name": "ant_over_mid",
                        "type": "number",
                        "timepoints": ["pre", "last"],
                        "formula": "height_ratio",
                        "inputs": {
                            "injured": "ant_height_ratio",
                            "above": "mid_height_ratio",
                            "below": "mid_height_ratio",
                        },
                    }
                ]
            }
        ]
    )
    out = derive(validate(demo_cohort(5, seed=4), schema).data, schema)
    for tp in ("pre", "last"):
        expected = out[f"ant_height_ratio_{tp}"] / out[f"mid_height_ratio_{tp}"] * 100
        np.testing.assert_allclose(out[f"ant_over_mid_{tp}"], expected)
    assert "ant_over_mid_d3" not in out


def test_a_measured_value_is_kept_and_a_missing_one_computed_from_the_landmarks() -> None:
    schema = load_schema()
    data = validate(demo_cohort(4, seed=5), schema).data
    data["wedge_angle_pre"] = [12.5, np.nan, np.nan, 3.0]
    for corner, (x, y) in {
        "inf_post": (0, 0), "inf_ant": (30, 0), "sup_ant": (30, 20), "sup_post": (0, 30),
    }.items():  # fmt: skip
        data[f"{corner}_x_pre"] = float(x)
        data[f"{corner}_y_pre"] = float(y)
    out = derive(data, schema)
    assert out["wedge_angle_pre"].round(4).tolist() == [12.5, 18.4349, 18.4349, 3.0]


def test_an_absent_classification_input_leaves_the_column_out() -> None:
    schema = load_schema()
    data = validate(demo_cohort(4, seed=6), schema).data.drop(columns=["leak_sites"])
    out = derive(data, schema)
    assert "leakage" not in out
    assert "leak_count" not in out
    assert out["blood_loss"].notna().all()


def test_input_not_modified() -> None:
    schema = load_schema()
    data = validate(demo_cohort(6, seed=7), schema).data
    before = data.copy()
    derive(data, schema)
    pd.testing.assert_frame_equal(data, before)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {
                "name": "x",
                "formula": "difference",
                "inputs": {"minuend": "nope", "subtrahend": "age"},
            },
            "kypho/data/study.yaml: the formula of 'x' uses unknown variable 'nope'",
        ),
        (
            {
                "name": "x",
                "formula": "difference",
                "inputs": {"minuend": "vas", "subtrahend": "age"},
            },
            "kypho/data/study.yaml: the formula of 'x' uses repeated measure 'vas', which needs a "
            "timepoint (name a column such as vas_pre)",
        ),
        (
            {"name": "x"},
            "kypho/data/study.yaml: derived variable(s) x name no formula (give each a formula, "
            "or list it in another's outputs)",
        ),
        (
            {"name": "x", "inputs": {"a": "age"}},
            "kypho/data/study.yaml: variable 'x' has inputs but no formula",
        ),
        (
            {
                "name": "x",
                "formula": "difference",
                "inputs": {"minuend": "age", "subtrahend": "later"},
            },
            "kypho/data/study.yaml: the formula of 'x' uses 'later', which is computed later or never; "
            "declare its formula first",
        ),
    ],
)
def test_malformed_derivations_are_named(spec: dict[str, Any], message: str) -> None:
    ext = _ext(**spec)
    if "later" in str(spec):
        ext["derived"].append(
            {"name": "later", "type": "number", "formula": "difference",
             "inputs": {"minuend": "age", "subtrahend": "age"}}
        )  # fmt: skip
    with pytest.raises(SchemaError) as info:
        load_schema(extensions=[ext])
    assert str(info.value).startswith(message)


def test_an_unregistered_formula_or_parameter_is_named_when_deriving() -> None:
    data = validate(demo_cohort(3, seed=8)).data
    schema = load_schema(extensions=[_ext(name="x", formula="cube", inputs={"v": "age"})])
    with pytest.raises(SchemaError) as info:
        derive(data, schema)
    assert str(info.value).startswith(
        "'x' names formula 'cube', which kypho does not have; registered formulas: blood_loss,"
    )
    schema = load_schema(extensions=[_ext(name="x", formula="difference", inputs={"v": "age"})])
    with pytest.raises(SchemaError) as info:
        derive(data, schema)
    assert str(info.value) == (
        "formula 'difference' of 'x' takes no v and needs minuend, subtrahend; "
        "its parameters: minuend, subtrahend"
    )
