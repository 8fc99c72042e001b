"""Rendering an :class:`~kypho.audit.result.AuditReport`: terminal text, Markdown, HTML, JSON.

Each renderer returns a string; the command line writes it. By default the report lists
every finding that is not ``consistent`` with its reason and counts the consistent ones
per table; ``show_all=True`` lists them all.
"""

from __future__ import annotations

import html
import json
import textwrap
from collections.abc import Iterator

from kypho.audit.document import Document, Line
from kypho.audit.result import STATUSES, AuditReport, Finding
from kypho.errors import AuditError

__all__ = [
    "render",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
    "summary_line",
]

_WORDS = {
    "consistent": "consistent",
    "inconsistent": "inconsistent",
    "impossible": "impossible",
    "not_checkable": "not checkable",
}
# Worst first within a table, so that what needs attention is read first.
_ORDER = {"impossible": 0, "inconsistent": 1, "not_checkable": 2, "consistent": 3}


def _count(n: int, noun: str) -> str:
    """``"1 check"``, ``"2 checks"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _summary_line(report: AuditReport) -> str:
    c = report.counts()
    parts = [f"{c[s]} {_WORDS[s]}" for s in STATUSES]
    return (
        f"{_count(c['total'], 'check')}: "
        + ", ".join(parts)
        + f"; {_count(c['decision_errors'], 'decision error')}"
    )


def _more_consistent(n_ok: int) -> str:
    return f"{_count(n_ok, 'more check')} consistent"


def _groups_line(report: AuditReport) -> str:
    if not report.groups:
        return "none read"
    return ", ".join(f"{label} (n = {n})" for _, label, n in report.groups)


def summary_line(report: AuditReport) -> str:
    """One line per paper, as statcheck prints: the source and the counts.

    Examples
    --------
    >>> from kypho.audit import audit, load_paper_tables
    >>> summary_line(audit(load_paper_tables()))[:40]
    'shared/paper/kyphoplasty-staged-perfusio'
    """
    return f"{report.source or report.title}: {_summary_line(report)}"


def _heading(report: AuditReport, table: int) -> str:
    """ "Table 2. Comparison of …" (the title as printed), "In the text" for table 0."""
    if table == 0:
        return "In the text"
    title = report.table_title(table)
    return f"Table {table}. {title}" if title else f"Table {table}"


def _located(f: Finding) -> str | None:
    """ "page 1, line 160: “…”" for a finding read from a paper's text."""
    if f.source_text is None:
        return None
    where = f"page {f.page}, line {f.line}" if f.line is not None else "source"
    return f"{where}: “{f.source_text}”"


def _by_table(report: AuditReport, show_all: bool) -> Iterator[tuple[int, list[Finding], int]]:
    tables = sorted({f.table for f in report.findings})
    for t in tables:
        found = [f for f in report.findings if f.table == t]
        shown = [f for f in found if show_all or f.status != "consistent"]
        shown.sort(key=lambda f: _ORDER[f.status])
        yield t, shown, sum(f.status == "consistent" for f in found)


def _where(f: Finding) -> str:
    group = f" [{f.group}]" if f.group else ""
    return f"{f.row}{group} · {f.column}"


def render_text(report: AuditReport, *, show_all: bool = False, width: int = 100) -> str:
    """Plain-text report for a terminal."""
    lines = [
        f"kypho audit: {report.title}",
        f"source: {report.source}" if report.source else "",
        f"groups: {_groups_line(report)}; alpha = {report.alpha:g}",
        _summary_line(report),
        "",
    ]
    for table, shown, n_ok in _by_table(report, show_all):
        lines.append(_heading(report, table))
        for f in shown:
            head = f"  {_WORDS[f.status]:<14}{_where(f)}  [{f.check}]"
            lines.append(head)
            values = f"reported {f.reported or '—'}; recomputed {f.recomputed or '—'}"
            located = _located(f)
            for text in (
                values,
                f.reason,
                *([f"assumes: {f.assumption}"] if f.assumption else []),
                *([located] if located else []),
            ):
                lines.extend(
                    textwrap.wrap(
                        text, width=width, initial_indent=" " * 16, subsequent_indent=" " * 16
                    )
                )
        if not show_all:
            lines.append(f"  {_more_consistent(n_ok)}")
        lines.append("")
    return "\n".join(line for line in lines if line is not None).rstrip() + "\n"


def _md(text: str | None) -> str:
    return (text or "—").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: AuditReport, *, show_all: bool = False) -> str:
    """GitHub-flavoured Markdown report: one table of findings per published table."""
    out = [
        f"# Audit: {_md(report.title)}",
        "",
        f"- Source: {_md(report.source)}",
        f"- Groups: {_groups_line(report)}",
        f"- α = {report.alpha:g}",
        f"- {_summary_line(report)}",
        "",
    ]
    for table, shown, n_ok in _by_table(report, show_all):
        out += [f"## {_md(_heading(report, table))}", ""]
        if shown:
            out += [
                "| Status | Row | Column | Group | Reported | Recomputed | Check | Reason |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for f in shown:
                reason = f.reason + (f" (assumes: {f.assumption})" if f.assumption else "")
                located = _located(f)
                reason += f" — {located}" if located else ""
                out.append(
                    f"| {_WORDS[f.status]} | {_md(f.row)} | {_md(f.column)} | {_md(f.group)} | "
                    f"{_md(f.reported)} | {_md(f.recomputed)} | `{f.check}` | {_md(reason)} |"
                )
            out.append("")
        if not show_all:
            out += [f"{_more_consistent(n_ok)}.", ""]
    return "\n".join(out).rstrip() + "\n"


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; width: 100%; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.status { font-weight: bold; white-space: nowrap; }
tr.impossible td.status { color: #a00; }
tr.inconsistent td.status { color: #b35c00; }
tr.not_checkable td.status { color: #555; }
tr.consistent td.status { color: #2a7a2a; }
.assumes, .source { color: #555; font-size: 0.9em; }
td:last-child { width: 40%; }
pre.context { white-space: pre-wrap; background: #fafafa; border: 1px solid #ddd; padding: 0.5em; }
mark.impossible { background: #f2a0a0; } mark.inconsistent { background: #ffe28a; }
mark.not_checkable { background: #e4e4e4; } mark.consistent { background: #d5eed5; }
.lineno { color: #888; user-select: none; }
"""


def render_html(
    report: AuditReport, *, show_all: bool = False, document: Document | None = None
) -> str:
    """A self-contained HTML page (no scripts, no external resources).

    With the ``document`` the findings were read from, an "In context" section shows
    each line a finding checked, the checked text highlighted by its status.
    """
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Audit: {e(report.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Audit: {e(report.title)}</h1>",
        "<ul>",
        f"<li>Source: {e(report.source or '—')}</li>",
        f"<li>Groups: {e(_groups_line(report))}</li>",
        f"<li>α = {report.alpha:g}</li>",
        f"<li>{e(_summary_line(report))}</li>",
        "</ul>",
    ]
    for table, shown, n_ok in _by_table(report, show_all):
        parts.append(f"<h2>{e(_heading(report, table))}</h2>")
        if shown:
            parts.append(
                "<table><thead><tr><th>Status</th><th>Row</th><th>Column</th><th>Group</th>"
                "<th>Reported</th><th>Recomputed</th><th>Check</th><th>Reason</th></tr></thead><tbody>"
            )
            for f in shown:
                assumes = (
                    f'<div class="assumes">assumes: {e(f.assumption)}</div>' if f.assumption else ""
                )
                located = _located(f)
                if located:
                    assumes += f'<div class="source">{e(located)}</div>'
                parts.append(
                    f'<tr class="{f.status}"><td class="status">{e(_WORDS[f.status])}</td>'
                    f"<td>{e(f.row)}</td><td>{e(f.column)}</td><td>{e(f.group or '—')}</td>"
                    f"<td>{e(f.reported or '—')}</td><td>{e(f.recomputed or '—')}</td>"
                    f"<td><code>{e(f.check)}</code></td><td>{e(f.reason)}{assumes}</td></tr>"
                )
            parts.append("</tbody></table>")
        if not show_all:
            parts.append(f"<p>{_more_consistent(n_ok)}.</p>")
    if document is not None:
        parts.extend(_context_html(report, document, show_all))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _context_html(report: AuditReport, document: Document, show_all: bool) -> list[str]:
    """Each checked line of the paper, the checked text marked with the worst status.

    A table row read from several lines (a within-group t printed under its cell, the
    levels of a categorical row) is shown on all of them; a ``⋮`` stands for the lines of
    text left out between two shown lines.
    """
    e = html.escape
    lines = document.lines
    index = {line.number: i for i, line in enumerate(lines)}
    by_line: dict[int, list[Finding]] = {}
    for f in report.findings:
        if f.line is not None and (show_all or f.status != "consistent"):
            for number in _source_lines(f.line, f.source_text, lines, index):
                by_line.setdefault(number, []).append(f)
    if not by_line:
        return []
    out = ["<h2>In context</h2>", '<pre class="context">']
    previous: int | None = None
    for number in sorted(by_line):
        if number not in index:
            continue
        line = lines[index[number]]
        if previous is not None and any(
            lines[i].text.strip() for i in range(index[previous] + 1, index[number])
        ):
            out.append(f'<span class="lineno">{"⋮":>18}</span>')
        previous = number
        found = sorted(by_line[number], key=lambda f: _ORDER[f.status])
        worst = found[0]
        title = e("; ".join(f"{_WORDS[f.status]}: {f.reason}" for f in found), quote=True)
        quote = worst.source_text or ""
        body = line.text
        at = body.find(quote) if quote and "/" not in quote else -1
        if at >= 0:
            marked = (
                e(body[:at])
                + f'<mark class="{worst.status}" title="{title}">{e(quote)}</mark>'
                + e(body[at + len(quote) :])
            )
        else:
            marked = f'<mark class="{worst.status}" title="{title}">{e(body)}</mark>'
        gutter = f"page {line.page}, line {number}"
        out.append(f'<span class="lineno">{gutter:>18}  </span>{marked}')
    out.append("</pre>")
    return out


def _source_lines(
    first: int, quoted: str | None, lines: tuple[Line, ...], index: dict[int, int]
) -> list[int]:
    """The numbers of the lines a finding's quoted text came from, ``first`` the first.

    A row's text quotes its lines joined by " / "; each part is looked for on the next
    line that is not blank. Where a part is not found there (a line that itself holds
    " / "), the lines found so far are the answer.
    """
    parts = (quoted or "").split(" / ")
    if len(parts) < 2 or first not in index:
        return [first]
    found = [first]
    i = index[first]
    for part in parts[1:]:
        i += 1
        while i < len(lines) and not lines[i].text.strip():
            i += 1
        if i == len(lines) or lines[i].text.strip() != part:
            break
        found.append(lines[i].number)
    return found


def render_json(report: AuditReport) -> str:
    """The JSON document of :meth:`AuditReport.to_dict`, indented, UTF-8 text."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def render(
    report: AuditReport, fmt: str, *, show_all: bool = False, document: Document | None = None
) -> str:
    """Render in ``fmt``: ``"text"``, ``"markdown"``, ``"html"`` or ``"json"``."""
    if fmt == "text":
        return render_text(report, show_all=show_all)
    if fmt == "markdown":
        return render_markdown(report, show_all=show_all)
    if fmt == "html":
        return render_html(report, show_all=show_all, document=document)
    if fmt == "json":
        return render_json(report)
    raise AuditError(f"unknown report format {fmt!r} (allowed: text, markdown, html, json)")
