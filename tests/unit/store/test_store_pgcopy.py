"""PostgreSQL's binary COPY rows, byte for byte against the format's specification.

The expected bytes are written with :mod:`struct` from the PostgreSQL
documentation (COPY, "Binary Format"; each type's send function): per row a
16-bit field count, per field a 32-bit length (-1 for NULL) and the value,
big-endian; ``date`` is days since 2000-01-01. The server's own reading of
these rows is tested in tests/integration/store (on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import struct

import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from kypho.errors import StoreError
from kypho.store.pgcopy import HEADER, TRAILER, column_kind, rows


def _field(fmt: str, value: object) -> bytes:
    data = struct.pack(">" + fmt, value)
    return struct.pack(">i", len(data)) + data


_NULL = struct.pack(">i", -1)


def test_rows_are_the_documented_binary_format() -> None:
    kinds = ["int8", "int4", "float8", "bool", "date", "text"]
    columns = [
        pa.array([2**62, None]),
        7,  # one value for every row
        pa.array([-0.0, None]),
        pa.array([True, None]),
        pa.array([dt.date(1999, 12, 31), None], pa.date32()),
        pa.array(["ü\tx", None]),
    ]
    text = "ü\tx".encode()
    first = b"".join(
        [
            struct.pack(">h", 6),
            _field("q", 2**62),
            _field("i", 7),
            _field("d", -0.0),
            _field("?", True),
            _field("i", -1),  # the day before 2000-01-01
            struct.pack(">i", len(text)) + text,
        ]
    )
    second = struct.pack(">h", 6) + _NULL + _field("i", 7) + _NULL * 4
    assert bytes(rows(kinds, columns, 2)) == first + second
    assert b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0) == HEADER
    assert struct.pack(">h", -1) == TRAILER


def test_an_empty_text_is_not_null() -> None:
    got = bytes(rows(["text"], [pa.array(["", None])], 2))
    assert got == struct.pack(">hi", 1, 0) + struct.pack(">hi", 1, -1)


def test_a_sliced_column_gives_its_own_rows() -> None:
    values = pa.array([1.5, None, 2.5, 3.5]).slice(2, 2)
    assert bytes(rows(["float8"], [values], 2)) == (
        struct.pack(">h", 1) + _field("d", 2.5) + struct.pack(">h", 1) + _field("d", 3.5)
    )


def test_kinds_follow_the_column_types() -> None:
    kinds = [
        column_kind(t)
        for t in (sa.BigInteger(), sa.Integer(), sa.Double(), sa.Boolean(), sa.Date(), sa.Text())
    ]
    assert kinds == ["int8", "int4", "float8", "bool", "date", "text"]
    with pytest.raises(StoreError, match="no binary COPY form for a column of type BLOB"):
        column_kind(sa.LargeBinary())


def test_a_value_out_of_its_columns_range_is_refused() -> None:
    with pytest.raises(StoreError, match="a value cannot be stored as int4: "):
        rows(["int4"], [pa.array([2**40])], 1)


_FORMATS = {"int8": "q", "int4": "i", "float8": "d", "bool": "?"}
_VALUES = {
    "int8": st.integers(-(2**63), 2**63 - 1),
    "int4": st.integers(-(2**31), 2**31 - 1),
    "float8": st.floats(allow_nan=False),
    "bool": st.booleans(),
    "date": st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
    "text": st.text(max_size=6),
}
_ARROW = {
    "int8": pa.int64(),
    "int4": pa.int32(),
    "float8": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "text": pa.string(),
}


def _expected_field(kind: str, value: object) -> bytes:
    """One field as the documentation lays it out, value by value with struct."""
    if value is None:
        return _NULL
    if kind == "date":
        assert isinstance(value, dt.date)
        return _field("i", (value - dt.date(2000, 1, 1)).days)
    if kind == "text":
        assert isinstance(value, str)
        data = value.encode()
        return struct.pack(">i", len(data)) + data
    return _field(_FORMATS[kind], value)


@st.composite
def _tables(draw: st.DrawFn) -> tuple[list[str], list[object], list[list[object]], int]:
    """Kinds, the columns rows() takes (arrays or one value) and the values row by row."""
    n = draw(st.integers(0, 7))
    kinds = draw(st.lists(st.sampled_from(sorted(_VALUES)), min_size=1, max_size=9))
    columns: list[object] = []
    values: list[list[object]] = []
    for kind in kinds:
        cell = st.none() | _VALUES[kind] if draw(st.booleans()) else _VALUES[kind]
        if draw(st.integers(0, 4)) == 0:
            one = draw(cell)
            columns.append(one)
            values.append([one] * n)
        else:
            column = draw(st.lists(cell, min_size=n, max_size=n))
            columns.append(pa.array(column, _ARROW[kind]))
            values.append(column)
    return kinds, columns, values, n


@settings(max_examples=300, deadline=None)
@given(_tables())
def test_any_rows_are_the_documented_binary_format(
    table: tuple[list[str], list[object], list[list[object]], int],
) -> None:
    # columns with and without nulls side by side, text between numbers, one
    # value for every row: each case takes a different path through rows()
    kinds, columns, values, n = table
    want = b"".join(
        struct.pack(">h", len(kinds))
        + b"".join(_expected_field(k, v[row]) for k, v in zip(kinds, values, strict=True))
        for row in range(n)
    )
    assert bytes(rows(kinds, columns, n)) == want
