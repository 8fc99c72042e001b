"""Unit tests of kypho.beyond.confounding."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.miscmodels.ordinal_model import OrderedModel

from kypho.analysis.demo import demo_cohort
from kypho.beyond import adjust_for_confounding, ordinal_logit, plot_love, propensity_analysis
from kypho.beyond.confounding import _patterns
from kypho.errors import StatisticsError
from kypho.measures import derive
from kypho.schema import load_schema
from kypho.validate import validate

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return derive(validate(demo_cohort(110, seed=0)).data, load_schema())


def test_unweighted_ordinal_logit_matches_statsmodels_ordered_model() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 2))
    latent = x @ np.array([0.8, -0.5]) + rng.logistic(size=300)
    y = np.digitize(latent, [-1.0, 0.0, 1.2])
    beta, se, _ = ordinal_logit(y, x)
    reference = OrderedModel(y, x, distr="logit").fit(method="bfgs", disp=False, maxiter=2000)
    np.testing.assert_allclose(beta, reference.params[:2], rtol=1e-4)
    # Robust and model-based SEs agree when the model is right (within 15 % here).
    np.testing.assert_allclose(se, reference.bse[:2], rtol=0.15)


def test_weights_of_two_equal_one_duplicate_observations() -> None:
    """A weight of 2 gives the point estimate of the data with that row twice."""
    y = np.array([0, 1, 2, 0, 1, 2, 2, 1, 0, 2])
    x = np.array([0, 0, 0, 1, 1, 1, 1, 0, 1, 1], dtype=float)[:, None]
    w = np.ones(10)
    w[3] = 2
    beta_w, _, _ = ordinal_logit(y, x, weights=w)
    beta_d, _, _ = ordinal_logit(np.append(y, y[3]), np.vstack([x, x[3]]))
    assert beta_w[0] == pytest.approx(beta_d[0], rel=1e-6)


def test_study_adjustment_on_the_demo_cohort(cohort: pd.DataFrame) -> None:
    before = cohort.copy()
    result = adjust_for_confounding(cohort, load_schema())
    pd.testing.assert_frame_equal(cohort, before)
    assert "pain (constant)" in result.dropped
    assert result.n_treated + result.n_control == 110
    assert list(result.binary_effects["analysis"]) == ["unadjusted", "IPW (ATE)", "matched (ATT)"]
    assert list(result.ordinal_effects["analysis"]) == ["unadjusted", "IPW (ATE)", "matched (ATT)"]
    # IPW improves the worst imbalance.
    assert result.balance["smd_ipw"].abs().max() < result.balance["smd_before"].abs().max()
    unadjusted = result.binary_effects.iloc[0]
    leak = cohort["leakage"].astype(bool)
    exp = cohort["group"].astype(str) == "experimental"
    assert unadjusted["risk_treated"] == pytest.approx(leak[exp].mean())
    assert unadjusted["risk_control"] == pytest.approx(leak[~exp].mean())
    assert math.isclose(result.weights.mean(), 1.0, rel_tol=0.2)


def test_love_plot_draws_each_smd(cohort: pd.DataFrame) -> None:
    result = adjust_for_confounding(cohort, load_schema())
    ax = plot_love(result)
    drawn = [c.get_offsets()[:, 0] for c in ax.collections]
    assert len(drawn) == 3
    np.testing.assert_allclose(drawn[0], np.abs(result.balance["smd_before"]))
    assert [t.get_text() for t in ax.get_yticklabels()] == list(result.balance["covariate"])


def test_too_few_patients_are_refused() -> None:
    with pytest.raises(StatisticsError) as info:
        propensity_analysis([True, False, False], pd.DataFrame({"x": [1.0, 2.0, 3.0]}), [0, 1, 0])
    assert str(info.value) == "each group needs at least 2 patients (got 1 treated, 2 control)"


def test_poor_overlap_and_unmatched_patients_are_reported() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    treated = rng.random(200) < 1 / (1 + np.exp(-3 * x))
    result = propensity_analysis(
        treated,
        pd.DataFrame({"x": x}),
        rng.random(200) < 0.2,
        ordinal_outcome=rng.integers(1, 4, 200),
    )
    assert len(result.notes) == 2
    assert result.notes[0].endswith(
        "the groups barely overlap there, so the weighted estimates lean on few patients"
    )
    unmatched = int(treated.sum()) - len(result.pairs)
    assert result.notes[1].startswith(
        f"{unmatched} of the {int(treated.sum())} patients of the treated group found no match "
        "in the control group within the caliper"
    )
    # Codes 1-3 (no code 0 observed) are fitted as three grades, not refused.
    assert result.ordinal_effects["odds_ratio"].notna().all()


def test_propensity_scores_are_the_logistic_regression_fit() -> None:
    """The propensity model's fitted probabilities equal statsmodels' Logit fit."""
    import statsmodels.api as sm

    rng = np.random.default_rng(6)
    x = pd.DataFrame({"age": rng.normal(70, 7, 150), "female": rng.random(150) < 0.7})
    x["female"] = x["female"].astype(float)
    treated = rng.random(150) < 1 / (1 + np.exp(-(x["age"] - 70) / 10))
    result = propensity_analysis(treated, x, rng.random(150) < 0.1)
    reference = sm.Logit(treated.astype(float), sm.add_constant(x)).fit(disp=False)
    np.testing.assert_allclose(result.propensity, reference.predict(), rtol=1e-5)


def test_unadjusted_effects_equal_the_chi_square_engine(cohort: pd.DataFrame) -> None:
    """With unit weights the sandwich CIs are the Wald (unpooled) RD and Woolf OR CIs."""
    from kypho.stats import chi_square

    result = adjust_for_confounding(cohort, load_schema())
    row = result.binary_effects.iloc[0]
    exp = (cohort["group"].astype(str) == "experimental").to_numpy()
    leak = cohort["leakage"].astype(bool).to_numpy()
    table = [
        [int((leak & exp).sum()), int((~leak & exp).sum())],
        [int((leak & ~exp).sum()), int((~leak & ~exp).sum())],
    ]
    engine = chi_square(table)
    assert row["risk_difference"] == pytest.approx(engine.risk_difference, rel=1e-9)
    assert row["rd_ci_low"] == pytest.approx(engine.rd_ci_low, rel=1e-9)
    assert row["rd_ci_high"] == pytest.approx(engine.rd_ci_high, rel=1e-9)
    assert row["odds_ratio"] == pytest.approx(engine.odds_ratio, rel=1e-9)
    assert row["or_ci_low"] == pytest.approx(engine.or_ci_low, rel=1e-9)
    assert row["or_ci_high"] == pytest.approx(engine.or_ci_high, rel=1e-9)


def _quadratic_match(treated: np.ndarray, logit_ps: np.ndarray, caliper: float) -> np.ndarray:
    """The definition: each treated (highest score first) takes the nearest free control."""
    treated_rows = np.flatnonzero(treated)
    order = treated_rows[np.argsort(-logit_ps[treated_rows], kind="stable")]
    controls = np.flatnonzero(~treated)
    available = np.ones(controls.size, dtype=bool)
    pairs = []
    for t in order:
        distance = np.where(available, np.abs(logit_ps[controls] - logit_ps[t]), np.inf)
        best = int(np.argmin(distance))
        if distance[best] <= caliper:
            available[best] = False
            pairs.append((t, controls[best]))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


@pytest.mark.parametrize("seed", range(12))
def test_fast_matching_pairs_exactly_as_the_definition(seed: int) -> None:
    """Ties in score (discrete covariates) and in distance included, few or many controls."""
    from kypho.beyond.confounding import _match

    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    levels = rng.normal(size=int(rng.integers(1, 12)))
    if seed % 3 == 0:  # symmetric scores: equal distances to the left and the right
        levels = np.array([-1.0, 0.0, 1.0, 2.0])
    logit_ps = levels[rng.integers(0, levels.size, n)]
    if seed % 4 == 1:
        logit_ps = rng.normal(size=n)
    treated = rng.random(n) < rng.uniform(0.2, 0.8)
    for caliper in (0.0, 0.3, 1.0, 10.0):
        np.testing.assert_array_equal(
            _match(treated, logit_ps, caliper), _quadratic_match(treated, logit_ps, caliper)
        )


def _patterns_by_definition(columns: np.ndarray) -> tuple[list[int], list[int]]:
    """Distinct rows numbered in order of first appearance (NaN equal to NaN, -0.0 to 0.0)."""
    numbers: dict[tuple[object, ...], int] = {}
    inverse, first = [], []
    for i, row in enumerate(columns.tolist()):
        key = tuple("nan" if math.isnan(v) else v + 0.0 for v in row)
        if key not in numbers:
            numbers[key] = len(numbers)
            first.append(i)
        inverse.append(numbers[key])
    return inverse, first


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 60),
    p=st.integers(1, 6),
    levels=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_covariate_patterns_are_the_distinct_rows_in_order(
    n: int, p: int, levels: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels, (n, p)).astype(float)
    x[rng.random((n, p)) < 0.2] = np.nan
    x[rng.random((n, p)) < 0.1] = -0.0
    inverse, first = _patterns(x)
    assert (inverse.tolist(), first.tolist()) == _patterns_by_definition(x)


def test_covariate_patterns_of_more_combinations_than_one_integer_holds() -> None:
    # a yes/no column, then four of 2¹⁶ distinct values: 2 × 2⁶⁴ combinations, so a key
    # of every column in one int64 would wrap round and join the last two rows with
    # the first (the same values but the first column's)
    n = 1 << 16
    x = np.zeros((n + 2, 5))
    rng = np.random.default_rng(3)
    for j in range(1, 5):
        x[:n, j] = rng.permutation(n)
    x[n:, 1:] = x[0, 1:]
    x[n:, 0] = 1.0
    inverse, first = _patterns(x)
    assert inverse[n] != inverse[0]
    assert (inverse.tolist(), first.tolist()) == _patterns_by_definition(x)


@pytest.mark.parametrize("seed", range(5))
def test_weighted_binary_is_the_sandwich_of_its_saturated_regression(seed: int) -> None:
    """The CIs from the 2 × 2 sums equal A⁻¹BA⁻¹ built from the n × 2 design itself."""
    from scipy import special

    from kypho.beyond.confounding import _weighted_binary

    rng = np.random.default_rng(seed)
    n = 500
    treated = rng.random(n) < 0.4
    y = (rng.random(n) < np.where(treated, 0.3, 0.45)).astype(float)
    w = rng.uniform(0.2, 5.0, n)
    got = _weighted_binary(y, treated, w, 1.96)
    x = np.column_stack([np.ones(n), treated.astype(float)])
    p1 = np.sum(w[treated] * y[treated]) / np.sum(w[treated])
    p0 = np.sum(w[~treated] * y[~treated]) / np.sum(w[~treated])
    mu = np.where(treated, p1, p0)
    score = x * (w * (y - mu))[:, None]
    meat = score.T @ score
    for link, d in (("rd", np.ones(n)), ("or", mu * (1 - mu))):
        bread = np.linalg.inv((x * (w * d)[:, None]).T @ x)
        se = math.sqrt((bread @ meat @ bread)[1, 1])
        if link == "rd":
            assert got["rd_ci_low"] == pytest.approx(p1 - p0 - 1.96 * se, rel=1e-10)
            assert got["rd_ci_high"] == pytest.approx(p1 - p0 + 1.96 * se, rel=1e-10)
        else:
            log_or = special.logit(p1) - special.logit(p0)
            assert got["or_ci_low"] == pytest.approx(math.exp(log_or - 1.96 * se), rel=1e-10)
            assert got["or_ci_high"] == pytest.approx(math.exp(log_or + 1.96 * se), rel=1e-10)
