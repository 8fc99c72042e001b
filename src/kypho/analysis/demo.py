"""A random, schema-valid raw cohort for tests, examples and benchmarks.

The values are drawn independently per patient from plausible distributions of
the kyphoplasty study, declared in ``kypho/data/demo.yaml`` (VAS falling after the
operation, height ratios restored, cement grades and leakage differing by group);
they are **synthetic** and make no claim to reproduce the paper. The generator is
vectorised, so a million patients take well under a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from kypho.errors import SchemaError
from kypho.safe_yaml import load_yaml
from kypho.schema import Schema, load_schema

__all__ = ["demo_cohort"]


@cache
def _spec() -> Mapping[str, Any]:
    text = resources.files("kypho.data").joinpath("demo.yaml").read_text(encoding="utf-8")
    doc: Mapping[str, Any] = load_yaml(text, "kypho/data/demo.yaml", SchemaError)
    return doc


def demo_cohort(n: int = 110, *, seed: int = 0, ineligible: float = 0.0) -> pd.DataFrame:
    """Return ``n`` synthetic patients as a raw table with the schema's input columns.

    Parameters
    ----------
    n
        Number of patients; the first half (rounded up) is the experimental group.
    seed
        Seed of the random generator (the same seed gives the same table).
    ineligible
        Fraction of patients made ineligible (aged 55, failing inclusion (f)), so
        that screening has someone to exclude.

    Returns
    -------
    pandas.DataFrame
        Columns named as in the schema, in its order, values typed as a reader
        would give them (numbers, booleans, level codes, ``"C;S"``-style leakage
        lists, ``"none"``).

    Examples
    --------
    >>> df = demo_cohort(4, seed=1)
    >>> df.iloc[:, 1].tolist()
    ['experimental', 'experimental', 'control', 'control']
    """
    schema = load_schema()
    spec = _spec()
    rng = np.random.default_rng(seed)
    first = np.arange(n) < (n + 1) // 2
    groups = schema.group_levels
    values: dict[str, npt.NDArray[Any]] = {
        schema.id_column: np.char.add(str(spec["id"]["prefix"]), np.arange(1, n + 1).astype(str)),
        schema.group_column: np.where(first, groups[0], groups[1]),
    }
    bad = spec.get("ineligible")
    for draw in spec["draws"]:
        name = str(draw["name"])
        values[name] = _finish(_value(rng, draw, values, first, groups, n), draw, values)
        if bad is not None and name == bad["after"] and ineligible > 0:
            values[name] = np.where(rng.random(n) < ineligible, bad["value"], values[name])
    return _frame(schema, values)


def _frame(schema: Schema, values: Mapping[str, npt.NDArray[Any]]) -> pd.DataFrame:
    unknown = [k for k in values if not k.startswith("_") and k not in schema]
    if unknown:
        raise SchemaError(f"kypho/data/demo.yaml draws columns the schema lacks: {unknown}")
    return pd.DataFrame(
        {v.name: values[v.name] for v in schema.input_variables if v.name in values}
    )


def _value(
    rng: np.random.Generator,
    draw: Mapping[str, Any],
    values: Mapping[str, npt.NDArray[Any]],
    first: npt.NDArray[np.bool_],
    groups: tuple[str, ...],
    n: int,
) -> npt.NDArray[Any]:
    """One draw, before clipping, scaling and rounding."""
    if "normal" in draw:
        mean, sd = (float(v) for v in draw["normal"])
        out: npt.NDArray[Any] = rng.normal(mean, sd, n)
        if "shift" in draw:
            out = out + np.where(first, float(draw["shift"]), 0.0)
        return out
    if "uniform" in draw:
        low, high = (float(v) for v in draw["uniform"])
        return rng.uniform(low, high, n)
    if "bernoulli" in draw:
        p = draw["bernoulli"]
        prob = (
            np.where(first, float(p[groups[0]]), float(p[groups[1]]))
            if isinstance(p, Mapping)
            else float(p)
        )
        hit = rng.random(n) < prob
        return np.where(hit, *draw["levels"]) if "levels" in draw else hit
    if "choice" in draw:
        codes = np.array(draw["choice"])
        return codes[rng.integers(0, len(codes), n)]
    if "constant" in draw:
        return np.full(n, draw["constant"])
    if "same_as" in draw:
        return values[str(draw["same_as"])]
    if "either" in draw:
        branch = draw["either"]
        then = _value(rng, branch["then"], values, first, groups, n)
        other = _value(rng, branch["else"], values, first, groups, n)
        return np.where(values[str(branch["when"])], then, other)
    raise SchemaError(f"kypho/data/demo.yaml: draw {draw.get('name')!r} has no known kind")


def _finish(
    out: npt.NDArray[Any], draw: Mapping[str, Any], values: Mapping[str, npt.NDArray[Any]]
) -> npt.NDArray[Any]:
    """Clip, scale (``times``), round and type one draw, in that order."""
    if "clip" in draw:
        low, high = (float(v) for v in draw["clip"])
        out = np.clip(out, low, high)
    if "times" in draw:
        base = draw["times"]
        if isinstance(base, list):
            total = values[str(base[0])]
            for other in base[1:]:
                total = total + values[str(other)]
            scale = total / len(base)
        else:
            scale = values[str(base)]
        out = scale * ((1 - out) if draw.get("one_minus") else out)
    if "round" in draw:
        out = np.round(out, int(draw["round"]))
    if draw.get("integer"):
        out = out.astype(np.int64)
    return out
