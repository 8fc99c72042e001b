"""The audit trail's entries and their hash chain.

Every change made through kypho appends one entry to ``kypho_audit``: who (user
and role), when (UTC, ISO 8601), what (``action``), which record and field, the
old and new values (JSON), why (``reason``) and the record's version after the
change. Entries are chained: each stores the previous entry's hash and its own,

    hash_k = SHA-256(hash_{k-1} || "\\n" || JSON[seq, at, user, role, action, record,
                                                 field, H(old), H(new), reason, version])

where ``H(x)`` is the SHA-256 (hex) of the value's JSON text, ``null`` when there
is none, and ``hash_0`` = 64 zeros; changing, inserting or removing any entry
breaks every later hash. (The values enter through their own digests so that a
whole record's JSON is hashed once rather than escaped into a second JSON text,
which made every import noticeably slower.)

Notes
-----
An import records one ``create`` entry per record whose ``new`` value is the
whole record as a JSON object (not one entry per field); an edit records one
``update`` entry per changed field with the old and the new value; a delete
records the whole record as ``old``. Replaying the trail therefore rebuilds
every record, which is how :meth:`kypho.store.Store.verify` catches a row that
was changed behind kypho's back.

References
----------
.. [1] U.S. FDA, 21 CFR Part 11 §11.10(e): secure, computer-generated,
   time-stamped audit trails that do not obscure previously recorded information.
.. [2] Haber S, Stornetta WS. How to time-stamp a digital document.
   J Cryptology 1991;3:99-111 (linked hash chains).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from kypho.schema import Schema

__all__ = [
    "GENESIS",
    "HASHED_FIELDS",
    "REMOVED",
    "chain_creates",
    "deidentify_trail",
    "dumps",
    "entry_hash",
    "now",
    "record_texts",
]

#: ``prev_hash`` of the first entry.
GENESIS = "0" * 64

#: The entry fields covered by the hash, in hashing order.
HASHED_FIELDS: tuple[str, ...] = (
    "seq",
    "at",
    "user_name",
    "role",
    "action",
    "record",
    "field",
    "old_value",
    "new_value",
    "reason",
    "version",
)


def _default(value: object) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot record a {type(value).__name__} in the audit trail: {value!r}")


def dumps(value: object) -> str:
    """Canonical JSON of a value (sorted keys, no spaces, dates as ISO text).

    Floats are written with Python's shortest round-tripping repr, so a value
    read back from the database gives the same text.

    Examples
    --------
    >>> import datetime as dt
    >>> dumps({"b": 1.5, "a": dt.date(2020, 1, 2), "c": None})
    '{"a":"2020-01-02","b":1.5,"c":null}'
    """
    return _ENCODER.encode(value)


# one encoder each for every call: json.dumps with options builds a new one each time
_ENCODER = json.JSONEncoder(
    sort_keys=True,
    separators=(",", ":"),
    ensure_ascii=False,
    allow_nan=False,
    default=_default,
)
_PLAIN = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# what both encoders do with a str (ensure_ascii=False)
_encode_text = json.encoder.encode_basestring


def entry_hash(prev_hash: str, entry: Mapping[Any, Any]) -> str:
    """The hash of an entry chained to ``prev_hash`` (see the module docstring)."""
    payload = _PLAIN.encode(
        [_digest(entry[k]) if k in _DIGESTED else entry[k] for k in HASHED_FIELDS]
    )
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


_DIGESTED = frozenset({"old_value", "new_value"})


def record_texts(columns: Sequence[Sequence[object]], names: Sequence[str]) -> list[str]:
    """``dumps(dict(zip(names, row)))`` for every row of ``columns``, column by column.

    ``columns[i]`` holds the values of ``names[i]`` (plain Python values, ``None``
    for missing). Each column's distinct values are encoded once with
    :func:`dumps` and the rows are joined by pyarrow, so a record costs a few
    microseconds rather than a whole JSON encoding; the texts are :func:`dumps`'s,
    character for character.

    Examples
    --------
    >>> import datetime as dt
    >>> record_texts([[1.5, None], ["P-1", "P-2"], [dt.date(2020, 1, 2), None]], ["b", "a", "c"])
    ['{"a":"P-1","b":1.5,"c":"2020-01-02"}', '{"a":"P-2","b":null,"c":null}']
    """
    import pyarrow.compute as pc

    n = len(columns[0]) if columns else 0
    if n == 0:
        return []
    order = sorted(range(len(names)), key=lambda i: names[i])
    last = len(order) - 1
    # the braces ride on the first key and after the last value (no second copy)
    parts = [
        _json_column(
            columns[i],
            ("{" if k == 0 else "") + _ENCODER.encode(names[i]) + ":",
            "}" if k == last else "",
        )
        for k, i in enumerate(order)
    ]
    texts = pc.binary_join_element_wise(*parts, ",") if len(parts) > 1 else parts[0]
    out: list[str] = texts.to_pylist()
    return out


def _json_column(values: Sequence[object], key: str, end: str = "") -> Any:
    """``key`` + the JSON of each value + ``end``, as a pyarrow text column."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    cells = np.empty(len(values), dtype=object)
    cells[:] = values
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if len(kinds) > 1:
        # mixed types (1 and True hash alike): every value on its own
        return pa.array([key + _ENCODER.encode(v) + end for v in values])
    codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    kind = next(iter(kinds), None)
    shown = [_scalar(u, kind) for u in uniques]
    if kind is float:
        for j, u in enumerate(uniques):
            if u == 0.0 and any(
                math.copysign(1.0, cells[i]) < 0 for i in np.flatnonzero(codes == j)
            ):
                # 0.0 and -0.0 are one value to a hash table but print differently
                return pa.array([key + _ENCODER.encode(v) + end for v in values])
    table = pa.array([key + t + end for t in shown] + [key + "null" + end])
    return table.take(pa.array(np.where(codes < 0, len(shown), codes)))


def _scalar(value: object, kind: type | None) -> str:
    """:func:`dumps` of one value, by its type's own encoder where that is what dumps does."""
    if kind is str and isinstance(value, str):
        return str(_encode_text(value))
    if kind is float and isinstance(value, float) and math.isfinite(value):
        return float.__repr__(value)
    if kind is int and isinstance(value, int):
        return int.__repr__(value)
    return _ENCODER.encode(value)


def chain_creates(
    prev_hash: str,
    first_seq: int,
    at: str,
    user: str,
    role: str,
    records: Sequence[str],
    texts: Sequence[str],
    reason: str | None,
) -> list[str]:
    """The hashes of consecutive ``create`` entries (version 1), chained from ``prev_hash``.

    The same hashes as :func:`entry_hash` of each entry in turn (a test checks),
    with the entry's constant fields encoded once.
    """
    head = _PLAIN.encode([at, user, role, "create"])[1:-1]
    tail = _PLAIN.encode(reason)
    hashes: list[str] = []
    prev = prev_hash
    sha = hashlib.sha256
    encode = _PLAIN.encode
    for k, (record, text) in enumerate(zip(records, texts, strict=True)):
        digest = sha(text.encode()).hexdigest()
        payload = f'[{first_seq + k},{head},{encode(record)},null,null,"{digest}",{tail},1]'
        prev = sha(f"{prev}\n{payload}".encode()).hexdigest()
        hashes.append(prev)
    return hashes


def _digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def now() -> str:
    """The current UTC time as ISO 8601 text with microseconds."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


#: What a de-identified trail shows instead of an identifying value.
REMOVED = "[removed]"


def deidentify_trail(trail: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """A copy of an audit trail whose values hold no Safe Harbor identifier.

    The values of variables declared ``phi: direct`` or ``phi: free_text``
    become ``"[removed]"`` (in a whole-record ``create``/``delete`` entry they
    are left out); dates keep only their year; ages above 89 become ``"90+"``
    (the rules of :func:`kypho.store.deidentify`, 45 CFR §164.514(b)(2), applied
    value by value since a trail entry has no operation date to count from). A
    value that is not readable JSON is shown as ``null``. The record ids
    (pseudonyms), users, reasons and hashes are kept.
    """
    from kypho.store.safe_harbor import dropped_columns

    dropped = frozenset(dropped_columns(schema))
    out = trail.copy()
    import pandas as pd

    for column in ("old_value", "new_value"):
        values = [
            _deidentified_value(action, name, text, schema, dropped)
            for action, name, text in zip(out["action"], out["field"], out[column], strict=True)
        ]
        out[column] = pd.Series(values, index=out.index, dtype=object)
    return out


def _deidentified_value(
    action: object, name: object, text: object, schema: Schema, dropped: frozenset[str]
) -> str | None:
    if text is None or (isinstance(text, float) and text != text):
        return None
    if action not in ("create", "update", "delete"):
        return str(text)
    try:
        value = json.loads(str(text))
    except ValueError:
        return None
    if action in ("create", "delete"):
        if not isinstance(value, dict):
            return None
        return dumps(
            {
                key: _safe_field(key, item, schema)
                for key, item in value.items()
                if key not in dropped
            }
        )
    if not isinstance(name, str) or name in dropped:
        return dumps(REMOVED)
    return dumps(_safe_field(name, value, schema))


def _safe_field(name: str, value: object, schema: Schema) -> object:
    from kypho.store.safe_harbor import AGE_UNITS, OLDEST_AGE

    if value is None or name not in schema:
        return value if name in schema else REMOVED
    var = schema[name]
    if var.type == "date":
        return str(value)[:4]
    if (
        var.phi == "quasi"
        and var.type in ("integer", "number")
        and (var.unit or "").casefold() in AGE_UNITS
        and isinstance(value, int | float)
        and value > OLDEST_AGE
    ):
        return f"{OLDEST_AGE + 1}+"
    return value
