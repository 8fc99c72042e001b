"""Column typing: each schema type's pandas dtype, and strict reading of numbers and dates.

One place answers "what dtype does a column of this schema type have?" for
validation, the study store and the synthetic generator (:func:`pandas_dtype`,
:func:`typed_column`), and "is this cell a number / a date, exactly as written?"
for validation and the file readers (:func:`parse_numbers`, :func:`parse_dates`).

Strict means nothing is guessed or widened: ``inf``, ``nan``, ``1e400`` and a
400-digit number are not numbers a clinician typed (they are reported); a TRUE
cell is not the number 1; ``2020`` and ``2020-03`` are not dates (pandas would
read them as 1 January and 1 March); a time zone (``...Z``) and a year outside
what pandas holds (1677-2262) are reported, not converted. Work is done on the
distinct values of a column, so a million rows cost a million hash lookups.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from kypho.schema.model import Variable

__all__ = [
    "DATE_PATTERN",
    "NUMBER_PATTERN",
    "pandas_dtype",
    "parse_dates",
    "parse_numbers",
    "token_candidates",
    "typed_column",
]

#: A number as a person writes it: optional sign, digits with one decimal point, optional exponent.
NUMBER_PATTERN = r"^\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$"
#: ISO 8601 calendar date, optionally with a time of day; no time zone.
DATE_PATTERN = (
    r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)?\s*$"
)
_NUMBER = re.compile(NUMBER_PATTERN)
_NUMBER_COMMA = re.compile(NUMBER_PATTERN.replace(r"\.", ","))
_DATE = re.compile(DATE_PATTERN)
#: A date written exactly ``YYYY-MM-DD`` (ASCII digits), the common case, read without Python per value.
_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_LO = pd.Timestamp.min.ceil("D")
_HI = pd.Timestamp.max.floor("D")


def pandas_dtype(var: Variable) -> Any:
    """The dtype of a typed column of ``var`` (as :func:`kypho.validation.validate` returns it).

    Examples
    --------
    >>> from kypho.schema import load_schema
    >>> schema = load_schema()
    >>> pandas_dtype(schema["age"]), pandas_dtype(schema["vas_pre"])
    ('Int64', 'float64')
    """
    if var.type == "number":
        return "float64"
    if var.type == "integer":
        return "Int64"
    if var.type == "boolean":
        return "boolean"
    if var.type == "date":
        return "datetime64[ns]"
    if var.type in ("category", "ordinal"):
        return pd.CategoricalDtype(list(var.codes), ordered=var.type == "ordinal")
    return "string"


def typed_column(var: Variable, values: Any, n: int | None = None) -> pd.Series:
    """Values already valid for ``var`` as a column of its dtype.

    Parameters
    ----------
    var
        The schema variable.
    values
        A sequence, array or Series of valid values (level codes for categories,
        or whole-number positions into ``var.codes`` as an integer array, ``-1``
        for missing); ``None`` for a column with every value missing.
    n
        The length, needed only when ``values`` is ``None``.
    """
    dtype = pandas_dtype(var)
    if values is None:
        length = 0 if n is None else n
        return pd.Series(pd.array([None] * length, dtype=dtype))
    if isinstance(dtype, pd.CategoricalDtype):
        array = np.asarray(values) if not isinstance(values, pd.Series) else None
        if array is not None and array.dtype.kind in "iu":
            return pd.Series(pd.Categorical.from_codes(array, dtype=dtype))
        return pd.Series(pd.Categorical(values, dtype=dtype))
    if dtype == "datetime64[ns]":
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        if not pd.api.types.is_datetime64_any_dtype(series):
            series = pd.Series(pd.to_datetime(series.astype(object)))
        return series.astype("datetime64[ns]").reset_index(drop=True)
    out: pd.Series = pd.Series(values, dtype=dtype).reset_index(drop=True)
    return out


def _distinct(values: pd.Series) -> tuple[np.ndarray, list[Any], np.ndarray]:
    """(codes per row, -1 where missing; the distinct values; the cells holding a boolean).

    Booleans are set apart first: ``True == 1`` in Python, so hashing would merge
    a TRUE cell with a 1 cell and read both the same way.
    """
    cells = values.to_numpy(dtype=object)
    bools = np.fromiter(
        (isinstance(v, bool | np.bool_) for v in cells), dtype=bool, count=len(cells)
    )
    if bools.any():
        cells = cells.copy()
        cells[bools] = None
    codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    return codes, list(np.asarray(uniques, dtype=object)), bools


def _number(value: Any, pattern: re.Pattern[str]) -> float | None:
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, str):
        if not pattern.match(value):
            return None
        number = float(value.replace(",", "."))
    elif isinstance(value, int | float | np.integer | np.floating):
        try:
            number = float(value)
        except OverflowError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def parse_numbers(
    values: pd.Series, *, decimal_comma: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Read a column as numbers, strictly.

    Parameters
    ----------
    values
        Cells as read (text, numbers, or anything else); missing cells are NaN/None.
    decimal_comma
        Text uses ``,`` as the decimal mark (``1,5``), as in ``;``-separated files.

    Returns
    -------
    (numbers, bad)
        ``float64`` values (NaN where missing or bad) and the mask of present
        cells that are not finite numbers as written (text that is not a
        plain decimal number, ``inf``, ``1e400``, booleans, dates).

    Examples
    --------
    >>> numbers, bad = parse_numbers(pd.Series(["1.5", " 7 ", "inf", "1e400", True, None]))
    >>> numbers.tolist()[:2], bad.tolist()
    ([1.5, 7.0], [False, False, True, True, True, False])
    """
    if pd.api.types.is_bool_dtype(values):
        present = values.notna().to_numpy(dtype=bool)
        return np.full(len(values), np.nan), present
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        present = values.notna().to_numpy(dtype=bool)
        bad = present & ~np.isfinite(numbers)
        return np.where(bad, np.nan, numbers), bad
    pattern = _NUMBER_COMMA if decimal_comma else _NUMBER
    codes, uniques, bools = _distinct(values)
    parsed = [_number(u, pattern) for u in uniques]
    table = np.array([np.nan if v is None else v for v in parsed] + [np.nan], dtype=np.float64)
    wrong = np.array([v is None for v in parsed] + [False], dtype=bool)
    return table[codes], wrong[codes] | bools


def _date(value: Any) -> pd.Timestamp | None:
    text: Any
    if isinstance(value, str):
        if not _DATE.match(value):
            return None
        text = value.strip()
    elif isinstance(value, dt.datetime | dt.date | np.datetime64):
        if getattr(value, "tzinfo", None) is not None:
            return None
        text = value
    else:
        return None
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, OverflowError):
        # not a calendar date (2021-02-29), or outside the years pandas holds
        return None
    if pd.isna(stamp) or stamp.tzinfo is not None or not _LO <= stamp <= _HI:
        return None
    return stamp


def parse_dates(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Read a column as dates, strictly (ISO 8601 ``YYYY-MM-DD``, optional time, no zone).

    Returns
    -------
    (dates, bad)
        ``datetime64[ns]`` values (NaT where missing or bad) and the mask of
        present cells that are not such dates: partial dates (``2020``,
        ``2020-03``), other layouts (``01/03/2020``), impossible days, a time
        zone, years outside 1677-2262, numbers.

    Examples
    --------
    >>> dates, bad = parse_dates(pd.Series(["2020-03-01", "2020", "2020-03-01T10:00Z", "1500-01-01"]))
    >>> str(dates[0])[:10], bad.tolist()
    ('2020-03-01', [False, True, True, True])
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            present = values.notna().to_numpy(dtype=bool)
            return np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]"), present
        return values.to_numpy(dtype="datetime64[ns]"), np.zeros(len(values), dtype=bool)
    codes, uniques, bools = _distinct(values)
    table, wrong = _date_table(uniques)
    return table[codes], wrong[codes] | bools


def _date_table(uniques: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """The date of each distinct value (NaT when none) and whether it is bad; one more entry, NaT.

    Values written exactly ``YYYY-MM-DD`` are read by arithmetic on their digits
    (proleptic Gregorian calendar, as pandas): the same dates :func:`_date` gives
    them, without a Timestamp each. Every other value goes through :func:`_date`.
    """
    table = np.full(len(uniques) + 1, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    wrong = np.zeros(len(uniques) + 1, dtype=bool)
    plain = [
        i
        for i, u in enumerate(uniques)
        if type(u) is str and len(u) == 10 and _PLAIN_DATE.fullmatch(u)
    ]
    if plain:
        text = "".join(uniques[i] for i in plain).encode("ascii")
        digits = np.frombuffer(text, dtype=np.uint8).reshape(-1, 10).astype(np.int64) - ord("0")
        year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
        month = digits[:, 5] * 10 + digits[:, 6]
        day = digits[:, 8] * 10 + digits[:, 9]
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        real_month = (month >= 1) & (month <= 12)
        month_index = np.clip(month - 1, 0, 11)
        days_in_month = _MONTH_DAYS[month_index] + (leap & (month == 2))
        ok = real_month & (day >= 1) & (day <= days_in_month)
        first = (year - 1970).astype("datetime64[Y]").astype("datetime64[M]") + month_index
        dates = first.astype("datetime64[D]") + np.clip(day - 1, 0, 30)
        lowest, highest = (np.datetime64(b.date(), "D") for b in (_LO, _HI))
        ok &= (dates >= lowest) & (dates <= highest)
        where = np.array(plain, dtype=np.int64)
        table[where[ok]] = dates[ok].astype("datetime64[ns]")
        wrong[where] = ~ok
    rest = np.ones(len(uniques), dtype=bool)
    rest[plain] = False
    for i in np.flatnonzero(rest):
        stamp = _date(uniques[i])
        if stamp is None:
            wrong[i] = True
        else:
            table[i] = stamp.as_unit("ns").to_datetime64()
    return table, wrong


def token_candidates(texts: Any, longest: int) -> np.ndarray:
    """Which cells of an arrow string column could be a missing token, as a numpy mask.

    A token is at most ``longest`` characters once the cell is trimmed, and
    lower-casing or case folding never makes a text shorter. Trimming can
    shorten only a text that starts or ends with something other than a visible
    ASCII character. So a cell that is longer than ``longest`` already and
    starts and ends with a visible ASCII character is no token, and only the
    others (short ones, ones with a space, a tab or any non-ASCII character at
    an end) need trimming and a look-up. Each cell's first and last byte are
    read from arrow's buffers, without copying a text; a missing cell is no
    candidate.
    """
    import pyarrow as pa

    chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    parts = [_chunk_candidates(chunk, longest) for chunk in chunks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _chunk_candidates(chunk: Any, longest: int) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(chunk)
    maybe = np.asarray(
        pc.fill_null(pc.less_equal(pc.utf8_length(chunk), longest), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    if n == 0:
        return maybe
    buffers = chunk.buffers()
    wide = pa.types.is_large_string(chunk.type)
    offsets: np.ndarray = np.frombuffer(
        buffers[1], dtype=np.int64 if wide else np.int32, count=chunk.offset + n + 1
    )[chunk.offset :].astype(np.int64, copy=False)
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None
        else np.zeros(0, dtype=np.uint8)
    )
    starts, ends = offsets[:-1], offsets[1:]
    longer = np.flatnonzero(~maybe & (ends > starts))
    first, last = data[starts[longer]], data[ends[longer] - 1]
    visible = (first > 0x20) & (first < 0x7F) & (last > 0x20) & (last < 0x7F)
    maybe[longer[~visible]] = True
    if chunk.null_count:
        maybe &= np.asarray(pc.is_valid(chunk).to_numpy(zero_copy_only=False), dtype=bool)
    return maybe
