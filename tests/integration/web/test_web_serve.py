"""``kypho serve --workers``: the worker processes' application, and SQLite refused."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from kypho.cli import main
from kypho.cli.serve import worker_app
from kypho.store import Store

from .conftest import Browser


def test_several_workers_need_postgresql(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/study.db"
    Store.init(url, admin="ada").close()
    result = CliRunner().invoke(
        main, ["serve", "--url", url, "--user", "ada", "--workers", "2", "--port", "1"]
    )
    assert result.exit_code == 2
    assert "--workers needs a PostgreSQL store" in result.output


def test_a_worker_builds_its_application_from_the_parents_options(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {
        "url": str(store.engine.url.render_as_string(hide_password=False)),
        "user": "ada",
        "schema_path": None,
        "extensions": [],
        "idle_minutes": 5.0,
        "secure": False,
        "secret": "shared key",
    }
    monkeypatch.setenv("KYPHO_SERVE_CONFIG", json.dumps(config))
    one, two = worker_app(), worker_app()
    for app in (one, two):
        web = app.state.web
        assert web.settings.secret == "shared key"
        assert web.settings.idle_minutes == 5.0
        assert not web.settings.secure_cookies
    a = Browser(one)
    assert a.login("dora") == 303
    b = TestClient(two, follow_redirects=False)
    b.cookies = a.client.cookies
    assert b.get("/").status_code == 200
