"""verify, export and ``analyze --db`` on both forms of the trail's record creation.

An import writes its records either as one ``create`` entry per record (every
store made before batches) or as one ``create_batch`` entry (D1: the records as
a Parquet file, :mod:`kypho.store.batch`). The same records imported either way
must verify, export and read the same, and the same change made behind kypho's
back must be reported in the same words, record, field and both values.

The two forms are written here entry by entry through the store's own writer,
so that these tests do not depend on which form ``import_frame`` writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from kypho.cli import main
from kypho.store import Store, load_from_store
from kypho.store.audit import dumps
from kypho.store.batch import ACTION, encode_batch
from kypho.validation import validate

ADMIN = "ada"

_ARROW = {
    "number": pa.float64(),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
}


def _values(column: pd.Series, kind: str) -> list[object]:
    """A typed column as the Python values the store holds (``None`` where missing)."""
    cells = column.astype(object).where(column.notna(), None).tolist()
    if kind == "date":
        return [None if v is None else v.date() for v in cells]
    convert = {"number": float, "integer": int, "boolean": bool}.get(kind, str)
    return [None if v is None else convert(v) for v in cells]


def _write(store: Store, raw: pd.DataFrame, *, batch: bool) -> None:
    """Store ``raw``'s records with one ``create`` entry each, or one ``create_batch``."""
    checked = validate(raw, store.schema)
    assert not len(checked.problems)
    data = checked.data
    names = store.tables.data_columns
    n = len(data)
    kinds = {name: store.schema[name].type for name in names}
    columns = {
        name: _values(data[name], kinds[name]) if name in data else [None] * n for name in names
    }
    id_col = store.schema.id_column
    rows = [{name: columns[name][i] for name in names} for i in range(n)]
    with store._writing("import") as w:
        w.append("import", new=dumps({"rows": n}), reason="baseline")
        if batch:
            order = [id_col, *(name for name in names if name != id_col)]
            table = pa.table(
                {
                    name: pa.array(columns[name], _ARROW.get(kinds[name], pa.string()))
                    for name in order
                }
            )
            w.append(ACTION, new=encode_batch(table), reason="baseline", version=1)
        else:
            for row in rows:
                w.append("create", record=str(row[id_col]), new=dumps(row), version=1)
        w.conn.execute(
            sa.insert(store.tables.records),
            [{**row, "kypho_version": 1, "kypho_locked": False} for row in rows],
        )


def _sql(store: Store, statement: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(statement))


@pytest.fixture
def pair(
    db_url: str, tmp_path: object, make_patients: Callable[..., pd.DataFrame]
) -> Iterator[tuple[Store, Store]]:
    """The same 40 records in two stores: per-record entries (old form) and one batch."""
    raw = make_patients(40)
    old = Store.init(f"sqlite:///{tmp_path}/old.db", admin=ADMIN)
    new = Store.init(db_url, admin=ADMIN)
    _write(old, raw, batch=False)
    _write(new, raw, batch=True)
    yield old, new
    old.close()
    new.close()


def test_both_forms_verify_export_and_read_the_same(pair: tuple[Store, Store]) -> None:
    old, new = pair
    a, b = old.verify(), new.verify()
    assert a.ok, a.problems
    assert b.ok, b.problems
    assert (a.n_records, b.n_records) == (40, 40)
    assert (a.n_entries, b.n_entries) == (43, 4)
    pd.testing.assert_frame_equal(old.export(), new.export())
    pd.testing.assert_frame_equal(
        old.export(full=True, reason="check"), new.export(full=True, reason="check")
    )
    # the Arrow reading gives the frame the driver's values give (Store.read)
    for store in (old, new):
        url = store.engine.url.render_as_string(hide_password=False)
        pd.testing.assert_frame_equal(load_from_store(url, user=ADMIN), store.read())


_CHANGES = [
    "UPDATE kypho_records SET vas_pre = 9.5 WHERE patient_id = 'P-00002'",
    "UPDATE kypho_records SET vas_pre = NULL, age = 99 WHERE patient_id = 'P-00003'",
    "UPDATE kypho_records SET vas_4h = 2.5 WHERE patient_id = 'P-00004'",
    "UPDATE kypho_records SET level = 'T12', notes = 'x' WHERE patient_id = 'P-00005'",
    "UPDATE kypho_records SET operation_date = '2020-02-29' WHERE patient_id = 'P-00006'",
    "UPDATE kypho_records SET pain = NOT pain WHERE patient_id = 'P-00007'",
    "UPDATE kypho_records SET kypho_version = 4 WHERE patient_id = 'P-00008'",
    "UPDATE kypho_records SET kypho_locked = true, kypho_locked_by = 'x' "
    "WHERE patient_id = 'P-00009'",
    "DELETE FROM kypho_records WHERE patient_id = 'P-00010'",
    'INSERT INTO kypho_records (patient_id, "group", sex, age, level, kypho_version, '
    "kypho_locked) VALUES ('P-77777', 'control', 'male', 70, 'L1', 1, false)",
]


def test_changes_behind_kyphos_back_are_reported_the_same_in_both_forms(
    pair: tuple[Store, Store],
) -> None:
    old, new = pair
    for statement in _CHANGES:
        _sql(old, statement)
        _sql(new, statement)
    got = new.verify().problems
    assert got == old.verify().problems
    assert got[0].startswith("record P-00002, 'vas_pre' is 9.5 in the table but ")
    assert "record P-00004, 'vas_4h' is 2.5 in the table but null in the audit trail" in got
    assert "record P-00008 has version 4 in the table but 1 in the audit trail" in got
    assert "record P-00009 is locked in the table but not in the audit trail" in got
    assert "record P-00010 is in the audit trail but missing from the table" in got
    assert "record P-77777 is in the table but the trail never created it" in got
    assert got[-2:] == (
        "record P-77777 is in the table but the trail never created it",
        "record P-00010 is in the audit trail but missing from the table",
    )
    assert any(p.startswith("record P-00003, 'age' is 99 in the table but ") for p in got)
    assert any(p.startswith("record P-00003, 'vas_pre' is null in the table but ") for p in got)
    assert any(p.startswith("record P-00006, 'operation_date' is \"2020-02-29\"") for p in got)
    assert any(p.startswith("record P-00007, 'pain' is ") for p in got)
    assert len(got) == 12


def test_edits_locks_deletes_after_a_batch_replay(
    pair: tuple[Store, Store], make_patients: Callable[..., pd.DataFrame]
) -> None:
    _, new = pair
    new.edit("P-00002", {"vas_pre": "6.5"}, expected_version=1, reason="source check")
    new.edit("P-00002", {"vas_2h": "1.5"}, expected_version=2, reason="source check")
    new.lock("P-00003", reason="verified")
    new.delete("P-00004", expected_version=1, reason="withdrew consent")
    # the deleted id comes back in a second import (a batch of one)
    _write(new, make_patients(1, start=4, seed=9), batch=True)
    result = new.verify()
    assert result.ok, result.problems
    assert result.n_records == 40
    # the deleted and re-imported record's log: both batches that created it
    assert list(new.log(record="P-00004")["action"]) == [ACTION, "delete", ACTION]
    assert list(new.log(record="P-00005")["action"]) == [ACTION]
    frame = new.export(full=True, reason="check")
    row = frame.set_index("patient_id").loc["P-00002"]
    assert (row["vas_pre"], row["vas_2h"], row["record_version"]) == (6.5, 1.5, 3)
    assert bool(frame.set_index("patient_id").loc["P-00003", "record_locked"])
    # the edited record is compared through its JSON, the others by column
    _sql(new, "UPDATE kypho_records SET vas_2h = 3.5 WHERE patient_id = 'P-00002'")
    _sql(new, "UPDATE kypho_records SET kypho_locked = false WHERE patient_id = 'P-00003'")
    _sql(new, "UPDATE kypho_records SET vas_2h = 3.5 WHERE patient_id = 'P-00004'")
    problems = new.verify().problems
    assert problems[:2] == (
        "record P-00002, 'vas_2h' is 3.5 in the table but 1.5 in the audit trail",
        "record P-00003 is unlocked in the table but not in the audit trail",
    )
    assert problems[2].startswith("record P-00004, 'vas_2h' is 3.5 in the table but ")
    assert len(problems) == 3


def test_a_damaged_batch_is_reported_as_malformed(pair: tuple[Store, Store]) -> None:
    _, new = pair
    on = "ON kypho_audit" if new.engine.dialect.name == "postgresql" else ""
    _sql(new, f"DROP TRIGGER kypho_audit_no_update {on}")
    _sql(new, "UPDATE kypho_audit SET new_value = '{\"format\": 1}' WHERE seq = 4")
    at = new.log()["at"].iloc[-1]
    problems = new.verify().problems
    assert problems[:2] == (
        f"entry 4 ({ACTION}, record None, {at}) was altered: its content does not match its hash",
        f"entry 4 ({ACTION}) is malformed and cannot be replayed: the audit trail's batch of "
        "new records is malformed: it is not a 'kypho-batch' object",
    )
    # its records were never created, as far as the trail can tell
    assert problems[2] == "record P-00001 is in the table but the trail never created it"
    assert len(problems) == 42


def test_log_shows_a_batch_as_one_entry_and_a_record_from_its_batch(
    pair: tuple[Store, Store],
) -> None:
    old, new = pair
    trail = new.log()
    assert len(trail) == 4
    assert list(trail["action"])[-2:] == ["import", ACTION]
    batch = trail.iloc[-1]
    assert (batch["record"], batch["version"]) == (None, 1)
    summary = json.loads(batch["new_value"])
    assert (summary["records"], summary["first"], summary["last"]) == (40, "P-00001", "P-00040")
    assert "parquet" not in summary
    assert summary["columns"][0] == "patient_id"
    # the identified log holds the entry as stored (what its hash covers)
    assert new.log(full=True, reason="inspection")["new_value"].iloc[-1].startswith('{"columns":')
    assert '"parquet":' in new.log(full=True, reason="inspection")["new_value"].iloc[-2]
    # one record's log: its creation from the batch with its values only, de-identified
    # exactly as a per-record create entry is
    new.edit("P-00002", {"vas_pre": "6.5"}, expected_version=1, reason="source check")
    old.edit("P-00002", {"vas_pre": "6.5"}, expected_version=1, reason="source check")
    mine, theirs = new.log(record="P-00002"), old.log(record="P-00002")
    assert list(mine["action"]) == [ACTION, "update"]
    assert list(theirs["action"]) == ["create", "update"]
    assert list(mine["record"]) == ["P-00002", "P-00002"]
    assert mine["new_value"].iloc[0] == theirs["new_value"].iloc[0]
    values = json.loads(mine["new_value"].iloc[0])
    theirs_values = json.loads(theirs["new_value"].iloc[0])
    assert values["patient_id"] == "P-00002"
    assert "patient_name" not in values
    assert "birth_date" not in values
    assert values["operation_date"] == theirs_values["operation_date"]
    assert len(values["operation_date"]) == 4
    full = json.loads(new.log(record="P-00002", full=True, reason="inspection")["new_value"][0])
    assert full["patient_name"] == "Name2x Surname2y"
    # (the identified read above is itself an entry of the record)
    assert list(new.log(record="P-00002", limit=2)["action"]) == ["update", "log"]
    assert new.log(record="P-99999").empty


def test_printed_log_shows_the_batch_in_one_line(db_url: str, pair: tuple[Store, Store]) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["db", "--url", db_url, "--user", ADMIN, "log"])
    assert result.exit_code == 0, result.output
    line = result.stdout.splitlines()[-1]
    assert line.endswith(f"{ACTION} v1 created 40 records: P-00001 … P-00040 (baseline)")
    assert "Name" not in result.stdout
    result = runner.invoke(
        main, ["db", "--url", db_url, "--user", ADMIN, "log", "--record", "P-00003"]
    )
    assert result.exit_code == 0, result.output
    assert f'{ACTION} v1 P-00003 - -> {{"age":' in result.stdout
    assert "Name" not in result.stdout


def test_values_the_fast_readers_cannot_type_are_read_by_the_driver(
    pair: tuple[Store, Store],
) -> None:
    """Text in a number column (SQLite keeps it: a column's type is only an affinity)
    and a malformed date are reported as the driver reads them, in both forms."""
    old, new = pair
    if new.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL refuses such values itself")
    for store in (old, new):
        _sql(store, "UPDATE kypho_records SET vas_pre = 'abc' WHERE patient_id = 'P-00002'")
    got = new.verify().problems
    assert got == old.verify().problems
    assert len(got) == 1
    assert got[0].startswith("record P-00002, 'vas_pre' is \"abc\" in the table but ")


def test_the_drivers_values_of_another_type_stay_lists(pair: tuple[Store, Store]) -> None:
    """A value of another type than its column's (stored behind kypho's back) keeps
    the driver's lists, which verify reports value by value."""
    from kypho.store.store import _driver_table

    old, _ = pair
    records = old.tables.records
    query = sa.select(records.c.patient_id, records.c.vas_pre, records.c.age)
    assert _driver_table([["P-1", "P-2"], [1.5, None], [70, 71]], query) is not None
    assert _driver_table([["P-1", "P-2"], [1.5, "abc"], [70, 71]], query) is None
    assert _driver_table([["P-1", "P-2"], [1.5, 2.0], [70, 71.5]], query) is None
    assert _driver_table([["P-1", "P-2"], [1.5, 2.0], [True, 71]], query) is None


def test_the_early_reader_gives_way_to_a_writer_that_got_in_between(
    pair: tuple[Store, Store],
) -> None:
    """Rows read early (``kypho.store._early``) come with the head their read saw;
    asked for another head, the reader gives none."""
    from kypho.store._early import Prefetch

    old, _ = pair
    chain = old.tables.chain
    with old.engine.connect() as conn:
        top = tuple(conn.execute(sa.select(chain.c.seq, chain.c.hash)).one())
    early = Prefetch(old.url)
    early.join()
    parts = early.records(top)
    assert parts is not None
    assert parts[0].column("patient_id").to_pylist()[:2] == ["P-00001", "P-00002"]
    assert early.records((top[0] - 1, top[1])) is None


def test_the_readers_give_the_drivers_values_exactly(db_url: str) -> None:
    """ADBC (SQLite; PostgreSQL's binary COPY) and COPY in CSV read awkward values as
    the driver does: shortest-repr floats, -0.0, the smallest subnormal, text with
    tabs, line breaks, quotes, "NA" and "", dates at both ends of pandas' range,
    integers near 2⁶², booleans, missing values."""
    import datetime as dt

    from kypho.store._early import Prefetch
    from kypho.store._reading import (
        arrow_types,
        cast_columns,
        copied_table,
        postgresql_table,
    )
    from kypho.store.store import _driver, _driver_table

    texts = ["a\tb", "line\nbreak\r", "back\\slash\\N", 'quote "q", ünï ☃', "NA", ""]
    rows = [
        {
            "patient_id": f"X-{i}",
            "notes": texts[i],
            "vas_pre": [0.1, 1 / 3, 5e-324, -0.0, 1e16, None][i],
            "age": [2**62, -(2**62), 0, None, 1, 7][i],
            "operation_date": [dt.date(1678, 1, 1), dt.date(2262, 4, 10), None][i % 3],
            "pain": [True, False, None][i % 3],
            "kypho_version": 1,
            "kypho_locked": i == 2,
        }
        for i in range(6)
    ]
    with Store.init(db_url, admin=ADMIN) as store:
        records, chain = store.tables.records, store.tables.chain
        with store.engine.begin() as conn:
            conn.execute(sa.insert(records), rows)
        names = [*rows[0], "kypho_locked_by"]
        query = sa.select(*(records.c[n] for n in names)).order_by(records.c.kypho_row)
        head = sa.select(chain.c.seq, chain.c.hash)
        with store.engine.connect() as conn:
            if store.engine.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            by_driver = [list(c) for c in zip(*conn.execute(query).all(), strict=True)]
            top = tuple(conn.execute(head).one())
            types = arrow_types(query)
            assert types is not None
            early = Prefetch(store.url)
            early.join()
            parts = early.records(top)
            assert parts is not None
            tables = [cast_columns(part.select(names), types, names) for part in parts]
            # the driver's own values as a table (the Python API's SQLite path)
            tables.append(_driver_table(by_driver, query))
            if store.engine.dialect.name == "postgresql":
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
                tables += [
                    postgresql_table(store.engine, query, str(snapshot)),
                    copied_table(conn, query, _driver),
                ]
    for table in tables:
        assert table is not None
        assert [f.type for f in table.schema] == arrow_types(query)
        got = [table.column(n).to_pylist() for n in names]
        assert got == by_driver
        # -0.0 == 0.0: compare the floats' bits too (SQLite itself stores -0.0 as 0.0)
        assert [None if v is None else v.hex() for v in got[2]] == [
            None if v is None else v.hex() for v in by_driver[2]
        ]


def test_the_records_read_in_two_halves_are_the_records(
    pair: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large table is read in two halves at once (two connections, one snapshot):
    the same export and the same problems as one read."""
    import kypho.store._early as early_module

    _, new = pair
    _sql(new, "UPDATE kypho_records SET vas_pre = 9.5 WHERE patient_id = 'P-00030'")
    whole = new.export(unverified="test")
    problems = new.verify().problems
    monkeypatch.setattr(early_module, "SPLIT_ROWS", 2)
    pd.testing.assert_frame_equal(new.export(unverified="test"), whole)
    assert new.verify().problems == problems
    assert len(problems) == 1
