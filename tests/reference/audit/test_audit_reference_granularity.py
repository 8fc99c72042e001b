"""GRIM, GRIMMER, DEBIT, rounding rules and SPRITE against published cases.

Sources (cases and expected outcomes only; no code carried over):
- Brown NJL, Heathers JAJ. The GRIM test. Soc Psychol Personal Sci 2017;8:363-369:
  a mean of 5.19 cannot come from 28 whole-number answers (its worked example).
- scrutiny (Jung L; R package, GitHub lhdjung/scrutiny): the README's ``grim_map(pigs1)``
  table (12 means with their n and printed consistency), the DEBIT vignette
  (``debit("0.35", "0.18", 20)`` is FALSE) and its DEBIT tests (0.35/0.49/20 possible
  with 7 ones; 0.35/0.41/20 not).
- Heathers JAJ, Brown NJL. DEBIT: a simple consistency test for binary data (2019).
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
