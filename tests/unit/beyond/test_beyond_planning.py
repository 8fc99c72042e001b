"""Endpoints for planning: from the paper's tables and from a dataset."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from kypho.analysis.demo import demo_cohort
from kypho.audit import load_paper_tables
from kypho.beyond import (
    Endpoint,
    analytic_power,
    endpoints_from_data,
    endpoints_from_summary,
    plot_power_curves,
    simulated_power,
)
from kypho.measures import derive
from kypho.schema import load_schema
from kypho.validate import validate

matplotlib.use("Agg")


def test_paper_tables_give_one_endpoint_per_comparable_row() -> None:
    endpoints = {e.label: e for e in endpoints_from_summary(load_paper_tables())}
    grade = endpoints["Table 7: Distribution grade of bone cement"]
    assert grade.kind == "ordinal"
    assert grade.values1 == pytest.approx(tuple(np.array([4, 7, 10, 34]) / 55))
    assert grade.values2 == pytest.approx(tuple(np.array([11, 18, 14, 12]) / 55))
    leak = endpoints["Table 7: Number of bone cement leakage (Leakage)"]
    assert (leak.kind, leak.values1, leak.values2) == ("proportions", (2 / 55,), (9 / 55,))
    vas = endpoints["Table 3: 2h after operation"]
    assert (vas.kind, vas.values1, vas.values2, vas.observed_n) == (
        "means",
        (3.41, 0.34),
        (3.43, 0.41),
        (55, 55),
    )
    # Pain and percussion pain are 55 vs 55 in both groups: nothing to power.
    assert not any("Percussion pain" in label for label in endpoints)


def test_dataset_endpoints_are_the_observed_summaries() -> None:
    schema = load_schema()
    data = derive(validate(demo_cohort(110, seed=0)).data, schema)
    before = data.copy()
    endpoints = {e.label: e for e in endpoints_from_data(data, schema)}
    pd.testing.assert_frame_equal(data, before)
    exp = data["group"].astype(str) == "experimental"
    column = data["wedge_angle_last"].astype(float)
    wedge = endpoints["Wedge angle of injured vertebra (°), Last follow-up"]
    assert wedge.values1 == pytest.approx((column[exp].mean(), column[exp].std(ddof=1)))
    assert wedge.values2 == pytest.approx((column[~exp].mean(), column[~exp].std(ddof=1)))
    assert endpoints["Bone cement leakage"].kind == "proportions"
    assert endpoints["Distribution grade of bone cement"].kind == "ordinal"
    # Baseline (preoperative) values are not outcomes of a future study.
    assert not any("Preoperation" in label for label in endpoints)


def test_dispatch_uses_welch_for_unequal_sds() -> None:
    endpoint = Endpoint("x", "means", (1.0, 1.0), (0.0, 2.0))
    assert analytic_power(endpoint, n=30).method.startswith("Welch")
    same = Endpoint("x", "means", (1.0, 1.0), (0.0, 1.0))
    assert analytic_power(same, n=30).method.startswith("Student")
    sim = simulated_power(endpoint, n=30, sims=300, seed=1)
    assert sim.endpoint == "two means"


def test_power_curves_draw_analytic_lines_and_simulated_points() -> None:
    endpoint = Endpoint("Leakage", "proportions", (0.036,), (0.164,))
    sim = simulated_power(endpoint, n=80, sims=400, seed=3)
    ax = plot_power_curves([endpoint], sizes=[10, 150], simulated={"Leakage": [sim]})
    line = ax.get_lines()[0]
    x, y = line.get_xdata(), line.get_ydata()
    assert x[0] == 10
    assert x[-1] == 150
    assert y[-1] == pytest.approx(analytic_power(endpoint, n=150.0).power)
    assert np.all(np.diff(y) > 0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Leakage"]


def test_planning_simulates_small_studies_and_the_next_study_size() -> None:
    from kypho.beyond.planning import plan_endpoint

    leak = Endpoint("Leakage", "proportions", (0.036,), (0.164,), observed_n=(55, 55))
    planned = plan_endpoint(leak, sims=400, seed=2)
    assert planned.simulated is not None
    assert planned.simulated.n1 == 55
    assert planned.analytic.power == pytest.approx(analytic_power(leak, n=55.0).power)
    need = planned.n_needed[0.8]
    assert need == math.ceil(analytic_power(leak, power_target=0.8).n1 - 1e-9)
    assert planned.next_simulated is not None
    assert planned.next_simulated.n1 == need
    # The procedure's own power at the formula's size is near the target.
    assert abs(planned.next_simulated.power - 0.8) < 0.1


def test_planning_cost_does_not_grow_with_the_cohort() -> None:
    """A large cohort, or power ≈ 1, uses the formula: no simulated study of that size."""
    from kypho.beyond.planning import SIMULATION_LIMIT, plan_endpoint

    tiny = Endpoint("x", "means", (10.0, 2.0), (10.01, 2.0), observed_n=(400_000, 400_000))
    planned = plan_endpoint(tiny, sims=400, seed=1)
    assert planned.simulated is None
    assert planned.simulated_note.startswith(f"800,000 patients > {SIMULATION_LIMIT:,}")
    assert planned.next_simulated is None  # about 630,000 per group for 80 %
    assert planned.n_needed[0.8] is not None
    big = Endpoint("y", "proportions", (0.05,), (0.5,), observed_n=(500_000, 500_000))
    planned = plan_endpoint(big, sims=400, seed=1)
    assert planned.simulated is None
    assert planned.simulated_note.startswith("analytic power ≥ 0.999")
    assert planned.next_simulated is not None  # a handful of patients per group
