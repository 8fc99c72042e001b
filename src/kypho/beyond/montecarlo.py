"""Monte Carlo power: the analysis's own tests run on many simulated studies.

An analytic formula describes an idealised test. The study's analysis runs
specific tests with data-driven choices — the F test deciding between Student's
t and t′, the expected counts deciding between Pearson's, Yates's and Fisher's
χ², the tie-corrected Mann–Whitney Z for grades. The power of *that* procedure is
estimated here by simulating many studies and counting how often it rejects the
null hypothesis. Studies are simulated in batches (2-D arrays: one row per
study) and tested in one vectorised call.

The estimate carries its Monte Carlo standard error,
:math:`\\sqrt{\\hat\\pi(1-\\hat\\pi)/S}` for :math:`S` simulated studies.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from kypho.beyond import _checks
from kypho.errors import StatisticsError
from kypho.stats import chi_square, independent_t
from kypho.stats.rank import mann_whitney_from_counts

__all__ = [
    "SimulatedPower",
    "simulate_power_means",
    "simulate_power_ordinal",
    "simulate_power_proportions",
]

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each batch of simulated studies."""

# The branches of kypho.stats.chi_square's "auto" rule (its ``tests`` codes), named.
_CHI_SQUARE_CODES = ("pearson", "yates", "fisher", "empty")
_CHI_SQUARE_NAMES = ("Pearson χ²", "Yates χ²", "Fisher exact", "undefined (empty margin)")
_CHI_SQUARE_CODES_SORTED = np.array(sorted(_CHI_SQUARE_CODES))
_CHI_SQUARE_BRANCH = np.array([_CHI_SQUARE_CODES.index(c) for c in _CHI_SQUARE_CODES_SORTED])

# Values held in memory per batch (studies × patients); bounds memory at ~32 MB.
_VALUES_PER_BATCH = 4_000_000


@dataclass(frozen=True)
class SimulatedPower:
    """Monte Carlo estimate of the power of the analysis's test.

    Attributes
    ----------
    endpoint : str
        ``"two proportions"``, ``"two means"`` or ``"ordinal"``.
    test : str
        The test procedure that was run on each simulated study.
    n1, n2 : int
        Patients per group in each simulated study.
    sims : int
        Number of simulated studies.
    rejections : int
        How many rejected the null hypothesis at ``alpha``.
    power : float
        ``rejections / sims``.
    mcse : float
        Monte Carlo standard error of ``power``.
    ci_low, ci_high : float
        ``power ± 1.96·mcse``, clipped to [0, 1].
    alpha : float
        Significance level.
    seed : int or None
        Seed of the random generator (None: fresh entropy, not reproducible).
    tests_used : dict
        How many simulated studies each branch of an "auto" choice ran
        (e.g. ``{"Student t": 1870, "Welch t′": 130}``).
    """

    endpoint: str
    test: str
    n1: int
    n2: int
    sims: int
    rejections: int
    power: float
    mcse: float
    ci_low: float
    ci_high: float
    alpha: float
    seed: int | None
    tests_used: dict[str, int] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row; ``tests_used`` becomes one ``used_<test>`` column per branch."""
        row: dict[str, Any] = {
            name: getattr(self, name)
            for name in (
                "endpoint",
                "test",
                "n1",
                "n2",
                "sims",
                "rejections",
                "power",
                "mcse",
                "ci_low",
                "ci_high",
                "alpha",
                "seed",
            )
        }
        for name, used in self.tests_used.items():
            row[f"used_{name}"] = used
        return pd.DataFrame([row])


def _sizes(n: object, ratio: object) -> tuple[int, int]:
    n1 = _checks.count("n", n, minimum=2)
    ratio_value = _checks.positive("ratio", ratio)
    n2 = round(ratio_value * n1)
    if n2 < 2:
        raise StatisticsError(
            f"group 2 must have at least 2 patients (got ratio * n = {ratio_value * n1})"
        )
    return n1, n2


def _run(
    *,
    endpoint: str,
    test: str,
    n1: int,
    n2: int,
    sims: object,
    alpha: float,
    seed: int | None,
    progress: Progress | None,
    one_batch: Callable[[np.random.Generator, int], tuple[NDArray[np.bool_], NDArray[Any]]],
    branch_names: tuple[str, ...],
) -> SimulatedPower:
    """Simulate ``sims`` studies in batches; ``one_batch`` returns (rejected, branch code)."""
    total = _checks.count("sims", sims, minimum=1)
    rng = np.random.default_rng(seed)
    batch = max(1, min(total, _VALUES_PER_BATCH // (n1 + n2)))
    rejections = 0
    used = np.zeros(len(branch_names), dtype=np.int64)
    done = 0
    while done < total:
        size = min(batch, total - done)
        rejected, branch = one_batch(rng, size)
        rejections += int(rejected.sum())
        used += np.bincount(branch, minlength=len(branch_names))[: len(branch_names)]
        done += size
        if progress is not None:
            progress(done, total)
    power = rejections / total
    mcse = math.sqrt(power * (1 - power) / total)
    return SimulatedPower(
        endpoint=endpoint,
        test=test,
        n1=n1,
        n2=n2,
        sims=total,
        rejections=rejections,
        power=power,
        mcse=mcse,
        ci_low=max(0.0, power - 1.96 * mcse),
        ci_high=min(1.0, power + 1.96 * mcse),
        alpha=alpha,
        seed=seed,
        tests_used={name: int(k) for name, k in zip(branch_names, used, strict=True) if k},
    )


def simulate_power_proportions(
    p1: float,
    p2: float,
    *,
    n: int,
    ratio: float = 1.0,
    sims: int = 10_000,
    alpha: float = 0.05,
    seed: int | None = None,
    progress: Progress | None = None,
) -> SimulatedPower:
    """Monte Carlo power of the paper's χ² comparison of two proportions.

    Parameters
    ----------
    p1, p2 : float
        True proportions in group 1 and group 2.
    n : int
        Patients in group 1; group 2 has ``round(ratio * n)``.
    ratio : float
        Size of group 2 relative to group 1.
    sims : int
        Number of simulated studies.
    alpha : float
        Significance level of the two-sided test.
    seed : int, optional
        Seed for :func:`numpy.random.default_rng`.
    progress : callable, optional
        ``progress(done, total)`` after each batch.

    Returns
    -------
    SimulatedPower
        ``tests_used`` counts the branches of the "auto" rule.

    Notes
    -----
    Each study draws the two counts of events from Binomial(n₁, p₁) and
    Binomial(n₂, p₂) (the χ² test depends on the data only through them) and runs
    the analysis's own 2×2 test, :func:`kypho.stats.chi_square` on the batch of
    tables, with the "auto" rule: Pearson's χ² when N ≥ 40 and every
    expected count ≥ 5, Yates's χ² when some expected count is in [1, 5), Fisher's
    exact test when N < 40 or an expected count is below 1. A study with no event
    (or only events) in both groups cannot reject.

    References
    ----------
    .. [1] Morris TP, White IR, Crowther MJ. Using simulation studies to evaluate
       statistical methods. Stat Med 2019;38:2074–2102 (Monte Carlo SE).

    Examples
    --------
    >>> r = simulate_power_proportions(0.036, 0.164, n=55, sims=2000, seed=1)
    >>> abs(r.power - 0.6005) < 4 * r.mcse  # exact power, enumerated in R
    True
    """
    p1 = _checks.probability("p1", p1)
    p2 = _checks.probability("p2", p2)
    n1, n2 = _sizes(n, ratio)
    level = _checks.probability("alpha", alpha)

    def one_batch(rng: np.random.Generator, size: int) -> tuple[NDArray[np.bool_], NDArray[Any]]:
        events1 = rng.binomial(n1, p1, size)
        events2 = rng.binomial(n2, p2, size)
        tables = np.stack(
            [np.stack([events1, n1 - events1], -1), np.stack([events2, n2 - events2], -1)], -2
        )
        result = chi_square(tables, method="auto")
        codes = np.searchsorted(_CHI_SQUARE_CODES_SORTED, np.asarray(result.tests))
        return np.asarray(result.p_value) < level, _CHI_SQUARE_BRANCH[codes]

    return _run(
        endpoint="two proportions",
        test="2×2 χ² with the 'auto' rule (Pearson / Yates / Fisher), two-sided",
        n1=n1,
        n2=n2,
        sims=sims,
        alpha=level,
        seed=seed,
        progress=progress,
        one_batch=one_batch,
        branch_names=_CHI_SQUARE_NAMES,
    )


def simulate_power_means(
    mean1: float,
    sd1: float,
    mean2: float,
    sd2: float,
    *,
    n: int,
    ratio: float = 1.0,
    sims: int = 10_000,
    alpha: float = 0.05,
    method: str = "auto",
    variance_test: str = "F",
    seed: int | None = None,
    progress: Progress | None = None,
) -> SimulatedPower:
    """Monte Carlo power of the paper's t / t′ comparison of two means.

    Parameters
    ----------
    mean1, sd1, mean2, sd2 : float
        True means and SDs of normal data in the two groups.
    n, ratio, sims, alpha, seed, progress
        As in :func:`simulate_power_proportions`.
    method : {"auto", "student", "welch", "cochran-cox"}
        Passed to :func:`kypho.stats.independent_t`; ``"auto"`` is the paper's
        procedure (variance test first, Student's t if it does not reject at
        ``alpha``, otherwise Welch's t′).
    variance_test : {"F", "levene", "brown-forsythe"}
        The variance test of the ``"auto"`` rule.

    Returns
    -------
    SimulatedPower
        ``tests_used`` counts how often Student's t and t′ ran.

    Notes
    -----
    Each study draws n₁ and n₂ normal values; the batch of studies is tested
    with ``kypho.stats.independent_t(..., axis=1)``.
    """
    mean1 = _checks.finite("mean1", mean1)
    mean2 = _checks.finite("mean2", mean2)
    sd1 = _checks.positive("sd1", sd1)
    sd2 = _checks.positive("sd2", sd2)
    n1, n2 = _sizes(n, ratio)
    level = _checks.probability("alpha", alpha)
    method = _checks.choice("method", method, ("auto", "student", "welch", "cochran-cox"))
    variance_test = _checks.choice(
        "variance_test", variance_test, ("F", "levene", "brown-forsythe")
    )

    def one_batch(rng: np.random.Generator, size: int) -> tuple[NDArray[np.bool_], NDArray[Any]]:
        x = rng.normal(mean1, sd1, (size, n1))
        y = rng.normal(mean2, sd2, (size, n2))
        result = independent_t(
            x,
            y,
            method=cast(Any, method),
            variance_test=cast(Any, variance_test),
            alpha=level,
            axis=1,
        )
        equal = np.broadcast_to(np.asarray(result.equal_variance, dtype=bool), (size,))
        return np.asarray(result.p_value) < level, np.where(equal, 0, 1)

    t_prime = "Cochran–Cox t′" if method == "cochran-cox" else "Welch t′"
    return _run(
        endpoint="two means",
        test=f"independent t test, method={method!r}, variance test {variance_test!r}, two-sided",
        n1=n1,
        n2=n2,
        sims=sims,
        alpha=level,
        seed=seed,
        progress=progress,
        one_batch=one_batch,
        branch_names=("Student t", t_prime),
    )


def simulate_power_ordinal(
    probs1: ArrayLike,
    probs2: ArrayLike,
    *,
    n: int,
    ratio: float = 1.0,
    sims: int = 10_000,
    alpha: float = 0.05,
    seed: int | None = None,
    progress: Progress | None = None,
) -> SimulatedPower:
    """Monte Carlo power of the paper's Mann–Whitney comparison of grades.

    Parameters
    ----------
    probs1, probs2 : array_like
        True grade probabilities (or counts) of group 1 and group 2, lowest first.
    n, ratio, sims, alpha, seed, progress
        As in :func:`simulate_power_proportions`.

    Returns
    -------
    SimulatedPower

    Notes
    -----
    Each study draws the grade counts of each group from a multinomial
    distribution and runs :func:`kypho.stats.rank.mann_whitney_from_counts` on the
    batch of tables: the asymptotic, tie-corrected Z without continuity correction,
    two-sided (SPSS's "Asymp. Sig.", what the paper reports). A study whose patients
    all share one grade has no variation to test and does not reject (P = 1).
    """
    p1 = _checks.distribution("probs1", probs1)
    p2 = _checks.distribution("probs2", probs2)
    if p1.size != p2.size:
        raise StatisticsError(
            f"probs1 and probs2 must list the same number of grades (got {p1.size} and {p2.size})"
        )
    n1, n2 = _sizes(n, ratio)
    level = _checks.probability("alpha", alpha)

    def one_batch(rng: np.random.Generator, size: int) -> tuple[NDArray[np.bool_], NDArray[Any]]:
        counts1 = rng.multinomial(n1, p1, size)
        counts2 = rng.multinomial(n2, p2, size)
        result = mann_whitney_from_counts(counts1, counts2, method="asymptotic")
        return np.asarray(result.p_value) < level, np.zeros(size, dtype=np.int64)

    return _run(
        endpoint="ordinal",
        test="Mann–Whitney U, asymptotic tie-corrected Z, two-sided",
        n1=n1,
        n2=n2,
        sims=sims,
        alpha=level,
        seed=seed,
        progress=progress,
        one_batch=one_batch,
        branch_names=("Mann–Whitney Z",),
    )
