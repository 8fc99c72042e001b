"""Table 1's SMD of a yes/no row is the SMD of the level the row shows ("yes")."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kypho.analysis import Plan, RowSpec, TableSpec, analyze
from kypho.schema import load_schema

SCHEMA = load_schema()


def test_boolean_count_row_smd_follows_yes() -> None:
    """Constipation yes in 3 of 4 experimental and 1 of 4 control patients.

    By hand (Yang & Dalton 2012, binary SMD of the shown level): p₁ = 0.75,
    p₂ = 0.25, SMD = (0.75 − 0.25)/√((0.75·0.25 + 0.25·0.75)/2) = 0.5/√0.1875
    = 1.1547005. The SMD of "no" would be −1.1547005.
    """
    data = pd.DataFrame(
        {
            "group": pd.Categorical(
                ["experimental"] * 4 + ["control"] * 4, categories=["experimental", "control"]
            ),
            "constipation": pd.array(
                [True, True, True, False, True, False, False, False], dtype="boolean"
            ),
        }
    )
    plan = Plan(
        tables=(
            TableSpec(
                number=1,
                title="T",
                rows=(RowSpec(kind="variable", name="constipation"),),
                smd=True,
            ),
        )
    )
    row = analyze(data, SCHEMA, plan).table(1).rows[0]
    assert [c.count for c in row.cells] == [3, 1]
    assert row.smd == pytest.approx(0.5 / math.sqrt(0.1875), rel=1e-12)


def test_a_flagged_field_is_counted_missing_in_its_table_row() -> None:
    """Field-level validation (issue 16): the record stays, the bad age is left out of
    the age row and counted as missing there; the record still counts in other rows."""
    from kypho.validation import validate

    raw = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3", "P4"],
            "group": ["experimental", "experimental", "control", "control"],
            "sex": ["male", "female", "male", "female"],
            "age": [70, "seventy", 72, 74],
            "level": ["L1"] * 4,
        }
    )
    checked = validate(raw, SCHEMA)
    assert (checked.n_accepted, checked.n_flagged) == (4, 1)
    plan = Plan(
        tables=(
            TableSpec(
                number=1,
                title="T",
                rows=(RowSpec(kind="variable", name="age"), RowSpec(kind="variable", name="sex")),
            ),
        )
    )
    age, sex = analyze(checked.data, SCHEMA, plan).table(1).rows[:2]
    assert [(c.n, c.n_missing) for c in age.cells] == [(1, 1), (2, 0)]
    assert [c.n for c in sex.cells] == [2, 2]
