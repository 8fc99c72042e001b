"""kypho.io's public surface: __all__ is sorted and names exactly the public members."""

from __future__ import annotations

import kypho.io


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in vars(kypho.io) if not name.startswith("_")}
    public -= {"annotations", "dictionary", "example", "redcap", "tables", "template"}
    assert kypho.io.__all__ == sorted(kypho.io.__all__)
    assert set(kypho.io.__all__) == public
