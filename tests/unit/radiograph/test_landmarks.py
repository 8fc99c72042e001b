"""Six-point morphometry: known geometry in, known measures out; impossible points refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kypho.errors import LandmarkError
from kypho.measures import height_ratio
from kypho.radiograph import (
    PixelSize,
    calibrate,
    check_lateral,
    lateral_phantom,
    measure_lateral,
    measure_lateral_batch,
)


def test_phantom_measures_match_its_geometry() -> None:
    p = lateral_phantom()
    m = measure_lateral(p.landmarks, p.pixel_size)
    assert m.heights_mm["injured"] == {"anterior": 17.0, "middle": 22.0, "posterior": 27.0}
    assert m.heights_mm["above"]["anterior"] == 25.0
    assert m.heights_mm["below"]["middle"] == 26.0
    assert m.anterior_ratio == pytest.approx(17.0 / 25.5 * 100, rel=1e-12)
    assert m.middle_ratio == pytest.approx(22.0 / 25.5 * 100, rel=1e-12)
    assert m.wedge_angle == pytest.approx(np.degrees(np.arctan(40 / 120)), abs=1e-9)
    assert m.genant == "2"  # reduction 33 %: moderate
    assert m.to_dict()["height_injured_posterior"] == 27.0


def test_ratio_is_the_measures_formula() -> None:
    p = lateral_phantom(heights_px=((90, 96), (60, 100), (110, 104)))
    m = measure_lateral(p.landmarks, PixelSize.square(0.3))
    h = m.heights_mm
    expected = height_ratio(
        [h["injured"]["anterior"]], [h["above"]["anterior"]], [h["below"]["anterior"]]
    )
    assert m.anterior_ratio == expected[0]


def test_anisotropic_pixels_scale_each_axis() -> None:
    p = lateral_phantom()
    m = measure_lateral(p.landmarks, PixelSize(column_mm=0.25, row_mm=0.5))
    assert m.heights_mm["injured"]["anterior"] == pytest.approx(34.0)
    # the angle in mm: 40 px * 0.5 mm over 120 px * 0.25 mm
    assert m.wedge_angle == pytest.approx(np.degrees(np.arctan(20 / 30)))


@given(
    angle=st.floats(-180, 180),
    flip=st.booleans(),
    scale=st.floats(0.05, 2.0),
    shift=st.floats(-500, 500),
)
def test_rotation_mirroring_and_scale_leave_ratios_and_angle(
    angle: float, flip: bool, scale: float, shift: float
) -> None:
    p = lateral_phantom()
    base = measure_lateral(p.landmarks, p.pixel_size)
    t = np.radians(angle)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    pts = p.landmarks @ rot.T
    if flip:
        pts = pts * np.array([-1.0, 1.0])
    m = measure_lateral(pts * scale + shift, p.pixel_size)
    assert m.anterior_ratio == pytest.approx(base.anterior_ratio, rel=1e-9)
    assert m.middle_ratio == pytest.approx(base.middle_ratio, rel=1e-9)
    assert m.wedge_angle == pytest.approx(base.wedge_angle, abs=1e-7)
    assert m.heights_mm["injured"]["anterior"] == pytest.approx(17.0 * scale, rel=1e-9)


def _message(points: np.ndarray) -> str:
    with pytest.raises(LandmarkError) as info:
        measure_lateral(points, PixelSize.square(0.25), where="record P-1, lateral film (pre)")
    return str(info.value)


def test_zero_height_is_refused() -> None:
    pts = lateral_phantom().landmarks.copy()
    pts[1, 3] = pts[1, 0]  # inferior anterior on top of superior anterior
    assert _message(pts) == (
        "record P-1, lateral film (pre): these landmarks cannot be measured:\n"
        "  - injured vertebra: the anterior height is zero (the superior and inferior "
        "anterior points coincide)"
    )


def test_middle_point_out_of_order_is_refused() -> None:
    pts = lateral_phantom().landmarks.copy()
    pts[0, [0, 1]] = pts[0, [1, 0]]  # anterior and middle swapped on the superior endplate
    assert (
        "above vertebra: the middle point of the superior endplate is not between its anterior and posterior points"
        in _message(pts)
    )


def test_crossed_endplates_are_refused() -> None:
    pts = lateral_phantom().landmarks.copy()
    pts[1, 0, 1] = pts[1, 3, 1] + 10  # superior anterior corner below the inferior one
    assert "injured vertebra: the superior and inferior endplate lines cross" in _message(pts)


def test_swapped_endplates_and_vertebrae_are_refused() -> None:
    pts = lateral_phantom().landmarks.copy()
    swapped = pts[[2, 1, 0]]  # above and below exchanged
    msg = _message(swapped)
    assert "above vertebra: it does not lie above the injured vertebra" in msg
    assert "below vertebra: it does not lie below the injured vertebra" in msg
    turned = pts.copy()
    turned[2] = pts[2][[3, 4, 5, 0, 1, 2]]  # superior and inferior swapped on one body
    assert "below vertebra: its superior and inferior endplates are swapped" in _message(turned)


def test_missing_point_and_reversed_plate() -> None:
    pts = lateral_phantom().landmarks.copy()
    pts[1, 4] = np.nan
    assert "injured vertebra: the inferior middle point is not placed" in _message(pts)
    rev = lateral_phantom().landmarks.copy()
    rev[1, 3:6] = rev[1, 3:6][::-1]
    assert (
        "injured vertebra: the superior and inferior endplates run in opposite directions"
        in _message(rev)
    )


def test_batch_gives_no_number_for_a_bad_read() -> None:
    good = lateral_phantom().landmarks
    bad = good.copy()
    bad[1, 3] = bad[1, 0]
    frame = measure_lateral_batch(np.stack([good, bad, good]), PixelSize.square(0.25))
    assert list(frame["problem"] == "") == [True, False, True]
    assert np.isnan(
        frame.loc[1, ["anterior_ratio", "middle_ratio", "wedge_angle_deg"]].astype(float)
    ).all()
    assert frame["genant"].isna().tolist() == [False, True, False]
    assert check_lateral(good) == [[]]


def test_calibration_by_known_length() -> None:
    p = lateral_phantom()
    # the injured body's posterior wall is 108 px = 27 mm
    px = calibrate(tuple(p.landmarks[1, 2]), tuple(p.landmarks[1, 5]), 27.0)
    assert px.column_mm == pytest.approx(0.25)
    assert px.source == "calibration"
    m = measure_lateral(p.landmarks, px)
    assert m.heights_mm["injured"]["anterior"] == pytest.approx(17.0)
    with pytest.raises(LandmarkError, match="the same point"):
        calibrate((1, 1), (1, 1), 10.0)
    with pytest.raises(LandmarkError, match="positive number of mm"):
        calibrate((1, 1), (5, 1), 0.0)
    with pytest.raises(LandmarkError, match="pixel size must be a positive"):
        PixelSize.square(0.0)


def test_input_is_not_modified() -> None:
    pts = lateral_phantom().landmarks
    before = pts.copy()
    measure_lateral_batch(pts[None], PixelSize.square(0.25))
    assert np.array_equal(pts, before)
