"""Reading a paper's text into summary tables and inline results (kypho.audit.extract)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kypho.audit import audit, audit_paper, load_paper_tables, parse_summary_tables
from kypho.audit.document import Document, read_document
from kypho.audit.extract import extract
from kypho.errors import InputFileError

PAPER = next(
    (
        parent / "shared" / "paper" / "kyphoplasty-staged-perfusion.txt"
        for parent in Path(__file__).resolve().parents
        if (parent / "shared" / "paper" / "kyphoplasty-staged-perfusion.txt").exists()
    ),
    Path("../shared/paper/kyphoplasty-staged-perfusion.txt"),
)

SMALL = """A small trial of two dressings

Abstract
Methods. Test level α = 0.05.

Statistical methods
Means were compared by t test, counts by chi-square test. Test level α = 0.05.

Results
Healing was faster with dressing A (t(58) = 2.10, p = .04), pain did not differ
(t = 1.20, P = 0.23) and infections were rarer, χ²(1, N = 60) = 4.95, p < .05; one
more, F(1, 58) = 9.90, p = .003.

Table 1
Outcomes in two groups
  A group  B group  t  P
Number 30 30
Pain before(points) 6.1±1.2 6.0±1.3 0.310 0.758
Healing time(d) 12.5±3.1* 14.2±3.3* 2.056 0.044
t = 3.10, P < 0.01
t = 2.20, P < 0.05
Infection 2 8 0.038
Values are mean ± SD
*Statistically significant

Discussion
The end.
"""


def _rows(tables):
    return {(t.number, r.label): r for t in tables.tables for r in t.rows}


def test_small_paper_tables_and_inline() -> None:
    ex = extract(Document.from_text(SMALL, source="small.txt"))
    assert ex.unparsed == ()
    assert ex.notes == ()
    t = ex.tables
    assert t is not None
    assert [(g.key, g.label, g.n) for g in t.groups] == [("a", "A group", 30), ("b", "B group", 30)]
    rows = _rows(t)
    heal = rows[(1, "Healing time(d)")]
    assert heal.kind == "continuous"
    assert heal.unit == "d"
    assert heal.cells["a"].mean.text == "12.5"
    assert heal.cells["b"].sd.text == "3.3"
    assert heal.cells["a"].within is not None
    assert heal.cells["a"].within.text == "t = 3.10, P < 0.01"
    assert heal.cells["b"].within is not None
    assert heal.cells["b"].within.text == "t = 2.20, P < 0.05"
    assert heal.cells["b"].within.versus == "Pain before(points)"
    assert heal.statistic is not None
    assert heal.statistic.value.text == "2.056"
    assert heal.p is not None
    assert heal.p.text == "0.044"
    assert heal.source is not None
    assert (heal.source.page, heal.source.line) == (1, 19)
    inf = rows[(1, "Infection")]
    assert inf.kind == "binary"
    assert inf.p is not None
    assert inf.p.text == "0.038"
    assert [r.label for r in ex.inline] == ["t(58)", "t", "χ²(1)", "F(1, 58)"]
    assert [r.line for r in ex.inline] == [10, 11, 11, 12]


def test_inline_findings_quote_their_source() -> None:
    result = audit_paper(Document.from_text(SMALL, source="small.txt"))
    inline = [f for f in result.report.findings if f.table == 0]
    by_label = {f.column: f for f in inline}
    assert by_label["t(58)"].status == "consistent"
    assert by_label["t"].status == "not_checkable"  # no df printed
    assert "degrees of freedom" in by_label["t"].reason
    assert by_label["χ²(1)"].status == "consistent"
    assert by_label["F(1, 58)"].status == "consistent"
    assert by_label["t(58)"].source_text == "t(58) = 2.10, p = .04"
    assert (by_label["t(58)"].page, by_label["t(58)"].line) == (1, 10)
    table_findings = [f for f in result.report.findings if f.table == 1]
    assert table_findings
    assert all(f.source_text for f in table_findings)


def test_to_yaml_round_trip() -> None:
    import yaml

    ex = extract(Document.from_text(SMALL, source="small.txt"))
    again = parse_summary_tables(yaml.safe_load(ex.to_yaml()), source="again")
    assert again == ex.tables


def test_unreadable_rows_are_reported_not_dropped() -> None:
    text = SMALL.replace("Infection 2 8 0.038", "Infection 2 8 0.038 0.5 0.7")
    ex = extract(Document.from_text(text))
    assert [(u.line, u.reason) for u in ex.unparsed] == [
        (22, "values left over after the cells, statistic and P: 0.038")
    ]
    no_header = "Table 3\nSomething\nno header here\n"
    assert "no column header" in extract(Document.from_text(no_header)).notes[0]


SEED_DIFFERENCES = {
    # (table, row label, field): why the text cannot give what the transcription says
    (1, "Age (yr ± SD)", "scale"): "min 60 is inclusion criterion (f), stated elsewhere",
    (2, "intraoperative blood loss(%)", "scale"): "max 100 follows from the formula in Methods",
    **{
        (3, r, "unit"): "'points' is in Methods, not in the table"
        for r in ("Preoperation", "2h after operation", "4h after operation", "48h after operation")
    },
    **{
        (3, r, "scale"): "same scale, kypho's own note text"
        for r in ("Preoperation", "2h after operation", "4h after operation", "48h after operation")
    },
    **{
        (n, r, "unit"): "the unit is in the table title's measure, not printed"
        for n in (4, 5, 6)
        for r in ("Preoperation", "3 days after operation", "Last follow-up")
    },
    **{
        (n, r, "scale"): "min 0 for a height ratio is the transcriber's reading"
        for n in (4, 5)
        for r in ("Preoperation", "3 days after operation", "Last follow-up")
    },
}


@pytest.mark.skipif(not PAPER.exists(), reason="the seed paper lives in ../shared")
def test_seed_paper_tables_agree_with_the_transcription() -> None:
    """Every printed value read from the text equals data/paper_tables.yaml's; the only
    differences are what tables do not print (scales, units), listed with the reason."""
    ex = extract(read_document(PAPER))
    assert ex.unparsed == ()
    assert ex.notes == ()
    got, want = ex.tables, load_paper_tables()
    assert got is not None
    assert got.groups == want.groups
    differences = set()
    for tg, tw in zip(got.tables, want.tables, strict=True):
        assert (tg.number, tg.title, tg.footnotes, tg.exhaustive_sections) == (
            tw.number,
            tw.title,
            tw.footnotes,
            tw.exhaustive_sections,
        )
        assert [r.label for r in tg.rows] == [r.label for r in tw.rows]
        for rg, rw in zip(tg.rows, tw.rows, strict=True):
            dg, dw = dataclasses.asdict(rg), dataclasses.asdict(rw)
            for key in dg:
                if key != "source" and dg[key] != dw[key]:
                    differences.add((tg.number, rg.label, key))
    assert differences == set(SEED_DIFFERENCES)


@pytest.mark.skipif(not PAPER.exists(), reason="the seed paper lives in ../shared")
def test_seed_paper_audit_finds_what_the_transcription_finds() -> None:
    from_text = audit_paper(PAPER).report
    by_hand = audit(load_paper_tables())

    def problems(report):
        return {
            (f.table, f.row, f.section, f.column, f.group, f.check, f.status, f.decision_error)
            for f in report.findings
            if f.status in ("inconsistent", "impossible")
        }

    assert problems(by_hand) <= problems(from_text)
    assert from_text.counts()["decision_errors"] >= by_hand.counts()["decision_errors"]
    quoted = [f for f in from_text.findings if f.status == "impossible" and f.row == "Pain"]
    assert quoted
    assert quoted[0].source_text == "Pain 55 55 0.364"
    assert quoted[0].line == 164


def _pdf(path: Path, pages: list[list[str]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(path) as pdf:
        for lines in pages:
            fig = plt.figure(figsize=(8.27, 11.69))
            for i, t in enumerate(lines):
                fig.text(0.05, 0.96 - i * 0.022, t, fontsize=8, family="DejaVu Sans")
            pdf.savefig(fig)
            plt.close(fig)


def test_pdf_extraction_matches_text(tmp_path: Path) -> None:
    lines = [ln for ln in SMALL.splitlines() if ln.strip()]
    half = lines.index("Table 1")
    path = tmp_path / "paper.pdf"
    _pdf(path, [lines[:half], lines[half:]])
    doc = read_document(path)
    ex = extract(doc)
    ref = extract(Document.from_text(SMALL))
    assert ex.tables is not None
    assert ref.tables is not None
    assert [dataclasses.replace(r, source=None) for t in ex.tables.tables for r in t.rows] == [
        dataclasses.replace(r, source=None) for t in ref.tables.tables for r in t.rows
    ]
    heal = _rows(ex.tables)[(1, "Healing time(d)")]
    assert heal.source is not None
    assert heal.source.page == 2
    assert [r.page for r in ex.inline] == [1, 1, 1, 1]


def test_html_and_docx_extraction(tmp_path: Path) -> None:
    import docx

    body = SMALL.split("Table 1")[0]
    rows = [
        ["", "A group", "B group", "t", "P"],
        ["Number", "30", "30", "", ""],
        ["Pain before(points)", "6.1 ± 1.2", "6.0 ± 1.3", "0.310", "0.758"],
        ["Healing time(d)", "12.5 ± 3.1", "14.2 ± 3.3", "2.056", "0.044"],
        ["Infection", "2", "8", "", "0.038"],
    ]
    html_rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    html_text = (
        "<html><body>"
        + "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
        + "<p>Table 1</p><p>Outcomes in two groups</p><table>"
        + html_rows
        + "</table><p>Values are mean ± SD</p></body></html>"
    )
    (tmp_path / "p.html").write_text(html_text, encoding="utf-8")
    d = docx.Document()
    for p in body.split("\n\n"):
        d.add_paragraph(p)
    d.add_paragraph("Table 1")
    d.add_paragraph("Outcomes in two groups")
    table = d.add_table(rows=len(rows), cols=5)
    for i, r in enumerate(rows):
        for j, c in enumerate(r):
            table.cell(i, j).text = c
    d.add_paragraph("Values are mean ± SD")
    d.save(str(tmp_path / "p.docx"))
    for name in ("p.html", "p.docx"):
        ex = extract(read_document(tmp_path / name))
        assert ex.tables is not None, name
        heal = _rows(ex.tables)[(1, "Healing time(d)")]
        assert heal.cells["b"].mean.text == "14.2", name
        assert {r.label for r in ex.inline} >= {"t(58)", "F(1, 58)"}, name


def test_read_document_refuses_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    odd = tmp_path / "paper.rtf"
    odd.write_text("x")
    with pytest.raises(InputFileError, match=r"reads a paper as \.txt"):
        read_document(odd)
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not a pdf")
    with pytest.raises(InputFileError, match="is not a readable PDF"):
        read_document(bad)
    big = tmp_path / "big.txt"
    big.write_text("x" * 2000)
    monkeypatch.setattr("kypho.audit.document.MAX_FILE_BYTES", 1000)
    with pytest.raises(InputFileError, match="reads papers of up to"):
        read_document(big)


def test_printed_chi_square_is_checked_against_the_counts() -> None:
    """2/30 vs 8/30: Pearson χ² = 2·(9/5 + 9/25) = 4.32 (Yates 3.00), df 1, P = 0.0377."""
    text = (
        "Table 4\nInfections\n  A group  B group  χ2  P\nNumber 30 30\n"
        "Infection 2 8 4.32 0.038\nWound leak 2 8 4.95 0.038\nValues are n\n"
    )
    report = audit_paper(Document.from_text(text)).report
    got = {(f.row, f.check): f.status for f in report.findings if f.column in ("χ²", "P")}
    assert got[("Infection", "chi_square_from_counts")] == "consistent"
    assert got[("Infection", "p_from_statistic")] == "consistent"
    assert got[("Wound leak", "chi_square_from_counts")] == "inconsistent"
    assert got[("Wound leak", "p_from_statistic")] == "inconsistent"
