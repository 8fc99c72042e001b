"""Edits: validated, audited field by field, optimistic locking, record locks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pandas as pd
import pytest

from kypho.errors import ColumnError, ConflictError, LockedError, StoreError, ValidationError
from kypho.store import Store

ADMIN = "ada"


@pytest.fixture
def store(db_url: str, make_patients: Callable[..., pd.DataFrame]) -> Iterator[Store]:
    s = Store.init(db_url, admin=ADMIN)
    s.import_frame(make_patients(5), reason="baseline")
    s.add_user("dora", "data_entry")
    yield s
    s.close()


def test_edit_changes_values_and_logs_old_and_new(store: Store) -> None:
    before = store.get("P-00002")
    after = store.edit(
        "P-00002", {"vas_pre": "7.5", "sex": "Male"}, expected_version=1, reason="source check"
    )
    assert after.version == 2
    assert after.values["vas_pre"] == 7.5
    assert after.values["sex"] == "male"
    assert store.get("P-00002") == after
    log = store.log(record="P-00002")
    updates = log[log["action"] == "update"].sort_values("field")
    assert updates[["field", "old_value", "new_value", "reason", "version", "user_name"]].to_dict(
        "records"
    ) == [
        {
            "field": "sex",
            "old_value": f'"{before.values["sex"]}"',
            "new_value": '"male"',
            "reason": "source check",
            "version": 2,
            "user_name": ADMIN,
        },
        {
            "field": "vas_pre",
            "old_value": repr(before.values["vas_pre"]),
            "new_value": "7.5",
            "reason": "source check",
            "version": 2,
            "user_name": ADMIN,
        },
    ]
    assert store.verify().ok
    store.close()


def test_invalid_edit_is_refused_whole(store: Store) -> None:
    with pytest.raises(ValidationError) as info:
        store.edit("P-00001", {"vas_pre": "12", "age": "70"}, expected_version=1, reason="x")
    assert str(info.value) == (
        "edit of record P-00001 refused, nothing was changed:\n"
        "  record P-00001 (row 1), 'vas_pre' must be a number from 0 to 10 (got '12')"
    )
    assert store.get("P-00001").version == 1
    # a cross-field rule checks the whole edited record
    with pytest.raises(ValidationError) as info:
        store.edit("P-00001", {"last_followup_date": "1999-01-01"}, expected_version=1, reason="x")
    assert "breaks rule 'followup_after_operation'" in str(info.value)
    store.close()


def test_edit_of_unknown_fields_and_records(store: Store) -> None:
    with pytest.raises(ColumnError) as info:
        store.edit("P-00001", {"vas_9h": 1}, expected_version=1, reason="x")
    assert (
        str(info.value) == "'vas_9h' is not a variable of the study schema; see `kypho dictionary`"
    )
    with pytest.raises(ColumnError) as info:
        store.edit("P-00001", {"region": "lumbar"}, expected_version=1, reason="x")
    assert str(info.value) == "'region' is derived by kypho and cannot be edited"
    with pytest.raises(StoreError) as info:
        store.edit("P-99999", {"age": 70}, expected_version=1, reason="x")
    assert str(info.value) == "no record 'P-99999' in the store"
    with pytest.raises(StoreError) as info:
        store.edit("P-00001", {"age": 70}, expected_version=1, reason="")
    assert str(info.value) == "an edit needs a reason, recorded in the audit trail (got none)"
    store.close()


def test_second_writer_gets_a_conflict_and_nothing_is_lost(db_url: str, store: Store) -> None:
    other = Store(db_url, user="dora")
    mine = store.get("P-00003")
    theirs = other.get("P-00003")
    other.edit("P-00003", {"vas_pre": "8"}, expected_version=theirs.version, reason="dora's fix")
    with pytest.raises(ConflictError) as info:
        store.edit("P-00003", {"vas_pre": "2"}, expected_version=mine.version, reason="ada's fix")
    assert str(info.value) == (
        "record P-00003 was changed by someone else since you read it (you read version 1, "
        "it is now version 2); nothing was written: reload the record and apply your change again"
    )
    assert store.get("P-00003").values["vas_pre"] == 8.0
    updates = store.log(record="P-00003").query("action == 'update'")
    assert updates["reason"].tolist() == ["dora's fix"]
    assert store.verify().ok
    other.close()
    store.close()


def test_simultaneous_writers_exactly_one_wins(db_url: str, store: Store) -> None:
    writers = [store, Store(db_url, user="dora")]
    barrier = threading.Barrier(2)
    outcome: dict[int, str] = {}

    def write(k: int) -> None:
        barrier.wait()
        try:
            writers[k].edit("P-00004", {"vas_2h": str(k + 1)}, expected_version=1, reason=f"w{k}")
            outcome[k] = "ok"
        except ConflictError:
            outcome[k] = "conflict"

    threads = [threading.Thread(target=write, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome.values()) == ["conflict", "ok"]
    winner = next(k for k, v in outcome.items() if v == "ok")
    assert store.get("P-00004").values["vas_2h"] == float(winner + 1)
    assert store.verify().ok
    for w in writers:
        w.close()


def test_locked_record_refuses_edits_until_an_admin_unlocks(db_url: str, store: Store) -> None:
    store.add_user("mona", "monitor")
    with Store(db_url, user="mona") as mona:
        mona.lock("P-00005", reason="monitored")
    dora = Store(db_url, user="dora")
    with pytest.raises(LockedError) as info:
        dora.edit("P-00005", {"age": "70"}, expected_version=1, reason="x")
    assert str(info.value) == (
        "record P-00005 is locked (by mona); a user with the unlock right (admin) must unlock "
        "it before it can be changed"
    )
    with pytest.raises(LockedError):
        store.delete("P-00005", expected_version=1, reason="x")
    with pytest.raises(StoreError) as info:
        dora.unlock("P-00005", reason="need to fix")
    assert str(info.value) == (
        "user 'dora' (role data_entry) may not unlock records; roles that may: admin"
    )
    store.unlock("P-00005", reason="query from monitor")
    assert dora.edit("P-00005", {"age": "70"}, expected_version=1, reason="x").version == 2
    actions = store.log(record="P-00005")["action"].tolist()
    # created by the import's batch entry, then locked, unlocked and edited
    assert actions == ["create_batch", "lock", "unlock", "update"]
    assert store.verify().ok
    dora.close()
    store.close()


def test_delete_keeps_the_record_in_the_trail(store: Store) -> None:
    values = store.get("P-00001").values
    store.delete("P-00001", expected_version=1, reason="withdrew consent")
    assert "P-00001" not in set(store.read()["patient_id"])
    last = store.log(record="P-00001", full=True, reason="test").iloc[-1]
    assert last["action"] == "delete"
    assert last["reason"] == "withdrew consent"
    assert '"patient_name":"' + str(values["patient_name"]) + '"' in last["old_value"]
    assert store.verify().ok
    store.close()


def test_edit_to_the_same_value_writes_nothing(store: Store) -> None:
    current = store.get("P-00002")
    n = len(store.log())
    same = store.edit("P-00002", {"sex": current.values["sex"]}, expected_version=1, reason="no-op")
    assert same.version == 1
    assert len(store.log()) == n
    store.close()
