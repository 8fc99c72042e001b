"""One neutralising writer for every CSV and XLSX file kypho writes.

A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-`` or ``@``
as a formula (``=HYPERLINK(...)`` leaks data when clicked, ``=cmd|...`` may run a
program), and a leading tab or carriage return hides such a cell from a quick
look. Record ids, free text, reasons and plan labels come from users, so every
text cell kypho writes to a CSV or XLSX file goes through :func:`neutralise`
first (the OWASP "CSV injection" advice [1]_): a cell whose first character,
or first character after leading spaces, is one of :data:`TRIGGERS` gets a
leading apostrophe, which spreadsheets show as the start of plain text.

Genuine numbers are left alone: ``-1.5`` and ``+2`` stay numbers (a negative
bone mineral density T-score must read back as a number). A number is text
matching ``[+-]digits[.digits][e[+-]digits]`` and nothing more, so ``-1+2`` or
``-2-3`` are neutralised. Non-text cells (numbers, dates, booleans, missing
values) are written as they are.

In a CSV file the apostrophe is part of the written text: reading the file
back gives the cell with its apostrophe (kypho never strips it silently). In an
XLSX file the same cell is stored as text with Excel's *quote prefix* (the
style Excel itself gives a cell typed with a leading apostrophe): never a
formula, shown and kept as text, and its value reads back unchanged.

References
----------
.. [1] OWASP Foundation. CSV Injection.
   https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

from kypho.errors import InputFileError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from openpyxl import Workbook

    from kypho.schema import Schema

__all__ = [
    "PREFIX",
    "TRIGGERS",
    "empty_lists_as_token",
    "grid_keys",
    "neutralise",
    "neutralise_frame",
    "neutralise_row",
    "neutralise_workbook",
    "rows_to_csv",
    "write_csv",
    "write_xlsx",
]

#: First characters that make a spreadsheet treat a cell as a formula (or hide it).
TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: What a neutralised cell starts with.
PREFIX = "'"

# ASCII digits only (``\\d`` would also take other scripts' digits, which a
# spreadsheet does not read as a number): the same rule as the vectorised one below.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TRIGGER_CHARS = frozenset(TRIGGERS)
# The same two tests as regular expressions (RE2, run by pyarrow over whole columns):
# the first character after leading spaces is a trigger, and the text (after its
# leading spaces) is a plain number. ``$`` is the end of the text in RE2.
_TRIGGER_RE = r"^ *[=+\-@\t\r]"
_NUMBER_RE = r"^ *[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
# What makes Python's csv module quote a field (QUOTE_MINIMAL, "," and '"'), and line
# breaks: always quoted here (pandas quotes a CR only when the line end holds one,
# which write_csv then chooses).
_QUOTE_RE = '[,"\r\n]'


def _dangerous(text: str) -> bool:
    if not text:
        return False
    if text[0] in _TRIGGER_CHARS:
        return _NUMBER.fullmatch(text) is None
    stripped = text.lstrip(" ")
    return bool(stripped) and stripped[0] in _TRIGGER_CHARS and _NUMBER.fullmatch(stripped) is None


def neutralise(value: object) -> object:
    """``value`` as a spreadsheet cannot run it: text that could be a formula gets ``'``.

    Examples
    --------
    >>> neutralise("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise("-1.5"), neutralise(-1.5), neutralise("P-017"), neutralise("@SUM(A1)")
    ('-1.5', -1.5, 'P-017', "'@SUM(A1)")
    >>> neutralise("  +cmd|' /C calc'!A0")
    "'  +cmd|' /C calc'!A0"
    """
    if isinstance(value, str) and _dangerous(value):
        return PREFIX + value
    return value


def neutralise_row(values: Iterable[object]) -> list[object]:
    """Every cell of a row through :func:`neutralise`."""
    return [neutralise(v) for v in values]


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are neutralised.

    Columns of numbers, dates and booleans are returned as they are; only
    columns that can hold text (object, string, categorical) are looked at:
    categories one by one, other text columns as a whole
    (:func:`neutralise_text`, the same rule as :func:`neutralise`).
    """
    import pandas as pd

    out = frame.copy()
    out.columns = pd.Index([neutralise(c) for c in frame.columns])
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if isinstance(column.dtype, pd.CategoricalDtype):
            categories = [neutralise(c) for c in column.cat.categories]
            if categories == list(column.cat.categories):
                continue
            if len(set(categories)) == len(categories):
                out.isetitem(position, column.cat.rename_categories(categories).array)
                continue
            column = column.astype(object)
        if not (column.dtype == object or pd.api.types.is_string_dtype(column.dtype)):
            continue
        danger = _dangerous_mask(column)
        if danger.any():
            values = column.astype(object).to_numpy(copy=True)
            values[danger] = [PREFIX + v for v in values[danger]]
            out.isetitem(position, pd.array(values, dtype=cast(Any, column.dtype)))
    return out


def _dangerous_mask(column: pd.Series) -> npt.NDArray[np.bool_]:
    """Which cells of a column :func:`neutralise` would change (text cells only)."""
    import pandas as pd
    import pyarrow as pa

    values = cast(Any, column).to_numpy(dtype=object, na_value=None)
    is_text = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
    if not is_text.any():
        return is_text
    try:
        text = pa.array(np.where(is_text, values, None), type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        # text pyarrow cannot hold (a lone surrogate): the rule cell by cell
        return np.fromiter(
            (isinstance(v, str) and _dangerous(v) for v in values), dtype=bool, count=len(values)
        )
    mask: npt.NDArray[np.bool_] = (
        pd.Series(_danger(text).to_numpy(zero_copy_only=False)).fillna(False).to_numpy(bool)
    )
    return mask


def neutralise_text(text: pa.Array) -> pa.Array:
    """A pyarrow text column through :func:`neutralise`, all at once.

    Examples
    --------
    >>> import pyarrow as pa
    >>> neutralise_text(pa.array(["=1+1", "-1.5", "P-017", " @x", None])).to_pylist()
    ["'=1+1", '-1.5', 'P-017', "' @x", None]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    danger = _danger(text)
    if not pc.any(danger).as_py():
        return text
    prefixed = pc.binary_join_element_wise(pa.scalar(PREFIX), text, "")
    return pc.if_else(danger, prefixed, text)


def _danger(text: pa.Array) -> pa.Array:
    import pyarrow.compute as pc

    trigger = pc.match_substring_regex(text, _TRIGGER_RE)
    number = pc.match_substring_regex(text, _NUMBER_RE)
    return pc.fill_null(pc.and_(trigger, pc.invert(number)), False)


def _numeric(column: pd.Series) -> bool:
    import pandas as pd

    return bool(
        pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_datetime64_any_dtype(column)
    )


def neutralise_workbook(book: Workbook) -> Workbook:
    """Make every text cell of every sheet of an openpyxl workbook plain text, in place.

    openpyxl stores a text cell starting with ``=`` as a live formula. Here each
    text cell that :func:`neutralise` would change is stored as text with
    Excel's *quote prefix* (the cell style Excel gives a cell typed with a
    leading apostrophe): Excel and LibreOffice show it as text and keep it
    text when it is edited, and its value reads back unchanged. kypho writes no
    formula cells, so none is left.
    """
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str) and (cell.data_type == "f" or _dangerous(value)):
                    cell.data_type = "s"
                    cell.quotePrefix = True
    return book


def _has_cr(values: Iterable[object]) -> bool:
    return any(isinstance(v, str) and "\r" in v for v in values)


def _line_end(has_cr: bool) -> str:
    # Python's csv module quotes a field only for the characters of the line
    # terminator: with "\n" a bare CR stays unquoted, and Excel, LibreOffice and
    # most readers then break the row there (the rest of the cell becoming a new,
    # unneutralised row). A file with such a cell is written with CRLF (RFC 4180).
    return "\r\n" if has_cr else "\n"


def rows_to_csv(rows: Iterable[Sequence[object]]) -> str:
    """CSV text of ``rows``, every cell through :func:`neutralise`.

    Examples
    --------
    >>> print(rows_to_csv([["id", "note"], ["P-1", "=1+1"]]), end="")
    id,note
    P-1,'=1+1
    """
    import csv
    import io

    safe = [neutralise_row(row) for row in rows]
    buffer = io.StringIO()
    end = _line_end(any(_has_cr(row) for row in safe))
    csv.writer(buffer, lineterminator=end).writerows(safe)
    return buffer.getvalue()


def write_csv(frame: pd.DataFrame, path: str | Path, **options: Any) -> Path:
    """Write ``frame`` (without its index) as UTF-8 CSV, every text cell neutralised.

    A file with a carriage return inside a cell has CRLF line ends, so that the
    cell is quoted (see :func:`rows_to_csv`). The file is the one pandas'
    ``to_csv`` writes for the neutralised frame, byte for byte; frames whose
    columns are numbers, dates, booleans, categories or text are written by
    :class:`CsvWriter` (whole columns at a time, through pyarrow), others by pandas.

    Raises
    ------
    InputFileError
        If the file cannot be written (folder missing or read-only, disk full).
    """
    path = Path(path)
    options.setdefault("index", False)
    options.setdefault("encoding", "utf-8")
    plain = set(options) <= {"index", "encoding", "lineterminator"}
    if plain and options["index"] is False and options["encoding"] in ("utf-8", "utf8"):
        end = options.get("lineterminator") or _line_end(_frame_has_cr(frame))
        try:
            with CsvWriter(path, frame.columns, line_end=end) as writer:
                if writer.write(frame):
                    return path
        except OSError as exc:
            raise InputFileError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    return _pandas_csv(frame, path, options)


def _pandas_csv(frame: pd.DataFrame, path: Path, options: dict[str, Any]) -> Path:
    import pandas as pd

    safe = neutralise_frame(frame)
    if "lineterminator" not in options:
        text_columns = [
            safe.iloc[:, i] for i in range(safe.shape[1]) if not _numeric(safe.iloc[:, i])
        ]
        cr = _has_cr(safe.columns) or any(_has_cr(pd.unique(c.dropna())) for c in text_columns)
        options["lineterminator"] = _line_end(cr)
    try:
        safe.to_csv(path, **options)
    except OSError as exc:
        raise InputFileError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    return path


def _frame_has_cr(frame: pd.DataFrame) -> bool:
    import pandas as pd

    if _has_cr(frame.columns):
        return True
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if isinstance(column.dtype, pd.CategoricalDtype):
            if _has_cr(column.cat.categories):
                return True
        elif column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            text = _as_text(column)
            if text is None:
                if _has_cr(pd.unique(column.dropna())):
                    return True
            elif _any_match(text, "\r"):
                return True
    return False


#: Rows formatted at a time by :class:`CsvWriter` (bounds its memory).
CSV_BLOCK_ROWS = 100_000


class CsvWriter:
    """A CSV file written block by block: the header, then frames of rows.

    Every text cell and column name is neutralised (:func:`neutralise`) and the
    cells are formatted as pandas' ``to_csv`` formats them (numbers by NumPy's
    shortest round-trip repr, ``True``/``False``, dates ``YYYY-MM-DD``, missing
    cells empty, fields holding ``,``, ``"`` or a line break quoted). Each column
    is formatted once per distinct value and the rows are joined by pyarrow, so
    a million rows take seconds, not minutes. Used as a context manager; the
    file is written to ``path`` directly.

    Parameters
    ----------
    path
        The file to write (created or replaced).
    columns
        The column names, in order (the header line).
    line_end
        ``"\\n"`` (default) or ``"\\r\\n"``.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> frame = pd.DataFrame({"id": ["P-1", "=1+1"], "x": [1.0, None]})
    >>> with CsvWriter(out, frame.columns) as w:
    ...     w.write(frame)
    True
    >>> print(out.read_text(), end="")
    id,x
    P-1,1.0
    '=1+1,
    """

    def __init__(
        self, path: str | Path, columns: Iterable[object], *, line_end: str = "\n"
    ) -> None:
        self.path = Path(path)
        self.columns = list(columns)
        self.line_end = line_end
        self._file: IO[bytes] | None = None
        self.rows = 0

    def __enter__(self) -> CsvWriter:
        import csv
        import io

        self._file = open(self.path, "wb")  # closed in __exit__
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=self.line_end).writerow(neutralise_row(self.columns))
        try:
            self._emit(buffer.getvalue().encode("utf-8"))
        except BaseException:
            # __exit__ does not run when __enter__ fails: close the file here
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _emit(self, data: bytes | memoryview) -> None:
        """Write bytes to the file (the one place this writer writes)."""
        if self._file is None:
            raise ValueError("CsvWriter used outside its with block")
        self._file.write(data)

    def write(self, frame: pd.DataFrame) -> bool:
        """Append the rows of ``frame`` (its columns as given at the start).

        Returns ``False``, writing nothing, when a column holds values this
        writer does not format (mixed types, times of day, fewer than two
        columns): :func:`write_csv` then writes the whole file with pandas.
        """
        if self._file is None:
            raise ValueError("CsvWriter.write outside its with block")
        blocks = self.formatted(frame)
        if blocks is None:
            return False
        self.write_formatted(blocks)
        return True

    def formatted(self, frame: pd.DataFrame) -> list[list[pa.Array]] | None:
        """The fields of ``frame``'s rows, block by block, ready for :meth:`write_formatted`.

        Touches no file, so one thread may format the next frame while another
        writes this one. None when a column holds values this writer does not
        format (see :meth:`write`).
        """
        if frame.shape[1] < 2 or list(frame.columns) != self.columns:
            return None
        blocks: list[list[pa.Array]] = []
        for start in range(0, max(len(frame), 1), CSV_BLOCK_ROWS):
            part = frame.iloc[start : start + CSV_BLOCK_ROWS]
            columns = [part.iloc[:, i] for i in range(part.shape[1])]
            texts = _in_two_threads(_column_text, columns, len(part))
            if any(t is None for t in texts):
                if start == 0:
                    return None
                raise ValueError(f"a column of rows {start + 1}- changed its kind of values")
            blocks.append([t for t in texts if t is not None])
        return blocks

    def write_formatted(self, blocks: list[list[pa.Array]]) -> None:
        """Append rows formatted by :meth:`formatted`, in order."""
        if self._file is None:
            raise ValueError("CsvWriter.write outside its with block")
        for texts in blocks:
            self._write_block(texts)
            self.rows += len(texts[0]) if texts else 0

    def _write_block(self, texts: list[pa.Array]) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        n = len(texts[0])
        if n == 0 or self._file is None:
            return
        if self.line_end == "\n" and _arrow_csv(texts, self._emit):
            return
        *head, last = texts
        ended = pc.binary_join_element_wise(last, pa.scalar(""), self.line_end)
        fields = [*head, ended]
        half = n // 2
        # two halves: each half's text stays further from Arrow's 2 GiB string limit
        for rows in (slice(0, half), slice(half, n)) if half else (slice(0, n),):
            lines = pc.binary_join_element_wise(*(f[rows] for f in fields), ",")
            if isinstance(lines, pa.ChunkedArray):
                lines = lines.combine_chunks()
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
            first, stop = offsets[lines.offset], offsets[lines.offset + len(lines)]
            self._emit(memoryview(lines.buffers()[2])[first:stop])


#: Rows from which a block's columns are formatted, and its rows joined, in two
#: threads: the work is NumPy's and Arrow's, which let go of the GIL.
_THREADED_ROWS = 20_000

_T = TypeVar("_T")
_R = TypeVar("_R")


def _in_two_threads(function: Callable[[_T], _R], items: Sequence[_T], rows: int) -> list[_R]:
    """``[function(item) for item in items]``, the items shared by two threads.

    One thread when the machine has one CPU or the block is small. The results
    are in the items' order; an error in either thread is raised here.
    """
    import os
    import threading

    if rows < _THREADED_ROWS or len(items) < 2 or (os.cpu_count() or 1) < 2:
        return [function(item) for item in items]
    out: list[Any] = [None] * len(items)
    failed: list[BaseException] = []

    def run(positions: range) -> None:
        try:
            for k in positions:
                out[k] = function(items[k])
        except BaseException as exc:  # re-raised by the caller's thread
            failed.append(exc)

    other = threading.Thread(target=run, args=(range(1, len(items), 2),), daemon=True)
    other.start()
    try:
        run(range(0, len(items), 2))
    finally:
        other.join()
    if failed:
        raise failed[0]
    return out


def _arrow_csv(texts: list[pa.Array], emit: Callable[[memoryview], None]) -> bool:
    """Write rows of ready fields with Arrow's CSV writer, if no field needs quotes.

    The fields are already neutralised and formatted; Arrow's writer (C++, the
    rows assembled column by column) only joins them, with no quoting, which is
    what the joiner below does for such rows. A field holding a quote, comma or
    line break makes Arrow refuse the block (it never writes it unquoted): the
    caller then joins the rows itself. False when nothing was written. A large
    block is joined in two halves of its rows at once, written in order.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    table = pa.Table.from_arrays(texts, names=[str(i) for i in range(len(texts))])
    try:
        options = pa_csv.WriteOptions(include_header=False, quoting_style="none", batch_size=8192)
    except TypeError:  # a pyarrow without quoting styles: the joiner writes every block
        return False
    half = table.num_rows // 2

    def joined(rows: pa.Table) -> pa.Buffer | None:
        sink = pa.BufferOutputStream()
        try:
            pa_csv.write_csv(rows, sink, options)
        except pa.ArrowInvalid:
            return None  # a field that must be quoted
        return sink.getvalue()

    halves = [table.slice(0, half), table.slice(half)] if half else [table]
    parts = _in_two_threads(joined, halves, table.num_rows)
    if any(part is None for part in parts):
        return False
    for part in parts:
        if part is not None:
            emit(memoryview(part))
    return True


def _quoted(text: pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = neutralise_text(text)
    need = pc.fill_null(pc.match_substring_regex(text, _QUOTE_RE), False)
    if not pc.any(need).as_py():
        return pc.fill_null(text, "")
    doubled = pc.replace_substring(text, '"', '""')
    quoted = pc.binary_join_element_wise(pa.scalar('"'), doubled, pa.scalar('"'), "")
    return pc.fill_null(pc.if_else(need, quoted, text), "")


def _column_text(column: pd.Series) -> pa.Array | None:
    """The cells of one column as CSV fields: as pandas' to_csv prints them, text
    neutralised and quoted, missing cells empty (None: a column not handled here)."""
    import pandas as pd
    import pyarrow as pa

    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = _column_text(pd.Series(dtype.categories))
        if categories is None:
            return None
        codes = column.cat.codes.to_numpy()
        return _take(categories, codes.astype(np.int64), codes < 0)
    if pd.api.types.is_bool_dtype(dtype):
        missing = column.isna().to_numpy(dtype=bool)
        flags = column.to_numpy(dtype=bool, na_value=False).astype(np.int64)
        return _take(pa.array(["False", "True"]), flags, missing)
    if pd.api.types.is_integer_dtype(dtype):
        missing = column.isna().to_numpy(dtype=bool)
        return _integers(column.to_numpy(dtype=np.int64, na_value=0), missing)
    if pd.api.types.is_float_dtype(dtype):
        return _floats(column.to_numpy(dtype=np.float64, na_value=np.nan))
    if pd.api.types.is_datetime64_dtype(dtype):
        return _dates(column.to_numpy(dtype="datetime64[ns]"))
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        kind = pd.api.types.infer_dtype(column, skipna=True)
        if kind in ("string", "empty"):
            text = _as_text(column)
            return None if text is None else _quoted(text)
        if kind == "boolean":
            return _column_text(column.astype("boolean"))
        if kind == "integer":
            return _column_text(column.astype("Int64"))
    return None


def _as_text(column: pd.Series) -> pa.Array | None:
    import pandas as pd
    import pyarrow as pa

    try:
        if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
            # already Arrow text: no Python objects on the way
            text = pa.array(column)
            if isinstance(text, pa.ChunkedArray):
                text = text.combine_chunks()
            return text.cast(pa.string())
        values = cast(Any, column).to_numpy(dtype=object, na_value=None)
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        return None


def _any_match(text: pa.Array, pattern: str) -> bool:
    import pyarrow.compute as pc

    return bool(pc.any(pc.match_substring_regex(text, pattern)).as_py())


def _take(
    table: pa.Array, index: npt.NDArray[np.int64], missing: npt.NDArray[np.bool_]
) -> pa.Array:
    """``table[index]`` as text, '' where ``missing``."""
    import pyarrow as pa

    table = pa.concat_arrays([table.cast(pa.string()), pa.array([""], pa.string())])
    where = np.where(missing, len(table) - 1, index)
    return table.take(pa.array(where))


def _integers(values: npt.NDArray[np.int64], missing: npt.NDArray[np.bool_]) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.cast(pa.array(values), pa.string())
    if missing.any():
        text = pc.if_else(pa.array(missing), pa.scalar(""), text)
    return text


def _floats(values: npt.NDArray[np.float64]) -> pa.Array:
    """Floats as NumPy (and so pandas' to_csv) prints them, each distinct value once."""
    import pandas as pd
    import pyarrow as pa

    missing = np.isnan(values)
    keys = grid_keys(values, missing)
    if keys is not None:
        key, size, lo, scale = keys
        seen = np.zeros(size, dtype=bool)
        seen[key[~missing]] = True
        shown = _grid_text(np.flatnonzero(seen) + lo, _DECIMALS[scale])
        lookup = np.cumsum(seen, dtype=np.int64) - 1
        return _take(shown, lookup[key], missing)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=np.float64)
    if len(uniques) * 4 <= len(values) and not np.any((uniques == 0) & np.signbit(uniques)):
        return _take(pa.array(uniques.astype(str)), codes.astype(np.int64), codes < 0)
    return _take(pa.array(values.astype(str)), np.arange(len(values)), missing)


#: The decimals of each grid's scale (see :func:`grid_keys`).
_DECIMALS = {1.0: 0, 10.0: 1, 100.0: 2, 1000.0: 3}


@functools.cache
def _fractions(decimals: int) -> pa.Array:
    """The fraction digits of 0 to 10**decimals - 1 as printed after the point."""
    import pyarrow as pa

    return pa.array(
        [f"{f:0{decimals}d}".rstrip("0") or "0" for f in range(10**decimals)], pa.string()
    )


def _grid_text(numbers: npt.NDArray[np.int64], decimals: int) -> pa.Array:
    """``numbers / 10**decimals`` as NumPy (and pandas' ``to_csv``) prints those floats.

    A float on a grid of :func:`grid_keys` (at most 12 significant digits, from
    0.001 to below 10⁹) is printed by NumPy as its shortest round-trip decimal,
    which is the grid's own decimal: the whole part, a point and the fraction's
    digits without trailing zeros ("32.0", "116.5", "-0.05"). Built here from
    the integers, column-wise, instead of formatting each float (a test compares
    with NumPy's own text).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    unit = 10**decimals
    magnitude = np.abs(numbers)
    whole = pc.cast(pa.array(magnitude // unit), pa.string())
    fraction = _fractions(decimals).take(pa.array(magnitude % unit))
    sign = pc.if_else(pa.array(numbers < 0), pa.scalar("-"), pa.scalar(""))
    signed = pc.binary_join_element_wise(sign, whole, "")
    return pc.binary_join_element_wise(signed, fraction, ".")


def grid_keys(
    values: npt.NDArray[np.float64], missing: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int64], int, int, float] | None:
    """Whole-number keys of values on a grid of 1, 0.1, 0.01 or 0.001 with a short range.

    Returns the keys (0 to ``size - 1``; 0 where missing), ``size``, and ``lo``
    and ``scale``: each value is ``(key + lo) / scale`` exactly. Two values share
    a key only if they are the same float (and the grid holds no ``-0.0``, which
    prints unlike ``0.0``), so a key stands for the value.
    """
    present = values[~missing]
    if len(present) == 0 or not np.all(np.isfinite(present)):
        return None
    if np.any((present == 0) & np.signbit(present)):
        return None
    if np.max(np.abs(present)) >= 1e9:
        return None
    for decimals in range(4):
        scale = 10.0**decimals
        k = np.rint(present * scale)
        if np.array_equal(k / scale, present):
            lo, hi = int(k.min()), int(k.max())
            size = hi - lo + 1
            if size > max(4 * len(present), 1 << 16):
                return None
            key = np.zeros(len(values), dtype=np.int64)
            key[~missing] = k.astype(np.int64) - lo
            return key, size, lo, scale
    return None


def _dates(values: npt.NDArray[np.datetime64]) -> pa.Array | None:
    """Dates as pandas prints a column of midnights (``YYYY-MM-DD``); None with a time of day."""
    import pyarrow as pa

    missing = np.isnat(values)
    days = values.astype("datetime64[D]")
    if not np.array_equal(days[~missing].astype("datetime64[ns]"), values[~missing]):
        return None  # a time of day: pandas prints these in full
    number = days.view(np.int64)
    present = number[~missing]
    if len(present) == 0:
        return _take(pa.array([], pa.string()), np.zeros(len(values), dtype=np.int64), missing)
    lo = int(present.min())
    size = int(present.max()) - lo + 1
    if size > max(4 * len(present), 1 << 16):
        text = np.datetime_as_string(days, unit="D")
        return _take(pa.array(text), np.arange(len(values)), missing)
    table = np.datetime_as_string(np.arange(lo, lo + size).astype("datetime64[D]"), unit="D")
    return _take(pa.array(table), np.where(missing, 0, number - lo), missing)


def write_xlsx(
    sheets: pd.DataFrame | Sequence[tuple[str, pd.DataFrame]],
    path: str | Path,
    *,
    sheet_name: str = "Sheet1",
) -> Path:
    """Write one frame (or ``[(sheet name, frame), ...]``) to an .xlsx workbook, neutralised.

    Every text cell that could run as a formula is stored as quote-prefixed text
    (see :func:`neutralise_workbook`), so the workbook holds no live formula.

    Raises
    ------
    InputFileError
        If the file cannot be written.
    """
    import pandas as pd

    path = Path(path)
    pairs = [(sheet_name, sheets)] if isinstance(sheets, pd.DataFrame) else list(sheets)
    try:
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, frame in pairs:
                frame.to_excel(writer, sheet_name=name, index=False)
            neutralise_workbook(writer.book)
    except OSError as exc:
        raise InputFileError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    return path


def empty_lists_as_token(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """``frame`` with each empty list cell as the schema's none token, for a file.

    In kypho's typed data ``""`` in a ``list`` column is a list observed empty;
    in a file an empty cell reads back as missing, so files say ``none`` (the
    schema's ``none_token``) instead, as :func:`kypho.io.write_table` does.
    ``frame`` itself is not changed.
    """
    out = frame
    for var in schema.input_variables:
        if var.type == "list" and var.name in frame:
            values = frame[var.name]
            empty = (values == "").fillna(False).to_numpy(dtype=bool)
            if empty.any():
                # a shallow copy: ``frame`` keeps its column (pandas copies on write)
                out = out.copy(deep=False) if out is frame else out
                out[var.name] = values.mask(empty, schema.none_token)
    return out
