"""example_records: valid by construction, reproducible."""

from __future__ import annotations

import pandas as pd

from kypho.io import example_records
from kypho.schema import load_schema
from kypho.validate import validate

SCHEMA = load_schema()


def test_records_pass_validation_with_every_input_column() -> None:
    raw = example_records(200, schema=SCHEMA, seed=4, missing=0.2)
    assert list(raw.columns) == [v.name for v in SCHEMA.input_variables]
    result = validate(raw, SCHEMA)
    assert result.n_rejected == 0
    assert result.n_accepted == 200


def test_same_seed_same_records() -> None:
    pd.testing.assert_frame_equal(example_records(30, seed=9), example_records(30, seed=9))
    assert not example_records(30, seed=9).equals(example_records(30, seed=10))


def test_missing_share_spares_required_columns() -> None:
    raw = example_records(400, schema=SCHEMA, seed=1, missing=0.25)
    required = [v.name for v in SCHEMA.input_variables if v.required]
    assert raw[required].notna().all().all()
    share = raw["vas_pre"].isna().mean()
    assert 0.15 < share < 0.35


def test_dates_keep_the_schema_rules() -> None:
    raw = example_records(300, schema=SCHEMA, seed=2)
    assert (raw["birth_date"] < raw["operation_date"]).all()
    assert (raw["last_followup_date"] >= raw["operation_date"]).all()
