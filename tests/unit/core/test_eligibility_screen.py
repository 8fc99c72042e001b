"""Eligibility: each criterion, unknown values, absent columns and the flow counts."""

from __future__ import annotations

import pandas as pd

from kypho.eligibility import screen


def _eligible(n: int) -> dict[str, list[object]]:
    return {
        "patient_id": [f"P{i}" for i in range(n)],
        "group": ["experimental", "control"] * (n // 2),
        "back_pain_limited_activity": [True] * n,
        "mri_fresh_fracture": [True] * n,
        "bmd_t_score": [-3.0] * n,
        "denis_type": ["compression"] * n,
        "asia_grade": ["E"] * n,
        "age": [70] * n,
        "n_fractured_levels": [1] * n,
        "other_fracture": [False] * n,
        "cement_allergy": [False] * n,
        "progressive_nerve_injury": [False] * n,
        "osteomyelitis_or_epidural_cyst": [False] * n,
        "vertebral_metastasis": [False] * n,
        "coagulation_dysfunction": [False] * n,
    }


def test_each_failed_criterion_is_named_and_counted() -> None:
    cols = _eligible(6)
    cols["age"][1] = 59
    cols["bmd_t_score"][2] = -2.4  # T = -2.5 is osteoporosis (WHO); -2.4 is not
    cols["bmd_t_score"][3] = -2.5
    cols["vertebral_metastasis"][4] = True
    cols["age"][4] = 55
    cols["asia_grade"][5] = None
    s = screen(pd.DataFrame(cols))
    assert s.frame["eligible"].tolist() == [True, False, False, True, False, False]
    assert s.frame["failed"].tolist() == [
        "",
        "inclusion (f) Age 60 years or older",
        "inclusion (c) DXA BMD T-score ≤ −2.5 SD",
        "",
        "inclusion (f) Age 60 years or older; exclusion (e) Vertebral bone metastasis",
        "inclusion (e) ASIA grade E: unknown (asia_grade missing)",
    ]
    flow = s.flow
    assert (flow.screened, flow.excluded, flow.included) == (6, 4, 2)
    assert flow.by_reason == {
        "inclusion_c": 1,
        "inclusion_e:unknown": 1,
        "inclusion_f": 2,
        "exclusion_e": 1,
    }
    assert sum(flow.first_reason.values()) == flow.excluded
    assert flow.first_reason == {"inclusion_c": 1, "inclusion_e:unknown": 1, "inclusion_f": 2}
    assert flow.included_by_group == {"experimental": 1, "control": 1}
    assert s.frame.loc[5, "inclusion_e"] == "unknown"
    assert s.frame.loc[4, "exclusion_e"] == "present"


def test_absent_columns_are_not_assessed() -> None:
    df = pd.DataFrame({"patient_id": ["a", "b"], "group": ["control", "control"], "age": [70, 80]})
    s = screen(df)
    assert s.included.tolist() == [True, True]
    assert "inclusion_f" not in s.flow.not_assessed
    assert len(s.flow.not_assessed) == 12
    assert set(s.frame["inclusion_a"]) == {"not assessed"}
