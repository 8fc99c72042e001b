"""Versioned changes to the store's tables.

Two kinds of version are kept, both in the database:

* the **store structure** (kypho's own tables, triggers): Alembic revisions in
  ``kypho/store/migrations/versions``, applied by :func:`upgrade`; the current
  revision is in ``kypho_alembic_version``;
* the **study schema**: each time the declared variables change (a user
  extension adds a timepoint or a variable), :func:`sync_columns` adds the new
  record columns with Alembic operations and appends a row to
  ``kypho_schema_versions`` (version number, fingerprint, the column list).
  Columns are only ever added: dropping or retyping a column holding study data
  is refused, never done implicitly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from kypho.errors import StoreError
from kypho.schema import Schema
from kypho.store.tables import RECORDS, StoreTables, column_spec, column_type

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "VERSION_TABLE",
    "current_revision",
    "downgrade",
    "head_revision",
    "stored_columns",
    "sync_columns",
    "upgrade",
]

#: Alembic's version table, named so that it cannot clash with another application's.
VERSION_TABLE = "kypho_alembic_version"
_SCRIPTS = Path(__file__).parent / "migrations"


#: The newest store-structure revision, the head of ``migrations/versions``
#: (a test checks it is Alembic's head). Opening a store compares the
#: database's revision with it, so that a command need not import Alembic,
#: which costs a quarter of a second, unless it changes the structure.
HEAD_REVISION = "d001"


def _config(conn: sa.Connection | None = None, schema: Schema | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.attributes["connection"] = conn
    cfg.attributes["schema"] = schema
    return cfg


def head_revision() -> str:
    """The newest store-structure revision kypho knows (:data:`HEAD_REVISION`)."""
    return HEAD_REVISION


def current_revision(conn: sa.Connection) -> str | None:
    """The store-structure revision of the database, ``None`` when it has none.

    Read from Alembic's version table as Alembic reads it (one row, one
    revision); a table with several rows (branches, which kypho never makes) is
    left to Alembic to interpret.
    """
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    version = sa.table(VERSION_TABLE, sa.column("version_num"))
    found = conn.execute(sa.select(version.c.version_num)).scalars().all()
    if len(found) <= 1:
        return str(found[0]) if found else None
    from alembic.migration import MigrationContext

    rev = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    current = rev.get_current_revision()
    return None if current is None else str(current)


def upgrade(conn: sa.Connection, schema: Schema) -> None:
    """Apply every store-structure revision the database lacks, inside ``conn``'s transaction."""
    from alembic import command

    command.upgrade(_config(conn, schema), "head")


def downgrade(conn: sa.Connection, schema: Schema, revision: str) -> None:
    """Return the store structure to an older ``revision`` (for recovery and tests).

    Study data are kept: the revisions after 0001 change only kypho's own objects.
    """
    from alembic import command

    command.downgrade(_config(conn, schema), revision)


def stored_columns(conn: sa.Connection, tables: StoreTables) -> tuple[int, list[tuple[str, str]]]:
    """The latest schema version number and its record columns."""
    row = conn.execute(
        sa.select(tables.schema_versions.c.version, tables.schema_versions.c.columns)
        .order_by(tables.schema_versions.c.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return 0, []
    return int(row.version), [(str(n), str(k)) for n, k in json.loads(row.columns)]


def sync_columns(conn: sa.Connection, schema: Schema, tables: StoreTables) -> tuple[int, list[str]]:
    """Add the record columns that ``schema`` declares and the store lacks.

    Returns
    -------
    tuple
        ``(schema_version, added_columns)``; ``added_columns`` is empty when the
        store already matches.

    Raises
    ------
    StoreError
        If the store holds a column the schema does not declare, or a column whose
        storage type differs from the schema's.
    """
    version, stored = stored_columns(conn, tables)
    wanted = column_spec(schema)
    have = dict(stored)
    want = dict(wanted)
    dropped = [name for name in have if name not in want]
    if dropped:
        raise StoreError(
            f"the store holds column(s) {', '.join(map(repr, dropped))} that the schema does "
            "not declare; load the schema with the extensions the store was built with "
            "(kypho never drops a column of study data)"
        )
    retyped = [f"{n!r} ({have[n]} -> {want[n]})" for n in have if have[n] != want[n]]
    if retyped:
        raise StoreError(
            f"the schema changes the type of column(s) {', '.join(retyped)}; changing the "
            "type of a stored column is not supported: add a new variable instead"
        )
    added = [name for name, _ in wanted if name not in have]
    if not added:
        return version, []
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    ops = Operations(MigrationContext.configure(conn))
    for name in added:
        ops.add_column(RECORDS, sa.Column(name, column_type(schema[name]), nullable=True))
    return version + 1, added
