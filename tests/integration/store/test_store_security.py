"""The store's rights cannot be got around (issue #16), on both engines.

Each test was written before its fix and failed on the code before it: the
audit log handed identified values to any role, ``verify`` ignored the users
table, the lock holder, a rewound head and malformed entries, the last admin
could demote itself, data_entry could lock, and ``db export`` / ``analyze --db``
went ahead on a store that failed ``verify``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from kypho.cli import main
from kypho.errors import IntegrityError, PermissionDenied, StoreError
from kypho.store import Store, load_from_store
from kypho.store.batch import ACTION, decode_batch

ADMIN = "ada"


@pytest.fixture
def store(db_url: str, make_patients: Callable[..., pd.DataFrame]) -> Iterator[Store]:
    s = Store.init(db_url, admin=ADMIN)
    s.import_frame(make_patients(4), reason="baseline")
    s.edit("P-00002", {"notes": "moved to 7 Oak Road"}, expected_version=1, reason="update")
    s.add_user("rita", "read_only")
    s.add_user("dora", "data_entry")
    s.add_user("mona", "monitor")
    yield s
    s.close()


@pytest.fixture
def kypho(db_url: str) -> Callable[..., Result]:
    def run(*args: str, user: str = ADMIN) -> Result:
        return CliRunner().invoke(main, ["db", "--url", db_url, "--user", user, *args])

    return run


def _sql(store: Store, statement: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(statement))


def _drop_triggers(store: Store) -> None:
    on = "ON kypho_audit" if store.engine.dialect.name == "postgresql" else ""
    _sql(store, f"DROP TRIGGER kypho_audit_no_update {on}")
    _sql(store, f"DROP TRIGGER kypho_audit_no_delete {on}")


IDENTIFIERS = ("Name1x Surname1y", "H9000002", "Elm Street", "Oak Road")


def _identified(text: str) -> list[str]:
    return [word for word in IDENTIFIERS if word in text]


# ---------------------------------------------------------------- the audit log


def test_log_is_de_identified_for_every_role(db_url: str, store: Store) -> None:
    for user in ("rita", "dora", "mona", ADMIN):
        with Store(db_url, user=user) as s:
            trail = s.log()
        assert _identified(trail.to_csv()) == [], user
    with Store(db_url, user="rita") as s:
        trail = s.log(record="P-00001")
    created = json.loads(trail["new_value"].iloc[0])
    assert "patient_name" not in created
    assert "birth_date" not in created
    assert "notes" not in created
    assert len(created["operation_date"]) == 4  # the year only


def test_log_output_respects_roles(
    kypho: Callable[..., Result], store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "log.csv"
    result = kypho("log", "--output", str(out), user="rita")
    assert result.exit_code == 0, result.output
    assert _identified(out.read_text(encoding="utf-8")) == []
    result = kypho("log", "--output", str(out), "--full", "--reason", "inspection", user="rita")
    assert result.exit_code == 2
    assert "may not read the identified audit trail" in result.stderr
    assert _identified(out.read_text(encoding="utf-8")) == []
    result = kypho("log", "--output", str(out), "--full")
    assert result.exit_code == 2
    assert "needs a reason" in result.stderr
    result = kypho("log", "--output", str(out), "--full", "--reason", "FDA inspection")
    assert result.exit_code == 0, result.output
    # the identified trail as stored: the edit's values as text, the import's
    # records in its batch entry (Parquet, as the hash covers it), which decodes
    # to every identifier
    full = pd.read_csv(out, dtype=str, keep_default_na=False)
    (batch,) = full.loc[full["action"] == ACTION, "new_value"]
    records = decode_batch(batch).to_pandas().to_csv()
    assert set(_identified(out.read_text(encoding="utf-8") + records)) == set(IDENTIFIERS)
    assert set(_identified(records)) == {"Name1x Surname1y", "H9000002", "Elm Street"}
    last = store.log().iloc[-1]
    assert (last["action"], last["user_name"], last["reason"]) == ("log", ADMIN, "FDA inspection")
    assert json.loads(last["new_value"])["full"] is True
    assert store.verify().ok


def test_printed_log_shows_no_identifier(kypho: Callable[..., Result], store: Store) -> None:
    result = kypho("log", user="rita")
    assert result.exit_code == 0, result.output
    assert _identified(result.stdout) == []


# ------------------------------------------------------- verify: users and locks


def test_a_user_promoted_by_sql_fails_verify(store: Store) -> None:
    _sql(store, "UPDATE kypho_users SET role = 'admin' WHERE name = 'rita'")
    result = store.verify()
    assert not result.ok
    assert result.problems == (
        "user 'rita' has role admin in the users table but read_only in the audit trail",
    )


def test_users_added_removed_or_enabled_by_sql_fail_verify(store: Store) -> None:
    store.set_active("dora", False, reason="left the study")
    _sql(
        store,
        "INSERT INTO kypho_users (name, role, active, added_at, added_by) "
        "VALUES ('mallory', 'admin', true, '2020-01-01', 'ada')",
    )
    _sql(store, "UPDATE kypho_users SET active = true WHERE name = 'dora'")
    _sql(store, "DELETE FROM kypho_users WHERE name = 'mona'")
    assert set(store.verify().problems) == {
        "user 'mallory' is in the users table but the audit trail never added them",
        "user 'dora' is enabled in the users table but disabled in the audit trail",
        "user 'mona' is in the audit trail but missing from the users table",
    }


def test_a_lock_holder_changed_by_sql_fails_verify(db_url: str, store: Store) -> None:
    with Store(db_url, user="mona") as mona:
        mona.lock("P-00001", reason="source data verified")
    assert store.verify().ok
    _sql(store, "UPDATE kypho_records SET kypho_locked_by = 'ada' WHERE patient_id = 'P-00001'")
    assert store.verify().problems == (
        "record P-00001 is locked by ada in the table but by mona in the audit trail",
    )


# ------------------------------------------------------------ verify: the head


def test_a_removed_tail_with_a_rewound_head_is_caught_by_the_kept_head(store: Store) -> None:
    kept = store.verify().head_hash
    _drop_triggers(store)
    trail = store.log()
    # someone removes the last two entries and rewinds the head to match
    _sql(store, f"DELETE FROM kypho_audit WHERE seq > {len(trail) - 2}")
    previous = trail.iloc[-3]
    _sql(
        store,
        f"UPDATE kypho_chain SET seq = {previous['seq']}, hash = '{previous['hash']}'",
    )
    _sql(store, "DELETE FROM kypho_users WHERE name IN ('mona', 'dora')")
    assert store.verify().ok  # no chain kept in the same database can see this alone
    result = store.verify(head=kept)
    assert not result.ok
    assert result.problems == (
        f"the head hash you kept ({kept[:16]}...) is not in the trail: entries were removed "
        "or the trail was rewritten since you kept it",
    )


def test_a_kept_head_is_extended_by_later_entries(
    kypho: Callable[..., Result], store: Store
) -> None:
    kept = store.verify()
    store.add_user("eve", "analyst")
    result = store.verify(head=kept.head_hash)
    assert result.ok
    assert result.kept_seq == kept.n_entries
    cli = kypho("verify", "--head", kept.head_hash)
    assert cli.exit_code == 0, cli.output
    assert cli.stdout.splitlines()[-1] == (
        f"the head you kept (entry {kept.n_entries}) is in the trail; 1 entry was added since"
    )
    cli = kypho("verify", "--head", "f" * 64)
    assert cli.exit_code == 2
    assert "is not in the trail" in cli.stderr


def test_verify_prints_the_head_to_keep(kypho: Callable[..., Result], store: Store) -> None:
    result = kypho("verify")
    assert result.exit_code == 0
    head = store.verify().head_hash
    assert f"keep this head hash to check the trail later: {head}" in result.stdout


# ------------------------------------------------------- verify: malformed trail


@pytest.mark.parametrize(
    ("column", "value"),
    [("new_value", "'{not json'"), ("version", "NULL"), ("new_value", "'[1, 2]'")],
)
def test_a_malformed_entry_is_reported_not_a_crash(store: Store, column: str, value: str) -> None:
    _drop_triggers(store)
    # entries 1-3 are init, user_add and import; 4 creates the first record
    _sql(store, f"UPDATE kypho_audit SET {column} = {value} WHERE seq = 4")
    result = store.verify()
    assert not result.ok
    assert any(p.startswith("entry 4 (create") and "malformed" in p for p in result.problems), (
        result.problems
    )


def test_a_malformed_update_entry_is_reported(store: Store) -> None:
    _drop_triggers(store)
    seq = int(store.log().query("action == 'update'")["seq"].iloc[0])
    _sql(store, f"UPDATE kypho_audit SET new_value = 'oops', field = NULL WHERE seq = {seq}")
    problems = store.verify().problems
    assert any(f"entry {seq} (update" in p and "malformed" in p for p in problems), problems


# ------------------------------------------------------------------- the admins


def test_the_only_admin_cannot_demote_or_disable_itself(store: Store) -> None:
    with pytest.raises(StoreError, match="the only active admin"):
        store.set_role(ADMIN, "analyst")
    with pytest.raises(StoreError, match="the only active admin"):
        store.set_active(ADMIN, False)
    store.add_user("bea", "admin")
    store.set_role(ADMIN, "analyst", reason="hands over to bea")
    assert store.users().set_index("name").loc[ADMIN, "role"] == "analyst"


def test_a_disabled_admin_does_not_count(db_url: str, store: Store) -> None:
    store.add_user("bea", "admin")
    store.set_active("bea", False)
    with pytest.raises(StoreError, match="the only active admin"):
        store.set_active(ADMIN, False)


# ------------------------------------------------------------------ the monitor


def test_monitor_locks_data_entry_does_not(db_url: str, store: Store) -> None:
    with Store(db_url, user="dora") as dora, pytest.raises(PermissionDenied) as info:
        dora.lock("P-00001", reason="done")
    assert str(info.value) == (
        "user 'dora' (role data_entry) may not lock records; roles that may: monitor, admin"
    )
    with Store(db_url, user="mona") as mona:
        mona.lock("P-00001", reason="source data verified")
        assert mona.verify().ok
        with pytest.raises(PermissionDenied):
            mona.unlock("P-00001", reason="x")
        with pytest.raises(PermissionDenied):
            mona.edit("P-00003", {"age": "70"}, expected_version=1, reason="x")
    assert store.get("P-00001").locked_by == "mona"


# --------------------------------------------- export and analyze on a bad store


def test_export_refuses_a_store_that_fails_verify(
    kypho: Callable[..., Result], store: Store, tmp_path: Path
) -> None:
    _sql(store, "UPDATE kypho_records SET age = 99 WHERE patient_id = 'P-00004'")
    out = tmp_path / "shared.csv"
    result = kypho("export", str(out))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: the store does not verify (1 problem), so its data may have been changed "
        "behind kypho's back; nothing was exported. See `kypho db verify`; to export anyway, "
        "pass --skip-verify REASON (recorded in the audit trail)"
    )
    assert not out.exists()
    with pytest.raises(IntegrityError):
        store.export()
    result = kypho("export", str(out), "--skip-verify", "salvage for the DSMB")
    assert result.exit_code == 0, result.output
    assert out.is_file()
    entry = store.log().iloc[-1]
    assert entry["action"] == "export"
    assert json.loads(entry["new_value"])["unverified"] == {
        "problems": 1,
        "reason": "salvage for the DSMB",
    }


def test_analyze_refuses_a_store_that_fails_verify(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kypho.analysis.demo import demo_cohort

    with Store.init(db_url, admin=ADMIN) as s:
        s.import_frame(demo_cohort(40, seed=6), reason="test data")
        _sql(s, "UPDATE kypho_records SET age = 99 WHERE patient_id = 'P-4'")
    with pytest.raises(IntegrityError):
        load_from_store(db_url, user=ADMIN)
    monkeypatch.setenv("KYPHO_USER", ADMIN)
    out = tmp_path / "out"
    args = ["analyze", "--db", db_url, "--out", str(out), "--format", "csv", "--no-figures", "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "the store does not verify (1 problem)" in result.stderr
    assert not out.exists() or not any(out.iterdir())
    result = CliRunner().invoke(main, [*args, "--skip-verify", "exploratory look"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    assert (
        "did not verify (1 problem); analysed anyway: exploratory look"
        in (manifest["provenance"]["note"])
    )


def test_analyze_takes_a_plain_sqlite_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kypho.analysis.demo import demo_cohort

    monkeypatch.chdir(tmp_path)
    with Store.init("kypho.db", admin=ADMIN) as s:
        s.import_frame(demo_cohort(40, seed=6), reason="test data")
    monkeypatch.setenv("KYPHO_USER", ADMIN)
    result = CliRunner().invoke(
        main, ["analyze", "--db", "kypho.db", "--out", "out", "--format", "csv", "--no-figures"]
    )
    assert result.exit_code == 0, result.output
    assert "records read 40, accepted 40" in result.stdout


# ------------------------------------------------------------- show, log, export


def test_db_show(kypho: Callable[..., Result], store: Store, db_url: str) -> None:
    with Store(db_url, user="mona") as mona:
        mona.lock("P-00002", reason="source data verified")
    result = kypho("show", "P-00002", user="dora")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "record P-00002",
        "version 2, locked by mona",
        "status: locked (edits and deletes refused until an admin unlocks it)",
    ]
    assert "  notes: moved to 7 Oak Road" in lines
    shown = kypho("show", "P-00002", user="rita").stdout
    assert _identified(shown) == []
    assert "  notes: (identifier, not shown to role read_only)" in shown.splitlines()
    result = kypho("show", "P-99999")
    assert result.exit_code == 2
    assert result.stderr == "error: no record 'P-99999' in the store\n"


def test_log_and_export_show_version_and_lock(
    kypho: Callable[..., Result], store: Store, db_url: str, tmp_path: Path
) -> None:
    with Store(db_url, user="mona") as mona:
        mona.lock("P-00002", reason="source data verified")
    result = kypho("log", "--record", "P-00002")
    assert result.stdout.splitlines()[0] == "record P-00002: version 2, locked by mona"
    assert " v2 " in result.stdout.splitlines()[2]
    out = tmp_path / "shared.csv"
    assert kypho("export", str(out)).exit_code == 0
    frame = pd.read_csv(out).set_index("patient_id")
    assert frame.loc["P-00002", "record_version"] == 2
    assert frame.loc["P-00002", "record_locked"]
    assert not frame.loc["P-00001", "record_locked"]


def test_counts_are_worded_in_the_singular(
    store: Store, make_patients: Callable[..., pd.DataFrame]
) -> None:
    raw = make_patients(1, start=50)
    assert store.import_frame(raw, reason="one more").summary() == (
        "1 row read: 1 imported, 0 rejected (0 problems)"
    )
    _sql(store, "UPDATE kypho_records SET age = 99 WHERE patient_id = 'P-00004'")
    assert store.verify().summary() == "audit trail does NOT verify: 1 problem"


def test_role_choices_match_the_roles() -> None:
    from kypho.cli.db import _ROLE
    from kypho.store import ROLES

    assert tuple(_ROLE.choices) == ROLES
