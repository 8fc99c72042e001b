"""Benchmark: simulated studies per second for the Monte Carlo power of the study's
three endpoint kinds, vectorised (kypho.beyond) against a per-study scipy loop.

Run by hand: ``.venv/bin/python benchmarks/bench_power.py [--sims 20000] [--loop 500] [--repeat 5]``.

Both sides simulate the same designs (the paper's 55 vs 55 patients) and run the
same decision rules: the 2×2 χ² "auto" rule (Pearson / Yates / Fisher), the F test
followed by Student's t or Welch's t′, and the asymptotic tie-corrected
Mann–Whitney test on grade counts. The loop is timed on a subsample of studies
(``--loop``) and reported as studies per second; each figure is the median of
``--repeat`` runs. CI never runs this file.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
from scipy import stats

from kypho.beyond import (
    simulate_power_means,
    simulate_power_ordinal,
    simulate_power_proportions,
)

N = 55
P_LEAK = (0.036, 0.164)
MEANS = (85.32, 6.17, 84.97, 5.74)  # Table 4, anterior height ratio at 3 days
GRADES = (np.array([4, 7, 10, 34]) / 55, np.array([11, 18, 14, 12]) / 55)  # Table 7


def loop_proportions(rng: np.random.Generator, sims: int) -> int:
    rejected = 0
    for _ in range(sims):
        a = rng.binomial(N, P_LEAK[0])
        c = rng.binomial(N, P_LEAK[1])
        table = np.array([[a, N - a], [c, N - c]])
        if table.sum(axis=0).min() == 0:
            continue
        expected = stats.contingency.expected_freq(table)
        if table.sum() < 40 or expected.min() < 1:
            p = stats.fisher_exact(table)[1]
        else:
            p = stats.chi2_contingency(table, correction=bool(expected.min() < 5))[1]
        rejected += p < 0.05
    return rejected


def loop_means(rng: np.random.Generator, sims: int) -> int:
    m1, s1, m2, s2 = MEANS
    rejected = 0
    for _ in range(sims):
        x = rng.normal(m1, s1, N)
        y = rng.normal(m2, s2, N)
        f = np.var(x, ddof=1) / np.var(y, ddof=1)
        p_f = 2 * min(stats.f.sf(f, N - 1, N - 1), stats.f.cdf(f, N - 1, N - 1))
        p = stats.ttest_ind(x, y, equal_var=bool(p_f >= 0.05)).pvalue
        rejected += p < 0.05
    return rejected


def loop_ordinal(rng: np.random.Generator, sims: int) -> int:
    rejected = 0
    grades = np.arange(4)
    for _ in range(sims):
        x = np.repeat(grades, rng.multinomial(N, GRADES[0]))
        y = np.repeat(grades, rng.multinomial(N, GRADES[1]))
        p = stats.mannwhitneyu(x, y, use_continuity=False, method="asymptotic").pvalue
        rejected += p < 0.05
    return rejected


def vectorised(kind: str, sims: int, seed: int) -> None:
    if kind == "two proportions":
        simulate_power_proportions(P_LEAK[0], P_LEAK[1], n=N, sims=sims, seed=seed)
    elif kind == "two means":
        simulate_power_means(*MEANS, n=N, sims=sims, seed=seed)
    else:
        simulate_power_ordinal(GRADES[0], GRADES[1], n=N, sims=sims, seed=seed)


LOOPS: dict[str, Callable[[np.random.Generator, int], int]] = {
    "two proportions": loop_proportions,
    "two means": loop_means,
    "ordinal": loop_ordinal,
}


def median_rate(run: Callable[[int], object], sims: int, repeat: int) -> float:
    rates = []
    for i in range(repeat):
        start = time.perf_counter()
        run(i)
        rates.append(sims / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=20_000, help="studies per vectorised run")
    parser.add_argument("--loop", type=int, default=500, help="studies per timed loop run")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    args = parser.parse_args()
    print(f"{'endpoint':<16} {'vectorised/s':>14} {'scipy loop/s':>14} {'ratio':>8}")
    for kind, loop in LOOPS.items():
        fast = median_rate(lambda i, k=kind: vectorised(k, args.sims, i), args.sims, args.repeat)
        slow = median_rate(
            lambda i, f=loop: f(np.random.default_rng(i), args.loop), args.loop, args.repeat
        )
        print(f"{kind:<16} {fast:>14,.0f} {slow:>14,.0f} {fast / slow:>7.0f}×")


if __name__ == "__main__":
    main()
