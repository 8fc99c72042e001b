"""Analytic power and sample size against R and against Cohen's published tables.

R values: ``tests/reference/oracles/beyond/power.out``, printed by ``power.R`` in the
same folder (R 4.2.2, package stats, ``power.prop.test`` and ``power.t.test``;
regenerate with ``run.sh``). R solves for n with ``uniroot`` at its default
tolerance, so solved sizes are compared at rel=1e-6 and powers at rel=1e-8.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kypho.beyond import power_means, power_proportions

ORACLE = Path(__file__).parents[1] / "oracles" / "beyond" / "power.out"


def _r_values() -> dict[str, float]:
    values: dict[str, float] = {}
    for line in ORACLE.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, value = line.split()
        values[name] = float(value)
    return values


R = _r_values()

PROPORTION_CASES = [
    # name, p1, p2, keyword arguments, field compared
    ("prop_n_leak_p80", 0.164, 0.036, {"power": 0.80}, "n1"),
    ("prop_n_leak_p90", 0.164, 0.036, {"power": 0.90}, "n1"),
    ("prop_power_leak_n55", 0.164, 0.036, {"n": 55}, "power"),
    ("prop_power_leak_n55_strict", 0.164, 0.036, {"n": 55, "strict": True}, "power"),
    ("prop_power_50_75_n50", 0.50, 0.75, {"n": 50}, "power"),
    ("prop_n_50_75_p90", 0.50, 0.75, {"power": 0.90}, "n1"),
    ("prop_power_leak_n55_one", 0.164, 0.036, {"n": 55, "alternative": "one-sided"}, "power"),
    ("prop_power_near_null_strict", 0.30, 0.32, {"n": 40, "strict": True}, "power"),
    ("prop_power_near_null", 0.30, 0.32, {"n": 40}, "power"),
]


@pytest.mark.parametrize(("name", "p1", "p2", "kwargs", "field"), PROPORTION_CASES)
def test_power_proportions_matches_r_power_prop_test(
    name: str, p1: float, p2: float, kwargs: dict[str, object], field: str
) -> None:
    """R: power.prop.test(p1=, p2=, n= | power=, strict=, alternative=) — see power.R."""
    result = power_proportions(p1, p2, **kwargs)  # type: ignore[arg-type]
    rel = 1e-6 if field == "n1" else 1e-8
    assert getattr(result, field) == pytest.approx(R[name], rel=rel)


MEAN_CASES = [
    ("t_power_n20_d1", 1.0, 1.0, {"n": 20}, "power"),
    ("t_power_n20_d1_strict", 1.0, 1.0, {"n": 20, "strict": True}, "power"),
    ("t_n_d1_p90", 1.0, 1.0, {"power": 0.90}, "n1"),
    ("t_n_d1_p90_one", 1.0, 1.0, {"power": 0.90, "alternative": "one-sided"}, "n1"),
    ("t_power_vas_n55", 0.10, 0.5, {"n": 55}, "power"),
    ("t_n_height_p80", 2.2, 3.4, {"power": 0.80}, "n1"),
    ("t_power_small_strict", 0.3, 1.0, {"n": 5, "strict": True}, "power"),
    ("t_power_alpha01", 0.8, 1.0, {"n": 30, "alpha": 0.01}, "power"),
]


@pytest.mark.parametrize(("name", "delta", "sd", "kwargs", "field"), MEAN_CASES)
def test_power_means_matches_r_power_t_test(
    name: str, delta: float, sd: float, kwargs: dict[str, object], field: str
) -> None:
    """R: power.t.test(n= | power=, delta=, sd=, sig.level=, strict=, alternative=) — see power.R."""
    result = power_means(delta, sd, **kwargs)  # type: ignore[arg-type]
    rel = 1e-6 if field == "n1" else 1e-8
    assert getattr(result, field) == pytest.approx(R[name], rel=rel)


@pytest.mark.parametrize(
    ("h", "published_n"),
    [(0.10, 1570), (0.20, 392), (0.40, 98), (0.50, 63), (0.60, 44), (0.80, 25)],
)
def test_arcsine_sample_size_matches_cohen_table_6_4_1(h: float, published_n: int) -> None:
    """Cohen (1988), Table 6.4.1: n per group for power 0.80, two-sided α = 0.05, effect h.

    Cohen tabulates n rounded to the nearest whole patient, so the computed n must
    round to the published value. Proportions with the given h are built from
    p2 = 0.5: p1 = sin²(asin(√0.5) + h/2).
    """
    import math

    p1 = math.sin(math.asin(math.sqrt(0.5)) + h / 2) ** 2
    result = power_proportions(p1, 0.5, power=0.80, method="arcsine")
    assert round(result.n1) == published_n


@pytest.mark.parametrize(("d", "published_n"), [(0.20, 393), (0.50, 64), (0.80, 26), (1.00, 17)])
def test_t_sample_size_matches_cohen_table_2_4_1(d: float, published_n: int) -> None:
    """Cohen (1988), Table 2.4.1: n per group for power 0.80, two-sided α = 0.05, effect d.

    Cohen tabulates n rounded to the nearest whole patient; the exact noncentral-t
    size must round to the published value.
    """
    result = power_means(d, 1.0, power=0.80)
    assert round(result.n1) == published_n
