"""Cement distribution from outlines: vertebral body and cement on the AP and lateral films.

The rater outlines the vertebral body and the cement on each film (polygons, in
pixels) and chooses the filling pattern; kypho computes each cement area as a
percentage of the body's area and the grade I–IV by
:func:`kypho.classify.cement_grade` (one implementation: its reading of the
paper's rule, including the cases the paper leaves undefined, applies as is).

References
----------
.. [1] Huang J. et al., the kypho paper (``shared/paper/``), "Efficacy
   evaluation": the distribution grade of bone cement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from kypho.classify import cement_grade
from kypho.errors import LandmarkError

__all__ = ["CementMeasures", "cement_distribution", "cement_fraction", "polygon_area"]

FloatArray = npt.NDArray[np.float64]


def _polygon(points: npt.ArrayLike, what: str) -> FloatArray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise LandmarkError(
            f"the {what} outline must be a list of (x, y) points (got shape {arr.shape})"
        )
    if len(arr) < 3:
        raise LandmarkError(
            f"the {what} outline has {len(arr)} point(s); an outline needs at least 3"
        )
    if not np.isfinite(arr).all():
        raise LandmarkError(f"the {what} outline has a point that is not placed")
    return arr


def polygon_area(points: npt.ArrayLike) -> float:
    """Area of a simple polygon by the shoelace formula (in squared input units).

    Examples
    --------
    >>> polygon_area([(0, 0), (4, 0), (4, 3), (0, 3)])
    12.0
    """
    p = _polygon(points, "polygon")
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def _segments_cross(p: FloatArray) -> bool:
    """Whether two non-adjacent edges of the closed polygon ``p`` intersect."""
    n = len(p)
    a, b = p, np.roll(p, -1, axis=0)
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue
            d1 = _orient(a[j], b[j], a[i])
            d2 = _orient(a[j], b[j], b[i])
            d3 = _orient(a[i], b[i], a[j])
            d4 = _orient(a[i], b[i], b[j])
            if d1 * d2 < 0 and d3 * d4 < 0:
                return True
    return False


def _orient(a: FloatArray, b: FloatArray, c: FloatArray) -> float:
    return float((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))


def _inside(points: FloatArray, poly: FloatArray) -> npt.NDArray[np.bool_]:
    """Even-odd rule: which ``points`` lie inside (or on) the closed polygon."""
    x, y = points[:, 0][:, None], points[:, 1][:, None]
    x1, y1 = poly[:, 0][None, :], poly[:, 1][None, :]
    x2, y2 = np.roll(poly[:, 0], -1)[None, :], np.roll(poly[:, 1], -1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        crosses = ((y1 > y) != (y2 > y)) & (x < (x2 - x1) * (y - y1) / (y2 - y1) + x1)
        on_edge = (
            (
                np.abs((x2 - x1) * (y - y1) - (y2 - y1) * (x - x1))
                <= 1e-9 * (1 + np.abs(x) + np.abs(y))
            )
            & ((x - x1) * (x - x2) <= 0)
            & ((y - y1) * (y - y2) <= 0)
        )
    inside: npt.NDArray[np.bool_] = (crosses.sum(axis=1) % 2 == 1) | on_edge.any(axis=1)
    return inside


def cement_fraction(body: npt.ArrayLike, cement: npt.ArrayLike, *, film: str = "") -> float:
    """Cement area as a percentage of the vertebral body's area on one film.

    Parameters
    ----------
    body, cement
        The outlines, ``[(x, y), ...]`` in pixels (the pixel size cancels).
    film
        Names the film in messages (``"AP"``, ``"lateral"``).

    Returns
    -------
    float
        ``100 × area(cement) / area(body)``.

    Raises
    ------
    LandmarkError
        If an outline has fewer than three points, no area, crosses itself, or
        the cement outline leaves the body outline (cement beyond the cortex is
        leakage, recorded by its Yeom type, not part of the distribution).

    Examples
    --------
    >>> cement_fraction([(0, 0), (10, 0), (10, 10), (0, 10)], [(1, 1), (9, 1), (9, 9), (1, 9)])
    64.0
    """
    on = f" on the {film} film" if film else ""
    b = _polygon(body, f"vertebral body{on}")
    c = _polygon(cement, f"cement{on}")
    for poly, what in ((b, "vertebral body"), (c, "cement")):
        if _segments_cross(poly):
            raise LandmarkError(
                f"the {what} outline{on} crosses itself; place its points in order around the edge"
            )
        if polygon_area(poly) <= 0:
            raise LandmarkError(
                f"the {what} outline{on} encloses no area (its points lie on a line)"
            )
    if not _inside(c, b).all():
        raise LandmarkError(
            f"the cement outline{on} extends beyond the vertebral body outline; outline only "
            "the cement inside the body (cement beyond the cortex is leakage, recorded by its type)"
        )
    return 100.0 * polygon_area(c) / polygon_area(b)


@dataclass(frozen=True)
class CementMeasures:
    """Result of :func:`cement_distribution`.

    Attributes
    ----------
    area_ap, area_lat
        Cement area (% of the body) on the AP and lateral films; NaN where the
        film was not outlined.
    grade
        ``"I"``–``"IV"``, or ``None`` where the paper's rule gives no grade.
    note
        Why the grade is missing or how an undefined case was read (empty otherwise),
        from :func:`kypho.classify.cement_grade`.
    """

    area_ap: float
    area_lat: float
    grade: str | None
    note: str


def cement_distribution(
    pattern: str | None,
    *,
    ap: tuple[Sequence[tuple[float, float]], Sequence[tuple[float, float]]] | None = None,
    lateral: tuple[Sequence[tuple[float, float]], Sequence[tuple[float, float]]] | None = None,
) -> CementMeasures:
    """Area fractions on the two films and the distribution grade I–IV.

    Parameters
    ----------
    pattern
        The filling pattern the rater chose (a level of the schema's filling
        pattern, e.g. ``"dense"`` or ``"spongy"``), or ``None``.
    ap, lateral
        ``(body outline, cement outline)`` on each film; ``None`` when that film
        was not outlined.

    Returns
    -------
    CementMeasures

    Examples
    --------
    >>> square = [(0, 0), (10, 0), (10, 10), (0, 10)]
    >>> inner = [(1, 1), (9, 1), (9, 9), (1, 9)]
    >>> m = cement_distribution("dense", ap=(square, inner), lateral=(square, inner))
    >>> m.area_ap, m.grade
    (64.0, 'I')
    >>> cement_distribution("dense", ap=(square, [(1, 1), (2, 1), (2, 2)])).note
    'ungraded: cement area below 50% on both films (not graded by the paper)'
    """
    area_ap = cement_fraction(*ap, film="AP") if ap is not None else float("nan")
    area_lat = cement_fraction(*lateral, film="lateral") if lateral is not None else float("nan")
    graded = cement_grade(
        pd.Series([pattern], dtype=object), pd.Series([area_ap]), pd.Series([area_lat])
    )
    grade = graded.grade.iloc[0]
    return CementMeasures(
        area_ap=area_ap,
        area_lat=area_lat,
        grade=None if pd.isna(grade) else str(grade),
        note=str(graded.note.iloc[0]),
    )
