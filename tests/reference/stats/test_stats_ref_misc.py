"""Multiplicity adjustment, quartile rules and SMDs against R.

Source: tests/reference/oracles/stats/stats_oracle.out (R 4.2.2 ``p.adjust``,
``quantile(type = 6|7)``, and the SMD formulas of Austin (2009) and Yang &
Dalton (2012) evaluated in R, the categorical one with ``solve()``).
Tolerance: rel 1e-12.
"""

from __future__ import annotations

from typing import Any

import pytest

from kypho.stats import adjust_pvalues, describe, smd_categorical, smd_continuous


@pytest.mark.parametrize(("method", "r_name"), [("holm", "holm"), ("bh", "BH")])
def test_adjust_pvalues_matches_r_p_adjust(r_oracle: Any, method: Any, r_name: str) -> None:
    adjusted = adjust_pvalues(r_oracle.data["pv"], method=method)
    expected = [r_oracle(f"padj_{r_name}", str(i + 1)) for i in range(adjusted.size)]
    assert adjusted.tolist() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("rule", "r_type"), [("spss", 6), ("r", 7)])
def test_describe_quartiles_match_r_quantile_types(r_oracle: Any, rule: Any, r_type: int) -> None:
    result = describe(r_oracle.data["q"], quartiles=rule)
    for field in ("q1", "median", "q3"):
        assert getattr(result, field) == pytest.approx(
            r_oracle(f"quant_type{r_type}", field), rel=1e-12
        )


def test_smd_continuous_matches_r_formula(r_oracle: Any) -> None:
    result = smd_continuous(r_oracle.data["sleep1"], r_oracle.data["sleep2"])
    assert result.smd == pytest.approx(r_oracle("smd_sleep", "smd"), rel=1e-12)


def test_smd_binary_matches_r_formula(r_oracle: Any) -> None:
    """Table 1 gender, male:female 12:43 against 14:41."""
    result = smd_categorical([12, 43], [14, 41])
    assert result.smd == pytest.approx(r_oracle("smd_gender", "smd"), rel=1e-12)


def test_smd_categorical_matches_r_mahalanobis(r_oracle: Any) -> None:
    """Table 7 cement distribution grades I–IV."""
    result = smd_categorical([4, 7, 10, 34], [11, 18, 14, 12])
    assert result.smd == pytest.approx(r_oracle("smd_grades", "smd"), rel=1e-12)
