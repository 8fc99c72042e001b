"""What an import writes: the records, and one ``create_batch`` entry holding them all.

Checked against the database itself (the audit and record tables read with
SQLAlchemy), not through verify or export, on every engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from kypho.store import Store
from kypho.store.audit import GENESIS, HASHED_FIELDS, dumps, entry_hash
from kypho.store.batch import ACTION, decode_batch, records_table
from kypho.validate import validate

ADMIN = "ada"


@pytest.fixture(params=[False, True], ids=["shared", "exclusive"])
def exclusive(request: pytest.FixtureRequest, db_url: str) -> bool:
    """Both ways an import writes a SQLite file: a scratch file, or ADBC into the store."""
    if request.param and not db_url.startswith("sqlite"):
        pytest.skip("exclusive changes how a SQLite file is written, nothing else")
    return bool(request.param)


def _trail(store: Store) -> list[dict[str, Any]]:
    audit = store.tables.audit
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(audit).order_by(audit.c.seq)).mappings().all()
    return [dict(row) for row in rows]


def _stored_rows(store: Store, names: list[str]) -> list[tuple[Any, ...]]:
    records = store.tables.records
    query = sa.select(*(records.c[name] for name in names)).order_by(records.c.kypho_row)
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def _awkward(raw: pd.DataFrame) -> pd.DataFrame:
    """Missing cells of every stored type, and text the COPY format escapes."""
    raw = raw.copy()
    for column in ("vas_2h", "bmd_t_score", "pain", "leak_sites"):
        raw.loc[[2, 7], column] = ""
    raw["n_fractured_levels"] = ["1", "", "2"] * (len(raw) // 3) + ["1"] * (len(raw) % 3)
    raw.loc[3, "last_followup_date"] = ""
    raw.loc[4, "notes"] = 'tab\there, line\nbreak, back\\slash "quoted" ü'
    return raw


def test_an_import_writes_one_batch_entry_holding_every_record(
    db_url: str, make_patients: Callable[..., pd.DataFrame], exclusive: bool
) -> None:
    raw = _awkward(make_patients(30))
    with Store.init(db_url, admin=ADMIN) as store:
        before = len(_trail(store))
        result = store.import_frame(raw, reason="baseline", source="ward3.csv", exclusive=exclusive)
        assert (result.n_imported, result.n_rejected) == (30, 0)
        trail = _trail(store)
        names = list(store.tables.data_columns)
        stored = _stored_rows(store, names)
        schema = store.schema
    new = trail[before:]
    assert [e["action"] for e in new] == ["import", ACTION]
    batch = new[1]
    assert (batch["record"], batch["field"], batch["old_value"], batch["version"]) == (
        None,
        None,
        None,
        1,
    )
    assert (batch["user_name"], batch["role"], batch["reason"]) == (ADMIN, "admin", "baseline")
    assert json.loads(new[0]["new_value"])["imported"] == 30
    # the chain covers the batch as any entry: its hash is entry_hash of its fields
    prev = GENESIS
    for entry in trail:
        assert entry["prev_hash"] == prev
        prev = entry_hash(prev, {k: entry[k] for k in HASHED_FIELDS})
        assert entry["hash"] == prev
    table = decode_batch(batch["new_value"])
    order = [schema.id_column, *(n for n in names if n != schema.id_column)]
    assert table.column_names == order
    # the batch holds the validated records as stored, in import order ...
    expected = records_table(validate(raw, schema).data, schema, names)
    assert table.equals(expected)
    # ... and the very values in the record table
    by_name = dict(zip(names, zip(*stored, strict=True), strict=True))
    for name in order:
        assert table.column(name).to_pylist() == list(by_name[name]), name
    assert table.column("notes")[4].as_py() == raw.loc[4, "notes"]


def test_one_new_record_keeps_its_own_create_entry(
    db_url: str, make_patients: Callable[..., pd.DataFrame], exclusive: bool
) -> None:
    """A single create (the web form's, a one-row file) is one ``create`` entry, as before."""
    raw = make_patients(1)
    with Store.init(db_url, admin=ADMIN) as store:
        before = len(_trail(store))
        store.import_frame(raw, reason="entered in the web form", exclusive=exclusive)
        new = _trail(store)[before:]
        names = list(store.tables.data_columns)
        (stored,) = _stored_rows(store, names)
    assert [e["action"] for e in new] == ["import", "create"]
    create = new[1]
    assert (create["record"], create["field"], create["version"]) == ("P-00001", None, 1)
    assert create["new_value"] == dumps(dict(zip(names, stored, strict=True)))


def test_rejected_rows_stay_out_of_the_batch_and_are_reported(
    db_url: str, make_patients: Callable[..., pd.DataFrame], exclusive: bool
) -> None:
    raw = make_patients(10)
    raw.loc[[1, 6], "vas_pre"] = "12"
    with Store.init(db_url, admin=ADMIN) as store:
        before = len(_trail(store))
        result = store.import_frame(raw, reason="baseline", exclusive=exclusive)
        assert (result.n_read, result.n_imported, result.n_rejected) == (10, 8, 2)
        assert list(result.rejected["row"]) == [2, 7]
        assert list(result.problems["field"]) == ["vas_pre", "vas_pre"]
        new = _trail(store)[before:]
        assert [e["action"] for e in new] == ["import", ACTION]
        ids = decode_batch(new[1]["new_value"], columns=[]).column(0).to_pylist()
        assert ids == [p for k, p in enumerate(raw["patient_id"]) if k not in (1, 6)]
        # every row rejected: no record, no batch, the import is still recorded
        again = make_patients(3, start=50)
        again["vas_pre"] = "12"
        assert store.import_frame(again, reason="all bad", exclusive=exclusive).n_imported == 0
        assert [e["action"] for e in _trail(store)[before + 2 :]] == ["import"]


def test_the_stored_columns_are_the_values_the_store_wrote_before_batches(
    make_patients: Callable[..., pd.DataFrame],
) -> None:
    """``records_table`` gives, column by column, the Python values of ``_python_values``
    (what an import stored before batches), dates as calendar days."""
    from kypho.store.store import _default_schema, _python_values

    schema = _default_schema()
    data = validate(_awkward(make_patients(12)), schema).data
    names = [v.name for v in schema.input_variables]
    table = records_table(data, schema, names)
    assert {str(data[name].dtype) for name in data.columns} >= {
        "float64",
        "Int64",
        "boolean",
        "category",
        "datetime64[ns]",
        "string",
    }
    for name in names:
        old = _python_values(data[name], schema[name]) if name in data else [None] * len(data)
        assert table.column(name).to_pylist() == old, name
    kinds = {schema[name].type: table.schema.field(name).type for name in names}
    assert kinds["date"] == pa.date32()
    assert kinds["integer"] == pa.int64()
    assert kinds["boolean"] == pa.bool_()
    assert kinds["number"] == pa.float64()
    assert kinds["category"] == pa.string()
    # a number's missing cell is null, never NaN
    vas = table.column("vas_2h").to_numpy(zero_copy_only=False)
    assert np.isnan(vas).sum() == table.column("vas_2h").null_count == 2


def test_the_import_scratch_file_lies_beside_the_store_and_is_gone_after(
    tmp_path: Any, make_patients: Callable[..., pd.DataFrame], monkeypatch: Any
) -> None:
    """The SQLite import's scratch copy of the records is made in the store's folder, not /tmp."""
    import tempfile

    folders: list[str | None] = []
    real = tempfile.mkstemp

    def recording(*args: Any, **kwargs: Any) -> tuple[int, str]:
        folders.append(kwargs.get("dir"))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", recording)
    folder = tmp_path / "study"
    folder.mkdir()
    with Store.init(f"sqlite:///{folder / 'study.db'}", admin=ADMIN) as store:
        assert store.import_frame(make_patients(12), reason="baseline").n_imported == 12
    assert folders == [str(folder)]
    assert not [p.name for p in folder.iterdir() if p.name.startswith("kypho-import-")]
