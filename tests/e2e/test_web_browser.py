"""The study web application in a real browser: Debian's Chromium driven by selenium.

A server (uvicorn, loopback) runs on a fresh SQLite store holding the bundled
synthetic cohort; two independent browser sessions log in as different users.
Selenium is pointed at Debian's driver binary (``/usr/bin/chromedriver``) with
``SE_OFFLINE=true``, so it never tries to download one. Skipped where Chromium
or its driver is not installed (``scripts/browser.sh`` installs them).

Set ``KYPHO_E2E_SHOTS=DIR`` to keep a screenshot of every page visited.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The ``chromium`` fixture (tests/e2e/conftest.py) starts a browser: window size, options.
OpenChromium = Callable[..., Any]

PASSWORD = "e2e password 1"
SHOTS = os.environ.get("KYPHO_E2E_SHOTS")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn
    from argon2 import PasswordHasher

    import kypho.store.auth as auth
    from kypho.analysis.demo import demo_cohort
    from kypho.store import Store
    from kypho.web import Settings, create_app

    cheap = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    saved = auth._HASHER
    auth._HASHER = cheap
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e')}/study.db"
    store = Store.init(url, admin="ada")
    store.import_frame(demo_cohort(40, seed=3), reason="e2e")
    for name, role in {"dora": "data_entry", "mona": "monitor"}.items():
        store.add_user(name, role)
    for name in ("ada", "dora", "mona"):
        auth.set_password(store, name, PASSWORD)
    app = create_app(store, Settings(secret="e2e", report_figures=False))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    store.close()
    auth._HASHER = saved


class Page:
    """One browser session, with helpers that read what a person sees."""

    def __init__(self, chromium: OpenChromium, base: str, downloads: Path, name: str) -> None:
        self.driver = chromium((1300, 1000), downloads=downloads)
        self.base = base
        self.name = name
        self.shots = 0

    def go(self, path: str) -> None:
        self.driver.get(self.base + path)
        self.shot()

    def shot(self) -> None:
        if SHOTS:
            self.shots += 1
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(f"{SHOTS}/{self.name}-{self.shots:02d}.png")

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def text(self) -> str:
        return str(self.find("body").text)

    def wait_text(self, css: str, words: str, timeout: float = 15) -> str:
        from selenium.webdriver.support.ui import WebDriverWait

        def seen(_: object) -> bool:
            try:
                return words in self.find(css).text
            except Exception:
                return False

        WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(seen)
        return str(self.find(css).text)

    def type(self, css: str, text: str) -> None:
        box = self.find(css)
        box.clear()
        box.send_keys(text)

    def login(self, user: str) -> None:
        self.go("/login")
        self.type("#name", user)
        self.type("#password", PASSWORD)
        self.find("section.login button").click()
        self.wait_text("header", user)
        self.shot()

    def logout(self) -> None:
        self.find("form.logout button").click()
        self.wait_text("h1", "Log in")

    def quit(self) -> None:
        self.driver.quit()


def _open(chromium: OpenChromium, server: str, downloads: Path, names: list[str]) -> list[Page]:
    """One browser per name, started side by side (each Chromium takes a while to start)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(names)) as pool:
        return list(pool.map(lambda n: Page(chromium, server, downloads, n), names))


def test_a_study_day_in_the_browser(chromium: OpenChromium, server: str, tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    steps: dict[str, float] = {}
    clock = [time.perf_counter()]

    def step(name: str) -> None:
        now = time.perf_counter()
        steps[name] = now - clock[0]
        clock[0] = now

    # three people, each in their own browser: data entry, admin, monitor
    dora, ada, mona = pages = _open(chromium, server, downloads, ["dora", "ada", "mona"])
    step("browsers")
    try:
        # the admin starts the report first: it runs (in its own process) while the
        # others work, and is opened and downloaded at the end
        ada.login("ada")
        ada.go("/report")
        ada.find("#run-report").click()
        ada.wait_text("#job", "The report is")
        report_url = ada.driver.current_url
        step("report started")

        dora.login("dora")
        assert "Records" in dora.text()
        assert "40 records" in dora.text()
        step("login")

        # a mistake is shown at the field, by the server's validation
        dora.go("/record/form?id=P-1&inst=vas")
        dora.type("#f-vas_pre", "11")
        message = dora.wait_text("#msg-vas_pre", "must be a number from 0 to 10")
        assert message == "'vas_pre' must be a number from 0 to 10 (got '11')"
        dora.shot()
        dora.type("#f-vas_pre", "7")
        dora.find("#f-vas_2h").click()  # leaving the field checks it again
        WebDriverWait(dora.driver, 15, poll_frequency=0.1).until(
            lambda _: dora.find("#msg-vas_pre").text == ""
        )
        dora.find("#save").click()
        assert "Saved" in dora.wait_text("#saved", "Saved")
        assert dora.find("#f-vas_pre").get_attribute("value") == "7"
        step("mistake at the field, corrected, saved")

        # two people edit the same record: the second sees both values and chooses
        dora.go("/record/form?id=P-2&inst=vas")
        ada.go("/record/form?id=P-2&inst=vas")
        dora.type("#f-vas_pre", "6")
        dora.find("#save").click()
        dora.wait_text("#saved", "Saved")
        ada.type("#f-vas_pre", "8")
        ada.find("#save").click()
        conflict = ada.wait_text("#conflict", "saved by someone else")
        assert "choose which value to keep" in conflict
        table = ada.text()
        assert "8" in table
        assert "6" in table
        ada.shot()
        ada.find("#resolve").click()
        ada.wait_text("#saved", "Saved")
        assert ada.find("#f-vas_pre").get_attribute("value") == "8"
        step("conflict")

        # leaving a form with unsaved changes warns
        dora.go("/record/form?id=P-3&inst=vas")
        dora.type("#f-vas_2h", "3")
        # (the page's beforeunload handler cancels leaving; ChromeDriver answers the
        # resulting dialog itself, so the handler's verdict is read directly)
        leave = (
            "const e = new Event('beforeunload', {cancelable: true});"
            "window.dispatchEvent(e); return e.defaultPrevented;"
        )
        assert dora.driver.execute_script(leave) is True
        dora.go("/record/form?id=P-3&inst=vas")  # ChromeDriver accepts the warning
        assert dora.driver.execute_script(leave) is False  # nothing typed yet
        step("unsaved changes")

        # the monitor raises a query, data entry answers, the monitor closes it
        mona.login("mona")
        mona.go("/record/form?id=P-1&inst=vas")
        mona.type("#q-text", "Is the preoperative VAS really 7?")
        mona.find("#raise-query button").click()
        mona.wait_text(".queries", "Is the preoperative VAS really 7?")
        dora.go("/record/form?id=P-1&inst=vas")
        dora.find(".query input[name=text]").send_keys("Yes, as in the chart")
        dora.find(".query form button").click()
        dora.wait_text(".queries", "Yes, as in the chart")
        mona.go("/record/form?id=P-1&inst=vas")
        mona.find(".query form button[id^=close-]").click()
        mona.wait_text(".queries", "Closed by mona")
        mona.go("/")
        assert "0 open queries" in mona.text()
        step("query raised, answered, closed")

        # the monitor locks the record
        mona.go("/record?id=P-1")
        mona.find("#lock-button").click()
        mona.wait_text(".meta", "Locked")
        mona.go("/record/form?id=P-1&inst=vas")
        assert "This record is locked" in mona.text()
        step("lock")

        # the audit log of the record
        mona.go("/log?record=P-1")
        log = mona.text()
        for action in ("update", "query_raise", "query_respond", "query_close", "lock"):
            assert action in log
        assert "Is the preoperative VAS really 7?" in log
        step("log")

        # the admin opens the report started at the beginning and downloads it
        ada.driver.get(report_url)
        ada.wait_text("#job", "The report is ready", timeout=90)
        ada.shot()
        html_link = ada.find("#report-html").get_attribute("href")
        ada.find("#report-docx").click()
        deadline = time.time() + 15
        files: list[Path] = []
        while time.time() < deadline:
            files = [p for p in downloads.iterdir() if p.suffix == ".docx"]
            if files:
                break
            time.sleep(0.1)
        assert files, list(downloads.iterdir())
        with zipfile.ZipFile(files[0]) as docx:
            assert "word/document.xml" in docx.namelist()
        ada.driver.get(html_link)
        assert "Table 1" in ada.text()
        ada.shot()
        step("report opened and downloaded")

        dora.logout()
        assert dora.driver.current_url.startswith(dora.base + "/login")
        step("logout")
    finally:
        for page in pages:
            page.quit()
        print("steps (s):", ", ".join(f"{k} {v:.1f}" for k, v in steps.items()))
