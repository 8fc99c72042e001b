"""The whole report folder and the self-contained HTML report, with the Beyond hook."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import kypho.beyond
from kypho.analysis import analyze, load_plan
from kypho.analysis.demo import demo_cohort
from kypho.eligibility import screen
from kypho.errors import AnalysisError
from kypho.measures import derive
from kypho.report.document import (
    NO_FIGURES,
    Provenance,
    beyond_section,
    manifest,
    write_report,
)
from kypho.schema import Schema, load_schema
from kypho.validate import validate

SCHEMA = load_schema()
PROVENANCE = Provenance(
    input_name="cohort.csv",
    input_sha256="ab" * 32,
    created="2026-01-01T00:00:00+00:00",
    versions={"kypho": "0.1.0", "Python": "3.11"},
    plan_source="kypho/data/analysis.yaml",
    schema_study="kyphoplasty",
    note="These data are synthetic.",
)


def pipeline() -> tuple[object, object, pd.DataFrame, object]:
    raw = demo_cohort(50, seed=2, ineligible=0.1)
    raw.loc[0, "age"] = 200  # one record breaks its range and is rejected
    validation = validate(raw, SCHEMA)
    data = derive(validation.data, SCHEMA)
    screening = screen(data, SCHEMA)
    included = data[screening.included.to_numpy()]
    return analyze(included, SCHEMA, load_plan()), validation, included, screening


def test_html_report_is_self_contained_and_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The paper's own sections only; the Beyond hook is tested on its own below.
    monkeypatch.delattr(kypho.beyond, "report_section", raising=False)
    result, validation, included, screening = pipeline()
    files = write_report(
        tmp_path,
        result,  # type: ignore[arg-type]
        provenance=PROVENANCE,
        formats=("html",),
        figures=True,
        validation=validation,
        screening=screening,
        data=included,
        schema=SCHEMA,
        title="Kyphoplasty",
    )
    names = sorted(p.relative_to(tmp_path).as_posix() for p in files)
    assert "report.html" in names
    assert "data_quality.csv" in names
    assert "figures/figure1_vas.svg" in names
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    # Offline: nothing fetched from elsewhere.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert page.count('<table class="kypho"') == 7
    assert page.count("<svg") == 5
    for section in ("Patients", "Data quality", "Statistical methods", "Results", "Provenance"):
        assert f">{section}</h2>" in page
    assert "ab" * 32 in page
    assert "These data are synthetic." in page
    assert "&#x27;age&#x27; must be a whole number from 18 to 120 (got 200)" in page
    assert "Records read</td><td>50" in page
    absent = re.search(r"<p>Schema columns not in the input \((\d+)\): ([^<]*)\.</p>", page)
    assert absent is not None
    names = absent.group(2).split(", ")
    assert "sup_ant_x_pre" in names
    assert int(absent.group(1)) == len(names)
    assert "<tr><td>sup_ant_x_pre</td>" not in page


def test_all_formats_without_figures(tmp_path: Path) -> None:
    result, validation, _included, screening = pipeline()
    files = write_report(
        tmp_path,
        result,  # type: ignore[arg-type]
        provenance=PROVENANCE,
        figures=False,
        validation=validation,
        screening=screening,
    )
    names = sorted(p.name for p in files)
    assert names == [
        "data_quality.csv",
        "report.docx",
        "report.html",
        "report.md",
        "results.csv",
        "tables.csv",
        "tables.tex",
    ]
    assert not (tmp_path / "figures").exists()
    long = pd.read_csv(tmp_path / "results.csv")
    age = long[(long.table == 1) & (long.variable == "age")]
    assert list(age.group) == ["Experimental group", "Control group"]
    table1 = result.table(1)  # type: ignore[attr-defined]
    assert list(age["mean"]) == pytest.approx([c.mean for c in table1.row("Age (yr)").cells])
    text = manifest(files, tmp_path, PROVENANCE, {"n": 1})
    doc = json.loads(text)
    assert doc["complete"] is True
    assert {f["path"] for f in doc["files"]} == set(names)


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    result, *_ = pipeline()
    with pytest.raises(AnalysisError) as info:
        write_report(tmp_path, result, provenance=PROVENANCE, formats=("pdf",))  # type: ignore[arg-type]
    assert str(info.value) == ("unknown report format(s) 'pdf'; allowed: md, html, csv, tex, docx")


def html_with_hook(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hook: object,
    *,
    figures: bool,
    start: Callable[..., Any] | None = None,
) -> tuple[str, pd.DataFrame]:
    """report.html of the demo pipeline with ``hook`` as the Beyond section (started by
    ``start`` before the report, if given), and the analysed data."""
    monkeypatch.setattr(kypho.beyond, "report_section", hook, raising=False)
    result, _validation, included, _screening = pipeline()
    write_report(
        tmp_path,
        result,  # type: ignore[arg-type]
        provenance=PROVENANCE,
        formats=("html",),
        figures=figures,
        data=included,
        schema=SCHEMA,
        beyond=None if start is None else start(included, SCHEMA, figures=figures),
    )
    return (tmp_path / "report.html").read_text(encoding="utf-8"), included


def test_beyond_hook_included_when_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def report_section(data: pd.DataFrame, schema: Schema) -> tuple[str, dict[str, bytes]]:
        svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>'
        return (
            f"<p>Power of the next study ({len(data)} patients).</p>",
            {"power.svg": svg, "love.png": b"\x89PNG"},
        )

    page, included = html_with_hook(tmp_path, monkeypatch, report_section, figures=True)
    assert '<h2 id="beyond">Beyond the paper</h2>' in page
    # The hook saw the analysed patients (it may have run in the forked worker).
    assert f"<p>Power of the next study ({len(included)} patients).</p>" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>' in page
    assert 'src="data:image/png;base64,iVBORw=="' in page


def test_beyond_hook_absent_or_failing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(kypho.beyond, "report_section", raising=False)
    frame = pd.DataFrame({"x": [1]})
    assert beyond_section(frame, SCHEMA) is None

    def broken(data: pd.DataFrame, schema: Schema) -> tuple[str, dict[str, bytes]]:
        raise ValueError("no baseline columns")

    monkeypatch.setattr(kypho.beyond, "report_section", broken, raising=False)
    section = beyond_section(frame, SCHEMA)
    assert section == (
        "<p>The section could not be computed: ValueError: no baseline columns</p>",
        {},
        {},
    )


def test_quality_section_separates_partly_and_never_recorded() -> None:
    from types import SimpleNamespace

    from kypho.report.document import _quality_html

    validation = SimpleNamespace(
        n_read=4,
        n_accepted=3,
        n_rejected=1,
        unknown_columns=["bmi"],
        problems=pd.DataFrame(
            {
                "row": [2],
                "record": ["P-2"],
                "field": ["age"],
                "value": ["x"],
                "problem": ["type"],
                "message": ["record P-2 (row 2), 'age' must be a whole number (got 'x')"],
            }
        ),
        missing=pd.Series({"age": 0, "vas_2h": 1, "sup_ant_x_pre": 3}),
        data=pd.DataFrame(),
    )
    page = _quality_html(validation, None)  # type: ignore[arg-type]
    assert "<tr><td>Unknown columns (ignored)</td><td>bmi</td></tr>" in page
    assert "<tr><td>vas_2h</td><td>1 of 3</td></tr>" in page
    # With the schema, a column is named by its label too.
    labelled = _quality_html(validation, None, SCHEMA)  # type: ignore[arg-type]
    assert "<tr><td>VAS score, 2 h after operation (vas_2h)</td><td>1 of 3</td></tr>" in labelled
    assert "<p>Not recorded for any accepted record (1 column(s)): sup_ant_x_pre.</p>" in page
    assert "&#x27;age&#x27; must be a whole number (got &#x27;x&#x27;)" in page


def hook_reporting_pid(data: pd.DataFrame, schema: Schema) -> tuple[str, dict[str, bytes]]:
    import os

    return f"<p>pid {os.getpid()}, {len(data)} patients</p>", {}


def test_beyond_section_runs_beside_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where fork is available the section is computed in a second process."""
    import multiprocessing
    import os

    from kypho.report.document import _start_beyond

    monkeypatch.setattr(kypho.beyond, "report_section", hook_reporting_pid, raising=False)
    collect = _start_beyond(pd.DataFrame({"x": [1, 2]}), SCHEMA)
    section = collect()
    assert section is not None
    fragment, figures, captions = section
    assert captions == {}
    pid = int(fragment.split()[1].rstrip(","))
    assert fragment.endswith(", 2 patients</p>")
    assert figures == {}
    forked = "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1
    assert (pid != os.getpid()) == forked
    assert _beyond_workers() == []  # collected: the worker is gone


def test_a_beyond_hook_removed_before_the_worker_starts_gives_no_section(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kypho.report.document import _start_beyond

    monkeypatch.delattr(kypho.beyond, "report_section", raising=False)
    assert _start_beyond(pd.DataFrame({"x": [1, 2]}), SCHEMA)() is None


def test_no_figures_reaches_the_beyond_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``figures=False`` is passed to a hook that takes it, and no figure is shown."""
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>'

    def report_section(
        data: pd.DataFrame, schema: Schema, *, plan: object = None, figures: bool = True
    ) -> tuple[str, dict[str, bytes], dict[str, str]]:
        # Draws its figure even when told not to: the report must still show none.
        return f"<p>figures={figures}</p>", {"b1.svg": svg}, {"b1.svg": "Figure B1."}

    monkeypatch.setattr(kypho.beyond, "report_section", report_section, raising=False)
    result, validation, included, screening = pipeline()
    options = {
        "provenance": PROVENANCE,
        "formats": ("html",),
        "validation": validation,
        "screening": screening,
        "data": included,
        "schema": SCHEMA,
    }
    write_report(tmp_path / "without", result, figures=False, **options)  # type: ignore[arg-type]
    page = (tmp_path / "without" / "report.html").read_text(encoding="utf-8")
    assert "<p>figures=False</p>" in page
    assert "<svg" not in page
    assert "<img" not in page
    assert "Figure B1." not in page
    assert page.count(NO_FIGURES) == 1
    assert f'<p class="note">{NO_FIGURES}</p>' in page
    assert not (tmp_path / "without" / "figures").exists()

    write_report(tmp_path / "with", result, figures=True, **options)  # type: ignore[arg-type]
    page = (tmp_path / "with" / "report.html").read_text(encoding="utf-8")
    assert "<p>figures=True</p>" in page
    assert "<figcaption>Figure B1.</figcaption>" in page
    assert NO_FIGURES not in page


def test_an_older_hook_without_a_figures_keyword_still_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def report_section(data: pd.DataFrame, schema: Schema) -> tuple[str, dict[str, bytes]]:
        return f"<p>{len(data)} patients</p>", {"b1.svg": b"<svg/>"}

    monkeypatch.setattr(kypho.beyond, "report_section", report_section, raising=False)
    frame = pd.DataFrame({"x": [1, 2]})
    assert beyond_section(frame, SCHEMA) == ("<p>2 patients</p>", {"b1.svg": b"<svg/>"}, {})
    assert beyond_section(frame, SCHEMA, figures=False) == ("<p>2 patients</p>", {}, {})


def test_no_figures_leaves_out_the_figures_of_other_sections(tmp_path: Path) -> None:
    from kypho.report.sections import Paragraph, ReportSection, SectionFigure

    result, *_ = pipeline()
    own = ReportSection(
        "extra",
        "Extra",
        (Paragraph("Text stays."), SectionFigure("extra_fig", b"\x89PNG", b"<svg/>", "Figure S1.")),
    )
    plain = ("plain", "Plain", "<p>Plain text stays.</p>", {"plain.svg": b"<svg/>"})
    files = write_report(
        tmp_path,
        result,  # type: ignore[arg-type]
        provenance=PROVENANCE,
        formats=("html", "md"),
        figures=False,
        sections=[own, plain],
    )
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Text stays." in page
    assert "<p>Plain text stays.</p>" in page
    assert "<svg" not in page
    assert "Figure S1." not in page
    assert "Figure S1." not in (tmp_path / "report.md").read_text(encoding="utf-8")
    assert not (tmp_path / "figures").exists()
    assert {f.name for f in files} == {"report.html", "report.md"}


def slow_hook(data: pd.DataFrame, schema: Schema) -> tuple[str, dict[str, bytes]]:
    import time

    time.sleep(60)  # stopped long before, or the test fails (it does not wait for it)
    return "<p>late</p>", {}


def _beyond_workers() -> list[object]:
    import multiprocessing

    return [p for p in multiprocessing.active_children() if p.name == "kypho-beyond"]


def test_a_section_started_early_is_the_one_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kypho analyze`` starts the section after screening and hands it to write_report."""
    import multiprocessing
    import os

    from kypho.report.document import start_beyond

    page, included = html_with_hook(
        tmp_path, monkeypatch, hook_reporting_pid, figures=False, start=start_beyond
    )
    assert f", {len(included)} patients</p>" in page
    pid = int(page.split("<p>pid ")[1].split(",")[0])
    forked = "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1
    assert (pid != os.getpid()) == forked  # computed by the worker started early
    assert _beyond_workers() == []


def test_a_section_nobody_collects_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kypho.report.document import start_beyond

    monkeypatch.setattr(kypho.beyond, "report_section", slow_hook, raising=False)
    result, _validation, included, _screening = pipeline()
    # No report.html: the section is not wanted.
    pending = start_beyond(included, SCHEMA)
    write_report(tmp_path / "md", result, provenance=PROVENANCE, formats=("md",), beyond=pending)  # type: ignore[arg-type]
    assert _beyond_workers() == []
    # Writing fails: the report does not wait for its section either.
    pending = start_beyond(included, SCHEMA)

    def fail(*args: object, **kwargs: object) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr("kypho.report.word.write_docx", fail)
    with pytest.raises(OSError, match="disk full"):
        write_report(
            tmp_path / "all",
            result,  # type: ignore[arg-type]
            provenance=PROVENANCE,
            figures=False,
            data=included,
            schema=SCHEMA,
            beyond=pending,
        )
    assert _beyond_workers() == []
