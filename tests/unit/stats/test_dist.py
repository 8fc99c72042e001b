"""kypho.stats._dist against scipy.stats itself: the same numbers, bit for bit.

The module exists so that the tests (and ``kypho audit``) need not import scipy.stats
(about a second of CPU); it is only right if every method it offers returns exactly
what scipy.stats returns, edges included (invalid df, values outside the support,
probabilities 0 and 1, NaN, −0.0, scalar against array input, broadcast arrays).
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from scipy import stats

from kypho.stats import _dist

X = np.array(
    [
        -np.inf,
        -40.0,
        -2.5,
        -1.0,
        -1e-300,
        -0.0,
        0.0,
        1e-300,
        0.3,
        1.0,
        1.96,
        2.5,
        40.0,
        np.inf,
        np.nan,
    ]
)
Q = np.array([-0.1, 0.0, 1e-300, 1e-12, 0.025, 0.05, 0.5, 0.8, 0.975, 1 - 1e-12, 1.0, 1.1, np.nan])
DF = np.array([-1.0, 0.0, 0.3, 1.0, 2.0, 2.7, 9.0, 30.0, 108.0, 1e6, np.inf, np.nan])

CASES = [
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
]


def _same(got: Any, want: Any) -> None:
    assert type(got) is type(want)
    assert np.shape(got) == np.shape(want)
    assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize(("dist", "method", "values", "shapes"), CASES)
def test_arrays_broadcast_like_scipy(dist: str, method: str, values: Any, shapes: Any) -> None:
    ours = getattr(getattr(_dist, dist), method)
    theirs = getattr(getattr(stats, dist), method)
    if not shapes:
        _same(ours(values), theirs(values))
        return
    # Every value against every df (and every pair of F's dfs), as one broadcast call.
    grid = np.meshgrid(values, *shapes, indexing="ij")
    _same(ours(*grid), theirs(*grid))
    lone = [values[:, None]] + [s[None, :] for s in shapes]
    if len(shapes) == 1:
        _same(ours(*lone), theirs(*lone))


@pytest.mark.parametrize(("dist", "method", "values", "shapes"), CASES)
def test_scalars_give_numpy_scalars_like_scipy(
    dist: str, method: str, values: Any, shapes: Any
) -> None:
    ours = getattr(getattr(_dist, dist), method)
    theirs = getattr(getattr(stats, dist), method)
    for v in values:
        args = [float(s[4]) for s in shapes]  # a valid df (2.0), as Python floats
        _same(ours(float(v), *args), theirs(float(v), *args))
    if shapes:
        _same(ours(1.5, *[np.nan for _ in shapes]), theirs(1.5, *[np.nan for _ in shapes]))
        _same(ours(1, *[3 for _ in shapes]), theirs(1, *[3 for _ in shapes]))


def test_other_names_come_from_scipy_stats() -> None:
    assert _dist.random_table is stats.random_table
    assert _dist.t.logsf(1.0, 3.0) == stats.t.logsf(1.0, 3.0)
    assert _dist.t.sf(1.0, 3.0, loc=1.0) == stats.t.sf(1.0, 3.0, loc=1.0)
    with pytest.raises(AttributeError):
        _dist.t._no_such_thing  # noqa: B018


def test_importing_it_does_not_import_scipy_stats() -> None:
    code = (
        "import sys; from kypho.stats import _dist; _dist.t.sf(1.0, 3.0); _dist.f.ppf(0.5, 2, 3); "
        "_dist.t.pdf([0.5, 2.0], 7.5); _dist.chi2.sf([0.0, 3.84], 1); _dist.norm.isf(0.025); "
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Only ordinary arguments, so that every call takes the scipy.special path (a single
# unusual value sends the whole call to scipy.stats, which the cases above mostly test).
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
    ours = getattr(getattr(_dist, dist), method)
    theirs = getattr(getattr(stats, dist), method)
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


def test_ordinary_arrays_do_not_import_scipy_stats() -> None:
    """The cases above take the fast path: making them all leaves scipy.stats unimported."""
    calls = "; ".join(
        f"getattr(_dist.{d}, {m!r})(*np.meshgrid(np.array({v.tolist()!r}), "
        + "".join(f"np.array({s.tolist()!r}), " for s in shapes)
        + "indexing='ij'))"
        for d, m, v, shapes in ORDINARY
    )
    code = (
        f"import sys; import numpy as np; from kypho.stats import _dist; {calls}; "
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
