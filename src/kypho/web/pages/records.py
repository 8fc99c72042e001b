"""The dashboard, the screening log, records and their forms, statuses and locks."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import quote

import pandas as pd
import sqlalchemy as sa
from starlette.responses import Response

from kypho.errors import ConflictError, LockedError, StoreError, ValidationError
from kypho.schema.forms import Instrument
from kypho.store import Record
from kypho.store.queries import list_queries
from kypho.store.status import demote_after_edit, set_status, statuses
from kypho.store.workflow import reading
from kypho.web.app import html, redirect
from kypho.web.routing import Ctx, route
from kypho.web.widgets import as_text, collect, problems_by_field, short

PAGE_SIZE = 100


def record_url(rid: str, inst: str | None = None) -> str:
    """The URL of a record's page (or of one of its forms)."""
    if inst is None:
        return f"/record?id={quote(rid, safe='')}"
    return f"/record/form?id={quote(rid, safe='')}&inst={quote(inst, safe='')}"


def _instrument(ctx: Ctx, name: str) -> Instrument:
    if name not in ctx.web.forms:
        raise StoreError(f"there is no form {name!r}")
    return ctx.web.forms[name]


def _record(ctx: Ctx, rid: str) -> Record:
    """The record to show: identifying fields withheld unless the role may see them."""
    return ctx.acting().show(rid)


def _cell(record_locked: bool, state: str | None) -> str:
    return "locked" if record_locked else (state or "incomplete")


@route("/", right="read")
def dashboard(ctx: Ctx) -> Response:
    """Every record x instrument status, open queries, search by id."""
    store = ctx.acting()
    records = store.tables.records
    id_col = records.c[store.schema.id_column]
    group_col = records.c[store.schema.group_column]
    q = ctx.query.get("q", "").strip()
    try:
        page = max(1, int(ctx.query.get("page", "1")))
    except ValueError:
        page = 1
    query = sa.select(id_col, group_col, records.c.kypho_locked, records.c.kypho_version)
    count = sa.select(sa.func.count()).select_from(records)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(id_col.like(pattern, escape="\\"))
        count = count.where(id_col.like(pattern, escape="\\"))
    with reading(store, "read") as conn:
        total = int(conn.execute(count).scalar_one())
        rows = conn.execute(
            query.order_by(records.c.kypho_row).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
        ).all()
    states = statuses(store)
    open_queries = Counter(qr.record for qr in list_queries(store, open_only=True))
    levels = store.schema[store.schema.group_column].levels
    table = [
        {
            "id": str(r[0]),
            "group": "" if r[1] is None else levels.get(str(r[1]), str(r[1])),
            "locked": bool(r[2]),
            "cells": [_cell(bool(r[2]), states.get((str(r[0]), i.name))) for i in ctx.web.forms],
            "queries": open_queries.get(str(r[0]), 0),
        }
        for r in rows
    ]
    totals = Counter(states.values())
    return ctx.render(
        "dashboard.html",
        rows=table,
        q=q,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
        n_open=sum(open_queries.values()),
        totals=totals,
        group_label=store.schema[store.schema.group_column].label,
        record_url=record_url,
    )


@route("/screening", right="read")
def screening(ctx: Ctx) -> Response:
    """Each patient's eligibility decision and the criteria failed."""
    from kypho.eligibility import screen

    store = ctx.acting()
    data = store.read()
    rows: list[dict[str, Any]] = []
    flow = None
    if len(data):
        result = screen(data, store.schema)
        flow = result.flow
        frame = result.frame
        id_col = store.schema.id_column
        for rec in frame.to_dict("records"):
            rows.append(
                {
                    "id": str(rec[id_col]),
                    "eligible": bool(rec["eligible"]),
                    "failed": "" if pd.isna(rec["failed"]) else str(rec["failed"]),
                }
            )
    return ctx.render("screening.html", rows=rows, flow=flow, record_url=record_url)


@route("/record/new", right="import")
def new_record_page(ctx: Ctx) -> Response:
    """The fields a record needs before it can first be saved (the schema's required ones)."""
    return ctx.render("new_record.html", fields=_required(ctx), values={}, problems={})


def _required(ctx: Ctx) -> list[Any]:
    schema = ctx.web.store.schema
    return [v for v in schema.input_variables if v.required]


@route("/record/new", right="import", methods=("POST",), name="create_record")
def create_record(ctx: Ctx) -> Response:
    """Create a record from the required fields, through the store's import (validated)."""
    store = ctx.acting()
    fields = _required(ctx)
    values = {v.name: ctx.get(v.name).strip() for v in fields}
    result = store.import_frame(
        pd.DataFrame([values], dtype=object), reason="entered in the web form", source="web form"
    )
    if result.n_imported == 1:
        return redirect(record_url(values[store.schema.id_column]))
    problems: dict[str, list[str]] = {}
    for row in result.problems.itertuples(index=False):
        problems.setdefault(str(row.field), []).append(short(str(row.message)))
    return ctx.render("new_record.html", 422, fields=fields, values=values, problems=problems)


@route("/record", right="read")
def record_page(ctx: Ctx) -> Response:
    """A record: its forms with their statuses, its open queries, its lock."""
    rid = ctx.query.get("id", "")
    rec = _record(ctx, rid)
    states = statuses(ctx.acting(), rid)
    forms = [
        {
            "inst": inst,
            "state": _cell(rec.locked, states.get((rid, inst.name))),
            "missing": [f.variable.label for f in inst.missing(rec.values)],
            "url": record_url(rid, inst.name),
        }
        for inst in ctx.web.forms
    ]
    return ctx.render(
        "record.html",
        rec=rec,
        rid=rid,
        forms_state=forms,
        query_items=list_queries(ctx.acting(), record=rid),
        record_url=record_url,
    )


def _form_values(ctx: Ctx, rec: Record, inst: Instrument) -> dict[str, str]:
    schema = ctx.web.store.schema
    return {f.name: as_text(rec.values.get(f.name), f.variable, schema) for f in inst.fields}


@route("/record/form", right="read")
def form_page(ctx: Ctx) -> Response:
    """One instrument of a record, editable for users with the edit right."""
    rid = ctx.query.get("id", "")
    inst = _instrument(ctx, ctx.query.get("inst", ""))
    rec = _record(ctx, rid)
    return _render_form(ctx, rec, inst, _form_values(ctx, rec, inst), {}, None)


def _render_form(
    ctx: Ctx,
    rec: Record,
    inst: Instrument,
    values: dict[str, str],
    problems: dict[str, list[str]],
    error: str | None,
    status_code: int = 200,
    orig: dict[str, str] | None = None,
) -> Response:
    rid = rec.record_id
    state = _cell(rec.locked, statuses(ctx.acting(), rid).get((rid, inst.name)))
    queries = [q for q in list_queries(ctx.acting(), record=rid) if q.field in inst.names]
    by_field: dict[str, list[Any]] = {}
    for q in queries:
        by_field.setdefault(q.field, []).append(q)
    return ctx.render(
        "form.html",
        status_code,
        rec=rec,
        rid=rid,
        inst=inst,
        values=values,
        orig=orig if orig is not None else _form_values(ctx, rec, inst),
        problems=problems,
        error=error,
        state=state,
        editable=ctx.can("edit") and not rec.locked,
        needs_reason=state in ("complete", "verified"),
        queries=by_field,
        query_items=queries,
        none_token=ctx.web.store.schema.none_token,
        record_url=record_url,
    )


@route("/record/check", right="edit", methods=("POST",))
def check_field(ctx: Ctx) -> Response:
    """HTMX: validate the form as it stands; the messages of one field, as a fragment."""
    rid = ctx.get("id")
    inst = _instrument(ctx, ctx.get("inst"))
    field = ctx.query.get("field", "")
    rec = _record(ctx, rid)
    posted = collect(inst, ctx.form, ctx.web.store.schema)
    changes = {k: v for k, v in posted.items() if k == field or v != ctx.get("orig__" + k, "")}
    problems = problems_by_field(ctx.web.store.schema, rec.values, changes)
    messages = problems.get(field, [])
    return ctx.render("field_messages.html", name=field, messages=messages)


@route("/record/save", right="edit", methods=("POST",))
def save_form(ctx: Ctx) -> Response:
    """Save an instrument's changes (incomplete allowed); a stale version gets the conflict page."""
    store = ctx.acting()
    schema = store.schema
    rid = ctx.get("id")
    inst = _instrument(ctx, ctx.get("inst"))
    try:
        version = int(ctx.get("version"))
    except ValueError:
        raise StoreError("the form has no record version; reload it") from None
    posted = collect(inst, ctx.form, schema)
    orig = {name: ctx.get("orig__" + name) for name in posted}
    changes = {name: value for name, value in posted.items() if value != orig.get(name, "")}
    reason = ctx.get("reason").strip()
    rec = _record(ctx, rid)
    state = statuses(store, rid).get((rid, inst.name), "incomplete")
    values = {**_form_values(ctx, rec, inst), **posted}
    if rec.locked:
        message = f"record {rid} is locked (by {rec.locked_by}): nothing was saved"
        return _render_form(ctx, rec, inst, values, {}, message, 409, orig=orig)
    if changes and state in ("complete", "verified") and not reason:
        return _render_form(
            ctx,
            rec,
            inst,
            values,
            {},
            "This form is marked complete: say why you change it (the reason is kept in the "
            "audit trail).",
            422,
            orig=orig,
        )
    if changes:
        if rec.version != version:
            return _conflict(ctx, rec, inst, changes, orig, reason)
        try:
            store.edit(
                rid,
                changes,
                expected_version=version,
                reason=reason or f"entered in the form '{inst.label}'",
            )
        except ConflictError:
            return _conflict(ctx, _record(ctx, rid), inst, changes, orig, reason)
        except ValidationError:
            problems = problems_by_field(schema, rec.values, changes)
            return _render_form(
                ctx,
                rec,
                inst,
                values,
                problems,
                "Not saved: correct the fields marked below.",
                422,
                orig=orig,
            )
        except LockedError as exc:
            return _render_form(ctx, rec, inst, values, {}, str(exc), 409, orig=orig)
        demote_after_edit(store, rid, [inst.name], reason=reason or "edited")
    if ctx.get("complete") == "1" and ctx.can("complete"):
        rec = _record(ctx, rid)
        missing = inst.missing(rec.values)
        if missing:
            names = ", ".join(f.variable.label for f in missing)
            return _render_form(
                ctx,
                rec,
                inst,
                _form_values(ctx, rec, inst),
                {f.name: ["needed before the form can be marked complete"] for f in missing},
                f"Saved, but not complete: {names} still empty.",
                422,
            )
        if state == "incomplete":
            set_status(store, rid, inst.name, "complete")
    return redirect(record_url(rid, inst.name) + "&saved=1")


def _conflict(
    ctx: Ctx,
    current: Record,
    inst: Instrument,
    mine: dict[str, str],
    orig: dict[str, str],
    reason: str,
) -> Response:
    schema = ctx.web.store.schema
    theirs = _form_values(ctx, current, inst)
    fields = [
        {
            "field": f,
            "orig": orig.get(f.name, ""),
            "mine": mine[f.name],
            "theirs": theirs.get(f.name, ""),
        }
        for f in inst.fields
        if f.name in mine
    ]
    changed_by_them = [
        f for f in inst.fields if f.name not in mine and theirs.get(f.name) != orig.get(f.name)
    ]
    return ctx.render(
        "conflict.html",
        409,
        rec=current,
        rid=current.record_id,
        inst=inst,
        fields=fields,
        theirs=theirs,
        changed_by_them=changed_by_them,
        reason=reason,
        none_token=schema.none_token,
        record_url=record_url,
    )


@route("/record/resolve", right="edit", methods=("POST",))
def resolve_conflict(ctx: Ctx) -> Response:
    """Apply the choices of the conflict page against the version it showed."""
    store = ctx.acting()
    rid = ctx.get("id")
    inst = _instrument(ctx, ctx.get("inst"))
    version = int(ctx.get("version") or 0)
    changes: dict[str, str] = {}
    for f in inst.fields:
        choice = ctx.get("choose__" + f.name)
        if choice == "mine":
            changes[f.name] = ctx.get("mine__" + f.name)
    rec = _record(ctx, rid)
    theirs = _form_values(ctx, rec, inst)
    changes = {k: v for k, v in changes.items() if theirs.get(k) != v}
    if changes:
        reason = ctx.get("reason").strip() or "conflict resolved in the web form"
        try:
            store.edit(rid, changes, expected_version=version, reason=reason)
        except ConflictError:
            orig = {k: theirs.get(k, "") for k in changes}
            return _conflict(ctx, _record(ctx, rid), inst, changes, orig, reason)
        demote_after_edit(store, rid, [inst.name], reason=reason)
    return redirect(record_url(rid, inst.name) + "&saved=1")


@route("/record/status", right="complete", methods=("POST",))
def mark_status(ctx: Ctx) -> Response:
    """Mark an instrument complete (if its required fields are filled) or incomplete again."""
    store = ctx.acting()
    rid = ctx.get("id")
    inst = _instrument(ctx, ctx.get("inst"))
    state = ctx.get("state")
    if state not in ("complete", "incomplete"):
        raise StoreError(f"cannot set a form to {state!r} here")
    if state == "complete":
        missing = inst.missing(_record(ctx, rid).values)
        if missing:
            raise StoreError(
                f"record {rid}, form '{inst.label}' cannot be complete: "
                + ", ".join(f.variable.label for f in missing)
                + " still empty"
            )
    set_status(store, rid, inst.name, state, reason=ctx.get("reason").strip() or None)
    return redirect(record_url(rid))


@route("/record/verify", right="verify_record", methods=("POST",))
def verify_form(ctx: Ctx) -> Response:
    """Mark an instrument verified against the source documents (monitor)."""
    rid = ctx.get("id")
    inst = _instrument(ctx, ctx.get("inst"))
    set_status(ctx.acting(), rid, inst.name, "verified", reason=ctx.get("reason").strip() or None)
    return redirect(record_url(rid))


@route("/record/lock", right="lock", methods=("POST",))
def lock_record(ctx: Ctx) -> Response:
    """Lock a record (with a reason)."""
    rid = ctx.get("id")
    ctx.acting().lock(rid, reason=ctx.get("reason").strip() or "locked after monitoring")
    return redirect(record_url(rid))


@route("/record/unlock", right="unlock", methods=("POST",))
def unlock_record(ctx: Ctx) -> Response:
    """Unlock a record (with a reason)."""
    rid = ctx.get("id")
    reason = ctx.get("reason").strip()
    if not reason:
        raise StoreError(f"unlocking record {rid} needs a reason")
    ctx.acting().unlock(rid, reason=reason)
    return redirect(record_url(rid))


def fragment(text: str) -> Response:
    """An HTML fragment (already escaped)."""
    return html(text)
