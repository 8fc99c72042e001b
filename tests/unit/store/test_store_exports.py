"""``kypho.store.__all__`` lists exactly its public names."""

from __future__ import annotations

import pkgutil

import kypho.store


def test_all_matches_public_names() -> None:
    # submodules appear as attributes once imported (by this or another test)
    submodules = {m.name for m in pkgutil.iter_modules(kypho.store.__path__)}
    public = {
        name
        for name in dir(kypho.store)
        if not name.startswith("_") and name not in {"annotations", *submodules}
    }
    assert public == set(kypho.store.__all__)
    # the order is ruff's RUF022 (constants, classes, functions), which the linter enforces
    assert len(set(kypho.store.__all__)) == len(kypho.store.__all__)
