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
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DRIVER = "/usr/bin/chromedriver"
BROWSER = next((b for b in ("chromium", "chromium-browser") if shutil.which(b)), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None or not Path(DRIVER).exists(),
    reason="no Chromium and chromedriver installed (scripts/browser.sh installs them)",
)
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

    def __init__(self, base: str, downloads: Path, name: str) -> None:
        os.environ["SE_OFFLINE"] = "true"
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = str(shutil.which(str(BROWSER)))
        for arg in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--window-size=1300,1000",
        ):
            options.add_argument(arg)
        options.add_experimental_option(
            "prefs",
            {"download.default_directory": str(downloads), "download.prompt_for_download": False},
        )
        self.driver = webdriver.Chrome(service=Service(DRIVER), options=options)
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


def test_a_study_day_in_the_browser(server: str, tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    dora = Page(server, downloads, "dora")
    other = Page(server, downloads, "other")
    try:
        dora.login("dora")
        assert "Records" in dora.text()
        assert "40 records" in dora.text()

        # a mistake is shown at the field, by the server's validation
        dora.go("/record/form?id=P-1&inst=vas")
        dora.type("#f-vas_pre", "11")
        message = dora.wait_text("#msg-vas_pre", "must be a number from 0 to 10")
        assert message == "'vas_pre' must be a number from 0 to 10 (got '11')"
        dora.shot()
        dora.type("#f-vas_pre", "7")
        dora.find("#f-vas_2h").click()
        dora.wait_text("#field-vas_pre", "")
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(dora.driver, 10).until(lambda _: dora.find("#msg-vas_pre").text == "")
        dora.find("#save").click()
        assert "Saved" in dora.wait_text("#saved", "Saved")
        assert dora.find("#f-vas_pre").get_attribute("value") == "7"

        # two people edit the same record: the second sees both values and chooses
        other.login("ada")
        dora.go("/record/form?id=P-2&inst=vas")
        other.go("/record/form?id=P-2&inst=vas")
        dora.type("#f-vas_pre", "6")
        dora.find("#save").click()
        dora.wait_text("#saved", "Saved")
        other.type("#f-vas_pre", "8")
        other.find("#save").click()
        conflict = other.wait_text("#conflict", "saved by someone else")
        assert "choose which value to keep" in conflict
        table = other.text()
        assert "8" in table
        assert "6" in table
        other.shot()
        other.find("#resolve").click()
        other.wait_text("#saved", "Saved")
        assert other.find("#f-vas_pre").get_attribute("value") == "8"

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

        # the monitor raises a query, data entry answers, the monitor closes it
        other.logout()
        other.login("mona")
        other.go("/record/form?id=P-1&inst=vas")
        other.type("#q-text", "Is the preoperative VAS really 7?")
        other.find("#raise-query button").click()
        other.wait_text(".queries", "Is the preoperative VAS really 7?")
        dora.go("/record/form?id=P-1&inst=vas")
        dora.find(".query input[name=text]").send_keys("Yes, as in the chart")
        dora.find(".query form button").click()
        dora.wait_text(".queries", "Yes, as in the chart")
        other.go("/record/form?id=P-1&inst=vas")
        other.find(".query form button[id^=close-]").click()
        other.wait_text(".queries", "Closed by mona")
        other.go("/")
        assert "0 open queries" in other.text()

        # the monitor locks the record
        other.go("/record?id=P-1")
        other.find("#lock-button").click()
        other.wait_text(".meta", "Locked")
        other.go("/record/form?id=P-1&inst=vas")
        assert "This record is locked" in other.text()

        # the audit log of the record
        other.go("/log?record=P-1")
        log = other.text()
        for action in ("update", "query_raise", "query_respond", "query_close", "lock"):
            assert action in log
        assert "Is the preoperative VAS really 7?" in log

        # the admin runs the report and downloads it
        other.logout()
        other.login("ada")
        other.go("/report")
        other.find("#run-report").click()
        other.wait_text("#job", "The report is ready", timeout=45)
        other.shot()
        html_link = other.find("#report-html").get_attribute("href")
        other.find("#report-docx").click()
        deadline = time.time() + 15
        files: list[Path] = []
        while time.time() < deadline:
            files = [p for p in downloads.iterdir() if p.suffix == ".docx"]
            if files:
                break
            time.sleep(0.2)
        assert files, list(downloads.iterdir())
        with zipfile.ZipFile(files[0]) as docx:
            assert "word/document.xml" in docx.namelist()
        other.driver.get(html_link)
        assert "Table 1" in other.text()
        other.shot()
    finally:
        dora.quit()
        other.quit()
