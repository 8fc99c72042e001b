"""Queries: raised by a monitor on a field, answered by data entry, closed by the monitor."""

from __future__ import annotations

from starlette.responses import Response

from kypho.errors import StoreError
from kypho.store.queries import close_query, get_query, list_queries, raise_query, respond_query
from kypho.web.app import redirect
from kypho.web.pages.records import record_url
from kypho.web.routing import Ctx, route


@route("/queries", right="read")
def queries_page(ctx: Ctx) -> Response:
    """Every query, open ones first."""
    show_all = ctx.query.get("all") == "1"
    items = list_queries(ctx.acting(), open_only=not show_all)
    return ctx.render("queries.html", query_items=items, show_all=show_all, record_url=record_url)


def _qid(ctx: Ctx) -> int:
    try:
        return int(ctx.get("qid"))
    except ValueError:
        raise StoreError(f"no query number {ctx.get('qid')!r}") from None


def _back(ctx: Ctx, rid: str) -> Response:
    inst = ctx.web.forms.instrument_of(ctx.get("field")) if ctx.get("field") else None
    return redirect(record_url(rid, inst.name) if inst is not None else record_url(rid))


@route("/query/raise", right="raise_query", methods=("POST",))
def raise_(ctx: Ctx) -> Response:
    """Raise a query on a record's field."""
    rid = ctx.get("id")
    raise_query(ctx.acting(), rid, ctx.get("field"), ctx.get("text"))
    return _back(ctx, rid)


@route("/query/respond", right="respond_query", methods=("POST",))
def respond(ctx: Ctx) -> Response:
    """Answer a query."""
    qid = _qid(ctx)
    respond_query(ctx.acting(), qid, ctx.get("text"))
    query = get_query(ctx.acting(), qid)
    inst = ctx.web.forms.instrument_of(query.field)
    return redirect(record_url(query.record, inst.name if inst else None))


@route("/query/close", right="close_query", methods=("POST",))
def close(ctx: Ctx) -> Response:
    """Close a query."""
    qid = _qid(ctx)
    close_query(ctx.acting(), qid, ctx.get("note").strip() or None)
    query = get_query(ctx.acting(), qid)
    inst = ctx.web.forms.instrument_of(query.field)
    return redirect(record_url(query.record, inst.name if inst else None))
