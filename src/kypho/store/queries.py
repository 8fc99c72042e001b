"""Data queries (discrepancies): a monitor asks about a field's value, data entry answers.

A query is *open* when raised (``raise_query``), *answered* when data entry has
responded (``respond_query``; the value may have been corrected meanwhile, by an
ordinary audited edit), and *closed* by the monitor (``close_query``). Each step
is an audit entry: ``query_raise``, ``query_respond``, ``query_close``, with the
query's number and text in ``new_value``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from kypho.errors import ColumnError, StoreError
from kypho.store.audit import dumps
from kypho.store.store import Store
from kypho.store.workflow import queries, reading, writing

__all__ = ["Query", "close_query", "list_queries", "raise_query", "respond_query"]


@dataclass(frozen=True)
class Query:
    """One query as stored."""

    id: int
    record: str
    field: str
    state: str
    text: str
    value: str | None
    raised_by: str
    raised_at: str
    response: str | None
    responded_by: str | None
    responded_at: str | None
    closed_by: str | None
    closed_at: str | None

    @property
    def is_open(self) -> bool:
        """Open or answered: not yet closed by the monitor."""
        return self.state != "closed"


def raise_query(store: Store, record: str, field: str, text: str) -> int:
    """Raise a query on ``record``'s ``field``; returns its number (needs ``raise_query``)."""
    if field not in store.schema or store.schema[field].derived:
        raise ColumnError(f"{field!r} is not an entered variable of the study schema")
    if not text.strip():
        raise StoreError(f"a query on record {record}, {field!r} needs a question (got none)")
    with writing(store, "raise_query") as w:
        current = store._get(w.conn, record)
        value = dumps(current.values.get(field))
        done = w.conn.execute(
            sa.insert(queries).values(
                record=record,
                field=field,
                state="open",
                text=text.strip(),
                value=value,
                raised_by=store.user,
                raised_at=w.at,
            )
        )
        key = done.inserted_primary_key
        assert key is not None
        qid = int(key[0])
        w.append(
            "query_raise",
            record=record,
            field=field,
            new=dumps({"query": qid, "text": text.strip(), "value": value}),
        )
    return qid


def respond_query(store: Store, qid: int, text: str) -> None:
    """Answer query ``qid`` (needs ``respond_query``)."""
    if not text.strip():
        raise StoreError(f"the answer to query {qid} is empty")
    with writing(store, "respond_query") as w:
        query = _get(w.conn, qid)
        if query.state == "closed":
            raise StoreError(f"query {qid} on record {query.record} is closed")
        w.conn.execute(
            sa.update(queries)
            .where(queries.c.id == qid)
            .values(
                state="answered", response=text.strip(), responded_by=store.user, responded_at=w.at
            )
        )
        w.append(
            "query_respond",
            record=query.record,
            field=query.field,
            old=dumps(query.state),
            new=dumps({"query": qid, "text": text.strip()}),
        )


def close_query(store: Store, qid: int, note: str | None = None) -> None:
    """Close query ``qid`` (needs ``close_query``)."""
    with writing(store, "close_query") as w:
        query = _get(w.conn, qid)
        if query.state == "closed":
            raise StoreError(f"query {qid} on record {query.record} is already closed")
        w.conn.execute(
            sa.update(queries)
            .where(queries.c.id == qid)
            .values(state="closed", closed_by=store.user, closed_at=w.at)
        )
        w.append(
            "query_close",
            record=query.record,
            field=query.field,
            old=dumps(query.state),
            new=dumps({"query": qid}),
            reason=note or None,
        )


def list_queries(
    store: Store, *, record: str | None = None, open_only: bool = False
) -> list[Query]:
    """Queries, newest first, optionally of one record and only the open ones."""
    query = sa.select(queries).order_by(queries.c.id.desc())
    if record is not None:
        query = query.where(queries.c.record == record)
    if open_only:
        query = query.where(queries.c.state != "closed")
    with reading(store, "read") as conn:
        return [Query(**dict(r)) for r in conn.execute(query).mappings()]


def get_query(store: Store, qid: int) -> Query:
    """One query by number."""
    with reading(store, "read") as conn:
        return _get(conn, qid)


def _get(conn: sa.Connection, qid: int) -> Query:
    row = conn.execute(sa.select(queries).where(queries.c.id == qid)).mappings().first()
    if row is None:
        raise StoreError(f"no query number {qid}")
    return Query(**dict(row))
