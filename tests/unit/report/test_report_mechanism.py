"""The report's "Mechanism" section (kypho.report.mechanism) against kypho.simulate itself."""

from __future__ import annotations

import struct
from typing import Any

import pytest

import kypho.report.mechanism as mechanism
from kypho.analysis import load_plan
from kypho.errors import AnalysisError
from kypho.report.mechanism import (
    MechanismRun,
    MechanismSettings,
    cached_section,
    comparison_grid,
    mechanism_section,
    mechanism_settings,
    run_mechanism,
    sensitivity_grid,
)
from kypho.report.sections import Paragraph, SectionFigure
from kypho.simulate import CEMENTS, Vertebra, simulate, staged_protocol, traditional_protocol
from kypho.simulate.calibration import STATUS
from kypho.simulate.sensitivity import PARAMETERS, SensitivityResult
from kypho.simulate.sobol import sobol_indices

SMALL = MechanismSettings(enabled=True, grid=12, volume_ml=5.0, rate_ml_s=0.12)


@pytest.fixture(scope="module")
def small_run() -> MechanismRun:
    return run_mechanism(SMALL)


@pytest.fixture(scope="module")
def small_sensitivity() -> SensitivityResult:
    """A SensitivityResult as kypho.simulate.sensitivity builds it, of a cheap stand-in output.

    The simulations themselves (2 N (d + 2) of them) are too slow for a unit test; the
    table only reads the result, so a linear stand-in of the seven inputs is run through
    the same estimator (kypho.simulate.sobol), on a random sample of the same layout as
    ``saltelli_sample``'s (``AB[i]`` is ``A`` with column ``i`` from ``B``).
    """
    import numpy as np

    n, d = 16, len(PARAMETERS)
    rng = np.random.default_rng(1)
    low, high = np.array([p.bounds() for p in PARAMETERS]).T
    a, b = (low + (high - low) * rng.random((n, d)) for _ in range(2))
    ab = np.stack([np.where(np.arange(d) == i, b, a) for i in range(d)])
    weights = np.linspace(1.0, 0.1, d)

    def output(x: np.ndarray) -> np.ndarray:
        return np.asarray(x @ weights, dtype=float)

    fa, fb, fab = output(a), output(b), np.stack([output(m) for m in ab])
    indices = sobol_indices([p.name for p in PARAMETERS], fa, fb, fab, bootstrap=100, seed=1)
    trad = np.concatenate([fa, fb])
    return SensitivityResult(
        parameters=PARAMETERS,
        indices=indices,
        traditional_ml=trad,
        staged_ml=np.zeros_like(trad),
        reduction_ml=trad,
        runs=2 * n * (d + 2),
    )


def number(cell: str) -> float:
    """The first number of a printed cell ("0.064 (1.17)" -> 0.064), minus sign included."""
    return float(cell.split(" ")[0].replace("\u2212", "-"))


def test_the_plan_declares_the_section_off_with_the_module_defaults() -> None:
    declared = load_plan().mechanism
    assert declared["enabled"] is False
    assert mechanism_settings(declared) == MechanismSettings()


def test_a_user_plan_replaces_only_the_settings_it_names() -> None:
    plan = load_plan(extensions=[{"mechanism": {"grid": 30, "enabled": True}}])
    assert mechanism_settings(plan.mechanism) == MechanismSettings(enabled=True, grid=30)
    with pytest.raises(AnalysisError) as caught:
        load_plan(extensions=[{"mechanism": [1]}])
    assert str(caught.value) == "plan extension: 'mechanism' must be a mapping"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"grid": 3},
            "plan.yaml: mechanism: 'grid' (cells anteroposterior) must be a whole number "
            "from 8 to 400 (got 3)",
        ),
        (
            {"grid": 20.5},
            "plan.yaml: mechanism: 'grid' (cells anteroposterior) must be a whole number "
            "from 8 to 400 (got 20.5)",
        ),
        (
            {"volume_ml": "lots"},
            "plan.yaml: mechanism: 'volume_ml' (ml of cement per protocol) must be a number "
            "from 0.1 to 20 (got 'lots')",
        ),
        (
            {"courant": float("nan")},
            "plan.yaml: mechanism: 'courant' (the time-step control) must be a number from "
            "0.05 to 4 (got nan)",
        ),
        ({"enabled": "yes"}, "plan.yaml: mechanism: 'enabled' must be true or false (got 'yes')"),
        (
            {"sensitivity_n": 2},
            "plan.yaml: mechanism: 'sensitivity_n' must be 0 (no sensitivity table) or a whole "
            "number from 4 to 4096 (got 2)",
        ),
        (
            {"grids": 40},
            "plan.yaml: mechanism has unknown setting(s) 'grids'; allowed: enabled, grid, "
            "courant, cement, volume_ml, rate_ml_s, sensitivity_n, sensitivity_grid, seed",
        ),
    ],
)
def test_bad_settings_are_refused_naming_plan_setting_value_and_range(
    spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(AnalysisError) as caught:
        mechanism_settings(spec, source="plan.yaml")
    assert str(caught.value) == message


def test_an_unknown_cement_is_refused_before_any_simulation() -> None:
    with pytest.raises(AnalysisError) as caught:
        run_mechanism(MechanismSettings(enabled=True, cement="medium"))
    assert str(caught.value) == (
        "the analysis plan: mechanism: 'cement' must be one of "
        + ", ".join(map(repr, CEMENTS))
        + " (got 'medium')"
    )


def test_table_numbers_are_what_simulate_returns_for_the_same_settings(
    small_run: MechanismRun,
) -> None:
    vertebra = Vertebra()
    expected = [
        simulate(
            make(vertebra, cement=CEMENTS["low"], volume_ml=5.0, rate_ml_s=0.12),
            vertebra,
            nx=12,
        )
        for make in (traditional_protocol, staged_protocol)
    ]
    grid = comparison_grid(small_run)
    assert grid.caption == "Table S1. The traditional and the staged protocol in the model"
    assert grid.header == ("", "traditional", "staged")
    rows = {row.cells[0]: row.cells[1:] for row in grid.rows}
    for k, r in enumerate(expected):
        assert number(rows["Cement injected, ml"][k]) == pytest.approx(r.injected_ml[-1], abs=5e-4)
        leaked = rows["Cement leaked, ml (% of injected)"][k]
        assert number(leaked) == pytest.approx(r.leaked_total_ml, abs=5e-4)
        assert float(leaked.split("(")[1].rstrip(")")) == pytest.approx(
            100 * r.leaked_fraction, abs=5e-3
        )
        for exit_name, value in r.leaked_by_exit().items():
            assert number(rows[f"through the {exit_name}"][k]) == pytest.approx(value, abs=5e-4)
        assert number(rows["Pores of the body filled, %"][k]) == pytest.approx(
            100 * r.fill_fraction, abs=0.05
        )
        assert number(rows["Cement area on the AP film, %"][k]) == pytest.approx(
            r.area_ap_pct, abs=0.05
        )
        assert number(rows["Cement area on the lateral film, %"][k]) == pytest.approx(
            r.area_lateral_pct, abs=0.05
        )
        assert rows["Distribution grade"][k] == (r.grade or "not graded")
        assert rows["Filling pattern"][k] == r.pattern
        assert rows["Every injection placed in full"][k] == ("yes" if r.completed else "no")
        assert number(rows["Peak injection pressure, kPa"][k]) == pytest.approx(
            float(r.pressure_kpa.max()), abs=0.05
        )
    assert f"12 × {expected[0].fraction.shape[0]} cells" in grid.footnotes[0]


def test_the_section_says_it_is_a_model_with_its_calibration_status(
    small_run: MechanismRun,
) -> None:
    section = mechanism_section(small_run, figure=False)
    texts = [b.text for b in section.blocks if isinstance(b, Paragraph)]
    assert texts[0].startswith("This section is a computer model, not evidence about patients")
    assert "docs/simulate.md" in texts[0]
    assert f"Calibration status. {STATUS}" in texts
    trad, staged = small_run.results
    assert any(
        t.startswith("In this run the staged protocol leaked ")
        and f"{staged.leaked_total_ml:.3f} ml against {trad.leaked_total_ml:.3f} ml with the "
        "traditional protocol (Table S1). "
        in t
        for t in texts
    )
    assert section.figures == ()
    assert [g.caption for g in section.grids] == [
        "Table S1. The traditional and the staged protocol in the model"
    ]


def test_the_figure_is_the_comparison_figure_saved_whole(
    monkeypatch: pytest.MonkeyPatch, small_run: MechanismRun
) -> None:
    import kypho.simulate.figures
    from kypho.report.style import text_outside

    drawn: list[Any] = []
    original = kypho.simulate.figures.comparison_figure

    def keep(results: Any) -> Any:
        drawn.append(original(results))
        return drawn[-1]

    monkeypatch.setattr(kypho.simulate.figures, "comparison_figure", keep)
    section = mechanism_section(small_run, figure=True)
    # The figure saved is comparison_figure of the run's results, and clips no text.
    assert len(drawn) == 1
    assert text_outside(drawn[0]) == []
    assert any(
        isinstance(b, Paragraph) and "(Table S1, Figure S1)." in b.text for b in section.blocks
    )
    (figure,) = section.figures
    assert isinstance(figure, SectionFigure)
    assert figure.name == "mechanism_comparison"
    assert figure.caption.startswith("Figure S1. The traditional and the staged protocol")
    assert figure.png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", figure.png[16:24])
    # comparison_figure is 7.2 × 5.4 in; saved at 300 dpi.
    assert (width, height) == (2160, 1620)
    svg = figure.svg.decode("utf-8")
    assert svg.count('<g id="axes_') == 4  # two fills, leakage and pressure over time


def test_sensitivity_table_numbers_are_the_sensitivity_results(
    small_sensitivity: SensitivityResult,
) -> None:
    settings = MechanismSettings(enabled=True, sensitivity_n=16, sensitivity_grid=8, seed=1)
    grid = sensitivity_grid(small_sensitivity, settings)
    frame = small_sensitivity.to_frame()
    assert grid.caption.startswith("Table S2. How much each input explains")
    assert len(grid.rows) == len(frame) == len(PARAMETERS)
    for row, (_, expected) in zip(grid.rows, frame.iterrows(), strict=True):
        label, rng, first, first_ci, total, total_ci = row.cells
        assert (label, rng) == (expected["label"], expected["range"])
        assert number(first) == pytest.approx(expected["first_order"], abs=5e-3)
        assert number(total) == pytest.approx(expected["total"], abs=5e-3)
        low, high = (number(x) for x in first_ci.split(" to "))
        assert (low, high) == pytest.approx(
            (expected["first_low"], expected["first_high"]), abs=5e-3
        )
        low, high = (number(x) for x in total_ci.split(" to "))
        assert (low, high) == pytest.approx(
            (expected["total_low"], expected["total_high"]), abs=5e-3
        )
    assert f"{small_sensitivity.runs} simulations" in grid.footnotes[0]
    assert "N = 16" in grid.footnotes[0]
    mid, low, high = small_sensitivity.band()
    assert f"median {mid:.3f} ml (90 % of the sample from {low:.3f} to {high:.3f} ml)" in (
        grid.footnotes[1].replace("\u2212", "-")
    )


def test_the_sensitivity_runs_with_the_settings_and_appears_as_table_s2(
    monkeypatch: pytest.MonkeyPatch, small_sensitivity: SensitivityResult
) -> None:
    import kypho.simulate.sensitivity

    calls: list[dict[str, Any]] = []

    def recorded(n: int, **options: Any) -> SensitivityResult:
        calls.append({"n": n, **options})
        return small_sensitivity

    monkeypatch.setattr(kypho.simulate.sensitivity, "sensitivity", recorded)
    settings = MechanismSettings(
        enabled=True, grid=8, courant=0.5, sensitivity_n=6, sensitivity_grid=10, seed=7
    )
    run = run_mechanism(settings)
    assert len(calls) == 1
    assert {k: calls[0][k] for k in ("n", "nx", "courant", "seed")} == {
        "n": 6,
        "nx": 10,
        "courant": 0.5,
        "seed": 7,
    }
    section = mechanism_section(run, figure=False)
    assert [g.caption.split(".")[0] for g in section.grids] == ["Table S1", "Table S2"]


def test_the_section_is_cached_by_its_settings(
    monkeypatch: pytest.MonkeyPatch, small_run: MechanismRun
) -> None:
    settings = MechanismSettings(enabled=True, grid=12, volume_ml=5.0, rate_ml_s=0.12, seed=99)
    monkeypatch.setattr(mechanism, "run_mechanism", lambda s, progress=None: small_run)
    first = cached_section(settings, figure=False)

    def fails(*_: object, **__: object) -> MechanismRun:
        raise AssertionError("the cached section should have been used")

    monkeypatch.setattr(mechanism, "run_mechanism", fails)
    assert cached_section(settings, figure=False) == first
    with pytest.raises(AssertionError, match="should have been used"):
        cached_section(MechanismSettings(enabled=True, grid=13, seed=99), figure=False)
