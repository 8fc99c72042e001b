"""``kypho power``: power and sample size for the next study.

Endpoints come from explicit numbers (``--kind`` with ``--p1/--p2``,
``--mean1/--sd1/--mean2/--sd2`` or ``--grades1/--grades2``), from a summary-table
file of the audit format (``--from-audit``) or from a dataset (``--from-data``).
For each endpoint the command prints the analytic power and the Monte Carlo
power of the analysis's own test at the given sizes, and the size per group for
each target power (with a Monte Carlo check at that size).
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kypho.cli._options import schema_options
from kypho.errors import StatisticsError

if TYPE_CHECKING:
    from kypho.beyond.planning import Endpoint

__all__ = ["power"]

# Show a progress bar when a run simulates at least this many studies in all.
_PROGRESS_FROM = 20_000

_METHODS = ("normal", "continuity", "arcsine", "student", "welch", "whitehead", "noether")
_METHOD_KIND = {
    "normal": "proportions",
    "continuity": "proportions",
    "arcsine": "proportions",
    "student": "means",
    "welch": "means",
    "whitehead": "ordinal",
    "noether": "ordinal",
}


def _numbers(text: str, option: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.replace(";", ",").split(",") if v.strip())
    except ValueError as exc:
        raise StatisticsError(
            f"{option} must be grade counts or proportions separated by commas, lowest grade first (got {text!r})"
        ) from exc
    return values


def _explicit(kind: str | None, options: dict[str, Any]) -> Endpoint:
    from kypho.beyond.planning import Endpoint

    needed = {
        "proportions": ("p1", "p2"),
        "means": ("mean1", "sd1", "mean2", "sd2"),
        "ordinal": ("grades1", "grades2"),
    }
    if kind is None:
        raise StatisticsError(
            "give --kind (proportions, means or ordinal) with its values, or --from-audit FILE, or --from-data FILE"
        )
    missing = [f"--{name}" for name in needed[kind] if options[name] is None]
    if missing:
        raise StatisticsError(f"--kind {kind} needs {', '.join(missing)}")
    if kind == "proportions":
        # The endpoint is named by what was given: it titles the output and the legend.
        return Endpoint(
            f"Proportions {options['p1']:g} vs {options['p2']:g}",
            "proportions",
            (options["p1"],),
            (options["p2"],),
        )
    if kind == "means":
        return Endpoint(
            f"Means {options['mean1']:g} ± {options['sd1']:g} vs "
            f"{options['mean2']:g} ± {options['sd2']:g}",
            "means",
            (options["mean1"], options["sd1"]),
            (options["mean2"], options["sd2"]),
        )
    g1 = _numbers(options["grades1"], "--grades1")
    g2 = _numbers(options["grades2"], "--grades2")
    if len(g1) != len(g2) or len(g1) < 2 or min(g1 + g2) < 0 or not sum(g1) or not sum(g2):
        raise StatisticsError(
            "--grades1 and --grades2 must list the same number (at least 2) of non-negative "
            f"counts or proportions (got {options['grades1']!r} and {options['grades2']!r})"
        )
    return Endpoint(
        f"Grades {options['grades1']} vs {options['grades2']}",
        "ordinal",
        tuple(v / sum(g1) for v in g1),
        tuple(v / sum(g2) for v in g2),
    )


def _from_data(path: Path, options: dict[str, Any]) -> list[Endpoint]:
    """Endpoints observed among the accepted, eligible patients of a data file.

    The study is the one ``--schema`` names (the built-in one without), its
    endpoints those of the plan's ``beyond: power:`` section (``--plan``).
    """
    from kypho.beyond.planning import endpoints_from_data
    from kypho.cli._options import load_schema_files
    from kypho.cli.analyze import _load_plan
    from kypho.eligibility import screen
    from kypho.io import read_table
    from kypho.measures import derive
    from kypho.validation import validate

    schema = load_schema_files(options["schema_files"], options["extensions"])
    plan = _load_plan(options["plan_file"], schema)
    result = validate(read_table(path), schema)
    data = derive(result.data, schema)
    included = screen(data, schema).included.to_numpy(dtype=bool)
    click.echo(
        f"{path.name}: {result.n_read} records read, {result.n_rejected} rejected by validation "
        f"(see kypho validate), {int(included.sum())} eligible patients used."
    )
    # Groups by their labels, as the report names them (not the codes in the data).
    labels = schema[schema.group_column].levels
    return [
        replace(
            e, groups=(labels.get(e.groups[0], e.groups[0]), labels.get(e.groups[1], e.groups[1]))
        )
        for e in endpoints_from_data(data[included], schema, plan)
    ]


def _from_audit(path: Path) -> list[Endpoint]:
    from kypho.audit import load_summary_tables
    from kypho.beyond.planning import endpoints_from_summary

    return endpoints_from_summary(load_summary_tables(path))


def _select(endpoints: list[Endpoint], tables: tuple[int, ...], row: str | None) -> list[Endpoint]:
    chosen = endpoints
    if tables:
        prefixes = tuple(f"Table {t}:" for t in tables)
        chosen = [e for e in chosen if e.label.startswith(prefixes)]
    if row:
        chosen = [e for e in chosen if row.lower() in e.label.lower()]
    return chosen


def _used(tests: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in tests.items())


@click.command("power")
@click.option(
    "--kind",
    type=click.Choice(["proportions", "means", "ordinal"]),
    help="Endpoint kind for explicit inputs.",
)
@click.option("--p1", type=float, help="Proportion in group 1 (e.g. 0.164).")
@click.option("--p2", type=float, help="Proportion in group 2 (e.g. 0.036).")
@click.option("--mean1", type=float, help="Mean of group 1.")
@click.option("--sd1", type=float, help="SD of group 1.")
@click.option("--mean2", type=float, help="Mean of group 2.")
@click.option("--sd2", type=float, help="SD of group 2.")
@click.option("--grades1", help="Grade counts or proportions of group 1, e.g. '4,7,10,34'.")
@click.option("--grades2", help="Grade counts or proportions of group 2, e.g. '11,18,14,12'.")
@click.option(
    "--from-audit",
    "audit_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Summary-table YAML of the audit format: one endpoint per comparable row.",
)
@click.option(
    "--from-data",
    "data_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A study data file (CSV, .xlsx, .sav): endpoints observed in it.",
)
@schema_options
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --from-data: the analysis plan whose 'beyond: power:' section names the "
    "endpoints (a whole plan for a --schema study).",
)
@click.option(
    "--table", "tables", type=int, multiple=True, help="Only rows of this table (repeatable)."
)
@click.option("--row", help="Only endpoints whose label contains this text.")
@click.option(
    "--n",
    "sizes",
    type=click.IntRange(min=2),
    multiple=True,
    help="Patients in group 1 at which to compute power (repeatable; default: observed n, else 55).",
)
@click.option(
    "--power",
    "targets",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    multiple=True,
    help="Target power for the sample size (repeatable; default 0.8).",
)
@click.option(
    "--ratio", type=float, default=1.0, show_default=True, help="Group 2 size / group 1 size."
)
@click.option(
    "--alpha",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Two-sided significance level.",
)
@click.option(
    "--method",
    type=click.Choice(_METHODS),
    help="Analytic formula (default: normal / student or welch / whitehead).",
)
@click.option(
    "--sims",
    type=click.IntRange(min=0),
    default=2000,
    show_default=True,
    help="Simulated studies per Monte Carlo estimate (0: analytic only).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the simulations.")
@click.option(
    "--figure",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a power-curve figure (PNG, SVG or PDF by extension).",
)
def power(**options: Any) -> None:
    """Power and sample size for the next study.

    \b
    Examples:
      kypho power --kind proportions --p1 0.164 --p2 0.036 --n 55 --power 0.8 --power 0.9
      kypho power --kind ordinal --grades1 4,7,10,34 --grades2 11,18,14,12
      kypho power --from-audit tables.yaml --table 7 --figure power.png
    """
    from kypho.beyond.planning import plot_power_curves

    endpoints = _endpoints(options)
    method = options["method"]
    ratio, alpha, sims, seed = options["ratio"], options["alpha"], options["sims"], options["seed"]
    targets = options["targets"] or (0.8,)
    simulated: dict[str, list[Any]] = {}
    runs = ((len(options["sizes"]) or 1) + len(targets)) * len(endpoints)
    with _Simulator(ratio=ratio, alpha=alpha, sims=sims, seed=seed, runs=runs) as simulator:
        for endpoint in endpoints:
            chosen = method if method and _METHOD_KIND[method] == endpoint.kind else None
            if method and chosen is None:
                click.echo(f"(--method {method} does not apply to {endpoint.kind}; default used)")
            simulated[endpoint.label] = _endpoint_lines(
                endpoint, options["sizes"], targets, chosen, simulator
            )
    if sims:
        click.echo("")
        click.echo(
            f"Simulated: {sims} studies per estimate, seed {seed}; the tests the analysis runs "
            f"('auto' choices included), two-sided α = {alpha:g}."
        )
    if options["figure"] is not None:
        _figure(options, endpoints, simulated, ratio, alpha, targets, plot_power_curves)


def _endpoints(options: dict[str, Any]) -> list[Endpoint]:
    """The endpoints of one run: from the one source given, narrowed by --table/--row."""
    sources = [
        options["kind"] is not None,
        options["audit_file"] is not None,
        options["data_file"] is not None,
    ]
    if sum(sources) > 1:
        raise StatisticsError("give only one of --kind, --from-audit and --from-data")
    if options["audit_file"] is not None:
        endpoints = _from_audit(options["audit_file"])
    elif options["data_file"] is not None:
        endpoints = _from_data(options["data_file"], options)
    else:
        endpoints = [_explicit(options["kind"], options)]
    endpoints = _select(endpoints, options["tables"], options["row"])
    if not endpoints:
        raise StatisticsError("no endpoint left to compute (check --table and --row)")
    return endpoints


class _Simulator:
    """Monte Carlo power at one size, with one progress bar over the whole run.

    The bar is shown only when the run simulates at least ``_PROGRESS_FROM``
    studies in all (``runs`` estimates of ``sims`` studies each).
    """

    def __init__(self, *, ratio: float, alpha: float, sims: int, seed: int, runs: int) -> None:
        self.ratio, self.alpha, self.sims, self.seed = ratio, alpha, sims, seed
        self._bar: Any = None
        if sims and sims * runs >= _PROGRESS_FROM:
            self._bar = click.progressbar(
                length=sims * runs, label="Simulating studies", file=sys.stderr
            )
        self._base = 0

    def __enter__(self) -> _Simulator:
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def _progress(self, done: int, _total: int) -> None:
        if self._bar is not None:
            self._bar.update(self._base + done - self._bar.pos)

    def __call__(self, endpoint: Endpoint, n: int) -> Any:
        from kypho.beyond.planning import simulated_power

        result = simulated_power(
            endpoint,
            n=n,
            ratio=self.ratio,
            alpha=self.alpha,
            sims=self.sims,
            seed=self.seed,
            progress=self._progress,
        )
        self._base += self.sims
        return result


def _endpoint_lines(
    endpoint: Endpoint,
    sizes: tuple[int, ...],
    targets: tuple[float, ...],
    method: str | None,
    simulate: _Simulator,
) -> list[Any]:
    """Print one endpoint's power at each size and the size for each target power.

    Returns the simulated points (for the figure).
    """
    from kypho.beyond.planning import analytic_power

    ratio, alpha, sims = simulate.ratio, simulate.alpha, simulate.sims
    sizes = sizes or ((endpoint.observed_n[0],) if endpoint.observed_n else (55,))
    first = analytic_power(endpoint, n=float(sizes[0]), ratio=ratio, alpha=alpha, method=method)
    click.echo("")
    click.echo(f"{endpoint.label} — {first.endpoint}")
    observed = (
        f" (observed n {endpoint.observed_n[0]}/{endpoint.observed_n[1]})"
        if endpoint.observed_n
        else ""
    )
    click.echo(f"  expected: {endpoint.describe()}{observed}")
    click.echo(
        f"  effect: {first.effect_label} = {first.effect:.4g}; analytic: {first.method} [{first.reference}]"
    )
    header = f"  {'n/group 1':>9} {'n/group 2':>9} {'analytic':>9}"
    if sims:
        header += f" {'simulated ± MC SE':>20}  tests used"
    click.echo(header)
    points = []
    for n in sizes:
        a = analytic_power(endpoint, n=float(n), ratio=ratio, alpha=alpha, method=method)
        line = f"  {n:>9d} {round(ratio * n):>9d} {a.power:>9.3f}"
        if sims:
            s = simulate(endpoint, n)
            points.append(s)
            line += f" {s.power:>11.3f} ± {s.mcse:.3f}  {_used(s.tests_used)}"
        click.echo(line)
    for target in targets:
        try:
            solved = analytic_power(
                endpoint, power_target=target, ratio=ratio, alpha=alpha, method=method
            )
        except StatisticsError as exc:
            click.echo(f"  power {target:g}: {exc}")
            continue
        need = max(2, math.ceil(solved.n1 - 1e-9))
        line = f"  n per group 1 for power {target:g}: {need} (analytic {solved.n1:.2f}; group 2: {math.ceil(ratio * need - 1e-9)})"
        if sims:
            s = simulate(endpoint, need)
            points.append(s)
            line += f"; simulated power at {need}: {s.power:.3f} ± {s.mcse:.3f}"
        click.echo(line)
    return points


def _figure(
    options: dict[str, Any],
    endpoints: list[Endpoint],
    simulated: dict[str, list[Any]],
    ratio: float,
    alpha: float,
    targets: tuple[float, ...],
    plot: Any,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kypho.errors import InputFileError

    points = [p.n1 for ps in simulated.values() for p in ps]
    sizes = list(options["sizes"]) + points + [e.observed_n[0] for e in endpoints if e.observed_n]
    high = max([*sizes, 20]) * 1.5
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plot(
        endpoints,
        sizes=[2, high],
        ratio=ratio,
        alpha=alpha,
        target=targets[0],
        simulated=simulated,
        ax=ax,
    )
    path: Path = options["figure"]
    try:
        fig.savefig(path, dpi=150, bbox_inches="tight")
    except (OSError, ValueError) as exc:
        raise InputFileError(f"cannot write the figure to {str(path)!r}: {exc}") from exc
    finally:
        plt.close(fig)
    click.echo(f"Figure: {path}")
