"""Audit a paper straight from its file: read it, extract, check, in one call.

:func:`audit_paper` reads a .txt, .md, .html, .docx or .pdf paper
(:mod:`kypho.audit.document`), extracts its summary tables and the test results in its
running text (:mod:`kypho.audit.extract`), audits the tables as a transcribed file
would be (:func:`kypho.audit.audit`) and checks each inline result as statcheck does
(:mod:`kypho.audit.inline`). Every finding quotes the text it checked, with its page and
line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kypho.audit.checks import audit
from kypho.audit.document import Document, read_document
from kypho.audit.extract import Extraction, extract
from kypho.audit.inline import InlineResult, check_inline, one_tailed_mentioned
from kypho.audit.result import AuditReport, Finding
from kypho.audit.rounding import RoundingRule
from kypho.errors import AuditError, KyphoError

__all__ = ["PaperAudit", "audit_paper", "audit_papers"]


@dataclass(frozen=True)
class PaperAudit:
    """The audit of one paper: the findings, what was extracted, and the text read."""

    report: AuditReport
    extraction: Extraction
    document: Document


def _combine(
    doc: Document,
    extraction: Extraction,
    inline: list[Finding],
    alpha: float,
    rounding: RoundingRule = "up_or_down",
) -> PaperAudit:
    tables = extraction.tables
    if tables is not None:
        base = audit(tables, alpha=alpha, rounding=rounding)
        report = AuditReport(
            title=base.title,
            source=doc.source,
            groups=base.groups,
            alpha=base.alpha,
            findings=(*inline, *base.findings),
            kypho_version=base.kypho_version,
            tables=base.tables,
        )
    else:
        from kypho import __version__

        report = AuditReport(
            title=Path(doc.source).stem,
            source=doc.source,
            groups=(),
            alpha=alpha,
            findings=tuple(inline),
            kypho_version=__version__,
        )
    return PaperAudit(report, extraction, doc)


def audit_papers(
    papers: Sequence[str | Path | Document],
    *,
    alpha: float = 0.05,
    rounding: RoundingRule = "up_or_down",
    **switches: bool,
) -> list[PaperAudit | KyphoError]:
    """Audit many papers; the in-text results of all of them are recomputed in one
    vectorised call (:func:`kypho.audit.inline.check_inline`).

    Returns, per paper and in order, its :class:`PaperAudit`, or the
    :class:`~kypho.errors.KyphoError` that kept it from being read.
    """
    read: list[tuple[Document, Extraction] | KyphoError] = []
    for paper in papers:
        try:
            doc = paper if isinstance(paper, Document) else read_document(paper)
            read.append((doc, extract(doc)))
        except KyphoError as exc:
            read.append(exc)
    results: list[InlineResult] = []
    owner: list[int] = []
    mentioned: list[bool] = []
    for i, item in enumerate(read):
        if isinstance(item, KyphoError):
            continue
        flag = one_tailed_mentioned(item[0].text)
        results.extend(item[1].inline)
        owner.extend([i] * len(item[1].inline))
        mentioned.extend([flag] * len(item[1].inline))
    checked = check_inline(results, alpha=alpha, one_tailed_in_text=mentioned, **switches)
    per_paper: dict[int, list[Finding]] = {}
    for i, f in zip(owner, checked, strict=True):
        per_paper.setdefault(i, []).append(f)
    out: list[PaperAudit | KyphoError] = []
    for i, item in enumerate(read):
        if isinstance(item, KyphoError):
            out.append(item)
            continue
        try:
            out.append(_combine(item[0], item[1], per_paper.get(i, []), alpha, rounding))
        except KyphoError as exc:
            out.append(exc)
    return out


def audit_paper(
    paper: str | Path | Document,
    *,
    alpha: float | None = None,
    p_equal_alpha_significant: bool = False,
    p_zero_error: bool = True,
    one_tailed_text: bool = False,
    one_tailed_tests: bool = False,
    rounding: RoundingRule = "up_or_down",
) -> PaperAudit:
    """Read a paper, extract its tables and inline results, and audit them.

    Parameters
    ----------
    paper : path or Document
        The paper's file (.txt, .md, .html, .htm, .docx, .pdf) or a document already read.
    alpha : float, optional
        Significance level for decision errors (default: the one the paper's methods
        state, else 0.05).
    p_equal_alpha_significant, p_zero_error, one_tailed_text, one_tailed_tests : bool
        The inline checks' statcheck-compatible switches (:func:`kypho.audit.inline.check_inline`).
    rounding : str
        How the paper rounded, for GRIM, GRIMMER and DEBIT (:mod:`kypho.audit.rounding`).

    Returns
    -------
    PaperAudit

    Examples
    --------
    >>> from kypho.audit.document import Document
    >>> doc = Document.from_text("We found a difference, t(28) = 2.20, p = .03.")
    >>> result = audit_paper(doc)
    >>> [(f.status, f.page, f.line, f.source_text) for f in result.report.findings]
    [('inconsistent', 1, 1, 't(28) = 2.20, p = .03')]
    """
    doc = paper if isinstance(paper, Document) else read_document(paper)
    extraction = extract(doc)
    tables = extraction.tables
    if alpha is not None and not 0.0 < alpha < 1.0:
        raise AuditError(f"alpha must be a number strictly between 0 and 1 (got {alpha!r})")
    a = alpha if alpha is not None else (tables.alpha if tables is not None else 0.05)
    inline = check_inline(
        extraction.inline,
        alpha=a,
        p_equal_alpha_significant=p_equal_alpha_significant,
        p_zero_error=p_zero_error,
        one_tailed_text=one_tailed_text,
        one_tailed_in_text=one_tailed_mentioned(doc.text),
        one_tailed_tests=one_tailed_tests,
    )
    return _combine(doc, extraction, inline, a, rounding)
