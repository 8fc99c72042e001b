"""kypho.stats re-exports exactly its public names, sorted (httpx's exported-members test)."""

from __future__ import annotations

import kypho.stats as stats


def test_all_is_sorted_and_matches_public_names() -> None:
    public = {
        name
        for name, value in vars(stats).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("kypho.stats")
    }
    assert stats.__all__ == sorted(stats.__all__)
    assert set(stats.__all__) == public
