"""Global sensitivity of the predicted leakage reduction (traditional − staged).

Each sample of the inputs builds one vertebra and both of the paper's
protocols on it (:func:`kypho.simulate.protocol.traditional_protocol`,
:func:`~kypho.simulate.protocol.staged_protocol`), runs both, and records the
leaked volumes. The output analysed is the reduction ``leak_traditional −
leak_staged`` (ml); Sobol' indices (:mod:`kypho.simulate.sobol`) say how much of
its variance each input explains, and the spread of the reduction over the
sample is the uncertainty band.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from kypho.errors import SimulationError
from kypho.simulate.cement import CEMENTS, Cement

if TYPE_CHECKING:
    import pandas as pd
from kypho.simulate.geometry import Vertebra
from kypho.simulate.model import simulate
from kypho.simulate.protocol import staged_protocol, traditional_protocol
from kypho.simulate.sobol import SobolIndices, saltelli_sample, sobol_indices

__all__ = [
    "PARAMETERS",
    "Parameter",
    "SensitivityResult",
    "analyse",
    "evaluate",
    "leakage_pair",
    "sample_points",
    "sampled_vertebra",
    "sensitivity",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Parameter:
    """One uncertain input: its range and whether it is sampled on a log scale."""

    name: str
    low: float
    high: float
    log: bool
    label: str

    def bounds(self) -> tuple[float, float]:
        """Sampling bounds (log10 of the range when ``log``)."""
        if self.log:
            return math.log10(self.low), math.log10(self.high)
        return self.low, self.high

    def value(self, u: float) -> float:
        """The parameter's value at sampled coordinate ``u``."""
        return float(10.0**u) if self.log else float(u)


#: The inputs varied and their ranges (see docs/simulate.md for the reasons).
PARAMETERS: tuple[Parameter, ...] = (
    Parameter("permeability_factor", 0.5, 2.0, True, "permeability (× Baroud 2004)"),
    Parameter("curing_rate", 0.7, 1.4, False, "curing rate (× reference)"),
    Parameter("breach_size_mm", 2.0, 6.0, False, "breach size (mm)"),
    Parameter("breach_center_mm", 8.0, 19.0, False, "breach position (mm above inferior endplate)"),
    Parameter("rate_ml_s", 0.05, 0.2, False, "injection rate (ml/s)"),
    Parameter("remix_delay_s", 0.0, 120.0, False, "second batch mixed after (s)"),
    Parameter("threshold_per_s", 0.0, 20.0, False, "breach threshold (Pa per Pa·s)"),
)


def sampled_vertebra(values: dict[str, float], base: Vertebra) -> Vertebra:
    """``base`` with the breach and the permeability of one sample point ``values``.

    Examples
    --------
    >>> v = sampled_vertebra({p.name: p.low for p in PARAMETERS}, Vertebra())
    >>> v.permeability_si_m2 < Vertebra().permeability_si_m2
    True
    """
    exits = tuple(
        replace(
            e,
            size_mm=values["breach_size_mm"],
            center_mm=values["breach_center_mm"],
            threshold_per_s=values["threshold_per_s"],
        )
        if e.name == "breach"
        else e
        for e in base.exits
    )
    factor = values["permeability_factor"]
    return replace(
        base,
        exits=exits,
        permeability_ap_m2=base.permeability_ap_m2 * factor,
        permeability_si_m2=base.permeability_si_m2 * factor,
    )


def leakage_pair(
    values: dict[str, float],
    *,
    base: Vertebra | None = None,
    cement: Cement | None = None,
    nx: int = 28,
    courant: float = 0.125,
) -> tuple[float, float]:
    """Leaked volume (ml) of the traditional and of the staged protocol at ``values``.

    Examples
    --------
    >>> trad, staged = leakage_pair({p.name: (p.low + p.high) / 2 for p in PARAMETERS}, nx=16)
    >>> trad >= 0 and staged >= 0
    True
    """
    vertebra = sampled_vertebra(values, base or Vertebra())
    cement = (cement or CEMENTS["low"]).with_rate(values["curing_rate"])
    rate = values["rate_ml_s"]
    trad = simulate(
        traditional_protocol(vertebra, cement=cement, rate_ml_s=rate),
        vertebra,
        nx=nx,
        courant=courant,
    )
    staged = simulate(
        staged_protocol(
            vertebra, cement=cement, rate_ml_s=rate, remix_delay_s=values["remix_delay_s"]
        ),
        vertebra,
        nx=nx,
        courant=courant,
    )
    return trad.leaked_total_ml, staged.leaked_total_ml


@dataclass(frozen=True)
class SensitivityResult:
    """Sobol' indices of the reduction and its spread over the sample.

    Attributes
    ----------
    indices
        :class:`~kypho.simulate.sobol.SobolIndices` of ``reduction_ml``.
    traditional_ml, staged_ml, reduction_ml
        Per run of the base samples ``A`` and ``B`` (``2 n`` values each).
    runs
        Simulations run (two per sample point).
    """

    parameters: tuple[Parameter, ...]
    indices: SobolIndices
    traditional_ml: FloatArray
    staged_ml: FloatArray
    reduction_ml: FloatArray
    runs: int

    def band(self, confidence: float = 0.90) -> tuple[float, float, float]:
        """Median and central ``confidence`` interval of the reduction (ml) over the sample."""
        tail = 100 * (1 - confidence) / 2
        lo, mid, hi = np.percentile(self.reduction_ml, [tail, 50, 100 - tail])
        return float(mid), float(lo), float(hi)

    def probability_staged_better(self) -> float:
        """Share of the sample in which staging leaks less."""
        return float(np.mean(self.reduction_ml > 0))

    def to_frame(self) -> pd.DataFrame:
        """The indices as a DataFrame (one row per input)."""
        import pandas as pd

        s = self.indices
        return pd.DataFrame(
            {
                "parameter": [p.name for p in self.parameters],
                "label": [p.label for p in self.parameters],
                "range": [
                    f"{p.low:g}–{p.high:g}" + (" (log)" if p.log else "") for p in self.parameters
                ],
                "first_order": s.first,
                "first_low": s.first_ci[:, 0],
                "first_high": s.first_ci[:, 1],
                "total": s.total,
                "total_low": s.total_ci[:, 0],
                "total_high": s.total_ci[:, 1],
            }
        )


def sample_points(
    n: int, *, seed: int = 0, parameters: tuple[Parameter, ...] = PARAMETERS
) -> FloatArray:
    """The ``n (d + 2)`` Saltelli points of the analysis, in the order :func:`analyse` expects.

    Rows of ``A``, then ``B``, then ``AB_1 … AB_d`` (sampled coordinates: log10
    for the log-scale inputs).
    """
    d = len(parameters)
    a, b, ab = saltelli_sample([p.bounds() for p in parameters], n, seed=seed)
    return np.concatenate([a, b, ab.reshape(d * n, d)])


def evaluate(
    points: FloatArray,
    *,
    nx: int = 28,
    courant: float = 0.125,
    parameters: tuple[Parameter, ...] = PARAMETERS,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Leaked volume (ml) of both protocols at each of ``points`` (any slice of :func:`sample_points`).

    ``progress(done, total)`` is called after each point.
    """
    total = points.shape[0]
    trad = np.empty(total)
    staged = np.empty(total)
    for k, row in enumerate(points):
        values = {p.name: p.value(u) for p, u in zip(parameters, row, strict=True)}
        trad[k], staged[k] = leakage_pair(values, nx=nx, courant=courant)
        if progress is not None:
            progress(k + 1, total)
    return trad, staged


def analyse(
    traditional_ml: FloatArray,
    staged_ml: FloatArray,
    n: int,
    *,
    seed: int = 0,
    parameters: tuple[Parameter, ...] = PARAMETERS,
) -> SensitivityResult:
    """Sobol' indices of the reduction from the leaks at all :func:`sample_points` (in order)."""
    d = len(parameters)
    if traditional_ml.shape != (n * (d + 2),) or staged_ml.shape != traditional_ml.shape:
        raise SimulationError(
            f"sensitivity: {n * (d + 2)} leaked volumes per protocol are needed for n = {n} and {d} inputs (got {traditional_ml.shape[0]} and {staged_ml.shape[0]})"
        )
    reduction = traditional_ml - staged_ml
    fa, fb, fab = reduction[:n], reduction[n : 2 * n], reduction[2 * n :].reshape(d, n)
    indices = sobol_indices([p.name for p in parameters], fa, fb, fab, seed=seed)
    return SensitivityResult(
        parameters=parameters,
        indices=indices,
        traditional_ml=traditional_ml[: 2 * n],
        staged_ml=staged_ml[: 2 * n],
        reduction_ml=reduction[: 2 * n],
        runs=2 * traditional_ml.shape[0],
    )


def sensitivity(
    n: int = 32,
    *,
    nx: int = 28,
    courant: float = 0.125,
    seed: int = 0,
    parameters: tuple[Parameter, ...] = PARAMETERS,
    progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """Sobol' analysis of the leakage reduction over ``parameters`` (``n (d + 2)`` sample points).

    :func:`sample_points`, :func:`evaluate` and :func:`analyse` in one call (a
    long analysis can run the points in pieces and analyse them together).
    ``progress(done, total)`` is called after each sample point.
    """
    points = sample_points(n, seed=seed, parameters=parameters)
    trad, staged = evaluate(
        points, nx=nx, courant=courant, parameters=parameters, progress=progress
    )
    return analyse(trad, staged, n, seed=seed, parameters=parameters)
