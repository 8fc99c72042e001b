"""The registry's duplicate-id check: keys of ids computed in the jobs, merged by sorting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kypho.registry import _NO_ID, _id_keys, _repeated_ids

_IDS = st.lists(
    st.one_of(
        st.none(),
        st.sampled_from(["P-1", " P-1", "P-1 ", "P-10", "p-1", "", "  ", "P-1\x00"]),
        st.text(alphabet="P-01 éß\t", max_size=20),
    ),
    max_size=60,
)


def _expected(ids: list[str | None]) -> dict[str, str]:
    """Repeated ids by a plain reading of the rule: trimmed text, missing and empty left out."""
    rows: dict[str, list[int]] = {}
    for row, value in enumerate(ids, start=1):
        text = value.strip() if value is not None else ""
        if text:
            rows.setdefault(text, []).append(row)
    return {k: ", ".join(map(str, v)) for k, v in rows.items() if len(v) > 1}


@settings(max_examples=150, deadline=None)
@given(_IDS)
def test_keys_are_equal_exactly_for_equal_ids(ids: list[str | None]) -> None:
    keys = _id_keys(pa.array(ids, pa.string()))
    texts = [v.strip() if v is not None else "" for v in ids]
    for i, a in enumerate(texts):
        assert (keys[i] == _NO_ID) == (a == "")
        for j in range(i):
            if a and texts[j]:
                assert (keys[i] == keys[j]) == (a == texts[j]), (a, texts[j])


def test_an_id_has_one_key_whatever_the_other_ids_of_its_job() -> None:
    """One length for every id (the matrix path) or mixed lengths, one chunk or several."""
    alone = _id_keys(pa.array(["P00000001", "P00000002"]))
    mixed = _id_keys(pa.chunked_array([["x", "P00000002"], [None, "P00000001", "y" * 300]]))
    assert mixed[3] == alone[0]
    assert mixed[1] == alone[1]
    assert mixed[2] == _NO_ID
    assert len(set(mixed.tolist())) == 5
    # Ids stored as numbers are compared as their text.
    numbers = _id_keys(pa.array([17, None, 17]))
    assert numbers[0] == numbers[2] == _id_keys(pa.array(["17"]))[0]


@settings(max_examples=60, deadline=None)
@given(_IDS, st.integers(min_value=1, max_value=25))
def test_repeated_ids_are_found_across_row_groups(
    tmp_path_factory: pytest.TempPathFactory, ids: list[str | None], group: int
) -> None:
    path = tmp_path_factory.mktemp("ids") / "ids.parquet"
    pq.write_table(pa.table({"id": pa.array(ids, pa.string())}), path, row_group_size=group)
    file = pq.ParquetFile(path)
    sizes = [file.metadata.row_group(g).num_rows for g in range(file.metadata.num_row_groups)]
    keys = _id_keys(pq.read_table(path).column(0))
    assert _repeated_ids(path, "id", keys, sizes) == _expected(ids)


def test_keys_shared_by_different_ids_are_not_a_duplicate(tmp_path: Path) -> None:
    """A collision of keys (forced here) is settled by comparing the ids themselves."""
    ids = ["A", "B", "C", "A", "D"]
    path = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"id": ids}), path, row_group_size=2)
    keys = np.array([5, 5, 7, 5, 5], dtype=np.uint64)  # A, B, A and D all share a key
    assert _repeated_ids(path, "id", keys, [2, 2, 1]) == {"A": "1, 4"}
    assert _repeated_ids(path, "id", np.array([5, 7, 9, 11, 13], np.uint64), [2, 2, 1]) == {}
