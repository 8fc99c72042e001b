"""A report section of its own, drawn alike in the HTML page, ``report.md`` and ``report.docx``.

A :class:`ReportSection` is an id, a title and its content as blocks in order:
:class:`Paragraph` (plain text, escaped by each format), :class:`~kypho.report.format.Grid`
(a table, drawn by the same renderers as the plan's tables) and :class:`SectionFigure`
(PNG bytes for Word and the figures folder, SVG bytes for the page).
:func:`kypho.report.write_report` takes such sections in ``sections=`` and puts them
after the plan's tables (and after "Beyond the paper" in the HTML page); each
figure is also written as ``figures/<name>.png`` and ``.svg``.

A section holds no study data of its own making: whoever builds it decides what
it says (e.g. :func:`kypho.report.mechanism.mechanism_section`); this module only
draws it, and turns it into JSON and back for :mod:`kypho.cache`.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from typing import Any

from kypho.output.markup import markdown_escape
from kypho.report.format import Grid, GridRow
from kypho.report.render import to_html, to_markdown

__all__ = [
    "Paragraph",
    "ReportSection",
    "SectionFigure",
    "SupplementaryGrid",
    "add_to_docx",
    "section_from_json",
    "section_html",
    "section_markdown",
    "section_to_json",
]


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text; ``note`` prints it as a remark (smaller, in a box)."""

    text: str
    note: bool = False


@dataclass(frozen=True)
class SectionFigure:
    """A figure: file stem under ``figures/``, its PNG and SVG, caption and width (inches)."""

    name: str
    png: bytes
    svg: bytes
    caption: str
    width_in: float = 6.3


class SupplementaryGrid(Grid):
    """A table numbered apart from the plan's: ``"Table S1. …"``."""

    @property
    def caption(self) -> str:
        """``"Table S1. Leakage by protocol"``."""
        return f"Table S{self.number}. {self.title}"


Block = Paragraph | Grid | SectionFigure


@dataclass(frozen=True)
class ReportSection:
    """One section: ``id`` (an HTML anchor), ``title`` and ``blocks`` in reading order."""

    id: str
    title: str
    blocks: tuple[Block, ...]

    @property
    def figures(self) -> tuple[SectionFigure, ...]:
        """The section's figures, in order."""
        return tuple(b for b in self.blocks if isinstance(b, SectionFigure))

    @property
    def grids(self) -> tuple[Grid, ...]:
        """The section's tables, in order."""
        return tuple(b for b in self.blocks if isinstance(b, Grid))


def _svg_inline(svg: bytes) -> str:
    text = svg.decode("utf-8")
    # The XML prologue and DOCTYPE do not belong inside an HTML page.
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def section_html(section: ReportSection) -> str:
    """The section's content as an HTML fragment (every text escaped; SVG inlined)."""
    esc = html.escape
    parts: list[str] = []
    tables = 0
    for block in section.blocks:
        if isinstance(block, Paragraph):
            css = ' class="note"' if block.note else ""
            parts.append(f"<p{css}>{esc(block.text)}</p>")
        elif isinstance(block, SectionFigure):
            parts.append(
                f"<figure>{_svg_inline(block.svg)}"
                f"<figcaption>{esc(block.caption)}</figcaption></figure>"
            )
        else:
            tables += 1
            parts.append(to_html(block, table_id=f"{section.id}-table{tables}"))
    return "\n".join(parts)


def section_markdown(section: ReportSection) -> str:
    """The section as Markdown: heading, paragraphs, tables; figures as links to ``figures/``."""
    text = [f"## {markdown_escape(section.title)}", ""]
    for block in section.blocks:
        if isinstance(block, Paragraph):
            text += [("> " if block.note else "") + markdown_escape(block.text), ""]
        elif isinstance(block, SectionFigure):
            text += [f"![{markdown_escape(block.caption)}](figures/{block.name}.png)", ""]
        else:
            text += [to_markdown(block), ""]
    return "\n".join(text)


def add_to_docx(document: Any, section: ReportSection, text_width_in: float) -> None:
    """Append the section to a python-docx ``document`` (heading, text, tables, figures)."""
    from kypho.report.word import DocxFigure, _add_figure, add_table

    document.add_heading(section.title, level=2)
    for block in section.blocks:
        if isinstance(block, Paragraph):
            paragraph = document.add_paragraph()
            run = paragraph.add_run(block.text)
            run.italic = block.note
        elif isinstance(block, SectionFigure):
            figure = DocxFigure(block.png, block.width_in, block.caption)
            _add_figure(document, figure, text_width_in)
        else:
            add_table(document, block, width_pt=72.0 * text_width_in)


def section_to_json(section: ReportSection) -> str:
    """The section as JSON text (figures base64), read back by :func:`section_from_json`."""
    blocks: list[dict[str, Any]] = []
    for block in section.blocks:
        if isinstance(block, Paragraph):
            blocks.append({"paragraph": block.text, "note": block.note})
        elif isinstance(block, SectionFigure):
            blocks.append(
                {
                    "figure": block.name,
                    "png": base64.b64encode(block.png).decode("ascii"),
                    "svg": base64.b64encode(block.svg).decode("ascii"),
                    "caption": block.caption,
                    "width_in": block.width_in,
                }
            )
        else:
            blocks.append(
                {
                    "table": block.number,
                    "supplementary": isinstance(block, SupplementaryGrid),
                    "title": block.title,
                    "header": list(block.header),
                    "rows": [[list(r.cells), r.kind, r.indent] for r in block.rows],
                    "footnotes": list(block.footnotes),
                }
            )
    return json.dumps({"id": section.id, "title": section.title, "blocks": blocks})


def section_from_json(text: str) -> ReportSection:
    """The section :func:`section_to_json` wrote."""
    doc = json.loads(text)
    blocks: list[Block] = []
    for b in doc["blocks"]:
        if "paragraph" in b:
            blocks.append(Paragraph(b["paragraph"], bool(b["note"])))
        elif "figure" in b:
            blocks.append(
                SectionFigure(
                    b["figure"],
                    base64.b64decode(b["png"]),
                    base64.b64decode(b["svg"]),
                    b["caption"],
                    float(b["width_in"]),
                )
            )
        else:
            kind = SupplementaryGrid if b["supplementary"] else Grid
            blocks.append(
                kind(
                    number=int(b["table"]),
                    title=b["title"],
                    header=tuple(b["header"]),
                    rows=tuple(
                        GridRow(tuple(cells), row_kind, int(indent))
                        for cells, row_kind, indent in b["rows"]
                    ),
                    footnotes=tuple(b["footnotes"]),
                )
            )
    return ReportSection(doc["id"], doc["title"], tuple(blocks))
