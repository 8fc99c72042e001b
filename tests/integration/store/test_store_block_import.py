"""An import validated and stored in blocks gives exactly the whole file's import.

On PostgreSQL, and in an exclusive import of a SQLite file (through ADBC),
:meth:`Store.import_frame` validates a large file a block of rows at a time and
stores each block while it validates the next (``Store._import_blocks``), when
no id is shared and none is stored yet. These tests import the same dirty files
into two stores in the same state, one by blocks (blocks of a few rows here)
and one by the whole file's path, and compare everything the import gives back
and stores: the problems and rejected rows (whole frames, messages included, in
order), the stored records, and the trail.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kypho.store.store as store_module
from kypho.errors import StoreError
from kypho.store import Store

#: Cells each breaking one rule: a type, a level, a required value, a range, a
#: cross-field rule (follow-up before the operation), an impossible date, no id.
_BAD_CELLS = {
    "age": "7",
    "group": "placebo",
    "sex": "",
    "vas_pre": "ten",
    "last_followup_date": "2000-01-01",
    "birth_date": "2020-02-30",
    "patient_id": "",
}
_ids = itertools.count(1)


@pytest.fixture
def stores(new_db_url: Callable[[], str]) -> Iterator[dict[str, Store]]:
    """Two empty stores on one engine: ``blocks`` and ``whole``."""
    opened: dict[str, Store] = {}
    try:
        for kind in ("blocks", "whole"):
            opened[kind] = Store.init(new_db_url(), admin="ada")
        yield opened
    finally:
        for store in opened.values():
            store.close()


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Blocks of 3, then 4 rows (COPY parts of 2 rows); returns a list counting block imports."""
    monkeypatch.setattr(store_module, "_FIRST_VALIDATE_ROWS", 3)
    monkeypatch.setattr(store_module, "_VALIDATE_ROWS", 4)
    monkeypatch.setattr(store_module, "_COPY_ROWS", 2)
    calls: list[int] = []
    blocks = Store._import_blocks

    def counted(self: Store, *args: object, **kwargs: object) -> object:
        calls.append(1)
        return blocks(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "_import_blocks", counted)
    return calls


def _as_read(raw: pd.DataFrame) -> pd.DataFrame:
    """``raw`` numbered by its CSV lines, as :func:`kypho.io.read_table` gives a file."""
    raw = raw.copy()
    raw.index = pd.RangeIndex(2, len(raw) + 2, name="line")
    return raw


def _trail(store: Store) -> pd.DataFrame:
    """The stored trail without what differs between two stores by design (times, hashes)."""
    audit = store.tables.audit
    columns = ["seq", "action", "record", "field", "old_value", "new_value", "reason", "version"]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(*(audit.c[c] for c in columns)).order_by(audit.c.seq))
        return pd.DataFrame(rows.all(), columns=columns)


def _import_both(
    stores: dict[str, Store], raw: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Import ``raw`` by blocks and by the whole file's path; assert the same outcome."""
    got = stores["blocks"].import_frame(raw, reason="by blocks", source="f.csv", exclusive=True)
    with monkeypatch.context() as whole_only:
        whole_only.setattr(Store, "_block_ids", lambda self, raw, *, strict, exclusive: None)
        want = stores["whole"].import_frame(raw, reason="by blocks", source="f.csv", exclusive=True)
    assert (got.n_read, got.n_imported, got.unknown_columns) == (
        want.n_read,
        want.n_imported,
        want.unknown_columns,
    )
    pd.testing.assert_frame_equal(got.problems, want.problems)
    pd.testing.assert_frame_equal(got.rejected, want.rejected)
    pd.testing.assert_frame_equal(stores["blocks"].read(), stores["whole"].read())
    pd.testing.assert_frame_equal(_trail(stores["blocks"]), _trail(stores["whole"]))
    assert stores["blocks"].verify().ok


def test_rejected_rows_in_several_blocks(
    stores: dict[str, Store],
    small_blocks: list[int],
    make_patients: Callable[..., pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = make_patients(17, start=1)
    # a bad cell in the first, a middle and the last block, two in one row
    for row, column in [(0, "age"), (5, "group"), (5, "vas_pre"), (9, "last_followup_date")]:
        raw.loc[row, column] = _BAD_CELLS[column]
    raw.loc[16, "sex"] = ""
    raw["ward_note"] = "kept, not stored"  # a column the schema does not know
    _import_both(stores, _as_read(raw), monkeypatch)
    assert small_blocks == [1]  # the block path ran (and matched the whole file's)
    assert len(stores["blocks"].read()) == 17 - 4


def test_a_shared_or_stored_id_takes_the_whole_files_path(
    stores: dict[str, Store],
    small_blocks: list[int],
    make_patients: Callable[..., pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = make_patients(12, start=1)
    _import_both(stores, _as_read(first), monkeypatch)
    shared = make_patients(12, start=100)
    # rows in different blocks, one id with spaces around it
    shared.loc[11, "patient_id"] = f" {shared.loc[1, 'patient_id']}"
    _import_both(stores, _as_read(shared), monkeypatch)
    stored = make_patients(12, start=200)
    stored.loc[8, "patient_id"] = first.loc[3, "patient_id"]
    _import_both(stores, _as_read(stored), monkeypatch)
    assert small_blocks == [1]  # only the first file went by blocks


@settings(
    max_examples=12,
    deadline=None,
    # two stores for all examples on purpose: each example imports into both
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    n=st.integers(1, 23),
    corrupt=st.lists(st.tuples(st.integers(0, 22), st.sampled_from(sorted(_BAD_CELLS)))),
    shared=st.lists(
        st.tuples(st.integers(0, 22), st.integers(0, 22), st.sampled_from(["", " ", "\t "])),
        max_size=2,
    ),
    stored=st.lists(st.integers(0, 22), max_size=1),
)
def test_blocks_give_the_whole_files_import(
    stores: dict[str, Store],
    small_blocks: list[int],
    make_patients: Callable[..., pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
    n: int,
    corrupt: list[tuple[int, str]],
    shared: list[tuple[int, int, str]],
    stored: list[int],
) -> None:
    raw = make_patients(n, start=next(_ids) * 100)
    for row, column in corrupt:
        if row < n:
            raw.loc[row, column] = _BAD_CELLS[column]
    for row, other, space in shared:
        if row < n and other < n:
            # the same id, or the same once validation trims it
            raw.loc[row, "patient_id"] = f"{space}{raw.loc[other, 'patient_id']}{space}"
    for row in stored:
        if row < n:
            raw.loc[row, "patient_id"] = "P-00100"  # imported by an earlier example, or not
    _import_both(stores, _as_read(raw), monkeypatch)


def test_a_shared_sqlite_store_never_goes_by_blocks(
    tmp_path: Path, make_patients: Callable[..., pd.DataFrame], small_blocks: list[int]
) -> None:
    # without exclusive (a web server's import) SQLite is written through
    # SQLAlchemy alone, the whole file's way
    with Store.init(f"sqlite:///{tmp_path}/study.db", admin="ada") as store:
        result = store.import_frame(_as_read(make_patients(12)), reason="r")
    assert (result.n_imported, small_blocks) == (12, [])


def test_a_failed_append_stores_nothing(
    tmp_path: Path,
    make_patients: Callable[..., pd.DataFrame],
    small_blocks: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # an error in the second block's append (in ADBC's thread) ends the import,
    # and its transaction leaves the store as it was
    from kypho.store._sqlite_direct import DirectSqlite

    appended: list[int] = []
    append = DirectSqlite.append

    def failing(self: DirectSqlite, table: sa.Table, data: object) -> None:
        appended.append(1)
        if len(appended) == 2:
            raise StoreError("the disk is full (a test)")
        append(self, table, data)

    monkeypatch.setattr(DirectSqlite, "append", failing)
    with Store.init(f"sqlite:///{tmp_path}/study.db", admin="ada") as store:
        before = store.verify()
        with pytest.raises(StoreError, match="the disk is full"):
            store.import_frame(_as_read(make_patients(12)), reason="r", exclusive=True)
        assert small_blocks == [1]
        assert store.read().empty
        after = store.verify()
        assert after.ok
        assert (after.head_hash, after.n_entries) == (before.head_hash, before.n_entries)


def test_a_read_file_with_ragged_lines(
    stores: dict[str, Store],
    small_blocks: list[int],
    make_patients: Callable[..., pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # read_table's frame, numbered by line, with cells it could not read (a line
    # cut short, one too long) in different blocks: the same import both ways
    from kypho.io import read_table

    path = tmp_path / "ward.csv"
    make_patients(14, start=500).to_csv(path, index=False)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = ",".join(lines[2].split(",")[:4])
    lines[11] = lines[11] + ",surplus"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = read_table(path, schema=stores["blocks"].schema)
    assert raw.attrs.get("kypho_unread")
    _import_both(stores, raw, monkeypatch)
    assert small_blocks == [1]
