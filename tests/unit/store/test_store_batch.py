"""The trail's batch of new records (``create_batch``): encoding, decoding, refusals."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kypho.errors import IntegrityError, StoreError
from kypho.store.audit import dumps
from kypho.store.batch import ACTION, FORMAT, VERSION, decode_batch, encode_batch

_SMALLEST = 5e-324  # the smallest positive subnormal double


def _records() -> pa.Table:
    """One column of every stored type, with the values a round trip could lose."""
    return pa.table(
        {
            "patient_id": pa.array(["P-1", "P-2", "P-3", "P-4"]),
            # level codes and list codes as stored; "" is an observed empty list, not missing
            "sex": pa.array(["female", "male", None, "female"]).dictionary_encode(),
            "leak_sites": pa.array(["C;S", "", None, "NA"]),
            "notes": pa.array(['a "quote"\\', "line\nbreak\ttab\r", "Zürich ✓", None]),
            "age": pa.array([71, None, -(2**63), 2**63 - 1], pa.int64()),
            "vas": pa.array([-0.0, 0.0, _SMALLEST, None], pa.float64()),
            "kyphosis": pa.array([0.1 + 0.2, -1.7976931348623157e308, 1e-310, 2.5]),
            "cement_leak": pa.array([True, None, False, True]),
            "surgery_date": pa.array(
                [dt.date(1678, 1, 1), None, dt.date(2262, 4, 11), dt.date(1, 1, 1)], pa.date32()
            ),
            "empty": pa.nulls(4),
        }
    )


def _bits(values: pa.ChunkedArray) -> list[int | None]:
    floats = values.to_pylist()
    return [None if v is None else int(np.float64(v).view(np.int64)) for v in floats]


def test_every_stored_type_round_trips_exactly() -> None:
    records = _records()
    back = decode_batch(encode_batch(records))
    assert back.column_names == records.column_names
    assert back.schema.field("sex").type == pa.string()  # dictionary codes come back as text
    for name in records.column_names:
        assert back.column(name).to_pylist() == records.column(name).to_pylist(), name
    # the sign of zero, subnormals and every other bit of each double
    for name in ("vas", "kyphosis"):
        assert _bits(back.column(name)) == _bits(records.column(name))
    assert back.schema.field("age").type == pa.int64()
    assert back.schema.field("cement_leak").type == pa.bool_()
    assert back.schema.field("surgery_date").type == pa.date32()
    assert back.column("leak_sites").to_pylist() == ["C;S", "", None, "NA"]


def test_the_text_is_canonical_json_naming_the_batch() -> None:
    text = encode_batch(_records())
    found = json.loads(text)
    assert dumps(found) == text
    assert {k: v for k, v in found.items() if k != "parquet"} == {
        "columns": _records().column_names,
        "first": "P-1",
        "format": FORMAT,
        "last": "P-4",
        "records": 4,
        "version": VERSION,
    }
    assert ACTION == "create_batch"
    # the Parquet file is an ordinary one that any Parquet reader opens (LZ4)
    data = base64.b64decode(found["parquet"], validate=True)
    meta = pq.ParquetFile(pa.BufferReader(data)).metadata
    assert meta.num_rows == 4
    assert meta.row_group(0).column(0).compression == "LZ4"


def test_large_text_and_chunked_columns_are_accepted() -> None:
    table = pa.Table.from_batches(
        [
            pa.record_batch({"id": pa.array(["A"], pa.large_string()), "x": [1.5]}),
            pa.record_batch(
                {"id": pa.array(["B"], pa.large_string()), "x": pa.array([None], pa.float64())}
            ),
        ]
    )
    back = decode_batch(encode_batch(table))
    assert back.schema == pa.schema([("id", pa.string()), ("x", pa.float64())])
    assert back.to_pylist() == [{"id": "A", "x": 1.5}, {"id": "B", "x": None}]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.none() | st.floats(allow_nan=False, allow_infinity=False),
            st.none() | st.integers(-(2**63), 2**63 - 1),
            st.none() | st.booleans(),
            st.none() | st.dates(),
            st.none() | st.text(max_size=8),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_any_stored_values_round_trip(rows: list[tuple[object, ...]]) -> None:
    columns = list(zip(*rows, strict=True))
    table = pa.table(
        {
            "id": [f"R{i}" for i in range(len(rows))],
            "f": pa.array(columns[0], pa.float64()),
            "i": pa.array(columns[1], pa.int64()),
            "b": pa.array(columns[2], pa.bool_()),
            "d": pa.array(columns[3], pa.date32()),
            "t": pa.array(columns[4], pa.string()),
        }
    )
    back = decode_batch(encode_batch(table))
    assert back.equals(table)
    assert _bits(back.column("f")) == _bits(table.column("f"))


@pytest.mark.parametrize(
    ("value", "shown"), [(math.nan, "NaN"), (math.inf, "inf"), (-math.inf, "-inf")]
)
def test_a_nan_or_infinite_number_is_refused(value: float, shown: str) -> None:
    table = pa.table({"patient_id": ["P-1", "P-2"], "vas": pa.array([None, value], pa.float64())})
    with pytest.raises(StoreError) as err:
        encode_batch(table)
    assert str(err.value) == (
        f"record P-2, 'vas' is {shown}: a stored number is finite, and a missing one is null "
        "(not NaN)"
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            pa.table({"patient_id": pa.array([], pa.string())}),
            "a batch of new records needs at least one record and the record id column "
            "(got 0 rows, 1 columns)",
        ),
        (
            pa.table({"patient_id": ["P-1", None]}),
            "row 2 of a batch has no record id ('patient_id' is missing)",
        ),
        (
            pa.table({"patient_id": ["P-1", "P-2", "P-1"]}),
            "record P-1 appears more than once in a batch ('patient_id')",
        ),
        (
            pa.table({"patient_id": [1, 2]}),
            "a batch's first column ('patient_id') holds the record ids, as text",
        ),
        (
            pa.table({"patient_id": ["P-1"], "age": pa.array([71], pa.int32())}),
            "column 'age' of a batch has type int32; a batch holds text, 64-bit integers, "
            "doubles, booleans and dates",
        ),
        (
            pa.Table.from_arrays(
                [pa.array(["P-1"]), pa.array([1]), pa.array([2])], ["a", "b", "b"]
            ),
            "a batch names each column once; repeated: b",
        ),
    ],
)
def test_a_table_that_is_not_a_batch_is_refused(table: pa.Table, message: str) -> None:
    with pytest.raises(StoreError) as err:
        encode_batch(table)
    assert str(err.value) == message


def _with(**changes: object) -> str:
    found = json.loads(encode_batch(_records()))
    found.update(changes)
    return dumps({k: v for k, v in found.items() if v is not _DROP})


_DROP = object()
_PREFIX = "the audit trail's batch of new records is malformed: "


def _parquet(table: pa.Table) -> str:
    text: str = json.loads(encode_batch(table))["parquet"]
    return text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"format": "kypho-batch"', "its text is not JSON (Expecting"),
        ("[1, 2]", "it is not a 'kypho-batch' object"),
        ('{"P-1": {"age": 71}}', "it is not a 'kypho-batch' object"),
        (_with(version=2), "its format version is 2; this kypho reads version 1"),
        (
            _with(first=_DROP, extra=1),
            "its members are wrong (missing: ['first'], unexpected: ['extra'])",
        ),
        (
            _with(records="4"),
            "its column names, record count or Parquet text have the wrong type",
        ),
        (_with(parquet="not base64!"), "its Parquet file cannot be read ("),
        (
            _with(parquet=base64.b64encode(b"PAR1 nothing here PAR1").decode()),
            "its Parquet file cannot be read (",
        ),
        (
            _with(parquet=_parquet(_records())[:400]),
            "its Parquet file cannot be read (",
        ),
        (_with(records=5), "its Parquet file holds 4 records, the entry says 5"),
        (
            _with(columns=["patient_id"]),
            "its Parquet file holds the columns " + str(_records().column_names),
        ),
        (_with(last="P-9"), "its records run from P-1 to P-4, the entry says P-1 to P-9"),
        (
            _with(parquet=_parquet(pa.table({"patient_id": ["P-1"]})), records=1),
            "its Parquet file holds the columns ['patient_id'], the entry names",
        ),
    ],
)
def test_a_damaged_or_foreign_text_is_a_plain_error(text: str, why: str) -> None:
    with pytest.raises(IntegrityError) as err:
        decode_batch(text)
    assert str(err.value).startswith(_PREFIX + why)


def test_a_batch_whose_ids_are_not_text_is_malformed() -> None:
    found = json.loads(encode_batch(_records()))
    numbers = pa.table({"patient_id": [1, 2]})
    found.update(parquet=_parquet_of(numbers), columns=["patient_id"], records=2)
    with pytest.raises(IntegrityError) as err:
        decode_batch(dumps(found))
    assert str(err.value) == (
        _PREFIX + "its first column does not hold a record id for every record"
    )


def _parquet_of(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return base64.b64encode(sink.getvalue().to_pybytes()).decode()


def test_any_damaged_byte_is_read_or_refused_never_a_crash() -> None:
    """Flip each byte of the Parquet file: ``decode_batch`` gives a table or an IntegrityError.

    Parquet has no checksum by default, so some flips decode to other values; the
    trail's hash chain is what catches those. Each flip tried once (a flip of
    all bits of the byte, and of the top bit, which makes text invalid UTF-8).
    """
    found = json.loads(encode_batch(_records().select(["patient_id", "notes", "vas"])))
    data = base64.b64decode(found["parquet"])
    read, refusals = 0, []
    for i in range(len(data)):
        for mask in (0xFF, 0x80):
            damaged = bytearray(data)
            damaged[i] ^= mask
            found["parquet"] = base64.b64encode(bytes(damaged)).decode()
            try:
                decode_batch(dumps(found))
            except IntegrityError as err:
                refusals.append(str(err))
            else:
                read += 1
    assert refusals
    assert all(message.startswith(_PREFIX) for message in refusals)
    assert read + len(refusals) == 2 * len(data)


def test_some_columns_can_be_read_alone() -> None:
    text = encode_batch(_records())
    assert decode_batch(text, columns=[]).to_pydict() == {
        "patient_id": ["P-1", "P-2", "P-3", "P-4"]
    }
    back = decode_batch(text, columns=["vas", "sex", "not_in_the_batch"])
    assert back.column_names == ["patient_id", "sex", "vas"]
    assert back.column("sex").to_pylist() == ["female", "male", None, "female"]


def test_a_de_identified_trail_shows_a_batch_without_its_records() -> None:
    import pandas as pd

    from kypho.store import audit
    from kypho.store.audit import deidentify_trail
    from kypho.store.store import _default_schema

    assert audit._BATCH == ACTION
    text = encode_batch(_records())
    trail = pd.DataFrame(
        {"action": [ACTION, ACTION], "field": [None, None], "old_value": [None, None]}
    ).assign(new_value=[text, "not json"])
    shown = deidentify_trail(trail, _default_schema())["new_value"].tolist()
    outline = {k: v for k, v in json.loads(text).items() if k != "parquet"}
    assert shown == [dumps(outline), None]
    # an outline (what ``Store.log`` passes on) stays as it is
    again = deidentify_trail(trail.assign(new_value=[shown[0], None]), _default_schema())
    assert again["new_value"].tolist() == [shown[0], None]
