"""CSRF, session expiry, login throttling, escaping of user values, headers."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from kypho.store import Store

from .conftest import PASSWORD, Browser, Clock


def test_post_without_or_with_a_wrong_csrf_token_is_refused(
    store: Store, browser: Callable[..., Browser]
) -> None:
    b = browser("mona")
    n = len(store.log())
    for token in (None, "wrong-token", ""):
        data = {"id": "P-00001", "reason": "monitored"}
        if token is not None:
            data["csrf"] = token
        response = b.client.post("/record/lock", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "security token" in response.text
    assert not store.get("P-00001").locked
    assert len(store.log()) == n
    # the same request with the page's token works, and as a header too (HTMX)
    assert b.post("/record/lock", {"id": "P-00001", "reason": "monitored"}).status_code == 303
    assert store.get("P-00001").locked
    ok = b.client.post(
        "/record/lock",
        data={"id": "P-00002", "reason": "monitored"},
        headers={"X-CSRF-Token": b.csrf},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_login_form_needs_its_csrf_token(store: Store, browser: Callable[..., Browser]) -> None:
    b = browser()
    b.client.get("/login")
    response = b.client.post("/login", data={"name": "dora", "password": PASSWORD})
    assert response.status_code == 403


def test_an_idle_session_expires_back_to_login(
    store: Store, browser: Callable[..., Browser], clock: Clock
) -> None:
    b = browser("dora")
    assert b.get("/").status_code == 200
    clock.now += 29 * 60
    assert b.get("/").status_code == 200  # used within 30 minutes: still open
    clock.now += 31 * 60
    response = b.get("/record?id=P-00001")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?expired=1&next=/record"
    page = b.get(response.headers["location"])
    assert "Your session has ended" in page.text
    # an expired session cannot post either, and changes nothing
    before = store.get("P-00001").version
    assert b.post("/record/lock", {"id": "P-00001", "reason": "x"}).status_code == 303
    assert not store.get("P-00001").locked
    assert store.get("P-00001").version == before


def test_cookie_is_httponly_samesite_and_signed(
    app: object, browser: Callable[..., Browser]
) -> None:
    b = browser()
    response = b.client.get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "max-age=" in cookie
    assert "default-src 'self'" in response.headers["content-security-policy"]
    # a forged (unsigned) cookie is no session
    b.client.cookies.set("kypho_session", "forged")
    assert b.get("/").status_code == 303


def test_failed_logins_are_throttled_and_audited(
    store: Store, browser: Callable[..., Browser], clock: Clock
) -> None:
    b = browser()
    for _ in range(5):
        assert b.login("dora", "wrong password") == 401
    assert b.login("dora") == 429  # even the right password, until the window passes
    clock.now += 16 * 60
    assert b.login("dora") == 303
    log = store.log()
    failed = log[log["action"] == "login_failed"]
    assert len(failed) == 6
    assert set(failed["field"]) == {"dora"}
    assert "wrong password" in set(failed["reason"])
    assert log["action"].iloc[-1] == "login"
    assert PASSWORD not in log.to_csv()


def test_unknown_user_and_disabled_user_cannot_log_in(
    store: Store, browser: Callable[..., Browser]
) -> None:
    b = browser()
    assert b.login("nobody") == 401
    store.set_active("rita", False)
    assert b.login("rita") == 401
    log = store.log()
    reasons = list(log[log["action"] == "login_failed"]["reason"])
    assert reasons == ["unknown or disabled user", "unknown or disabled user"]


def test_user_values_are_escaped_everywhere(store: Store, browser: Callable[..., Browser]) -> None:
    evil = "<script>alert(1)</script>"
    raw = pd.DataFrame(
        [{"patient_id": evil, "group": "control", "sex": "male", "age": "70", "level": "L1"}]
    )
    assert store.import_frame(raw, reason=evil).n_imported == 1
    b = browser("mona")
    assert (
        b.post(
            "/query/raise", {"id": evil, "field": "vas_pre", "text": evil + "<b>bold</b>"}
        ).status_code
        == 303
    )
    pages = [
        "/",
        f"/?q={evil}",
        "/record?id=" + evil,
        "/record/form?inst=vas&id=" + evil,
        "/queries",
        "/log",
        "/log?record=" + evil,
        "/screening",
    ]
    for url in pages:
        response = b.get(url, params=None)
        assert response.status_code == 200, url
        assert "<script>alert" not in response.text, url
        assert "<b>bold" not in response.text, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in b.get("/").text
