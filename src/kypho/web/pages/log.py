"""The audit trail in the browser: per record and study-wide, filtered, exported as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from starlette.responses import Response, StreamingResponse

from kypho.store import Store
from kypho.store.audit import HASHED_FIELDS
from kypho.store.batch import ACTION as BATCH_ACTION
from kypho.store.workflow import reading
from kypho.web.pages.records import record_url
from kypho.web.routing import Ctx, route

_SHOWN = 500
_FILTERS = ("user", "field", "record", "action", "since", "until")
_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")  # the trail as hashed, and its chain


def _query(store: Store, filters: dict[str, str]) -> sa.Select[Any]:
    audit = store.tables.audit
    query = sa.select(*(audit.c[c] for c in _COLUMNS))
    if filters.get("user"):
        query = query.where(audit.c.user_name == filters["user"])
    if filters.get("field"):
        query = query.where(audit.c.field == filters["field"])
    if filters.get("record"):
        # a record created by an import is in its batch's entry, which names no
        # record (see Store.log); _shown keeps the batches that hold it
        query = query.where(
            sa.or_(audit.c.record == filters["record"], audit.c.action == BATCH_ACTION)
        )
    if filters.get("action"):
        query = query.where(audit.c.action == filters["action"])
    # `at` is ISO 8601 UTC text: text order is time order
    if filters.get("since"):
        query = query.where(audit.c.at >= filters["since"])
    if filters.get("until"):
        query = query.where(audit.c.at < filters["until"] + "\uffff")
    return query


@route("/log", right="log")
def log_page(ctx: Ctx) -> Response:
    """The trail, newest first, filtered by user, field, record, action and date."""
    store = ctx.acting()
    filters = {k: ctx.query.get(k, "").strip() for k in _FILTERS}
    audit = store.tables.audit
    query = _query(store, filters)
    with reading(store, "log") as conn:
        if filters["record"]:
            # one record's entries are few: count them as shown (a batch only
            # when it holds the record)
            found = _shown(conn.execute(query.order_by(audit.c.seq.desc())).all(), filters)
            total, rows = len(found), _deidentified(store, found[:_SHOWN])
        else:
            total = int(
                conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
            )
            rows = _deidentified(
                store, conn.execute(query.order_by(audit.c.seq.desc()).limit(_SHOWN)).all()
            )
        actions = [str(a) for a in conn.execute(sa.select(audit.c.action).distinct())]
    return ctx.render(
        "log.html",
        rows=rows,
        total=total,
        shown=len(rows),
        filters=filters,
        actions=sorted(actions),
        csv_query=urlencode({k: v for k, v in filters.items() if v}),
        record_url=record_url,
    )


@route("/log.csv", right="log")
def log_csv(ctx: Ctx) -> Response:
    """The filtered trail as CSV, oldest first, with every column and hash."""
    store = ctx.acting()
    filters = {k: ctx.query.get(k, "").strip() for k in _FILTERS}
    query = _query(store, filters).order_by(store.tables.audit.c.seq)
    with reading(store, "log") as conn:
        found = _shown(conn.execute(query).all(), filters)
        rows = [tuple(r.values()) for r in _deidentified(store, found)]

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(_COLUMNS)
        for row in rows:
            writer.writerow(["" if v is None else _cell(v) for v in row])
            if buffer.tell() > 1 << 16:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="kypho-audit-log.csv"'},
    )


def _shown(rows: Any, filters: dict[str, str]) -> list[tuple[Any, ...]]:
    """With a record filter, a batch entry as that record's creation (as ``db log --record``)."""
    from kypho.store.store import _batches_shown

    return _batches_shown(rows, _COLUMNS, filters.get("record") or None, None, False)


def _deidentified(store: Store, rows: Any) -> list[dict[str, Any]]:
    """Trail rows with identifying values removed, as ``kypho db log`` shows them to every role."""
    import pandas as pd

    from kypho.store.audit import deidentify_trail

    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(_COLUMNS), dtype=object)
    # a batch shown as one record's creation holds that record's values, as a
    # create entry does, and is de-identified as one (Store.log does the same)
    as_create = (frame["action"] == BATCH_ACTION) & frame["record"].notna()
    frame.loc[as_create, "action"] = "create"
    safe = deidentify_trail(frame, store.schema).astype(object)
    safe.loc[as_create, "action"] = BATCH_ACTION
    safe = safe.where(safe.notna(), None)
    return [dict(zip(_COLUMNS, values, strict=True)) for values in safe.itertuples(index=False)]


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (kypho's one rule:
    :func:`kypho.output.cells.neutralise`; a negative number stays a number)."""
    from kypho.output.cells import neutralise

    return str(neutralise(str(value)))
