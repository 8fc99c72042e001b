"""The whole report: every table in every format, the figures, the text, one HTML file.

:func:`write_report` writes into a directory the files named in its docstring.
The HTML report is self-contained (styles inline, figures as inline SVG or base64
PNG) so it opens offline in any browser and can be mailed as one file.

The "Beyond the paper" hook
---------------------------
If the package :mod:`kypho.beyond` is importable and has a callable
``report_section(data, schema) -> (html_fragment, figures[, captions])``, the HTML
report includes a "Beyond the paper" section with ``html_fragment`` (trusted HTML
made by kypho itself) and each figure of ``figures`` (``{file name: bytes}``; names
ending in ``.svg`` are inlined, ``.png`` embedded as base64), captioned by
``captions`` (``{file name: caption}``; the file name where none is given). ``data`` is the analysed
(included, derived) data and ``schema`` the study schema. A report without figures
(``write_report(..., figures=False)``, ``kypho analyze --no-figures``) calls
``report_section(data, schema, ..., figures=False)`` when the function takes a
``figures`` keyword, and keeps none of the figures of one that does not (the
older signature still works). Without the package or
the function the section is left out; an error inside it is reported in the
section rather than losing the rest of the report. The hook runs in a second
(forked) process beside the figures and files where the platform allows, so it
must be a module-level function and return picklable values.
"""

from __future__ import annotations

import base64
import html
import importlib
import importlib.util
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from kypho.analysis.model import AnalysisResult
from kypho.output.cells import write_csv
from kypho.output.markup import markdown_escape
from kypho.report._fork import Forked, can_fork
from kypho.report.figure_plan import FLOW_NAME, DrawnFigures, draw_figures
from kypho.report.format import Grid, layout, number_style
from kypho.report.render import (
    TABLE_CSS,
    latex_document,
    to_csv,
    to_html,
    to_latex,
    to_markdown,
)
from kypho.report.sections import ReportSection, SectionFigure, section_html, section_markdown
from kypho.report.text import flow_text, methods_text, results_text, software_versions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from kypho.analysis.plan import Plan
    from kypho.eligibility import Flow, Screening
    from kypho.schema import Schema
    from kypho.validate import ValidationResult

__all__ = [
    "FORMATS",
    "NO_FIGURES",
    "PendingBeyond",
    "Provenance",
    "beyond_section",
    "build_figures",
    "start_beyond",
    "write_report",
]

FORMATS: tuple[str, ...] = ("md", "html", "csv", "tex", "docx")

Progress = Callable[[str], None]

NO_FIGURES = (
    "Figures were left out on request (--no-figures); every table and all the text are complete."
)
"""The one sentence of ``report.html`` made without figures (``kypho analyze --no-figures``)."""


@dataclass(frozen=True)
class Provenance:
    """Where the numbers came from: input file and its hash, software, date, plan."""

    input_name: str
    input_sha256: str | None
    created: str
    versions: Mapping[str, str] = field(default_factory=software_versions)
    plan_source: str = ""
    schema_study: str = ""
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain mapping, for MANIFEST.json."""
        return {
            "input": self.input_name,
            "input_sha256": self.input_sha256,
            "created": self.created,
            "versions": dict(self.versions),
            "plan": self.plan_source,
            "study": self.schema_study,
            "note": self.note,
        }


def build_figures(result: AnalysisResult, flow: Flow | None = None) -> dict[str, Figure]:
    """The report's figures by file stem: the patient flow and those the plan declares.

    A declared figure that cannot be drawn is left out here; :func:`draw_figures`
    returns the note saying why, which :func:`write_report` prints.
    """
    return {
        made.name: made.figure
        for made in draw_figures(result, flow).figures
        if made.figure is not None
    }


def _inline_svg(text: str) -> str:
    # Inline SVG in HTML starts at the <svg> element: no XML declaration or DOCTYPE.
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def _beyond_hook() -> Callable[[pd.DataFrame, Schema], Any] | None:
    try:
        module = importlib.import_module("kypho.beyond")
    except ImportError:
        return None
    hook = getattr(module, "report_section", None)
    return hook if callable(hook) else None


Beyond = tuple[str, dict[str, bytes], dict[str, str]]
"""The Beyond section: HTML fragment, figures by file name, captions by file name."""


def _takes_figures(hook: Callable[..., Any]) -> bool:
    """Whether the hook accepts ``figures=`` (older hooks take only data, schema, plan)."""
    import inspect

    try:
        parameters = inspect.signature(hook).parameters.values()
    except (TypeError, ValueError):  # no signature to read (a builtin, say)
        return False
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name == "figures" and p.kind is not inspect.Parameter.POSITIONAL_ONLY)
        for p in parameters
    )


def _run_hook(
    hook: Callable[..., Any],
    data: pd.DataFrame,
    schema: Schema,
    p_style: str = "leading-zero",
    plan: Plan | None = None,
    figures: bool = True,
) -> Beyond:
    # The analysis plan (its beyond: section) reaches the hook when given, and
    # figures=False when no figure is wanted (only to a hook that takes it).
    options: dict[str, Any] = {} if plan is None else {"plan": plan}
    if not figures and _takes_figures(hook):
        options["figures"] = False
    try:
        with number_style(p_style):
            value = tuple(hook(data, schema, **options))
        fragment, drawn = value[0], value[1]
        captions = dict(value[2]) if len(value) > 2 else {}
    except Exception as exc:  # an optional section must not sink the report
        return (
            f"<p>The section could not be computed: {html.escape(type(exc).__name__)}: "
            f"{html.escape(str(exc))}</p>",
            {},
            {},
        )
    if not figures:  # "no figures" holds for a hook that draws them anyway
        return str(fragment), {}, {}
    return str(fragment), dict(drawn), {str(k): str(v) for k, v in captions.items()}


def beyond_section(
    data: pd.DataFrame | None, schema: Schema | None, *, figures: bool = True
) -> Beyond | None:
    """Call ``kypho.beyond.report_section`` if it exists (see the module docstring).

    With ``figures=False`` the section comes without figures (its tables and text
    are the same).
    """
    hook = _beyond_hook()
    if hook is None or data is None or schema is None:
        return None
    return _run_hook(hook, data, schema, figures=figures)


class PendingBeyond:
    """The "Beyond the paper" section on its way: computed in a worker, or ready.

    Calling it (or :meth:`collect`) waits for the section and returns it, once
    computed; :meth:`cancel` stops a worker whose section is no longer wanted (a
    report that failed, or one without ``report.html``).
    """

    def __init__(
        self, collect: Callable[[], Beyond | None], cancel: Callable[[], None] | None = None
    ) -> None:
        self._collect = collect
        self._cancel = cancel
        self._done = False
        self._value: Beyond | None = None

    def collect(self) -> Beyond | None:
        """The section (``None`` without the hook), waiting for the worker if need be."""
        if not self._done:
            self._value = self._collect()
            self._done = True
            self._cancel = None
        return self._value

    __call__ = collect

    def cancel(self) -> None:
        """Stop the worker, if one still runs; the section is not collected."""
        cancel, self._cancel = self._cancel, None
        if cancel is not None and not self._done:
            cancel()


def _start_beyond(
    data: pd.DataFrame | None,
    schema: Schema | None,
    p_style: str = "leading-zero",
    plan: Plan | None = None,
    figures: bool = True,
) -> PendingBeyond:
    """Start the Beyond section in a second process; the result waits for it when called.

    The section (simulations, model fits) takes as long as the rest of the report,
    so on a machine with two cores it runs beside the analysis, figures and files.
    The worker is forked (:class:`kypho.report._fork.Forked`): it inherits the
    data (nothing is pickled through a pipe but the section it returns) and
    imports :mod:`kypho.beyond` and its libraries itself, so this process does not
    wait for that import either. Where a worker process cannot be used (no fork,
    one core), it runs in this process when collected; so it does if the worker
    fails for any reason but the hook's own (whose errors are part of the section).
    """
    if data is None or schema is None or importlib.util.find_spec("kypho.beyond") is None:
        return PendingBeyond(lambda: None)
    arguments = (data, schema, p_style, plan, figures)
    if not can_fork():
        return PendingBeyond(lambda: _beyond_here(*arguments))
    worker = Forked(_beyond_here, *arguments, name="kypho-beyond")
    return PendingBeyond(worker.result, worker.cancel)


def _beyond_here(
    data: pd.DataFrame, schema: Schema, p_style: str, plan: Plan | None, figures: bool = True
) -> Beyond | None:
    hook = _beyond_hook()
    return None if hook is None else _run_hook(hook, data, schema, p_style, plan, figures)


def _embed(name: str, payload: bytes, caption: str = "") -> str:
    # A figure of the Beyond section is captioned by the section (its caption
    # mapping); the file name is only the fallback of a hook that gives none.
    text = html.escape(caption or name)
    if name.endswith(".svg"):
        svg = _inline_svg(payload.decode("utf-8"))
        return f"<figure>{svg}<figcaption>{text}</figcaption></figure>"
    encoded = base64.b64encode(payload).decode("ascii")
    return (
        f'<figure><img alt="{text}" src="data:image/png;base64,{encoded}">'
        f"<figcaption>{text}</figcaption></figure>"
    )


_PAGE_CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 68em; margin: 2em auto; padding: 0 1.5em; color: #111; line-height: 1.45; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; } figure img { max-width: 100%; }
figcaption { font-size: 0.85em; color: #333; }
table.plain, table.beyond { border-collapse: collapse; font-size: 0.88em; margin: 0.5em 0; }
table.plain td, table.plain th, table.beyond td, table.beyond th { padding: 0.15em 0.8em; text-align: left; border-bottom: 1px solid #ddd; }
table.beyond caption { caption-side: top; text-align: left; font-weight: bold; }
.note { background: #fff8e1; border-left: 4px solid #E69F00; padding: 0.5em 1em; }
code { font-size: 0.9em; }
"""


def _quality_html(
    validation: ValidationResult | None,
    screening: Screening | None,
    schema: Schema | None = None,
) -> str:
    esc = html.escape
    if validation is None:
        return "<p>No validation result was given.</p>"
    parts = [
        '<table class="plain"><tbody>',
        f"<tr><td>Records read</td><td>{validation.n_read}</td></tr>",
        f"<tr><td>Accepted</td><td>{validation.n_accepted}</td></tr>",
        f"<tr><td>Rejected</td><td>{validation.n_rejected}</td></tr>",
        "<tr><td>Fields flagged (set missing, record kept)</td>"
        f"<td>{getattr(validation, 'n_flagged', 0)}</td></tr>",
    ]
    unknown = list(validation.unknown_columns)
    if unknown:
        parts.append(
            f"<tr><td>Unknown columns (ignored)</td><td>{esc(', '.join(unknown))}</td></tr>"
        )
    parts.append("</tbody></table>")
    problems = validation.problems
    if len(problems):
        shown = problems.head(200)
        parts.append(
            f'<h3>Problems ({len(problems)})</h3><table class="plain"><thead><tr><th>Row</th><th>Record</th><th>Field</th><th>Message</th><th>Action</th></tr></thead><tbody>'
        )
        actions = {"flagged": "field set missing", "rejected": "record rejected"}
        for rec in shown.itertuples(index=False):
            action = actions.get(str(getattr(rec, "action", "rejected")), "")
            parts.append(
                f"<tr><td>{esc(str(rec.row))}</td><td>{esc(str(rec.record))}</td>"
                f"<td>{esc(str(rec.field))}</td><td>{esc(str(rec.message))}</td>"
                f"<td>{esc(action)}</td></tr>"
            )
        parts.append("</tbody></table>")
        if len(problems) > len(shown):
            parts.append(f"<p>… and {len(problems) - len(shown)} more (see data_quality.csv).</p>")
    missing = validation.missing

    def named(column: object) -> str:
        # The reader knows a column by its label ("VAS score, 48 h after operation"),
        # the data manager by its name in the file: both.
        if schema is not None and str(column) in schema.variables:
            return f"{schema[str(column)].label} ({column})"
        return str(column)

    if missing is not None:
        accepted = int(validation.n_accepted)
        # Columns nobody filled in (optional landmarks, say) are one line, not one row each.
        partial = missing[(missing > 0) & (missing < accepted)]
        absent = [named(k) for k, v in missing.items() if accepted and v >= accepted]
        if len(partial):
            parts.append(
                '<h3>Missing values among accepted records</h3><table class="plain">'
                "<thead><tr><th>Variable</th><th>Missing</th></tr></thead><tbody>"
            )
            parts.extend(
                f"<tr><td>{esc(named(k))}</td><td>{int(v)} of {accepted}</td></tr>"
                for k, v in partial.items()
            )
            parts.append("</tbody></table>")
        elif not absent:
            parts.append("<p>No missing values among accepted records.</p>")
        if absent:
            parts.append(
                f"<p>Not recorded for any accepted record ({len(absent)} column(s)): "
                f"{esc(', '.join(absent))}.</p>"
            )
    data = validation.data
    if schema is not None and data is not None:
        not_given = [v.name for v in schema.input_variables if v.name not in data.columns]
        if not_given:
            parts.append(
                f"<p>Schema columns not in the input ({len(not_given)}): "
                f"{esc(', '.join(not_given))}.</p>"
            )
    if screening is not None:
        flow = screening.flow
        parts.append(
            f"<p>Eligibility: {flow.screened} screened, {flow.excluded} excluded, "
            f"{flow.included} included.</p>"
        )
        if flow.not_assessed:
            names = "; ".join(flow.labels.get(key, key) for key in flow.not_assessed)
            parts.append(f"<p>Criteria not assessed (column absent): {esc(names)}.</p>")
    return "\n".join(parts)


def _figure_html(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


Section = tuple[str, str, str, Mapping[str, bytes]]
"""An HTML-only section: id, title, trusted HTML fragment, figures by file name."""


@dataclass(frozen=True)
class _Report:
    """What the report's formats print, prepared once: text, tables and their context."""

    title: str
    result: AnalysisResult
    provenance: Provenance
    grids: list[Grid]
    methods: str
    results: Mapping[int, str]
    intro: str
    validation: ValidationResult | None
    screening: Screening | None
    schema: Schema | None
    sections: Sequence[Section | ReportSection]
    figures: bool = True


@dataclass
class _Figures:
    """The drawn figures: their plan, SVG text for the HTML and PNG files for Word."""

    drawn: DrawnFigures | None = None
    svgs: dict[str, str] = field(default_factory=dict)
    pngs: dict[str, Path] = field(default_factory=dict)


def _report_html(report: _Report, figures: _Figures, beyond: Beyond | None) -> str:
    esc = html.escape
    result, provenance, drawn = report.result, report.provenance, figures.drawn
    body = [f"<h1>{esc(report.title)}</h1>"]
    if provenance.note:
        body.append(f'<p class="note">{esc(provenance.note)}</p>')
    if not report.figures:
        body.append(f'<p class="note">{NO_FIGURES}</p>')
    body.append('<h2 id="flow">Patients</h2>')
    flow = drawn.flow if drawn is not None else None
    if flow is not None and flow.name in figures.svgs:
        body.append(_figure_html(figures.svgs[flow.name], flow.full_caption))
    groups = ", ".join(
        f"{label}: n = {n}" for label, n in zip(result.group_labels, result.n_by_group, strict=True)
    )
    body.append(f"<p>Analysed: {esc(groups)}.</p>")
    body.append('<h2 id="quality">Data quality</h2>')
    body.append(_quality_html(report.validation, report.screening, report.schema))
    body.append('<h2 id="methods">Statistical methods</h2>')
    body.append(f"<p>{esc(report.methods)}</p>")
    body.append('<h2 id="results">Results</h2>')
    if report.intro:
        body.append(f"<p>{esc(report.intro)}</p>")
    for grid in report.grids:
        paragraph = report.results.get(grid.number)
        if paragraph:
            body.append(f"<p>{esc(paragraph)}</p>")
        body.append(to_html(grid, table_id=f"table{grid.number}"))
        for made in drawn.after(grid.number) if drawn is not None else []:
            if made.name in figures.svgs:
                body.append(_figure_html(figures.svgs[made.name], made.full_caption))
    if drawn is not None and drawn.notes:
        body.extend(f'<p class="note">{esc(note)}</p>' for note in drawn.notes)
    if beyond is not None:
        fragment, extra, captions = beyond
        body.append('<h2 id="beyond">Beyond the paper</h2>')
        body.append(fragment)
        body.extend(
            _embed(name, payload, captions.get(name, "")) for name, payload in extra.items()
        )
    for section in report.sections:
        if isinstance(section, ReportSection):
            body.append(f'<h2 id="{esc(section.id)}">{esc(section.title)}</h2>')
            body.append(section_html(section))
            continue
        section_id, section_title, fragment, section_figures = section
        body.append(f'<h2 id="{esc(section_id)}">{esc(section_title)}</h2>')
        body.append(fragment)
        body.extend(_embed(name, payload) for name, payload in section_figures.items())
    body.append(_provenance_html(provenance))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(report.title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_PAGE_CSS}{TABLE_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _provenance_html(provenance: Provenance) -> str:
    esc = html.escape
    rows = [
        ("Input", provenance.input_name),
        ("Input SHA-256", provenance.input_sha256 or "—"),
        ("Created (UTC)", provenance.created),
        ("Analysis plan", provenance.plan_source),
        ("Study schema", provenance.schema_study),
        *((f"{name} version", version) for name, version in provenance.versions.items()),
    ]
    return "\n".join(
        [
            '<h2 id="provenance">Provenance</h2>',
            '<table class="plain"><tbody>',
            *(f"<tr><td>{esc(k)}</td><td><code>{esc(v)}</code></td></tr>" for k, v in rows),
            "</tbody></table>",
        ]
    )


def write_report(
    directory: str | Path,
    result: AnalysisResult,
    *,
    provenance: Provenance,
    formats: Sequence[str] = FORMATS,
    figures: bool = True,
    validation: ValidationResult | None = None,
    screening: Screening | None = None,
    data: pd.DataFrame | None = None,
    schema: Schema | None = None,
    title: str = "Study report",
    progress: Progress | None = None,
    reference_docx: str | Path | None = None,
    sections: Sequence[Section | ReportSection] = (),
    cache_key: str | None = None,
    plan: Plan | None = None,
    beyond: PendingBeyond | None = None,
) -> list[Path]:
    """Write the report into ``directory`` (created if needed); return the files written.

    Files, by format: ``md`` → ``report.md``; ``html`` → ``report.html``; ``csv`` →
    ``tables.csv`` (the printed tables) and ``results.csv`` (every number, one line
    per table row and group); ``tex`` → ``tables.tex``; ``docx`` → ``report.docx``
    (all tables, then methods and results text). With ``figures``: ``figures/*.png``
    and ``figures/*.svg``. Always: ``data_quality.csv`` when validation found
    problems.

    Parameters
    ----------
    directory
        Target folder.
    result
        The analysis.
    provenance
        Input hash, versions and date, printed in the HTML report.
    formats
        Any of ``md``, ``html``, ``csv``, ``tex``, ``docx``.
    figures
        Whether to draw the figures. Without them there is no figure anywhere: no
        ``figures/`` folder, none in ``report.html`` (the "Beyond the paper"
        section's tables and text are kept, its figures not drawn) or
        ``report.docx``, and ``report.html`` says so in one sentence.
    validation, screening, data, schema
        The validation result and screening (data-quality and flow sections), and
        the analysed data and schema (for the "Beyond the paper" hook).
    title
        Report title.
    progress
        Called with a short message before each step.
    reference_docx
        A Word document whose styles (and page setup) ``report.docx`` takes.
    sections
        More sections of the HTML report, after "Beyond the paper": ``(id, title,
        html_fragment, {figure name: bytes})``, the fragment trusted HTML made by
        kypho (e.g. :func:`kypho.radiograph.report.reliability_section`); or a
        :class:`~kypho.report.sections.ReportSection`, which also goes into
        ``report.md`` and ``report.docx`` after the tables, its figures into
        ``figures/`` (e.g. :func:`kypho.report.mechanism.mechanism_section`).
    cache_key
        For the bundled cohort only: the key under which the figures and the
        Beyond section are kept between runs (:mod:`kypho.cache`).
    plan
        The analysis plan, passed to the Beyond hook (its ``beyond:`` section).
    beyond
        The Beyond section as started by :func:`start_beyond` (with the same data,
        schema, plan, figures and cache key); without it the section is started
        here. It is collected for ``report.html``, and stopped when there is none
        or writing fails.

    Raises
    ------
    AnalysisError
        If a format is not one of :data:`FORMATS`.
    """
    from kypho.errors import AnalysisError

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise AnalysisError(
            f"unknown report format(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(FORMATS)}"
        )
    options = _Options(
        provenance=provenance,
        formats=tuple(formats),
        figures=figures,
        validation=validation,
        screening=screening,
        data=data,
        schema=schema,
        title=title,
        progress=progress,
        reference_docx=reference_docx,
        sections=tuple(sections) if figures else tuple(_without_figures(s) for s in sections),
        cache_key=cache_key,
        plan=plan,
        beyond=beyond,
    )
    with number_style(result.p_style):
        return _write_report(Path(directory), result, options)


def _without_figures(section: Section | ReportSection) -> Section | ReportSection:
    """A section as a report without figures shows it: its text and tables only."""
    if isinstance(section, ReportSection):
        blocks = tuple(b for b in section.blocks if not isinstance(b, SectionFigure))
        return ReportSection(section.id, section.title, blocks)
    section_id, section_title, fragment, _figures = section
    return (section_id, section_title, fragment, {})


@dataclass(frozen=True)
class _Options:
    """The keyword options of :func:`write_report`, as given."""

    provenance: Provenance
    formats: tuple[str, ...]
    figures: bool
    validation: ValidationResult | None
    screening: Screening | None
    data: pd.DataFrame | None
    schema: Schema | None
    title: str
    progress: Progress | None
    reference_docx: str | Path | None
    sections: tuple[Section | ReportSection, ...]
    cache_key: str | None
    plan: Plan | None
    beyond: PendingBeyond | None


def _write_report(target: Path, result: AnalysisResult, options: _Options) -> list[Path]:
    given = options.beyond
    if "html" not in options.formats:
        if given is not None:
            given.cancel()  # no report.html, so no section
        return _write_files(target, result, options, None)
    # Started first (unless the caller started it before the analysis): the Beyond
    # section is computed while the figures and files are made.
    pending = given or _pending_beyond(
        options.data,
        options.schema,
        result.p_style,
        options.plan,
        options.cache_key,
        options.figures,
    )
    try:
        return _write_files(target, result, options, pending)
    finally:
        pending.cancel()  # a report that failed does not wait for its section


def _write_files(
    target: Path, result: AnalysisResult, options: _Options, pending_beyond: PendingBeyond | None
) -> list[Path]:
    formats, screening, cache_key = options.formats, options.screening, options.cache_key
    say = options.progress or (lambda message: None)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    flow = screening.flow if screening is not None else None
    report = _Report(
        title=options.title,
        result=result,
        provenance=options.provenance,
        grids=[layout(table, alpha=result.alpha) for table in result.tables],
        methods=methods_text(result, options.provenance.versions),
        results=results_text(result),
        intro=flow_text(flow, result, 1 if options.figures else None) if flow is not None else "",
        validation=options.validation,
        screening=screening,
        schema=options.schema,
        sections=options.sections,
        figures=options.figures,
    )
    drawn = _Figures()
    if options.figures:
        say("drawing figures")
        drawn = _figures(target, result, flow, "html" in formats, cache_key, say, written)
    written += _section_figures(target, options.sections)
    if "md" in formats:
        say("writing Markdown")
        written.append(_write(target / "report.md", _markdown(report)))
    if "csv" in formats:
        say("writing CSV")
        written.append(_write(target / "tables.csv", "\n".join(to_csv(g) for g in report.grids)))
        written.append(write_csv(result.to_frame(), target / "results.csv"))
    if "tex" in formats:
        say("writing LaTeX")
        latex = latex_document((to_latex(g) for g in report.grids), options.title)
        written.append(_write(target / "tables.tex", latex))
    if "docx" in formats:
        say("writing Word")
        written.append(_docx(report, drawn, target / "report.docx", options.reference_docx))
    if pending_beyond is not None:
        say("writing HTML report (with the Beyond-the-paper section if kypho.beyond has one)")
        page = _report_html(report, drawn, pending_beyond())
        written.append(_write(target / "report.html", page))
    problems = options.validation.problems if options.validation is not None else None
    if problems is not None and len(problems):
        written.append(write_csv(problems, target / "data_quality.csv"))
    return written


def _pending_beyond(
    data: pd.DataFrame | None,
    schema: Schema | None,
    p_style: str,
    plan: Plan | None,
    cache_key: str | None,
    figures: bool = True,
) -> PendingBeyond:
    """The Beyond section, to collect later: from the cache, or computed (and then kept)."""
    from kypho import cache

    # The bundled cohort's figures and Beyond section are the same on every run;
    # the section without figures is kept apart from the one with them.
    if cache_key and not figures:
        cache_key += "\0figures=False"
    cached = cache.load("beyond", cache_key) if cache_key else None
    if cached is not None:
        fragment = cached.pop("fragment.html").decode("utf-8")
        captions = json.loads(cached.pop("captions.json", b"{}").decode("utf-8"))
        kept = dict(cached)
        return PendingBeyond(lambda: (fragment, kept, captions))
    started = _start_beyond(data, schema, p_style, plan, figures)

    def collect_and_keep() -> Beyond | None:
        beyond = started.collect()
        if beyond is not None and cache_key:
            cache.store(
                "beyond",
                cache_key,
                {
                    "fragment.html": beyond[0].encode("utf-8"),
                    "captions.json": json.dumps(beyond[2]).encode("utf-8"),
                    **beyond[1],
                },
            )
        return beyond

    return PendingBeyond(collect_and_keep, started.cancel)


def start_beyond(
    data: pd.DataFrame,
    schema: Schema,
    *,
    plan: Plan | None = None,
    figures: bool = True,
    cache_key: str | None = None,
) -> PendingBeyond:
    """Start the "Beyond the paper" section now, for :func:`write_report` to collect.

    :func:`write_report` starts the section itself; a caller that has the analysed
    data before the analysis (``kypho analyze``, after screening) starts it here,
    so that the section's worker runs beside the analysis too, and passes the
    result as ``write_report(..., beyond=...)``.

    Parameters
    ----------
    data, schema
        The analysed (included, derived) data and the study schema.
    plan
        The analysis plan (its ``beyond:`` section and ``p_style``).
    figures
        Whether the section draws its figures (``figures=`` of :func:`write_report`).
    cache_key
        As for :func:`write_report` (the bundled cohort only).
    """
    p_style = plan.p_style if plan is not None else "leading-zero"
    return _pending_beyond(data, schema, p_style, plan, cache_key, figures)


def _figures(
    target: Path,
    result: AnalysisResult,
    flow: Flow | None,
    svg: bool,
    cache_key: str | None,
    say: Progress,
    written: list[Path],
) -> _Figures:
    """Draw (or take from the cache) and save the figures; their files go into ``written``."""
    from kypho import cache

    cached = cache.load("figures", cache_key) if cache_key else None
    if cached is not None and "figures.json" in cached:
        made = _Figures(DrawnFigures.from_json(cached.pop("figures.json").decode("utf-8")))
        (target / "figures").mkdir(parents=True, exist_ok=True)
        for file_name, payload in cached.items():
            path = target / "figures" / file_name
            path.write_bytes(payload)
            written.append(path)
            stem = file_name.rsplit(".", 1)[0]
            if file_name.endswith(".png"):
                made.pngs[stem] = path
            elif file_name.endswith(".svg") and svg:
                made.svgs[stem] = _inline_svg(payload.decode("utf-8"))
        return made
    made, stored = _draw_and_save(target, result, flow, svg, say, written)
    if cache_key and made.drawn is not None:
        cache.store("figures", cache_key, {**stored, "figures.json": made.drawn.to_json().encode()})
    return made


def _draw_and_save(
    target: Path,
    result: AnalysisResult,
    flow: Flow | None,
    svg: bool,
    say: Progress,
    written: list[Path],
) -> tuple[_Figures, dict[str, bytes]]:
    """Draw the plan's figures and save each as PNG and SVG (the flow diagram also as PDF)."""
    from kypho import progress as bars
    from kypho.report.figures import save_figure

    with bars.bar("drawing figures", ticking=True):
        drawn = draw_figures(result, flow)
    for note in drawn.notes:
        say(note)
    made = _Figures(drawn)
    stored: dict[str, bytes] = {}
    with bars.bar("saving figures (PNG, SVG)", total=len(drawn.figures), unit="figures") as shown:
        for figure in drawn.figures:
            assert figure.figure is not None  # just drawn
            # The flow diagram also as PDF, the vector file journals ask for.
            paths = save_figure(
                figure.figure, target / "figures", figure.name, pdf=figure.name == FLOW_NAME
            )
            written += paths
            made.pngs[figure.name] = paths[0]
            stored.update((path.name, path.read_bytes()) for path in paths)
            if svg:
                made.svgs[figure.name] = _inline_svg(paths[1].read_text(encoding="utf-8"))
            shown.advance()
    return made, stored


def _markdown(report: _Report) -> str:
    text = [f"# {markdown_escape(report.title)}", ""]
    if report.provenance.note:
        text += [f"> {markdown_escape(report.provenance.note)}", ""]
    text += ["## Statistical methods", "", markdown_escape(report.methods), "", "## Results", ""]
    if report.intro:
        text += [markdown_escape(report.intro), ""]
    for grid in report.grids:
        paragraph = report.results.get(grid.number)
        if paragraph:
            text += [markdown_escape(paragraph), ""]
        text += [to_markdown(grid), ""]
    text += [section_markdown(s) for s in report.sections if isinstance(s, ReportSection)]
    return "\n".join(text)


def _docx(report: _Report, figures: _Figures, path: Path, reference: str | Path | None) -> Path:
    from kypho.report.word import DocxFigure, write_docx

    drawn = figures.drawn.figures if figures.drawn is not None else ()
    return write_docx(
        report.grids,
        path,
        title=report.title,
        note=report.provenance.note,
        paragraphs=[("Statistical methods", report.methods)],
        results={
            g.number: report.results[g.number] for g in report.grids if g.number in report.results
        },
        results_intro=report.intro,
        figures=[
            DocxFigure(figures.pngs[made.name], made.width_in, made.full_caption, made.after_table)
            for made in drawn
            if made.name in figures.pngs
        ],
        reference=reference,
        sections=[s for s in report.sections if isinstance(s, ReportSection)],
    )


def _section_figures(target: Path, sections: Sequence[Section | ReportSection]) -> list[Path]:
    """Write each :class:`ReportSection` figure as ``figures/<name>.png`` and ``.svg``."""
    paths: list[Path] = []
    for section in sections:
        if not isinstance(section, ReportSection):
            continue
        for figure in section.figures:
            (target / "figures").mkdir(parents=True, exist_ok=True)
            for suffix, payload in ((".png", figure.png), (".svg", figure.svg)):
                path = target / "figures" / f"{figure.name}{suffix}"
                path.write_bytes(payload)
                paths.append(path)
    return paths


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def manifest(
    files: Sequence[Path], root: Path, provenance: Provenance, summary: Mapping[str, Any]
) -> str:
    """MANIFEST.json text: provenance, key results and every file with its SHA-256."""
    import hashlib

    entries = []
    for path in sorted(files):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        entries.append(
            {
                "path": path.relative_to(root).as_posix(),
                "sha256": digest,
                "bytes": path.stat().st_size,
            }
        )
    return json.dumps(
        {
            "complete": True,
            "provenance": provenance.as_dict(),
            "summary": dict(summary),
            "files": entries,
        },
        indent=2,
        ensure_ascii=False,
    )
