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
A new record's values are in the trail once: an import of several records
writes one ``create_batch`` entry holding them all as a Parquet file (see
:mod:`kypho.store.batch`); a single new record (a web form, a one-row file), and
every record of a store written before batches, has a ``create`` entry whose
``new`` value is the whole record as a JSON object. An edit records one
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

import contextlib
import datetime as dt
import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from kypho.schema import Schema

__all__ = [
    "GENESIS",
    "HASHED_FIELDS",
    "REMOVED",
    "chain_hashes",
    "deidentify_trail",
    "dumps",
    "entry_hash",
    "now",
    "record_text_array",
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


def record_texts(columns: Sequence[Sequence[object] | Any], names: Sequence[str]) -> list[str]:
    """``dumps(dict(zip(names, row)))`` for every row of ``columns``, column by column.

    ``columns[i]`` holds the values of ``names[i]`` (plain Python values, ``None``
    for missing). The texts are :func:`dumps`'s, character for character; see
    :func:`record_text_array` for how they are built.

    Examples
    --------
    >>> import datetime as dt
    >>> record_texts([[1.5, None], ["P-1", "P-2"], [dt.date(2020, 1, 2), None]], ["b", "a", "c"])
    ['{"a":"P-1","b":1.5,"c":"2020-01-02"}', '{"a":"P-2","b":null,"c":null}']
    """
    if not columns or len(columns[0]) == 0:
        return []
    out: list[str] = record_text_array(columns, names).to_pylist()
    return out


def record_text_array(columns: Sequence[Sequence[object] | Any], names: Sequence[str]) -> Any:
    """The texts of :func:`record_texts` as one pyarrow ``large_string`` array.

    Each column's distinct values are encoded once with :func:`dumps`, each
    with its key before it (``{"a":``, ``,"b":``, ...; the last with the closing
    brace after it). All pieces go in one array and a single ``take`` lays them
    out record after record, so a record's pieces are adjacent: its text is a
    slice of the result's data and the records' offsets are every
    ``len(names)``-th offset of the pieces'. No text is joined value by value.
    """
    import pyarrow as pa

    n = len(columns[0]) if columns else 0
    m = len(names)
    if n == 0:
        return pa.array([], pa.large_string())
    order = sorted(range(m), key=lambda i: names[i])
    parts = []
    for k, i in enumerate(order):
        key = ("{" if k == 0 else ",") + _ENCODER.encode(names[i]) + ":"
        end = "}" if k == m - 1 else ""
        codes, shown = _json_codes(columns[i])
        parts.append((codes, [key + t + end for t in shown]))
    return _laid_out(parts, n)


def _laid_out(parts: Sequence[tuple[Any, list[str]]], n: int) -> Any:
    """Row ``i`` of the result: ``shown[codes[i]]`` of each part in turn, concatenated."""
    import numpy as np
    import pyarrow as pa

    m = len(parts)
    pieces: list[str] = []
    where = np.empty((n, m), dtype=np.int64)
    for k, (codes, shown) in enumerate(parts):
        where[:, k] = codes + len(pieces)
        pieces.extend(shown)
    # decoding a dictionary array is the same gather as take(), and faster
    laid = pa.DictionaryArray.from_arrays(
        pa.array(where.reshape(-1)), pa.array(pieces, pa.large_string())
    ).cast(pa.large_string())
    offsets = np.frombuffer(laid.buffers()[1], dtype=np.int64)[laid.offset :]
    rows = np.ascontiguousarray(offsets[: n * m + 1 : m])
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(rows), laid.buffers()[2])


def _series_codes(values: pd.Series) -> tuple[Any, list[str]]:
    """:func:`_json_codes` of a column of kypho's typed data, from its arrays.

    Floats, ``Int64``, ``boolean``, categories, ``datetime64[ns]`` and
    ``string``: the dtypes of kypho's typed data.

    The texts are those of the Python values the store writes for the column:
    a float (NaN missing), an int, a bool, a category's code as text, a date as
    ``YYYY-MM-DD`` (the day of a timestamp), a text.

    Raises
    ------
    TypeError
        For another dtype.
    """
    import numpy as np
    import pandas as pd

    dtype = values.dtype
    missing = values.isna().to_numpy(dtype=bool)
    shown: list[str]
    codes: Any
    uniques: Any
    if dtype == np.float64:
        return _json_codes(values.to_numpy(dtype=np.float64))
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.asarray(values.cat.codes, dtype=np.int64)
        shown = [_encode_text(str(c)) for c in dtype.categories.tolist()]
    elif isinstance(dtype, pd.BooleanDtype):
        codes = values.to_numpy(dtype=bool, na_value=False).astype(np.int64)
        shown = ["false", "true"]
    elif isinstance(dtype, pd.Int64Dtype):
        codes, uniques = pd.factorize(values.to_numpy(dtype=np.int64, na_value=0))
        shown = list(map(int.__repr__, uniques.tolist()))
    elif isinstance(dtype, pd.StringDtype):
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        shown = list(map(_encode_text, map(str, uniques.tolist())))
    elif dtype == np.dtype("datetime64[ns]"):
        # the calendar day, as the store's date values are (datetime.date)
        days = values.to_numpy().astype("datetime64[D]")
        days[missing] = np.datetime64(0, "D")
        codes, uniques = pd.factorize(days.view(np.int64))
        shown = [f'"{d}"' for d in np.datetime_as_string(uniques.astype("datetime64[D]"))]
    else:
        raise TypeError(f"no JSON texts for a column of dtype {dtype}")
    codes = np.where(missing, len(shown), codes)
    shown.append("null")
    return codes, shown


def _json_codes(values: Sequence[object] | Any) -> tuple[Any, list[str]]:
    """Each value's index into a list of JSON texts (one per distinct value)."""
    import numpy as np
    import pandas as pd

    if isinstance(values, pd.Series):
        return _series_codes(values)
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        found = _float_codes(values, np.isnan(values))
        if found is not None:
            return found
        values = [None if v != v else v for v in values.tolist()]
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if len(kinds) > 1:
        # mixed types (1 and True hash alike): every value on its own
        return _each(values)
    kind = next(iter(kinds), None)
    typed: Any
    encode: Any = _ENCODER.encode
    if kind is float:
        typed = np.array(values, dtype=np.float64)  # None becomes NaN
        missing = np.isnan(typed)
        gaps = int(missing.sum())
        if (
            (gaps and gaps != values.count(None))
            or np.isinf(typed).any()
            or np.signbit(typed[typed == 0.0]).any()
        ):
            # dumps refuses NaN and infinities (let it say so); 0.0 and -0.0
            # are one value to a hash table but print differently
            return _each(values)
        found = _float_codes(typed, missing)
        if found is not None:
            return found
        encode = float.__repr__
    else:
        typed = np.empty(len(values), dtype=object)
        typed[:] = values
        missing = pd.isna(typed)
        if kind is int:
            encode = int.__repr__
            if not missing.any():
                with contextlib.suppress(OverflowError):
                    typed = typed.astype(np.int64)
        elif kind is str:
            encode = _encode_text
    codes, uniques = pd.factorize(typed, use_na_sentinel=True)
    shown = list(map(encode, uniques.tolist()))
    codes = np.where(missing, len(shown), codes)
    shown.append("null")
    return codes, shown


def _float_codes(values: Any, missing: Any) -> tuple[Any, list[str]] | None:
    """:func:`_json_codes` of floats on a short decimal grid, without hashing.

    Each value's grid key (see :func:`kypho.output.cells.grid_keys`) indexes
    the distinct values directly; ``None`` when the values are not on a grid.
    """
    import numpy as np

    from kypho.output.cells import grid_keys

    keys = grid_keys(values, missing)
    if keys is None:
        return None
    key, size, lo, scale = keys
    seen = np.zeros(size, dtype=bool)
    seen[key[~missing]] = True
    # the key's value computed as grid_keys checked it: the same float as the cell's
    shown = list(map(float.__repr__, ((np.flatnonzero(seen) + lo) / scale).tolist()))
    lookup = np.cumsum(seen, dtype=np.int64) - 1
    codes = np.where(missing, len(shown), lookup[key])
    shown.append("null")
    return codes, shown


def _each(values: Sequence[object]) -> tuple[Any, list[str]]:
    import numpy as np

    return np.arange(len(values)), [_ENCODER.encode(v) for v in values]


def chain_hashes(
    prev_hashes: Sequence[object], entries: Mapping[str, Sequence[object]]
) -> list[str]:
    """``entry_hash(prev_hashes[k], entry_k)`` of entries given column by column.

    ``entries`` maps each of :data:`HASHED_FIELDS` to its column. Each column's
    distinct values are encoded once and the texts to hash are laid out as in
    :func:`record_text_array`; each is hashed straight from that buffer. A
    column holding anything but text, whole numbers and nulls (which kypho
    never stores) is hashed entry by entry with :func:`entry_hash`.
    """
    import numpy as np

    n = len(prev_hashes)
    if n == 0:
        return []
    last = len(HASHED_FIELDS) - 1
    parts = [(np.arange(n), [f"{p}\n[" for p in prev_hashes])]
    for k, name in enumerate(HASHED_FIELDS):
        values = entries[name]
        if name in _DIGESTED:
            values = [_digest(v) if isinstance(v, str) or v is None else v for v in values]
        found = _plain_codes(values)
        if found is None:
            return [
                entry_hash(str(p), {f: entries[f][i] for f in HASHED_FIELDS})
                for i, p in enumerate(prev_hashes)
            ]
        end = "]" if k == last else ","
        codes, shown = found
        parts.append((codes, [t + end for t in shown]))
    laid = _laid_out(parts, n)
    offsets = np.frombuffer(laid.buffers()[1], dtype=np.int64)[laid.offset :][: n + 1].tolist()
    data = memoryview(laid.buffers()[2])
    sha = hashlib.sha256
    return [sha(data[a:b]).hexdigest() for a, b in itertools.pairwise(offsets)]


def _plain_codes(values: Sequence[object]) -> tuple[Any, list[str]] | None:
    """Codes and JSON texts (as :func:`entry_hash` encodes them) of text or whole numbers."""
    import numpy as np
    import pandas as pd

    kinds = set(map(type, values))
    kinds.discard(type(None))
    if len(kinds) > 1 or not kinds <= {str, int}:
        return None
    typed = np.empty(len(values), dtype=object)
    typed[:] = values
    missing = pd.isna(typed)
    codes, uniques = pd.factorize(typed, use_na_sentinel=True)
    encode: Any = int.__repr__ if kinds == {int} else _encode_text
    shown = list(map(encode, uniques.tolist()))
    shown.append("null")
    return np.where(missing, len(shown) - 1, codes), shown


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
    are left out; a ``create_batch`` entry keeps only its outline: the columns,
    the number of records and the first and last record id, not the records);
    dates keep only their year; ages above 89 become ``"90+"`` (the rules of :func:`kypho.store.deidentify`, 45 CFR §164.514(b)(2), applied
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
    if action == _BATCH:
        return _batch_outline(str(text))
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


#: :data:`kypho.store.batch.ACTION` (that module imports this one)
_BATCH = "create_batch"


def _batch_outline(text: str) -> str | None:
    """A ``create_batch`` value without its records (the Parquet file, which holds
    every identifier): the column names, count and first and last record id."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    return dumps({key: item for key, item in value.items() if key != "parquet"})


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
