"""An import's write transaction on a SQLite store file, written by ADBC's SQLite driver.

SQLAlchemy's SQLite connection (Python's ``sqlite3``) binds every value of
every row in Python. ADBC's SQLite driver writes Arrow columns in C, in about
half the time at 10⁵ records of ~90 columns (see docs/store.md). The import
(:meth:`kypho.store.Store.import_frame` with ``exclusive=True``) then runs its
whole transaction on one ADBC connection to the store file:

1. ``BEGIN IMMEDIATE`` on the ADBC connection takes the store's write lock, so
   no other writer can commit until this transaction ends;
2. SQLAlchemy's connection reads what the import needs (the chain's head, the
   user's role, the ids already stored); nothing can change it meanwhile;
3. before the first write, SQLAlchemy's read transaction is ended
   (:meth:`DirectSqlite.before_write`), so that ``sqlite3`` holds no lock and
   reads nothing while ADBC writes;
4. ADBC appends the records, the audit entries and the chain's new head, then
   commits: one transaction, undone by SQLite's journal if the process dies
   before the commit.

Two copies of the SQLite library work in this process (Python's and ADBC's).
SQLite's locks are POSIX advisory locks, which one process never sees as
conflicting with its own, so the two copies must not use one file at the same
time: a ``sqlite3`` reader would take ADBC's unfinished journal for a crashed
one and roll it back [1]_. Steps 2–4 keep them apart within the import; no
other thread of the process may open the store during it, which is why the
caller has to promise it (``exclusive=True``: the ``kypho db import`` command
does; the web application does not).

References
----------
.. [1] SQLite, "How To Corrupt An SQLite Database File", §2.2.1 "Multiple
   copies of SQLite linked into the same application",
   https://www.sqlite.org/howtocorrupt.html
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
        self._release: Callable[[], None] | None = None
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

    def release_before_writing(self, release: Callable[[], None]) -> None:
        """Call ``release`` (end SQLAlchemy's read transaction) before the first write."""
        self._release = release

    def before_write(self) -> None:
        """End the reads of the other SQLite library, once, before anything is written."""
        release, self._release = self._release, None
        if release is not None:
            release()

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

        self.before_write()
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

    def execute(self, statement: sa.Executable) -> None:
        """Run one SQLAlchemy statement (an UPDATE, an INSERT) with its bound values."""
        import pyarrow as pa

        self.before_write()
        compiled = statement.compile(dialect=self.dialect)  # type: ignore[attr-defined]
        order = compiled.positiontup or []
        values = [compiled.params[name] for name in order]
        parameters = (
            pa.table({f"p{i}": pa.array([value]) for i, value in enumerate(values)})
            if values
            else None
        )
        self._sql(compiled.string, parameters)

    def commit(self) -> None:
        """Commit the transaction (the write lock is released)."""
        self.before_write()
        self._sql("COMMIT")
        self._open = False
