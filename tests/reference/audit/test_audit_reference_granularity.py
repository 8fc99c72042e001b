"""GRIM, GRIMMER, DEBIT, rounding rules and SPRITE against published cases.

Sources (cases and expected outcomes only; no code carried over):
- Brown NJL, Heathers JAJ. The GRIM test. Soc Psychol Personal Sci 2017;8:363-369:
  a mean of 5.19 cannot come from 28 whole-number answers (its worked example).
- scrutiny (Jung L; R package, GitHub lhdjung/scrutiny): the README's ``grim_map(pigs1)``
  table (12 means with their n and printed consistency), the DEBIT vignette
  (``debit("0.35", "0.18", 20)`` is FALSE) and its DEBIT tests (0.35/0.49/20 possible
  with 7 ones; 0.35/0.41/20 not).
- Heathers JAJ, Brown NJL. DEBIT: a simple consistency test for binary data (2019).
- rsprite2 (Wallrich L; R package, GitHub LukasWallrich/rsprite2): SPRITE's documented
  solution and its possible/impossible cases (listed above RSPRITE2_CASES below).
- Anaya J. The GRIMMER test (2016): the parity of the sum of squares; worked here by
  hand for scrutiny's GRIMMER vignette case (7.3, 2.51, n = 12), derivation below.
"""

from __future__ import annotations

import statistics
from fractions import Fraction

import pytest

from kypho.audit.granularity import debit, grim, grim_percent, grimmer
from kypho.audit.rounding import ROUNDING_RULES, printed_interval
from kypho.audit.sprite import sprite
from kypho.errors import AuditError

PIGS1 = [
    ("7.22", 32, True),
    ("4.74", 25, False),
    ("5.23", 29, False),
    ("2.57", 24, False),
    ("6.77", 27, False),
    ("2.68", 28, True),
    ("7.01", 29, False),
    ("7.38", 26, True),
    ("3.14", 27, False),
    ("6.89", 31, False),
    ("5.00", 25, True),
    ("0.24", 28, False),
]


@pytest.mark.parametrize(("mean", "n", "consistent"), PIGS1)
def test_grim_scrutiny_pigs1(mean: str, n: int, consistent: bool) -> None:
    assert grim(mean, n).consistent is consistent


def test_grim_brown_heathers_worked_example() -> None:
    """5.19 from n = 28: 145/28 = 5.179 and 146/28 = 5.214, neither prints as 5.19."""
    r = grim("5.19", 28)
    assert r.consistent is False
    assert r.nearest == ("5.18", "5.21")
    assert grim("5.18", 28).consistent is True


def test_grim_percentages() -> None:
    """A percentage of n patients is k/n: 9/55 = 16.36 % prints as 16.4; nothing prints as 16.5."""
    assert grim_percent("16.4", 55).consistent is True
    assert grim_percent("3.6", 55).consistent is True
    assert grim_percent("16.5", 55).consistent is False
    assert grim_percent("16.5", 55).nearest == ("16.4", "18.2")


def test_grimmer_by_hand() -> None:
    """7.3 ± 2.51, n = 12 (scrutiny's GRIMMER vignette case), by hand:
    totals T with T/12 printing as 7.3: 87 (7.25) and 88 (7.333). With SD in
    [2.505, 2.515], Σx² = 11·s² + T²/12 lies in [699.78, 700.33] for T = 87 — only 700,
    whose parity (even) differs from T's (odd) — and in [714.36, 714.91] for T = 88,
    which holds no whole number. So no sample exists."""
    assert grimmer("7.3", "2.51", 12).consistent is False
    # 7.3 ± 2.50: T = 87, Σx² ∈ [699.67, 700.22] → 700 (even ≠ odd); T = 88, [714.25, 714.80]: none
    assert grimmer("7.25", "2.53", 12).consistent is True  # e.g. T = 87, Σx² = 701


def test_grimmer_items_scale_the_granularity() -> None:
    """With 2 items a score is S/2: the mean of 12 such scores moves in steps of 1/24."""
    assert grim("7.29", 12).consistent is False
    assert grim("7.29", 12, items=2).consistent is True
    assert grimmer("7.29", "2.51", 12).consistent is False
    assert grimmer("7.29", "2.51", 12, items=2).grim_consistent is True


@pytest.mark.parametrize(
    ("mean", "sd", "n", "consistent"),
    [("0.35", "0.18", 20, False), ("0.35", "0.49", 20, True), ("0.35", "0.41", 20, False)],
)
def test_debit_scrutiny_cases(mean: str, sd: str, n: int, consistent: bool) -> None:
    r = debit(mean, sd, n)
    assert r.consistent is consistent
    if consistent:
        assert r.counts == (7,)


def test_rounding_rules_intervals() -> None:
    """The intervals of each rule for 2.45 (2 decimals), as defined in kypho.audit.rounding."""
    h = Fraction(1, 200)
    u = Fraction(1, 100)
    m = Fraction(245, 100)
    expect = {
        "up_or_down": (m - h, m + h, True, True),
        "up": (m - h, m + h, True, False),
        "down": (m - h, m + h, False, True),
        "even": (m - h, m + h, False, False),  # last digit 5 is odd
        "ceiling": (m - u, m, False, True),
        "floor": (m, m + u, True, False),
        "ceiling_or_floor": (m - u, m + u, False, False),
        "trunc": (m, m + u, True, False),
        "anti_trunc": (m - u, m, False, True),
    }
    assert set(expect) == set(ROUNDING_RULES)
    for rule, (lo, hi, lc, hc) in expect.items():
        iv = printed_interval("2.45", rounding=rule)
        assert (iv.low, iv.high, iv.low_closed, iv.high_closed) == (lo, hi, lc, hc), rule
    neg = printed_interval("-2.45", rounding="trunc")
    assert (neg.low, neg.high, neg.low_closed, neg.high_closed) == (-m - u, -m, False, True)


def test_grim_depends_on_the_rounding_rule() -> None:
    """3 of 8 whole numbers summing to 21 give 2.625: "2.63" rounds half up, "2.62" half
    down or to even; up_or_down accepts both."""
    assert grim("2.63", 8, rounding="up").consistent is True
    assert grim("2.63", 8, rounding="down").consistent is False
    assert grim("2.62", 8, rounding="even").consistent is True
    assert grim("2.62", 8, rounding="up").consistent is False
    assert grim("2.62", 8).consistent is True
    assert grim("2.63", 8).consistent is True
    assert grim("2.6", 8, rounding="trunc").consistent is True  # 2.625 truncates to 2.6
    # "2.9" of 7: rounded, a true mean in [2.85, 2.95] (20/7 = 2.857); truncated, one in
    # [2.9, 3.0), which no total over 7 reaches (20/7 = 2.857, 21/7 = 3)
    assert grim("2.9", 7).consistent is True
    assert grim("2.9", 7, rounding="trunc").consistent is False


def test_sprite_samples_have_the_printed_summaries() -> None:
    """Every SPRITE sample's mean and SD print as the reported ones (the method's
    definition, Heathers et al. 2018); impossible inputs are those GRIMMER rejects."""
    r = sprite("3.50", "1.19", 20, low=1, high=7, max_samples=4, seed=3)
    assert r.status == "found"
    assert len(r.samples) == 4
    assert len(set(r.samples)) == 4
    for s in r.samples:
        assert f"{statistics.mean(s):.2f}" == "3.50"
        assert f"{statistics.stdev(s):.2f}" == "1.19"
        assert min(s) >= 1
        assert max(s) <= 7
    assert sprite("0.15", "0.09", 55, low=0, high=10).status == "impossible"


# rsprite2 (Wallrich L; R package, GitHub LukasWallrich/rsprite2), cases and expected
# outcomes only, read from its documentation and tests:
# - README "Simple example" and the example printed on its reference page
#   reference/find_possible_distribution.html (pkgdown, version 0.2.0):
#   set_parameters(mean = 2.2, sd = 1.3, n_obs = 20, min_val = 1, max_val = 5) gives
#   outcome "success", values 2 1 1 4 1 3 4 1 3 3 1 3 4 1 1 4 1 1 2 4, mean 2.25,
#   sd 1.292692.
# - tests/testthat/test-core-and-plot-functions.R: GRIMMER_test(5.21, 1.6, 28) TRUE,
#   GRIMMER_test(3.44, 2.47, 18) FALSE; .sd_limits(n_obs = 5, mean = 4.2, 1, 7,
#   sd_prec = 2) = (0.45, 3.03), and (0.27, 3.03) with n_items = 2.
# - tests/testthat/test-statistical-regressions.R: GRIMMER_test(1.44, .17, 9) FALSE,
#   GRIMMER_test(2.5, 0, 10) FALSE (a constant sample cannot have a half mean).
# - tests/testthat/test-reconstruction-audit.R: set_parameters(3, 0, 10, 1, 3) is
#   reconstructed; "inclusive rounding intervals": mean ±1.3, SD .5, n 4 on 1–2 (and on
#   −2 to −1) is reconstructed, as is 1.72, 1.6, n 40 on −1 to 4 with 3 items;
#   set_parameters(8, 1, 20, 1, 7) fails ("mean is outside"), n_obs = 1 is refused.
RSPRITE2_DOCUMENTED = (2, 1, 1, 4, 1, 3, 4, 1, 3, 3, 1, 3, 4, 1, 1, 4, 1, 1, 2, 4)

# (mean, sd, n, low, high, items, status): "found" where rsprite2 reconstructs a sample
# or its GRIMMER/SD limits allow one; "impossible" where they prove none exists.
RSPRITE2_CASES = [
    ("2.2", "1.3", 20, 1, 5, 1, "found"),
    ("5.21", "1.6", 28, 1, 7, 1, "found"),
    ("3.44", "2.47", 18, 1, 7, 1, "impossible"),
    ("1.44", "0.17", 9, 1, 7, 1, "impossible"),
    ("2.5", "0", 10, 1, 7, 1, "impossible"),
    ("4.2", "0.45", 5, 1, 7, 1, "found"),
    ("4.2", "0.44", 5, 1, 7, 1, "impossible"),
    ("4.2", "3.03", 5, 1, 7, 1, "found"),
    ("4.2", "3.04", 5, 1, 7, 1, "impossible"),
    ("4.2", "0.27", 5, 1, 7, 2, "found"),
    ("4.2", "0.26", 5, 1, 7, 2, "impossible"),
    ("3", "0", 10, 1, 3, 1, "found"),
    ("1.3", "0.5", 4, 1, 2, 1, "found"),
    ("-1.3", "0.5", 4, -2, -1, 1, "found"),
    ("1.72", "1.6", 40, -1, 4, 3, "found"),
    ("8", "1", 20, 1, 7, 1, "impossible"),
]


def test_rsprite2_documented_sample_prints_as_its_parameters() -> None:
    """rsprite2's printed solution has the mean and SD it printed, and both fall in
    kypho's rounding intervals of the reported 2.2 and 1.3 (2.25 on the interval's end)."""
    assert statistics.mean(RSPRITE2_DOCUMENTED) == 2.25
    assert f"{statistics.stdev(RSPRITE2_DOCUMENTED):.6f}" == "1.292692"
    assert min(RSPRITE2_DOCUMENTED) >= 1
    assert max(RSPRITE2_DOCUMENTED) <= 5
    total = sum(RSPRITE2_DOCUMENTED)
    assert printed_interval("2.2").contains(Fraction(total, 20))
    assert printed_interval("1.3").contains(Fraction(statistics.stdev(RSPRITE2_DOCUMENTED)))
    assert grimmer("2.2", "1.3", 20, low=1, high=5).consistent is True


@pytest.mark.parametrize(("mean", "sd", "n", "low", "high", "items", "status"), RSPRITE2_CASES)
def test_sprite_against_rsprite2(
    mean: str, sd: str, n: int, low: int, high: int, items: int, status: str
) -> None:
    r = sprite(mean, sd, n, low=low, high=high, items=items, max_samples=3, seed=1)
    assert r.status == status, r.reason
    if status == "impossible":
        assert r.samples == ()
        return
    assert r.samples
    m_iv, s_iv = printed_interval(mean), printed_interval(sd)
    for s in r.samples:
        assert len(s) == n
        assert min(s) >= low
        assert max(s) <= high
        units = [Fraction(round(v * items), items) for v in s]  # values on the item lattice
        assert all(abs(float(u) - v) < 1e-12 for u, v in zip(units, s, strict=True))
        mu = sum(units, Fraction(0)) / n
        var = sum(((u - mu) ** 2 for u in units), Fraction(0)) / (n - 1)
        assert m_iv.contains(mu)
        assert max(s_iv.low, 0) ** 2 <= var <= s_iv.high**2  # the SD prints as reported


def test_sprite_refuses_a_single_value_as_rsprite2_does() -> None:
    with pytest.raises(AuditError, match="at least 2"):
        sprite("2", "1", 1, low=1, high=3)
