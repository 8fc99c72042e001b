"""Derived measures by the paper's formulas, vectorised over columns.

Every function takes arrays (or Series) and returns an array of the same
length; :func:`derive` applies them all to a validated table and returns a new
table with every derived column of the schema.

References
----------
.. [1] Huang J. et al. Precise injection and staged perfusion of bone cement
   kyphoplasty for osteoporotic vertebral compression fracture ("Efficacy
   evaluation"). The kypho paper, ``shared/paper/``.
.. [2] Genant HK, Wu CY, van Kuijk C, Nevitt MC. Vertebral fracture assessment
   using a semiquantitative technique. J Bone Miner Res. 1993;8(9):1137-48.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from kypho.classify import cement_grade, filling_tube, leakage_counts, region_of_level
from kypho.schema import Schema, load_schema

__all__ = [
    "blood_loss",
    "derive",
    "genant_grade",
    "height_ratio",
    "landmark_height",
    "wedge_angle_from_landmarks",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


def _f(x: ArrayLike) -> FloatArray:
    if isinstance(x, pd.Series):
        return x.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(x, dtype=np.float64).ravel()


def blood_loss(hb_pre: ArrayLike, hb_post: ArrayLike) -> FloatArray:
    """Intraoperative blood loss (%) from haemoglobin before and after.

    Parameters
    ----------
    hb_pre, hb_post
        Preoperative and postoperative haemoglobin (any one unit, e.g. g/L).

    Returns
    -------
    ndarray
        Blood loss in percent; NaN where either value is missing or ``hb_pre`` is 0.

    Notes
    -----
    The paper's formula [1]_:

    .. math:: \\text{loss} = \\frac{Hb_{pre} - Hb_{post}}{Hb_{pre}} \\times 100\\%

    A negative value (haemoglobin rose, e.g. after transfusion) is kept as is.

    Examples
    --------
    >>> blood_loss([125.0], [122.5]).round(6).tolist()
    [2.0]
    """
    pre, post = _f(hb_pre), _f(hb_post)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (pre - post) / pre * 100.0
    out[pre == 0] = np.nan
    return out


def height_ratio(injured: ArrayLike, above: ArrayLike, below: ArrayLike) -> FloatArray:
    """Height ratio (%) of the injured vertebra against the mean of its neighbours.

    Parameters
    ----------
    injured
        Anterior (or middle) height of the injured vertebral body.
    above, below
        The same height of the vertebrae above and below, in the same unit.

    Returns
    -------
    ndarray
        The ratio in percent. Unit-free: scaling all three heights leaves it unchanged.

    Notes
    -----
    The paper's formula [1]_ (anterior or middle height alike):

    .. math:: R = \\frac{h_{injured}}{(h_{above} + h_{below}) / 2} \\times 100\\%

    Examples
    --------
    >>> height_ratio([15.0], [24.0], [26.0]).tolist()
    [60.0]
    """
    inj, up, down = _f(injured), _f(above), _f(below)
    ref = (up + down) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = inj / ref * 100.0
    out[ref <= 0] = np.nan
    return out


def landmark_height(
    superior: tuple[ArrayLike, ArrayLike], inferior: tuple[ArrayLike, ArrayLike]
) -> FloatArray:
    """Height of a vertebral body between a superior and an inferior endplate point.

    Parameters
    ----------
    superior, inferior
        ``(x, y)`` of the point on the superior and on the inferior endplate
        (anterior, middle or posterior alike), in one unit on both axes.

    Returns
    -------
    ndarray
        The distance between the two points, in their unit.

    Notes
    -----
    Six-point morphometry measures each height as the distance between the
    corresponding points of the two endplates, so it does not depend on how the
    film is rotated.

    Examples
    --------
    >>> landmark_height((3.0, 0.0), (0.0, 4.0)).tolist()
    [5.0]
    """
    return np.hypot(_f(superior[0]) - _f(inferior[0]), _f(superior[1]) - _f(inferior[1]))


def wedge_angle_from_landmarks(
    sup_ant: tuple[ArrayLike, ArrayLike],
    sup_post: tuple[ArrayLike, ArrayLike],
    inf_ant: tuple[ArrayLike, ArrayLike],
    inf_post: tuple[ArrayLike, ArrayLike],
) -> FloatArray:
    """Wedge angle (degrees) between the superior and inferior endplate lines.

    Parameters
    ----------
    sup_ant, sup_post
        ``(x, y)`` of the anterior and posterior corners of the superior endplate.
    inf_ant, inf_post
        ``(x, y)`` of the anterior and posterior corners of the inferior endplate.

    Returns
    -------
    ndarray
        The angle in degrees, positive when the body is wedged anteriorly
        (anterior height below posterior height), negative otherwise.

    Notes
    -----
    The paper measures "the angle between the extension lines of the upper and
    lower endplates" on the lateral film [1]_. With endplate direction vectors
    :math:`u = P_{sup,ant} - P_{sup,post}` and :math:`v = P_{inf,ant} - P_{inf,post}`,

    .. math:: \\theta = \\operatorname{atan2}(|u \\times v|, u \\cdot v)

    and the sign is that of :math:`h_{post} - h_{ant}` (corner-to-corner
    distances). The result does not depend on image orientation (facing left
    or right, y up or down) or scale.

    Examples
    --------
    A body 20 mm high anteriorly and 30 mm posteriorly, 30 mm deep, lower
    endplate flat: the upper endplate drops 10 mm over 30 mm, atan(1/3).

    >>> wedge_angle_from_landmarks((0, 20), (30, 30), (0, 0), (30, 0)).round(4).tolist()
    [18.4349]
    """
    sax, say = _f(sup_ant[0]), _f(sup_ant[1])
    spx, spy = _f(sup_post[0]), _f(sup_post[1])
    iax, iay = _f(inf_ant[0]), _f(inf_ant[1])
    ipx, ipy = _f(inf_post[0]), _f(inf_post[1])
    ux, uy = sax - spx, say - spy
    vx, vy = iax - ipx, iay - ipy
    angle = np.degrees(np.arctan2(np.abs(ux * vy - uy * vx), ux * vx + uy * vy))
    h_ant = landmark_height((sax, say), (iax, iay))
    h_post = landmark_height((spx, spy), (ipx, ipy))
    return np.where(h_ant > h_post, -angle, angle)


def genant_grade(ratio_percent: ArrayLike) -> pd.Series:
    """Genant semi-quantitative fracture grade from a height ratio.

    Parameters
    ----------
    ratio_percent
        The vertebral height as a percentage of the expected (neighbour) height;
        for a vertebra, pass the smaller of its anterior and middle ratios.

    Returns
    -------
    pandas.Series
        Ordered categorical grades ``"0"`` (normal) < ``"1"`` (mild) < ``"2"`` (moderate) <
        ``"3"`` (severe); missing where the ratio is missing.

    Notes
    -----
    Genant et al. [2]_ grade by the reduction in height :math:`r = 100 - R`:
    grade 0 for :math:`r < 20\\%`, 1 for :math:`20 \\le r < 25\\%`, 2 for
    :math:`25 \\le r \\le 40\\%`, 3 for :math:`r > 40\\%`. Genant's method is a
    visual estimate; applying its cut-offs to measured ratios is kypho's
    quantitative reading of it, beyond the paper.

    Examples
    --------
    >>> list(genant_grade([85.0, 78.0, 70.0, 60.0, 59.9]))
    ['0', '1', '2', '2', '3']
    """
    ratio = _f(ratio_percent)
    reduction = 100.0 - ratio
    grade = np.select(
        [reduction < 20, reduction < 25, reduction <= 40, reduction > 40],
        ["0", "1", "2", "3"],
        default="",
    )
    grade_or_none = grade.astype(object)
    grade_or_none[np.isnan(ratio)] = None
    return pd.Series(pd.Categorical(grade_or_none, categories=["0", "1", "2", "3"], ordered=True))


def derive(data: pd.DataFrame, schema: Schema | None = None) -> pd.DataFrame:
    """Add every derived column of the schema to a validated table.

    Parameters
    ----------
    data
        ``ValidationResult.data`` (typed per the schema). Not modified.
    schema
        The study schema; ``None`` uses the built-in one.

    Returns
    -------
    pandas.DataFrame
        A new frame: the input columns plus ``region``, ``blood_loss``,
        ``{ant,mid}_height_ratio_<tp>``, ``wedge_angle_<tp>`` (measured, or from
        landmarks where not measured), ``genant_grade_<tp>``, restoration and
        loss of the ratios and the wedge angle, ``cement_grade`` with
        ``cement_grade_note``, leakage counts and ``filling_tube``. A derived
        measure whose inputs are absent is left missing.
    """
    schema = schema or load_schema()
    out = data.copy()
    n = len(out)

    def col(name: str) -> FloatArray:
        if name not in out:
            return np.full(n, np.nan)
        return out[name].to_numpy(dtype=np.float64, na_value=np.nan)

    if "level" in out:
        out["region"] = region_of_level(out["level"])
    out["blood_loss"] = blood_loss(col("hb_pre"), col("hb_post"))

    tps = schema.repeated.get("ant_height_ratio", ())
    for tp in tps:
        for side in ("ant", "mid"):
            out[f"{side}_height_ratio_{tp}"] = height_ratio(
                col(f"{side}_height_injured_{tp}"),
                col(f"{side}_height_above_{tp}"),
                col(f"{side}_height_below_{tp}"),
            )
        if f"wedge_angle_{tp}" in schema:
            from_marks = wedge_angle_from_landmarks(
                (col(f"sup_ant_x_{tp}"), col(f"sup_ant_y_{tp}")),
                (col(f"sup_post_x_{tp}"), col(f"sup_post_y_{tp}")),
                (col(f"inf_ant_x_{tp}"), col(f"inf_ant_y_{tp}")),
                (col(f"inf_post_x_{tp}"), col(f"inf_post_y_{tp}")),
            )
            measured = col(f"wedge_angle_{tp}")
            out[f"wedge_angle_{tp}"] = np.where(np.isnan(measured), from_marks, measured)
        worst = np.fmin(out[f"ant_height_ratio_{tp}"], out[f"mid_height_ratio_{tp}"])
        out[f"genant_grade_{tp}"] = genant_grade(worst).set_axis(out.index)

    if {"pre", "d3", "last"} <= set(tps):
        for side in ("ant", "mid"):
            pre, d3, last = (col(f"{side}_height_ratio_{tp}") for tp in ("pre", "d3", "last"))
            out[f"{side}_height_restoration"] = d3 - pre
            out[f"{side}_height_loss"] = d3 - last
        w_pre, w_d3, w_last = (col(f"wedge_angle_{tp}") for tp in ("pre", "d3", "last"))
        out["wedge_correction"] = w_pre - w_d3
        out["wedge_loss"] = w_last - w_d3

    if {"cement_pattern", "cement_area_ap", "cement_area_lat"} <= set(out.columns):
        grade = cement_grade(out["cement_pattern"], out["cement_area_ap"], out["cement_area_lat"])
        out["cement_grade"] = grade.grade
        out["cement_grade_note"] = grade.note
    if "leak_sites" in out:
        counts = leakage_counts(out["leak_sites"], codes=schema["leak_sites"].codes)
        for name in counts.columns:
            out[name] = counts[name]
    if schema.group_column in out:
        out["filling_tube"] = filling_tube(out, group_column=schema.group_column)
    return out
