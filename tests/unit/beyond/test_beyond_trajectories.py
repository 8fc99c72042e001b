"""Unit tests of kypho.beyond.trajectories on the demo cohort and small constructed data."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

import kypho.beyond
from kypho.analysis.demo import demo_cohort
from kypho.beyond import fit_trajectory, mixed_model, plot_trajectory
from kypho.errors import StatisticsError
from kypho.measures import derive
from kypho.schema import load_schema
from kypho.validate import validate

matplotlib.use("Agg")


def test_all_matches_public_names() -> None:
    public = {n for n in dir(kypho.beyond) if not n.startswith("_")}
    modules = {"montecarlo", "planning", "power", "trajectories", "confounding", "report"}
    modules.add("annotations")  # from __future__ import annotations
    assert set(kypho.beyond.__all__) == public - modules
    assert kypho.beyond.__all__ == sorted(kypho.beyond.__all__)


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    schema = load_schema()
    return derive(validate(demo_cohort(110, seed=0)).data, schema)


def test_fit_trajectory_on_the_study_schema(cohort: pd.DataFrame) -> None:
    schema = load_schema()
    before = cohort.copy()
    result = fit_trajectory(cohort, schema, "wedge_angle")
    pd.testing.assert_frame_equal(cohort, before)
    assert result.times == ("pre", "d3", "last")
    assert result.groups == ("control", "experimental")
    assert result.n_patients == 110
    assert result.n_observations == 330
    # Without missing data the model-based means are the observed cell means.
    observed = cohort.groupby(cohort["group"].astype(str))["wedge_angle_d3"].mean()
    means = result.means.set_index(["group", "time"])["estimate"]
    assert means[("experimental", "d3")] == pytest.approx(observed["experimental"], rel=1e-6)
    assert means[("control", "d3")] == pytest.approx(observed["control"], rel=1e-6)
    assert list(result.to_frame()["time"]) == ["pre", "d3", "last"]


def test_recovers_a_known_trajectory() -> None:
    """Simulated: patient SD 2, residual SD 1, control 10 → 5 → 4, experimental 1 lower later."""
    rng = np.random.default_rng(8)
    n = 60
    times = ["t0", "t1", "t2"]
    truth = {"control": [10.0, 5.0, 4.0], "experimental": [10.0, 4.0, 3.0]}
    rows = []
    for i in range(2 * n):
        grp = "control" if i < n else "experimental"
        u = rng.normal(0, 2)
        rows += [
            (f"p{i}", grp, t, truth[grp][k] + u + rng.normal(0, 1)) for k, t in enumerate(times)
        ]
    frame = pd.DataFrame(rows, columns=["id", "group", "time", "y"])
    fit = mixed_model(
        frame.y, frame.id, frame.group, frame.time, groups=("control", "experimental"), times=times
    )
    assert fit.sigma2_patient == pytest.approx(4.0, rel=0.35)
    assert fit.sigma2_residual == pytest.approx(1.0, rel=0.2)
    diffs = fit.differences.set_index("time")
    for t, expected in zip(times, [0.0, -1.0, -1.0], strict=True):
        assert diffs.loc[t, "ci_low"] < expected < diffs.loc[t, "ci_high"]


def test_plot_draws_one_line_per_group(cohort: pd.DataFrame) -> None:
    result = fit_trajectory(cohort, load_schema(), "mid_height_ratio")
    ax = plot_trajectory(result, time_labels={"pre": "Before"})
    lines = ax.get_lines()
    data = [line.get_ydata() for line in lines if len(line.get_ydata()) == 3]
    expected = result.means[result.means["group"] == "experimental"]["estimate"].to_numpy()
    assert any(np.allclose(d, expected) for d in data)
    assert ax.get_xticklabels()[0].get_text() == "Before"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["experimental", "control"]


def test_unknown_measure_is_refused(cohort: pd.DataFrame) -> None:
    with pytest.raises(StatisticsError) as info:
        fit_trajectory(cohort, load_schema(), "height")
    assert str(info.value).startswith("'height' is not a repeated measure of the schema (known: ")


def test_a_group_without_a_timepoint_is_refused() -> None:
    with pytest.raises(StatisticsError) as info:
        mixed_model(
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            ["a", "a", "b", "b", "c", "d"],
            ["x", "x", "x", "x", "y", "y"],
            ["0", "1", "0", "1", "0", "0"],
            groups=("x", "y"),
            times=("0", "1"),
        )
    assert str(info.value) == (
        "no measurement of value for y at 1; every group needs every timepoint"
    )


def test_no_patient_effect_is_fitted_at_the_boundary() -> None:
    """Independent measurements: the patient variance is 0 and the fit says so."""
    rng = np.random.default_rng(9)
    ids = np.repeat([f"p{i}" for i in range(80)], 3)
    group = np.repeat(np.where(np.arange(80) < 40, "c", "e"), 3)
    time = np.tile(["0", "1", "2"], 80)
    y = rng.normal(0, 1, 240) - 5 * (group == "c")
    fit = mixed_model(y, ids, group, time, groups=("c", "e"), times=("0", "1", "2"))
    assert fit.sigma2_patient == pytest.approx(0.0, abs=1e-4)
    assert fit.notes[0].startswith("the patient variance is estimated at 0 (its lower bound)")
    assert fit.differences["difference"].to_numpy() == pytest.approx(
        [
            y[(group == "e") & (time == t)].mean() - y[(group == "c") & (time == t)].mean()
            for t in "012"
        ],
        rel=1e-6,
    )


def test_patients_with_a_missing_visit_keep_their_other_measurements(
    cohort: pd.DataFrame,
) -> None:
    schema = load_schema()
    gappy = cohort.copy()
    gappy.loc[gappy.index[:10], "wedge_angle_last"] = np.nan
    result = fit_trajectory(gappy, schema, "wedge_angle")
    assert result.n_patients == 110
    assert result.n_observations == 320
    counts = result.means.set_index(["group", "time"])["n"]
    assert counts.sum() == 320


def _unbalanced(seed: int, patients: int) -> pd.DataFrame:
    """Random-intercept data with about a fifth of the visits missing."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(patients):
        grp = "c" if i % 2 else "e"
        u = rng.normal(0, 1.5)
        for k, t in enumerate("0123"):
            if k and rng.random() < 0.2:
                continue
            rows.append((i, grp, t, 3.0 - k + (grp == "e") * 0.5 * k + u + rng.normal(0, 1)))
    return pd.DataFrame(rows, columns=["id", "group", "time", "y"])


def test_matches_statsmodels_mixedlm_on_unbalanced_data() -> None:
    """The sufficient-statistics REML against statsmodels' MixedLM (REML, same design).

    statsmodels' fixed-effect covariance comes from its own Hessian, so SEs are
    compared loosely; nlme's (the reference in tests/reference/beyond) are exact.
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    frame = _unbalanced(3, 40)
    fit = mixed_model(
        frame.y, frame.id, frame.group, frame.time, groups=("c", "e"), times=tuple("0123")
    )
    g = (frame.group == "e").to_numpy(dtype=float)
    columns = [np.ones(len(frame)), g]
    columns += [(frame.time == t).to_numpy(dtype=float) for t in "123"]
    columns += [g * (frame.time == t).to_numpy(dtype=float) for t in "123"]
    reference = MixedLM(frame.y.to_numpy(), np.column_stack(columns), groups=frame.id).fit(
        reml=True, method=["lbfgs"]
    )
    assert fit.sigma2_patient == pytest.approx(
        float(np.asarray(reference.cov_re).ravel()[0]), rel=1e-4
    )
    assert fit.sigma2_residual == pytest.approx(float(reference.scale), rel=1e-4)
    np.testing.assert_allclose(fit.fixed["estimate"], reference.fe_params, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(fit.fixed["se"], reference.bse_fe, rtol=2e-3)
    assert fit.n_observations == len(frame)
    assert fit.n_patients == 40


def test_blocked_sufficient_statistics_equal_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Summing the patients' cell counts a few patients at a time changes nothing."""
    from kypho.beyond import trajectories

    frame = _unbalanced(5, 30)
    args = (frame.y, frame.id, frame.group, frame.time)
    whole = mixed_model(*args, groups=("c", "e"), times=tuple("0123"))
    monkeypatch.setattr(trajectories, "_VALUES_PER_BLOCK", 24)
    blocked = mixed_model(*args, groups=("c", "e"), times=tuple("0123"))
    assert blocked.sigma2_patient == pytest.approx(whole.sigma2_patient, rel=1e-12)
    np.testing.assert_allclose(blocked.fixed["estimate"], whole.fixed["estimate"], rtol=1e-12)


def test_one_row_per_patient_fit_equals_the_long_layout_fit() -> None:
    """The wide path (unique ids) reads the same sufficient statistics as the long one."""
    from kypho.beyond.trajectories import _design, _fit_codes, _fit_wide

    rng = np.random.default_rng(8)
    n, times = 400, ("t0", "t1", "t2")
    g = (np.arange(n) % 2).astype(np.int64)
    level = rng.normal(0, 2, n)
    y = 10 + level[:, None] + g[:, None] * np.array([0.0, 1.0, 2.5]) + rng.normal(0, 1, (n, 3))
    y[rng.random((n, 3)) < 0.25] = np.nan
    y[:7] = np.nan  # patients with no measurement at all
    options = {"groups": ("control", "experimental"), "times": times, "measure": "m"}
    wide = _fit_wide(y, g, confidence=0.95, **options)  # type: ignore[arg-type]
    design = _design(
        y.T.ravel(),
        np.tile(np.arange(n), 3),
        np.tile(g, 3),
        np.repeat(np.arange(3), n),
        ("control", "experimental"),
        times,
        "m",
    )
    long = _fit_codes(design, confidence=0.95, **options)  # type: ignore[arg-type]
    assert (wide.n_patients, wide.n_observations) == (long.n_patients, long.n_observations)
    assert wide.sigma2_patient == pytest.approx(long.sigma2_patient, rel=1e-7)
    assert wide.sigma2_residual == pytest.approx(long.sigma2_residual, rel=1e-7)
    assert wide.means["estimate"].to_numpy() == pytest.approx(
        long.means["estimate"].to_numpy(), rel=1e-9
    )
    assert wide.differences["se"].to_numpy() == pytest.approx(
        long.differences["se"].to_numpy(), rel=1e-7
    )


def test_a_repeated_id_is_one_patient(cohort: pd.DataFrame) -> None:
    """Two rows with the same id are one patient's measurements (the long layout's path)."""
    schema = load_schema()
    twice = pd.concat([cohort, cohort.head(1)], ignore_index=True)
    once = fit_trajectory(cohort, schema, "wedge_angle")
    result = fit_trajectory(twice, schema, "wedge_angle")
    assert result.n_patients == once.n_patients
    assert result.n_observations > once.n_observations
