"""Six-point vertebral morphometry on the lateral film: landmarks → heights, ratios, angle, grade.

A rater (or an automatic detector) places six points on each of three vertebral
bodies — the injured one and its neighbours above and below: the anterior,
middle and posterior points of the superior endplate, then of the inferior
endplate. From them and the pixel size kypho computes

* the anterior, middle and posterior heights of each body in mm,
* the paper's anterior and middle height ratios of the injured body,
* the wedge angle between the injured body's endplate lines,
* the Genant grade from the smaller of the two ratios,

always with :mod:`kypho.measures`' formulas (one implementation; this module
only converts pixels to millimetres and refuses impossible point sets).

Everything is vectorised: :func:`measure_lateral_batch` takes an array of shape
``(n, 3, 6, 2)`` (reads × vertebrae × points × x/y) and returns one row per
read; :func:`measure_lateral` is the one-read form that raises.

References
----------
.. [1] Huang J. et al., the kypho paper (``shared/paper/``), "Efficacy evaluation".
.. [2] Genant HK, Wu CY, van Kuijk C, Nevitt MC. Vertebral fracture assessment
   using a semiquantitative technique. J Bone Miner Res. 1993;8(9):1137-48.
.. [3] Black DM, Cummings SR, Stone K, et al. A new approach to defining normal
   vertebral dimensions. J Bone Miner Res. 1991;6(8):883-92 (six-point placement).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from kypho.errors import LandmarkError
from kypho.measures import genant_grade, height_ratio, landmark_height, wedge_angle_from_landmarks

__all__ = [
    "HEIGHTS",
    "POINTS",
    "VERTEBRAE",
    "LateralMeasures",
    "PixelSize",
    "calibrate",
    "check_lateral",
    "measure_lateral",
    "measure_lateral_batch",
]

FloatArray = npt.NDArray[np.float64]

#: The three vertebral bodies, in array order.
VERTEBRAE: tuple[str, ...] = ("above", "injured", "below")
#: The six points of one body, in array order.
POINTS: tuple[str, ...] = (
    "superior anterior",
    "superior middle",
    "superior posterior",
    "inferior anterior",
    "inferior middle",
    "inferior posterior",
)
#: The three heights of one body.
HEIGHTS: tuple[str, ...] = ("anterior", "middle", "posterior")

# below this many mm a height (or an endplate's length) counts as zero
_ZERO_MM = 1e-6


@dataclass(frozen=True)
class PixelSize:
    """The size of one pixel on the film, in mm.

    Attributes
    ----------
    column_mm
        Width of a pixel (the x step, between columns).
    row_mm
        Height of a pixel (the y step, between rows).
    source
        Where it came from: ``"PixelSpacing"`` or ``"ImagerPixelSpacing"`` (the
        DICOM attribute), ``"calibration"`` (a known length on the film) or
        ``"given"``.
    """

    column_mm: float
    row_mm: float
    source: str = "given"

    def __post_init__(self) -> None:
        for name in ("column_mm", "row_mm"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise LandmarkError(
                    f"the pixel size must be a positive number of mm (got {name} = {value}); "
                    "calibrate the film by a known length"
                )

    @classmethod
    def square(cls, mm: float, source: str = "given") -> PixelSize:
        """A square pixel of ``mm`` on both axes."""
        return cls(float(mm), float(mm), source)


def calibrate(
    start: tuple[float, float],
    end: tuple[float, float],
    length_mm: float,
    *,
    aspect: float = 1.0,
) -> PixelSize:
    """Pixel size from a segment of known length drawn on the film.

    Parameters
    ----------
    start, end
        ``(x, y)`` in pixels of the two ends of the segment (e.g. a ruler's marks
        or a calibration ball's diameter).
    length_mm
        Its true length in mm.
    aspect
        Row height over column width of one pixel (1 for square pixels).

    Returns
    -------
    PixelSize
        With ``source="calibration"``.

    Raises
    ------
    LandmarkError
        If the segment has no length or ``length_mm`` is not positive.

    Examples
    --------
    >>> calibrate((10, 10), (10, 110), 20.0)
    PixelSize(column_mm=0.2, row_mm=0.2, source='calibration')
    """
    if not (np.isfinite(length_mm) and length_mm > 0):
        raise LandmarkError(
            f"the calibration length must be a positive number of mm (got {length_mm})"
        )
    if not (np.isfinite(aspect) and aspect > 0):
        raise LandmarkError(f"the pixel aspect ratio must be positive (got {aspect})")
    dx = float(end[0]) - float(start[0])
    dy = (float(end[1]) - float(start[1])) * aspect
    pixels = float(np.hypot(dx, dy))
    if not (np.isfinite(pixels) and pixels > 0):
        raise LandmarkError(
            "the two ends of the calibration segment are the same point; "
            "click both ends of the known length"
        )
    column = length_mm / pixels
    return PixelSize(column, column * aspect, "calibration")


@dataclass(frozen=True)
class LateralMeasures:
    """What one read of the lateral film gives (see :func:`measure_lateral`).

    Attributes
    ----------
    heights_mm
        ``{vertebra: {"anterior": h, "middle": h, "posterior": h}}`` in mm.
    anterior_ratio, middle_ratio
        The injured body's height ratios (%), by :func:`kypho.measures.height_ratio`.
    wedge_angle
        Degrees, by :func:`kypho.measures.wedge_angle_from_landmarks`; positive
        when the body is wedged anteriorly.
    genant
        Genant grade ``"0"``–``"3"`` from the smaller ratio, by
        :func:`kypho.measures.genant_grade`.
    pixel_size
        The pixel size used.
    """

    heights_mm: dict[str, dict[str, float]]
    anterior_ratio: float
    middle_ratio: float
    wedge_angle: float
    genant: str
    pixel_size: PixelSize

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values: ``height_<vertebra>_<side>`` (mm), ``anterior_ratio``,
        ``middle_ratio`` (%), ``wedge_angle_deg``, ``genant`` and the pixel size."""
        out: dict[str, Any] = {
            f"height_{v}_{h}": self.heights_mm[v][h] for v in VERTEBRAE for h in HEIGHTS
        }
        out.update(
            anterior_ratio=self.anterior_ratio,
            middle_ratio=self.middle_ratio,
            wedge_angle_deg=self.wedge_angle,
            genant=self.genant,
            pixel_column_mm=self.pixel_size.column_mm,
            pixel_row_mm=self.pixel_size.row_mm,
            pixel_size_source=self.pixel_size.source,
        )
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row: :meth:`to_dict`."""
        return pd.DataFrame([self.to_dict()])


def _as_points(points: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.shape[-3:] != (3, 6, 2):
        raise LandmarkError(
            "landmarks must be three vertebrae (above, injured, below) of six (x, y) points "
            f"each (superior then inferior endplate, anterior-middle-posterior); got shape {arr.shape}"
        )
    return arr


def _in_mm(points: FloatArray, column_mm: FloatArray, row_mm: FloatArray) -> FloatArray:
    scale = np.stack([column_mm, row_mm], axis=-1)[:, None, None, :]
    return points * scale


def _cross(a: FloatArray, b: FloatArray) -> FloatArray:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1]


def _problems(mm: FloatArray) -> list[list[str]]:
    """Every geometric problem of each read; ``mm`` has shape ``(n, 3, 6, 2)``."""
    n = mm.shape[0]
    found: list[list[str]] = [[] for _ in range(n)]

    def flag(mask: npt.NDArray[np.bool_], text: str) -> None:
        for i in np.flatnonzero(mask):
            found[i].append(text)

    finite = np.asarray(np.isfinite(mm).all(axis=-1), dtype=bool)  # (n, 3, 6)
    for v, vert in enumerate(VERTEBRAE):
        for p, point in enumerate(POINTS):
            flag(~finite[:, v, p], f"{vert} vertebra: the {point} point is not placed")
    bad = ~np.all(finite, axis=(1, 2))
    sup, inf = mm[:, :, 0:3, :], mm[:, :, 3:6, :]  # (n, 3, 3, 2): anterior, middle, posterior
    heights = np.hypot(*(sup - inf).transpose(3, 0, 1, 2))  # (n, 3, 3)
    axis = (sup[:, :, 2] - sup[:, :, 0] + inf[:, :, 2] - inf[:, :, 0]) / 2.0  # (n, 3, 2)
    normal = np.stack([-axis[..., 1], axis[..., 0]], axis=-1)
    side = np.sign(_dot(sup - inf, normal[:, :, None, :]))  # (n, 3, 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        for v, vert in enumerate(VERTEBRAE):
            ok = ~bad
            for h, name in enumerate(HEIGHTS):
                flag(
                    ok & (heights[:, v, h] < _ZERO_MM),
                    f"{vert} vertebra: the {name} height is zero (the superior and inferior "
                    f"{name} points coincide)",
                )
            for e, plate in ((sup, "superior"), (inf, "inferior")):
                seg = e[:, v, 2] - e[:, v, 0]
                length2 = _dot(seg, seg)
                flag(
                    ok & (np.sqrt(length2) < _ZERO_MM),
                    f"{vert} vertebra: the anterior and posterior points of the {plate} "
                    "endplate coincide",
                )
                t = _dot(e[:, v, 1] - e[:, v, 0], seg) / length2
                flag(
                    ok & (np.sqrt(length2) >= _ZERO_MM) & ~((t > 0) & (t < 1)),
                    f"{vert} vertebra: the middle point of the {plate} endplate is not between "
                    "its anterior and posterior points (place them in order: anterior, middle, "
                    "posterior)",
                )
            flag(
                ok & (_dot(sup[:, v, 2] - sup[:, v, 0], inf[:, v, 2] - inf[:, v, 0]) <= 0),
                f"{vert} vertebra: the superior and inferior endplates run in opposite "
                "directions (anterior and posterior points swapped on one of them)",
            )
            nonzero = (heights[:, v] >= _ZERO_MM).all(axis=-1)
            mixed = ~((side[:, v] == side[:, v, :1]).all(axis=-1) & (side[:, v, 0] != 0))
            flag(
                ok & nonzero & mixed,
                f"{vert} vertebra: the superior and inferior endplate lines cross (the "
                "superior endplate must lie on the same side of the inferior one at the "
                "anterior, middle and posterior points)",
            )
        consistent = ~bad & (side != 0).all(axis=(1, 2))
        inj_axis, inj_normal = axis[:, 1], normal[:, 1]
        inj_side = side[:, 1, 0]
        centre = mm.mean(axis=2)  # (n, 3, 2)
        for v, vert, sign in ((0, "above", 1.0), (2, "below", -1.0)):
            flag(
                consistent & (_dot(axis[:, v], inj_axis) <= 0),
                f"{vert} vertebra: its anterior and posterior points face the other way from "
                "the injured vertebra's",
            )
            flag(
                consistent & (side[:, v, 0] != inj_side),
                f"{vert} vertebra: its superior and inferior endplates are swapped relative "
                "to the injured vertebra's",
            )
            offset = _dot(centre[:, v] - centre[:, 1], inj_normal) * inj_side * sign
            flag(
                consistent & (offset <= 0),
                f"{vert} vertebra: it does not lie {vert} the injured vertebra (check that "
                "the three vertebrae are in order above, injured, below)",
            )
    return found


def check_lateral(
    points: npt.ArrayLike, pixel_size: PixelSize | Sequence[PixelSize] | None = None
) -> list[list[str]]:
    """Every geometric problem of each read, in words; empty lists where it can be measured.

    Parameters
    ----------
    points
        Shape ``(3, 6, 2)`` for one read or ``(n, 3, 6, 2)``, in pixels:
        vertebrae in :data:`VERTEBRAE` order, points in :data:`POINTS` order.
    pixel_size
        One :class:`PixelSize` (or one per read); ``None``: square pixels of 1 mm
        (the checks only depend on the pixel aspect).

    Returns
    -------
    list of list of str
        One list of problems per read.
    """
    arr = _as_points(points).reshape(-1, 3, 6, 2)
    col, row = _pixel_arrays(pixel_size, arr.shape[0])
    return _problems(_in_mm(arr, col, row))


def _pixel_arrays(
    pixel_size: PixelSize | Sequence[PixelSize] | None, n: int
) -> tuple[FloatArray, FloatArray]:
    if pixel_size is None:
        return np.ones(n), np.ones(n)
    sizes = [pixel_size] * n if isinstance(pixel_size, PixelSize) else list(pixel_size)
    if len(sizes) != n:
        raise LandmarkError(f"{n} reads need {n} pixel sizes (got {len(sizes)})")
    return (
        np.array([s.column_mm for s in sizes], dtype=np.float64),
        np.array([s.row_mm for s in sizes], dtype=np.float64),
    )


def _compute(
    arr: FloatArray, pixel_size: PixelSize | Sequence[PixelSize]
) -> tuple[dict[str, Any], list[list[str]]]:
    """Every measure of ``(n, 3, 6, 2)`` reads as arrays, and each read's problems."""
    n = arr.shape[0]
    col, row = _pixel_arrays(pixel_size, n)
    mm = _in_mm(arr, col, row)
    problems = _problems(mm)
    bad = np.array([bool(p) for p in problems], dtype=bool)
    mm = mm.copy()
    mm[bad] = np.nan
    out: dict[str, Any] = {}
    heights: dict[tuple[int, int], FloatArray] = {}
    for v, vert in enumerate(VERTEBRAE):
        for h, name in enumerate(HEIGHTS):
            sup, inf = mm[:, v, h], mm[:, v, 3 + h]
            heights[v, h] = landmark_height((sup[:, 0], sup[:, 1]), (inf[:, 0], inf[:, 1]))
            out[f"height_{vert}_{name}"] = heights[v, h]
    ant = height_ratio(heights[1, 0], heights[0, 0], heights[2, 0])
    mid = height_ratio(heights[1, 1], heights[0, 1], heights[2, 1])
    inj = mm[:, 1]
    out["anterior_ratio"] = ant
    out["middle_ratio"] = mid
    out["wedge_angle_deg"] = wedge_angle_from_landmarks(
        (inj[:, 0, 0], inj[:, 0, 1]),
        (inj[:, 2, 0], inj[:, 2, 1]),
        (inj[:, 3, 0], inj[:, 3, 1]),
        (inj[:, 5, 0], inj[:, 5, 1]),
    )
    out["genant"] = genant_grade(ant, mid).to_numpy()  # the smaller ratio's grade
    return out, problems


def measure_lateral_batch(
    points: npt.ArrayLike, pixel_size: PixelSize | Sequence[PixelSize]
) -> pd.DataFrame:
    """Measure many reads at once; impossible reads get a ``problem`` and no numbers.

    Parameters
    ----------
    points
        Shape ``(n, 3, 6, 2)`` in pixels (see :func:`check_lateral`).
    pixel_size
        One :class:`PixelSize` for all reads, or one per read.

    Returns
    -------
    pandas.DataFrame
        One row per read: ``height_<vertebra>_<anterior|middle|posterior>`` (mm),
        ``anterior_ratio``, ``middle_ratio`` (%), ``wedge_angle_deg`` (°), ``genant``
        (ordered categorical) and ``problem`` (empty text when the read is
        measurable; otherwise every problem, ``"; "``-separated, and the numbers
        are missing).
    """
    out, problems = _compute(_as_points(points).reshape(-1, 3, 6, 2), pixel_size)
    out["problem"] = ["; ".join(p) for p in problems]
    frame = pd.DataFrame(out)
    frame["genant"] = pd.Categorical(frame["genant"], categories=["0", "1", "2", "3"], ordered=True)
    frame["problem"] = frame["problem"].astype("string")
    return frame


def measure_lateral(
    points: npt.ArrayLike, pixel_size: PixelSize, *, where: str = ""
) -> LateralMeasures:
    """Measure one read of the lateral film.

    Parameters
    ----------
    points
        Shape ``(3, 6, 2)``, in pixels: the vertebrae above, injured and below,
        each with its six points in :data:`POINTS` order (superior endplate
        anterior, middle, posterior; then inferior endplate the same).
    pixel_size
        The film's :class:`PixelSize`.
    where
        Names the read in error messages, e.g. ``"record P-017, lateral film (pre)"``.

    Returns
    -------
    LateralMeasures

    Raises
    ------
    LandmarkError
        If the points cannot be measured: a point missing, points out of order
        along an endplate, a zero height, crossed endplate lines, or vertebrae out
        of order. The message lists every problem.

    Notes
    -----
    Points are converted to mm with the pixel size (so non-square pixels are
    handled), then every measure comes from :mod:`kypho.measures`: heights by
    :func:`~kypho.measures.landmark_height`, ratios by
    :func:`~kypho.measures.height_ratio` (the injured height over the mean of
    the neighbours' [1]_), the wedge angle by
    :func:`~kypho.measures.wedge_angle_from_landmarks` between the injured
    body's superior and inferior corner-to-corner lines, and the grade by
    :func:`~kypho.measures.genant_grade` [2]_. The image may face left or right
    and have y down or up; only the points' relative order is checked.

    Examples
    --------
    Three 30 mm deep bodies on a film of 0.2 mm pixels (y down); the injured one
    is 20 mm high in front and 30 mm behind, its neighbours 25 mm throughout:

    >>> def body(top, h_ant, h_post, x0=100.0, depth=150.0):
    ...     h_mid = (h_ant + h_post) / 2
    ...     return [(x0, top + h_post - h_ant), (x0 + depth / 2, top + (h_post - h_ant) / 2),
    ...             (x0 + depth, top), (x0, top + h_post), (x0 + depth / 2, top + h_post),
    ...             (x0 + depth, top + h_post)]
    >>> pts = [body(0, 125, 125), body(150, 100, 150), body(320, 125, 125)]
    >>> m = measure_lateral(pts, PixelSize.square(0.2))
    >>> round(m.heights_mm["injured"]["anterior"], 3), round(m.anterior_ratio, 2)
    (20.0, 80.0)
    >>> round(m.wedge_angle, 4), m.genant
    (18.4349, '1')
    """
    arr = _as_points(points)
    if arr.ndim != 3:
        raise LandmarkError(f"measure_lateral takes one read of shape (3, 6, 2), got {arr.shape}")
    out, problems = _compute(arr[None], pixel_size)
    if problems[0]:
        prefix = f"{where}: " if where else ""
        lines = "\n".join(f"  - {p}" for p in problems[0])
        raise LandmarkError(f"{prefix}these landmarks cannot be measured:\n{lines}")
    return LateralMeasures(
        heights_mm={v: {h: float(out[f"height_{v}_{h}"][0]) for h in HEIGHTS} for v in VERTEBRAE},
        anterior_ratio=float(out["anterior_ratio"][0]),
        middle_ratio=float(out["middle_ratio"][0]),
        wedge_angle=float(out["wedge_angle_deg"][0]),
        genant=str(out["genant"][0]),
        pixel_size=pixel_size,
    )
