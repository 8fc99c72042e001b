"""The data dictionary is derived from the schema, cell by cell."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kypho.errors import InputFileError
from kypho.io import data_dictionary, write_dictionary
from kypho.io.dictionary import DICTIONARY_COLUMNS, markdown_table
from kypho.schema import load_schema


def test_one_row_per_variable_in_declared_order() -> None:
    schema = load_schema()
    table = data_dictionary(schema)
    assert list(table.columns) == list(DICTIONARY_COLUMNS)
    assert table["name"].tolist() == [v.name for v in schema]


def test_cells_come_from_the_declaration() -> None:
    schema = load_schema()
    table = data_dictionary(schema).set_index("name")
    for var in schema:
        row = table.loc[var.name]
        assert row["label"] == var.label
        assert row["type"] == var.type
        assert row["unit"] == (var.unit or "")
        assert row["allowed"].startswith(var.allowed())
        assert row["required"] == ("yes" if var.required else "no")
        assert row["role"] == var.role
        assert row["timepoint"] == (var.timepoint or "")
        assert row["phi"] == (var.phi or "")
        assert row["description"] == var.description


def test_level_labels_follow_the_codes_when_they_differ() -> None:
    table = data_dictionary().set_index("name")
    assert table.loc["group", "allowed"] == (
        "one of 'experimental', 'control'; "
        "experimental = Experimental group; control = Control group"
    )
    # codes equal to their labels are not repeated
    assert table.loc["asia_grade", "allowed"] == "one of 'A', 'B', 'C', 'D', 'E'"
    assert table.loc["vas_pre"].tolist() == [
        "VAS score, preoperation",
        "number",
        "points",
        "a number from 0 to 10",
        "no",
        "outcome",
        "pre",
        "",
        "",
    ]


def test_extension_variables_appear() -> None:
    schema = load_schema(extensions=[{"extend_repeated": {"vas": ["d3"]}}])
    table = data_dictionary(schema)
    assert "vas_d3" in set(table["name"])


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_write_dictionary_tables_read_back(tmp_path: Path, suffix: str) -> None:
    out = write_dictionary(tmp_path / f"dict{suffix}")
    if suffix == ".csv":
        back = pd.read_csv(out, keep_default_na=False, dtype=str)
    else:
        back = pd.read_excel(out, keep_default_na=False, dtype=str)
    pd.testing.assert_frame_equal(back, data_dictionary(), check_dtype=False)


def test_write_dictionary_markdown(tmp_path: Path) -> None:
    out = write_dictionary(tmp_path / "dict.md")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "| " + " | ".join(DICTIONARY_COLUMNS) + " |"
    assert len(lines) == len(load_schema()) + 2
    assert lines[2].startswith("| patient_id | Patient ID | id |")


def test_markdown_escapes_pipes_and_newlines() -> None:
    table = pd.DataFrame({"a": ["x|y"], "b": ["two\nlines"]})
    assert markdown_table(table) == "| a | b |\n|---|---|\n| x\\|y | two lines |\n"


def test_write_dictionary_refuses_unknown_extension(tmp_path: Path) -> None:
    target = tmp_path / "dict.json"
    with pytest.raises(InputFileError) as info:
        write_dictionary(target)
    assert str(info.value) == (
        f"cannot write the data dictionary to {str(target)!r}: unsupported extension "
        "'.json'; allowed: .csv, .md, .xlsx"
    )
    assert not target.exists()
