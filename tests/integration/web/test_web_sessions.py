"""Sessions and the failed-login throttle live in the store: shared by several server
processes (two applications over one database stand for two workers) and kept across
a restart (a new application on the same store)."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from kypho.store import Store
from kypho.store.sessions import failures, web_sessions
from kypho.web import Settings, create_app

from .conftest import Browser, Clock


def _worker(store: Store, clock: Clock) -> object:
    return create_app(store, Settings(secret="test-secret"), clock=clock)


def test_a_session_opened_on_one_worker_is_known_to_another(store: Store, clock: Clock) -> None:
    one, two = _worker(store, clock), _worker(store, clock)
    a = Browser(one)
    assert a.login("dora") == 303
    b = Browser(two)
    b.client.cookies = a.client.cookies
    page = b.get("/")
    assert page.status_code == 200
    assert "dora" in page.text
    # a POST on the other worker with the token the first one issued is accepted
    b.csrf = a.csrf
    response = b.post("/logout")
    assert response.status_code == 303
    # logged out there: the first worker no longer knows the session either
    assert a.get("/").status_code == 303


def test_only_a_hash_of_the_session_id_is_stored(store: Store, clock: Clock) -> None:
    app = _worker(store, clock)
    a = Browser(app)
    assert a.login("dora") == 303
    sid = app.state.web.signer.unsign(a.client.cookies["kypho_session"]).decode()  # type: ignore[attr-defined]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(web_sessions)).all()
    stored = {r.sid_hash for r in rows}
    assert hashlib.sha256(sid.encode()).hexdigest() in stored
    assert sid not in stored
    assert all(sid not in str(tuple(r)) for r in rows)
    assert {r.user_name for r in rows} >= {"dora"}


def test_the_throttle_survives_a_restart_and_counts_across_workers(
    store: Store, clock: Clock
) -> None:
    one, two = _worker(store, clock), _worker(store, clock)
    for k in range(5):
        assert Browser(one if k % 2 else two).login("dora", "wrong password") == 401
    # both workers refuse now, even the right password
    assert Browser(one).login("dora") == 429
    assert Browser(two).login("dora") == 429
    restarted = _worker(store, clock)
    assert Browser(restarted).login("dora") == 429
    with store.engine.connect() as conn:
        keys = {r.key for r in conn.execute(sa.select(failures))}
    assert keys == {"user:dora", "client:testclient"}
    clock.now += 16 * 60
    assert Browser(restarted).login("dora") == 303
    with store.engine.connect() as conn:
        left = {r.key for r in conn.execute(sa.select(failures))}
    # the user's count is cleared by the successful login; the address keeps its own
    assert "user:dora" not in left


def test_a_session_survives_a_restart_with_the_same_key(store: Store, clock: Clock) -> None:
    a = Browser(_worker(store, clock))
    assert a.login("dora") == 303
    b = Browser(_worker(store, clock))
    b.client.cookies = a.client.cookies
    assert b.get("/").status_code == 200
    # with another key (a restart without --secret-file) the cookie is no session
    c = Browser(create_app(store, Settings(secret="another key"), clock=clock))
    c.client.cookies = a.client.cookies
    assert c.get("/").status_code == 303


def test_disabling_a_user_ends_their_sessions_on_every_worker(store: Store, clock: Clock) -> None:
    one, two = _worker(store, clock), _worker(store, clock)
    dora = Browser(one)
    assert dora.login("dora") == 303
    admin = Browser(two)
    assert admin.login("ada") == 303
    assert admin.post("/admin/users/active", {"name": "dora", "active": "0"}).status_code == 303
    with store.engine.connect() as conn:
        users = {r.user_name for r in conn.execute(sa.select(web_sessions))}
    assert "dora" not in users
    assert dora.get("/").status_code == 303


def test_an_import_previewed_on_one_worker_commits_on_another(store: Store, clock: Clock) -> None:
    one, two = _worker(store, clock), _worker(store, clock)
    a = Browser(one)
    assert a.login("ada") == 303
    csv = "patient_id,group,sex,age,level\nW-1,control,male,70,L1\n"
    page = a.client.post(
        "/import/preview",
        data={"csrf": a.csrf},
        files={"file": ("new.csv", csv.encode(), "text/csv")},
    )
    assert page.status_code == 200, page.text[:500]
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    b = Browser(two)
    b.client.cookies = a.client.cookies
    b.csrf = a.csrf
    done = b.post("/import/commit", {"token": token.group(1), "reason": "ward 3"})
    assert done.status_code == 200, done.text[:500]
    assert store.get("W-1").values["age"] == 70


def test_a_report_run_started_on_one_worker_is_seen_on_another(
    store: Store, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kypho.web.pages.data as data_pages

    def fake_run(job: Any, *args: object) -> None:  # the real run is the e2e test's
        (job.folder / "report").mkdir()
        (job.folder / "report" / "report.html").write_text("<p>Table 1</p>")
        job.files, job.state = ["report.html"], "done"
        job.save()

    monkeypatch.setattr(data_pages, "_run_report", fake_run)
    settings = Settings(secret="test-secret", report_folder=tmp_path / "reports")
    one = create_app(store, settings, clock=clock)
    two = create_app(store, settings, clock=clock)
    a = Browser(one)
    assert a.login("ada") == 303
    started = a.post("/report/run")
    assert started.status_code == 303
    job = started.headers["location"].split("job=")[1]
    b = Browser(two)
    b.client.cookies = a.client.cookies
    # The run is a thread of worker one; wait for it (a loaded machine may start it late).
    deadline = time.monotonic() + 60
    page = b.get(f"/report?job={job}")
    while "The report is ready" not in page.text and time.monotonic() < deadline:
        time.sleep(0.05)
        page = b.get(f"/report?job={job}")
    assert "The report is ready" in page.text
    assert b.get(f"/report/file?job={job}&name=report.html").text == "<p>Table 1</p>"
    # another user does not see it
    ana = Browser(two)
    assert ana.login("ana") == 303
    assert "The report is ready" not in ana.get(f"/report?job={job}").text
    assert ana.get(f"/report/file?job={job}&name=report.html").status_code == 400


def test_reading_a_page_never_waits_on_the_sqlite_write_queue(store: Store, clock: Clock) -> None:
    import threading

    app = _worker(store, clock)
    web = app.state.web  # type: ignore[attr-defined]
    if web.write_lock is None:
        pytest.skip("PostgreSQL: writers do not queue in the server")
    a = Browser(app)
    assert a.login("dora") == 303
    clock.now += 60  # time to write back when the session was last used
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:  # another request's long write
        with web.write_lock:
            holding.set()
            release.wait(60)

    busy = threading.Thread(target=writer)
    busy.start()
    holding.wait(10)
    answers: list[int] = []
    reader = threading.Thread(target=lambda: answers.append(a.get("/").status_code))
    reader.start()
    reader.join(30)
    still_waiting = reader.is_alive()
    release.set()
    busy.join()
    reader.join()
    assert not still_waiting
    assert answers == [200]
    with store.engine.connect() as conn:
        seen = {r.seen for r in conn.execute(sa.select(web_sessions)) if r.user_name == "dora"}
    assert seen == {clock.now - 60}  # written back on a later request, not waited for
    assert a.get("/").status_code == 200
    with store.engine.connect() as conn:
        seen = {r.seen for r in conn.execute(sa.select(web_sessions)) if r.user_name == "dora"}
    assert seen == {clock.now}
