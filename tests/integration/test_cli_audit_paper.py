"""``kypho audit PAPER``: a paper's own file, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kypho.cli import main

PAPER = """Two dressings

Results
Healing was faster (t(58) = 2.10, p = .04) but the score was not, t(58) = 1.20, p = .02.

Table 1
Outcomes in two groups
  A group  B group  t  P
Number 30 30
Pain before(points) 6.1±1.2 6.0±1.3 0.310 0.758
Pain after(points) 2.5±1.1* 3.4±1.3* 2.896 0.005
t = 3.10, P < 0.01
t = 2.20, P < 0.05
Infection 2 8 0.038
Leftover 2 8 0.038 0.5 0.7
Values are mean ± SD
"""


def _paper(tmp_path: Path, name: str = "paper.txt") -> Path:
    path = tmp_path / name
    path.write_text(PAPER, encoding="utf-8")
    return path


def test_json_findings_quote_the_paper(tmp_path: Path) -> None:
    paper = _paper(tmp_path)
    before = paper.read_bytes()
    result = CliRunner().invoke(main, ["audit", str(paper), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    inline = [f for f in doc["findings"] if f["table"] == 0]
    assert [(f["column"], f["status"], f["line"]) for f in inline] == [
        ("t(58)", "consistent", 4),
        ("t(58)", "inconsistent", 4),
    ]
    assert inline[1]["source_text"] == "t(58) = 1.20, p = .02"
    assert inline[1]["decision_error"] is True
    pain = [f for f in doc["findings"] if f["row"] == "Pain after(points)"]
    assert pain
    assert all(f["line"] == 11 and f["page"] == 1 for f in pain)
    assert "not read: page 1, line 15: 'Leftover 2 8 0.038 0.5 0.7'" in result.stderr
    assert paper.read_bytes() == before


def test_extract_only_then_audit_the_yaml(tmp_path: Path) -> None:
    paper = _paper(tmp_path)
    out = tmp_path / "paper.yaml"
    r1 = CliRunner().invoke(main, ["audit", str(paper), "--extract-only", "--out", str(out)])
    assert r1.exit_code == 0, r1.output
    text = out.read_text(encoding="utf-8")
    assert "# NOT READ (page 1, line 15)" in text
    r2 = CliRunner().invoke(main, ["audit", str(out), "--json"])
    r3 = CliRunner().invoke(main, ["audit", str(paper), "--json"])
    assert r2.exit_code == 0, r2.output
    from_yaml = json.loads(r2.stdout)["findings"]
    from_paper = [f for f in json.loads(r3.stdout)["findings"] if f["table"] != 0]
    assert [(f["row"], f["check"], f["status"]) for f in from_yaml] == [
        (f["row"], f["check"], f["status"]) for f in from_paper
    ]
    assert from_yaml[0]["source_text"] == from_paper[0]["source_text"]


def test_html_shows_findings_in_context(tmp_path: Path) -> None:
    paper = _paper(tmp_path)
    out = tmp_path / "audit.html"
    result = CliRunner().invoke(main, ["audit", str(paper), "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<h2>In context</h2>" in page
    assert '<mark class="inconsistent"' in page
    assert ">t(58) = 1.20, p = .02</mark>" in page


def test_folder_one_summary_line_per_paper(tmp_path: Path) -> None:
    _paper(tmp_path, "a.txt")
    (tmp_path / "b.txt").write_text("Nothing tested here.\n", encoding="utf-8")
    (tmp_path / "c.pdf").write_bytes(b"%PDF-1.4 broken")
    (tmp_path / "notes.csv").write_text("x\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{tmp_path / 'a.txt'}: ")
    assert " checks: " in lines[0]
    assert (
        lines[1]
        == f"{tmp_path / 'b.txt'}: 0 checks: 0 consistent, 0 inconsistent, 0 impossible, 0 not checkable; 0 decision errors"
    )
    assert lines[2].startswith(f"{tmp_path / 'c.pdf'}: not audited: ")


def test_statcheck_switches_on_the_command_line(tmp_path: Path) -> None:
    paper = tmp_path / "p.txt"
    paper.write_text("A result, t(28) = 1.95, p = .05, and t(28) = 22.20, p = .000.\n")
    default = json.loads(CliRunner().invoke(main, ["audit", str(paper), "--json"]).stdout)
    compat = json.loads(
        CliRunner()
        .invoke(
            main,
            ["audit", str(paper), "--json", "--p-equal-alpha-significant", "--no-p-zero-error"],
        )
        .stdout
    )
    assert [(f["status"], f["decision_error"]) for f in default["findings"]] == [
        ("inconsistent", False),
        ("inconsistent", False),
    ]
    assert [(f["status"], f["decision_error"]) for f in compat["findings"]] == [
        ("inconsistent", True),
        ("consistent", None),
    ]


def test_rounding_rule_reaches_grim() -> None:
    """Truncation instead of rounding changes one GRIM finding of the bundled paper."""
    default = json.loads(CliRunner().invoke(main, ["audit", "--json"]).stdout)["summary"]
    trunc = json.loads(CliRunner().invoke(main, ["audit", "--json", "--rounding", "trunc"]).stdout)[
        "summary"
    ]
    assert default["inconsistent"] == 67
    assert trunc["inconsistent"] == 68


def test_auditing_a_paper_imports_no_pandas(tmp_path: Path) -> None:
    """The audit's start-up is most of its time: a paper with a table is audited, as a
    whole process, without importing pandas or matplotlib (what it does not use)."""
    import subprocess
    import sys

    paper = _paper(tmp_path)
    code = (
        "import sys\n"
        "from kypho.cli import main\n"
        f"sys.argv = ['kypho', 'audit', {str(paper)!r}, '--json', '--out', {str(tmp_path / 'o.json')!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print(sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert json.loads((tmp_path / "o.json").read_text(encoding="utf-8"))["summary"]["total"] > 0
