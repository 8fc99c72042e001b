"""`verify`: the hash chain and the comparison of rows with the trail.

Each test changes the database directly with SQL, behind kypho's back, the way
a person with database access could, and checks that verify names the change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

from kypho.errors import IntegrityError
from kypho.store import Store

ADMIN = "ada"


@pytest.fixture
def store(db_url: str, make_patients: Callable[..., pd.DataFrame]) -> Iterator[Store]:
    s = Store.init(db_url, admin=ADMIN)
    s.import_frame(make_patients(6), reason="baseline")
    s.edit("P-00002", {"vas_pre": "6.5"}, expected_version=1, reason="source check")
    yield s
    s.close()


def _sql(store: Store, statement: str, **params: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def test_untouched_store_verifies(store: Store) -> None:
    result = store.verify()
    assert result.ok
    # the store's first two entries, the import and its batch of 6 records, the edit
    assert (result.n_entries, result.n_records) == (5, 6)
    assert result.head_hash == store.log()["hash"].iloc[-1]
    assert (
        result.summary() == f"audit trail verified: 5 entries, 6 records, head {result.head_hash}"
    )
    result.raise_if_failed()


def test_a_row_changed_directly_is_caught(store: Store) -> None:
    _sql(store, "UPDATE kypho_records SET vas_pre = 9.5 WHERE patient_id = 'P-00002'")
    result = store.verify()
    assert not result.ok
    assert result.problems == (
        "record P-00002, 'vas_pre' is 9.5 in the table but 6.5 in the audit trail",
    )
    with pytest.raises(IntegrityError) as info:
        result.raise_if_failed()
    assert str(info.value) == (
        "audit trail does NOT verify: 1 problem:\n"
        "  record P-00002, 'vas_pre' is 9.5 in the table but 6.5 in the audit trail"
    )


def test_rows_added_deleted_or_unlocked_directly_are_caught(store: Store) -> None:
    _sql(store, "DELETE FROM kypho_records WHERE patient_id = 'P-00003'")
    _sql(
        store,
        'INSERT INTO kypho_records (patient_id, "group", sex, age, level, kypho_version, '
        "kypho_locked) VALUES ('P-77777', 'control', 'male', 70, 'L1', 1, false)",
    )
    _sql(store, "UPDATE kypho_records SET kypho_version = 5 WHERE patient_id = 'P-00004'")
    assert set(store.verify().problems) == {
        "record P-00003 is in the audit trail but missing from the table",
        "record P-77777 is in the table but the trail never created it",
        "record P-00004 has version 5 in the table but 1 in the audit trail",
    }


def test_the_audit_table_refuses_changes(store: Store) -> None:
    with pytest.raises(sa.exc.DatabaseError, match="the audit trail is append-only"):
        _sql(store, "UPDATE kypho_audit SET reason = 'nothing' WHERE seq = 5")
    with pytest.raises(sa.exc.DatabaseError, match="the audit trail is append-only"):
        _sql(store, "DELETE FROM kypho_audit WHERE seq = 5")
    assert store.verify().ok


def test_a_rewritten_entry_is_caught_even_without_the_triggers(store: Store) -> None:
    on = "ON kypho_audit" if store.engine.dialect.name == "postgresql" else ""
    _sql(store, f"DROP TRIGGER kypho_audit_no_update {on}")
    _sql(store, f"DROP TRIGGER kypho_audit_no_delete {on}")
    # someone hides the edit: rewrites the logged value and the row together
    _sql(store, "UPDATE kypho_audit SET new_value = '9.5' WHERE seq = 5")
    _sql(store, "UPDATE kypho_records SET vas_pre = 9.5 WHERE patient_id = 'P-00002'")
    at = store.log()["at"].iloc[-1]
    assert store.verify().problems == (
        f"entry 5 (update, record P-00002, {at}) was altered: its content does not match its hash",
    )
    # the import's batch of records (entry 4) removed
    _sql(store, "DELETE FROM kypho_audit WHERE seq = 4")
    problems = store.verify().problems
    assert "entries 4 to 4 are missing from the trail" in problems
    assert "entry 5 does not follow entry 4: the chain is broken" in problems


def test_a_truncated_trail_is_caught(store: Store) -> None:
    store.add_user("eve", "analyst", reason="statistician joins")
    on = "ON kypho_audit" if store.engine.dialect.name == "postgresql" else ""
    _sql(store, f"DROP TRIGGER kypho_audit_no_delete {on}")
    _sql(store, "DELETE FROM kypho_audit WHERE seq = 6")
    assert store.verify().problems == (
        "the trail ends at entry 5 but its head records entry 6: entries were removed or "
        "added behind kypho's back",
        "user 'eve' is in the users table but the audit trail never added them",
    )


def test_verify_sees_one_consistent_state_while_others_write(db_url: str, store: Store) -> None:
    store.add_user("dora", "data_entry")
    done = threading.Event()
    errors: list[BaseException] = []

    def keep_editing() -> None:
        try:
            with Store(db_url, user="dora") as dora:
                for k in range(8):
                    version = dora.get("P-00005").version
                    dora.edit(
                        "P-00005", {"vas_2h": str(k % 10)}, expected_version=version, reason="w"
                    )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=keep_editing)
    writer.start()
    results = []
    while not done.is_set():
        results.append(store.verify())
        time.sleep(0.05)  # let the writer in between checks (GIL; SQLite lock)
    writer.join()
    assert errors == []
    assert all(r.ok for r in results), [r.problems for r in results if not r.ok]
    assert store.verify().ok
