"""Property: an import never drops a row silently, on either engine."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kypho.store import Store

_BAD_CELLS = {"age": "7", "group": "placebo", "sex": "", "vas_pre": "ten"}
_ids = itertools.count(1)


@pytest.fixture
def opened(db_url: str) -> Iterator[dict[str, Store]]:
    """Stores opened by the examples, closed before ``db_url``'s database goes."""
    stores: dict[str, Store] = {}
    yield stores
    for store in stores.values():
        store.close()


@settings(
    max_examples=8,
    deadline=None,
    # one store for all examples on purpose: each example imports new ids into it
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    n=st.integers(1, 25),
    corrupt=st.lists(st.tuples(st.integers(0, 24), st.sampled_from(sorted(_BAD_CELLS)))),
)
def test_every_row_is_imported_or_reported(
    db_url: str,
    opened: dict[str, Store],
    make_patients: Callable[..., pd.DataFrame],
    n: int,
    corrupt: list[tuple[int, str]],
) -> None:
    store = opened.get(db_url)
    if store is None:
        store = opened[db_url] = Store.init(db_url, admin="ada")
    start = next(_ids)
    raw = make_patients(n, start=start * 100)
    bad_rows = set()
    for row, column in corrupt:
        if row < n:
            raw.loc[row, column] = _BAD_CELLS[column]
            bad_rows.add(row + 1)
    before = len(store.read())
    result = store.import_frame(raw, reason="property")
    assert result.n_imported + result.n_rejected == n
    assert set(result.rejected["row"]) == bad_rows
    assert set(result.problems["row"]) == bad_rows
    assert len(store.read()) == before + result.n_imported
    assert store.verify().ok
