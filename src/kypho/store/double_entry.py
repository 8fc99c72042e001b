"""Double data entry: a second, independent entry of a record's form, then adjudication.

The first entry is the record as stored. A second person (``second_entry``
right, not the one who created the record) types the same form again without
seeing the first; :func:`differences` lists the fields where the two disagree,
both as :func:`kypho.validate.validate` reads them, and a monitor or admin
(``adjudicate``) chooses field by field: values taken from the second entry are
written with an ordinary audited, validated edit. Audit actions:
``second_entry`` (the values typed), ``adjudicate`` (the choices).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from kypho.errors import StoreError
from kypho.store.audit import dumps
from kypho.store.batch import ACTION as BATCH_ACTION
from kypho.store.batch import decode_batch
from kypho.store.store import Record, Store
from kypho.store.workflow import entries, reading, writing

__all__ = ["Difference", "SecondEntry", "adjudicate", "differences", "save_second", "second_entry"]


@dataclass(frozen=True)
class SecondEntry:
    """A stored second entry: its values as typed, who, when, and its state."""

    record: str
    instrument: str
    values: Mapping[str, str]
    entered_by: str
    entered_at: str
    state: str


@dataclass(frozen=True)
class Difference:
    """One field where the two entries disagree (values as form text)."""

    field: str
    first: str
    second: str


def _creator(conn: sa.Connection, store: Store, record: str) -> str | None:
    """Who created ``record``: the user of its ``create`` entry, or of the batch holding it."""
    audit = store.tables.audit
    own = (audit.c.record == record) & (audit.c.action == "create")
    found = conn.execute(
        sa.select(audit.c.user_name, audit.c.action, audit.c.new_value)
        .where(own | (audit.c.action == BATCH_ACTION))
        .order_by(audit.c.seq.desc())
    )
    for user, action, text in found:
        if action == "create" or record in decode_batch(text, columns=[]).column(0).to_pylist():
            return str(user)
    return None


def save_second(store: Store, record: str, instrument: str, values: Mapping[str, str]) -> None:
    """Store (or replace, before adjudication) the second entry of ``record``'s ``instrument``."""
    with writing(store, "second_entry") as w:
        store._get(w.conn, record)
        if _creator(w.conn, store, record) == store.user:
            raise StoreError(
                f"user {store.user!r} entered record {record} first; the second entry must "
                "be typed by someone else"
            )
        where = (entries.c.record == record) & (entries.c.instrument == instrument)
        old = w.conn.execute(sa.select(entries.c.state).where(where)).first()
        if old is not None and old.state == "adjudicated":
            raise StoreError(f"the double entry of record {record}, {instrument} is adjudicated")
        w.conn.execute(sa.delete(entries).where(where))
        w.conn.execute(
            sa.insert(entries).values(
                record=record,
                instrument=instrument,
                values=dumps(dict(values)),
                entered_by=store.user,
                entered_at=w.at,
                state="pending",
            )
        )
        w.append("second_entry", record=record, field=instrument, new=dumps(dict(values)))


def second_entry(store: Store, record: str, instrument: str) -> SecondEntry | None:
    """The second entry of ``record``'s ``instrument``, if any."""
    with reading(store, "read") as conn:
        row = (
            conn.execute(
                sa.select(entries).where(
                    (entries.c.record == record) & (entries.c.instrument == instrument)
                )
            )
            .mappings()
            .first()
        )
    if row is None:
        return None
    return SecondEntry(
        str(row["record"]),
        str(row["instrument"]),
        json.loads(row["values"]),
        str(row["entered_by"]),
        str(row["entered_at"]),
        str(row["state"]),
    )


def differences(
    store: Store, record: Record, entry: SecondEntry, fields: Sequence[str]
) -> list[Difference]:
    """The fields where the stored record and the second entry disagree, as validation reads them."""
    from kypho.schema.forms import form_text as as_text
    from kypho.store.store import _python_values
    from kypho.validate import validate

    schema = store.schema
    raw = {name: entry.values.get(name, "") for name in fields}
    raw[schema.id_column] = record.record_id
    for var in schema.input_variables:
        if var.required and var.name not in raw:
            raw[var.name] = as_text(record.values.get(var.name), var, schema)
    result = validate(pd.DataFrame([raw], dtype=object), schema)
    out: list[Difference] = []
    for name in fields:
        var = schema[name]
        first = as_text(record.values.get(name), var, schema)
        second = str(entry.values.get(name, ""))
        if result.n_accepted and name in result.data:
            second = as_text(_python_values(result.data[name], var)[0], var, schema)
        if first != second:
            out.append(Difference(name, first, second))
    return out


def adjudicate(
    store: Store,
    record: str,
    instrument: str,
    choices: Mapping[str, str],
    *,
    expected_version: int,
) -> Record:
    """Resolve the two entries: ``{field: "first" | "second"}``; the second's values are written.

    Needs ``adjudicate``; the edit itself is validated and audited as any edit.
    """
    with reading(store, "adjudicate"):
        pass
    entry = second_entry(store, record, instrument)
    if entry is None:
        raise StoreError(f"record {record}, {instrument} has no second entry to adjudicate")
    taken = {f: str(entry.values.get(f, "")) for f, c in choices.items() if c == "second"}
    rec = store.get(record)
    if taken:
        rec = store.edit(
            record,
            taken,
            expected_version=expected_version,
            reason=f"double data entry adjudicated (second entry by {entry.entered_by})",
        )
    with writing(store, "adjudicate") as w:
        w.conn.execute(
            sa.update(entries)
            .where((entries.c.record == record) & (entries.c.instrument == instrument))
            .values(state="adjudicated")
        )
        w.append("adjudicate", record=record, field=instrument, new=dumps(dict(choices)))
    return rec
