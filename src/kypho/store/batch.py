"""The audit trail's entry for a bulk import: every new record in one Parquet file.

An import of N records writes, besides its ``import`` summary entry, one entry
whose action is :data:`ACTION` (record and field null, version 1). Its new
value is the canonical JSON text (:func:`kypho.store.audit.dumps`) of::

    {"columns": [id, name, ...],        the stored columns, the record id first
     "first": "P-0001", "last": "P-9999",
     "format": "kypho-batch", "version": 1,
     "parquet": "<base64>",             the records, one row each, in import order
     "records": N}

The Parquet file (LZ4-compressed) holds the records' stored values with the
stored types: text (the codes of levels and lists as stored), 64-bit integers,
doubles, booleans and dates, a missing value as null. Parquet keeps every
double bit for bit (``-0.0`` stays ``-0.0``). The hash chain covers the text
like any entry's value (its SHA-256), so changing one value of one record in
the batch breaks the chain as a changed ``create`` entry did.

Notes
-----
Why one Parquet file instead of one JSON object per record: at 10⁵ records of
~90 columns the per-record entries were ~217 MB of JSON, built, hashed, stored
and re-read on every verify; the batch is a few MB and is read back as typed
columns, which verify compares column by column. Parquet is an open, documented
columnar format [1]_ that R (``arrow::read_parquet``), Python and most
statistics tools read, so the trail stays readable without kypho.

A missing number is null, never NaN (the store keeps NULL for a missing
number), and the store holds no infinities (validation refuses them), so
:func:`encode_batch` refuses NaN and infinite doubles rather than write a value
the store would not hold.

References
----------
.. [1] Apache Parquet file format specification,
   https://parquet.apache.org/docs/file-format/
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kypho.errors import IntegrityError, StoreError
from kypho.store.audit import dumps

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from kypho.schema import Schema, Variable

__all__ = ["ACTION", "FORMAT", "VERSION", "decode_batch", "encode_batch", "records_table"]

#: The trail action of a bulk import's records.
ACTION = "create_batch"
#: The ``format`` member of a batch's JSON object.
FORMAT = "kypho-batch"
#: The ``version`` member of a batch's JSON object (this module writes and reads 1).
VERSION = 1

_KEYS = frozenset({"columns", "first", "format", "last", "parquet", "records", "version"})


def encode_batch(table: pa.Table) -> str:
    """The trail's JSON text of a batch of new records.

    Parameters
    ----------
    table
        The records as stored, one row each in import order, the record id as
        the first column (text, never null, each id once). Columns are text
        (``string``, ``large_string`` or a dictionary of text), ``int64``,
        ``float64``, ``bool``, ``date32`` or all-null; a missing value is null.

    Returns
    -------
    str
        Canonical JSON text (see the module docstring).

    Raises
    ------
    StoreError
        If the table is empty or has no columns, a column name is repeated or
        a column's type is not one of the above, an id is missing or
        repeated, or a number is NaN or infinite (the message names the record,
        the field and the value).

    Examples
    --------
    >>> import pyarrow as pa
    >>> text = encode_batch(pa.table({"patient_id": ["P-1", "P-2"], "age": [71, None]}))
    >>> decode_batch(text).to_pylist()
    [{'patient_id': 'P-1', 'age': 71}, {'patient_id': 'P-2', 'age': None}]
    """
    import io

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    names = list(table.column_names)
    if not names or table.num_rows == 0:
        raise StoreError(
            "a batch of new records needs at least one record and the record id column "
            f"(got {table.num_rows} rows, {len(names)} columns)"
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise StoreError(f"a batch names each column once; repeated: {', '.join(repeated)}")
    for name in names:
        kind = table.schema.field(name).type
        if not _storable(kind):
            raise StoreError(
                f"column {name!r} of a batch has type {kind}; a batch holds text, 64-bit "
                "integers, doubles, booleans and dates"
            )
    ids = table.column(0)
    id_name = names[0]
    if not _is_text(ids.type):
        raise StoreError(f"a batch's first column ({id_name!r}) holds the record ids, as text")
    ids = ids.cast(pa.string()) if not pa.types.is_string(ids.type) else ids
    if ids.null_count:
        row = pc.index(pc.is_null(ids), True).as_py()
        raise StoreError(f"row {row + 1} of a batch has no record id ({id_name!r} is missing)")
    if pc.count_distinct(ids).as_py() != len(ids):
        counts = pc.value_counts(ids).flatten()
        twice = pc.filter(counts[0], pc.greater(counts[1], 1))[0].as_py()
        raise StoreError(f"record {twice} appears more than once in a batch ({id_name!r})")
    for name in names:
        values = table.column(name)
        if pa.types.is_floating(values.type):
            _check_finite(values, ids, name)
    buffer = io.BytesIO()
    # LZ4: at 10⁵ records a third larger than zstd (10.0 vs 8.1 MB) for the same
    # writing time, and read back in a small fraction of zstd's time, which
    # every verify and export pays; statistics would only speed up filtered
    # reads, which a trail never does
    pq.write_table(table, buffer, compression="lz4", write_statistics=False)
    return dumps(
        {
            "columns": names,
            "first": ids[0].as_py(),
            "format": FORMAT,
            "last": ids[-1].as_py(),
            "parquet": base64.b64encode(buffer.getvalue()).decode("ascii"),
            "records": table.num_rows,
            "version": VERSION,
        }
    )


def decode_batch(text: str, *, columns: Sequence[str] | None = None) -> pa.Table:
    """The records of a batch entry's JSON text (see :func:`encode_batch`).

    Parameters
    ----------
    text
        A ``create_batch`` entry's new value.
    columns
        Read only the record id and those of these columns the batch holds
        (``[]``: the ids alone), in the batch's order; ``None`` reads every
        column.

    Returns
    -------
    pyarrow.Table
        The records in import order, the record id first; text columns as
        ``string``, numbers ``int64``/``float64``, ``bool``, ``date32``, a
        missing value null.

    Raises
    ------
    IntegrityError
        If the text is not a batch this version of kypho wrote: not JSON, not
        the batch's object, an unreadable Parquet file, or contents that
        disagree with the object's counts, ids or column names. The message
        says why in plain words.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        found = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise _malformed(f"its text is not JSON ({exc})") from exc
    if not isinstance(found, dict) or found.get("format") != FORMAT:
        raise _malformed(f"it is not a {FORMAT!r} object")
    if found.get("version") != VERSION:
        raise _malformed(
            f"its format version is {found.get('version')!r}; this kypho reads version {VERSION}"
        )
    if set(found) != _KEYS:
        missing = sorted(_KEYS - set(found))
        extra = sorted(set(found) - _KEYS)
        raise _malformed(f"its members are wrong (missing: {missing}, unexpected: {extra})")
    named, count = found["columns"], found["records"]
    if (
        not isinstance(named, list)
        or not named
        or not all(isinstance(c, str) for c in named)
        or not isinstance(count, int)
        or isinstance(count, bool)
        or not isinstance(found["parquet"], str)
    ):
        raise _malformed("its column names, record count or Parquet text have the wrong type")
    wanted = None
    if columns is not None:
        wanted = [named[0], *(c for c in named[1:] if c in frozenset(columns))]
    try:
        data = base64.b64decode(found["parquet"], validate=True)
        # one thread: the file is a few MB, and verify reads the store meanwhile
        # ParquetFile, not read_table: read_table goes through pyarrow.dataset,
        # whose import alone costs ~0.2 s
        table = pq.ParquetFile(pa.BufferReader(data)).read(columns=wanted, use_threads=False)
        # a damaged file can decode to text that is not UTF-8, or to offsets out
        # of bounds: check every value before anyone reads one
        table.validate(full=True)
        names = table.column_names
        table = _plain(table)
    except (binascii.Error, ValueError, OSError, pa.ArrowException) as exc:
        raise _malformed(f"its Parquet file cannot be read ({exc})") from exc
    if names != (named if wanted is None else wanted):
        raise _malformed(f"its Parquet file holds the columns {names}, the entry names {named}")
    if table.num_rows != count:
        raise _malformed(f"its Parquet file holds {table.num_rows} records, the entry says {count}")
    for name in names:
        if not _storable(table.schema.field(name).type):
            raise _malformed(f"its column {name!r} has type {table.schema.field(name).type}")
    ids = table.column(0)
    if not pa.types.is_string(ids.type) or ids.null_count or count == 0:
        raise _malformed("its first column does not hold a record id for every record")
    ends = (ids[0].as_py(), ids[-1].as_py())
    if ends != (found["first"], found["last"]):
        raise _malformed(
            f"its records run from {ends[0]} to {ends[1]}, the entry says "
            f"{found['first']} to {found['last']}"
        )
    return table


def records_table(data: pd.DataFrame, schema: Schema, names: Sequence[str]) -> pa.Table:
    """Validated records as the store keeps them, as Arrow columns, the record id first.

    Parameters
    ----------
    data
        Typed records, as :attr:`kypho.validation.ValidationResult.data`.
    schema
        The study schema.
    names
        The stored columns (the store's record columns); one of ``names`` absent
        from ``data`` is all missing.

    Returns
    -------
    pyarrow.Table
        ``schema.id_column``, then the other ``names`` in order. A level is its
        code as text, a list its stored text, a date the calendar day
        (``date32``), an integer ``int64``, a number ``float64``, a boolean
        ``bool``; a missing value is null. These are the values
        :func:`encode_batch` takes and the store's bulk insert writes.
    """
    import pyarrow as pa

    id_name = schema.id_column
    order = [id_name, *(name for name in names if name != id_name)]
    n = len(data)
    arrays = [
        _stored_array(data[name], schema[name])
        if name in data
        else pa.nulls(n, _arrow_type(schema[name]))
        for name in order
    ]
    return pa.Table.from_arrays(arrays, names=order)


def _arrow_type(var: Variable) -> pa.DataType:
    import pyarrow as pa

    kinds = {"number": pa.float64(), "integer": pa.int64(), "boolean": pa.bool_()}
    return kinds.get(var.type, pa.date32() if var.type == "date" else pa.string())


def _stored_array(values: pd.Series, var: Variable) -> pa.Array:
    """One typed column (see :func:`records_table`) as an Arrow array."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    missing = values.isna().to_numpy(dtype=bool)
    mask = missing if missing.any() else None
    if var.type == "number":
        return pa.array(values.to_numpy(dtype=np.float64, na_value=np.nan), mask=mask)
    if var.type == "integer":
        return pa.array(values.to_numpy(dtype=np.int64, na_value=0), mask=mask)
    if var.type == "boolean":
        return pa.array(values.to_numpy(dtype=bool, na_value=False), mask=mask)
    if var.type == "date":
        # the calendar day, as the store's DATE columns keep it
        days = pd.to_datetime(values).to_numpy().astype("datetime64[D]").view(np.int64)
        return pa.array(np.where(missing, 0, days).astype(np.int32), mask=mask).cast(pa.date32())
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = np.asarray(values.cat.codes, dtype=np.int32)
        levels = pa.array([str(c) for c in values.cat.categories.tolist()], pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), levels).cast(
            pa.string()
        )
    text = pa.array(values.astype("string"), from_pandas=True)
    return text.cast(pa.string()) if text.type != pa.string() else text


def _malformed(why: str) -> IntegrityError:
    return IntegrityError(f"the audit trail's batch of new records is malformed: {why}")


def _is_text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _storable(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return _is_text(kind) or kind in (
        pa.int64(),
        pa.float64(),
        pa.bool_(),
        pa.date32(),
        pa.null(),
    )


def _plain(table: pa.Table) -> pa.Table:
    """Text columns as ``string`` (a dictionary decoded, large text narrowed)."""
    import pyarrow as pa

    fields = []
    for f in table.schema:
        fields.append(f.with_type(pa.string()) if _is_text(f.type) else f)
    wanted = pa.schema(fields)
    return table if wanted.equals(table.schema) else table.cast(wanted)


def _check_finite(values: Any, ids: Any, name: str) -> None:
    import numpy as np
    import pyarrow.compute as pc

    bad = pc.fill_null(pc.invert(pc.is_finite(values)), False)
    if pc.any(bad).as_py():
        row = pc.index(bad, True).as_py()
        value = values[row].as_py()
        shown = "NaN" if np.isnan(value) else repr(value)
        raise StoreError(
            f"record {ids[row].as_py()}, {name!r} is {shown}: a stored number is finite, "
            "and a missing one is null (not NaN)"
        )
