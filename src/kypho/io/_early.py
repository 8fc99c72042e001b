"""A CSV file's parse begun early, while the command is still starting.

Starting ``kypho db import`` or ``kypho analyze`` costs about a second of
importing pandas, SQLAlchemy and kypho's own modules, during which the
machine's other cores are idle. Arrow's parse of a CSV file needs only the
file's header and the schema's column kinds, and runs in C outside Python's
GIL. So the command starts it in a worker thread before those imports
(:func:`early_parse`), and the CSV reader
(:func:`kypho.io._csvfile.read_csv_text`) takes the parsed table when it asks
for exactly the same parse (:func:`claim`): the same file (path, device, inode,
size and modification time unchanged) and the same arguments to Arrow, built by
the one function both use (:func:`plain_arguments`). Anything else (another
file, a header that maps to other column kinds, a parse that failed, a file that
needs the exact path) is ignored, and the reader reads the file as it always
does: the table and every error message are the same whether or not a parse
was begun early. The thread is joined when :func:`early_parse`'s block ends,
on every path, and the table it made is dropped.

Only the plain path is begun early (a file without quotes or carriage returns,
as kypho and most exports write it; see :mod:`kypho.io._csvfile`).

This module imports neither pandas nor NumPy at its import (pyarrow and NumPy
only in the thread), so that the parse starts before they are imported. Once
its table is parsed, the thread also lays out each number column as one NumPy
array (:func:`float_values`, what the reader would do next), while the main
thread is still importing.
"""

from __future__ import annotations

import csv
import mmap
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kypho.schema import Schema

__all__ = [
    "ARROW_BLOCK",
    "CSV_KINDS",
    "MAX_HEADER_CHARS",
    "Parsed",
    "claim",
    "early_parse",
    "float_values",
    "plain_arguments",
    "plain_file",
    "separator",
]

#: What the CSV reader needs to know of a schema type (see ``read_csv_text``).
CSV_KINDS = {
    "number": "number",
    "integer": "number",
    "date": "date",
    "category": "level",
    "ordinal": "level",
    "boolean": "level",
    "list": "list",
}
#: The blocks arrow parses at once: 4 MB took ~20 % less CPU than 16 MB at 10⁶ rows.
ARROW_BLOCK = 1 << 22
#: The blocks of a parse in one thread (the early parse of ``kypho db import``):
#: at 10⁵ rows, median of 12 interleaved parses, 1 MB 0.55 s, 2 MB 0.59 s, 4 MB
#: 0.65 s (a block that fits the core's 1 MB cache; Arrow's pool on two threads at
#: 10⁶ rows was slowest with 1 MB blocks, 4.59 s against 4.37 s).
ARROW_BLOCK_ONE_THREAD = 1 << 20
#: The longest header line read, in characters.
MAX_HEADER_CHARS = 1_000_000
#: Column kinds whose cells repeat a few texts (levels, lists of codes, dates).
_FEW_TEXTS = frozenset(["level", "list", "date"])

_lock = threading.Lock()
#: The one parse begun early in this process: (file identity, arguments, outcome).
_pending: _Parse | None = None


class Parsed:
    """What a parse begun early made: Arrow's table, and its number columns as arrays.

    ``floats`` maps a number column's name (``c0``, ``c1``, ...) to
    :func:`float_values` of it and the column's count of missing cells. Such a
    column after the first is replaced in ``table`` by a column of nulls (which
    holds no memory) once copied out, so that the file's numbers are not held
    twice while the reader converts the rest (~0.5 GB at 10⁶ rows).
    """

    def __init__(self, table: Any, floats: dict[str, tuple[Any, int]]) -> None:
        self.table = table
        self.floats = floats


class _Parse:
    """A parse running in a worker thread; its outcome once the thread is done."""

    def __init__(
        self, path: Path, identity: tuple[int, ...], arguments: PlainArguments, threads: bool
    ) -> None:
        self.path = path
        self.identity = identity
        self.arguments = arguments
        self.threads = threads
        self.outcome: Parsed | None = None
        self.thread = threading.Thread(target=self._run, name="kypho-early-csv", daemon=True)

    def _run(self) -> None:
        try:
            if not plain_file(self.path):
                return
            import pyarrow as pa
            import pyarrow.csv as pacsv

            keywords = self.arguments.keywords(threads=self.threads)
            table = pacsv.read_csv(self.path, **keywords)
            floats = {}
            for name in sorted(self.arguments.as_number):
                if name not in table.column_names:
                    continue
                position = table.column_names.index(name)
                column = table.column(position)
                floats[name] = (float_values(column), column.null_count)
                if position > 0:  # the first column is the reader's blank-line check
                    table = table.set_column(position, name, pa.nulls(table.num_rows))
                del column
            self.outcome = Parsed(table, floats)
        except Exception:  # the reader parses the file again and reports what is wrong
            self.outcome = None


def float_values(chunked: Any) -> Any:
    """A float64 arrow column as one writable numpy array, missing cells NaN.

    Each block's values are copied once, straight into the one array, and its
    missing cells (from the block's validity bitmap) set to NaN: one new array
    and no arrow intermediates (filling the nulls and joining the blocks in
    arrow, then copying out, made two more arrays of the column's size: at
    10⁵ rows of ~60 number columns, ~100 MB of fresh pages).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_float64(chunked.type):
        joined = pc.fill_null(chunked, np.nan).combine_chunks()
        return joined.to_numpy(zero_copy_only=False, writable=True)
    out = np.empty(len(chunked), dtype=np.float64)
    at = 0
    for block in chunked.chunks:
        n = len(block)
        if n == 0:
            continue
        validity, values = block.buffers()
        part = out[at : at + n]
        part[:] = np.frombuffer(values, dtype=np.float64, count=n, offset=block.offset * 8)
        if block.null_count:
            bits = np.frombuffer(validity, dtype=np.uint8)
            valid = np.unpackbits(bits, count=block.offset + n, bitorder="little")[block.offset :]
            part[valid == 0] = np.nan
        at += n
    return out


class PlainArguments:
    """What the plain path asks Arrow to parse: column names, separator, types, missing tokens.

    Two are equal when Arrow would be called with the same arguments.
    """

    def __init__(
        self,
        width: int,
        sep: str,
        as_number: frozenset[str],
        encoded: frozenset[str],
        exact: tuple[str, ...],
        only: tuple[str, ...] | None = None,
    ) -> None:
        self.names = [f"c{i}" for i in range(width)]
        self.sep = sep
        self.as_number = as_number
        self.encoded = encoded
        self.exact = exact
        self.only = only

    def _key(self) -> tuple[object, ...]:
        return (
            len(self.names),
            self.sep,
            tuple(sorted(self.as_number)),
            tuple(sorted(self.encoded)),
            self.exact,
            self.only,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlainArguments) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def keywords(self, *, threads: bool = True) -> dict[str, Any]:
        """The keyword arguments of ``pyarrow.csv.read_csv`` (``threads``: Arrow's thread pool)."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        dictionary = pa.dictionary(pa.int32(), pa.string())
        chosen = list(self.only) if self.only is not None else self.names
        return {
            "read_options": pacsv.ReadOptions(
                column_names=self.names,
                skip_rows=1,
                encoding="utf8",
                block_size=ARROW_BLOCK if threads else ARROW_BLOCK_ONE_THREAD,
                use_threads=threads,
            ),
            "parse_options": pacsv.ParseOptions(
                delimiter=self.sep,
                quote_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            "convert_options": pacsv.ConvertOptions(
                column_types={
                    c: pa.float64()
                    if c in self.as_number
                    else dictionary
                    if c in self.encoded
                    # what pandas' ``str`` holds, so that no column is cast again
                    else pa.large_string()
                    for c in chosen
                },
                include_columns=list(self.only) if self.only is not None else None,
                null_values=list(self.exact),
                strings_can_be_null=False,
            ),
        }


def plain_arguments(
    header: list[str], sep: str, kinds: dict[str, str], tokens: set[str]
) -> PlainArguments:
    """The plain path's first parse of a file with this header, separator, kinds and tokens.

    Number columns are parsed as doubles (not with a decimal comma: a ``;`` file
    reads them as text), columns of few distinct texts after the first as
    dictionaries (the first stays text, for the blank-line check), the rest as
    text; the missing tokens exactly as declared, or in upper case where that
    folds back to the token, are null.
    """
    decimal_comma = sep == ";"
    names = [f"c{i}" for i in range(len(header))]
    as_number = frozenset(
        names[i]
        for i, name in enumerate(header)
        if kinds.get(name) == "number" and not decimal_comma
    )
    encoded = frozenset(
        names[i] for i, name in enumerate(header) if i > 0 and kinds.get(name) in _FEW_TEXTS
    )
    exact = tuple(sorted(tokens | {t.upper() for t in tokens if t.upper().casefold() == t}))
    return PlainArguments(len(header), sep, as_number, encoded, exact)


def separator(header_line: str) -> str:
    """The field separator: ',' unless the header holds none and ';' or a tab instead."""
    if "," in header_line:
        return ","
    counts = {sep: header_line.count(sep) for sep in (";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def plain_file(path: Path) -> bool:
    """Whether the file holds neither a quote nor a carriage return (one cheap scan).

    In such a file every line break ends a record and no field is quoted, so the
    records can be numbered by arrow's rows alone (see
    :func:`kypho.io._csvfile._read_plain`). The file is mapped, not copied, so
    the scan costs a search of the page cache.
    """
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return True
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return view.find(b'"') < 0 and view.find(b"\r") < 0


def _identity(path: Path) -> tuple[int, ...]:
    found = os.stat(path)
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)


def _guess(path: Path, schema: Schema) -> PlainArguments | None:
    """The plain path's arguments for this file, if its header names schema variables exactly.

    ``None`` for anything the reader would look at more closely (a header that
    is too long, empty, not UTF-8, of one column, with a repeated name): the
    reader then reads the file and reports it as usual.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = handle.readline(MAX_HEADER_CHARS + 1)
    except (OSError, UnicodeDecodeError):
        return None
    if len(first) > MAX_HEADER_CHARS or not first.strip():
        return None
    sep = separator(first)
    header = next(csv.reader([first], delimiter=sep))
    if len(header) < 2 or len(set(header)) != len(header):
        return None
    kinds = {
        name: CSV_KINDS[schema[name].type]
        for name in header
        if name in schema and schema[name].type in CSV_KINDS
    }
    tokens = schema.missing_tokens
    return plain_arguments(header, sep, kinds, tokens)


@contextmanager
def early_parse(path: Path, schema: Schema, *, threads: bool = False) -> Iterator[None]:
    """Begin Arrow's parse of a ``.csv`` file in a worker thread for the block's duration.

    ``threads`` lets Arrow parse with its thread pool (every core) instead of
    the worker thread alone. One thread suits a command whose start-up (the
    imports, on one core) lasts about as long as the parse, as ``kypho db
    import`` of 10⁵ rows: the parse ends with the imports, and three busy
    threads on two cores slowed both (measured). A command whose parse lasts
    several times its start-up, as ``kypho analyze`` of 10⁶ rows, waits for
    the parse anyway, so it takes every core.

    Nothing is begun for another kind of file or one the guess does not cover;
    at the end of the block the thread is joined and its table dropped,
    whether or not :func:`claim` took it.
    """
    global _pending
    parse = None
    if path.suffix.lower() == ".csv" and path.is_file():
        arguments = _guess(path, schema)
        if arguments is not None:
            parse = _Parse(path, _identity(path), arguments, threads)
    with _lock:
        if _pending is not None:
            parse = None  # one at a time; a nested block begins nothing
        elif parse is not None:
            _pending = parse
    if parse is not None:
        parse.thread.start()
    try:
        yield
    finally:
        if parse is not None:
            parse.thread.join()
            with _lock:
                _pending = None
            parse.outcome = None


def claim(path: Path, arguments: PlainArguments) -> Parsed | None:
    """What the parse begun early of ``path`` with ``arguments`` made, or ``None``.

    ``None`` when no such parse was begun, the file has changed since, or the
    parse failed; it is handed out once.
    """
    with _lock:
        parse = _pending
    if parse is None or parse.arguments != arguments:
        return None
    try:
        if parse.path.resolve() != path.resolve() or _identity(path) != parse.identity:
            return None
    except OSError:
        return None
    parse.thread.join()
    outcome, parse.outcome = parse.outcome, None
    if _identity(path) != parse.identity:
        return None
    return outcome
