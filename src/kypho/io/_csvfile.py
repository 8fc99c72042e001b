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

A file with no quote character and no carriage return (what kypho, pandas and
most exports write for plain data) takes a shorter path, :func:`_read_plain`:
every line is a record, so no byte pass is needed (the scan for quotes maps the
file rather than copying it), arrow reads the number columns straight into
``float64``, and level, list and date columns as dictionaries, so that the token
check and the date parse see each distinct text once. Any doubt there (a line of the wrong width,
a record starting with an empty field, which is what arrow makes of a blank
line, a number column arrow refuses) sends the file to the exact path above;
both give the same table (``tests/unit/io/test_io_csv_paths.py``).

Time and memory are linear in the file: no step looks at a pair of columns or a
pair of rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kypho.errors import InputFileError
from kypho.io._early import ARROW_BLOCK, PlainArguments, claim, plain_arguments
from kypho.io._early import float_values as _floats
from kypho.io._early import plain_file as _plain
from kypho.schema.dtypes import parse_dates, parse_numbers, token_candidates
from kypho.validation import UnreadCell

__all__ = ["MAX_COLUMNS", "read_csv_text"]

#: Most columns read from a CSV file (the built-in schema has about 90).
MAX_COLUMNS = 5_000
_BLOCK = 1 << 24
_ARROW_BLOCK = ARROW_BLOCK
_NL, _CR, _QUOTE = 10, 13, 34
_FAILED_COLUMN = re.compile(r"In CSV column #(\d+):")
#: The dtype pandas gives a column of Python strings (arrow-backed ``str``).
_STR = pd.DataFrame({"text": np.array(["x"], dtype=object)})["text"].dtype


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
    ``kinds`` maps a column to ``"number"``, ``"date"``, ``"level"`` (a
    category, ordinal or boolean) or ``"list"`` where the schema says so;
    ``tokens`` are the case-folded missing-value tokens (a cell holding one is
    missing, except ``none_token`` in a ``"list"`` column, where it records an
    observed empty list). A number or date column comes back as ``float64`` /
    ``datetime64[ns]`` when every cell is a number / date exactly as written
    (see :mod:`kypho.schema.dtypes`) or a missing token; otherwise, like every
    other column, as the text of its cells (levels and lists are only read
    differently on the way, as arrow dictionaries). A cell of a
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
    width = len(header)
    if width > 1 and _plain(path):
        fast = _read_plain(path, header, sep, kinds, tokens, none_token)
        if fast is not None:
            return fast
    starts, ends, fields, lines, quoted = _records(path, ord(sep))
    wrong = fields != width
    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, encoding="utf8", block_size=_ARROW_BLOCK
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=sep,
                # without a quote character no field can hold a line break
                newlines_in_values=quoted,
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
    for name, kind, own, chunked in _handed_out(arrow_columns, header, kinds, tokens, none_token):
        if wrong.any() and kind in ("number", "date"):
            # the wrong-width records go in as text, so the column must hold text
            kind = "text"
        values = _typed(chunked, kind, own, decimal_comma=sep == ";", as_object=bool(wrong.any()))
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


def _handed_out(
    arrow_columns: list[Any],
    header: list[str],
    kinds: dict[str, str],
    tokens: set[str],
    none_token: str,
) -> Iterator[tuple[str, str | None, set[str], Any]]:
    """Each column's name, kind, missing tokens and arrow data, in header order.

    The list lets go of each column as it hands it out, so that a column's text
    is freed as soon as the caller has converted it. In a list column the none
    token is no missing token: it records an observed empty list.
    """
    for position, name in enumerate(header):
        chunked = arrow_columns[position]
        arrow_columns[position] = None
        kind = kinds.get(name)
        own = tokens - {none_token.casefold()} if kind == "list" else tokens
        yield name, kind, own, chunked
        del chunked


def _read_plain(
    path: Path,
    header: list[str],
    sep: str,
    kinds: dict[str, str],
    tokens: set[str],
    none_token: str,
) -> pd.DataFrame | None:
    """The records of a file without quotes or carriage returns, number columns typed by arrow.

    ``None`` when the file needs the exact, slower path: a line without the
    header's number of fields, a record whose first field is empty (arrow reads
    a blank line as such a record), or a number column arrow cannot read twice
    over. With no line break inside a field and every line a record, record
    ``i`` (from 0) starts on line ``i + 2`` of the file, the header being line 1.

    Number columns are read by arrow as ``float64``, with the declared missing
    tokens (exact, or upper case) as missing: arrow's reading of a number is a
    subset of :data:`~kypho.schema.dtypes.NUMBER_PATTERN` once spaces and tabs
    around it are trimmed (as that pattern allows), the non-finite spellings
    aside, which send the column to the exact path. A column arrow refuses is
    read again as text and goes through :func:`_typed`, as in the exact path.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    width = len(header)
    names = [f"c{i}" for i in range(width)]
    decimal_comma = sep == ";"
    first_try = plain_arguments(header, sep, kinds, tokens)
    numeric = set(first_try.as_number)
    # the number columns as arrays and their missing cells' counts, when the parse
    # begun early made them already (its table then holds nulls in their place)
    ready: dict[str, tuple[np.ndarray, int]] = {}

    def read(as_number: set[str], only: list[str] | None = None) -> Any:
        arguments = PlainArguments(
            width,
            sep,
            frozenset(as_number),
            first_try.encoded,
            first_try.exact,
            None if only is None else tuple(only),
        )
        if arguments == first_try:
            # the parse begun while the command was starting, if any (kypho.io._early)
            early = claim(path, arguments)
            if early is not None:
                ready.update(early.floats)
                return early.table
        return pacsv.read_csv(path, **arguments.keywords())

    table = None
    for _ in range(3):
        try:
            table = read(numeric)
            break
        except (pa.ArrowInvalid, pa.ArrowException) as exc:
            # "In CSV column #7: ... CSV conversion error to double": that column as text
            found = _FAILED_COLUMN.search(str(exc))
            failed = names[int(found.group(1))] if found and int(found.group(1)) < width else None
            if failed is None or failed not in numeric:
                return None
            numeric = numeric - {failed}
    if table is None or table.num_rows == 0:
        return None
    first = table.column(0)
    if first.null_count or pc.any(pc.equal(first, "")).as_py():
        # arrow reads a blank line as a record of empty fields: only the bytes can tell
        # the two apart, so a file with any record starting with an empty field is
        # read the exact way
        return None
    n = table.num_rows
    columns: dict[str, Any] = {}
    arrow_columns = table.columns
    del table  # each column's text is freed once converted
    handed = _handed_out(arrow_columns, header, kinds, tokens, none_token)
    for position, (name, kind, own, chunked) in enumerate(handed):
        if names[position] in numeric:
            early_values = ready.pop(names[position], None)
            if early_values is None:
                values, nulls = _floats(chunked), chunked.null_count
            else:
                values, nulls = early_values
            if int(np.isfinite(values).sum()) != n - nulls:
                # inf, nan: the exact path reads (and reports) the column's texts
                del values
                chunked = read(set(), [names[position]]).column(0)
                values = _typed(chunked, kind, tokens, decimal_comma=False, as_object=False)
        else:
            values = _typed(chunked, kind, own, decimal_comma=decimal_comma, as_object=False)
        del chunked
        columns[name] = values
    frame = pd.DataFrame(
        columns, index=pd.Index(np.arange(2, n + 2, dtype=np.int64), name="line"), copy=False
    )
    frame.attrs["kypho_tidied"] = True
    return frame


def _dictionary(chunked: Any) -> tuple[np.ndarray, np.ndarray, Any]:
    """The distinct texts of a column (as objects, and as arrow) and each cell's position, -1 if null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = chunked if pa.types.is_dictionary(chunked.type) else pc.dictionary_encode(chunked)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries()
        chunks = encoded.chunks
        dictionary = chunks[0].dictionary if chunks else pa.array([], pa.string())
        indices = (
            np.concatenate([c.indices.fill_null(-1).to_numpy(zero_copy_only=False) for c in chunks])
            if chunks
            else np.zeros(0, dtype=np.int64)
        )
    else:
        dictionary = encoded.dictionary
        indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    uniques = np.empty(len(dictionary), dtype=object)
    uniques[:] = dictionary.to_pylist()
    return uniques, indices.astype(np.int64, copy=False), dictionary


def _typed(
    chunked: Any, kind: str | None, tokens: set[str], *, decimal_comma: bool, as_object: bool
) -> Any:
    """A column of strings as numbers or dates when every cell is one (or missing), else text.

    Text comes back as pandas' arrow-backed ``str`` array (what pandas makes of a
    column of Python strings, without making the strings), or, with
    ``as_object``, as an object array (a wrong-width record's cells go in later).
    Dates and the exact path for numbers work on the column's distinct texts
    (one hash pass over the cells). Numbers are first parsed by arrow in one
    pass, which succeeds when every cell is a missing token exactly as declared
    or a plain number: what arrow reads is a subset of
    :data:`~kypho.schema.dtypes.NUMBER_PATTERN` (the non-finite spellings aside,
    which send the column to the exact path).
    """
    if len(chunked) == 0:
        return np.empty(0, dtype=object)
    if kind == "number" and not decimal_comma:
        fast = _fast_numbers(chunked, tokens)
        if fast is not None:
            return fast
    if kind not in ("number", "date") and not as_object:
        return _arrow_text(chunked, tokens)
    uniques, indices, dictionary = _dictionary(chunked)
    folded = _is_token(dictionary, tokens)
    token = np.append(folded, True)  # the last entry: a null cell
    missing = token[indices]

    def as_text() -> Any:
        # missing tokens become missing here, as kypho.io's tidying does for other formats
        if not as_object:
            return _arrow_text(chunked, tokens)
        table = np.empty(len(uniques) + 1, dtype=object)
        table[:-1] = uniques
        table[-1] = None
        table[token] = None
        out: np.ndarray = table[indices]
        return out

    if kind not in ("number", "date"):
        return as_text()
    present_uniques = pd.Series(
        [None if t else u for u, t in zip(uniques, folded, strict=True)], dtype=object
    )
    if kind == "number":
        numbers, bad = parse_numbers(present_uniques, decimal_comma=decimal_comma)
        if bad.any():
            return as_text()
        values: np.ndarray = np.append(numbers, np.nan)[indices]
        values[missing] = np.nan
        return values
    dates, bad = parse_dates(present_uniques)
    if bad.any():
        return as_text()
    out = np.append(dates, np.datetime64("NaT", "ns"))[indices]
    out[missing] = np.datetime64("NaT", "ns")
    return out


def _is_token(texts: Any, tokens: set[str]) -> np.ndarray:
    """Whether each text is a missing token (spaces stripped, any case), as a numpy mask.

    Lower-casing maps each character to one character, so a text longer than
    the longest token (once stripped) is no token. Stripping can shorten only a
    text that starts or ends with something other than a visible ASCII
    character, so a cell is trimmed, lower-cased and looked up only when it is
    short enough already or has such an end (read from arrow's buffers, without
    copying a text): ids, names and notes are not.
    """
    import pyarrow as pa

    chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    longest = max((len(t) for t in tokens), default=-1)
    parts = [_chunk_tokens(chunk, tokens, longest) for chunk in chunks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _chunk_tokens(chunk: Any, tokens: set[str], longest: int) -> np.ndarray:
    """:func:`_is_token` of one arrow array of strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    mask = np.zeros(len(chunk), dtype=bool)
    if len(chunk) == 0 or longest < 0:
        return mask
    maybe = token_candidates(chunk, longest)
    candidates = np.flatnonzero(maybe)
    if not candidates.size:
        return mask
    stripped = pc.utf8_trim_whitespace(chunk.take(pa.array(candidates, pa.int64())))
    short = np.asarray(
        pc.fill_null(pc.less_equal(pc.utf8_length(stripped), longest), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    kept = np.flatnonzero(short)
    if kept.size:
        words = pc.utf8_lower(stripped.take(pa.array(kept, pa.int64())))
        hit = pc.is_in(words, value_set=pa.array(sorted(tokens), pa.string()))
        mask[candidates[kept]] = np.asarray(
            pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool
        )
    return mask


def _arrow_text(chunked: Any, tokens: set[str]) -> Any:
    """The column as pandas ``str`` (arrow-backed), missing tokens missing.

    A dictionary-encoded column is checked on its distinct texts, then decoded.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(chunked.type):
        chunked = _decoded(chunked, tokens)
    else:
        missing = _is_token(chunked, tokens)
        if missing.any():
            chunked = pc.if_else(pa.array(missing), pa.scalar(None, chunked.type), chunked)
    if chunked.null_count == len(chunked):
        # pandas keeps a column of nothing but missing cells as objects
        return np.full(len(chunked), None, dtype=object)
    return pd.array(chunked, dtype=_STR)


def _decoded(chunked: Any, tokens: set[str]) -> Any:
    """A dictionary-encoded column as (large) strings, as pandas holds them, tokens missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(chunked, pa.ChunkedArray):
        chunked = pa.chunked_array([chunked])
    if chunked.num_chunks == 0:
        return pa.chunked_array([], type=pa.large_string())
    # one dictionary for all the blocks, checked once
    unified = chunked.unify_dictionaries()
    texts = unified.chunk(0).dictionary.cast(pa.large_string())
    token = _is_token(texts, tokens)
    if token.any():
        texts = pc.if_else(pa.array(token), pa.scalar(None, pa.large_string()), texts)
    return pc.take(texts, pa.chunked_array([c.indices for c in unified.chunks]))


def _fast_numbers(chunked: Any, tokens: set[str]) -> np.ndarray | None:
    """Arrow's one-pass parse of a clean number column, or None where the exact path is needed."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # the tokens and their upper case, where that folds back to the token: exact matches only
    exact = sorted(tokens | {t.upper() for t in tokens if t.upper().casefold() == t})
    missing = pc.is_in(chunked, value_set=pa.array(exact, pa.string()))
    try:
        numbers = pc.cast(pc.if_else(missing, pa.scalar(None, pa.string()), chunked), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    array: np.ndarray = numbers.to_numpy(zero_copy_only=False)
    present = ~np.asarray(missing.to_numpy(zero_copy_only=False), dtype=bool)
    if not np.isfinite(array[present]).all():
        return None
    return array


def _records(path: Path, sep: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """Byte start, byte end, field count and first line of each non-blank record after the header.

    The last value says whether the file holds a quote character at all (if
    not, no field can hold a line break).

    A record ends at a line break outside quotes; its fields are one more than
    the separators outside quotes. RFC 4180 quoting (``""`` inside a quoted
    field) keeps the count of quotes even, so "outside quotes" is "after an even
    number of quotes". One pass over the file, block by block; what is kept is
    per record (a few numbers each), never per separator.
    """
    size = path.stat().st_size
    ends_list: list[np.ndarray] = []
    counts_list: list[np.ndarray] = []
    lines_list: list[np.ndarray] = []
    quotes_before = 0
    breaks_before = 0
    carry = 0  # separators of the record still open at the end of the last block
    offset = 0
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            data = np.frombuffer(block, dtype=np.uint8)
            quotes = np.flatnonzero(data == _QUOTE)
            all_newlines = np.flatnonzero(data == _NL)
            separators = np.flatnonzero(data == sep)
            if quotes.size or quotes_before % 2:
                outside = (quotes_before + np.searchsorted(quotes, all_newlines)) % 2 == 0
                newlines = all_newlines[outside]
                rank = np.flatnonzero(outside)
                inside_sep = (quotes_before + np.searchsorted(quotes, separators)) % 2 == 1
                separators = separators[~inside_sep]
            else:
                newlines = all_newlines
                rank = np.arange(all_newlines.size, dtype=np.int64)
            before = np.searchsorted(separators, newlines)
            if newlines.size:
                counts = np.diff(before, prepend=0)
                counts[0] += carry
                carry = int(separators.size - before[-1])
            else:
                counts = np.zeros(0, dtype=np.int64)
                carry += int(separators.size)
            ends_list.append(newlines + offset)
            counts_list.append(counts)
            # the record after a line break starts on the line after it: breaks before it, plus 2
            lines_list.append(breaks_before + rank + 2)
            quotes_before += quotes.size
            breaks_before += all_newlines.size
            offset += len(block)
    record_ends = np.concatenate([*ends_list, np.array([size], dtype=np.int64)])
    record_starts = np.concatenate([[0], record_ends[:-1] + 1])
    lines = np.concatenate([np.array([1], dtype=np.int64), *lines_list])
    fields = np.concatenate([*counts_list, np.array([carry], dtype=np.int64)]) + 1
    # drop the header and blank records (nothing but an optional \r)
    length = record_ends - record_starts
    blank = length == 0
    one = np.flatnonzero(length == 1)
    if one.size:
        blank[one] = _byte_is(path, record_starts[one], _CR)
    keep = ~blank
    keep[0] = False
    return record_starts[keep], record_ends[keep], fields[keep], lines[keep], quotes_before > 0


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
