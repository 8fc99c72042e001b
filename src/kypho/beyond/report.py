"""The "Beyond the paper" section of the HTML report of ``kypho analyze``.

:func:`report_section` runs the three analyses on the analysed data and returns
an HTML fragment with plain-language explanations, tables and the names of its
figures, the figures themselves as SVG bytes (the report embeds them after the
fragment, in the order given) and their captions. Every analysis is guarded: one
that cannot be computed on the data at hand is replaced by a sentence saying why,
and the rest of the section is kept.

Presentation follows the rest of the report: numbers through
:mod:`kypho.report.format` (true minus signs, the plan's P style, a variable's
declared decimals), figures through :mod:`kypho.report.style` (the groups'
colours of the main figures, journal column widths, titles in the captions
rather than over the plot), and variables, levels and groups by their labels.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd

from kypho import progress
from kypho.beyond.confounding import adjust_for_confounding, plot_love
from kypho.beyond.planning import (
    SIMULATION_LIMIT,
    endpoints_from_data,
    plan_endpoint,
    plot_power_curves,
)
from kypho.beyond.trajectories import fit_trajectory, plot_trajectory
from kypho.errors import KyphoError
from kypho.report._fork import Forked, can_fork
from kypho.report.format import (
    format_estimate,
    format_interval,
    format_number,
    format_p,
    group_noun,
    in_sentence,
    p_phrase,
)
from kypho.report.style import (
    DOUBLE_COLUMN_IN,
    FONT_PT,
    SINGLE_COLUMN_IN,
    SMALL_PT,
    group_colour,
    new_figure,
    style_axes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from kypho.analysis.plan import Plan
    from kypho.beyond.confounding import ConfoundingResult
    from kypho.beyond.planning import Endpoint
    from kypho.schema import Schema

__all__ = ["report_section"]

_esc = html.escape

PARALLEL_FROM = 500_000
"""From this many patients the propensity scores (~2 s of CPU at 10⁶) are computed in a
second forked process while this one computes the power and the mixed models (where fork
and two CPUs exist). That process costs CPU of its own (the fork of a large process, its
answer pickled back: ~1 s at 10⁶, measured at load 5), so it pays only for a long
propensity part on a CPU that would otherwise be idle."""

# The opening paragraph when the plan gives none (its `beyond: introduction:`).
_INTRODUCTION = (
    "The analyses below go beyond the analysis plan: the sample size a confirmatory study "
    "would need, the course of each measure over time in one model, and the group effects "
    "adjusted for the baseline differences between the groups. They are additions to the "
    "plan, not part of it."
)


def _num(value: float | None) -> str:
    return format_estimate(None if value is None else float(value))


def _p(value: float) -> str:
    return format_p(float(value))


def _group_labels(schema: Schema) -> dict[str, str]:
    return dict(schema[schema.group_column].levels)


def _label(name: str | None, schema: Schema) -> str:
    """A plan's variable by its schema label."""
    if name is None:
        return ""
    return schema[name].label if name in schema else name


def _covariate(name: str, schema: Schema) -> str:
    """A propensity-model column as the reader knows it: "Gender: Female", not "sex=female"."""
    variable, _, level = str(name).partition("=")
    if variable not in schema.variables:
        return str(name)
    var = schema[variable]
    if level:
        return f"{var.label}: {var.levels.get(level, level)}"
    return var.display_label


def _dropped(entry: str, schema: Schema) -> str:
    """ "percussion_pain (constant)" as "Percussion pain (constant)"."""
    name, sep, why = str(entry).partition(" (")
    return _covariate(name, schema) + (f" ({why}" if sep else "")


def _describe(endpoint: Endpoint, labels: dict[str, str]) -> str:
    """The observed values of an endpoint, with group labels and formatted numbers."""
    g1, g2 = (labels.get(g, g) for g in endpoint.groups)
    if endpoint.kind == "proportions":
        return (
            f"{g1} {format_number(100 * endpoint.values1[0], 1)}% vs "
            f"{g2} {format_number(100 * endpoint.values2[0], 1)}%"
        )
    if endpoint.kind == "means":
        (m1, s1), (m2, s2) = endpoint.values1[:2], endpoint.values2[:2]
        return (
            f"{g1} {format_estimate(m1)} ± {format_estimate(s1)} vs "
            f"{g2} {format_estimate(m2)} ± {format_estimate(s2)} (mean ± SD)"
        )
    p1 = ", ".join(format_number(100 * v, 0) for v in endpoint.values1)
    p2 = ", ".join(format_number(100 * v, 0) for v in endpoint.values2)
    return f"{g1} {p1}% vs {g2} {p2}% (grades, lowest first)"


def _recolour_groups(ax: Axes, schema: Schema) -> None:
    """Give each group's line the colour it has in the main figures; label it."""
    labels = _group_labels(schema)
    order = {code: i for i, code in enumerate(schema.group_levels)}
    for container in ax.containers:
        code = str(container.get_label())
        if code not in order:
            continue
        colour = group_colour(order[code])
        container.set_label(labels.get(code, code))
        for artist in container.get_children():
            if hasattr(artist, "set_color"):
                artist.set_color(colour)
    handles = [c for c in ax.containers if c.get_label() in labels.values()]
    if handles:
        ax.legend(handles=handles, fontsize=SMALL_PT, frameon=False)


def _trajectory_style(ax: Axes, *, schema: Schema, measure: str) -> None:
    _recolour_groups(ax, schema)
    ax.set_ylabel(_unit_label(measure), fontsize=FONT_PT)
    ax.tick_params(axis="x", labelsize=SMALL_PT)


_BALANCE_STYLE = {"Before": "0.35", "IPW": "#009E73", "Matched": "#CC79A7"}
"""Love-plot series in colours no group uses, so no series reads as a group."""


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], caption: str) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f'<table class="beyond"><caption>{_esc(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _figure(
    draw: Callable[..., object],
    size: tuple[float, float],
    after: Callable[[Axes], object] | None = None,
) -> Figure:
    """Draw on a fresh figure in the report's style.

    A bare :class:`matplotlib.figure.Figure` needs no pyplot and no backend switch,
    so the report neither touches global plotting state nor pays for it. The title
    goes to the caption (a title over a one-column plot is clipped or crowds it).
    Each figure has one axes and its legend inside it, so matplotlib's tight layout
    (one measurement of the labels) keeps every label inside the figure as the
    constrained layout of the main figures does, at a third of its cost.
    """
    import matplotlib

    with matplotlib.rc_context({"font.size": FONT_PT}):
        figure = new_figure(*size)
        # About the constrained layout's 3-point margin (pad is in font sizes: 0.4 × 8 pt).
        figure.set_layout_engine("tight", pad=0.4)
        ax = figure.add_subplot(1, 1, 1)
        draw(ax=ax)
        ax.set_title("")
        ax.xaxis.label.set_fontsize(FONT_PT)
        ax.yaxis.label.set_fontsize(FONT_PT)
        style_axes(ax)
        if after is not None:
            after(ax)
    return figure


def _svg(
    draw: Callable[..., object],
    size: tuple[float, float],
    after: Callable[[Axes], object] | None = None,
) -> bytes:
    """:func:`_figure` as SVG, text kept as text (smaller and faster to write than paths).

    No date in the file, so the same analysis gives the same bytes.
    """
    import matplotlib

    figure = _figure(draw, size, after)
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _unit_label(measure: str) -> str:
    """ "Wedge angle of injured vertebra (°)" -> "Model-based mean (°)"; the caption names it."""
    unit = measure.rsplit(" (", 1)[1].rstrip(")") if measure.endswith(")") else ""
    return f"Model-based mean ({unit})" if unit else "Model-based mean"


def _power_part(
    data: pd.DataFrame,
    schema: Schema,
    plan: Plan,
    seed: int,
    figures: dict[str, bytes] | None,
    captions: dict[str, str],
    shown: progress.Bar,
) -> list[str]:
    sims = plan.beyond.sims
    out = [
        "<h3>Sample size for the next study</h3>",
        "<p>How likely was this study to detect the differences it observed, and how many "
        "patients would a new study need? For each endpoint the observed values are taken as "
        "the truth to plan for. <em>Analytic</em> power uses a formula (normal approximation "
        "for proportions, noncentral t for means, Whitehead's proportional-odds formula for "
        "grades). <em>Simulated</em> power runs the analysis's own tests — including its "
        "automatic choices (F test before t or t′; Pearson, Yates or Fisher by expected "
        "counts) — on "
        f"{sims:,} simulated studies; ± is the Monte Carlo standard error. It is simulated at "
        "the observed size and at the size the formula gives for 80% power, for studies of up "
        f"to {SIMULATION_LIMIT:,} patients whose analytic power is not already ≈ 1 (beyond that "
        "the formula is accurate and the simulation would only repeat it). "
        "Assumptions: the observed proportions, means, SDs and grade distributions are the "
        "true ones (they are estimates, so a planned size should allow a margin), normal data "
        "for means, independent patients, two-sided α = 0.05.</p>",
    ]
    endpoints = endpoints_from_data(data, schema, plan)
    if not endpoints:
        return [*out, "<p>No endpoint with two distinct groups was found in the data.</p>"]
    rows = []
    for endpoint in endpoints:
        shown.describe(f"power: {endpoint.label}")
        planned = plan_endpoint(endpoint, sims=sims, seed=seed)
        sim = planned.simulated
        check = planned.next_simulated
        rows.append(
            [
                endpoint.label,
                _describe(endpoint, _group_labels(schema)),
                f"{planned.n1} / {planned.n2}",
                format_number(planned.analytic.power, 2),
                f"{format_number(sim.power, 2)} ± {format_number(sim.mcse, 2)}"
                if sim
                else "as analytic",
                *(
                    "unreachable" if need is None else str(need)
                    for need in planned.n_needed.values()
                ),
                f"{format_number(check.power, 2)} ± {format_number(check.mcse, 2)}"
                if check
                else "—",
            ]
        )
    out.append(
        _table(
            [
                "Endpoint",
                "Observed",
                "n (groups)",
                "Power, analytic",
                "Power, simulated",
                "n/group for 80%",
                "n/group for 90%",
                "Simulated power at n for 80%",
            ],
            rows,
            "Power at the observed size and patients per group needed (equal groups). "
            "“As analytic”: not simulated (analytic power ≈ 1, or a study larger than "
            f"{SIMULATION_LIMIT:,} patients).",
        )
    )
    main = [e for e in endpoints if e.kind in ("proportions", "ordinal")][:3]
    if main and figures is not None:
        curves: dict[str, list[Any]] = {e.label: [] for e in main}
        name = "figure_b1_power_curves.svg"
        figures[name] = _svg(
            lambda ax: plot_power_curves(main, sizes=[2, 150], simulated=curves, ax=ax, target=0.8),
            (DOUBLE_COLUMN_IN, 3.2),
            lambda ax: ax.legend(fontsize=SMALL_PT, frameon=False, loc="lower right"),
        )
        named = ", ".join(in_sentence(e.label) for e in main)
        captions[name] = (
            f"Figure B1. Analytic power by patients per group ({named}); the dashed line "
            "marks 80% power."
        )
        out.append(
            "<p>Figure B1 (below) draws the analytic power of the "
            + _esc(" and ".join(in_sentence(e.label) for e in main))
            + " comparisons against the number of patients per group.</p>"
        )
    return out


def _trajectory_part(
    data: pd.DataFrame,
    schema: Schema,
    plan: Plan,
    figures: dict[str, bytes] | None,
    captions: dict[str, str],
    shown: progress.Bar,
) -> list[str]:
    out = [
        "<h3>Trajectories over time (linear mixed model)</h3>",
        "<p>The tables test the groups at each timepoint separately. A linear mixed model "
        "uses all measurements of every patient at once: it estimates the mean of each group "
        "at each timepoint (group × time) and lets each patient have their own level (a "
        "random intercept), which accounts for repeated measurements of the same person and "
        "keeps patients with a missing visit. The group difference is given at every "
        "timepoint with its 95% CI, and the interaction test asks whether the difference "
        "between the groups changes over time. Assumptions: normal residuals; equal variance "
        "at every timepoint and equal correlation between any two measurements of a patient "
        "(compound symmetry, implied by the random intercept — doubtful for a measure whose "
        "spread changes over time, such as a pain score after treatment); missing visits "
        "missing at random.</p>",
    ]
    time_labels = {name: tp.label for name, tp in schema.timepoints.items()}
    memo: dict[str, Any] = {}  # the patients' coding, shared by the fits
    for measure in plan.beyond.trajectories:
        if measure not in schema.repeated:
            continue
        shown.describe(f"mixed model: {measure}")
        try:
            result = fit_trajectory(data, schema, measure, _memo=memo)
        except (KyphoError, ValueError, ArithmeticError) as exc:
            named = schema[next(iter(schema.measure_columns(measure).values()))]
            out.append(
                f"<p>{_esc(named.measure_display_label)}: not modelled — {_esc(str(exc))}</p>"
            )
            continue
        columns = schema.measure_columns(measure)
        first = schema[next(iter(columns.values()))]
        decimals = first.precision
        labels = _group_labels(schema)
        rows = [
            [
                time_labels.get(str(r["time"]), str(r["time"])),
                format_number(r["difference"], decimals)
                if decimals is not None
                else _num(r["difference"]),
                format_interval(r["ci_low"], r["ci_high"], decimals),
                _p(r["p_value"]),
            ]
            for r in _records(result.differences)
        ]
        later, earlier = (labels.get(g, g) for g in (result.groups[1], result.groups[0]))
        caption = (
            f"{result.measure}: {later} minus {earlier}, by timepoint. "
            f"Group × time interaction: χ² = {format_number(result.interaction_chi2, 2)}, "
            f"df = {result.interaction_dof}, {p_phrase(result.interaction_p)}. "
            f"Intraclass correlation {format_number(result.icc, 2)}; {result.n_patients} "
            f"patients, {result.n_observations} measurements."
        )
        out.append(_table(["Timepoint", "Difference", "95% CI", "P"], rows, caption))
        if result.notes:
            out.append(f'<p class="note">Fit notes: {_esc("; ".join(result.notes))}</p>')
        if figures is None:
            continue
        k = len(figures) + 1  # numbered in order: B1 is the power curves, if drawn
        name = f"figure_b{k}_trajectory_{measure}.svg"
        figures[name] = _svg(
            partial(plot_trajectory, result, time_labels=time_labels),
            (SINGLE_COLUMN_IN * 1.4, 2.8),
            partial(_trajectory_style, schema=schema, measure=result.measure),
        )
        captions[name] = (
            f"Figure B{k}. {result.measure}: model-based mean of each group at each "
            f"timepoint with its {100 * result.confidence:g}% CI (linear mixed model)."
        )
        # Inside a sentence the measure is named as the schema's phrase says, else its label.
        said = (
            f"{first.phrase} ({first.unit})" if first.phrase and first.unit else first.phrase
        ) or in_sentence(result.measure)
        out.append(f"<p>Figure B{k} (below): model-based means of {_esc(said)}.</p>")
    return out


def _confounding_part(
    data: pd.DataFrame,
    schema: Schema,
    plan: Plan,
    figures: dict[str, bytes] | None,
    captions: dict[str, str],
    shown: progress.Bar,
    computed: Callable[[], ConfoundingResult] | None = None,
) -> list[str]:
    labels = _group_labels(schema)
    treated, control = (group_noun(labels.get(g, g)) for g in schema.group_levels)
    out = ["<h3>Confounding: propensity-score analyses</h3>", _confounding_intro(treated, control)]
    shown.describe("propensity scores")
    try:
        result = (
            computed() if computed is not None else adjust_for_confounding(data, schema, plan=plan)
        )
    except KyphoError as exc:
        return [*out, f"<p>Not computed: {_esc(str(exc))}</p>"]
    if result.dropped:
        dropped = "; ".join(_dropped(name, schema) for name in result.dropped)
        out.append(f"<p>Left out of the propensity model: {_esc(dropped)}.</p>")
    for note in result.notes:
        out.append(f'<p class="note">Note: {_esc(note)}.</p>')
    out.append(
        _table(
            ["Covariate", "SMD before", "SMD after IPW", "SMD after matching"],
            [
                [
                    _covariate(r["covariate"], schema),
                    format_number(r["smd_before"], 2),
                    format_number(r["smd_ipw"], 2),
                    format_number(r["smd_matched"], 2),
                ]
                for r in _records(result.balance)
            ],
            f"Covariate balance ({treated} {result.n_treated}, {control} {result.n_control}; "
            f"{len(result.pairs)} matched pairs).",
        )
    )
    out += _effect_tables(result, schema, plan, treated, control)
    if figures is not None:
        out.append(_love_figure(result, schema, figures, captions))
    return out


def _confounding_intro(treated: str, control: str) -> str:
    """What the propensity analyses do and assume, the groups named by their labels."""
    return (
        "<p>Groups that were not randomised may differ in ways that also affect the "
        "outcome. The propensity score is each patient's estimated probability of being in "
        f"the {_esc(treated)} rather than the {_esc(control)} given the baseline "
        "characteristics of Table 1 (logistic regression). Weighting by its inverse (IPW, "
        "stabilised weights) makes the groups alike in those characteristics across the "
        f"whole cohort; matching pairs each patient of the {_esc(treated)} with the most "
        f"similar one of the {_esc(control)} (nearest neighbour, within 0.2 SD of the logit "
        f"of the score) and estimates the effect in the {_esc(treated)}. "
        "Balance is judged by the standardised mean difference (|SMD| &lt; 0.1 is good). "
        "Assumptions: every confounder is among the measured baseline characteristics (none "
        "unmeasured), every patient could have received either method, and the propensity "
        "model is adequate. The IPW confidence intervals use robust (sandwich) standard "
        "errors.</p>"
    )


def _effect_tables(
    result: ConfoundingResult, schema: Schema, plan: Plan, treated: str, control: str
) -> list[str]:
    """The group effect on the binary outcome and, if any, on the ordinal one."""
    out = [
        _table(
            [
                "Analysis",
                f"Risk, {treated}",
                f"Risk, {control}",
                "Risk difference (95% CI)",
                "Odds ratio (95% CI)",
                "Note",
            ],
            [
                [
                    r["analysis"],
                    format_number(r["risk_treated"], 3),
                    format_number(r["risk_control"], 3),
                    f"{format_number(r['risk_difference'], 3)} "
                    f"({format_interval(r['rd_ci_low'], r['rd_ci_high'], 3)})",
                    f"{_num(r['odds_ratio'])} ({format_interval(r['or_ci_low'], r['or_ci_high'])})",
                    r["note"],
                ]
                for r in _records(result.binary_effects)
            ],
            f"{_label(plan.beyond.outcome, schema)}: group effect, unadjusted and adjusted for "
            "the baseline characteristics.",
        )
    ]
    if len(result.ordinal_effects):
        out.append(
            _table(
                ["Analysis", "Odds ratio (95% CI)", "Note"],
                [
                    [
                        r["analysis"],
                        f"{_num(r['odds_ratio'])} "
                        f"({format_interval(r['or_ci_low'], r['or_ci_high'])})",
                        r["note"],
                    ]
                    for r in _records(result.ordinal_effects)
                ],
                f"{_label(plan.beyond.ordinal_outcome, schema)}: proportional-odds (ordinal "
                f"logistic) odds ratio of a higher grade, {treated} vs {control}.",
            )
        )
    return out


def _love_figure(
    result: ConfoundingResult,
    schema: Schema,
    figures: dict[str, bytes],
    captions: dict[str, str],
) -> str:
    """Draw the love plot into ``figures``, numbered after those already there."""
    covariate_labels = [_covariate(c, schema) for c in result.balance["covariate"]]

    def relabel(ax: Axes) -> None:
        ax.set_yticks(ax.get_yticks(), covariate_labels, fontsize=SMALL_PT)
        for series in ax.collections:
            colour = _BALANCE_STYLE.get(str(series.get_label()))
            if colour is not None:
                series.set_color(colour)
        ax.legend(fontsize=SMALL_PT, frameon=False, loc="lower right")

    k = len(figures) + 1
    name = f"figure_b{k}_love_plot.svg"
    figures[name] = _svg(
        lambda ax: plot_love(result, ax=ax),
        (SINGLE_COLUMN_IN * 1.6, 0.28 * len(result.balance) + 1.2),
        relabel,
    )
    captions[name] = (
        f"Figure B{k}. Covariate balance: absolute standardised mean difference of each "
        "baseline characteristic before adjustment, after inverse-probability weighting "
        "and after matching; the dashed line marks 0.1."
    )
    return f"<p>Figure B{k} (below): covariate balance before and after adjustment.</p>"


def report_section(
    data: pd.DataFrame,
    schema: Schema,
    *,
    plan: Plan | None = None,
    sims: int | None = None,
    seed: int = 20_260_101,
    figures: bool = True,
) -> tuple[str, dict[str, bytes], dict[str, str]]:
    """Build the "Beyond the paper" section of the HTML report.

    Parameters
    ----------
    data : pandas.DataFrame
        The analysed data: included patients, derived columns.
    schema : kypho.schema.Schema
        The study schema.
    plan : kypho.analysis.Plan, optional
        The analysis plan; its ``beyond`` section names the measures, covariates
        and endpoints. The built-in plan when omitted.
    sims : int, optional
        Simulated studies per Monte Carlo power estimate (default: the plan's
        ``beyond.power.sims``).
    seed : int
        Seed of the simulations (fixed, so the report is reproducible).
    figures : bool
        Whether to draw the figures. Without them (``kypho analyze --no-figures``)
        the tables and text are the same, the sentences that point to a figure are
        left out, and matplotlib is not imported.

    Returns
    -------
    html_fragment : str
        Subsections (``<h3>``) with explanations, tables and figure references.
    figures : dict of str to bytes
        SVG figures by file name, in the order they are referred to (none when
        ``figures`` is false).
    captions : dict of str to str
        The numbered caption of each figure, by file name.
    """
    drawn: dict[str, bytes] | None = {} if figures else None
    captions: dict[str, str] = {}
    if plan is None:
        from kypho.analysis.plan import load_plan

        plan = load_plan()
    parts = [f"<p>{_esc(plan.beyond.introduction or _INTRODUCTION)}</p>"]
    if sims is not None:
        plan = replace(plan, beyond=replace(plan.beyond, sims=sims))
    # A large cohort's propensity scores are computed by a second process meanwhile.
    beside = (
        Forked(partial(adjust_for_confounding, plan=plan), data, schema, name="kypho-propensity")
        if len(data) >= PARALLEL_FROM and can_fork()
        else None
    )
    builders: list[Callable[[progress.Bar], list[str]]] = [
        partial(_power_part, data, schema, plan, seed, drawn, captions),
        partial(_trajectory_part, data, schema, plan, drawn, captions),
        partial(
            _confounding_part,
            data,
            schema,
            plan,
            drawn,
            captions,
            computed=None if beside is None else beside.result,
        ),
    ]
    try:
        with progress.bar("Beyond the paper", total=len(builders), unit="parts") as shown:
            for build in builders:
                try:
                    parts.extend(build(shown))
                # Numerical failures of the fitting libraries (ValueError covers numpy's
                # LinAlgError) must cost this one part of the section, not the report.
                except (KyphoError, ValueError, ArithmeticError) as exc:
                    parts.append(
                        f"<p>This analysis could not be computed: {_esc(type(exc).__name__)}: "
                        f"{_esc(str(exc))}</p>"
                    )
                shown.advance()
    finally:
        if beside is not None:
            beside.cancel()  # collected by now, unless a part failed on the way
    return "\n".join(parts), drawn or {}, captions
