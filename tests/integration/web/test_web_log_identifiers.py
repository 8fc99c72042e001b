"""The browser's audit log holds no identifier, as ``kypho db log`` (issue #16).

``/log`` and ``/log.csv`` need only the ``log`` right, which read_only has; before
this test they showed every create entry's names, hospital numbers and notes.
"""

from __future__ import annotations

from collections.abc import Callable

from kypho.store import Store

from .conftest import Browser


def test_log_page_and_csv_are_de_identified(store: Store, browser: Callable[..., Browser]) -> None:
    record = store.get("P-00001").values
    secrets = [str(record[k]) for k in ("patient_name", "hospital_number", "notes")]
    rita = browser("rita")
    page = rita.get("/log", params={"record": "P-00001"}).text
    table = rita.get("/log.csv", params={"record": "P-00001"}).text
    assert "P-00001" in page
    assert "create" in table
    assert [s for s in secrets if s in page or s in table] == []
    # the whole trail too: the import's batch entry is shown by its outline only
    # (its Parquet file holds every identifier, encoded)
    everything = rita.get("/log.csv").text + rita.get("/log").text
    assert "create_batch" in everything
    assert '"parquet"' not in everything
    assert [s for s in secrets if s in everything] == []
