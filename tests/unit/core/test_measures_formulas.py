"""The paper's formulas on hand-computed worked examples, and their invariances."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kypho.measures import (
    blood_loss,
    derive,
    genant_grade,
    height_ratio,
    wedge_angle_from_landmarks,
)
from kypho.schema import load_schema


def test_blood_loss_worked_example() -> None:
    """Hb 128 g/L before, 125.44 g/L after: (128 - 125.44) / 128 × 100 = 2.56 / 1.28 = 2.0 %."""
    assert blood_loss([128.0], [125.44])[0] == pytest.approx(2.0, rel=1e-12)


def test_blood_loss_missing_and_zero() -> None:
    out = blood_loss([np.nan, 0.0, 100.0], [90.0, 0.0, 110.0])
    assert np.isnan(out[0])
    assert np.isnan(out[1])
    assert out[2] == pytest.approx(-10.0)  # Hb rose: kept, not clipped


def test_height_ratio_worked_example() -> None:
    """Injured 14.2 mm, above 28.0 mm, below 30.0 mm: mean 29.0; 14.2 / 29.0 × 100 = 48.9655… %."""
    assert height_ratio([14.2], [28.0], [30.0])[0] == pytest.approx(48.96551724, rel=1e-9)


@given(
    st.floats(1, 60),
    st.floats(5, 60),
    st.floats(5, 60),
    st.floats(0.01, 100),
)
def test_height_ratio_is_scale_invariant(inj: float, up: float, down: float, k: float) -> None:
    r = height_ratio([inj], [up], [down])[0]
    assert height_ratio([inj * k], [up * k], [down * k])[0] == pytest.approx(r, rel=1e-9)


def test_wedge_angle_worked_example() -> None:
    """A body 30 mm deep, 20 mm high in front and 30 mm behind, lower endplate flat.

    The upper endplate falls 10 mm over 30 mm: θ = atan(10/30) = 18.4349488°; wedged
    anteriorly, so positive.
    """
    out = wedge_angle_from_landmarks((0, 20), (30, 30), (0, 0), (30, 0))
    assert out[0] == pytest.approx(math.degrees(math.atan(1 / 3)), rel=1e-12)


@given(st.floats(-3, 3), st.floats(0.1, 10), st.booleans(), st.booleans())
def test_wedge_angle_orientation_and_scale_free(
    shift: float, k: float, flip_x: bool, flip_y: bool
) -> None:
    sa, sp, ia, ip = (0.0, 20.0), (30.0, 30.0), (0.0, 0.0), (30.0, 0.0)

    def tr(p: tuple[float, float]) -> tuple[float, float]:
        x, y = p
        return ((-x if flip_x else x) * k + shift, (-y if flip_y else y) * k - shift)

    got = wedge_angle_from_landmarks(tr(sa), tr(sp), tr(ia), tr(ip))[0]
    assert got == pytest.approx(18.43494882, rel=1e-7)


def test_wedge_angle_negative_when_posterior_shorter() -> None:
    assert wedge_angle_from_landmarks((0, 30), (30, 20), (0, 0), (30, 0))[0] < 0


def test_genant_thresholds() -> None:
    """Genant 1993: reduction <20 % → 0; 20–25 % → 1; 25–40 % → 2; >40 % → 3."""
    grades = genant_grade([80.01, 80.0, 75.01, 75.0, 60.0, 59.99, np.nan])
    assert grades.astype(object).tolist()[:6] == ["0", "1", "1", "2", "2", "3"]
    assert pd.isna(grades.iloc[6])


def test_derive_fills_every_derived_column() -> None:
    schema = load_schema()
    data = pd.DataFrame(
        {
            "patient_id": ["a", "b"],
            "group": pd.Categorical(["experimental", "control"]),
            "level": pd.Categorical(["T12", "L2"]),
            "hb_pre": [128.0, 120.0],
            "hb_post": [125.44, 120.0],
            "ant_height_injured_pre": [14.2, 15.0],
            "ant_height_above_pre": [28.0, 30.0],
            "ant_height_below_pre": [30.0, 30.0],
            "ant_height_injured_d3": [26.1, 27.0],
            "ant_height_above_d3": [28.0, 30.0],
            "ant_height_below_d3": [30.0, 30.0],
            "ant_height_injured_last": [25.52, 27.0],
            "ant_height_above_last": [28.0, 30.0],
            "ant_height_below_last": [30.0, 30.0],
            "wedge_angle_pre": [np.nan, 20.0],
            "sup_ant_x_pre": [0.0, np.nan],
            "sup_ant_y_pre": [20.0, np.nan],
            "sup_post_x_pre": [30.0, np.nan],
            "sup_post_y_pre": [30.0, np.nan],
            "inf_ant_x_pre": [0.0, np.nan],
            "inf_ant_y_pre": [0.0, np.nan],
            "inf_post_x_pre": [30.0, np.nan],
            "inf_post_y_pre": [0.0, np.nan],
            "cement_pattern": pd.Categorical(["dense", "spongy"]),
            "cement_area_ap": [60.0, 80.0],
            "cement_area_lat": [55.0, 90.0],
            "leak_sites": pd.array(["", "C;S"], dtype="string"),
        }
    )
    before = data.copy(deep=True)
    out = derive(data, schema)
    pd.testing.assert_frame_equal(data, before)
    for var in schema.derived_variables:
        assert var.name in out, var.name
    assert out["region"].astype(object).tolist() == ["thoracic", "lumbar"]
    assert out["blood_loss"].tolist() == pytest.approx([2.0, 0.0])
    # 26.1 / 29 × 100 = 90.0; 25.52 / 29 × 100 = 88.0; restoration 90 − 48.9655 = 41.0345
    assert out["ant_height_ratio_d3"].iloc[0] == pytest.approx(90.0)
    assert out["ant_height_restoration"].iloc[0] == pytest.approx(90.0 - 48.96551724)
    assert out["ant_height_loss"].iloc[0] == pytest.approx(2.0)
    assert out["wedge_angle_pre"].tolist() == pytest.approx([18.43494882, 20.0])
    assert out["cement_grade"].astype(object).tolist() == ["I", "IV"]
    assert out["leak_count"].tolist() == [0, 2]
    assert out["leakage"].tolist() == [False, True]
    assert out["leak_S"].tolist() == [0, 1]
    assert out["filling_tube"].astype(object).tolist()[1] == "forward"  # control: always forward
