"""De-identified export (HIPAA Safe Harbor) and the recorded full export."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from kypho.errors import PermissionDenied, StoreError
from kypho.store import Store

ADMIN = "ada"


@pytest.fixture
def raw(make_patients: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    frame = make_patients(60, seed=11)
    frame.loc[0, "age"] = "93"
    frame.loc[1, "age"] = "89"
    frame.loc[2, "age"] = "90"
    return frame


@pytest.fixture
def store(db_url: str, raw: pd.DataFrame) -> Iterator[Store]:
    s = Store.init(db_url, admin=ADMIN)
    s.import_frame(raw, reason="baseline")
    s.add_user("ann", "analyst")
    s.add_user("rex", "read_only")
    yield s
    s.close()


def test_export_contains_none_of_the_identifiers(
    db_url: str, store: Store, raw: pd.DataFrame, tmp_path: Path
) -> None:
    with Store(db_url, user="ann") as analyst:
        exported = analyst.export(reason="for the statistician")
    path = tmp_path / "export.csv"
    exported.to_csv(path, index=False)
    text = path.read_text(encoding="utf-8")
    for column in ("patient_name", "hospital_number", "birth_date", "notes"):
        assert column not in exported.columns
        for value in raw[column]:
            assert value not in text
    # no calendar date of any kind survives
    assert re.search(r"\d{4}-\d{2}-\d{2}", text) is None
    assert "operation_date" not in exported.columns
    assert exported["patient_id"].tolist() == raw["patient_id"].tolist()


def test_dates_become_days_from_the_operation_and_old_ages_are_grouped(
    store: Store, raw: pd.DataFrame
) -> None:
    exported = store.export()
    days = (
        pd.to_datetime(raw["last_followup_date"]) - pd.to_datetime(raw["operation_date"])
    ).dt.days
    assert exported["last_followup_date_days"].tolist() == days.tolist()
    assert exported["age"].tolist()[:3] == ["90+", "89", "90+"]
    assert not exported["age"].isin(["90", "91", "92", "93", "94"]).any()


def test_every_export_is_recorded(store: Store) -> None:
    store.export(reason="monthly report")
    entry = store.log().iloc[-1]
    assert entry["action"] == "export"
    assert entry["reason"] == "monthly report"
    logged = json.loads(entry["new_value"])
    assert logged["full"] is False
    assert logged["rows"] == 60
    assert "patient_name" not in logged["columns"]


def test_full_export_needs_the_right_and_a_reason_and_is_recorded(
    db_url: str, store: Store, raw: pd.DataFrame
) -> None:
    with Store(db_url, user="ann") as analyst, pytest.raises(PermissionDenied) as info:
        analyst.export(full=True, reason="why not")
    assert str(info.value) == (
        "user 'ann' (role analyst) may not export identified (full) data; roles that may: admin"
    )
    with pytest.raises(StoreError) as info:
        store.export(full=True)
    assert str(info.value) == (
        "a full (identified) export needs a reason, recorded in the audit trail (got none)"
    )
    full = store.export(full=True, reason="linkage with the hospital registry")
    assert full["patient_name"].tolist() == raw["patient_name"].tolist()
    entry = store.log().iloc[-1]
    assert (entry["action"], entry["user_name"], entry["reason"]) == (
        "export",
        ADMIN,
        "linkage with the hospital registry",
    )
    assert json.loads(entry["new_value"])["full"] is True
    assert store.verify().ok


def test_read_only_users_may_not_export(db_url: str, store: Store) -> None:
    with Store(db_url, user="rex") as reader:
        assert len(reader.read()) == 60
        with pytest.raises(PermissionDenied) as info:
            reader.export()
    assert str(info.value) == (
        "user 'rex' (role read_only) may not export data; roles that may: analyst, admin"
    )
