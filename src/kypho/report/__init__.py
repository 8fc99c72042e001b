"""What is shown: tables in five formats, figures, generated text and the HTML report.

Everything here reads the table model of :mod:`kypho.analysis`; heavy libraries
(matplotlib, python-docx, scipy) are imported only by the functions that need them.
"""

from __future__ import annotations

from kypho.report.document import FORMATS, Provenance, build_figures, write_report
from kypho.report.format import Grid, GridRow, format_p, format_statistic, layout
from kypho.report.render import to_csv, to_html, to_latex, to_markdown
from kypho.report.text import methods_text, results_text
from kypho.report.word import write_docx

__all__ = [
    "FORMATS",
    "Grid",
    "GridRow",
    "Provenance",
    "build_figures",
    "format_p",
    "format_statistic",
    "layout",
    "methods_text",
    "results_text",
    "to_csv",
    "to_html",
    "to_latex",
    "to_markdown",
    "write_docx",
    "write_report",
]
