"""``python -m kypho``: the same command line as ``kypho``."""

from kypho.cli import main

if __name__ == "__main__":
    main(prog_name="kypho")
