"""``kypho.stats._dist`` against ``scipy.stats`` itself: the same numbers, bit for bit.

The module exists so that the tests (and ``kypho audit``) need not import scipy.stats
(about a second of CPU). It is right only if every method it offers returns exactly what
scipy.stats returns — the same type, shape, dtype and bits — for ordinary arguments
(which it computes by the same ``scipy.special`` call) and at every edge that it hands
back to scipy.stats: invalid df, values outside the support, probabilities 0 and 1, NaN,
−0.0, scalars against arrays, broadcast and strided arrays, float32 and integer input.
"""

from __future__ import annotations

import subprocess
import sys
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


def _methods(dist: str, method: str) -> tuple[Any, Any]:
    return getattr(getattr(_dist, dist), method), getattr(getattr(stats, dist), method)


# Edges: every value against every df, as one broadcast call per method.
X = np.array(
    [-np.inf, -40.0, -2.5, -1.0, -1e-300, -0.0, 0.0, 1e-300, 0.3, 1.0, 1.96, 2.5, 40.0, np.inf, np.nan]
)  # fmt: skip
Q = np.array([-0.1, 0.0, 1e-300, 1e-12, 0.025, 0.05, 0.5, 0.8, 0.975, 1 - 1e-12, 1.0, 1.1, np.nan])
DF = np.array([-1.0, 0.0, 0.3, 1.0, 2.0, 2.7, 9.0, 30.0, 108.0, 1e6, np.inf, np.nan])
NC = np.array([-np.inf, -3.0, -0.0, 0.0, 1.5, 10.0, 40.0, np.inf, np.nan])  # noncentrality

EDGES = [
    ("t", "sf", X, (DF,)),
    ("t", "cdf", X, (DF,)),
    ("t", "pdf", X, (DF,)),
    ("t", "isf", Q, (DF,)),
    ("norm", "sf", X, ()),
    ("norm", "cdf", X, ()),
    ("norm", "isf", Q, ()),
    ("f", "sf", X, (DF, DF)),
    ("f", "cdf", X, (DF, DF)),
    ("f", "ppf", Q, (DF, DF)),
    ("chi2", "sf", X, (DF,)),
    ("nct", "sf", X, (DF, NC)),
    ("nct", "cdf", X, (DF, NC)),
]


@pytest.mark.parametrize(("dist", "method", "values", "shapes"), EDGES)
def test_edge_arrays_broadcast_like_scipy(dist: str, method: str, values: Any, shapes: Any) -> None:
    ours, theirs = _methods(dist, method)
    if not shapes:
        _same(ours(values), theirs(values))
        return
    grid = np.meshgrid(values, *shapes, indexing="ij")
    _same(ours(*grid), theirs(*grid))
    if len(shapes) == 1:
        lone = (values[:, None], shapes[0][None, :])
        _same(ours(*lone), theirs(*lone))


@pytest.mark.parametrize(("dist", "method", "values", "shapes"), EDGES)
def test_edge_scalars_give_numpy_scalars_like_scipy(
    dist: str, method: str, values: Any, shapes: Any
) -> None:
    ours, theirs = _methods(dist, method)
    for v in values:
        args = [float(s[4]) for s in shapes]  # a valid df (2.0), as Python floats
        _same(ours(float(v), *args), theirs(float(v), *args))
    if shapes:
        _same(ours(1.5, *[np.nan for _ in shapes]), theirs(1.5, *[np.nan for _ in shapes]))
        _same(ours(1, *[3 for _ in shapes]), theirs(1, *[3 for _ in shapes]))


@pytest.mark.parametrize(
    ("dist", "method", "args"),
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
        ("norm", "ppf", (np.nan,)),
        ("f", "sf", (0.0, 3, 4)),
        ("f", "sf", (-1.0, 3, 4)),
        ("f", "cdf", (np.inf, 3, 4)),
        ("f", "ppf", (1.0, 3, 4)),
        ("t", "pdf", (1.0, 3)),
    ],
)
def test_mixed_scalar_types_and_edges_like_scipy(
    dist: str, method: str, args: tuple[Any, ...]
) -> None:
    """Integer df with float x, float32 x, and edges at other df than the grid's."""
    ours, theirs = _methods(dist, method)
    _same(ours(*args), theirs(*args))


# Random ordinary arguments (seeded): many values in the scipy.special path, Cauchy tails
# and probabilities down to 1e-300 among them.
rng = np.random.default_rng(17)
X_RANDOM = np.concatenate(
    [rng.normal(0, 3, 300), rng.standard_cauchy(50), [0.0, -0.0, 40.0, -40.0]]
)
Q_RANDOM = np.concatenate([rng.uniform(0, 1, 300), 10.0 ** -rng.uniform(0, 300, 50), [0.5] * 4])
DF_RANDOM = np.concatenate(
    [rng.uniform(0.5, 300, 300), rng.integers(1, 1000, 50), [1, 2, 1e6, 108]]
)


@pytest.mark.parametrize("method", ["sf", "cdf"])
def test_random_tail_areas_are_scipys(method: str) -> None:
    _same(
        getattr(_dist.t, method)(X_RANDOM, DF_RANDOM), getattr(stats.t, method)(X_RANDOM, DF_RANDOM)
    )
    _same(getattr(_dist.norm, method)(X_RANDOM), getattr(stats.norm, method)(X_RANDOM))
    positive = np.abs(X_RANDOM) + 1e-9
    _same(
        getattr(_dist.f, method)(positive, DF_RANDOM, DF_RANDOM[::-1]),
        getattr(stats.f, method)(positive, DF_RANDOM, DF_RANDOM[::-1]),
    )


@pytest.mark.parametrize("method", ["isf", "ppf"])
def test_random_quantiles_are_scipys(method: str) -> None:
    _same(
        getattr(_dist.t, method)(Q_RANDOM, DF_RANDOM), getattr(stats.t, method)(Q_RANDOM, DF_RANDOM)
    )
    _same(getattr(_dist.norm, method)(Q_RANDOM), getattr(stats.norm, method)(Q_RANDOM))
    _same(
        _dist.f.ppf(Q_RANDOM, DF_RANDOM, DF_RANDOM[::-1]),
        stats.f.ppf(Q_RANDOM, DF_RANDOM, DF_RANDOM[::-1]),
    )


# Only ordinary arguments, so that every call takes the scipy.special path (a single
# unusual value sends the whole call to scipy.stats, which the edge cases mostly test).
X_ORD = np.array([-40.0, -2.5, -1.0, 0.0, 1e-300, 0.3, 1.0, 1.96, 2.5, 40.0])
X_POS = X_ORD[X_ORD > 0]
Q_ORD = np.array([1e-300, 1e-12, 0.025, 0.05, 0.5, 0.8, 0.975, 1 - 1e-12])
DF_ORD = np.array([0.3, 1.0, 2.0, 2.7, 9.0, 30.0, 108.0, 1e6])

ORDINARY = [
    ("t", "sf", X_ORD, (DF_ORD,)),
    ("t", "cdf", X_ORD, (DF_ORD,)),
    ("t", "pdf", X_ORD, (DF_ORD,)),
    ("t", "isf", Q_ORD, (DF_ORD,)),
    ("t", "ppf", Q_ORD, (DF_ORD,)),
    ("norm", "sf", X_ORD, ()),
    ("norm", "cdf", X_ORD, ()),
    ("norm", "isf", Q_ORD, ()),
    ("f", "sf", X_POS, (DF_ORD, DF_ORD)),
    ("f", "cdf", X_POS, (DF_ORD, DF_ORD)),
    ("f", "ppf", Q_ORD, (DF_ORD, DF_ORD)),
    ("chi2", "sf", np.abs(X_ORD), (DF_ORD,)),
]


@pytest.mark.parametrize(("dist", "method", "values", "shapes"), ORDINARY)
def test_fast_path_arrays_equal_scipy(dist: str, method: str, values: Any, shapes: Any) -> None:
    ours, theirs = _methods(dist, method)
    if not shapes:
        _same(ours(values), theirs(values))
        _same(ours(values[::-1][::2]), theirs(values[::-1][::2]))  # not contiguous
        return
    grid = np.meshgrid(values, *shapes, indexing="ij")
    _same(ours(*grid), theirs(*grid))
    if len(shapes) == 1:
        lone = (values[:, None], shapes[0][None, :])  # broadcast, not contiguous
        _same(ours(*lone), theirs(*lone))
        _same(ours(values, 7.5), theirs(values, 7.5))


def test_other_names_come_from_scipy_stats() -> None:
    assert _dist.fisher_exact is stats.fisher_exact
    assert _dist.random_table is stats.random_table
    assert _dist.t.logsf(1.0, 3.0) == stats.t.logsf(1.0, 3.0)
    assert _dist.t.sf(1.0, 3.0, loc=1.0) == stats.t.sf(1.0, 3.0, loc=1.0)
    with pytest.raises(AttributeError):
        _dist.t._no_such_thing  # noqa: B018


def _imports_scipy_stats(calls: str) -> bool:
    code = f"import sys; import numpy as np; from kypho.stats import _dist; {calls}; "
    code += "print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() in ("True", "False")
    return out.stdout.strip() == "True"


def test_scalar_calls_do_not_import_scipy_stats() -> None:
    assert not _imports_scipy_stats(
        "_dist.t.sf(1.0, 3.0); _dist.f.ppf(0.5, 2, 3); _dist.t.pdf([0.5, 2.0], 7.5); "
        "_dist.chi2.sf([0.0, 3.84], 1); _dist.norm.isf(0.025)"
    )


def test_ordinary_arrays_do_not_import_scipy_stats() -> None:
    """The ordinary cases take the fast path: making them all leaves scipy.stats unimported,
    and one edge (a df of 0) does import it, so the check can fail."""
    calls = "; ".join(
        f"getattr(_dist.{d}, {m!r})(*np.meshgrid(np.array({v.tolist()!r}), "
        + "".join(f"np.array({s.tolist()!r}), " for s in shapes)
        + "indexing='ij'))"
        for d, m, v, shapes in ORDINARY
    )
    assert not _imports_scipy_stats(calls)
    assert _imports_scipy_stats("_dist.t.sf(1.0, 0.0)")


@pytest.mark.parametrize("method", ["sf", "cdf"])
def test_random_noncentral_t_is_scipys(method: str) -> None:
    """The power of the t test (kypho.beyond.power) asks nct for both tails."""
    draw = np.random.default_rng(23)
    ncp = np.concatenate([draw.normal(0, 5, 300), draw.uniform(-40, 40, 50), [0.0, 1.0, 2.8, 37.0]])
    _same(
        getattr(_dist.nct, method)(X_RANDOM, DF_RANDOM, ncp),
        getattr(stats.nct, method)(X_RANDOM, DF_RANDOM, ncp),
    )
    _same(getattr(_dist.nct, method)(1.97, 216, 2.8), getattr(stats.nct, method)(1.97, 216, 2.8))
