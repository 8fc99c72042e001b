"""The summary-table format: parsing of printed values and the loader's error messages."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from kypho.audit import (
    ContinuousRow,
    load_summary_tables,
    parse_summary_tables,
)
from kypho.audit.parsing import (
    parse_count,
    parse_mean_sd,
    parse_p,
    parse_ratio,
    parse_statistic,
    parse_within,
)
from kypho.errors import AuditError, InputFileError

EXAMPLE = Path(__file__).resolve().parents[3] / "src" / "kypho" / "data" / "summary_example.yaml"


def test_parse_p_forms() -> None:
    p = parse_p("0.004*", "w")
    assert (p.value, p.decimals, p.comparator, p.marked, p.low, p.high) == (
        0.004,
        3,
        "=",
        True,
        pytest.approx(0.0035),
        pytest.approx(0.0045),
    )
    lt = parse_p("P < 0.05", "w")
    assert (lt.comparator, lt.low, lt.high) == ("<", float("-inf"), 0.05)
    assert parse_p("≥0.1", "w").comparator == ">="
    assert parse_p("1.108", "w").value == 1.108


def test_parse_mean_sd_keeps_decimals() -> None:
    """ "32" and "32.00" are different printed values: [31.5, 32.5] and [31.995, 32.005]."""
    mean, sd, marked = parse_mean_sd("32±4.46", "w")
    assert (mean.decimals, mean.low, mean.high, sd.decimals, marked) == (0, 31.5, 32.5, 2, False)
    mean, _, marked = parse_mean_sd("32.00 ± 4.46*", "w")
    assert (mean.decimals, marked) == (2, True)


def test_parse_counts_ratios_statistics() -> None:
    count, pct = parse_count("4(7.3)", "w")
    assert count == 4
    assert pct is not None
    assert (pct.value, pct.decimals) == (7.3, 1)
    assert parse_count("53", "w") == (53, None)
    assert parse_ratio("12:43", 2, "w") == (12, 43)
    u = parse_statistic("U = 392.00", None, "w")
    assert u is not None
    assert (u.name, u.value.value, u.value.decimals, u.value.text) == ("U", 392.0, 2, "392.00")
    assert parse_statistic("-", "t", "w") is None
    t = parse_statistic("0.782", "t", "w")
    assert t is not None
    assert (t.name, t.value.text) == ("t", "0.782")
    stat, p = parse_within("t = 4.075, P < 0.05", "t", "w")
    assert stat is not None
    assert p is not None
    assert (stat.value.value, p.comparator, p.value) == (4.075, "<", 0.05)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: parse_p(0.5, "table 2, row 'x', p"),
            "table 2, row 'x', p: expected a P value such as '0.528' or '< 0.05' written as a quoted string, so that its printed decimals are kept (got 0.5)",
        ),
        (
            lambda: parse_p("n.s.", "w"),
            "w: expected a P value such as '0.528' or '< 0.05' (got 'n.s.')",
        ),
        (
            lambda: parse_mean_sd("32/4.46", "w"),
            "w: expected 'mean±SD' such as '69.47±6.90' (got '32/4.46')",
        ),
        (
            lambda: parse_count("4 of 55", "w"),
            "w: expected a count such as '4' or '4(7.3)' (got '4 of 55')",
        ),
        (
            lambda: parse_ratio("12:43:1", 2, "w"),
            "w: '12:43:1' has 3 counts but the row has 2 levels",
        ),
        (
            lambda: parse_statistic("W = 3", None, "w"),
            "w: unknown statistic name 'W' (allowed: t, t', t / t', U, Z, F, χ²)",
        ),
        (
            lambda: parse_statistic("0.782", None, "w"),
            "w: the statistic '0.782' has no name and the table declares no statistic_column; write it with its name, such as 't = 0.782'",
        ),
    ],
)
def test_parse_errors_say_what_and_where(call: Any, message: str) -> None:
    with pytest.raises(AuditError) as exc:
        call()
    assert str(exc.value) == message


@pytest.fixture
def example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return data


def test_example_loads(example: dict[str, Any]) -> None:
    tables = load_summary_tables(EXAMPLE)
    assert [g.key for g in tables.groups] == ["drug", "placebo"]
    week4 = tables.tables[1].rows[1]
    assert isinstance(week4, ContinuousRow)
    drug = week4.cells["drug"]
    assert (drug.mean.text, drug.sd.text, drug.n) == ("3.1", "1.4", 40)
    assert drug.within is not None
    assert drug.within.versus == "Pain score, baseline"
    assert week4.cells["placebo"].marked
    assert parse_summary_tables(example, source="x.yaml") == tables.__class__(**{**tables.__dict__})


def _mutated(example: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(example)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["format"], "other", "x.yaml: 'format' must be 'kypho-summary-tables' (got 'other')"),
        (["format_version"], 2, "x.yaml: 'format_version' must be 1 (got 2)"),
        (
            ["colour"],
            "red",
            "x.yaml: unknown field(s) 'colour' (allowed: format, format_version, study, tables)",
        ),
        (
            ["study", "groups"],
            [{"key": "a", "n": 3}],
            "x.yaml: study.groups: expected a list of exactly 2 groups (got [{'key': 'a', 'n': 3}])",
        ),
        (
            ["study", "groups", 0, "n"],
            0,
            "x.yaml: study.groups[0].n: expected a whole number of at least 1 (got 0)",
        ),
        (
            ["study", "alpha"],
            "5%",
            "x.yaml: study.alpha: expected a number between 0 and 1 (got '5%')",
        ),
        (["tables", 1, "number"], 1, "x.yaml: table number(s) used twice: [1]"),
        (
            ["tables", 0, "rows", 2, "kind"],
            "interval",
            "x.yaml: table 1, row 'Age (years)': unknown kind 'interval' (allowed: n, continuous, binary, categorical, ordinal)",
        ),
        (
            ["tables", 0, "rows", 2, "test"],
            "t-test",
            "x.yaml: table 1, row 'Age (years)', test: unknown test 't-test' (allowed: t/t', student, welch, cochran-cox, anova, chi-square, yates, fisher, mann-whitney, paired-t, unknown)",
        ),
        (
            ["tables", 0, "rows", 2, "cells", "drug"],
            64.3,
            "x.yaml: table 1, row 'Age (years)', drug: expected 'mean±SD' such as '69.47±6.90' written as a quoted string, so that its printed decimals are kept (got 64.3)",
        ),
        (
            ["tables", 0, "rows", 2, "cells"],
            {"drug": "1±1"},
            "x.yaml: table 1, row 'Age (years)', cells: expected one cell per group (drug, placebo) (got drug)",
        ),
        (
            ["tables", 0, "rows", 2, "scale"],
            {"type": "ratio"},
            "x.yaml: table 1, row 'Age (years)', scale.type: unknown scale 'ratio' (allowed: continuous, integer, binary)",
        ),
        (
            ["tables", 0, "rows", 2, "scale"],
            {"min": 10, "max": 5},
            "x.yaml: table 1, row 'Age (years)', scale: min must be below max (got min 10, max 5)",
        ),
        (
            ["tables", 0, "rows", 3, "cells", "drug"],
            "twelve",
            "x.yaml: table 1, row 'Current smoker', drug: expected a count such as '4' or '4(7.3)' (got 'twelve')",
        ),
        (
            ["tables", 0, "exhaustive_sections"],
            ["Drinking"],
            "x.yaml: table 1, exhaustive_sections: no row has section 'Drinking'",
        ),
        (
            ["tables", 1, "rows", 1, "within", "versus"],
            "Week 2",
            "x.yaml: table 2, row 'Pain score, week 4', within.versus: 'Week 2' is not a continuous row of this table (rows: Pain score, baseline, Pain score, week 4, Responder (0/1))",
        ),
        (
            ["tables", 0, "rows", 2, "p"],
            0.824,
            "x.yaml: table 1, row 'Age (years)', p: expected a P value such as '0.528' or '< 0.05' written as a quoted string, so that its printed decimals are kept (got 0.824)",
        ),
        (["tables", 0, "rows"], [], "x.yaml: table 1: 'rows' must be a non-empty list (got [])"),
        (["study", "title"], _DELETE, "x.yaml: study.title: expected a non-empty text (got None)"),
    ],
)
def test_format_errors_name_place_value_and_allowed(
    example: dict[str, Any], path: list[Any], value: Any, message: str
) -> None:
    with pytest.raises(AuditError) as exc:
        parse_summary_tables(_mutated(example, path, value), source="x.yaml")
    assert str(exc.value) == message


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(InputFileError) as exc:
        load_summary_tables(missing)
    assert str(exc.value).startswith(f"cannot read summary-table file {str(missing)!r}: ")
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: [unclosed\n", encoding="utf-8")
    with pytest.raises(AuditError) as exc2:
        load_summary_tables(bad)
    assert str(exc2.value).startswith("bad.yaml: not valid YAML (")


def test_input_is_not_modified(example: dict[str, Any]) -> None:
    before = copy.deepcopy(example)
    parse_summary_tables(example)
    assert example == before
