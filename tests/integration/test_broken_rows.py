"""A thousand deliberately broken rows among good ones: all reported, good rows kept.

With ``strict=True`` a broken row is rejected whole; by default its broken field is
flagged and set missing and the row kept, unless the problem is structural.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kypho.validate import validate


def _good(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "patient_id": [f"G-{i:05d}" for i in range(n)],
            "group": rng.choice(["experimental", "control"], n),
            "sex": rng.choice(["male", "female"], n),
            "age": rng.integers(60, 90, n),
            "level": rng.choice(["T11", "T12", "L1", "L2"], n),
            "vas_pre": rng.uniform(5, 10, n).round(1),
            "operation_date": ["2020-06-01"] * n,
            "last_followup_date": ["2021-01-15"] * n,
        }
    )


# Each kind of breakage: (column, bad value, the problem code validation must give)
BREAKAGES = [
    ("age", "seventy", "type"),
    ("vas_pre", 11.5, "range"),
    ("vas_pre", -1, "range"),
    ("group", "placebo", "type"),
    ("sex", None, "required"),
    ("level", None, "required"),
    ("operation_date", "2021-02-29", "type"),
    ("last_followup_date", "2019-01-01", "rule"),
    ("age", 12, "range"),
]


def test_thousand_broken_rows_reported_completely() -> None:
    good = _good(2000)
    broken = _good(1000).assign(patient_id=[f"B-{i:05d}" for i in range(1000)])
    broken = broken.astype(object)
    expected: dict[str, tuple[str, str]] = {}
    for i in range(1000):
        col, value, code = BREAKAGES[i % len(BREAKAGES)]
        broken.loc[i, col] = value
        expected[broken.loc[i, "patient_id"]] = (col, code)
    # 50 more rows broken by a duplicate id (both copies must be rejected)
    dup = _good(50).assign(patient_id=[f"G-{i:05d}" for i in range(50)])
    raw = pd.concat([good, broken, dup], ignore_index=True)
    raw_copy = raw.copy(deep=True)

    result = validate(raw, strict=True)

    assert result.n_read == 3050
    assert result.n_accepted == 2000 - 50
    assert result.n_rejected == 1000 + 100
    assert result.n_accepted + result.n_rejected == result.n_read
    pd.testing.assert_frame_equal(raw, raw_copy)
    problems = result.problems
    per_record = problems.groupby("record")
    for record, (col, code) in expected.items():
        rows = per_record.get_group(record)
        assert (col if code != "rule" else "last_followup_date") in rows["field"].tolist(), record
        assert code in rows["problem"].tolist(), record
    dup_problems = problems[problems["problem"] == "duplicate"]
    assert len(dup_problems) == 100
    assert dup_problems["message"].iloc[0] == (
        "record G-00000 (row 1), 'patient_id' is shared by rows 1, 3001 (got 'G-00000')"
    )
    assert set(result.data["patient_id"]) == {f"G-{i:05d}" for i in range(50, 2000)}


def test_thousand_broken_fields_flagged_records_kept() -> None:
    good = _good(2000)
    broken = _good(1000).assign(patient_id=[f"B-{i:05d}" for i in range(1000)]).astype(object)
    for i in range(1000):
        col, value, _ = BREAKAGES[i % len(BREAKAGES)]
        broken.loc[i, col] = value
    dup = _good(50).assign(patient_id=[f"G-{i:05d}" for i in range(50)])
    raw = pd.concat([good, broken, dup], ignore_index=True)

    result = validate(raw)

    # structural: the group ('placebo') and the 100 rows sharing an id are rejected
    n_group = sum(1 for i in range(1000) if BREAKAGES[i % len(BREAKAGES)][0] == "group")
    assert result.n_rejected == n_group + 100
    assert result.n_accepted == 3050 - n_group - 100
    assert result.n_accepted + result.n_rejected == result.n_read
    flagged = result.flagged
    assert set(flagged["action"]) == {"flagged"}
    assert len(flagged) == 1000 - n_group
    kept = result.data.set_index("patient_id")
    for rec in flagged.itertuples(index=False):
        field = rec.field
        # a flagged field is missing in the kept record (a rule flags its left side)
        assert pd.isna(kept.loc[rec.record, field]), (rec.record, field)
    assert result.summary() == (
        f"3050 rows read: {3050 - n_group - 100} accepted, {n_group + 100} rejected, "
        f"{1000 - n_group} fields flagged (set missing) ({len(result.problems)} problems)"
    )
