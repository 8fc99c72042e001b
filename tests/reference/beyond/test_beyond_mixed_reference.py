"""The random-intercept mixed model against R's split-plot ANOVA on the CO2 data.

Source: ``tests/reference/oracles/beyond/mixed_co2.out``, printed by
``mixed_co2.R`` (R 4.2.2, ``aov(uptake ~ Treatment * factor(conc) + Error(Plant))``
on ``datasets::CO2``, Potvin, Lechowicz & Tardif 1990), which also wrote the data
to ``co2.csv``. For this balanced design the REML variance components equal the
ANOVA estimates, the model-based means equal the cell means, and the Wald χ² of
the interaction divided by its df equals the ANOVA F (Searle, Casella & McCulloch
1992). Tolerances: rel=1e-6 throughout (the ANOVA values are closed-form; kypho's
REML maximises its one-parameter profiled criterion to 1e-12).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kypho.beyond import mixed_model

HERE = Path(__file__).parents[1] / "oracles" / "beyond"


def _oracle() -> dict[str, float]:
    values: dict[str, float] = {}
    for line in (HERE / "mixed_co2.out").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            try:
                values[parts[0]] = float(parts[1])
            except ValueError:
                continue
    return values


R = _oracle()
CO2 = pd.read_csv(HERE / "co2.csv")
TIMES = [str(c) for c in sorted(CO2["conc"].unique())]


@pytest.fixture(scope="module")
def fit():  # type: ignore[no-untyped-def]
    return mixed_model(
        CO2["uptake"],
        CO2["Plant"],
        CO2["Treatment"],
        CO2["conc"].astype(str),
        groups=("nonchilled", "chilled"),
        times=TIMES,
        measure="CO2 uptake",
    )


def test_variance_components_equal_the_anova_estimates(fit) -> None:  # type: ignore[no-untyped-def]
    assert fit.sigma2_residual == pytest.approx(R["sigma2_residual"], rel=1e-6)
    assert fit.sigma2_patient == pytest.approx(R["sigma2_plant"], rel=1e-6)
    assert fit.n_patients == 12
    assert fit.n_observations == 84
    assert fit.converged


def test_model_based_means_are_the_cell_means(fit) -> None:  # type: ignore[no-untyped-def]
    means = fit.means.set_index(["group", "time"])["estimate"]
    for conc in TIMES:
        assert means[("nonchilled", conc)] == pytest.approx(R[f"mean_nonchilled_{conc}"], rel=1e-6)
        assert means[("chilled", conc)] == pytest.approx(R[f"mean_chilled_{conc}"], rel=1e-6)


def test_group_differences_and_their_standard_errors(fit) -> None:  # type: ignore[no-untyped-def]
    diffs = fit.differences.set_index("time")
    for conc in TIMES:
        assert diffs.loc[conc, "difference"] == pytest.approx(R[f"diff_{conc}"], rel=1e-6)
        assert diffs.loc[conc, "se"] == pytest.approx(R["se_diff"], rel=1e-6)


def test_interaction_wald_test_equals_the_anova_f(fit) -> None:  # type: ignore[no-untyped-def]
    assert fit.interaction_dof == 6
    assert fit.interaction_chi2 / 6 == pytest.approx(R["F_interaction"], rel=1e-6)
