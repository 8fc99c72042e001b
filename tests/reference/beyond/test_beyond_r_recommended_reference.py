"""Mixed model and proportional-odds fits against R's recommended packages.

Source: ``tests/reference/oracles/beyond/recommended.out``, printed by
``recommended.R`` (R 4.2.2 with nlme 3.1.162 and MASS 7.3.58.2, which ship with
R): ``nlme::lme(uptake ~ Treatment * conc, random = ~ 1 | Plant, method = "REML")``
on the CO2 data with every 5th row removed (unbalanced; written to
``co2_unbalanced.csv``), and ``MASS::polr`` for proportional-odds fits (the
paper's Table 7 grade counts, and a weighted fit with non-integer weights written
to ``polr_weighted.csv``).

Tolerances: REML estimates and their SEs rel=1e-6 (kypho maximises the
one-parameter profiled REML criterion to 1e-12; nlme stops its optimiser at its
own tolerance, and agrees to about 1e-8); proportional-odds coefficients rel=1e-5.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kypho.beyond import mixed_model, ordinal_effect, ordinal_logit

HERE = Path(__file__).parents[1] / "oracles" / "beyond"
R = {
    line.split()[0]: float(line.split()[1])
    for line in (HERE / "recommended.out").read_text().splitlines()
    if line and not line.startswith("#") and len(line.split()) == 2
}


@pytest.fixture(scope="module")
def unbalanced():  # type: ignore[no-untyped-def]
    data = pd.read_csv(HERE / "co2_unbalanced.csv")
    times = [str(c) for c in sorted(data["conc"].unique())]
    fit = mixed_model(
        data["uptake"],
        data["Plant"],
        data["Treatment"],
        data["conc"].astype(str),
        groups=("nonchilled", "chilled"),
        times=times,
    )
    return fit.fixed.set_index("term"), fit


def test_variance_components_match_nlme_lme(unbalanced) -> None:  # type: ignore[no-untyped-def]
    _, fit = unbalanced
    assert fit.n_observations == 68
    assert fit.sigma2_patient == pytest.approx(R["lme_sigma2_plant"], rel=1e-6)
    assert fit.sigma2_residual == pytest.approx(R["lme_sigma2_residual"], rel=1e-6)


@pytest.mark.parametrize(
    ("term", "key"),
    [
        ("intercept (nonchilled, 95)", "lme_intercept"),
        ("chilled vs nonchilled at 95", "lme_group"),
        ("1000 vs 95 (nonchilled)", "lme_time_1000"),
        ("chilled × 1000 (change in difference)", "lme_group_x_1000"),
    ],
)
def test_fixed_effects_and_ses_match_nlme_lme(unbalanced, term: str, key: str) -> None:  # type: ignore[no-untyped-def]
    fixed, _ = unbalanced
    assert fixed.loc[term, "estimate"] == pytest.approx(R[key], rel=1e-6)
    assert fixed.loc[term, "se"] == pytest.approx(R[f"{key}_se"], rel=1e-6)


def test_ordinal_effect_matches_polr_on_table_7() -> None:
    """polr's coefficient is the log OR of a higher grade, control vs experimental."""
    effect = ordinal_effect([4, 7, 10, 34], [11, 18, 14, 12])
    assert effect.log_odds_ratio == pytest.approx(R["polr_table7_logor"], rel=1e-5)
    assert math.exp(effect.log_odds_ratio) == pytest.approx(
        math.exp(R["polr_table7_logor"]), rel=1e-5
    )


def test_weighted_ordinal_logit_matches_polr() -> None:
    data = pd.read_csv(HERE / "polr_weighted.csv")
    beta, _, cut = ordinal_logit(
        data["y"].to_numpy(), data[["x"]].to_numpy(), weights=data["w"].to_numpy()
    )
    assert beta[0] == pytest.approx(R["polr_weighted_beta"], rel=1e-5)
    np.testing.assert_allclose(cut, [R["polr_weighted_zeta1"], R["polr_weighted_zeta2"]], rtol=1e-5)
