"""Shared helpers of :mod:`kypho.stats`: input checks, batch handling, result frames.

Every public function of :mod:`kypho.stats` works in one of two modes:

* **single** (``axis=None``, the default): the input is one sample (a 1-D array);
  result fields are Python ``float``/``int``.
* **batch** (``axis=k``): the observations of one sample lie along axis ``k`` and the
  other axes index independent samples (e.g. shape ``(100_000, 55)`` with ``axis=1``
  holds 100 000 simulated groups of 55); result fields are NumPy arrays shaped like
  the input without axis ``k``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kypho.errors import StatisticsError

if TYPE_CHECKING:
    import pandas as pd

Alternative = Literal["two-sided", "less", "greater"]


_ALTERNATIVES = ("two-sided", "less", "greater")


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    """Raise StatisticsError unless ``value`` is one of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise StatisticsError(f"{name} must be one of {choices} (got {value!r})")


def check_alternative(alternative: object) -> None:
    """Raise StatisticsError unless ``alternative`` names a known alternative."""
    check_choice("alternative", alternative, _ALTERNATIVES)


def check_probability(name: str, value: object) -> float:
    """Return ``value`` as a float strictly between 0 and 1, or raise."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0.0 < value < 1.0
    ):
        raise StatisticsError(f"{name} must be a number strictly between 0 and 1 (got {value!r})")
    return float(value)


def as_two_samples(
    x: ArrayLike, y: ArrayLike, axis: int | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Both groups as float64 arrays (sample axis last) with matching batch shapes."""
    a = as_values(x, "x", axis)
    b = as_values(y, "y", axis)
    if a.shape[:-1] != b.shape[:-1]:
        raise StatisticsError(
            f"x and y must hold the same number of samples (batch shapes {a.shape[:-1]} "
            f"and {b.shape[:-1]})"
        )
    return a, b


def as_values(x: ArrayLike, name: str, axis: int | None) -> NDArray[np.float64]:
    """Convert ``x`` to a float64 array with the sample axis last.

    NaN marks a missing value and is kept (callers drop or count it); infinite
    values are refused because no summary of them is defined.
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatisticsError(f"{name} must contain numbers only ({exc})") from exc
    if axis is None:
        if arr.ndim != 1:
            raise StatisticsError(
                f"{name} must be one-dimensional when axis is None (got shape {arr.shape}); "
                "pass axis= to test a batch of samples"
            )
    else:
        if arr.ndim == 0:
            raise StatisticsError(f"{name} must be an array with an axis {axis} (got a scalar)")
        if not -arr.ndim <= axis < arr.ndim:
            raise StatisticsError(
                f"axis must be between {-arr.ndim} and {arr.ndim - 1} for {name} "
                f"of shape {arr.shape} (got {axis})"
            )
        arr = np.moveaxis(arr, axis, -1)
    if np.isinf(arr).any():
        raise StatisticsError(f"{name} contains infinite values; only finite numbers or NaN")
    return arr


def out(value: Any, single: bool) -> Any:
    """Return ``value`` as a Python scalar in single mode, as an ndarray in batch mode."""
    arr = np.asarray(value)
    if single:
        return arr.item()
    return arr


def where_many(mask: NDArray[np.bool_], label: str) -> str:
    """Describe which batch positions ``mask`` flags, for an error message."""
    idx = np.argwhere(mask)
    shown = ", ".join(str(tuple(int(v) for v in row)) for row in idx[:5])
    more = f" and {len(idx) - 5} more" if len(idx) > 5 else ""
    return f"{label} at batch position(s) {shown}{more}"


def result_frame(result: object, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per sample (batch mode) or a single row, one column per plain field.

    Nested results become columns prefixed with their field name, e.g.
    ``variance_test_p_value``; fields named in ``exclude`` (tables) are left out.
    """
    import pandas as pd  # here, not at the top: importing pandas costs the audit's start-up

    columns: dict[str, Any] = {}
    for field in dataclasses.fields(result):  # type: ignore[arg-type]
        if field.name in exclude:
            continue
        value = getattr(result, field.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for sub in dataclasses.fields(value):
                subvalue = getattr(value, sub.name)
                if _plain(subvalue):
                    columns[f"{field.name}_{sub.name}"] = subvalue
        elif _plain(value):
            columns[field.name] = value
    shapes = [np.shape(v) for v in columns.values() if isinstance(v, np.ndarray)]
    if not shapes:
        return pd.DataFrame({k: [v] for k, v in columns.items()})
    shape = max(shapes, key=len)
    return pd.DataFrame(
        {k: np.broadcast_to(np.asarray(v, dtype=object), shape).ravel() for k, v in columns.items()}
    ).infer_objects()


def _plain(value: object) -> bool:
    return value is None or isinstance(value, str | bool | int | float | np.generic | np.ndarray)
