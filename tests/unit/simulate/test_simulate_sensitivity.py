"""The sensitivity analysis run in pieces gives the analysis run at once."""

from __future__ import annotations

import numpy as np
import pytest

from kypho.errors import SimulationError
from kypho.simulate.sensitivity import (
    PARAMETERS,
    analyse,
    evaluate,
    sample_points,
    sensitivity,
)


def _cheap_pair(values: dict[str, float], **_: object) -> tuple[float, float]:
    """A stand-in for the two simulations (the bookkeeping is under test, not the model)."""
    return values["breach_size_mm"] * values["rate_ml_s"], values["threshold_per_s"] / 100.0


def test_pieces_analysed_together_equal_the_whole_analysis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kypho.simulate.sensitivity as sensitivity_module

    monkeypatch.setattr(sensitivity_module, "leakage_pair", _cheap_pair)
    n = 16
    whole = sensitivity(n)
    points = sample_points(n)
    assert points.shape == (n * (len(PARAMETERS) + 2), len(PARAMETERS))
    rows = np.array_split(np.arange(points.shape[0]), 3)
    pieces = [evaluate(points[r]) for r in rows]
    trad = np.concatenate([t for t, _ in pieces])
    staged = np.concatenate([s for _, s in pieces])
    joined = analyse(trad, staged, n)
    np.testing.assert_array_equal(joined.reduction_ml, whole.reduction_ml)
    np.testing.assert_array_equal(joined.indices.total, whole.indices.total)
    assert joined.runs == whole.runs == 288
    # the stand-in's reduction depends on breach size, rate and threshold only
    total = dict(zip(joined.indices.names, joined.indices.total, strict=True))
    assert total["curing_rate"] == pytest.approx(0.0, abs=1e-12)
    assert total["threshold_per_s"] > 0.01
    assert total["breach_size_mm"] > 0.1


def test_analyse_refuses_a_sample_of_the_wrong_size() -> None:
    with pytest.raises(
        SimulationError,
        match=r"sensitivity: 18 leaked volumes per protocol are needed for n = 2 and 7 inputs \(got 17 and 17\)",
    ):
        analyse(np.zeros(17), np.zeros(17), 2)
