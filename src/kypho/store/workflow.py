"""The data-management workflow beside the records: passwords, statuses, queries, second entries.

These tables do not depend on the study schema and are created by the store's
Alembic revision ``w001``:

``kypho_credentials``
    one argon2 password hash per user (see :mod:`kypho.store.auth`);
``kypho_status``
    the status of each record x instrument: ``complete`` or ``verified``
    (absent: incomplete; a locked record shows as locked whatever its status);
``kypho_queries``
    discrepancy queries raised on a field of a record (see :mod:`kypho.store.queries`);
``kypho_entries``
    the second, independent entry of a record's instrument for double data
    entry (see :mod:`kypho.store.double_entry`).

Every change to them appends an entry to the store's hash-chained audit trail,
in the same transaction and through the same chain head as record changes, so
:meth:`kypho.store.Store.verify` covers them (it replays only the actions that
change records and checks the chain of all of them).

The rights of the workflow (:data:`WORKFLOW_RIGHTS`) add to the store's
(:data:`kypho.store.roles.RIGHTS`): :func:`rights_of` is their union.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType

import sqlalchemy as sa

from kypho.errors import PermissionDenied
from kypho.store.roles import RIGHTS, ROLES
from kypho.store.store import Store, _Writer

__all__ = [
    "METADATA",
    "WORKFLOW_RIGHTS",
    "acting_as",
    "credentials",
    "entries",
    "queries",
    "rights_of",
    "roles_with",
    "status",
    "writing",
]

#: role -> workflow rights. ``complete`` marks an instrument complete;
#: ``verify_record`` marks it verified (source-data verification);
#: ``raise_query``/``close_query`` open and close queries, ``respond_query``
#: answers one; ``second_entry`` types a record's second, independent entry;
#: ``adjudicate`` resolves the two entries' differences (writing values, so
#: admin only: it also needs the store's ``edit``); ``report`` runs the study
#: report on the store.
WORKFLOW_RIGHTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "read_only": frozenset(),
        "analyst": frozenset({"report"}),
        "data_entry": frozenset({"complete", "respond_query", "second_entry"}),
        "monitor": frozenset({"verify_record", "raise_query", "close_query"}),
        "admin": frozenset(
            {
                "complete",
                "verify_record",
                "raise_query",
                "close_query",
                "respond_query",
                "second_entry",
                "adjudicate",
                "report",
            }
        ),
    }
)

_WHAT = {
    "complete": "mark instruments complete",
    "verify_record": "verify records",
    "raise_query": "raise queries",
    "close_query": "close queries",
    "respond_query": "answer queries",
    "second_entry": "enter a second (double) entry",
    "adjudicate": "adjudicate double entries",
    "report": "run the study report",
}


def rights_of(role: str) -> frozenset[str]:
    """Every right of ``role``: the store's and the workflow's (empty for an unknown role)."""
    return RIGHTS.get(role, frozenset()) | WORKFLOW_RIGHTS.get(role, frozenset())


def roles_with(right: str) -> list[str]:
    """The roles holding ``right``, least privileged first."""
    known = list(ROLES) + [r for r in WORKFLOW_RIGHTS if r not in ROLES]
    return [r for r in known if right in rights_of(r)]


METADATA = sa.MetaData()

credentials = sa.Table(
    "kypho_credentials",
    METADATA,
    sa.Column("name", sa.Text(), primary_key=True),
    sa.Column("hash", sa.Text(), nullable=False),
    sa.Column("set_at", sa.Text(), nullable=False),
    sa.Column("set_by", sa.Text(), nullable=False),
)

status = sa.Table(
    "kypho_status",
    METADATA,
    sa.Column("record", sa.Text(), primary_key=True),
    sa.Column("instrument", sa.Text(), primary_key=True),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("at", sa.Text(), nullable=False),
    sa.Column("by", sa.Text(), nullable=False),
)

queries = sa.Table(
    "kypho_queries",
    METADATA,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("record", sa.Text(), nullable=False, index=True),
    sa.Column("field", sa.Text(), nullable=False),
    sa.Column("state", sa.Text(), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("value", sa.Text(), nullable=True),
    sa.Column("raised_by", sa.Text(), nullable=False),
    sa.Column("raised_at", sa.Text(), nullable=False),
    sa.Column("response", sa.Text(), nullable=True),
    sa.Column("responded_by", sa.Text(), nullable=True),
    sa.Column("responded_at", sa.Text(), nullable=True),
    sa.Column("closed_by", sa.Text(), nullable=True),
    sa.Column("closed_at", sa.Text(), nullable=True),
)

entries = sa.Table(
    "kypho_entries",
    METADATA,
    sa.Column("record", sa.Text(), primary_key=True),
    sa.Column("instrument", sa.Text(), primary_key=True),
    sa.Column("values", sa.Text(), nullable=False),
    sa.Column("entered_by", sa.Text(), nullable=False),
    sa.Column("entered_at", sa.Text(), nullable=False),
    sa.Column("state", sa.Text(), nullable=False),
)


def role_of(conn: sa.Connection, store: Store, name: str) -> str | None:
    """The active role of user ``name``, ``None`` when unknown or disabled."""
    users = store.tables.users
    row = conn.execute(sa.select(users.c.role, users.c.active).where(users.c.name == name)).first()
    if row is None or not row.active:
        return None
    return str(row.role)


def check_right(conn: sa.Connection, store: Store, right: str) -> str:
    """The acting user's role, if it grants ``right``; else :class:`PermissionDenied`."""
    user = store.user
    role = role_of(conn, store, user)
    if role is None:
        raise PermissionDenied(f"{user!r} is not an active user of this store")
    if right not in rights_of(role):
        what = _WHAT.get(right, right)
        raise PermissionDenied(
            f"user {user!r} (role {role}) may not {what}; roles that may: "
            f"{', '.join(roles_with(right))}"
        )
    return role


@contextmanager
def writing(store: Store, right: str | None, *, actor_role: str | None = None) -> Iterator[_Writer]:
    """One audited writing transaction of the workflow, as the store's own writes.

    The chain head is taken first (serialising writers), then the acting user's
    role is checked against ``right`` (``None``: no check, for recording a failed
    login, with ``actor_role`` as the role written). Yields the store's audit
    writer (``append(action, record=, field=, old=, new=, reason=, version=)``,
    ``conn``).
    """
    tables = store.tables
    chain = tables.chain
    with store._database_errors(), store.engine.begin() as conn:
        conn.execute(sa.update(chain).where(chain.c.id == 1).values(seq=chain.c.seq))
        head = conn.execute(sa.select(chain.c.seq, chain.c.hash).where(chain.c.id == 1)).one()
        role = check_right(conn, store, right) if right is not None else (actor_role or "none")
        writer = _Writer(
            conn,
            tables,
            int(head.seq),
            str(head.hash),
            store.user,
            role,
        )
        yield writer
        writer.flush()


@contextmanager
def reading(store: Store, right: str) -> Iterator[sa.Connection]:
    """A read-only connection, after checking the acting user holds ``right``."""
    with store._database_errors(), store.engine.connect() as conn:
        check_right(conn, store, right)
        yield conn


def acting_as(store: Store, user: str) -> Store:
    """The same store (engine, schema, tables) acting as another ``user``.

    Cheap: nothing is opened or checked again. The web application keeps one
    :class:`Store` and acts as each request's logged-in user through this. Never
    :meth:`~Store.close` the copy: it shares the original's engine.
    """
    import copy

    other = copy.copy(store)
    other.user = user
    return other
