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

from kypho.audit.result import STATUSES, AuditReport, Finding
from kypho.errors import AuditError

__all__ = ["render", "render_html", "render_json", "render_markdown", "render_text"]

_WORDS = {
    "consistent": "consistent",
    "inconsistent": "inconsistent",
    "impossible": "impossible",
    "not_checkable": "not checkable",
}
# Worst first within a table, so that what needs attention is read first.
_ORDER = {"impossible": 0, "inconsistent": 1, "not_checkable": 2, "consistent": 3}


def _summary_line(report: AuditReport) -> str:
    c = report.counts()
    parts = [f"{c[s]} {_WORDS[s]}" for s in STATUSES]
    return (
        f"{c['total']} checks: " + ", ".join(parts) + f"; {c['decision_errors']} decision error(s)"
    )


def _groups_line(report: AuditReport) -> str:
    return ", ".join(f"{label} (n = {n})" for _, label, n in report.groups)


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
        lines.append(f"Table {table}")
        for f in shown:
            head = f"  {_WORDS[f.status]:<14}{_where(f)}  [{f.check}]"
            lines.append(head)
            values = f"reported {f.reported or '—'}; recomputed {f.recomputed or '—'}"
            for text in (values, f.reason, *([f"assumes: {f.assumption}"] if f.assumption else [])):
                lines.extend(
                    textwrap.wrap(
                        text, width=width, initial_indent=" " * 16, subsequent_indent=" " * 16
                    )
                )
        if not show_all:
            lines.append(f"  {n_ok} more check(s) consistent")
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
        out += [f"## Table {table}", ""]
        if shown:
            out += [
                "| Status | Row | Column | Group | Reported | Recomputed | Check | Reason |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for f in shown:
                reason = f.reason + (f" (assumes: {f.assumption})" if f.assumption else "")
                out.append(
                    f"| {_WORDS[f.status]} | {_md(f.row)} | {_md(f.column)} | {_md(f.group)} | "
                    f"{_md(f.reported)} | {_md(f.recomputed)} | `{f.check}` | {_md(reason)} |"
                )
            out.append("")
        if not show_all:
            out += [f"{n_ok} more check(s) consistent.", ""]
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
.assumes { color: #555; font-size: 0.9em; }
"""


def render_html(report: AuditReport, *, show_all: bool = False) -> str:
    """A self-contained HTML page (no scripts, no external resources)."""
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
        parts.append(f"<h2>Table {table}</h2>")
        if shown:
            parts.append(
                "<table><thead><tr><th>Status</th><th>Row</th><th>Column</th><th>Group</th>"
                "<th>Reported</th><th>Recomputed</th><th>Check</th><th>Reason</th></tr></thead><tbody>"
            )
            for f in shown:
                assumes = (
                    f'<div class="assumes">assumes: {e(f.assumption)}</div>' if f.assumption else ""
                )
                parts.append(
                    f'<tr class="{f.status}"><td class="status">{e(_WORDS[f.status])}</td>'
                    f"<td>{e(f.row)}</td><td>{e(f.column)}</td><td>{e(f.group or '—')}</td>"
                    f"<td>{e(f.reported or '—')}</td><td>{e(f.recomputed or '—')}</td>"
                    f"<td><code>{e(f.check)}</code></td><td>{e(f.reason)}{assumes}</td></tr>"
                )
            parts.append("</tbody></table>")
        if not show_all:
            parts.append(f"<p>{n_ok} more check(s) consistent.</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_json(report: AuditReport) -> str:
    """The JSON document of :meth:`AuditReport.to_dict`, indented, UTF-8 text."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def render(report: AuditReport, fmt: str, *, show_all: bool = False) -> str:
    """Render in ``fmt``: ``"text"``, ``"markdown"``, ``"html"`` or ``"json"``."""
    if fmt == "text":
        return render_text(report, show_all=show_all)
    if fmt == "markdown":
        return render_markdown(report, show_all=show_all)
    if fmt == "html":
        return render_html(report, show_all=show_all)
    if fmt == "json":
        return render_json(report)
    raise AuditError(f"unknown report format {fmt!r} (allowed: text, markdown, html, json)")
