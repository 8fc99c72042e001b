"""Word (.docx) tables in a clean journal style, with python-docx.

Each table is preceded by its caption and followed by its footnotes. The style
is the one most journals ask for: three horizontal rules (above and below the
header row, below the last row), no vertical lines, no shading. Borders are
set on the cells themselves so that Word and LibreOffice draw the same rules
whatever table style the template holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from kypho.report.format import Grid

__all__ = ["write_docx"]


def _border(cell: Any, **edges: str) -> None:
    """Set the given edges (top/bottom/left/right: size in eighths of a point or "nil")."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

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


def _no_table_borders(table: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.append(borders)


def add_table(document: Any, grid: Grid) -> Any:
    """Append one grid (caption, table, footnotes) to a python-docx ``Document``."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    caption = document.add_paragraph()
    run = caption.add_run(f"Table {grid.number}. ")
    run.bold = True
    caption.add_run(grid.title)
    table = document.add_table(rows=1 + len(grid.rows), cols=len(grid.header))
    _no_table_borders(table)
    last = len(grid.rows)
    texts = [grid.header, *(row.cells for row in grid.rows)]
    # table.cell(r, c) walks the whole table on every call; one row's cells at a
    # time keeps writing linear in the number of cells.
    for r, (docx_row, cells) in enumerate(zip(table.rows, texts, strict=True)):
        row_kind = "header" if r == 0 else grid.rows[r - 1].kind
        indent = 0 if r == 0 else grid.rows[r - 1].indent
        for c, (cell, text) in enumerate(zip(docx_row.cells, cells, strict=True)):
            paragraph = cell.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT if c == 0 else WD_ALIGN_PARAGRAPH.CENTER
            if c == 0 and indent:
                paragraph.paragraph_format.left_indent = Pt(10 * indent)
            run = paragraph.add_run(text)
            run.font.size = Pt(8 if row_kind in ("within", "missing") else 9)
            run.bold = r == 0 or (c == 0 and row_kind in ("section", "header"))
            edges: dict[str, str] = {}
            if r == 0:
                edges = {"top": "12", "bottom": "6"}
            if r == last:
                edges["bottom"] = "12"
            _border(cell, **edges)
    for note in grid.footnotes:
        paragraph = document.add_paragraph()
        run = paragraph.add_run(note)
        run.font.size = Pt(8)
        paragraph.paragraph_format.space_after = Pt(0)
    document.add_paragraph()
    return table


def write_docx(
    grids: Sequence[Grid],
    path: str | Path,
    *,
    title: str = "",
    note: str = "",
    paragraphs: Iterable[tuple[str, str]] = (),
) -> Path:
    """Write every table (and optional text sections) to a .docx file.

    Parameters
    ----------
    grids
        The laid-out tables, in order.
    path
        The .docx file to write.
    title
        A heading at the top of the document.
    note
        A boxed-off remark under the title, in bold (e.g. that the data are synthetic).
    paragraphs
        ``(heading, text)`` pairs written after the tables (methods, results).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Cm(1.8))
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(10)
    if title:
        document.add_heading(title, level=1)
    if note:
        document.add_paragraph().add_run(note).bold = True
    for grid in grids:
        add_table(document, grid)
    for heading, text in paragraphs:
        document.add_heading(heading, level=2)
        for block in text.split("\n\n"):
            document.add_paragraph(block)
    target = Path(path)
    document.save(str(target))
    return target
