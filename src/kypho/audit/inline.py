"""Test results printed in running text ("t(28) = 2.20, p = .03"): read them, recompute P.

This is what statcheck does (Nuijten et al. 2016), for the same six tests — t, F, r,
χ², z and Q — and for the clinical styles statcheck does not read ("t = 3.26,
P = 0.001", "χ²=4.95, P<0.05"; without a df those are reported as not checkable rather
than guessed).

The rule
--------
A printed statistic ``x`` with ``d`` decimals stands for any value within half a unit
of its last digit; a printed bound (``t < 2.2``) is exact. The P values those values
give form an interval (P falls as ``|x|`` grows, so a negative statistic is checked
through its absolute value: its sign never breaks the check). The printed P is a set
too: ``P = .03`` is [0.025, 0.035], ``P < .05`` is [0, 0.05), ``P > .05`` and ``ns``
are (0.05, 1]. The result is **consistent** when the two sets meet, **inconsistent**
when they do not, **impossible** when no P can be printed so (P outside [0, 1], a
correlation beyond ±1, a negative χ² or F) and **not_checkable** without a df. An
inconsistent result is a **decision error** when the printed P and the P recomputed
from the printed statistic fall on different sides of alpha.

kypho's defaults and statcheck's switches
-----------------------------------------
``p_equal_alpha_significant`` (statcheck's ``pEqualAlphaSig``): statcheck counts
``p = .05`` as significant; kypho does not by default, because clinical papers (and the
one this project implements: "P < 0.05") define significance as P < α. Pass ``True``
for statcheck's reading. ``p_zero_error`` (``pZeroError``, default True in both): a P
printed as ``.000`` is an error, since a P is never 0 (``< .001`` is meant).
``one_tailed_text`` (``OneTailedTxt``, default False in both): when the text says
"one-tailed", "one-sided" or "directional", a t, z or r result that is wrong two-tailed
but right one-tailed counts as consistent. ``one_tailed_tests`` (``OneTailedTests``):
every t, z and r is one-tailed.

The recomputation is vectorised: a batch of results from many papers is one array
computation per test kind (see ``benchmarks/bench_audit.py``).

References
----------
Nuijten MB, Hartgerink CHJ, van Assen MALM, Epskamp S, Wicherts JM. The prevalence of
statistical reporting errors in psychology (1985–2013). Behav Res Methods
2016;48:1205–1226. Epskamp S, Nuijten MB. statcheck (R package) and its manual.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from kypho.audit._base import fmt_p, p_is
from kypho.audit.model import Reported
from kypho.audit.result import Finding, Status
from kypho.stats import _dist as stats

__all__ = [
    "TESTS",
    "InlineResult",
    "check_inline",
    "find_inline",
    "one_tailed_mentioned",
]

TestName = Literal["t", "F", "r", "chi2", "z", "Q"]
TESTS: tuple[TestName, ...] = ("t", "F", "r", "chi2", "z", "Q")
_DISPLAY = {"t": "t", "F": "F", "r": "r", "chi2": "χ²", "z": "z", "Q": "Q"}


@dataclass(frozen=True)
class InlineResult:
    """One test result as printed in the text.

    Attributes
    ----------
    test : str
        ``"t"``, ``"F"``, ``"r"``, ``"chi2"``, ``"z"`` or ``"Q"``.
    df1, df2 : float or None
        Degrees of freedom as printed: ``df1`` for F, χ² and Q; ``df2`` for t, r and
        the F denominator. None where the text gives none.
    statistic : Reported
        The statistic as printed, sign included; its comparator for ``t < 2.2``.
    p : Reported or None
        The P as printed; None for ``ns``.
    ns : bool
        The text says "ns" instead of a P.
    text : str
        The exact text matched, quoted in findings.
    page, line : int or None
        Where it was found (1-based).
    """

    test: TestName
    df1: float | None
    df2: float | None
    statistic: Reported
    p: Reported | None
    text: str
    ns: bool = False
    page: int | None = None
    line: int | None = None

    @cached_property
    def label(self) -> str:
        """The test as printed with its df: ``t(28)``, ``F(2, 28)``, ``χ²(1)``."""
        name = _DISPLAY[self.test]
        dfs = [d for d in ((self.df1, self.df2) if self.test == "F" else (self.df1 or self.df2,))]
        shown = [f"{d:g}" for d in dfs if d is not None]
        return f"{name}({', '.join(shown)})" if shown else name


# --- reading -------------------------------------------------------------------------

_NUM = r"[-−–]?\s?(?:\d+(?:\.\d+)?|\.\d+)"
_CMP = r"(?:<=|>=|≤|≥|=|<|>)"
_DF = r"\d+(?:\.\d+)?"
_TEST_TOKEN = (
    r"(?P<name>\bt\b|\bF\b|\br\b|\b[zZ]\b|\bQ\b|χ\s?²|χ\s?2|\bchi2\b|\bchi-square\b|\bX2\b)"
)
_PATTERN = re.compile(
    _TEST_TOKEN
    + r"\s*(?:\(\s*(?P<df1>"
    + _DF
    + r")\s*(?:,\s*(?P<df2>"
    + _DF
    + r"))?\s*(?:,\s*N\s*=\s*\d+\s*)?\)|(?P<dfsub>"
    + _DF
    + r"))?"
    + r"\s*(?P<scmp>"
    + _CMP
    + r")\s*(?P<stat>"
    + _NUM
    + r")\s*[,;]\s*(?:(?:[pP]\s*(?P<pcmp>"
    + _CMP
    + r")\s*(?P<p>\d*\.\d+|\d+))|(?P<ns>\bn\.?s\.?\b))"
)
_ONE_TAILED = re.compile(r"one[- ]tailed|one[- ]sided|directional", re.IGNORECASE)
_COMPARATORS = {"<=": "<=", ">=": ">=", "≤": "<=", "≥": ">=", "=": "=", "<": "<", ">": ">"}


def _test_name(token: str) -> TestName:
    t = token.replace(" ", "")
    if t in ("t", "F", "r", "Q"):
        return t  # type: ignore[return-value]
    if t in ("z", "Z"):
        return "z"
    return "chi2"


def _reported(text: str, comparator: str) -> Reported:
    body = text.replace("−", "-").replace("–", "-").replace(" ", "")
    decimals = len(body.split(".", 1)[1]) if "." in body else 0
    cmp = _COMPARATORS[comparator]
    return Reported(text.strip(), float(body), decimals, cmp)  # type: ignore[arg-type]


def find_inline(
    text: str, *, page: int | None = None, line: int | None = None
) -> list[InlineResult]:
    """Every test result printed in ``text``, in order.

    Examples
    --------
    >>> [r.label for r in find_inline("as expected (t(108) = 0.78, p = .44); F(2, 28) = 2.20, p = .13")]
    ['t(108)', 'F(2, 28)']
    >>> r = find_inline("χ²=4.95, P<0.05")[0]
    >>> r.test, r.df1, r.statistic.value, r.p.comparator
    ('chi2', None, 4.95, '<')
    """
    out: list[InlineResult] = []
    for m in _PATTERN.finditer(text):
        test = _test_name(m.group("name"))
        df_a = m.group("df1") or m.group("dfsub")
        df_b = m.group("df2")
        a = float(df_a) if df_a else None
        b = float(df_b) if df_b else None
        if test == "F":
            df1, df2 = a, b
            if a is not None and b is None:
                continue  # "F(28)": not a complete F; statcheck skips it too
        elif test in ("chi2", "Q"):
            df1, df2 = a, None
        else:
            df1, df2 = None, a
        stat = _reported(m.group("stat"), m.group("scmp"))
        p = None if m.group("ns") else _reported(m.group("p"), m.group("pcmp"))
        out.append(
            InlineResult(
                test, df1, df2, stat, p, m.group(0).strip(), ns=p is None, page=page, line=line
            )
        )
    return out


def one_tailed_mentioned(text: str) -> bool:
    """Whether the text says "one-tailed", "one-sided" or "directional"."""
    return _ONE_TAILED.search(text) is not None


# --- recomputing ---------------------------------------------------------------------


def _p_values(
    test: str, stat: NDArray[np.float64], df1: NDArray[np.float64], df2: NDArray[np.float64]
) -> NDArray[np.float64]:
    """One-tailed upper P of the statistic's absolute value (t, z, r) or of F, χ², Q."""
    a = np.abs(stat)
    with np.errstate(divide="ignore", invalid="ignore"):
        if test == "t":
            return np.asarray(stats.t.sf(a, df2), dtype=np.float64)
        if test == "z":
            return np.asarray(stats.norm.sf(a), dtype=np.float64)
        if test == "r":
            r = np.minimum(a, 1.0)
            t = np.where(r < 1.0, r * np.sqrt(df2 / np.maximum(1.0 - r * r, 1e-300)), np.inf)
            return np.asarray(stats.t.sf(t, df2), dtype=np.float64)
        if test == "F":
            return np.asarray(stats.f.sf(stat, df1, df2), dtype=np.float64)
        return np.asarray(stats.chi2.sf(stat, df1), dtype=np.float64)


def _p_range(
    results: Sequence[InlineResult], tails: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Recomputed P at the printed statistic, and its range over the printed rounding."""
    k = len(results)
    point, low, high = np.empty(k), np.empty(k), np.empty(k)
    for test in TESTS:
        idx = np.array([i for i, r in enumerate(results) if r.test == test], dtype=np.intp)
        if idx.size == 0:
            continue
        sel = [results[i] for i in idx]
        x = np.array([abs(r.statistic.value) for r in sel])
        h = np.array([r.statistic.half_unit for r in sel])
        cmp = [r.statistic.comparator for r in sel]
        df1 = np.array([np.nan if r.df1 is None else r.df1 for r in sel])
        df2 = np.array([np.nan if r.df2 is None else r.df2 for r in sel])
        exact = np.array([c == "=" for c in cmp])
        below = np.array([c in ("<", "<=") for c in cmp])
        x_lo = np.where(exact, np.maximum(x - h, 0.0), np.where(below, 0.0, x))
        x_hi = np.where(exact, x + h, np.where(below, x, np.inf))
        f = tails[idx]
        point[idx] = np.minimum(f * _p_values(test, x, df1, df2), 1.0)
        high[idx] = np.minimum(f * _p_values(test, x_lo, df1, df2), 1.0)
        low[idx] = np.minimum(f * _p_values(test, x_hi, df1, df2), 1.0)
    return point, low, high


def _meets(
    p: Reported | None, ns: bool, lo: float, hi: float, alpha: float, p_zero_error: bool
) -> bool:
    """Whether some P in [lo, hi] prints as the reported P."""
    if ns or p is None:
        return hi > alpha
    if p.comparator in ("<", "<="):
        return lo < p.value or (p.comparator == "<=" and lo <= p.value)
    if p.comparator in (">", ">="):
        return hi > p.value or (p.comparator == ">=" and hi >= p.value)
    if p_zero_error and p.value <= 0.0:
        return False
    return p.low <= hi and lo <= p.high


def _reported_significant(
    p: Reported | None, ns: bool, alpha: float, equal_sig: bool
) -> bool | None:
    if ns or p is None:
        return False
    v = p.value
    if p.comparator == "=":
        return v <= alpha if equal_sig else v < alpha
    if p.comparator in ("<", "<="):
        return True if v <= alpha else None
    return False if v >= alpha else None


def check_inline(
    results: Iterable[InlineResult],
    *,
    alpha: float = 0.05,
    p_equal_alpha_significant: bool = False,
    p_zero_error: bool = True,
    one_tailed_text: bool = False,
    one_tailed_in_text: bool | Sequence[bool] = False,
    one_tailed_tests: bool = False,
) -> list[Finding]:
    """Recompute P for every result and classify it (the rule in the module docstring).

    Parameters
    ----------
    results : iterable of InlineResult
        From :func:`find_inline`.
    alpha : float
        The significance level for decision errors.
    p_equal_alpha_significant, p_zero_error, one_tailed_text, one_tailed_tests : bool
        statcheck's switches ``pEqualAlphaSig``, ``pZeroError``, ``OneTailedTxt`` and
        ``OneTailedTests``; kypho's defaults are explained in the module docstring.
    one_tailed_in_text : bool or sequence of bool
        The document mentions a one-tailed test (:func:`one_tailed_mentioned`); used
        with ``one_tailed_text``. One flag per result when results of several papers
        are checked in one call.

    Returns
    -------
    list of Finding
        One per result, with ``check="p_from_statistic"``, ``table=0`` (the text),
        ``source_text`` quoting it, and its page and line.

    Examples
    --------
    >>> [f.status for f in check_inline(find_inline("t(28) = 2.20, p = .03. t(28) = 2.20, p = .04"))]
    ['inconsistent', 'consistent']
    """
    items = list(results)
    if not items:
        return []
    one = np.array([r.test in ("t", "z", "r") for r in items])
    mentioned = (
        np.full(len(items), bool(one_tailed_in_text))
        if isinstance(one_tailed_in_text, bool)
        else np.asarray(one_tailed_in_text, dtype=bool)
    )
    two_tailed = np.where(one & one_tailed_tests, 1.0, np.where(one, 2.0, 1.0))
    # Python floats and bools from here on: formatting numpy scalars one by one is slow.
    point, low, high = (a.tolist() for a in _p_range(items, two_tailed))
    if one_tailed_text and mentioned.any() and not one_tailed_tests:
        p1, l1, h1 = (a.tolist() for a in _p_range(items, np.ones(len(items))))
    one_l, mentioned_l, two_l = one.tolist(), mentioned.tolist(), two_tailed.tolist()
    out: list[Finding] = []
    for i, r in enumerate(items):
        tails = "one-tailed" if two_l[i] == 1.0 and one_l[i] else "two-tailed"
        status, reason, value, lo, hi = _classify(
            r, point[i], low[i], high[i], alpha, p_zero_error, tails
        )
        if (
            status == "inconsistent"
            and one_l[i]
            and one_tailed_text
            and mentioned_l[i]
            and not one_tailed_tests
            and _meets(r.p, r.ns, l1[i], h1[i], alpha, p_zero_error)
        ):
            status = "consistent"
            value, lo, hi = p1[i], l1[i], h1[i]
            tails = "one-tailed"
            reason = (
                f"wrong as a two-tailed test, right as a one-tailed one (the text mentions a "
                f"one-tailed test): {p_is(_fmt(value))}"
            )
        decision = None
        if status == "inconsistent":
            rep = _reported_significant(r.p, r.ns, alpha, p_equal_alpha_significant)
            comp = value <= alpha if p_equal_alpha_significant else value < alpha
            decision = None if rep is None else bool(rep != comp)
            if decision:
                reason += f"; a decision error at alpha = {alpha:g}"
        printed = "ns" if r.ns or r.p is None else f"P {r.p.comparator} {r.p.text}"
        out.append(
            Finding(
                0,
                "text",
                r.label,
                "p_from_statistic",
                status,
                reason,
                reported=f"{_DISPLAY[r.test]} {r.statistic.comparator} {r.statistic.text}, {printed}",
                recomputed=None if status == "not_checkable" else _span(value, lo, hi),
                method=f"{tails} {_DISPLAY[r.test]} test P from the printed statistic",
                recomputed_value=None if status == "not_checkable" else float(value),
                recomputed_low=None if status == "not_checkable" else float(lo),
                recomputed_high=None if status == "not_checkable" else float(hi),
                decision_error=decision,
                source_text=r.text,
                page=r.page,
                line=r.line,
            )
        )
    return out


def _classify(
    r: InlineResult,
    value: float,
    lo: float,
    hi: float,
    alpha: float,
    p_zero_error: bool,
    tails: str,
) -> tuple[Status, str, float, float, float]:
    name = _DISPLAY[r.test]
    if r.p is not None and not 0.0 <= r.p.value <= 1.0:
        return (
            "impossible",
            f"a P of {r.p.text} is impossible: P lies between 0 and 1",
            value,
            lo,
            hi,
        )
    if r.test == "r" and abs(r.statistic.value) > 1.0:
        return (
            "impossible",
            f"a correlation of {r.statistic.text} is impossible: r lies in [−1, 1]",
            value,
            lo,
            hi,
        )
    if r.test in ("F", "chi2", "Q") and r.statistic.value < 0:
        return (
            "impossible",
            f"{name} cannot be negative (printed {r.statistic.text})",
            value,
            lo,
            hi,
        )
    needs = {
        "t": r.df2,
        "r": r.df2,
        "F": r.df2 if r.df1 is not None else None,
        "chi2": r.df1,
        "Q": r.df1,
    }
    if r.test != "z" and needs[r.test] is None:
        return (
            "not_checkable",
            f"{name} is printed without its degrees of freedom, so P cannot be recomputed",
            value,
            lo,
            hi,
        )
    if r.p is not None and r.p.comparator in ("<", "<=") and r.p.value <= 0.0:
        return "inconsistent", f"P {r.p.comparator} {r.p.text} is never true", value, lo, hi
    if p_zero_error and r.p is not None and r.p.comparator == "=" and r.p.value == 0.0:
        return (
            "inconsistent",
            f"P = {r.p.text} is an error: a P is never 0 (print P < {_smallest(r.p)}); recomputed {_fmt(value)}",
            value,
            lo,
            hi,
        )
    ok = _meets(r.p, r.ns, lo, hi, alpha, p_zero_error)
    span = _span(value, lo, hi)
    if ok:
        return (
            "consistent",
            f"{tails} P from {r.label} = {r.statistic.text} is {span}",
            value,
            lo,
            hi,
        )
    printed = "ns" if r.ns or r.p is None else f"P {r.p.comparator} {r.p.text}"
    return (
        "inconsistent",
        f"{tails} P from {r.label} = {r.statistic.text} is {span}, not {printed}",
        value,
        lo,
        hi,
    )


def _smallest(p: Reported) -> str:
    return "0." + "0" * max(p.decimals - 1, 2) + "1"


def _fmt(p: float) -> str:
    return fmt_p(p, below=0.0001)


def _span(value: float, lo: float, hi: float) -> str:
    a, b = _fmt(lo), _fmt(hi)
    if a == b:
        return _fmt(value)
    return f"{_fmt(value)} [{a}, {b}]"
