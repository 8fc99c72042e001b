"""De-identification of study data for export (HIPAA Safe Harbor).

Applied to typed data (one row per patient, schema column names):

* columns whose variable is declared ``phi: direct`` (name, hospital number,
  date of birth, ...) or ``phi: free_text`` (notes may hold anything) are dropped;
* every date column becomes ``<name>_days``: whole days from the patient's
  reference date (the schema's ``reference_date``, the operation date in
  kypho's study), which itself is dropped, as day 0 of every patient would
  reveal nothing but the calendar date would;
* ages (``phi: quasi`` numbers whose unit is years) above 89 become the single
  category ``"90+"``; the column becomes text ("72", "90+").

The study's own record id (``patient_id``) is a pseudonym by the schema's
definition and is kept; it must never be a hospital number.

References
----------
.. [1] 45 CFR §164.514(b)(2), the Safe Harbor method: the 18 identifiers, "all
   elements of dates (except year) ... directly related to an individual", and
   "all ages over 89 ... aggregated into a single category of age 90 or older".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kypho.errors import StoreError
from kypho.schema import Schema, Variable

__all__ = ["AGE_UNITS", "OLDEST_AGE", "deidentify", "dropped_columns"]

#: Ages above this are grouped as "90+".
OLDEST_AGE = 89
#: Units that make a quasi-identifying number an age.
AGE_UNITS = frozenset({"yr", "yrs", "year", "years", "y"})


def dropped_columns(schema: Schema) -> list[str]:
    """The columns a de-identified export drops: ``phi`` ``direct`` or ``free_text``."""
    return [v.name for v in schema if v.phi in ("direct", "free_text")]


def _is_age(var: Variable) -> bool:
    return (
        var.phi == "quasi"
        and var.type in ("integer", "number")
        and (var.unit or "").casefold() in AGE_UNITS
    )


def _age_text(values: pd.Series) -> pd.Series:
    numbers = values.astype("Float64")
    # each distinct age formatted once (a cohort has a few dozen), then laid out
    codes, uniques = pd.factorize(numbers, use_na_sentinel=True)
    shown = np.array([f"{v:g}" for v in np.asarray(uniques, dtype=float)] + [None], dtype=object)
    text = pd.Series(shown[codes], index=values.index, dtype="string")
    return text.where(~(numbers > OLDEST_AGE).fillna(False), f"{OLDEST_AGE + 1}+")


def deidentify(data: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Return a de-identified copy of typed study data (see the module docstring).

    Parameters
    ----------
    data
        Typed records as returned by :meth:`kypho.store.Store.read`; columns not
        in the schema are dropped too (nothing undeclared leaves the store).
    schema
        The study schema whose ``phi`` declarations drive the rules.

    Returns
    -------
    pandas.DataFrame
        A new frame; ``data`` is not modified.

    Raises
    ------
    StoreError
        If ``data`` has date columns but not the schema's ``reference_date`` (the
        operation date) to count from.

    Examples
    --------
    >>> import pandas as pd
    >>> from kypho.schema import load_schema
    >>> df = pd.DataFrame({"patient_id": ["P-1"], "patient_name": ["Ann Lee"], "age": [93],
    ...                    "operation_date": pd.to_datetime(["2020-03-01"]),
    ...                    "last_followup_date": pd.to_datetime(["2020-09-01"])})
    >>> deidentify(df, load_schema()).to_dict("records")
    [{'patient_id': 'P-1', 'age': '90+', 'last_followup_date_days': 184}]
    """
    drop = set(dropped_columns(schema))
    out: dict[str, pd.Series] = {}
    dates = [c for c in data.columns if c in schema and schema[c].type == "date" and c not in drop]
    ref_col = schema.reference_date
    if dates and (ref_col is None or ref_col not in data.columns):
        raise StoreError(
            f"cannot de-identify dates {', '.join(map(repr, dates))} without "
            + (
                f"the {ref_col!r} column to count days from"
                if ref_col
                else "a reference date to count days from (the schema declares no reference_date)"
            )
        )
    reference = pd.to_datetime(data[ref_col]) if ref_col in data.columns else None
    for col in data.columns:
        if col not in schema or col in drop or col == ref_col:
            continue
        var = schema[col]
        values = data[col]
        if var.type == "date" and reference is not None:
            delta = (pd.to_datetime(values) - reference).dt.days
            out[f"{col}_days"] = delta.astype("Int64")
        elif _is_age(var):
            out[col] = _age_text(values)
        else:
            out[col] = values
    # the kept columns are shared, not copied (pandas copies on write, so
    # changing either frame later leaves the other as it is)
    frame = pd.DataFrame(out, index=data.index, copy=False)
    if not len(frame.columns):
        frame = pd.DataFrame(index=data.index, columns=pd.Index([], dtype=np.str_))
    return frame
