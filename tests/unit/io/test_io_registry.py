"""Parquet in and out, and the chunked registry path against the in-memory path."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kypho.analysis import analyze, load_plan
from kypho.analysis.demo import demo_cohort
from kypho.eligibility import screen
from kypho.errors import AnalysisError
from kypho.io import read_table, write_table
from kypho.measures import derive
from kypho.registry import ParquetColumns, analyze_registry, plan_columns
from kypho.schema import load_schema
from kypho.validation import validate


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 records: a bad value, an ineligible age, and an id repeated in distant rows."""
    raw = demo_cohort(300, seed=4).astype(object)
    schema = load_schema()
    raw.loc[5, "age"] = 250  # out of range: flagged (set missing), rejected with --strict
    raw.loc[40, "age"] = 55  # valid, but not eligible
    raw.loc[230, schema.id_column] = raw.loc[10, schema.id_column]  # duplicate across chunks
    raw.loc[11, schema.id_column] = raw.loc[12, schema.id_column]  # duplicate within a chunk
    path = tmp_path_factory.mktemp("registry") / "registry.parquet"
    write_table(raw, path)
    return path


@pytest.fixture(scope="module")
def row_groups(registry: Path) -> Path:
    """The same records as ``registry`` in ten row groups of 30."""
    import pyarrow.parquet as pq

    path = registry.with_name("row_groups.parquet")
    pq.write_table(pq.read_table(registry), path, row_group_size=30)
    assert pq.ParquetFile(path).metadata.num_row_groups == 10
    return path


def test_parquet_round_trip_keeps_types(tmp_path: Path) -> None:
    schema = load_schema()
    data = derive(validate(demo_cohort(40, seed=2), schema).data, schema)
    path = write_table(data, tmp_path / "derived.parquet")
    back = read_table(path)
    assert list(back.columns) == list(data.columns)
    lazy = ParquetColumns(path)
    for name in ("group", "cement_grade", "vas_pre"):
        pd.testing.assert_series_equal(lazy[name], data[name].reset_index(drop=True))
    assert len(lazy) == 40
    assert "leakage" in lazy


@pytest.mark.parametrize("strict", [False, True])
def test_chunked_registry_gives_the_in_memory_tables(registry: Path, strict: bool) -> None:
    schema = load_schema()
    plan = load_plan()
    checked = validate(read_table(registry), schema, strict=strict)
    derived = derive(checked.data, schema)
    screening = screen(derived, schema)
    expected = analyze(derived[screening.included.to_numpy()], schema, plan)

    chunked = analyze_registry(registry, schema, plan, chunk_rows=70, strict=strict)
    assert chunked.chunks == 5
    pd.testing.assert_frame_equal(chunked.result.to_frame(), expected.to_frame())
    assert [t.number for t in chunked.result.tables] == [t.number for t in expected.tables]
    validation = chunked.validation
    assert (validation.n_read, validation.n_accepted, validation.n_rejected) == (
        checked.n_read,
        checked.n_accepted,
        checked.n_rejected,
    )
    assert validation.strict is strict
    assert validation.n_flagged == checked.n_flagged
    assert validation.n_flagged == (0 if strict else 1)
    # The same rows are rejected or flagged, numbered as rows of the whole file.
    assert set(validation.problems["row"]) == set(checked.problems["row"])
    assert sorted(validation.problems["action"]) == sorted(checked.problems["action"])
    age = validation.problems[validation.problems["row"] == 6]["message"].iloc[0]
    assert "(row 6)" in age
    assert chunked.screening.flow == screening.flow
    assert list(chunked.screening.flow.by_reason) == list(screening.flow.by_reason)
    assert list(chunked.screening.flow.first_reason) == list(screening.flow.first_reason)
    pd.testing.assert_series_equal(validation.missing, checked.missing, check_names=False)


def test_worker_processes_give_the_same_analysis_as_one_process(
    registry: Path, row_groups: Path
) -> None:
    """Row groups of 30 with chunks of at most 70 rows: five jobs of two row groups,
    run in two worker processes, give what one process gives on one row group."""
    schema = load_schema()
    plan = load_plan()
    single = analyze_registry(registry, schema, plan, chunk_rows=70)
    parallel = analyze_registry(row_groups, schema, plan, chunk_rows=70, workers=2)
    assert (single.chunks, parallel.chunks) == (5, 5)
    pd.testing.assert_frame_equal(parallel.result.to_frame(), single.result.to_frame())
    pd.testing.assert_frame_equal(parallel.validation.problems, single.validation.problems)
    pd.testing.assert_series_equal(parallel.validation.missing, single.validation.missing)
    assert parallel.screening.flow == single.screening.flow
    # The tables were shared among the workers and merged: the same footnotes and tests.
    assert [t.footnotes for t in parallel.result.tables] == [
        t.footnotes for t in single.result.tables
    ]
    assert parallel.result.tests_used == single.result.tests_used
    assert parallel.result.n_by_group == single.result.n_by_group
    counts = ("n_read", "n_accepted", "n_rejected", "n_flagged")
    assert [getattr(parallel.validation, c) for c in counts] == [
        getattr(single.validation, c) for c in counts
    ]


def test_jobs_gather_row_groups_up_to_the_chunk_size() -> None:
    from kypho.registry import _jobs

    jobs = _jobs([30, 30, 30, 100, 10, 10], 70)
    assert [(j.row_groups, j.offset) for j in jobs] == [
        ((0, 1), 0),
        ((2,), 60),
        ((3,), 90),  # larger than a chunk: a job of its own, read in chunks
        ((4, 5), 190),
    ]
    assert [j.index for j in jobs] == [0, 1, 2, 3]
    assert _jobs([], 70) == []


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_parts_of_the_working_file_read_as_one_table(tmp_path: Path, suffix: str) -> None:
    """A later part whose column has another Arrow type is cast to the first part's;
    Parquet and Arrow IPC files (the working files) alike."""
    import pyarrow as pa
    import pyarrow.feather as pf
    import pyarrow.parquet as pq

    write = pq.write_table if suffix == ".parquet" else pf.write_feather
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    write(pa.table({"x": pa.array([1.5, None]), "g": ["a", "b"]}), first)
    write(pa.table({"x": pa.array([None], pa.null()), "g": ["c"]}), second)
    lazy = ParquetColumns([first, second])
    assert len(lazy) == 3
    assert list(lazy.columns) == ["x", "g"]
    assert lazy["x"].dtype == np.float64
    np.testing.assert_array_equal(lazy["x"].to_numpy(), [1.5, np.nan, np.nan])
    assert lazy["g"].tolist() == ["a", "b", "c"]


def test_tables_are_shared_among_workers_whole_and_in_plan_order() -> None:
    from kypho.registry import _table_shares

    plan, schema = load_plan(), load_schema()
    numbers = [spec.number for spec in plan.tables]
    for workers in (1, 2, 3, len(numbers) + 2):
        shares = _table_shares(plan, schema, workers)
        assert len(shares) == min(workers, len(numbers))
        assert sorted(n for share in shares for n in share) == sorted(numbers)
        assert all(list(share) == sorted(share, key=numbers.index) for share in shares)


def test_pinned_columns_stay_read(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"g": ["a"], "x": [1.0], "y": [2.0], "z": [3.0]}), path)
    lazy = ParquetColumns(path, keep=1, pinned=("g",))
    group = lazy["g"]
    first_x = lazy["x"]
    for name in ("y", "z"):
        lazy[name]
    assert set(lazy._cache) == {"g", "z"}  # the pinned column and the last other one
    assert lazy["g"] is group  # not read again
    assert lazy["x"] is not first_x  # read again: it had left memory


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 0}, "workers must be a whole number of at least 1 (got 0)"),
        ({"chunk_rows": 0}, "chunk_rows must be a whole number of at least 1 (got 0)"),
    ],
)
def test_impossible_options_are_refused(
    registry: Path, options: dict[str, int], message: str
) -> None:
    with pytest.raises(AnalysisError, match=f"^{re.escape(message)}$"):
        analyze_registry(registry, **options)  # type: ignore[arg-type]


def test_the_working_file_holds_only_what_the_plan_reads() -> None:
    schema = load_schema()
    columns = plan_columns(load_plan(), schema)
    assert schema.id_column in columns
    assert schema.group_column in columns
    # Raw inputs of the derived measures are not needed once derived.
    assert len(columns) < len(schema.variables)
    assert np.all([c in schema for c in columns])


@pytest.mark.parametrize("strict", [[], ["--strict"]])
def test_the_registry_command_writes_the_same_tables(
    registry: Path, tmp_path: Path, strict: list[str]
) -> None:
    from click.testing import CliRunner

    from kypho.cli import main

    runner = CliRunner()
    common = ["--format", "csv", "--format", "html", "--no-figures", "-q", *strict]
    chunked = runner.invoke(
        main, ["analyze", str(registry), "--registry", "--out", str(tmp_path / "a"), *common]
    )
    assert chunked.exit_code == 0, chunked.output
    memory = runner.invoke(main, ["analyze", str(registry), "--out", str(tmp_path / "b"), *common])
    assert memory.exit_code == 0, memory.output
    for name in ("tables.csv", "results.csv", "data_quality.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert "Records read" in (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
