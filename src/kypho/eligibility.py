"""Eligibility screening by the paper's inclusion and exclusion criteria.

The criteria are declared in the schema (``eligibility:`` in
``kypho/data/study.yaml``), one per item of the paper's "Patient selection
method": inclusion (a)–(g), exclusion (a)–(f). Each is ``variable op value``.

A criterion is, for each patient:

* ``met`` / ``failed`` for inclusion (the patient satisfies it or not);
  ``present`` / ``absent`` for exclusion (the excluding condition is there or not);
* ``unknown`` when the patient's value is missing: an unknown criterion
  excludes the patient (inclusion must be documented, and an exclusion
  condition not recorded cannot be ruled out) and is named as the reason;
* ``not assessed`` for every patient when the column is absent from the data:
  the criterion is skipped and listed in :attr:`Flow.not_assessed`, so the flow
  diagram shows what was not screened rather than implying it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kypho.schema import Criterion, Schema, load_schema

__all__ = ["Flow", "Screening", "screen"]


def _reasons(schema: Schema) -> dict[str, str]:
    words: dict[str, str] = {}
    for crit in schema.criteria:
        words[crit.key] = crit.exclusion_reason
        variable = schema.variables.get(crit.variable)
        name = variable.label if variable is not None else crit.variable
        words[f"{crit.key}:unknown"] = f"{name} not recorded"
    return words


_OPS: dict[str, Callable[[pd.Series, Any], pd.Series]] = {
    "==": lambda s, v: s == v,
    "!=": lambda s, v: s != v,
    "<": lambda s, v: s < v,
    "<=": lambda s, v: s <= v,
    ">": lambda s, v: s > v,
    ">=": lambda s, v: s >= v,
    "in": lambda s, v: s.isin(list(v)),
}


#: The dtype pandas gives a column of Python strings (arrow-backed ``str``).
_STR = pd.DataFrame({"text": np.array(["x"], dtype=object)})["text"].dtype


def _words(codes: np.ndarray, words: list[str]) -> Any:
    """``words[code]`` per row, as the column of text pandas would make of them.

    Built by arrow from the few distinct words, so no Python string is made per row.
    """
    if len(codes) == 0:
        return np.empty(0, dtype=object)
    import pyarrow as pa

    column = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(words, pa.string()))
    return pd.array(column.cast(pa.string()), dtype=_STR)


def _hits(values: pd.Series, crit: Criterion) -> np.ndarray:
    """Where ``values`` meet the criterion's comparison (missing values: False).

    A categorical column is compared on its few levels, then spread to the rows
    by their codes, so no Python object is made per row.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        levels = pd.Series(np.asarray(values.cat.categories, dtype=object), dtype=object)
        per_level = _OPS[crit.op](levels, crit.value).fillna(False).to_numpy(dtype=bool)
        codes = values.cat.codes.to_numpy()
        return np.append(per_level, False)[codes]
    hit: np.ndarray = _OPS[crit.op](values, crit.value).fillna(False).to_numpy(dtype=bool)
    return hit


def _equals(values: pd.Series, level: str) -> np.ndarray:
    """Where ``values`` equal ``level`` (a categorical column by its codes)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = list(values.cat.categories)
        if level not in categories:
            return np.zeros(len(values), dtype=bool)
        return np.asarray(values.cat.codes.to_numpy() == categories.index(level))
    return np.asarray(values.astype(object).to_numpy() == level)


def _as_str(values: pd.Series) -> Any:
    """The column as the frame's constructor would type its values, made by arrow where it can.

    A ``string`` column without a missing value becomes pandas' ``str`` straight
    from its arrow data (the same dtype and values as from a Python string per row).
    """
    if isinstance(values.dtype, pd.StringDtype) and len(values) and not values.hasnans:
        import pyarrow as pa

        return pd.array(pa.array(values.array), dtype=_STR)
    return values.to_numpy()


@dataclass(frozen=True)
class Flow:
    """Counts for a STROBE-style flow diagram.

    Attributes
    ----------
    screened
        Patients screened.
    excluded
        Patients excluded (failing at least one criterion).
    included
        Patients included.
    by_reason
        Patients failing each criterion (``criterion.key``; a patient may count
        under several), plus ``"<key>:unknown"`` for missing values.
    first_reason
        Each excluded patient counted once, under the first criterion failed
        in declared order (inclusion before exclusion): these add up to ``excluded``.
    included_by_group
        Included patients per group code.
    labels
        ``{criterion key: label}`` for display.
    not_assessed
        Criteria whose column is absent from the data.
    reasons
        ``{key of by_reason: the reason for exclusion in words}``, as a flow
        diagram prints it: "Younger than 60 years" (the criterion's
        :attr:`~kypho.schema.Criterion.exclusion_reason`), "Age not recorded"
        for ``"inclusion_f:unknown"``.
    """

    screened: int
    excluded: int
    included: int
    by_reason: dict[str, int] = field(default_factory=dict)
    first_reason: dict[str, int] = field(default_factory=dict)
    included_by_group: dict[str, int] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    not_assessed: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)

    def reason(self, key: str) -> str:
        """The reason for exclusion behind a key of :attr:`by_reason`, in words."""
        return self.reasons.get(key) or self.labels.get(key) or key


@dataclass(frozen=True)
class Screening:
    """Result of :func:`screen`.

    Attributes
    ----------
    frame
        One row per patient: id, group, one status column per criterion
        (``met``/``failed``/``present``/``absent``/``unknown``/``not assessed``),
        ``eligible`` and ``failed`` (the failed criteria, "; "-joined, with labels).
    included
        Boolean mask aligned with the screened data.
    flow
        The flow counts.
    criteria
        The criteria applied.
    """

    frame: pd.DataFrame
    included: pd.Series
    flow: Flow
    criteria: tuple[Criterion, ...]


def screen(data: pd.DataFrame, schema: Schema | None = None) -> Screening:
    """Apply every inclusion and exclusion criterion to every patient.

    Parameters
    ----------
    data
        Validated (and possibly derived) data, one row per patient. Not modified.
    schema
        The schema holding the criteria; ``None`` uses the built-in one.

    Returns
    -------
    Screening

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["a", "b", "c"], "group": ["control"] * 3,
    ...                    "age": [70, 59, None]})
    >>> s = screen(df)
    >>> s.frame["eligible"].tolist()
    [True, False, False]
    >>> s.frame["failed"].iloc[1]
    'inclusion (f) Age 60 years or older'
    >>> s.frame["failed"].iloc[2]
    'inclusion (f) Age 60 years or older: unknown (age missing)'
    """
    schema = schema or load_schema()
    n = len(data)
    statuses: dict[str, Any] = {}
    fails: list[tuple[str, np.ndarray, np.ndarray]] = []
    not_assessed: list[str] = []
    for crit in schema.criteria:
        if crit.variable not in data:
            statuses[crit.key] = _words(np.zeros(n, dtype=np.int8), ["not assessed"])
            not_assessed.append(crit.key)
            continue
        values = data[crit.variable]
        known = values.notna().to_numpy(dtype=bool)
        hit = _hits(values, crit) & known
        if crit.kind == "inclusion":
            words = ["met", "failed", "unknown"]
            failed = known & ~hit
        else:
            words = ["present", "absent", "unknown"]
            failed = known & hit
        codes = np.where(hit, 0, 1).astype(np.int8)
        codes[~known] = 2
        statuses[crit.key] = _words(codes, words)
        fails.append((crit.key, failed, ~known))

    labels = {c.key: f"{c.kind} ({c.id}) {c.label}" for c in schema.criteria}
    reasons = np.full(n, "", dtype=object)
    any_fail = np.zeros(n, dtype=bool)
    first = np.full(n, "", dtype=object)
    by_reason: dict[str, int] = {}
    for key, failed, unknown in fails:
        crit = next(c for c in schema.criteria if c.key == key)
        for mask, text, count_key in (
            (failed, labels[key], key),
            (unknown, f"{labels[key]}: unknown ({crit.variable} missing)", f"{key}:unknown"),
        ):
            if not mask.any():
                continue
            by_reason[count_key] = int(mask.sum())
            reasons[mask] = np.where(reasons[mask] == "", text, reasons[mask] + "; " + text)
            first[mask & ~any_fail] = count_key
            any_fail |= mask

    eligible = ~any_fail
    index = data.index
    frame = pd.DataFrame(
        {
            schema.id_column: _as_str(data[schema.id_column])
            if schema.id_column in data
            else np.arange(1, n + 1),
            schema.group_column: data[schema.group_column].to_numpy()
            if schema.group_column in data
            else None,
            **statuses,
            "eligible": eligible,
            "failed": reasons,
        },
        index=index,
    )
    first_counts = pd.Series(first[any_fail]).value_counts()
    order = [k for c in schema.criteria for k in (c.key, f"{c.key}:unknown")]
    included_by_group: dict[str, int] = {}
    if schema.group_column in data:
        groups = data[schema.group_column]
        for level in schema.group_levels:
            included_by_group[level] = int((_equals(groups, level) & eligible).sum())
    flow = Flow(
        screened=n,
        excluded=int(any_fail.sum()),
        included=int(eligible.sum()),
        by_reason={k: by_reason[k] for k in order if k in by_reason},
        first_reason={k: int(first_counts[k]) for k in order if k in first_counts.index},
        included_by_group=included_by_group,
        labels=labels,
        not_assessed=not_assessed,
        reasons=_reasons(schema),
    )
    return Screening(
        frame=frame,
        included=pd.Series(eligible, index=index, name="included"),
        flow=flow,
        criteria=schema.criteria,
    )
