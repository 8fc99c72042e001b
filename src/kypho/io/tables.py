"""Tables of patient records in and out: CSV, Excel (``.xlsx``) and SPSS (``.sav``).

Reading returns the *raw* table (one row per input row, nothing dropped, nothing
coerced that could lose what was typed); :func:`kypho.validation.validate` then
types and checks it. Writing takes typed data (``validate(...).data`` or the
output of :func:`kypho.measures.derive`) and encodes it for the target format
from the schema: SPSS files get variable labels, value labels and measurement
levels, so they open in SPSS/PSPP ready to analyse.

Every conversion works on whole columns; nothing here loops over rows.
"""

from __future__ import annotations

import csv
import string
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kypho.errors import ColumnError, DataError, InputFileError
from kypho.io._csvfile import MAX_COLUMNS, read_csv_text
from kypho.io._early import CSV_KINDS as _CSV_KINDS
from kypho.io._early import MAX_HEADER_CHARS as _MAX_HEADER_CHARS
from kypho.io._early import separator as _separator
from kypho.io._xlsxfile import open_workbook, read_sheet
from kypho.io.dictionary import data_dictionary
from kypho.output.cells import neutralise_workbook, write_csv
from kypho.schema import Schema, Variable, load_schema
from kypho.schema.dtypes import parse_dates, parse_numbers
from kypho.validation import UnreadCell, resolve_columns

__all__ = ["DATA_SHEET", "read_table", "write_table"]

#: The worksheet holding the records in workbooks kypho writes (and reads first).
DATA_SHEET = "Data"
_EXCEL_MAX_ROWS = 1_048_576
_FORMATS = ".csv, .sav, .xlsx, .parquet"
# Types whose text must reach validation as typed: "007" is an id, not 7.
_TEXT_TYPES = frozenset(["id", "string", "category", "ordinal", "list", "boolean", "date"])
_SPSS_RESERVED = frozenset(
    ["ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"]
)
_NUMERIC_TEXT = frozenset(["string", "floating", "integer", "mixed-integer-float", "empty"])
_BOOLEAN_LABELS: dict[int | float, str] = {0: "no", 1: "yes"}


def read_table(
    path: str | Path, *, schema: Schema | None = None, sheet: str | None = None
) -> pd.DataFrame:
    """Read a table of records from a ``.csv``, ``.xlsx`` or ``.sav`` file.

    Parameters
    ----------
    path
        The input file; its extension picks the format. It is only read.
    schema
        The study schema; ``None`` uses kypho's built-in schema. It supplies the
        missing-value tokens and tells which columns hold text, numbers or dates.
    sheet
        Worksheet of an ``.xlsx`` file. ``None`` reads the sheet named ``Data``
        (the sheet of kypho's data-entry template) when there is one, else the
        first sheet.

    Returns
    -------
    pandas.DataFrame
        One row per input row, columns as named in the file. Cells holding one of
        ``schema.missing_values`` (spaces stripped, any case) are NaN. Columns of
        schema numbers come as ``float64`` when every cell is a number; schema
        dates as datetimes when every cell is an ISO date; text columns (ids,
        levels, lists, booleans) as text. A cell that does not convert leaves its
        column as text, so validation can report the value as typed. SPSS value
        labels are applied (a category arrives as its label); an SPSS variable
        whose name is not in the schema but whose variable label is a schema
        name or label is renamed to the schema name.

    Raises
    ------
    InputFileError
        If the file is absent, of an unsupported type, unreadable, not UTF-8
        (CSV), or has duplicated column names.

    Notes
    -----
    CSV: UTF-8 (a byte-order mark is accepted); blank lines are skipped. Fields
    are separated by commas, or by semicolons or tabs when the header line has
    no comma; a semicolon-separated file is read with decimal commas (``1,5``),
    as spreadsheets in such locales write it. Excel: trailing empty rows and
    columns with neither a header nor a value are ignored (spreadsheets keep
    formatting far below the data); formulas are read as the values Excel last
    computed. SPSS: user-missing values (declared with ``MISSING VALUES``) are
    missing, as in SPSS itself.

    References
    ----------
    .. [1] IBM SPSS Statistics, Command Syntax Reference: MISSING VALUES,
       VALUE LABELS, VARIABLE LEVEL.
    .. [2] pyreadstat documentation, ``read_sav`` (``apply_value_formats``,
       ``user_missing``), https://ofajardo.github.io/pyreadstat_documentation/

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = f.write_text("patient_id,age,sex\\n007,71,female\\n008,NA,male\\n")
    >>> t = read_table(f)
    >>> t["patient_id"].tolist(), t["age"].tolist()
    (['007', '008'], [71.0, nan])
    """
    path = Path(path)
    schema = schema or load_schema()
    suffix = path.suffix.lower()
    readers: dict[str, Callable[[Path, Schema, str | None], pd.DataFrame]] = {
        ".csv": _read_csv,
        ".sav": _read_sav,
        ".xlsx": _read_xlsx,
        ".parquet": _read_parquet,
    }
    if suffix not in readers:
        raise InputFileError(
            f"cannot read {str(path)!r}: unsupported extension {path.suffix!r}; "
            f"kypho reads {_FORMATS}"
        )
    if not path.is_file():
        raise InputFileError(f"cannot read {str(path)!r}: no such file")
    if sheet is not None and suffix != ".xlsx":
        raise InputFileError(
            f"cannot read sheet {sheet!r} of {str(path)!r}: only .xlsx files have sheets"
        )
    try:
        frame = readers[suffix](path, schema, sheet)
    except InputFileError:
        raise
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"cannot read {str(path)!r}: not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8'"
        ) from exc
    except OSError as exc:
        raise InputFileError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    if frame.attrs.get("kypho_tidied"):
        # the CSV reader blanks missing tokens and types clean columns itself
        return frame
    return _tidy(frame, schema)


def write_table(df: pd.DataFrame, path: str | Path, *, schema: Schema | None = None) -> Path:
    """Write typed records to a ``.csv``, ``.xlsx`` or ``.sav`` file.

    Parameters
    ----------
    df
        Typed records, e.g. ``validate(raw).data`` or ``derive(data)``. Columns
        named by the schema are encoded from their declaration; other columns are
        written as they are. ``df`` is not modified; its index is not written.
    path
        The output file; its extension picks the format.
    schema
        The study schema; ``None`` uses kypho's built-in schema.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputFileError
        If the extension is not supported, the file cannot be written, there are
        more rows than an Excel sheet holds, or a column name is not a valid SPSS
        variable name.
    DataError
        If, for ``.sav``, a level or boolean column holds a value the schema does
        not declare (write validated data).

    Notes
    -----
    Every format writes a ``list`` column as its codes joined by ``;`` and an
    observed empty list as ``schema.none_token`` (an empty cell would read back
    as missing). CSV and Excel write level codes, ``True``/``False`` and ISO
    dates; Excel puts the records on sheet ``Data`` and the data dictionary of
    the written columns on sheet ``Dictionary``.

    SPSS: a category, ordinal or boolean column is stored as whole-number codes
    with value labels (codes ``1..k`` in declared level order, or the codes
    themselves when every code is a distinct whole number; booleans ``0 = no,
    1 = yes``); the variable label is the schema's display label; the
    measurement level is nominal (categories, booleans, text), ordinal (ordinals) or scale (numbers,
    dates); dates have format ``DATE11``. GNU PSPP reads these files with the
    same labels and levels (tests/integration/io_fixtures/kypho_records.pspp.csv).

    References
    ----------
    .. [1] IBM SPSS Statistics, Command Syntax Reference: VALUE LABELS,
       VARIABLE LABELS, VARIABLE LEVEL, date formats (DATE11).
    .. [2] pyreadstat documentation, ``write_sav``,
       https://ofajardo.github.io/pyreadstat_documentation/

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from kypho.validation import validate
    >>> raw = pd.DataFrame({"patient_id": ["P1"], "group": ["control"], "sex": ["female"],
    ...                     "age": [71], "level": ["L1"], "leak_sites": ["none"]})
    >>> out = write_table(validate(raw).data, pathlib.Path(tempfile.mkdtemp()) / "r.csv")
    >>> print(out.read_text(), end="")
    patient_id,group,sex,age,level,leak_sites
    P1,control,female,71,L1,none
    """
    path = Path(path)
    schema = schema or load_schema()
    suffix = path.suffix.lower()
    writers: dict[str, Callable[[pd.DataFrame, Path, Schema], None]] = {
        ".csv": _write_csv,
        ".sav": _write_sav,
        ".xlsx": _write_xlsx,
        ".parquet": _write_parquet,
    }
    if suffix not in writers:
        raise InputFileError(
            f"cannot write {str(path)!r}: unsupported extension {path.suffix!r}; "
            f"kypho writes {_FORMATS}"
        )
    check_folder(path)
    try:
        writers[suffix](df, path, schema)
    except (InputFileError, DataError):
        raise
    except OSError as exc:
        raise InputFileError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    return path


def check_folder(path: Path) -> None:
    """Refuse early, and in one wording, to write into a folder that does not exist."""
    folder = path.parent
    if not folder.is_dir():
        raise InputFileError(f"cannot write {str(path)!r}: folder {str(folder)!r} does not exist")


# --------------------------------------------------------------------------- reading


def _read_csv(path: Path, schema: Schema, sheet: str | None) -> pd.DataFrame:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first = handle.readline(_MAX_HEADER_CHARS + 1)
    if len(first) > _MAX_HEADER_CHARS:
        raise InputFileError(
            f"cannot read {str(path)!r}: the header line is longer than "
            f"{_MAX_HEADER_CHARS:,} characters; kypho reads at most {MAX_COLUMNS:,} columns"
        )
    if not first.strip():
        raise InputFileError(f"cannot read {str(path)!r}: the file is empty (no header row)")
    sep = _separator(first)
    header = next(csv.reader([first], delimiter=sep))
    if len(header) > MAX_COLUMNS:
        raise InputFileError(
            f"cannot read {str(path)!r}: the header has {len(header):,} columns; kypho reads "
            f"at most {MAX_COLUMNS:,} (a study's schema has far fewer)"
        )
    _check_unique(header, path)
    kinds = {
        col: _CSV_KINDS[schema[name].type]
        for col, name in _resolve(header, schema).items()
        if schema[name].type in _CSV_KINDS
    }
    tokens = schema.missing_tokens
    try:
        return read_csv_text(path, header, sep, kinds, tokens)
    except UnicodeDecodeError:
        raise
    except InputFileError as exc:
        if "invalid UTF8" in str(exc) or "invalid UTF-8" in str(exc):
            _raise_first_bad_byte(path)
        raise


def _raise_first_bad_byte(path: Path) -> None:
    """Raise ``UnicodeDecodeError`` at the first byte of ``path`` that is not UTF-8."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                raise UnicodeDecodeError(
                    exc.encoding, exc.object, offset + exc.start, offset + exc.end, exc.reason
                ) from None
            offset += len(block)
        decoder.decode(b"", final=True)


def _read_parquet(path: Path, schema: Schema, sheet: str | None) -> pd.DataFrame:
    from kypho.registry import read_parquet

    return read_parquet(path)


def _write_parquet(df: pd.DataFrame, path: Path, schema: Schema) -> None:
    from kypho.registry import write_parquet

    write_parquet(df, path)


def _read_xlsx(path: Path, schema: Schema, sheet: str | None) -> pd.DataFrame:
    book, chosen, formulas = open_workbook(path, sheet)
    grid = read_sheet(book, chosen, path)
    if not grid:
        return pd.DataFrame()
    width = max(len(r) for r in grid)
    if width > MAX_COLUMNS:
        raise InputFileError(
            f"cannot read {str(path)!r}: sheet {chosen!r} has {width:,} columns; kypho reads "
            f"at most {MAX_COLUMNS:,}"
        )
    array = np.empty((len(grid), width), dtype=object)
    for i, row in enumerate(grid):
        array[i, : len(row)] = row
    # formula cells Excel never computed: openpyxl reads them as empty
    for (row_number, col_number), text in formulas.items():
        if row_number <= len(grid) and col_number <= width:
            array[row_number - 1, col_number - 1] = UnreadCell(
                text,
                f"the formula {text} has no saved result (the workbook was not "
                "calculated); open it in Excel, let it calculate, and save it",
            )
    tokens = schema.missing_tokens
    header = array[0]
    body = array[1:]
    blank = np.vectorize(
        lambda v: v is None or (isinstance(v, str) and v.strip() == ""), otypes=[bool]
    )
    filled = ~blank(body) if body.size else np.zeros(body.shape, dtype=bool)
    keep_cols = ~blank(header) | filled.any(axis=0)
    rows_used = np.flatnonzero(filled[:, keep_cols].any(axis=1))
    n_rows = int(rows_used[-1]) + 1 if rows_used.size else 0
    body = body[:n_rows][:, keep_cols]
    names = [
        _header_text(value, int(position))
        for value, position in zip(header[keep_cols], np.flatnonzero(keep_cols), strict=True)
    ]
    _check_unique(names, path)
    frame = pd.DataFrame(
        {name: body[:, j] for j, name in enumerate(names)},
        index=pd.Index(np.arange(2, n_rows + 2, dtype=np.int64), name="row"),
    )
    del tokens
    frame.attrs["kypho_sheet"] = chosen
    if formulas:
        frame.attrs["kypho_unread"] = True
    return frame


def _header_text(value: object, position: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        # Here, not at the top: openpyxl costs a CSV reader's start-up a third of a second.
        from openpyxl.utils import get_column_letter

        return f"column {get_column_letter(int(position) + 1)}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_sav(path: Path, schema: Schema, sheet: str | None) -> pd.DataFrame:
    import pyreadstat  # here: its import (~0.15 s) is for SPSS files only

    try:
        frame, meta = pyreadstat.read_sav(
            str(path),
            apply_value_formats=True,
            formats_as_category=False,
            dates_as_pandas_datetime=True,
            user_missing=False,
        )
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise InputFileError(
            f"cannot read {str(path)!r}: not a readable SPSS .sav file ({exc})"
        ) from exc
    frame.index = pd.Index(np.arange(1, len(frame) + 1, dtype=np.int64), name="case")
    return _name_by_label(frame, meta.column_names_to_labels, schema)


def _name_by_label(
    frame: pd.DataFrame, labels: Mapping[str, str | None], schema: Schema
) -> pd.DataFrame:
    """Rename SPSS variables whose *variable label* names a schema variable.

    SPSS files often carry short names (``q3``) and the meaning in the label
    (``Age``). A column is renamed only when its own name means nothing to the
    schema and no other column already stands for that variable; otherwise it
    keeps its name and validation reports it as unknown.
    """
    names = [str(c) for c in frame.columns]
    taken = set(_resolve(names, schema).values())
    renames: dict[str, str] = {}
    for name in names:
        if name in _resolve([name], schema):
            continue
        label = labels.get(name)
        target = _resolve([label], schema).get(label) if label else None
        if target is not None and target not in taken:
            renames[name] = target
            taken.add(target)
    return frame.rename(columns=renames)


def _check_unique(header: list[str], path: Path) -> None:
    seen: set[str] = set()
    dup: list[str] = []
    for name in header:
        if name in seen and name not in dup:
            dup.append(name)
        seen.add(name)
    if dup:
        raise InputFileError(
            f"cannot read {str(path)!r}: column name(s) {', '.join(repr(d) for d in dup)} "
            "appear more than once; rename or remove the copies"
        )


def _resolve(columns: list[str] | pd.Index, schema: Schema) -> dict[str, str]:
    """``{column: schema name}`` for columns named by a schema name or label."""
    names = [str(c) for c in columns]
    try:
        return resolve_columns(names, schema)
    except ColumnError:
        # two columns meaning one variable: validation reports it; here only
        # exact names are trusted
        return {c: c for c in names if c in schema}


def _tidy(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Blank missing tokens; number and date columns typed where every cell is one, exactly."""
    tokens = schema.missing_tokens
    mapping = _resolve(frame.columns, schema)
    columns: dict[str, Any] = {}
    for position, column in enumerate(frame.columns):
        values = frame.iloc[:, position]
        var = schema[mapping[str(column)]] if str(column) in mapping else None
        if _is_text(values):
            # in a list column the none token records an observed empty list
            keep = (
                {schema.none_token.casefold()} if var is not None and var.type == "list" else set()
            )
            values = _blank_missing(values, tokens - keep)
        if var is not None and var.type in ("number", "integer"):
            values = _as_float(values)
        elif var is not None and var.type == "date":
            values = _as_dates(values)
        columns[str(column)] = values.to_numpy() if values.dtype == object else values.array
    out = pd.DataFrame(columns, index=frame.index, copy=False)
    out.attrs.update(frame.attrs)
    return out


def _is_text(values: pd.Series) -> bool:
    return values.dtype == object or isinstance(values.dtype, pd.StringDtype)


# Text that starts and ends with an ASCII letter or digit: strip() leaves it
# whole, and case folding never shortens a string (each character folds to one
# or more), so such a cell can equal a missing token only if it is no longer
# than the longest token. A byte of UTF-8 is an ASCII letter or digit only as
# that character itself, so the first and last bytes tell.
_ALNUM_BYTE = np.isin(np.arange(256), [ord(c) for c in string.ascii_letters + string.digits])


def _blank_missing(values: pd.Series, tokens: set[str]) -> pd.Series:
    """Cells whose stripped, case-folded text is a missing token become NaN."""
    if isinstance(values.dtype, pd.StringDtype) and tokens:
        return _blank_missing_text(values, tokens)
    codes, uniques = pd.factorize(values)
    if len(uniques) == 0:
        return values
    # NaN and None never reach ``uniques``, so only typed text can match a token
    text = np.asarray(uniques, dtype=object)
    folded = [u.strip().casefold() if isinstance(u, str) else None for u in text]
    token_codes = np.flatnonzero(np.array([f in tokens for f in folded], dtype=bool))
    if token_codes.size == 0:
        return values
    return values.where(~np.isin(codes, token_codes))


def _blank_missing_text(values: pd.Series, tokens: set[str]) -> pd.Series:
    """:func:`_blank_missing` for a text column, in Arrow: only the cells that could
    be a token (short, or with anything but a letter or digit at an end) are
    stripped and case-folded in Python, so ids and names are not; an empty cell
    is blank exactly when the empty text is a token."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values.array, type=pa.large_string())
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    n = len(text)
    buffers = text.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[text.offset : text.offset + n + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else None
    valid = text.is_valid().to_numpy(zero_copy_only=False)
    empty = valid & (offsets[1:] == offsets[:-1])
    filled = np.flatnonzero(valid & ~empty)
    plain = np.zeros(n, dtype=bool)
    if data is not None and filled.size:
        plain[filled] = (
            _ALNUM_BYTE[data[offsets[filled]]] & _ALNUM_BYTE[data[offsets[filled + 1] - 1]]
        )
    longest = max(len(t) for t in tokens)
    short = pc.less_equal(pc.utf8_length(text), longest).fill_null(False)
    maybe = valid & ~empty & (short.to_numpy(zero_copy_only=False) | ~plain)
    blank = empty if "" in tokens else np.zeros(n, dtype=bool)
    rows = np.flatnonzero(maybe)
    if rows.size:
        codes, uniques = pd.factorize(pc.take(text, pa.array(rows)).to_numpy(zero_copy_only=False))
        hits = np.array([str(u).strip().casefold() in tokens for u in uniques], dtype=bool)
        blank[rows[hits[codes]]] = True
    if not blank.any():
        return values
    return values.where(~blank)


def _as_float(values: pd.Series) -> pd.Series:
    """Numbers as ``float64`` when every present cell is a finite number as written."""
    if values.dtype == np.float64:
        return values
    numbers, bad = parse_numbers(values)
    if bad.any():
        return values
    return pd.Series(numbers, index=values.index)


def _as_dates(values: pd.Series) -> pd.Series:
    """Dates as ``datetime64[ns]`` when every present cell is a date as written."""
    if values.dtype == "datetime64[ns]":
        return values
    present = values.notna()
    if not bool(present.any()):
        return values
    dates, bad = parse_dates(values)
    if bad.any():
        return values
    return pd.Series(dates, index=values.index)


# --------------------------------------------------------------------------- writing


def _column_vars(df: pd.DataFrame, schema: Schema) -> list[Variable | None]:
    mapping = _resolve(df.columns, schema)
    return [schema[mapping[str(c)]] if str(c) in mapping else None for c in df.columns]


def _plain(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Columns as plain Python-object cells for CSV/Excel; lists with the none token."""
    out = df.reset_index(drop=True).copy()
    for position, var in enumerate(_column_vars(df, schema)):
        values = out.iloc[:, position]
        if var is not None and var.type == "list":
            values = _list_text(values, schema)
        if not (
            pd.api.types.is_float_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)
        ):
            as_object = values.astype(object)
            values = as_object.where(values.notna().to_numpy(), None)
        out.isetitem(position, values.array)
    return out


def _list_text(values: pd.Series, schema: Schema) -> pd.Series:
    text = values.astype(object)
    empty = (values.astype("string") == "").fillna(False).to_numpy(dtype=bool)
    return text.where(~empty, schema.none_token)


def _write_csv(df: pd.DataFrame, path: Path, schema: Schema) -> None:
    write_csv(_plain(df, schema), path)


def _write_xlsx(df: pd.DataFrame, path: Path, schema: Schema) -> None:
    if len(df) >= _EXCEL_MAX_ROWS:
        raise InputFileError(
            f"cannot write {str(path)!r}: {len(df)} rows do not fit an Excel sheet "
            f"(at most {_EXCEL_MAX_ROWS - 1} below the header); write .csv or .sav"
        )
    plain = _plain(df, schema)
    known = {v.name for v in _column_vars(df, schema) if v is not None}
    dictionary = data_dictionary(schema)
    dictionary = dictionary[dictionary["name"].isin(known)]
    with pd.ExcelWriter(
        path, engine="openpyxl", date_format="YYYY-MM-DD", datetime_format="YYYY-MM-DD"
    ) as writer:
        plain.to_excel(writer, sheet_name=DATA_SHEET, index=False)
        _keep_text(plain, writer.sheets[DATA_SHEET])
        dictionary.to_excel(writer, sheet_name="Dictionary", index=False)
        neutralise_workbook(writer.book)


def _keep_text(plain: pd.DataFrame, sheet: Any) -> None:
    """Store text that starts with '=' as text: openpyxl would write it as a formula.

    A formula has no value until Excel computes it, so a note such as "=2 levels"
    would read back empty (or run, if it were a real formula).
    """
    for position in range(plain.shape[1]):
        values = plain.iloc[:, position]
        if not _is_text(values):
            continue
        formula_like = values.astype("string").str.startswith("=").fillna(False)
        for row in np.flatnonzero(formula_like.to_numpy(dtype=bool)):
            sheet.cell(row=int(row) + 2, column=position + 1).data_type = "s"


def spss_codes(var: Variable) -> dict[str, int]:
    """The SPSS numeric code of each level: the code itself if all are whole numbers, else 1..k."""
    if all(code.lstrip("-").isdigit() for code in var.codes):
        numbers = {code: int(code) for code in var.codes}
        # "07" and "7" would share a number: fall back to positions
        if len(set(numbers.values())) == len(numbers):
            return numbers
    return {code: i for i, code in enumerate(var.codes, start=1)}


def _write_sav(df: pd.DataFrame, path: Path, schema: Schema) -> None:
    columns: dict[str, pd.Series] = {}
    labels: dict[str, str | None] = {}
    value_labels: dict[str, dict[int | float, str]] = {}
    measure: dict[str, str] = {}
    formats: dict[str, str] = {}
    frame = df.reset_index(drop=True)
    for position, var in enumerate(_column_vars(frame, schema)):
        name = _spss_name(frame.columns[position], path)
        values = frame.iloc[:, position]
        labels[name] = None
        if var is None:
            columns[name], measure[name] = _sav_other(values)
            continue
        labels[name] = var.display_label
        if var.type in ("category", "ordinal"):
            codes = spss_codes(var)
            columns[name] = _encode_levels(values, var, codes)
            value_labels[name] = {number: var.levels[code] for code, number in codes.items()}
            measure[name] = "ordinal" if var.type == "ordinal" else "nominal"
            formats[name] = "F8.0"
        elif var.type == "boolean":
            columns[name] = _encode_boolean(values, var)
            value_labels[name] = dict(_BOOLEAN_LABELS)
            measure[name] = "nominal"
            formats[name] = "F1.0"
        elif var.type in ("number", "integer"):
            numbers = pd.to_numeric(values, errors="coerce").astype("float64")
            _refuse(values, numbers, var)
            columns[name] = numbers
            measure[name] = "scale"
            if var.type == "integer":
                formats[name] = "F8.0"
        elif var.type == "date":
            dates = pd.to_datetime(values, errors="coerce").astype("datetime64[ns]")
            _refuse(values, dates, var)
            columns[name] = dates
            measure[name] = "scale"
            formats[name] = "DATE11"
        else:
            text = _list_text(values, schema) if var.type == "list" else values
            columns[name] = _sav_text(text)
            measure[name] = "nominal"
    out = pd.DataFrame(columns)
    import pyreadstat

    try:
        pyreadstat.write_sav(
            out,
            str(path),
            column_labels=labels,
            variable_value_labels=value_labels,
            variable_measure=measure,
            variable_format=formats,
        )
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise InputFileError(f"cannot write {str(path)!r}: {exc}") from exc


def _spss_name(column: Hashable, path: Path) -> str:
    name = str(column)
    ok = (
        name[:1].isalpha()
        and all(ch.isalnum() or ch in "_.@#$" for ch in name)
        and not name.endswith(".")
        and len(name.encode("utf-8")) <= 64
        and name.upper() not in _SPSS_RESERVED
    )
    if not ok:
        raise InputFileError(
            f"cannot write {str(path)!r}: column {name!r} is not a valid SPSS variable name "
            "(a letter first, then letters, digits or _.@#$, at most 64 bytes, not a reserved word)"
        )
    return name


def _encode_levels(values: pd.Series, var: Variable, codes: Mapping[str, int]) -> pd.Series:
    lookup: dict[Any, float] = {label: float(codes[c]) for c, label in var.levels.items()}
    lookup.update({c: float(n) for c, n in codes.items()})
    text = values.astype(object)
    numbers = text.map(lookup)
    _refuse(values, numbers, var)
    return numbers.astype("float64")


def _encode_boolean(values: pd.Series, var: Variable) -> pd.Series:
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("Float64").astype("float64")
    else:
        lookup: dict[Any, float] = {True: 1.0, False: 0.0}
        numbers = values.astype(object).map(lookup).astype("float64")
    numbers = numbers.where(numbers.isin([0.0, 1.0]))
    _refuse(values, numbers, var)
    return numbers


def _refuse(values: pd.Series, encoded: pd.Series, var: Variable) -> None:
    bad = values.notna().to_numpy(dtype=bool) & encoded.isna().to_numpy(dtype=bool)
    if bad.any():
        first = values.to_numpy()[np.flatnonzero(bad)[0]]
        raise DataError(
            f"cannot write {var.name!r} to SPSS: {int(bad.sum())} value(s) are not "
            f"{var.allowed()}, e.g. {first!r}; write validated data (kypho.validate)"
        )


def _sav_text(values: pd.Series) -> pd.Series:
    text = values.astype(object)
    return text.where(values.notna().to_numpy(), "").astype(str)


def _sav_other(values: pd.Series) -> tuple[pd.Series, str]:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values, "scale"
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.astype("Float64").astype("float64"), "scale"
    return _sav_text(values), "nominal"
