"""De-identification rules on typed frames (no database involved)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kypho.errors import StoreError
from kypho.schema import load_schema
from kypho.store import deidentify, dropped_columns

SCHEMA = load_schema()


def test_dropped_columns_are_the_declared_direct_identifiers_and_free_text() -> None:
    assert dropped_columns(SCHEMA) == ["patient_name", "hospital_number", "birth_date", "notes"]


def test_dates_are_days_from_the_operation() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["P-1", "P-2", "P-3"],
            "operation_date": pd.to_datetime(["2020-01-31", "2020-02-29", None]),
            "last_followup_date": pd.to_datetime(["2020-08-01", None, "2021-01-01"]),
        }
    )
    out = deidentify(frame, SCHEMA)
    assert list(out.columns) == ["patient_id", "last_followup_date_days"]
    assert out["last_followup_date_days"].tolist() == [183, pd.NA, pd.NA]


def test_dates_without_an_operation_date_are_refused() -> None:
    frame = pd.DataFrame({"last_followup_date": pd.to_datetime(["2020-08-01"])})
    with pytest.raises(StoreError) as info:
        deidentify(frame, SCHEMA)
    assert str(info.value) == (
        "cannot de-identify dates 'last_followup_date' without the 'operation_date' column "
        "to count days from"
    )


def test_undeclared_columns_never_leave() -> None:
    frame = pd.DataFrame({"patient_id": ["P-1"], "email": ["a@b.org"]})
    assert list(deidentify(frame, SCHEMA).columns) == ["patient_id"]


@given(st.lists(st.one_of(st.none(), st.integers(18, 120)), min_size=1, max_size=30))
def test_no_age_above_89_survives(ages: list[int | None]) -> None:
    frame = pd.DataFrame({"age": pd.array(ages, dtype="Int64")})
    out = deidentify(frame, SCHEMA)["age"]
    for given_age, shown in zip(ages, out, strict=True):
        if given_age is None:
            assert shown is pd.NA
        elif given_age > 89:
            assert shown == "90+"
        else:
            assert shown == str(given_age)


def test_input_is_not_modified() -> None:
    frame = pd.DataFrame(
        {
            "patient_name": ["Ann"],
            "age": pd.array([95], dtype="Int64"),
            "operation_date": pd.to_datetime(["2020-01-01"]),
        }
    )
    copy = frame.copy()
    deidentify(frame, SCHEMA)
    pd.testing.assert_frame_equal(frame, copy)
