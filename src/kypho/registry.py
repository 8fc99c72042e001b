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
   columns the analysis plan needs — are appended to a working Parquet file.
   Duplicate ids are found first over the whole id column, so a patient id
   repeated in two chunks is rejected as it would be in memory. Problems keep
   their row numbers in the whole file.
2. **Column-at-a-time analysis.** The analysis engine
   (:func:`kypho.analysis.analyze`) reads each column it needs from the working
   file when it needs it (:class:`ParquetColumns`), so memory holds one column of
   N values, not the table. Its group counts, sums, sums of squares and ranks
   are the in-memory path's own, computed by the same code: on data that fit in
   memory both paths give identical tables (a test checks).

The study store (``kypho db``) is a different thing: the shared, audited
database of a running study (PostgreSQL for several users); this module is for
analysing an exported registry file.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

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


class ParquetColumns:
    """A Parquet file seen as a table whose columns are read when asked for.

    Offers what :func:`kypho.analysis.analyze` uses of a DataFrame —
    ``columns`` and ``frame[name]`` — reading one column per access (the last
    few are kept), so memory holds a few columns, never the whole file.
    """

    def __init__(self, path: str | Path, *, keep: int = 2) -> None:
        import pyarrow.parquet as pq

        self.path = Path(path)
        self._file = pq.ParquetFile(self.path)
        self.columns = pd.Index(self._file.schema_arrow.names)
        self._keep = keep
        self._cache: dict[str, pd.Series] = {}

    def __len__(self) -> int:
        return int(self._file.metadata.num_rows)

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __getitem__(self, name: str) -> pd.Series:
        if name not in self._cache:
            if name not in self.columns:
                raise KeyError(name)
            column = self._file.read(columns=[name]).to_pandas()[name]
            self._cache[name] = column
            while len(self._cache) > self._keep:
                self._cache.pop(next(iter(self._cache)))
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


def _duplicate_ids(path: Path, id_column: str | None) -> dict[str, str]:
    """Ids that occur on more than one row of the file (compared as text), each with
    the rows holding it ("11, 231"), as the in-memory validation names them."""
    if id_column is None:
        return {}
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    ids = pq.read_table(path, columns=[id_column]).column(0)
    ids = pc.utf8_trim_whitespace(pc.cast(ids, "string"))
    counts = pc.value_counts(ids)
    repeated = pc.filter(counts, pc.greater(counts.field("counts"), 1)).field("values")
    repeated = pc.filter(repeated, pc.and_(pc.is_valid(repeated), pc.not_equal(repeated, "")))
    if len(repeated) == 0:
        return {}
    hit = pc.is_in(ids, value_set=repeated)
    rows = np.flatnonzero(hit.to_numpy(zero_copy_only=False)) + 1
    values = pc.filter(ids, hit).to_pylist()
    where = pd.Series(rows).groupby(np.asarray(values, dtype=object), sort=False)
    return {str(k): ", ".join(str(r) for r in v) for k, v in where}


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


def _batches(path: Path, rows: int, schema: Schema) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    # read_table's own tidying (missing-value tokens, numbers, dates), chunk by chunk.
    from kypho.io.tables import _tidy

    for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
        yield _tidy(batch.to_pandas(), schema)


def analyze_registry(
    path: str | Path,
    schema: Schema | None = None,
    plan: Plan | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    workdir: str | Path | None = None,
    on_stage: Callable[[], None] | None = None,
    strict: bool = False,
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
        Folder for the working file of included patients (deleted at the end);
        the system's temporary folder when omitted.
    on_stage : callable, optional
        Called once the chunks are done, before the tables are computed.
    strict : bool
        Reject a record for any problem, not only structural ones (as
        ``validate(..., strict=True)`` and ``kypho analyze --strict``).

    Returns
    -------
    RegistryAnalysis
        Identical tables to :func:`kypho.analysis.analyze` on the same data
        validated, derived and screened in memory.

    Raises
    ------
    kypho.errors.InputFileError
        The file cannot be read as Parquet.
    kypho.errors.DataError
        No record is accepted, or none is eligible.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kypho import progress as bars
    from kypho.analysis import analyze, load_plan
    from kypho.eligibility import screen
    from kypho.errors import DataError
    from kypho.measures import derive
    from kypho.schema import load_schema
    from kypho.validation import validate

    source = Path(path)
    schema = schema if schema is not None else load_schema()
    plan = plan if plan is not None else load_plan()
    plan.check(schema)
    try:
        total_rows = int(pq.ParquetFile(source).metadata.num_rows)
    except (OSError, ValueError) as exc:
        raise InputFileError(f"cannot read {str(source)!r} as a Parquet file: {exc}") from exc
    id_input = _input_id_column(source, schema)
    repeated = _duplicate_ids(source, id_input)
    keep = plan_columns(plan, schema)
    problems: list[pd.DataFrame] = []
    flows: list[Flow] = []
    missing: pd.Series | None = None
    unknown: list[str] = []
    ignored: list[str] = []
    n_accepted = n_rejected = 0
    columns: pd.DataFrame | None = None
    chunks = 0
    offset = 0
    with tempfile.TemporaryDirectory(prefix="kypho-registry-", dir=workdir) as tmp:
        working = Path(tmp) / "included.parquet"
        writer: pq.ParquetWriter | None = None
        arrow_schema: pa.Schema | None = None
        with bars.bar(f"validating {source.name}", total=total_rows, unit="rows") as shown:
            for chunk in _batches(source, chunk_rows, schema):
                chunks += 1
                size = len(chunk)
                rejected_dup = np.zeros(size, dtype=bool)
                if repeated and id_input is not None:
                    rejected_dup, dup_problems = _duplicate_problems(
                        chunk, id_input, repeated, offset, schema
                    )
                    problems.append(dup_problems)
                checked = validate(
                    chunk[~rejected_dup].reset_index(drop=True), schema, strict=strict
                )
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
                derived = derive(checked.data, schema)
                screening = screen(derived, schema)
                flows.append(screening.flow)
                included = derived.loc[
                    screening.included.to_numpy(), [c for c in keep if c in derived]
                ]
                table = pa.Table.from_pandas(included, preserve_index=False)
                if writer is None:
                    arrow_schema = table.schema
                    writer = pq.ParquetWriter(working, arrow_schema)
                writer.write_table(table.cast(arrow_schema))
                offset += size
                shown.advance(size)
        if writer is None:
            raise DataError(f"{source.name} holds no records, so there is nothing to analyse")
        writer.close()
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
            result = analyze(cast(pd.DataFrame, ParquetColumns(working)), schema, plan)
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
