"""The store's tables, derived from the study schema with SQLAlchemy Core.

``kypho_records`` holds one row per patient with one column per *input*
variable of the schema (derived variables are recomputed, never stored), typed
from the variable's declared type, plus kypho's bookkeeping columns (prefixed
``kypho_``). The other tables do not depend on the schema:

``kypho_audit``
    the audit trail, one hash-chained entry per change (see :mod:`kypho.store.audit`);
``kypho_chain``
    one row: the trail's head (last sequence number and hash). Every writing
    transaction updates it first, which serialises writers on both engines;
``kypho_users``
    users and their roles;
``kypho_schema_versions``
    the record columns at each schema version (see :meth:`Store.migrate`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from kypho.errors import StoreError
from kypho.schema import Schema, Variable

__all__ = [
    "RECORDS",
    "StoreTables",
    "build_tables",
    "column_spec",
    "column_type",
    "schema_fingerprint",
]

RECORDS = "kypho_records"
_PREFIX = "kypho_"

_TYPE_NAMES = {
    "id": "text",
    "string": "text",
    "list": "text",
    "category": "text",
    "ordinal": "text",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
}


def column_type(var: Variable) -> sa.types.TypeEngine[Any]:
    """The SQL type of a schema variable's column.

    Levels (category, ordinal, list) are stored as their codes, as text; a list
    is its normalised ``"C;S"`` string, ``""`` when observed empty.
    """
    kind = _TYPE_NAMES[var.type]
    if kind == "integer":
        return sa.BigInteger()
    if kind == "number":
        # double precision on both engines: a float round-trips exactly, which the
        # audit trail's comparison of rows with logged values relies on
        return sa.Double()
    if kind == "boolean":
        return sa.Boolean(create_constraint=False)
    if kind == "date":
        return sa.Date()
    return sa.Text()


def column_spec(schema: Schema) -> list[tuple[str, str]]:
    """``[(column, storage kind), ...]`` of the record columns, in schema order."""
    return [(v.name, _TYPE_NAMES[v.type]) for v in schema.input_variables]


def schema_fingerprint(schema: Schema) -> str:
    """SHA-256 of :func:`column_spec`: equal when two schemas need the same table."""
    text = json.dumps(column_spec(schema), separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoreTables:
    """The store's tables bound to one :class:`~sqlalchemy.MetaData`."""

    metadata: sa.MetaData
    records: sa.Table
    audit: sa.Table
    chain: sa.Table
    users: sa.Table
    schema_versions: sa.Table
    data_columns: tuple[str, ...]


def build_tables(schema: Schema) -> StoreTables:
    """Build the store's tables for ``schema``.

    Raises
    ------
    StoreError
        If a schema variable's name collides with kypho's ``kypho_`` columns.
    """
    clashes = [v.name for v in schema.input_variables if v.name.startswith(_PREFIX)]
    if clashes:
        raise StoreError(
            f"schema variable(s) {', '.join(map(repr, clashes))} start with {_PREFIX!r}, "
            "which the store reserves for its own columns; rename them"
        )
    md = sa.MetaData()
    data_columns = tuple(name for name, _ in column_spec(schema))
    columns: list[sa.Column[object]] = [
        # an integer key keeps import order; SQLite autoincrements only INTEGER keys
        sa.Column(
            "kypho_row",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        )
    ]
    for var in schema.input_variables:
        is_id = var.name == schema.id_column
        columns.append(sa.Column(var.name, column_type(var), nullable=not is_id, unique=is_id))
    columns += [
        sa.Column("kypho_version", sa.Integer(), nullable=False),
        sa.Column("kypho_locked", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("kypho_locked_by", sa.Text(), nullable=True),
    ]
    records = sa.Table(RECORDS, md, *columns)
    audit = sa.Table(
        "kypho_audit",
        md,
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("user_name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("record", sa.Text(), nullable=True, index=True),
        sa.Column("field", sa.Text(), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("prev_hash", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
    )
    chain = sa.Table(
        "kypho_chain",
        md,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
    )
    users = sa.Table(
        "kypho_users",
        md,
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("added_at", sa.Text(), nullable=False),
        sa.Column("added_by", sa.Text(), nullable=False),
    )
    schema_versions = sa.Table(
        "kypho_schema_versions",
        md,
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("columns", sa.Text(), nullable=False),
        sa.Column("applied_at", sa.Text(), nullable=False),
        sa.Column("applied_by", sa.Text(), nullable=False),
    )
    return StoreTables(md, records, audit, chain, users, schema_versions, data_columns)
