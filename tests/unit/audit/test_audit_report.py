"""Rendering of audit reports and the JSON schema."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

import kypho.audit
from kypho.audit import (
    CHECKS,
    SCHEMA_VERSION,
    AuditReport,
    audit,
    load_paper_tables,
    render,
    render_html,
    render_json,
    render_markdown,
    render_text,
)
from kypho.errors import AuditError

REQUIRED = {
    "table",
    "row",
    "column",
    "reported",
    "recomputed",
    "status",
    "reason",
    "check",
    "group",
}


@pytest.fixture(scope="module")
def report() -> AuditReport:
    return audit(load_paper_tables())


def test_public_names_are_exported() -> None:
    public = {
        name
        for name in dir(kypho.audit)
        if not name.startswith("_") and name not in {"annotations"} and not _is_module(name)
    }

    # Sorted as ruff's RUF022 sorts: CONSTANTS, then Classes, then functions.
    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert sorted(kypho.audit.__all__, key=kind) == kypho.audit.__all__
    assert set(kypho.audit.__all__) == public


def _is_module(name: str) -> bool:
    return type(getattr(kypho.audit, name)).__name__ == "module"


def test_json_schema(report: AuditReport) -> None:
    def no_constants(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    doc = json.loads(render_json(report), parse_constant=no_constants)
    assert doc["schema_version"] == SCHEMA_VERSION == "1.2"
    assert set(doc) == {
        "schema_version",
        "tool",
        "kypho_version",
        "study",
        "alpha",
        "summary",
        "findings",
    }
    assert doc["summary"]["total"] == len(doc["findings"]) == len(report.findings)
    for entry in doc["findings"]:
        assert set(entry) >= REQUIRED
        assert isinstance(entry["table"], int)
        assert entry["status"] in {"consistent", "inconsistent", "impossible", "not_checkable"}
        assert entry["check"] in CHECKS
        assert isinstance(entry["reason"], str)
        assert entry["reason"]
    assert doc["study"]["groups"] == [
        {"key": "experimental", "label": "experimental group", "n": 55},
        {"key": "control", "label": "control group", "n": 55},
    ]
    # 1.2: each table's number and title as printed.
    assert [t["number"] for t in doc["study"]["tables"]] == [1, 2, 3, 4, 5, 6, 7]
    assert doc["study"]["tables"][1] == {
        "number": 2,
        "title": report.table_title(2),
    }
    assert report.table_title(2).startswith("Comparison of")


def test_to_frame_has_one_row_per_finding(report: AuditReport) -> None:
    frame = report.to_frame()
    assert len(frame) == len(report.findings)
    assert set(frame.columns) >= REQUIRED


def test_text_report_lists_problems_and_counts(report: AuditReport) -> None:
    text = render_text(report)
    c = report.counts()
    assert (
        f"{c['total']} checks: {c['consistent']} consistent, {c['inconsistent']} inconsistent, "
        f"{c['impossible']} impossible, {c['not_checkable']} not checkable; "
        f"{c['decision_errors']} decision errors"
    ) in text
    assert "impossible    Pain · P  [identical_counts]" in text
    assert "a P value is a probability, so it lies between 0 and 1; 1.108 does not" in text
    # Consistent findings are counted, not listed, unless asked for.
    assert "consistent    Number [experimental] · n" not in text
    assert "consistent    Number [experimental] · n  [group_size]" in render_text(
        report, show_all=True
    )


def test_markdown_report(report: AuditReport) -> None:
    md = render_markdown(report)
    assert md.startswith("# Audit: Precise injection")
    assert "## Table 7" in md
    assert "| impossible | Pain | P | — | 0.364 | 1 | `identical_counts` |" in md


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append(dict(attrs).get("class") or "")


def test_html_report_is_one_page_with_a_row_per_problem(report: AuditReport) -> None:
    page = render_html(report)
    parser = _Collect()
    parser.feed(page)
    shown = [r for r in parser.rows if r]
    assert len(shown) == sum(f.status != "consistent" for f in report.findings)
    assert "script" not in parser.tags
    assert "t / t′" in page
    assert "&lt;" in render_html(report, show_all=True)  # "P < 0.05" escaped


def test_render_dispatch_and_unknown_format(report: AuditReport) -> None:
    assert render(report, "json") == render_json(report)
    with pytest.raises(AuditError) as exc:
        render(report, "pdf")
    assert str(exc.value) == "unknown report format 'pdf' (allowed: text, markdown, html, json)"


CONTEXT_PAPER = """Results
Healing was faster with dressing A (t(58) = 1.20, p = .02).
More prose here.

Table 1
Outcomes in two groups
  A group  B group  t  P
Number 30 30
Pain before(points) 6.1±1.2 6.0±1.3 0.310 0.758
Healing time(d) 12.5±3.1* 14.2±3.3* 9.999 0.044

t = 3.10, P < 0.01
t = 2.20, P < 0.05
Values are mean ± SD
"""


def test_in_context_shows_every_line_of_a_row_and_marks_gaps() -> None:
    """The Healing row's t is wrong: the row is shown on its three lines (the within-group
    t's printed under its cells, past a blank line), and "⋮" stands for the lines between
    the inline result and the table. (Pain before is shown for its F test, not checkable.)"""
    from kypho.audit import audit_paper
    from kypho.audit.document import Document

    doc = Document.from_text(CONTEXT_PAPER, source="p.txt")
    page = render_html(audit_paper(doc).report, document=doc)
    context = page.split("<h2>In context</h2>", 1)[1].split("</pre>", 1)[0]
    shown = [HTMLParserText.text_of(line) for line in context.splitlines() if "lineno" in line]
    assert shown == [
        "    page 1, line 2  Healing was faster with dressing A (t(58) = 1.20, p = .02).",
        "                 ⋮",
        "    page 1, line 9  Pain before(points) 6.1±1.2 6.0±1.3 0.310 0.758",
        "   page 1, line 10  Healing time(d) 12.5±3.1* 14.2±3.3* 9.999 0.044",
        "   page 1, line 12  t = 3.10, P < 0.01",
        "   page 1, line 13  t = 2.20, P < 0.05",
    ]
    assert '<mark class="impossible" title="impossible: against Pain before(points)' in context
    assert ">t(58) = 1.20, p = .02</mark>" in context


class HTMLParserText(HTMLParser):
    """The text of an HTML fragment, tags dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @classmethod
    def text_of(cls, fragment: str) -> str:
        parser = cls()
        parser.feed(fragment)
        parser.close()
        return "".join(parser.parts)


def test_no_exponent_notation_and_plain_plurals() -> None:
    """Recomputed P values are written out (0.000031, never 3.1e-05; "P < 0.000001", not
    "P = < 0.000001"), and a count of one is singular."""
    from kypho.audit import audit_paper
    from kypho.audit.document import Document

    docs = [
        Document.from_text(
            "Table 1\nOutcomes\n  A group  B group  t  P\nNumber 55 55\n"
            "operation time(min) 32±4.46 29±5.17 0.782 0.528\nValues are mean ± SD\n"
            "\nIt was (t(50) = 6.10, p = .20), and (t(58) = 1.20, p = .24).\n"
        ),
        Document.from_text(CONTEXT_PAPER),
    ]
    texts = []
    for doc in docs:
        report = audit_paper(doc).report
        for fmt in ("text", "markdown", "html"):
            out = render(report, fmt, document=doc) if fmt == "html" else render(report, fmt)
            out = re.sub(r"<style>.*?</style>", "", out, flags=re.S)  # CSS colours: #e4e4e4
            assert not re.search(r"\d[eE][-+]?\d", out), fmt
        # In JSON the numbers are for machines; the words are for people.
        for f in json.loads(render_json(report))["findings"]:
            assert not re.search(r"\d[eE][-+]?\d", f["reason"] + (f["recomputed"] or "")), f
        texts.append(render_text(report))
    assert "0.0015 [0.000031, 0.0322]" in texts[0]
    assert "is < 0.000001, not P = .20; a decision error" in texts[0]
    assert (
        "12 checks: 6 consistent, 5 inconsistent, 0 impossible, 1 not checkable; 1 decision error\n"
        in texts[0]
    )
    assert "  1 more check consistent" in texts[0]
    assert "gives P < 0.000001 (Student t); P < 0.000001 (Welch t′)" in texts[1]
    assert "; 0 decision errors" in texts[1]
