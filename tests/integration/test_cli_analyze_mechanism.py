"""``kypho analyze --mechanism``: the Mechanism section in HTML, Markdown and Word; absent by default."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kypho.analysis.demo import demo_cohort
from kypho.cli import main


def cohort(path: Path) -> Path:
    demo_cohort(40, seed=4, ineligible=0.05).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[list[str]]]:
    """The default report and the one with ``--mechanism``, both from one fresh interpreter.

    Its ``sys.modules`` after each run tells what that run imported: the default
    ``kypho analyze`` must not import kypho.simulate or numba (its cold start), and
    ``--mechanism`` must, or the check could not fail. The "Beyond the paper" hook runs
    in a forked process of its own (its imports never show here) and has its own tests,
    so it is left out to keep this fast.
    """
    root = tmp_path_factory.mktemp("mechanism")
    data = cohort(root / "cohort.csv")
    plan = root / "plan.yaml"
    plan.write_text("mechanism: {grid: 12, volume_ml: 5.0}\n", encoding="utf-8")
    code = (
        "import json, sys\n"
        "import kypho.beyond\n"
        "del kypho.beyond.report_section\n"
        "from kypho.cli import main\n"
        "def run(out, *flag):\n"
        "    args = ['analyze', sys.argv[1], '--out', out, '--plan', sys.argv[2], '-q',\n"
        "            '--no-figures', '--format', 'html', '--format', 'md', '--format', 'docx']\n"
        "    try:\n"
        "        main([*args, *flag])\n"
        "    except SystemExit as done:\n"
        "        assert not done.code, done.code\n"
        "    return [m for m in ('kypho.simulate', 'numba') if m in sys.modules]\n"
        "print(json.dumps([run(sys.argv[3]), run(sys.argv[4], '--mechanism')]))\n"
    )
    default, asked = root / "default", root / "asked"
    done = subprocess.run(
        [sys.executable, "-c", code, str(data), str(plan), str(default), str(asked)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return default, asked, json.loads(done.stdout.strip().splitlines()[-1])


def test_default_report_imports_no_simulation_code(
    reports: tuple[Path, Path, list[list[str]]],
) -> None:
    _, _, imported = reports
    assert imported == [[], ["kypho.simulate", "numba"]]


def test_mechanism_section_is_absent_by_default(
    reports: tuple[Path, Path, list[list[str]]],
) -> None:
    import docx

    default, _, _ = reports
    assert "Mechanism" not in (default / "report.html").read_text(encoding="utf-8")
    assert "Mechanism" not in (default / "report.md").read_text(encoding="utf-8")
    document = docx.Document(str(default / "report.docx"))
    assert not any("Mechanism" in p.text for p in document.paragraphs)


def test_mechanism_section_is_in_html_markdown_and_word(
    reports: tuple[Path, Path, list[list[str]]],
) -> None:
    import docx

    from kypho.report.mechanism import MechanismSettings, run_mechanism

    _, out, _ = reports
    trad, staged = run_mechanism(MechanismSettings(enabled=True, grid=12, volume_ml=5.0)).results
    leaked = [f"{r.leaked_total_ml:.3f} ({100 * r.leaked_fraction:.2f})" for r in (trad, staged)]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="mechanism">Mechanism (in-silico model)</h2>' in page
    assert "This section is a computer model, not evidence about patients" in page
    assert "Table S1. The traditional and the staged protocol in the model" in page
    assert (
        f"<td>Cement leaked, ml (% of injected)</td><td>{leaked[0]}</td><td>{leaked[1]}</td>"
    ) in page
    # Placed after the plan's tables, before the provenance.
    assert page.index('id="table7"') < page.index('id="mechanism"') < page.index('id="provenance"')

    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "## Mechanism (in-silico model)" in markdown
    assert f"| Cement leaked, ml (% of injected) | {leaked[0]} | {leaked[1]} |" in markdown

    document = docx.Document(str(out / "report.docx"))
    texts = [p.text for p in document.paragraphs]
    assert "Mechanism (in-silico model)" in texts
    assert "Table S1. The traditional and the staged protocol in the model" in texts
    assert any(t.startswith("Calibration status. ") for t in texts)
    cells = [[c.text for c in row.cells] for table in document.tables for row in table.rows]
    assert ["Cement leaked, ml (% of injected)", *leaked] in cells


def test_a_bad_mechanism_setting_is_a_one_line_error(tmp_path: Path) -> None:
    data = cohort(tmp_path / "cohort.csv")
    plan = tmp_path / "plan.yaml"
    plan.write_text("mechanism: {grid: 2}\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["analyze", str(data), "--out", str(tmp_path / "o"), "--plan", str(plan), "--mechanism"],
    )
    assert result.exit_code != 0
    assert (
        f"{plan}: mechanism: 'grid' (cells anteroposterior) must be a whole number from 8 to "
        "400 (got 2)"
    ) in result.output


def test_the_section_prints_no_code_nan_exponent_or_hyphen_minus(
    reports: tuple[Path, Path, list[list[str]]],
) -> None:
    """The rules of tests/integration/test_report_text_scan.py, on the section's Markdown."""
    import re

    _, out, _ = reports
    markdown = (out / "report.md").read_text(encoding="utf-8")
    section = markdown[markdown.index("## Mechanism (in-silico model)") :]
    rules = {
        "nan or None": r"\b(?:nan|NaN|None|inf)\b",
        "exponent notation": r"\d(?:\.\d+)?[eE][-+]?\d",
        "hyphen-minus before a number": r"(?:^|[\s(\[=<>;,])-\d",
        "programmer text": r"must be finite|\(got |Traceback|Error:|Exception",
        "internal name": r"\b[a-z]+_[a-z_]+\b",
    }
    found = {
        rule: re.findall(pattern, section, flags=re.MULTILINE)
        for rule, pattern in rules.items()
        if re.search(pattern, section, flags=re.MULTILINE)
    }
    assert found == {}
