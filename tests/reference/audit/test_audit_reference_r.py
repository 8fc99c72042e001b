"""The audit's recomputations of the paper's Tables 1–7 against R.

Source: tests/reference/oracles/audit/audit_oracle.R and the output it printed,
tests/reference/oracles/audit/audit_oracle.out (R 4.2.2, base stats package; regenerate
with run.sh). t tests from summaries are R evaluations of the textbook formulas
(pooled-variance t, Welch–Satterthwaite df, pt, pf); counts use R's chisq.test,
fisher.test and wilcox.test (grades expanded to one value per patient).

Tolerance: rel 1e-9 on t, F and df; rel 1e-6 on P values (R prints 12 significant digits;
scipy's and R's t, F and χ² tails agree far better than that).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kypho.audit import AuditReport, Finding, audit, load_paper_tables
from kypho.audit._engine import chi_square_p, mann_whitney_counts

ORACLE = Path(__file__).resolve().parents[1] / "oracles" / "audit" / "audit_oracle.out"


def _read_oracle() -> dict[str, float]:
    values = {}
    for line in ORACLE.read_text(encoding="utf-8").splitlines():
        key, value = line.split()
        values[key] = float(value)
    return values


R = _read_oracle()

# oracle key prefix -> (table, row label) in the transcription
ROWS = {
    "t1_age": (1, "Age (yr ± SD)"),
    "t2_optime": (2, "operation time(min)"),
    "t2_bloodloss": (2, "intraoperative blood loss(%)"),
    "t2_cement": (2, "amount of bone cement injection(ml)"),
    "t3_pre": (3, "Preoperation"),
    "t3_2h": (3, "2h after operation"),
    "t3_4h": (3, "4h after operation"),
    "t3_48h": (3, "48h after operation"),
    "t4_pre": (4, "Preoperation"),
    "t4_3d": (4, "3 days after operation"),
    "t4_last": (4, "Last follow-up"),
    "t5_pre": (5, "Preoperation"),
    "t5_3d": (5, "3 days after operation"),
    "t5_last": (5, "Last follow-up"),
    "t6_pre": (6, "Preoperation"),
    "t6_3d": (6, "3 days after operation"),
    "t6_last": (6, "Last follow-up"),
}


@pytest.fixture(scope="module")
def report() -> AuditReport:
    return audit(load_paper_tables())


def _one(
    report: AuditReport, table: int, row: str, check: str, group: str | None = None
) -> Finding:
    found = [
        f
        for f in report.findings
        if (f.table, f.row, f.check, f.group) == (table, row, check, group)
    ]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("key", sorted(k for k in ROWS if k != "t1_age"))
def test_t_from_summaries_matches_r(report: AuditReport, key: str) -> None:
    """|t| at the printed values: Student t = Welch t with 55 + 55 (R: *_student_t)."""
    table, row = ROWS[key]
    f = _one(report, table, row, "t_from_summaries")
    assert f.recomputed_value == pytest.approx(abs(R[f"{key}_student_t"]), rel=1e-9)
    assert f.recomputed_value == pytest.approx(abs(R[f"{key}_welch_t"]), rel=1e-9)


@pytest.mark.parametrize("key", sorted(ROWS))
def test_p_from_summaries_matches_r(report: AuditReport, key: str) -> None:
    """P of the test the F rule picks at the printed SDs (R: *_f_p < 0.05 → Welch)."""
    table, row = ROWS[key]
    f = _one(report, table, row, "p_from_summaries")
    welch = key != "t1_age" and R[f"{key}_f_p"] < 0.05
    expected = R[f"{key}_welch_p"] if welch else R[f"{key}_student_p"]
    assert f.method == ("Welch t′" if welch else "Student t")
    assert f.recomputed_value == pytest.approx(expected, rel=1e-6)
    low, high = f.recomputed_low, f.recomputed_high
    assert low is not None
    assert high is not None
    assert low <= expected <= high


@pytest.mark.parametrize("key", sorted(ROWS))
def test_variance_f_test_matches_r(report: AuditReport, key: str) -> None:
    """F = s₁²/s₂² and its two-sided P on (54, 54) df (R: pf)."""
    table, row = ROWS[key]
    f = _one(report, table, row, "variance_test")
    assert f.recomputed_value == pytest.approx(R[f"{key}_f_p"], rel=1e-6)
    assert f"= {R[f'{key}_f']:.3f}," in (f.recomputed or "")


def test_age_anova_equals_student(report: AuditReport) -> None:
    """Table 1's "variance analysis": F = t² on (1, 108) df has Student's P (R: anova_p)."""
    f = _one(report, 1, "Age (yr ± SD)", "p_from_summaries")
    assert R["t1_age_anova_f"] == pytest.approx(R["t1_age_student_t"] ** 2, rel=1e-9)
    assert f.recomputed_value == pytest.approx(R["t1_age_anova_p"], rel=1e-6)


@pytest.mark.parametrize("key", sorted(k for k in ROWS if k != "t1_age"))
def test_statcheck_p_on_108_df_matches_r(report: AuditReport, key: str) -> None:
    """P from the printed t on 108 df (R: 2 * pt(-t, 108)), where Student is the rule."""
    table, row = ROWS[key]
    f = _one(report, table, row, "p_from_statistic")
    if R[f"{key}_f_p"] < 0.05:
        # The rule's t′ uses Welch's df; the 108-df P is printed in the reason instead.
        assert f"P = {R[f'{key}_statcheck_p108']:.4f}" in f.reason
    else:
        assert f.recomputed_value == pytest.approx(R[f"{key}_statcheck_p108"], rel=1e-6)


@pytest.mark.parametrize(
    ("key", "table", "row", "group"),
    [
        ("t3_2h_e", 3, "2h after operation", "experimental"),
        ("t3_2h_c", 3, "2h after operation", "control"),
        ("t4_3d_e", 4, "3 days after operation", "experimental"),
        ("t6_last_e", 6, "Last follow-up", "experimental"),
    ],
)
def test_paired_statcheck_p_on_54_df_matches_r(
    report: AuditReport, key: str, table: int, row: str, group: str
) -> None:
    """P from the printed paired t on n − 1 = 54 df (R: 2 * pt(-t, 54))."""
    f = _one(report, table, row, "p_from_statistic", group)
    assert f.recomputed_value == pytest.approx(R[f"{key}_paired_p54"], rel=1e-6)


@pytest.mark.parametrize(
    ("key", "counts"),
    [
        ("t1_gender", [[12, 43], [14, 41]]),
        ("t1_constipation", [[37, 18], [39, 16]]),
        ("t1_thoracic", [[32, 23], [30, 25]]),
        ("t1_lumbar", [[23, 32], [25, 30]]),
        ("t7_leakage", [[2, 53], [9, 46]]),
    ],
)
def test_chi_square_and_fisher_match_r(key: str, counts: list[list[int]]) -> None:
    """Pearson, Yates and Fisher P (R: chisq.test(correct=FALSE/TRUE), fisher.test)."""
    res = chi_square_p(np.array(counts, dtype=np.int64))
    assert res.pearson_statistic == pytest.approx(R[f"{key}_pearson_x2"], rel=1e-9)
    assert res.pearson == pytest.approx(R[f"{key}_pearson_p"], rel=1e-6)
    assert res.yates == pytest.approx(R[f"{key}_yates_p"], rel=1e-6)
    assert res.fisher == pytest.approx(R[f"{key}_fisher_p"], rel=1e-6)


def test_paper_count_rows_use_pearson_as_r(report: AuditReport) -> None:
    """The audit's P for Table 7's leakage row is R's chisq.test(correct=FALSE) P."""
    f = _one(report, 7, "Number of bone cement leakage", "p_from_summaries")
    assert f.method == "Pearson χ²"
    assert f.recomputed_value == pytest.approx(R["t7_leakage_pearson_p"], rel=1e-6)


def test_mann_whitney_from_grade_counts_matches_r(report: AuditReport) -> None:
    """U, σ, Z and P from Table 7's grade counts (R: wilcox.test(exact=FALSE))."""
    mw = mann_whitney_counts(np.array([4, 7, 10, 34]), np.array([11, 18, 14, 12]))
    assert mw.u1 == R["t7_grade_w"]
    assert mw.u == R["t7_grade_u"]
    assert mw.sigma == pytest.approx(R["t7_grade_sigma"], rel=1e-9)
    assert mw.z == pytest.approx(R["t7_grade_z"], rel=1e-9)
    assert mw.p_value == pytest.approx(R["t7_grade_p"], rel=1e-6)
    assert mw.p_continuity == pytest.approx(R["t7_grade_p_continuity"], rel=1e-6)
    f = _one(report, 7, "Distribution grade of bone cement", "p_from_statistic")
    assert f.recomputed_value == pytest.approx(R["t7_grade_printed_u_p"], rel=1e-6)
    u = _one(report, 7, "Distribution grade of bone cement", "u_from_counts")
    assert (u.recomputed_value, u.status) == (R["t7_grade_u"], "inconsistent")


def test_identical_counts_fisher_is_one() -> None:
    """55/55 vs 55/55 (Table 1, Pain): R's fisher.test gives P = 1."""
    res = chi_square_p(np.array([[55, 0], [55, 0]], dtype=np.int64))
    assert res.fisher == R["t1_pain_fisher_p"] == 1.0
