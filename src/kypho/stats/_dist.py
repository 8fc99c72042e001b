"""The t, normal, F and χ² distributions of :mod:`scipy.stats`, without importing it.

Importing ``scipy.stats`` takes about half a second (it loads scipy's linear algebra,
optimisation, sparse and spatial packages), more than ``kypho audit`` spends checking a
30-page paper. For the few methods kypho's tests call (``t.sf``, ``t.cdf``, ``t.isf``,
``t.pdf``, ``norm.sf``, ``norm.cdf``, ``norm.isf``, ``f.sf``, ``f.cdf``, ``f.ppf``,
``chi2.sf``) this module evaluates the same :mod:`scipy.special` functions that
scipy.stats' distribution objects evaluate, with the same handling of the edges
(invalid degrees of freedom give NaN, values outside the support give 0 or 1,
probabilities 0 and 1 give the support's ends, 0-d results are NumPy scalars), so that
results are identical, bit for bit; ``tests/unit/stats/test_dist.py`` checks that
against scipy.stats itself. Every other name (another method, another distribution,
``random_table``…) is taken from scipy.stats, imported then.

Used as ``from kypho.stats import _dist as sps`` where ``from scipy import stats as sps``
stood.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special as sc

__all__ = ["chi2", "f", "norm", "t"]

_Fn = Callable[..., Any]
_NORM_PDF_C = np.sqrt(2 * np.pi)


def _scipy_stats() -> Any:
    return importlib.import_module("scipy.stats")


def _finish(output: np.ndarray[Any, Any]) -> Any:
    return output[()] if output.ndim == 0 else output


class _Distribution:
    """One distribution: its support ``[a, b]``, its number of shape parameters (all
    required positive), and the special functions behind the methods offered here."""

    def __init__(self, name: str, a: float, b: float, **methods: _Fn) -> None:
        self._name = name
        self._a = a
        self._b = b
        self._methods = methods

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(getattr(_scipy_stats(), self._name), attr)

    def _real(self, attr: str) -> Any:
        return getattr(getattr(_scipy_stats(), self._name), attr)

    def _prepare(self, x: Any, args: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...], Any]:
        x = np.asarray(x)
        shapes = tuple(np.asarray(v) for v in args)
        x = np.asarray(x, dtype=np.promote_types(x.dtype, np.float64))
        ok: Any = np.asarray(True)
        for v in shapes:
            ok = ok & (v > 0)
        return x, shapes, ok

    def _evaluate(
        self, fn: _Fn, cond: Any, x: Any, shapes: tuple[Any, ...]
    ) -> np.ndarray[Any, Any]:
        full = np.broadcast_arrays(x, *shapes, cond)
        mask = full[-1]
        return np.asarray(fn(*(v[mask] for v in full[:-1])), dtype=np.float64)

    def _tail(self, which: str, x: Any, args: tuple[Any, ...]) -> Any:
        """``sf`` or ``cdf``: 1 (or 0) beyond the support's ends, NaN for bad input."""
        x, shapes, ok = self._prepare(x, args)
        with np.errstate(invalid="ignore"):
            inside = (self._a < x) & (x < self._b)
            edge = (x <= self._a) if which == "sf" else (x >= self._b)
        cond = ok & inside
        output = np.zeros(np.shape(cond), x.dtype)
        output[np.broadcast_to(~ok | np.isnan(x), output.shape)] = np.nan
        output[np.broadcast_to(ok & edge, output.shape)] = 1.0
        if np.any(cond):
            output[np.broadcast_to(cond, output.shape)] = self._evaluate(
                self._methods[which], cond, x, shapes
            )
        return _finish(output)

    def _quantile(self, which: str, q: Any, args: tuple[Any, ...]) -> Any:
        """``ppf`` or ``isf``: the support's ends at probabilities 0 and 1, NaN outside."""
        q = np.asarray(q)
        shapes = tuple(np.asarray(v) for v in args)
        ok: Any = np.asarray(True)
        for v in shapes:
            ok = ok & (v > 0)
        cond = ok & (q > 0) & (q < 1)
        output = np.full(np.shape(cond), np.nan)
        low_at, high_at = (0, 1) if which == "ppf" else (1, 0)
        output[np.broadcast_to(ok & (q == low_at), output.shape)] = self._a
        output[np.broadcast_to(ok & (q == high_at), output.shape)] = self._b
        if np.any(cond):
            # scipy.stats returns _ppf(q)·scale + loc: a −0.0 comes back as 0.0.
            values = self._evaluate(self._methods[which], cond, q, shapes) * 1.0 + 0.0
            output[np.broadcast_to(cond, output.shape)] = values
        return _finish(output)

    def sf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Survival function, as ``scipy.stats.<name>.sf``."""
        if kwds or "sf" not in self._methods:
            return self._real("sf")(x, *args, **kwds)
        return self._tail("sf", x, args)

    def cdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Distribution function, as ``scipy.stats.<name>.cdf``."""
        if kwds or "cdf" not in self._methods:
            return self._real("cdf")(x, *args, **kwds)
        return self._tail("cdf", x, args)

    def ppf(self, q: Any, *args: Any, **kwds: Any) -> Any:
        """Quantile function, as ``scipy.stats.<name>.ppf``."""
        if kwds or "ppf" not in self._methods:
            return self._real("ppf")(q, *args, **kwds)
        return self._quantile("ppf", q, args)

    def isf(self, q: Any, *args: Any, **kwds: Any) -> Any:
        """Upper-tail quantile, as ``scipy.stats.<name>.isf``."""
        if kwds or "isf" not in self._methods:
            return self._real("isf")(q, *args, **kwds)
        return self._quantile("isf", q, args)

    def pdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Density, as ``scipy.stats.<name>.pdf`` (0 outside the closed support)."""
        if kwds or "pdf" not in self._methods:
            return self._real("pdf")(x, *args, **kwds)
        x, shapes, ok = self._prepare(x, args)
        with np.errstate(invalid="ignore"):
            inside = (self._a <= x) & (x <= self._b)
        cond = ok & inside
        output = np.zeros(np.shape(cond), x.dtype)
        output[np.broadcast_to(~ok | np.isnan(x), output.shape)] = np.nan
        if np.any(cond):
            output[np.broadcast_to(cond, output.shape)] = self._evaluate(
                self._methods["pdf"], cond, x, shapes
            )
        return _finish(output)


def _t_pdf(x: Any, df: Any) -> Any:
    """Student's t density: the normal one at infinite df, else exp of
    log Γ-ratio − ½(log df + log π) − (df + 1)/2 · log1p(x²/df), as scipy.stats evaluates it."""
    out = np.empty(np.shape(x))
    normal = df == np.inf
    out[normal] = np.exp(-(x[normal] ** 2) / 2.0) / _NORM_PDF_C
    d, v = df[~normal], x[~normal]
    out[~normal] = np.exp(
        np.log(sc.poch(0.5 * d, 0.5))
        - 0.5 * (np.log(d) + np.log(np.pi))
        - (d + 1) / 2 * np.log1p(v * v / d)
    )
    return out


t = _Distribution(
    "t",
    -np.inf,
    np.inf,
    sf=lambda x, df: sc.stdtr(df, -x),
    cdf=lambda x, df: sc.stdtr(df, x),
    isf=lambda q, df: -sc.stdtrit(df, q),
    pdf=_t_pdf,
)
norm = _Distribution(
    "norm",
    -np.inf,
    np.inf,
    sf=lambda x: sc.ndtr(-x),
    cdf=sc.ndtr,
    isf=lambda q: -sc.ndtri(q),
)
f = _Distribution(
    "f",
    0.0,
    np.inf,
    sf=lambda x, dfn, dfd: sc.fdtrc(dfn, dfd, x),
    cdf=lambda x, dfn, dfd: sc.fdtr(dfn, dfd, x),
    ppf=lambda q, dfn, dfd: sc.fdtri(dfn, dfd, q),
)
chi2 = _Distribution("chi2", 0.0, np.inf, sf=lambda x, df: sc.chdtrc(df, x))


def __getattr__(name: str) -> Any:
    """Anything else scipy.stats offers, imported on first use."""
    return getattr(_scipy_stats(), name)
