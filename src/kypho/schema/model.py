"""The declared study schema: variables, timepoints, rules and eligibility criteria.

The schema is data (``kypho/data/study.yaml``); this module only reads it,
checks that it is well formed, expands repeated measures into one column per
timepoint, and merges user extensions. Every other part of kypho derives what it
needs (validation, template, dictionary, database columns, table labels) from
the :class:`Schema` object returned by :func:`load_schema`.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from kypho.errors import SchemaError
from kypho.safe_yaml import MAX_BYTES, load_own_yaml, load_yaml
from kypho.schema.shape import check_document

__all__ = [
    "Criterion",
    "Derivation",
    "Rule",
    "Schema",
    "Timepoint",
    "Variable",
    "load_schema",
]

VariableType = Literal[
    "id", "string", "integer", "number", "category", "ordinal", "boolean", "date", "list"
]
_TYPES: frozenset[str] = frozenset(
    ["id", "string", "integer", "number", "category", "ordinal", "boolean", "date", "list"]
)
_ROLES: frozenset[str] = frozenset(
    [
        "id",
        "group",
        "identifier",
        "baseline",
        "eligibility",
        "procedure",
        "outcome",
        "classification",
        "derived",
    ]
)
_PHI: frozenset[str] = frozenset(["direct", "quasi", "free_text"])
_OPS: frozenset[str] = frozenset(["==", "!=", "<", "<=", ">", ">=", "in"])
_LEVELLED: frozenset[str] = frozenset(["category", "ordinal", "list"])
_VARIABLE_KEYS: frozenset[str] = frozenset(
    [
        "name",
        "label",
        "type",
        "unit",
        "min",
        "max",
        "levels",
        "required",
        "precision",
        "role",
        "phi",
        "timepoint",
        "timepoints",
        "description",
        "formula",
        "inputs",
        "options",
        "outputs",
        "phrase",
    ]
)


@dataclass(frozen=True)
class Timepoint:
    """A named time of measurement, e.g. ``pre`` = "Preoperation".

    ``phrase`` is the timepoint as running text says it ("before the operation",
    "at the last follow-up"); without one, ``"at " + label`` in lower case.
    """

    name: str
    label: str
    order: int
    phrase: str = ""

    @property
    def in_text(self) -> str:
        """The adverbial phrase of running text, e.g. ``"before the operation"``."""
        return self.phrase or "at " + _lower_first(self.label)


def _lower_first(text: str) -> str:
    # "Last follow-up" -> "last follow-up", but "VAS score" and "CT" keep their capitals.
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _with_unit(label: str, unit: str | None) -> str:
    """``label`` followed by its unit in parentheses, merged into a closing one.

    >>> _with_unit("Operation time", "min")
    'Operation time (min)'
    >>> _with_unit("Back pain (VAS)", "points")
    'Back pain (VAS, points)'
    >>> _with_unit("Sex", "")
    'Sex'
    """
    if not unit:
        return label
    if label.endswith(")") and "(" in label:
        return f"{label[:-1]}, {unit})"
    return f"{label} ({unit})"


@dataclass(frozen=True)
class Variable:
    """One column of the study's data.

    ``measure`` is the name of the repeated measure a column belongs to (``vas``
    for ``vas_2h``) and ``timepoint`` its timepoint; both are ``None`` for
    variables measured once. ``phrase`` is how running text names the variable
    (for a repeated measure: the measure) where its label, lower-cased, would
    read wrong ("the Oswestry Disability Index"); empty when the label serves.
    """

    name: str
    label: str
    type: VariableType
    role: str
    unit: str | None = None
    min: float | dt.date | None = None
    max: float | dt.date | None = None
    levels: Mapping[str, str] = field(default_factory=dict)
    required: bool = False
    precision: int | None = None
    phi: str | None = None
    measure: str | None = None
    timepoint: str | None = None
    description: str = ""
    derived: bool = False
    measure_label: str = ""
    phrase: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        """The level codes, in declared order."""
        return tuple(self.levels)

    @property
    def display_label(self) -> str:
        """The label with its unit, e.g. ``"Operation time (min)"``.

        A label that already ends in a parenthesis takes the unit inside it, so
        ``"Back pain (VAS)"`` in points reads ``"Back pain (VAS, points)"``, not
        ``"Back pain (VAS) (points)"``.
        """
        return _with_unit(self.label, self.unit)

    @property
    def measure_display_label(self) -> str:
        """The repeated measure's label (no timepoint) with its unit, e.g. ``"VAS score (points)"``.

        For a variable measured once, :attr:`display_label`.
        """
        return _with_unit(self.measure_label or self.label, self.unit)

    def allowed(self) -> str:
        """What the variable allows, in words, for error messages and the dictionary."""
        if self.type in ("category", "ordinal"):
            return "one of " + ", ".join(repr(c) for c in self.codes)
        if self.type == "list":
            codes = ", ".join(repr(c) for c in self.codes)
            return f"codes from {codes} separated by ';', or 'none'"
        if self.type == "boolean":
            return "yes/no (true/false, 1/0)"
        if self.type == "date":
            return _range_words("a date (YYYY-MM-DD)", self.min, self.max)
        if self.type == "integer":
            return _range_words("a whole number", self.min, self.max)
        if self.type == "number":
            return _range_words("a number", self.min, self.max)
        return "text"


def _range_words(kind: str, lo: object, hi: object) -> str:
    if lo is not None and hi is not None:
        return f"{kind} from {_fmt(lo)} to {_fmt(hi)}"
    if lo is not None:
        return f"{kind} of at least {_fmt(lo)}"
    if hi is not None:
        return f"{kind} of at most {_fmt(hi)}"
    return kind


def _fmt(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Rule:
    """A cross-field rule ``left op right``, checked where both sides are present."""

    name: str
    left: str
    op: str
    right: str
    message: str


@dataclass(frozen=True)
class Derivation:
    """How a variable is computed: a registered formula applied to named inputs.

    Declared on the variable in the schema (``formula``, ``inputs``, ``options``,
    ``outputs``); :func:`kypho.measures.derive` applies the derivations in
    declared order.

    Attributes
    ----------
    name
        The variable (or repeated measure) the formula computes first.
    formula
        The name of a formula registered in :data:`kypho.measures.FORMULAS`.
    inputs
        ``{parameter: variable}``; a parameter may take a list of variables. In a
        derivation over timepoints, an input naming a repeated measure is that
        measure at the same timepoint.
    options
        Keyword options of the formula (e.g. a rule's cut-off or a level code).
    outputs
        Every variable the formula returns, in order (``name`` first).
    timepoints
        The timepoints of a repeated derivation (one column per timepoint), or
        ``()`` for a variable computed once.
    fill
        ``True`` when ``name`` is an entered variable: the formula fills in only
        the values that are missing (a measured wedge angle is kept, a missing one
        is computed from the landmarks).
    repeated
        The inputs and outputs that are repeated measures, taken at the
        derivation's timepoint.
    """

    name: str
    formula: str
    inputs: Mapping[str, str | tuple[str, ...]]
    options: Mapping[str, Any] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()
    timepoints: tuple[str, ...] = ()
    fill: bool = False
    repeated: frozenset[str] = frozenset()

    def column(self, name: str, timepoint: str | None) -> str:
        """The column an input or output names: a repeated measure at ``timepoint``."""
        if timepoint is not None and name in self.repeated:
            return f"{name}_{timepoint}"
        return name


@dataclass(frozen=True)
class Criterion:
    """One eligibility item: ``variable op value``.

    For an inclusion criterion the patient must satisfy the comparison; for an
    exclusion criterion, satisfying it excludes the patient.
    """

    kind: Literal["inclusion", "exclusion"]
    id: str
    label: str
    variable: str
    op: str
    value: Any
    reason: str = ""

    @property
    def exclusion_reason(self) -> str:
        """The criterion worded as the reason a patient was excluded.

        The schema's ``reason`` (e.g. "Younger than 60 years" for "Age 60 years or
        older"); without one, an exclusion criterion's own label (it names the
        excluding condition) or "Not meeting inclusion criterion (f): <label>".
        """
        if self.reason:
            return self.reason
        if self.kind == "exclusion":
            return self.label
        return f"Not meeting inclusion criterion ({self.id}): {self.label}"

    @property
    def key(self) -> str:
        """Stable identifier such as ``"inclusion_f"``."""
        return f"{self.kind}_{self.id}"


@dataclass(frozen=True)
class Schema:
    """The study schema: an ordered collection of :class:`Variable` plus study facts.

    Look variables up with ``schema["vas_pre"]``; iterate in declared order.
    """

    study: str
    title: str
    id_column: str
    group_column: str
    variables: Mapping[str, Variable]
    timepoints: Mapping[str, Timepoint]
    repeated: Mapping[str, tuple[str, ...]]
    rules: tuple[Rule, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    missing_values: tuple[str, ...] = ("",)
    none_token: str = "none"
    derivations: tuple[Derivation, ...] = ()
    reference_date: str | None = None

    @property
    def missing_tokens(self) -> set[str]:
        """The missing-value tokens as cells are compared with them: trimmed, case-folded."""
        return {m.strip().casefold() for m in self.missing_values}

    def __getitem__(self, name: str) -> Variable:
        try:
            return self.variables[name]
        except KeyError:
            raise SchemaError(f"the schema has no variable {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self.variables

    def __iter__(self) -> Iterator[Variable]:
        return iter(self.variables.values())

    def __len__(self) -> int:
        return len(self.variables)

    @property
    def input_variables(self) -> tuple[Variable, ...]:
        """Variables that are entered or imported (not derived)."""
        return tuple(v for v in self if not v.derived)

    @property
    def derived_variables(self) -> tuple[Variable, ...]:
        """Variables computed by kypho, never entered."""
        return tuple(v for v in self if v.derived)

    def columns(self, *, role: str | None = None, derived: bool | None = None) -> list[str]:
        """Column names, optionally filtered by role and by derived-ness."""
        return [
            v.name
            for v in self
            if (role is None or v.role == role) and (derived is None or v.derived == derived)
        ]

    def measure_columns(self, measure: str) -> dict[str, str]:
        """``{timepoint: column}`` of a repeated measure, in time order."""
        if measure not in self.repeated:
            raise SchemaError(
                f"{measure!r} is not a repeated measure; repeated measures are "
                + ", ".join(sorted(self.repeated))
            )
        return {tp: f"{measure}_{tp}" for tp in self.repeated[measure]}

    @property
    def group_levels(self) -> tuple[str, ...]:
        """The group codes; the first is the experimental arm."""
        return self[self.group_column].codes


def load_schema(
    path: str | Path | None = None,
    *,
    extensions: Iterable[str | Path | Mapping[str, Any]] = (),
) -> Schema:
    """Load the study schema, with optional user extensions.

    Parameters
    ----------
    path
        A YAML schema file. ``None`` loads kypho's built-in kyphoplasty schema.
    extensions
        YAML files (or already-parsed mappings) merged in order. An extension may
        declare new ``timepoints``, ``variables``, ``repeated`` measures and
        ``derived`` variables, and ``extend_repeated: {measure: [timepoint, ...]}``
        to add timepoints to an existing repeated measure. A name already in the
        schema is an error (extensions add, they never silently redefine).

    Returns
    -------
    Schema

    Raises
    ------
    SchemaError
        If the file is not valid YAML or a declaration is malformed.

    Examples
    --------
    >>> schema = load_schema()
    >>> schema["vas_pre"].label
    'VAS score, preoperation'
    >>> load_schema(extensions=[{"extend_repeated": {"vas": ["d3"]}}]).measure_columns("vas")
    {'pre': 'vas_pre', '2h': 'vas_2h', '4h': 'vas_4h', '48h': 'vas_48h', 'd3': 'vas_d3'}
    """
    if path is None:
        source = "kypho/data/study.yaml"
        doc = copy.deepcopy(_builtin_document())
    else:
        source = str(path)
        doc = _parse(_read(Path(path)), source)
    for ext in extensions:
        if isinstance(ext, Mapping):
            ext_doc, ext_source = dict(ext), "extension"
            check_document(ext_doc, ext_source)
        else:
            ext_doc, ext_source = _parse(_read(Path(ext)), str(ext)), str(ext)
        try:
            _merge(doc, ext_doc, ext_source)
        except SchemaError:
            raise
        except (TypeError, AttributeError, ValueError, KeyError) as exc:
            # check_document catches what it knows of; this names anything it misses
            raise SchemaError(f"{ext_source}: malformed schema extension ({exc!r})") from exc
    try:
        return _build(doc, source)
    except SchemaError:
        raise
    except (TypeError, AttributeError, ValueError, KeyError) as exc:
        raise SchemaError(f"{source}: malformed schema declaration ({exc!r})") from exc


@functools.cache
def _builtin_document() -> dict[str, Any]:
    """kypho's own schema, parsed once per process (callers get a deep copy)."""
    text = resources.files("kypho.data").joinpath("study.yaml").read_text(encoding="utf-8")
    return _parse(text, "kypho/data/study.yaml", own=True)


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SchemaError(
                f"cannot read schema file {str(path)!r}: larger than {MAX_BYTES:,} bytes"
            )
        return path.read_bytes()
    except OSError as exc:
        raise SchemaError(f"cannot read schema file {str(path)!r}: {exc.strerror}") from exc


def _parse(text: str | bytes, source: str, *, own: bool = False) -> dict[str, Any]:
    if own and isinstance(text, str):
        doc = load_own_yaml(text, source, SchemaError)
    else:
        doc = load_yaml(text, source, SchemaError)
    if not isinstance(doc, dict):
        raise SchemaError(f"{source}: a schema must be a YAML mapping")
    check_document(doc, source)
    return doc


def _merge(doc: dict[str, Any], ext: dict[str, Any], source: str) -> None:
    allowed = {"timepoints", "variables", "repeated", "derived", "extend_repeated", "rules"}
    unknown = sorted(set(ext) - allowed)
    if unknown:
        raise SchemaError(
            f"{source}: unknown extension key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    doc.setdefault("timepoints", {}).update(ext.get("timepoints") or {})
    for key in ("variables", "repeated", "derived", "rules"):
        doc.setdefault(key, []).extend(ext.get(key) or [])
    for measure, tps in (ext.get("extend_repeated") or {}).items():
        for entry in doc.get("repeated", []) + doc.get("derived", []):
            if entry.get("name") == measure and "timepoints" in entry:
                entry["timepoints"] = [*entry["timepoints"], *tps]
                break
        else:
            raise SchemaError(f"{source}: extend_repeated names unknown measure {measure!r}")


def _build(doc: dict[str, Any], source: str) -> Schema:
    timepoints: dict[str, Timepoint] = {}
    for name, spec in (doc.get("timepoints") or {}).items():
        spec = spec or {}
        timepoints[str(name)] = Timepoint(
            str(name),
            str(spec.get("label", name)),
            int(spec.get("order", len(timepoints))),
            str(spec.get("phrase", "")),
        )
    variables: dict[str, Variable] = {}
    repeated: dict[str, tuple[str, ...]] = {}

    def add(var: Variable) -> None:
        if var.name in variables:
            raise SchemaError(f"{source}: variable {var.name!r} is declared twice")
        variables[var.name] = var

    for spec in doc.get("variables") or []:
        add(_variable(spec, source, derived=False))
    for key, is_derived in (("repeated", False), ("derived", True)):
        for spec in doc.get(key) or []:
            tps = spec.get("timepoints")
            if tps is None:
                add(_variable(spec, source, derived=is_derived))
                continue
            base = {k: v for k, v in spec.items() if k != "timepoints"}
            for tp in tps:
                if tp not in timepoints:
                    raise SchemaError(
                        f"{source}: {spec.get('name')!r} uses undeclared timepoint {tp!r}; "
                        f"declared: {', '.join(timepoints)}"
                    )
            measure = str(spec["name"])
            repeated[measure] = tuple(sorted(tps, key=lambda t: timepoints[t].order))
            for tp in repeated[measure]:
                var = _variable(base, source, derived=is_derived)
                # Each column's own label names its timepoint ("VAS score, 2 h after
                # operation"), so the .sav, the dictionary and the template tell the
                # columns apart; tables head the measure with measure_label.
                add(
                    replace(
                        var,
                        name=f"{measure}_{tp}",
                        measure=measure,
                        timepoint=tp,
                        label=f"{var.label}, {_lower_first(timepoints[tp].label)}",
                        measure_label=var.label,
                    )
                )

    derivations = _derivations(doc, variables, repeated, source)

    for col_key in ("id_column", "group_column"):
        if doc.get(col_key) not in variables:
            raise SchemaError(
                f"{source}: {col_key} {doc.get(col_key)!r} is not a declared variable"
            )
    reference = doc.get("reference_date")
    if reference is not None and (
        reference not in variables or variables[reference].type != "date"
    ):
        raise SchemaError(f"{source}: reference_date {reference!r} is not a declared date variable")

    rules = tuple(_rule(r, variables, source) for r in doc.get("rules") or [])
    criteria: list[Criterion] = []
    elig = doc.get("eligibility") or {}
    for kind in ("inclusion", "exclusion"):
        for spec in elig.get(kind) or []:
            criteria.append(_criterion(kind, spec, variables, source))
    return Schema(
        study=str(doc.get("study", "study")),
        title=str(doc.get("title", "")),
        id_column=str(doc["id_column"]),
        group_column=str(doc["group_column"]),
        variables=variables,
        timepoints=timepoints,
        repeated=repeated,
        rules=rules,
        criteria=tuple(criteria),
        missing_values=tuple(str(m) for m in doc.get("missing_values", [""])),
        none_token=str(doc.get("none_token", "none")),
        derivations=derivations,
        reference_date=None if reference is None else str(reference),
    )


def _derivations(
    doc: Mapping[str, Any],
    variables: Mapping[str, Variable],
    repeated: Mapping[str, tuple[str, ...]],
    source: str,
) -> tuple[Derivation, ...]:
    """The declared formulas, in declaration order, each checked against the variables.

    Every derived variable must be computed by a formula: its own, or as one of the
    ``outputs`` of another's. An input computed by a formula must be computed by an
    earlier one (the declaration order is the order of computation).
    """
    out: list[Derivation] = []
    computed: set[str] = set()
    specs = [
        (spec, key == "derived")
        for key in ("variables", "repeated", "derived")
        for spec in doc.get(key) or []
    ]
    all_derived = {str(s.get("name")) for s, is_derived in specs if is_derived}
    for spec, is_derived in specs:
        name = str(spec.get("name"))
        if "formula" not in spec:
            for key in ("inputs", "options", "outputs"):
                if key in spec:
                    raise SchemaError(f"{source}: variable {name!r} has {key} but no formula")
            continue
        tps = tuple(repeated.get(name, ())) if name in repeated else ()
        derivation = _derivation(spec, name, tps, is_derived, variables, repeated, source)
        for names in derivation.inputs.values():
            for entry in (names,) if isinstance(names, str) else names:
                var = variables.get(entry)
                entry = var.measure if var is not None and var.measure else entry
                if entry in all_derived and entry not in computed:
                    raise SchemaError(
                        f"{source}: the formula of {name!r} uses {entry!r}, which is "
                        "computed later or never; declare its formula first"
                    )
        for extra in derivation.outputs[1:]:
            if extra not in all_derived:
                raise SchemaError(
                    f"{source}: {name!r} lists output {extra!r}, which is not a derived variable"
                )
        clash = computed & set(derivation.outputs)
        if clash:
            raise SchemaError(f"{source}: {', '.join(sorted(clash))} computed by two formulas")
        computed.update(derivation.outputs)
        out.append(derivation)
    uncomputed = sorted(all_derived - computed)
    if uncomputed:
        raise SchemaError(
            f"{source}: derived variable(s) {', '.join(uncomputed)} name no formula "
            "(give each a formula, or list it in another's outputs)"
        )
    return tuple(out)


def _derivation(
    spec: Mapping[str, Any],
    name: str,
    tps: tuple[str, ...],
    is_derived: bool,
    variables: Mapping[str, Variable],
    repeated: Mapping[str, tuple[str, ...]],
    source: str,
) -> Derivation:
    formula = spec["formula"]
    if not isinstance(formula, str) or not formula:
        raise SchemaError(f"{source}: variable {name!r} has formula {formula!r}; give its name")
    raw_inputs = spec.get("inputs") or {}
    if not isinstance(raw_inputs, Mapping):
        raise SchemaError(f"{source}: inputs of {name!r} must map parameters to variables")
    inputs: dict[str, str | tuple[str, ...]] = {}
    used: set[str] = set()
    for param, value in raw_inputs.items():
        names = (value,) if isinstance(value, str) else value
        if not isinstance(names, Sequence) or not all(isinstance(v, str) for v in names):
            raise SchemaError(
                f"{source}: input {param!r} of {name!r} must name a variable or a list of them"
            )
        used.update(names)
        inputs[str(param)] = value if isinstance(value, str) else tuple(names)
    outputs = tuple(str(o) for o in spec.get("outputs") or [name])
    if outputs[0] != name:
        raise SchemaError(f"{source}: the outputs of {name!r} must start with {name!r}")
    for entry in used | set(outputs):
        if entry in repeated:
            missing = [tp for tp in tps if tp not in repeated[entry]]
            if not tps or missing:
                raise SchemaError(
                    f"{source}: the formula of {name!r} uses repeated measure {entry!r}, "
                    + (
                        f"which lacks timepoint(s) {', '.join(missing)}"
                        if tps
                        else f"which needs a timepoint (name a column such as {entry}_"
                        + f"{repeated[entry][0]})"
                    )
                )
        elif entry not in variables:
            raise SchemaError(f"{source}: the formula of {name!r} uses unknown variable {entry!r}")
    options = spec.get("options") or {}
    if not isinstance(options, Mapping):
        raise SchemaError(f"{source}: options of {name!r} must be a mapping")
    return Derivation(
        name=name,
        formula=formula,
        inputs=inputs,
        options=dict(options),
        outputs=outputs,
        timepoints=tps,
        fill=not is_derived,
        repeated=frozenset(e for e in used | set(outputs) if e in repeated),
    )


def _variable(spec: Mapping[str, Any], source: str, *, derived: bool) -> Variable:
    name = spec.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise SchemaError(f"{source}: variable name {name!r} must be a Python identifier")
    unknown = sorted(set(spec) - _VARIABLE_KEYS)
    if unknown:
        raise SchemaError(f"{source}: variable {name!r} has unknown key(s) {', '.join(unknown)}")
    vtype = spec.get("type")
    if vtype not in _TYPES:
        raise SchemaError(
            f"{source}: variable {name!r} has type {vtype!r}; allowed: {', '.join(sorted(_TYPES))}"
        )
    role = spec.get("role", "derived" if derived else "outcome")
    if role not in _ROLES:
        raise SchemaError(
            f"{source}: variable {name!r} has role {role!r}; allowed: {', '.join(sorted(_ROLES))}"
        )
    phi = spec.get("phi")
    if phi is not None and phi not in _PHI:
        raise SchemaError(
            f"{source}: variable {name!r} has phi {phi!r}; allowed: {', '.join(sorted(_PHI))}"
        )
    levels_raw = spec.get("levels") or {}
    if vtype in _LEVELLED and not levels_raw:
        raise SchemaError(f"{source}: {vtype} variable {name!r} needs levels")
    if isinstance(levels_raw, Mapping):
        levels = {str(k): str(v) for k, v in levels_raw.items()}
    elif isinstance(levels_raw, Sequence) and not isinstance(levels_raw, str):
        levels = {str(c): str(c) for c in levels_raw}
    else:
        raise SchemaError(f"{source}: variable {name!r} levels must be a mapping or a list")
    lo, hi = spec.get("min"), spec.get("max")
    if vtype == "date":
        lo, hi = _as_date(lo, name, source), _as_date(hi, name, source)
    else:
        lo = None if lo is None else float(lo)
        hi = None if hi is None else float(hi)
    if lo is not None and hi is not None and lo > hi:  # type: ignore[operator]
        raise SchemaError(f"{source}: variable {name!r} has min {lo} above max {hi}")
    precision = spec.get("precision")
    return Variable(
        name=name,
        label=str(spec.get("label", name)),
        type=vtype,
        role=str(role),
        unit=None if spec.get("unit") is None else str(spec["unit"]),
        min=lo,
        max=hi,
        levels=levels,
        required=bool(spec.get("required", False)),
        precision=None if precision is None else int(precision),
        phi=phi,
        timepoint=spec.get("timepoint"),
        description=str(spec.get("description", "")),
        derived=derived,
        phrase=str(spec.get("phrase", "")),
    )


def _as_date(value: object, name: str, source: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise SchemaError(
            f"{source}: variable {name!r} has a date bound {value!r} that is not YYYY-MM-DD"
        ) from None


def _rule(spec: Mapping[str, Any], variables: Mapping[str, Variable], source: str) -> Rule:
    for side in ("left", "right"):
        if spec.get(side) not in variables:
            raise SchemaError(
                f"{source}: rule {spec.get('name')!r} names unknown variable {spec.get(side)!r}"
            )
    if spec.get("op") not in _OPS - {"in"}:
        raise SchemaError(
            f"{source}: rule {spec.get('name')!r} has unknown operator {spec.get('op')!r}"
        )
    return Rule(
        str(spec["name"]),
        str(spec["left"]),
        str(spec["op"]),
        str(spec["right"]),
        str(spec["message"]),
    )


def _criterion(
    kind: str, spec: Mapping[str, Any], variables: Mapping[str, Variable], source: str
) -> Criterion:
    var = spec.get("variable")
    if var not in variables:
        raise SchemaError(
            f"{source}: {kind} criterion {spec.get('id')!r} names unknown variable {var!r}"
        )
    if spec.get("op") not in _OPS:
        raise SchemaError(
            f"{source}: {kind} criterion {spec.get('id')!r} has unknown operator {spec.get('op')!r}"
        )
    return Criterion(
        kind="inclusion" if kind == "inclusion" else "exclusion",
        id=str(spec["id"]),
        label=str(spec.get("label", spec["id"])),
        variable=str(var),
        op=str(spec["op"]),
        value=spec.get("value"),
        reason=str(spec.get("reason", "")),
    )
