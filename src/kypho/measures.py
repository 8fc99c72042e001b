"""Derived measures by the paper's formulas, vectorised over columns.

Every function takes arrays (or Series) and returns an array of the same
length. The schema says which formula computes which variable from which
inputs (``formula``, ``inputs``, ``options`` in ``kypho/data/study.yaml``); the
formulas are registered here by name (:data:`FORMULAS`, :func:`register_formula`)
and :func:`derive` applies the schema's derivations to a validated table. No
variable name is written in this module: a study with other names, or other
measures built from the same formulas, needs no change here.

References
----------
.. [1] Huang J. et al. Precise injection and staged perfusion of bone cement
   kyphoplasty for osteoporotic vertebral compression fracture ("Efficacy
   evaluation"). The kypho paper, ``shared/paper/``.
.. [2] Genant HK, Wu CY, van Kuijk C, Nevitt MC. Vertebral fracture assessment
   using a semiquantitative technique. J Bone Miner Res. 1993;8(9):1137-48.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from kypho import classify
from kypho.errors import SchemaError
from kypho.schema import Derivation, Schema, load_schema

__all__ = [
    "FORMULAS",
    "Formula",
    "blood_loss",
    "derive",
    "difference",
    "genant_grade",
    "height_ratio",
    "landmark_height",
    "register_formula",
    "wedge_angle_from_landmarks",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike
_GENANT = pd.CategoricalDtype(["0", "1", "2", "3"], ordered=True)


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


def genant_grade(*ratios_percent: ArrayLike) -> pd.Series:
    """Genant semi-quantitative fracture grade from a height ratio.

    Parameters
    ----------
    *ratios_percent
        The vertebral height as a percentage of the expected (neighbour) height.
        Given several (a vertebra's anterior and middle ratios), the grade is that
        of the smallest present one.

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
    >>> list(genant_grade([85.0, np.nan], [70.0, 90.0]))
    ['2', '0']
    """
    if not ratios_percent:
        raise TypeError("genant_grade needs at least one ratio")
    ratio = _f(ratios_percent[0])
    for other in ratios_percent[1:]:
        ratio = np.fmin(ratio, _f(other))
    reduction = 100.0 - ratio
    # each grade's position in _GENANT; -1 (missing) where the ratio is missing
    grade = np.select(
        [reduction < 20, reduction < 25, reduction <= 40, reduction > 40], [0, 1, 2, 3], default=-1
    )
    grade[np.isnan(ratio)] = -1
    return pd.Series(pd.Categorical.from_codes(grade, dtype=_GENANT))


def difference(minuend: ArrayLike, subtrahend: ArrayLike) -> FloatArray:
    """``minuend - subtrahend``: a change between two timepoints (restoration, loss).

    Examples
    --------
    >>> difference([85.0], [47.5]).tolist()
    [37.5]
    """
    out: FloatArray = _f(minuend) - _f(subtrahend)
    return out


@dataclass(frozen=True)
class Formula:
    """A formula the schema may name: a function of columns.

    Attributes
    ----------
    name
        The name the schema uses (``formula: height_ratio``).
    function
        Called with one keyword argument per declared input (a list input as a
        list), plus the declared options; returns one column, or a tuple of
        columns (one per declared output). A function with a ``variables``
        keyword also receives ``{parameter: Variable}`` of its inputs (their
        levels, units).
    numeric
        ``True``: inputs arrive as float arrays and an input column absent from
        the data is all missing. ``False``: inputs arrive as Series, and an
        absent required input leaves the derived variable out of the table.
    optional
        Inputs of a non-numeric formula that may be absent (passed as ``None``).
    """

    name: str
    function: Callable[..., Any]
    numeric: bool = True
    optional: frozenset[str] = frozenset()

    @property
    def parameters(self) -> Mapping[str, inspect.Parameter]:
        """The function's parameters, by name."""
        return inspect.signature(self.function).parameters


#: The formulas a schema may name, by name; see :func:`register_formula`.
FORMULAS: dict[str, Formula] = {}


def register_formula(
    function: Callable[..., Any],
    *,
    name: str | None = None,
    numeric: bool = True,
    optional: tuple[str, ...] = (),
) -> Formula:
    """Make ``function`` available to schemas as ``formula: <name>``.

    Parameters
    ----------
    function
        See :class:`Formula`.
    name
        The name schemas use; ``None`` uses the function's own name. A name
        already registered is an error.
    numeric, optional
        See :class:`Formula`.

    Returns
    -------
    Formula

    Raises
    ------
    SchemaError
        When the name is already registered.

    Examples
    --------
    >>> def mean_of_two(a, b):
    ...     return (_f(a) + _f(b)) / 2
    >>> f = register_formula(mean_of_two)
    >>> f.name, f.numeric, "mean_of_two" in FORMULAS
    ('mean_of_two', True, True)
    >>> del FORMULAS["mean_of_two"]
    """
    name = name or function.__name__
    if name in FORMULAS:
        raise SchemaError(f"a formula named {name!r} is already registered")
    formula = Formula(name, function, numeric, frozenset(optional))
    FORMULAS[name] = formula
    return formula


def _wedge_angle(
    sup_ant_x: FloatArray,
    sup_ant_y: FloatArray,
    sup_post_x: FloatArray,
    sup_post_y: FloatArray,
    inf_ant_x: FloatArray,
    inf_ant_y: FloatArray,
    inf_post_x: FloatArray,
    inf_post_y: FloatArray,
) -> FloatArray:
    return wedge_angle_from_landmarks(
        (sup_ant_x, sup_ant_y),
        (sup_post_x, sup_post_y),
        (inf_ant_x, inf_ant_y),
        (inf_post_x, inf_post_y),
    )


def _genant(ratios: list[FloatArray]) -> pd.Series:
    return genant_grade(*ratios)


def _cement_grade(
    pattern: pd.Series, area_ap: pd.Series, area_lat: pd.Series, **options: Any
) -> tuple[pd.Series, pd.Series]:
    grades = classify.cement_grade(pattern, area_ap, area_lat, **options)
    return grades.grade, grades.note


def _leakage(sites: pd.Series, *, variables: Mapping[str, Any]) -> tuple[pd.Series, ...]:
    codes = variables["sites"].codes
    counts = classify.leakage_counts(sites, codes=codes)
    return (counts.any, counts.count, *(counts.by_type[c] for c in codes))


# Each formula is named after the public function that computes it.
register_formula(blood_loss)
register_formula(height_ratio)
register_formula(_wedge_angle, name=wedge_angle_from_landmarks.__name__)
register_formula(_genant, name=genant_grade.__name__)
register_formula(difference)
register_formula(classify.region_of_level, numeric=False)
register_formula(_cement_grade, name=classify.cement_grade.__name__, numeric=False)
register_formula(_leakage, name=classify.leakage_counts.__name__, numeric=False)
register_formula(
    classify.filling_tube,
    numeric=False,
    optional=("anterior_wall", "superior_endplate", "inferior_endplate", "subtype"),
)


def check_derivation(derivation: Derivation) -> Formula:
    """The registered formula of a derivation, its inputs and options checked.

    Raises
    ------
    SchemaError
        When the formula is not registered, or an input or option is not one of
        its parameters, or a parameter it needs is not given.
    """
    formula = FORMULAS.get(derivation.formula)
    if formula is None:
        raise SchemaError(
            f"{derivation.name!r} names formula {derivation.formula!r}, which kypho does not "
            f"have; registered formulas: {', '.join(sorted(FORMULAS))}"
        )
    params = formula.parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    named = {k: p for k, p in params.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
    given = {*derivation.inputs, *derivation.options}
    unknown = (
        sorted(given - set(named)) if not takes_any else sorted(set(derivation.inputs) - set(named))
    )
    needed = sorted(
        k
        for k, p in named.items()
        if p.default is inspect.Parameter.empty
        and p.kind is not inspect.Parameter.VAR_POSITIONAL
        and k != "variables"
        and k not in given
    )
    if unknown or needed:
        words = []
        if unknown:
            words.append(f"takes no {', '.join(unknown)}")
        if needed:
            words.append(f"needs {', '.join(needed)}")
        raise SchemaError(
            f"formula {derivation.formula!r} of {derivation.name!r} "
            + " and ".join(words)
            + f"; its parameters: {', '.join(named)}"
        )
    return formula


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
        A new frame: the input columns, entered variables with a formula filled in
        where missing (the wedge angle from landmarks), and then every derived
        variable, by the schema's derivations in declared order. A numeric
        measure whose inputs are absent is missing; a classification whose
        inputs are absent is left out.

    Raises
    ------
    SchemaError
        When a derivation names a formula that is not registered, or gives it
        inputs or options it does not take.

    Examples
    --------
    >>> from kypho.analysis.demo import demo_cohort
    >>> from kypho.validate import validate
    >>> schema = load_schema()
    >>> out = derive(validate(demo_cohort(6, seed=2)).data, schema)
    >>> all(c in out for c in schema.columns(derived=True))
    True
    """
    schema = schema or load_schema()
    # pandas >= 3 copies on write: the new frame shares the input's columns until one is
    # set, so ``data`` stays as it was and no column is copied that is not changed
    out = data.copy(deep=False)
    for derivation in schema.derivations:
        formula = check_derivation(derivation)
        for tp in derivation.timepoints or (None,):
            _apply(out, schema, derivation, formula, tp)
    return out


def _apply(
    out: pd.DataFrame,
    schema: Schema,
    derivation: Derivation,
    formula: Formula,
    timepoint: str | None,
) -> None:
    """Compute one derivation (at one timepoint) into ``out``."""
    n = len(out)

    def value(column: str) -> Any:
        if formula.numeric:
            if column not in out:
                return np.full(n, np.nan)
            return out[column].to_numpy(dtype=np.float64, na_value=np.nan)
        return out.get(column, None)

    kwargs: dict[str, Any] = {}
    variables: dict[str, Any] = {}
    if derivation.fill and not formula.numeric:
        raise SchemaError(
            f"{derivation.name!r} is entered, so its formula may only fill in missing "
            f"numbers; {derivation.formula!r} is not a numeric formula"
        )
    for param, names in derivation.inputs.items():
        if isinstance(names, tuple):
            kwargs[param] = [value(derivation.column(c, timepoint)) for c in names]
            continue
        column = derivation.column(names, timepoint)
        kwargs[param] = value(column)
        variables[param] = schema[column]
        if kwargs[param] is None and param not in formula.optional:
            return  # a classification without its input is left out, as documented
    kwargs.update(derivation.options)
    if "variables" in formula.parameters:
        kwargs["variables"] = variables
    result = formula.function(**kwargs)
    results = result if isinstance(result, tuple) else (result,)
    outputs = [derivation.column(o, timepoint) for o in derivation.outputs]
    if len(results) != len(outputs):
        raise SchemaError(
            f"formula {derivation.formula!r} returns {len(results)} column(s) but "
            f"{derivation.name!r} declares {len(outputs)} output(s)"
        )
    for column, res in zip(outputs, results, strict=True):
        values = res.set_axis(out.index) if isinstance(res, pd.Series) else res
        if derivation.fill:
            measured = value(column)
            values = np.where(np.isnan(measured), values, measured)
        out[column] = values
