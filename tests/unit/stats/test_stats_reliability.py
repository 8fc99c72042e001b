"""Reliability statistics: rules that must hold, degenerate input, the plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kypho.errors import StatisticsError
from kypho.stats import bland_altman, bland_altman_plot, icc, icc_table, koo_li, weighted_kappa

SF = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)


def test_perfect_agreement_is_undefined_not_one() -> None:
    with pytest.raises(StatisticsError, match="no disagreement at all"):
        icc([[1, 1], [2, 2], [3, 3]])


def test_incomplete_subjects_are_left_out_and_counted() -> None:
    with_gap = np.vstack([SF, [5, np.nan, 4, 4]])
    r = icc(with_gap, form="ICC(3,1)")
    assert (r.n_subjects, r.n_excluded) == (6, 1)
    assert r.icc == pytest.approx(icc(SF, form="ICC(3,1)").icc)


def test_too_little_data() -> None:
    with pytest.raises(StatisticsError, match="at least 2 raters"):
        icc([[1.0], [2.0]])
    with pytest.raises(StatisticsError, match="at least 2 subjects"):
        icc([[1.0, 2.0]])
    with pytest.raises(StatisticsError, match="unknown ICC form"):
        icc(SF, form="ICC(4,1)")


@given(shift=st.floats(-100, 100), scale=st.floats(0.1, 10))
def test_icc_is_invariant_to_a_common_linear_change(shift: float, scale: float) -> None:
    a, b = icc_table(SF), icc_table(SF * scale + shift)
    for ra, rb in zip(a.results, b.results, strict=True):
        assert rb.icc == pytest.approx(ra.icc, rel=1e-9, abs=1e-12)
        assert rb.ci_low == pytest.approx(ra.ci_low, rel=1e-9, abs=1e-12)


def test_consistency_ignores_a_rater_offset_agreement_does_not() -> None:
    shifted = SF.copy()
    shifted[:, 1] += 10
    assert icc(shifted, form="ICC(3,1)").icc == pytest.approx(icc(SF, form="ICC(3,1)").icc)
    assert icc(shifted, form="ICC(2,1)").icc < icc(SF, form="ICC(2,1)").icc


def test_koo_li_labels_and_names() -> None:
    r = icc(SF, form="ICC(3,k)")
    assert (r.mcgraw_wong, r.interpretation) == ("ICC(C,k)", "excellent")
    assert r.interpretation_ci == "moderate to excellent"
    assert koo_li(float("nan")) == "undefined"


def test_bland_altman_swap_flips_the_bias() -> None:
    a, b = [10.0, 12.0, 11.0, 14.0, 9.0], [10.5, 11.0, 11.5, 12.0, 9.5]
    r, s = bland_altman(a, b), bland_altman(b, a)
    assert s.bias == pytest.approx(-r.bias)
    assert s.loa_low == pytest.approx(-r.loa_high)
    with pytest.raises(StatisticsError, match="at least 2 complete pairs"):
        bland_altman([1.0, np.nan], [2.0, 3.0])
    with pytest.raises(StatisticsError, match="must be paired"):
        bland_altman([1.0, 2.0], [2.0])


def test_bland_altman_plot_draws_the_limits() -> None:
    a, b = [10.0, 12.0, 11.0, 14.0, 9.0], [10.5, 11.0, 11.5, 12.0, 9.5]
    r = bland_altman(a, b)
    ax = bland_altman_plot(a, b, label="Anterior height", unit="mm")
    levels = sorted(line.get_ydata()[0] for line in ax.get_lines())
    assert levels == pytest.approx(sorted([r.bias, r.loa_low, r.loa_high]))
    assert ax.get_xlabel() == "Mean of the two anterior height values (mm)"
    assert len(ax.collections[0].get_offsets()) == 5
    _, own = plt.subplots()
    assert bland_altman_plot(a, b, ax=own) is own
    plt.close("all")


def test_kappa_perfect_and_scale_errors() -> None:
    k = weighted_kappa(["I", "II", "III"], ["I", "II", "III"], categories=["I", "II", "III", "IV"])
    assert k.kappa == pytest.approx(1.0)
    with pytest.raises(StatisticsError, match="not on the scale"):
        weighted_kappa(["I", "V"], ["I", "II"], categories=["I", "II", "III", "IV"])
    with pytest.raises(StatisticsError, match="chance agreement is already complete"):
        weighted_kappa(["I", "I"], ["I", "I"], categories=["I", "II"])
    missing = weighted_kappa(
        ["I", None, "II", "III"], ["I", "II", "II", "III"], categories=["I", "II", "III"]
    )
    assert (missing.n, missing.n_excluded) == (3, 1)


def test_kappa_weights_depend_on_the_scale_not_the_data() -> None:
    """Grade II unused: the distance I-III is still 2 steps, not 1."""
    a, b = ["I", "III", "IV", "I", "IV"], ["III", "IV", "IV", "I", "I"]
    scale = weighted_kappa(a, b, categories=["I", "II", "III", "IV"], weights="quadratic")
    seen = weighted_kappa(a, b, categories=["I", "III", "IV"], weights="quadratic")
    assert scale.kappa != pytest.approx(seen.kappa)
