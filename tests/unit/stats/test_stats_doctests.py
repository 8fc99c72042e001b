"""The main entry points of kypho.stats have Examples (tests/unit/core runs them all)."""

from __future__ import annotations

import doctest
import importlib

MODULES = [
    "kypho.stats.contingency",
    "kypho.stats.describe",
    "kypho.stats.effect",
    "kypho.stats.multiplicity",
    "kypho.stats.paired",
    "kypho.stats.rank",
    "kypho.stats.ttest",
    "kypho.stats.variance",
]


def test_examples_exist_for_the_main_entry_points() -> None:
    finder = doctest.DocTestFinder()
    with_examples = {
        t.name.rsplit(".", 1)[-1]
        for name in MODULES
        for t in finder.find(importlib.import_module(name))
        if t.examples
    }
    assert {
        "describe",
        "adjust_pvalues",
        "independent_t",
        "paired_t",
        "mann_whitney",
        "chi_square",
    } <= with_examples
