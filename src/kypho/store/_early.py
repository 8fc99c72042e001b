"""The stored records read while the command is still starting (``db export``, ``db verify``).

A ``kypho db export`` spends about a second importing pandas, SQLAlchemy and
the rest before it opens the store, with the machine's second core idle; reading
the records into Arrow takes about as long again. :func:`prefetch` starts that
read first, in threads, from C (ADBC's SQLite and PostgreSQL drivers, which let
go of the GIL while they read); only pyarrow and the drivers are imported for
it. The first thread also reads the trail's ``create_batch`` entries, and
decodes them only after its connection is closed: that work holds the GIL in
parts (JSON, base64), and done during the command's imports it slowed them by
more than it saved. The command then
imports the rest and opens the store as before, and verify takes what was read
(:func:`take`) instead of reading again.

On SQLite the reads end before the command opens the store (:meth:`Prefetch.settle`):
ADBC's SQLite is a second copy of the library, and one copy's connection
ending a read while the other's holds a lock on the same file would drop that
lock (POSIX locks belong to the process), so the two never overlap.

Nothing here decides anything: the command checks the user's rights, reads the
trail and verifies exactly as without it. What was read early is used only if
it is exactly what the command would read now:

* each read runs in a read-only transaction that also reads the trail's head
  (``kypho_chain``); verify uses the rows only when that head is the head its own
  transaction sees (every change kypho makes appends to the trail and moves the
  head), and a decoded batch only when its text is the one verify read;
* any failure (no such file, not a kypho store, a driver missing, a value the
  readers cannot type) leaves that part empty, and the command reads it as it
  always did: slower, never different. No error is raised here.

The threads are joined when the :func:`prefetch` block ends, on every path.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kypho.store.batch import ACTION as BATCH_ACTION
from kypho.store.engine import resolve_url

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Prefetch", "prefetch", "take"]

#: Stored records from which the read is split in two halves read at once.
SPLIT_ROWS = 20_000
#: Rows the SQLite driver puts in one Arrow batch: the whole result, so that a
#: column's type is inferred from all of its values (with the driver's default
#: of 1,024, a column missing in the first rows is taken as whole numbers and a
#: later decimal fails the read).
SQLITE_BATCH_ROWS = 1 << 30

_RECORDS = "kypho_records"
_ORDER = "kypho_row"

_ACTIVE: dict[str, Prefetch] = {}
_ACTIVE_LOCK = threading.Lock()


def adbc_query(raw: Any, sql: str, *, sqlite: bool) -> pa.Table:
    """The result of ``sql`` on an ADBC connection, as one Arrow table."""
    import adbc_driver_manager as adbc
    import pyarrow as pa

    with adbc.AdbcStatement(raw) as statement:
        if sqlite:
            import adbc_driver_sqlite

            option = adbc_driver_sqlite.StatementOptions.BATCH_ROWS.value
            statement.set_options(**{option: str(SQLITE_BATCH_ROWS)})
        statement.set_sql_query(sql)
        stream, _ = statement.execute_query()
        return pa.RecordBatchReader.from_stream(stream).read_all()


def _execute(raw: Any, sql: str) -> None:
    import adbc_driver_manager as adbc

    with adbc.AdbcStatement(raw) as statement:
        statement.set_sql_query(sql)
        statement.execute_update()


def _target(url: str | None) -> tuple[str, str] | None:
    """``("sqlite", file URI)`` or ``("postgresql", libpq URI)`` of a store URL, else ``None``.

    Only the plain forms: anything else (an in-memory or URI-named SQLite
    database, SQLite URL options, another driver) is left to the command's own
    reading; a PostgreSQL URL that libpq reads otherwise fails to connect, and
    is left to it too.
    """
    resolved = resolve_url(url)
    scheme, sep, rest = resolved.partition("://")
    if not sep:
        return None
    if scheme == "sqlite":
        path = rest[1:] if rest.startswith("/") else ""
        if not path or path == ":memory:" or path.startswith("file:") or "?" in path:
            return None
        return "sqlite", f"{Path(path).resolve().as_uri()}?mode=ro"
    if scheme in ("postgresql", "postgresql+psycopg"):
        # the same syntax (percent-encoded parts; options as libpq parameters)
        return "postgresql", f"postgresql://{rest}"
    return None


class _Part:
    """One read: a range of the records (``where``), in its own read transaction."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.head: tuple[Any, ...] | None = None
        self.table: pa.Table | None = None


class Prefetch:
    """The reads one command started early (see the module docstring).

    Parameters
    ----------
    url
        The store's URL as the command was given it (``None``: ``$KYPHO_DB_URL``
        or ``kypho.db``, see :func:`kypho.store.resolve_url`).
    """

    def __init__(self, url: str | None) -> None:
        self.url = resolve_url(url)
        self.parts: list[_Part] = []
        self._threads: list[threading.Thread] = []
        #: seq -> (a batch entry's text, its records decoded), from the early read
        self.batches: dict[int, tuple[str, pa.Table]] = {}
        self._texts: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._started = threading.Event()
        # ADBC connections open or about to open (settle waits for none)
        self._open = 0
        self._closed = threading.Condition()
        target = _target(url)
        #: whether a read was started (else :func:`take` gives ``None``)
        self.reading = target is not None
        #: ``"sqlite"``, ``"postgresql"`` or ``""`` (nothing read)
        self.kind = "" if target is None else target[0]
        if target is None:
            self._started.set()
            return
        self._open = 1
        self._spawn(self._first, *target)

    def _spawn(self, function: Any, *args: Any) -> None:
        thread = threading.Thread(target=function, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def settle(self) -> None:
        """Before the command opens the store: on SQLite, wait for the reads to end.

        ADBC's SQLite is a second copy of the SQLite library in this process,
        and POSIX locks belong to the process: its connections ending their
        reads, or closing, while the command's own connection (Python's
        ``sqlite3``) holds a lock on the same file would drop that lock too
        (sqlite.org/howtocorrupt.html §2.2). So the two never overlap: the early
        reads run while the command imports, and are over before it connects.
        A PostgreSQL server keeps its own locks; its reads go on meanwhile.
        """
        if self.kind == "sqlite":
            with self._closed:
                self._closed.wait_for(lambda: self._open == 0)

    def _close(self) -> None:
        """One ADBC connection is closed (or was never opened)."""
        with self._closed:
            self._open -= 1
            self._closed.notify_all()

    def wait_started(self) -> None:
        """Return once the first read is under way (or given up): its imports are done."""
        self._started.wait()

    # ------------------------------------------------------------- the threads

    def _first(self, kind: str, uri: str) -> None:
        """Open the first connection, split the records, read the batches and a half."""
        try:
            import adbc_driver_manager as adbc
            import pyarrow  # noqa: F401  (imported here, before the command's own imports)

            try:
                with _driver(kind).connect(uri) as db, adbc.AdbcConnection(db) as raw:
                    raw.set_options(**{"adbc.connection.autocommit": "false"})
                    try:
                        self._read_first(kind, uri, raw)
                    finally:
                        raw.rollback()
            finally:
                self._close()
            self._decode_batches()
        except Exception:  # the command reads by itself then
            pass
        finally:
            self._started.set()

    def _decode_batches(self) -> None:
        """Decode the batches read, once this thread's connection is closed.

        Python work (JSON, base64) that holds the GIL, so it waits for the
        command's imports to be done, about when the reads end.
        """
        from kypho.store.batch import decode_batch

        for seq, text in self._texts:
            try:
                self.batches[seq] = (text, decode_batch(text))
            except Exception:  # verify decodes it again and says why
                continue

    def _read_first(self, kind: str, uri: str, raw: Any) -> None:
        sqlite = kind == "sqlite"
        snapshot = None
        if not sqlite:
            _execute(raw, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = adbc_query(raw, "SELECT pg_export_snapshot()", sqlite=False)
            snapshot = str(snapshot.column(0)[0].as_py())
        head = _head(raw, sqlite)
        low, high, n = (
            adbc_query(
                raw,
                f"SELECT min({_ORDER}), max({_ORDER}), count(*) FROM {_RECORDS}",
                sqlite=sqlite,
            )
            .to_pylist()[0]
            .values()
        )
        whole = _Part("")
        whole.head = head
        halves = [whole]
        imported = threading.Event()
        if n and n >= SPLIT_ROWS and high > low:
            middle = (int(low) + int(high)) // 2
            halves = [_Part(f" WHERE {_ORDER} <= {middle}"), _Part(f" WHERE {_ORDER} > {middle}")]
            halves[0].head = head
            self.parts = halves
            with self._closed:
                self._open += 1
            self._spawn(self._other, kind, uri, halves[1], snapshot, imported)
        else:
            self.parts = halves
            imported.set()
        self._started.set()
        halves[0].table = _records(raw, halves[0].where, sqlite)
        texts = adbc_query(
            raw,
            f"SELECT seq, new_value FROM kypho_audit WHERE action = '{BATCH_ACTION}'",
            sqlite=sqlite,
        )
        self._texts = [
            (int(seq), str(text))
            for seq, text in zip(
                texts.column(0).to_pylist(), texts.column(1).to_pylist(), strict=True
            )
            if seq is not None and text is not None
        ]
        # the other half's transaction imports this one's snapshot, which lives
        # only as long as this transaction
        imported.wait()

    def _other(
        self, kind: str, uri: str, part: _Part, snapshot: str | None, imported: threading.Event
    ) -> None:
        """The second half, on a connection of its own."""
        try:
            import adbc_driver_manager as adbc

            with _driver(kind).connect(uri) as db, adbc.AdbcConnection(db) as raw:
                raw.set_options(**{"adbc.connection.autocommit": "false"})
                try:
                    if snapshot is not None:
                        _execute(raw, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                        _execute(raw, f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                    part.head = _head(raw, kind == "sqlite")
                    imported.set()
                    part.table = _records(raw, part.where, kind == "sqlite")
                finally:
                    raw.rollback()
        except Exception:  # the command reads by itself then
            part.table = None
        finally:
            imported.set()
            self._close()

    # ------------------------------------------------------------ what is used

    def join(self) -> None:
        """Wait for every read to end."""
        while True:
            with self._lock:
                pending = [t for t in self._threads if t.is_alive()]
            if not pending:
                return
            for thread in pending:
                thread.join()

    def records(self, top: Sequence[Any]) -> list[pa.Table] | None:
        """The stored records as read early: the parts in import order, or ``None``.

        Each part has every column of the records table as the driver typed it
        (parts may differ: a column all missing in one half). ``None`` unless
        every part was read and each part's transaction saw the trail's head
        ``top`` (``(seq, hash)``) that the caller's transaction sees.
        """
        self.join()
        wanted = tuple(top)
        tables = [part.table for part in self.parts if part.head == wanted]
        read = [table for table in tables if table is not None]
        if not self.parts or len(read) != len(self.parts):
            return None
        return read

    def batch(self, seq: int, text: str) -> pa.Table | None:
        """Entry ``seq``'s batch decoded early, if the early read saw the same ``text``."""
        self.join()
        found = self.batches.get(seq)
        if found is None or found[0] != text:
            return None
        return found[1]


def _driver(kind: str) -> Any:
    """The ADBC driver module of ``kind`` (``"sqlite"`` or ``"postgresql"``)."""
    import importlib

    return importlib.import_module(f"adbc_driver_{kind}")


def _head(raw: Any, sqlite: bool) -> tuple[Any, ...]:
    rows = adbc_query(raw, "SELECT seq, hash FROM kypho_chain", sqlite=sqlite).to_pylist()
    if len(rows) != 1:
        return ()
    return tuple(rows[0].values())


def _records(raw: Any, where: str, sqlite: bool) -> pa.Table:
    return adbc_query(raw, f"SELECT * FROM {_RECORDS}{where} ORDER BY {_ORDER}", sqlite=sqlite)


@contextlib.contextmanager
def prefetch(url: str | None) -> Iterator[Prefetch]:
    """Start reading the store at ``url`` now; joined (and forgotten) when the block ends.

    Returns once the first read has its connection (its imports done), so that
    the caller's own imports run beside the read rather than before it.
    """
    early = Prefetch(url)
    early.wait_started()
    if early.reading:
        with _ACTIVE_LOCK:
            _ACTIVE[early.url] = early
    try:
        yield early
    finally:
        with _ACTIVE_LOCK:
            if _ACTIVE.get(early.url) is early:
                del _ACTIVE[early.url]
        early.join()


def take(url: str) -> Prefetch | None:
    """The reads started for ``url`` (a resolved URL), once; ``None`` if none were."""
    with _ACTIVE_LOCK:
        return _ACTIVE.pop(url, None)
