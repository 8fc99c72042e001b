"""``kypho audit``: check a paper's printed statistics against its printed summaries.

FILE is a paper (.txt, .md, .html, .htm, .docx, .pdf: its tables and the results in
its text are extracted, then audited), a summary-table YAML file, or a folder of either
(one summary line per file, as statcheck prints). ``kypho synth`` (a cohort consistent
with the paper) lives in :mod:`kypho.cli.synth`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from kypho.audit.rounding import ROUNDING_RULES
from kypho.errors import AuditError, InputFileError, KyphoError

if TYPE_CHECKING:
    from kypho.audit.rounding import RoundingRule

__all__ = ["audit"]

_YAML = (".yaml", ".yml")


def _alpha(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not 0.0 < value < 1.0:
        raise AuditError(f"--alpha must be strictly between 0 and 1 (got {value:g})")
    return value


def _write(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"cannot write the audit report to {str(out)!r}: {exc}") from exc
    click.echo(f"wrote {out}", err=True)


@click.command("audit")
@click.argument(
    "file",
    required=False,
    type=click.Path(path_type=Path),
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
    help="Write the report (or, with --extract-only, the YAML) to this file.",
)
@click.option(
    "--alpha",
    type=float,
    default=None,
    callback=_alpha,
    help="Significance level for decision errors (default: the paper's, else 0.05).",
)
@click.option(
    "--all", "show_all", is_flag=True, help="List consistent findings too, not only problems."
)
@click.option(
    "--extract-only",
    is_flag=True,
    help="Write what was read from the paper as summary-table YAML (to correct and audit again).",
)
@click.option(
    "--p-equal-alpha-significant/--p-equal-alpha-not-significant",
    default=False,
    show_default=True,
    help="Count P = alpha as significant (statcheck's default) or not (kypho's: P < alpha).",
)
@click.option(
    "--p-zero-error/--no-p-zero-error",
    default=True,
    show_default=True,
    help="Count 'p = .000' as an error (a P is never 0).",
)
@click.option(
    "--one-tailed-text",
    is_flag=True,
    help="Where the paper says one-tailed/one-sided/directional, accept a t, z or r result that "
    "is right one-tailed (statcheck's OneTailedTxt).",
)
@click.option(
    "--rounding",
    type=click.Choice(ROUNDING_RULES),
    default="up_or_down",
    show_default=True,
    help="How the paper rounded, for GRIM, GRIMMER and DEBIT (up_or_down accepts a half either way).",
)
@click.option(
    "--one-tailed",
    "one_tailed_tests",
    is_flag=True,
    help="Treat every t, z and r result in the text as one-tailed (statcheck's OneTailedTests).",
)
def audit(
    file: Path | None,
    fmt: str,
    as_json: bool,
    out: Path | None,
    alpha: float | None,
    show_all: bool,
    extract_only: bool,
    p_equal_alpha_significant: bool,
    p_zero_error: bool,
    one_tailed_text: bool,
    one_tailed_tests: bool,
    rounding: str,
) -> None:
    """Audit the published statistics in FILE (default: the bundled paper's tables).

    FILE is a paper (.txt, .md, .html, .htm, .docx or .pdf), whose summary tables and
    in-text results (t, F, r, χ², z, Q with their P) are read and checked, each finding
    quoting the text with its page and line; a summary-table YAML file (format:
    docs/audit.md); or a folder of papers and YAML files, one summary line each.
    Every checked value is classified as consistent, inconsistent, impossible or
    not_checkable. The exit status is 0 whenever the audit completes, whatever it finds.
    """
    from kypho.audit.document import SUFFIXES

    switches: dict[str, Any] = {
        "p_equal_alpha_significant": p_equal_alpha_significant,
        "p_zero_error": p_zero_error,
        "one_tailed_text": one_tailed_text,
        "one_tailed_tests": one_tailed_tests,
    }
    if file is not None and file.is_dir():
        _audit_folder(file, alpha, switches, out, rounding)
        return
    suffix = "" if file is None else file.suffix.lower()
    if file is not None and suffix in SUFFIXES:
        from kypho.audit import audit_paper, render

        result = audit_paper(file, alpha=alpha, rounding=cast("RoundingRule", rounding), **switches)
        ex = result.extraction
        if extract_only:
            _write(ex.to_yaml(), out)
            return
        for note in ex.notes:
            click.echo(f"note: {note}", err=True)
        for u in ex.unparsed:
            click.echo(f"not read: page {u.page}, line {u.line}: {u.text!r}: {u.reason}", err=True)
        text = render(
            result.report,
            "json" if as_json else fmt,
            show_all=show_all,
            document=result.document,
        )
        _write(text, out)
        return
    if extract_only:
        raise AuditError(
            f"--extract-only reads a paper ({', '.join(SUFFIXES)}); {str(file)!r} is already "
            "a summary-table file"
        )
    from kypho.audit import audit as run_audit
    from kypho.audit import load_paper_tables, load_summary_tables, render

    tables = load_paper_tables() if file is None else load_summary_tables(file)
    report = run_audit(tables, alpha=alpha, rounding=cast("RoundingRule", rounding))
    _write(render(report, "json" if as_json else fmt, show_all=show_all), out)


def _audit_folder(
    folder: Path, alpha: float | None, switches: dict[str, Any], out: Path | None, rounding: Any
) -> None:
    """One statcheck-style summary line per paper or summary-table file in ``folder``."""
    from kypho.audit import audit as run_audit
    from kypho.audit import load_summary_tables, summary_line
    from kypho.audit.document import SUFFIXES

    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (*SUFFIXES, *_YAML)
    )
    if not files:
        raise InputFileError(
            f"{str(folder)!r} holds no paper ({', '.join(SUFFIXES)}) and no summary-table file (.yaml)"
        )
    from kypho.audit.paper import audit_papers

    yaml_files = [p for p in files if p.suffix.lower() in _YAML]
    paper_files = [p for p in files if p.suffix.lower() not in _YAML]
    line_of: dict[Path, str] = {}
    for path, result in zip(
        paper_files,
        audit_papers(paper_files, alpha=alpha or 0.05, rounding=rounding, **switches),
        strict=True,
    ):
        if isinstance(result, KyphoError):
            line_of[path] = f"{path}: not audited: {result}"
        else:
            line_of[path] = summary_line(result.report)
    for path in yaml_files:
        try:
            report = run_audit(load_summary_tables(path), alpha=alpha, rounding=rounding)
            line_of[path] = summary_line(report)
        except KyphoError as exc:
            line_of[path] = f"{path}: not audited: {exc}"
    _write("\n".join(line_of[p] for p in files) + "\n", out)
