"""Report sections of their own (kypho.report.sections): HTML, Markdown, Word, JSON."""

from __future__ import annotations

import io
from pathlib import Path

from kypho.report.format import Grid, GridRow
from kypho.report.sections import (
    Paragraph,
    ReportSection,
    SectionFigure,
    SupplementaryGrid,
    add_to_docx,
    section_from_json,
    section_html,
    section_markdown,
    section_to_json,
)


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "white").save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()
SVG = b'<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>'


def section() -> ReportSection:
    grid = SupplementaryGrid(
        number=1,
        title="Leak <by> protocol",
        header=("", "a", "b"),
        rows=(GridRow(("Leaked, ml", "0.010", "0.020")), GridRow(("via <x>", "1", "2"), indent=1)),
        footnotes=("A footnote & more.",),
    )
    return ReportSection(
        "mech",
        "Mechanism",
        (
            Paragraph("A model <not> patients & not evidence.", note=True),
            Paragraph("Second paragraph *plain*."),
            grid,
            SectionFigure("mech_fig", PNG, SVG, "Figure S1. The <fill>.", 2.0),
        ),
    )


def test_supplementary_table_is_numbered_apart() -> None:
    assert section().grids[0].caption == "Table S1. Leak <by> protocol"
    plain = Grid(number=3, title="t", header=(), rows=(), footnotes=())
    assert plain.caption == "Table 3. t"


def test_html_escapes_every_text_and_inlines_the_svg_without_its_prologue() -> None:
    page = section_html(section())
    assert '<p class="note">A model &lt;not&gt; patients &amp; not evidence.</p>' in page
    assert "<p>Second paragraph *plain*.</p>" in page
    assert "<caption>Table S1. Leak &lt;by&gt; protocol</caption>" in page
    assert 'id="mech-table1"' in page
    assert "via &lt;x&gt;" in page
    assert '<figure><svg xmlns="http://www.w3.org/2000/svg"><g/></svg>' in page
    assert "<figcaption>Figure S1. The &lt;fill&gt;.</figcaption>" in page
    assert "<?xml" not in page
    assert "DOCTYPE" not in page


def test_markdown_has_heading_text_table_and_figure_link() -> None:
    text = section_markdown(section())
    assert text.startswith("## Mechanism\n")
    # Escaped by kypho.output.markup.markdown_escape, as the rest of report.md.
    assert "> A model &lt;not> patients &amp; not evidence." in text
    assert "Second paragraph *plain*." in text
    assert "**Table S1. Leak &lt;by> protocol**" in text
    assert "| Leaked, ml | 0.010 | 0.020 |" in text
    assert "![Figure S1. The &lt;fill>.](figures/mech_fig.png)" in text


def test_word_gets_heading_paragraphs_table_and_picture() -> None:
    import docx

    document = docx.Document()
    add_to_docx(document, section(), 6.0)
    buffer = io.BytesIO()
    document.save(buffer)
    reread = docx.Document(io.BytesIO(buffer.getvalue()))
    texts = [p.text for p in reread.paragraphs]
    assert "Mechanism" in texts
    assert "A model <not> patients & not evidence." in texts
    assert "Figure S1. The <fill>." in texts
    assert len(reread.inline_shapes) == 1
    cells = [c.text for row in reread.tables[0].rows for c in row.cells]
    assert "Leaked, ml" in cells
    assert "0.020" in cells


def test_json_round_trip_keeps_every_block(tmp_path: Path) -> None:
    original = section()
    again = section_from_json(section_to_json(original))
    assert again == original
    assert isinstance(again.grids[0], SupplementaryGrid)
