"""The bundled transcription of Tables 1–7 against the paper's text.

Every printed value of ``kypho/data/paper_tables.yaml`` is rebuilt into the line the
paper printed (label, the two groups' cells, the within-group results under them, the
statistic and P) and that line must occur, whitespace aside, inside the same table of
``shared/paper/kyphoplasty-staged-perfusion.txt``. Then every rebuilt line, the title,
the header and the footnotes are removed from the table's text and no digit may be
left: nothing printed in a table is missing from the transcription.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kypho.audit.loader import load_paper_tables, paper_tables_path

_PAPER_PATH = Path("shared") / "paper" / "kyphoplasty-staged-perfusion.txt"
# Beside the clone (../shared), looked for upwards so that a worktree nested deeper finds it too.
PAPER = next(
    (p / _PAPER_PATH for p in Path(__file__).resolve().parents if (p / _PAPER_PATH).exists()),
    Path(__file__).resolve().parents[3].parent / _PAPER_PATH,
)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def paper_text() -> str:
    if not PAPER.exists():
        pytest.skip(f"the paper's text is not at {PAPER}")
    return _norm(PAPER.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(paper_tables_path().read_text(encoding="utf-8"))
    return data


def _block(paper_text: str, table: dict[str, Any]) -> str:
    """The paper's text from "Table N" to the end of the table's last footnote."""
    number = table["number"]
    start = paper_text.index(f"Table {number} ")
    last = _norm(table["footnotes"][-1])
    end = paper_text.index(last, start) + len(last)
    return paper_text[start:end]


def _row_lines(row: dict[str, Any], keys: list[str]) -> list[str]:
    """The lines the paper printed for one transcribed row."""
    parts = [row["label"]]
    within = (row.get("within") or {}).get("cells", {})
    for k in keys:
        parts.append(row["cells"][k] if "cells" in row else "")
        if k in within:
            parts.append(within[k])
    if row["kind"] in ("ordinal", "categorical") and isinstance(row["levels"][0], dict):
        parts = [row["label"], row["statistic"], row["p"]]
        lines = [" ".join(parts)]
        for level in row["levels"]:
            lines.append(" ".join([level["label"], *(level["cells"][k] for k in keys)]))
            if "percent_row" in level:
                pr = level["percent_row"]
                lines.append(" ".join([pr["label"], *(pr["cells"][k] for k in keys)]))
        return lines
    for field in ("statistic", "p"):
        if row.get(field) is not None:
            parts.append(row[field])
    return [" ".join(p for p in parts if p)]


def test_seven_tables_two_groups_of_55(raw: dict[str, Any]) -> None:
    """The paper: "55 cases in the experimental group and 55 cases in the control group"."""
    assert [t["number"] for t in raw["tables"]] == [1, 2, 3, 4, 5, 6, 7]
    assert [(g["key"], g["n"]) for g in raw["study"]["groups"]] == [
        ("experimental", 55),
        ("control", 55),
    ]


def test_every_reported_value_is_a_string(raw: dict[str, Any]) -> None:
    """Printed values stay strings, so "32" and "32.00" keep their decimals."""
    for table in raw["tables"]:
        for row in table["rows"]:
            for field in ("statistic", "p"):
                if field in row:
                    assert isinstance(row[field], str), (table["number"], row["label"], field)
            for cell in (row.get("cells") or {}).values():
                assert isinstance(cell, str), (table["number"], row["label"], cell)


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5, 6, 7])
def test_each_row_is_printed_in_its_table(
    paper_text: str, raw: dict[str, Any], number: int
) -> None:
    table = raw["tables"][number - 1]
    keys = [g["key"] for g in raw["study"]["groups"]]
    block = _block(paper_text, table)
    assert _norm(table["title"]) in block
    header = " ".join(
        [
            *(g["label"] for g in raw["study"]["groups"]),
            table.get("statistic_column") or "",
            table["p_column"],
        ]
    )
    assert _norm(header) in block
    rest = block.replace(_norm(table["title"]), " ").replace(_norm(header), " ")
    for footnote in table["footnotes"]:
        assert _norm(footnote) in block
        rest = rest.replace(_norm(footnote), " ")
    for row in table["rows"]:
        for line in _row_lines(row, keys):
            assert _norm(line) in block, f"table {number}: {line!r} not in the paper"
            rest = rest.replace(_norm(line), " ", 1)
    rest = rest.replace(f"Table {number}", " ")
    assert re.search(r"\d", rest) is None, f"table {number}: untranscribed numbers in {rest!r}"


def test_transcription_loads_into_typed_objects() -> None:
    """A few values through the loader, as a consumer (the synthetic cohort) reads them."""
    paper = load_paper_tables()
    t2 = paper.tables[1]
    op_time = t2.rows[0]
    assert op_time.kind == "continuous"
    cell = op_time.cells["experimental"]  # type: ignore[union-attr]
    assert (cell.mean.text, cell.mean.decimals, cell.sd.text, cell.n) == ("32", 0, "4.46", 55)
    grade = paper.tables[6].rows[0]
    assert [lv.cells["control"].count for lv in grade.levels] == [11, 18, 14, 12]  # type: ignore[union-attr]
    vas48 = paper.tables[2].rows[3]
    within = vas48.cells["control"].within  # type: ignore[union-attr]
    assert within is not None
    assert (
        within.statistic.value.value if within.statistic else None,
        within.p.comparator if within.p else None,
    ) == (5.697, "<")


def test_lookup_by_table_number_and_row_label() -> None:
    paper = load_paper_tables()
    row = paper.table(4).row("Last follow-up")
    assert row.kind == "continuous"
    assert paper.group("control").n == 55
    with pytest.raises(KeyError) as exc:
        paper.table(8)
    assert exc.value.args[0] == "no table 8 (tables: 1, 2, 3, 4, 5, 6, 7)"
    with pytest.raises(KeyError) as exc2:
        paper.table(2).row("Age")
    assert exc2.value.args[0].startswith(
        "table 2 has 0 rows labelled 'Age' (rows: 'operation time(min)'"
    )
