"""Form values to and from the store, and validation messages at each field.

No rule is written here: a form's values are merged into the stored record and
passed to :func:`kypho.validate.validate` (what ``kypho validate``, imports and
edits run); its problems are shown at the fields they name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
from starlette.datastructures import FormData

from kypho.schema import Schema
from kypho.schema.forms import Instrument
from kypho.schema.forms import form_text as as_text

__all__ = ["as_text", "collect", "problems_by_field", "short"]

_PREFIX = re.compile(r"^record .*? \(row \d+\), ")
#: form name of a list variable's "anything observed?" choice
ANY = "__any"


def collect(instrument: Instrument, form: FormData, schema: Schema) -> dict[str, str]:
    """The instrument's fields present in a posted form, as input text.

    Fields absent from the form (hidden by branching, so disabled) are left out:
    they are not changed. A list variable comes as a yes/no choice plus one
    checkbox per code: "no" is the schema's none token, "yes" the ticked codes
    joined by ';'.
    """
    out: dict[str, str] = {}
    for f in instrument.fields:
        name = f.name
        if f.variable.type == "list":
            if name + ANY not in form:
                continue
            choice = str(form.get(name + ANY) or "")
            if choice == "no":
                out[name] = schema.none_token
            elif choice == "yes":
                codes = [str(c) for c in form.getlist(name) if str(c) in f.variable.codes]
                out[name] = ";".join(c for c in f.variable.codes if c in codes)
            else:
                out[name] = ""
            continue
        if name in form:
            value = form.get(name)
            out[name] = value.strip() if isinstance(value, str) else ""
    return out


def problems_by_field(
    schema: Schema, stored: Mapping[str, object], changes: Mapping[str, str]
) -> dict[str, list[str]]:
    """Validate ``stored`` with ``changes`` applied; ``{field: [message, ...]}``.

    Uses :func:`kypho.validate.validate` on the merged record's columns that
    the change can affect (:func:`kypho.store.store.affected_columns`), exactly
    as :meth:`kypho.store.Store.edit` will; a cross-field rule's message is
    shown at both fields it compares.
    """
    from kypho.store.store import _raw_value, affected_columns
    from kypho.validate import validate

    checked = affected_columns(schema, changes)
    raw: dict[str, Any] = {
        name: _raw_value(value, schema[name], schema)
        for name, value in stored.items()
        if name in checked
    }
    raw.update(changes)
    for name in checked:
        raw.setdefault(name, None)
    result = validate(pd.DataFrame([raw], dtype=object), schema)
    out: dict[str, list[str]] = {}
    rules = {r.name: r for r in schema.rules}
    for row in result.problems.itertuples(index=False):
        message = short(str(row.message))
        fields = [str(row.field)]
        if row.problem == "rule":
            for rule in rules.values():
                if rule.left == row.field and f"rule {rule.name!r}" in str(row.message):
                    fields.append(rule.right)
        for name in fields:
            out.setdefault(name, []).append(message)
    return out


def short(message: str) -> str:
    """A validation message without its ``record X (row 1),`` prefix (shown at the field)."""
    return _PREFIX.sub("", message)
