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
from collections.abc import Mapping
from typing import Any

__all__ = ["GENESIS", "HASHED_FIELDS", "dumps", "entry_hash", "now"]

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


def entry_hash(prev_hash: str, entry: Mapping[Any, Any]) -> str:
    """The hash of an entry chained to ``prev_hash`` (see the module docstring)."""
    payload = _PLAIN.encode(
        [_digest(entry[k]) if k in _DIGESTED else entry[k] for k in HASHED_FIELDS]
    )
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


_DIGESTED = frozenset({"old_value", "new_value"})


def _digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def now() -> str:
    """The current UTC time as ISO 8601 text with microseconds."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
