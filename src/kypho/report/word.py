"""The manuscript-ready Word (.docx) report, with python-docx.

Layout: portrait A4 pages with the title, the methods and the results text; each
results paragraph is followed by its table, and each figure (PNG at print
resolution, one or two journal columns wide) by its numbered caption. A table
too wide for a portrait page gets a landscape section of its own (consecutive
wide tables share one); the text goes on in portrait after it.

Tables follow what journals ask for: three horizontal rules (above and below the
header row, below the last row), no vertical lines, no shading — borders set on
the cells themselves so that Word and LibreOffice draw the same rules whatever
table style the template holds. The header row repeats on every page (``w:tblHeader``),
no row breaks across pages (``w:cantSplit``), and every paragraph of the caption,
the rows and the footnotes but the last is "keep with next", so a table that fits
on a page is never split and its caption never stands alone at a page foot.

Styles: the text uses the built-in style names (``Title``, ``Heading 1``,
``Heading 2``, ``Normal``, ``Caption``), so a journal's template given as
``reference`` (a .docx whose styles are used, its content dropped, as pandoc's
``--reference-doc``) restyles the whole document.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kypho.errors import InputFileError
from kypho.report.format import Grid

if TYPE_CHECKING:
    from kypho.report.sections import ReportSection

__all__ = ["DocxFigure", "add_table", "write_docx"]

_A4 = (21.0, 29.7)  # cm
_MARGIN_CM = 2.5
_BODY_PT = 9.0
_SMALL_PT = 8.0
_CELL_PAD_PT = 2 * 5.4  # Word's default left + right cell margins (0.19 cm each)
_NARROW = frozenset(" .,:;()[]'′|il!")


def _text_em(text: str) -> float:
    """Width of ``text`` in em, close to Times New Roman's advance widths.

    Digits are half an em; spaces, points and brackets about a quarter to a
    third; capitals two thirds; other letters and signs a little under half.
    """
    total = 0.0
    for ch in text:
        if ch.isdigit():
            total += 0.5
        elif ch in _NARROW:
            total += 0.3
        elif ch.isupper():
            total += 0.68
        elif ch in "±−=<>+×χ²":
            total += 0.56
        else:
            total += 0.46
    return total


@dataclass(frozen=True)
class DocxFigure:
    """A figure for the Word report: its PNG (a file, or its bytes), width in inches, caption and place.

    ``after_table`` is the table it follows; ``None`` puts it at the start of
    the results (the patient flow).
    """

    png: Path | bytes
    width_in: float
    caption: str
    after_table: int | None = None


def column_widths(grid: Grid, available: float | None = None) -> list[float]:
    """The width in points each column needs so that its cells do not wrap.

    Estimated from the text at the table's font sizes (:func:`_text_em`); a
    heading may wrap at its spaces, so only its longest word counts, and a
    section heading (bold) counts in the label column. A small row under the
    values ("t = −3.2 (54), P < 0.001") is kept on one line when the table then
    still fits in ``available`` points; otherwise it may wrap at its comma.
    """
    one_line = _widths(grid, split_small=False)
    if available is not None and sum(one_line) <= available:
        return one_line
    return _widths(grid, split_small=True)


def _widths(grid: Grid, *, split_small: bool) -> list[float]:
    widths = [0.0] * len(grid.header)
    for c, text in enumerate(grid.header):
        longest = max((_text_em(w) for w in text.split()), default=0.0)
        widths[c] = longest * _BODY_PT * 1.12  # bold is wider
    for row in grid.rows:
        small = row.kind in ("within", "missing")
        size = _SMALL_PT if small else _BODY_PT
        for c, text in enumerate(row.cells):
            parts = text.split(", ") if small and split_small else [text]
            longest = max((_text_em(part) for part in parts), default=0.0)
            bold = 1.12 if row.kind == "section" and c == 0 else 1.0
            need = (longest + row.indent * (c == 0)) * size * bold
            widths[c] = max(widths[c], need)
    # 5% to spare: a renderer's font may run a little wider than the estimate.
    return [1.05 * w + _CELL_PAD_PT for w in widths]


def _keep_parts_together(text: str) -> str:
    """A small row's text that wraps only at its commas ("P < 0.001" stays on one line).

    >>> _keep_parts_together("t = −3.2 (54), P < 0.001") == "t\u00a0=\u00a0−3.2\u00a0(54), P\u00a0<\u00a00.001"
    True
    """
    return ", ".join(part.replace(" ", "\u00a0") for part in text.split(", "))


def _needs_landscape(grid: Grid, available: float) -> bool:
    """Whether the columns but the label do not fit beside a label column of 22% of the width."""
    widths = column_widths(grid)
    return sum(widths[1:]) > 0.78 * available


def _fit(widths: list[float], available: float) -> list[float]:
    """Column widths that fill at most ``available`` points; the label column wraps first."""
    total = sum(widths)
    if total <= available:
        return widths
    others = sum(widths[1:])
    label = available - others
    if label >= 0.2 * available:
        return [label, *widths[1:]]
    scale = available / total
    return [w * scale for w in widths]


def _keep(paragraph: Any, *, with_next: bool = True) -> None:
    paragraph.paragraph_format.keep_with_next = with_next
    paragraph.paragraph_format.keep_together = True


def _style(document: Any, name: str, fallback: str = "Normal") -> Any:
    try:
        return document.styles[name]
    except KeyError:
        return document.styles[fallback]


def add_table(document: Any, grid: Grid, *, width_pt: float | None = None) -> Any:
    """Append one grid (caption, table, footnotes) to a python-docx ``Document``.

    ``width_pt`` is the width the table may take (the text width); columns get
    the widths their cells need, the label column wrapping if they exceed it.

    The WordprocessingML is written as one string and parsed once: building it
    cell by cell through python-docx's objects took most of the report's Word
    time. The elements are those python-docx's ``add_table``, ``add_paragraph``
    and ``add_run`` make with the properties set here (a test compares both).
    """
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn
    from docx.table import Table

    widths = column_widths(grid, width_pt)
    if width_pt is not None:
        widths = _fit(widths, width_pt)
    caption_style = document.part.get_style_id(_style(document, "Caption"), WD_STYLE_TYPE.PARAGRAPH)
    xml = _table_xml(grid, widths, caption_style)
    holder = parse_xml(f"<w:body {nsdecls('w')}>{xml}</w:body>")
    body = document.element.body
    end = body.find(qn("w:sectPr"))
    table = holder.find(qn("w:tbl"))
    for element in list(holder):
        if end is not None:
            end.addprevious(element)
        else:
            body.append(element)
    return Table(table, document._body)


def _twips(points: float) -> int:
    # python-docx's Pt(points).twips: whole EMUs first, then rounded twips.
    return round(int(points * 12700) / 635)


def _half_points(points: float) -> int:
    return int(int(points * 12700) / 12700 * 2)


def _run_xml(text: str, properties: str) -> str:
    """A ``w:r`` as python-docx's ``add_run(text)`` writes it: tabs and breaks as elements."""
    from xml.sax.saxutils import escape

    parts: list[str] = []
    for piece in re.split(r"([\t\r\n])", text):
        if piece == "\t":
            parts.append("<w:tab/>")
        elif piece in ("\r", "\n"):
            parts.append("<w:br/>")
        elif piece:
            space = ' xml:space="preserve"' if len(piece.strip()) < len(piece) else ""
            parts.append(f"<w:t{space}>{escape(piece)}</w:t>")
    inner = "".join(parts)
    if not properties and not inner:
        return "<w:r/>"
    rpr = f"<w:rPr>{properties}</w:rPr>" if properties else ""
    return f"<w:r>{rpr}{inner}</w:r>"


def _keep_xml(with_next: bool) -> str:
    return ("<w:keepNext/>" if with_next else '<w:keepNext w:val="0"/>') + "<w:keepLines/>"


def _edge_xml(edge: str, value: str) -> str:
    if value == "nil":
        return f'<w:{edge} w:val="nil"/>'
    return f'<w:{edge} w:val="single" w:sz="{value}" w:space="0" w:color="000000"/>'


def _table_xml(grid: Grid, widths: Sequence[float], caption_style: str | None) -> str:
    """Caption, table, footnotes and the blank paragraph after them, as WordprocessingML."""
    style = f'<w:pStyle w:val="{caption_style}"/>' if caption_style else ""
    out = [
        f"<w:p><w:pPr>{style}{_keep_xml(True)}</w:pPr>",
        # "Table 3. " (or a supplementary table's "Table S1. "), in bold.
        _run_xml(grid.caption.removesuffix(grid.title), "<w:b/>"),
        _run_xml(grid.title, ""),
        "</w:p><w:tbl><w:tblPr>",
        '<w:tblLayout w:type="fixed"/><w:tblLook w:firstColumn="1" w:firstRow="1" '
        'w:lastColumn="0" w:lastRow="0" w:noHBand="0" w:noVBand="1" w:val="04A0"/>',
        "<w:tblBorders>",
        *(_edge_xml(e, "nil") for e in ("top", "left", "bottom", "right", "insideH", "insideV")),
        '</w:tblBorders><w:tblLayout w:type="fixed"/>',
        f'<w:tblW w:w="{round(sum(widths) * 20)}" w:type="dxa"/></w:tblPr><w:tblGrid>',
        *(f'<w:gridCol w:w="{_twips(w)}"/>' for w in widths),
        "</w:tblGrid>",
    ]
    last = len(grid.rows)
    texts = [grid.header, *(row.cells for row in grid.rows)]
    cell_twips = [_twips(w) for w in widths]
    for r, cells in enumerate(texts):
        row_kind = "header" if r == 0 else grid.rows[r - 1].kind
        indent = 0 if r == 0 else grid.rows[r - 1].indent
        header = '<w:tblHeader w:val="true"/>' if r == 0 else ""
        out.append(f"<w:tr><w:trPr><w:cantSplit/>{header}</w:trPr>")
        edges: dict[str, str] = {}
        if r == 0:
            edges = {"top": "12", "bottom": "6"}
        if r == last:
            edges["bottom"] = "12"
        borders = "".join(
            _edge_xml(e, edges.get(e, "nil")) for e in ("top", "left", "bottom", "right")
        )
        # Every row holds on to the next: the table stays on one page.
        keep = _keep_xml(r < last or bool(grid.footnotes))
        size = _half_points(_SMALL_PT if row_kind in ("within", "missing") else _BODY_PT)
        for c, (text, twips) in enumerate(zip(cells, cell_twips, strict=True)):
            if row_kind in ("within", "missing"):
                text = _keep_parts_together(text)
            ind = f'<w:ind w:left="{_twips(10 * indent)}"/>' if c == 0 and indent else ""
            align = "left" if c == 0 else "center"
            bold = r == 0 or (c == 0 and row_kind in ("section", "header"))
            out.append(
                f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{twips}"/>'
                f"<w:tcBorders>{borders}</w:tcBorders></w:tcPr>"
                f'<w:p><w:pPr>{keep}<w:spacing w:after="0" w:before="0"/>{ind}'
                f'<w:jc w:val="{align}"/></w:pPr>'
                + _run_xml(
                    text, ("<w:b/>" if bold else '<w:b w:val="0"/>') + f'<w:sz w:val="{size}"/>'
                )
                + "</w:p></w:tc>"
            )
        out.append("</w:tr>")
    out.append("</w:tbl>")
    small = _half_points(_SMALL_PT)
    for i, note in enumerate(grid.footnotes):
        out.append(
            f'<w:p><w:pPr>{_keep_xml(i < len(grid.footnotes) - 1)}<w:spacing w:after="0"/></w:pPr>'
            + _run_xml(note, f'<w:sz w:val="{small}"/>')
            + "</w:p>"
        )
    out.append("<w:p/>")
    return "".join(out)


def _add_figure(document: Any, figure: DocxFigure, text_width_in: float) -> None:
    from docx.shared import Inches

    source = io.BytesIO(figure.png) if isinstance(figure.png, bytes) else str(figure.png)
    document.add_picture(source, width=Inches(min(figure.width_in, text_width_in)))
    _keep(document.paragraphs[-1])
    caption = document.add_paragraph(style=_style(document, "Caption"))
    number, _, rest = figure.caption.partition(". ")
    if rest:
        caption.add_run(f"{number}. ").bold = True
        caption.add_run(rest)
    else:
        caption.add_run(figure.caption)


def _page(section: Any, *, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    short, long = Cm(_A4[0]), Cm(_A4[1])
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (long, short) if landscape else (short, long)


def _text_width_pt(section: Any) -> float:
    return float(section.page_width - section.left_margin - section.right_margin) / 12700.0


def _open(reference: Path | None) -> Any:
    from docx import Document
    from docx.shared import Cm, Pt

    if reference is None:
        document = Document()
        section = document.sections[0]
        _page(section, landscape=False)
        for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, margin, Cm(_MARGIN_CM))
        style = document.styles["Normal"]
        style.font.name = "Times New Roman"
        style.font.size = Pt(11)
        return document
    try:
        document = Document(str(reference))
    except Exception as exc:  # python-docx raises several kinds for a bad package
        raise InputFileError(
            f"the reference document {reference} could not be read as a .docx file "
            f"({type(exc).__name__}); give a Word document whose styles the report should use"
        ) from exc
    body = document.element.body
    # Keep the template's styles and page setup, drop its content.
    for child in list(body):
        if not child.tag.endswith("}sectPr"):
            body.remove(child)
    return document


def write_docx(
    grids: Sequence[Grid],
    path: str | Path,
    *,
    title: str = "",
    note: str = "",
    paragraphs: Iterable[tuple[str, str]] = (),
    results: Mapping[int, str] | None = None,
    results_intro: str = "",
    figures: Sequence[DocxFigure] = (),
    reference: str | Path | None = None,
    sections: Sequence[ReportSection] = (),
) -> Path:
    """Write the report (text, tables and figures) to a .docx file.

    Parameters
    ----------
    grids
        The laid-out tables, in order.
    path
        The .docx file to write.
    title
        The document title (style ``Heading 1``).
    note
        A remark under the title, in bold (e.g. that the data are synthetic).
    paragraphs
        ``(heading, text)`` sections before the results (the statistical methods);
        blank lines separate paragraphs.
    results
        The results paragraph of each table by table number, printed before it.
        With ``None`` there is no "Results" heading, only the tables.
    results_intro
        A paragraph at the start of the results (the patient flow).
    figures
        The figures, each placed after its table (or at the start of the results).
    reference
        A .docx whose styles and page setup the document takes (its content is
        dropped); ``None``: A4 portrait, Times New Roman 11 pt.
    sections
        More sections after the tables (:class:`kypho.report.sections.ReportSection`),
        each on a portrait page.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputFileError
        If ``reference`` is not a readable .docx file.
    """
    from docx.enum.section import WD_SECTION

    document = _open(Path(reference) if reference is not None else None)
    section = document.sections[-1]
    portrait_width = _text_width_pt(section)
    if title:
        document.add_heading(title, level=1)
    if note:
        document.add_paragraph().add_run(note).bold = True
    for heading, text in paragraphs:
        document.add_heading(heading, level=2)
        for block in text.split("\n\n"):
            document.add_paragraph(block)
    if results is not None:
        document.add_heading("Results", level=2)
    if results_intro:
        document.add_paragraph(results_intro)
    text_width_in = portrait_width / 72.0
    for figure in figures:
        if figure.after_table is None:
            _add_figure(document, figure, text_width_in)
    landscape = False
    for grid in grids:
        paragraph = (results or {}).get(grid.number)
        wide = _needs_landscape(grid, portrait_width)
        if paragraph:
            if landscape:
                _page(document.add_section(WD_SECTION.NEW_PAGE), landscape=False)
                landscape = False
            document.add_paragraph(paragraph)
        if wide != landscape:
            _page(document.add_section(WD_SECTION.NEW_PAGE), landscape=wide)
            landscape = wide
        add_table(document, grid, width_pt=_text_width_pt(document.sections[-1]))
        placed = [f for f in figures if f.after_table == grid.number]
        if placed and landscape:
            _page(document.add_section(WD_SECTION.NEW_PAGE), landscape=False)
            landscape = False
        for figure in placed:
            _add_figure(document, figure, text_width_in)
    if sections:
        from kypho.report.sections import add_to_docx

        if landscape:
            _page(document.add_section(WD_SECTION.NEW_PAGE), landscape=False)
        for extra in sections:
            add_to_docx(document, extra, text_width_in)
    target = Path(path)
    document.save(str(target))
    return target
