"""Independent-samples t tests: Student t, Welch t′ and Cochran–Cox t′.

The paper's rule ("variance homogeneity F test first, then independent sample
t / t′ test") is ``method="auto"``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kypho.errors import StatisticsError
from kypho.stats import _dist as sps
from kypho.stats._common import (
    Alternative,
    as_two_samples,
    check_alternative,
    check_choice,
    check_probability,
    out,
    result_frame,
    where_many,
)
from kypho.stats._dist import special
from kypho.stats._types import B, F, FloatArray, I, IntArray, ResultDisplay
from kypho.stats.describe import moments
from kypho.stats.variance import (
    VarianceMethod,
    VarianceTestResult,
    f_ratio_from_summary,
    variance_core,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "TMethod",
    "TTestResult",
    "cochran_cox_critical",
    "cochran_cox_p",
    "hedges_g",
    "independent_t",
    "independent_t_from_summary",
]

TMethod = Literal["auto", "student", "welch", "cochran-cox"]
TPrime = Literal["welch", "cochran-cox"]

_NAMES = {"student": "Student t", "welch": "Welch t′", "cochran-cox": "Cochran–Cox t′"}


@dataclass(frozen=True, repr=False)
class TTestResult(ResultDisplay, Generic[F, I, B]):
    """Result of an independent-samples t test.

    Attributes
    ----------
    method : str
        ``"Student t"``, ``"Welch t′"`` or ``"Cochran–Cox t′"``; in batch mode with
        ``method="auto"`` a phrase naming both candidates (see ``equal_variance``).
    statistic : float or ndarray
        t = (x̄₁ − x̄₂)/SE.
    dof : float, ndarray or None
        Degrees of freedom; ``None`` for Cochran–Cox (its reference is a weighted
        critical value, not a t distribution). In batch "auto" mode with
        ``t_prime="cochran-cox"`` the samples that used Cochran–Cox hold NaN.
    p_value : float or ndarray
    mean_difference, se_difference : float or ndarray
        x̄₁ − x̄₂ and its standard error under the test's variance assumption.
    ci_low, ci_high : float or ndarray
        CI of the mean difference at ``confidence`` (one-sided for one-sided
        alternatives, with an infinite bound).
    critical_value : float, ndarray or None
        Cochran–Cox only: the weighted critical value t′ at α = 1 − confidence
        (two-sided: t′_{α/2}); in a batch, NaN for samples that used Student t.
    equal_variance : bool or ndarray
        Whether the pooled-variance (Student) test was used.
    variance_test : VarianceTestResult or None
        The variance test that chose the test (``method="auto"``), else None.
    reason : str
        Why this test was used, as a sentence.
    effect_size, effect_ci_low, effect_ci_high : float or ndarray
        Hedges' g (pooled SD, small-sample corrected) and its approximate CI.
    n1, n2, mean1, mean2, sd1, sd2 : int, float or ndarray
        Group sizes, means and SDs (n − 1).
    """

    method: str
    statistic: F
    dof: F | None
    p_value: F
    mean_difference: F
    se_difference: F
    ci_low: F
    ci_high: F
    critical_value: F | None
    equal_variance: B
    variance_test: VarianceTestResult[F, I] | None
    reason: str
    effect_size: F
    effect_ci_low: F
    effect_ci_high: F
    n1: I
    n2: I
    mean1: F
    mean2: F
    sd1: F
    sd2: F
    confidence: float
    alternative: str

    def to_frame(self) -> pd.DataFrame:
        """Fields as a DataFrame (one row, or one per sample); the variance test's
        fields appear with the prefix ``variance_test_``."""
        return result_frame(self)


def _t_quantile(alpha: float, df: FloatArray) -> FloatArray:
    """Upper-α point of t for many samples; evaluated once per distinct df.

    In a batch of equally sized studies every sample shares its df, so this
    turns 10⁵ quantile evaluations into one.
    """
    df = np.asarray(df, dtype=np.float64)
    unique, inverse = np.unique(df, return_inverse=True)
    return np.asarray(sps.t.isf(alpha, unique)[inverse].reshape(df.shape), dtype=np.float64)


def cochran_cox_critical(
    alpha: FloatArray | float, w1: FloatArray, w2: FloatArray, df1: FloatArray, df2: FloatArray
) -> FloatArray:
    """Cochran–Cox weighted critical value for an upper-tail area ``alpha``.

    t′_α = (w₁·t_α(df₁) + w₂·t_α(df₂)) / (w₁ + w₂), with wᵢ = sᵢ²/nᵢ and
    t_α(df) the upper α point of Student's t.
    """
    if np.ndim(alpha) == 0:
        t1 = _t_quantile(float(alpha), df1)
        t2 = _t_quantile(float(alpha), df2)
    else:
        t1 = sps.t.isf(alpha, df1)
        t2 = sps.t.isf(alpha, df2)
    return np.asarray((w1 * t1 + w2 * t2) / (w1 + w2), dtype=np.float64)


def cochran_cox_p(
    t: FloatArray, w1: FloatArray, w2: FloatArray, df1: FloatArray, df2: FloatArray
) -> FloatArray:
    """Upper-tail Cochran–Cox P for |t|: the α at which t′_α equals |t|.

    The weighted critical value is a weighted mean of two decreasing functions of
    α, so it is decreasing and the root is unique; it lies between the two
    single-distribution tail areas P(T_df₁ > |t|) and P(T_df₂ > |t|), which
    bracket it. The root is found on log α by Newton's method (d t_α/dα =
    −1/f(t_α), f the t density), safeguarded by bisection of the bracket, until
    the step is below 10⁻¹⁴ of |log α|; vectorised over samples, each of which
    stops when it has converged.
    """
    shape = np.shape(t)
    at, w1, w2, df1, df2 = (
        np.atleast_1d(np.asarray(v, dtype=np.float64)).ravel()
        for v in np.broadcast_arrays(np.abs(t), w1, w2, df1, df2)
    )
    p1 = sps.t.sf(at, df1)
    p2 = sps.t.sf(at, df2)
    with np.errstate(divide="ignore"):
        lo = np.log(np.minimum(p1, p2))
        hi = np.log(np.maximum(p1, p2))
    result = lo.copy()
    active = np.flatnonzero((hi > lo) & np.isfinite(lo))
    lo, hi = lo[active], hi[active]
    at, w1, w2, df1, df2 = at[active], w1[active], w2[active], df1[active], df2[active]
    # Start from the variance-weighted mean of the bracket's ends: exact when the
    # two quantile curves are parallel in log α, and close otherwise.
    q1_end = np.log(p1[active])
    q2_end = np.log(p2[active])
    guess = np.clip((w1 * q1_end + w2 * q2_end) / (w1 + w2), lo, hi)
    for _ in range(100):
        if active.size == 0:
            break
        alpha = np.exp(guess)
        q1 = sps.t.isf(alpha, df1)
        q2 = sps.t.isf(alpha, df2)
        f = (w1 * q1 + w2 * q2) / (w1 + w2) - at
        # The critical value falls as α grows: above |t| means α is still too small.
        above = f > 0
        lo = np.where(above, guess, lo)
        hi = np.where(above, hi, guess)
        slope = -alpha * (w1 / sps.t.pdf(q1, df1) + w2 / sps.t.pdf(q2, df2)) / (w1 + w2)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = guess - f / slope
        step_ok = (newton >= lo) & (newton <= hi)
        new = np.where(f == 0, guess, np.where(step_ok, newton, 0.5 * (lo + hi)))
        done = np.abs(new - guess) <= 1e-14 * np.maximum(1.0, np.abs(guess))
        result[active[done]] = new[done]
        keep = ~done
        active, guess, lo, hi = active[keep], new[keep], lo[keep], hi[keep]
        at, w1, w2, df1, df2 = at[keep], w1[keep], w2[keep], df1[keep], df2[keep]
    result[active] = guess
    return np.asarray(np.exp(result), dtype=np.float64).reshape(shape)


def hedges_g(
    diff: FloatArray, sp: FloatArray, n1: FloatArray, n2: FloatArray, confidence: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Hedges' g with its large-sample CI.

    d = (x̄₁ − x̄₂)/s_p, J = Γ(m/2) / (√(m/2)·Γ((m − 1)/2)) with m = n₁ + n₂ − 2,
    g = J·d, Var(g) = J²·((n₁ + n₂)/(n₁n₂) + d²/(2(n₁ + n₂))), CI = g ± z·SE.
    """
    m = n1 + n2 - 2.0
    j = np.exp(special.gammaln(m / 2.0) - 0.5 * np.log(m / 2.0) - special.gammaln((m - 1.0) / 2.0))
    d = diff / sp
    g = j * d
    se = j * np.sqrt((n1 + n2) / (n1 * n2) + d * d / (2.0 * (n1 + n2)))
    z = sps.norm.isf((1.0 - confidence) / 2.0)
    return g, g - z * se, g + z * se


def _check_sizes(n1: NDArray[Any], n2: NDArray[Any], single: bool) -> None:
    small = (n1 < 2) | (n2 < 2)
    if small.any():
        if single:
            raise StatisticsError(
                "each group needs at least 2 non-missing values for a t test "
                f"(got n1={int(n1)}, n2={int(n2)})"
            )
        raise StatisticsError(
            "each group needs at least 2 non-missing values for a t test; "
            + where_many(small, "fewer are present")
        )


def _check_spread(v1: FloatArray, v2: FloatArray, single: bool) -> None:
    flat = (v1 == 0) & (v2 == 0)
    if flat.any():
        detail = "" if single else "; " + where_many(flat, "this happens")
        raise StatisticsError(
            "both groups have zero variance (every value equal within each group), "
            "so the t statistic is undefined" + detail
        )


def _p_from_t(t: FloatArray, df: FloatArray, alternative: str) -> FloatArray:
    if alternative == "two-sided":
        return np.asarray(np.minimum(2.0 * sps.t.sf(np.abs(t), df), 1.0))
    if alternative == "greater":
        return np.asarray(sps.t.sf(t, df))
    return np.asarray(sps.t.cdf(t, df))


@dataclass(frozen=True)
class _Group:
    """One group's summary as the t test uses it (arrays in batch mode)."""

    mean: FloatArray
    var: FloatArray
    n: FloatArray
    #: The size as the result reports it: an int, or an int array in batch mode.
    n_out: Any


@dataclass(frozen=True)
class _Options:
    """The checked options of one call."""

    method: str
    t_prime: str
    alpha: float
    confidence: float
    alternative: str
    single: bool

    @property
    def tail(self) -> float:
        """The tail probability of the critical t of the confidence interval."""
        a = 1.0 - self.confidence
        return a / 2.0 if self.alternative == "two-sided" else a


@dataclass(frozen=True)
class _Pieces:
    """Both candidate statistics (pooled and unequal-variance) and what they are made of."""

    diff: FloatArray
    w1: FloatArray
    w2: FloatArray
    df1: FloatArray
    df2: FloatArray
    df_s: FloatArray
    sp2: FloatArray
    se_s: FloatArray
    se_u: FloatArray
    t_s: FloatArray
    t_u: FloatArray


def _pieces(g1: _Group, g2: _Group) -> _Pieces:
    """Student's pooled t and the unequal-variance t′ with their parts (see the Notes)."""
    diff = g1.mean - g2.mean
    w1 = g1.var / g1.n
    w2 = g2.var / g2.n
    df_s = g1.n + g2.n - 2.0
    sp2 = ((g1.n - 1.0) * g1.var + (g2.n - 1.0) * g2.var) / df_s
    se_s = np.sqrt(sp2 * (1.0 / g1.n + 1.0 / g2.n))
    se_u = np.sqrt(w1 + w2)
    return _Pieces(
        diff=diff,
        w1=w1,
        w2=w2,
        df1=g1.n - 1.0,
        df2=g2.n - 1.0,
        df_s=df_s,
        sp2=sp2,
        se_s=se_s,
        se_u=se_u,
        t_s=diff / se_s,
        t_u=diff / se_u,
    )


def _core(
    g1: _Group, g2: _Group, vt: VarianceTestResult[Any, Any] | None, opts: _Options
) -> TTestResult[Any, Any, Any]:
    """Choose the test, compute it and say why: the shared body of both entry points."""
    if opts.method in ("welch", "cochran-cox"):
        opts = replace(opts, t_prime=opts.method)
    single = opts.single
    vt_p = None if vt is None else np.asarray(vt.p_value)
    pc = _pieces(g1, g2)
    equal = _equal_variances(opts.method, pc.t_s, vt_p, opts.alpha)
    p, crit, dof, cc_crit = _p_and_critical(equal, pc, opts)
    t = np.where(equal, pc.t_s, pc.t_u)
    se = np.where(equal, pc.se_s, pc.se_u)
    lo, hi = _interval(pc.diff, crit * se, opts.alternative)
    g, g_lo, g_hi = hedges_g(pc.diff, np.sqrt(pc.sp2), g1.n, g2.n, opts.confidence)
    name, reason = _choice_words(opts, vt, vt_p, equal)
    dof_out, crit_out = _reported_dof_and_critical(dof, cc_crit, equal, opts)
    return TTestResult(
        method=name,
        statistic=out(t, single),
        dof=dof_out,
        p_value=out(p, single),
        mean_difference=out(pc.diff, single),
        se_difference=out(se, single),
        ci_low=out(lo, single),
        ci_high=out(hi, single),
        critical_value=crit_out,
        equal_variance=out(equal, single),
        variance_test=vt,
        reason=reason,
        effect_size=out(g, single),
        effect_ci_low=out(g_lo, single),
        effect_ci_high=out(g_hi, single),
        n1=g1.n_out,
        n2=g2.n_out,
        mean1=out(g1.mean, single),
        mean2=out(g2.mean, single),
        sd1=out(np.sqrt(g1.var), single),
        sd2=out(np.sqrt(g2.var), single),
        confidence=opts.confidence,
        alternative=opts.alternative,
    )


def _interval(
    diff: FloatArray, margin: FloatArray, alternative: str
) -> tuple[FloatArray, FloatArray]:
    """The confidence interval of the difference; one-sided bounds are infinite."""
    if alternative == "two-sided":
        return diff - margin, diff + margin
    if alternative == "greater":
        return diff - margin, np.full_like(diff, np.inf)
    return np.full_like(diff, -np.inf), diff + margin


def _reported_dof_and_critical(
    dof: FloatArray, cc_crit: FloatArray | None, equal: NDArray[np.bool_], opts: _Options
) -> tuple[Any, Any]:
    """The df and critical value as the result gives them.

    Cochran–Cox's t′ has no df of its own (``None``); its weighted critical value
    is reported instead.
    """
    single = opts.single
    is_cc = opts.method == "cochran-cox" or (
        opts.method == "auto" and opts.t_prime == "cochran-cox"
    )
    dof_out: Any
    if (single and is_cc and not bool(equal)) or opts.method == "cochran-cox":
        dof_out = None
    else:
        dof_out = out(dof, single)
    crit_out: Any = None
    if cc_crit is not None and (not single or not bool(equal)):
        crit_out = out(cc_crit, single)
    return dof_out, crit_out


def _equal_variances(
    method: str, t_s: FloatArray, vt_p: FloatArray | None, alpha: float
) -> NDArray[np.bool_]:
    """The test choice: Student's pooled t where variances are taken as equal."""
    if method == "student":
        return np.ones_like(t_s, dtype=bool)
    if method in ("welch", "cochran-cox"):
        return np.zeros_like(t_s, dtype=bool)
    if vt_p is None:
        raise StatisticsError("internal: the automatic choice needs a variance-test P value")
    return np.asarray(vt_p >= alpha)


def _p_and_critical(
    equal: NDArray[np.bool_], pc: _Pieces, opts: _Options
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray | None]:
    """P, the critical t of the CI, the df and the Cochran–Cox critical value (or None)."""
    # Each branch is computed only for the samples that use it: the t quantiles
    # and the Cochran–Cox root search dominate the cost of a large batch.
    t_prime, tail, alternative = opts.t_prime, opts.tail, opts.alternative
    shape = pc.t_s.shape
    eq = equal.reshape(-1)
    flat = {
        k: np.broadcast_to(v, shape).reshape(-1)
        for k, v in {
            "t_s": pc.t_s,
            "df_s": pc.df_s,
            "t_u": pc.t_u,
            "w1": pc.w1,
            "w2": pc.w2,
            "df1": pc.df1,
            "df2": pc.df2,
        }.items()
    }
    p_flat = np.full(eq.shape, np.nan)
    crit_flat = np.full(eq.shape, np.nan)
    dof_flat = np.full(eq.shape, np.nan)
    cc_flat = np.full(eq.shape, np.nan)
    if eq.any():
        ts, ds = flat["t_s"][eq], flat["df_s"][eq]
        p_flat[eq] = _p_from_t(ts, ds, alternative)
        crit_flat[eq] = _t_quantile(tail, ds)
        dof_flat[eq] = ds
    un = ~eq
    if un.any():
        tu, u1, u2 = flat["t_u"][un], flat["w1"][un], flat["w2"][un]
        d1, d2 = flat["df1"][un], flat["df2"][un]
        if t_prime == "welch":
            with np.errstate(divide="ignore", invalid="ignore"):
                du = (u1 + u2) ** 2 / (u1 * u1 / d1 + u2 * u2 / d2)
            p_flat[un] = _p_from_t(tu, du, alternative)
            crit_flat[un] = sps.t.isf(tail, du)
            dof_flat[un] = du
        else:
            upper = cochran_cox_p(tu, u1, u2, d1, d2)
            if alternative == "two-sided":
                p_flat[un] = np.minimum(2.0 * upper, 1.0)
            else:
                toward = (tu >= 0) if alternative == "greater" else (tu <= 0)
                p_flat[un] = np.where(toward, upper, 1.0 - upper)
            crit_flat[un] = cochran_cox_critical(tail, u1, u2, d1, d2)
            cc_flat[un] = crit_flat[un]
    p = p_flat.reshape(shape)
    crit = crit_flat.reshape(shape)
    dof = dof_flat.reshape(shape)
    cc_crit = cc_flat.reshape(shape) if t_prime == "cochran-cox" else None

    return p, crit, dof, cc_crit


def _choice_words(
    opts: _Options,
    vt: VarianceTestResult[Any, Any] | None,
    vt_p: FloatArray | None,
    equal: NDArray[np.bool_],
) -> tuple[str, str]:
    """The test's name and the sentence saying why it was used."""
    method, single, alpha = opts.method, opts.single, opts.alpha
    prime_name = _NAMES[opts.t_prime]
    alpha_txt = f"{alpha:g}"
    if method != "auto":
        name = _NAMES[method]
        reason = f"{name} was requested (method={method!r})."
    elif single:
        vt_name = vt.method if vt is not None else "variance test"
        p_txt = f"{float(vt_p):.4g}" if vt_p is not None else "?"
        if bool(equal):
            name = _NAMES["student"]
            reason = (
                f"{vt_name}: P = {p_txt} ≥ α = {alpha_txt}, equal variances not rejected, "
                "so the pooled-variance Student t test was used."
            )
        else:
            name = prime_name
            reason = (
                f"{vt_name}: P = {p_txt} < α = {alpha_txt}, the variances differ, "
                f"so {prime_name} (unequal variances) was used."
            )
    else:
        name = f"Student t or {prime_name} (chosen per sample)"
        reason = (
            f"Per sample: Student t where the {vt.method if vt else 'variance test'} gave "
            f"P ≥ α = {alpha_txt}, otherwise {prime_name}; see equal_variance."
        )

    return name, reason


def _check_options(method: object, t_prime: object, alternative: object) -> None:
    check_choice("method", method, ("auto", "student", "welch", "cochran-cox"))
    check_choice("t_prime", t_prime, ("welch", "cochran-cox"))
    check_alternative(alternative)


@overload
def independent_t(
    x: ArrayLike,
    y: ArrayLike,
    *,
    method: TMethod = "auto",
    variance_test: VarianceMethod = "F",
    t_prime: TPrime = "welch",
    alpha: float = 0.05,
    confidence: float = 0.95,
    alternative: Alternative = "two-sided",
    axis: None = None,
) -> TTestResult[float, int, bool]: ...
@overload
def independent_t(
    x: ArrayLike,
    y: ArrayLike,
    *,
    method: TMethod = "auto",
    variance_test: VarianceMethod = "F",
    t_prime: TPrime = "welch",
    alpha: float = 0.05,
    confidence: float = 0.95,
    alternative: Alternative = "two-sided",
    axis: int,
) -> TTestResult[FloatArray, IntArray, Any]: ...
def independent_t(
    x: ArrayLike,
    y: ArrayLike,
    *,
    method: TMethod = "auto",
    variance_test: VarianceMethod = "F",
    t_prime: TPrime = "welch",
    alpha: float = 0.05,
    confidence: float = 0.95,
    alternative: Alternative = "two-sided",
    axis: int | None = None,
) -> TTestResult[Any, Any, Any]:
    """Compare the means of two independent groups (x minus y).

    Parameters
    ----------
    x, y : array_like
        The two groups; NaN values are left out (see ``n1``/``n2``).
    method : {"auto", "student", "welch", "cochran-cox"}
        ``"auto"`` follows the paper: run ``variance_test`` first; if its P ≥
        ``alpha`` use Student's pooled t, otherwise the unequal-variance t′ named by
        ``t_prime``.
    variance_test : {"F", "levene", "brown-forsythe"}
        The test that decides in ``"auto"`` mode (run and reported only then).
        ``"F"`` is the paper's; SPSS prints Levene's.
    t_prime : {"welch", "cochran-cox"}
        Which t′ ``"auto"`` uses when variances differ. Welch–Satterthwaite is what
        SPSS prints in its "equal variances not assumed" row.
    alpha : float
        Level of the variance test in ``"auto"`` mode.
    confidence : float
        Level of the CIs of the mean difference and of Hedges' g.
    alternative : {"two-sided", "less", "greater"}
        About μ₁ − μ₂.
    axis : int, optional
        Batch mode: the axis along which each sample lies; result fields are arrays.

    Returns
    -------
    TTestResult

    Raises
    ------
    StatisticsError
        A group with fewer than 2 values, both groups constant, or a bad option.

    Notes
    -----
    Student: s_p² = ((n₁−1)s₁² + (n₂−1)s₂²)/(n₁+n₂−2), SE = s_p·√(1/n₁ + 1/n₂),
    df = n₁ + n₂ − 2.

    Welch: SE = √(w₁ + w₂) with wᵢ = sᵢ²/nᵢ, df = (w₁+w₂)² / (w₁²/(n₁−1) + w₂²/(n₂−1)).

    Cochran–Cox: the same t′ = (x̄₁ − x̄₂)/√(w₁ + w₂), compared with the weighted
    critical value t′_α = (w₁·t_α(n₁−1) + w₂·t_α(n₂−1))/(w₁ + w₂). Its P value is
    *defined* here as the α at which t′_α = |t′| (two-sided: the upper-tail α
    doubled), found by monotone root-finding (:func:`cochran_cox_p`); so P < α
    exactly when |t′| exceeds the textbook's two-sided critical value t′_{α/2}. The
    CI of the difference is x̄₁ − x̄₂ ± t′_{α/2}·SE.

    Hedges' g uses the pooled SD whichever test ran (see :func:`hedges_g`).

    References
    ----------
    Welch, B.L. (1947). The generalization of "Student's" problem when several
    different population variances are involved. Biometrika 34, 28-35.
    Cochran, W.G. & Cox, G.M. (1957). Experimental Designs, 2nd ed. Wiley, p. 101.
    Borenstein, M. et al. (2009). Introduction to Meta-Analysis, ch. 4. Wiley.

    Examples
    --------
    >>> r = independent_t([5.1, 4.9, 6.2, 5.8, 6.0], [4.2, 4.8, 5.0, 4.4, 4.9])
    >>> r.method, round(r.statistic, 3), r.dof, round(r.p_value, 4)
    ('Student t', 3.158, 8.0, 0.0134)
    """
    _check_options(method, t_prime, alternative)
    check_choice("variance_test", variance_test, ("F", "levene", "brown-forsythe"))
    alpha = check_probability("alpha", alpha)
    confidence = check_probability("confidence", confidence)
    single = axis is None
    a, b = as_two_samples(x, y, axis)
    n1, m1, v1 = moments(a)
    n2, m2, v2 = moments(b)
    _check_sizes(n1, n2, single)
    _check_spread(v1, v2, single)
    vt: VarianceTestResult[Any, Any] | None = None
    if method == "auto":
        vt = variance_core(
            a, b, (n1, m1, v1), (n2, m2, v2), variance_test, "two-sided", confidence, single
        )
    return _core(
        _Group(m1, v1, n1.astype(float), out(n1, single)),
        _Group(m2, v2, n2.astype(float), out(n2, single)),
        vt,
        _Options(method, t_prime, alpha, confidence, alternative, single),
    )


def independent_t_from_summary(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
    *,
    method: TMethod = "auto",
    t_prime: TPrime = "welch",
    alpha: float = 0.05,
    confidence: float = 0.95,
    alternative: Alternative = "two-sided",
) -> TTestResult[Any, Any, Any]:
    """The independent t test from published means, SDs and sizes.

    For audits of published tables ("mean ± SD, n") and for users who only have
    the summary. Arguments broadcast: all scalars give a single result with float
    fields, arrays give a batch with array fields.

    Parameters
    ----------
    mean1, sd1, n1, mean2, sd2, n2 : array_like
        Means, SDs (denominator n − 1) and group sizes (integers ≥ 2).
    method, t_prime, alpha, confidence, alternative
        As in :func:`independent_t`; ``"auto"`` uses the F test of variances (the
        only one that needs no raw data).

    Returns
    -------
    TTestResult

    Raises
    ------
    StatisticsError
        A size below 2 or not an integer, a negative or non-finite SD, both SDs 0.

    Notes
    -----
    Same formulas as :func:`independent_t` with x̄ᵢ, sᵢ, nᵢ given.

    Examples
    --------
    Table 1 of the paper, age 69.47 ± 6.90 against 70.38 ± 7.25 (55 per group):

    >>> r = independent_t_from_summary(69.47, 6.90, 55, 70.38, 7.25, 55)
    >>> r.method, round(r.statistic, 3), round(r.p_value, 3)
    ('Student t', -0.674, 0.502)
    """
    _check_options(method, t_prime, alternative)
    alpha = check_probability("alpha", alpha)
    confidence = check_probability("confidence", confidence)
    try:
        arrs = np.broadcast_arrays(
            *(np.asarray(v, dtype=np.float64) for v in (mean1, sd1, n1, mean2, sd2, n2))
        )
    except (TypeError, ValueError) as exc:
        raise StatisticsError(
            f"summary statistics must be numbers of matching shapes ({exc})"
        ) from exc
    m1, s1, k1, m2, s2, k2 = (np.array(v, dtype=np.float64) for v in arrs)
    single = m1.ndim == 0
    for name, v in (("mean1", m1), ("sd1", s1), ("mean2", m2), ("sd2", s2)):
        if not np.isfinite(v).all():
            raise StatisticsError(f"{name} must be finite (got {v.tolist()!r})")
    for name, v in (("sd1", s1), ("sd2", s2)):
        if (v < 0).any():
            raise StatisticsError(f"{name} must not be negative (got {v.tolist()!r})")
    for name, v in (("n1", k1), ("n2", k2)):
        if not np.isfinite(v).all() or (v != np.round(v)).any():
            raise StatisticsError(f"{name} must be a whole number of patients (got {v.tolist()!r})")
    _check_sizes(k1, k2, single)
    v1 = s1 * s1
    v2 = s2 * s2
    _check_spread(v1, v2, single)
    vt: VarianceTestResult[Any, Any] | None = None
    if method == "auto":
        ratio, df1, df2, p, lo, hi = f_ratio_from_summary(v1, k1, v2, k2, "two-sided", confidence)
        vt = VarianceTestResult(
            method="F test of variances",
            statistic=out(ratio, single),
            dof=out(df1, single),
            dof_denominator=out(df2, single),
            p_value=out(p, single),
            variance_ratio=out(ratio, single),
            ci_low=out(lo, single),
            ci_high=out(hi, single),
            n1=out(k1.astype(np.int64), single),
            n2=out(k2.astype(np.int64), single),
            alternative="two-sided",
        )
    return _core(
        _Group(m1, v1, k1, out(k1.astype(np.int64), single)),
        _Group(m2, v2, k2, out(k2.astype(np.int64), single)),
        vt,
        _Options(method, t_prime, alpha, confidence, alternative, single),
    )
