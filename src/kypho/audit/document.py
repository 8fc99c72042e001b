"""A paper as numbered lines of text, from .txt, .html, .docx or .pdf.

Every extracted value keeps the page and the line it came from, so that a finding can
quote its source. Reading never modifies the file, never reaches the network, and has
limits (file size, pages, characters) so a hostile file cannot exhaust memory.

PDF text comes from PDFium (through pypdfium2): its text page gives each character with
its box, in reading order, with line breaks. PDFium writes one space for any run of
spaces, and table readers need to see column gaps, so the spaces are counted again from
the boxes (see :func:`_pdf_page_text`). HTML comes from the standard library's parser
(block elements and table rows become lines, table cells are separated by two spaces);
.docx from python-docx, paragraphs and table rows in body order.
"""

from __future__ import annotations

import html.parser
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kypho.errors import InputFileError

__all__ = ["MAX_CHARACTERS", "MAX_FILE_BYTES", "MAX_PAGES", "Document", "Line", "read_document"]

#: Limits on what a paper may be: larger files are refused with a clear message.
MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_PAGES = 2_000
MAX_CHARACTERS = 20_000_000

_SPACES = {c: " " for c in (0xA0, 0x2007, 0x2009, 0x200A, 0x202F, 0x2002, 0x2003)}

SUFFIXES = (".txt", ".text", ".md", ".html", ".htm", ".docx", ".pdf")


@dataclass(frozen=True)
class Line:
    """One line of the paper: its page (1-based; 1 where the format has no pages),
    its number within the whole document (1-based), and its text."""

    page: int
    number: int
    text: str


@dataclass(frozen=True)
class Document:
    """A paper as lines, with the file it came from."""

    source: str
    lines: tuple[Line, ...]

    @property
    def text(self) -> str:
        """The whole text, lines joined by newlines."""
        return "\n".join(line.text for line in self.lines)

    @classmethod
    def from_text(cls, text: str, *, source: str = "<text>") -> Document:
        """A document from text; a form feed starts a new page.

        No-break, thin and other Unicode spaces become plain spaces (PDF and HTML
        text uses them between words; they are never part of a value).
        """
        text = text.translate(_SPACES)
        lines: list[Line] = []
        number = 0
        for page, chunk in enumerate(text.split("\f"), start=1):
            for raw in chunk.splitlines():
                number += 1
                lines.append(Line(page, number, raw.rstrip()))
        return cls(source, tuple(lines))


def read_document(path: str | Path) -> Document:
    """Read a paper (.txt, .md, .html, .htm, .docx or .pdf) into numbered lines.

    Raises
    ------
    InputFileError
        When the file is missing, too large, of another kind, or cannot be read; the
        message names the file and what went wrong.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputFileError(
            f"{str(p)!r}: kypho audit reads a paper as {', '.join(SUFFIXES)}, or a "
            f"summary-table file as .yaml (got {suffix or 'no extension'})"
        )
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise InputFileError(f"cannot read {str(p)!r}: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise InputFileError(
            f"{str(p)!r} is {size / 1e6:.0f} MB; kypho audit reads papers of up to "
            f"{MAX_FILE_BYTES / 1e6:.0f} MB"
        )
    if suffix == ".pdf":
        return _checked(_read_pdf(p), p)
    if suffix == ".docx":
        return _checked(_read_docx(p), p)
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if suffix in (".html", ".htm"):
        text = _html_text(text)
    return _checked(Document.from_text(text, source=str(p)), p)


def _checked(doc: Document, p: Path) -> Document:
    total = sum(len(line.text) for line in doc.lines)
    if total > MAX_CHARACTERS:
        raise InputFileError(
            f"{str(p)!r} holds {total:,} characters of text; kypho audit reads papers of up "
            f"to {MAX_CHARACTERS:,}"
        )
    return doc


def _read_pdf(p: Path) -> Document:
    try:
        import pypdfium2 as pdfium
        import pypdfium2.raw as pdfium_c
    except ImportError as exc:  # pragma: no cover - pypdfium2 is a dependency
        raise InputFileError(f"reading PDF needs pypdfium2 ({exc})") from None
    try:
        pdf = pdfium.PdfDocument(str(p))
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise InputFileError(
                f"{str(p)!r} is an encrypted PDF; save an unencrypted copy"
            ) from None
        reasons = {
            pdfium_c.FPDF_ERR_FORMAT: "it is not a PDF, or it is damaged",
            pdfium_c.FPDF_ERR_SECURITY: "its security scheme is not supported",
        }
        raise _unreadable(p, reasons.get(exc.err_code, "PDFium could not open it")) from None
    try:
        if len(pdf) > MAX_PAGES:
            raise InputFileError(
                f"{str(p)!r} has {len(pdf)} pages; kypho audit reads up to {MAX_PAGES}"
            )
        lines: list[Line] = []
        number = 0
        for page_no in range(1, len(pdf) + 1):
            page = pdf[page_no - 1]
            textpage = page.get_textpage()
            try:
                text = _pdf_page_text(textpage, pdfium_c)
            finally:
                textpage.close()
                page.close()
            for raw in text.translate(_SPACES).splitlines():
                number += 1
                lines.append(Line(page_no, number, raw.rstrip()))
    except pdfium.PdfiumError:
        raise _unreadable(p, "PDFium could not read its text") from None
    finally:
        pdf.close()
    return Document(str(p), tuple(lines))


def _unreadable(p: Path, reason: str) -> InputFileError:
    return InputFileError(
        f"{str(p)!r} is not a readable PDF ({reason}); if it opens in a PDF viewer, save "
        "its text as .txt and audit that"
    )


#: A gap between two characters of one line at least this many font sizes (ems) wide
#: is a column gap: it is written as two spaces, however PDFium spaced it.
COLUMN_GAP_EM = 1.0

# PDFium's marks in a text page: 0x02 is a hyphen that ended a line (PDFium joins the
# two lines; the hyphen and the line break are put back), 0 a glyph without Unicode.
_PDFIUM_CHARS = {0x02: "-\n", 0: "\ufffd"}

# A run of spaces with more text after it on the same line. A match's span is also a
# span of the text page's character indices: the page's text has one code point each.
_SPACE_RUN = re.compile(r" +(?=[^\r\n])")


def _pdf_page_text(textpage: Any, pdfium_c: Any) -> str:
    """The text of one PDF page, with its runs of spaces counted from the characters' boxes.

    Notes
    -----
    PDFium reports a run of spaces as one space character (its own box is one space
    wide) and inserts a "generated" space of no width where words are set apart by
    position alone. Each space it reports is rewritten as the number of spaces that fit
    between the left edge of that space and the left edge of the next character: the
    gap divided by the space's width, rounded down unless within a quarter of a space of
    the next whole number (so ``"A  B"`` set with two spaces reads back as two, and the
    wider word spacing of justified text stays one). Whatever the count, a gap of at least
    :data:`COLUMN_GAP_EM` font sizes becomes at least two spaces, which is how the table
    reader tells columns apart. Spaces at the end of a line are left as they are.
    """
    n = pdfium_c.FPDFText_CountChars(textpage)
    unicode_of = pdfium_c.FPDFText_GetUnicode
    text = "".join([chr(unicode_of(textpage, i)) for i in range(n)])
    box = pdfium_c.FS_RECTF()
    loose_box = pdfium_c.FPDFText_GetLooseCharBox
    out: list[str] = []
    done = 0
    for run in _SPACE_RUN.finditer(text):
        start, end = run.span()
        if not loose_box(textpage, start, box):
            continue  # no box: PDFium's own spacing stands
        left, width = box.left, box.right - box.left
        if not loose_box(textpage, end, box):
            continue
        gap = box.left - left
        count = max(1, int(gap / width + 0.25)) if width > 0 else 1
        if count < 2 and gap > 0:
            em = pdfium_c.FPDFText_GetFontSize(textpage, end)
            if em > 0 and gap >= COLUMN_GAP_EM * em:
                count = 2
        out.append(text[done:start])
        out.append(" " * max(count, end - start))
        done = end
    out.append(text[done:])
    return "".join(out).translate(_PDFIUM_CHARS)


def _read_docx(p: Path) -> Document:
    import zipfile

    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(str(p))
        texts: list[str] = []
        for block in document.element.body.iterchildren():
            tag = block.tag.rsplit("}", 1)[-1]
            if tag == "p":
                texts.extend(Paragraph(block, document).text.splitlines() or [""])
            elif tag == "tbl":
                for row in Table(block, document).rows:
                    cells: list[str] = []
                    seen: list[object] = []
                    for cell in row.cells:
                        if seen and seen[-1] is cell._tc:  # a merged cell is listed once per column
                            continue
                        seen.append(cell._tc)
                        cells.append(" ".join(cell.text.split()))
                    texts.append("  ".join(c for c in cells if c))
                texts.append("")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputFileError(
            f"{str(p)!r} is not a readable Word (.docx) file ({type(exc).__name__})"
        ) from None
    return Document.from_text("\n".join(texts), source=str(p))


_BLOCKS = {
    "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "caption",
    "section", "article", "header", "footer", "thead", "tbody", "tfoot", "blockquote", "pre",
    "title", "figcaption", "dt", "dd", "ul", "ol",
}  # fmt: skip


class _TextParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("  ")
        elif tag == "sup":
            self.parts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(" ".join(data.split("\n")))


def _html_text(text: str) -> str:
    parser = _TextParser()
    parser.feed(text)
    parser.close()
    lines = ("".join(parser.parts)).split("\n")
    return "\n".join(" ".join(line.split()) if line.strip() else "" for line in lines)
