"""``python -m kypho``: the same command line as ``kypho``."""

from kypho.cli import run

if __name__ == "__main__":
    run()
