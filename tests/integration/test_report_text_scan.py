"""Every printed output of several reports, scanned for what a reader must never see.

Three cohorts through ``kypho analyze``: the bundled one, one with missing values
(scattered, and one variable with no value at all in one group), and one where a
group is empty — that one must stop with a clear message and a non-zero exit, not
publish a report with n = 0. In the Markdown, HTML (as text), CSV, LaTeX and Word
text of the others the scan looks for internal codes (``inclusion_c:unknown``,
``sex=female``, schema column names), "nan", exponent notation ("2.9e-10"),
an ASCII hyphen-minus before a number, programmer text ("must be finite",
"(got nan)"), "At preoperation" and a truncated list ("… 2 more").
"""

from __future__ import annotations

import html
import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from kypho.cli import main
from kypho.schema import load_schema

SCHEMA = load_schema()
BUNDLED = Path(str(resources.files("kypho.data").joinpath("cohort.csv")))

RULES: dict[str, re.Pattern[str]] = {
    "criterion code": re.compile(r"\b(?:inclusion|exclusion)_[a-z](?::unknown)?\b"),
    "variable=level code": re.compile(r"\b[a-z_]+=[a-z_]+\b"),
    "nan or None": re.compile(r"\b(?:nan|NaN|None|inf)\b"),
    "exponent notation": re.compile(r"\d(?:\.\d+)?[eE][-+]?\d"),
    "hyphen-minus before a number": re.compile(r"(?:^|[\s(\[=<>;,])-\d", re.MULTILINE),
    "programmer text": re.compile(r"must be finite|\(got |Traceback|Error:|Exception"),
    "timepoint as a noun after 'at'": re.compile(r"\b[Aa]t preoperation\b"),
    "truncated list": re.compile(r"(?:…|\.\.\.) ?\d+ more"),
}
# Variable names with an underscore ("vas_48h") are internal; plain words such as
# "age" or "group" cannot be told from prose and are left out.
CODES = re.compile(
    r"\b(?:" + "|".join(re.escape(n) for n in sorted(SCHEMA.variables) if "_" in n) + r")\b"
)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["analyze", *args], catch_exceptions=False)


def _html_text(page: str) -> str:
    # The data-quality section names the file's columns on purpose (what to fix
    # in the file), and provenance prints hashes and versions: leave both out.
    page = re.sub(r'<h2 id="quality">.*?(?=<h2 id="methods">)', "", page, flags=re.S)
    page = page.split('<h2 id="provenance">')[0]
    page = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _docx_text(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def outputs(out: Path) -> dict[str, str]:
    texts = {
        name: (out / name).read_text(encoding="utf-8")
        for name in ("report.md", "tables.csv", "tables.tex")
    }
    texts["report.html"] = _html_text((out / "report.html").read_text(encoding="utf-8"))
    texts["report.docx"] = _docx_text(out / "report.docx")
    return texts


def findings(texts: dict[str, str]) -> list[str]:
    found = []
    for name, text in texts.items():
        for rule, pattern in [*RULES.items(), ("schema column name", CODES)]:
            for match in pattern.finditer(text):
                start = max(match.start() - 40, 0)
                found.append(f"{name}: {rule}: …{text[start : match.end() + 40]!r}")
    return found


def missing_cohort(path: Path) -> Path:
    raw = pd.read_csv(BUNDLED, dtype=str, keep_default_na=False)
    control = raw.index[raw["group"] == "control"]
    raw.loc[control[:3], "vas_48h"] = ""
    raw.loc[raw.index[:2], "bmd_t_score"] = ""
    raw.loc[raw.index[5:9], "wedge_angle_last"] = ""
    raw.loc[raw.index[10], "age"] = ""
    # A variable no patient of one group has: its test cannot be computed.
    raw.loc[control, "cement_volume"] = ""
    raw.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("scan")
    made = {}
    bundled = root / "bundled"
    result = run("--out", str(bundled), "-q")
    assert result.exit_code == 0, result.output
    made["bundled"] = bundled
    missing = root / "missing"
    result = run(str(missing_cohort(root / "missing.csv")), "--out", str(missing), "-q")
    assert result.exit_code == 0, result.output
    made["missing"] = missing
    return made


@pytest.mark.parametrize("cohort", ["bundled", "missing"])
def test_no_output_prints_codes_nan_exponents_or_hyphen_minus(
    reports: dict[str, Path], cohort: str
) -> None:
    texts = outputs(reports[cohort])
    assert findings(texts) == []


def test_the_scan_finds_what_it_looks_for() -> None:
    """Each rule fires on the text it is meant to catch (so a clean scan means something)."""
    bad = {
        "t.md": "inclusion_c:unknown: 1; sex=female; mean nan; P = 2.932e-10; "
        "(-0.0811 to 0.278); mean1 must be finite (got nan); At preoperation, x; "
        "… 2 more; vas_48h",
    }
    rules = {line.split(": ")[1] for line in findings(bad)}
    assert rules == {*RULES, "schema column name"}


def test_missing_values_are_counted_and_explained(reports: dict[str, Path]) -> None:
    text = (reports["missing"] / "report.md").read_text(encoding="utf-8")
    assert (
        "Amount of bone cement injection (ml): no test could be computed: Control group has "
        "no patient with a value." in text
    )
    assert "n (missing)" in text


def test_an_empty_group_stops_with_a_clear_error(tmp_path: Path) -> None:
    raw = pd.read_csv(BUNDLED, dtype=str, keep_default_na=False)
    raw = raw[raw["group"] != "control"]
    data = tmp_path / "one_group.csv"
    raw.to_csv(data, index=False)
    out = tmp_path / "out"
    result = run(str(data), "--out", str(out), "-q")
    assert result.exit_code != 0
    assert result.stderr.splitlines()[-1] == (
        "error: Control group has no patient to analyse (patients per group: Experimental "
        "group 55, Control group 0), so the groups cannot be compared; check the group "
        "column ('group') and the eligibility of that group's records"
    )
    assert not (out / "MANIFEST.json").exists()
    assert not (out / "report.html").exists()
