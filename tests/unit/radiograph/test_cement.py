"""Cement outlines → area fractions → grade by kypho.classify's rule."""

from __future__ import annotations

import pytest

from kypho.errors import LandmarkError
from kypho.radiograph import cement_distribution, cement_fraction, polygon_area

BODY = [(0, 0), (100, 0), (100, 100), (0, 100)]


def _square(side: float) -> list[tuple[float, float]]:
    a = (100 - side) / 2
    return [(a, a), (a + side, a), (a + side, a + side), (a, a + side)]


def test_fraction_and_grades() -> None:
    assert cement_fraction(BODY, _square(80)) == pytest.approx(64.0)
    dense = cement_distribution("dense", ap=(BODY, _square(90)), lateral=(BODY, _square(95)))
    assert (dense.grade, dense.note) == ("III", "")
    assert dense.area_ap == pytest.approx(81.0)
    spongy = cement_distribution("spongy", ap=(BODY, _square(80)), lateral=(BODY, _square(80)))
    assert spongy.grade == "II"


def test_undefined_cases_as_classify_reads_them() -> None:
    low = cement_distribution("dense", ap=(BODY, _square(50)), lateral=(BODY, _square(60)))
    assert low.grade is None
    assert low.note == "ungraded: cement area below 50% on both films (not graded by the paper)"
    one = cement_distribution("spongy", lateral=(BODY, _square(95)))
    assert one.grade is None
    assert one.note == "ungraded: only one film measured and grade III/IV needs both films > 75%"
    nopattern = cement_distribution(None, ap=(BODY, _square(80)))
    assert nopattern.note == "ungraded: filling pattern missing"


def test_bad_outlines_get_messages() -> None:
    with pytest.raises(LandmarkError, match="needs at least 3"):
        cement_fraction(BODY, [(1, 1), (2, 2)], film="AP")
    with pytest.raises(LandmarkError, match="cement outline on the AP film crosses itself"):
        cement_fraction(BODY, [(10, 10), (90, 90), (90, 10), (10, 90)], film="AP")
    with pytest.raises(LandmarkError, match="extends beyond the vertebral body outline"):
        cement_fraction(BODY, [(10, 10), (120, 10), (50, 50)], film="lateral")
    with pytest.raises(LandmarkError, match="encloses no area"):
        cement_fraction([(0, 0), (5, 5), (10, 10)], [(1, 1), (2, 2), (3, 3)])


def test_shoelace_is_orientation_free() -> None:
    assert polygon_area(BODY) == polygon_area(BODY[::-1]) == 10000.0
