"""Validation, derivation and screening throughput at 10⁵ and 10⁶ patients.

Run by hand: ``.venv/bin/python benchmarks/bench_validate.py``. Prints the median
of several runs per step and the per-row cost ratio between the sizes (1.0 =
linear). No test asserts a time.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd

from kypho.eligibility import screen
from kypho.measures import derive
from kypho.schema import load_schema
from kypho.validate import validate


def make_raw(n: int, seed: int = 1) -> pd.DataFrame:
    """Schema-valid raw data, typed as a CSV reader would give it (strings for levels)."""
    rng = np.random.default_rng(seed)
    schema = load_schema()
    cols: dict[str, object] = {
        "patient_id": pd.Series(np.arange(n)).map("P{:07d}".format),
        "group": rng.choice(["experimental", "control"], n),
        "sex": rng.choice(["male", "female"], n),
        "age": rng.integers(60, 95, n),
        "level": rng.choice(list(schema["level"].codes), n),
        "pain": rng.choice(["yes", "no"], n),
        "hb_pre": rng.normal(125, 10, n).round(1),
        "hb_post": rng.normal(122, 10, n).round(1),
        "cement_pattern": rng.choice(["dense", "spongy"], n),
        "cement_area_ap": rng.uniform(50, 95, n).round(0),
        "cement_area_lat": rng.uniform(50, 95, n).round(0),
        "leak_sites": rng.choice(["none", "C", "S", "C;S"], n, p=[0.9, 0.05, 0.03, 0.02]),
        "bmd_t_score": rng.normal(-3.2, 0.4, n).round(1),
        "asia_grade": np.full(n, "E"),
    }
    for measure in ("vas",):
        for col in schema.measure_columns(measure).values():
            cols[col] = rng.uniform(0, 10, n).round(1)
    for side in ("ant", "mid"):
        for tp in ("pre", "d3", "last"):
            cols[f"{side}_height_injured_{tp}"] = rng.uniform(10, 28, n).round(1)
            cols[f"{side}_height_above_{tp}"] = rng.uniform(24, 30, n).round(1)
            cols[f"{side}_height_below_{tp}"] = rng.uniform(24, 30, n).round(1)
    for tp in ("pre", "d3", "last"):
        cols[f"wedge_angle_{tp}"] = rng.uniform(0, 30, n).round(1)
    return pd.DataFrame(cols)


def timed(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    schema = load_schema()
    results: dict[int, dict[str, float]] = {}
    for n, repeats in ((100_000, 5), (1_000_000, 3)):
        raw = make_raw(n)
        res = validate(raw, schema)
        derived = derive(res.data, schema)
        results[n] = {
            "validate": timed(lambda raw=raw: validate(raw, schema), repeats),
            "derive": timed(lambda d=res.data: derive(d, schema), repeats),
            "screen": timed(lambda d=derived: screen(d, schema), repeats),
        }
        print(f"n={n:>9,}  " + "  ".join(f"{k} {v:6.2f} s" for k, v in results[n].items()))
    for step in results[100_000]:
        ratio = (results[1_000_000][step] / 1_000_000) / (results[100_000][step] / 100_000)
        print(f"{step}: per-row cost at 10⁶ / at 10⁵ = {ratio:.2f} (1.0 = linear)")


if __name__ == "__main__":
    main()
