"""The report's figures as the analysis plan declares them, and drawing them.

The plan (``figures:`` in ``kypho/data/analysis.yaml``) names each figure's file,
its kind, the table and measure or variables it draws, and its caption; nothing
here names a study variable. :func:`draw_figures` draws the patient flow (always
Figure 1 when a screening is given) and then every declared figure, numbered in
order. A declared figure that cannot be drawn (its table does not show the
measure, say) is not dropped silently: it is left out with a note saying why,
which the report prints where the figure would have been.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kypho.analysis.model import AnalysisResult
from kypho.errors import AnalysisError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from kypho.eligibility import Flow

__all__ = ["FLOW_NAME", "DrawnFigures", "FigureSpec", "MadeFigure", "draw_figures", "figure_specs"]

FLOW_NAME = "figure0_flow"
FLOW_CAPTION = (
    "Flow of patients through the study (STROBE): patients screened, excluded with "
    "the reason for exclusion, included, by group, and analysed, with the values "
    "missing per variable."
)
_KINDS = ("measure", "measures", "grades", "counts")
_KEYS = frozenset(["name", "kind", "table", "measure", "panels", "variable", "variables"])
_KEYS_ALL = _KEYS | {"caption", "title"}


@dataclass(frozen=True)
class FigureSpec:
    """One declared figure.

    Attributes
    ----------
    name
        File stem (``figures/<name>.png`` and ``.svg``).
    kind
        ``"measure"``, ``"measures"``, ``"grades"`` or ``"counts"`` (see the plan).
    caption
        Caption text, ``{confidence}`` not yet filled in.
    panels
        ``(table number, measure)`` per panel (``measure`` and ``measures``).
    table
        The table of a ``grades`` or ``counts`` figure.
    variables
        The ordinal variable (``grades``) or the counted variables (``counts``).
    title
        Axes title of a ``counts`` figure.
    """

    name: str
    kind: str
    caption: str
    panels: tuple[tuple[int, str], ...] = ()
    table: int | None = None
    variables: tuple[str, ...] = ()
    title: str = ""

    @property
    def after_table(self) -> int:
        """The last table the figure draws from: the report places it after that table."""
        numbers = [number for number, _ in self.panels]
        if self.table is not None:
            numbers.append(self.table)
        return max(numbers)


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise AnalysisError(f"{where}: a table number must be a whole number (got {value!r})")
    return value


def figure_specs(declared: Sequence[Mapping[str, Any]], source: str = "plan") -> list[FigureSpec]:
    """Read and check the plan's ``figures`` entries.

    Raises
    ------
    AnalysisError
        Naming the figure and the key that is missing, unknown or malformed.
    """
    specs: list[FigureSpec] = []
    for i, entry in enumerate(declared, start=1):
        name = str(entry.get("name") or "")
        where = f"{source}: figure {name or i}"
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            raise AnalysisError(
                f"{where}: 'name' must be a file stem of letters, digits, '_' or '-' "
                f"(got {entry.get('name')!r})"
            )
        unknown = sorted(set(entry) - _KEYS_ALL)
        if unknown:
            raise AnalysisError(
                f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS_ALL))}"
            )
        kind = str(entry.get("kind"))
        if kind not in _KINDS:
            raise AnalysisError(
                f"{where}: kind must be one of {', '.join(_KINDS)} (got {entry.get('kind')!r})"
            )
        caption = str(entry.get("caption") or "").strip()
        if not caption:
            raise AnalysisError(f"{where}: needs a caption (the sentence printed under it)")
        title = str(entry.get("title") or "")
        if kind == "measure":
            if "table" not in entry or "measure" not in entry:
                raise AnalysisError(f"{where}: a 'measure' figure needs 'table' and 'measure'")
            one: tuple[tuple[int, str], ...] = (
                (_int(entry["table"], where), str(entry["measure"])),
            )
            specs.append(FigureSpec(name, kind, caption, panels=one, title=title))
        elif kind == "measures":
            raw = entry.get("panels")
            if not isinstance(raw, list) or not raw:
                raise AnalysisError(f"{where}: a 'measures' figure needs a list of panels")
            panels = tuple(
                (_int(p.get("table"), where), str(p.get("measure")))
                for p in raw
                if isinstance(p, Mapping)
            )
            if len(panels) != len(raw):
                raise AnalysisError(f"{where}: each panel must be {{table: N, measure: NAME}}")
            specs.append(FigureSpec(name, kind, caption, panels=panels, title=title))
        else:
            if "table" not in entry:
                raise AnalysisError(f"{where}: a {kind!r} figure needs 'table'")
            key = "variable" if kind == "grades" else "variables"
            value = entry.get(key)
            variables = (
                (str(value),) if kind == "grades" and value else tuple(str(v) for v in value or [])
            )
            if not variables:
                raise AnalysisError(f"{where}: a {kind!r} figure needs {key!r}")
            specs.append(
                FigureSpec(
                    name,
                    kind,
                    caption,
                    table=_int(entry["table"], where),
                    variables=variables,
                    title=title,
                )
            )
    names = [s.name for s in specs]
    if FLOW_NAME in names or len(set(names)) != len(names):
        raise AnalysisError(
            f"{source}: figure names must be unique and not {FLOW_NAME!r} (the patient flow)"
        )
    return specs


@dataclass(frozen=True)
class MadeFigure:
    """A drawn figure with its number and caption.

    ``after_table`` is the table it follows in the report (``None``: the patient flow);
    ``width_in`` its width in inches; ``figure`` is ``None`` for a figure restored
    from the report cache (:meth:`DrawnFigures.from_json`), whose files exist already.
    """

    name: str
    number: int
    caption: str
    figure: Figure | None
    after_table: int | None = None
    width_in: float = 0.0

    @property
    def full_caption(self) -> str:
        """``"Figure 2. VAS score over time by group (mean with 95% CI)."``"""
        return f"Figure {self.number}. {self.caption}"


@dataclass(frozen=True)
class DrawnFigures:
    """The figures drawn, in order, and a note per declared figure left out."""

    figures: tuple[MadeFigure, ...]
    notes: tuple[str, ...] = ()

    def after(self, table: int) -> list[MadeFigure]:
        """The figures placed after table ``table``."""
        return [f for f in self.figures if f.after_table == table]

    @property
    def flow(self) -> MadeFigure | None:
        """The patient-flow figure, if drawn."""
        return next((f for f in self.figures if f.name == FLOW_NAME), None)

    def to_json(self) -> str:
        """Names, numbers, captions, places and widths (not the figures), for the cache."""
        import json

        return json.dumps(
            {
                "figures": [
                    {
                        "name": f.name,
                        "number": f.number,
                        "caption": f.caption,
                        "after_table": f.after_table,
                        "width_in": f.width_in,
                    }
                    for f in self.figures
                ],
                "left_out": list(self.notes),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> DrawnFigures:
        """The record :meth:`to_json` wrote, with ``figure=None`` throughout."""
        import json

        doc = json.loads(text)
        return cls(
            tuple(
                MadeFigure(
                    str(f["name"]),
                    int(f["number"]),
                    str(f["caption"]),
                    None,
                    None if f["after_table"] is None else int(f["after_table"]),
                    float(f["width_in"]),
                )
                for f in doc["figures"]
            ),
            tuple(str(n) for n in doc["left_out"]),
        )


def missing_by_group(result: AnalysisResult) -> dict[str, list[tuple[str, int]]]:
    """Per group code, ``(variable as the reader knows it, patients without a value)``.

    Read from the tables, so it counts exactly what the analysis lacked: a
    timepoint row is named by its measure and timepoint ("VAS score, 48 h after
    operation"); a variable shown in two tables is counted once.
    """
    missing: dict[str, list[tuple[str, int]]] = {code: [] for code in result.groups}
    seen: set[tuple[str | None, str | None]] = set()
    for table in result.tables:
        section = ""
        for row in table.rows:
            if row.kind == "section":
                section = row.label.split(" (")[0]
                continue
            if row.kind == "level" or not row.any_missing:
                continue
            key = (row.variable, row.timepoint)
            if key in seen:
                continue
            seen.add(key)
            name = row.label.split(" (")[0]
            if row.timepoint and section:
                name = f"{section}, {name[:1].lower() + name[1:]}"
            for code, cell in zip(result.groups, row.cells, strict=True):
                if cell.n_missing:
                    missing[code].append((name, int(cell.n_missing)))
    return missing


def _draw(spec: FigureSpec, result: AnalysisResult) -> Any:
    from kypho.report import figures as fig

    if spec.kind == "measure":
        number, measure = spec.panels[0]
        return fig.plot_measure(result.table(number), measure, confidence=result.confidence)
    if spec.kind == "measures":
        return fig.plot_radiographic(result, spec.panels)
    assert spec.table is not None  # figure_specs requires it for grades and counts
    table = result.table(spec.table)
    if spec.kind == "grades":
        return fig.plot_grades(table, spec.variables[0])
    return fig.plot_leakage(table, spec.variables, title=spec.title or None)


def draw_figures(result: AnalysisResult, flow: Flow | None = None) -> DrawnFigures:
    """Draw the patient flow and every figure the plan declares.

    Parameters
    ----------
    result
        The analysis (its ``figures`` are the plan's declarations).
    flow
        The screening's flow counts; ``None`` leaves the flow diagram out.

    Returns
    -------
    DrawnFigures
        The figures numbered from 1 (the flow first) and a note for each
        declared figure that could not be drawn, naming it and why.

    Raises
    ------
    AnalysisError
        If a declaration is malformed (see :func:`figure_specs`).
    """
    from matplotlib.figure import Figure

    from kypho.report.figures import plot_flow

    made: list[MadeFigure] = []
    notes: list[str] = []
    if flow is not None:
        labels = dict(zip(result.groups, result.group_labels, strict=True))
        ax = plot_flow(flow, group_labels=labels, missing=missing_by_group(result))
        figure = ax.get_figure()
        if isinstance(figure, Figure):
            made.append(MadeFigure(FLOW_NAME, 1, FLOW_CAPTION, figure, None, figure.get_figwidth()))
    level = f"{100 * result.confidence:g}%"
    for spec in figure_specs(result.figures, result.plan_source or "plan"):
        try:
            drawn = _draw(spec, result)
        except (KeyError, AnalysisError) as exc:
            reason = exc.args[0] if exc.args else str(exc)
            notes.append(f"Figure {spec.name!r} of the plan was not drawn: {reason}.")
            continue
        first = drawn[0] if isinstance(drawn, list) else drawn
        figure = first.get_figure()
        if isinstance(figure, Figure):
            made.append(
                MadeFigure(
                    spec.name,
                    len(made) + 1,
                    spec.caption.replace("{confidence}", level),
                    figure,
                    spec.after_table,
                    figure.get_figwidth(),
                )
            )
    return DrawnFigures(tuple(made), tuple(notes))
