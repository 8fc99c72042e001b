"""Propensity weighting and matching on an example whose answer is known by construction.

Constructed data (hand-computable; documented here in full): one binary covariate x.

====  =========  ==========  ===============
x     group      patients    leakage events
====  =========  ==========  ===============
0     treated    20          2  (risk 0.1)
0     control    30          6  (risk 0.2)
1     treated    30          9  (risk 0.3)
1     control    20          8  (risk 0.4)
====  =========  ==========  ===============

With one binary covariate the logistic propensity model is saturated, so the
propensity score is the observed share treated in each stratum: 20/50 = 0.4 and
30/50 = 0.6. With P(treated) = 0.5 the stabilised weights are 0.5/0.4 = 1.25 and
0.5/0.6 = 0.8333 (treated), 0.5/0.6 and 0.5/0.4 (control); each weighted group
then has half its weight in each stratum, so the weighted SMD of x is exactly 0
(before: (0.6 − 0.4)/√((0.24 + 0.24)/2) = 0.408248). The IPW risks are the risks
standardised to the whole cohort (half x = 0, half x = 1): treated 0.5·0.1 +
0.5·0.3 = 0.2, control 0.5·0.2 + 0.5·0.4 = 0.3; RD = −0.1, OR = (0.2/0.8)/(0.3/0.7)
= 0.583333. Matching (caliper 0.2 SD of the logit) pairs patients only within a
stratum: 20 pairs in x = 0 and 20 in x = 1 (only 20 controls there), and balance
is exact. Rows are ordered with events first within each cell, and the matching
takes treated patients from the highest score down and the earliest available
control, so the matched treated are all 20 of x = 0 (2 events) and the first 20
of x = 1 (9 events), the matched controls the first 20 of each stratum (6 and 8
events): risks 11/40 = 0.275 and 14/40 = 0.35, RD = −0.075.
Tolerance: 1e-6 (the logistic fit is iterative).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kypho.beyond import propensity_analysis


def _cohort() -> pd.DataFrame:
    rows = []
    for x, treated, n, events in [(0, 1, 20, 2), (0, 0, 30, 6), (1, 1, 30, 9), (1, 0, 20, 8)]:
        rows += [(x, treated, int(i < events)) for i in range(n)]
    return pd.DataFrame(rows, columns=["x", "treated", "leak"])


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    data = _cohort()
    return propensity_analysis(data["treated"].astype(bool), data[["x"]], data["leak"])


def test_propensity_scores_and_stabilised_weights(result) -> None:  # type: ignore[no-untyped-def]
    data = _cohort()
    expected_ps = np.where(data["x"] == 1, 0.6, 0.4)
    np.testing.assert_allclose(result.propensity, expected_ps, atol=1e-6)
    expected_w = np.where(data["treated"] == 1, 0.5 / expected_ps, 0.5 / (1 - expected_ps))
    np.testing.assert_allclose(result.weights, expected_w, rtol=1e-6)


def test_balance_before_and_after(result) -> None:  # type: ignore[no-untyped-def]
    row = result.balance.set_index("covariate").loc["x"]
    assert row["smd_before"] == pytest.approx(0.2 / np.sqrt(0.24), rel=1e-9)
    assert row["smd_ipw"] == pytest.approx(0.0, abs=1e-6)
    assert row["smd_matched"] == pytest.approx(0.0, abs=1e-12)


def test_ipw_effect_is_the_standardised_risk_difference(result) -> None:  # type: ignore[no-untyped-def]
    ipw = result.binary_effects.set_index("analysis").loc["IPW (ATE)"]
    assert ipw["risk_treated"] == pytest.approx(0.2, rel=1e-6)
    assert ipw["risk_control"] == pytest.approx(0.3, rel=1e-6)
    assert ipw["risk_difference"] == pytest.approx(-0.1, rel=1e-6)
    assert ipw["odds_ratio"] == pytest.approx((0.2 / 0.8) / (0.3 / 0.7), rel=1e-6)
    assert ipw["rd_ci_low"] < -0.1 < ipw["rd_ci_high"]


def test_matching_pairs_within_strata(result) -> None:  # type: ignore[no-untyped-def]
    data = _cohort()
    assert len(result.pairs) == 40
    x = data["x"].to_numpy()
    assert (x[result.pairs[:, 0]] == x[result.pairs[:, 1]]).all()
    matched = result.binary_effects.set_index("analysis").loc["matched (ATT)"]
    assert matched["risk_treated"] == pytest.approx(11 / 40)
    assert matched["risk_control"] == pytest.approx(14 / 40)
    assert matched["risk_difference"] == pytest.approx(-0.075)
