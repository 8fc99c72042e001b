"""Audit of a paper's published summary statistics.

Read a study's printed tables (``load_summary_tables``; the paper's Tables 1–7 are
bundled: ``load_paper_tables``), recompute what the printed summaries allow
(``audit``) and render the findings (``render``). GRIM, GRIMMER and DEBIT are
available on their own. The file format and the JSON schema are in ``docs/audit.md``.

Examples
--------
>>> from kypho.audit import audit, load_paper_tables
>>> report = audit(load_paper_tables())
>>> sorted({f.status for f in report.findings})
['consistent', 'impossible', 'inconsistent', 'not_checkable']
"""

from __future__ import annotations

from kypho.audit.checks import audit
from kypho.audit.granularity import DebitResult, GrimmerResult, GrimResult, debit, grim, grimmer
from kypho.audit.loader import (
    FORMAT_NAME,
    FORMAT_VERSION,
    load_paper_tables,
    load_summary_tables,
    paper_tables_path,
    parse_summary_tables,
)
from kypho.audit.model import (
    CategoricalRow,
    ContinuousRow,
    CountCell,
    CountRow,
    Group,
    Level,
    MeanSDCell,
    NRow,
    PercentRow,
    Reported,
    ReportedStatistic,
    Scale,
    SummaryTable,
    SummaryTables,
    Within,
)
from kypho.audit.report import render, render_html, render_json, render_markdown, render_text
from kypho.audit.result import CHECKS, SCHEMA_VERSION, STATUSES, AuditReport, Finding

__all__ = [
    "CHECKS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "SCHEMA_VERSION",
    "STATUSES",
    "AuditReport",
    "CategoricalRow",
    "ContinuousRow",
    "CountCell",
    "CountRow",
    "DebitResult",
    "Finding",
    "GrimResult",
    "GrimmerResult",
    "Group",
    "Level",
    "MeanSDCell",
    "NRow",
    "PercentRow",
    "Reported",
    "ReportedStatistic",
    "Scale",
    "SummaryTable",
    "SummaryTables",
    "Within",
    "audit",
    "debit",
    "grim",
    "grimmer",
    "load_paper_tables",
    "load_summary_tables",
    "paper_tables_path",
    "parse_summary_tables",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
]
