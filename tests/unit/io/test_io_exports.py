"""kypho.io's public surface: __all__ is sorted and names exactly the public members."""

from __future__ import annotations

import kypho.io


def test_all_is_sorted_and_complete() -> None:
    # The names are imported on first use: dir() lists them before that.
    public = {name for name in dir(kypho.io) if not name.startswith("_")}
    public -= {"annotations", "dictionary", "example", "redcap", "tables", "template"}
    public -= {"Any", "TYPE_CHECKING", "importlib"}  # what the lazy imports use
    for name in kypho.io.__all__:
        assert callable(getattr(kypho.io, name)), name
    assert kypho.io.__all__ == sorted(kypho.io.__all__)
    assert set(kypho.io.__all__) == public
