"""The "Beyond the paper" section of the HTML report of ``kypho analyze``.

:func:`report_section` runs the three analyses on the analysed data and returns
an HTML fragment with plain-language explanations, tables and the names of its
figures, plus the figures themselves as SVG bytes (the report embeds them after
the fragment, in the order given). Every analysis is guarded: one that cannot be
computed on the data at hand is replaced by a sentence saying why, and the rest
of the section is kept.
"""

from __future__ import annotations

import html
import io
import math
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

if TYPE_CHECKING:
    from kypho.analysis.plan import Plan
    from kypho.schema import Schema

__all__ = ["report_section"]

_esc = html.escape


def _num(value: float, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:.{digits}g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"


def _p(value: float) -> str:
    if not math.isfinite(value):
        return "—"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], caption: str) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f'<table class="beyond"><caption>{_esc(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _svg(draw: Callable[..., object], size: tuple[float, float]) -> bytes:
    """Draw on a fresh figure and return it as SVG.

    A bare :class:`matplotlib.figure.Figure` needs no pyplot and no backend switch,
    so the report neither touches global plotting state nor pays for it; text is
    kept as SVG text (not paths), which is smaller and faster to write.
    """
    import matplotlib
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    draw(ax=fig.add_subplot(1, 1, 1))
    fig.tight_layout()
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg")
    return buffer.getvalue()


def _power_part(
    data: pd.DataFrame,
    schema: Schema,
    plan: Plan,
    seed: int,
    figures: dict[str, bytes],
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
                endpoint.describe(),
                f"{planned.n1} / {planned.n2}",
                f"{planned.analytic.power:.2f}",
                f"{sim.power:.2f} ± {sim.mcse:.2f}" if sim else "as analytic",
                *(
                    "unreachable" if need is None else str(need)
                    for need in planned.n_needed.values()
                ),
                f"{check.power:.2f} ± {check.mcse:.2f}" if check else "—",
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
    if main:
        curves: dict[str, list[Any]] = {e.label: [] for e in main}
        figures["figure_b1_power_curves.svg"] = _svg(
            lambda ax: plot_power_curves(main, sizes=[2, 150], simulated=curves, ax=ax, target=0.8),
            (6.5, 4.0),
        )
        out.append(
            "<p>Figure B1 (below) draws the analytic power of the "
            + _esc(" and ".join(e.label for e in main))
            + " comparisons against the number of patients per group.</p>"
        )
    return out


def _trajectory_part(
    data: pd.DataFrame,
    schema: Schema,
    plan: Plan,
    figures: dict[str, bytes],
    shown: progress.Bar,
) -> list[str]:
    out = [
        "<h3>Trajectories over time (linear mixed model)</h3>",
        "<p>The paper tests the groups at each timepoint separately. A linear mixed model "
        "uses all measurements of every patient at once: it estimates the mean of each group "
        "at each timepoint (group × time) and lets each patient have their own level (a "
        "random intercept), which accounts for repeated measurements of the same person and "
        "keeps patients with a missing visit. The group difference is given at every "
        "timepoint with its 95% CI, and the interaction test asks whether the difference "
        "between the groups changes over time. Assumptions: normal residuals; equal variance "
        "at every timepoint and equal correlation between any two measurements of a patient "
        "(compound symmetry, implied by the random intercept — doubtful for VAS, whose spread "
        "shrinks after surgery); missing visits missing at random.</p>",
    ]
    time_labels = {name: tp.label for name, tp in schema.timepoints.items()}
    for k, measure in enumerate(plan.beyond.trajectories, start=2):
        if measure not in schema.repeated:
            continue
        shown.describe(f"mixed model: {measure}")
        try:
            result = fit_trajectory(data, schema, measure)
        except (KyphoError, ValueError, ArithmeticError) as exc:
            out.append(f"<p>{_esc(measure)}: not modelled — {_esc(str(exc))}</p>")
            continue
        rows = [
            [
                time_labels.get(str(r["time"]), str(r["time"])),
                _num(r["difference"]),
                f"{_num(r['ci_low'])} to {_num(r['ci_high'])}",
                _p(r["p_value"]),
            ]
            for r in _records(result.differences)
        ]
        caption = (
            f"{result.measure}: {result.groups[1]} − {result.groups[0]} by timepoint. "
            f"Group × time interaction: χ² = {result.interaction_chi2:.2f}, "
            f"df = {result.interaction_dof}, P = {_p(result.interaction_p)}. "
            f"Intraclass correlation {result.icc:.2f}; {result.n_patients} patients, "
            f"{result.n_observations} measurements."
        )
        out.append(_table(["Timepoint", "Difference", "95% CI", "P"], rows, caption))
        if result.notes:
            out.append(f'<p class="note">Fit notes: {_esc("; ".join(result.notes))}</p>')
        name = f"figure_b{k}_trajectory_{measure}.svg"
        figures[name] = _svg(partial(plot_trajectory, result, time_labels=time_labels), (6.0, 3.8))
        out.append(f"<p>Figure B{k} (below): model-based means of {_esc(result.measure)}.</p>")
    return out


def _confounding_part(
    data: pd.DataFrame,
    schema: Schema,
    plan: Plan,
    figures: dict[str, bytes],
    shown: progress.Bar,
) -> list[str]:
    out = [
        "<h3>Confounding: propensity-score analyses</h3>",
        "<p>The groups were not randomised, so they may differ in ways that also affect the "
        "outcome. The propensity score is each patient's estimated probability of receiving "
        "the experimental method given the baseline characteristics of Table 1 (logistic "
        "regression). Weighting by its inverse (IPW, stabilised weights) makes the groups "
        "alike in those characteristics across the whole cohort; matching pairs each "
        "experimental patient with the most similar control (nearest neighbour, within 0.2 SD "
        "of the logit of the score) and estimates the effect in the experimental group. "
        "Balance is judged by the standardised mean difference (|SMD| &lt; 0.1 is good). "
        "Assumptions: every confounder is among the measured baseline characteristics (none "
        "unmeasured), every patient could have received either method, and the propensity "
        "model is adequate. The IPW confidence intervals use robust (sandwich) standard "
        "errors.</p>",
    ]
    shown.describe("propensity scores")
    try:
        result = adjust_for_confounding(data, schema, plan=plan)
    except KyphoError as exc:
        return [*out, f"<p>Not computed: {_esc(str(exc))}</p>"]
    if result.dropped:
        out.append(f"<p>Left out of the propensity model: {_esc(', '.join(result.dropped))}.</p>")
    for note in result.notes:
        out.append(f'<p class="note">Note: {_esc(note)}.</p>')
    out.append(
        _table(
            ["Covariate", "SMD before", "SMD after IPW", "SMD after matching"],
            [
                [
                    r["covariate"],
                    f"{r['smd_before']:.3f}",
                    f"{r['smd_ipw']:.3f}",
                    f"{r['smd_matched']:.3f}",
                ]
                for r in _records(result.balance)
            ],
            f"Covariate balance ({result.n_treated} experimental, {result.n_control} control; "
            f"{len(result.pairs)} matched pairs).",
        )
    )
    out.append(
        _table(
            [
                "Analysis",
                "Risk, experimental",
                "Risk, control",
                "Risk difference (95% CI)",
                "Odds ratio (95% CI)",
                "Note",
            ],
            [
                [
                    r["analysis"],
                    f"{r['risk_treated']:.3f}",
                    f"{r['risk_control']:.3f}",
                    f"{r['risk_difference']:.3f} ({r['rd_ci_low']:.3f} to {r['rd_ci_high']:.3f})",
                    f"{_num(r['odds_ratio'])} ({_num(r['or_ci_low'])} to {_num(r['or_ci_high'])})",
                    r["note"],
                ]
                for r in _records(result.binary_effects)
            ],
            "Bone cement leakage: group effect, unadjusted and adjusted for the baseline characteristics.",
        )
    )
    if len(result.ordinal_effects):
        out.append(
            _table(
                ["Analysis", "Odds ratio (95% CI)", "Note"],
                [
                    [
                        r["analysis"],
                        f"{_num(r['odds_ratio'])} ({_num(r['or_ci_low'])} to {_num(r['or_ci_high'])})",
                        r["note"],
                    ]
                    for r in _records(result.ordinal_effects)
                ],
                "Distribution grade of bone cement: proportional-odds (ordinal logistic) odds "
                "ratio of a higher grade, experimental vs control.",
            )
        )
    figures["figure_b6_love_plot.svg"] = _svg(
        lambda ax: plot_love(result, ax=ax), (6.0, 0.4 * len(result.balance) + 1.8)
    )
    out.append("<p>Figure B6 (below): covariate balance before and after adjustment.</p>")
    return out


def report_section(
    data: pd.DataFrame,
    schema: Schema,
    *,
    plan: Plan | None = None,
    sims: int | None = None,
    seed: int = 20_260_101,
) -> tuple[str, dict[str, bytes]]:
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

    Returns
    -------
    html_fragment : str
        Subsections (``<h3>``) with explanations, tables and figure references.
    figures : dict of str to bytes
        SVG figures by file name, in the order they are referred to.
    """
    figures: dict[str, bytes] = {}
    parts = [
        "<p>The paper's Discussion names its limits: a small sample, a retrospective "
        "(non-randomised) design and the wish for longer follow-up. The analyses below "
        "address them: the sample size a confirmatory study would need, the course of each "
        "measure over time in one model, and the group effects adjusted for the baseline "
        "differences between the groups. They are additions to the paper's plan, not part "
        "of it.</p>"
    ]
    if plan is None:
        from kypho.analysis.plan import load_plan

        plan = load_plan()
    if sims is not None:
        plan = replace(plan, beyond=replace(plan.beyond, sims=sims))
    builders: list[Callable[[progress.Bar], list[str]]] = [
        partial(_power_part, data, schema, plan, seed, figures),
        partial(_trajectory_part, data, schema, plan, figures),
        partial(_confounding_part, data, schema, plan, figures),
    ]
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
    return "\n".join(parts), figures
