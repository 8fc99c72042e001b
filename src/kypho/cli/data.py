"""``kypho validate``, ``kypho template`` and ``kypho dictionary``: data in and out.

pandas and the schema are imported inside the commands, so that ``kypho --help``
stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kypho.cli._options import schema_options
from kypho.errors import InputFileError

if TYPE_CHECKING:
    import pandas as pd

    from kypho.schema import Schema

__all__ = ["dictionary", "template", "validate"]


def _load(schema_files: tuple[Path, ...], extensions: tuple[Path, ...]) -> Schema:
    from kypho.cli._options import load_schema_files

    return load_schema_files(schema_files, extensions)


@click.command("validate")
@click.argument("input_file", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@schema_options
@click.option(
    "--sheet", default=None, help="Worksheet of an .xlsx INPUT (default: 'Data', else the first)."
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the table of problems (row, record, field, value, problem, message, action) to this .csv or .xlsx file.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Reject a whole record for any problem (default: flag the field, keep the record).",
)
def validate(
    input_file: Path,
    schema_files: tuple[Path, ...],
    extensions: tuple[Path, ...],
    sheet: str | None,
    report: Path | None,
    strict: bool,
) -> None:
    """Validate INPUT (.csv, .xlsx or .sav) against the study schema.

    Prints how many rows were read, accepted and rejected and how many fields
    were flagged, the columns that are not in the schema, the missing values
    among accepted rows, and every problem. By default a problem in one field
    flags that field (set missing) and keeps the record; only a record without
    a valid id or group, sharing its id, or on a line that could not be read is
    rejected. With --strict any problem rejects the record. The exit status is 1
    when any problem was found, 2 when the file or the schema cannot be read,
    0 otherwise.
    """
    from kypho.io import read_table
    from kypho.validation import validate as run_validate

    if report is not None and report.suffix.lower() not in (".csv", ".xlsx"):
        raise InputFileError(
            f"cannot write the report to {str(report)!r}: unsupported extension "
            f"{report.suffix!r}; allowed: .csv, .xlsx"
        )
    schema = _load(schema_files, extensions)
    raw = read_table(input_file, schema=schema, sheet=sheet)
    result = run_validate(raw, schema, strict=strict)
    click.echo(f"{input_file}: {result.summary()}")
    if result.unknown_columns:
        click.echo(
            "unknown columns (not in the schema, not used): " + ", ".join(result.unknown_columns)
        )
    if result.ignored_columns:
        click.echo(
            "derived columns ignored (kypho computes them): " + ", ".join(result.ignored_columns)
        )
    gaps = result.missing[result.missing > 0]
    if len(gaps):
        click.echo(
            "missing values among accepted rows: "
            + ", ".join(f"{name} {int(count)}" for name, count in gaps.items())
        )
    if len(result.problems):
        click.echo("problems:")
        for message in result.problems["message"]:
            click.echo(f"  {message}")
    if report is not None:
        _write_report(result.problems, report)
        click.echo(f"problems table written to {report}")
    if result.n_rejected or result.n_flagged:
        click.get_current_context().exit(1)


def _write_report(problems: pd.DataFrame, path: Path) -> None:
    from kypho.output.cells import write_csv, write_xlsx

    if path.suffix.lower() == ".xlsx":
        write_xlsx(problems, path, sheet_name="Problems")
    else:
        write_csv(problems, path)


@click.command("template")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The .xlsx workbook to write.",
)
@schema_options
def template(out: Path, schema_files: tuple[Path, ...], extensions: tuple[Path, ...]) -> None:
    """Write an Excel data-entry workbook generated from the schema.

    Sheet 'Data' has one column per variable to enter, with drop-down lists and
    ranges; sheet 'Dictionary' explains every variable. Fill in 'Data' and run
    'kypho validate' on the workbook.
    """
    from kypho.io import write_template

    schema = _load(schema_files, extensions)
    write_template(out, schema)
    click.echo(f"wrote {out}: {len(schema.input_variables)} columns on sheet 'Data'")


@click.command("dictionary")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this .csv, .xlsx or .md file (default: Markdown on standard output).",
)
@schema_options
def dictionary(
    out: Path | None, schema_files: tuple[Path, ...], extensions: tuple[Path, ...]
) -> None:
    """Write the data dictionary of the schema: one row per variable."""
    from kypho.io import data_dictionary, write_dictionary
    from kypho.io.dictionary import markdown_table

    schema = _load(schema_files, extensions)
    if out is None:
        click.echo(markdown_table(data_dictionary(schema)), nl=False)
        return
    write_dictionary(out, schema)
    click.echo(f"wrote {out}: {len(schema)} variables")
