"""Classifications: vertebral region, cement distribution grade, leakage, filling tube.

All functions are vectorised over columns and never guess: a case the paper's
rule does not define gets a missing grade and a note saying why.

References
----------
.. [1] Huang J. et al., the kypho paper (``shared/paper/``): "Efficacy
   evaluation" (distribution grade, leakage) and "Surgical technique" (tube).
.. [2] Yeom JS, Kim WJ, Choy WS, et al. Leakage of cement in percutaneous
   transpedicular vertebroplasty for painful osteoporotic compression
   fractures. J Bone Joint Surg Br. 2003;85(1):83-89.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "CementGrades",
    "FillingTubeRule",
    "LeakageCounts",
    "cement_grade",
    "filling_tube",
    "leakage_counts",
    "region_of_level",
]

GRADES = ("I", "II", "III", "IV")
_GRADES = pd.CategoricalDtype(list(GRADES), ordered=True)
_REGIONS = pd.CategoricalDtype(["thoracic", "lumbar"])
_TUBES = ("forward", "side")


def _per_level(values: pd.Series, function: Callable[[pd.Series], Any], missing: Any) -> np.ndarray:
    """``function`` of a column, computed on its levels once when it is categorical.

    ``function`` takes a Series and returns one value per cell; on a categorical
    column it is given the categories (a few) and its result is spread to the
    rows by code, a missing cell taking ``missing``. Elsewhere it gets the column.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        per_level = np.asarray(function(pd.Series(values.cat.categories)))
        table = np.empty(len(per_level) + 1, dtype=per_level.dtype)
        table[:-1] = per_level
        table[-1] = missing
        out: np.ndarray = table[values.cat.codes.to_numpy()]
        return out
    return np.asarray(function(values))


def region_of_level(level: pd.Series) -> pd.Series:
    """Thoracic (T1–T12) or lumbar (L1–L5) from the responsible vertebra.

    Examples
    --------
    >>> list(region_of_level(pd.Series(["T12", "L1", None])))
    ['thoracic', 'lumbar', nan]
    """

    def code(values: pd.Series) -> Any:
        first = values.astype("string").str[0].str.upper()
        return first.map({"T": 0, "L": 1}).fillna(-1).to_numpy(dtype=np.int64)

    codes = _per_level(level, code, -1)
    return pd.Series(
        pd.Categorical.from_codes(codes, dtype=_REGIONS), index=level.index, name=level.name
    )


@dataclass(frozen=True)
class CementGrades:
    """Result of :func:`cement_grade`: ``grade`` (ordered I<II<III<IV) and ``note``."""

    grade: pd.Series
    note: pd.Series


def cement_grade(
    pattern: pd.Series,
    area_ap: pd.Series,
    area_lat: pd.Series,
    *,
    below_50: Literal["ungraded", "low_band"] = "ungraded",
) -> CementGrades:
    """Distribution grade I–IV of the bone cement by the paper's rule.

    Parameters
    ----------
    pattern
        ``"dense"`` (filled tightly) or ``"spongy"``.
    area_ap, area_lat
        Cement area as % of the vertebral body on the anteroposterior and lateral films.
    below_50
        What to do when the cement area is below 50 % (the paper does not grade
        it): ``"ungraded"`` (default) leaves the grade missing with a note;
        ``"low_band"`` puts it with grades I/II (the lowest band the paper has),
        also with a note.

    Returns
    -------
    CementGrades
        ``grade``: ordered categorical; ``note``: empty, or why the grade is
        missing or was assigned by an extension of the rule.

    Notes
    -----
    The paper's rule [1]_: the filling pattern picks the column, the area the row.

    ============================================  =========  ==========
    area on the films                              dense      spongy
    ============================================  =========  ==========
    AP **and/or** lateral in 50–75 %               I          II
    AP **and** lateral > 75 %                      III        IV
    ============================================  =========  ==========

    kypho reads the rule as follows, and documents each case in ``note``:

    * both films > 75 % → III/IV. The bounds: 75 % belongs to 50–75 %, so
      "> 75 %" is strict; 50 % belongs to 50–75 %.
    * otherwise, at least one film in 50–75 % → I/II ("and/or"). This includes
      films that disagree (one > 75 %, the other 50–75 %), and one film
      > 75 % with the other below 50 % (the other film is then noted).
    * no film ≥ 50 % → the paper leaves it undefined: see ``below_50``.
    * only one film measured: I/II when it is in 50–75 %; when it is > 75 %,
      III/IV needs both films, so the grade is missing with a note.
    * pattern missing → grade missing, noted.

    Examples
    --------
    >>> g = cement_grade(pd.Series(["dense", "spongy", "spongy", "dense"]),
    ...                  pd.Series([60.0, 80.0, 80.0, 30.0]), pd.Series([70.0, 90.0, 60.0, 40.0]))
    >>> list(g.grade.astype(object))
    ['I', 'IV', 'II', nan]
    >>> g.note.iloc[3]
    'ungraded: cement area below 50% on both films (not graded by the paper)'
    """
    ap = pd.to_numeric(area_ap).astype("float64").to_numpy()
    lat = pd.to_numeric(area_lat).astype("float64").to_numpy()
    dense = _per_level(pattern, lambda v: _equal(v, "dense"), False)
    spongy = _per_level(pattern, lambda v: _equal(v, "spongy"), False)
    has_ap, has_lat = ~np.isnan(ap), ~np.isnan(lat)
    mid_ap = has_ap & (ap >= 50) & (ap <= 75)
    mid_lat = has_lat & (lat >= 50) & (lat <= 75)
    high_both = has_ap & has_lat & (ap > 75) & (lat > 75)
    low_band = ~high_both & (mid_ap | mid_lat)
    any_film = has_ap | has_lat
    max_area = np.fmax(ap, lat)
    below = any_film & ~high_both & ~low_band & ~(max_area > 75)
    one_high_one_missing = (has_ap ^ has_lat) & (max_area > 75)
    one_high_other_low = has_ap & has_lat & ~high_both & ~low_band & (max_area > 75)

    # bands and notes as small codes: no text per patient until the notes are made
    none, low, high = 0, 1, 2
    band = np.full(len(ap), none, dtype=np.int8)
    band[high_both] = high
    band[low_band] = low
    notes = [""]
    note = np.zeros(len(ap), dtype=np.int64)

    def noted(where: np.ndarray, text: str) -> None:
        notes.append(text)
        note[where] = len(notes) - 1

    noted(
        low_band & (has_ap & has_lat) & ((ap > 75) | (lat > 75)),
        "films disagree (one > 75%, one 50–75%): graded by the 'and/or' 50–75% band",
    )
    if below_50 == "low_band":
        band[below] = low
        noted(below, "cement area below 50%: put in the 50–75% band (below_50='low_band')")
    else:
        noted(below, "ungraded: cement area below 50% on both films (not graded by the paper)")
    band[one_high_other_low] = low if below_50 == "low_band" else none
    noted(
        one_high_other_low,
        "one film > 75%, the other below 50%: "
        + (
            "put in the 50–75% band"
            if below_50 == "low_band"
            else "ungraded (not defined by the paper)"
        ),
    )
    noted(
        one_high_one_missing,
        "ungraded: only one film measured and grade III/IV needs both films > 75%",
    )
    band[one_high_one_missing] = none
    noted(~any_film, "ungraded: cement area not measured")
    missing_pattern = ~(dense | spongy)
    noted(missing_pattern & any_film, "ungraded: filling pattern missing")
    band[missing_pattern] = none

    grade = np.full(len(ap), -1, dtype=np.int8)  # positions in GRADES
    grade[(band == low) & dense] = 0
    grade[(band == low) & spongy] = 1
    grade[(band == high) & dense] = 2
    grade[(band == high) & spongy] = 3
    index = pattern.index
    return CementGrades(
        grade=pd.Series(pd.Categorical.from_codes(grade, dtype=_GRADES), index=index),
        note=pd.Series(_texts(notes, note), index=index),
    )


def _equal(values: pd.Series, value: str) -> np.ndarray:
    """Cells equal to ``value``, compared as Python objects (missing: False)."""
    cells = values.astype(object).where(values.notna(), None).to_numpy()
    out: np.ndarray = cells == value
    return out


def _texts(texts: list[str], codes: np.ndarray) -> Any:
    """``texts[codes]`` as a pandas ``string`` array, made by arrow (no Python string per row)."""
    import pyarrow as pa

    return pd.array(pa.array(texts, pa.string()).take(pa.array(codes)), dtype="string")


@dataclass(frozen=True)
class LeakageCounts:
    """Result of :func:`leakage_counts`, per patient (all missing where not assessed).

    Attributes
    ----------
    any
        Boolean: any leak.
    count
        Number of leaks (Int64).
    by_type
        ``{code: Int64 count}`` of the leaks of each type, in the codes' order.
    """

    any: pd.Series
    count: pd.Series
    by_type: Mapping[str, pd.Series]


def leakage_counts(
    sites: pd.Series, *, codes: Sequence[str] = ("B", "C", "S", "D")
) -> LeakageCounts:
    """Per-patient leakage from the ';'-separated list of leak types.

    Parameters
    ----------
    sites
        A validated ``list`` column (``"C;S"``; ``""`` = observed, no leak;
        missing = not assessed).
    codes
        The leak types, Yeom's B, C, S [2]_ and kypho's D (disc); the schema's
        levels of the column.

    Returns
    -------
    LeakageCounts

    Examples
    --------
    >>> leakage_counts(pd.Series(["C;S", "", None])).count.tolist()
    [2, 0, <NA>]
    """
    # count on the distinct values only (few), then broadcast by factor codes
    factor, uniques = pd.factorize(sites.astype("string"), use_na_sentinel=True)
    known = factor >= 0
    split = [str(u).split(";") for u in uniques]
    by_type: dict[str, pd.Series] = {}
    total = np.zeros(len(sites), dtype=np.int64)
    for code in codes:
        per_unique = np.array([parts.count(code) for parts in split] + [0], dtype=np.int64)
        n = per_unique[factor]  # factor -1 (missing) picks the trailing 0
        total += n
        by_type[code] = _on(pd.Series(pd.array(np.where(known, n, 0), dtype="Int64")), known, sites)
    return LeakageCounts(
        any=_on(pd.Series(pd.array(total > 0, dtype="boolean")), known, sites),
        count=_on(pd.Series(pd.array(total, dtype="Int64")), known, sites),
        by_type=by_type,
    )


def _on(values: pd.Series, known: np.ndarray, like: pd.Series) -> pd.Series:
    """``values`` where ``known``, missing elsewhere, on the index of ``like``."""
    return values.where(known).set_axis(like.index)


@dataclass(frozen=True)
class FillingTubeRule:
    """The experimental technique's choice of filling tube, from fracture morphology.

    The paper ("Surgical technique", Discussion; see ``shared/paper/README.md``
    for the characters lost in extraction): collapse of the anterior wall →
    forward-opening tube; collapse of the upper and/or lower endplate →
    side-opening tube. The control group always used a forward-opening tube.

    Attributes
    ----------
    both
        Tube when the anterior wall *and* an endplate collapsed. The paper does
        not say; kypho's default is ``"forward"``: the anterior cortical breach
        is the leak route the staged "dough stage" injection closes first.
    default
        Tube when no collapse is recorded (``None`` leaves it missing).
    subtype_map
        Used when the morphology flags are missing: Denis compression subtypes
        A (both endplates), B (superior), C (inferior) → side; D (anterior
        cortex buckling) → forward.
    """

    both: Literal["forward", "side"] = "forward"
    default: Literal["forward", "side"] | None = None
    subtype_map: tuple[tuple[str, str], ...] = (
        ("A", "side"),
        ("B", "side"),
        ("C", "side"),
        ("D", "forward"),
    )


def filling_tube(
    group: pd.Series,
    *,
    anterior_wall: pd.Series | None = None,
    superior_endplate: pd.Series | None = None,
    inferior_endplate: pd.Series | None = None,
    subtype: pd.Series | None = None,
    control: str = "control",
    rule: FillingTubeRule | None = None,
) -> pd.Series:
    """Filling-tube opening (forward or side) for each patient.

    Parameters
    ----------
    group
        The treatment group of each patient.
    anterior_wall, superior_endplate, inferior_endplate
        Collapse of the anterior wall and of the endplates (booleans; ``None``
        when not recorded).
    subtype
        Denis compression subtype, used where none of the collapse flags is known.
    control
        The group code of the control arm, which always used a forward-opening tube.
    rule
        See :class:`FillingTubeRule`.

    Examples
    --------
    >>> tube = filling_tube(pd.Series(["experimental", "experimental", "control"]),
    ...                     anterior_wall=pd.Series([True, False, False]),
    ...                     superior_endplate=pd.Series([False, True, True]))
    >>> list(tube)
    ['forward', 'side', 'forward']
    """
    rule = rule or FillingTubeRule()
    n = len(group)

    def flag(values: pd.Series | None) -> tuple[np.ndarray, np.ndarray]:
        if values is None:
            return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        s = values.astype("boolean")
        return s.fillna(False).to_numpy(dtype=bool), s.notna().to_numpy()

    wall, wall_known = flag(anterior_wall)
    sup, sup_known = flag(superior_endplate)
    inf, inf_known = flag(inferior_endplate)
    endplate = sup | inf
    known = wall_known | sup_known | inf_known
    position = {t: i for i, t in enumerate(_TUBES)}  # a tube's code; -1: missing
    forward, side = position["forward"], position["side"]
    tube = np.full(n, -1 if rule.default is None else position[rule.default], dtype=np.int64)
    tube[known & wall & ~endplate] = forward
    tube[known & ~wall & endplate] = side
    tube[known & wall & endplate] = position[rule.both]
    if subtype is not None:
        by_code = {code: position.get(t, -1) for code, t in rule.subtype_map}

        def mapped(values: pd.Series) -> Any:
            # -2: the subtype names no tube, so the tube is not filled in from it
            return values.astype("string").map(by_code).fillna(-2).to_numpy(dtype=np.int64)

        by_subtype = _per_level(subtype, mapped, -2)
        fill = ~known & (by_subtype != -2)
        tube[fill] = by_subtype[fill]
    is_control = _per_level(
        group,
        lambda v: (v.astype("string") == control).fillna(False).to_numpy(dtype=bool),
        False,
    )
    tube[is_control] = forward
    return pd.Series(
        pd.Categorical.from_codes(tube, dtype=pd.CategoricalDtype(list(_TUBES))),
        index=group.index,
    )
