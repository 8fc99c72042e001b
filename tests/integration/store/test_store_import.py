"""Imports: one transaction, every bad row reported, nothing overwritten."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from kypho.errors import StoreError, ValidationError
from kypho.store import Store, load_from_store
from kypho.store.engine import SQLITE_CACHE_KIB, SQLITE_PAGE_SIZE
from kypho.validate import validate

ADMIN = "ada"


def test_roundtrip_keeps_every_value_and_type(
    db_url: str, make_patients: Callable[..., pd.DataFrame]
) -> None:
    raw = make_patients(40)
    with Store.init(db_url, admin=ADMIN) as store:
        result = store.import_frame(raw, reason="baseline", source="ward3.csv")
        assert (result.n_read, result.n_imported, result.n_rejected) == (40, 40, 0)
        back = store.read()
    expected = validate(raw).data.reset_index(drop=True)
    pd.testing.assert_frame_equal(back[expected.columns], expected)
    # columns absent from the file are stored as missing, in schema order
    assert back["hb_pre"].isna().all()
    assert list(back.columns)[:3] == ["patient_id", "patient_name", "hospital_number"]


def test_load_from_store_reads_as_the_acting_user(
    db_url: str, make_patients: Callable[..., pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.init(db_url, admin=ADMIN) as store:
        store.import_frame(make_patients(5), reason="baseline")
    monkeypatch.setenv("KYPHO_USER", ADMIN)
    frame = load_from_store(db_url)
    assert frame["patient_id"].tolist() == [f"P-{i:05d}" for i in range(1, 6)]
    assert str(frame["age"].dtype) == "Int64"
    assert isinstance(frame["group"].dtype, pd.CategoricalDtype)


def test_thousand_mixed_rows_report_every_bad_row(
    db_url: str, make_patients: Callable[..., pd.DataFrame]
) -> None:
    raw = make_patients(1000, seed=3)
    bad: dict[int, str] = {}  # 1-based row -> the field made wrong
    for row in range(1, 1001, 7):
        kind = (row // 7) % 5
        i = row - 1
        if kind == 0:
            raw.loc[i, "age"], bad[row] = "130", "age"
        elif kind == 1:
            raw.loc[i, "group"], bad[row] = "placebo", "group"
        elif kind == 2:
            raw.loc[i, "sex"], bad[row] = "", "sex"
        elif kind == 3:
            raw.loc[i, "vas_pre"], bad[row] = "eleven", "vas_pre"
        else:
            raw.loc[i, "last_followup_date"], bad[row] = "2000-01-01", "last_followup_date"
    with Store.init(db_url, admin=ADMIN) as store:
        result = store.import_frame(raw, reason="batch 2")
        stored = store.read()
        trail = store.log()
    assert result.n_read == 1000
    assert result.n_rejected == len(bad)
    assert result.n_imported == 1000 - len(bad)
    assert sorted(result.rejected["row"]) == sorted(bad)
    assert dict(zip(result.problems["row"], result.problems["field"], strict=True)) == bad
    assert result.rejected["reasons"].str.len().gt(0).all()
    assert set(stored["patient_id"]) == set(raw["patient_id"].drop([r - 1 for r in bad]))
    # one entry holds every imported record (kypho.store.batch), none per record
    assert (trail["action"] == "create").sum() == 0
    assert (trail["action"] == "create_batch").sum() == 1
    first = result.problems.iloc[0]
    assert (
        first["message"]
        == "record P-00001 (row 1), 'age' must be a whole number from 18 to 120 (got '130')"
    )


def test_ids_already_stored_are_rejected_not_overwritten(
    db_url: str, make_patients: Callable[..., pd.DataFrame]
) -> None:
    with Store.init(db_url, admin=ADMIN) as store:
        store.import_frame(make_patients(3), reason="first")
        again = make_patients(4)
        again.loc[0, "vas_pre"] = "1.0"
        result = store.import_frame(again, reason="second")
        assert (result.n_imported, result.n_rejected) == (1, 3)
        assert result.problems["message"].tolist()[0] == (
            "record P-00001 (row 1), 'patient_id' is already in the store; "
            "change the stored record with `kypho db edit`"
        )
        assert result.rejected["row"].tolist() == [1, 2, 3]
        assert store.get("P-00001").values["vas_pre"] != 1.0
        assert len(store.read()) == 4


def test_strict_import_stores_nothing_when_a_row_is_bad(
    db_url: str, make_patients: Callable[..., pd.DataFrame]
) -> None:
    raw = make_patients(10)
    raw.loc[4, "age"] = "7"
    with Store.init(db_url, admin=ADMIN) as store:
        before = store.log()
        with pytest.raises(ValidationError) as info:
            store.import_frame(raw, reason="strict", strict=True)
        assert str(info.value) == (
            "10 rows read, 1 rejected; strict import stores nothing:\n"
            "  record P-00005 (row 5), 'age' must be a whole number from 18 to 120 (got '7')"
        )
        assert store.read().empty
        pd.testing.assert_frame_equal(store.log(), before)
        assert store.verify().ok


def test_import_needs_a_reason(db_url: str, make_patients: Callable[..., pd.DataFrame]) -> None:
    with Store.init(db_url, admin=ADMIN) as store, pytest.raises(StoreError) as info:
        store.import_frame(make_patients(1), reason=" ")
    assert str(info.value) == "an import needs a reason (e.g. 'baseline data from ward 3')"


def test_init_twice_and_opening_an_empty_database_are_refused(db_url: str) -> None:
    shown = sa.make_url(db_url).render_as_string(hide_password=True)
    with pytest.raises(StoreError) as info:
        Store(db_url, user=ADMIN)
    assert str(info.value) == f"{shown} holds no kypho store; create one with `kypho db init`"
    Store.init(db_url, admin=ADMIN).close()
    with pytest.raises(StoreError) as info:
        Store.init(db_url, admin=ADMIN)
    assert str(info.value) == f"{shown} already holds a kypho store; open it instead"


def test_input_frame_is_not_modified(
    db_url: str, make_patients: Callable[..., pd.DataFrame]
) -> None:
    raw = make_patients(6)
    copy = raw.copy()
    with Store.init(db_url, admin=ADMIN) as store:
        store.import_frame(raw, reason="baseline")
    pd.testing.assert_frame_equal(raw, copy)


def test_the_import_entry_records_source_counts_and_unknown_columns(
    db_url: str, make_patients: Callable[..., pd.DataFrame]
) -> None:
    raw = make_patients(4).assign(ward_comment="x")
    raw.loc[3, "sex"] = "unknown"
    with Store.init(db_url, admin=ADMIN) as store:
        result = store.import_frame(raw, reason="ward 3", source="ward3.xlsx")
        entry = store.log().query("action == 'import'").iloc[0]
    assert result.unknown_columns == ["ward_comment"]
    assert entry["reason"] == "ward 3"
    assert json.loads(entry["new_value"]) == {
        "source": "ward3.xlsx",
        "rows_read": 4,
        "imported": 3,
        "rejected": 1,
        "unknown_columns": ["ward_comment"],
    }


def test_database_failures_become_store_errors(db_url: str) -> None:
    shown = sa.make_url(db_url).render_as_string(hide_password=True)
    with Store.init(db_url, admin=ADMIN) as store:
        with store.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE kypho_records"))
        with pytest.raises(StoreError) as info:
            store.read()
    message = str(info.value)
    assert message.startswith(f"the database at {shown} failed: ")
    assert "kypho_records" in message
    assert message.endswith("; nothing was written")


def test_a_bulk_insert_the_database_refuses_is_a_store_error_on_every_engine(
    db_url: str, make_patients: Callable[..., pd.DataFrame]
) -> None:
    """SQLite takes executemany, PostgreSQL a COPY that bypasses SQLAlchemy: a
    refused row (here an id already stored) is the same StoreError on both, and
    the transaction writes nothing."""
    from kypho.store.store import _bulk_insert

    with Store.init(db_url, admin=ADMIN) as store:
        store.import_frame(make_patients(3), reason="baseline")
        before = store.log()
        columns = [store.schema.id_column, "kypho_version", "kypho_locked"]

        def clash() -> None:
            with store._writing("import") as writer:
                writer.append("import", reason="a clash")
                _bulk_insert(writer.conn, store.tables.records, columns, [("P-00001", 1, False)])

        with pytest.raises(StoreError, match=r"(?is)failed: .*unique.*; nothing was written$"):
            clash()
        pd.testing.assert_frame_equal(store.log(), before)
        assert len(store.read()) == 3


def _stored_columns(conn: sa.Connection, query: sa.Select[Any]) -> list[Any]:
    """The rows of ``query`` as columns: on PostgreSQL with psycopg by the
    readers' COPY TO fallback (floats as NumPy arrays, NaN where missing),
    elsewhere each column a list of the driver's values."""
    from kypho.store._reading import copied_table
    from kypho.store._replay import column_values
    from kypho.store.store import _driver

    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        table = copied_table(conn, query, _driver)
        if table is not None:
            return [column_values(column) for column in table.columns]
    rows = conn.execute(query).all()
    return [list(values) for values in zip(*rows, strict=True)]


def test_bulk_insert_by_columns_stores_awkward_values_exactly(db_url: str) -> None:
    """Column-wise bulk insert (COPY text built by Arrow on PostgreSQL, executemany on
    SQLite) reads back every value exactly: shortest-repr floats, -0.0, the
    smallest subnormal, text with tabs, line breaks, backslashes, quotes and
    non-ASCII, dates at both ends of pandas' range, booleans, big integers, None."""
    import datetime as dt
    import math

    from kypho.store.store import _insert_columns

    with Store.init(db_url, admin=ADMIN) as store:
        schema = store.schema
        kinds = {
            kind: next(v.name for v in schema.input_variables if v.type == kind)
            for kind in ("number", "integer", "date", "boolean")
        }
        texts = ["a\tb", "line\nbreak\r", "back\\slash\\N", 'quote "q", ünï ☃', "NA", ""]
        floats = [0.1, 1 / 3, 5e-324, -0.0, 1e16, None]
        dates = [dt.date(1678, 1, 1), dt.date(2262, 4, 10), None, dt.date(2020, 2, 29)] * 2
        if store.engine.dialect.name == "sqlite":
            dates = [None if d is None else d.isoformat() for d in dates]
        columns: dict[str, object] = {
            schema.id_column: [f"X-{i}" for i in range(6)],
            "notes": texts,
            kinds["number"]: floats,
            kinds["integer"]: [2**62, -(2**62), 0, None, 1, 7],
            kinds["date"]: dates[:6],
            kinds["boolean"]: [True, False, None, True, False, True],
            "kypho_version": 1,
            "kypho_locked": False,
        }
        with store._writing("import") as writer:
            _insert_columns(
                writer.conn, store.tables.records, list(columns), list(columns.values()), 6
            )
        records = store.tables.records
        query = sa.select(*(records.c[name] for name in list(columns)[:6])).order_by(
            records.c.kypho_row
        )
        with store.engine.connect() as conn:
            rows = conn.execute(query).all()
            # as the readers' fallback reads them (COPY TO and pyarrow on PostgreSQL)
            stored = _stored_columns(conn, query)
    got = [list(column) for column in zip(*rows, strict=True)]
    assert isinstance(stored[2], np.ndarray) == db_url.startswith("postgresql")
    assert [None if v is None or v != v else float.hex(v) for v in stored[2]] == [
        None if v is None else float.hex(v) for v in got[2]
    ]
    assert [stored[0], stored[1], *stored[3:]] == [got[0], got[1], *got[3:]]
    assert got[0] == columns[schema.id_column]
    assert got[1] == texts
    # SQLite itself reads -0.0 back as 0.0 (a whole-number REAL is kept as an integer)
    zero = 1.0 if db_url.startswith("sqlite") else -1.0
    want = [*floats[:3], math.copysign(0.0, zero), *floats[4:]]
    assert [None if v is None else float.hex(v) for v in got[2]] == [
        None if v is None else float.hex(v) for v in want
    ]
    assert got[3] == [2**62, -(2**62), 0, None, 1, 7]
    assert [None if d is None else d.isoformat() for d in got[4]] == [
        None if d is None else str(d)[:10] for d in dates[:6]
    ]
    assert got[5] == [True, False, None, True, False, True]


def test_a_new_sqlite_store_has_large_pages_and_cache(
    tmp_path: Path, make_patients: Callable[..., pd.DataFrame]
) -> None:
    # a whole record's JSON (~2 KB) fills a 4 KiB page alone; at 16 KiB six fit
    url = f"sqlite:///{tmp_path / 'study.db'}"
    with Store.init(url, admin=ADMIN) as store:
        store.import_frame(make_patients(3), reason="baseline")
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == SQLITE_PAGE_SIZE == 16384
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
        assert store.verify().ok
