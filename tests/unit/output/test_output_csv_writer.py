"""The fast CSV writer (kypho.output.cells.CsvWriter) writes pandas' file, neutralised.

``write_csv`` formats whole columns through pyarrow; every frame here is also
written the way it was before (neutralise_frame + pandas ``to_csv``) and the
two files must be the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kypho.output import cells
from kypho.output.cells import CsvWriter, neutralise, neutralise_text, write_csv

HOSTILE = [
    '=HYPERLINK("http://x")',
    "+cmd|' /C calc'!A0",
    "-1+2",
    "-2-3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "  =1",
    " -x",
    "-1.5",
    "+2e3",
    "-",
    "P-017",
    "",
    "a,b",
    'say "hi"',
    "two\nlines",
    "carriage\rreturn",
    "-١٢",  # other scripts' digits are not a number to a spreadsheet
    "ünïcode ☃",
]


def _old(frame: pd.DataFrame, path: Path) -> bytes:
    cells._pandas_csv(frame, path, {"index": False, "encoding": "utf-8"})
    return path.read_bytes()


def _new(frame: pd.DataFrame, path: Path) -> bytes:
    write_csv(frame, path)
    return path.read_bytes()


def _same(frame: pd.DataFrame, tmp_path: Path) -> bytes:
    new = _new(frame, tmp_path / "new.csv")
    assert new == _old(frame, tmp_path / "old.csv")
    return new


def test_every_kind_of_column_is_written_as_pandas_writes_it(tmp_path: Path) -> None:
    n = len(HOSTILE)
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "text": pd.array(HOSTILE, dtype="string"),
            "object_text": pd.Series(HOSTILE, dtype=object),
            "category": pd.Categorical(["=bad", "ok", None, *(["ok"] * (n - 3))]),
            "grid": np.round(rng.normal(20, 5, n), 1),
            "floats": rng.normal(0, 1e-3, n),
            "odd_floats": [0.0, -0.0, np.inf, -np.inf, np.nan, 1e16, 1e-5, 1.0, -2.5, 123456789.125]
            + [0.1] * (n - 10),
            "integers": np.arange(n) - 3,
            "nullable": pd.array([None, 1, -7, *range(n - 3)], dtype="Int64"),
            "flags": pd.array([True, None, False, *([True] * (n - 3))], dtype="boolean"),
            "bools": np.arange(n) % 2 == 0,
            "object_bools": pd.Series([True, False, None, *([True] * (n - 3))], dtype=object),
            "object_ints": pd.Series([1, None, 3, *range(n - 3)], dtype=object),
            "dates": pd.to_datetime(
                ["2020-01-02", None, "1899-12-31", *(["2024-02-29"] * (n - 3))]
            ),
            "empty": pd.Series([None] * n, dtype=object),
        }
    )
    text = _same(frame, tmp_path).decode()
    assert "\r\n" in text  # a CR in a cell: CRLF line ends, the cell quoted
    assert ",'=bad," in text
    assert "'=HYPERLINK" in text


def test_plain_file_has_lf_line_ends_and_quotes_only_what_needs_it(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": ["P-1", "a,b", 'q"q', "=1"], "x": [1.0, 2.5, None, -1.0]})
    text = _same(frame, tmp_path).decode()
    assert text == 'id,x\nP-1,1.0\n"a,b",2.5\n"q""q",\n\'=1,-1.0\n'


def test_a_column_it_does_not_format_falls_back_to_pandas(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "mixed": pd.Series([1, "=x", 2.5], dtype=object),
            "times": pd.to_datetime(["2020-01-02 10:30", "2020-01-03 00:00", None]),
        }
    )
    text = _same(frame, tmp_path).decode()
    assert "'=x" in text
    assert "10:30:00" in text


def test_hostile_column_names_and_single_column_frames(tmp_path: Path) -> None:
    _same(pd.DataFrame({"=name": [1, 2], "ok": ["a", "b"]}), tmp_path)
    _same(pd.DataFrame({"only": ["", None, "=1"]}), tmp_path)
    _same(
        pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)}), tmp_path
    )


def test_blocks_of_rows_join_into_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cells, "CSV_BLOCK_ROWS", 7)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {"id": [f"P{i}" for i in range(50)], "x": np.round(rng.normal(size=50), 2)}
    )
    _same(frame, tmp_path)
    with CsvWriter(tmp_path / "parts.csv", frame.columns) as writer:
        assert writer.write(frame.iloc[:20])
        assert writer.write(frame.iloc[20:])
    assert (tmp_path / "parts.csv").read_bytes() == (tmp_path / "new.csv").read_bytes()


def test_blocks_with_and_without_quoted_fields_make_pandas_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks whose fields need no quotes go through Arrow's CSV writer, the others
    through the joiner; the file is the same bytes as pandas' either way."""
    monkeypatch.setattr(cells, "CSV_BLOCK_ROWS", 5)
    ids = [f"P{i}" for i in range(20)]
    ids[7] = 'say "hi"'  # only the second block needs quotes
    ids[12] = "a,b"  # and the third
    frame = pd.DataFrame({"id": ids, "x": np.round(np.linspace(-3, 3, 20), 1), "n": np.arange(20)})
    used: list[bool] = []
    arrow = cells._arrow_csv

    def spy(texts: list[pa.Array], emit: object) -> bool:
        wrote = arrow(texts, emit)  # type: ignore[arg-type]
        used.append(wrote)
        return wrote

    monkeypatch.setattr(cells, "_arrow_csv", spy)
    text = _same(frame, tmp_path).decode()
    assert used == [True, False, False, True]
    assert '"say ""hi"""' in text
    assert '"a,b"' in text


def test_vectorised_neutraliser_agrees_with_the_rule() -> None:
    got = neutralise_text(pa.array([*HOSTILE, None])).to_pylist()
    assert got == [neutralise(v) for v in HOSTILE] + [None]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from(list("=+-@\t\r\n ,\"'.e0123456789aZ")), max_size=6),
        min_size=2,
        max_size=12,
    ),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=2, max_size=12),
)
def test_random_text_and_floats(texts: list[str], numbers: list[float]) -> None:
    import tempfile

    assert neutralise_text(pa.array(texts)).to_pylist() == [neutralise(t) for t in texts]
    n = min(len(texts), len(numbers))
    frame = pd.DataFrame({"t": texts[:n], "x": numbers[:n], "g": np.round(numbers[:n], 1)})
    with tempfile.TemporaryDirectory() as tmp:
        _same(frame, Path(tmp))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=3),
    st.lists(st.integers(min_value=-(10**12) + 1, max_value=10**12 - 1), min_size=1, max_size=50),
)
def test_grid_floats_are_printed_as_numpy_prints_them(decimals: int, keys: list[int]) -> None:
    """A value on a decimal grid (below 10⁹, as grid_keys admits) is printed from its
    integer key exactly as NumPy prints the float: "32.0", "-0.05", "116.5"."""
    numbers = np.array(keys, dtype=np.int64) // 10 ** (3 - decimals)
    got = cells._grid_text(numbers, decimals).to_pylist()
    assert got == (numbers / 10.0**decimals).astype(str).tolist()
