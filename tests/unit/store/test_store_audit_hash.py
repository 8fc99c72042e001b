"""The audit trail's canonical JSON and hash chain; URL and role tables."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from kypho.errors import StoreError
from kypho.store import RIGHTS, ROLES, resolve_url
from kypho.store.audit import GENESIS, HASHED_FIELDS, dumps, entry_hash
from kypho.store.engine import create_store_engine


def _entry(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = dict.fromkeys(HASHED_FIELDS)
    entry.update(seq=1, at="2026-01-01T00:00:00.000000+00:00", user_name="ada", role="admin")
    entry.update(action="update", record="P-1", field="age", old_value="70", new_value="71")
    entry.update(changes)
    return entry


def test_hash_is_sha256_of_previous_hash_and_entry() -> None:
    old, new = (hashlib.sha256(v.encode()).hexdigest() for v in ("70", "71"))
    payload = (
        f'[1,"2026-01-01T00:00:00.000000+00:00","ada","admin","update","P-1","age","{old}",'
        f'"{new}",null,null]'
    )
    expected = hashlib.sha256(f"{GENESIS}\n{payload}".encode()).hexdigest()
    assert entry_hash(GENESIS, _entry()) == expected


@pytest.mark.parametrize("field", HASHED_FIELDS)
def test_changing_any_hashed_field_changes_the_hash(field: str) -> None:
    base = _entry()
    changed = _entry(**{field: "something else"})
    assert entry_hash(GENESIS, changed) != entry_hash(GENESIS, base)


def test_the_chain_depends_on_the_previous_hash() -> None:
    assert entry_hash("f" * 64, _entry()) != entry_hash(GENESIS, _entry())


def test_dumps_is_canonical() -> None:
    assert dumps({"b": 0.1, "a": dt.date(2020, 2, 29), "c": None, "d": True}) == (
        '{"a":"2020-02-29","b":0.1,"c":null,"d":true}'
    )
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        dumps(float("nan"))


def test_resolve_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KYPHO_DB_URL", raising=False)
    assert resolve_url() == "sqlite:///kypho.db"
    monkeypatch.setenv("KYPHO_DB_URL", "postgresql+psycopg://u@h/db")
    assert resolve_url() == "postgresql+psycopg://u@h/db"
    assert resolve_url("other.db") == "sqlite:///other.db"


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(StoreError) as info:
        create_store_engine("mysql://u@h/db")
    assert str(info.value) == (
        "the study store supports SQLite and PostgreSQL, not 'mysql' (URL 'mysql://u@h/db')"
    )


def test_roles_grow_in_rights() -> None:
    assert ROLES == ("read_only", "analyst", "data_entry", "monitor", "admin")
    assert RIGHTS["read_only"] < RIGHTS["analyst"] < RIGHTS["admin"]
    assert RIGHTS["read_only"] < RIGHTS["data_entry"] < RIGHTS["admin"]
    assert RIGHTS["read_only"] < RIGHTS["monitor"] < RIGHTS["admin"]
    assert "unlock" not in RIGHTS["data_entry"]
    # locking is a monitor's act: whoever enters the data cannot lock it
    assert "lock" not in RIGHTS["data_entry"]
    assert "lock" in RIGHTS["monitor"]
    assert "unlock" not in RIGHTS["monitor"]
    assert "export" not in RIGHTS["data_entry"]
    assert RIGHTS["admin"] == frozenset().union(*RIGHTS.values())
