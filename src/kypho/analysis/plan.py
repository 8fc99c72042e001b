"""The analysis plan as declared data: tables, rows, timepoints and tests.

The built-in plan (``kypho/data/analysis.yaml``) is the paper's; a user plan file
may change the options and add tables, rows or timepoints (see the comments at the
top of that file). :func:`load_plan` reads and merges them; :meth:`Plan.check`
verifies every name against a :class:`~kypho.schema.Schema` so that a mistake in a
plan is reported before any statistic is computed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from kypho.errors import AnalysisError
from kypho.safe_yaml import MAX_BYTES, load_yaml
from kypho.schema import Schema, Variable

__all__ = ["BeyondSpec", "Plan", "RowSpec", "TableSpec", "load_plan"]

RowKind = Literal["n", "section", "variable", "measure"]
TestName = Literal["t", "anova", "chi-square", "mann-whitney", "none"]
_TESTS: tuple[str, ...] = ("t", "anova", "chi-square", "mann-whitney", "none")
_DISPLAYS: tuple[str, ...] = ("ratio", "levels", "yes-no", "any", "count", "mean")
_ROW_KEYS = frozenset(
    ["kind", "label", "variable", "measure", "test", "display", "baseline", "timepoints"]
)
_TABLE_KEYS = frozenset(["number", "title", "smd", "rows", "footnotes"])
_PLAN_KEYS = frozenset(
    [
        "study",
        "alpha",
        "confidence",
        "t_prime",
        "within",
        "tables",
        "add_rows",
        "extend_timepoints",
        "figures",
        "p_style",
        "beyond",
        "mechanism",
    ]
)
_T_PRIMES = ("welch", "cochran-cox")
P_STYLES: tuple[str, ...] = ("leading-zero", "apa")
"""How P values print: ``"leading-zero"`` (P < 0.001, 0.048) or ``"apa"`` (P < .001, .048)."""
_WITHIN = ("paired-t",)


@dataclass(frozen=True)
class RowSpec:
    """One declared row (or block of rows) of a table.

    Attributes
    ----------
    kind
        ``"n"`` (patients per group), ``"section"`` (a heading), ``"variable"`` (one
        schema variable) or ``"measure"`` (a repeated measure over timepoints).
    name
        The variable or measure name; ``None`` for ``n`` and ``section`` rows.
    label
        Row label; ``None`` takes the schema's label.
    test
        Between-group test; ``None`` takes the default for the variable's type.
    display
        How a variable is shown (see ``analysis.yaml``); ``None`` for the default.
    baseline, timepoints
        For a measure: the reference timepoint of the within-group comparisons, and
        the timepoints shown (``None``: every timepoint of the measure in the schema).
    """

    kind: RowKind
    name: str | None = None
    label: str | None = None
    test: str | None = None
    display: str | None = None
    baseline: str | None = None
    timepoints: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableSpec:
    """One declared table: number, title, rows, and whether it shows SMDs."""

    number: int
    title: str
    rows: tuple[RowSpec, ...]
    smd: bool = False
    footnotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """The whole analysis plan.

    Attributes
    ----------
    tables
        The tables in order of their numbers.
    alpha
        Significance level of every two-sided test (and of the F test that chooses
        between Student's t and t′).
    confidence
        Level of every confidence interval.
    t_prime
        ``"welch"`` or ``"cochran-cox"``: the t′ used when variances differ.
    within
        Within-group comparison against baseline (``"paired-t"``).
    source
        Where the plan came from, for the report's provenance block.
    figures
        The report's figures as declared (mappings; :mod:`kypho.report.figure_plan`
        reads and checks them).
    p_style
        How P values print, one of :data:`P_STYLES`.
    mechanism
        The report's optional "Mechanism" section as declared (a mapping;
        :mod:`kypho.report.mechanism` reads and checks it).
    """

    tables: tuple[TableSpec, ...]
    alpha: float = 0.05
    confidence: float = 0.95
    t_prime: str = "welch"
    within: str = "paired-t"
    source: str = "kypho/data/analysis.yaml"
    figures: tuple[Mapping[str, Any], ...] = ()
    p_style: str = "leading-zero"
    beyond: BeyondSpec = field(default_factory=lambda: BeyondSpec())
    mechanism: Mapping[str, Any] = field(default_factory=dict)

    def table(self, number: int) -> TableSpec:
        """The table with this number."""
        for spec in self.tables:
            if spec.number == number:
                return spec
        numbers = ", ".join(str(t.number) for t in self.tables)
        raise AnalysisError(f"the plan has no table {number}; its tables are {numbers}")

    def check(self, schema: Schema) -> None:
        """Check every variable, measure, timepoint and test against ``schema``.

        Raises
        ------
        AnalysisError
            Naming the table, the row and what is wrong.
        """
        for table in self.tables:
            for row in table.rows:
                _check_row(table.number, row, schema)
        self.beyond.check(schema)


def load_plan(
    path: str | Path | None = None,
    *,
    extensions: Iterable[str | Path | Mapping[str, Any]] = (),
) -> Plan:
    """Load the analysis plan, with optional user additions.

    Parameters
    ----------
    path
        A complete plan file; ``None`` loads the built-in plan of the paper.
    extensions
        User plan files (or parsed mappings) merged in order: they may set
        ``alpha``, ``confidence``, ``t_prime`` and ``within``, and add ``tables``,
        ``add_rows`` (``[{table: N, rows: [...]}]``) and ``extend_timepoints``
        (``{measure: [timepoint, ...]}``).

    Returns
    -------
    Plan

    Raises
    ------
    AnalysisError
        If a file cannot be read or parsed, or a declaration is malformed.

    Examples
    --------
    >>> plan = load_plan()
    >>> [t.number for t in plan.tables]
    [1, 2, 3, 4, 5, 6, 7]
    >>> plan.alpha
    0.05
    """
    text: str | bytes
    if path is None:
        text = resources.files("kypho.data").joinpath("analysis.yaml").read_text(encoding="utf-8")
        source = "kypho/data/analysis.yaml"
    else:
        text = _read(Path(path))
        source = str(path)
    doc = _parse(text, source)
    sources = [source]
    for ext in extensions:
        if isinstance(ext, Mapping):
            ext_doc = copy.deepcopy(dict(ext))
            _check_shape(ext_doc, "plan extension")
            _merge(doc, ext_doc, "plan extension")
            sources.append("plan extension")
        else:
            _merge(doc, _parse(_read(Path(ext)), str(ext)), str(ext))
            sources.append(str(ext))
    return _build(doc, " + ".join(sources))


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise AnalysisError(
                f"cannot read analysis plan {str(path)!r}: larger than {MAX_BYTES:,} bytes"
            )
        return path.read_bytes()
    except OSError as exc:
        raise AnalysisError(f"cannot read analysis plan {str(path)!r}: {exc.strerror}") from exc


def _parse(text: str | bytes, source: str) -> dict[str, Any]:
    doc = load_yaml(text, source, AnalysisError)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise AnalysisError(f"{source}: an analysis plan must be a YAML mapping")
    _check_shape(doc, source)
    return doc


def _check_shape(doc: Mapping[str, Any], source: str) -> None:
    """Name the first value of the wrong kind (a list for a mapping, say) by its place."""
    unknown = sorted(set(map(str, doc)) - _PLAN_KEYS)
    if unknown:
        raise AnalysisError(
            f"{source}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_PLAN_KEYS))}"
        )
    for key in ("t_prime", "within"):
        if key in doc and not isinstance(doc[key], str):
            raise AnalysisError(f"{source}: {key} must be a word (got {_short(doc[key])})")
    for key in ("tables", "add_rows"):
        entries = doc.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise AnalysisError(f"{source}: {key} must be a list (got {_short(entries)})")
        for i, entry in enumerate(entries, start=1):
            where = f"{source}: {key}[{i}]"
            if not isinstance(entry, dict):
                raise AnalysisError(f"{where} must be a mapping (got {_short(entry)})")
            number = entry.get("number" if key == "tables" else "table")
            if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
                raise AnalysisError(
                    f"{where}: the table number must be a whole number (got {_short(number)})"
                )
            rows = entry.get("rows")
            if rows is not None and not isinstance(rows, list):
                raise AnalysisError(f"{where}: rows must be a list (got {_short(rows)})")
            for j, row in enumerate(rows or [], start=1):
                if not isinstance(row, dict):
                    raise AnalysisError(f"{where}, rows[{j}] must be a mapping (got {_short(row)})")
                for name, value in row.items():
                    allowed_list = name == "timepoints" and isinstance(value, list)
                    if isinstance(value, dict | list) and not allowed_list:
                        raise AnalysisError(
                            f"{where}, rows[{j}], {name} must be a single value (got {_short(value)})"
                        )
                    if allowed_list and not all(isinstance(v, str | int) for v in value):
                        raise AnalysisError(
                            f"{where}, rows[{j}], timepoints must be a list of timepoint names "
                            f"(got {_short(value)})"
                        )
            footnotes = entry.get("footnotes")
            if footnotes is not None and not isinstance(footnotes, list):
                raise AnalysisError(f"{where}: footnotes must be a list (got {_short(footnotes)})")
    extend = doc.get("extend_timepoints")
    if extend is not None:
        if not isinstance(extend, dict):
            raise AnalysisError(
                f"{source}: extend_timepoints must be a mapping of measure to timepoints "
                f"(got {_short(extend)})"
            )
        for measure, tps in extend.items():
            if not isinstance(tps, list) or not all(isinstance(t, str | int) for t in tps):
                raise AnalysisError(
                    f"{source}: extend_timepoints, {measure!r} must be a list of timepoint "
                    f"names (got {_short(tps)})"
                )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _merge(doc: dict[str, Any], ext: dict[str, Any], source: str) -> None:
    if "study" in ext:
        raise AnalysisError(
            f"{source}: a plan that names its study is a whole plan, not an addition to "
            "another; load it as the plan itself"
        )
    for key in ("alpha", "confidence", "t_prime", "within", "p_style"):
        if key in ext:
            doc[key] = ext[key]
    # A user's figure replaces the built-in one of the same name, or is added.
    figures: list[Any] = doc.setdefault("figures", [])
    for figure in ext.get("figures") or []:
        name = figure.get("name") if isinstance(figure, dict) else None
        figures[:] = [f for f in figures if not (isinstance(f, dict) and f.get("name") == name)]
        figures.append(figure)
    if "beyond" in ext:
        if not isinstance(ext["beyond"], dict):
            raise AnalysisError(f"{source}: 'beyond' must be a mapping")
        # A user plan replaces the Beyond settings it names, part by part.
        beyond = doc.setdefault("beyond", {})
        for key, value in ext["beyond"].items():
            if isinstance(value, dict) and isinstance(beyond.get(key), dict):
                beyond[key] = {**beyond[key], **value}
            else:
                beyond[key] = value
    if "mechanism" in ext:
        if not isinstance(ext["mechanism"], dict):
            raise AnalysisError(f"{source}: 'mechanism' must be a mapping")
        # A user plan replaces the Mechanism settings it names.
        doc["mechanism"] = {**(doc.get("mechanism") or {}), **ext["mechanism"]}
    tables: list[dict[str, Any]] = doc.setdefault("tables", [])
    numbers = {t.get("number") for t in tables}
    for table in ext.get("tables") or []:
        if not isinstance(table, dict):
            raise AnalysisError(f"{source}: each entry of 'tables' must be a mapping")
        if table.get("number") in numbers:
            raise AnalysisError(
                f"{source}: table {table.get('number')} already exists; "
                "use add_rows to add rows to it, or give the new table an unused number"
            )
        numbers.add(table.get("number"))
        tables.append(table)
    for add in ext.get("add_rows") or []:
        if not isinstance(add, dict) or "table" not in add:
            raise AnalysisError(f"{source}: each add_rows entry needs 'table' and 'rows'")
        target = next((t for t in tables if t.get("number") == add["table"]), None)
        if target is None:
            raise AnalysisError(
                f"{source}: add_rows names table {add['table']!r}, which the plan does not have; "
                f"its tables are {', '.join(str(t.get('number')) for t in tables)}"
            )
        target.setdefault("rows", []).extend(add.get("rows") or [])
    for measure, tps in (ext.get("extend_timepoints") or {}).items():
        found = False
        for table in tables:
            for row in table.get("rows") or []:
                if isinstance(row, dict) and row.get("measure") == measure:
                    found = True
                    if row.get("timepoints") is not None:
                        row["timepoints"] = [*row["timepoints"], *tps]
                    else:
                        row["extra_timepoints"] = [*row.get("extra_timepoints", []), *tps]
        if not found:
            raise AnalysisError(
                f"{source}: extend_timepoints names measure {measure!r}, which no table shows"
            )


def _build(doc: dict[str, Any], source: str) -> Plan:
    alpha = _probability(doc.get("alpha", 0.05), "alpha", source)
    confidence = _probability(doc.get("confidence", 0.95), "confidence", source)
    t_prime = str(doc.get("t_prime", "welch"))
    if t_prime not in _T_PRIMES:
        raise AnalysisError(
            f"{source}: t_prime must be one of {', '.join(map(repr, _T_PRIMES))} (got {t_prime!r})"
        )
    within = str(doc.get("within", "paired-t"))
    if within not in _WITHIN:
        raise AnalysisError(
            f"{source}: within must be one of {', '.join(map(repr, _WITHIN))} (got {within!r})"
        )
    p_style = str(doc.get("p_style", "leading-zero"))
    if p_style not in P_STYLES:
        raise AnalysisError(
            f"{source}: p_style must be one of {', '.join(map(repr, P_STYLES))} (got {p_style!r})"
        )
    figures = doc.get("figures") or []
    if not isinstance(figures, list) or not all(isinstance(f, dict) for f in figures):
        raise AnalysisError(f"{source}: 'figures' must be a list of mappings (name, kind, ...)")
    tables = [_table(t, source) for t in doc.get("tables") or []]
    tables.sort(key=lambda t: t.number)
    return Plan(
        tables=tuple(tables),
        alpha=alpha,
        confidence=confidence,
        t_prime=t_prime,
        within=within,
        source=source,
        figures=tuple(dict(f) for f in figures),
        p_style=p_style,
        beyond=_beyond(doc.get("beyond"), source),
        mechanism=_mechanism(doc.get("mechanism"), source),
    )


def _mechanism(spec: object, source: str) -> dict[str, Any]:
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise AnalysisError(
            f"{source}: 'mechanism' must be a mapping of settings (got {_short(spec)})"
        )
    return dict(spec)


def _probability(value: object, name: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise AnalysisError(
            f"{source}: {name} must be a number strictly between 0 and 1 (got {value!r})"
        )
    return float(value)


def _table(spec: object, source: str) -> TableSpec:
    if not isinstance(spec, dict):
        raise AnalysisError(f"{source}: each table must be a mapping (got {spec!r})")
    number = spec.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise AnalysisError(f"{source}: a table number must be a positive integer (got {number!r})")
    unknown = sorted(set(spec) - _TABLE_KEYS)
    if unknown:
        raise AnalysisError(
            f"{source}: table {number} has unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_TABLE_KEYS))}"
        )
    rows = tuple(_row(r, number, source) for r in spec.get("rows") or [])
    if not rows:
        raise AnalysisError(f"{source}: table {number} has no rows")
    return TableSpec(
        number=number,
        title=str(spec.get("title", f"Table {number}")),
        rows=rows,
        smd=bool(spec.get("smd", False)),
        footnotes=tuple(str(f) for f in spec.get("footnotes") or []),
    )


def _row(spec: object, table: int, source: str) -> RowSpec:
    if not isinstance(spec, dict):
        raise AnalysisError(f"{source}: table {table}: each row must be a mapping (got {spec!r})")
    unknown = sorted(set(spec) - _ROW_KEYS - {"extra_timepoints"})
    if unknown:
        raise AnalysisError(
            f"{source}: table {table}: a row has unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_ROW_KEYS))}"
        )
    test = spec.get("test")
    if test is not None and test not in _TESTS:
        raise AnalysisError(
            f"{source}: table {table}: test must be one of {', '.join(map(repr, _TESTS))} "
            f"(got {test!r})"
        )
    display = spec.get("display")
    if display is not None and display not in _DISPLAYS:
        raise AnalysisError(
            f"{source}: table {table}: display must be one of "
            f"{', '.join(map(repr, _DISPLAYS))} (got {display!r})"
        )
    label = None if spec.get("label") is None else str(spec["label"])
    if "measure" in spec:
        tps = spec.get("timepoints")
        extra = spec.get("extra_timepoints") or []
        timepoints: tuple[str, ...] | None = None
        if tps is not None:
            timepoints = tuple(str(t) for t in tps)
        elif extra:
            # "*" stands for the measure's timepoints in the schema, resolved by
            # measure_timepoints once the schema is known.
            timepoints = ("*", *(str(t) for t in extra))
        return RowSpec(
            kind="measure",
            name=str(spec["measure"]),
            label=label,
            test=test,
            baseline=None if spec.get("baseline") is None else str(spec["baseline"]),
            timepoints=timepoints,
        )
    if "variable" in spec:
        return RowSpec(
            kind="variable", name=str(spec["variable"]), label=label, test=test, display=display
        )
    kind = spec.get("kind")
    if kind == "n":
        return RowSpec(kind="n", label=label or "Number")
    if kind == "section":
        if label is None:
            raise AnalysisError(f"{source}: table {table}: a section row needs a label")
        return RowSpec(kind="section", label=label)
    raise AnalysisError(
        f"{source}: table {table}: a row needs 'variable', 'measure' or kind 'n' / 'section' "
        f"(got {spec!r})"
    )


def _check_row(table: int, row: RowSpec, schema: Schema) -> None:
    where = f"table {table}"
    if row.kind == "variable":
        name = str(row.name)
        if name not in schema:
            raise AnalysisError(f"{where}: variable {name!r} is not in the study schema")
        var = schema[name]
        _check_test(where, var, row)
    elif row.kind == "measure":
        name = str(row.name)
        if name not in schema.repeated:
            raise AnalysisError(
                f"{where}: {name!r} is not a repeated measure of the schema; repeated measures "
                f"are {', '.join(sorted(schema.repeated))}"
            )
        declared = schema.repeated[name]
        for tp in measure_timepoints(row, schema):
            if tp not in declared:
                raise AnalysisError(
                    f"{where}: measure {name!r} has no timepoint {tp!r} in the schema; "
                    f"its timepoints are {', '.join(declared)}"
                )
        if row.baseline is not None and row.baseline not in declared:
            raise AnalysisError(
                f"{where}: baseline {row.baseline!r} of measure {name!r} is not one of its "
                f"timepoints ({', '.join(declared)})"
            )
        if row.test not in (None, "t", "none"):
            raise AnalysisError(
                f"{where}: measure {name!r} can use test 't' or 'none' (got {row.test!r})"
            )


def measure_timepoints(row: RowSpec, schema: Schema) -> tuple[str, ...]:
    """The timepoints a measure row shows, resolving a schema-following row."""
    declared = schema.repeated.get(str(row.name), ())
    if row.timepoints is None:
        return tuple(declared)
    if row.timepoints and row.timepoints[0] == "*":
        extra = [t for t in row.timepoints[1:] if t not in declared]
        return (*declared, *extra)
    return row.timepoints


def default_test(var: Variable) -> str:
    """The paper's test for a variable of this type."""
    if var.type in ("number", "integer"):
        return "t"
    if var.type == "ordinal":
        return "mann-whitney"
    if var.type in ("boolean", "category"):
        return "chi-square"
    return "none"


_ALLOWED_TESTS: dict[str, tuple[str, ...]] = {
    "number": ("t", "anova", "mann-whitney", "none"),
    "integer": ("t", "anova", "mann-whitney", "chi-square", "none"),
    "ordinal": ("mann-whitney", "chi-square", "none"),
    "category": ("chi-square", "none"),
    "boolean": ("chi-square", "none"),
}


def _check_test(where: str, var: Variable, row: RowSpec) -> None:
    allowed = _ALLOWED_TESTS.get(var.type)
    if allowed is None:
        raise AnalysisError(
            f"{where}: variable {var.name!r} has type {var.type!r}, which a table cannot show; "
            "allowed types: number, integer, ordinal, category, boolean"
        )
    test = row.test or default_test(var)
    if test not in allowed:
        raise AnalysisError(
            f"{where}: test {test!r} does not apply to {var.type} variable {var.name!r}; "
            f"allowed: {', '.join(map(repr, allowed))}"
        )
    if row.display == "ratio" and (var.type != "category" or len(var.codes) != 2):
        raise AnalysisError(
            f"{where}: display 'ratio' needs a category variable with two levels "
            f"({var.name!r} is {var.type} with {len(var.codes)} level(s))"
        )


@dataclass(frozen=True)
class BeyondSpec:
    """What the "Beyond the paper" analyses (:mod:`kypho.beyond`) model.

    Attributes
    ----------
    trajectories
        Repeated measures fitted by the group × time mixed model, in order.
    covariates
        Baseline variables of the propensity model.
    outcome
        The binary outcome of the propensity analyses (risk difference, odds ratio).
    ordinal_outcome
        The ordinal outcome of the propensity analyses (proportional odds), if any.
    power_proportions, power_ordinal, power_means
        Variables whose observed group difference is planned for as two
        proportions (boolean), two grade distributions (ordinal) or two means.
    power_repeated
        Repeated measures planned for as two means at every timepoint after
        ``baseline``.
    baseline
        The baseline timepoint of ``power_repeated`` (left out of the planning).
    sims
        Simulated studies per Monte Carlo power estimate.
    introduction
        The section's opening paragraph: why these analyses, for this study (the
        limits its paper names); a generic one when empty.
    """

    trajectories: tuple[str, ...] = ()
    covariates: tuple[str, ...] = ()
    outcome: str | None = None
    ordinal_outcome: str | None = None
    power_proportions: tuple[str, ...] = ()
    power_ordinal: tuple[str, ...] = ()
    power_means: tuple[str, ...] = ()
    power_repeated: tuple[str, ...] = ()
    baseline: str | None = None
    sims: int = 2000
    introduction: str = ""

    def check(self, schema: Schema) -> None:
        """Every name against ``schema``; raises :class:`AnalysisError` naming the first wrong one."""
        for name in (*self.trajectories, *self.power_repeated):
            if name not in schema.repeated:
                raise AnalysisError(
                    f"beyond: {name!r} is not a repeated measure of the schema; repeated "
                    f"measures are {', '.join(sorted(schema.repeated))}"
                )
        singles = [
            *self.covariates,
            *self.power_proportions,
            *self.power_ordinal,
            *self.power_means,
        ]
        singles += [n for n in (self.outcome, self.ordinal_outcome) if n is not None]
        for name in singles:
            if name not in schema:
                raise AnalysisError(f"beyond: variable {name!r} is not in the study schema")
        if self.baseline is not None and self.baseline not in schema.timepoints:
            raise AnalysisError(
                f"beyond: baseline {self.baseline!r} is not a timepoint of the schema "
                f"({', '.join(schema.timepoints)})"
            )


_BEYOND_KEYS = frozenset(["trajectories", "propensity", "power", "introduction"])
_PROPENSITY_KEYS = frozenset(["covariates", "outcome", "ordinal_outcome"])
_POWER_KEYS = frozenset(["proportions", "ordinal", "means", "repeated", "baseline", "sims"])


def _names(value: object, where: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AnalysisError(f"{source}: {where} must be a list of variable names (got {value!r})")
    return tuple(value)


def _section(doc: dict[str, Any], key: str, allowed: frozenset[str], source: str) -> dict[str, Any]:
    part = doc.get(key) or {}
    if not isinstance(part, dict):
        raise AnalysisError(f"{source}: beyond.{key} must be a mapping")
    unknown = sorted(set(part) - allowed)
    if unknown:
        raise AnalysisError(
            f"{source}: unknown key(s) {', '.join(unknown)} in beyond.{key}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    return part


def _optional_name(value: object, where: str, source: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise AnalysisError(f"{source}: {where} must be a variable name (got {value!r})")


def _beyond(doc: object, source: str) -> BeyondSpec:
    if doc is None:
        return BeyondSpec()
    if not isinstance(doc, dict):
        raise AnalysisError(f"{source}: 'beyond' must be a mapping")
    unknown = sorted(set(doc) - _BEYOND_KEYS)
    if unknown:
        raise AnalysisError(
            f"{source}: unknown key(s) {', '.join(unknown)} in beyond; "
            f"allowed: {', '.join(sorted(_BEYOND_KEYS))}"
        )
    propensity = _section(doc, "propensity", _PROPENSITY_KEYS, source)
    power = _section(doc, "power", _POWER_KEYS, source)
    sims = power.get("sims", 2000)
    if isinstance(sims, bool) or not isinstance(sims, int) or sims < 1:
        raise AnalysisError(
            f"{source}: beyond.power.sims must be a whole number ≥ 1 (got {sims!r})"
        )
    introduction = doc.get("introduction") or ""
    if not isinstance(introduction, str):
        raise AnalysisError(
            f"{source}: beyond.introduction must be a paragraph of text (got {introduction!r})"
        )
    return BeyondSpec(
        introduction=" ".join(introduction.split()),
        trajectories=_names(doc.get("trajectories"), "beyond.trajectories", source),
        covariates=_names(propensity.get("covariates"), "beyond.propensity.covariates", source),
        outcome=_optional_name(propensity.get("outcome"), "beyond.propensity.outcome", source),
        ordinal_outcome=_optional_name(
            propensity.get("ordinal_outcome"), "beyond.propensity.ordinal_outcome", source
        ),
        power_proportions=_names(power.get("proportions"), "beyond.power.proportions", source),
        power_ordinal=_names(power.get("ordinal"), "beyond.power.ordinal", source),
        power_means=_names(power.get("means"), "beyond.power.means", source),
        power_repeated=_names(power.get("repeated"), "beyond.power.repeated", source),
        baseline=_optional_name(power.get("baseline"), "beyond.power.baseline", source),
        sims=sims,
    )
