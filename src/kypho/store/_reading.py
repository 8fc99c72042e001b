"""The stored records read as one Arrow table, and that table as typed data.

``verify``, ``export`` and ``kypho analyze --db`` read every record once. A
driver makes one Python object per value (10⁵ records of ~90 columns: 9 × 10⁶
objects, seconds of work); these readers do not:

* **SQLite**: the ADBC SQLite driver (``adbc-driver-sqlite``, C) reads the rows
  straight into Arrow through a read-only connection, but only in a command
  that owns its process, before the store is opened (:mod:`kypho.store._early`):
  ADBC's SQLite is a second copy of the library, and POSIX locks belong to the
  process, so one copy ending a read while the other holds a lock on the same
  file would drop that lock. Elsewhere (a web server's threads, the Python API)
  SQLite's rows are read by the driver (``store._driver_table`` lays them into
  the same table when every value has its column's type). :func:`cast_columns` types the rows the
  early read gave.
* **PostgreSQL**: the ADBC PostgreSQL driver (``adbc-driver-postgresql``)
  reads by binary COPY into Arrow on a second connection that imports the
  caller's snapshot; else (psycopg) one ``COPY (query) TO STDOUT`` in CSV,
  parsed by pyarrow with the columns' types.

Each gives the columns typed from their SQL types (:func:`arrow_types`): float64,
int64, bool, date32, large_string. Anything either reader cannot give exactly
as the driver would (a value of another type stored behind kypho's back, a date
that is not ``YYYY-MM-DD``, an in-memory database) makes it return ``None``, and
the caller reads by the driver as before: slower, never different.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from kypho.schema.dtypes import pandas_dtype, typed_column
from kypho.store._early import adbc_query

if TYPE_CHECKING:
    import pyarrow as pa

    from kypho.schema import Schema

__all__ = [
    "arrow_types",
    "cast_columns",
    "copied_table",
    "postgresql_table",
    "typed_frame",
]


def arrow_types(query: sa.Select[Any]) -> list[pa.DataType] | None:
    """The Arrow type of each of ``query``'s columns, or ``None`` for a type kypho never stores."""
    import pyarrow as pa

    types: list[pa.DataType] = []
    for column in query.selected_columns:
        kind = column.type
        if isinstance(kind, sa.Boolean):
            types.append(pa.bool_())
        elif isinstance(kind, sa.Float):
            types.append(pa.float64())
        elif isinstance(kind, sa.Integer):
            types.append(pa.int64())
        elif isinstance(kind, sa.Date):
            types.append(pa.date32())
        elif isinstance(kind, sa.String):
            types.append(pa.large_string())
        else:
            return None
    return types


def _literal_sql(conn: sa.Connection | sa.Engine, query: sa.Select[Any]) -> str:
    return str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


def copied_table(conn: sa.Connection, query: sa.Select[Any], driver: Any) -> pa.Table | None:
    """``query``'s result by PostgreSQL's COPY TO, typed by its columns, or ``None``.

    ``driver(conn, statement)`` gives the psycopg connection under ``conn``. Only
    an unquoted empty field is NULL in COPY's CSV, so a text "NA" or "" stays text;
    the server writes a double's shortest exact form, so floats are exact.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    types = arrow_types(query)
    if types is None:
        return None
    statement = f"COPY ({_literal_sql(conn, query)}) TO STDOUT (FORMAT csv)"
    out = io.BytesIO()
    with driver(conn, statement) as raw, raw.cursor() as cursor, cursor.copy(statement) as copy:
        for block in copy:
            out.write(block)
    names = [column.name for column in query.selected_columns]
    keys = [f"c{i}" for i in range(len(types))]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(out.getbuffer()),
            read_options=pacsv.ReadOptions(column_names=keys, use_threads=False),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict(zip(keys, types, strict=True)),
                true_values=["t"],
                false_values=["f"],
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    return table.rename_columns(names)


def postgresql_table(engine: sa.Engine, query: sa.Select[Any], snapshot: str) -> pa.Table | None:
    """``query``'s result read by the ADBC PostgreSQL driver in ``snapshot``, or ``None``.

    The driver reads by binary COPY into Arrow (C): the server sends each value
    in its binary form instead of printing it as text, which halves its part of
    the time. ``snapshot`` is the caller's exported snapshot
    (``pg_export_snapshot()``), so the rows are those of the caller's
    transaction. ``None`` when the driver is missing or fails (the caller reads
    by COPY TO in CSV then).
    """
    import pyarrow as pa

    types = arrow_types(query)
    if types is None:
        return None
    try:
        import adbc_driver_manager as adbc
        import adbc_driver_postgresql
    except ImportError:  # pragma: no cover - a dependency; read by COPY in CSV then
        return None
    uri = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with adbc_driver_postgresql.connect(uri) as db, adbc.AdbcConnection(db) as raw:
            raw.set_options(**{"adbc.connection.autocommit": "false"})
            try:
                for setting in (
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                    f"SET TRANSACTION SNAPSHOT '{snapshot}'",
                ):
                    with adbc.AdbcStatement(raw) as statement:
                        statement.set_sql_query(setting)
                        statement.execute_update()
                table = adbc_query(raw, _literal_sql(engine, query), sqlite=False)
            finally:
                raw.rollback()
    except (adbc.Error, OSError, pa.ArrowException):
        return None
    return cast_columns(table, types, [c.name for c in query.selected_columns])


def cast_columns(table: pa.Table, types: Sequence[pa.DataType], names: list[str]) -> Any:
    """The drivers' columns as the columns' types; ``None`` if one is not.

    PostgreSQL's come typed (a 32-bit integer is widened). SQLite keeps booleans as 0/1 and dates as ``YYYY-MM-DD`` text (SQLAlchemy's
    storage): booleans are read as ``value != 0`` (SQLAlchemy's ``bool(value)``),
    dates parsed, and a column whose values are not all of its type (a decimal
    in a whole-number column, text in a number column) gives ``None``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    out = []
    for column, kind in zip(table.columns, types, strict=True):
        have = column.type
        if column.null_count == len(column):
            out.append(pa.nulls(len(column), kind))
        elif have == kind or (pa.types.is_large_string(kind) and pa.types.is_string(have)):
            out.append(column.cast(kind))
        elif pa.types.is_boolean(kind) and pa.types.is_int64(have):
            out.append(pc.not_equal(column, 0))
        elif (pa.types.is_float64(kind) and pa.types.is_int64(have)) or (
            pa.types.is_int64(kind) and pa.types.is_integer(have)
        ):
            out.append(column.cast(kind))
        elif pa.types.is_date32(kind) and pa.types.is_string(have):
            text = column.cast(pa.large_string())
            if not pc.all(pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}$")).as_py():
                return None
            try:
                out.append(text.cast(kind))
            except pa.ArrowInvalid:
                return None
        else:
            return None
    return pa.table(out, names=names)


def typed_frame(table: pa.Table, schema: Schema, names: Sequence[str]) -> pd.DataFrame:
    """Stored columns (Arrow, as read above) as data typed like ``validate``'s accepted data.

    The same frame as the driver's values give (``store._typed_columns``), each
    column converted in one call: numbers NaN where missing, whole numbers and
    booleans as pandas' masked arrays, dates as ``datetime64[ns]``, level codes
    as categories, text as pandas' string arrays.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    out: dict[str, Any] = {}
    for name in names:
        var = schema[name]
        column = table.column(name).combine_chunks()
        missing = column.is_null().to_numpy(zero_copy_only=False)
        values: Any
        if var.type == "number":
            values = column.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        elif var.type == "integer":
            filled = pc.fill_null(column, 0).to_numpy(zero_copy_only=False)
            values = pd.arrays.IntegerArray(filled.astype(np.int64, copy=False), missing)
        elif var.type == "boolean":
            filled = pc.fill_null(column, False).to_numpy(zero_copy_only=False)
            values = pd.arrays.BooleanArray(filled.astype(bool, copy=False), missing)
        elif var.type == "date":
            values = pd.Series(column.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False))
        elif isinstance(pandas_dtype(var), pd.CategoricalDtype):
            # as pd.Categorical(values, dtype): a code that is not a level is missing
            codes = pc.index_in(column, value_set=pa.array(list(var.codes), column.type))
            values = pc.fill_null(codes, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        else:
            values = column.cast(pa.string())
        out[name] = typed_column(var, values)
    # the columns are new already: no copy of them into the frame
    return pd.DataFrame(out, columns=list(names), copy=False)
