"""Any well-formed summary table is audited without an error, and statuses stay in the
vocabulary: degenerate printed values (n = 1, zero SDs, empty levels, counts above n,
P above 1) become findings, never crashes."""

from __future__ import annotations

import warnings
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kypho.audit import STATUSES, audit, parse_summary_tables, render_html, render_json, render_text

_num = st.builds(
    lambda v, d: f"{v:.{d}f}",
    st.one_of(st.just(0.0), st.floats(0, 3), st.floats(0, 100)),
    st.integers(0, 3),
)
_count = st.integers(0, 6).map(str)


@st.composite
def _study(draw: st.DrawFn) -> dict[str, Any]:
    n1, n2 = draw(st.integers(1, 6)), draw(st.integers(1, 60))

    def cells(strategy: st.SearchStrategy[str]) -> dict[str, str]:
        return {"a": draw(strategy), "b": draw(strategy)}

    mean_sd = st.builds(lambda m, s: f"{m}±{s}", _num, _num)
    rows = [
        {
            "label": "pre",
            "kind": "continuous",
            "test": draw(
                st.sampled_from(["t/t'", "student", "welch", "cochran-cox", "anova", "unknown"])
            ),
            "cells": cells(mean_sd),
            "statistic": draw(_num),
            "p": draw(st.one_of(_num, st.just("< 0.05"), st.just("1.2"))),
            "scale": draw(
                st.sampled_from([{"type": "integer", "min": 0, "max": 10}, {"type": "binary"}, {}])
            ),
        },
        {
            "label": "post",
            "kind": "continuous",
            "cells": cells(mean_sd),
            "within": {"versus": "pre", "cells": {"a": "t = 4.0, P < 0.05", "b": "P = 0.5"}},
        },
        {"label": "bin", "kind": "binary", "cells": cells(_count), "p": draw(_num)},
        {
            "label": "ord",
            "kind": "ordinal",
            "test": "mann-whitney",
            "statistic": f"U = {draw(_num)}",
            "p": draw(_num),
            "levels": [{"label": lab, "cells": cells(_count)} for lab in ("I", "II", "III")],
        },
        {
            "label": "cat",
            "kind": "categorical",
            "levels": ["x", "y"],
            "cells": cells(st.builds(lambda a, b: f"{a}:{b}", _count, _count)),
            "p": draw(_num),
        },
    ]
    return {
        "format": "kypho-summary-tables",
        "format_version": 1,
        "study": {"title": "fuzz", "groups": [{"key": "a", "n": n1}, {"key": "b", "n": n2}]},
        "tables": [{"number": 1, "title": "T", "statistic_column": "t", "rows": rows}],
    }


@settings(max_examples=40, deadline=None)
@given(_study())
def test_audit_never_fails_on_well_formed_input(data: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = audit(parse_summary_tables(data))
    assert report.findings
    assert {f.status for f in report.findings} <= set(STATUSES)
    assert all(f.reason for f in report.findings)
    # Every renderer copes; the JSON is strictly valid (no NaN or Infinity).
    assert render_json(report).startswith("{")
    assert render_text(report, show_all=True)
    assert render_html(report, show_all=True)
