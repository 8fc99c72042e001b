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

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kypho.errors import InputFileError

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl import Workbook

__all__ = [
    "PREFIX",
    "TRIGGERS",
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

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TRIGGER_CHARS = frozenset(TRIGGERS)


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
    columns that can hold text (object, string, categorical) are looked at,
    value by distinct value.
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
        distinct = pd.unique(column.dropna())
        mapping = {v: neutralise(v) for v in distinct if isinstance(v, str) and _dangerous(v)}
        if mapping:
            out.isetitem(position, column.replace(mapping).array)
    return out


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
    cell is quoted (see :func:`rows_to_csv`).

    Raises
    ------
    InputFileError
        If the file cannot be written (folder missing or read-only, disk full).
    """
    import pandas as pd

    path = Path(path)
    options.setdefault("index", False)
    options.setdefault("encoding", "utf-8")
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
