"""Opening an Excel workbook safely: size limits first, every failure a clear error.

An ``.xlsx`` file is a zip archive of XML. Before openpyxl parses anything the
archive's directory is checked against limits, so a small file that expands to
gigabytes (a "zip bomb") is refused at once:

* :data:`MAX_UNCOMPRESSED` bytes in all (XML included);
* an expansion ratio of at most :data:`MAX_RATIO` for any member larger than
  1 MB (worksheet XML compresses 5-20 times; a bomb, hundreds of times);
* :data:`MAX_CELLS` cells read from the sheet.

A corrupt or hostile workbook (not a zip, truncated, malformed or
entity-expanding XML, an unsupported compression) is an
:class:`~kypho.errors.InputFileError` naming the file, never a traceback.

openpyxl reads a formula cell as the value Excel last saved; a formula that was
never calculated has none and would read as an empty cell. The worksheet XML is
scanned for such cells (only when it holds formulas at all), so that validation
can report them instead.
"""

from __future__ import annotations

import re
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from kypho.errors import InputFileError

__all__ = ["MAX_CELLS", "MAX_RATIO", "MAX_UNCOMPRESSED", "open_workbook", "read_sheet"]

#: Most bytes the archive may expand to.
MAX_UNCOMPRESSED = 1 << 30
#: Highest compression ratio of a member larger than 1 MB.
MAX_RATIO = 100
#: Most cells read from one sheet (rows × columns as stored).
MAX_CELLS = 20_000_000
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")
_DATA_SHEET = "Data"


def _unreadable(path: Path, exc: BaseException | str) -> InputFileError:
    detail = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return InputFileError(
        f"cannot read {str(path)!r}: not a readable Excel .xlsx workbook ({detail}); "
        "open it in Excel and save it again as .xlsx, or save the sheet as CSV UTF-8"
    )


def _check_archive(path: Path) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise _unreadable(path, exc) from exc
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1_000_000 and ratio > MAX_RATIO:
            archive.close()
            raise InputFileError(
                f"cannot read {str(path)!r}: its part {info.filename!r} expands "
                f"{ratio:,.0f} times ({info.file_size:,} bytes), more than the "
                f"{MAX_RATIO} times a real worksheet does; kypho does not open it"
            )
    if total > MAX_UNCOMPRESSED:
        archive.close()
        raise InputFileError(
            f"cannot read {str(path)!r}: it expands to {total:,} bytes, more than kypho "
            f"opens ({MAX_UNCOMPRESSED:,}); save the data as CSV UTF-8"
        )
    return archive


def open_workbook(path: Path, sheet: str | None) -> tuple[Any, str, dict[tuple[int, int], str]]:
    """Open ``path`` read-only; return (workbook, sheet name, uncalculated formulas).

    The formulas are ``{(row, column): "=FORMULA"}``, 1-based, for cells that
    hold a formula with no saved result.
    """
    import openpyxl

    archive = _check_archive(path)
    archive.close()
    try:
        with warnings.catch_warnings():
            # Excel stores cross-sheet drop-downs as an extension openpyxl does not
            # load; it warns, but the cell values (all we read) are unaffected.
            warnings.filterwarnings("ignore", category=UserWarning)
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except InputFileError:
        raise
    except Exception as exc:
        # openpyxl fails in many ways on a corrupt archive (KeyError, ParseError,
        # zlib.error, EOFError, NotImplementedError, ...): all mean "not readable"
        raise _unreadable(path, exc) from exc
    names = [str(n) for n in book.sheetnames]
    if not names:
        book.close()
        raise _unreadable(path, "it has no worksheet")
    if sheet is None:
        sheet = _DATA_SHEET if _DATA_SHEET in names else names[0]
    elif sheet not in names:
        book.close()
        raise InputFileError(
            f"cannot read {str(path)!r}: no sheet {sheet!r}; sheets: {', '.join(names)}"
        )
    worksheet = book[sheet]
    part = str(getattr(worksheet, "_worksheet_path", "")).lstrip("/")
    try:
        formulas = _uncalculated(path, part) if part else {}
    except (ElementTree.ParseError, zlib.error, zipfile.BadZipFile, KeyError, EOFError) as exc:
        book.close()
        raise _unreadable(path, exc) from exc
    return book, sheet, formulas


def read_sheet(book: Any, sheet: str, path: Path) -> list[tuple[Any, ...]]:
    """Every row of ``sheet`` as a tuple of cell values; the workbook is closed after."""
    rows: list[tuple[Any, ...]] = []
    cells = 0
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning)
            iterator = iter(book[sheet].iter_rows(values_only=True))
            for row in _quietly(iterator):
                cells += len(row)
                if cells > MAX_CELLS:
                    raise InputFileError(
                        f"cannot read {str(path)!r}: sheet {sheet!r} has more than "
                        f"{MAX_CELLS:,} cells; save the data as CSV UTF-8"
                    )
                rows.append(tuple(row))
    except InputFileError:
        raise
    except Exception as exc:
        raise _unreadable(path, exc) from exc
    finally:
        book.close()
    return rows


def _quietly(iterator: Any) -> Any:
    """Yield from ``iterator`` with openpyxl's UserWarnings silenced at each step."""
    while True:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning)
            try:
                row = next(iterator)
            except StopIteration:
                return
        yield row


def _uncalculated(path: Path, part: str) -> dict[tuple[int, int], str]:
    """Cells of worksheet ``part`` holding a formula (``<f>``) without a value (``<v>``)."""
    with zipfile.ZipFile(path) as archive:
        with archive.open(part) as handle:
            has_formula = False
            tail = b""
            while block := handle.read(1 << 20):
                if b"<f" in tail + block:
                    has_formula = True
                    break
                tail = block[-2:]
        if not has_formula:
            return {}
        found: dict[tuple[int, int], str] = {}
        with archive.open(part) as handle:
            for _, element in ElementTree.iterparse(handle, events=("end",)):
                if element.tag != f"{_NS}c":
                    continue
                formula = element.find(f"{_NS}f")
                value = element.find(f"{_NS}v")
                if formula is not None and (value is None or not (value.text or "")):
                    match = _CELL_REF.match(element.get("r", ""))
                    if match:
                        found[(int(match.group(2)), _column_number(match.group(1)))] = (
                            f"={formula.text or ''}"
                        )
                element.clear()
        return found


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + (ord(ch) - 64)
    return number
