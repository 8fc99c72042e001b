"""The status of each record x instrument: incomplete, complete, verified (and locked).

A record's instrument is *incomplete* until someone with the ``complete`` right
marks it complete, *verified* once a monitor (``verify_record``) has checked it
against the source documents, and shows as *locked* whenever the record is
locked (:meth:`kypho.store.Store.lock`). Every change is audited (action
``status``, the instrument in ``field``, old and new status).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from kypho.errors import LockedError, StoreError
from kypho.store.audit import dumps
from kypho.store.store import Store
from kypho.store.workflow import reading, status, writing

__all__ = ["STATES", "demote_after_edit", "set_status", "statuses"]

#: The states in workflow order (``locked`` comes from the record's lock).
STATES: tuple[str, ...] = ("incomplete", "complete", "verified", "locked")
_RIGHT = {"incomplete": "complete", "complete": "complete", "verified": "verify_record"}


def statuses(store: Store, record: str | None = None) -> dict[tuple[str, str], str]:
    """``{(record, instrument): state}`` of every stored state (absent = incomplete)."""
    query = sa.select(status.c.record, status.c.instrument, status.c.status)
    if record is not None:
        query = query.where(status.c.record == record)
    with reading(store, "read") as conn:
        return {(str(r), str(i)): str(s) for r, i, s in conn.execute(query)}


def set_status(
    store: Store, record: str, instrument: str, state: str, *, reason: str | None = None
) -> None:
    """Set the status of ``record``'s ``instrument`` (``incomplete``, ``complete``, ``verified``).

    Raises
    ------
    StoreError
        For an unknown state or record.
    LockedError
        If the record is locked.
    PermissionDenied
        Marking complete (or back to incomplete) needs ``complete``; verified needs
        ``verify_record``.
    """
    if state not in _RIGHT:
        raise StoreError(
            f"unknown status {state!r} for record {record}, {instrument}; "
            "use incomplete, complete or verified"
        )
    with writing(store, _RIGHT[state]) as w:
        current = store._get(w.conn, record)
        if current.locked:
            raise LockedError(
                f"record {record} is locked (by {current.locked_by}); its statuses cannot change"
            )
        old = _current(w.conn, record, instrument)
        if old == state:
            return
        _write(w.conn, record, instrument, state, w.at, store.user)
        w.append(
            "status",
            record=record,
            field=instrument,
            old=dumps(old),
            new=dumps(state),
            reason=reason,
            version=current.version,
        )


def demote_after_edit(
    store: Store, record: str, instruments: Iterable[str], *, reason: str
) -> list[str]:
    """After an edit, a *verified* instrument goes back to *complete* (verify it again).

    Returns the instruments demoted. Needs the ``edit`` right (the edit's author).
    """
    wanted = list(instruments)
    demoted: list[str] = []
    # most edits are of unverified forms: look first, so that they cost no second
    # writing transaction (the writer below looks again, under the chain's lock)
    with reading(store, "edit") as conn:
        if not any(_current(conn, record, i) == "verified" for i in wanted):
            return demoted
    with writing(store, "edit") as w:
        for instrument in wanted:
            if _current(w.conn, record, instrument) == "verified":
                _write(w.conn, record, instrument, "complete", w.at, store.user)
                w.append(
                    "status",
                    record=record,
                    field=instrument,
                    old=dumps("verified"),
                    new=dumps("complete"),
                    reason=f"edited after verification: {reason}",
                )
                demoted.append(instrument)
    return demoted


def _current(conn: sa.Connection, record: str, instrument: str) -> str:
    row = conn.execute(
        sa.select(status.c.status).where(
            (status.c.record == record) & (status.c.instrument == instrument)
        )
    ).first()
    return "incomplete" if row is None else str(row.status)


def _write(conn: sa.Connection, record: str, instrument: str, state: str, at: str, by: str) -> None:
    where = (status.c.record == record) & (status.c.instrument == instrument)
    conn.execute(sa.delete(status).where(where))
    if state != "incomplete":
        conn.execute(
            sa.insert(status).values(
                record=record, instrument=instrument, status=state, at=at, by=by
            )
        )
