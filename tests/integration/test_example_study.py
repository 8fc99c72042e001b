"""A second, different study runs end to end with no code change: synth, validate,
analyze, template, db (kypho/data/examples/vertebroplasty/)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from kypho.cli import main
from kypho.eligibility import Flow
from kypho.schema import Schema, load_schema

EXAMPLE = Path(str(resources.files("kypho").joinpath("data", "examples", "vertebroplasty")))
SCHEMA = EXAMPLE / "study.yaml"
PLAN = EXAMPLE / "analysis.yaml"
SPEC = EXAMPLE / "synth.yaml"
Analysed = tuple[pd.DataFrame, Schema, Flow]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("example") / "cohort.csv"
    result = run("synth", "--schema", str(SCHEMA), "--spec", str(SPEC), "--out", str(path))
    assert result.exit_code == 0, result.output
    assert "62 published values checked: 62 reproduced." in result.output
    return path


def test_the_example_schema_shares_no_variable_with_kyphos() -> None:
    example, kypho = load_schema(SCHEMA), load_schema()
    assert example.study != kypho.study
    assert not set(example.variables) & set(kypho.variables)
    assert example.group_levels == ("pvp", "conservative")


def test_synth_regenerates_the_shipped_example_cohort(cohort: Path) -> None:
    assert cohort.read_bytes() == (EXAMPLE / "cohort.csv").read_bytes()


def test_validate_accepts_every_record(cohort: Path) -> None:
    result = run("validate", str(cohort), "--schema", str(SCHEMA))
    assert result.exit_code == 0, result.output
    assert "84 rows read: 84 accepted, 0 rejected (0 problems)" in result.output
    # the conservative arm had no cement, and one ineligible record no pain duration
    assert "missing values among accepted rows: pain_weeks 1, cement_ml 84" in result.output


def test_analyze_writes_the_plans_tables(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run(
        "analyze", str(cohort), "--schema", str(SCHEMA), "--plan", str(PLAN),
        "--out", str(out), "--format", "md", "--format", "csv", "--no-figures", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "eligible 80 of 84" in result.output
    titles = [
        line.split(",")[0]
        for line in (out / "tables.csv").read_text(encoding="utf-8").splitlines()
        if line.startswith("Table ")
    ]
    assert titles == [
        "Table 1. Baseline characteristics",
        "Table 2. Back pain (VAS)",
        "Table 3. Oswestry Disability Index",
        "Table 4. Improvement at 12 months and new fractures",
    ]
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| Pain relief at 12 months (points) |" in md
    assert "12 months | 27.9 ± 17.1\\* | 31.6 ± 18.8\\* |" in md  # ODI at 12 months, as generated
    # No column name of the example (internal codes) and no "nan" reach the reader.
    codes = re.compile(
        r"\b(?:" + "|".join(n for n in load_schema(SCHEMA).variables if "_" in n) + r")\b"
    )
    for name in ("report.md", "tables.csv"):
        text = (out / name).read_text(encoding="utf-8")
        assert not codes.findall(text), name
        assert not re.findall(r"\b(?:nan|NaN|None)\b", text), name


def test_a_plan_for_another_study_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["analyze", "--plan", str(PLAN), "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    assert (
        f"the plan {str(PLAN)!r} is for study 'vertebroplasty-vs-conservative-example', "
        "but the schema is study 'kyphoplasty-staged-perfusion'"
    ) in result.output


def test_template_has_the_example_columns(tmp_path: Path) -> None:
    out = tmp_path / "entry.xlsx"
    result = run("template", "--schema", str(SCHEMA), "--out", str(out))
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out)["Data"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert "odi_m12" in header or "Oswestry Disability Index" in " ".join(map(str, header))
    assert len(header) == len(load_schema(SCHEMA).input_variables)


def test_db_import_export_verify(cohort: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vp.db'}"
    db = ["db", "--url", url, "--user", "ann", "--schema", str(SCHEMA)]
    assert run(*db, "init").exit_code == 0
    imported = run(*db, "import", str(cohort), "--reason", "example study")
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "export.csv"
    exported = run(*db, "export", str(out))
    assert exported.exit_code == 0, exported.output
    frame = pd.read_csv(out)
    assert len(frame) == 84
    # de-identified by the example's own declarations: initials and comments dropped,
    # dates counted from its reference date (treatment_date), itself dropped
    assert not {"initials", "comments", "treatment_date"} & set(frame.columns)
    assert "odi_m12" in frame.columns
    verified = run(*db, "verify")
    assert verified.exit_code == 0, verified.output


def test_a_whole_plan_is_not_an_extension() -> None:
    from kypho.analysis import load_plan
    from kypho.errors import AnalysisError

    with pytest.raises(AnalysisError) as info:
        load_plan(extensions=[PLAN])
    assert str(info.value) == (
        f"{PLAN}: a plan that names its study is a whole plan, not an addition to "
        "another; load it as the plan itself"
    )
    assert [t.number for t in load_plan(PLAN).tables] == [1, 2, 3, 4]


@pytest.fixture(scope="module")
def analysed() -> Analysed:
    """The example's eligible patients, validated and derived, and its schema."""
    from kypho.eligibility import screen
    from kypho.io import read_table
    from kypho.measures import derive
    from kypho.validation import validate

    schema = load_schema(SCHEMA)
    data = derive(validate(read_table(EXAMPLE / "cohort.csv"), schema).data, schema)
    screening = screen(data, schema)
    included = data[screening.included.to_numpy(dtype=bool)]
    return included, schema, screening.flow


# Words of the kyphoplasty study that must not reach the example's report.
KYPHOPLASTY_WORDS = (
    "operative", "operation", "surgery", "cement", "leakage", "experimental", "paper's Discussion",
    "VAS, whose",  # the paper study's mixed-model caveat
)  # fmt: skip


def test_the_report_text_takes_its_words_from_the_example(analysed: Analysed) -> None:
    """Names as the schema writes them ("the Oswestry Disability Index", not "oswestry"),
    timepoints as its timepoints say them, and groups by their labels."""
    from kypho.analysis import analyze, load_plan
    from kypho.report.text import flow_text, methods_text, results_text

    data, schema, flow = analysed
    result = analyze(data, schema, load_plan(PLAN))
    methods = methods_text(result, {"kypho": "0"})
    assert (
        "Within each group, each later value was compared with the value at baseline by the "
        "paired t test." in methods
    )
    assert flow_text(flow, result).endswith(
        "80 were included: 40 in the vertebroplasty group and 40 in the conservative care group."
    )
    text = results_text(result)
    assert text[3].startswith(
        "At baseline, the Oswestry Disability Index did not differ significantly between the "
        "two groups (P = 0.607). In each group, the Oswestry Disability Index at 1 week,"
    )
    assert "oswestry" not in " ".join(text.values())
    assert text[2].startswith("At baseline, back pain did not differ significantly")
    prose = " ".join([methods, *text.values()])
    assert not [w for w in KYPHOPLASTY_WORDS if w in prose]


def test_beyond_the_paper_plans_the_examples_own_endpoints(analysed: Analysed) -> None:
    from kypho.analysis import load_plan
    from kypho.beyond.report import report_section

    data, schema, _ = analysed
    fragment, figures, captions = report_section(data, schema, plan=load_plan(PLAN), sims=20)
    for endpoint in (
        "<td>New vertebral fracture by 12 months</td>",
        "<td>Pain relief at 12 months (points)</td>",
        "<td>Oswestry Disability Index (%), 12 months</td>",
    ):
        assert endpoint in fragment
    assert "No endpoint" not in fragment
    assert "Not computed" not in fragment
    assert "could not be computed" not in fragment
    assert "New vertebral fracture by 12 months: group effect" in fragment
    assert "<th>Risk, vertebroplasty group</th>" in fragment
    assert "Figure B2 (below): model-based means of back pain (VAS, points)." in fragment
    assert "Figure B3 (below): model-based means of the Oswestry Disability Index (%)." in fragment
    assert "the example&#x27;s records do not say how patients were allocated" in fragment
    assert list(figures) == [
        "figure_b1_power_curves.svg",
        "figure_b2_trajectory_vas_back.svg",
        "figure_b3_trajectory_odi.svg",
        "figure_b4_love_plot.svg",
    ]
    assert [c.split(".")[0] for c in captions.values()] == [f"Figure B{k}" for k in range(1, 5)]
    assert "patients of the vertebroplasty group found no match in the conservative care group" in (
        fragment
    )
    assert not [w for w in KYPHOPLASTY_WORDS if w in fragment]


def test_the_plans_figures_are_drawn(analysed: Analysed) -> None:
    from kypho.analysis import analyze, load_plan
    from kypho.report.figure_plan import draw_figures

    data, schema, flow = analysed
    drawn = draw_figures(analyze(data, schema, load_plan(PLAN)), flow)
    assert drawn.notes == ()
    assert [(m.name, m.full_caption) for m in drawn.figures[1:]] == [
        ("figure1_vas_back", "Figure 2. Back pain (VAS) over time by group (mean with 95% CI)."),
        (
            "figure2_odi",
            "Figure 3. Oswestry Disability Index over time by group (mean with 95% CI).",
        ),
    ]
    axes = drawn.figures[2].figure.axes[0]  # type: ignore[union-attr]
    assert [t.get_text() for t in axes.get_legend().get_texts()] == [
        "Vertebroplasty",
        "Conservative care",
    ]
    assert len(axes.lines[0].get_xdata()) == 5  # the five timepoints


def test_power_from_the_examples_data() -> None:
    """``kypho power --from-data`` plans for the example's own endpoints (its plan's
    ``beyond: power:``), screened by its own eligibility."""
    result = run(
        "power", "--from-data", str(EXAMPLE / "cohort.csv"), "--schema", str(SCHEMA),
        "--plan", str(PLAN), "--sims", "0", "--row", "improvement",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "84 records read, 0 rejected by validation" in result.output
    assert "80 eligible patients used" in result.output
    assert "ODI improvement at 12 months (%) — two means" in result.output
    # the groups by their labels, not the codes of the data (pvp, conservative)
    assert "expected: Vertebroplasty 34.2 ± 14.6 vs Conservative care 28.81 ± 18.5" in result.output
    assert "n per group 1 for power 0.8: 151 (analytic 150.43" in result.output
