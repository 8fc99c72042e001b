"""Markdown, HTML, CSV, LaTeX and Word draw the same grid, cell for cell."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

from kypho.analysis import AnalysisResult, analyze, load_plan
from kypho.analysis.demo import demo_cohort
from kypho.measures import derive
from kypho.report.format import Grid, layout
from kypho.report.render import latex_escape, to_csv, to_html, to_latex, to_markdown
from kypho.report.word import write_docx
from kypho.schema import load_schema
from kypho.validate import validate


@cache
def demo_result() -> AnalysisResult:
    schema = load_schema()
    data = derive(validate(demo_cohort(60, seed=5)).data, schema)
    return analyze(data, schema, load_plan())


def grids() -> list[Grid]:
    result = demo_result()
    return [layout(t, alpha=result.alpha) for t in result.tables]


def test_markdown_has_every_row_and_escapes_marks() -> None:
    grid = grids()[2]
    text = to_markdown(grid)
    lines = text.splitlines()
    assert lines[0] == "**Table 3. VAS scores**"
    table_lines = [line for line in lines if line.startswith("|")]
    assert len(table_lines) == 2 + len(grid.rows)
    assert "\\*" in text
    # The footnote starting with "*" must not turn into a Markdown bullet.
    assert not any(line.startswith("* ") for line in lines)


def test_html_cells_equal_grid() -> None:
    grid = grids()[0]
    root = ET.fromstring("<div>" + to_html(grid, table_id="t1") + "</div>")
    table = root.find("table")
    assert table is not None
    assert table.get("id") == "t1"
    assert table.findtext("caption") == "Table 1. Patient characteristics"
    head = [th.text or "" for th in table.iter("th")]
    assert tuple(head) == grid.header
    body = table.find("tbody")
    assert body is not None
    rows = body.findall("tr")
    assert len(rows) == len(grid.rows)
    for tr, row in zip(rows, grid.rows, strict=True):
        texts = [td.text or "" for td in tr.findall("td")]
        if row.kind == "section":
            assert texts == [row.cells[0]]
        else:
            assert tuple(texts) == row.cells
    notes = [p.text for p in root.findall("p")]
    assert notes == list(grid.footnotes)


def test_csv_round_trips_cells() -> None:
    grid = grids()[6]
    records = list(csv.reader(io.StringIO(to_csv(grid))))
    assert records[0] == ["Table 7. Distribution grade of bone cement and bone cement leakage"]
    assert tuple(records[1]) == grid.header
    for record, row in zip(records[2 : 2 + len(grid.rows)], grid.rows, strict=True):
        assert record[0].strip() == row.cells[0]
        assert tuple(record[1:]) == row.cells[1:]


def test_latex_is_booktabs_without_vertical_rules() -> None:
    grid = grids()[1]
    text = to_latex(grid)
    assert r"\toprule" in text
    assert r"\midrule" in text
    assert r"\bottomrule" in text
    assert r"\begin{tabular}{lccccc}" in text
    assert "|" not in text.split(r"\begin{tabular}")[1].split("\n")[0]
    assert r"$\pm$" in text
    assert latex_escape("5% & x_1") == r"5\% \& x\_1"


def test_docx_opens_with_seven_tables_and_three_rules(tmp_path: Path) -> None:
    from docx import Document
    from docx.oxml.ns import qn

    all_grids = grids()
    path = write_docx(all_grids, tmp_path / "t.docx", title="Report", paragraphs=[("Methods", "x")])
    document = Document(str(path))
    assert len(document.tables) == 7
    for table, grid in zip(document.tables, all_grids, strict=True):
        assert tuple(c.text for c in table.rows[0].cells) == grid.header
        for docx_row, row in zip(table.rows[1:], grid.rows, strict=True):
            # A small row's parts are held together by no-break spaces; the text is the grid's.
            texts = tuple(c.text for c in docx_row.cells)
            if row.kind in ("within", "missing"):
                assert all(" " not in t.replace(", ", "") for t in texts)
                texts = tuple(t.replace("\xa0", " ") for t in texts)
            assert texts == row.cells

        def edge(cell: object, name: str) -> tuple[str | None, str | None]:
            borders = cell._tc.tcPr.find(qn("w:tcBorders"))  # type: ignore[attr-defined]
            element = borders.find(qn(f"w:{name}"))
            return element.get(qn("w:val")), element.get(qn("w:sz"))

        first, last = table.rows[0].cells[1], table.rows[-1].cells[1]
        middle = table.rows[1].cells[1]
        assert edge(first, "top") == ("single", "12")
        assert edge(first, "bottom") == ("single", "6")
        assert edge(last, "bottom") == ("single", "12")
        assert edge(middle, "top") == ("nil", None)
        assert edge(middle, "left") == ("nil", None)
        assert edge(first, "right") == ("nil", None)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == ["Report", "Methods"]
