"""The Word report as a manuscript: page setup, table flags, figures, reference styles."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from matplotlib.figure import Figure

from kypho.errors import InputFileError
from kypho.report.format import Grid, GridRow
from kypho.report.word import DocxFigure, write_docx


def grid(number: int = 1, columns: int = 3, cell: str = "1.00 ± 2.00") -> Grid:
    header = ("", *(f"Group {i}" for i in range(columns)), "P")
    rows = tuple(GridRow((f"Row {r}", *[cell] * columns, "0.500")) for r in range(4))
    return Grid(number, f"Title {number}", header, rows, ("A footnote.", "Another."))


def png(path: Path) -> Path:
    figure = Figure(figsize=(3.5, 2.0))
    figure.subplots().plot([0, 1], [0, 1])
    figure.savefig(path, dpi=300)
    return path


def test_portrait_text_tables_flagged_and_figures_captioned(tmp_path: Path) -> None:
    figure = DocxFigure(png(tmp_path / "f.png"), 3.5, "Figure 2. A line.", after_table=1)
    path = write_docx(
        [grid(1), grid(2)],
        tmp_path / "r.docx",
        title="Report",
        paragraphs=[("Statistical methods", "Methods text.")],
        results={1: "Results of table 1.", 2: "Results of table 2."},
        results_intro="Of the 10 patients screened, 2 were excluded.",
        figures=[figure],
    )
    document = Document(str(path))
    assert [s.orientation for s in document.sections] == [WD_ORIENT.PORTRAIT]
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[:6] == [
        "Report",
        "Statistical methods",
        "Methods text.",
        "Results",
        "Of the 10 patients screened, 2 were excluded.",
        "Results of table 1.",
    ]
    assert texts.index("Figure 2. A line.") < texts.index("Results of table 2.")
    assert len(document.inline_shapes) == 1
    assert document.inline_shapes[0].width == pytest.approx(3.5 * 914400, rel=1e-6)
    caption = next(p for p in document.paragraphs if p.text == "Table 1. Title 1")
    assert caption.paragraph_format.keep_with_next
    table = document.tables[0]
    rows = table.rows
    assert rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in rows)
    # Every row holds on to the next, the last one to the footnotes.
    assert all(r.cells[0].paragraphs[0].paragraph_format.keep_with_next for r in rows)
    notes = [p for p in document.paragraphs if p.text in ("A footnote.", "Another.")]
    assert [bool(p.paragraph_format.keep_with_next) for p in notes[:2]] == [True, False]


def test_a_table_too_wide_for_portrait_gets_a_landscape_section(tmp_path: Path) -> None:
    wide = grid(2, columns=6, cell="t = −124.78 (108) and more text")
    path = write_docx([grid(1), wide, grid(3)], tmp_path / "r.docx", results={3: "After."})
    orientations = [s.orientation for s in Document(str(path)).sections]
    assert orientations == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE, WD_ORIENT.PORTRAIT]


def test_styles_come_from_a_reference_document(tmp_path: Path) -> None:
    from docx.shared import Pt

    reference = Document()
    reference.styles["Normal"].font.name = "Arial"
    reference.styles["Normal"].font.size = Pt(12)
    reference.add_paragraph("Template text that must not appear.")
    reference.save(str(tmp_path / "journal.docx"))
    path = write_docx(
        [grid(1)], tmp_path / "r.docx", title="Report", reference=tmp_path / "journal.docx"
    )
    document = Document(str(path))
    assert document.styles["Normal"].font.name == "Arial"
    assert document.styles["Normal"].font.size == Pt(12)
    assert "Template text that must not appear." not in [p.text for p in document.paragraphs]
    assert len(document.tables) == 1


def test_a_reference_that_is_not_a_docx_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "journal.docx"
    bad.write_text("not a zip", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"could not be read as a \.docx file"):
        write_docx([grid(1)], tmp_path / "r.docx", reference=bad)
