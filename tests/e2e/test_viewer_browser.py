"""The radiograph viewer in a real browser: landmarks clicked on phantom films.

A uvicorn server runs on a fresh SQLite store; three phantom films of known
geometry are stored (a MONOCHROME1 DICOM with PixelSpacing, a PNG without a pixel
size, and a DICOM uploaded through the page). Selenium drives Debian's Chromium
(``/usr/bin/chromedriver``, ``SE_OFFLINE=true``): it clicks the 18 landmarks at
their true pixels, reads the numbers the server computed, drags a point, saves,
accepts, calibrates by a known length, makes the landmarks impossible, and checks
blinding. Skipped where Chromium or its driver is missing.

Set ``KYPHO_E2E_SHOTS=DIR`` to keep screenshots of the viewer.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# The ``chromium`` fixture (tests/e2e/conftest.py) starts a browser: window size, options.
OpenChromium = Callable[..., Any]

PASSWORD = "viewer password 1"
SHOTS = os.environ.get("KYPHO_E2E_SHOTS")
CANVAS = (900, 700)  # the viewer's canvas, CSS pixels


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import uvicorn
    from argon2 import PasswordHasher

    import kypho.store.auth as auth
    from kypho.analysis.demo import demo_cohort
    from kypho.radiograph import lateral_phantom, phantom_dicom, phantom_png
    from kypho.store import Store
    from kypho.store.images import ImageStore
    from kypho.web import Settings, create_app

    saved = auth._HASHER
    auth._HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    folder = tmp_path_factory.mktemp("viewer")
    store = Store.init(f"sqlite:///{folder}/study.db", admin="ada")
    store.import_frame(demo_cohort(6, seed=2), reason="viewer e2e")
    for name in ("rita", "rob"):
        store.add_user(name, "data_entry")
        auth.set_password(store, name, PASSWORD)
    phantom = lateral_phantom()
    films = ImageStore(store)
    ids = list(store.read()["patient_id"])
    dicom = films.upload(
        phantom_dicom(phantom, photometric="MONOCHROME1"),
        record=ids[0],
        timepoint="pre",
        view="lateral",
    )
    png = films.upload(phantom_png(phantom), record=ids[1], timepoint="pre", view="lateral")
    upload = folder / "upload.dcm"
    upload.write_bytes(phantom_dicom(lateral_phantom(seed=5), spacing="ImagerPixelSpacing"))
    app = create_app(store, Settings(secret="viewer", report_figures=False))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield {
        "base": f"http://127.0.0.1:{port}",
        "store": store,
        "phantom": phantom,
        "dicom": dicom,
        "png": png,
        "ids": ids,
        "upload": upload,
    }
    srv.should_exit = True
    thread.join(timeout=10)
    store.close()
    auth._HASHER = saved


class Browser:
    def __init__(self, chromium: OpenChromium, base: str) -> None:
        self.driver = chromium((1500, 1400), scale_one=True)
        self.base = base
        self.shots = 0

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def wait(self, check: Any, timeout: float = 15) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(lambda _: check())

    def wait_text(self, css: str, words: str) -> str:
        def seen() -> bool:
            try:
                return words in self.find(css).text
            except Exception:
                return False

        self.wait(seen)
        return str(self.find(css).text)

    def shot(self, name: str) -> None:
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(f"{SHOTS}/viewer-{name}.png")

    def login(self, user: str) -> None:
        self.driver.get(self.base + "/login")
        self.find("#name").send_keys(user)
        self.find("#password").send_keys(PASSWORD)
        self.find("section.login button").click()
        self.wait_text("header", user)

    def logout(self) -> None:
        self.find("form.logout button").click()
        self.wait_text("h1", "Log in")

    def open_film(self, sha: str, read: int = 1) -> None:
        self.driver.get(f"{self.base}/films/{sha}?read={read}")
        self.wait(lambda: self.find("#viewer").get_attribute("data-ready") == "yes")

    def offset(self, point: np.ndarray, rows: int, cols: int) -> tuple[int, int]:
        """The canvas offset (from its centre, as WebDriver counts) of an image pixel at 1:1."""
        pan_x = round((CANVAS[0] - cols) / 2)
        pan_y = round((CANVAS[1] - rows) / 2)
        return int(point[0] + pan_x - CANVAS[0] // 2), int(point[1] + pan_y - CANVAS[1] // 2)

    def click_at(self, point: np.ndarray, rows: int, cols: int) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        dx, dy = self.offset(point, rows, cols)
        ActionChains(self.driver).move_to_element_with_offset(
            self.find("#film"), dx, dy
        ).click().perform()

    def drag(self, point: np.ndarray, by: tuple[int, int], rows: int, cols: int) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        dx, dy = self.offset(point, rows, cols)
        chain = ActionChains(self.driver).move_to_element_with_offset(self.find("#film"), dx, dy)
        chain.click_and_hold().move_by_offset(*by).release().perform()

    def number(self, css: str) -> float:
        return float(self.find(css).text.replace("%", "").replace("°", "").strip())

    def quit(self) -> None:
        self.driver.quit()


def _place_all(
    page: Browser, landmarks: np.ndarray, rows: int, cols: int, *, wait: bool = True
) -> None:
    for vertebra in landmarks:
        for point in vertebra:
            page.click_at(point, rows, cols)
    if wait:
        page.wait(lambda: page.find("#m-wedge_angle_deg").text not in ("—", ""))


def test_landmarks_clicked_in_the_browser_give_the_known_geometry(
    chromium: OpenChromium, site: dict[str, Any]
) -> None:
    phantom, store = site["phantom"], site["store"]
    rows, cols = phantom.pixels.shape
    half_pixel = phantom.pixel_size.column_mm / 2
    sha = site["dicom"].sha256
    record_id = site["ids"][0]
    page = Browser(chromium, site["base"])
    try:
        page.login("rita")
        page.open_film(sha)
        assert (
            "Place point 1 of 18: above vertebra, superior anterior."
            in page.find("#next-point").text
        )
        assert "0.25 mm per pixel (from PixelSpacing)" in page.find("#pixel-size").text
        _place_all(page, phantom.landmarks, rows, cols)
        page.shot("placed")
        for v, vertebra in enumerate(("above", "injured", "below")):
            for h, height in enumerate(("anterior", "middle", "posterior")):
                shown = page.number(f"#h-{vertebra}-{height}")
                assert abs(shown - phantom.heights_mm[v, h]) <= half_pixel, (vertebra, height)
        assert abs(page.number("#m-wedge_angle_deg") - phantom.wedge_angle) <= 0.5
        assert page.number("#m-anterior_ratio") == pytest.approx(17 / 25.5 * 100, abs=0.02)
        assert page.find("#m-genant").text == "2"

        # drag the injured body's superior anterior corner 4 px down: 1 mm lower in front
        page.drag(phantom.landmarks[1, 0], (0, 4), rows, cols)
        page.wait(lambda: page.find("#h-injured-anterior").text == "16.00")
        page.drag(phantom.landmarks[1, 0] + np.array([0, 4]), (0, -4), rows, cols)
        page.wait(lambda: page.find("#h-injured-anterior").text == "17.00")
        timings = page.driver.execute_script("return window.kyphoTimings")
        assert len(timings) >= 3

        page.find("#save").click()
        page.wait_text("#status", "Read saved")
        page.find("#accept").click()
        page.wait_text("#status", f"Accepted into record {record_id}")
        page.shot("accepted")
        values = store.get(record_id).values
        assert abs(values["ant_height_injured_pre"] - 17.0) <= half_pixel
        assert abs(values["mid_height_below_pre"] - 26.0) <= half_pixel
        assert abs(values["wedge_angle_pre"] - phantom.wedge_angle) <= 0.5
        log = store.log(record=record_id)
        accepted = json.loads(log[log["action"] == "read_accept"].iloc[-1]["new_value"])
        assert (accepted["rater"], accepted["image"]) == ("rita", sha)
        # absolute positions carry the page's sub-pixel layout offset of the canvas
        # (< 1 px, the same for every point: heights and angles do not see it)
        assert np.allclose(accepted["points"], phantom.landmarks, atol=1.0)
        updates = log[(log["action"] == "update") & (log["field"] == "ant_height_injured_pre")]
        assert updates.iloc[-1]["user_name"] == "rita"
        assert store.verify().ok

        # blinded: another rater opens the same film and sees none of rita's points
        page.logout()
        page.login("rob")
        page.open_film(sha)
        assert "Place point 1 of 18" in page.find("#next-point").text
        assert page.find("#h-injured-anterior").text == "—"
    finally:
        page.quit()


def test_calibration_upload_and_impossible_landmarks(
    chromium: OpenChromium, site: dict[str, Any], tmp_path: Path
) -> None:
    phantom = site["phantom"]
    rows, cols = phantom.pixels.shape
    page = Browser(chromium, site["base"])
    try:
        page.login("rob")
        page.open_film(site["png"].sha256)
        assert "The file states none: calibrate" in page.find("#pixel-size").text
        _place_all(page, phantom.landmarks, rows, cols, wait=False)
        assert "states no pixel size" in page.wait_text("#message", "calibrate it first")
        # calibrate on the injured body's posterior wall: 108 px = 27 mm
        page.find("#calibrate").click()
        page.click_at(phantom.landmarks[1, 2], rows, cols)
        page.click_at(phantom.landmarks[1, 5], rows, cols)
        page.find("#calibration-mm").send_keys("27")
        page.find("#calibration-apply").click()
        page.wait(lambda: page.find("#h-injured-anterior").text not in ("—", ""))
        assert abs(page.number("#h-injured-anterior") - 17.0) <= 0.125
        assert "calibrated by a known length" in page.find("#pixel-size").text

        # the injured body's inferior anterior point dragged onto its superior one
        inferior, superior = phantom.landmarks[1, 3], phantom.landmarks[1, 0]
        page.drag(inferior, (0, int(superior[1] - inferior[1])), rows, cols)
        message = page.wait_text("#message", "cannot be measured")
        assert "injured vertebra: the anterior height is zero" in message
        assert page.find("#h-injured-anterior").text == "—"
        page.shot("impossible")

        # cement outlines on the same film: the upper body (120 x 100 px) and a
        # 100 x 80 px cement region inside it: 66.7 % -> grade I when dense
        page.find("#mode-cement").click()
        assert "Click around the vertebral body" in page.find("#outline-step").text
        for corner in ((140, 60), (260, 60), (260, 160), (140, 160)):
            page.click_at(np.array(corner, dtype=float), rows, cols)
        page.find("#outline-next").click()
        from selenium.webdriver.support.ui import Select

        Select(page.find("#pattern")).select_by_value("dense")
        for corner in ((150, 70), (250, 70), (250, 150), (150, 150)):
            page.click_at(np.array(corner, dtype=float), rows, cols)
        page.wait_text("#c-area", "66.7 %")
        assert page.find("#c-grade").text == "I"
        page.shot("cement")
        page.find("#save-outline").click()
        page.wait_text("#outline-status", "Outlines saved")
        page.find("#accept-outline").click()
        page.wait_text("#outline-status", "Accepted into record")
        values = site["store"].get(site["ids"][1]).values
        assert values["cement_area_lat"] == pytest.approx(200 / 3, abs=0.01)
        assert values["cement_pattern"] == "dense"

        # an upload through the page (DICOM with ImagerPixelSpacing)
        page.driver.get(site["base"] + "/films")
        assert "of 2 raters" in page.find("table.grid").text  # the study asks for two raters
        page.shot("films")
        page.find("#upload-record").send_keys(site["ids"][2])
        page.find("#upload-file").send_keys(str(site["upload"]))
        page.find("form.upload button").click()
        page.wait(lambda: page.find("#viewer").get_attribute("data-ready") == "yes")
        assert "from ImagerPixelSpacing" in page.find("#pixel-size").text
        page.shot("uploaded")
    finally:
        page.quit()
