"""``kypho redcap``: REDCap data dictionaries and records, in and out.

Sub-commands: ``dictionary`` (the schema as a REDCap data dictionary), ``schema``
(a REDCap data dictionary as a kypho schema or extension), ``records`` (a REDCap
records export as a kypho table, validated), ``export`` (kypho records as a REDCap
import file). See :mod:`kypho.io.redcap`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kypho.errors import InputFileError

__all__ = ["redcap"]

_schema_option = click.option(
    "--schema",
    "schema_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Study schema YAML file (default: kypho's built-in kyphoplasty schema).",
)


def _write_csv(frame: Any, out: Path) -> None:
    """Every CSV kypho writes goes through the one neutralising writer."""
    from kypho.output.cells import write_csv

    write_csv(frame, out)


@click.group("redcap")
def redcap() -> None:
    """REDCap interoperability: data dictionaries and records, in and out."""


@redcap.command("dictionary")
@_schema_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The data dictionary CSV to write (upload it on REDCap's Data Dictionary page).")  # fmt: skip
def dictionary(schema_path: Path | None, out: Path) -> None:
    """Write the study schema as a REDCap data dictionary."""
    from kypho.io.redcap import dictionary_from_schema
    from kypho.schema import load_schema

    frame = dictionary_from_schema(load_schema(schema_path))
    _write_csv(frame, out)
    click.echo(f"Wrote {len(frame)} fields to {out}.")


@redcap.command("schema")
@click.argument("dictionary_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The kypho schema (or extension) YAML to write.")  # fmt: skip
@click.option("--group", "group_column", default=None,
              help="The field holding the treatment group: write a whole schema (else an "
                   "extension of the built-in schema, or of --schema).")  # fmt: skip
@click.option("--study", default=None, help="The study's name (a whole schema).")
@_schema_option
def schema_command(
    dictionary_csv: Path,
    out: Path,
    group_column: str | None,
    study: str | None,
    schema_path: Path | None,
) -> None:
    """Convert a REDCap data dictionary into a kypho schema or schema extension.

    Every REDCap feature kypho does not carry over is printed as a warning (and
    written at the top of the YAML file).
    """
    from kypho.io.redcap import schema_from_dictionary
    from kypho.schema import load_schema

    base = None if group_column else load_schema(schema_path)
    result = schema_from_dictionary(
        dictionary_csv, group_column=group_column, study=study, base=base
    )
    try:
        out.write_text(result.to_yaml(), encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from exc
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    kind = "schema" if "id_column" in result.document else "schema extension"
    click.echo(f"Wrote the {kind} to {out} ({len(result.warnings)} warning(s)).")


@redcap.command("records")
@click.argument("export_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_schema_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The kypho table (.csv) to write: validate it, analyse it, import it.")  # fmt: skip
def records(export_csv: Path, schema_path: Path | None, out: Path) -> None:
    """Read a REDCap records export (raw or labels) into kypho's columns.

    The table is validated; the exit status is 1 when a record is rejected.
    """
    from kypho.io.redcap import records_from_redcap
    from kypho.schema import load_schema
    from kypho.validation import validate

    schema = load_schema(schema_path)
    result = records_from_redcap(export_csv, schema)
    _write_csv(result.data, out)
    kind = "labelled" if result.labelled else "raw"
    click.echo(f"Wrote {len(result.data)} records ({kind} export) to {out}.")
    if result.ignored:
        click.echo("not study data, not read: " + ", ".join(result.ignored))
    for warning in result.warnings:
        click.echo(f"note: {warning}")
    checked = validate(result.data, schema)
    click.echo(checked.summary())
    if len(checked.problems):
        raise SystemExit(1)


@redcap.command("export")
@click.argument("input_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_schema_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The REDCap import file (.csv) to write.")  # fmt: skip
def export(input_file: Path, schema_path: Path | None, out: Path) -> None:
    """Write kypho records (validated) as a REDCap import file (raw codes)."""
    from kypho.io import read_table
    from kypho.io.redcap import records_to_redcap
    from kypho.schema import load_schema
    from kypho.validation import validate

    schema = load_schema(schema_path)
    checked = validate(read_table(input_file, schema=schema), schema)
    frame = records_to_redcap(checked.data, schema)
    _write_csv(frame, out)
    click.echo(f"Wrote {len(frame)} records to {out}.")
    if len(checked.problems):
        click.echo(f"{len(checked.problems)} problem(s): rejected records are not in the file")
        raise SystemExit(1)
