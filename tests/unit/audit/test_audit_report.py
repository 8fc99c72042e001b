"""Rendering of audit reports and the JSON schema."""

from __future__ import annotations

import json
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
    assert doc["schema_version"] == SCHEMA_VERSION == "1.1"
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
        f"{c['decision_errors']} decision error(s)"
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
