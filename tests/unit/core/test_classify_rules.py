"""Cement distribution grade, leakage and filling tube: every case of the rule."""

from __future__ import annotations

import pandas as pd
import pytest

from kypho.classify import FillingTubeRule, cement_grade, filling_tube, leakage_counts


@pytest.mark.parametrize(
    ("pattern", "ap", "lat", "grade", "note"),
    [
        ("dense", 60, 70, "I", ""),
        ("spongy", 50, 75, "II", ""),
        ("dense", 76, 80, "III", ""),
        ("spongy", 90, 75.5, "IV", ""),
        (
            "dense",
            75,
            90,
            "I",
            "films disagree (one > 75%, one 50–75%): graded by the 'and/or' 50–75% band",
        ),
        ("spongy", 40, 60, "II", ""),
        ("dense", 60, None, "I", ""),
        (
            "dense",
            30,
            49.9,
            None,
            "ungraded: cement area below 50% on both films (not graded by the paper)",
        ),
        (
            "dense",
            80,
            None,
            None,
            "ungraded: only one film measured and grade III/IV needs both films > 75%",
        ),
        (
            "spongy",
            80,
            30,
            None,
            "one film > 75%, the other below 50%: ungraded (not defined by the paper)",
        ),
        ("dense", None, None, None, "ungraded: cement area not measured"),
        (None, 60, 60, None, "ungraded: filling pattern missing"),
    ],
)
def test_cement_grade_cases(
    pattern: str | None, ap: float | None, lat: float | None, grade: str | None, note: str
) -> None:
    g = cement_grade(
        pd.Series([pattern], dtype=object),
        pd.Series([ap], dtype=float),
        pd.Series([lat], dtype=float),
    )
    got = g.grade.astype(object).iloc[0]
    assert (pd.isna(got) and grade is None) or got == grade
    assert g.note.iloc[0] == note


def test_below_50_low_band_option() -> None:
    g = cement_grade(
        pd.Series(["spongy"]), pd.Series([30.0]), pd.Series([45.0]), below_50="low_band"
    )
    assert g.grade.astype(object).tolist() == ["II"]
    assert g.note.iloc[0] == "cement area below 50%: put in the 50–75% band (below_50='low_band')"


def test_grade_is_ordered() -> None:
    g = cement_grade(
        pd.Series(["dense", "spongy"]), pd.Series([60.0, 90.0]), pd.Series([60.0, 90.0])
    )
    assert g.grade.cat.ordered
    assert g.grade.iloc[0] < g.grade.iloc[1]


def test_leakage_counts_per_type() -> None:
    out = leakage_counts(pd.Series(["C", "C;C;S", "", None, "B;D"], dtype="string"))
    assert out.count.tolist()[:3] == [1, 3, 0]
    assert out.by_type["C"].tolist()[:3] == [1, 2, 0]
    assert out.by_type["S"].tolist()[:3] == [0, 1, 0]
    assert out.by_type["B"].tolist()[4] == 1
    assert out.by_type["D"].tolist()[4] == 1
    assert list(out.by_type) == ["B", "C", "S", "D"]
    assert out.any.tolist()[:3] == [True, True, False]
    # not assessed stays unknown
    assert [s.iloc[3] for s in (out.any, out.count, *out.by_type.values())] == [pd.NA] * 6


def test_filling_tube_rule_is_configurable() -> None:
    flags = {
        "anterior_wall": pd.Series([True, True, None, None]),
        "superior_endplate": pd.Series([True, False, None, None]),
        "inferior_endplate": pd.Series([False, False, None, None]),
        "subtype": pd.Series([None, None, "B", "D"]),
    }
    group = pd.Series(["experimental"] * 4)
    tube = filling_tube(group, **flags)
    assert tube.astype(object).tolist() == ["forward", "forward", "side", "forward"]
    side_first = filling_tube(group, **flags, rule=FillingTubeRule(both="side"))
    assert side_first.astype(object).tolist()[0] == "side"


def test_filling_tube_control_arm_is_named_by_the_caller() -> None:
    group = pd.Series(["usual", "new"])
    wall = pd.Series([False, False])
    endplate = pd.Series([True, True])
    tube = filling_tube(group, anterior_wall=wall, superior_endplate=endplate, control="usual")
    assert tube.astype(object).tolist() == ["forward", "side"]
