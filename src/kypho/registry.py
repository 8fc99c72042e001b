"""Registries beyond memory: Parquet in and out, and the tables of a file too big to hold.

The in-memory path (``kypho analyze FILE``) reads the whole file, validates,
derives and screens it as one table and hands it to the analysis engine. Its
peak memory grows with every column of every patient, which limits it to a few
million patients. This module serves larger files, stored as Parquet:

1. **Chunked validation.** The file is read a chunk of rows at a time
   (:meth:`pyarrow.parquet.ParquetFile.iter_batches`); each chunk is validated,
   derived and screened by the very functions of the in-memory path
   (:func:`kypho.validation.validate`, :func:`kypho.measures.derive`,
   :func:`kypho.eligibility.screen`), and its included patients — only the
   columns the analysis plan needs — are appended to a working file (Arrow
   IPC, uncompressed: several times cheaper to write than Parquet, and read
   back a column at a time without decoding). Problems keep their row numbers
   in the whole file. Runs of row groups are independent jobs, so several
   processes can validate them at once (``workers``); each writes its own part
   of the working file, and the parts are put back in the file's order, so the
   result does not depend on how many there were.
2. **Duplicate ids first.** Before validation the ids are checked over the
   whole file, so a patient id repeated in two chunks is rejected as it would
   be in memory: each job turns its ids into 64-bit keys, this process sorts
   the keys of all rows, and only rows whose key is shared are read again to
   compare the ids themselves.
3. **Column-at-a-time analysis.** The analysis engine
   (:func:`kypho.analysis.analyze`) reads each column it needs from the
   working file's parts when it needs it (:class:`ParquetColumns`), so memory
   holds a few columns of N values, not the table; with workers, each computes
   whole tables of the plan and the tables are merged in the plan's order. Its
   group counts, sums, sums of squares and ranks are the in-memory path's own,
   computed by the same code: on data that fit in memory both paths give
   identical tables (a test checks).

The study store (``kypho db``) is a different thing: the shared, audited
database of a running study (PostgreSQL for several users); this module is for
analysing an exported registry file.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from kypho.errors import InputFileError

if TYPE_CHECKING:
    from kypho.analysis.model import AnalysisResult
    from kypho.analysis.plan import Plan
    from kypho.eligibility import Flow
    from kypho.schema import Schema

__all__ = [
    "ParquetColumns",
    "ParquetStream",
    "RegistryAnalysis",
    "analyze_registry",
    "plan_columns",
    "read_parquet",
    "write_parquet",
]

_T = TypeVar("_T")
_I = TypeVar("_I")

CHUNK_ROWS = 250_000
"""Rows validated at a time; peak memory of the first stage grows with it."""


def read_parquet(path: str | Path, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a Parquet file (all columns, or ``columns``) into a DataFrame.

    Raises
    ------
    kypho.errors.InputFileError
        The file cannot be read as Parquet, or lacks a requested column.
    """
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=list(columns) if columns is not None else None)
    except (OSError, ValueError, KeyError) as exc:
        raise InputFileError(f"cannot read {str(path)!r} as a Parquet file: {exc}") from exc
    return cast(pd.DataFrame, table.to_pandas())


def write_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` to ``path`` as Parquet (written beside it, then renamed into place).

    Categories, nullable integers and booleans keep their pandas types when read
    back with :func:`read_parquet`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), partial)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InputFileError(f"cannot write {str(target)!r}: {exc.strerror or exc}") from exc
    return target


class ParquetStream:
    """A Parquet file written frame by frame (the first frame fixes the columns' types).

    Used as a context manager; each :meth:`write` appends a row group, so memory
    holds one frame. Frames with the types of :func:`write_parquet`'s read back as
    :func:`read_parquet` gives them.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._writer: Any = None
        self._schema: Any = None

    def __enter__(self) -> ParquetStream:
        return self

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame``'s rows."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._schema = table.schema
            self._writer = pq.ParquetWriter(self.path, self._schema)
        self._writer.write_table(table.cast(self._schema))

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class _ColumnFile:
    """One file of a :class:`ParquetColumns` table: Parquet, or Arrow IPC (``.arrow``)."""

    def __init__(self, path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = path
        self.arrow = path.suffix == ".arrow"
        if self.arrow:
            with pa.OSFile(str(path)) as source:
                reader = pa.ipc.open_file(source)
                self.schema = reader.schema
                self.rows = int(reader.count_rows())
        else:
            file = pq.ParquetFile(path)
            self.schema = file.schema_arrow
            self.rows = int(file.metadata.num_rows)

    def read(self, name: str) -> Any:
        """The column ``name`` as a one-column Arrow table (only its bytes are read)."""
        import pyarrow.feather as pf
        import pyarrow.parquet as pq

        if self.arrow:
            return pf.read_table(self.path, columns=[name], memory_map=False)
        return pq.read_table(self.path, columns=[name])


class ParquetColumns:
    """Parquet (or Arrow IPC) files seen as one table whose columns are read when asked for.

    Offers what :func:`kypho.analysis.analyze` uses of a DataFrame —
    ``columns`` and ``frame[name]`` — reading one column per access (the last
    few are kept), so memory holds a few columns, never the whole table.

    Parameters
    ----------
    path : str, Path or a sequence of them
        One file, or parts whose rows follow each other (the first part's
        columns and types are the table's; the other parts are cast to them).
        A file named ``*.arrow`` is read as Arrow IPC (uncompressed: the
        registry's working files, written and read far faster than Parquet).
    keep : int
        Columns kept in memory after they were read.
    pinned : sequence of str
        Columns kept in memory for as long as the table (read when first asked
        for), besides the ``keep`` last others: e.g. the group column, which
        every analysis of the table reads again.
    """

    def __init__(
        self,
        path: str | Path | Sequence[str | Path],
        *,
        keep: int = 2,
        pinned: Sequence[str] = (),
    ) -> None:
        paths = [path] if isinstance(path, str | Path) else list(path)
        if not paths:
            raise ValueError("ParquetColumns needs at least one file")
        self.paths = [Path(p) for p in paths]
        self.path = self.paths[0]
        self._files = [_ColumnFile(p) for p in self.paths]
        self._schema = self._files[0].schema
        self.columns = pd.Index(self._schema.names)
        self._keep = keep
        self._pinned = frozenset(pinned)
        self._cache: dict[str, pd.Series] = {}

    def __len__(self) -> int:
        return sum(f.rows for f in self._files)

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __getitem__(self, name: str) -> pd.Series:
        if name not in self._cache:
            if name not in self.columns:
                raise KeyError(name)
            import pyarrow as pa

            target = pa.schema([self._schema.field(name)], metadata=self._schema.metadata)
            tables = [f.read(name) for f in self._files]
            table = pa.concat_tables(
                [t if t.schema.equals(target) else t.cast(target) for t in tables]
            )
            column = table.replace_schema_metadata(target.metadata).to_pandas()[name]
            self._cache[name] = column
            unpinned = [c for c in self._cache if c not in self._pinned]
            for old in unpinned[: max(len(unpinned) - self._keep, 0)]:
                del self._cache[old]
        return self._cache[name]


@dataclass(frozen=True)
class RegistryValidation:
    """What validation found over the whole file (the fields the report reads).

    Attributes
    ----------
    n_read, n_accepted, n_rejected : int
    problems : pandas.DataFrame
        As :attr:`kypho.validation.ValidationResult.problems`, rows numbered in the file.
    strict : bool
        Whether any problem rejected its record (``--strict``), as in :func:`kypho.validation.validate`.
    missing : pandas.Series
        Missing values per schema column among the accepted rows.
    unknown_columns, ignored_columns : list of str
    data : pandas.DataFrame
        No rows: the accepted records' columns (the records themselves stay in the file).
    """

    n_read: int
    n_accepted: int
    n_rejected: int
    problems: pd.DataFrame
    missing: pd.Series
    unknown_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    data: pd.DataFrame = field(default_factory=pd.DataFrame)
    strict: bool = False

    @property
    def flagged(self) -> pd.DataFrame:
        """The problems that flagged a field of a kept record (the field set missing)."""
        from kypho.validation import FLAGGED

        return self.problems[self.problems["action"] == FLAGGED]

    @property
    def n_flagged(self) -> int:
        """Fields flagged (set missing) in kept records."""
        return len(self.flagged)


@dataclass(frozen=True)
class RegistryScreening:
    """The eligibility flow over the whole file."""

    flow: Flow


@dataclass(frozen=True)
class RegistryAnalysis:
    """Tables 1–7 of a registry file, with its validation and screening.

    Attributes
    ----------
    result : kypho.analysis.AnalysisResult
    validation : RegistryValidation
    screening : RegistryScreening
    chunks : int
        Chunks of rows read.
    """

    result: AnalysisResult
    validation: RegistryValidation
    screening: RegistryScreening
    chunks: int


def plan_columns(plan: Plan, schema: Schema) -> list[str]:
    """The columns the plan's tables read (with the id and group columns), in schema order."""
    from kypho.analysis.plan import measure_timepoints

    needed = {schema.id_column, schema.group_column}
    for table in plan.tables:
        for row in table.rows:
            if row.kind == "variable" and row.name is not None:
                needed.add(str(row.name))
            elif row.kind == "measure" and row.name is not None:
                columns = schema.measure_columns(str(row.name))
                needed.update(
                    columns[tp] for tp in measure_timepoints(row, schema) if tp in columns
                )
                if row.baseline is not None and row.baseline in columns:
                    needed.add(columns[row.baseline])
    return [v.name for v in schema if v.name in needed]


_NO_ID = np.uint64(0)
"""The key of a missing or empty id (an id's own key is odd, so never this)."""


def _id_keys(ids: Any) -> NDArray[np.uint64]:
    """A 64-bit key of each id's text, as ids are compared (cast to text, spaces
    trimmed); :data:`_NO_ID` for a missing or empty id.

    Equal texts have equal keys; different texts almost always have different
    ones (a shared key is checked on the texts themselves, see
    :func:`_repeated_ids`). The key mixes the text's length and its bytes eight
    at a time with multiply–xorshift steps, vectorised over all ids: about 20 ns
    an id, against a hash table of Python strings.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.fill_null(pc.utf8_trim_whitespace(pc.cast(ids, pa.large_string())), "")
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    n = len(text)
    buffers = text.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[text.offset : text.offset + n + 1]
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None
        else np.zeros(0, np.uint8)
    )
    lengths = np.diff(offsets)
    base = int(offsets[0])
    mix = np.uint64(0x9E3779B97F4A7C15)
    keys = lengths.astype(np.uint64) * mix
    width = int(lengths.max(initial=0))
    words = (width + 7) // 8
    if n and int(lengths.min()) == width:
        # Ids of one length (the common case): the bytes are a matrix already.
        matrix = np.zeros((n, 8 * words), dtype=np.uint8)
        matrix[:, :width] = data[base : base + n * width].reshape(n, width)
        for column in matrix.view(np.uint64).T:
            keys = _mix_word(keys, column)
        return _finish_keys(keys, lengths)
    # Eight zero bytes after the data, so that every eight-byte read stays inside it.
    padded = np.concatenate([data[base : int(offsets[-1])], np.zeros(8, np.uint8)])
    starts = offsets[:-1] - base
    step = np.arange(8)
    for word in range(words):
        live = np.flatnonzero(lengths > 8 * word)
        chunk = padded[starts[live, None] + (8 * word + step)]
        chunk[step >= (lengths[live, None] - 8 * word)] = 0  # bytes past the id's end
        keys[live] = _mix_word(keys[live], chunk.view(np.uint64).ravel())
    return _finish_keys(keys, lengths)


def _mix_word(keys: NDArray[np.uint64], word: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """One step of :func:`_id_keys`: eight more bytes of each id into its key."""
    mixed = keys ^ word
    mixed *= np.uint64(0xBF58476D1CE4E5B9)
    mixed ^= mixed >> np.uint64(31)
    return mixed


def _finish_keys(keys: NDArray[np.uint64], lengths: NDArray[np.int64]) -> NDArray[np.uint64]:
    """The last step of :func:`_id_keys`: spread the bits; odd keys, :data:`_NO_ID` for no id."""
    keys ^= keys >> np.uint64(29)
    keys *= np.uint64(0x94D049BB133111EB)
    keys ^= keys >> np.uint64(32)
    keys |= np.uint64(1)
    keys[lengths == 0] = _NO_ID
    return keys


def _key_job(job: _Job, ctx: _Context) -> NDArray[np.uint64]:
    """The keys of the ids in one job's rows (:func:`_id_keys`), in row order."""
    import pyarrow.parquet as pq

    if ctx.id_input is None:
        return np.zeros(0, dtype=np.uint64)
    file = pq.ParquetFile(ctx.source)
    return _id_keys(file.read_row_groups(list(job.row_groups), columns=[ctx.id_input]).column(0))


def _repeated_ids(
    source: Path, id_column: str, keys: NDArray[np.uint64], group_rows: Sequence[int]
) -> dict[str, str]:
    """Ids that occur on more than one row of the file (compared as text), each with
    the rows holding it ("11, 231"), as the in-memory validation names them.

    ``keys`` are the ids' keys in file order. Only rows whose key is shared are
    read again, and their texts compared, so keys that collide without the texts
    being equal do not make a duplicate.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    present = np.sort(keys[keys != _NO_ID])
    shared = np.unique(present[1:][present[1:] == present[:-1]])
    if shared.size == 0:
        return {}
    where = np.minimum(np.searchsorted(shared, keys), shared.size - 1)
    rows = np.flatnonzero(shared[where] == keys)
    bounds = np.cumsum([0, *group_rows])
    file = pq.ParquetFile(source)
    texts: list[str] = []
    for group in np.unique(np.searchsorted(bounds, rows, side="right") - 1):
        local = rows[(rows >= bounds[group]) & (rows < bounds[group + 1])] - bounds[group]
        column = file.read_row_group(int(group), columns=[id_column]).column(0)
        column = pc.utf8_trim_whitespace(pc.cast(column, "string"))
        texts.extend(str(t) for t in column.take(local).to_pylist())
    holding: dict[str, list[int]] = {}
    for text, row in zip(texts, (rows + 1).tolist(), strict=True):
        holding.setdefault(text, []).append(row)
    return {
        text: ", ".join(str(r) for r in held) for text, held in holding.items() if len(held) > 1
    }


def _input_id_column(path: Path, schema: Schema) -> str | None:
    """The file's column that holds the schema's id (by name or label)."""
    import pyarrow.parquet as pq

    from kypho.validation import resolve_columns

    names = pq.ParquetFile(path).schema_arrow.names
    mapping = resolve_columns(list(names), schema)
    return next((k for k, v in mapping.items() if v == schema.id_column), None)


_ROW = re.compile(r"\brow (\d+)\b")


def _in_file(message: str, chunk_row: int, file_row: int) -> str:
    """The message with its first "row N" (N the row in the chunk) as the row in the file."""
    match = _ROW.search(message)
    if match is None or int(match.group(1)) != chunk_row:
        return message
    return f"{message[: match.start()]}row {file_row}{message[match.end() :]}"


def _duplicate_problems(
    chunk: pd.DataFrame, id_column: str, repeated: dict[str, str], offset: int, schema: Schema
) -> tuple[NDArray[np.bool_], pd.DataFrame]:
    """Rows of the chunk whose id is repeated in the file, and one problem for each
    (worded as :func:`kypho.validation.validate` words a shared id)."""
    from kypho.validation import REJECTED, _show

    ids = chunk[id_column].astype("string").str.strip()
    hit = ids.isin(list(repeated)).fillna(False).to_numpy(dtype=bool)
    rows = np.flatnonzero(hit) + 1 + offset
    values = ids[hit].astype(str).tolist()
    shown = [_show(v) for v in chunk[id_column].to_numpy()[hit]]
    name = schema.id_column
    problems = pd.DataFrame(
        {
            "row": rows,
            "record": values,
            "field": name,
            "value": shown,
            "problem": "duplicate",
            "message": [
                f"record {v} (row {r}), {name!r} is shared by rows {repeated[v]} (got {s})"
                for v, r, s in zip(values, rows, shown, strict=True)
            ],
            "action": REJECTED,
        }
    )
    return hit, problems


def _merge_flows(flows: list[Flow]) -> Flow:
    """The flow of the whole file from the chunks' flows.

    Counts (numbers, and mappings to numbers) are added up; labels and other
    descriptions (mappings to text, lists) are the same in every chunk and kept.
    """
    import dataclasses

    labels = list(getattr(flows[0], "labels", {}) or {})

    def rank(key: object) -> tuple[int, bool]:
        base, _, unknown = str(key).partition(":")
        return (labels.index(base) if base in labels else len(labels), bool(unknown))

    merged: dict[str, Any] = {}
    for spec in dataclasses.fields(flows[0]):
        values = [getattr(flow, spec.name) for flow in flows]
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            merged[spec.name] = sum(values)
        elif all(isinstance(v, dict) for v in values):
            combined: dict[object, object] = {}
            for value in values:
                for key, item in value.items():
                    if isinstance(item, int) and not isinstance(item, bool):
                        previous = combined.get(key, 0)
                        combined[key] = (previous if isinstance(previous, int) else 0) + item
                    else:
                        combined.setdefault(key, item)
            counts = all(isinstance(v, int) for v in combined.values())
            # Counts by criterion in the criteria's order, as screen() gives them.
            merged[spec.name] = (
                dict(sorted(combined.items(), key=lambda kv: rank(kv[0])))
                if (
                    counts
                    and any(k in labels or str(k).partition(":")[0] in labels for k in combined)
                )
                else combined
            )
        else:
            merged[spec.name] = values[0]
    return dataclasses.replace(flows[0], **merged)


@dataclass(frozen=True)
class _Job:
    """Consecutive row groups of the file, validated ``chunk_rows`` at a time."""

    index: int
    row_groups: tuple[int, ...]
    offset: int  # rows of the file before the job's first row
    # Ids of the job's rows that other rows of the file share, with the rows holding each.
    repeated: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Context:
    """What every job needs (sent once to each worker process)."""

    source: Path
    workdir: Path
    schema: Schema
    keep: tuple[str, ...]
    id_input: str | None
    strict: bool
    chunk_rows: int


@dataclass(frozen=True)
class _Part:
    """What one job found: its chunks' counts, problems and flows, and its working file."""

    index: int
    rows: int
    chunks: int
    n_accepted: int
    n_rejected: int
    problems: list[pd.DataFrame]
    flows: list[Flow]
    missing: pd.Series | None
    unknown: list[str]
    ignored: list[str]
    columns: pd.DataFrame | None
    working: Path | None
    warnings: list[warnings.WarningMessage]


def _jobs(row_groups: Sequence[int], chunk_rows: int) -> list[_Job]:
    """Consecutive row groups gathered into jobs of at most ``chunk_rows`` rows
    (a larger row group is a job of its own, read ``chunk_rows`` at a time)."""
    jobs: list[_Job] = []
    groups: list[int] = []
    start = rows = 0
    for group, size in enumerate(row_groups):
        if groups and rows + size > chunk_rows:
            jobs.append(_Job(len(jobs), tuple(groups), start))
            start, rows, groups = start + rows, 0, []
        groups.append(group)
        rows += size
    if groups:
        jobs.append(_Job(len(jobs), tuple(groups), start))
    return jobs


@dataclass(frozen=True)
class _Tables:
    """Tables of the plan computed in one process: a share of the tables stage."""

    numbers: tuple[int, ...]
    plan: Plan
    working: tuple[Path, ...]


def _table_shares(plan: Plan, schema: Schema, shares: int) -> list[tuple[int, ...]]:
    """The plan's tables in ``shares`` groups of about equal work (columns read),
    each in plan order: the longest first, each to the share with least work so far."""
    from dataclasses import replace

    cost = {
        spec.number: len(plan_columns(replace(plan, tables=(spec,)), schema))
        for spec in plan.tables
    }
    load = [0] * shares
    given: list[list[int]] = [[] for _ in range(shares)]
    for number in sorted(cost, key=lambda n: -cost[n]):
        least = load.index(min(load))
        given[least].append(number)
        load[least] += cost[number]
    order = [spec.number for spec in plan.tables]
    return [tuple(sorted(g, key=order.index)) for g in given if g]


def _table_task(
    share: _Tables, ctx: _Context
) -> list[tuple[AnalysisResult, list[warnings.WarningMessage]]]:
    """Each table of the share analysed on its own (its own plan of one table), with
    the warnings it raised; the group column is read once for all of them."""
    from dataclasses import replace

    from kypho.analysis import analyze

    data = cast(pd.DataFrame, ParquetColumns(share.working, pinned=(ctx.schema.group_column,)))
    results = []
    for number in share.numbers:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            one = replace(share.plan, tables=(share.plan.table(number),))
            results.append((analyze(data, ctx.schema, one), list(caught)))
    return results


def _merge_results(plan: Plan, results: Sequence[AnalysisResult]) -> AnalysisResult:
    """One result from results of one table each: the tables in plan order, the tests
    used by any. Everything else comes from the plan, the schema and the group
    column, so it is the same in each."""
    from dataclasses import replace

    tables = {table.number: table for result in results for table in result.tables}
    return replace(
        results[0],
        tables=tuple(tables[spec.number] for spec in plan.tables),
        tests_used=frozenset().union(*(r.tests_used for r in results)),
    )


def _run_job(job: _Job, ctx: _Context) -> _Part:
    """Validate, derive and screen one job's rows, a chunk at a time; the included
    patients' plan columns go to the job's own working file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kypho.eligibility import screen

    # read_table's own tidying (missing-value tokens, numbers, dates), chunk by chunk.
    from kypho.io.tables import _tidy
    from kypho.measures import derive
    from kypho.validation import validate

    problems: list[pd.DataFrame] = []
    flows: list[Flow] = []
    missing: pd.Series | None = None
    unknown: list[str] = []
    ignored: list[str] = []
    columns: pd.DataFrame | None = None
    n_accepted = n_rejected = chunks = 0
    offset = job.offset
    working = ctx.workdir / f"included-{job.index:06d}.arrow"
    writer: pa.ipc.RecordBatchFileWriter | None = None
    arrow_schema: pa.Schema | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        file = pq.ParquetFile(ctx.source)
        groups = list(job.row_groups)
        # Small row groups are read together as one chunk; a large one in chunks.
        batches = (
            file.iter_batches(batch_size=ctx.chunk_rows, row_groups=groups)
            if sum(file.metadata.row_group(g).num_rows for g in groups) > ctx.chunk_rows
            else [file.read_row_groups(groups)]
        )
        for batch in batches:
            # One block per column: no copy into 2-D blocks that _tidy takes apart again.
            chunk = _tidy(batch.to_pandas(split_blocks=True), ctx.schema)
            chunks += 1
            size = len(chunk)
            rejected_dup = np.zeros(size, dtype=bool)
            if job.repeated and ctx.id_input is not None:
                rejected_dup, dup_problems = _duplicate_problems(
                    chunk, ctx.id_input, job.repeated, offset, ctx.schema
                )
                if len(dup_problems):  # an empty frame would make the columns' types object
                    problems.append(dup_problems)
            # Copy the chunk only when some rows leave it.
            kept = chunk[~rejected_dup].reset_index(drop=True) if rejected_dup.any() else chunk
            checked = validate(kept, ctx.schema, strict=ctx.strict)
            # Rows kept for validation, numbered in the chunk: map back to the file.
            positions = np.flatnonzero(~rejected_dup) + 1
            local = checked.problems
            if len(local):
                local = local.copy()
                local_rows = local["row"].to_numpy(dtype=np.int64)
                file_rows = positions[local_rows - 1] + offset
                local["message"] = [
                    _in_file(msg, int(a), int(b))
                    for msg, a, b in zip(
                        local["message"].astype(str), local_rows, file_rows, strict=True
                    )
                ]
                local["row"] = file_rows
                problems.append(local)
            if columns is None:
                columns = checked.data.iloc[:0]
            unknown = unknown or list(checked.unknown_columns)
            ignored = ignored or list(checked.ignored_columns)
            n_accepted += checked.n_accepted
            n_rejected += checked.n_rejected + int(rejected_dup.sum())
            missing = checked.missing if missing is None else missing.add(checked.missing)
            derived = derive(checked.data, ctx.schema)
            screening = screen(derived, ctx.schema)
            flows.append(screening.flow)
            included = derived.loc[
                screening.included.to_numpy(), [c for c in ctx.keep if c in derived]
            ]
            table = pa.Table.from_pandas(included, preserve_index=False)
            if writer is None:
                arrow_schema = table.schema
                writer = pa.ipc.new_file(str(working), arrow_schema)
            writer.write_table(table.cast(arrow_schema))
            offset += size
        if writer is not None:
            writer.close()
    return _Part(
        index=job.index,
        rows=offset - job.offset,
        chunks=chunks,
        n_accepted=n_accepted,
        n_rejected=n_rejected,
        problems=problems,
        flows=flows,
        missing=missing,
        unknown=unknown,
        ignored=ignored,
        columns=columns,
        working=working if writer is not None else None,
        warnings=list(caught),
    )


_WORKER: _Context | None = None


@contextlib.contextmanager
def _jemalloc() -> Iterator[None]:
    """Arrow's memory from jemalloc for the block (then the previous pool again).

    Arrow's default pool (mimalloc) gives memory back to the system after every
    chunk and faults it in again for the next; jemalloc keeps it for reuse
    (measured at 10⁶ patients: about 1 s less system time per million rows, and
    less peak memory). Buffers remember their pool, so switching back is safe.
    """
    import pyarrow as pa

    previous = pa.default_memory_pool()
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc
        yield
        return
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def _start_worker(ctx: _Context, formulas: dict[str, Any]) -> None:
    """Set up a worker process: the job context, the parent's formulas, no progress bars."""
    global _WORKER
    from kypho import progress
    from kypho.measures import FORMULAS

    _WORKER = ctx
    _jemalloc().__enter__()  # for the worker's lifetime
    progress.configure(enabled=False)
    for name, formula in formulas.items():
        FORMULAS.setdefault(name, formula)


def _in_worker(task: Callable[[_I, _Context], _T], item: _I) -> _T:
    """Run ``task`` on ``item`` with the worker's context."""
    if _WORKER is None:  # pragma: no cover - set by _start_worker in every worker
        raise RuntimeError("registry worker used before it was started")
    return task(item, _WORKER)


def _formulas(schema: Schema) -> dict[str, Any] | None:
    """The schema's formulas, if they can be sent to another process (else None)."""
    import pickle

    from kypho.measures import FORMULAS

    names = {d.formula for d in schema.derivations if d.formula in FORMULAS}
    chosen = {name: FORMULAS[name] for name in names}
    try:
        pickle.dumps(chosen)
    except (pickle.PicklingError, AttributeError, TypeError):
        return None
    return chosen


def _worker_count(workers: int | None, jobs: int) -> int:
    """Processes to run jobs in: ``workers``, or (None) one per available CPU, at most 4."""
    if workers is None:
        try:
            available = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not on Linux
            available = os.cpu_count() or 1
        workers = min(available, 4)
    if workers < 1:
        from kypho.errors import AnalysisError

        raise AnalysisError(f"workers must be a whole number of at least 1 (got {workers})")
    return max(1, min(workers, jobs))


class _Runner:
    """Runs tasks on jobs, in this process or in ``workers`` worker processes.

    Used as a context manager, so that the same processes serve every stage
    (the ids' keys, then validation) and are started once.
    """

    def __init__(self, ctx: _Context, workers: int) -> None:
        self.ctx = ctx
        self._formulas = _formulas(ctx.schema) if workers > 1 else None
        self._workers = workers
        self._stack = contextlib.ExitStack()
        self._pool: Any = None

    def __enter__(self) -> _Runner:
        if self._formulas is not None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = self._stack.enter_context(
                ProcessPoolExecutor(
                    max_workers=self._workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(self.ctx, self._formulas),
                )
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def processes(self) -> int:
        """Worker processes running the tasks (1: tasks run in this process)."""
        return self._workers if self._pool is not None else 1

    def map(
        self,
        task: Callable[[_I, _Context], _T],
        items: Sequence[_I],
        done: Callable[[_I, _T], None] | None = None,
    ) -> list[_T]:
        """``task`` of every item, in the items' order; ``done`` is called as each finishes."""
        if self._pool is None:
            results = []
            for item in items:
                results.append(task(item, self.ctx))
                if done is not None:
                    done(item, results[-1])
            return results
        from concurrent.futures import as_completed

        futures = {self._pool.submit(_in_worker, task, item): i for i, item in enumerate(items)}
        finished: dict[int, _T] = {}
        try:
            for future in as_completed(futures):
                i = futures[future]
                finished[i] = future.result()
                if done is not None:
                    done(items[i], finished[i])
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return [finished[i] for i in range(len(items))]


def _find_repeated(runner: _Runner, jobs: list[_Job], group_rows: Sequence[int]) -> list[_Job]:
    """The jobs, each with the ids of its rows that are shared with other rows of the file.

    The ids' keys are computed by the jobs (in the workers); only the merge of
    the keys — a sort of one number per row — runs in this process.
    """
    ctx = runner.ctx
    if ctx.id_input is None or not jobs:
        return jobs
    keys = runner.map(_key_job, jobs)
    repeated = _repeated_ids(ctx.source, ctx.id_input, np.concatenate(keys), group_rows)
    if not repeated:
        return jobs
    import dataclasses

    starts = np.array([job.offset for job in jobs])
    mine: list[dict[str, str]] = [{} for _ in jobs]
    for text, rows in repeated.items():
        held = np.array([int(r) for r in rows.split(", ")]) - 1  # rows counted from 0
        for i in np.unique(np.searchsorted(starts, held, side="right") - 1):
            mine[i][text] = rows
    return [dataclasses.replace(job, repeated=m) for job, m in zip(jobs, mine, strict=True)]


def _analyze_parts(runner: _Runner, plan: Plan, working: tuple[Path, ...]) -> AnalysisResult:
    """The plan's tables from the working file's parts: in this process, or shared
    among the worker processes (each table whole in one of them) and merged."""
    from kypho.analysis import analyze

    schema = runner.ctx.schema
    if runner.processes == 1 or len(plan.tables) < 2:
        return analyze(cast(pd.DataFrame, ParquetColumns(working)), schema, plan)
    shares = [
        _Tables(numbers, plan, working) for numbers in _table_shares(plan, schema, runner.processes)
    ]
    found = {
        result.tables[0].number: (result, caught)
        for share in runner.map(_table_task, shares)
        for result, caught in share
    }
    ordered = [found[spec.number] for spec in plan.tables]
    for _, caught in ordered:
        for warning in caught:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return _merge_results(plan, [result for result, _ in ordered])


def analyze_registry(
    path: str | Path,
    schema: Schema | None = None,
    plan: Plan | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    workdir: str | Path | None = None,
    on_stage: Callable[[], None] | None = None,
    strict: bool = False,
    workers: int | None = 1,
) -> RegistryAnalysis:
    """Validate, derive, screen and analyse a Parquet registry file chunk by chunk.

    Parameters
    ----------
    path : str or Path
        A Parquet file of raw records (columns named as in the schema or by
        their labels), e.g. written by ``kypho synth --out FILE.parquet``.
    schema : kypho.schema.Schema, optional
        The study schema; the built-in one when omitted.
    plan : kypho.analysis.Plan, optional
        The analysis plan; the built-in one when omitted.
    chunk_rows : int
        Rows validated at a time.
    workdir : str or Path, optional
        Folder for the working files of included patients (deleted at the end);
        the system's temporary folder when omitted.
    on_stage : callable, optional
        Called once the chunks are done, before the tables are computed.
    strict : bool
        Reject a record for any problem, not only structural ones (as
        ``validate(..., strict=True)`` and ``kypho analyze --strict``).
    workers : int or None
        Processes validating chunks at once: ``1`` (the default) validates in
        this process; ``None`` starts one per available CPU, at most 4
        (``kypho analyze --registry`` does). Worker processes are started fresh
        (``spawn``), so a script that asks for them must guard its own code with
        ``if __name__ == "__main__":``. The unit of work is a run of row groups,
        so a file of one row group is validated in one process, and a schema
        whose formulas cannot be sent to another process (a function defined in
        the script) is validated in this one.

    Returns
    -------
    RegistryAnalysis
        Identical tables to :func:`kypho.analysis.analyze` on the same data
        validated, derived and screened in memory, whatever ``chunk_rows`` and
        ``workers``.

    Raises
    ------
    kypho.errors.InputFileError
        The file cannot be read as Parquet.
    kypho.errors.DataError
        No record is accepted, or none is eligible.
    kypho.errors.AnalysisError
        ``chunk_rows`` or ``workers`` is less than 1.
    """
    from kypho.analysis import load_plan
    from kypho.errors import AnalysisError
    from kypho.schema import load_schema

    schema = schema if schema is not None else load_schema()
    plan = plan if plan is not None else load_plan()
    plan.check(schema)
    if chunk_rows < 1:
        raise AnalysisError(f"chunk_rows must be a whole number of at least 1 (got {chunk_rows})")
    with _jemalloc():
        return _analyze_registry(
            Path(path), schema, plan, chunk_rows, workdir, on_stage, strict, workers
        )


def _analyze_registry(
    source: Path,
    schema: Schema,
    plan: Plan,
    chunk_rows: int,
    workdir: str | Path | None,
    on_stage: Callable[[], None] | None,
    strict: bool,
    workers: int | None,
) -> RegistryAnalysis:
    import pyarrow.parquet as pq

    from kypho import progress as bars
    from kypho.errors import DataError

    try:
        metadata = pq.ParquetFile(source).metadata
    except (OSError, ValueError) as exc:
        raise InputFileError(f"cannot read {str(source)!r} as a Parquet file: {exc}") from exc
    total_rows = int(metadata.num_rows)
    jobs = _jobs(
        [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)], chunk_rows
    )
    id_input = _input_id_column(source, schema)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(
            tempfile.TemporaryDirectory(prefix="kypho-registry-", dir=workdir)
        )
        ctx = _Context(
            source=source,
            workdir=Path(tmp),
            schema=schema,
            keep=tuple(plan_columns(plan, schema)),
            id_input=id_input,
            strict=strict,
            chunk_rows=chunk_rows,
        )
        group_rows = [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)]
        runner = stack.enter_context(_Runner(ctx, _worker_count(workers, len(jobs))))
        with bars.bar(f"checking {source.name}'s ids for duplicates", ticking=True):
            jobs = _find_repeated(runner, jobs, group_rows)
        with bars.bar(f"validating {source.name}", total=total_rows, unit="rows") as shown:
            parts = runner.map(_run_job, jobs, lambda _, part: shown.advance(part.rows))
        for part in parts:
            for caught in part.warnings:
                warnings.warn_explicit(
                    caught.message, caught.category, caught.filename, caught.lineno
                )
        problems = [p for part in parts for p in part.problems]
        flows = [f for part in parts for f in part.flows]
        missing: pd.Series | None = None
        for part in parts:
            if part.missing is not None:
                missing = part.missing if missing is None else missing.add(part.missing)
        columns = next((part.columns for part in parts if part.columns is not None), None)
        unknown = next((part.unknown for part in parts if part.unknown), [])
        ignored = next((part.ignored for part in parts if part.ignored), [])
        n_accepted = sum(part.n_accepted for part in parts)
        n_rejected = sum(part.n_rejected for part in parts)
        chunks = sum(part.chunks for part in parts)
        offset = sum(part.rows for part in parts)
        working = [part.working for part in parts if part.working is not None]
        if not working:
            raise DataError(f"{source.name} holds no records, so there is nothing to analyse")
        if n_accepted == 0:
            raise DataError(
                f"no record of {source.name} passed validation ({n_rejected} rejected), "
                "so there is nothing to analyse"
            )
        flow = _merge_flows(flows)
        if flow.included == 0:
            raise DataError(
                f"none of the {flow.screened} accepted records meets the eligibility "
                "criteria, so there is nothing to analyse"
            )
        if on_stage is not None:
            on_stage()
        with bars.bar("analysing Tables 1-7 column by column", ticking=True):
            result = _analyze_parts(runner, plan, tuple(working))
    problem_frame = (
        pd.concat(problems, ignore_index=True).sort_values(["row", "field"], kind="stable")
        if problems
        else pd.DataFrame(
            columns=["row", "record", "field", "value", "problem", "message", "action"]
        )
    ).reset_index(drop=True)
    validation = RegistryValidation(
        n_read=offset,
        n_accepted=n_accepted,
        n_rejected=n_rejected,
        problems=problem_frame,
        missing=missing if missing is not None else pd.Series(dtype=np.int64),
        unknown_columns=unknown,
        ignored_columns=ignored,
        data=columns if columns is not None else pd.DataFrame(),
        strict=strict,
    )
    return RegistryAnalysis(
        result=result,
        validation=validation,
        screening=RegistryScreening(flow),
        chunks=chunks,
    )
