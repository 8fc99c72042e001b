"""``kypho simulate``: the in-silico cement-perfusion model (compare, sensitivity).

``kypho simulate compare`` runs the paper's traditional and staged protocols on
the same vertebra and prints (and plots) the leaked volume per exit, the fill
and the distribution grade of each; ``kypho simulate sensitivity`` runs a
Sobol' analysis of the predicted leakage reduction. Both are a model with
stated assumptions (docs/simulate.md), not evidence about patients.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from kypho.errors import InputFileError

__all__ = ["simulate"]

_NOTE = "A model with stated assumptions (docs/simulate.md), not evidence about patients."


@click.group("simulate")
def simulate() -> None:
    """The in-silico model of staged bone-cement perfusion (see docs/simulate.md)."""


def _vertebra(wall: str, center: float | None, size: float, threshold: float | None) -> Any:
    from kypho.simulate import Vertebra

    base = Vertebra()
    exits = []
    for e in base.exits:
        if e.name == "breach":
            along = base.height_mm if wall in ("anterior", "posterior") else base.depth_mm
            e = replace(
                e,
                wall=wall,  # type: ignore[arg-type]
                center_mm=along / 2 if center is None else center,
                size_mm=size,
                threshold_per_s=e.threshold_per_s if threshold is None else threshold,
            )
        exits.append(e)
    return replace(base, exits=tuple(exits))


@simulate.command("compare")
@click.option(
    "--nx",
    type=click.IntRange(8, 400),
    default=100,
    show_default=True,
    help="Cells anteroposterior.",
)
@click.option(
    "--courant",
    type=click.FloatRange(min=0.01, max=4.0),
    default=0.125,
    show_default=True,
    help="Time-step control: cells the cement front may advance per step (1/16 of it at the exits).",
)
@click.option(
    "--cement",
    type=click.Choice(["low", "high"]),
    default="low",
    show_default=True,
    help="Viscosity class of the cement.",
)
@click.option(
    "--breach-wall",
    type=click.Choice(["anterior", "superior", "inferior"]),
    default="anterior",
    show_default=True,
)
@click.option(
    "--breach-center",
    type=float,
    default=None,
    help="Centre of the breach along its wall (mm); default its middle.",
)
@click.option(
    "--breach-size", type=click.FloatRange(min=0.1), default=4.0, show_default=True, help="mm"
)
@click.option(
    "--threshold",
    type=click.FloatRange(min=0),
    default=None,
    help="Breach threshold (Pa per Pa·s); default the vertebra's.",
)
@click.option(
    "--volume",
    type=click.FloatRange(min=0.1),
    default=5.5,
    show_default=True,
    help="Total cement (ml), same for both protocols.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.001),
    default=0.1,
    show_default=True,
    help="Injection rate (ml/s).",
)
@click.option(
    "--figure",
    "figure_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the comparison figure (.png or .svg).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the summaries as JSON.",
)
def compare(
    nx: int,
    courant: float,
    cement: str,
    breach_wall: str,
    breach_center: float | None,
    breach_size: float,
    threshold: float | None,
    volume: float,
    rate: float,
    figure_path: Path | None,
    json_path: Path | None,
) -> None:
    """Traditional vs staged injection on the same vertebra: leakage, fill, grade."""
    from kypho.simulate import CEMENTS, simulate, staged_protocol, traditional_protocol

    vertebra = _vertebra(breach_wall, breach_center, breach_size, threshold)
    chosen = CEMENTS[cement]
    protocols = [
        traditional_protocol(vertebra, cement=chosen, volume_ml=volume, rate_ml_s=rate),
        staged_protocol(vertebra, cement=chosen, volume_ml=volume, rate_ml_s=rate),
    ]
    results = [simulate(p, vertebra, nx=nx, courant=courant) for p in protocols]
    click.echo(
        f"Vertebra {vertebra.depth_mm:g} × {vertebra.height_mm:g} mm, grid {nx} cells AP; {chosen.name}; {volume:g} ml at {rate:g} ml/s."
    )
    click.echo(_NOTE)
    header = f"{'protocol':<12} {'leaked ml':>9} {'% inj.':>7}  {'per exit':<38} {'fill %':>6} {'AP %':>5} {'lat %':>5} {'pattern':<7} {'grade':<8} {'peak kPa':>8}"
    click.echo(header)
    for r in results:
        exits = ", ".join(f"{k} {v:.3f}" for k, v in r.leaked_by_exit().items() if k != "cortex")
        click.echo(
            f"{r.protocol:<12} {r.leaked_total_ml:>9.3f} {100 * r.leaked_fraction:>7.1f}  {exits:<38} "
            f"{100 * r.fill_fraction:>6.1f} {r.area_ap_pct:>5.1f} {r.area_lateral_pct:>5.1f} "
            f"{r.pattern:<7} {r.grade or 'ungraded':<8} {float(r.pressure_kpa.max()):>8.2f}"
        )
    for r in results:
        if not r.completed:
            click.echo(f"{r.protocol}: {r.outcome}.")
    trad, staged = results
    click.echo(
        f"Leakage reduction (traditional − staged): {trad.leaked_total_ml - staged.leaked_total_ml:+.3f} ml; "
        f"largest volume-balance error {max(float(r.balance_error.max()) for r in results):.1e}."
    )
    if figure_path is not None:
        from kypho.simulate.figures import comparison_figure

        try:
            comparison_figure(results).savefig(figure_path, dpi=200)
        except OSError as exc:
            raise InputFileError(
                f"cannot write the figure to {figure_path}: {exc.strerror or exc}"
            ) from exc
        click.echo(f"Figure: {figure_path}")
    if json_path is not None:
        payload = {"note": _NOTE, "results": [r.summary() for r in results]}
        try:
            json_path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        except OSError as exc:
            raise InputFileError(f"cannot write {json_path}: {exc.strerror or exc}") from exc
        click.echo(f"JSON: {json_path}")


@simulate.command("sensitivity")
@click.option(
    "--n",
    "n",
    type=click.IntRange(4, 4096),
    default=32,
    show_default=True,
    help="Base sample size N (runs: 2 N (d + 2)).",
)
@click.option(
    "--nx",
    type=click.IntRange(8, 200),
    default=28,
    show_default=True,
    help="Cells anteroposterior (coarse: many runs).",
)
@click.option(
    "--courant",
    type=click.FloatRange(min=0.01, max=4.0),
    default=0.125,
    show_default=True,
    help="Time-step control: cells the cement front may advance per step (1/16 of it at the exits).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the index table as CSV.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def sensitivity(n: int, nx: int, courant: float, seed: int, out: Path | None, quiet: bool) -> None:
    """Sobol' indices of the predicted leakage reduction, with its uncertainty band."""
    from kypho import progress as bars
    from kypho.simulate.sensitivity import PARAMETERS
    from kypho.simulate.sensitivity import sensitivity as run

    total = n * (len(PARAMETERS) + 2)
    if quiet:
        bars.configure(enabled=False)
    try:
        with bars.bar("simulating both protocols", total=total, unit="points") as shown:

            def progress(done: int, _total: int) -> None:
                shown.advance()

            result = run(n, nx=nx, courant=courant, seed=seed, progress=progress)
    finally:
        if quiet:
            bars.configure(enabled=None)
    click.echo(_NOTE)
    click.echo(
        f"{result.runs} simulations ({total} sample points × 2 protocols), grid {nx} cells AP."
    )
    mid, lo, hi = result.band()
    click.echo(
        f"Leakage reduction (traditional − staged): median {mid:+.3f} ml, 90% band {lo:+.3f} to {hi:+.3f} ml; "
        f"staging leaks less in {100 * result.probability_staged_better():.0f}% of the sample."
    )
    click.echo(f"{'input':<46} {'range':<16} {'S1':>6} {'95% CI':>15} {'ST':>6} {'95% CI':>15}")
    s = result.indices
    for k, p in enumerate(result.parameters):
        rng = f"{p.low:g}–{p.high:g}" + (" log" if p.log else "")
        click.echo(
            f"{p.label:<46} {rng:<16} {s.first[k]:>6.2f} [{s.first_ci[k, 0]:>5.2f}, {s.first_ci[k, 1]:>5.2f}] "
            f"{s.total[k]:>6.2f} [{s.total_ci[k, 0]:>5.2f}, {s.total_ci[k, 1]:>5.2f}]"
        )
    if out is not None:
        from kypho.output.cells import write_csv

        write_csv(result.to_frame(), out)
        click.echo(f"Table: {out}")
