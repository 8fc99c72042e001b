"""The Examples sections of kypho.io's docstrings run and print what they show."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from kypho.io import dictionary, example, tables, template


@pytest.mark.parametrize(
    "module", [dictionary, example, tables, template], ids=lambda m: m.__name__
)
def test_examples_run(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
