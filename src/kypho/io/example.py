"""Example records generated from the schema, for demonstrations, tests and benchmarks."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kypho.schema import Schema, Variable, load_schema

__all__ = ["example_records"]

_DEFAULT_DATES = (dt.date(2000, 1, 1), dt.date(2030, 12, 31))
_WORDS = np.array(["alpha", "bravo", "charlie", "delta", "echo"], dtype=object)


def example_records(
    n: int = 20, *, schema: Schema | None = None, seed: int = 0, missing: float = 0.0
) -> pd.DataFrame:
    """Random records that satisfy the schema's declarations: input variables only.

    Parameters
    ----------
    n
        Number of records.
    schema
        The study schema; ``None`` uses kypho's built-in schema.
    seed
        Seed of the random generator (the same seed gives the same records).
    missing
        Share of cells left empty (NaN) in every column that is not required.

    Returns
    -------
    pandas.DataFrame
        One column per input variable, named by the schema: ids ``P-00001``...;
        numbers uniform over the declared range (0..100 when unbounded), rounded
        to the declared precision; whole numbers, levels, booleans and lists drawn
        uniformly; dates drawn in the range common to all date variables and
        increasing in declaration order (so rules such as "born before the
        operation" hold for the built-in schema). Lists use ``schema.none_token``
        for an observed empty list. Nothing in it describes a real patient.

    Examples
    --------
    >>> from kypho.validation import validate
    >>> validate(example_records(50, seed=1, missing=0.1)).n_rejected
    0
    """
    schema = schema or load_schema()
    rng = np.random.default_rng(seed)
    inputs = schema.input_variables
    columns: dict[str, pd.Series] = {}
    for var in inputs:
        columns[var.name] = _draw(var, n, rng, schema)
    dates = [v for v in inputs if v.type == "date"]
    if dates:
        columns.update(_draw_dates(dates, n, rng))
    frame = pd.DataFrame(columns)
    if missing > 0:
        for var in inputs:
            if not var.required:
                blank = rng.random(n) < missing
                frame[var.name] = frame[var.name].where(~blank)
    return frame


def _draw(var: Variable, n: int, rng: np.random.Generator, schema: Schema) -> pd.Series:
    if var.type == "id":
        numbers = pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(5)
        return "P-" + numbers
    if var.type in ("category", "ordinal"):
        return pd.Series(rng.choice(np.array(var.codes, dtype=object), size=n))
    if var.type == "boolean":
        return pd.Series(rng.random(n) < 0.5)
    if var.type == "list":
        text = pd.Series("", index=range(n), dtype=object)
        for code in var.codes:
            text = text + np.where(rng.random(n) < 0.3, code + ";", "")
        text = text.str.rstrip(";")
        return text.where(text != "", schema.none_token)
    if var.type in ("integer", "number"):
        lo = 0.0 if var.min is None else float(var.min)  # type: ignore[arg-type]
        hi = 100.0 if var.max is None else float(var.max)  # type: ignore[arg-type]
        if var.type == "integer":
            return pd.Series(rng.integers(int(lo), int(hi) + 1, size=n).astype("float64"))
        return pd.Series(np.round(rng.uniform(lo, hi, size=n), var.precision or 2))
    if var.type == "date":
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    return pd.Series(rng.choice(_WORDS, size=n))


def _draw_dates(dates: list[Variable], n: int, rng: np.random.Generator) -> dict[str, pd.Series]:
    lows = [v.min for v in dates if isinstance(v.min, dt.date)]
    highs = [v.max for v in dates if isinstance(v.max, dt.date)]
    lo = max(lows) if lows else _DEFAULT_DATES[0]
    hi = min(highs) if highs else _DEFAULT_DATES[1]
    span = (hi - lo).days
    # strictly increasing across columns: sorted distinct offsets per row
    width = span - len(dates) + 1
    offsets = np.sort(rng.integers(0, width + 1, size=(n, len(dates))), axis=1)
    offsets = offsets + np.arange(len(dates))
    start = np.datetime64(lo.isoformat(), "D")
    return {
        v.name: pd.Series((start + offsets[:, i]).astype("datetime64[ns]"))
        for i, v in enumerate(dates)
    }
