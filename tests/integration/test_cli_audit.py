"""``kypho audit`` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kypho.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "kypho" / "data" / "summary_example.yaml"


def test_audit_bundled_paper_text() -> None:
    result = CliRunner().invoke(main, ["audit"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("kypho audit: Precise injection and staged perfusion")
    assert "Table 7" in result.output
    assert "[identical_counts]" in result.output


def test_audit_json_to_file(tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    result = CliRunner().invoke(main, ["audit", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["schema_version"] == "1.2"
    assert doc["alpha"] == 0.05
    statuses = {f["status"] for f in doc["findings"]}
    assert statuses == {"consistent", "inconsistent", "impossible", "not_checkable"}


def test_audit_markdown_and_html_of_a_user_file(tmp_path: Path) -> None:
    md = CliRunner().invoke(main, ["audit", str(EXAMPLE), "--format", "markdown"])
    assert md.exit_code == 0, md.output
    assert md.output.startswith("# Audit: Example trial, drug versus placebo")
    page = tmp_path / "a.html"
    html = CliRunner().invoke(main, ["audit", str(EXAMPLE), "--format", "html", "--out", str(page)])
    assert html.exit_code == 0, html.output
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_alpha_changes_decisions() -> None:
    """Table 7's leakage P from counts is 0.026: significant at 0.05, not at 0.01; the
    printed 0.007* is significant at both, so a decision error appears at 0.01."""
    at05 = json.loads(CliRunner().invoke(main, ["audit", "--json"]).output)
    at01 = json.loads(CliRunner().invoke(main, ["audit", "--json", "--alpha", "0.01"]).output)

    def leak(doc: dict[str, object]) -> dict[str, object]:
        findings = doc["findings"]
        assert isinstance(findings, list)
        return next(
            f
            for f in findings
            if f["row"] == "Number of bone cement leakage" and f["check"] == "decision"
        )

    assert leak(at05)["decision_error"] is False
    assert leak(at01)["decision_error"] is True
    assert at01["alpha"] == 0.01


def test_malformed_file_is_a_clean_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: kypho-summary-tables\nformat_version: 3\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", str(bad)])
    assert result.exit_code == 2
    assert result.output == "error: bad.yaml: 'format_version' must be 1 (got 3)\n"


def test_missing_file_and_bad_alpha(tmp_path: Path) -> None:
    missing = tmp_path / "none.yaml"
    result = CliRunner().invoke(main, ["audit", str(missing)])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: cannot read summary-table file {str(missing)!r}")
    result = CliRunner().invoke(main, ["audit", "--alpha", "5"])
    assert result.exit_code == 2
    assert result.output == "error: --alpha must be strictly between 0 and 1 (got 5)\n"
