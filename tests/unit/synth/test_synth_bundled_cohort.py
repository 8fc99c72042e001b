"""The bundled synthetic cohort (kypho/data/cohort.csv) reproduces the paper's tables.

Checked through kypho's own pipeline: validate -> derive -> screen, then the included
patients' group summaries against the transcription (kypho/data/paper_tables.yaml) to
its printed rounding, and every published count exactly.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from kypho.audit.loader import load_paper_tables
from kypho.eligibility import screen
from kypho.measures import derive
from kypho.schema import load_schema
from kypho.synth import load_synth_spec
from kypho.synth.targets import collect_targets
from kypho.validate import validate

GROUPS = ("experimental", "control")


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    path = resources.files("kypho").joinpath("data", "cohort.csv")
    with resources.as_file(path) as p:
        return pd.read_csv(p)


@pytest.fixture(scope="module")
def derived(raw: pd.DataFrame) -> pd.DataFrame:
    result = validate(raw)
    return derive(result.data)


@pytest.fixture(scope="module")
def included(derived: pd.DataFrame) -> pd.DataFrame:
    s = screen(derived)
    return derived[s.included.to_numpy()]


def test_bundled_cohort_validates_with_no_rejected_row(raw: pd.DataFrame) -> None:
    result = validate(raw)
    assert result.n_rejected == 0
    assert result.n_accepted == len(raw) == 124
    assert result.unknown_columns == []


def test_columns_are_the_schema_input_columns(raw: pd.DataFrame) -> None:
    schema = load_schema()
    assert list(raw.columns) == [v.name for v in schema.input_variables]


def test_screening_includes_55_per_group_and_excludes_14_with_reasons(
    derived: pd.DataFrame,
) -> None:
    s = screen(derived)
    assert s.flow.screened == 124
    assert s.flow.included == 110
    assert s.flow.included_by_group == {"experimental": 55, "control": 55}
    assert s.flow.first_reason == {
        "inclusion_c": 2,
        "inclusion_c:unknown": 1,
        "inclusion_d": 1,
        "inclusion_e": 1,
        "inclusion_f": 3,
        "inclusion_g": 2,
        "exclusion_a": 1,
        "exclusion_c": 1,
        "exclusion_e": 1,
        "exclusion_f": 1,
    }
    assert s.flow.not_assessed == []


def test_every_published_mean_and_sd_is_reproduced_to_its_rounding(
    included: pd.DataFrame,
) -> None:
    paper = load_paper_tables()
    targets = collect_targets(paper, load_schema(), load_synth_spec().binding)
    assert (
        len(targets.continuous) == 17
    )  # Table 1 age, Table 2: 3 rows, Table 3: 4, Tables 4-6: 3 each
    assert targets.unbound == ()
    for t in targets.continuous:
        for g in GROUPS:
            x = included.loc[included["group"] == g, t.column].astype("float64")
            cell = t.cells[g]
            assert len(x) == cell.n == 55
            assert abs(x.mean() - cell.mean.value) < cell.mean.half_unit, (t.column, g)
            assert abs(x.std(ddof=1) - cell.sd.value) < cell.sd.half_unit, (t.column, g)


@pytest.mark.parametrize(
    ("column", "code", "expected"),
    [
        ("sex", "male", (12, 14)),
        ("sex", "female", (43, 41)),
        ("region", "thoracic", (32, 30)),
        ("region", "lumbar", (23, 25)),
        ("cement_grade", "I", (4, 11)),
        ("cement_grade", "II", (7, 18)),
        ("cement_grade", "III", (10, 14)),
        ("cement_grade", "IV", (34, 12)),
    ],
)
def test_published_category_counts(
    included: pd.DataFrame, column: str, code: str, expected: tuple[int, int]
) -> None:
    """Table 1 (gender, region) and Table 7 (distribution grade) of the paper."""
    got = tuple(
        int((included.loc[included["group"] == g, column].astype(object) == code).sum())
        for g in GROUPS
    )
    assert got == expected


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("pain", (55, 55)),
        ("percussion_pain", (55, 55)),
        ("constipation", (37, 39)),
        ("leakage", (2, 9)),
    ],
)
def test_published_yes_counts(
    included: pd.DataFrame, column: str, expected: tuple[int, int]
) -> None:
    """Table 1 (clinical manifestations) and Table 7 (leakage) of the paper."""
    got = tuple(int(included.loc[included["group"] == g, column].sum()) for g in GROUPS)
    assert got == expected


def test_leak_types_as_in_the_results_text(included: pd.DataFrame) -> None:
    """ "1 case of type C, 1 case of type S in the experimental group, 7 cases of type C
    and 2 cases of type S in the control group"."""
    by_group = included.groupby("group", observed=True)[["leak_B", "leak_C", "leak_S", "leak_D"]]
    sums = by_group.sum().astype(int)
    assert sums.loc["experimental"].tolist() == [0, 1, 1, 0]
    assert sums.loc["control"].tolist() == [0, 7, 2, 0]


def test_every_included_patient_has_a_cement_grade(included: pd.DataFrame) -> None:
    assert included["cement_grade"].notna().all()
    assert (included["cement_grade_note"].fillna("") == "").all()


def test_levels_are_single_and_weighted_to_the_thoracolumbar_junction(
    included: pd.DataFrame,
) -> None:
    levels = included["level"].astype(object)
    assert set(levels) <= {f"T{i}" for i in range(5, 13)} | {f"L{i}" for i in range(1, 6)}
    junction = levels.isin(["T11", "T12", "L1", "L2"]).mean()
    assert junction > 0.5


def test_within_patient_correlation_over_time(included: pd.DataFrame) -> None:
    for g in GROUPS:
        part = included[included["group"] == g]
        assert part["vas_pre"].corr(part["vas_2h"]) > 0.2
        assert part["ant_height_ratio_d3"].corr(part["ant_height_ratio_last"]) > 0.2
        assert part["wedge_angle_d3"].corr(part["wedge_angle_last"]) > 0.2


def test_bounds_and_eligibility_of_included(included: pd.DataFrame) -> None:
    vas = included[[f"vas_{tp}" for tp in ("pre", "2h", "4h", "48h")]]
    assert (vas >= 0).all().all()
    assert (vas <= 10).all().all()
    assert (included["age"] >= 60).all()
    assert (included["bmd_t_score"] <= -2.5).all()
    assert (included["blood_loss"] > 0).all()


def test_identifiers_are_obviously_fake_and_dates_in_the_study_period(raw: pd.DataFrame) -> None:
    assert raw["patient_name"].str.fullmatch(r"Synthetic Patient \d{3}").all()
    assert raw["hospital_number"].str.fullmatch(r"SYN-\d{4}").all()
    assert raw["patient_name"].iloc[0] == "Synthetic Patient 001"
    assert raw["notes"].str.contains("synthetic").all()
    op = pd.to_datetime(raw["operation_date"])
    assert op.min() >= pd.Timestamp("2020-01-01")
    assert op.max() <= pd.Timestamp("2021-06-30")
    assert op.is_monotonic_increasing
    follow = pd.to_datetime(raw["last_followup_date"])
    assert ((follow - op).dt.days >= 183).all()
    assert (raw["followup_months"] >= 6).all()


def test_age_matches_birth_and_operation_dates(raw: pd.DataFrame) -> None:
    birth = pd.to_datetime(raw["birth_date"])
    op = pd.to_datetime(raw["operation_date"])
    before_birthday = (op.dt.month < birth.dt.month) | (
        (op.dt.month == birth.dt.month) & (op.dt.day < birth.dt.day)
    )
    age = op.dt.year - birth.dt.year - before_birthday.astype(int)
    assert np.array_equal(age.to_numpy(), raw["age"].to_numpy())


def test_landmarks_agree_with_the_measured_wedge_angle(raw: pd.DataFrame) -> None:
    """The endplate corners give back the stored wedge angle (0.1 px rounding: < 0.05°)."""
    from kypho.measures import wedge_angle_from_landmarks

    for tp in ("pre", "d3", "last"):
        got = wedge_angle_from_landmarks(
            (raw[f"sup_ant_x_{tp}"], raw[f"sup_ant_y_{tp}"]),
            (raw[f"sup_post_x_{tp}"], raw[f"sup_post_y_{tp}"]),
            (raw[f"inf_ant_x_{tp}"], raw[f"inf_ant_y_{tp}"]),
            (raw[f"inf_post_x_{tp}"], raw[f"inf_post_y_{tp}"]),
        )
        assert np.abs(got - raw[f"wedge_angle_{tp}"].to_numpy()).max() < 0.05


def test_summaries_print_as_published_at_the_schemas_precision(included: pd.DataFrame) -> None:
    """kypho's tables show two decimals where the paper printed fewer ("32", "5.5"): the
    cohort is aimed so that they show 32.00 and 5.50, the paper's numbers."""
    schema = load_schema()
    targets = collect_targets(load_paper_tables(), schema, load_synth_spec().binding)
    for t in targets.continuous:
        places = schema[t.column].precision
        assert places is not None
        for g in GROUPS:
            x = included.loc[included["group"] == g, t.column].astype("float64")
            cell = t.cells[g]
            assert f"{x.mean():.{places}f}" == f"{cell.mean.value:.{places}f}", (t.column, g)
            assert f"{x.std(ddof=1):.{places}f}" == f"{cell.sd.value:.{places}f}", (t.column, g)
