"""The generated methods and results text states what ran, with the table's numbers."""

from __future__ import annotations

import pandas as pd

from kypho.analysis import Plan, RowSpec, TableSpec, analyze
from kypho.report.text import methods_text, results_text
from kypho.schema import load_schema

VERSIONS = {"kypho": "9.9", "Python": "3.11.0", "SciPy": "1.0"}


def cohort() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": ["experimental"] * 4 + ["control"] * 4,
            "operation_time": [30.0, 32.0, 34.0, 31.0, 40.0, 41.0, 39.0, 42.0],
            "cement_volume": [5.0, 6.0, 5.5, 5.0, 5.0, 6.0, 5.5, 5.5],
        }
    )


def result_of(*rows: RowSpec):  # type: ignore[no-untyped-def]
    plan = Plan(tables=(TableSpec(number=2, title="Operation", rows=rows),))
    return analyze(cohort(), load_schema(), plan)


def test_methods_name_only_tests_that_ran() -> None:
    result = result_of(RowSpec(kind="variable", name="operation_time"))
    text = methods_text(result, VERSIONS)
    assert "F test of the homogeneity of variances" in text
    assert "Welch's t′" in text
    assert "α = 0.05" in text
    assert "χ²" not in text
    assert "Mann–Whitney" not in text
    assert "paired t test" not in text
    assert text.endswith("The analysis was run with kypho 9.9 (Python 3.11.0, SciPy 1.0).")


def test_results_paragraph_reports_significant_and_not() -> None:
    """Operation time 30, 32, 34, 31 vs 40, 41, 39, 42, by hand: means 31.75 and
    40.50; sums of squares 8.75 and 5, SDs √(8.75/3) = 1.71 and √(5/3) = 1.29;
    pooled variance 13.75/6 = 2.2917, SE = √(2.2917 · (1/4 + 1/4)) = 1.0704,
    t = −8.75/1.0704 = −8.17 with 6 df. Cement volume 5, 6, 5.5, 5 vs 5, 6, 5.5,
    5.5: means 5.375 and 5.5, sums of squares 0.6875 and 0.5, pooled variance
    0.19792, SE 0.31458, t = −0.125/0.31458 = −0.397 with 6 df, P = 0.705
    (2·(1 − F_t6(0.397)), the t distribution's tail)."""
    result = result_of(
        RowSpec(kind="variable", name="operation_time"),
        RowSpec(kind="variable", name="cement_volume"),
    )
    paragraph = results_text(result)[2]
    assert paragraph.startswith(
        "There was a significant difference between the two groups in operation time "
        "(31.75 ± 1.71 vs 40.50 ± 1.29; t = \u22128.17 (6); P < 0.001)."
    )
    assert (
        "There was no significant difference between the two groups in amount of bone "
        "cement injection (5.38 ± 0.48 vs 5.50 ± 0.41; t = \u22120.40 (6); P = 0.705)"
    ) in paragraph
    assert paragraph.endswith("(Table 2).")
