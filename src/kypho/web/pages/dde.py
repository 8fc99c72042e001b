"""Double data entry in the browser: the second entry (blind), then adjudication."""

from __future__ import annotations

from starlette.responses import Response

from kypho.errors import StoreError
from kypho.store.double_entry import adjudicate, differences, save_second, second_entry
from kypho.web.app import redirect
from kypho.web.pages.records import _instrument, _record, record_url
from kypho.web.routing import Ctx, route
from kypho.web.widgets import collect


def _need_dde(ctx: Ctx) -> None:
    if not ctx.web.forms.double_entry:
        raise StoreError("this study does not use double data entry (forms: double_entry)")


def _dde_url(rid: str, inst: str | None = None) -> str:
    from urllib.parse import quote

    url = f"/dde?id={quote(rid, safe='')}"
    return url + (f"&inst={quote(inst, safe='')}" if inst else "")


@route("/dde", right="second_entry")
def dde_page(ctx: Ctx) -> Response:
    """A record's forms with their second-entry state; one form to type blind."""
    _need_dde(ctx)
    rid = ctx.query.get("id", "")
    rec = _record(ctx, rid)
    store = ctx.acting()
    states = [(inst, second_entry(store, rid, inst.name)) for inst in ctx.web.forms]
    inst_name = ctx.query.get("inst")
    inst = _instrument(ctx, inst_name) if inst_name else None
    return ctx.render(
        "dde.html",
        rec=rec,
        rid=rid,
        states=states,
        inst=inst,
        record_url=record_url,
        dde_url=_dde_url,
        none_token=store.schema.none_token,
    )


@route("/dde/save", right="second_entry", methods=("POST",))
def dde_save(ctx: Ctx) -> Response:
    """Store the second entry of one form."""
    _need_dde(ctx)
    rid = ctx.get("id")
    inst = _instrument(ctx, ctx.get("inst"))
    values = collect(inst, ctx.form, ctx.web.store.schema)
    save_second(ctx.acting(), rid, inst.name, values)
    return redirect(_dde_url(rid))


@route("/dde/compare", right="adjudicate")
def dde_compare(ctx: Ctx) -> Response:
    """The fields where the two entries disagree, to choose from."""
    _need_dde(ctx)
    rid = ctx.query.get("id", "")
    inst = _instrument(ctx, ctx.query.get("inst", ""))
    store = ctx.acting()
    rec = _record(ctx, rid)
    entry = second_entry(store, rid, inst.name)
    if entry is None:
        raise StoreError(f"record {rid}, form '{inst.label}' has no second entry yet")
    diffs = differences(store, rec, entry, [f.name for f in inst.fields if f.name in entry.values])
    labels = {f.name: f.variable.label for f in inst.fields}
    return ctx.render(
        "dde_compare.html",
        rec=rec,
        rid=rid,
        inst=inst,
        entry=entry,
        diffs=diffs,
        labels=labels,
        record_url=record_url,
    )


@route("/dde/adjudicate", right="adjudicate", methods=("POST",))
def dde_adjudicate(ctx: Ctx) -> Response:
    """Apply the adjudicator's choices (values from the second entry are written)."""
    _need_dde(ctx)
    rid = ctx.get("id")
    inst = _instrument(ctx, ctx.get("inst"))
    choices = {
        f.name: ctx.get("choose__" + f.name)
        for f in inst.fields
        if ctx.get("choose__" + f.name) in ("first", "second")
    }
    adjudicate(ctx.acting(), rid, inst.name, choices, expected_version=int(ctx.get("version") or 0))
    return redirect(record_url(rid))
