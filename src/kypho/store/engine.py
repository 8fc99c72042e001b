"""Database URLs and engines for the study store.

SQLite is the embedded default (one file, no server); PostgreSQL serves a
shared, multi-user study. Both are reached through SQLAlchemy, chosen by URL.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kypho.errors import StoreError

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["DEFAULT_DB_FILE", "URL_ENV", "USER_ENV", "create_store_engine", "resolve_url"]

#: The SQLite file used when neither ``--url`` nor ``KYPHO_DB_URL`` names a store.
DEFAULT_DB_FILE = "kypho.db"
#: Environment variable holding the store's URL.
URL_ENV = "KYPHO_DB_URL"
#: Environment variable naming the acting user.
USER_ENV = "KYPHO_USER"

#: Seconds a SQLite writer waits for another writer's transaction to end before
#: giving up; writes are short, so this only bites when something is stuck.
SQLITE_BUSY_TIMEOUT = 30.0
#: SQLite's page cache per connection, in KiB (its default is 2 MiB). An import
#: of 10⁵ records writes ~350 MB in one transaction; with the default cache the
#: pages spill to the file midway and are written again, taking about twice
#: as long. The cache only grows as pages are used.
SQLITE_CACHE_KIB = 256 * 1024
#: The page size of a new SQLite store. The trail's ``create`` entries (a whole
#: record's JSON, ~2 KB for the built-in schema) fit one per 4 KiB page with
#: the rest wasted; at 16 KiB they pack six to a page, the file is ~30 %
#: smaller and written faster. A store's page size is fixed when it is created.
SQLITE_PAGE_SIZE = 16384
#: The schema name under which an import's scratch file of records is attached
#: to a SQLite store while the import's transaction copies them.
SQLITE_IMPORT_SCHEMA = "kypho_import"


def resolve_url(url: str | None = None) -> str:
    """The store's database URL: ``url``, else ``$KYPHO_DB_URL``, else ``sqlite:///kypho.db``.

    A plain file path (no ``://``) is taken as a SQLite file.

    Examples
    --------
    >>> resolve_url("study.db")
    'sqlite:///study.db'
    >>> resolve_url("postgresql+psycopg://u@localhost/study")
    'postgresql+psycopg://u@localhost/study'
    """
    chosen = url or os.environ.get(URL_ENV) or DEFAULT_DB_FILE
    if "://" not in chosen:
        return f"sqlite:///{Path(chosen)}"
    return chosen


def create_store_engine(url: str | None = None) -> sa.Engine:
    """Create the SQLAlchemy engine for a store URL (see :func:`resolve_url`).

    Raises
    ------
    StoreError
        If the URL is malformed or names a database kypho does not support.
    """
    # imported here: resolve_url alone (the early reader, kypho.store._early)
    # must not pay for SQLAlchemy
    import sqlalchemy as sa

    resolved = resolve_url(url)
    try:
        parsed = sa.make_url(resolved)
    except sa.exc.ArgumentError as exc:
        raise StoreError(
            f"cannot read the database URL {resolved!r}; use e.g. 'sqlite:///study.db' "
            "or 'postgresql+psycopg://user@host/db'"
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(
            f"the study store supports SQLite and PostgreSQL, not {backend!r} (URL {resolved!r})"
        )
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT}
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot open the database URL {resolved!r}: {exc}") from exc
    if backend == "sqlite":
        _own_sqlite_transactions(engine)
    return engine


def _own_sqlite_transactions(engine: sa.Engine) -> None:
    """Let SQLAlchemy, not Python's sqlite3 module, begin SQLite transactions.

    sqlite3 only opens a transaction before INSERT/UPDATE/DELETE, so DDL (a
    migration) would run outside it, one fsync per statement and not undone on
    failure. Beginning every transaction explicitly makes migrations atomic, as on
    PostgreSQL (the recipe of SQLAlchemy's SQLite dialect documentation).
    """
    import sqlalchemy as sa

    @sa.event.listens_for(engine, "connect")
    def _driver_autocommit(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    @sa.event.listens_for(engine, "checkin")
    def _detach_import(dbapi_connection: Any, _record: object) -> None:
        # an import's scratch file (store._sqlite_ingest) stays attached until
        # its transaction ends; detach it once the connection is back in the
        # pool, which closes the file (already unlinked)
        if dbapi_connection is None:
            return
        attached = [row[1] for row in dbapi_connection.execute("PRAGMA database_list")]
        if SQLITE_IMPORT_SCHEMA in attached:
            dbapi_connection.execute(f"DETACH DATABASE {SQLITE_IMPORT_SCHEMA}")
