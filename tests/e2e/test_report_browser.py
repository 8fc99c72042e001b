"""The HTML report in a real browser: headless Chromium renders it offline.

Skipped where no Chromium is installed (``chromium``, ``chromium-browser`` or
``google-chrome`` on PATH).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kypho.analysis.demo import demo_cohort
from kypho.cli import main

BROWSER = next(
    (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
)


@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium installed")
def test_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    data = tmp_path / "cohort.csv"
    demo_cohort(60, seed=8).to_csv(data, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["analyze", str(data), "--out", str(out), "--format", "html"])
    assert result.exit_code == 0, result.output
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            str(BROWSER),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-network-access",
            # without these, Chromium keeps trying to reach its update and sync
            # services, which this closed network refuses
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1200,3000",
            (out / "report.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    from matplotlib.image import imread

    pixels = imread(str(shot))
    # A rendered page has text and figure colours: far from one uniform colour.
    assert pixels.shape[0] >= 1000
    assert float(pixels[..., :3].std()) > 0.05

    # The DOM as Chromium parsed it: all seven tables survive parsing (no stray
    # markup swallowing one), and every image is inline, so the page is offline.
    dom = subprocess.run(
        [
            str(BROWSER),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile2'}",
            "--dump-dom",
            (out / "report.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    import re

    captions = re.findall(r"<caption[^>]*>\s*(?:<[^>]+>)*\s*Table (\d)", dom)
    assert sorted(set(captions)) == ["1", "2", "3", "4", "5", "6", "7"], captions
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', dom)
    assert all(src.startswith("data:") for src in sources), sources[:3]
    # no resource fetched from elsewhere (XML namespace URIs are names, not fetches)
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', dom)
