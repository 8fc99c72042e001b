"""Table renderers: Markdown, HTML, CSV and LaTeX, each drawing a :class:`Grid`.

Every renderer takes the grid made by :func:`kypho.report.format.layout`, so the
five formats (Word is in :mod:`kypho.report.word`) cannot disagree on a number.
The journal style throughout: three horizontal rules (above the header, below
it, below the body), no vertical lines, footnotes under the table.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from kypho.output.cells import rows_to_csv
from kypho.output.markup import markdown_escape
from kypho.report.format import Grid

__all__ = [
    "TABLE_CSS",
    "latex_document",
    "latex_escape",
    "to_csv",
    "to_html",
    "to_latex",
    "to_markdown",
]

TABLE_CSS = """
table.kypho { border-collapse: collapse; margin: 0.5em 0 0.3em; font-size: 0.92em; }
table.kypho caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 0.4em; }
table.kypho thead tr:first-child th { border-top: 2px solid #000; }
table.kypho thead tr:last-child th { border-bottom: 1px solid #000; }
table.kypho tbody tr:last-child td { border-bottom: 2px solid #000; }
table.kypho th, table.kypho td { padding: 0.2em 0.7em; text-align: center; vertical-align: top; }
table.kypho th:first-child, table.kypho td:first-child { text-align: left; }
table.kypho tr.section td:first-child, table.kypho tr.header td:first-child { font-weight: 600; }
table.kypho tr.within td, table.kypho tr.missing td { font-size: 0.85em; color: #333; }
p.kypho-footnote { font-size: 0.85em; margin: 0.1em 0; }
"""


def _indent(text: str, level: int, unit: str) -> str:
    return unit * level + text


def to_markdown(grid: Grid) -> str:
    """A GitHub-flavoured Markdown table with its caption and footnotes.

    Examples
    --------
    >>> from kypho.report.format import Grid, GridRow
    >>> g = Grid(1, "T", ("", "A", "P"), (GridRow(("Age", "1 ± 2", "0.500")),), ("note",))
    >>> print(to_markdown(g))
    **Table 1. T**
    <BLANKLINE>
    |  | A | P |
    |:---|:---:|:---:|
    | Age | 1 ± 2 | 0.500 |
    <BLANKLINE>
    note
    """

    def cell(text: str) -> str:
        return markdown_escape(text).replace("|", "\\|").replace("*", "\\*")

    lines = [f"**{markdown_escape(grid.caption)}**", ""]
    lines.append("| " + " | ".join(cell(h) for h in grid.header) + " |")
    lines.append("|:---|" + "|".join(":---:" for _ in grid.header[1:]) + "|")
    for row in grid.rows:
        cells = [cell(c) for c in row.cells]
        label = _indent(cells[0], row.indent, "\u2003")
        if row.kind in ("section", "header") and label:
            label = f"**{label}**"
        lines.append("| " + " | ".join([label, *cells[1:]]) + " |")
    if grid.footnotes:
        lines.append("")
        # Two trailing spaces: a Markdown line break between footnotes.
        notes = [cell(note) for note in grid.footnotes]
        lines.extend(f"{note}  " for note in notes[:-1])
        lines.append(notes[-1])
    return "\n".join(lines)


def to_html(grid: Grid, *, table_id: str | None = None) -> str:
    """An HTML ``<table class="kypho">`` (style: :data:`TABLE_CSS`) and its footnotes."""
    esc = html.escape
    ident = f' id="{esc(table_id)}"' if table_id else ""
    parts = [f'<table class="kypho"{ident}>', f"<caption>{esc(grid.caption)}</caption>"]
    parts.append(
        "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in grid.header) + "</tr></thead>"
    )
    parts.append("<tbody>")
    for row in grid.rows:
        first = esc(row.cells[0])
        pad = f' style="padding-left:{0.7 + 1.2 * row.indent:.1f}em"' if row.indent else ""
        if row.kind == "section":
            parts.append(
                f'<tr class="section"><td colspan="{len(grid.header)}"{pad}>{first}</td></tr>'
            )
            continue
        cells = "".join(f"<td>{esc(c)}</td>" for c in row.cells[1:])
        parts.append(f'<tr class="{row.kind}"><td{pad}>{first}</td>{cells}</tr>')
    parts.append("</tbody></table>")
    parts.extend(f'<p class="kypho-footnote">{esc(note)}</p>' for note in grid.footnotes)
    return "\n".join(parts)


def to_csv(grid: Grid) -> str:
    """The grid as CSV text: caption line, header, rows (labels indented by spaces), footnotes."""
    rows: list[list[str]] = [[grid.caption], list(grid.header)]
    rows += [[_indent(row.cells[0], row.indent, "  "), *row.cells[1:]] for row in grid.rows]
    rows += [[note] for note in grid.footnotes]
    return rows_to_csv(rows)


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "−": r"$-$",
    "χ": r"$\chi$",
    "²": r"$^2$",
    "′": r"$'$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "α": r"$\alpha$",
    "°": r"$^\circ$",
    "×": r"$\times$",
    "–": "--",
    "—": "---",
    "<": r"$<$",
    ">": r"$>$",
    "\u2003": r"\quad ",
}


def latex_escape(text: str) -> str:
    """Escape text for LaTeX, writing the field's symbols in math mode.

    Examples
    --------
    >>> latex_escape("χ² = 3.2 (1), P <0.001 & 5%")
    '$\\\\chi$$^2$ = 3.2 (1), P $<$0.001 \\\\& 5\\\\%'
    """
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(grid: Grid) -> str:
    """A ``booktabs`` table (``\\toprule``, ``\\midrule``, ``\\bottomrule``) with its notes.

    Needs ``\\usepackage{booktabs}`` in the preamble.
    """
    cols = "l" + "c" * (len(grid.header) - 1)
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        r"\small",
        rf"\caption{{{latex_escape(grid.title)}}}",
        rf"\label{{tab:kypho-{grid.number}}}",
        rf"\begin{{tabular}}{{{cols}}}",
        r"\toprule",
        " & ".join(latex_escape(h) for h in grid.header) + r" \\",
        r"\midrule",
    ]
    for row in grid.rows:
        label = latex_escape(row.cells[0])
        if row.indent:
            label = rf"\hspace{{{row.indent}em}}" + label
        if row.kind == "section":
            lines.append(rf"\multicolumn{{{len(grid.header)}}}{{l}}{{\textit{{{label}}}}} \\")
            continue
        lines.append(" & ".join([label, *(latex_escape(c) for c in row.cells[1:])]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if grid.footnotes:
        lines.append(r"\par\smallskip\footnotesize")
        lines.extend(latex_escape(note) + r"\\" for note in grid.footnotes)
    lines.append(r"\end{table}")
    return "\n".join(lines)


def latex_document(tables: Iterable[str], title: str) -> str:
    """A compilable LaTeX document holding ``tables``."""
    body = "\n\n".join(tables)
    return "\n".join(
        [
            r"\documentclass[11pt]{article}",
            r"\usepackage[utf8]{inputenc}",
            r"\usepackage[margin=2cm,landscape]{geometry}",
            r"\usepackage{booktabs}",
            rf"\title{{{latex_escape(title)}}}",
            r"\date{}",
            r"\begin{document}",
            r"\maketitle",
            body,
            r"\end{document}",
            "",
        ]
    )
