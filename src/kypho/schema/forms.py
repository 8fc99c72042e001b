"""The electronic case report forms declared in the schema's ``forms:`` section.

The forms are data, next to the variables they show (``kypho/data/study.yaml``):
instruments, each with its fields in order, help text, the fields that must be
filled before the instrument can be marked complete, and branching (a field
asked only when another has a given value). Widgets, ranges and levels come
from the variables themselves; validation is :func:`kypho.validate.validate`'s.

Entered variables that no instrument lists (a schema extension's) are gathered in
a last instrument, ``additional``, so an extension appears in the forms without
any change to code; a timepoint added to a repeated measure appears wherever the
measure is listed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kypho.errors import SchemaError
from kypho.schema.model import Schema, Variable

__all__ = ["Condition", "FormField", "Forms", "Instrument", "form_text", "load_forms"]

_OPS = frozenset(["==", "!=", "in"])
_FIELD_KEYS = frozenset(["name", "help", "required", "show_if"])
_INSTRUMENT_KEYS = frozenset(["name", "label", "description", "fields"])
ADDITIONAL = "additional"


@dataclass(frozen=True)
class Condition:
    """Show a field only when ``field op value`` (``==``, ``!=``, ``in`` a list)."""

    field: str
    op: str
    value: Any

    def targets(self) -> tuple[str, ...]:
        """The compared value(s) as form text (booleans ``true``/``false``)."""
        values = self.value if isinstance(self.value, list) else [self.value]
        return tuple(_text(v) for v in values)

    def met(self, values: Mapping[str, object]) -> bool:
        """Whether the condition holds for a record's (typed or text) values."""
        current = values.get(self.field)
        shown = "" if current is None else _text(current)
        if self.op == "!=":
            return shown not in self.targets()
        return shown in self.targets()


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def form_text(value: object, var: Variable, schema: Schema) -> str:
    """A stored value as the text a form shows (and posts back unchanged).

    Examples
    --------
    >>> from kypho.schema import load_schema
    >>> schema = load_schema()
    >>> [form_text(v, schema["pain"], schema) for v in (True, None)]
    ['true', '']
    """
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if var.type == "list":
        return schema.none_token if value == "" else str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class FormField:
    """One field of an instrument: a variable with its form settings."""

    variable: Variable
    help: str
    required: bool
    show_if: Condition | None = None

    @property
    def name(self) -> str:
        """The variable's name (the store's column)."""
        return self.variable.name


@dataclass(frozen=True)
class Instrument:
    """One form: a named, ordered group of fields."""

    name: str
    label: str
    description: str
    fields: tuple[FormField, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The fields' variable names, in order."""
        return tuple(f.name for f in self.fields)

    def missing(self, values: Mapping[str, object]) -> list[FormField]:
        """Required fields without a value, among those the branching asks for."""
        out = []
        for f in self.fields:
            if not f.required or (f.show_if is not None and not f.show_if.met(values)):
                continue
            value = values.get(f.name)
            if value is None or (isinstance(value, str) and not value.strip()):
                out.append(f)
        return out


@dataclass(frozen=True)
class Forms:
    """Every instrument of a study, in order, and whether entry is double."""

    instruments: tuple[Instrument, ...]
    double_entry: bool = False

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self.instruments)

    def __len__(self) -> int:
        return len(self.instruments)

    def __getitem__(self, name: str) -> Instrument:
        for inst in self.instruments:
            if inst.name == name:
                return inst
        raise SchemaError(
            f"there is no form {name!r}; forms are " + ", ".join(i.name for i in self.instruments)
        )

    def __contains__(self, name: object) -> bool:
        return any(i.name == name for i in self.instruments)

    def instrument_of(self, field: str) -> Instrument | None:
        """The instrument showing ``field``, if any."""
        for inst in self.instruments:
            if field in inst.names:
                return inst
        return None


def load_forms(schema: Schema, path: str | Path | None = None) -> Forms:
    """The forms of ``schema``, from the ``forms:`` section of the schema file.

    Parameters
    ----------
    schema
        The loaded schema (with any extensions): fields resolve against it.
    path
        The schema YAML file ``schema`` was loaded from; ``None`` means kypho's
        built-in ``study.yaml``. A file without a ``forms:`` section gives one
        form per variable role.

    Raises
    ------
    SchemaError
        If an instrument names an unknown or derived variable, a field twice, or
        a malformed condition.

    Examples
    --------
    >>> from kypho.schema import load_schema
    >>> forms = load_forms(load_schema())
    >>> forms["vas"].names
    ('vas_pre', 'vas_2h', 'vas_4h', 'vas_48h')
    >>> forms["screening"].fields[4].show_if.met({"denis_type": "burst"})
    False
    """
    if path is None:
        text = resources.files("kypho.data").joinpath("study.yaml").read_text(encoding="utf-8")
        source = "kypho/data/study.yaml"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SchemaError(f"cannot read schema file {str(path)!r}: {exc.strerror}") from exc
        source = str(path)
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise SchemaError(f"{source}: not valid YAML ({exc})") from exc
    spec = doc.get("forms") if isinstance(doc, dict) else None
    if spec is None:
        return _by_role(schema)
    if not isinstance(spec, dict):
        raise SchemaError(f"{source}: 'forms' must be a mapping with 'instruments'")
    instruments: list[Instrument] = []
    seen: dict[str, str] = {}
    for item in spec.get("instruments") or []:
        inst = _instrument(item, schema, source)
        for name in inst.names:
            if name in seen:
                raise SchemaError(
                    f"{source}: field {name!r} is in both forms {seen[name]!r} and {inst.name!r}"
                )
            seen[name] = inst.name
        instruments.append(inst)
    rest = [v for v in schema.input_variables if v.name not in seen and v.name != schema.id_column]
    if rest:
        instruments.append(
            Instrument(
                ADDITIONAL,
                "Additional fields",
                "Variables of the schema (or an extension of it) listed in no other form.",
                tuple(FormField(v, v.description, False) for v in rest),
            )
        )
    return Forms(tuple(instruments), bool(spec.get("double_entry", False)))


def _instrument(item: Any, schema: Schema, source: str) -> Instrument:
    if not isinstance(item, dict) or "name" not in item:
        raise SchemaError(f"{source}: each form needs a name and fields, got {item!r}")
    name = str(item["name"])
    unknown = sorted(set(item) - _INSTRUMENT_KEYS)
    if unknown:
        raise SchemaError(f"{source}: form {name!r} has unknown key(s) {', '.join(unknown)}")
    fields: list[FormField] = []
    for entry in item.get("fields") or []:
        spec = {"name": entry} if isinstance(entry, str) else entry
        if not isinstance(spec, dict) or "name" not in spec:
            raise SchemaError(f"{source}: form {name!r} has a malformed field {entry!r}")
        extra = sorted(set(spec) - _FIELD_KEYS)
        if extra:
            raise SchemaError(
                f"{source}: field {spec['name']!r} of form {name!r} has unknown key(s) "
                + ", ".join(extra)
            )
        target = str(spec["name"])
        if target in schema.repeated:
            columns = list(schema.measure_columns(target).values())
        elif target in schema:
            columns = [target]
        else:
            raise SchemaError(
                f"{source}: form {name!r} names {target!r}, which is not a variable or a "
                "repeated measure of the schema"
            )
        cond = _condition(spec.get("show_if"), schema, source, target)
        for column in columns:
            var = schema[column]
            if var.derived:
                raise SchemaError(
                    f"{source}: form {name!r} lists {column!r}, which kypho derives (not entered)"
                )
            fields.append(
                FormField(
                    var,
                    str(spec.get("help") or var.description),
                    bool(spec.get("required", False)),
                    cond,
                )
            )
    return Instrument(
        name, str(item.get("label", name)), str(item.get("description", "")), tuple(fields)
    )


def _condition(spec: Any, schema: Schema, source: str, target: str) -> Condition | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or spec.get("field") not in schema or spec.get("op") not in _OPS:
        raise SchemaError(
            f"{source}: show_if of {target!r} must be {{field: <variable>, op: ==|!=|in, "
            f"value: ...}}, got {spec!r}"
        )
    return Condition(str(spec["field"]), str(spec["op"]), spec.get("value"))


def _by_role(schema: Schema) -> Forms:
    groups: dict[str, list[FormField]] = {}
    for var in schema.input_variables:
        if var.name == schema.id_column:
            continue
        groups.setdefault(var.role, []).append(FormField(var, var.description, var.required))
    return Forms(
        tuple(
            Instrument(role, role.replace("_", " ").capitalize(), "", tuple(fields))
            for role, fields in groups.items()
        )
    )
