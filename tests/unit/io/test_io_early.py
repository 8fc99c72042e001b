"""The CSV parse begun early (``kypho.io._early``) gives exactly the table read_table reads.

``kypho db import`` and ``kypho analyze`` start Arrow's parse in a worker thread while it is still
starting; read_table then takes that table only when it asks for the very same
parse of the very same file. Each case reads the file both ways and compares.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kypho.io import _csvfile, _early, read_table
from kypho.io._early import early_parse, float_values
from kypho.schema import load_schema

_HEAD = "patient_id,group,sex,age,level,vas_pre,operation_date,leak_sites,notes"
_ROWS = [
    "P1,control,female,71,L1,5,2020-03-01,none,first",
    "P2,experimental,male,65,T12,NA,2020-03-02,C;S,",
    "P3,control,female,80,L2,3.5,NA,NA,third",
]


@pytest.fixture
def claims(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each claim of the CSV reader got the early table."""
    seen: list[bool] = []
    original: Callable[..., Any] = _csvfile.claim

    def spy(path: Path, arguments: Any) -> Any:
        table = original(path, arguments)
        seen.append(table is not None)
        return table

    monkeypatch.setattr(_csvfile, "claim", spy)
    return seen


def _write(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def _early_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "kypho-early-csv"]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a.attrs == b.attrs


@pytest.mark.parametrize("threads", [False, True], ids=["one thread", "arrow's pool"])
def test_the_early_table_is_taken_and_equals_a_plain_read(
    tmp_path: Path, claims: list[bool], threads: bool
) -> None:
    path = _write(tmp_path / "ward.csv", [_HEAD, *_ROWS])
    schema = load_schema()
    expected = read_table(path, schema=schema)
    assert claims == [False]  # no parse begun: the reader parses the file itself
    with early_parse(path, schema, threads=threads):
        got = read_table(path, schema=schema)
    assert claims == [False, True]
    _same(got, expected)
    assert got["age"].dtype == "float64"
    assert got["vas_pre"].isna().tolist() == [False, True, False]
    assert not _early_threads()


def test_a_file_changed_after_the_parse_began_is_read_again(
    tmp_path: Path, claims: list[bool]
) -> None:
    path = _write(tmp_path / "ward.csv", [_HEAD, *_ROWS])
    schema = load_schema()
    with early_parse(path, schema):
        _write(path, [_HEAD, *_ROWS[:2], _ROWS[2].replace("80", "81")])
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        got = read_table(path, schema=schema)
    assert claims == [False]
    assert got["age"].tolist() == [71.0, 65.0, 81.0]
    _same(got, read_table(path, schema=schema))


def test_a_header_of_labels_is_read_as_always(tmp_path: Path, claims: list[bool]) -> None:
    """The early guess trusts exact names only; read_table maps labels and reads itself."""
    schema = load_schema()
    label = schema["age"].label
    path = _write(tmp_path / "ward.csv", [_HEAD.replace("age", label), *_ROWS])
    with early_parse(path, schema):
        got = read_table(path, schema=schema)
    assert claims == [False]
    _same(got, read_table(path, schema=schema))
    assert got[label].tolist() == [71.0, 65.0, 80.0]


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param([_HEAD, *_ROWS[:2], "P3,control"], id="a line cut short"),
        pytest.param([_HEAD, *_ROWS, ""], id="a blank line"),
        pytest.param([_HEAD, '"P1",control,female,71,L1,5,2020-03-01,none,x'], id="quotes"),
        pytest.param([_HEAD, _ROWS[0].replace("71", "7l")], id="a number arrow refuses"),
        pytest.param([_HEAD, _ROWS[0].replace(",5,", ",inf,"), *_ROWS[1:]], id="inf"),
        pytest.param([_HEAD, _ROWS[0].replace(",5,", ",nan,"), *_ROWS[1:]], id="nan"),
        pytest.param(
            [_HEAD.replace(",", ";"), *(r.replace(",", ";") for r in _ROWS)], id="semicolons"
        ),
    ],
)
def test_files_the_plain_parse_does_not_cover_read_the_same(
    tmp_path: Path, lines: list[str]
) -> None:
    path = _write(tmp_path / "ward.csv", lines)
    schema = load_schema()
    with early_parse(path, schema):
        got = read_table(path, schema=schema)
    _same(got, read_table(path, schema=schema))
    assert not _early_threads()


def test_the_thread_is_joined_when_the_block_fails(tmp_path: Path) -> None:
    path = _write(tmp_path / "ward.csv", [_HEAD, *_ROWS])
    with (
        pytest.raises(RuntimeError, match="the store could not be opened"),
        early_parse(path, load_schema()),
    ):
        raise RuntimeError("the store could not be opened")
    assert not _early_threads()


def test_other_files_begin_nothing(tmp_path: Path) -> None:
    schema = load_schema()
    for path in (tmp_path / "absent.csv", _write(tmp_path / "ward.txt", [_HEAD, *_ROWS])):
        with early_parse(path, schema):
            assert not _early_threads()


@settings(max_examples=200, deadline=None)
@given(
    blocks=st.lists(
        st.lists(st.none() | st.floats(allow_nan=False), max_size=20), min_size=1, max_size=5
    ),
    cut=st.integers(0, 3),
)
def test_float_values_are_the_columns_numbers_with_missing_as_nan(
    blocks: list[list[float | None]], cut: int
) -> None:
    # blocks of any length (empty ones too), nulls anywhere, and a block that
    # starts inside its buffers (a slice), as Arrow's CSV reader may give them
    arrays = [pa.array(block, pa.float64()) for block in blocks]
    arrays[0] = arrays[0].slice(min(cut, len(arrays[0])))
    got = float_values(pa.chunked_array(arrays, pa.float64()))
    want = [math.nan if value is None else value for array in arrays for value in array.to_pylist()]
    assert got.dtype == np.float64
    assert got.flags.writeable
    assert len(got) == len(want)
    for a, b in zip(got.tolist(), want, strict=True):
        assert (math.isnan(a) and math.isnan(b)) or a == b


def test_float_values_of_an_all_missing_column() -> None:
    got = float_values(pa.chunked_array([pa.nulls(3, pa.float64()), pa.nulls(2, pa.float64())]))
    assert np.isnan(got).all()
    assert len(got) == 5


@pytest.mark.parametrize("threads", [False, True], ids=["one thread", "arrow's pool"])
def test_a_file_of_many_blocks_reads_the_same(
    tmp_path: Path, claims: list[bool], threads: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several of Arrow's blocks, numbers missing here and there, one column with an inf.

    The early table holds nulls in place of the number columns it copied out;
    the reader takes their values and missing counts from it, and reads the
    column with an inf again from the file, as without the early parse.
    """
    rng = np.random.default_rng(5)
    n = 60_000  # ~2.8 MB: blocks of 1 MB below
    ages = np.where(rng.random(n) < 0.1, "NA", rng.integers(40, 95, n).astype(str))
    vas = rng.integers(0, 11, n).astype(str)
    vas[n - 7] = "inf"
    lines = [_HEAD] + [
        f"P{i},control,female,{a},L1,{v},2020-03-01,none,note {i % 97}"
        for i, (a, v) in enumerate(zip(ages, vas, strict=True))
    ]
    path = _write(tmp_path / "ward.csv", lines)
    schema = load_schema()
    import pyarrow.csv as pacsv

    parses: list[object] = []
    parse = pacsv.read_csv

    def counted(*args: Any, **kwargs: Any) -> Any:
        parses.append(kwargs["convert_options"].include_columns)
        return parse(*args, **kwargs)

    monkeypatch.setattr(_early, "ARROW_BLOCK", 1 << 20)
    monkeypatch.setattr(_early, "ARROW_BLOCK_ONE_THREAD", 1 << 20)
    expected = read_table(path, schema=schema)
    monkeypatch.setattr(pacsv, "read_csv", counted)
    with early_parse(path, schema, threads=threads):
        got = read_table(path, schema=schema)
    assert claims == [False, True]
    # the early parse, then the column with an inf alone: no number column read twice
    assert parses == [[], ["c5"]]
    _same(got, expected)
    assert got["age"].isna().sum() == (ages == "NA").sum()


def test_a_number_first_column_reads_the_same(tmp_path: Path, claims: list[bool]) -> None:
    head = "age,patient_id,group,vas_pre"
    path = _write(tmp_path / "ward.csv", [head, "71,P1,control,5", "NA,P2,experimental,3"])
    schema = load_schema()
    expected = read_table(path, schema=schema)
    with early_parse(path, schema, threads=True):
        got = read_table(path, schema=schema)
    _same(got, expected)
    assert got["age"].isna().tolist() == [False, True]


def test_analyze_takes_the_early_table(
    tmp_path: Path, claims: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kypho analyze FILE`` begins the parse early, and its tables are those of a plain read."""
    from click.testing import CliRunner

    from kypho.cli import main

    # the bundled cohort, as a file of the user's (so no cached analysis is used)
    source = tmp_path / "cohort.csv"
    source.write_bytes((resources.files("kypho.data") / "cohort.csv").read_bytes())
    runner = CliRunner()
    common = ["--format", "csv", "--no-figures", "--quiet"]
    first = runner.invoke(main, ["analyze", str(source), "--out", str(tmp_path / "a"), *common])
    assert first.exit_code == 0, first.output
    assert claims == [True]
    monkeypatch.setattr(_csvfile, "claim", lambda path, arguments: None)
    second = runner.invoke(main, ["analyze", str(source), "--out", str(tmp_path / "b"), *common])
    assert second.exit_code == 0, second.output
    for name in ("tables.csv", "results.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_line_longer_than_the_early_block_is_read_the_same(
    tmp_path: Path, claims: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arrow refuses a record longer than its block; the reader then parses the file itself."""
    monkeypatch.setattr(_early, "ARROW_BLOCK_ONE_THREAD", 1 << 12)
    long_note = "x" * 10_000
    path = _write(tmp_path / "ward.csv", [_HEAD, *_ROWS[:2], _ROWS[2].replace("third", long_note)])
    schema = load_schema()
    expected = read_table(path, schema=schema)
    with early_parse(path, schema):
        got = read_table(path, schema=schema)
    assert claims == [False, False]
    _same(got, expected)
    assert got["notes"].iloc[2] == long_note
