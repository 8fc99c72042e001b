"""Reading a CSV file exactly: every field as the text it holds, every line accounted for.

The fields are parsed by pyarrow's CSV reader (multi-threaded C++), all as text,
so nothing is converted on the way in. A first pass over the bytes (numpy, in
blocks) finds where each record starts and how many fields it has, outside
quotes, so that:

* each record is named by the line it starts on, as an editor shows it (blank
  lines and line breaks inside quoted fields counted);
* a record with fewer or more fields than the header (a line cut short, a stray
  separator) is not padded or dropped: it comes back with its fields as written
  and an :class:`~kypho.validation.UnreadCell` saying what is wrong, and
  validation rejects it.

Time and memory are linear in the file: no step looks at a pair of columns or a
pair of rows.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kypho.errors import InputFileError
from kypho.schema.dtypes import NUMBER_PATTERN, parse_dates
from kypho.validation import UnreadCell

__all__ = ["MAX_COLUMNS", "read_csv_text"]

#: Most columns read from a CSV file (the built-in schema has about 90).
MAX_COLUMNS = 5_000
_BLOCK = 1 << 24
_NL, _CR, _QUOTE = 10, 13, 34


def read_csv_text(
    path: Path,
    header: list[str],
    sep: str,
    kinds: dict[str, str],
    tokens: set[str],
    *,
    none_token: str = "none",
) -> pd.DataFrame:
    """All records of ``path``, indexed by the line each starts on (``line``).

    ``header`` are the column names (already split from the first line);
    ``kinds`` maps a column to ``"number"``, ``"date"`` or ``"text"`` where the
    schema says so; ``tokens`` are the case-folded missing-value tokens (a
    cell holding one is missing, except ``none_token`` in a ``"list"`` column,
    where it records an observed empty list). Such a column comes
    back as ``float64`` / ``datetime64[ns]`` when every cell is a number / date
    exactly as written (see :mod:`kypho.schema.dtypes`) or a missing token;
    otherwise, like every other column, as the text of its cells. A cell of a
    record with the wrong number of fields that has no field of its own holds
    an :class:`UnreadCell`.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if len(header) > MAX_COLUMNS:
        raise InputFileError(
            f"cannot read {str(path)!r}: the header has {len(header):,} columns; kypho reads "
            f"at most {MAX_COLUMNS:,} (a study's schema has far fewer)"
        )
    starts, ends, fields, lines = _records(path, ord(sep))
    width = len(header)
    wrong = fields != width
    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, encoding="utf8", block_size=_BLOCK
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=sep,
                newlines_in_values=True,
                ignore_empty_lines=True,
                invalid_row_handler=lambda row: "skip",
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise InputFileError(f"cannot read {str(path)!r}: not a readable CSV file ({exc})") from exc
    n = len(lines)
    if table.num_rows != n - int(wrong.sum()):
        raise InputFileError(
            f"cannot read {str(path)!r}: the file's records could not be told apart "
            f"({table.num_rows} read, {n} lines with fields); check its quotes"
        )
    good = np.flatnonzero(~wrong)
    columns: dict[str, Any] = {}
    arrow_columns = table.columns
    del table  # each column's text is freed once converted
    for position, name in enumerate(header):
        chunked = arrow_columns[position]
        arrow_columns[position] = None
        kind = kinds.get(name)
        own = tokens - {none_token.casefold()} if kind == "list" else tokens
        if wrong.any() and kind in ("number", "date"):
            # the wrong-width records go in as text, so the column must hold text
            kind = "text"
        values = _typed(chunked, kind, own, decimal_comma=sep == ";")
        del chunked
        if wrong.any():
            full = np.empty(n, dtype=object)
            full[good] = values
            values = full
        columns[name] = values
    if wrong.any():
        _fill_wrong(columns, lines, path, header, np.flatnonzero(wrong), starts, ends, fields, sep)
    frame = pd.DataFrame(columns, index=pd.Index(lines, name="line"), copy=False)
    frame.attrs["kypho_tidied"] = True
    if wrong.any():
        frame.attrs["kypho_unread"] = True
    return frame


def _text(chunked: Any) -> np.ndarray:
    text: np.ndarray = chunked.to_pandas(deduplicate_objects=True).to_numpy(dtype=object)
    return text


def _typed(chunked: Any, kind: str | None, tokens: set[str], *, decimal_comma: bool) -> np.ndarray:
    """A column of strings as numbers or dates when every cell is one (or missing), else text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(chunked) == 0:
        return _text(chunked)
    trimmed = pc.utf8_trim_whitespace(chunked)
    missing = pc.is_in(pc.utf8_lower(trimmed), value_set=pa.array(sorted(tokens), pa.string()))

    def as_text() -> np.ndarray:
        # missing tokens become missing here, as kypho.io's tidying does for other formats
        if pc.any(missing).as_py():
            return _text(pc.if_else(missing, pa.scalar(None, pa.string()), chunked))
        return _text(chunked)

    if kind not in ("number", "date"):
        return as_text()
    if kind == "number":
        pattern = NUMBER_PATTERN.replace(r"\.", ",") if decimal_comma else NUMBER_PATTERN
        ok = pc.or_(missing, pc.match_substring_regex(trimmed, pattern))
        if not pc.all(ok).as_py():
            return as_text()
        if decimal_comma:
            trimmed = pc.replace_substring(trimmed, ",", ".")
        try:
            numbers = pc.cast(
                pc.if_else(missing, pa.scalar(None, pa.string()), trimmed), pa.float64()
            )
        except pa.ArrowInvalid:
            return as_text()
        array: np.ndarray = numbers.to_numpy(zero_copy_only=False)
        present = ~np.asarray(missing.to_numpy(zero_copy_only=False), dtype=bool)
        if not np.isfinite(array[present]).all():
            return as_text()
        return array
    encoded = pc.dictionary_encode(pc.if_else(missing, pa.scalar(None, pa.string()), trimmed))
    combined = encoded.combine_chunks() if encoded.num_chunks != 1 else encoded.chunk(0)
    uniques = pd.Series(combined.dictionary.to_pylist(), dtype=object)
    dates, bad = parse_dates(uniques)
    if bad.any():
        return as_text()
    indices = combined.indices.to_numpy(zero_copy_only=False)
    nulls = np.asarray(combined.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    out = np.full(len(indices), np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    valid = ~nulls
    out[valid] = dates[indices[valid].astype(np.int64)]
    return out


def _records(path: Path, sep: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Byte start, byte end, field count and first line of each non-blank record after the header.

    A record ends at a line break outside quotes; its fields are one more than
    the separators outside quotes. RFC 4180 quoting (``""`` inside a quoted
    field) keeps the count of quotes even, so "outside quotes" is "after an even
    number of quotes".
    """
    size = path.stat().st_size
    ends_list: list[np.ndarray] = []
    seps_list: list[np.ndarray] = []
    quotes_before = 0
    offset = 0
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            data = np.frombuffer(block, dtype=np.uint8)
            quotes = np.flatnonzero(data == _QUOTE)
            newlines = np.flatnonzero(data == _NL)
            separators = np.flatnonzero(data == sep)
            if quotes.size:
                inside_nl = (quotes_before + np.searchsorted(quotes, newlines)) % 2 == 1
                newlines = newlines[~inside_nl]
                inside_sep = (quotes_before + np.searchsorted(quotes, separators)) % 2 == 1
                separators = separators[~inside_sep]
            ends_list.append(newlines + offset)
            seps_list.append(separators + offset)
            quotes_before += quotes.size
            offset += len(block)
    record_ends = np.concatenate([*ends_list, np.array([size], dtype=np.int64)])
    seps = np.concatenate(seps_list) if seps_list else np.array([], dtype=np.int64)
    record_starts = np.concatenate([[0], record_ends[:-1] + 1])
    # the first line of each record: line breaks inside quotes count as lines too
    if quotes_before:
        lines = _count_breaks_before(path, record_starts) + 1
    else:
        lines = np.arange(1, len(record_starts) + 1, dtype=np.int64)
    # drop the header and blank records (nothing but an optional \r)
    length = record_ends - record_starts
    blank = length == 0
    one = np.flatnonzero(length == 1)
    if one.size:
        blank[one] = _byte_is(path, record_starts[one], _CR)
    per_record = np.diff(np.searchsorted(seps, np.concatenate([record_starts, [size + 1]])))
    fields = per_record + 1
    keep = ~blank
    keep[0] = False
    return record_starts[keep], record_ends[keep], fields[keep], lines[keep]


def _count_breaks_before(path: Path, positions: np.ndarray) -> np.ndarray:
    """How many ``\\n`` bytes come before each position (positions sorted)."""
    counts = np.zeros(len(positions), dtype=np.int64)
    seen = 0
    offset = 0
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            data = np.frombuffer(block, dtype=np.uint8)
            newlines = np.flatnonzero(data == _NL) + offset
            lo = np.searchsorted(positions, offset)
            hi = np.searchsorted(positions, offset + len(block))
            counts[lo:hi] = seen + np.searchsorted(newlines, positions[lo:hi])
            seen += newlines.size
            offset += len(block)
    counts[np.searchsorted(positions, offset) :] = seen
    return counts


def _byte_is(path: Path, positions: np.ndarray, value: int) -> np.ndarray:
    """Whether the byte at each position equals ``value`` (False past the end)."""
    out = np.zeros(len(positions), dtype=bool)
    with path.open("rb") as handle:
        for i in range(len(positions)):
            handle.seek(int(positions[i]))
            out[i] = handle.read(1) == bytes([value])
    return out


def _fill_wrong(
    columns: dict[str, Any],
    lines: np.ndarray,
    path: Path,
    header: list[str],
    wrong: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    fields: np.ndarray,
    sep: str,
) -> None:
    """Put each wrong-width record into ``columns`` as written, with an UnreadCell."""
    width = len(header)
    cols = [columns[name] for name in header]
    with path.open("rb") as handle:
        for i in wrong:
            handle.seek(int(starts[i]))
            raw = handle.read(int(ends[i] - starts[i])).decode("utf-8").rstrip("\r")
            values = next(csv.reader(io.StringIO(raw, newline=""), delimiter=sep), [])
            line = int(lines[i])
            count = int(fields[i])
            for j in range(min(width, len(values))):
                cols[j][i] = values[j]
            if count < width:
                reason = (
                    f"line {line} has {count} of the header's {width} fields "
                    "(cut short?); fix the line in the file"
                )
                for j in range(len(values), width):
                    cols[j][i] = UnreadCell("", reason, structural=True)
            else:
                extra = values[width - 1 :]
                reason = (
                    f"line {line} has {count} fields, the header {width} "
                    f"(the last column holds {sep.join(extra)!r}); fix the line in the file"
                )
                cols[width - 1][i] = UnreadCell(sep.join(extra), reason, structural=True)
