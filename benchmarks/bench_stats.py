"""Benchmark of kypho.stats: large groups and batches of simulated studies.

Run by hand (``make bench`` or ``.venv/bin/python benchmarks/bench_stats.py``);
CI never asserts a time. Two parts:

1. Two groups of 10⁶ values each: one kypho call against the matching SciPy call.
2. A batch of 10⁵ simulated 55-vs-55 studies (the paper's design): one vectorised
   kypho call (``axis=1``) against a Python loop calling SciPy once per study.
   The loop is timed on a subsample of 2,000 studies and scaled to 10⁵ (it is
   linear in the number of studies); the printout says so. SciPy's own
   vectorised call (``axis=1``) is shown too, for honesty, where it exists.

Every figure is the median of several runs (``--repeats``, default 5; the loop
subsample is run 3 times).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats as sps

from kypho.stats import (
    chi_square,
    describe,
    independent_t,
    mann_whitney,
    mann_whitney_from_counts,
    paired_t,
    variance_test,
)


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(name: str, ours: float, theirs: float, note: str = "") -> None:
    print(f"{name:<44} {ours:>10.4f} {theirs:>12.4f} {theirs / ours:>9.1f}x  {note}")


def header(title: str, theirs: str) -> None:
    print(f"\n{title}")
    print(f"{'test':<44} {'kypho s':>10} {theirs:>12} {'ratio':>10}")
    print("-" * 90)


def f_test_then_t(x: np.ndarray, y: np.ndarray) -> float:
    """The paper's rule for one study, written with SciPy: F test, then t or Welch."""
    v1, v2 = np.var(x, ddof=1), np.var(y, ddof=1)
    f = v1 / v2
    p_f = 2 * min(sps.f.cdf(f, x.size - 1, y.size - 1), sps.f.sf(f, x.size - 1, y.size - 1))
    return float(sps.ttest_ind(x, y, equal_var=bool(p_f >= 0.05)).pvalue)


def large_groups(n: int, repeats: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(50, 7, n)
    y = rng.normal(50.2, 9, n)
    grades_x = rng.integers(1, 5, n).astype(float)
    grades_y = rng.integers(1, 5, n).astype(float)
    header(f"Two groups of {n:,} values each (median of {repeats} runs)", "scipy s")
    cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        ("describe", lambda: describe(x), lambda: sps.describe(x)),
        (
            "variance_test F",
            lambda: variance_test(x, y),
            lambda: sps.f.sf(np.var(x, ddof=1) / np.var(y, ddof=1), n - 1, n - 1),
        ),
        (
            "variance_test levene",
            lambda: variance_test(x, y, method="levene"),
            lambda: sps.levene(x, y, center="mean"),
        ),
        (
            "variance_test brown-forsythe",
            lambda: variance_test(x, y, method="brown-forsythe"),
            lambda: sps.levene(x, y, center="median"),
        ),
        (
            "independent_t auto (F test + t/t′)",
            lambda: independent_t(x, y),
            lambda: f_test_then_t(x, y),
        ),
        (
            "independent_t welch",
            lambda: independent_t(x, y, method="welch"),
            lambda: sps.ttest_ind(x, y, equal_var=False),
        ),
        (
            "independent_t cochran-cox",
            lambda: independent_t(x, y, method="cochran-cox"),
            lambda: sps.ttest_ind(x, y, equal_var=False),
        ),
        ("paired_t", lambda: paired_t(x, y), lambda: sps.ttest_rel(x, y)),
        (
            "mann_whitney (continuous, asymptotic)",
            lambda: mann_whitney(x, y, method="asymptotic"),
            lambda: sps.mannwhitneyu(x, y, method="asymptotic", use_continuity=False),
        ),
        (
            "mann_whitney (4 grades, ties)",
            lambda: mann_whitney(grades_x, grades_y),
            lambda: sps.mannwhitneyu(grades_x, grades_y, method="asymptotic", use_continuity=False),
        ),
    ]
    for name, ours, theirs in cases:
        note = "scipy: Welch (no Cochran–Cox)" if "cochran" in name else ""
        row(name, median_time(ours, repeats), median_time(theirs, repeats), note)


def batch(studies: int, per_group: int, subsample: int, repeats: int) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(85.3, 6.2, (studies, per_group))
    y = rng.normal(85.0, rng.choice([5.7, 9.0], (studies, 1)), (studies, per_group))
    before = rng.normal(47, 6, (studies, per_group))
    after = before + rng.normal(38, 5, (studies, per_group))
    p_grade = np.array([0.15, 0.2, 0.25, 0.4])
    gx = rng.choice(4, (studies, per_group), p=p_grade).astype(float)
    gy = rng.choice(4, (studies, per_group), p=p_grade[::-1]).astype(float)
    counts_x = np.stack([(gx == k).sum(axis=1) for k in range(4)], axis=1)
    counts_y = np.stack([(gy == k).sum(axis=1) for k in range(4)], axis=1)
    leak_x = rng.binomial(per_group, 0.05, studies)
    leak_y = rng.binomial(per_group, 0.15, studies)
    tables = np.stack(
        [np.stack([leak_x, per_group - leak_x], 1), np.stack([leak_y, per_group - leak_y], 1)],
        axis=1,
    )
    scale = studies / subsample
    s = slice(0, subsample)

    def loop(fn: Callable[[int], Any]) -> Callable[[], None]:
        def run() -> None:
            for i in range(subsample):
                fn(i)

        return run

    header(
        f"Batch of {studies:,} simulated {per_group}-vs-{per_group} studies "
        f"(median of {repeats} runs; SciPy loop timed on {subsample:,} studies, "
        f"x{scale:g} extrapolated)",
        "scipy loop s",
    )

    def fisher_loop(i: int) -> None:
        sps.fisher_exact(tables[i])

    def chi_loop(i: int) -> None:
        # SciPy refuses a table with an empty column (no event in either group);
        # kypho returns its documented P = 1 for it, so the loop skips it too.
        with contextlib.suppress(ValueError):
            sps.chi2_contingency(tables[i], correction=False)

    def auto_loop(i: int) -> None:
        # The same 2×2 rule as chi_square(method="auto"), one table at a time.
        table = tables[i]
        expected = sps.contingency.expected_freq(table)
        if table.sum() < 40 or expected.min() < 1:
            sps.fisher_exact(table)
        else:
            sps.chi2_contingency(table, correction=bool(expected.min() < 5))

    cases: list[tuple[str, Callable[[], Any], Callable[[int], Any], Callable[[], Any] | None]] = [
        (
            "independent_t auto (F test + t/t′)",
            lambda: independent_t(x, y, axis=1),
            lambda i: f_test_then_t(x[i], y[i]),
            None,
        ),
        (
            "independent_t student",
            lambda: independent_t(x, y, method="student", axis=1),
            lambda i: sps.ttest_ind(x[i], y[i]),
            lambda: sps.ttest_ind(x, y, axis=1),
        ),
        (
            "independent_t cochran-cox (equal n)",
            lambda: independent_t(x, y, method="cochran-cox", axis=1),
            lambda i: sps.ttest_ind(x[i], y[i], equal_var=False),
            None,
        ),
        (
            "variance_test levene",
            lambda: variance_test(x, y, method="levene", axis=1),
            lambda i: sps.levene(x[i], y[i], center="mean"),
            None,
        ),
        (
            "paired_t",
            lambda: paired_t(before, after, axis=1),
            lambda i: sps.ttest_rel(after[i], before[i]),
            lambda: sps.ttest_rel(after, before, axis=1),
        ),
        (
            "mann_whitney raw grades (asymptotic)",
            lambda: mann_whitney(gx, gy, method="asymptotic", axis=1),
            lambda i: sps.mannwhitneyu(gx[i], gy[i], method="asymptotic", use_continuity=False),
            lambda: sps.mannwhitneyu(gx, gy, method="asymptotic", use_continuity=False, axis=1),
        ),
        (
            "mann_whitney_from_counts (4 grades)",
            lambda: mann_whitney_from_counts(counts_x, counts_y),
            lambda i: sps.mannwhitneyu(gx[i], gy[i], method="asymptotic", use_continuity=False),
            None,
        ),
        ("chi_square 2×2 pearson", lambda: chi_square(tables, method="pearson"), chi_loop, None),
        ("chi_square 2×2 fisher", lambda: chi_square(tables, method="fisher"), fisher_loop, None),
        ("chi_square 2×2 auto", lambda: chi_square(tables), auto_loop, None),
    ]
    uneven_x = x[:, :40]
    cases.insert(
        3,
        (
            "independent_t cochran-cox (40 vs 55)",
            lambda: independent_t(uneven_x, y, method="cochran-cox", axis=1),
            lambda i: sps.ttest_ind(uneven_x[i], y[i], equal_var=False),
            None,
        ),
    )
    vectorised: list[tuple[str, float, float]] = []
    for name, ours, per_study, scipy_vec in cases:
        t_ours = median_time(ours, repeats)
        t_loop = median_time(loop(per_study), 3) * scale
        note = ""
        if "cochran" in name:
            note = "scipy loop: Welch (no Cochran–Cox)"
        row(name, t_ours, t_loop, note)
        if scipy_vec is not None:
            vectorised.append((name, t_ours, median_time(scipy_vec, repeats)))
    del s
    if vectorised:
        header("Same batch, SciPy's own vectorised call (axis=1) for reference", "scipy vec s")
        for name, t_ours, t_vec in vectorised:
            row(name, t_ours, t_vec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="values per large group")
    parser.add_argument("--studies", type=int, default=100_000, help="simulated studies")
    parser.add_argument("--subsample", type=int, default=2_000, help="studies in the SciPy loop")
    parser.add_argument("--repeats", type=int, default=5, help="runs per timing (median)")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, scipy {__import__('scipy').__version__}")
    with warnings.catch_warnings():
        # SciPy warns about ties in mannwhitneyu's exact path and precision loss on
        # nearly identical data; neither affects the timings.
        warnings.simplefilter("ignore")
        large_groups(args.n, args.repeats)
        batch(args.studies, 55, args.subsample, args.repeats)


if __name__ == "__main__":
    main()
