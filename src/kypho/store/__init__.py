"""How the data are kept: the study store (SQLite or PostgreSQL) with an audit trail.

>>> from kypho.store import Store
>>> store = Store.init("sqlite://", admin="ada")     # doctest: +SKIP
>>> store.import_frame(raw, reason="baseline")        # doctest: +SKIP

See ``docs/store.md`` for the design: tables derived from the schema,
migrations, the hash-chained audit trail, roles and de-identified export.

The names below are imported on first use (as :mod:`kypho` itself does), so
that a command can import a light submodule such as
:mod:`kypho.store._early` without pandas and SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kypho._lazy import lazy_attributes as _lazy_attributes

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

_LAZY = {
    "GENESIS": "kypho.store.audit",
    "RIGHTS": "kypho.store.roles",
    "ROLES": "kypho.store.roles",
    "ImportResult": "kypho.store.store",
    "Record": "kypho.store.store",
    "Store": "kypho.store.store",
    "StoreTables": "kypho.store.tables",
    "VerifyResult": "kypho.store.store",
    "build_tables": "kypho.store.tables",
    "create_store_engine": "kypho.store.engine",
    "deidentify": "kypho.store.safe_harbor",
    "dropped_columns": "kypho.store.safe_harbor",
    "load_from_store": "kypho.store.store",
    "resolve_url": "kypho.store.engine",
    "resolve_user": "kypho.store.store",
}

if TYPE_CHECKING:
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


__getattr__ = _lazy_attributes(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    # the public names and the submodules imported so far (not this file's own imports)
    own = {
        name
        for name, value in globals().items()
        if name.startswith("_") or getattr(value, "__name__", "").startswith(f"{__name__}.")
    }
    return sorted({*own, *__all__})
