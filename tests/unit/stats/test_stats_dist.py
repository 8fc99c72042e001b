"""``kypho.stats._dist``: the tail areas and quantiles the tests use, bit for bit
those of ``scipy.stats`` (which computes each by the same ``scipy.special`` call),
for ordinary arguments and at every edge that it hands back to ``scipy.stats``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from kypho.stats import _dist


def _same(ours: Any, theirs: Any) -> None:
    assert type(ours) is type(theirs)
    a, b = np.asarray(ours), np.asarray(theirs)
    assert a.shape == b.shape
    assert a.dtype == b.dtype
    # Same bits: -0.0 and 0.0 differ here, NaN equals NaN.
    assert a.tobytes() == b.tobytes()


rng = np.random.default_rng(17)
X = np.concatenate([rng.normal(0, 3, 300), rng.standard_cauchy(50), [0.0, -0.0, 40.0, -40.0]])
Q = np.concatenate([rng.uniform(0, 1, 300), 10.0 ** -rng.uniform(0, 300, 50), [0.5] * 4])
DF = np.concatenate([rng.uniform(0.5, 300, 300), rng.integers(1, 1000, 50), [1, 2, 1e6, 108]])


@pytest.mark.parametrize("method", ["sf", "cdf"])
def test_tail_areas_are_scipys(method: str) -> None:
    _same(getattr(_dist.t, method)(X, DF), getattr(stats.t, method)(X, DF))
    _same(getattr(_dist.norm, method)(X), getattr(stats.norm, method)(X))
    positive = np.abs(X) + 1e-9
    _same(
        getattr(_dist.f, method)(positive, DF, DF[::-1]),
        getattr(stats.f, method)(positive, DF, DF[::-1]),
    )


@pytest.mark.parametrize("method", ["isf", "ppf"])
def test_quantiles_are_scipys(method: str) -> None:
    _same(getattr(_dist.t, method)(Q, DF), getattr(stats.t, method)(Q, DF))
    _same(getattr(_dist.norm, method)(Q), getattr(stats.norm, method)(Q))
    _same(_dist.f.ppf(Q, DF, DF[::-1]), stats.f.ppf(Q, DF, DF[::-1]))


@pytest.mark.parametrize(
    ("name", "method", "args"),
    [
        ("t", "sf", (2.0, 10)),
        ("t", "sf", (2, 7)),
        ("t", "sf", (np.inf, 5)),
        ("t", "sf", (np.nan, 4)),
        ("t", "sf", (1.0, 0)),
        ("t", "cdf", (1.0, np.inf)),
        ("t", "isf", (0.025, 108)),
        ("t", "isf", (0.0, 3)),
        ("t", "isf", (1.0, 3)),
        ("t", "isf", (0.5, 3)),
        ("t", "ppf", (1.5, 2)),
        ("t", "sf", (np.float32(1.5), 3)),
        ("norm", "sf", (8.5,)),
        ("norm", "isf", (0.0,)),
        ("norm", "ppf", (np.nan,)),
        ("f", "sf", (0.0, 3, 4)),
        ("f", "sf", (-1.0, 3, 4)),
        ("f", "cdf", (np.inf, 3, 4)),
        ("f", "ppf", (1.0, 3, 4)),
        ("t", "pdf", (1.0, 3)),
    ],
)
def test_scalars_and_edges_are_scipys(name: str, method: str, args: tuple[Any, ...]) -> None:
    ours = getattr(getattr(_dist, name), method)(*args)
    theirs = getattr(getattr(stats, name), method)(*args)
    _same(ours, theirs)


def test_other_names_are_scipy_stats_own() -> None:
    assert _dist.fisher_exact is stats.fisher_exact
    assert _dist.random_table is stats.random_table
