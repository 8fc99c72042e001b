"""Inter- and intra-rater reliability of every measure in a table of repeated reads.

The reads table is long: one row per read of one subject by one rater.

=========  ==============================================================
column     meaning
=========  ==============================================================
subject    what was measured: a patient, or a patient's film at a timepoint
rater      who read it
read       1 for a rater's first read, 2 (3, ...) for repeats; optional
           (absent: every row is a first read)
others     one column per measure: numbers (heights, ratios, angles), or
           grades of an ordinal scale (e.g. the cement grade I–IV)
=========  ==============================================================

:func:`reliability` compares, for every measure,

* **inter-rater**: the raters' first reads of the subjects every rater read:
  ICC(A,1) (two-way random effects, absolute agreement, single rater) and, with
  two raters, Bland–Altman; for a grade, weighted kappa (linear and quadratic)
  for each pair of raters;
* **intra-rater**: each rater's first and second reads of the subjects read
  twice: ICC(A,1) with the raters as fixed (two-way mixed effects, absolute
  agreement), Bland–Altman; weighted kappa for a grade.

A grade column's scale comes from the study schema (an ordinal variable of the
same name) or from ``scales``; kypho never guesses the order of grades.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kypho.errors import ColumnError, DataError, StatisticsError
from kypho.schema import Schema, load_schema
from kypho.stats.reliability import (
    BlandAltmanResult,
    bland_altman,
    icc,
    weighted_kappa,
)

__all__ = ["ReliabilityResult", "ReliabilityRow", "reliability"]

_KEYS = ("subject", "rater", "read")


@dataclass(frozen=True)
class ReliabilityRow:
    """One statistic of one comparison of one measure."""

    measure: str
    label: str
    comparison: str
    statistic: str
    estimate: float
    ci_low: float
    ci_high: float
    n: int
    interpretation: str
    detail: str


@dataclass(frozen=True)
class ReliabilityResult:
    """What :func:`reliability` found: one row per statistic, and the pairs for plots.

    Attributes
    ----------
    rows
        Every statistic (:class:`ReliabilityRow`).
    pairs
        ``{(measure, comparison): (a, b, BlandAltmanResult)}`` for the plots.
    units
        ``{measure: unit}`` from the schema where known.
    notes
        What was left out and why (subjects not read by every rater, ...).
    """

    rows: tuple[ReliabilityRow, ...]
    pairs: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, BlandAltmanResult]] = field(
        default_factory=dict
    )
    units: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per statistic."""
        cols = list(ReliabilityRow.__dataclass_fields__)
        return pd.DataFrame([[getattr(r, c) for c in cols] for r in self.rows], columns=cols)


def _scale(
    name: str, schema: Schema, scales: Mapping[str, Sequence[str]]
) -> tuple[str, ...] | None:
    if name in scales:
        return tuple(map(str, scales[name]))
    if name in schema and schema[name].type == "ordinal":
        return schema[name].codes
    return None


def _wide(data: pd.DataFrame, measure: str, by: str, where: pd.Series) -> pd.DataFrame:
    part = data.loc[where, ["subject", by, measure]]
    return part.pivot_table(
        index="subject", columns=by, values=measure, aggfunc="first", dropna=False
    )


def reliability(
    reads: pd.DataFrame,
    *,
    schema: Schema | None = None,
    scales: Mapping[str, Sequence[str]] | None = None,
    confidence: float = 0.95,
) -> ReliabilityResult:
    """Inter- and intra-rater reliability of every measure column of ``reads``.

    Parameters
    ----------
    reads
        The long reads table (see the module docstring). Not modified.
    schema
        Labels, units and ordinal scales of measures named as schema variables.
    scales
        ``{column: [grades in order]}`` for grade columns the schema does not know.
    confidence
        Level of every interval.

    Returns
    -------
    ReliabilityResult

    Raises
    ------
    ColumnError
        If ``subject`` or ``rater`` is missing, or there is no measure column.
    DataError
        If a subject has two rows for the same rater and read, or a grade
        column's scale is unknown.
    """
    schema = schema or load_schema()
    scales = dict(scales or {})
    missing = [c for c in ("subject", "rater") if c not in reads]
    if missing:
        raise ColumnError(
            f"the reads table needs the column(s) {', '.join(map(repr, missing))} "
            "(one row per read: subject, rater, read, then one column per measure)"
        )
    data = reads.copy()
    data["subject"] = data["subject"].astype(str)
    data["rater"] = data["rater"].astype(str)
    if "read" in data:
        reads_no = pd.to_numeric(data["read"], errors="coerce")
        bad = data.loc[reads_no.isna() | (reads_no < 1) | (reads_no % 1 != 0), "read"]
        if len(bad):
            raise DataError(
                f"'read' must be 1 for a first read, 2 for a repeat, ... (got {bad.iloc[0]!r} "
                f"in row {int(bad.index[0]) + 1})"
            )
        data["read"] = reads_no.astype(int)
    else:
        data["read"] = 1
    dup = data.duplicated(subset=list(_KEYS), keep=False)
    if dup.any():
        first = data.loc[dup].iloc[0]
        raise DataError(
            f"subject {first['subject']} has more than one row for rater {first['rater']}, "
            f"read {first['read']}; each read must be one row"
        )
    measures = [c for c in data.columns if c not in _KEYS]
    if not measures:
        raise ColumnError("the reads table has no measure column besides subject, rater and read")
    rows: list[ReliabilityRow] = []
    pairs: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, BlandAltmanResult]] = {}
    notes: list[str] = []
    units: dict[str, str] = {}
    raters = sorted(data["rater"].unique())
    first = data["read"] == 1
    for measure in measures:
        label = schema[measure].label if measure in schema else measure
        if measure in schema and schema[measure].unit:
            units[measure] = str(schema[measure].unit)
        scale = _scale(measure, schema, scales)
        numeric = pd.to_numeric(data[measure], errors="coerce")
        if scale is None:
            bad = data[measure].notna() & numeric.isna()
            if bad.any():
                raise DataError(
                    f"column {measure!r} holds text ({data.loc[bad, measure].iloc[0]!r}) where a "
                    "number was expected; if it is a grade, give its grades in order (an ordinal "
                    f"variable of the schema, or --scale {measure}=GRADE1,GRADE2,... on the command line)"
                )
            data[measure] = numeric
        comparisons: list[tuple[str, pd.DataFrame, str]] = []
        inter = _wide(data, measure, "rater", first)
        if len(raters) >= 2:
            comparisons.append(("inter-rater", inter, "random"))
        for rater in raters:
            mine = data["rater"] == rater
            intra = _wide(data, measure, "read", mine & data["read"].isin([1, 2]))
            if intra.shape[1] >= 2:
                comparisons.append((f"intra-rater ({rater})", intra, "fixed"))
        for comparison, wide, kind in comparisons:
            complete = wide.dropna()
            left_out = len(wide) - len(complete)
            if left_out:
                notes.append(
                    f"{label}, {comparison}: {left_out} subject(s) without every read left out"
                )
            if scale is None:
                rows += _numeric_rows(measure, label, comparison, complete, kind, confidence, pairs)
            else:
                rows += _grade_rows(measure, label, comparison, complete, scale, confidence)
    return ReliabilityResult(tuple(rows), pairs, units, tuple(notes))


def _numeric_rows(
    measure: str,
    label: str,
    comparison: str,
    wide: pd.DataFrame,
    raters: str,
    confidence: float,
    pairs: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, BlandAltmanResult]],
) -> list[ReliabilityRow]:
    out: list[ReliabilityRow] = []
    n = len(wide)
    try:
        r = icc(wide.to_numpy(dtype=float), form="ICC(A,1)", confidence=confidence)
    except StatisticsError as exc:
        return [
            ReliabilityRow(
                measure,
                label,
                comparison,
                "ICC(A,1)",
                np.nan,
                np.nan,
                np.nan,
                n,
                "undefined",
                str(exc),
            )
        ]
    model = "two-way random effects" if raters == "random" else "two-way mixed effects"
    out.append(
        ReliabilityRow(
            measure,
            label,
            comparison,
            "ICC(A,1)",
            r.icc,
            r.ci_low,
            r.ci_high,
            r.n_subjects,
            r.interpretation_ci,
            f"{model}, absolute agreement, single rater (Shrout–Fleiss ICC(2,1)); "
            f"F({r.dof:g}, {r.dof_denominator:g}) = {r.statistic:.2f}",
        )
    )
    if wide.shape[1] == 2:
        a, b = (wide.iloc[:, i].to_numpy(dtype=float) for i in (0, 1))
        who = f"{wide.columns[0]} − {wide.columns[1]}"
        if comparison.startswith("intra"):
            who = "read 1 − read 2"
        ba = bland_altman(a, b, confidence=confidence)
        pairs[(measure, comparison)] = (a, b, ba)
        out.append(
            ReliabilityRow(
                measure,
                label,
                comparison,
                "Bland–Altman bias",
                ba.bias,
                ba.bias_ci_low,
                ba.bias_ci_high,
                ba.n,
                "",
                f"{who}; SD of differences {ba.sd:.3g}",
            )
        )
        for which, value, lo, hi in (
            ("lower", ba.loa_low, ba.loa_low_ci_low, ba.loa_low_ci_high),
            ("upper", ba.loa_high, ba.loa_high_ci_low, ba.loa_high_ci_high),
        ):
            out.append(
                ReliabilityRow(
                    measure,
                    label,
                    comparison,
                    f"Bland–Altman {which} limit",
                    value,
                    lo,
                    hi,
                    ba.n,
                    "",
                    f"bias {'−' if which == 'lower' else '+'} {ba.multiplier:.2f} SD",
                )
            )
    return out


def _grade_rows(
    measure: str,
    label: str,
    comparison: str,
    wide: pd.DataFrame,
    scale: tuple[str, ...],
    confidence: float,
) -> list[ReliabilityRow]:
    out: list[ReliabilityRow] = []
    for c1, c2 in itertools.combinations(wide.columns, 2):
        for weights in ("linear", "quadratic"):
            try:
                k = weighted_kappa(
                    wide[c1], wide[c2], categories=scale, weights=weights, confidence=confidence
                )
            except StatisticsError as exc:
                out.append(
                    ReliabilityRow(
                        measure,
                        label,
                        comparison,
                        f"kappa ({weights})",
                        np.nan,
                        np.nan,
                        np.nan,
                        len(wide),
                        "undefined",
                        str(exc),
                    )
                )
                continue
            pair = "read 1 vs read 2" if comparison.startswith("intra") else f"{c1} vs {c2}"
            out.append(
                ReliabilityRow(
                    measure,
                    label,
                    comparison,
                    f"weighted kappa ({weights})",
                    k.kappa,
                    k.ci_low,
                    k.ci_high,
                    k.n,
                    "",
                    f"{pair}; SE {k.se:.3f}",
                )
            )
    return out
