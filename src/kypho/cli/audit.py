"""``kypho audit``: check a paper's printed statistics against its printed summaries.

``kypho synth`` (a cohort consistent with the paper) lives in :mod:`kypho.cli.synth`.
"""

from __future__ import annotations

from pathlib import Path

import click

from kypho.errors import AuditError, InputFileError

__all__ = ["audit"]


def _alpha(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not 0.0 < value < 1.0:
        raise AuditError(f"--alpha must be strictly between 0 and 1 (got {value:g})")
    return value


@click.command("audit")
@click.argument(
    "file",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "html"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option("--json", "as_json", is_flag=True, help="Write the findings as JSON instead.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--alpha",
    type=float,
    default=None,
    callback=_alpha,
    help="Significance level for decision errors (default: the file's, 0.05).",
)
@click.option(
    "--all", "show_all", is_flag=True, help="List consistent findings too, not only problems."
)
def audit(
    file: Path | None,
    fmt: str,
    as_json: bool,
    out: Path | None,
    alpha: float | None,
    show_all: bool,
) -> None:
    """Audit the published summary statistics in FILE (default: the bundled paper).

    FILE is a summary-table YAML file (format: docs/audit.md). Every value that can be
    recomputed from the printed summaries is classified as consistent, inconsistent,
    impossible or not_checkable. The exit status is 0 whenever the audit completes,
    whatever it finds.
    """
    from kypho.audit import audit as run_audit
    from kypho.audit import load_paper_tables, load_summary_tables, render

    tables = load_paper_tables() if file is None else load_summary_tables(file)
    report = run_audit(tables, alpha=alpha)
    text = render(report, "json" if as_json else fmt, show_all=show_all)
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"cannot write the audit report to {str(out)!r}: {exc}") from exc
    click.echo(f"wrote {out}", err=True)
