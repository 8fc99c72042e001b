"""The audit of the bundled paper: the problems a careful reader finds by hand.

- Table 1: "Pain 55 55 0.364" — identical counts, yet P far from 1 (impossible).
- Table 1: thoracic 32/30 and lumbar 23/25 split each group in two: one 2×2 table,
  one P, but two different Ps are printed.
- Table 1: "P value of the age is calculated by variance analysis": F = t², Student's P.
  69.47±6.90 vs 70.38±7.25: SE = √((6.90² + 7.25²)/55) = 1.3496, t = 0.91/1.3496 = 0.674,
  P = 0.50, not 0.374.
- Table 2: "32±4.46 vs 29±5.17, t = 0.782, P = 0.528": t recomputed is 3/0.9207 = 3.26
  (2.17 to 4.35 over the rounding of "32" and "29"), and t = 0.782 on 108 df gives
  P = 0.436, not 0.528: t and P do not even agree with each other.
- Tables 3 and 6: P = 1.108, 1.042, 1.176 are above 1 (impossible).
- Tables 3–6: every within-group paired t is far below what the printed means and SDs
  allow for any correlation, e.g. VAS 8.34±0.27 → 3.41±0.34 (n = 55): t ≥ 4.92·√55/0.62
  = 58.9 against the printed 4.075 (impossible).
- Table 7: U = 392.00 against 837 from the grade counts.
"""

from __future__ import annotations

import pytest

from kypho.audit import AuditReport, Finding, audit, load_paper_tables


@pytest.fixture(scope="module")
def report() -> AuditReport:
    return audit(load_paper_tables())


def _get(
    report: AuditReport, table: int, row: str, check: str, group: str | None = None
) -> Finding:
    found = [
        f
        for f in report.findings
        if (f.table, f.row, f.check, f.group) == (table, row, check, group)
    ]
    assert len(found) == 1, found
    return found[0]


def test_identical_counts_far_from_one(report: AuditReport) -> None:
    for row in ("Pain", "Percussion pain"):
        f = _get(report, 1, row, "identical_counts")
        assert f.status == "impossible"
        assert f.section == "Clinical manifestations"


def test_thoracic_and_lumbar_are_one_table(report: AuditReport) -> None:
    f = _get(report, 1, "Thoracic vertebra / Lumbar vertebra", "section_p")
    assert (f.status, f.reported) == ("inconsistent", "0.532, 0.498")
    thoracic = _get(report, 1, "Thoracic vertebra", "p_from_summaries")
    lumbar = _get(report, 1, "Lumbar vertebra", "p_from_summaries")
    assert thoracic.recomputed_value == pytest.approx(lumbar.recomputed_value, rel=1e-12)


def test_age_by_variance_analysis(report: AuditReport) -> None:
    f = _get(report, 1, "Age (yr ± SD)", "p_from_summaries")
    assert f.status == "inconsistent"
    assert f.recomputed_value == pytest.approx(0.5016, abs=5e-5)
    assert f.assumption is not None
    assert "F = t²" in f.assumption


def test_table2_t_and_p_do_not_belong_together(report: AuditReport) -> None:
    row = "operation time(min)"
    t = _get(report, 2, row, "t_from_summaries")
    assert t.status == "inconsistent"
    assert t.recomputed_value == pytest.approx(3 / ((4.46**2 + 5.17**2) / 55) ** 0.5, rel=1e-9)
    assert t.recomputed_low == pytest.approx(2 / ((4.465**2 + 5.175**2) / 55) ** 0.5, rel=1e-9)
    statcheck = _get(report, 2, row, "p_from_statistic")
    assert statcheck.status == "inconsistent"
    assert statcheck.recomputed_value == pytest.approx(0.4359, abs=5e-5)
    decision = _get(report, 2, row, "decision")
    assert (decision.status, decision.decision_error) == ("inconsistent", True)


@pytest.mark.parametrize(("table", "p"), [(3, "1.108"), (6, "1.042")])
def test_p_above_one(report: AuditReport, table: int, p: str) -> None:
    f = _get(report, table, "Preoperation", "p_range")
    assert (f.status, f.reported) == ("impossible", p)


def test_p_above_one_table6_three_days(report: AuditReport) -> None:
    assert _get(report, 6, "3 days after operation", "p_range").status == "impossible"


def test_every_paired_t_is_impossible(report: AuditReport) -> None:
    bounds = [f for f in report.findings if f.check == "paired_t_bounds"]
    assert len(bounds) == 18  # tables 3-6: (3 + 2 + 2 + 2) rows × 2 groups
    assert {f.status for f in bounds} == {"impossible"}
    vas = _get(report, 3, "2h after operation", "paired_t_bounds", "experimental")
    # |d̄| ≥ 4.93 − 0.01, s₁ + s₂ ≤ 0.275 + 0.345.
    assert vas.recomputed_low == pytest.approx(4.92 * 55**0.5 / 0.62, rel=1e-12)


def test_table7_u_and_percentages(report: AuditReport) -> None:
    assert (
        _get(report, 7, "Distribution grade of bone cement", "u_from_counts").status
        == "inconsistent"
    )
    percents = [f for f in report.findings if f.table == 7 and f.check == "percent"]
    assert len(percents) == 10
    assert {f.status for f in percents} == {"consistent"}


def test_vas_grim_under_the_whole_point_assumption(report: AuditReport) -> None:
    f = _get(report, 3, "Preoperation", "grim", "experimental")
    assert f.status == "inconsistent"
    assert f.assumption is not None
    assert "assumption" in f.assumption


def test_decision_errors(report: AuditReport) -> None:
    """Significant from the printed summaries, printed as not significant: Table 2
    operation time, Table 5 3 days (91.74±3.37 vs 89.54±3.44: t = 3.39, P = 0.001),
    Table 6 preoperation (24.41±2.67 vs 25.53±2.35: t = 2.34, P = 0.021)."""
    errors = sorted(
        (f.table, f.row) for f in report.findings if f.check == "decision" and f.decision_error
    )
    assert errors == [
        (2, "operation time(min)"),
        (5, "3 days after operation"),
        (6, "Preoperation"),
    ]


def test_counts(report: AuditReport) -> None:
    c = report.counts()
    assert (
        c["total"]
        == len(report.findings)
        == sum(c[s] for s in ("consistent", "inconsistent", "impossible", "not_checkable"))
    )
    assert c["impossible"] >= 18 + 2 + 3
