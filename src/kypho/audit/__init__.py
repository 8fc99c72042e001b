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
from kypho.audit.document import Document, read_document
from kypho.audit.extract import Extraction, Unparsed, extract
from kypho.audit.granularity import (
    DebitResult,
    GrimmerResult,
    GrimResult,
    debit,
    grim,
    grim_percent,
    grimmer,
)
from kypho.audit.inline import InlineResult, check_inline, find_inline
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
    SourceRef,
    SummaryTable,
    SummaryTables,
    Within,
)
from kypho.audit.paper import PaperAudit, audit_paper
from kypho.audit.report import (
    render,
    render_html,
    render_json,
    render_markdown,
    render_text,
    summary_line,
)
from kypho.audit.result import CHECKS, SCHEMA_VERSION, STATUSES, AuditReport, Finding
from kypho.audit.rounding import ROUNDING_RULES, PrintedInterval, RoundingRule, printed_interval
from kypho.audit.sprite import SpriteResult, sprite

__all__ = [
    "CHECKS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ROUNDING_RULES",
    "SCHEMA_VERSION",
    "STATUSES",
    "AuditReport",
    "CategoricalRow",
    "ContinuousRow",
    "CountCell",
    "CountRow",
    "DebitResult",
    "Document",
    "Extraction",
    "Finding",
    "GrimResult",
    "GrimmerResult",
    "Group",
    "InlineResult",
    "Level",
    "MeanSDCell",
    "NRow",
    "PaperAudit",
    "PercentRow",
    "PrintedInterval",
    "Reported",
    "ReportedStatistic",
    "RoundingRule",
    "Scale",
    "SourceRef",
    "SpriteResult",
    "SummaryTable",
    "SummaryTables",
    "Unparsed",
    "Within",
    "audit",
    "audit_paper",
    "check_inline",
    "debit",
    "extract",
    "find_inline",
    "grim",
    "grim_percent",
    "grimmer",
    "load_paper_tables",
    "load_summary_tables",
    "paper_tables_path",
    "parse_summary_tables",
    "printed_interval",
    "read_document",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
    "sprite",
    "summary_line",
]
