"""The report's optional "Mechanism" section: the in-silico model of cement perfusion.

``kypho analyze --mechanism`` (or ``mechanism: {enabled: true}`` in the analysis
plan) adds a section to ``report.html``, ``report.md`` and ``report.docx`` that
runs :mod:`kypho.simulate` — the paper's traditional and staged protocols on the
same model vertebra — and shows

* the comparison figure (:func:`kypho.simulate.figures.comparison_figure`: the
  final fill of each protocol, leaked volume through each exit and injection
  pressure over time);
* a table of leaked volume, fill and distribution grade per protocol, every number
  as :class:`kypho.simulate.SimulationResult` holds it;
* with ``sensitivity_n`` > 0 (``--mechanism-sensitivity N``), the Sobol' table of
  :func:`kypho.simulate.sensitivity.sensitivity` (first-order and total indices of
  the leakage reduction, with bootstrap intervals);
* a plain statement that this is a model with stated assumptions, its calibration
  status as :data:`kypho.simulate.calibration.STATUS` states it, and where the model
  is documented (``docs/simulate.md``).

Nothing here is imported by the default report: :mod:`kypho.simulate` (and numba)
are imported only inside :func:`run_mechanism`, when the section is asked for. The
section depends on the settings only, never on the patients, so it is kept in
:mod:`kypho.cache` under a key over the settings (and kypho's own files).

The plan's ``mechanism:`` mapping (all keys optional):

============== ======== =============================================================
key            default  meaning
============== ======== =============================================================
enabled        false    add the section to every report
grid           50       cells anteroposterior of the section (8 to 400)
courant        (none)   time-step control of :func:`kypho.simulate.simulate` (0.05 to 4);
                        left out: the model's own default
cement         low      viscosity class of the cement (a key of ``kypho.simulate.CEMENTS``)
volume_ml      5.5      total cement of each protocol (ml, 0.1 to 20)
rate_ml_s      0.1      injection rate (ml/s, 0.001 to 5)
sensitivity_n  0        Sobol' base sample size N (0: no sensitivity table; else 4 to
                        4096; ``2 N (d + 2)`` simulations, d = 7 inputs)
sensitivity_grid 16     cells anteroposterior of each sensitivity run (8 to 200)
seed           0        seed of the Sobol' sample and its bootstrap
============== ======== =============================================================
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from kypho.errors import AnalysisError, SimulationError
from kypho.report.format import GridRow, format_number
from kypho.report.sections import (
    Paragraph,
    ReportSection,
    SectionFigure,
    SupplementaryGrid,
    section_from_json,
    section_to_json,
)

if TYPE_CHECKING:
    from kypho.simulate import SimulationResult
    from kypho.simulate.sensitivity import SensitivityResult

__all__ = [
    "SECTION_ID",
    "SECTION_TITLE",
    "MechanismRun",
    "MechanismSettings",
    "cached_section",
    "comparison_grid",
    "mechanism_section",
    "mechanism_settings",
    "run_mechanism",
    "sensitivity_grid",
    "sensitivity_points",
]

SECTION_ID = "mechanism"
SECTION_TITLE = "Mechanism (in-silico model)"
_FIGURE_NAME = "mechanism_comparison"
_DOCS = "docs/simulate.md"


@dataclass(frozen=True)
class MechanismSettings:
    """What the section runs (see the module docstring for each field)."""

    enabled: bool = False
    grid: int = 50
    courant: float | None = None
    cement: str = "low"
    volume_ml: float = 5.5
    rate_ml_s: float = 0.1
    sensitivity_n: int = 0
    sensitivity_grid: int = 16
    seed: int = 0

    def key(self) -> str:
        """A text that names these settings (the cache key; ``enabled`` left out)."""
        fields = asdict(self)
        del fields["enabled"]
        return ",".join(f"{k}={v!r}" for k, v in sorted(fields.items()))


# key -> (kind, low, high, what the setting is, in words)
_RANGES: dict[str, tuple[type, float, float, str]] = {
    "grid": (int, 8, 400, "cells anteroposterior"),
    "courant": (float, 0.05, 4.0, "the time-step control"),
    "volume_ml": (float, 0.1, 20.0, "ml of cement per protocol"),
    "rate_ml_s": (float, 0.001, 5.0, "ml/s of injection rate"),
    "sensitivity_grid": (int, 8, 200, "cells anteroposterior of each sensitivity run"),
    "seed": (int, 0, 2**32 - 1, "the random seed"),
}


def mechanism_settings(
    spec: Mapping[str, Any] | None = None,
    *,
    source: str = "the analysis plan",
    **overrides: Any,
) -> MechanismSettings:
    """The settings declared in a plan's ``mechanism:`` mapping, then ``overrides``.

    Parameters
    ----------
    spec
        The mapping (``Plan.mechanism``); ``None`` or empty: the defaults.
    source
        Where it came from, for the error messages (the plan's file).
    **overrides
        Settings given on the command line (``enabled=True``, ``sensitivity_n=8``).

    Raises
    ------
    AnalysisError
        Naming the plan, the setting, the value and what is allowed.

    Examples
    --------
    >>> mechanism_settings({"grid": 40}, enabled=True)
    MechanismSettings(enabled=True, grid=40, courant=None, cement='low', volume_ml=5.5, rate_ml_s=0.1, sensitivity_n=0, sensitivity_grid=16, seed=0)
    """
    values: dict[str, Any] = {**(spec or {}), **overrides}
    where = f"{source}: mechanism"
    allowed = [f.name for f in MechanismSettings.__dataclass_fields__.values()]
    unknown = sorted(set(map(str, values)) - set(allowed))
    if unknown:
        raise AnalysisError(
            f"{where} has unknown setting(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(allowed)}"
        )
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if name == "enabled":
            if not isinstance(value, bool):
                raise AnalysisError(f"{where}: 'enabled' must be true or false (got {value!r})")
            checked[name] = value
        elif name == "cement":
            if not isinstance(value, str) or not value:
                raise AnalysisError(
                    f"{where}: 'cement' must be the name of a cement class such as 'low' or "
                    f"'high' (got {value!r})"
                )
            checked[name] = value
        elif name == "courant" and value is None:
            checked[name] = None
        elif name == "sensitivity_n":
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not (value == 0 or 4 <= value <= 4096)
            ):
                raise AnalysisError(
                    f"{where}: 'sensitivity_n' must be 0 (no sensitivity table) or a whole "
                    f"number from 4 to 4096 (got {value!r})"
                )
            checked[name] = value
        else:
            checked[name] = _in_range(where, name, value)
    return MechanismSettings(**checked)


def _in_range(where: str, name: str, value: object) -> int | float:
    kind, low, high, what = _RANGES[name]
    word = "a whole number" if kind is int else "a number"
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        number = float(value)
    if number is None or (kind is int and not number.is_integer()) or not low <= number <= high:
        raise AnalysisError(
            f"{where}: {name!r} ({what}) must be {word} from {low:g} to {high:g} (got {value!r})"
        )
    return int(number) if kind is int else number


@dataclass(frozen=True)
class MechanismRun:
    """What the section shows: both protocols' results and, if asked, the sensitivity.

    Attributes
    ----------
    settings
        The settings run.
    results
        The traditional and the staged protocol's
        :class:`kypho.simulate.SimulationResult`, in that order.
    cement_name
        The cement's name (``kypho.simulate.Cement.name``).
    ny
        Cells superior–inferior of the grid (from the body's aspect ratio).
    calibration
        The model's calibration status, as :mod:`kypho.simulate.calibration` states it.
    sensitivity
        :class:`kypho.simulate.sensitivity.SensitivityResult`, or ``None``.
    """

    settings: MechanismSettings
    results: tuple[SimulationResult, SimulationResult]
    cement_name: str
    ny: int
    calibration: str
    sensitivity: SensitivityResult | None = None


def run_mechanism(
    settings: MechanismSettings,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> MechanismRun:
    """Run both of the paper's protocols (and the sensitivity analysis, if asked).

    ``progress(done, total)`` is called after each sensitivity sample point.

    Raises
    ------
    AnalysisError
        If the settings' cement is not one of ``kypho.simulate.CEMENTS``.
    """
    from kypho.simulate import CEMENTS, Vertebra, simulate, staged_protocol, traditional_protocol
    from kypho.simulate.calibration import STATUS

    if settings.cement not in CEMENTS:
        raise AnalysisError(
            f"the analysis plan: mechanism: 'cement' must be one of "
            f"{', '.join(map(repr, CEMENTS))} (got {settings.cement!r})"
        )
    vertebra = Vertebra()
    cement = CEMENTS[settings.cement]
    protocols = [
        make(vertebra, cement=cement, volume_ml=settings.volume_ml, rate_ml_s=settings.rate_ml_s)
        for make in (traditional_protocol, staged_protocol)
    ]
    # The model's own time-step default unless the plan sets one.
    step: dict[str, Any] = {} if settings.courant is None else {"courant": settings.courant}
    results = [simulate(p, vertebra, nx=settings.grid, **step) for p in protocols]
    sensitivity = None
    if settings.sensitivity_n:
        from kypho.simulate.sensitivity import sensitivity as sobol

        sensitivity = sobol(
            settings.sensitivity_n,
            nx=settings.sensitivity_grid,
            seed=settings.seed,
            progress=progress,
            **step,
        )
    return MechanismRun(
        settings=settings,
        results=(results[0], results[1]),
        cement_name=cement.name,
        ny=int(results[0].fraction.shape[0]),
        calibration=STATUS,
        sensitivity=sensitivity,
    )


def sensitivity_points(settings: MechanismSettings) -> int:
    """Sample points the sensitivity analysis of ``settings`` runs (0 without one).

    Each point runs both protocols; ``N (d + 2)`` points for ``d`` inputs.
    """
    if not settings.sensitivity_n:
        return 0
    from kypho.simulate.sensitivity import PARAMETERS

    return settings.sensitivity_n * (len(PARAMETERS) + 2)


def _ml(value: float) -> str:
    return format_number(value, 3)


def comparison_grid(run: MechanismRun, number: int = 1) -> SupplementaryGrid:
    """Table S``number``: leaked volume (in total and per exit), fill, films and grade per protocol."""
    results = run.results
    rows: list[GridRow] = [
        GridRow(("Cement injected, ml", *(_ml(float(r.injected_ml[-1])) for r in results))),
        GridRow(
            (
                "Cement leaked, ml (% of injected)",
                *(
                    f"{_ml(r.leaked_total_ml)} ({format_number(100 * r.leaked_fraction, 2)})"
                    for r in results
                ),
            )
        ),
    ]
    for exit_name in results[0].exits:
        rows.append(
            GridRow(
                (
                    f"through the {exit_name}",
                    *(_ml(r.leaked_by_exit()[exit_name]) for r in results),
                ),
                indent=1,
            )
        )
    rows += [
        GridRow(
            (
                "Pores of the body filled, %",
                *(format_number(100 * r.fill_fraction, 1) for r in results),
            )
        ),
        GridRow(
            ("Cement area on the AP film, %", *(format_number(r.area_ap_pct, 1) for r in results))
        ),
        GridRow(
            (
                "Cement area on the lateral film, %",
                *(format_number(r.area_lateral_pct, 1) for r in results),
            )
        ),
        GridRow(
            ("Every injection placed in full", *("yes" if r.completed else "no" for r in results))
        ),
        GridRow(("Filling pattern", *(r.pattern for r in results))),
        GridRow(("Distribution grade", *(r.grade or "not graded" for r in results))),
        GridRow(
            (
                "Peak injection pressure, kPa",
                *(format_number(float(r.pressure_kpa.max()), 1) for r in results),
            )
        ),
    ]
    s = run.settings
    footnotes = (
        f"One model vertebra, {s.grid} × {run.ny} cells; {run.cement_name}; the same "
        f"{format_number(s.volume_ml, 1)} ml at {format_number(s.rate_ml_s, 2)} ml/s in each "
        "protocol. Leaked: through the vertebra's exits by the end of the injection; the intact "
        "cortex passes no cement by construction.",
        "Films: the share of the body's area that shows cement on each projection; grade: "
        "the paper's distribution grade from those areas (kypho.classify). Pressure: at the "
        "filling tube's opening, above the exits' pressure.",
    )
    return SupplementaryGrid(
        number=number,
        title="The traditional and the staged protocol in the model",
        header=("", *(r.protocol for r in results)),
        rows=tuple(rows),
        footnotes=footnotes,
    )


def sensitivity_grid(
    result: SensitivityResult, run_settings: MechanismSettings, number: int = 2
) -> SupplementaryGrid:
    """Table S``number``: Sobol' first-order and total indices of the leakage reduction."""
    frame = result.to_frame()
    rows = tuple(
        GridRow(
            (
                str(row["label"]),
                str(row["range"]),
                format_number(float(row["first_order"]), 2),
                f"{format_number(float(row['first_low']), 2)} to {format_number(float(row['first_high']), 2)}",
                format_number(float(row["total"]), 2),
                f"{format_number(float(row['total_low']), 2)} to {format_number(float(row['total_high']), 2)}",
            )
        )
        for _, row in frame.iterrows()
    )
    mid, low, high = result.band()
    n = run_settings.sensitivity_n
    footnotes = (
        f"Output: the leakage reduction, traditional minus staged (ml). {result.runs} "
        f"simulations (Saltelli sample, N = {n}, each input drawn uniformly over its range, "
        f"log scale where marked), {run_settings.sensitivity_grid} cells anteroposterior; "
        "first-order index by Saltelli (2010), total by Jansen, 95 % intervals by bootstrap.",
        f"Over the sample the reduction has median {_ml(mid)} ml (90 % of the sample from "
        f"{_ml(low)} to {_ml(high)} ml); staging leaks less in "
        f"{format_number(100 * result.probability_staged_better(), 0)} % of it.",
        "With a small N the estimates are noisy: an index below 0 or above 1, or a first-order "
        "index above the total, is sampling error.",
    )
    return SupplementaryGrid(
        number=number,
        title="How much each input explains of the predicted leakage reduction (Sobol' indices)",
        header=("Input", "Range", "First order", "95 % interval", "Total", "95 % interval"),
        rows=rows,
        footnotes=footnotes,
    )


_MODEL = (
    "This section is a computer model, not evidence about patients, and not part of the "
    "paper's analysis. It runs kypho's in-silico model of bone-cement perfusion "
    "(kypho.simulate) with the paper's traditional protocol (one injection at the "
    "wire-drawing stage) and its staged protocol (a small dough-stage injection near the "
    "cortical breach, then the rest at the wire-drawing stage) on the same model vertebra, "
    "with the same total volume of cement. Its stated assumptions: a two-dimensional "
    "sagittal section; cement displacing marrow by Darcy flow through homogeneous bone of "
    "anisotropic permeability; a Newtonian cement whose viscosity rises with its age since "
    "mixing, each batch mixed separately; a cortical breach and the basivertebral vein as "
    "the only exits, each passing cement only above a yield pressure. The equations, the "
    "source of every parameter, the verification and what the model leaves out are in "
    f"{_DOCS} (kypho's documentation)."
)


def _comparison_sentence(run: MechanismRun, figure: bool) -> str:
    trad, staged = run.results
    difference = trad.leaked_total_ml - staged.leaked_total_ml
    if difference > 0:
        verdict = "the staged protocol leaked less"
    elif difference < 0:
        verdict = "the staged protocol leaked more"
    else:
        verdict = "both leaked the same"
    return (
        f"In this run {verdict}: {_ml(staged.leaked_total_ml)} ml against "
        f"{_ml(trad.leaked_total_ml)} ml with the traditional protocol "
        f"({'Table S1, Figure S1' if figure else 'Table S1'}). "
        "The model's absolute volumes are not predictions for a patient."
    )


def _figure(run: MechanismRun) -> SectionFigure:
    import matplotlib

    matplotlib.use("Agg")
    from kypho.report.figures import svg_text
    from kypho.simulate.figures import comparison_figure

    figure = comparison_figure(list(run.results))
    svg = svg_text(figure).encode("utf-8")
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=300, metadata={"Software": "kypho"})
    return SectionFigure(
        name=_FIGURE_NAME,
        png=buffer.getvalue(),
        svg=svg,
        caption=(
            "Figure S1. The traditional and the staged protocol in the model: the final fill "
            "of each (one colour per batch of cement, marrow grey; anterior on the left), the "
            "cement leaked through each exit over time, and the injection pressure."
        ),
        width_in=6.3,
    )


def mechanism_section(run: MechanismRun, *, figure: bool = True) -> ReportSection:
    """The section: the statement, the calibration status, Table S1, Figure S1 and Table S2.

    Examples
    --------
    >>> run = run_mechanism(MechanismSettings(enabled=True, grid=12))
    >>> section = mechanism_section(run, figure=False)
    >>> section.title, [g.caption for g in section.grids]
    ('Mechanism (in-silico model)', ['Table S1. The traditional and the staged protocol in the model'])
    """
    blocks: list[Paragraph | SupplementaryGrid | SectionFigure] = [
        Paragraph(_MODEL, note=True),
        Paragraph(f"Calibration status. {run.calibration}"),
        Paragraph(_comparison_sentence(run, figure)),
        *(Paragraph(f"{r.protocol}: {stop}") for r in run.results for stop in r.stops),
        comparison_grid(run, 1),
    ]
    if figure:
        blocks.append(_figure(run))
    if run.sensitivity is not None:
        blocks.append(
            Paragraph(
                "How sure the model is: a global sensitivity analysis varies the uncertain "
                "inputs together and asks how much of the spread of the predicted leakage "
                "reduction each one explains (Table S2)."
            )
        )
        blocks.append(sensitivity_grid(run.sensitivity, run.settings, 2))
    return ReportSection(SECTION_ID, SECTION_TITLE, tuple(blocks))


def cached_section(
    settings: MechanismSettings,
    *,
    figure: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ReportSection:
    """The section for ``settings``: from :mod:`kypho.cache`, or run (and then kept).

    The section holds no patient data (it depends on the settings and kypho's own
    code only), so it is cached whatever the report's input.
    """
    from kypho import cache

    key = hashlib.sha256(f"{settings.key()},figure={figure}".encode()).hexdigest()
    stored = cache.load("mechanism", key)
    if stored is not None and "section.json" in stored:
        return section_from_json(stored["section.json"].decode("utf-8"))
    try:
        section = mechanism_section(run_mechanism(settings, progress=progress), figure=figure)
    except SimulationError as exc:
        raise AnalysisError(f"the Mechanism section could not be computed: {exc}") from exc
    cache.store("mechanism", key, {"section.json": section_to_json(section).encode("utf-8")})
    return section
