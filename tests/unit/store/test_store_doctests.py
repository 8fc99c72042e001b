"""The Examples sections of kypho.store's docstrings run and print what they show."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from kypho.store import audit, engine, safe_harbor, store


@pytest.mark.parametrize("module", [audit, engine, safe_harbor, store], ids=lambda m: m.__name__)
def test_examples_run(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
