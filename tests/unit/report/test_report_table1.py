"""``kypho.table1`` and the notebook displays of results and tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import kypho
from kypho.analysis import analyze, load_plan
from kypho.analysis.demo import demo_cohort
from kypho.errors import AnalysisError
from kypho.measures import derive
from kypho.report.format import layout
from kypho.schema import load_schema
from kypho.stats import chi_square, describe, independent_t, mann_whitney, paired_t
from kypho.validate import validate

DATA = validate(demo_cohort(60, seed=1)).data


def test_table1_is_the_reports_table_1_cell_for_cell() -> None:
    schema = load_schema()
    made = kypho.table1(DATA)
    report = analyze(derive(DATA, schema), schema, load_plan()).table(1)
    assert made.grid == layout(report)
    assert made.to_markdown().startswith("**Table 1. Patient characteristics**")
    assert repr(made) == made.to_markdown()
    page = made._repr_html_()
    assert '<table class="kypho">' in page
    assert "<style>" in page


def test_table1_of_chosen_variables_exports_to_five_formats(tmp_path: Path) -> None:
    made = kypho.table1(DATA, ["age", "operation_time"], title="Baseline", smd=False)
    assert made.grid.header == (
        "",
        "Experimental group",
        "Control group",
        "Difference (95% CI)",
        "Statistic",
        "P",
    )
    assert [r.cells[0] for r in made.grid.rows] == ["Number", "Age (yr)", "Operation time (min)"]
    for suffix in ("md", "html", "csv", "tex", "docx"):
        path = made.save(tmp_path / f"t1.{suffix}")
        assert path.stat().st_size > 0
    assert "Table 1. Baseline" in (tmp_path / "t1.csv").read_text(encoding="utf-8")
    assert list(made.to_frame()["label"].unique()) == ["Number", "Age (yr)", "Operation time (min)"]
    with pytest.raises(AnalysisError, match=r"cannot tell the format of 't1\.pdf'"):
        made.save(tmp_path / "t1.pdf")
    with pytest.raises(AnalysisError, match=r"'bmi' is not variables? of the schema"):
        kypho.table1(DATA, ["age", "bmi"])


def test_results_have_a_short_repr_and_an_html_table() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(10, 2, 30), rng.normal(11, 2, 30)
    results = [
        independent_t(x, y),
        paired_t(x, y),
        chi_square([[10, 20], [15, 12]]),
        mann_whitney(x, y),
        describe(x),
    ]
    for result in results:
        text = repr(result)
        assert text.startswith(type(result).__name__ + "(")
        assert len(text) < 240, text
        page = result._repr_html_()
        assert page.startswith('<table class="kypho-result">')
        assert "e-" not in page
    t = results[0]
    assert repr(t).startswith(f"TTestResult(method={t.method!r}, statistic=")
    assert f"<tr><th>n1</th><td>{t.n1}</td></tr>" in t._repr_html_()
    readable = t.summary()
    assert list(readable.columns) == ["field", "value"]
    assert list(readable["field"][:4]) == ["method", "statistic", "dof", "p_value"]
    assert readable.loc[3, "value"] == t.p_value
    batch = independent_t(rng.normal(size=(4, 10)), rng.normal(size=(4, 10)), axis=1)
    assert repr(batch).endswith("batch of 4 samples)")


def test_analysis_result_and_table_display_in_a_notebook() -> None:
    schema = load_schema()
    result = analyze(derive(DATA, schema), schema, load_plan())
    assert repr(result) == (
        "AnalysisResult(tables 1, 2, 3, 4, 5, 6, 7; Experimental group n = 30, "
        "Control group n = 30)"
    )
    assert repr(result.table(3)).startswith("Table(3, 'VAS scores', ")
    assert result._repr_html_().count('<table class="kypho">') == 7
