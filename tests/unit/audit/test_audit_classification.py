"""Classification on small constructed tables whose correct status is known by hand.

The base row: 10.00 ± 2.00 vs 11.00 ± 2.00, n = 50 + 50. By hand, SE = √(4/50 + 4/50)
= 0.4 and |t| = 1/0.4 = 2.5 exactly; R: 2 * pt(-2.5, 98) = 0.01407975537, and over
the rounding of t = 2.500 ([2.4995, 2.5005]) P runs from 0.014061 to 0.014098.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from kypho.audit import AuditReport, Finding, audit, parse_summary_tables
from kypho.errors import AuditError


def _study(*rows: dict[str, Any], n: int = 50, **table: Any) -> dict[str, Any]:
    return {
        "format": "kypho-summary-tables",
        "format_version": 1,
        "study": {
            "title": "constructed",
            "groups": [{"key": "a", "label": "A", "n": n}, {"key": "b", "label": "B", "n": n}],
        },
        "tables": [
            {"number": 1, "title": "T", "statistic_column": "t", "rows": list(rows), **table}
        ],
    }


def _audit(
    *rows: dict[str, Any], n: int = 50, alpha: float | None = None, **table: Any
) -> AuditReport:
    return audit(parse_summary_tables(_study(*rows, n=n, **table)), alpha=alpha)


def _get(
    report: AuditReport, check: str, group: str | None = None, row: str | None = None
) -> Finding:
    found = [
        f
        for f in report.findings
        if f.check == check and f.group == group and (row is None or f.row == row)
    ]
    assert len(found) == 1, found
    return found[0]


def _cont(**kw: Any) -> dict[str, Any]:
    row = {
        "label": "x",
        "kind": "continuous",
        "test": "student",
        "cells": {"a": "10.00±2.00", "b": "11.00±2.00"},
        "statistic": "2.500",
        "p": "0.014",
    }
    row.update(kw)
    return row


def test_consistent_row() -> None:
    r = _audit(_cont())
    for check in (
        "t_from_summaries",
        "p_from_summaries",
        "p_from_statistic",
        "decision",
        "p_range",
    ):
        assert _get(r, check).status == "consistent", check
    t = _get(r, "t_from_summaries")
    assert t.recomputed_value == pytest.approx(2.5, rel=1e-12)
    ps = _get(r, "p_from_statistic")
    assert (ps.recomputed_low, ps.recomputed_high) == (
        pytest.approx(0.01406111434, rel=1e-8),
        pytest.approx(0.01409841855, rel=1e-8),
    )
    assert _get(r, "decision").decision_error is False


def test_wrong_t_is_inconsistent() -> None:
    """t = 1.500 is outside the |t| range over the rounding box ([2.47, 2.53])."""
    f = _get(_audit(_cont(statistic="1.500")), "t_from_summaries")
    assert f.status == "inconsistent"
    assert f.reason.endswith("; the table prints 1.500")


def test_statcheck_t_and_p_mismatch() -> None:
    """t = 2.500 on 98 df gives P = 0.0141, not 0.030."""
    f = _get(_audit(_cont(p="0.030")), "p_from_statistic")
    assert f.status == "inconsistent"
    assert f.assumption == "the paper prints no df: df = 98 (n₁ + n₂ − 2)"


def test_p_above_one_is_impossible() -> None:
    f = _get(_audit(_cont(p="1.014")), "p_range")
    assert (f.status, f.reason) == (
        "impossible",
        "a P value is a probability, so it lies between 0 and 1; 1.014 does not",
    )


def test_decision_error() -> None:
    r = _audit(_cont(p="0.140"))
    f = _get(r, "decision")
    assert (f.status, f.decision_error) == ("inconsistent", True)
    assert f.reason.startswith("decision error: printed P 0.140 is not significant at 0.05")
    assert r.counts()["decision_errors"] == 1


def test_decision_with_bound_printed() -> None:
    """ "P < 0.05" where the summaries give P = 0.014 agrees; at alpha 0.01 the printed
    bound cannot say which side of 0.01 P lies."""
    assert _get(_audit(_cont(p="< 0.05")), "decision").status == "consistent"
    f = _get(_audit(_cont(p="< 0.05"), alpha=0.01), "decision")
    assert (f.status, f.reason) == (
        "not_checkable",
        "P < 0.05 does not say on which side of 0.01 P lies",
    )


def test_decision_not_checkable_when_rounding_straddles_alpha() -> None:
    """Means printed to whole units: the difference is anywhere in [0, 2], P in [~0, 1]."""
    r = _audit(_cont(cells={"a": "10±2.00", "b": "11±2.00"}))
    assert _get(r, "decision").status == "not_checkable"
    assert _get(r, "t_from_summaries").status == "consistent"


@pytest.mark.parametrize(
    ("test", "sds", "status"),
    [
        ("student", ("1.00", "3.00"), "inconsistent"),
        ("welch", ("2.00", "2.00"), "inconsistent"),
        ("welch", ("1.00", "3.00"), "consistent"),
        ("student", ("2.00", "2.10"), "consistent"),
        ("t/t'", ("1.00", "3.00"), "not_checkable"),
    ],
)
def test_variance_rule(test: str, sds: tuple[str, str], status: str) -> None:
    """F = 1/9 on (49, 49) df rejects equal variances; F = (2.0/2.1)² does not."""
    cells = {"a": f"10.00±{sds[0]}", "b": f"11.00±{sds[1]}"}
    f = _get(_audit(_cont(test=test, cells=cells, statistic=None, p=None)), "variance_test")
    assert f.status == status


def test_identical_counts_with_p_far_from_one_is_impossible() -> None:
    row = {
        "label": "y",
        "kind": "binary",
        "test": "chi-square",
        "cells": {"a": "10", "b": "10"},
        "p": "0.400",
    }
    f = _get(_audit(row), "identical_counts")
    assert f.status == "impossible"
    assert f.reason == (
        "identical proportions in both groups (10/50 vs 10/50) give χ² = 0 and P = 1 "
        "under any test; the table prints 0.400"
    )
    row["p"] = "1.000"
    assert _get(_audit(row), "identical_counts").status == "consistent"


def test_count_above_n_is_impossible() -> None:
    row = {"label": "y", "kind": "binary", "cells": {"a": "51", "b": "10"}, "p": "0.001"}
    f = _get(_audit(row), "counts", "a")
    assert (f.status, f.reason) == ("impossible", "51 patients out of a group of 50")


@pytest.mark.parametrize(
    ("cell", "status"),
    [("4(7.3)", "consistent"), ("4(7.2)", "inconsistent"), ("4(107.3)", "impossible")],
)
def test_percentages(cell: str, status: str) -> None:
    """4/55 = 7.2727 % prints as 7.3."""
    row = {"label": "y", "kind": "binary", "cells": {"a": cell, "b": "5"}}
    assert _get(_audit(row, n=55), "percent", "a").status == status


@pytest.mark.parametrize(
    ("cells", "status"),
    [
        ({"a": "25:25", "b": "20:30"}, "consistent"),
        ({"a": "30:30", "b": "20:30"}, "impossible"),
        ({"a": "20:25", "b": "20:30"}, "inconsistent"),
    ],
)
def test_levels_add_up_to_n(cells: dict[str, str], status: str) -> None:
    row = {
        "label": "sex",
        "kind": "categorical",
        "levels": ["m", "f"],
        "cells": cells,
        "p": "0.500",
    }
    assert _get(_audit(row), "counts", "a").status == status


def test_pearson_p_from_counts() -> None:
    """25:25 vs 20:30 (n = 100): E = 22.5 and 27.5 in each row; X² = 2·(2.5²/22.5 +
    2.5²/27.5) = 1.0101; P = 0.31488 (R: chisq.test(matrix(c(25, 20, 25, 30), 2),
    correct = FALSE)$p.value = 0.3148786413).
    Printed 0.315 is consistent, 0.350 is not."""
    row = {
        "label": "sex",
        "kind": "categorical",
        "levels": ["m", "f"],
        "cells": {"a": "25:25", "b": "20:30"},
        "p": "0.315",
        "test": "chi-square",
    }
    f = _get(_audit(row), "p_from_summaries")
    assert (f.status, f.method) == ("consistent", "Pearson χ²")
    assert f.recomputed_value == pytest.approx(0.3148786413, rel=1e-8)
    row["p"] = "0.350"
    assert _get(_audit(row), "p_from_summaries").status == "inconsistent"


def test_exhaustive_section_shares_one_p() -> None:
    rows = [
        {
            "label": "up",
            "section": "s",
            "kind": "binary",
            "cells": {"a": "30", "b": "25"},
            "p": "0.317",
        },
        {
            "label": "down",
            "section": "s",
            "kind": "binary",
            "cells": {"a": "20", "b": "25"},
            "p": "0.420",
        },
    ]
    r = _audit(*rows, exhaustive_sections=["s"])
    assert _get(r, "section_p").status == "inconsistent"
    assert _get(r, "counts", "a", row="up / down").status == "consistent"
    rows[1]["p"] = "0.317"
    assert _get(_audit(*rows, exhaustive_sections=["s"]), "section_p").status == "consistent"


def test_paired_t_outside_every_correlation_is_impossible() -> None:
    """8.00±1.00 → 4.00±1.00, n = 25: d̄ ≥ 3.99 and s_d ≤ 2.01, so t ≥ 3.99·5/2.01 = 9.925;
    equal SDs allow s_d → 0, so no upper bound."""
    pre = {"label": "pre", "kind": "continuous", "cells": {"a": "8.00±1.00", "b": "8.00±1.00"}}
    post = {
        "label": "post",
        "kind": "continuous",
        "cells": {"a": "4.00±1.00", "b": "4.00±1.00"},
        "within": {
            "versus": "pre",
            "cells": {"a": "t = 3.000, P < 0.05", "b": "t = 12.000, P < 0.05"},
        },
    }
    r = _audit(pre, post, n=25)
    a = _get(r, "paired_t_bounds", "a")
    assert a.status == "impossible"
    assert a.recomputed_low == pytest.approx(3.99 * 5 / 2.01, rel=1e-12)
    assert a.recomputed == "9.925 to ∞"
    assert _get(r, "paired_t_bounds", "b").status == "consistent"
    assert _get(r, "decision", "a").status == "consistent"


def test_grim_only_on_integer_scales() -> None:
    row = _cont(cells={"a": "8.34±1.00", "b": "8.24±1.00"}, statistic=None, p=None)
    assert all(f.check != "grim" for f in _audit(row, n=55).findings)
    row["scale"] = {"type": "integer", "min": 0, "max": 10}
    r = _audit(row, n=55)
    assert _get(r, "grim", "a").status == "inconsistent"
    assert _get(r, "grim", "b").status == "consistent"
    assert _get(r, "grimmer", "a").status == "not_checkable"


def test_debit_on_binary_scale() -> None:
    row = _cont(
        cells={"a": "0.40±0.30", "b": "0.40±0.50"}, statistic=None, p=None, scale={"type": "binary"}
    )
    r = _audit(row, n=25)
    assert _get(r, "debit", "a").status == "inconsistent"
    assert _get(r, "debit", "b").status == "consistent"


def test_mean_and_sd_beyond_the_scale() -> None:
    """On [0, 10] with n = 20 and a mean in [9.895, 9.905], SD ≤ √((M − 0)(10 − M)·20/19),
    largest at M = 9.895: √(9.895·0.105·20/19) = 1.0458 < 2.995."""
    row = _cont(
        cells={"a": "11.20±1.00", "b": "9.90±3.00"},
        statistic=None,
        p=None,
        scale={"min": 0, "max": 10},
    )
    r = _audit(row, n=20)
    assert _get(r, "mean_bounds", "a").status == "impossible"
    sd = _get(r, "sd_bounds", "b")
    assert sd.status == "impossible"
    assert sd.recomputed_high == pytest.approx((9.895 * 0.105 * 20 / 19) ** 0.5, rel=1e-9)


@pytest.mark.parametrize(
    ("u", "status"),
    [("U = 50.00", "consistent"), ("U = 150", "impossible"), ("U = 30", "inconsistent")],
)
def test_mann_whitney_u(u: str, status: str) -> None:
    """5:5 vs 5:5 (n = 10 + 10): mid-ranks 5.5 and 15.5, R₁ = 105, U₁ = 105 − 55 = 50 =
    n₁n₂/2, Z = 0 and P = 1. U lies in [0, n₁n₂] = [0, 100]."""
    row = {
        "label": "grade",
        "kind": "ordinal",
        "test": "mann-whitney",
        "statistic": u,
        "p": "1.000",
        "levels": [
            {"label": "I", "cells": {"a": "5", "b": "5"}},
            {"label": "II", "cells": {"a": "5", "b": "5"}},
        ],
    }
    r = _audit(row, n=10)
    assert _get(r, "u_from_counts").status == status
    assert _get(r, "p_from_summaries").status == "consistent"


def test_printed_group_size_differs() -> None:
    row = {"label": "Number", "kind": "n", "cells": {"a": "49", "b": "50"}}
    r = _audit(row)
    assert _get(r, "group_size", "a").status == "inconsistent"
    assert _get(r, "group_size", "b").status == "consistent"


def test_alpha_must_be_a_probability() -> None:
    with pytest.raises(AuditError) as exc:
        _audit(_cont(), alpha=1.5)
    assert str(exc.value) == "alpha must be a number strictly between 0 and 1 (got 1.5)"


def test_every_status_is_in_the_vocabulary() -> None:
    r = _audit(_cont(p="1.014"))
    assert {f.status for f in r.findings} <= {
        "consistent",
        "inconsistent",
        "impossible",
        "not_checkable",
    }


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 10), min_size=5, max_size=40),
    st.lists(st.integers(0, 10), min_size=5, max_size=40),
)
def test_true_summaries_are_never_flagged(a: list[int], b: list[int]) -> None:
    """Summaries of real whole-number data, printed to the usual decimals, with the true
    Student t and P, pass every check (nothing inconsistent or impossible)."""
    xa, xb = np.array(a, dtype=float), np.array(b, dtype=float)
    assume(xa.std() > 0 and xb.std() > 0)
    res = sps.ttest_ind(xa, xb)
    cells = {k: f"{x.mean():.2f}±{x.std(ddof=1):.2f}" for k, x in (("a", xa), ("b", xb))}
    row = _cont(
        cells=cells,
        statistic=f"{abs(res.statistic):.3f}",
        p=f"{res.pvalue:.3f}",
        scale={"type": "integer", "min": 0, "max": 10},
    )
    data = _study(row)
    data["study"]["groups"][0]["n"] = len(a)
    data["study"]["groups"][1]["n"] = len(b)
    report = audit(parse_summary_tables(data))
    # The F-test rule may call for t′ where the row declares Student t: that flags the
    # choice of test, not a number, so it is left out here.
    bad = [
        f
        for f in report.findings
        if f.status in ("inconsistent", "impossible") and f.check != "variance_test"
    ]
    assert bad == []


def test_printed_p_at_alpha_has_no_side() -> None:
    """ "0.050" may be 0.0496 or 0.0504: no decision can be read from it."""
    f = _get(_audit(_cont(p="0.050")), "decision")
    assert (f.status, f.reason) == (
        "not_checkable",
        "P 0.050 does not say on which side of 0.05 P lies",
    )


def test_row_without_a_named_test_tries_every_t() -> None:
    r = _audit(_cont(test=None))
    f = _get(r, "p_from_summaries")
    assert f.status == "consistent"
    assert (
        f.assumption == "the table names no test: Student t, Welch t′ and Cochran–Cox t′ are tried"
    )
    assert _get(r, "variance_test").status == "not_checkable"
