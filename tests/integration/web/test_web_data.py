"""Import with a preview, export, the audit log's filters and CSV, `kypho db user passwd`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from click.testing import CliRunner

from kypho.cli import main
from kypho.store import Store

from .conftest import Browser, patients


def test_import_preview_then_commit(store: Store, browser: Callable[..., Browser]) -> None:
    b = browser("dora")
    rows = patients(3, start=100)
    rows.loc[1, "age"] = "300"
    upload = rows.to_csv(index=False).encode()
    n = len(store.read())
    response = b.client.post(
        "/import/preview",
        data={"csrf": b.csrf},
        files={"file": ("ward3.csv", upload, "text/csv")},
    )
    assert response.status_code == 200
    assert "3 rows read: <strong>2 would be imported</strong>, <strong>1 rejected</strong>" in (
        response.text
    )
    assert "must be a whole number from 18 to 120 (got 300)" in response.text
    assert len(store.read()) == n  # a preview stores nothing
    token = response.text.split('name="token" value="')[1].split('"')[0]
    done = b.post("/import/commit", {"token": token, "reason": "ward 3 baseline"})
    assert done.status_code == 200
    assert "3 rows read: 2 imported, 1 rejected" in done.text
    assert len(store.read()) == n + 2
    log = store.log()
    assert log[log["action"] == "import"]["reason"].iloc[-1] == "ward 3 baseline"


def test_export_deidentified_and_full_for_admins_only(
    store: Store, browser: Callable[..., Browser]
) -> None:
    ana, ada = browser("ana"), browser("ada")
    response = ana.post("/export/deidentified", {"reason": "analysis"})
    assert response.status_code == 200
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert len(table) == 5
    assert "patient_name" not in table[0]
    assert ana.post("/export/full", {"reason": "linkage"}).status_code == 403
    assert ada.post("/export/full", {"reason": ""}).status_code == 400
    full = ada.post("/export/full", {"reason": "registry linkage"})
    assert full.status_code == 200
    assert "patient_name" in full.text.splitlines()[0]
    exports = store.log()
    exports = exports[exports["action"] == "export"]
    assert list(exports["reason"]) == ["analysis", "registry linkage"]


def test_log_filters_and_csv(store: Store, browser: Callable[..., Browser]) -> None:
    store.edit("P-00001", {"vas_pre": "3"}, expected_version=1, reason="source check")
    b = browser("rita")
    page = b.get("/log", params={"record": "P-00001", "field": "vas_pre"}).text
    assert "source check" in page
    assert "1 entry" in page
    assert "1 entry" in b.get("/log", params={"user": "ada", "action": "update"}).text
    assert "0 entries" in b.get("/log", params={"until": "2000-01-01"}).text
    response = b.get("/log.csv", params={"record": "P-00001"})
    assert response.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    # created by the import's batch entry (shown as this record's creation), then edited
    assert [r["action"] for r in rows] == ["create_batch", "update"]
    assert json.loads(rows[0]["new_value"])["patient_id"] == "P-00001"
    assert rows[1]["old_value"] != rows[1]["new_value"]
    assert len(rows[1]["hash"]) == 64


def test_db_user_passwd_reads_stdin(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    runner = CliRunner()
    assert runner.invoke(main, ["db", "--url", url, "--user", "ada", "init"]).exit_code == 0
    add = ["db", "--url", url, "--user", "ada", "user", "add", "mona", "--role", "monitor"]
    assert runner.invoke(main, add).exit_code == 0
    cmd = ["db", "--url", url, "--user", "ada", "user", "passwd", "mona"]
    short = runner.invoke(main, cmd, input="short\n")
    assert short.exit_code == 2
    assert "too short" in short.output
    done = runner.invoke(main, cmd, input="a long enough password\n")
    assert done.exit_code == 0, done.output
    with Store(url, user="ada") as store:
        from kypho.store.auth import authenticate

        assert authenticate(store, "mona", "a long enough password") == "monitor"
        assert authenticate(store, "mona", "wrong") is None
        log = store.log()
        assert list(log["action"])[-3:] == ["passwd", "login", "login_failed"]
        assert "a long enough password" not in log.to_csv()
    other = ["db", "--url", url, "--user", "mona", "user", "passwd", "ada"]
    refused = runner.invoke(main, other, input="mona sets ada's\n")
    assert refused.exit_code == 2
    assert "only an admin may" in refused.output
