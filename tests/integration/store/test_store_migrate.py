"""Migrations: Alembic revisions of the structure, versioned schema columns."""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import pytest
import sqlalchemy as sa

from kypho.errors import StoreError
from kypho.schema import load_schema
from kypho.store import Store, load_from_store
from kypho.store import migrate as store_migrate

ADMIN = "ada"


def test_new_schema_variables_become_new_columns(
    db_url: str, make_patients: Callable[..., pd.DataFrame]
) -> None:
    base = load_schema()
    extended = load_schema(extensions=[{"extend_repeated": {"vas": ["d3"]}}])
    with Store.init(db_url, admin=ADMIN, schema=base) as store:
        store.import_frame(make_patients(3), reason="baseline")
    with pytest.raises(StoreError) as info:
        Store(db_url, user=ADMIN, schema=extended)
    shown = sa.make_url(db_url).render_as_string(hide_password=True)
    assert str(info.value) == (
        f"the store at {shown} was built for schema version 1 and does not match the schema "
        "given; an admin must run `kypho db migrate` with the new schema (columns are added, "
        "never dropped)"
    )
    with Store(db_url, user=ADMIN, schema=base) as store:
        assert store.migrate(extended) == ["vas_d3"]
        assert store.migrate(extended) == []
    with Store(db_url, user=ADMIN, schema=extended) as store:
        more = make_patients(2, start=10).assign(vas_d3=["1.5", "2"])
        store.import_frame(more, reason="with day-3 pain")
        data = store.read()
        assert data["vas_d3"].tolist()[3:] == [1.5, 2.0]
        assert data["vas_d3"].isna().sum() == 3
        entry = store.log().query("action == 'migrate'").iloc[0]
        assert json.loads(entry["new_value"]) == {
            "added": ["vas_d3"],
            "revision": store_migrate.head_revision(),
            "schema_version": 2,
        }
        assert store.verify().ok
        with store.engine.connect() as conn:
            assert store_migrate.stored_columns(conn, store.tables)[0] == 2


def test_dropping_a_column_is_refused(db_url: str) -> None:
    extended = load_schema(extensions=[{"extend_repeated": {"vas": ["d3"]}}])
    Store.init(db_url, admin=ADMIN, schema=extended).close()
    with Store(db_url, user=ADMIN, schema=extended) as store, pytest.raises(StoreError) as info:
        store.migrate(load_schema())
    assert str(info.value) == (
        "the store holds column(s) 'vas_d3' that the schema does not declare; load the schema "
        "with the extensions the store was built with (kypho never drops a column of study data)"
    )


def test_an_old_structure_revision_is_upgraded_and_recorded(db_url: str) -> None:
    Store.init(db_url, admin=ADMIN).close()
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        store_migrate.downgrade(conn, load_schema(), "0001")
    engine.dispose()
    head = store_migrate.head_revision()
    with pytest.raises(StoreError, match=f"has structure revision 0001, kypho expects {head}"):
        Store(db_url, user=ADMIN)
    with Store(db_url, user=ADMIN, check=False) as store:
        assert store.migrate() == []
    with Store(db_url, user=ADMIN) as store:
        entry = store.log().iloc[-1]
        assert entry["action"] == "migrate"
        assert json.loads(entry["old_value"]) == {"revision": "0001"}
        assert json.loads(entry["new_value"])["revision"] == head
        assert store.verify().ok
        with (
            pytest.raises(sa.exc.DatabaseError, match="the audit trail is append-only"),
            store.engine.begin() as conn,
        ):
            conn.execute(sa.text("DELETE FROM kypho_audit"))


def test_load_from_store_with_an_extended_schema(
    db_url: str, make_patients: Callable[..., pd.DataFrame]
) -> None:
    extended = load_schema(extensions=[{"extend_repeated": {"vas": ["d3"]}}])
    with Store.init(db_url, admin=ADMIN, schema=extended) as store:
        store.import_frame(make_patients(2).assign(vas_d3="3"), reason="r")
    with pytest.raises(StoreError, match="does not match the schema given"):
        load_from_store(db_url, user=ADMIN)
    frame = load_from_store(db_url, user=ADMIN, schema=extended)
    assert frame["vas_d3"].tolist() == [3.0, 3.0]


def test_the_head_revision_kypho_expects_is_alembics_head() -> None:
    """Opening a store compares with a constant (no Alembic import): it must be the head."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(store_migrate._config())
    assert scripts.get_heads() == [store_migrate.HEAD_REVISION]


def test_the_revision_read_without_alembic_is_alembics(db_url: str) -> None:
    from alembic.migration import MigrationContext

    Store.init(db_url, admin=ADMIN).close()
    engine = sa.create_engine(db_url)
    try:
        for revision in ("0001", None):
            with engine.begin() as conn:
                context = MigrationContext.configure(
                    conn, opts={"version_table": store_migrate.VERSION_TABLE}
                )
                assert store_migrate.current_revision(conn) == context.get_current_revision()
                assert store_migrate.current_revision(conn) in (store_migrate.HEAD_REVISION, "0001")
                if revision is not None:
                    store_migrate.downgrade(conn, load_schema(), revision)
    finally:
        engine.dispose()
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP TABLE {store_migrate.VERSION_TABLE}")
        conn.commit()
        assert store_migrate.current_revision(conn) is None
    engine.dispose()


def test_trail_values_are_stored_uncompressed_on_postgresql(db_url: str) -> None:
    """Revision d001: a batch's large, already compressed text is not compressed again."""
    Store.init(db_url, admin=ADMIN).close()
    engine = sa.create_engine(db_url)
    query = (
        "SELECT attstorage FROM pg_attribute "
        "WHERE attrelid = 'kypho_audit'::regclass AND attname = 'new_value'"
    )
    try:
        with engine.begin() as conn:
            if conn.dialect.name != "postgresql":
                assert store_migrate.current_revision(conn) == "d001"
                return
            assert conn.exec_driver_sql(query).scalar_one() == "e"  # EXTERNAL
            store_migrate.downgrade(conn, load_schema(), "w002")
            assert conn.exec_driver_sql(query).scalar_one() == "x"  # EXTENDED, the default
    finally:
        engine.dispose()
