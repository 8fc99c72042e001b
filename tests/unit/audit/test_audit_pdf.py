"""Reading a PDF paper (kypho.audit.document, PDFium through pypdfium2).

Every PDF here is made by the test with matplotlib's PDF backend (TrueType text, so each
glyph keeps its Unicode and its box), either one string per line, as the benchmark and
the other extraction tests write them, or one string per table cell, placed at the
column's x as a typesetter places it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from kypho.audit import audit_paper
from kypho.audit.document import Document, read_document
from kypho.audit.extract import extract
from kypho.errors import InputFileError

SEED = next(
    (
        parent / "shared" / "paper" / "kyphoplasty-staged-perfusion.txt"
        for parent in Path(__file__).resolve().parents
        if (parent / "shared" / "paper" / "kyphoplasty-staged-perfusion.txt").exists()
    ),
    Path("../shared/paper/kyphoplasty-staged-perfusion.txt"),
)

#: A line is a string drawn at the left margin, or (x, text) pieces on one baseline
#: (x as a fraction of the page width).
PdfLine = str | list[tuple[float, str]]


def _pdf(path: Path, pages: list[list[PdfLine]], fontsize: float = 8) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(path) as pdf:
        for lines in pages:
            fig = plt.figure(figsize=(8.27, 11.69))
            for i, line in enumerate(lines):
                y = 0.96 - i * 0.022
                for x, text in [(0.05, line)] if isinstance(line, str) else line:
                    fig.text(x, y, text, fontsize=fontsize, family="DejaVu Sans")
            pdf.savefig(fig)
            plt.close(fig)


def _texts(path: Path) -> list[str]:
    return [line.text for line in read_document(path).lines]


def test_runs_of_spaces_are_read_back_as_set(tmp_path: Path) -> None:
    """PDFium reports a run of spaces as one; the boxes give the count back."""
    lines = ["  A group  B group  t  P", "one two   three    four", "x"]
    _pdf(tmp_path / "s.pdf", [lines])
    assert _texts(tmp_path / "s.pdf") == lines


def test_a_hyphen_that_ends_a_line_stays_on_its_line(tmp_path: Path) -> None:
    """PDFium joins "hyphen-" and the next line into one word; the audit keeps both lines
    (a "-" at the end of a table row is a statistic not printed)."""
    lines = ["a hyphen-", "ated word", "Infection 2 8 -", "Wound leak 1 0 0.99"]
    _pdf(tmp_path / "h.pdf", [lines])
    assert _texts(tmp_path / "h.pdf") == lines


TABLE_CELLS: list[PdfLine] = [
    "Table 2",
    "Outcomes in two groups",
    [(0.42, "Staged perfusion"), (0.62, "Control"), (0.76, "t"), (0.86, "P")],
    [(0.05, "Number"), (0.42, "55"), (0.62, "55")],
    [(0.05, "Operation time(min)"), (0.42, "32±4.46"), (0.62, "29±5.17"), (0.76, "0.782"),
     (0.86, "0.528")],
    [(0.05, "Blood loss(mL)"), (0.42, "56.2±10.1"), (0.62, "61.0±12.3"), (0.76, "2.237"),
     (0.86, "0.027")],
    [(0.05, "Leakage"), (0.42, "3"), (0.62, "11"), (0.86, "0.022")],
    "Values are mean ± SD",
]  # fmt: skip

#: What the table above holds, in the summary-table format (the source lines aside).
TABLE_EXPECTED = yaml.safe_load(
    """
groups:
- {key: staged, label: Staged perfusion, n: 55}
- {key: control, label: Control, n: 55}
rows:
- {label: Number, kind: n, cells: {staged: '55', control: '55'}}
- {label: Operation time(min), kind: continuous, unit: min,
   cells: {staged: 32±4.46, control: 29±5.17}, statistic: '0.782', p: '0.528',
   scale: {type: continuous, min: 0}}
- {label: Blood loss(mL), kind: continuous, unit: mL,
   cells: {staged: 56.2±10.1, control: 61.0±12.3}, statistic: '2.237', p: '0.027',
   scale: {type: continuous, min: 0}}
- {label: Leakage, kind: binary, cells: {staged: '3', control: '11'}, p: '0.022'}
"""
)


def test_a_table_set_by_position_reads_as_expected(tmp_path: Path) -> None:
    """Cells placed by x have no space glyph between them; a gap of an em or more is a
    column gap, so "Staged perfusion  Control" names two groups of unequal length."""
    path = tmp_path / "t.pdf"
    _pdf(path, [TABLE_CELLS])
    texts = _texts(path)
    assert texts[2] == "Staged perfusion  Control  t  P"
    assert texts[4] == "Operation time(min)  32±4.46  29±5.17  0.782  0.528"
    ex = extract(read_document(path))
    assert ex.tables is not None
    got = yaml.safe_load(ex.to_yaml())
    assert got["study"]["groups"] == TABLE_EXPECTED["groups"]
    (table,) = got["tables"]
    assert table["number"] == 2
    assert table["title"] == "Outcomes in two groups"
    rows = [{k: v for k, v in row.items() if k != "source"} for row in table["rows"]]
    assert rows == TABLE_EXPECTED["rows"]
    assert [row["source"]["line"] for row in table["rows"]] == [4, 5, 6, 7]
    assert table["rows"][0]["source"]["text"] == "Number  55  55"


@pytest.mark.slow
def test_the_seed_paper_as_pdf_reads_as_its_text(tmp_path: Path) -> None:
    """The seed paper, 60 lines a page: the same tables, values and inline results as its
    text file, and the same problems found. PDFium reports no line for a text line that
    holds only a no-break space (the text's blank lines are not drawn at all), so pages
    and line numbers differ and are left out of the comparison."""
    if not SEED.exists():
        pytest.skip("the seed paper lives in ../shared")
    lines = SEED.read_text(encoding="utf-8").splitlines()
    pdf = tmp_path / "seed.pdf"
    _pdf(pdf, [lines[i : i + 60] for i in range(0, len(lines), 60)], fontsize=5)
    pdf_doc, text_doc = read_document(pdf), read_document(SEED)
    from_pdf, from_text = extract(pdf_doc), extract(text_doc)
    assert from_pdf.tables is not None
    assert from_text.tables is not None
    assert from_pdf.tables.groups == from_text.tables.groups
    assert [
        [dataclasses.replace(r, source=None) for r in t.rows] for t in from_pdf.tables.tables
    ] == [[dataclasses.replace(r, source=None) for r in t.rows] for t in from_text.tables.tables]
    assert [r.text for r in from_pdf.inline] == [r.text for r in from_text.inline]
    assert [(u.text, u.reason) for u in from_pdf.unparsed] == [
        (u.text, u.reason) for u in from_text.unparsed
    ]

    def problems(doc: Document) -> list[tuple[object, ...]]:
        report = audit_paper(doc).report
        return sorted(
            (f.table, f.row, f.column, f.group, f.check, f.status, f.source_text)
            for f in report.findings
            if f.status in ("inconsistent", "impossible")
        )

    found = problems(pdf_doc)
    assert len(found) == 90
    assert found == problems(text_doc)


def test_an_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    """A PDF whose /Encrypt dictionary needs a user password (this one's /U matches none)."""
    path = tmp_path / "locked.pdf"
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n"
        b"2 0 obj <</Type/Pages/Kids[]/Count 0>> endobj\n"
        b"3 0 obj <</Filter/Standard/V 1/R 2/O <" + b"41" * 32 + b">/U <" + b"42" * 32
        + b">/P -4>> endobj\ntrailer <</Root 1 0 R/Encrypt 3 0 R/ID[<" + b"00" * 16
        + b"><" + b"00" * 16 + b">]/Size 4>>\n%%EOF\n"
    )  # fmt: skip
    with pytest.raises(InputFileError) as exc:
        read_document(path)
    assert str(exc.value) == f"{str(path)!r} is an encrypted PDF; save an unencrypted copy"


def test_a_damaged_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4 this is not a pdf")
    with pytest.raises(InputFileError) as exc:
        read_document(path)
    assert str(exc.value) == (
        f"{str(path)!r} is not a readable PDF (it is not a PDF, or it is damaged); if it "
        "opens in a PDF viewer, save its text as .txt and audit that"
    )


def test_too_many_pages_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "long.pdf"
    _pdf(path, [["page one"], ["page two"]])
    assert [(line.page, line.text) for line in read_document(path).lines] == [
        (1, "page one"),
        (2, "page two"),
    ]
    monkeypatch.setattr("kypho.audit.document.MAX_PAGES", 1)
    with pytest.raises(InputFileError) as exc:
        read_document(path)
    assert str(exc.value) == f"{str(path)!r} has 2 pages; kypho audit reads up to 1"


def test_reading_a_pdf_leaves_it_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "p.pdf"
    _pdf(path, [["Results", "t(58) = 2.10, p = .04"]])
    before = path.read_bytes()
    doc = read_document(path)
    assert isinstance(doc, Document)
    assert [r.label for r in extract(doc).inline] == ["t(58)"]
    assert path.read_bytes() == before
