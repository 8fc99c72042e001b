"""The Word report as a manuscript: page setup, table flags, figures, reference styles."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
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


# The tables were once built through python-docx's objects, cell by cell; that
# builder stays here as the reference the fast one (one XML string) must match.


def _reference_border(cell: Any, **edges: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    for edge in ("top", "left", "bottom", "right"):
        value = edges.get(edge, "nil")
        element = borders.find(qn(f"w:{edge}"))
        if element is None:
            element = OxmlElement(f"w:{edge}")
            borders.append(element)
        if value == "nil":
            element.set(qn("w:val"), "nil")
        else:
            element.set(qn("w:val"), "single")
            element.set(qn("w:sz"), value)
            element.set(qn("w:space"), "0")
            element.set(qn("w:color"), "000000")


def _reference_table(document: Any, grid: Grid, *, width_pt: float | None = None) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    from kypho.report.word import (
        _BODY_PT,
        _SMALL_PT,
        _fit,
        _keep,
        _keep_parts_together,
        _style,
        column_widths,
    )

    caption = document.add_paragraph(style=_style(document, "Caption"))
    caption.add_run(f"Table {grid.number}. ").bold = True
    caption.add_run(grid.title)
    _keep(caption)
    table = document.add_table(rows=1 + len(grid.rows), cols=len(grid.header))
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.append(borders)
    table.autofit = False
    widths = column_widths(grid, width_pt)
    if width_pt is not None:
        widths = _fit(widths, width_pt)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Pt(width)
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    total = OxmlElement("w:tblW")
    total.set(qn("w:w"), str(round(sum(widths) * 20)))
    total.set(qn("w:type"), "dxa")
    for old in tbl_pr.findall(qn("w:tblW")):
        tbl_pr.remove(old)
    tbl_pr.append(total)
    last = len(grid.rows)
    texts = [grid.header, *(row.cells for row in grid.rows)]
    for r, (docx_row, cells) in enumerate(zip(table.rows, texts, strict=True)):
        row_kind = "header" if r == 0 else grid.rows[r - 1].kind
        indent = 0 if r == 0 else grid.rows[r - 1].indent
        tr_pr = docx_row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))
        if r == 0:
            flag = OxmlElement("w:tblHeader")
            flag.set(qn("w:val"), "true")
            tr_pr.append(flag)
        for c, (cell, text) in enumerate(zip(docx_row.cells, cells, strict=True)):
            cell.width = Pt(widths[c])
            paragraph = cell.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT if c == 0 else WD_ALIGN_PARAGRAPH.CENTER
            paragraph.paragraph_format.space_after = Pt(0)
            paragraph.paragraph_format.space_before = Pt(0)
            _keep(paragraph, with_next=r < last or bool(grid.footnotes))
            if c == 0 and indent:
                paragraph.paragraph_format.left_indent = Pt(10 * indent)
            small = row_kind in ("within", "missing")
            run = paragraph.add_run(_keep_parts_together(text) if small else text)
            run.font.size = Pt(_SMALL_PT if row_kind in ("within", "missing") else _BODY_PT)
            run.bold = r == 0 or (c == 0 and row_kind in ("section", "header"))
            edges: dict[str, str] = {}
            if r == 0:
                edges = {"top": "12", "bottom": "6"}
            if r == last:
                edges["bottom"] = "12"
            _reference_border(cell, **edges)
    for i, note in enumerate(grid.footnotes):
        paragraph = document.add_paragraph()
        run = paragraph.add_run(note)
        run.font.size = Pt(_SMALL_PT)
        paragraph.paragraph_format.space_after = Pt(0)
        _keep(paragraph, with_next=i < len(grid.footnotes) - 1)
    document.add_paragraph()
    return table


def test_tables_are_the_xml_python_docx_would_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    odd = Grid(
        9,
        "",
        ("", "A\tb", " lead & <x>"),
        (
            GridRow(("Section", "", ""), "section"),
            GridRow(("two\nlines", "a\r\nb", "trail "), "data", 1),
            GridRow(("deep", "1", "2"), "data", 3),
            GridRow(("within", "t = −3.2 (54), P < 0.001", ""), "within", 2),
            GridRow(("missing", "3", "4"), "missing"),
        ),
        (),
    )
    wide = grid(2, columns=8, cell="t = −124.78 (108) and more text")
    reference = Document()
    reference.styles["Caption"].delete()  # the caption falls back to Normal
    reference.save(str(tmp_path / "ref.docx"))
    grids = [odd, grid(1), wide, grid(3)]
    built: list[int] = []

    def reference_table(document: Any, table: Grid, *, width_pt: float | None = None) -> Any:
        built.append(table.number)
        return _reference_table(document, table, width_pt=width_pt)

    for template in (None, tmp_path / "ref.docx"):
        fast = write_docx(grids, tmp_path / "fast.docx", results={1: "One."}, reference=template)
        monkeypatch.setattr("kypho.report.word.add_table", reference_table)
        slow = write_docx(grids, tmp_path / "slow.docx", results={1: "One."}, reference=template)
        monkeypatch.undo()
        with zipfile.ZipFile(fast) as a, zipfile.ZipFile(slow) as b:
            assert a.read("word/document.xml") == b.read("word/document.xml")
    assert built == [9, 1, 2, 3] * 2
