"""Regenerate src/kypho/data/cohort.csv, the bundled SYNTHETIC cohort.

Usage: .venv/bin/python scripts/make_cohort.py   (same as ``python -m kypho.synth``)
"""

from __future__ import annotations

from pathlib import Path

from kypho.synth.__main__ import main

if __name__ == "__main__":
    main(
        [
            "--out",
            str(Path(__file__).resolve().parents[1] / "src" / "kypho" / "data" / "cohort.csv"),
        ]
    )
