"""The audit trail's canonical JSON and hash chain; URL and role tables."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kypho.errors import StoreError
from kypho.store import RIGHTS, ROLES, resolve_url
from kypho.store.audit import (
    GENESIS,
    HASHED_FIELDS,
    chain_hashes,
    dumps,
    entry_hash,
    record_texts,
)
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


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1.0, 1e16, 1e-5, 0.1, 27.0]),
    st.text(max_size=8),
    st.dates(),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_VALUES, min_size=4, max_size=4), min_size=1, max_size=6))
def test_record_texts_are_dumps_of_each_record(rows: list[list[object]]) -> None:
    names = ["z", "a", "m_1", "é"]
    columns = [list(c) for c in zip(*rows, strict=True)]
    expected = [dumps(dict(zip(names, row, strict=True))) for row in rows]
    assert record_texts(columns, names) == expected


def test_record_texts_of_typed_columns_tell_zero_from_minus_zero() -> None:
    columns = [[0.0, -0.0, 0.0, 1.5], ["P-1", "P-2", 'q"\n', "ü"], [True, False, None, True]]
    names = ["x", "id", "flag"]
    expected = [dumps(dict(zip(names, row, strict=True))) for row in zip(*columns, strict=True)]
    assert record_texts(columns, names) == expected


_FLOATS = st.one_of(
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1.0, 1e16, 1e-5, 0.1, 27.0, 12.5, -3.2, 999.9]),
    st.integers(min_value=-2000, max_value=2000).map(lambda k: k / 10),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(_FLOATS, min_size=2, max_size=2), min_size=1, max_size=8))
def test_record_texts_of_float_arrays_are_those_of_their_values(
    rows: list[list[float | None]],
) -> None:
    names = ["b", "a"]
    values = [list(c) for c in zip(*rows, strict=True)]
    arrays = [np.array([np.nan if v is None else v for v in c], dtype=np.float64) for c in values]
    expected = [dumps(dict(zip(names, row, strict=True))) for row in rows]
    assert record_texts(arrays, names) == expected
    assert record_texts(values, names) == expected


def test_chain_hashes_are_entry_hashes_of_each_entry() -> None:
    entries = [
        _entry(),
        _entry(seq=2, record=None, field="dora", old_value=None, new_value='"admin"'),
        _entry(seq=3, action="update", record='P-"ü"', reason=None, version=None),
        _entry(seq=4, new_value='{"a":1,"b":"x\\ny"}', reason="tab\there"),
    ]
    prev = [GENESIS, "a" * 64, "b" * 64, "c" * 64]
    columns = {name: [e[name] for e in entries] for name in HASHED_FIELDS}
    assert chain_hashes(prev, columns) == [
        entry_hash(p, e) for p, e in zip(prev, entries, strict=True)
    ]
    # a value kypho never stores (a float) is hashed entry by entry, alike
    for entry, version in zip(entries, [1.5, None, 2, 3], strict=True):
        entry["version"] = version
    columns["version"] = [e["version"] for e in entries]
    assert chain_hashes(prev, columns) == [
        entry_hash(p, e) for p, e in zip(prev, entries, strict=True)
    ]
    assert chain_hashes([], {name: [] for name in HASHED_FIELDS}) == []
