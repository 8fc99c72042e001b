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
