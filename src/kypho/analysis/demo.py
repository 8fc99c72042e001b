"""A random, schema-valid raw cohort for tests, examples and benchmarks.

The values are drawn independently per patient from plausible distributions of
the kyphoplasty study (VAS falling after the operation, height ratios restored,
cement grades and leakage differing by group); they are **synthetic** and make no
claim to reproduce the paper. The generator is vectorised, so a million patients
take well under a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["demo_cohort"]

_LEVELS = np.array(["T10", "T11", "T12", "L1", "L2", "L3", "L4"])


def demo_cohort(n: int = 110, *, seed: int = 0, ineligible: float = 0.0) -> pd.DataFrame:
    """Return ``n`` synthetic patients as a raw table with the schema's input columns.

    Parameters
    ----------
    n
        Number of patients; the first half (rounded up) is the experimental group.
    seed
        Seed of the random generator (the same seed gives the same table).
    ineligible
        Fraction of patients made ineligible (aged 55, failing inclusion (f)), so
        that screening has someone to exclude.

    Returns
    -------
    pandas.DataFrame
        Columns named as in the schema, values typed as a reader would give them
        (numbers, booleans, level codes, ``"C;S"``-style leakage lists, ``"none"``).

    Examples
    --------
    >>> df = demo_cohort(4, seed=1)
    >>> list(df["group"])
    ['experimental', 'experimental', 'control', 'control']
    """
    rng = np.random.default_rng(seed)
    n_exp = (n + 1) // 2
    exp = np.arange(n) < n_exp
    group = np.where(exp, "experimental", "control")

    def normal(mean: float, sd: float, lo: float, hi: float, shift: float = 0.0) -> np.ndarray:
        values = rng.normal(mean, sd, n) + np.where(exp, shift, 0.0)
        return np.round(np.clip(values, lo, hi), 2)

    age = np.clip(np.round(rng.normal(70, 7, n)), 60, 95).astype(np.int64)
    if ineligible > 0:
        age = np.where(rng.random(n) < ineligible, 55, age)
    vas_pre = normal(8.3, 0.5, 0, 10)
    ant_above = normal(26.0, 2.0, 15, 40)
    ant_below = normal(27.0, 2.0, 15, 40)
    mid_above = normal(24.0, 2.0, 15, 40)
    mid_below = normal(25.0, 2.0, 15, 40)
    ant_mean = (ant_above + ant_below) / 2
    mid_mean = (mid_above + mid_below) / 2
    data: dict[str, object] = {
        "patient_id": np.char.add("P-", np.arange(1, n + 1).astype(str)),
        "group": group,
        "sex": np.where(rng.random(n) < 0.24, "male", "female"),
        "age": age,
        "pain": np.ones(n, dtype=bool),
        "percussion_pain": rng.random(n) < 0.95,
        "constipation": rng.random(n) < 0.7,
        "level": _LEVELS[rng.integers(0, len(_LEVELS), n)],
        "n_fractured_levels": np.ones(n, dtype=np.int64),
        "superior_endplate_collapse": rng.random(n) < 0.6,
        "inferior_endplate_collapse": rng.random(n) < 0.3,
        "anterior_wall_collapse": rng.random(n) < 0.5,
        "denis_type": np.full(n, "compression"),
        "denis_subtype": np.array(["A", "B", "C", "D"])[rng.integers(0, 4, n)],
        "back_pain_limited_activity": np.ones(n, dtype=bool),
        "mri_fresh_fracture": np.ones(n, dtype=bool),
        "bmd_t_score": np.round(rng.uniform(-4.5, -2.6, n), 1),
        "asia_grade": np.full(n, "E"),
        "other_fracture": np.zeros(n, dtype=bool),
        "cement_allergy": np.zeros(n, dtype=bool),
        "progressive_nerve_injury": np.zeros(n, dtype=bool),
        "osteomyelitis_or_epidural_cyst": np.zeros(n, dtype=bool),
        "vertebral_metastasis": np.zeros(n, dtype=bool),
        "coagulation_dysfunction": np.zeros(n, dtype=bool),
        "operation_time": normal(30.0, 5.0, 10, 90, shift=2.0),
        "hb_pre": normal(125.0, 10.0, 80, 170),
        "cement_volume": normal(5.3, 1.2, 1, 12, shift=0.3),
        "cement_pattern": np.where(rng.random(n) < np.where(exp, 0.3, 0.5), "dense", "spongy"),
    }
    hb_pre = np.asarray(data["hb_pre"])
    data["hb_post"] = np.round(hb_pre * (1 - np.clip(rng.normal(0.019, 0.008, n), 0, 0.1)), 1)
    high = rng.random(n) < np.where(exp, 0.8, 0.47)
    data["cement_area_ap"] = np.where(high, rng.uniform(76, 95, n), rng.uniform(50, 75, n)).round()
    data["cement_area_lat"] = np.where(high, rng.uniform(76, 95, n), rng.uniform(50, 75, n)).round()
    leak = rng.random(n) < np.where(exp, 0.04, 0.16)
    kind = np.where(rng.random(n) < 0.8, "C", "S")
    data["leak_sites"] = np.where(leak, kind, "none")
    for tp, mean, sd in (("pre", 0.0, 0.0), ("2h", 3.4, 0.4), ("4h", 1.2, 0.6), ("48h", 0.2, 0.1)):
        data[f"vas_{tp}"] = vas_pre if tp == "pre" else normal(mean, sd, 0, 10)
    for tp, ratio in (("pre", 0.47), ("d3", 0.85), ("last", 0.86)):
        ant = ant_mean * np.clip(rng.normal(ratio, 0.06, n), 0.2, 1.1)
        mid = mid_mean * np.clip(rng.normal(ratio + 0.05, 0.05, n), 0.2, 1.1)
        data[f"ant_height_above_{tp}"] = ant_above
        data[f"ant_height_below_{tp}"] = ant_below
        data[f"ant_height_injured_{tp}"] = np.round(ant, 1)
        data[f"mid_height_above_{tp}"] = mid_above
        data[f"mid_height_below_{tp}"] = mid_below
        data[f"mid_height_injured_{tp}"] = np.round(mid, 1)
        wedge = {"pre": (25.0, 2.5), "d3": (3.6, 1.1), "last": (4.2, 1.1)}[tp]
        data[f"wedge_angle_{tp}"] = normal(wedge[0], wedge[1], -30, 90)
    return pd.DataFrame(data)
