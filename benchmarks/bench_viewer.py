"""The viewer's recompute round trip: a landmark moved in the browser → the numbers shown.

Run by hand (``.venv/bin/python benchmarks/bench_viewer.py``; needs Chromium and
``/usr/bin/chromedriver``). A uvicorn server serves a fresh SQLite store holding a
phantom film; headless Chromium (selenium) logs in, places the 18 landmarks, then
drags one point ``--moves`` times. Each drag sends the points to the server,
which measures them with :mod:`kypho.radiograph`, and the page shows the
numbers; the page records each round trip (``performance.now()`` from sending
to the answer applied) and this script prints their median and 95th
percentile, in several runs.

Baselines in the same session, to show where the time goes:

* in-process micro-benchmark (labelled as such): ``ImageStore.measure`` called
  directly, i.e. the computation and the store's metadata read without HTTP;
* in-process micro-benchmark: ``measure_lateral`` alone (the numbers only).

Options: ``--moves`` per run (40), ``--runs`` (3).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

DRIVER = "/usr/bin/chromedriver"
CANVAS = (900, 700)


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    browser = next((b for b in ("chromium", "chromium-browser") if shutil.which(b)), None)
    if browser is None or not Path(DRIVER).exists():
        print("bench_viewer: needs chromium and /usr/bin/chromedriver (scripts/browser.sh)")
        return 1

    import uvicorn
    from argon2 import PasswordHasher

    import kypho.store.auth as auth
    from kypho.analysis.demo import demo_cohort
    from kypho.radiograph import lateral_phantom, measure_lateral, phantom_dicom
    from kypho.store import Store
    from kypho.store.images import ImageStore
    from kypho.web import Settings, create_app

    auth._HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    tmp = Path(tempfile.mkdtemp(prefix="kypho-bench-viewer-"))
    store = Store.init(f"sqlite:///{tmp}/study.db", admin="ada")
    store.import_frame(demo_cohort(4, seed=1), reason="bench")
    auth.set_password(store, "ada", "bench password 1")
    phantom = lateral_phantom()
    films = ImageStore(store)
    record = str(store.read()["patient_id"].iloc[0])
    image = films.upload(phantom_dicom(phantom), record=record, timepoint="pre", view="lateral")

    # in-process baselines (micro-benchmarks)
    direct, compute = [], []
    for _ in range(200):
        t0 = time.perf_counter()
        films.measure(image.sha256, phantom.landmarks, pixel_size=phantom.pixel_size)
        direct.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        measure_lateral(phantom.landmarks, phantom.pixel_size)
        compute.append(time.perf_counter() - t0)

    app = create_app(store, Settings(secret="bench", report_figures=False))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"

    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = str(shutil.which(browser))
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1500,1400"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    rows, cols = phantom.pixels.shape
    pan = (round((CANVAS[0] - cols) / 2), round((CANVAS[1] - rows) / 2))

    def offset(p: np.ndarray) -> tuple[int, int]:
        return int(p[0] + pan[0] - CANVAS[0] // 2), int(p[1] + pan[1] - CANVAS[1] // 2)

    runs: list[list[float]] = []
    try:
        driver.get(base + "/login")
        driver.find_element(By.ID, "name").send_keys("ada")
        driver.find_element(By.ID, "password").send_keys("bench password 1")
        driver.find_element(By.CSS_SELECTOR, "section.login button").click()
        WebDriverWait(driver, 20).until(
            lambda d: "ada" in d.find_element(By.TAG_NAME, "header").text
        )
        driver.get(f"{base}/films/{image.sha256}")
        WebDriverWait(driver, 20).until(
            lambda d: d.find_element(By.ID, "viewer").get_attribute("data-ready") == "yes"
        )
        canvas = driver.find_element(By.ID, "film")
        for vertebra in phantom.landmarks:
            for point in vertebra:
                ActionChains(driver).move_to_element_with_offset(
                    canvas, *offset(point)
                ).click().perform()
        target = phantom.landmarks[1, 0]
        for _ in range(args.runs):
            driver.execute_script("window.kyphoTimings = []")
            y = 0
            for i in range(args.moves):
                step = 2 if i % 2 == 0 else -2
                dx, dy = offset(target + np.array([0, y]))
                ActionChains(driver).move_to_element_with_offset(
                    canvas, dx, dy
                ).click_and_hold().move_by_offset(0, step).release().perform()
                y += step
                # wait for this move's answer before the next move (no overlap)
                WebDriverWait(driver, 10, poll_frequency=0.005).until(
                    lambda d, n=i: len(d.execute_script("return window.kyphoTimings")) > n
                )
            timings = driver.execute_script("return window.kyphoTimings")
            runs.append([float(t) for t in timings])
    finally:
        driver.quit()
        server.should_exit = True
        thread.join(timeout=10)
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        "kypho viewer: recompute round trip after moving a point (browser → server → numbers shown)"
    )
    medians = []
    for i, timings in enumerate(runs, 1):
        med = statistics.median(timings)
        p95 = float(np.percentile(timings, 95))
        medians.append(med)
        print(
            f"  run {i}: {len(timings)} round trips, median {med:.1f} ms, 95th percentile {p95:.1f} ms"
        )
    overall = statistics.median(medians)
    inproc = _median_ms(direct)
    pure = _median_ms(compute)
    print(f"  median of run medians: {overall:.1f} ms (target < 50 ms)")
    print(f"  in-process micro-benchmark, ImageStore.measure (no HTTP): {inproc:.2f} ms")
    print(f"  in-process micro-benchmark, measure_lateral alone: {pure:.2f} ms")
    print(f"  ratio round trip / in-process measure: {overall / inproc:.1f}x")
    return 0 if overall < 50 else 2


if __name__ == "__main__":
    sys.exit(main())
