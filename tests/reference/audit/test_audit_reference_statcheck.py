"""kypho's inline checks against statcheck's documented outcomes.

Source: statcheck (Epskamp S, Nuijten MB; R package, GitHub MicheleNuijten/statcheck),
its test suite ``tests/testthat/test-error.R`` and ``test-decisionerror.R`` and its
manual (rpubs.com/michelenuijten/statcheckmanual), which state for each printed result
whether statcheck flags it as an error (inconsistency) or a decision error; the rule
itself is that of Nuijten et al. (2016), Behav Res Methods 48:1205-1226. Only the
cases and their expected outcomes are carried over; no code.
"""

from __future__ import annotations

import math

import pytest
from scipy import stats

from kypho.audit.inline import check_inline, find_inline, one_tailed_mentioned


def _one(text: str, **kw: bool) -> tuple[str, bool | None, float | None]:
    found = find_inline(text)
    assert len(found) == 1, f"{text!r} gave {len(found)} results"
    f = check_inline(found, one_tailed_in_text=one_tailed_mentioned(text), **kw)[0]
    return f.status, f.decision_error, f.recomputed_value


# statcheck's "simple errors", "negative tests", "inexact p-values", "decision errors are
# also errors" and "correct rounding" cases: (text, statcheck flags an error)
CASES = [
    ("t(28) = 2.20, p = .03", True),
    ("F(2, 28) = 2.20, p = .15", True),
    ("r(28) = .22, p = .26", True),
    ("chi2(28) = 22.20, p = .79", True),
    (" z = 2.20, p = .04", True),
    ("Q(28) = 22.20, p = .79", True),
    (" Z = -2.42, p = 0.016", False),
    ("t(28) = -2.20, p = .03", True),
    ("t(28) = 2.20, ns", True),
    ("t(28) = 2.20, p > .05", True),
    ("t(28) = 2.0, p < .05", False),
    ("t(28) = 1.20, p = .03", True),
    ("t(28) = 2.20, p = .30", True),
    ("t(28) = 2, p = .02", False),
    ("t(28) = 2, p = .14", False),
    ("t(28) = 2.2, p = .03", False),
    ("t(28) = 2.2, p = .04", False),
    ("t(28) = 2.20, p = .036", False),
    ("t(28) = 2.20, p = .037", False),
    # test statistic exactly reported, P as an inequality (test-error.R, "t = ...")
    ("t(28) = 2.2, p = .036", False),
    ("t(28) = 2.2, p < .08", False),
    ("t(28) = 2.2, p > .02", False),
    ("t(28) = 2.2, p = .08", True),
    ("t(28) = 2.2, p = .02", True),
    ("t(28) = 2.2, p > .08", True),
    ("t(28) = 2.2, p < .02", True),
    # the statistic as an inequality ("t < ..." and "t > ...")
    ("t(28) < 2.2, p = .08", False),
    ("t(28) < 2.2, p > .08", False),
    ("t(28) < 2.2, p < .08", False),
    ("t(28) < 2.2, p > .02", False),
    ("t(28) < 2.2, p < .02", True),
    ("t(28) < 2.2, p = .02", True),
    ("t(28) > 2.2, p = .02", False),
    ("t(28) > 2.2, p > .02", False),
    ("t(28) > 2.2, p < .02", False),
    ("t(28) > 2.2, p < .08", False),
    ("t(28) > 2.2, p > .08", True),
    ("t(28) > 2.2, p = .08", True),
]


@pytest.mark.parametrize(("text", "error"), CASES)
def test_statcheck_error_cases(text: str, error: bool) -> None:
    status, _, _ = _one(text)
    assert status == ("inconsistent" if error else "consistent")


def test_bounds_from_the_exact_p_range() -> None:
    """statcheck's cases built from the exact range: p between pt(2.25) and pt(2.15)."""
    # printed with 10 decimals, rounded outwards so that the printed bound is the bound
    low = math.floor(2 * stats.t.sf(2.25, 28) * 1e10) / 1e10
    up = math.ceil(2 * stats.t.sf(2.15, 28) * 1e10) / 1e10
    assert _one(f"t(28) = 2.2, p > {up:.10f}")[0] == "inconsistent"
    assert _one(f"t(28) = 2.2, p < {low:.10f}")[0] == "inconsistent"
    assert _one(f"t(28) < 2.20, p > {up:.10f}")[0] == "consistent"
    assert _one(f"t(28) < 2.2, p = {low:.10f}")[0] == "inconsistent"
    assert _one(f"t(28) < 2.2, p < {low:.10f}")[0] == "inconsistent"
    assert _one(f"t(28) > 2.20, p < {up:.10f}")[0] == "consistent"
    assert _one(f"t(28) > 2.2, p = {up:.10f}")[0] == "inconsistent"
    assert _one(f"t(28) > 2.2, p > {up:.10f}")[0] == "inconsistent"


# test-decisionerror.R: every one of these is a decision error
DECISION = [
    "t(28) = 2.20, p = .06",
    "t(28) = 1.20, p = .03",
    "F(2, 28) = 22.20, p = .06",
    "F(2, 28) = 2.20, p = .03",
    "r(28) = .22, p = .03",
    "r(28) = .52, p = .06",
    "chi2(28) = 2.20, p = .03",
    "chi2(28) = 52.20, p = .06",
    " z = 1.20, p = .03",
    " z = 2.20, p = .06",
    "Q(28) = 2.20, p = .03",
    "Q(28) = 52.20, p = .06",
]


@pytest.mark.parametrize("text", DECISION)
def test_statcheck_decision_errors(text: str) -> None:
    status, decision, _ = _one(text)
    assert (status, decision) == ("inconsistent", True)


def test_p_equal_alpha_kypho_default_and_statcheck_switch() -> None:
    """P = .05 printed for a result whose P is .06: statcheck (pEqualAlphaSig = TRUE)
    counts the printed .05 as significant, so a decision error; kypho by default reads
    significance as P < alpha, so .05 is not significant and there is no decision error.
    """
    text = "t(28) = 1.95, p = .05"  # recomputed P = 0.0613
    status, default, value = _one(text)
    assert status == "inconsistent"
    assert value == pytest.approx(2 * stats.t.sf(1.95, 28), rel=1e-12)
    assert default is False
    assert _one(text, p_equal_alpha_significant=True)[1] is True


def test_p_zero_error_switch() -> None:
    """statcheck: "p = .000" is an error unless pZeroError = FALSE; "p < .000" always."""
    assert _one("t(28) = 22.20, p = .000")[0] == "inconsistent"
    assert _one("t(28) = 22.20, p = .000", p_zero_error=False)[0] == "consistent"
    assert _one("t(28) = 22.20, p < .000")[0] == "inconsistent"
    assert _one("t(28) = 22.20, p < .000", p_zero_error=False)[0] == "inconsistent"


def test_one_tailed_switches() -> None:
    """statcheck's OneTailedTests and OneTailedTxt cases (test-error.R)."""
    assert _one("t(28) = 2.20, p = .02", one_tailed_tests=True)[0] == "consistent"
    assert _one("t(28) = 2.20, p = .04", one_tailed_tests=True)[0] == "inconsistent"
    assert _one("t(28) = 2.20, p = .018")[0] == "inconsistent"
    assert _one("t(28) = 2.20, p = .018", one_tailed_text=True)[0] == "inconsistent"
    assert _one("t(28) = 2.20, p = .01, one-tailed", one_tailed_text=True)[0] == "inconsistent"
    assert _one("t(28) = 2.20, p = .018, one-tailed")[0] == "inconsistent"
    for word in ("one-tailed", "one-sided", "directional"):
        status, _, value = _one(f"t(28) = 2.20, p = .018, {word}", one_tailed_text=True)
        assert status == "consistent"
        assert value == pytest.approx(stats.t.sf(2.20, 28), rel=1e-12)


def test_recomputed_p_values() -> None:
    """statcheck's compute_p: t, F, z, r (via t = r√(df/(1−r²))), χ² and Q, with R's values.

    R 4.2.2: 2*pt(-2.2, 28) = 0.03622; pf(2.2, 2, 28, lower.tail=FALSE) = 0.1296;
    2*pnorm(-2.2) = 0.02781; 2*pt(-0.22/sqrt((1-0.22^2)/28), 28) = 0.2443 ... computed
    here from scipy only as the same closed forms, to 1e-12.
    """
    cases = {
        "t(28) = 2.20, p = .04": 2 * stats.t.sf(2.2, 28),
        "F(2, 28) = 2.20, p = .13": stats.f.sf(2.2, 2, 28),
        " z = 2.20, p = .03": 2 * stats.norm.sf(2.2),
        "r(28) = .22, p = .24": 2 * stats.t.sf(0.22 / ((1 - 0.22**2) / 28) ** 0.5, 28),
        "chi2(28) = 22.20, p = .77": stats.chi2.sf(22.2, 28),
        "Q(28) = 22.20, p = .77": stats.chi2.sf(22.2, 28),
        "F(1.5, 40.3) = 4.10, p = .03": stats.f.sf(4.1, 1.5, 40.3),
    }
    for text, expected in cases.items():
        assert _one(text)[2] == pytest.approx(expected, rel=1e-12), text
