"""How the data are kept: the study store (SQLite or PostgreSQL) with an audit trail.

>>> from kypho.store import Store
>>> store = Store.init("sqlite://", admin="ada")     # doctest: +SKIP
>>> store.import_frame(raw, reason="baseline")        # doctest: +SKIP

See ``docs/store.md`` for the design: tables derived from the schema,
migrations, the hash-chained audit trail, roles and de-identified export.
"""

from __future__ import annotations

from kypho.store.audit import GENESIS
from kypho.store.engine import create_store_engine, resolve_url
from kypho.store.roles import RIGHTS, ROLES
from kypho.store.safe_harbor import deidentify, dropped_columns
from kypho.store.store import (
    ImportResult,
    Record,
    Store,
    VerifyResult,
    load_from_store,
    resolve_user,
)
from kypho.store.tables import StoreTables, build_tables

__all__ = [
    "GENESIS",
    "RIGHTS",
    "ROLES",
    "ImportResult",
    "Record",
    "Store",
    "StoreTables",
    "VerifyResult",
    "build_tables",
    "create_store_engine",
    "deidentify",
    "dropped_columns",
    "load_from_store",
    "resolve_url",
    "resolve_user",
]
