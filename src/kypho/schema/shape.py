"""The shape of a schema document, checked before anything is built from it.

A schema or extension file is YAML written by hand, so any value may be of any
kind: a list where a mapping belongs, a mapping where a name belongs. This
module walks the parsed document once and names the first value of the wrong
kind by its place ("variables[3] ('vas_m6'), levels: ...") before
:mod:`kypho.schema.model` reads it, so a malformed file is a
:class:`~kypho.errors.SchemaError`, never a ``TypeError`` from deep inside.

Only kinds are checked here (text, number, list, mapping); which names, types,
roles and levels are allowed is :mod:`kypho.schema.model`'s business.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from kypho.errors import SchemaError

__all__ = ["check_document"]

_SCALAR = (str, int, float, bool, dt.date)
_TEXT_KEYS = (
    "name", "label", "unit", "description", "type", "role", "phi", "timepoint", "formula",
    "phrase",
)  # fmt: skip
_TOP_TEXT = ("study", "title", "id_column", "group_column", "none_token", "reference_date")
_LIST_OF_SPECS = ("variables", "repeated", "derived", "rules")


def check_document(doc: Mapping[str, Any], source: str) -> None:
    """Raise :class:`~kypho.errors.SchemaError` at the first value of the wrong kind.

    Parameters
    ----------
    doc
        A parsed schema or schema extension (a mapping).
    source
        The file name, for messages.

    Examples
    --------
    >>> check_document({"variables": [{"name": "x", "levels": {"a": [1]}}]}, "ext.yaml")
    Traceback (most recent call last):
    ...
    kypho.errors.SchemaError: ext.yaml: variables[1] ('x'), levels: each level code and label must be a single value (got 'a': [1])
    """
    for key in _TOP_TEXT:
        if key in doc:
            _scalar(doc[key], f"{source}: {key}")
    if "missing_values" in doc:
        _scalars(doc["missing_values"], f"{source}: missing_values")
    timepoints = doc.get("timepoints")
    if timepoints is not None:
        _mapping(timepoints, f"{source}: timepoints")
        for name, spec in timepoints.items():
            where = f"{source}: timepoints, {name!r}"
            _scalar(name, f"{source}: timepoints")
            if spec is None:
                continue
            _mapping(spec, where)
            if "label" in spec:
                _scalar(spec["label"], f"{where}, label")
            if "order" in spec:
                _integer(spec["order"], f"{where}, order")
    for key in _LIST_OF_SPECS:
        specs = doc.get(key)
        if specs is None:
            continue
        _list(specs, f"{source}: {key}")
        for i, spec in enumerate(specs, start=1):
            where = f"{source}: {key}[{i}]"
            _mapping(spec, where)
            if "name" in spec and isinstance(spec["name"], str):
                where += f" ({spec['name']!r})"
            if key == "rules":
                _rule(spec, where)
            else:
                _variable(spec, where)
    extend = doc.get("extend_repeated")
    if extend is not None:
        _mapping(extend, f"{source}: extend_repeated")
        for measure, tps in extend.items():
            _scalar(measure, f"{source}: extend_repeated")
            _scalars(tps, f"{source}: extend_repeated, {measure!r}")
    eligibility = doc.get("eligibility")
    if eligibility is not None:
        _mapping(eligibility, f"{source}: eligibility")
        for kind in ("inclusion", "exclusion"):
            items = eligibility.get(kind)
            if items is None:
                continue
            _list(items, f"{source}: eligibility, {kind}")
            for i, spec in enumerate(items, start=1):
                where = f"{source}: eligibility, {kind}[{i}]"
                _mapping(spec, where)
                _required(spec, "id", where)
                for k in ("id", "label", "variable", "op"):
                    if k in spec:
                        _scalar(spec[k], f"{where}, {k}")
                value = spec.get("value")
                if isinstance(value, list):
                    _scalars(value, f"{where}, value")
                elif value is not None:
                    _scalar(value, f"{where}, value")


def _variable(spec: Mapping[str, Any], where: str) -> None:
    for key in _TEXT_KEYS:
        if key in spec and spec[key] is not None:
            _scalar(spec[key], f"{where}, {key}")
    for key in ("min", "max"):
        value = spec.get(key)
        if value is None:
            continue
        _scalar(value, f"{where}, {key}")
        if spec.get("type") != "date" and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            raise SchemaError(f"{where}, {key}: must be a number (got {value!r})")
    if "required" in spec and not isinstance(spec["required"], bool):
        raise SchemaError(f"{where}, required: must be true or false (got {spec['required']!r})")
    if spec.get("precision") is not None:
        precision = spec["precision"]
        _integer(precision, f"{where}, precision")
        if not 0 <= precision <= 15:
            raise SchemaError(f"{where}, precision: must be from 0 to 15 (got {precision!r})")
    levels = spec.get("levels")
    if isinstance(levels, Mapping):
        for code, label in levels.items():
            if not isinstance(code, _SCALAR) or not isinstance(label, _SCALAR):
                raise SchemaError(
                    f"{where}, levels: each level code and label must be a single value "
                    f"(got {_short(code)}: {_short(label)})"
                )
    elif isinstance(levels, list):
        _scalars(levels, f"{where}, levels")
    elif levels is not None:
        raise SchemaError(
            f"{where}, levels: must be a mapping of code to label or a list of codes "
            f"(got {levels!r})"
        )
    if "timepoints" in spec and spec["timepoints"] is not None:
        _scalars(spec["timepoints"], f"{where}, timepoints")


def _rule(spec: Mapping[str, Any], where: str) -> None:
    for key in ("name", "left", "op", "right", "message"):
        _required(spec, key, where)
        _scalar(spec[key], f"{where}, {key}")


def _required(spec: Mapping[str, Any], key: str, where: str) -> None:
    if key not in spec or spec[key] is None:
        raise SchemaError(f"{where}: needs {key!r}")


def _scalar(value: object, where: str) -> None:
    if not isinstance(value, _SCALAR):
        raise SchemaError(f"{where}: must be a single value (got {_short(value)})")


def _scalars(value: object, where: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, _SCALAR) for v in value):
        raise SchemaError(f"{where}: must be a list of single values (got {_short(value)})")


def _integer(value: object, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemaError(f"{where}: must be a whole number (got {_short(value)})")


def _list(value: object, where: str) -> None:
    if not isinstance(value, list):
        raise SchemaError(f"{where}: must be a list (got {_short(value)})")


def _mapping(value: object, where: str) -> None:
    if not isinstance(value, Mapping):
        raise SchemaError(f"{where}: must be a mapping of keys to values (got {_short(value)})")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
