"""χ² tests and Fisher's exact test for tables of counts (2×2 and R×C).

Rows are the groups being compared, columns the outcome categories; for a 2×2
table the first column is the event (e.g. "leakage"), so that the risk of row 1
is ``table[0, 0] / table[0].sum()``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kypho.errors import StatisticsError, StatisticsWarning
from kypho.stats import _dist as sps
from kypho.stats._common import (
    Alternative,
    check_alternative,
    check_choice,
    check_probability,
    out,
    result_frame,
)
from kypho.stats._dist import special
from kypho.stats._types import FloatArray, ResultDisplay

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ChiSquareMethod", "ChiSquareResult", "chi_square"]

ChiSquareMethod = Literal["auto", "pearson", "yates", "fisher"]

_NAMES = {
    "pearson": "Pearson χ²",
    "yates": "Yates-corrected χ²",
    "fisher": "Fisher exact",
    "ffh": "Fisher–Freeman–Halton exact",
    "ffh-mc": "Fisher–Freeman–Halton exact (Monte Carlo)",
    "empty": "no test (empty row or column)",
}
# R's fisher.test compares table probabilities with this relative tolerance, so
# that tables as probable as the observed one are not lost to rounding.
_REL_TOL = 1e-7


# A value of one table (a float, an int) or of a batch of tables (an array).
Floats = float | NDArray[np.float64]
OptFloats = float | NDArray[np.float64] | None
Ints = int | NDArray[np.int64]


@dataclass(frozen=True, repr=False)
class ChiSquareResult(ResultDisplay):
    """Result of a test of association in a table of counts.

    Attributes
    ----------
    method : str
        ``"Pearson χ²"``, ``"Yates-corrected χ²"``, ``"Fisher exact"``,
        ``"Fisher–Freeman–Halton exact"`` or ``"Fisher–Freeman–Halton exact
        (Monte Carlo)"``; in a batch, the tests used joined by " / ", with the
        per-table choice in ``tests``.
    statistic : float, ndarray or None
        χ² (Pearson or Yates); None for an exact test (NaN in a batch).
    dof : float, ndarray or None
        (r − 1)(c − 1); None for an exact test (NaN in a batch).
    p_value : float or ndarray
    reason : str
        Why this test was used, as a sentence.
    tests : str or ndarray
        Short code of the test used per table: "pearson", "yates", "fisher", "ffh"
        (exact R×C), "ffh-mc" (its Monte Carlo estimate),
        or (batch only) "empty" for a table with an empty row or column, whose
        documented result is χ² = 0, P = 1.
    observed, expected : ndarray
        The table and the expected counts under independence, rᵢcⱼ/N.
    n : int or ndarray
        Total count.
    min_expected : float or ndarray
        Smallest expected count.
    n_expected_below_5 : int or ndarray
        Cells with an expected count below 5.
    risk1, risk2, risk_difference, rd_ci_low, rd_ci_high : float, ndarray or None
        2×2 only: risks of the first column in each row, their difference and its
        Wald CI.
    relative_risk, rr_ci_low, rr_ci_high, odds_ratio, or_ci_low, or_ci_high
        2×2 only: ratio measures with log-scale (Katz, Woolf) CIs. With a zero
        cell, 0.5 is added to every cell first (Haldane–Anscombe; ``haldane``).
    haldane : bool, ndarray or None
    monte_carlo_samples : int or None
        Number of simulated tables behind a Monte Carlo P.
    """

    method: str
    statistic: OptFloats
    dof: OptFloats
    p_value: Floats
    reason: str
    tests: str | NDArray[np.str_]
    observed: NDArray[np.float64]
    expected: NDArray[np.float64]
    n: Ints
    min_expected: Floats
    n_expected_below_5: Ints
    risk1: OptFloats
    risk2: OptFloats
    risk_difference: OptFloats
    rd_ci_low: OptFloats
    rd_ci_high: OptFloats
    relative_risk: OptFloats
    rr_ci_low: OptFloats
    rr_ci_high: OptFloats
    odds_ratio: OptFloats
    or_ci_low: OptFloats
    or_ci_high: OptFloats
    haldane: bool | NDArray[np.bool_] | None
    monte_carlo_samples: int | None
    confidence: float
    alternative: str

    def to_frame(self) -> pd.DataFrame:
        """Fields as a DataFrame (one row, or one per table); the observed and
        expected tables are left out (they are arrays of their own)."""
        return result_frame(self, exclude=("observed", "expected"))


def _validate(table: ArrayLike) -> FloatArray:
    try:
        t = np.asarray(table, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatisticsError(f"table must hold counts (whole numbers ≥ 0) ({exc})") from exc
    if t.ndim < 2 or t.shape[-1] < 2 or t.shape[-2] < 2:
        raise StatisticsError(
            f"table must have at least 2 rows and 2 columns (got shape {t.shape})"
        )
    bad = ~np.isfinite(t)
    if bad.any():
        raise StatisticsError("table must hold counts (whole numbers ≥ 0); it contains NaN or inf")
    neg = t < 0
    if neg.any():
        raise StatisticsError(
            f"table must hold counts (whole numbers ≥ 0) (got negative {t[neg].tolist()[:5]!r})"
        )
    frac = t != np.round(t)
    if frac.any():
        raise StatisticsError(
            f"table must hold counts (whole numbers ≥ 0) (got non-integer {t[frac].tolist()[:5]!r})"
        )
    return t


def _check_margins(t: FloatArray) -> None:
    """Refuse a single table with an empty row or column."""
    row_empty = t.sum(axis=-1) == 0
    if row_empty.any():
        idx = np.argwhere(row_empty)[0]
        raise StatisticsError(
            f"row {int(idx[-1]) + 1} of the table is empty (all counts 0), so its expected "
            "counts are 0 and no test of association is defined; drop the row"
            + (
                ""
                if t.ndim == 2
                else f" (table at batch position {tuple(int(i) for i in idx[:-1])})"
            )
        )
    col_empty = t.sum(axis=-2) == 0
    if col_empty.any():
        idx = np.argwhere(col_empty)[0]
        raise StatisticsError(
            f"column {int(idx[-1]) + 1} of the table is empty (all counts 0), so its "
            "expected counts are 0 and no test of association is defined; drop the column"
            + (
                ""
                if t.ndim == 2
                else f" (table at batch position {tuple(int(i) for i in idx[:-1])})"
            )
        )


def _chi2_sf(x: FloatArray, dof: float) -> FloatArray:
    """Upper tail of χ²(dof). For 1 df, P(χ² > x) = P(|Z| > √x) = erfc(√(x/2)),
    which is exact and far cheaper than the incomplete gamma function."""
    if dof == 1.0:
        return np.asarray(special.erfc(np.sqrt(x / 2.0)))
    return np.asarray(special.chdtrc(dof, x))


def _log_table_prob(t: FloatArray) -> FloatArray:
    """log P of tables (last two axes) given their margins (multivariate hypergeometric)."""
    rows = t.sum(axis=-1)
    cols = t.sum(axis=-2)
    n = rows.sum(axis=-1)
    return np.asarray(
        special.gammaln(rows + 1).sum(axis=-1)
        + special.gammaln(cols + 1).sum(axis=-1)
        - special.gammaln(n + 1)
        - special.gammaln(t + 1).sum(axis=(-2, -1))
    )


def _fisher_2x2(t: FloatArray, alternative: str) -> FloatArray:
    """Fisher's exact P for a batch of 2×2 tables (shape (..., 2, 2)), vectorised.

    The hypergeometric probabilities of every table with the observed margins
    are laid out on a grid (tables × possible values of the top-left cell), with
    log k! looked up in a table: the counts are integers, and a batch of
    simulated studies reuses the same few hundred values many times.
    """
    ti = t.astype(np.int64)
    a = ti[..., 0, 0]
    r1 = ti[..., 0, :].sum(axis=-1)
    c1 = ti[..., :, 0].sum(axis=-1)
    n = ti.sum(axis=(-2, -1))
    lo = np.maximum(0, r1 + c1 - n)
    hi = np.minimum(r1, c1)
    width = int((hi - lo).max()) + 1
    x = lo[..., None] + np.arange(width)
    valid = x <= hi[..., None]
    x = np.minimum(x, hi[..., None])
    log_fact = special.gammaln(np.arange(int(n.max()) + 2, dtype=np.float64) + 1.0)
    const = log_fact[c1] + log_fact[n - c1] + log_fact[r1] + log_fact[n - r1] - log_fact[n]
    rest = (n - c1 - r1)[..., None]
    logp = const[..., None] - (
        log_fact[x] + log_fact[c1[..., None] - x] + log_fact[r1[..., None] - x] + log_fact[rest + x]
    )
    pmf = np.where(valid, np.exp(logp), 0.0)
    if alternative == "greater":
        p = np.where(x >= a[..., None], pmf, 0.0).sum(axis=-1)
    elif alternative == "less":
        p = np.where(x <= a[..., None], pmf, 0.0).sum(axis=-1)
    else:
        obs = np.take_along_axis(pmf, (a - lo)[..., None], axis=-1)
        p = np.where(pmf <= obs * (1.0 + _REL_TOL), pmf, 0.0).sum(axis=-1)
    return np.asarray(np.minimum(p, 1.0))


# Tables with two rows (or two columns) are enumerated exactly when there are at
# most this many of them with the observed margins; otherwise simulated.
_MAX_EXACT_TABLES = 2_000_000


def _ffh_exact_two_rows(t: FloatArray) -> float | None:
    """Exact Fisher–Freeman–Halton P of a 2×C (or R×2) table, or None if too big.

    Given the margins, a 2×C table is fixed by its first row x, with probability
    Πⱼ C(cⱼ, xⱼ) / C(N, r₁). Every admissible first row is enumerated column by
    column, keeping only the running sum and log-probability, and P sums the
    probabilities of the tables no more probable than the observed one (R's
    relative tolerance 10⁻⁷).
    """
    if t.shape[0] != 2:
        t = t.T
    cols = t.sum(axis=0).astype(np.int64)
    r1 = int(t[0].sum())
    if float(np.prod(np.minimum(cols[:-1], r1) + 1.0)) > 50 * _MAX_EXACT_TABLES:
        return None
    log_comb = [
        special.gammaln(c + 1.0)
        - special.gammaln(np.arange(c + 1) + 1.0)
        - special.gammaln(c - np.arange(c + 1) + 1.0)
        for c in cols
    ]
    capacity_after = np.concatenate([np.cumsum(cols[::-1])[::-1][1:], [0]])
    partial = np.zeros(1, dtype=np.int64)
    logp = np.zeros(1)
    for j, c in enumerate(cols[:-1]):
        v = np.arange(int(c) + 1)
        new_sum = (partial[:, None] + v[None, :]).ravel()
        new_logp = (logp[:, None] + log_comb[j][None, :]).ravel()
        keep = (new_sum <= r1) & (new_sum + capacity_after[j] >= r1)
        partial, logp = new_sum[keep], new_logp[keep]
        if partial.size > _MAX_EXACT_TABLES:
            return None
    last = r1 - partial
    logp = logp + log_comb[-1][last]
    logp -= (
        special.gammaln(cols.sum() + 1.0)
        - special.gammaln(r1 + 1.0)
        - special.gammaln(cols.sum() - r1 + 1.0)
    )
    obs = float(
        sum(log_comb[j][int(x)] for j, x in enumerate(t[0]))
        - (
            special.gammaln(cols.sum() + 1.0)
            - special.gammaln(r1 + 1.0)
            - special.gammaln(cols.sum() - r1 + 1.0)
        )
    )
    probs = np.exp(logp)
    return float(min(1.0, probs[logp <= obs + np.log1p(_REL_TOL)].sum()))


def _ffh_monte_carlo(t: FloatArray, samples: int, seed: int | None) -> float:
    """Fisher–Freeman–Halton P by simulation of tables with the observed margins."""
    rows = t.sum(axis=-1).astype(np.int64)
    cols = t.sum(axis=-2).astype(np.int64)
    rng = np.random.default_rng(seed)
    sims = sps.random_table(rows, cols).rvs(samples, method="patefield", random_state=rng)
    obs = float(_log_table_prob(t))
    sim = _log_table_prob(np.asarray(sims, dtype=np.float64))
    # As R's fisher.test(simulate.p.value = TRUE): the observed table counts as one
    # of the B + 1 equally likely tables, so P is never 0.
    as_extreme = np.count_nonzero(sim <= obs + _REL_TOL * abs(obs))
    return (1.0 + as_extreme) / (samples + 1.0)


def _measures(t: FloatArray, confidence: float) -> dict[str, Any]:
    a, b = t[..., 0, 0], t[..., 0, 1]
    c, d = t[..., 1, 0], t[..., 1, 1]
    z = sps.norm.isf((1.0 - confidence) / 2.0)
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    rd = p1 - p2
    se_rd = np.sqrt(p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2)
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    ah, bh, ch, dh = (np.where(zero, v + 0.5, v) for v in (a, b, c, d))
    rr = (ah / (ah + bh)) / (ch / (ch + dh))
    se_lrr = np.sqrt(1.0 / ah - 1.0 / (ah + bh) + 1.0 / ch - 1.0 / (ch + dh))
    odds = (ah * dh) / (bh * ch)
    se_lor = np.sqrt(1.0 / ah + 1.0 / bh + 1.0 / ch + 1.0 / dh)
    return {
        "risk1": p1,
        "risk2": p2,
        "risk_difference": rd,
        "rd_ci_low": rd - z * se_rd,
        "rd_ci_high": rd + z * se_rd,
        "relative_risk": rr,
        "rr_ci_low": rr * np.exp(-z * se_lrr),
        "rr_ci_high": rr * np.exp(z * se_lrr),
        "odds_ratio": odds,
        "or_ci_low": odds * np.exp(-z * se_lor),
        "or_ci_high": odds * np.exp(z * se_lor),
        "haldane": zero,
    }


def chi_square(
    table: ArrayLike,
    *,
    method: ChiSquareMethod = "auto",
    alternative: Alternative = "two-sided",
    confidence: float = 0.95,
    monte_carlo_samples: int = 100_000,
    seed: int | None = 20_260_101,
) -> ChiSquareResult:
    """Test the association of rows (groups) and columns (outcomes) in a table of counts.

    Parameters
    ----------
    table : array_like
        Counts, groups as rows and outcome categories as columns (2×2 or R×C).
        A ``(..., r, c)`` array is a batch of tables; fields are then arrays.
    method : {"auto", "pearson", "yates", "fisher"}
        ``"auto"`` for 2×2 tables: N ≥ 40 and every expected count ≥ 5 → Pearson;
        N ≥ 40 and the smallest expected count in [1, 5) → Yates-corrected;
        N < 40 or an expected count < 1 → Fisher's exact test. For R×C tables:
        Pearson, unless an expected count is below 1 or more than 20 % are below
        5, in which case a :class:`StatisticsWarning` is issued and the
        Fisher–Freeman–Halton exact test is used instead. ``"yates"`` applies to
        2×2 tables only; ``"fisher"`` on an R×C table is the Fisher–Freeman–Halton
        test. That test is enumerated exactly for tables with two rows or two
        columns (up to 2 million possible tables), and otherwise estimated by
        Monte Carlo from ``monte_carlo_samples`` tables with the observed margins.
    alternative : {"two-sided", "less", "greater"}
        Fisher's exact 2×2 test only (about the odds ratio); χ² tests are
        two-sided by nature.
    confidence : float
        Level of the CIs of the risk difference, relative risk and odds ratio.
    monte_carlo_samples : int
        Simulated tables for a Fisher–Freeman–Halton P that cannot be enumerated.
    seed : int or None
        Seed of the simulation, fixed by default so that reports are reproducible.

    Returns
    -------
    ChiSquareResult

    Raises
    ------
    StatisticsError
        Negative, non-integer or non-finite counts; an empty row or column in a
        single table (in a batch such a table gets χ² = 0, P = 1); fewer
        than 2 rows or columns; "yates" on an R×C table; a one-sided alternative
        with a χ² test.

    Notes
    -----
    Eᵢⱼ = rᵢcⱼ/N; Pearson χ² = Σ(O − E)²/E with (r − 1)(c − 1) df; Yates χ² =
    Σ(max(0, |O − E| − ½))²/E (the correction is capped at |O − E|, as in R).
    Fisher's 2×2 P sums the hypergeometric probabilities of all tables with the
    observed margins that are no more probable than the observed one.
    Risk difference: p₁ − p₂ ± z·√(p₁q₁/n₁ + p₂q₂/n₂). RR: exp(log RR ± z·√(1/a −
    1/n₁ + 1/c − 1/n₂)). OR = ad/bc, exp(log OR ± z·√(1/a + 1/b + 1/c + 1/d)).

    References
    ----------
    Cochran, W.G. (1954). Some methods for strengthening the common χ² tests.
    Biometrics 10, 417-451.
    Agresti, A. (2013). Categorical Data Analysis, 3rd ed., §3.1, §3.5. Wiley.
    Patefield, W.M. (1981). An efficient method of generating random R×C tables
    with given row and column totals. Appl. Stat. 30, 91-97.

    Examples
    --------
    Cement leakage in the paper's Table 7 (rows: groups; columns: leakage, none):

    >>> r = chi_square([[2, 53], [9, 46]])
    >>> r.method, round(r.statistic, 3), round(r.p_value, 4)
    ('Pearson χ²', 4.949, 0.0261)
    >>> r.reason
    '2×2 table: N = 110 ≥ 40 and every expected count is ≥ 5 (smallest 5.5), so Pearson χ² was used.'
    """
    confidence = _check_options(method, alternative, confidence, monte_carlo_samples)
    t = _validate(table)
    single = t.ndim == 2
    if single:
        _check_margins(t)
    # In a batch (e.g. simulated studies where neither group had an event) a table
    # with an empty row or column cannot show an association: it gets the
    # documented result χ² = 0, P = 1 (code "empty") instead of stopping the batch.
    empty = (t.sum(axis=-1) == 0).any(axis=-1) | (t.sum(axis=-2) == 0).any(axis=-1)
    r, c = t.shape[-2], t.shape[-1]
    is_2x2 = r == 2 and c == 2
    if method == "yates" and not is_2x2:
        raise StatisticsError(
            f"method 'yates' applies to 2×2 tables only (got a {r}×{c} table); "
            "use 'pearson' or 'fisher'"
        )
    if alternative != "two-sided" and not (is_2x2 and method == "fisher"):
        raise StatisticsError(
            f"alternative {alternative!r} needs method='fisher' on a 2×2 table; "
            "χ² tests are two-sided"
        )
    s = _Sums.of(t)
    if is_2x2:
        code, stat, p = _tests_2x2(t, s, method, empty, alternative)
        measures = _measures(t, confidence)
        mc = None
    else:
        code, stat, p, mc = _tests_rxc(t, s, method, empty, monte_carlo_samples, seed)
        measures = dict.fromkeys(_MEASURES)
    stat = np.where(empty, 0.0, stat)
    p = np.where(empty, 1.0, p)
    reason, name = _reason(code, method, single, s.n, s.min_e, s.below5, r, c)
    stat_out: OptFloats
    dof_out: OptFloats
    if single:
        exact = code.item() in ("fisher", "ffh", "ffh-mc")
        stat_out = None if exact else float(stat)
        dof_out = None if exact else s.dof
    else:
        stat_out, dof_out = stat, np.where(np.isnan(stat), np.nan, s.dof)
    return ChiSquareResult(
        method=name,
        statistic=stat_out,
        dof=dof_out,
        p_value=out(p, single),
        reason=reason,
        tests=out(code, single),
        observed=t,
        expected=s.expected,
        n=out(s.n.astype(np.int64), single),
        min_expected=out(s.min_e, single),
        n_expected_below_5=out(s.below5.astype(np.int64), single),
        monte_carlo_samples=mc,
        confidence=confidence,
        alternative=alternative,
        **{k: (None if v is None else out(v, single)) for k, v in measures.items()},
    )


_MEASURES = (
    "risk1",
    "risk2",
    "risk_difference",
    "rd_ci_low",
    "rd_ci_high",
    "relative_risk",
    "rr_ci_low",
    "rr_ci_high",
    "odds_ratio",
    "or_ci_low",
    "or_ci_high",
    "haldane",
)


def _check_options(
    method: str, alternative: str, confidence: float, monte_carlo_samples: object
) -> float:
    """Check the options of :func:`chi_square`; returns the checked confidence."""
    check_choice("method", method, ("auto", "pearson", "yates", "fisher"))
    check_alternative(alternative)
    checked = check_probability("confidence", confidence)
    if isinstance(monte_carlo_samples, bool) or not isinstance(monte_carlo_samples, int):
        raise StatisticsError(
            f"monte_carlo_samples must be a whole number ≥ 1000 (got {monte_carlo_samples!r})"
        )
    if monte_carlo_samples < 1000:
        raise StatisticsError(
            f"monte_carlo_samples must be a whole number ≥ 1000 (got {monte_carlo_samples})"
        )
    return checked


@dataclass(frozen=True)
class _Sums:
    """Margins, expected counts and Pearson's χ² of a table (or a batch of tables)."""

    n: FloatArray
    expected: FloatArray
    safe_e: FloatArray
    dev: FloatArray
    pearson: FloatArray
    p_pearson: FloatArray
    dof: float
    min_e: FloatArray
    below5: FloatArray

    @classmethod
    def of(cls, t: FloatArray) -> _Sums:
        r, c = t.shape[-2], t.shape[-1]
        rows = t.sum(axis=-1)
        cols = t.sum(axis=-2)
        n = rows.sum(axis=-1)
        expected = rows[..., :, None] * cols[..., None, :] / n[..., None, None]
        safe_e = np.where(expected > 0, expected, 1.0)
        dev = t - expected
        pearson = (dev * dev / safe_e).sum(axis=(-2, -1))
        dof = float((r - 1) * (c - 1))
        return cls(
            n=n,
            expected=expected,
            safe_e=safe_e,
            dev=dev,
            pearson=pearson,
            p_pearson=_chi2_sf(pearson, dof),
            dof=dof,
            min_e=expected.min(axis=(-2, -1)),
            below5=(expected < 5).sum(axis=(-2, -1)),
        )


def _tests_2x2(
    t: FloatArray, s: _Sums, method: str, empty: NDArray[np.bool_], alternative: str
) -> tuple[NDArray[np.str_], FloatArray, FloatArray]:
    """The 2×2 rule (N and the smallest expected count) and each table's test: code, χ², P."""
    absdev = np.abs(s.dev)
    yates_term = absdev - np.minimum(0.5, absdev)
    yates = (yates_term * yates_term / s.safe_e).sum(axis=(-2, -1))
    if method == "auto":
        code = np.where(
            (s.n < 40) | (s.min_e < 1), "fisher", np.where(s.min_e < 5, "yates", "pearson")
        )
    else:
        code = np.full(s.n.shape, method)
    code = np.where(empty, "empty", code)
    stat = np.where(code == "pearson", s.pearson, np.where(code == "yates", yates, np.nan))
    p = np.array(s.p_pearson, dtype=np.float64, copy=True)
    use_yates = code == "yates"
    if use_yates.any():
        p[use_yates] = _chi2_sf(yates[use_yates], s.dof)
    fisher = code == "fisher"
    if fisher.any():
        p[fisher] = _fisher_2x2(t[fisher], alternative)
    return code, stat, p


def _tests_rxc(
    t: FloatArray,
    s: _Sums,
    method: str,
    empty: NDArray[np.bool_],
    monte_carlo_samples: int,
    seed: int | None,
) -> tuple[NDArray[np.str_], FloatArray, FloatArray, int | None]:
    """Pearson, or Fisher–Freeman–Halton where sparse: code, χ², P, Monte Carlo tables."""
    r, c = t.shape[-2], t.shape[-1]
    sparse = (s.min_e < 1) | (s.below5 > 0.2 * r * c)
    if method == "auto":
        code = np.where(sparse, "ffh", "pearson")
    elif method == "fisher":
        code = np.full(s.n.shape, "ffh", dtype="<U7")
    else:
        code = np.full(s.n.shape, "pearson")
    code = np.where(empty, "empty", code)
    p = np.array(s.p_pearson, dtype=np.float64, copy=True)
    flat_t = t.reshape(-1, r, c)
    flat_p = p.reshape(-1)
    code = np.array(code, dtype="<U7")
    flat_code = code.reshape(-1)
    for i in np.flatnonzero(flat_code == "ffh"):
        exact_p = _ffh_exact_two_rows(flat_t[i]) if 2 in (r, c) else None
        if exact_p is None:
            flat_code[i] = "ffh-mc"
            flat_p[i] = _ffh_monte_carlo(flat_t[i], monte_carlo_samples, seed)
        else:
            flat_p[i] = exact_p
    p = flat_p.reshape(s.n.shape)
    stat = np.where(code == "pearson", s.pearson, np.nan)
    exact_used = np.isin(code, ("ffh", "ffh-mc"))
    mc = monte_carlo_samples if (code == "ffh-mc").any() else None
    if method == "auto" and exact_used.any():
        how = (
            f" (Monte Carlo, {monte_carlo_samples} tables, where too large to enumerate)"
            if mc
            else ""
        )
        warnings.warn(
            f"{int(exact_used.sum())} of {code.size} R×C table(s) have expected counts "
            "below 5 in more than 20 % of cells or below 1; the χ² approximation is "
            "unreliable there, so the Fisher–Freeman–Halton exact test"
            f"{how} was used instead",
            StatisticsWarning,
            stacklevel=3,
        )
    return code, stat, p, mc


def _reason(
    code: NDArray[Any],
    method: str,
    single: bool,
    n: FloatArray,
    min_e: FloatArray,
    below5: FloatArray,
    r: int,
    c: int,
) -> tuple[str, str]:
    if not single:
        used = sorted({str(v) for v in np.unique(code)})
        name = " / ".join(_NAMES[u] for u in used)
        if len(used) > 1:
            name += " (chosen per table)"
        if method == "auto":
            return "Per table by the rule documented in chi_square; see tests.", name
        return f"{name} was requested (method={method!r}).", name
    chosen = str(code.item())
    name = _NAMES[chosen]
    if method != "auto":
        return f"{name} was requested (method={method!r}).", name
    nn, me, b5 = int(n), float(min_e), int(below5)
    if r == 2 and c == 2:
        if chosen == "pearson":
            why = f"N = {nn} ≥ 40 and every expected count is ≥ 5 (smallest {me:.3g})"
        elif chosen == "yates":
            why = f"N = {nn} ≥ 40 and the smallest expected count, {me:.3g}, is between 1 and 5"
        elif nn < 40:
            why = f"N = {nn} < 40"
        else:
            why = f"the smallest expected count, {me:.3g}, is below 1"
        return f"2×2 table: {why}, so {name} was used.", name
    cells = r * c
    if chosen == "pearson":
        why = (
            f"{b5} of {cells} expected counts are below 5 (at most 20 % allowed) and none "
            f"is below 1 (smallest {me:.3g})"
        )
    else:
        why = (
            f"{b5} of {cells} expected counts are below 5 and the smallest is {me:.3g}, "
            "breaking Cochran's rule (no more than 20 % below 5, none below 1)"
        )
    return f"{r}×{c} table: {why}, so {name} was used.", name
