"""Paired t test against R and PSPP.

Sources: tests/reference/oracles/stats/stats_oracle.out (R 4.2.2
``t.test(after, before, paired = TRUE)``; R drops incomplete pairs) and
stats_pspp.csv (PSPP 1.6.2 ``T-TEST /PAIRS = pre WITH post (PAIRED)``, which
prints pre − post). Tolerance: rel 1e-10 against R; half a unit of the last
printed digit against PSPP.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kypho.stats import paired_t

REL = 1e-10


@pytest.mark.parametrize(
    ("case", "before", "after"),
    [("sleep_paired", "sleep1", "sleep2"), ("prepost_paired", "pre", "post")],
)
def test_paired_t_matches_r(r_oracle: Any, case: str, before: str, after: str) -> None:
    result = paired_t(r_oracle.data[before], r_oracle.data[after])
    for field in ("statistic", "dof", "p_value", "ci_low", "ci_high"):
        assert getattr(result, field) == pytest.approx(r_oracle(case, field), rel=REL), field


def test_paired_t_counts_the_pairs_r_dropped(r_oracle: Any) -> None:
    """pre has NA in pair 3 and post in pair 5: R used 8 pairs (df = 7)."""
    result = paired_t(r_oracle.data["pre"], r_oracle.data["post"])
    assert (result.n_pairs, result.n_dropped) == (8, 2)
    assert result.dof == r_oracle("prepost_paired", "dof")


def test_paired_t_matches_pspp_with_sign_flipped(r_oracle: Any, pspp: Any) -> None:
    """PSPP's 'pre - post' row is the negative of kypho's after − before."""
    row = pspp.tables("Paired Samples Test")[0].rows[-1]
    pre, post = r_oracle.data["pre"], r_oracle.data["post"]
    keep = ~np.isnan(pre) & ~np.isnan(post)
    result = paired_t(pre[keep], post[keep])
    assert pspp.matches(-result.mean_difference, row[2])
    assert pspp.matches(result.sd_difference, row[3])
    assert pspp.matches(result.se_difference, row[4])
    assert pspp.matches(-result.ci_high, row[5])
    assert pspp.matches(-result.ci_low, row[6])
    assert pspp.matches(-result.statistic, row[7])
    assert pspp.matches(result.dof, row[8])
    assert pspp.matches(result.p_value, row[9])
