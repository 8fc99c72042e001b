"""The audit: recompute what the printed summaries allow and classify each printed value.

Every printed number stands for an interval (its rounding); every recomputation is
carried over the box of those intervals, so a recomputed value is a range, and a
printed value is **consistent** when its own interval meets the recomputed range.

Statuses:

``consistent``
    The printed value is within what the printed summaries allow.
``inconsistent``
    It is not: no value within the rounding of the printed summaries gives it.
``impossible``
    No data could give it at all (a P above 1, a count above n, identical counts with
    P far from 1, a paired t no within-patient correlation allows, a mean outside the
    scale).
``not_checkable``
    The check cannot decide (the scale makes GRIM uninformative, the recomputed P
    straddles alpha, the paper does not say which variant it used).

The rules for each check are in ``docs/audit.md``.
"""

from __future__ import annotations

import dataclasses

from kypho.audit._base import Ctx
from kypho.audit._continuous_rows import between_tests, continuous_findings
from kypho.audit._count_rows import (
    binary_findings,
    categorical_findings,
    n_row_findings,
    section_findings,
)
from kypho.audit.model import ContinuousRow, CountRow, NRow, SourceRef, SummaryTables
from kypho.audit.result import AuditReport, Finding
from kypho.audit.rounding import ROUNDING_RULES, RoundingRule
from kypho.errors import AuditError

__all__ = ["audit"]


def audit(
    tables: SummaryTables, *, alpha: float | None = None, rounding: RoundingRule = "up_or_down"
) -> AuditReport:
    """Audit a study's printed summary tables.

    Parameters
    ----------
    tables : SummaryTables
        As read by :func:`kypho.audit.load_summary_tables`.
    alpha : float, optional
        Significance level for decision errors; defaults to the study's (0.05).
    rounding : str
        How the paper rounded, for GRIM, GRIMMER and DEBIT
        (:mod:`kypho.audit.rounding`); the default accepts a half rounded either way.

    Returns
    -------
    AuditReport
        One finding per checked value, in table and row order.

    Raises
    ------
    AuditError
        When ``alpha`` is not strictly between 0 and 1.

    Notes
    -----
    See the module docstring for the statuses and ``docs/audit.md`` for each check.

    References
    ----------
    Nuijten MB, et al. The prevalence of statistical reporting errors in psychology
    (1985-2013). Behav Res Methods 2016;48:1205-1226 (statcheck's rule).
    Brown NJL, Heathers JAJ. The GRIM test. Soc Psychol Personal Sci 2017;8:363-369.

    Examples
    --------
    >>> from kypho.audit import load_paper_tables
    >>> report = audit(load_paper_tables())
    >>> report.counts()["impossible"] > 0
    True
    """
    a = tables.alpha if alpha is None else alpha
    if isinstance(a, bool) or not isinstance(a, int | float) or not 0.0 < a < 1.0:
        raise AuditError(f"alpha must be a number strictly between 0 and 1 (got {alpha!r})")
    if rounding not in ROUNDING_RULES:
        raise AuditError(f"rounding must be one of {', '.join(ROUNDING_RULES)} (got {rounding!r})")
    findings: list[Finding] = []
    between = between_tests(tables, float(a))
    for table in tables.tables:
        ctx = Ctx(tables, table, float(a), rounding, between)
        for row in table.rows:
            if isinstance(row, NRow):
                findings.extend(n_row_findings(ctx, row))
            elif isinstance(row, ContinuousRow):
                findings.extend(continuous_findings(ctx, row))
            elif isinstance(row, CountRow):
                findings.extend(binary_findings(ctx, row))
            else:
                findings.extend(categorical_findings(ctx, row))
        findings.extend(section_findings(ctx))
    findings = _with_sources(tables, findings)
    from kypho import __version__

    return AuditReport(
        title=tables.title,
        source=tables.source,
        groups=tuple((g.key, g.label, g.n) for g in tables.groups),
        alpha=float(a),
        findings=tuple(findings),
        kypho_version=__version__,
        tables=tuple((t.number, t.title) for t in tables.tables),
    )


def _with_sources(tables: SummaryTables, findings: list[Finding]) -> list[Finding]:
    """Each finding quotes the text of its row where the rows came from a paper's text."""
    sources: dict[tuple[int, str, str | None], SourceRef] = {}
    for table in tables.tables:
        for row in table.rows:
            if row.source is not None:
                sources[(table.number, row.label, row.section)] = row.source
    if not sources:
        return findings
    out = []
    for f in findings:
        ref = sources.get((f.table, f.row, f.section))
        if ref is None or f.source_text is not None:
            out.append(f)
        else:
            out.append(dataclasses.replace(f, source_text=ref.text, page=ref.page, line=ref.line))
    return out
