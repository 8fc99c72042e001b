"""Unit tests of kypho.stats independent t tests and variance tests."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from kypho.errors import StatisticsError
from kypho.stats import independent_t, independent_t_from_summary, variance_test

A = [5.1, 4.9, 6.2, 5.8, 6.0, 5.5, 5.3, 6.1]
B = [4.2, 4.8, 5.0, 4.4, 4.9, 4.6, 4.1, 4.7, 5.2]
WIDE = [1.0, 9.0, -4.0, 12.0, 3.0, -7.0, 15.0, 0.5]


def test_auto_uses_student_when_variances_agree() -> None:
    result = independent_t(A, B)
    assert result.method == "Student t"
    assert result.equal_variance is True
    assert result.variance_test is not None
    assert result.variance_test.p_value >= 0.05
    assert result.reason.startswith("F test of variances: P = ")
    assert result.reason.endswith(
        "≥ α = 0.05, equal variances not rejected, so the pooled-variance Student t test was used."
    )
    assert result.dof == len(A) + len(B) - 2


def test_auto_uses_cochran_cox_when_asked_and_variances_differ() -> None:
    result = independent_t(WIDE, B, t_prime="cochran-cox")
    assert result.method == "Cochran–Cox t′"
    assert result.dof is None
    assert result.critical_value is not None
    assert "so Cochran–Cox t′ (unequal variances) was used." in result.reason


def test_levene_can_drive_the_choice() -> None:
    result = independent_t(WIDE, B, variance_test="levene")
    assert result.variance_test is not None
    assert result.variance_test.method == "Levene (mean-centred)"
    assert result.method == "Welch t′"


def test_requested_method_skips_the_variance_test() -> None:
    result = independent_t(A, B, method="welch")
    assert result.variance_test is None
    assert result.reason == "Welch t′ was requested (method='welch')."


def test_one_sided_p_values_add_to_one() -> None:
    for method in ("student", "welch", "cochran-cox"):
        less = independent_t(WIDE, B, method=method, alternative="less")  # type: ignore[arg-type]
        greater = independent_t(WIDE, B, method=method, alternative="greater")  # type: ignore[arg-type]
        two = independent_t(WIDE, B, method=method)  # type: ignore[arg-type]
        assert less.p_value + greater.p_value == pytest.approx(1.0, rel=1e-12)
        assert two.p_value == pytest.approx(2 * min(less.p_value, greater.p_value), rel=1e-12)
        assert less.ci_low == -np.inf
        assert greater.ci_high == np.inf


def test_cochran_cox_p_lies_between_the_single_distribution_ps() -> None:
    """t′_α is a weighted mean of t_α(n₁ − 1) and t_α(n₂ − 1), so its P is bracketed."""
    x = [12.0, 14.0, 11.0, 15.0, 13.0]
    y = [8.0, 19.0, 3.0, 25.0, 11.0, 17.0, 5.0, 22.0, 14.0, 9.0, 28.0, 2.0]
    result = independent_t(x, y, method="cochran-cox")
    t = abs(result.statistic)
    p_small_df = 2 * sps.t.sf(t, len(x) - 1)
    p_large_df = 2 * sps.t.sf(t, len(y) - 1)
    assert min(p_small_df, p_large_df) < result.p_value < max(p_small_df, p_large_df)


def test_cochran_cox_with_equal_sizes_is_the_t_distribution_with_n_minus_1_df() -> None:
    x, y = WIDE, [4.2, 4.8, 5.0, 4.4, 4.9, 4.6, 4.1, 4.7]
    result = independent_t(x, y, method="cochran-cox")
    assert result.p_value == pytest.approx(2 * sps.t.sf(abs(result.statistic), 7), rel=1e-12)
    assert result.critical_value == pytest.approx(sps.t.isf(0.025, 7), rel=1e-12)


def test_cochran_cox_p_below_alpha_exactly_when_t_beyond_critical_value() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(0, 1, size=(400, 6))
    y = rng.normal(0.8, 3, size=(400, 15))
    result = independent_t(x, y, method="cochran-cox", axis=1)
    beyond = np.abs(result.statistic) > result.critical_value
    np.testing.assert_array_equal(beyond, result.p_value < 0.05)


def test_batch_equals_one_call_per_sample() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(10, 2, size=(30, 12))
    y = rng.normal(11, rng.choice([1.0, 5.0], size=(30, 1)), size=(30, 15))
    for t_prime in ("welch", "cochran-cox"):
        batch = independent_t(x, y, axis=1, t_prime=t_prime)  # type: ignore[arg-type]
        assert batch.variance_test is not None
        for i in range(x.shape[0]):
            one = independent_t(x[i], y[i], t_prime=t_prime)  # type: ignore[arg-type]
            assert batch.equal_variance[i] == one.equal_variance
            for field in ("statistic", "p_value", "ci_low", "ci_high", "effect_size"):
                assert getattr(batch, field)[i] == pytest.approx(getattr(one, field), rel=1e-9)
            assert batch.variance_test.p_value[i] == pytest.approx(one.variance_test.p_value)  # type: ignore[union-attr]
    frame = independent_t(x, y, axis=1).to_frame()
    assert len(frame) == 30
    assert "variance_test_p_value" in frame.columns


def test_batch_auto_reports_both_candidates() -> None:
    result = independent_t(np.ones((2, 3)) * [1, 2, 3], np.ones((2, 3)) * [1, 5, 9], axis=1)
    assert result.method == "Student t or Welch t′ (chosen per sample)"
    assert result.reason == (
        "Per sample: Student t where the F test of variances gave P ≥ α = 0.05, "
        "otherwise Welch t′; see equal_variance."
    )


def test_summary_form_equals_raw_form() -> None:
    raw = independent_t(WIDE, B, method="cochran-cox")
    summary = independent_t_from_summary(
        np.mean(WIDE),
        np.std(WIDE, ddof=1),
        len(WIDE),
        np.mean(B),
        np.std(B, ddof=1),
        len(B),
        method="cochran-cox",
    )
    for field in ("statistic", "p_value", "ci_low", "ci_high", "critical_value", "effect_size"):
        assert getattr(summary, field) == pytest.approx(getattr(raw, field), rel=1e-12)


def test_summary_form_broadcasts_to_a_batch() -> None:
    result = independent_t_from_summary(
        [69.47, 47.36], [6.90, 6.16], 55, [70.38, 46.38], [7.25, 5.37], 55, method="student"
    )
    assert result.statistic.shape == (2,)
    assert result.n1.tolist() == [55, 55]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (1.0, 1.0, 1, 2.0, 1.0, 5),
            "each group needs at least 2 non-missing values for a t test (got n1=1, n2=5)",
        ),
        ((1.0, -1.0, 5, 2.0, 1.0, 5), "sd1 must not be negative (got -1.0)"),
        ((1.0, 1.0, 5.5, 2.0, 1.0, 5), "n1 must be a whole number of patients (got 5.5)"),
        ((np.nan, 1.0, 5, 2.0, 1.0, 5), "mean1 must be finite (got nan)"),
        (
            (1.0, 0.0, 5, 2.0, 0.0, 5),
            "both groups have zero variance (every value equal within each group), so the t statistic is undefined",
        ),
    ],
)
def test_summary_form_errors(args: tuple[float, ...], message: str) -> None:
    with pytest.raises(StatisticsError) as info:
        independent_t_from_summary(*args)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (
            [],
            [1.0, 2.0],
            "each group needs at least 2 non-missing values for a t test (got n1=0, n2=2)",
        ),
        (
            [1.0],
            [1.0, 2.0],
            "each group needs at least 2 non-missing values for a t test (got n1=1, n2=2)",
        ),
        (
            [1.0, np.nan],
            [1.0, 2.0],
            "each group needs at least 2 non-missing values for a t test (got n1=1, n2=2)",
        ),
        (
            [3.0, 3.0],
            [5.0, 5.0, 5.0],
            "both groups have zero variance (every value equal within each group), so the t statistic is undefined",
        ),
    ],
)
def test_degenerate_groups_are_clear_errors(x: list[float], y: list[float], message: str) -> None:
    with pytest.raises(StatisticsError) as info:
        independent_t(x, y, method="student")
    assert str(info.value) == message


def test_degenerate_sample_in_batch_names_its_position() -> None:
    x = np.array([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0]])
    y = np.array([[2.0, 3.0, 5.0], [7.0, 7.0, 7.0]])
    with pytest.raises(StatisticsError) as info:
        independent_t(x, y, axis=1)
    assert str(info.value) == (
        "both groups have zero variance (every value equal within each group), so the t "
        "statistic is undefined; this happens at batch position(s) (1,)"
    )
    with pytest.raises(StatisticsError) as info:
        variance_test(x, y, axis=1)
    assert str(info.value) == (
        "both groups have zero variance, so no test of equal variances is defined; "
        "this happens at batch position(s) (1,)"
    )


def test_one_constant_group_still_gives_a_finite_answer() -> None:
    result = independent_t([5.0, 5.0, 5.0], [1.0, 2.0, 4.0])
    assert result.method == "Welch t′"
    assert np.isfinite(result.statistic)
    assert 0 <= result.p_value <= 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"method": "pooled"},
            "method must be one of 'auto', 'student', 'welch', 'cochran-cox' (got 'pooled')",
        ),
        (
            {"alternative": "two.sided"},
            "alternative must be one of 'two-sided', 'less', 'greater' (got 'two.sided')",
        ),
        ({"confidence": 95}, "confidence must be a number strictly between 0 and 1 (got 95)"),
        ({"alpha": 0.0}, "alpha must be a number strictly between 0 and 1 (got 0.0)"),
        (
            {"t_prime": "satterthwaite"},
            "t_prime must be one of 'welch', 'cochran-cox' (got 'satterthwaite')",
        ),
        (
            {"variance_test": "bartlett"},
            "variance_test must be one of 'F', 'levene', 'brown-forsythe' (got 'bartlett')",
        ),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(StatisticsError) as info:
        independent_t(A, B, **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_variance_test_errors() -> None:
    with pytest.raises(StatisticsError) as info:
        variance_test([1.0, 2.0], [3.0], method="levene")
    assert str(info.value) == (
        "each group needs at least 2 non-missing values to compare variances (got n1=2, n2=1)"
    )
    with pytest.raises(StatisticsError) as info:
        variance_test(A, B, method="levene", alternative="less")
    assert str(info.value) == (
        "alternative must be 'two-sided' for method 'levene', whose test is one-tailed by "
        "construction (got 'less')"
    )


def test_variance_test_with_one_constant_group_is_documented_extreme() -> None:
    result = variance_test([2.0, 2.0, 2.0], [1.0, 3.0, 8.0])
    assert result.statistic == 0.0
    assert result.p_value == 0.0


def test_levene_batch_equals_single() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(5, 9)), rng.normal(scale=2, size=(5, 14))
    for method in ("levene", "brown-forsythe", "F"):
        batch = variance_test(x, y, method=method, axis=1)  # type: ignore[arg-type]
        for i in range(5):
            one = variance_test(x[i], y[i], method=method)  # type: ignore[arg-type]
            assert batch.p_value[i] == pytest.approx(one.p_value, rel=1e-12)


def test_inputs_are_not_modified() -> None:
    x = np.array([1.0, np.nan, 3.0, 4.0])
    y = np.array([2.0, 5.0, 9.0])
    x0, y0 = x.copy(), y.copy()
    independent_t(x, y)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


def test_million_value_groups_run_in_one_call() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(100.0, 5.0, 1_000_000)
    y = rng.normal(100.01, 5.0, 1_000_000)
    result = independent_t(x, y)
    assert result.n1 == 1_000_000
    assert result.mean_difference == pytest.approx(float(np.mean(x) - np.mean(y)), rel=1e-9)
    assert 0.0 <= result.p_value <= 1.0
