"""Schema-driven validation of patient records, vectorised over columns.

:func:`validate` takes a raw table (one row per patient, from any source) and
returns a :class:`ValidationResult`: the accepted rows, typed; the rejected rows
with every reason; one problem per (row, field); counts of missing values. No row
is dropped or changed silently: ``n_accepted + n_rejected == n_read`` always, and
every value that is not kept as written is listed in ``problems``.

By default a problem in one field *flags that field*: the record is kept, the
field is set missing (so it is left out of that field's analyses and counted as
missing in every table row), and the problem is listed with action ``flagged``.
Structural problems reject the whole record: no id, an id shared by several
rows, no valid group, a line the file reader could not split into the header's
fields. ``strict=True`` (``--strict`` on the command line) rejects the record
for any problem, as the study store does for imports.

Rows are named as the file shows them: ``line 7`` of a CSV file, ``sheet
'Data', row 7`` of a workbook (row 1 is the header), ``case 7`` of an SPSS
file, ``row 7`` (1-based) of a table made in Python.

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
from typing import Any

import numpy as np
import pandas as pd

from kypho.errors import ColumnError, ValidationError
from kypho.schema import Schema, Variable, load_schema
from kypho.schema.dtypes import parse_dates, parse_numbers, token_candidates, typed_column

__all__ = ["FLAGGED", "REJECTED", "UnreadCell", "ValidationResult", "resolve_columns", "validate"]


@dataclass(frozen=True)
class UnreadCell:
    """A cell a file reader could not read exactly; validation reports it.

    ``text`` is what the file holds (a formula, the rest of a too-long line),
    ``reason`` says why it was not read, in words for the user. A
    ``structural`` cell (a line with the wrong number of fields) rejects its
    record; any other flags its field.
    """

    text: str
    reason: str
    structural: bool = False

    def __str__(self) -> str:
        return self.text


_TRUE = frozenset(["true", "t", "yes", "y", "1", "1.0"])
_FALSE = frozenset(["false", "f", "no", "n", "0", "0.0"])
_PROBLEM_COLUMNS = ["row", "record", "field", "value", "problem", "message", "action"]
#: ``problems.action`` of a problem that rejected its record.
REJECTED = "rejected"
#: ``problems.action`` of a problem that set its field missing and kept the record.
FLAGGED = "flagged"
_PLACES = {"line": "line {}", "row": "row {}", "case": "case {}"}
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
        indexed by their 1-based position in the input; flagged fields are missing.
    rejected
        Rejected rows with their original values, plus ``row`` (as the file
        shows it) and ``reasons``.
    problems
        One row per problem: ``row`` (as the file shows it), ``record``,
        ``field``, ``value`` (as written), ``problem`` (a short code),
        ``message`` (the whole sentence), ``action`` (:data:`REJECTED` or
        :data:`FLAGGED`).
    missing
        Missing values per schema column among the accepted rows (flagged
        fields included).
    unknown_columns
        Input columns that are not in the schema (kept out of ``data``).
    ignored_columns
        Derived columns found in the input; kypho recomputes them.
    n_read
        Rows read.
    strict
        Whether any problem rejected its record (``strict=True``).
    """

    data: pd.DataFrame
    rejected: pd.DataFrame
    problems: pd.DataFrame
    missing: pd.Series
    unknown_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    n_read: int = 0
    strict: bool = False

    @property
    def flagged(self) -> pd.DataFrame:
        """The problems that flagged a field of a kept record (the field set missing)."""
        return self.problems[self.problems["action"] == FLAGGED]

    @property
    def n_flagged(self) -> int:
        """Fields flagged (set missing) in kept records."""
        return int((self.problems["action"] == FLAGGED).sum())

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
        """One line: rows read, accepted, rejected, fields flagged, problems."""
        flagged = self.n_flagged
        return (
            f"{_count(self.n_read, 'row')} read: {self.n_accepted} accepted, "
            f"{self.n_rejected} rejected"
            + (f", {_count(flagged, 'field')} flagged (set missing)" if flagged else "")
            + f" ({_count(len(self.problems), 'problem')})"
        )

    def raise_if_rejected(self) -> None:
        """Raise :class:`~kypho.errors.ValidationError` listing every problem, if any."""
        if self.n_rejected:
            lines = "\n".join(f"  {m}" for m in self.problems["message"])
            raise ValidationError(f"{self.summary()}:\n{lines}", problems=self.problems)


def _count(n: int, noun: str) -> str:
    """``"1 problem"``, ``"2 problems"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


_ALIASES: dict[int, tuple[Schema, dict[str, str]]] = {}


def _aliases(schema: Schema) -> dict[str, str]:
    """``{name, label or label with unit, case-folded: schema name}``, built once per schema."""
    cached = _ALIASES.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    lookup: dict[str, str] = {}
    for var in schema:
        for alias in (var.name, var.label, var.display_label):
            lookup.setdefault(alias.strip().casefold(), var.name)
    # a label shared by several timepoints (e.g. "VAS score") is ambiguous; names win
    names = {v.name.casefold() for v in schema}
    for var in schema:
        if var.measure is not None:
            label_key = var.label.strip().casefold()
            if lookup.get(label_key) != var.name and label_key not in names:
                lookup.pop(label_key, None)
    if len(_ALIASES) > 16:
        _ALIASES.clear()
    _ALIASES[id(schema)] = (schema, lookup)
    return lookup


def resolve_columns(columns: list[str], schema: Schema) -> dict[str, str]:
    """Map input column names (schema names or labels, any case) to schema names.

    Returns ``{input_name: schema_name}`` for recognised columns only.

    Raises
    ------
    ColumnError
        If two input columns map to the same schema variable.
    """
    lookup = _aliases(schema)
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


def validate(
    raw: pd.DataFrame, schema: Schema | None = None, *, strict: bool = False
) -> ValidationResult:
    """Validate a raw table of patient records against the schema.

    Parameters
    ----------
    raw
        One row per patient. Column names are schema names or labels. Values may
        be strings or already typed. ``raw`` is never modified. A table from
        :func:`kypho.io.read_table` carries the file's row numbers in its index
        (named ``line``, ``row`` or ``case``), which messages use.
    schema
        The study schema; ``None`` uses kypho's built-in schema.
    strict
        ``False`` (the default): a field with a problem is flagged and set
        missing, its record kept; only structural problems (no id, a shared id,
        no valid group, an unreadable line) reject the record. ``True``: any
        problem rejects the record.

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
    >>> result.n_accepted, result.n_rejected, result.n_flagged
    (1, 1, 1)
    >>> print(result.problems["message"].iloc[0])
    record P-1 (row 1), 'sex' must be one of 'male', 'female' (got 'F')
    >>> validate(raw, strict=True).n_rejected
    2
    """
    schema = schema or load_schema()
    columns = _columns(raw, schema)
    rows, place = _file_rows(raw)
    id_col = columns.present.get(schema.id_column)
    # the columns are read from a view without the table's attrs: pandas copies a
    # frame's attrs (deeply) into every Series taken from it, ~0.1 ms each
    # (and on positions 0..n-1, as every check indexes them)
    cells = raw.copy(deep=False)
    cells.attrs = {}
    cells.index = pd.RangeIndex(len(raw))
    found = _Problems(
        rows,
        place,
        _record_ids(cells, id_col, rows, place),
        strict=strict,
        structural_fields=frozenset([schema.id_column, schema.group_column]),
    )
    has_unread = bool(raw.attrs.get("kypho_unread", False))
    if has_unread:
        _report_unread(cells, columns.mapping, found)
    tokens = schema.missing_tokens
    typed = {
        var.name: _check_variable(
            var,
            cells[columns.present[var.name]],
            tokens,
            schema.none_token,
            found,
            has_unread=has_unread,
        )
        for var in schema.input_variables
        if var.name in columns.present
    }
    if id_col is not None:
        _check_ids(schema.id_column, typed[schema.id_column], cells[id_col], found)
    _check_rules(schema, typed, found)
    return _result(raw, typed, found, columns, strict=strict)


def _id_keys(raw: pd.DataFrame, schema: Schema) -> pd.Series | None:
    """Each row's id as a key that two rows share whenever :func:`validate` gives them one id.

    What an import checks across the whole file before it validates the file in
    blocks (:meth:`kypho.store.Store.import_frame`): only the ids relate one row
    to another, so when no two keys are equal no two rows share an id. The key
    of an ``id`` or ``string`` variable's cell is the trimmed text
    :func:`validate` makes of it, a missing token's included (equal tokens then
    make equal keys: the caller takes the whole file's path, which is never
    wrong), at a small part of typing's cost; an id of another type is typed
    as :func:`validate` types it. ``None`` when the file has no id column.
    Raises :class:`~kypho.errors.ColumnError` as :func:`validate` does.
    """
    columns = _columns(raw, schema)
    id_col = columns.present.get(schema.id_column)
    if id_col is None:
        return None
    source = raw[id_col].reset_index(drop=True)
    var = schema[schema.id_column]
    if var.type in ("id", "string") and not pd.api.types.is_float_dtype(source):
        # validate's text is this key where the cell is no missing token, else missing
        return _as_text(source)
    n = len(source)
    # a scratch list of problems: validate reports them, with their record ids
    scratch = _Problems(
        np.arange(1, n + 1, dtype=np.int64),
        "row {}",
        lambda idx: np.full(len(idx), "", dtype=object),
        strict=True,
        structural_fields=frozenset(),
    )
    tokens = schema.missing_tokens
    return _check_variable(
        var,
        source,
        tokens,
        schema.none_token,
        scratch,
        has_unread=bool(raw.attrs.get("kypho_unread", False)),
    )


def _rows_from_index(raw: pd.DataFrame) -> bool:
    """Whether messages name ``raw``'s rows by its index (so any slice of it names them alike)."""
    index = raw.index
    kind = index.name if isinstance(index.name, str) else None
    return kind in _PLACES and pd.api.types.is_integer_dtype(index) and bool(index.is_unique)


@dataclass(frozen=True)
class _Columns:
    """How the input's columns map to the schema."""

    mapping: dict[str, str]  # input column -> schema name, for recognised columns
    unknown: list[str]  # input columns the schema does not know
    ignored: list[str]  # derived columns found in the input
    present: dict[str, str]  # schema name -> input column, entered variables only


def _columns(raw: pd.DataFrame, schema: Schema) -> _Columns:
    """Map the input's columns to the schema; raise if a required one is absent."""
    mapping = resolve_columns([str(c) for c in raw.columns], schema)
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
    return _Columns(
        mapping=mapping,
        unknown=[str(c) for c in raw.columns if str(c) not in mapping],
        ignored=[c for c, name in mapping.items() if schema[name].derived],
        present=present,
    )


def _record_ids(
    raw: pd.DataFrame, id_col: str | None, rows: np.ndarray, place: str
) -> Callable[[np.ndarray], np.ndarray]:
    """The record ids of rows at given positions, as messages name them.

    The id as written (trimmed), or the row where there is none. Made only for
    the rows a problem names (a clean file names none): the text of every id
    cost ~0.1-0.2 s at 10⁶ rows, and :func:`_as_text` treats each cell alone.
    """
    if id_col is None:
        return lambda idx: np.array([place.format(i) for i in rows[idx]], dtype=object)
    source = raw[id_col].reset_index(drop=True)

    def ids(idx: np.ndarray) -> np.ndarray:
        shown: np.ndarray = (
            _as_text(source.iloc[idx].reset_index(drop=True))
            .fillna("(no id)")
            .to_numpy(dtype=object)
        )
        return shown

    return ids


class _Problems:
    """The problems found so far, one frame per check, and the records they reject.

    Only the failing rows of a check are formatted as text.
    """

    def __init__(
        self,
        rows: np.ndarray,
        place: str,
        ids: Callable[[np.ndarray], np.ndarray],
        *,
        strict: bool,
        structural_fields: frozenset[str],
    ) -> None:
        self.rows = rows
        self.place = place
        self.ids = ids
        self.strict = strict
        self.structural_fields = structural_fields
        self.reject = np.zeros(len(rows), dtype=bool)
        self.frames: list[pd.DataFrame] = []

    def report(
        self,
        mask: np.ndarray,
        var_name: str,
        values: pd.Series | np.ndarray,
        code: str,
        text: str | np.ndarray,
        *,
        got: bool = True,
        quote: bool = True,
        structural: bool = False,
    ) -> None:
        """List a problem for each row in ``mask``: ``values`` as written, ``text`` the rule."""
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        cells = values.to_numpy() if isinstance(values, pd.Series) else values
        picked = cells[idx]
        shown = [_show(v) for v in picked] if quote else [str(v) for v in picked]
        texts = [text] * len(idx) if isinstance(text, str) else list(text[idx])
        rec = self.ids(idx)
        rows = self.rows[idx]
        rejects = structural or self.strict or var_name in self.structural_fields
        if rejects:
            self.reject[idx] = True
        place = self.place
        self.frames.append(
            pd.DataFrame(
                {
                    "row": rows,
                    "record": rec,
                    "field": var_name,
                    "value": shown,
                    "problem": code,
                    "message": [
                        f"record {r} ({place.format(i)}), {var_name!r} {t}"
                        + (f" (got {v})" if got else "")
                        for r, i, v, t in zip(rec, rows, shown, texts, strict=True)
                    ],
                    "action": REJECTED if rejects else FLAGGED,
                    "_position": idx,
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        """Every problem in row order; a rejected record's problems all say so."""
        problems = (
            pd.concat(self.frames, ignore_index=True).sort_values(
                ["_position", "field"], kind="stable"
            )
            if self.frames
            else pd.DataFrame(
                {c: pd.Series(dtype=object) for c in [*_PROBLEM_COLUMNS, "_position"]}
            )
        ).reset_index(drop=True)
        if len(problems):
            rejected_row = self.reject[problems["_position"].to_numpy(dtype=np.int64)]
            problems.loc[rejected_row, "action"] = REJECTED
        return problems.drop(columns="_position")


def _report_unread(raw: pd.DataFrame, mapping: dict[str, str], found: _Problems) -> None:
    """Report the cells a kypho reader could not read exactly, in any column (schema or not)."""
    for column in raw.columns:
        source = raw[column].reset_index(drop=True)
        unread, structural, reasons = _unread(source)
        if unread.any():
            name = mapping.get(str(column), str(column))
            found.report(unread & structural, name, source, "unreadable", reasons, structural=True)
            found.report(unread & ~structural, name, source, "unreadable", reasons)


def _check_variable(
    var: Variable,
    source: pd.Series,
    tokens: set[str],
    none_token: str,
    found: _Problems,
    *,
    has_unread: bool,
) -> pd.Series:
    """One column typed per ``var``, its problems reported; a dropped value is missing."""
    n = len(source)
    unread = _unread(source)[0] if has_unread else np.zeros(n, dtype=bool)
    if unread.any():
        source = source.where(~unread)
    if var.type == "number" and source.dtype == np.float64:
        # already numbers (a CSV reader typed them): no conversion, no copy when clean
        numbers = source.to_numpy()
        missing = np.isnan(numbers)
        bad = np.isinf(numbers)
        values = pd.Series(np.where(bad, np.nan, numbers)) if bad.any() else source
    else:
        # the distinct values are found once per column and shared by every check;
        # a string column needs them only where they are mapped to levels
        needs_levels = var.type in ("boolean", "category", "ordinal")
        fact = (
            _factorize(source)
            if needs_levels or not isinstance(source.dtype, pd.StringDtype)
            else None
        )
        missing = _missing_mask(source, tokens, fact)
        values, bad = _convert(var, source, missing, none_token, fact)
    found.report(bad, var.name, source, "type", f"must be {var.allowed()}")
    out_of_range = _out_of_range(var, values) & ~bad & ~missing
    found.report(out_of_range, var.name, source, "range", f"must be {var.allowed()}")
    if var.required:
        found.report(
            missing & ~unread, var.name, source, "required", "is required but missing", got=False
        )
    dropped = bad | out_of_range
    return values.where(~dropped) if dropped.any() else values


def _check_ids(name: str, ids: pd.Series, written: pd.Series, found: _Problems) -> None:
    """Reject every row whose id another row shares (keeping one would be a silent guess)."""
    dup = ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
    if not dup.any():
        return
    shown_rows = pd.Series(found.rows, index=ids.index)
    first_rows = (
        shown_rows[dup].groupby(ids[dup].to_numpy()).agg(lambda r: ", ".join(str(x) for x in r))
    )
    where = ids.map(first_rows).fillna("").to_numpy(dtype=object)
    noun = found.place.split(" {}")[0].split(", ")[-1]
    found.report(
        dup,
        name,
        written,
        "duplicate",
        np.array([f"is shared by {noun}s {w}" for w in where], dtype=object),
        structural=True,
    )


def _check_rules(schema: Schema, typed: dict[str, pd.Series], found: _Problems) -> None:
    """The schema's cross-field rules; a broken rule flags its left-hand field."""
    n = len(found.rows)
    for rule in schema.rules:
        if rule.left not in typed or rule.right not in typed:
            continue
        left, right = typed[rule.left], typed[rule.right]
        both = left.notna().to_numpy() & right.notna().to_numpy()
        ok = _OPS[rule.op](left, right).fillna(True).to_numpy(dtype=bool)
        broken = both & ~ok
        if not broken.any():
            continue
        shown = np.empty(n, dtype=object)
        idx = np.flatnonzero(broken)
        shown[idx] = [
            f"{rule.left} {a}, {rule.right} {b}"
            for a, b in zip(
                _show_series(left.iloc[idx]), _show_series(right.iloc[idx]), strict=True
            )
        ]
        found.report(
            broken,
            rule.left,
            shown,
            "rule",
            f"breaks rule {rule.name!r}: {rule.message}",
            quote=False,
        )
        typed[rule.left] = typed[rule.left].where(~pd.Series(broken))


def _result(
    raw: pd.DataFrame,
    typed: dict[str, pd.Series],
    found: _Problems,
    columns: _Columns,
    *,
    strict: bool,
) -> ValidationResult:
    """The accepted rows typed, the rejected rows as written with their reasons."""
    n = len(raw)
    positions = pd.RangeIndex(1, n + 1, name="row")
    problems = found.frame()
    reject, rows = found.reject, found.rows
    # each column's own array, on one index: nothing to align, nothing copied
    data = pd.DataFrame(
        {name: values.array for name, values in typed.items()}, index=positions, copy=False
    )
    if reject.any():
        data = data.loc[~reject]
    reasons_by_row = (
        problems[problems["action"] == REJECTED]
        .groupby("row", sort=False)["message"]
        .agg("; ".join)
    )
    # only the rejected rows are copied (not the whole input)
    rejected = raw.iloc[np.flatnonzero(reject)].reset_index(drop=True)
    rejected.index = positions[reject]
    rejected.insert(0, "row", rows[reject])
    rejected["reasons"] = reasons_by_row.reindex(rows[reject]).to_numpy()
    return ValidationResult(
        data=data,
        rejected=rejected,
        problems=problems,
        missing=data.isna().sum().rename("missing"),
        unknown_columns=columns.unknown,
        ignored_columns=columns.ignored,
        n_read=n,
        strict=strict,
    )


def _file_rows(raw: pd.DataFrame) -> tuple[np.ndarray, str]:
    """The rows as the file shows them, and how to name one ("line {}")."""
    if _rows_from_index(raw):
        kind = str(raw.index.name)
        place = _PLACES[kind]
        sheet = raw.attrs.get("kypho_sheet")
        if kind == "row" and isinstance(sheet, str):
            place = f"sheet {sheet!r}, row {{}}"
        return raw.index.to_numpy(dtype=np.int64), place
    return np.arange(1, len(raw) + 1, dtype=np.int64), "row {}"


def _unread(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells holding an :class:`UnreadCell`: (mask, structural mask, reasons)."""
    n = len(values)
    if values.dtype != object:
        empty = np.zeros(n, dtype=bool)
        return empty, empty, np.empty(n, dtype=object)
    cells = values.to_numpy(dtype=object)
    mask = np.fromiter((type(v) is UnreadCell for v in cells), dtype=bool, count=n)
    structural = np.zeros(n, dtype=bool)
    reasons = np.empty(n, dtype=object)
    for i in np.flatnonzero(mask):
        cell = cells[i]
        structural[i] = cell.structural
        reasons[i] = f"could not be read: {cell.reason}"
    return mask, structural, reasons


def _as_text(s: pd.Series) -> pd.Series:
    """Strings, stripped; whole floats printed without '.0'; NaN stays NaN."""
    if pd.api.types.is_float_dtype(s):
        # integers above 2**53 are not exact in float64: print those as floats
        whole = s.notna() & (s == np.floor(s)) & (s.abs() < 2**53)
        text = s.astype(object).where(~whole, s.where(whole).astype("Int64").astype(object))
        return text.astype("string").where(s.notna())
    return s.astype("string").str.strip()


_Factorized = tuple[np.ndarray, pd.Series]


def _factorize(s: pd.Series) -> _Factorized | None:
    """(codes per row, -1 where missing; the distinct values) of a text column, else None."""
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return None
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, pd.Series(uniques, dtype=object)


def _factorize_any(s: pd.Series) -> _Factorized:
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, pd.Series(uniques, dtype=object)


def _broadcast(codes: np.ndarray, values: np.ndarray, fill: object = None) -> np.ndarray:
    """``values[codes]`` with ``fill`` where a code is -1 (a missing cell)."""
    table = np.empty(len(values) + 1, dtype=values.dtype)
    table[:-1] = values
    table[-1] = fill
    out: np.ndarray = table[codes]
    return out


def _missing_mask(s: pd.Series, tokens: set[str], fact: _Factorized | None = None) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return s.isna().to_numpy()
    if fact is None and isinstance(s.dtype, pd.StringDtype):
        return _string_tokens(s, tokens)
    if fact is None:
        fact = _factorize(s)
        assert fact is not None
    codes, uniques = fact
    texts = uniques.to_numpy(dtype=object)
    if isinstance(s.dtype, pd.StringDtype):
        is_text = np.ones(len(texts), dtype=bool)  # a string column holds only strings
        is_number = is_text
    else:
        is_text = np.fromiter((type(u) is str for u in texts), dtype=bool, count=len(texts))
        # a number or a boolean is never a token (NaN, the one that prints as one, is missing)
        is_number = np.fromiter(
            (isinstance(u, int | float | np.number | np.bool_) for u in texts),
            dtype=bool,
            count=len(texts),
        )
    if (is_text | is_number).all():
        # what pandas' string strip does (arrow's trim), without pandas calls per column
        import pyarrow as pa
        import pyarrow.compute as pc

        token_u = np.zeros(len(texts), dtype=bool)
        if is_text.any():
            where = np.flatnonzero(is_text)
            stripped = pc.utf8_trim_whitespace(pa.array(texts[where].tolist(), pa.string()))
            # casefolding never shortens a text, so a longer one is no token
            longest = max((len(t) for t in tokens), default=0)
            short = np.asarray(
                pc.less_equal(pc.utf8_length(stripped), longest).to_numpy(zero_copy_only=False),
                dtype=bool,
            )
            candidates = np.flatnonzero(short)
            words = stripped.take(pa.array(candidates, pa.int64())).to_pylist()
            token_u[where[candidates]] = [t.casefold() in tokens for t in words]
    else:
        is_token = uniques.astype("string").str.strip().str.casefold().isin(tokens)
        token_u = is_token.fillna(True).to_numpy(dtype=bool)
    # a missing cell (code -1) is missing
    if not token_u.any():
        return np.asarray(codes < 0)
    mask: np.ndarray = _broadcast(codes, token_u, True)
    return mask


def _string_tokens(s: pd.Series, tokens: set[str]) -> np.ndarray:
    """Missing cells and missing tokens of a string column, cell by cell in arrow (no hashing)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # casefolding never shortens a text, so a longer one is no token; only the
    # cells that may be short once trimmed are trimmed (ids and names are not)
    longest = max((len(t) for t in tokens), default=0)
    texts = pa.array(s.array)
    maybe = np.flatnonzero(token_candidates(texts, longest))
    stripped = pc.utf8_trim_whitespace(texts.take(pa.array(maybe, pa.int64())))
    short = pc.fill_null(pc.less_equal(pc.utf8_length(stripped), longest), False)
    kept = np.flatnonzero(np.asarray(short.to_numpy(zero_copy_only=False), dtype=bool))
    candidates = maybe[kept]
    mask = s.isna().to_numpy(dtype=bool, copy=True)
    if not candidates.size:
        return mask
    words = stripped.take(pa.array(kept, pa.int64()))
    # ASCII text casefolds as arrow lowers it; only other text needs Python's casefold
    ascii_ = np.asarray(
        pc.fill_null(pc.string_is_ascii(words), True).to_numpy(zero_copy_only=False), dtype=bool
    )
    hit = np.asarray(
        pc.fill_null(
            pc.is_in(pc.ascii_lower(words), value_set=pa.array(sorted(tokens), pa.string())),
            False,
        ).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    other = np.flatnonzero(~ascii_)
    if other.size:
        hit[other] = [
            w is not None and w.casefold() in tokens
            for w in words.take(pa.array(other, pa.int64())).to_pylist()
        ]
    mask[candidates] |= hit
    return mask


def _convert(
    var: Variable,
    s: pd.Series,
    missing: np.ndarray,
    none_token: str,
    fact: _Factorized | None = None,
) -> tuple[pd.Series, np.ndarray]:
    """Convert one column to its schema type; return (values, bad-value mask)."""
    present = ~missing
    if var.type in ("number", "integer"):
        numbers, bad = parse_numbers(
            s.where(pd.Series(present, index=s.index)) if missing.any() else s
        )
        if var.type == "integer":
            # beyond 2**53 a float is no longer an exact whole number (and Int64 overflows)
            with np.errstate(invalid="ignore"):
                frac = (
                    present & ~bad & ((numbers != np.round(numbers)) | (np.abs(numbers) >= 2**53))
                )
            bad = bad | frac
            whole = np.where(bad, np.nan, np.round(numbers))
            return typed_column(var, pd.array(whole, dtype="Float64").astype("Int64")), bad
        return pd.Series(np.where(bad, np.nan, numbers)), bad
    if var.type == "date":
        # ISO 8601 only: "01/03/2020" is 1 March or 3 January depending on the
        # country, and guessing per cell would mix the two in one column. Partial
        # dates, time zones and years outside 1677-2262 are reported, not read.
        dates, bad = parse_dates(s.where(pd.Series(present, index=s.index)) if missing.any() else s)
        return pd.Series(dates, dtype="datetime64[ns]"), bad
    if var.type in ("boolean", "category", "ordinal"):
        codes, uniques = fact if fact is not None else _factorize_any(s)
        folded = _folded(uniques)
        if var.type == "boolean":
            true_u = np.array([f in _TRUE for f in folded], dtype=bool)
            false_u = np.array([f in _FALSE for f in folded], dtype=bool)
            is_true = _broadcast(codes, true_u, False)
            is_false = _broadcast(codes, false_u, False)
            known = is_true | is_false
            out = pd.Series(pd.arrays.BooleanArray(is_true, ~known))
            return out, present & ~known
        lookup = {c.casefold(): c for c in var.codes}
        lookup.update({lab.casefold(): c for c, lab in var.levels.items()})
        position = {c: i for i, c in enumerate(var.codes)}
        level = [position.get(lookup.get(f, ""), -1) for f in folded]
        # each row's level position, -1 where the cell names no level
        rows = _broadcast(codes, np.array(level, dtype=np.int64), -1)
        bad = present & (rows < 0)
        cat = pd.Categorical.from_codes(rows, dtype=_levels_dtype(var))
        return pd.Series(cat), bad
    if var.type == "list":
        return _convert_list(var, s, present, none_token)
    text = _as_text(s).where(pd.Series(present))
    return text, np.zeros(len(s), dtype=bool)


def _folded(uniques: pd.Series) -> list[str]:
    """Distinct cells as text, trimmed and case-folded: ``_as_text`` for a handful of values.

    ``uniques`` holds no missing value (they are set apart by factorizing). Text
    is trimmed by arrow, as pandas' string ``strip`` trims it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = [u if isinstance(u, str) else str(u) for u in uniques.to_numpy(dtype=object)]
    trimmed = pc.utf8_trim_whitespace(pa.array(texts, pa.string())).to_pylist()
    return [t.casefold() for t in trimmed]


_LEVELS: dict[tuple[tuple[str, ...], bool], pd.CategoricalDtype] = {}


def _levels_dtype(var: Variable) -> pd.CategoricalDtype:
    """The categorical dtype of a level variable, made once (making one checks its levels)."""
    key = (tuple(var.codes), var.type == "ordinal")
    dtype = _LEVELS.get(key)
    if dtype is None:
        if len(_LEVELS) > 256:
            _LEVELS.clear()
        dtype = _LEVELS[key] = pd.CategoricalDtype(list(key[0]), ordered=key[1])
    return dtype


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
    bad = np.zeros(len(s), dtype=bool)
    # an empty part (";", ",", ";;", "C;;S") is not "observed, no leak": it is reported
    empty = (parts.isna() | (parts == "")).to_numpy(dtype=bool)
    bad[np.asarray(parts.index[empty], dtype=np.int64)] = True
    parts = parts[~empty]
    folded = parts.str.casefold()
    codes = folded.map(lookup)
    is_none = folded == none_token.casefold()
    bad_part = codes.isna() & ~is_none
    bad[np.asarray(parts.index[bad_part.to_numpy()], dtype=np.int64)] = True
    # "none" together with codes is contradictory
    has_none = np.zeros(len(s), dtype=bool)
    has_code = np.zeros(len(s), dtype=bool)
    has_none[np.asarray(parts.index[is_none.to_numpy()], dtype=np.int64)] = True
    has_code[np.asarray(parts.index[codes.notna().to_numpy()], dtype=np.int64)] = True
    bad |= (has_none & has_code) | ~(has_none | has_code)
    joined = codes.dropna().groupby(level=0).agg(";".join)
    out = pd.Series(pd.NA, index=s.index, dtype="string")
    out[present & ~bad] = ""
    ok_with_codes = joined.index[~bad[joined.index.to_numpy(dtype=np.int64)]]
    out[ok_with_codes] = joined[ok_with_codes].astype("string")
    return out, present & bad


def _out_of_range(var: Variable, values: pd.Series) -> np.ndarray:
    if var.type not in ("number", "integer", "date") or (var.min is None and var.max is None):
        return np.zeros(len(values), dtype=bool)
    # missing values compare False (NaN, NaT)
    bounds: list[Any]
    if var.type == "date":
        array = values.to_numpy(dtype="datetime64[ns]")
        bounds = [
            None if b is None else pd.Timestamp(b).to_datetime64() for b in (var.min, var.max)
        ]
    else:
        array = values.to_numpy(dtype=np.float64, na_value=np.nan)
        bounds = [var.min, var.max]
    mask = np.zeros(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        if bounds[0] is not None:
            mask |= array < bounds[0]
        if bounds[1] is not None:
            mask |= array > bounds[1]
    return mask


def _show(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "an empty cell"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, UnreadCell):
        return repr(value.text)
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, pd.Timestamp | dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    text = str(value)
    return repr(text) if isinstance(value, str) else text


def _show_series(s: pd.Series) -> list[str]:
    if pd.api.types.is_datetime64_any_dtype(s):
        return [d.date().isoformat() if pd.notna(d) else "missing" for d in s]
    return [str(v) for v in s]
