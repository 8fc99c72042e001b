"""The distribution functions the tests call, without importing ``scipy.stats``.

Importing ``scipy.stats`` takes about a second of CPU, most of a small report's
start-up, yet the tests need only a few tail areas and quantiles of Student's t,
the normal, the F and the χ² distribution, the t density, and (for the power of the
t test) the noncentral t's ``sf`` and ``cdf``. For ordinary
arguments ``scipy.stats`` computes each of them by one ``scipy.special`` function
(its ``_sf``, ``_isf``, ... methods, e.g. ``t.sf(x, df)`` is ``stdtr(df, -x)``), or
the t density by one formula, which this module evaluates directly, so the values
are the same bits (tests/unit/stats/test_stats_dist.py compares them with scipy.stats').
Everything else goes to ``scipy.stats`` itself, imported on first use: arguments
that are not ordinary (non-finite values, a probability of exactly 0 or 1, a
non-positive or infinite df, another dtype than float64 or integer, where
``scipy.stats`` applies its own rules), the other densities, and every other name
(``from kypho.stats import _dist as sps`` then serves as ``scipy.stats``).

>>> from kypho.stats import _dist as sps
>>> float(sps.t.sf(2.0, 10)) == float(special.stdtr(10, -2.0))
True
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["chi2", "f", "nct", "norm", "t"]

_Check = Callable[..., Any]


def _scipy_stats() -> Any:
    return importlib.import_module("scipy.stats")


class _LazySpecial:
    """``scipy.special``, imported when a function of it is first looked up.

    Importing it costs about 0.3 s of CPU (it sets up SciPy's array-API layer),
    which a report read from the cache never needs.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(importlib.import_module("scipy.special"), name)


special: Any = _LazySpecial()
"""``scipy.special`` on first use (also for :mod:`kypho.stats.ttest` and ``contingency``)."""


def _plain(value: Any) -> np.ndarray[Any, Any] | None:
    """``value`` as an array if its dtype is float64 or integer (else None)."""
    array = np.asarray(value)
    if array.dtype == np.float64 or array.dtype.kind in "iu":
        return array
    return None


def _value(result: Any) -> Any:
    # scipy.stats returns a NumPy scalar for scalar arguments, an array otherwise.
    array = np.asarray(result, dtype=np.float64)
    return array[()] if array.ndim == 0 else array


class _Distribution:
    """One distribution: fast methods by ``scipy.special``, the rest from ``scipy.stats``."""

    def __init__(self, name: str, fast: dict[str, tuple[Callable[..., Any], _Check]]) -> None:
        self._name = name
        self._fast = fast

    def _call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        entry = self._fast.get(method)
        if entry is not None and not kwargs:
            arrays = [_plain(a) for a in args]
            if all(a is not None for a in arrays):
                compute, ordinary = entry
                with np.errstate(invalid="ignore"):
                    fine = bool(np.all(ordinary(*arrays)))
                if fine:
                    return _value(compute(*arrays))
        return getattr(getattr(_scipy_stats(), self._name), method)(*args, **kwargs)

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda *args, **kwargs: self._call(method, args, kwargs)


def _finite(*arrays: Any) -> Any:
    return np.all([np.all(np.isfinite(a)) for a in arrays])


def _df_ok(*dfs: Any) -> Any:
    return np.all([np.all((d > 0) & np.isfinite(d)) for d in dfs])


def _located(quantile: Any) -> Any:
    # scipy.stats returns quantile * scale + loc (1 and 0): so -0.0 becomes 0.0.
    return quantile * 1.0 + 0.0


def _t_pdf(x: Any, df: Any) -> Any:
    return np.exp(
        np.log(special.poch(0.5 * df, 0.5))
        - 0.5 * (np.log(df) + np.log(np.pi))
        - (df + 1) / 2 * np.log1p(x * x / df)
    )


def _open_unit(q: Any) -> Any:
    return np.all((q > 0) & (q < 1))


t = _Distribution(
    "t",
    {
        "sf": (lambda x, df: special.stdtr(df, -x), lambda x, df: _finite(x) and _df_ok(df)),
        "cdf": (lambda x, df: special.stdtr(df, x), lambda x, df: _finite(x) and _df_ok(df)),
        "isf": (
            lambda q, df: _located(-special.stdtrit(df, q)),
            lambda q, df: _open_unit(q) and _df_ok(df),
        ),
        "ppf": (
            lambda q, df: _located(special.stdtrit(df, q)),
            lambda q, df: _open_unit(q) and _df_ok(df),
        ),
        # The density, for Cochran–Cox's root search: scipy.stats.t evaluates
        # exp(log poch(df/2, 1/2) − (log df + log π)/2 − (df + 1)/2 · log1p(x²/df))
        # for finite df, the same operations in the same order.
        "pdf": (lambda x, df: _t_pdf(x, df), lambda x, df: _finite(x) and _df_ok(df)),
    },
)
"""Student's t: ``sf``, ``cdf``, ``isf``, ``ppf``, ``pdf`` fast; the rest from ``scipy.stats.t``."""

norm = _Distribution(
    "norm",
    {
        "sf": (lambda x: special.ndtr(-x), _finite),
        "cdf": (lambda x: special.ndtr(x), _finite),
        "isf": (lambda q: _located(-special.ndtri(q)), _open_unit),
        "ppf": (lambda q: _located(special.ndtri(q)), _open_unit),
    },
)
"""The standard normal: ``sf``, ``cdf``, ``isf``, ``ppf`` fast; the rest from ``scipy.stats.norm``."""

f = _Distribution(
    "f",
    {
        "sf": (
            lambda x, d1, d2: special.fdtrc(d1, d2, x),
            lambda x, d1, d2: _finite(x) and np.all(x > 0) and _df_ok(d1, d2),
        ),
        "cdf": (
            lambda x, d1, d2: special.fdtr(d1, d2, x),
            lambda x, d1, d2: _finite(x) and np.all(x > 0) and _df_ok(d1, d2),
        ),
        "ppf": (
            lambda q, d1, d2: _located(special.fdtri(d1, d2, q)),
            lambda q, d1, d2: _open_unit(q) and _df_ok(d1, d2),
        ),
    },
)
"""Fisher's F: ``sf``, ``cdf``, ``ppf`` fast; the rest from ``scipy.stats.f``."""

chi2 = _Distribution(
    "chi2",
    {
        # At 0 (the support's lower end) scipy.stats.chi2.sf is 1 by its own rule.
        "sf": (
            lambda x, df: np.where(x == 0, 1.0, special.chdtrc(df, x)),
            lambda x, df: _finite(x) and np.all(x >= 0) and _df_ok(df),
        ),
    },
)
"""χ²: ``sf`` fast (the audit's check of a printed χ²); the rest from ``scipy.stats.chi2``."""


def _nct_sf(x: Any, df: Any, nc: Any) -> Any:
    # scipy.stats.nct.sf is Boost's survival function, clipped to [0, 1].
    ufuncs = importlib.import_module("scipy.special._ufuncs")
    with np.errstate(over="ignore"):
        return np.clip(ufuncs._nct_sf(x, df, nc), 0, 1)


def _nct_ordinary(x: Any, df: Any, nc: Any) -> Any:
    has_sf = hasattr(importlib.import_module("scipy.special._ufuncs"), "_nct_sf")
    return has_sf and _finite(x, nc) and _df_ok(df)


nct = _Distribution(
    "nct",
    {
        "sf": (_nct_sf, _nct_ordinary),
        "cdf": (
            lambda x, df, nc: special.nctdtr(df, nc, x),
            lambda x, df, nc: _finite(x, nc) and _df_ok(df),
        ),
    },
)
"""Noncentral t: ``sf`` and ``cdf`` fast (power of the t test); the rest from ``scipy.stats.nct``."""


def __getattr__(name: str) -> Any:
    # Any other name of scipy.stats (fisher_exact, random_table, ...): imported now.
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_scipy_stats(), name)
