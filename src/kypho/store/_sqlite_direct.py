"""An import's write transaction on a SQLite store file, written by ADBC's SQLite driver.

SQLAlchemy's SQLite connection (Python's ``sqlite3``) binds every value of
every row in Python. ADBC's SQLite driver writes Arrow columns in C, in about
half the time at 10⁵ records of ~90 columns (see docs/store.md). The import
(:meth:`kypho.store.Store.import_frame` with ``exclusive=True``) then runs its
whole transaction on one ADBC connection to the store file:

1. ``BEGIN IMMEDIATE`` on the ADBC connection takes the store's write lock, so
   no other writer can commit until this transaction ends;
2. the same connection reads what the import needs (the chain's head, the
   user's role, the ids already stored);
3. it appends the records, the audit entries and the chain's new head, then
   commits: one transaction, undone by SQLite's journal if the process dies
   before the commit.

Two copies of the SQLite library work in this process (Python's ``sqlite3``,
under SQLAlchemy, and ADBC's). SQLite's locks are POSIX advisory locks, which
belong to the process, not to a connection [1]_: a ``sqlite3`` connection to
the store closed while ADBC holds its lock would drop ADBC's lock too (another
process could then write at the same time); a ``sqlite3`` read ending would
drop the process's shared lock; and a ``sqlite3`` reader, which cannot see its
own process's lock, would take ADBC's unfinished journal for a crashed one and
roll it back. So between ``BEGIN IMMEDIATE`` and ``COMMIT``/``ROLLBACK``
nothing in the process may open, use or close a ``sqlite3`` connection to the
file:

* the import itself does everything in that window on the ADBC connection
  (steps 1–3); SQLAlchemy's connections are not touched: the pool keeps its
  one connection open and idle (opened by :class:`~kypho.store.Store` before,
  closed by ``Store.close`` after), and nothing disposes the engine meanwhile;
* ADBC's own connection is opened before ``BEGIN IMMEDIATE`` and closed after
  the transaction ends, when ``sqlite3`` holds no lock that closing could drop;
* no other thread may use the store: the caller promises it
  (``exclusive=True``). The ``kypho db import`` command does: its other
  threads (the early CSV parse, :mod:`kypho.io._early`; the Parquet encoder of
  the trail's batch; the progress bar) never touch the store. The web
  application does not, and imports the other way.

References
----------
.. [1] SQLite, "How To Corrupt An SQLite Database File", §2.2.1 "Multiple
   copies of SQLite linked into the same application",
   https://www.sqlite.org/howtocorrupt.html
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

import sqlalchemy as sa

__all__ = ["DirectSqlite", "sqlite_file"]


def sqlite_file(engine: sa.Engine) -> str | None:
    """The store's SQLite file, or ``None`` for another engine, an in-memory or a URI store."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.query:
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


class DirectSqlite:
    """One write transaction on a SQLite file through ADBC (see the module docstring).

    Parameters
    ----------
    path
        The store's file.
    dialect
        SQLAlchemy's SQLite dialect, which compiles the statements.
    busy_seconds, cache_kib
        How long to wait for another writer, and the page cache (as the store's
        own connections have).
    """

    def __init__(
        self, path: str, dialect: sa.Dialect, *, busy_seconds: float, cache_kib: int
    ) -> None:
        self.path = path
        self.dialect = dialect
        self.busy_seconds = busy_seconds
        self.cache_kib = cache_kib
        self._database: Any = None
        self._connection: Any = None
        self._open = False

    def __enter__(self) -> DirectSqlite:
        import adbc_driver_manager
        import adbc_driver_sqlite

        try:
            self._database = adbc_driver_sqlite.connect(self.path)
            self._connection = adbc_driver_manager.AdbcConnection(self._database)
            self._sql(f"PRAGMA busy_timeout = {int(self.busy_seconds * 1000)}")
            self._sql(f"PRAGMA cache_size = -{int(self.cache_kib)}")
            self._sql("BEGIN IMMEDIATE")
        except BaseException:
            self._close()
            raise
        self._open = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if self._open:
                self._open = False
                self._sql("ROLLBACK")
        except Exception:
            if error is None:
                raise
            # the error that ended the transaction is the one to report
        finally:
            self._close()

    def _close(self) -> None:
        for handle in (self._connection, self._database):
            if handle is not None:
                handle.close()
        self._connection = self._database = None

    def _sql(self, query: str, parameters: Any = None) -> None:
        import adbc_driver_manager

        with adbc_driver_manager.AdbcStatement(self._connection) as statement:
            statement.set_sql_query(query)
            if parameters is not None:
                statement.bind_stream(parameters.to_reader())
            statement.execute_update()

    def append(self, table: sa.Table, data: Any) -> None:
        """Append an Arrow table's rows to ``table`` (columns by name; others get NULL)."""
        import adbc_driver_manager

        with adbc_driver_manager.AdbcStatement(self._connection) as statement:
            statement.set_options(
                **{
                    adbc_driver_manager.INGEST_OPTION_TARGET_TABLE: table.name,
                    adbc_driver_manager.INGEST_OPTION_MODE: (
                        adbc_driver_manager.INGEST_OPTION_MODE_APPEND
                    ),
                }
            )
            statement.bind_stream(data.to_reader())
            statement.execute_update()

    def append_rows(
        self, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Append rows of driver-ready values (text, integers, None) to ``table``."""
        import pyarrow as pa

        types = {
            name: pa.int64() if isinstance(table.c[name].type, sa.Integer) else pa.large_string()
            for name in columns
        }
        data = pa.table(
            {
                name: pa.array([row[i] for row in rows], types[name])
                for i, name in enumerate(columns)
            }
        )
        self.append(table, data)

    def _compiled(self, statement: sa.Executable) -> tuple[str, Any]:
        """The statement's SQL (``?`` placeholders) and its bound values as a one-row table."""
        import pyarrow as pa

        compiled = statement.compile(dialect=self.dialect)  # type: ignore[attr-defined]
        order = compiled.positiontup or []
        values = [compiled.params[name] for name in order]
        parameters = (
            pa.table({f"p{i}": pa.array([value]) for i, value in enumerate(values)})
            if values
            else None
        )
        return str(compiled.string), parameters

    def execute(self, statement: sa.Executable) -> None:
        """Run one SQLAlchemy statement (an UPDATE, an INSERT) with its bound values."""
        self._sql(*self._compiled(statement))

    def query(self, statement: sa.Executable) -> Any:
        """The rows of one SQLAlchemy SELECT, as an Arrow table."""
        import adbc_driver_manager
        import pyarrow as pa

        sql, parameters = self._compiled(statement)
        with adbc_driver_manager.AdbcStatement(self._connection) as handle:
            handle.set_sql_query(sql)
            if parameters is not None:
                handle.bind_stream(parameters.to_reader())
            stream, _ = handle.execute_query()
            return pa.RecordBatchReader.from_stream(stream).read_all()

    def commit(self) -> None:
        """Commit the transaction (the write lock is released)."""
        self._sql("COMMIT")
        self._open = False
