"""An exclusive import on a SQLite file: ADBC's transaction writes what the scratch path writes.

``import_frame(..., exclusive=True)`` (what ``kypho db import`` does) runs the
import's transaction on ADBC's SQLite connection to the store file
(:mod:`kypho.store._sqlite_direct`). The stored bytes' types and values, the
trail and the chain must be those of the other path, and a failure anywhere
must leave the store as it was. SQLite only: on PostgreSQL ``exclusive``
changes nothing.
"""

from __future__ import annotations

import functools
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kypho.errors import StoreError
from kypho.store import Store
from kypho.store import store as store_module

ADMIN = "ada"


def _awkward(raw: pd.DataFrame) -> pd.DataFrame:
    raw = raw.copy()
    for column in ("vas_2h", "bmd_t_score", "pain", "leak_sites", "last_followup_date"):
        raw.loc[[2, 7], column] = ""
    raw.loc[4, "notes"] = 'tab\there, line\nbreak, back\\slash "quoted" ü'
    raw.loc[5, "vas_pre"] = "-0.0"
    raw.loc[6, "bmd_t_score"] = "-2.5000000000000004"
    return raw


def _contents(path: Path) -> tuple[list[Any], list[Any], list[Any]]:
    """Every stored value with its SQLite storage class; the trail and chain but the times."""
    with sqlite3.connect(path) as conn:
        names = [row[1] for row in conn.execute("PRAGMA table_info(kypho_records)")]
        cells = ", ".join(f'"{n}", typeof("{n}")' for n in names)
        records = conn.execute(f"SELECT rowid, {cells} FROM kypho_records ORDER BY rowid")
        audit = conn.execute(
            "SELECT seq, typeof(seq), user_name, role, action, record, field, old_value, "
            "new_value, typeof(new_value), reason, version, typeof(version) "
            "FROM kypho_audit ORDER BY seq"
        )
        chain = conn.execute("SELECT id, seq, typeof(seq) FROM kypho_chain")
        return records.fetchall(), audit.fetchall(), chain.fetchall()


def _import(path: Path, raw: pd.DataFrame, *, exclusive: bool) -> None:
    with Store.init(f"sqlite:///{path}", admin=ADMIN) as store:
        assert store.import_frame(raw, reason="baseline", exclusive=exclusive).n_rejected == 0
        assert (
            store.import_frame(
                raw.iloc[:1].assign(patient_id="P-9"), reason="one", exclusive=exclusive
            ).n_imported
            == 1
        )
        assert store.verify().ok


def test_both_paths_store_the_same_values_with_the_same_types(
    tmp_path: Path, make_patients: Callable[..., pd.DataFrame]
) -> None:
    raw = _awkward(make_patients(40))
    _import(tmp_path / "scratch.db", raw, exclusive=False)
    _import(tmp_path / "direct.db", raw, exclusive=True)
    scratch, direct = _contents(tmp_path / "scratch.db"), _contents(tmp_path / "direct.db")
    assert len(direct[0]) == 41
    assert direct[0] == scratch[0]
    assert direct[1] == scratch[1]
    assert direct[2] == scratch[2]
    classes = {cell for row in direct[0] for cell in row[2::2]}
    assert classes == {"text", "integer", "real", "null"}


def test_a_failure_before_the_commit_leaves_the_store_as_it_was(
    tmp_path: Path, make_patients: Callable[..., pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    with Store.init(url, admin=ADMIN) as store:
        store.import_frame(make_patients(5), reason="first", exclusive=True)
        data, trail = store.read(), store.log()

    def failing(self: Any) -> None:
        raise RuntimeError("the disk went away")

    # after the records and the trail's entries are written, before the commit
    with monkeypatch.context() as patch:
        patch.setattr(store_module._Writer, "flush", failing)
        with Store(url, user=ADMIN) as store, pytest.raises(RuntimeError, match="went away"):
            store.import_frame(make_patients(20, start=100), reason="doomed", exclusive=True)
    with Store(url, user=ADMIN) as store:
        pd.testing.assert_frame_equal(store.read(), data)
        pd.testing.assert_frame_equal(store.log(), trail)
        # the write lock was released: the next import goes through
        assert (
            store.import_frame(
                make_patients(3, start=100), reason="again", exclusive=True
            ).n_imported
            == 3
        )
        assert store.verify().ok


def test_the_database_refusing_a_write_is_a_store_error(
    tmp_path: Path, make_patients: Callable[..., pd.DataFrame]
) -> None:
    path = tmp_path / "study.db"
    url = f"sqlite:///{path}"
    with Store.init(url, admin=ADMIN) as store:
        store.import_frame(make_patients(2), reason="first", exclusive=True)
    with sqlite3.connect(path) as conn:
        # a trigger standing for any refusal by the database (full disk, corrupt page)
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON kypho_records "
            "BEGIN SELECT RAISE(ABORT, 'no more records'); END"
        )
    with Store(url, user=ADMIN) as store:
        with pytest.raises(StoreError) as info:
            store.import_frame(make_patients(4, start=10), reason="refused", exclusive=True)
        message = str(info.value)
        assert message.startswith(f"the database at {url} failed: ")
        assert "no more records" in message
        assert message.endswith("; nothing was written")
        assert len(store.read()) == 2


def test_an_in_memory_store_takes_the_other_path(
    make_patients: Callable[..., pd.DataFrame],
) -> None:
    with Store.init("sqlite://", admin=ADMIN) as store:
        assert store.import_frame(make_patients(6), reason="x", exclusive=True).n_imported == 6
        assert store.verify().ok


_WRITER = textwrap.dedent(
    """
    import sys
    import kypho.store.engine as engine
    engine.SQLITE_BUSY_TIMEOUT = 1.0  # wait a second for the import's lock, not thirty
    from kypho.errors import StoreError
    from kypho.store import Store

    with Store(sys.argv[1], user="ada") as store:
        try:
            store.add_user("eve", "analyst", reason="while the import runs")
        except StoreError as exc:
            print(f"REFUSED {exc}")
        else:
            print("WROTE")
    """
)


_READER = textwrap.dedent(
    """
    import sys
    from kypho.store import Store

    with Store(sys.argv[1], user="ada") as store:
        ids = store.read()["patient_id"].tolist()
        print(f"{len(ids)} records, {ids[0]} ... {ids[-1]}")
    """
)


def test_other_processes_wait_for_the_import_and_read_the_store_as_before(
    tmp_path: Path, make_patients: Callable[..., pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While ADBC holds the write lock, another process's write is refused as busy, and
    what it reads (verify, the records) is the store as it was: nothing interleaves."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    with Store.init(url, admin=ADMIN) as store:
        store.import_frame(make_patients(5), reason="first", exclusive=True)
    seen: dict[str, subprocess.CompletedProcess[str]] = {}
    real = store_module._insert_columns

    def holding(conn: Any, table: Any, *args: Any) -> None:
        real(conn, table, *args)
        if table.name != "kypho_records":
            return
        # the records are written, not committed: the lock is held
        run = functools.partial(subprocess.run, capture_output=True, text=True, timeout=120)
        seen["write"] = run([sys.executable, "-c", _WRITER, url])
        seen["verify"] = run(
            [sys.executable, "-m", "kypho", "db", "--url", url, "--user", ADMIN, "verify"]
        )
        seen["read"] = run([sys.executable, "-c", _READER, url])

    monkeypatch.setattr(store_module, "_insert_columns", holding)
    with Store(url, user=ADMIN) as store:
        result = store.import_frame(make_patients(20, start=100), reason="big", exclusive=True)
        assert result.n_imported == 20
    write, verify, read = seen["write"], seen["verify"], seen["read"]
    assert write.returncode == 0, write.stderr
    assert write.stdout == (
        f"REFUSED the database at {url} failed: database is locked; nothing was written\n"
    )
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("audit trail verified: 4 entries, 5 records, head ")
    assert read.returncode == 0, read.stderr
    assert read.stdout == "5 records, P-00001 ... P-00005\n"
    monkeypatch.undo()
    with Store(url, user=ADMIN) as store:
        assert len(store.read()) == 25
        assert "eve" not in set(store.users()["name"])
        assert store.verify().ok
        store.add_user("eve", "analyst", reason="after the import")
        assert store.verify().ok
