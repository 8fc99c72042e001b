"""Schema-driven validation of patient records, vectorised over columns.

:func:`validate` takes a raw table (one row per patient, from any source) and
returns a :class:`ValidationResult`: the accepted rows, typed; the rejected rows
with every reason; one problem per (row, field); counts of missing values. No row
is dropped or changed silently: ``n_accepted + n_rejected == n_read`` always.

Checks, in order, each over whole columns:

1. column names: schema names or labels (case-insensitive); a missing required
   column raises :class:`~kypho.errors.ColumnError`; unknown columns are kept
   aside and reported; derived columns present in the input are reported and
   ignored (kypho recomputes them).
2. types: numbers, whole numbers, dates, booleans, levels (code or label,
   case-insensitive), ';'-separated lists of codes.
3. ranges and levels declared in the schema.
4. required values present.
5. the id column unique: every row sharing an id is rejected (keeping one would
   be a silent guess).
6. cross-field rules of the schema (e.g. follow-up not before the operation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kypho.errors import ColumnError, ValidationError
from kypho.schema import Schema, Variable, load_schema

__all__ = ["ValidationResult", "resolve_columns", "validate"]

_TRUE = frozenset(["true", "t", "yes", "y", "1", "1.0"])
_FALSE = frozenset(["false", "f", "no", "n", "0", "0.0"])
_PROBLEM_COLUMNS = ["row", "record", "field", "value", "problem", "message"]
_OPS: dict[str, Callable[[pd.Series, pd.Series], pd.Series]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True)
class ValidationResult:
    """What :func:`validate` found.

    Attributes
    ----------
    data
        Accepted rows, typed per the schema (see :func:`validate`), in input order,
        indexed by their 1-based input row number.
    rejected
        Rejected rows with their original values, plus ``row`` and ``reasons``.
    problems
        One row per problem: ``row``, ``record``, ``field``, ``value``, ``problem``
        (a short code), ``message`` (the whole sentence).
    missing
        Missing values per schema column among the accepted rows.
    unknown_columns
        Input columns that are not in the schema (kept out of ``data``).
    ignored_columns
        Derived columns found in the input; kypho recomputes them.
    n_read
        Rows read.
    """

    data: pd.DataFrame
    rejected: pd.DataFrame
    problems: pd.DataFrame
    missing: pd.Series
    unknown_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    n_read: int = 0

    @property
    def n_accepted(self) -> int:
        """Rows accepted."""
        return len(self.data)

    @property
    def n_rejected(self) -> int:
        """Rows rejected."""
        return len(self.rejected)

    @property
    def ok(self) -> bool:
        """True when every row was accepted."""
        return self.n_rejected == 0

    def summary(self) -> str:
        """One line: rows read, accepted, rejected, problems."""
        return (
            f"{_count(self.n_read, 'row')} read: {self.n_accepted} accepted, "
            f"{self.n_rejected} rejected ({_count(len(self.problems), 'problem')})"
        )

    def raise_if_rejected(self) -> None:
        """Raise :class:`~kypho.errors.ValidationError` listing every problem, if any."""
        if self.n_rejected:
            lines = "\n".join(f"  {m}" for m in self.problems["message"])
            raise ValidationError(f"{self.summary()}:\n{lines}", problems=self.problems)


def _count(n: int, noun: str) -> str:
    """``"1 problem"``, ``"2 problems"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def resolve_columns(columns: list[str], schema: Schema) -> dict[str, str]:
    """Map input column names (schema names or labels, any case) to schema names.

    Returns ``{input_name: schema_name}`` for recognised columns only.

    Raises
    ------
    ColumnError
        If two input columns map to the same schema variable.
    """
    lookup: dict[str, str] = {}
    for var in schema:
        for alias in (var.name, var.label, var.display_label):
            lookup.setdefault(alias.strip().casefold(), var.name)
    # a label shared by several timepoints (e.g. "VAS score") is ambiguous; names win
    for var in schema:
        if var.measure is not None:
            label_key = var.label.strip().casefold()
            if lookup.get(label_key) != var.name and label_key not in {
                v.name.casefold() for v in schema
            }:
                lookup.pop(label_key, None)
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    for col in columns:
        name = lookup.get(str(col).strip().casefold())
        if name is None:
            continue
        if name in seen:
            raise ColumnError(
                f"columns {seen[name]!r} and {col!r} both mean {name!r}; keep only one"
            )
        seen[name] = str(col)
        mapping[str(col)] = name
    return mapping


def validate(raw: pd.DataFrame, schema: Schema | None = None) -> ValidationResult:
    """Validate a raw table of patient records against the schema.

    Parameters
    ----------
    raw
        One row per patient. Column names are schema names or labels. Values may
        be strings or already typed. ``raw`` is never modified.
    schema
        The study schema; ``None`` uses kypho's built-in schema.

    Returns
    -------
    ValidationResult
        ``data`` holds the accepted rows typed as: numbers ``float64``; whole
        numbers ``Int64``; categories and ordinals ``Categorical`` over the level
        codes in declared order (ordinals ordered); booleans ``boolean``; dates
        ``datetime64[ns]``; lists a normalised string of codes (``"C;S"``, or
        ``""`` when observed empty); ids and text ``string``.

    Raises
    ------
    ColumnError
        If a required column is absent, or two columns mean the same variable.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"patient_id": ["P-1", "P-2"], "group": ["control", "x"],
    ...                     "sex": ["F", "male"], "age": [70, 71], "level": ["L1", "T12"]})
    >>> result = validate(raw)
    >>> result.n_accepted, result.n_rejected
    (0, 2)
    >>> print(result.problems["message"].iloc[0])
    record P-1 (row 1), 'sex' must be one of 'male', 'female' (got 'F')
    """
    schema = schema or load_schema()
    n = len(raw)
    mapping = resolve_columns([str(c) for c in raw.columns], schema)
    unknown = [str(c) for c in raw.columns if str(c) not in mapping]
    ignored = [c for c, name in mapping.items() if schema[name].derived]
    present = {name: col for col, name in mapping.items() if not schema[name].derived}
    absent_required = [
        v.name for v in schema.input_variables if v.required and v.name not in present
    ]
    if absent_required:
        raise ColumnError(
            "required column(s) missing: "
            + ", ".join(f"{name!r} ({schema[name].label})" for name in absent_required)
            + f"; columns found: {', '.join(map(str, raw.columns)) or 'none'}"
        )
    rows = pd.RangeIndex(1, n + 1, name="row")
    id_col = present.get(schema.id_column)
    ids = (
        _as_text(raw[id_col]).fillna("(no id)").to_numpy()
        if id_col is not None
        else np.array([f"row {i}" for i in rows], dtype=object)
    )
    missing_tokens = {m.strip().casefold() for m in schema.missing_values}
    typed: dict[str, pd.Series] = {}
    problems: list[pd.DataFrame] = []

    def report(
        mask: np.ndarray,
        var_name: str,
        values: pd.Series,
        code: str,
        text: str,
        *,
        got: bool = True,
        quote: bool = True,
    ) -> None:
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        picked = values.to_numpy()[idx]
        shown = [_show(v) for v in picked] if quote else [str(v) for v in picked]
        rec = ids[idx]
        problems.append(
            pd.DataFrame(
                {
                    "row": rows[idx],
                    "record": rec,
                    "field": var_name,
                    "value": shown,
                    "problem": code,
                    "message": [
                        f"record {r} (row {i}), {var_name!r} {text}"
                        + (f" (got {s})" if got else "")
                        for r, i, s in zip(rec, rows[idx], shown, strict=True)
                    ],
                }
            )
        )

    for var in schema.input_variables:
        if var.name not in present:
            continue
        source = raw[present[var.name]].reset_index(drop=True)
        missing = _missing_mask(source, missing_tokens)
        values, bad = _convert(var, source, missing, schema.none_token)
        report(bad, var.name, source, "type", f"must be {var.allowed()}")
        out_of_range = _out_of_range(var, values) & ~bad & ~missing
        report(out_of_range, var.name, source, "range", f"must be {var.allowed()}")
        if var.required:
            report(missing, var.name, source, "required", "is required but missing", got=False)
        values = values.where(~(bad | out_of_range))
        typed[var.name] = values

    if id_col is not None:
        id_values = typed[schema.id_column]
        dup = id_values.duplicated(keep=False).to_numpy() & id_values.notna().to_numpy()
        if dup.any():
            first_rows = (
                pd.Series(rows, index=id_values.index)[dup]
                .groupby(id_values[dup].to_numpy())
                .agg(lambda r: ", ".join(str(x) for x in r))
            )
            where = id_values.map(first_rows).fillna("")
            for rows_text in pd.unique(where[dup]):
                sel = dup & (where == rows_text).to_numpy()
                report(
                    sel,
                    schema.id_column,
                    raw[id_col],
                    "duplicate",
                    f"is shared by rows {rows_text}",
                )

    for rule in schema.rules:
        if rule.left in typed and rule.right in typed:
            left, right = typed[rule.left], typed[rule.right]
            both = left.notna().to_numpy() & right.notna().to_numpy()
            ok = _OPS[rule.op](left, right).fillna(True).to_numpy(dtype=bool)
            shown = pd.Series(
                [
                    f"{rule.left} {a}, {rule.right} {b}"
                    for a, b in zip(_show_series(left), _show_series(right), strict=True)
                ]
            )
            report(
                both & ~ok,
                rule.left,
                shown,
                "rule",
                f"breaks rule {rule.name!r}: {rule.message}",
                quote=False,
            )

    problem_frame = (
        pd.concat(problems, ignore_index=True).sort_values(["row", "field"], kind="stable")
        if problems
        else pd.DataFrame({c: pd.Series(dtype=object) for c in _PROBLEM_COLUMNS})
    ).reset_index(drop=True)
    bad_rows = np.zeros(n, dtype=bool)
    if len(problem_frame):
        bad_rows[problem_frame["row"].to_numpy(dtype=np.int64) - 1] = True

    data = pd.DataFrame(typed)
    data.index = rows
    data = data.loc[~bad_rows]
    reasons = problem_frame.groupby("row", sort=True)["message"].agg("; ".join)
    rejected = raw.reset_index(drop=True).loc[bad_rows].copy()
    rejected.index = rows[bad_rows]
    rejected.insert(0, "row", rejected.index)
    rejected["reasons"] = reasons.reindex(rejected.index).to_numpy()
    return ValidationResult(
        data=data,
        rejected=rejected,
        problems=problem_frame,
        missing=data.isna().sum().rename("missing"),
        unknown_columns=unknown,
        ignored_columns=ignored,
        n_read=n,
    )


def _as_text(s: pd.Series) -> pd.Series:
    """Strings, stripped; whole floats printed without '.0'; NaN stays NaN."""
    if pd.api.types.is_float_dtype(s):
        # integers above 2**53 are not exact in float64: print those as floats
        whole = s.notna() & (s == np.floor(s)) & (s.abs() < 2**53)
        text = s.astype(object).where(~whole, s.where(whole).astype("Int64").astype(object))
        return text.astype("string").where(s.notna())
    return s.astype("string").str.strip()


def _per_unique(s: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply ``fn`` to the distinct values of ``s`` only, then broadcast back.

    Clinical columns hold few distinct values (levels, yes/no, codes), so string
    work on the uniques instead of on every row keeps validation O(n) in numpy.
    Missing values map to missing.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mapped = fn(pd.Series(uniques, dtype=object))
    values = mapped.to_numpy(dtype=object)
    out = np.empty(len(s), dtype=object)
    out[:] = None
    hit = codes >= 0
    out[hit] = values[codes[hit]]
    return pd.Series(out, index=s.index)


_ISO_DATE = r"^\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]*)?$"


def _iso_dates_or_none(values: pd.Series) -> pd.Series:
    """Dates and ISO 8601 date strings as they are; anything else as None (invalid)."""
    text = values.astype("string").str.strip()
    looks_iso = text.str.match(_ISO_DATE).fillna(False).to_numpy(dtype=bool)
    is_date = values.map(lambda v: isinstance(v, dt.date)).to_numpy(dtype=bool)
    out = values.astype(object).where(is_date, text.astype(object).where(looks_iso, None))
    return out.where(is_date | looks_iso, None)


def _missing_mask(s: pd.Series, tokens: set[str]) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return s.isna().to_numpy()
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    is_token = _per_unique(s, lambda u: u.astype("string").str.strip().str.casefold().isin(tokens))
    token_mask: np.ndarray = is_token.fillna(True).to_numpy(dtype=bool)
    na_mask: np.ndarray = s.isna().to_numpy(dtype=bool)
    combined: np.ndarray = np.logical_or(na_mask, token_mask)
    return combined


def _convert(
    var: Variable, s: pd.Series, missing: np.ndarray, none_token: str
) -> tuple[pd.Series, np.ndarray]:
    """Convert one column to its schema type; return (values, bad-value mask)."""
    present = ~missing
    if var.type in ("number", "integer"):
        if pd.api.types.is_bool_dtype(s):
            num = pd.Series(np.full(len(s), np.nan))
            bad = present.copy()
        elif pd.api.types.is_numeric_dtype(s):
            num = s.astype("float64")
            bad = np.zeros(len(s), dtype=bool)
        else:
            num = pd.to_numeric(s.where(present), errors="coerce").astype("float64")
            bad = present & num.isna().to_numpy()
        if var.type == "integer":
            # beyond 2**53 a float is no longer an exact whole number (and Int64 overflows)
            frac = present & ~bad & ((num != np.round(num)) | (num.abs() >= 2**53)).to_numpy()
            bad = bad | frac
            return num.where(~pd.Series(bad)).round().astype("Int64"), bad
        return num.where(~pd.Series(bad)), bad
    if var.type == "date":
        if pd.api.types.is_datetime64_any_dtype(s):
            dates = s.astype("datetime64[ns]")
            return dates, np.zeros(len(s), dtype=bool)
        # ISO 8601 only: "01/03/2020" is 1 March or 3 January depending on the
        # country, and guessing per cell would mix the two in one column.
        # Numbers are not dates here (Excel serials arrive as datetimes from kypho.io);
        # text must look like YYYY-MM-DD before pandas parses it.
        dates = pd.to_datetime(
            _per_unique(s.where(pd.Series(present, index=s.index)), _iso_dates_or_none),
            errors="coerce",
            format="ISO8601",
        )
        # dates outside what datetime64[ns] holds (years 1678-2261) are invalid here
        representable = ((dates >= pd.Timestamp.min) & (dates <= pd.Timestamp.max)).to_numpy(
            dtype=bool
        )
        dates = dates.where(representable)
        return dates.astype("datetime64[ns]"), present & ~representable
    if var.type == "boolean":
        text = _per_unique(s, lambda u: _as_text(u).str.casefold()).astype("string")
        is_true = text.isin(_TRUE).fillna(False).to_numpy(dtype=bool)
        is_false = text.isin(_FALSE).fillna(False).to_numpy(dtype=bool)
        out = pd.Series(pd.array(np.where(is_true, True, False), dtype="boolean"))
        out[~(is_true | is_false)] = pd.NA
        return out, present & ~(is_true | is_false)
    if var.type in ("category", "ordinal"):
        lookup = {c.casefold(): c for c in var.codes}
        lookup.update({lab.casefold(): c for c, lab in var.levels.items()})
        codes = _per_unique(s, lambda u: _as_text(u).str.casefold().map(lookup))
        bad = present & codes.isna().to_numpy()
        cat = pd.Categorical(
            codes.where(~pd.Series(bad)), categories=list(var.codes), ordered=var.type == "ordinal"
        )
        return pd.Series(cat), bad
    if var.type == "list":
        return _convert_list(var, s, present, none_token)
    text = _as_text(s).where(pd.Series(present))
    return text, np.zeros(len(s), dtype=bool)


def _convert_list(
    var: Variable, s: pd.Series, present: np.ndarray, none_token: str
) -> tuple[pd.Series, np.ndarray]:
    codes_, uniques = pd.factorize(s.where(pd.Series(present, index=s.index)), use_na_sentinel=True)
    values, bad_u = _convert_list_values(var, pd.Series(uniques, dtype=object), none_token)
    out_values = np.empty(len(s), dtype=object)
    out_values[:] = None
    hit = codes_ >= 0
    out_values[hit] = values.to_numpy(dtype=object)[codes_[hit]]
    bad = np.zeros(len(s), dtype=bool)
    bad[hit] = bad_u[codes_[hit]]
    return pd.Series(out_values, index=s.index, dtype="string"), bad


def _convert_list_values(
    var: Variable, s: pd.Series, none_token: str
) -> tuple[pd.Series, np.ndarray]:
    """Parse distinct non-missing list cells; return (normalised strings, bad mask)."""
    present = np.ones(len(s), dtype=bool)
    text = _as_text(s)
    lookup = {c.casefold(): c for c in var.codes}
    parts = text.str.split(r"\s*[;,]\s*", regex=True).explode()
    parts = parts[parts.notna() & (parts != "")]
    folded = parts.str.casefold()
    codes = folded.map(lookup)
    is_none = folded == none_token.casefold()
    bad_part = codes.isna() & ~is_none
    bad = np.zeros(len(s), dtype=bool)
    bad[np.asarray(parts.index[bad_part.to_numpy()], dtype=np.int64)] = True
    # "none" together with codes is contradictory
    has_none = np.zeros(len(s), dtype=bool)
    has_code = np.zeros(len(s), dtype=bool)
    has_none[np.asarray(parts.index[is_none.to_numpy()], dtype=np.int64)] = True
    has_code[np.asarray(parts.index[codes.notna().to_numpy()], dtype=np.int64)] = True
    bad |= has_none & has_code
    joined = codes.dropna().groupby(level=0).agg(";".join)
    out = pd.Series(pd.NA, index=s.index, dtype="string")
    out[present & ~bad] = ""
    ok_with_codes = joined.index[~bad[joined.index.to_numpy(dtype=np.int64)]]
    out[ok_with_codes] = joined[ok_with_codes].astype("string")
    return out, present & bad


def _out_of_range(var: Variable, values: pd.Series) -> np.ndarray:
    if var.type not in ("number", "integer", "date") or (var.min is None and var.max is None):
        return np.zeros(len(values), dtype=bool)
    lo, hi = var.min, var.max
    if var.type == "date":
        lo = None if lo is None else pd.Timestamp(lo)
        hi = None if hi is None else pd.Timestamp(hi)
    mask = pd.Series(False, index=values.index)
    if lo is not None:
        mask |= (values < lo).fillna(False)
    if hi is not None:
        mask |= (values > hi).fillna(False)
    return mask.to_numpy(dtype=bool)


def _show(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "an empty cell"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    text = str(value)
    return repr(text) if isinstance(value, str) else text


def _show_series(s: pd.Series) -> list[str]:
    if pd.api.types.is_datetime64_any_dtype(s):
        return [d.date().isoformat() if pd.notna(d) else "missing" for d in s]
    return [str(v) for v in s]
