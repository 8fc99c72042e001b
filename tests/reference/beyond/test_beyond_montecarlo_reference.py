"""Monte Carlo power against the exact power computed in R by full enumeration.

Source: ``tests/reference/oracles/beyond/exact_power.out``, printed by
``exact_power.R`` (R 4.2.2): every possible study outcome is enumerated and the
probabilities of those in which R's own tests reject at α = 0.05 are summed —
``chisq.test``/``fisher.test`` under the paper's 2×2 "auto" rule, and
``wilcox.test(exact = FALSE, correct = FALSE)`` for grades. The simulated power
must lie within 4 Monte Carlo standard errors of the exact value (10,000
simulated studies, fixed seeds).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kypho.beyond import simulate_power_ordinal, simulate_power_proportions

ORACLE = Path(__file__).parents[1] / "oracles" / "beyond" / "exact_power.out"
EXACT = {
    line.split()[0]: float(line.split()[1])
    for line in ORACLE.read_text().splitlines()
    if line and not line.startswith("#")
}
SIMS = 10_000
TABLE7 = ([4, 7, 10, 34], [11, 18, 14, 12])


@pytest.mark.parametrize(
    ("name", "p1", "p2", "n"),
    [
        ("prop_leak_n55", 0.036, 0.164, 55),
        ("prop_small_n15", 0.2, 0.6, 15),
        ("prop_mixed_n30", 0.1, 0.35, 30),
    ],
)
def test_chi_square_auto_power_matches_exact_enumeration(
    name: str, p1: float, p2: float, n: int
) -> None:
    result = simulate_power_proportions(p1, p2, n=n, sims=SIMS, seed=101)
    assert abs(result.power - EXACT[name]) <= 4 * result.mcse


@pytest.mark.parametrize(("name", "n"), [("mw_table7_n6", 6), ("mw_table7_n8", 8)])
def test_mann_whitney_power_matches_exact_enumeration(name: str, n: int) -> None:
    result = simulate_power_ordinal(*TABLE7, n=n, sims=SIMS, seed=102)
    assert abs(result.power - EXACT[name]) <= 4 * result.mcse
