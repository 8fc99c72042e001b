"""The reads table → inter- and intra-rater reliability of every measure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kypho.errors import ColumnError, DataError
from kypho.radiograph.agreement import reliability
from kypho.stats import bland_altman, icc, weighted_kappa


def _reads() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    truth = rng.normal(20, 4, 10)
    grades = np.array(["I", "II", "III", "IV", "II", "III", "I", "IV", "II", "III"])
    rows = []
    for i in range(10):
        for rater, bias in (("A", 0.0), ("B", 0.5)):
            for read in (1, 2):
                if rater == "B" and read == 2:
                    continue
                g = (
                    grades[i]
                    if (i + read) % 4
                    else {"I": "II", "II": "III", "III": "II", "IV": "III"}[grades[i]]
                )
                rows.append({"subject": f"P-{i}", "rater": rater, "read": read,
                             "height": round(truth[i] + bias + rng.normal(0, 0.7), 1), "cement_grade": g})  # fmt: skip
    return pd.DataFrame(rows)


def test_every_comparison_uses_the_stats_functions() -> None:
    reads = _reads()
    before = reads.copy()
    result = reliability(reads)
    pd.testing.assert_frame_equal(reads, before)
    frame = result.to_frame()
    assert set(frame["comparison"]) == {"inter-rater", "intra-rater (A)"}
    first = reads[reads["read"] == 1].pivot(index="subject", columns="rater", values="height")
    inter = frame[(frame["measure"] == "height") & (frame["comparison"] == "inter-rater")]
    row = inter[inter["statistic"] == "ICC(A,1)"].iloc[0]
    assert row["estimate"] == pytest.approx(icc(first.to_numpy(), form="ICC(2,1)").icc)
    assert row["detail"].startswith("two-way random effects, absolute agreement, single rater")
    bias = inter[inter["statistic"] == "Bland–Altman bias"].iloc[0]
    assert bias["estimate"] == pytest.approx(bland_altman(first["A"], first["B"]).bias)
    intra = frame[(frame["measure"] == "height") & (frame["comparison"] == "intra-rater (A)")]
    assert intra.iloc[0]["detail"].startswith("two-way mixed effects")
    # the cement grade takes its scale I-IV from the schema
    kap = frame[(frame["measure"] == "cement_grade") & (frame["comparison"] == "inter-rater")]
    assert list(kap["statistic"]) == ["weighted kappa (linear)", "weighted kappa (quadratic)"]
    g = reads[reads["read"] == 1].pivot(index="subject", columns="rater", values="cement_grade")
    expected = weighted_kappa(g["A"], g["B"], categories=["I", "II", "III", "IV"])
    assert kap.iloc[0]["estimate"] == pytest.approx(expected.kappa)
    assert kap.iloc[0]["label"] == "Distribution grade of bone cement"
    assert ("height", "inter-rater") in result.pairs


def test_incomplete_subjects_are_noted() -> None:
    reads = _reads()
    reads = reads[~((reads["subject"] == "P-0") & (reads["rater"] == "B"))]
    result = reliability(reads)
    assert "height, inter-rater: 1 subject(s) without every read left out" in result.notes


def test_reads_table_errors() -> None:
    with pytest.raises(ColumnError, match="needs the column"):
        reliability(pd.DataFrame({"subject": ["a"], "x": [1]}))
    dup = pd.DataFrame({"subject": ["a", "a"], "rater": ["A", "A"], "x": [1.0, 2.0]})
    with pytest.raises(DataError, match="more than one row for rater A, read 1"):
        reliability(dup)
    text = pd.DataFrame({"subject": ["a", "b"], "rater": ["A", "A"], "x": ["mild", "1"]})
    with pytest.raises(DataError, match="holds text \\('mild'\\) where a number was expected"):
        reliability(text)
