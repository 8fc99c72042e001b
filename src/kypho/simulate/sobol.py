"""Sobol' sensitivity indices by the Saltelli sampling scheme (kypho's own estimator).

For ``d`` inputs, two independent base samples ``A`` and ``B`` (``N`` rows each,
a scrambled Sobol' sequence), and for each input ``i`` the matrix ``AB_i``
(``A`` with column ``i`` taken from ``B``): ``N (d + 2)`` model runs in all.
With ``f_A, f_B, f_ABi`` the outputs and ``V`` the variance of ``[f_A, f_B]``:

.. math::

    S_i = \\frac{\\frac1N\\sum f_B\\,(f_{AB_i} - f_A)}{V},
    \\qquad
    S_{Ti} = \\frac{\\frac1{2N}\\sum (f_A - f_{AB_i})^2}{V},

the first-order estimator of Saltelli et al. (2010, their Table 2, (b)) and
Jansen's total-effect estimator (same table, (f)). Confidence intervals by
bootstrap over the ``N`` rows.

References
----------
.. [1] Saltelli A, Annoni P, Azzini I, Campolongo F, Ratto M, Tarantola S.
   Variance based sensitivity analysis of model output. Design and estimator
   for the total sensitivity index. Comput Phys Commun. 2010;181:259-270.
.. [2] Ishigami T, Homma T. An importance quantification technique in
   uncertainty analysis for computer models. Proc ISUMA '90, 1990:398-403.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kypho.errors import SimulationError

__all__ = ["SobolIndices", "ishigami", "ishigami_indices", "saltelli_sample", "sobol_indices"]

FloatArray = npt.NDArray[np.float64]


def saltelli_sample(
    bounds: Sequence[tuple[float, float]], n: int, *, seed: int = 0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Base matrices ``A``, ``B`` (``n`` × ``d``) and ``AB`` (``d`` × ``n`` × ``d``) in ``bounds``.

    Examples
    --------
    >>> a, b, ab = saltelli_sample([(0, 1), (10, 20)], 8)
    >>> a.shape, ab.shape, bool((ab[1][:, 1] == b[:, 1]).all() and (ab[1][:, 0] == a[:, 0]).all())
    ((8, 2), (2, 8, 2), True)
    """
    from scipy.stats import qmc

    d = len(bounds)
    if n < 2 or d < 1:
        raise SimulationError(
            f"Sobol' sample: need at least 2 base rows and 1 input (got {n} rows, {d} inputs)"
        )
    # draw the next power of two (Sobol' points balance only in such blocks) and keep n
    unit = qmc.Sobol(d=2 * d, scramble=True, seed=seed).random_base2(
        max(1, math.ceil(math.log2(n)))
    )[:n]
    lo = np.array([b[0] for b in bounds], dtype=np.float64)
    hi = np.array([b[1] for b in bounds], dtype=np.float64)
    a = lo + unit[:, :d] * (hi - lo)
    b = lo + unit[:, d:] * (hi - lo)
    ab = np.repeat(a[None, :, :], d, axis=0)
    for i in range(d):
        ab[i, :, i] = b[:, i]
    return a, b, ab


@dataclass(frozen=True)
class SobolIndices:
    """First-order (``first``) and total (``total``) indices with bootstrap CIs, per input."""

    names: tuple[str, ...]
    first: FloatArray
    total: FloatArray
    first_ci: FloatArray  # (d, 2)
    total_ci: FloatArray
    variance: float
    n: int


def _estimate(fa: FloatArray, fb: FloatArray, fab: FloatArray) -> tuple[FloatArray, FloatArray]:
    variance = float(np.var(np.concatenate([fa, fb])))
    if variance <= 0:
        return np.zeros(fab.shape[0]), np.zeros(fab.shape[0])
    first = np.mean(fb[None, :] * (fab - fa[None, :]), axis=1) / variance
    total = 0.5 * np.mean((fa[None, :] - fab) ** 2, axis=1) / variance
    return first, total


def sobol_indices(
    names: Sequence[str],
    fa: FloatArray,
    fb: FloatArray,
    fab: FloatArray,
    *,
    bootstrap: int = 500,
    confidence: float = 0.95,
    seed: int = 0,
) -> SobolIndices:
    """Indices from the outputs at ``A`` (``n``), ``B`` (``n``) and ``AB`` (``d`` × ``n``).

    Examples
    --------
    >>> a, b, ab = saltelli_sample([(-math.pi, math.pi)] * 3, 1024)
    >>> s = sobol_indices(["x1", "x2", "x3"], ishigami(a), ishigami(b), np.array([ishigami(m) for m in ab]))
    >>> [round(float(v), 1) for v in s.first], [round(float(v), 1) for v in s.total]
    ([0.3, 0.4, 0.0], [0.6, 0.4, 0.2])
    """
    fa, fb, fab = (np.asarray(x, dtype=np.float64) for x in (fa, fb, fab))
    first, total = _estimate(fa, fb, fab)
    rng = np.random.default_rng(seed)
    n = fa.size
    boot_first = np.empty((bootstrap, fab.shape[0]))
    boot_total = np.empty((bootstrap, fab.shape[0]))
    for k in range(bootstrap):
        rows = rng.integers(0, n, n)
        boot_first[k], boot_total[k] = _estimate(fa[rows], fb[rows], fab[:, rows])
    tail = 100 * (1 - confidence) / 2
    return SobolIndices(
        names=tuple(names),
        first=first,
        total=total,
        first_ci=np.percentile(boot_first, [tail, 100 - tail], axis=0).T,
        total_ci=np.percentile(boot_total, [tail, 100 - tail], axis=0).T,
        variance=float(np.var(np.concatenate([fa, fb]))),
        n=n,
    )


def ishigami(x: FloatArray, a: float = 7.0, b: float = 0.1) -> FloatArray:
    """The Ishigami function ``sin x1 + a sin² x2 + b x3⁴ sin x1`` (rows of ``x``)."""
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict[str, tuple[float, float, float]]:
    """Analytic first-order and total indices of the Ishigami function on ``[-π, π]³``.

    From the variance decomposition (Ishigami and Homma 1990; e.g. Saltelli et al.
    2008, *Global Sensitivity Analysis: The Primer*, §4.1):
    ``V1 = ½(1 + bπ⁴/5)²``, ``V2 = a²/8``, ``V13 = b²π⁸(1/18 − 1/50)``,
    ``V = V1 + V2 + V13``.

    Examples
    --------
    >>> {k: tuple(round(v, 4) for v in t) for k, t in ishigami_indices().items()}
    {'first': (0.3139, 0.4424, 0.0), 'total': (0.5576, 0.4424, 0.2437)}
    """
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return {"first": (v1 / v, v2 / v, 0.0), "total": ((v1 + v13) / v, v2 / v, v13 / v)}
