"""What the browser tests share: Debian's Chromium, driven by selenium through its own driver.

Selenium is pointed at ``/usr/bin/chromedriver`` with ``SE_OFFLINE=true``, so it
never tries to download a driver. The ``chromium`` fixture skips its test where
Chromium or the driver is missing (``scripts/browser.sh`` installs both).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DRIVER = "/usr/bin/chromedriver"
BROWSER = next((b for b in ("chromium", "chromium-browser") if shutil.which(b)), None)

OpenChromium = Callable[..., Any]


@pytest.fixture(scope="session")
def chromium() -> OpenChromium:
    """A function that starts one headless Chromium and returns its selenium driver.

    It takes the window size in CSS pixels, and optionally a downloads folder
    and ``scale_one=True`` for one device pixel per CSS pixel (pixel-exact clicks).
    """
    if BROWSER is None or not Path(DRIVER).exists():
        pytest.skip("no Chromium and chromedriver installed (scripts/browser.sh installs them)")
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = str(shutil.which(str(BROWSER)))

    def open_chromium(
        window: tuple[int, int], *, downloads: Path | None = None, scale_one: bool = False
    ) -> Any:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for arg in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--window-size={window[0]},{window[1]}",
            *(["--force-device-scale-factor=1"] if scale_one else []),
        ):
            options.add_argument(arg)
        if downloads is not None:
            options.add_experimental_option(
                "prefs",
                {
                    "download.default_directory": str(downloads),
                    "download.prompt_for_download": False,
                },
            )
        return webdriver.Chrome(service=Service(DRIVER), options=options)

    return open_chromium
