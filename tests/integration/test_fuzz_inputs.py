"""Fuzzing the reading layer: mutated cohort files (CSV, XLSX, SAV) in the ways users and
attackers break them.

Each example writes a small valid cohort to a file, mutates it (hostile cell values:
``1e400``, ``inf``, a 400-digit number, partial dates, time zones, years outside
1677-2262, TRUE in a number column, lone separators in a list, an uncalculated
formula; structural damage: a line cut short, a stray extra field, blank lines, a
quoted line break; byte damage: truncated or flipped bytes), then reads and
validates it. The oracle, for every example:

* no exception other than :class:`~kypho.errors.KyphoError`, whose message is one
  clean sentence naming the file (no traceback text, no Python type names alone);
* no lost row: every record written is read, and either kept or rejected with a reason;
* no silent change: every cell of the fuzzed columns is, in a kept record, either
  read exactly as written (by an independent strict interpretation below) or
  reported as a problem on that record and field.

The suite runs a few dozen examples per format (seconds). The long run, e.g. nightly::

    HYPOTHESIS_PROFILE=fuzz .venv/bin/pytest tests/integration/test_fuzz_inputs.py \\
        --hypothesis-show-statistics

tries 10,000 inputs in all (5,000 CSV, 3,000 XLSX, 2,000 SAV).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kypho.errors import KyphoError
from kypho.io import read_table
from kypho.schema import load_schema
from kypho.validation import ValidationResult, validate

SCHEMA = load_schema()
_LONG = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
_EXAMPLES = (
    {"csv": 5000, "xlsx": 3000, "sav": 2000} if _LONG else {"csv": 40, "xlsx": 15, "sav": 15}
)
_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "database": None,
}
COLUMNS = [
    "patient_id", "group", "sex", "age", "level", "vas_pre", "operation_date",
    "constipation", "leak_sites", "notes", "ward",
]  # fmt: skip
FUZZED = ["age", "vas_pre", "operation_date", "constipation", "sex", "leak_sites", "notes"]
TOKENS = {m.strip().casefold() for m in SCHEMA.missing_values}

HOSTILE_TEXT = [
    "1e400", "inf", "-inf", "Infinity", "nan", "1" * 400, "-" + "9" * 310, "0x1A", "1,5",
    "2020", "2020-03", "2020-03-01T10:00Z", "2020-03-01T10:00:00+02:00", "1500-01-01",
    "3000-01-01", "2021-02-29", "01/03/2020", "TRUE", "false", ";", ",", ";;", "C;;S",
    "C,S", "none", "NONE", "C;none", " ", "NA", "=SUM(A1:A3)", "+cmd|' /C calc'!A0",
    "yes", "0", "1", "70", "70.5", "12", "-1", "L1", "male", "Male", "\u00e9t\u00e9", "",
]  # fmt: skip
_cell_text = st.sampled_from(HOSTILE_TEXT) | st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=6
)


def _base(n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        rows.append(
            {
                "patient_id": f"P-{seed % 97:02d}{i:03d}",
                "group": ["experimental", "control"][i % 2],
                "sex": ["male", "female"][int(rng.integers(2))],
                "age": str(int(rng.integers(50, 90))),
                "level": ["T12", "L1", "L2"][int(rng.integers(3))],
                "vas_pre": f"{rng.uniform(4, 10):.1f}",
                "operation_date": f"2020-0{int(rng.integers(1, 9))}-1{int(rng.integers(0, 9))}",
                "constipation": ["yes", "no"][int(rng.integers(2))],
                "leak_sites": ["none", "C", "C;S"][int(rng.integers(3))],
                "notes": "ok",
                "ward": "W1",
            }
        )
    return rows


# --------------------------------------------------------------- the oracle

_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
INVALID = object()
MISSING = object()
#: An uncalculated formula cell: reported whatever the field's type.
FORMULA = object()


def clean(message: str) -> bool:
    """One readable sentence: not empty, no traceback, not a bare Python exception repr."""
    return (
        bool(message.strip())
        and "Traceback" not in message
        and not re.match(r"^\w+Error\(", message)
    )


def expected_value(field: str, cell: Any) -> Any:
    """What the cell means for ``field``, strictly and independently of kypho: a value,
    MISSING, or INVALID (must be reported)."""
    var = SCHEMA[field]
    if cell is FORMULA:
        return INVALID
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return MISSING
    if isinstance(cell, str):
        text = cell.strip()
        if text.casefold() in TOKENS and not (var.type == "list" and text.casefold() == "none"):
            return MISSING
    else:
        text = None
    if var.type in ("number", "integer"):
        if isinstance(cell, bool):
            return INVALID
        if isinstance(cell, int | float):
            number = float(cell)
        elif text is not None and _NUMBER.match(text):
            number = float(text)
        else:
            return INVALID
        if not math.isfinite(number):
            return INVALID
        if var.type == "integer" and number != round(number):
            return INVALID
        if (var.min is not None and number < var.min) or (var.max is not None and number > var.max):
            return INVALID
        return number
    if var.type == "date":
        if isinstance(cell, dt.datetime | dt.date):
            day = (
                cell
                if isinstance(cell, dt.datetime)
                else dt.datetime(cell.year, cell.month, cell.day)
            )
            if day.tzinfo is not None:
                return INVALID
        elif text is not None and (match := _DATE.match(text)):
            try:
                day = dt.datetime(*(int(g) for g in match.groups()))
            except ValueError:
                return INVALID
        else:
            return INVALID
        lo, hi = var.min, var.max
        if (lo is not None and day.date() < lo) or (hi is not None and day.date() > hi):  # type: ignore[operator]
            return INVALID
        return pd.Timestamp(day)
    if var.type == "boolean":
        if isinstance(cell, bool):
            return cell
        key = str(cell).strip().casefold() if text is None else text.casefold()
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            key = {1: "1", 0: "0"}.get(cell, "x")  # type: ignore[call-overload]
        if key in {"true", "t", "yes", "y", "1", "1.0"}:
            return True
        if key in {"false", "f", "no", "n", "0", "0.0"}:
            return False
        return INVALID
    if var.type == "category":
        key = str(cell).strip().casefold()
        for code, label in var.levels.items():
            if key in (code.casefold(), label.casefold()):
                return code
        return INVALID
    if var.type == "list":
        parts = re.split(r"\s*[;,]\s*", str(cell).strip())
        lookup = {c.casefold(): c for c in var.codes}
        if any(p == "" for p in parts):
            return INVALID
        folded = [p.casefold() for p in parts]
        if folded == ["none"]:
            return ""
        if "none" in folded or any(p not in lookup for p in folded):
            return INVALID
        return ";".join(lookup[p] for p in folded)
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 2**53:
        # a spreadsheet stores 12.0 and 12 alike: the cell holds the number 12
        return str(int(cell))
    return str(cell).strip()


def attempt(path: Path) -> tuple[pd.DataFrame | None, ValidationResult | None, str]:
    """Read and validate ``path``: (raw, result, "") or (None, None, the KyphoError's message)."""
    try:
        raw = read_table(path, schema=SCHEMA)
        result = validate(raw, SCHEMA)
    except KyphoError as exc:
        _tally(path, "clean error")
        return None, None, str(exc)
    _tally(path, f"read {result.n_read} rows, {len(result.problems)} problems")
    return raw, result, ""


def _tally(path: Path, outcome: str) -> None:
    """With $KYPHO_FUZZ_TALLY set, one line per input tried (the long run's counts)."""
    tally = os.environ.get("KYPHO_FUZZ_TALLY")
    if tally:
        with open(tally, "a", encoding="utf-8") as handle:
            handle.write(f"{path.suffix}\t{outcome}\n")


def damaged(path: Path) -> None:
    """A damaged file: a clean error, or every row kept or rejected with a reason."""
    _, result, error = attempt(path)
    if result is None:
        assert clean(error), error
        return
    assert result.n_accepted + result.n_rejected == result.n_read


def check(path: Path, written: list[dict[str, Any]], lines: list[int] | None) -> None:
    """Read and validate ``path``; assert the oracle against the cells ``written``."""
    raw, result, error = attempt(path)
    if raw is None or result is None:
        assert clean(error), error
        return
    assert result.n_read == len(written), (result.n_read, len(written))
    assert result.n_accepted + result.n_rejected == result.n_read
    problems = result.problems
    reported = set(zip(problems["row"].tolist(), problems["field"].tolist(), strict=True))
    reasons = problems[problems["action"] == "rejected"]
    assert set(reasons["row"]) == set(result.rejected["row"])
    file_rows = lines if lines is not None else list(range(1, len(written) + 1))
    if lines is not None:
        assert raw.index.tolist() == lines
    kept = result.data
    positions = {p: i for i, p in enumerate(kept.index)}
    for i, record in enumerate(written):
        row = file_rows[i]
        for field in FUZZED:
            expect = expected_value(field, record.get(field))
            if (row, field) in reported:
                continue
            assert expect is not INVALID, (row, field, record.get(field), "silently accepted")
            if i + 1 not in positions:
                continue
            got = kept.iloc[positions[i + 1]][field]
            if expect is MISSING:
                assert pd.isna(got), (row, field, record.get(field), got)
            elif isinstance(expect, float):
                assert float(got) == expect, (row, field, record.get(field), got)
            elif isinstance(record.get(field), dt.datetime) and SCHEMA[field].type == "string":
                # a date cell in a text column reads as the date it shows
                stamp = pd.Timestamp(record[field])
                assert got in (str(stamp), stamp.date().isoformat()), (row, field, got)
            else:
                assert got == expect, (row, field, record.get(field), got)


# --------------------------------------------------------------- CSV


def _csv_cell(value: str) -> str:
    if any(ch in value for ch in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def csv_cases(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]], list[int] | None]:
    rows = _base(draw(st.integers(1, 6)), draw(st.integers(0, 10_000)))
    for _ in range(draw(st.integers(0, 8))):
        i = draw(st.integers(0, len(rows) - 1))
        rows[i][draw(st.sampled_from(FUZZED))] = draw(_cell_text)
    lines = ["".join(",".join(COLUMNS))]
    numbers: list[int] = []
    line = 2
    damage = draw(st.sampled_from(["none", "none", "blank", "short", "long", "newline", "bytes"]))
    written: list[dict[str, Any]] = []
    target = draw(st.integers(0, len(rows) - 1))
    for i, row in enumerate(rows):
        cells = [_csv_cell(row[c]) for c in COLUMNS]
        if damage == "blank" and i == target:
            lines.append("")
            line += 1
        if damage == "newline" and i == target:
            row["notes"] = "two\nlines"
            cells[COLUMNS.index("notes")] = '"two\nlines"'
        if damage == "short" and i == target:
            cells = cells[: draw(st.integers(1, len(cells) - 1))]
            row = {**row, **{c: None for c in COLUMNS[len(cells) :]}}
        if damage == "long" and i == target:
            cells = [*cells, "extra"]
        numbers.append(line)
        lines.append(",".join(cells))
        line += 1 + "".join(cells).count("\n")
        written.append(row)
    text = "\n".join(lines) + "\n"
    if damage == "bytes":
        return text, written, None
    return text, written, numbers


@settings(max_examples=_EXAMPLES["csv"], **_SETTINGS)  # type: ignore[arg-type]
@given(case=csv_cases(), flip=st.integers(0, 10_000))
def test_fuzzed_csv(
    tmp_path: Path, case: tuple[str, list[dict[str, Any]], list[int] | None], flip: int
) -> None:
    text, written, lines = case
    path = tmp_path / "fuzz.csv"
    data = text.encode("utf-8")
    if lines is None:
        # byte damage: a cut or a flipped byte; only "no traceback" is checked
        cut = flip % len(data)
        data = data[:cut] + bytes([data[cut] ^ 0xFF]) + data[cut + 1 :]
        path.write_bytes(data)
        damaged(path)
        return
    path.write_bytes(data)
    # a short line's missing cells are absent, not empty: the oracle wants them reported
    check(path, written, lines)


# --------------------------------------------------------------- XLSX

_xlsx_cell = (
    # a worksheet cannot hold control characters (openpyxl refuses to write them)
    _cell_text.filter(lambda t: not any(ord(c) < 32 for c in t))
    | st.booleans()
    | st.sampled_from([1e308, -1e308, 12.0, 70, 5.5, 0])
    | st.sampled_from(
        [dt.datetime(2020, 3, 1), dt.datetime(2020, 3, 1, 10, 30), dt.datetime(9999, 1, 1)]
    )
)


@settings(max_examples=_EXAMPLES["xlsx"], **_SETTINGS)  # type: ignore[arg-type]
@given(
    n=st.integers(1, 5),
    seed=st.integers(0, 10_000),
    edits=st.lists(st.tuples(st.integers(0, 4), st.sampled_from(FUZZED), _xlsx_cell), max_size=6),
    formula=st.booleans(),
    damage=st.sampled_from(["none", "none", "none", "truncate", "flip"]),
    at=st.integers(0, 10_000),
)
def test_fuzzed_xlsx(
    tmp_path: Path,
    n: int,
    seed: int,
    edits: list[tuple[int, str, Any]],
    formula: bool,
    damage: str,
    at: int,
) -> None:
    rows: list[dict[str, Any]] = _base(n, seed)
    for i, field, value in edits:
        if i < n:
            rows[i][field] = value
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Data"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([row[c] for c in COLUMNS])
    for i, row in enumerate(rows):
        for j, column in enumerate(COLUMNS):
            value = row[column]
            if isinstance(value, str) and value.startswith("="):
                # openpyxl writes it as a formula with no saved result
                assert sheet.cell(row=i + 2, column=j + 1).data_type == "f"
    if formula:
        sheet.cell(row=2, column=COLUMNS.index("vas_pre") + 1, value="=1+1")
        rows[0]["vas_pre"] = "=1+1"
    path = tmp_path / "fuzz.xlsx"
    book.save(path)
    if damage != "none":
        data = path.read_bytes()
        cut = at % len(data)
        data = (
            data[:cut]
            if damage == "truncate"
            else data[:cut] + bytes([data[cut] ^ 0x55]) + data[cut + 1 :]
        )
        path.write_bytes(data)
        damaged(path)
        return
    # what Excel's file holds: a formula cell has no value; text is text
    written = [
        {k: (FORMULA if isinstance(v, str) and v.startswith("=") else v) for k, v in r.items()}
        for r in rows
    ]
    check(path, written, list(range(2, n + 2)))


# --------------------------------------------------------------- SAV


@settings(max_examples=_EXAMPLES["sav"], **_SETTINGS)  # type: ignore[arg-type]
@given(
    n=st.integers(1, 5),
    seed=st.integers(0, 10_000),
    ages=st.lists(
        st.sampled_from([math.inf, -math.inf, 1e300, 70.0, 70.5, 12.0, 0.0])
        | st.floats(allow_nan=False),
        max_size=5,
    ),
    texts=st.lists(_cell_text, max_size=5),
    damage=st.sampled_from(["none", "none", "truncate", "flip"]),
    at=st.integers(0, 10_000),
)
def test_fuzzed_sav(
    tmp_path: Path,
    n: int,
    seed: int,
    ages: list[float],
    texts: list[str],
    damage: str,
    at: int,
) -> None:
    rows = _base(n, seed)
    for i, value in enumerate(ages[:n]):
        rows[i]["age"] = value
    for i, value in enumerate(texts[:n]):
        rows[i]["leak_sites" if i % 2 else "notes"] = value
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["age"] = pd.to_numeric(frame["age"]).astype(float)
    frame["vas_pre"] = pd.to_numeric(frame["vas_pre"]).astype(float)
    path = tmp_path / "fuzz.sav"
    pyreadstat.write_sav(frame, str(path))
    if damage != "none":
        data = path.read_bytes()
        cut = at % len(data)
        data = (
            data[:cut]
            if damage == "truncate"
            else data[:cut] + bytes([data[cut] ^ 0x55]) + data[cut + 1 :]
        )
        path.write_bytes(data)
        damaged(path)
        return
    # SPSS stores "" for a missing string; numbers as doubles
    written = [
        {k: (None if v == "" else v) for k, v in r.items()}
        | {"age": float(frame["age"].iloc[i]), "vas_pre": float(frame["vas_pre"].iloc[i])}
        for i, r in enumerate(rows)
    ]
    check(path, written, list(range(1, n + 1)))
