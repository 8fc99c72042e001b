"""A large synthetic cohort is drawn in chunks: same cohort in memory and streamed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner

from kypho.cli import main
from kypho.io import read_table, write_table
from kypho.synth import cohort, synthesize
from kypho.synth.cohort import _arrow_text, synthesize_chunks
from kypho.synth.report import Achieved, _tally
from kypho.validation import validate


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(cohort, "CHUNK_ROWS", 700)
    return 700


def test_chunks_are_bounded_and_join_to_the_cohort(small_chunks: int) -> None:
    chunks = synthesize_chunks(n=3000, seed=4, ineligible=5)
    parts = list(chunks)
    assert len(parts) > 2
    assert all(len(p.data) <= small_chunks for p in parts)
    whole = synthesize(n=3000, seed=4, ineligible=5)
    joined = pd.concat([p.data for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole.data)
    assert np.concatenate([p.included for p in parts]).sum() == 3000
    assert chunks.report == whole.report
    ids = joined.iloc[:, 0].astype(str)
    assert ids.is_unique
    assert ids.str.len().nunique() == 1
    assert ids.iloc[-1].endswith("3005")


def test_every_chunked_row_is_valid_and_counts_follow_the_published_shares(
    small_chunks: int,
) -> None:
    result = synthesize(n=2000, seed=9)
    checked = validate(result.data, strict=True)
    assert checked.n_rejected == 0
    assert checked.n_accepted == 2000
    scaled = [
        e
        for e in result.report.entries
        if e.status == "scaled" and e.reason.startswith("published")
    ]
    assert scaled
    for entry in scaled:
        # "published 12 of 55, scaled to 1000"
        want = float(entry.reported) / float(entry.reason.split(" of ")[1].split(",")[0])
        size = result.report.sizes[entry.column]
        # per-chunk rounding of the scaled counts: a few patients at most
        assert abs(int(entry.achieved) - want * size) <= 2 + 2000 // small_chunks


def test_summaries_of_chunks_equal_those_of_all_values() -> None:
    rng = np.random.default_rng(0)
    pieces = [rng.normal(50, 9, size) for size in (5, 700, 1, 333)]
    total = Achieved()
    for piece in pieces:
        part = Achieved()
        part.values["x"] = piece
        part.codes["c"] = np.where(piece > 50, "hi", "lo")
        part.leak_sites = np.where(piece > 60, "disc;vein", np.where(piece > 55, "disc", ""))
        total.absorb(part)
    every = np.concatenate(pieces)
    mean, sd, n = total.summary("x") or (0.0, 0.0, 0)
    assert n == len(every)
    assert mean == pytest.approx(every.mean(), rel=1e-12)
    assert sd == pytest.approx(every.std(ddof=1), rel=1e-12)
    assert total.count("c", "hi") == int((every > 50).sum())
    assert total.leaks() == {"disc": int((every > 55).sum()), "vein": int((every > 60).sum())}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_kypho_synth_streams_the_file_write_table_writes(
    small_chunks: int, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"cohort{suffix}"
    got = CliRunner().invoke(
        main, ["synth", "--n", "1500", "--seed", "5", "--quiet", "--out", str(out)]
    )
    assert got.exit_code == 0, got.output
    assert "Wrote 1500 SYNTHETIC patients" in got.output
    expected = tmp_path / f"expected{suffix}"
    write_table(synthesize(n=1500, seed=5).data, expected)
    if suffix == ".csv":
        assert out.read_bytes() == expected.read_bytes()
    else:
        pd.testing.assert_frame_equal(read_table(out), read_table(expected))
    assert not list(tmp_path.glob(".*partial"))


def test_text_columns_reach_arrow_as_numpy_holds_them() -> None:
    """ASCII text is encoded as a whole array; other text by pyarrow; same strings."""
    for values in (
        np.array(["P-0001", "", "a b", "thoracolumbar"]),
        np.array(["", ""]),
        np.array([], dtype="<U4"),
        np.array(["ünïcode", "a"]),
    ):
        got = _arrow_text(values)
        assert got.type == pa.string()
        assert got.to_pylist() == values.tolist()


def test_code_tallies_equal_counting_every_value() -> None:
    rng = np.random.default_rng(2)
    for distinct in (1, 3, 40):  # past 32 codes the rest are sorted and counted
        codes = rng.integers(0, distinct, 500).astype(str)
        assert _tally(codes) == dict(Counter(codes.tolist()))


def test_a_full_disk_while_streaming_is_one_error_and_leaves_no_file(
    small_chunks: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunks are written in a second thread: its failure reaches the command,
    which says so in one line and removes the half-written file."""
    import errno

    from kypho.output.cells import CsvWriter

    calls = {"n": 0}
    emit = CsvWriter._emit

    def full(self: CsvWriter, data: bytes | memoryview) -> None:
        calls["n"] += 1
        if calls["n"] > 2:  # the header and the first chunk fit
            raise OSError(errno.ENOSPC, "No space left on device")
        emit(self, data)

    monkeypatch.setattr(CsvWriter, "_emit", full)
    out = tmp_path / "cohort.csv"
    got = CliRunner().invoke(main, ["synth", "--n", "3000", "--seed", "5", "--out", str(out)])
    assert got.exit_code != 0
    assert f"cannot write {str(out)!r}: No space left on device" in got.output
    assert calls["n"] == 3
    assert list(tmp_path.iterdir()) == []
