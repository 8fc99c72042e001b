"""Every Examples section in kypho's docstrings runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import kypho

# Alembic's env.py runs a migration when imported: it is not a library module.
SKIP = {"kypho.store.migrations.env"}
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(kypho.__path__, prefix="kypho.")
    if info.name not in SKIP and not info.name.startswith("kypho.store.migrations.versions")
)


def test_modules_were_found() -> None:
    assert {"kypho.validate", "kypho.stats.ttest", "kypho.io.tables"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"
