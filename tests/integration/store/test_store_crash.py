"""A real process killed in the middle of an import leaves the store as it was.

The child process imports 2,500 records. In the child, the store's bulk insert
announces the moment the records have been sent (on SQLite by way of a scratch
file, or appended by ADBC in its own transaction with ``exclusive``; a COPY on
PostgreSQL), inside the import's transaction, before the commit; the parent
then kills the child with SIGKILL (no clean-up code can run) and checks the
database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from kypho.store import Store

ADMIN = "ada"

_CHILD = textwrap.dedent(
    """
    import sys, time
    import pandas as pd
    import kypho.store.store as module
    from kypho.store import Store

    url, path, exclusive = sys.argv[1], sys.argv[2], sys.argv[3] == "exclusive"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    store = Store(url, user="ada")

    def announcing(send):
        def midway(conn, table, *args):
            send(conn, table, *args)
            if table.name == "kypho_records":
                print("MIDWAY", flush=True)
                time.sleep(120)
        return midway

    # records go by one executemany (SQLite) or one COPY (PostgreSQL)
    module._insert_columns = announcing(module._insert_columns)

    store.import_frame(raw, reason="doomed import", exclusive=exclusive)
    print("FINISHED", flush=True)
    """
)


@pytest.mark.parametrize("exclusive", ["shared", "exclusive"])
def test_killed_import_leaves_the_store_unchanged(
    db_url: str, make_patients: Callable[..., pd.DataFrame], tmp_path: Path, exclusive: str
) -> None:
    """Both ways of writing a SQLite file: by a scratch file, and ADBC's own transaction."""
    if exclusive == "exclusive" and not db_url.startswith("sqlite"):
        pytest.skip("exclusive changes how a SQLite file is written, nothing else")
    with Store.init(db_url, admin=ADMIN) as store:
        store.import_frame(make_patients(10), reason="before the crash")
        data_before = store.read()
        log_before = store.log()
    path = tmp_path / "big.csv"
    make_patients(2500, start=100).to_csv(path, index=False)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, db_url, str(path), exclusive],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == "MIDWAY", child.stderr.read() if child.stderr else line
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
        if child.stdout:
            child.stdout.close()
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    with Store(db_url, user=ADMIN) as store:
        pd.testing.assert_frame_equal(store.read(), data_before)
        pd.testing.assert_frame_equal(store.log(), log_before)
        assert store.verify().ok
        # and the store takes the next import normally
        result = store.import_frame(make_patients(5, start=100), reason="after the crash")
        assert result.n_imported == 5
        assert store.verify().ok
