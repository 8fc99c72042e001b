"""Regenerate the bundled synthetic cohort: ``python -m kypho.synth [--out FILE]``.

Writes ``kypho/data/cohort.csv`` (or ``--out``) with the bundled seed: the paper's
110 included patients plus 14 screened-but-ineligible ones, all synthetic.
"""

from __future__ import annotations

import sys
from importlib import resources

from kypho.cli.synth import synth
from kypho.synth.cohort import bundled_seed


def main(argv: list[str] | None = None) -> None:
    """Run ``kypho synth`` with the bundled seed and the package's cohort path."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--out" not in args:
        args += ["--out", str(resources.files("kypho").joinpath("data", "cohort.csv"))]
    synth.main(args=["--seed", str(bundled_seed()), "--quiet", *args], prog_name="kypho.synth")


if __name__ == "__main__":
    main()
