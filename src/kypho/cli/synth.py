"""``kypho synth``: write a synthetic cohort consistent with a paper's tables.

The cohort is written by the output file's extension: .csv and .parquet chunk
by chunk as it is drawn (memory holds one chunk of rows, whatever ``--n``),
.xlsx and .sav whole with :func:`kypho.io.write_table`. The reproduction report is printed: how many
published values were reproduced, and each one that was not, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click
import pandas as pd

from kypho.cli._options import load_schema_files, schema_options
from kypho.errors import InputFileError
from kypho.io import write_table
from kypho.output.cells import CsvWriter, empty_lists_as_token, write_csv
from kypho.schema import Schema
from kypho.synth import SynthReport, load_synth_spec
from kypho.synth.cohort import SynthChunk, SynthChunks, synthesize_chunks

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["format_report", "synth"]


def format_report(report: SynthReport, *, failures_only: bool = True) -> str:
    """The report as text: a summary line, then one line per entry not reproduced
    (and per column drawn from a default because the tables do not give it)."""
    lines = [report.summary() + "."]
    if not report.exact:
        lines.append(
            "Large cohort: summaries drawn from the published distributions, not matched "
            "to the printed rounding; counts scaled to the cohort size."
        )
    entries = report.failures if failures_only else report.entries
    if entries:
        lines.append("Not reproduced:" if failures_only else "Entries:")
    for e in entries:
        where = f"Table {e.table}" if e.table else "Text"
        lines.append(
            f"  {where}, {e.row}, {e.column}: published {e.reported}, "
            f"cohort {e.achieved} [{e.status.replace('_', ' ')}]"
            + (f": {e.reason}" if e.reason else "")
        )
    if failures_only:
        for e in report.entries:
            if e.status == "assumed":
                lines.append(f"  {e.row}, {e.column}: {e.achieved} [assumed]: {e.reason}")
    for table, row in report.unbound:
        lines.append(f"  Table {table}, {row}: not generated (no schema column bound to it)")
    return "\n".join(lines)


@click.command("synth")
@click.option(
    "--n",
    "n",
    type=click.IntRange(min=2),
    default=None,
    help="Patients included (default: as published).",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Random seed (default: the specification's; kypho's reproduces the bundled cohort).",
)
@click.option(
    "--ineligible",
    type=click.IntRange(min=0),
    default=None,
    help="Screened-but-ineligible patients to add (default: 14 at the published size, else 0).",
)
@click.option(
    "--source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help=(
        "Summary-table YAML file (default: the kypho paper's Tables 1-7). Rows are bound "
        "to schema columns by the paper's table numbers and row labels, so this is for "
        "edited or corrected versions of the paper's tables; unbound rows are listed."
    ),
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output file: .csv or .parquet (written as drawn, any size), .xlsx or .sav.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the full reproduction report (CSV).",
)
@schema_options
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help=(
        "A synthesis specification (YAML: binding of published rows to columns, how "
        "each column is drawn; default: kypho/data/synth.yaml, the paper's cohort)."
    ),
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary line; no progress bars.")
def synth(
    n: int | None,
    seed: int | None,
    ineligible: int | None,
    source: Path | None,
    out: Path,
    report_path: Path | None,
    schema_files: tuple[Path, ...],
    extensions: tuple[Path, ...],
    spec_path: Path | None,
    quiet: bool,
) -> None:
    """Generate a SYNTHETIC cohort whose summaries reproduce a paper's tables.

    Every published count is matched exactly and every mean and SD to its printed
    rounding; published statistics that no data with those summaries can give are
    listed with the reason. The patients are not real.
    """
    from kypho.cli._memory import reuse_freed_memory

    reuse_freed_memory()
    schema = load_schema_files(schema_files, extensions)
    spec = load_synth_spec(spec_path)
    seed = spec.seed if seed is None else seed
    tables = None
    if source is not None:
        from kypho.audit.loader import load_summary_tables

        tables = load_summary_tables(source)
    from kypho import progress

    if quiet:
        progress.configure(enabled=False)
    chunks = synthesize_chunks(
        tables, n=n, seed=seed, ineligible=ineligible, schema=schema, spec=spec
    )
    total = chunks.total
    suffix = out.suffix.lower()
    if suffix in _STREAMED:
        # drawn and written chunk by chunk: memory holds one chunk whatever --n
        with progress.bar(
            f"generating and writing {total:,} synthetic patients to {out.name}",
            total=total,
            unit="patients",
        ) as shown:
            _stream(chunks, out, schema, shown.advance)
    else:
        with progress.bar(f"generating {total:,} synthetic patients", ticking=True):
            parts = list(chunks)
            data = pd.concat([p.data for p in parts], ignore_index=True)
        with progress.bar(f"writing {out.name}", ticking=True):
            write_table(data, out, schema=schema)
    report = chunks.report
    included = chunks.included_total
    click.echo(
        f"Wrote {total} SYNTHETIC patients ({included} eligible, "
        f"{total - included} screened but ineligible), seed {seed}, to {out}."
    )
    if report_path is not None:
        try:
            write_csv(report.to_frame(), report_path)
        except OSError as exc:
            raise InputFileError(
                f"cannot write {str(report_path)!r}: {exc.strerror or exc}"
            ) from exc
    click.echo(report.summary() + "." if quiet else format_report(report))


_STREAMED = (".csv", ".parquet")
_Prepared = TypeVar("_Prepared")


def _stream(chunks: SynthChunks, out: Path, schema: Schema, advance: Callable[[int], None]) -> None:
    """Write the chunks to ``out`` (.csv or .parquet) as they are drawn.

    The file is written beside ``out`` and renamed into place when complete, so
    an interrupted run leaves no half file under the name asked for. The cells
    are those :func:`kypho.io.write_table` writes for the whole cohort.
    """
    partial = out.with_name(f".{out.name}.partial")
    columns = [v.name for v in schema.input_variables]
    try:
        if out.suffix.lower() == ".csv":
            with CsvWriter(partial, columns) as writer:

                def fields(chunk: SynthChunk) -> list[list[pa.Array]]:
                    blocks = writer.formatted(empty_lists_as_token(chunk.data, schema))
                    if blocks is None:
                        raise InputFileError(f"cannot write {str(out)!r}: a column is not text")
                    return blocks

                _pipelined(chunks, fields, writer.write_formatted, advance)
        else:
            from kypho.registry import ParquetStream

            with ParquetStream(partial) as parquet:
                _pipelined(chunks, lambda chunk: chunk.data, parquet.write, advance)
        partial.replace(out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InputFileError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _pipelined(
    chunks: SynthChunks,
    prepare: Callable[[SynthChunk], _Prepared],
    write: Callable[[_Prepared], None],
    advance: Callable[[int], None],
) -> None:
    """Draw, prepare and write chunks in three stages that overlap.

    While the main thread draws a chunk, one thread prepares the one before
    (formats its cells) and another writes the one before that. Each stage
    takes the chunks in order and one at a time, so the file is the same as
    written in one thread; NumPy and pyarrow do most of the work outside the
    GIL, so on two cores the stages run side by side (memory: about four
    chunks). An error in a stage is raised here, at the latest once the chunk
    being drawn meanwhile is done; the stages in flight finish first.
    """
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="kypho-synth-format") as formatting,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="kypho-synth-write") as writing,
    ):
        prepared: deque[tuple[Future[_Prepared], int]] = deque()
        written: tuple[Future[None], int] | None = None

        def hand_on() -> None:
            nonlocal written
            ready, rows = prepared.popleft()
            value = ready.result()
            if written is not None:
                written[0].result()
                advance(written[1])
            written = (writing.submit(write, value), rows)

        for chunk in chunks:
            prepared.append((formatting.submit(prepare, chunk), len(chunk.data)))
            if len(prepared) > 1:
                hand_on()
        while prepared:
            hand_on()
        if written is not None:
            written[0].result()
            advance(written[1])
