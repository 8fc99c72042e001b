"""Every role on every route: forbidden ones answer 403 and change nothing.

The routes come from the application's own registry
(:data:`kypho.web.routing.ROUTES`), so a new page is covered without editing
this test; the expected answer comes from the role's rights
(:func:`kypho.store.workflow.rights_of`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from kypho.store import Store
from kypho.store.workflow import METADATA, rights_of
from kypho.web.app import load_pages
from kypho.web.pages import data as data_pages

from .conftest import USERS, Browser

_counter = itertools.count()


def _snapshot(store: Store) -> tuple[Any, ...]:
    """Everything a request could change, except the login/logout trail entries."""
    with store.engine.connect() as conn:
        records = conn.execute(sa.select(store.tables.records)).all()
        users = conn.execute(sa.select(store.tables.users)).all()
        work = [conn.execute(sa.select(t)).all() for t in METADATA.sorted_tables]
        audit = store.tables.audit
        entries = conn.execute(
            sa.select(audit.c.action, audit.c.record, audit.c.field, audit.c.new_value).where(
                audit.c.action.notin_(["login", "login_failed", "logout"])
            )
        ).all()
    return (sorted(map(tuple, records)), sorted(map(tuple, users)), work, entries)


def _request(b: Browser, path: str, method: str, example: dict[str, str]) -> Any:
    params = {"id": "P-00001", "inst": "vas", **example}
    if method == "GET":
        return b.get(path, params=params)
    n = next(_counter)
    data = {
        **params,
        "qid": "1",
        "name": "zed",
        "role": "read_only",
        "active": "1",
        "password": "another password",
        "reason": "matrix test",
        "text": "is this right?",
        "field": "vas_pre",
        "version": "1",
        "state": "complete",
        "patient_id": f"NEW-{n}",
        "vas_pre": "5",
    }
    if path == "/login":
        data["password"] = "not the password"  # stay logged in as the role under test
    return b.post(path, data=data)


def test_every_role_on_every_route(
    store: Store, browser: Callable[..., Browser], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the report itself runs in the e2e test; here only who may start one matters
    monkeypatch.setattr(data_pages, "_run_report", lambda *args: None)
    routes = [r for r in load_pages() if r.path != "/logout"]
    assert len(routes) >= 30
    checked = 0
    for name, role in USERS.items():
        b = browser(name)
        rights = rights_of(role)
        for spec in routes:
            for method in spec.methods:
                before = _snapshot(store)
                response = _request(b, spec.path, method, dict(spec.example))
                where = f"{role} {method} {spec.path}"
                if spec.right is not None and spec.right not in rights:
                    assert response.status_code == 403, where
                    assert "Nothing was changed" in response.text, where
                    assert _snapshot(store) == before, where
                else:
                    assert response.status_code != 403, (
                        where,
                        response.text[response.text.find("<main>") :][:600],
                    )
                    assert response.status_code < 500, where
                checked += 1
    assert checked >= 5 * 30


def test_logout_ends_the_session(store: Store, browser: Callable[..., Browser]) -> None:
    b = browser("rita")
    assert b.get("/").status_code == 200
    assert b.post("/logout").status_code == 303
    response = b.get("/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    actions = list(store.log()["action"])
    assert actions[-2:] == ["login", "logout"]


def test_not_logged_in_goes_to_login(app: object, browser: Callable[..., Browser]) -> None:
    b = browser()
    for spec in load_pages():
        if spec.right is None:
            continue
        for method in spec.methods:
            response = _request(b, spec.path, method, dict(spec.example))
            assert response.status_code in (303, 403), (method, spec.path)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login")
