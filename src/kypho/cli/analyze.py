"""``kypho analyze``: the main job, from a data file to the complete report.

Pipeline: read → validate → derive → screen → analyse → render. Rejected records
are listed in the report's data-quality section and counted on the terminal; the
analysis runs on the accepted, eligible patients. The report is written into a
hidden temporary folder inside ``--out`` and moved into place only once every
file exists; ``MANIFEST.json`` (every file with its SHA-256) is written last, so
a folder without it is not a finished report.

Heavy libraries (pandas, scipy, matplotlib, python-docx) are imported inside the
command, never when the module is imported, so that ``kypho --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import click

from kypho.cli._options import load_schema_files, schema_options
from kypho.errors import DataError, InputFileError

__all__ = ["FORMAT_CHOICES", "analyze"]

# Kept in step with kypho.report.document.FORMATS (a test checks), here so that
# building the command does not import the report machinery.
FORMAT_CHOICES: tuple[str, ...] = ("md", "html", "csv", "tex", "docx")
DEFAULT_COHORT = "cohort.csv"
SYNTHETIC_NOTE = (
    "The bundled default cohort is SYNTHETIC: generated to be consistent with the "
    "published summaries of the paper, not real patients."
)


class _Steps:
    """Numbered step lines with timings on stderr."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total = total
        self.done = 0
        self.quiet = quiet
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        self.done += 1
        if not self.quiet:
            elapsed = time.perf_counter() - self.started
            click.echo(f"[{self.done}/{self.total}] {message} ({elapsed:.1f} s)", err=True)

    def detail(self, message: str) -> None:
        if not self.quiet:
            click.echo(f"      {message}", err=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _default_cohort() -> Path:
    resource = resources.files("kypho.data").joinpath(DEFAULT_COHORT)
    path = Path(str(resource))
    if not path.is_file():
        raise InputFileError(
            f"no INPUT was given and the bundled default cohort kypho/data/{DEFAULT_COHORT} "
            "is not installed; pass a data file: kypho analyze DATA.csv --out DIR"
        )
    return path


def _load_plan(path: Path | None, schema: Any) -> Any:
    from kypho.analysis import load_plan

    if path is None:
        return load_plan()
    from kypho.errors import AnalysisError
    from kypho.safe_yaml import read_yaml_file

    doc = read_yaml_file(path, "analysis plan", AnalysisError)
    # A plan that names its study is a whole plan (of that study's schema); anything
    # else adds tables, rows or timepoints to the built-in plan.
    if isinstance(doc, dict) and "study" in doc:
        if doc["study"] != schema.study:
            raise click.UsageError(
                f"the plan {str(path)!r} is for study {doc['study']!r}, "
                f"but the schema is study {schema.study!r}"
            )
        return load_plan(path)
    return load_plan(extensions=[path])


def _read(
    input_path: Path | None, db_url: str | None, schema: Any, unverified: str | None = None
) -> tuple[Any, str, Callable[[], str | None], str]:
    """Return (raw frame, input name, a call giving its SHA-256 or None, provenance note)."""
    if db_url is not None:
        if input_path is not None:
            raise click.UsageError("give either INPUT or --db, not both")
        from sqlalchemy.engine import make_url

        from kypho.store import Store
        from kypho.store._early import prefetch
        from kypho.store.engine import resolve_url

        # a plain path is a SQLite file, as for `kypho db --url`
        url = resolve_url(db_url)
        note = ""
        # the records read while the store opens (kypho.store._early); the rows
        # verify compares are the rows analysed (one read, one snapshot)
        with prefetch(url) as early:
            early.settle()
            with Store(url, schema=schema) as store:
                check, stored = store._verify(None, keep=True)
                if not check.ok:
                    if not (unverified and unverified.strip()):
                        raise check.refusal(
                            "nothing was analysed",
                            "to analyse anyway, pass --skip-verify REASON (recorded in the "
                            "report's provenance)",
                        )
                    count = len(check.problems)
                    note = (
                        f"The study store did not verify ({count} problem"
                        f"{'' if count == 1 else 's'}); analysed anyway: {unverified.strip()}"
                    )
                raw = store._typed_stored(stored)[0]
        # The report and MANIFEST.json name the store, never its password.
        safe = make_url(url).render_as_string(hide_password=True)
        return raw, f"study store {safe}", lambda: None, note
    from concurrent.futures import ThreadPoolExecutor

    from kypho.io import read_table

    note = ""
    if input_path is None:
        input_path = _default_cohort()
        note = SYNTHETIC_NOTE
    raw = read_table(input_path, schema=schema)
    # The input's SHA-256 is computed after the parse (which keeps every core busy),
    # beside validation (one core): hashlib releases the GIL. The caller waits for it.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kypho-sha256")
    digest = pool.submit(_sha256, input_path)
    pool.shutdown(wait=False)
    return raw, input_path.name, digest.result, note


def _store_files(db_url: str) -> list[Path]:
    """The SQLite file of a store URL (an input: never replaced), else nothing."""
    from kypho.store.engine import resolve_url

    url = resolve_url(db_url)
    prefix = "sqlite:///"
    return [Path(url[len(prefix) :])] if url.startswith(prefix) and len(url) > len(prefix) else []


def _summary_lines(result: Any, screening: Any, validation: Any) -> list[str]:
    from kypho.report.format import format_statistic, p_phrase

    lines = [
        f"records read {validation.n_read}, accepted {validation.n_accepted}, "
        f"rejected {validation.n_rejected}; eligible {screening.flow.included} of "
        f"{screening.flow.screened}",
        "analysed: "
        + ", ".join(
            f"{label} n = {n}"
            for label, n in zip(result.group_labels, result.n_by_group, strict=True)
        ),
    ]
    significant = []
    tested = 0
    for table in result.tables:
        section = ""
        for row in table.rows:
            if row.kind == "section":
                section = row.label
            comparison = row.comparison
            if comparison is None or comparison.p_value is None:
                continue
            tested += 1
            if comparison.p_value < result.alpha:
                # A timepoint row is named by its measure's heading and its time.
                name = f"{section}, {row.label}" if row.timepoint else row.label
                significant.append(
                    f"  Table {table.number}: {name}: {format_statistic(comparison)}, "
                    f"{p_phrase(comparison.p_value)}"
                )
    lines.append(
        f"between-group tests: {tested}; significant at α = {result.alpha:g}: {len(significant)}"
    )
    lines.extend(significant)
    return lines


def _planned(formats: tuple[str, ...], figures: bool) -> list[str]:
    """The top-level names the report will take, checked before the analysis runs."""
    names = ["MANIFEST.json", "data_quality.csv"]
    names += [name for fmt in formats for name in _FILES_BY_FORMAT.get(fmt, ())]
    return names + (["figures/"] if figures else [])


# What each format writes (kypho.report.document.write_report); publishing
# checks the files actually written again, so this only makes refusals early.
_FILES_BY_FORMAT: dict[str, tuple[str, ...]] = {
    "md": ("report.md",),
    "html": ("report.html",),
    "csv": ("tables.csv", "results.csv"),
    "tex": ("tables.tex",),
    "docx": ("report.docx",),
}


@click.command("analyze")
@click.argument(
    "input_path",
    metavar="[INPUT]",
    required=False,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the report (created if needed).",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(FORMAT_CHOICES),
    help="Output format; repeat for several. Default: all of md, html, csv, tex, docx.",
)
@click.option(
    "--no-figures",
    is_flag=True,
    help="No figures anywhere (faster): none drawn, no figures/ folder, none in report.html "
    '(the "Beyond the paper" section included) or report.docx; every table and all the text '
    "are kept, and report.html says in one sentence that figures were left out on request.",
)
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=(
        "A user analysis plan (YAML) adding tables, rows or timepoints to the built-in "
        "plan, or a whole plan (one that names its study, for a --schema study)."
    ),
)
@schema_options
@click.option(
    "--db",
    "db_url",
    help="Read the records from a study store (database URL, or a SQLite file path).",
)
@click.option(
    "--reference-docx",
    "reference_docx",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A Word document (e.g. a journal's template) whose styles report.docx takes.",
)
@click.option(
    "--skip-verify",
    "skip_verify",
    metavar="REASON",
    help="With --db: analyse a store that does not pass `kypho db verify`, for this "
    "reason (written into the report's provenance).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a folder that is not empty and holds no kypho report. kypho still "
    "replaces and deletes only files it wrote itself (listed in its MANIFEST.json), never "
    "the input and never a file of yours: a name clash is refused even with --force.",
)
@click.option(
    "--reliability",
    "reliability_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A CSV of repeated radiograph reads (see `kypho reliability`): adds the "
    "Measurement reliability section to report.html.",
)
@click.option(
    "--mechanism",
    is_flag=True,
    help='Add the "Mechanism" section: the in-silico model of cement perfusion '
    "(kypho simulate) runs the paper's two protocols (see docs/simulate.md). Default: the "
    "plan's mechanism: enabled.",
)
@click.option(
    "--mechanism-sensitivity",
    "mechanism_sensitivity",
    type=click.IntRange(4, 4096),
    metavar="N",
    help="With the Mechanism section, also its Sobol' sensitivity table from a sample of "
    "base size N (2 N (7 + 2) simulations; their cost grows with N and the plan's "
    "sensitivity_grid). Implies --mechanism.",
)
@click.option(
    "--registry",
    is_flag=True,
    help="INPUT is a Parquet registry too large for memory: validate, derive and screen it "
    "in chunks and compute the tables column by column (same tables as without; no "
    '"Beyond the paper" section).',
)
@click.option(
    "--strict",
    is_flag=True,
    help="Reject a whole record for any validation problem (default: flag the field, keep the record).",
)
@click.option(
    "--no-cache",
    "no_cache",
    is_flag=True,
    help="Compute everything again, even for the bundled cohort (whose analysis, figures "
    "and Beyond section are otherwise kept between runs; KYPHO_CACHE=0 does the same).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr or bars.")
def analyze(
    input_path: Path | None,
    out_dir: Path,
    formats: tuple[str, ...],
    no_figures: bool,
    plan_path: Path | None,
    schema_files: tuple[Path, ...],
    extensions: tuple[Path, ...],
    db_url: str | None,
    reference_docx: Path | None,
    skip_verify: str | None,
    force: bool,
    reliability_path: Path | None,
    mechanism: bool,
    mechanism_sensitivity: int | None,
    registry: bool,
    strict: bool,
    no_cache: bool,
    quiet: bool,
) -> None:
    """Validate, screen, derive and analyse INPUT; write the report into --out.

    INPUT is a .csv, .xlsx, .sav or .parquet file of patient records (columns
    named as in the study schema or by their labels). Without INPUT the bundled default
    cohort is analysed (synthetic data). The report holds Tables 1-7 in every
    chosen format, the figures, the methods and results text, and report.html
    with everything in one file; MANIFEST.json is written last.

    kypho replaces only files it wrote itself into --out (those its
    MANIFEST.json lists, unchanged since), never INPUT and never a file of
    yours; a folder that is not empty and holds no kypho report is refused
    unless --force.
    """
    from kypho import progress
    from kypho.output.folder import open_output_folder

    if quiet:
        progress.configure(enabled=False)
    chosen = formats or FORMAT_CHOICES
    inputs = [input_path] if input_path is not None else []
    if db_url is not None:
        inputs += _store_files(db_url)
    if reliability_path is not None:
        inputs.append(reliability_path)
    folder = open_output_folder(out_dir, force=force, inputs=inputs)
    folder.check(_planned(chosen, not no_figures))
    # What the command line asks of the Mechanism section; the plan gives the rest.
    asked: dict[str, Any] = {"enabled": True} if mechanism or mechanism_sensitivity else {}
    if mechanism_sensitivity:
        asked["sensitivity_n"] = mechanism_sensitivity
    if registry:
        _registry(
            input_path,
            folder,
            out_dir,
            plan_path,
            load_schema_files(schema_files, extensions),
            chosen,
            no_figures,
            quiet,
            reference_docx,
            strict=strict,
            mechanism=asked,
        )
        return
    steps = _Steps(7, quiet)
    # The bundled cohort with the built-in schema and plan is the same on every run:
    # its analysis, figures and Beyond section are cached (kypho.cache).
    bundled = (
        input_path is None
        and db_url is None
        and plan_path is None
        and not schema_files
        and not extensions
        and not no_cache
    )
    done = _cached_analysis(steps, strict) if bundled else None
    beyond = None
    if done is None:
        done, beyond = _analyse(
            steps,
            input_path,
            db_url,
            (schema_files, extensions),
            plan_path,
            skip_verify=skip_verify,
            strict=strict,
            # The Beyond section (report.html only) starts as soon as the data are screened.
            beyond=_Early(not no_figures, bundled) if "html" in chosen else None,
        )
        if bundled:
            _keep_analysis(done, strict)
    _report(
        folder,
        out_dir,
        done.result,
        done.plan,
        done.schema,
        done.validation,
        done.screening,
        done.included,
        (done.input_name, done.digest, done.note),
        chosen,
        no_figures,
        reliability_path,
        steps,
        reference_docx,
        cache_key=done.digest if bundled else None,
        mechanism=asked,
        beyond=beyond,
    )


@dataclass(frozen=True)
class _Early:
    """How to start the Beyond section early: with figures or not; kept in the cache or not."""

    figures: bool
    cached: bool


@dataclass(frozen=True)
class _Analysed:
    """Everything the report is made from: read, validated, derived, screened, analysed."""

    schema: Any
    plan: Any
    input_name: str
    digest: str | None
    note: str
    validation: Any
    screening: Any
    included: Any
    result: Any


def _analyse(
    steps: _Steps,
    input_path: Path | None,
    db_url: str | None,
    schema_sources: tuple[tuple[Path, ...], tuple[Path, ...]],
    plan_path: Path | None,
    *,
    skip_verify: str | None,
    strict: bool,
    beyond: _Early | None = None,
) -> tuple[_Analysed, Any]:
    """Steps 1-5: read, validate, derive, screen and analyse.

    Returns the analysis and, when ``beyond`` asks for it, the "Beyond the paper"
    section started right after screening (:func:`kypho.report.document.start_beyond`):
    its worker process computes it while this one analyses and writes the files.
    """
    from kypho import progress
    from kypho.io._early import early_parse

    source = input_path or ("study store" if db_url else "the bundled default cohort")
    steps(f"reading {source}")
    schema = load_schema_files(*schema_sources)
    with contextlib.ExitStack() as reading:
        reading.enter_context(
            progress.bar(f"reading {getattr(source, 'name', source)}", ticking=True)
        )
        if input_path is not None:
            # Arrow parses a CSV input with every core while pandas and the rest load;
            # read_table takes the parsed table or reads the file itself (kypho.io._early)
            reading.enter_context(early_parse(input_path, schema, threads=True))
        raw, input_name, hashed, note = _read(input_path, db_url, schema, skip_verify)

    from kypho.analysis import analyze as run_analysis
    from kypho.eligibility import screen
    from kypho.measures import derive
    from kypho.validation import validate

    steps(f"validating {len(raw)} records")
    with progress.bar(f"validating {len(raw):,} records", ticking=True):
        validation = validate(raw, schema, strict=strict)
    digest = hashed()
    # The frame as read (its text columns ~0.5 GB at 10⁶ patients) is not needed again.
    del raw
    _warn(validation, steps)
    if validation.n_read == 0:
        raise DataError(
            f"{input_name} holds no records (a header only?), so there is nothing to analyse"
        )
    if validation.n_accepted == 0:
        first = "; ".join(str(m) for m in list(validation.problems["message"])[:3])
        raise DataError(
            f"no record of {input_name} passed validation ({validation.n_rejected} rejected), "
            f"so there is nothing to analyse; first problems: {first}"
        )
    steps("deriving measures")
    with progress.bar("deriving measures", ticking=True):
        derived = derive(validation.data, schema)
    steps("screening eligibility")
    with progress.bar("screening eligibility", ticking=True):
        screening = screen(derived, schema)
    included = derived[screening.included.to_numpy()]
    if len(included) == 0:
        raise DataError(
            f"none of the {screening.flow.screened} accepted records meets the eligibility "
            "criteria, so there is nothing to analyse"
        )
    steps("analysing")
    plan = _load_plan(plan_path, schema)
    pending = None
    if beyond is not None:
        from kypho.report.document import start_beyond

        key = digest if beyond.cached else None
        pending = start_beyond(included, schema, plan=plan, figures=beyond.figures, cache_key=key)
    try:
        with progress.bar("analysing the plan's tables", ticking=True):
            result = run_analysis(included, schema, plan)
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    done = _Analysed(
        schema, plan, input_name, digest, note, validation, screening, included, result
    )
    return done, pending


def _warn(validation: Any, steps: _Steps) -> None:
    if validation.n_flagged:
        click.echo(
            f"warning: {validation.n_flagged} field(s) of kept records flagged and set missing "
            "(listed in the report's data-quality section and data_quality.csv)",
            err=True,
        )
    if validation.n_rejected:
        click.echo(
            f"warning: {validation.n_rejected} of {validation.n_read} records rejected "
            "(listed in the report's data-quality section and data_quality.csv)",
            err=True,
        )
        for message in list(validation.problems["message"])[:5]:
            steps.detail(str(message))


def _analysis_key(strict: bool) -> tuple[str, str]:
    """(the bundled cohort's SHA-256, the cache key of its analysis)."""
    digest = _sha256(_default_cohort())
    return digest, f"{digest}\0strict={strict}"


def _cached_analysis(steps: _Steps, strict: bool) -> _Analysed | None:
    """The bundled cohort's steps 1-5 as kept by an earlier run, or None.

    The entry is a pickle that kypho itself wrote into the user's own cache
    folder (:mod:`kypho.cache`), under a key over the cohort's SHA-256 and every
    kypho file and library version, so it holds what this very code computes.
    """
    from kypho import cache

    digest, key = _analysis_key(strict)
    files = cache.load("analysis", key)
    if files is None or "analysis.pickle" not in files:
        return None
    import pickle

    try:
        done = pickle.loads(files["analysis.pickle"])
    except Exception:  # an unreadable entry (damaged, older classes) means computing again
        return None
    if not isinstance(done, _Analysed) or done.digest != digest:
        return None
    kept = "kept from an earlier run of the same cohort and kypho (--no-cache: compute again)"
    steps(f"reading the bundled default cohort: {kept}")
    steps(f"validating {done.validation.n_read} records: kept")
    _warn(done.validation, steps)
    steps("deriving measures: kept")
    steps("screening eligibility: kept")
    steps("analysing: kept")
    return done


def _keep_analysis(done: _Analysed, strict: bool) -> None:
    import pickle

    from kypho import cache

    _, key = _analysis_key(strict)
    cache.store("analysis", key, {"analysis.pickle": pickle.dumps(done, protocol=5)})


def _registry(
    input_path: Path | None,
    folder: Any,
    out_dir: Path,
    plan_path: Path | None,
    schema: Any,
    chosen: tuple[str, ...],
    no_figures: bool,
    quiet: bool,
    reference_docx: Path | None = None,
    *,
    strict: bool = False,
    mechanism: dict[str, Any] | None = None,
) -> None:
    """``--registry``: the chunked, column-at-a-time path of :mod:`kypho.registry`."""
    if input_path is None or input_path.suffix.lower() != ".parquet":
        raise click.UsageError(
            "--registry needs a .parquet INPUT (e.g. from kypho synth --out FILE.parquet)"
        )
    from kypho.analysis import load_plan
    from kypho.registry import analyze_registry

    steps = _Steps(4, quiet)
    steps(f"reading, validating, deriving and screening {input_path} in chunks")
    plan = load_plan(extensions=[plan_path] if plan_path is not None else ())
    done = analyze_registry(
        input_path,
        schema,
        plan,
        on_stage=lambda: steps("analysing, column by column"),
        strict=strict,
        workers=None,
    )
    if done.validation.n_flagged:
        click.echo(
            f"warning: {done.validation.n_flagged} field(s) of kept records flagged and set "
            "missing (listed in the report's data-quality section and data_quality.csv)",
            err=True,
        )
    if done.validation.n_rejected:
        click.echo(
            f"warning: {done.validation.n_rejected} of {done.validation.n_read} records rejected "
            "(listed in the report's data-quality section and data_quality.csv)",
            err=True,
        )
    _report(
        folder,
        out_dir,
        done.result,
        plan,
        schema,
        done.validation,
        done.screening,
        None,
        (input_path.name, _sha256(input_path), ""),
        chosen,
        no_figures,
        None,
        steps,
        reference_docx,
        mechanism=mechanism,
    )


def _report(
    folder: Any,
    out_dir: Path,
    result: Any,
    plan: Any,
    schema: Any,
    validation: Any,
    screening: Any,
    included: Any,
    source: tuple[str, str | None, str],
    chosen: tuple[str, ...],
    no_figures: bool,
    reliability_path: Path | None,
    steps: _Steps,
    reference_docx: Path | None = None,
    *,
    cache_key: str | None = None,
    mechanism: dict[str, Any] | None = None,
    beyond: Any = None,
) -> None:
    """Write the report into a staging folder, publish it, print the summary.

    ``beyond`` is the Beyond section if :func:`_analyse` started it (else the
    report starts it); it is stopped if anything fails before it is collected.
    """
    from kypho.output.folder import publish, staging_folder

    input_name, digest, note = source
    from kypho.report.document import Provenance, manifest, write_report

    provenance = Provenance(
        input_name=input_name,
        input_sha256=digest,
        created=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        plan_source=plan.source,
        schema_study=schema.study,
        note=note,
    )
    try:
        sections = _reliability_sections(reliability_path, schema, plan, not no_figures)
        sections += _mechanism_sections(plan, mechanism or {}, not no_figures, steps)
    except BaseException:
        if beyond is not None:
            beyond.cancel()
        raise
    with staging_folder(folder) as staging:
        steps("writing the report" + ("" if no_figures else " and figures"))
        files = write_report(
            staging,
            result,
            provenance=provenance,
            formats=chosen,
            figures=not no_figures,
            validation=validation,
            screening=screening,
            data=included,
            schema=schema,
            title=schema.title or "Study report",
            progress=steps.detail,
            reference_docx=reference_docx,
            sections=sections,
            cache_key=cache_key,
            plan=plan,
            beyond=beyond,
        )
        summary = {
            "n_read": validation.n_read,
            "n_accepted": validation.n_accepted,
            "n_rejected": validation.n_rejected,
            "n_included": screening.flow.included,
            "n_by_group": dict(zip(result.groups, result.n_by_group, strict=True)),
            "formats": list(chosen),
            "figures": not no_figures,
        }
        text = manifest(files, staging, provenance, summary)
        steps("publishing")
        publish(folder, staging, text)
    echo: Callable[[str], None] = click.echo
    for line in _summary_lines(result, screening, validation):
        echo(line)
    target = out_dir / ("report.html" if "html" in chosen else "")
    echo(f"report: {target}")


def _mechanism_sections(
    plan: Any, asked: dict[str, Any], figures: bool, steps: _Steps
) -> list[Any]:
    """The "Mechanism" section when the plan or the command line asks for it (else none).

    Nothing of kypho.simulate is imported unless the section is asked for.
    """
    if not asked and not plan.mechanism.get("enabled", False):
        return []
    from kypho import progress
    from kypho.report.mechanism import cached_section, mechanism_settings, sensitivity_points

    settings = mechanism_settings(plan.mechanism, source=plan.source, **asked)
    if not settings.enabled:
        return []
    steps.detail("Mechanism section: running the in-silico model (kypho.simulate)")
    total = sensitivity_points(settings)
    with progress.bar(
        "Mechanism: simulating", total=total or None, unit="points", ticking=not total
    ) as shown:
        section = cached_section(
            settings, figure=figures, progress=lambda done, _total: shown.advance()
        )
    return [section]


def _reliability_sections(
    path: Path | None, schema: Any, plan: Any, figures: bool = True
) -> list[Any]:
    """The report's "Measurement reliability" section from a reads CSV (none without one).

    Its Bland–Altman plots are drawn only when the report has figures.
    """
    if path is None:
        return []
    import pandas as pd

    from kypho.radiograph.agreement import reliability
    from kypho.radiograph.report import SECTION_ID, SECTION_TITLE, reliability_section

    try:
        reads = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"cannot read the reads file {path}: {exc}") from exc
    confidence = float(plan.confidence)
    fragment, drawn = reliability_section(
        reliability(reads, schema=schema, confidence=confidence),
        confidence=confidence,
        figures=figures,
    )
    return [(SECTION_ID, SECTION_TITLE, fragment, drawn)]
