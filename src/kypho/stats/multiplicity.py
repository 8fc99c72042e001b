"""Adjustment of sets of P values for multiple comparisons (Holm, Benjamini–Hochberg)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kypho.errors import StatisticsError
from kypho.stats._common import check_choice

__all__ = ["adjust_pvalues"]


def adjust_pvalues(
    p: ArrayLike, *, method: Literal["holm", "bh"] = "holm", axis: int = -1
) -> NDArray[np.float64]:
    """Adjust a set of P values for multiplicity.

    Parameters
    ----------
    p : array_like
        P values in [0, 1]. A 2-D array holds one set per row with ``axis=-1``
        (the default), each set adjusted on its own.
    method : {"holm", "bh"}
        ``"holm"``: Holm's step-down family-wise error control. ``"bh"``:
        Benjamini–Hochberg false-discovery-rate control.
    axis : int
        The axis along which one set of P values lies.

    Returns
    -------
    ndarray
        Adjusted P values, same shape and order as ``p``.

    Raises
    ------
    StatisticsError
        A P value outside [0, 1], NaN, or an unknown method.

    Notes
    -----
    With p₍₁₎ ≤ … ≤ p₍ₘ₎: Holm p̃₍ᵢ₎ = maxⱼ≤ᵢ min(1, (m − j + 1)·p₍ⱼ₎);
    BH p̃₍ᵢ₎ = minⱼ≥ᵢ min(1, m·p₍ⱼ₎/j). Both as R's ``p.adjust``.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    Scand. J. Stat. 6, 65-70.
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate.
    J. R. Stat. Soc. B 57, 289-300.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], method="holm").tolist()
    [0.03, 0.06, 0.06]
    """
    check_choice("method", method, ("holm", "bh"))
    try:
        arr = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatisticsError(f"p must be numbers in [0, 1] ({exc})") from exc
    if arr.ndim == 0:
        arr = arr[None]
    if np.isnan(arr).any():
        raise StatisticsError(
            "p contains NaN; drop the missing P values before adjusting, since the "
            "adjustment depends on how many there are"
        )
    bad = (arr < 0) | (arr > 1)
    if bad.any():
        raise StatisticsError(f"P values must lie in [0, 1] (got {arr[bad].tolist()[:5]!r})")
    moved = np.moveaxis(arr, axis, -1)
    m = moved.shape[-1]
    order = np.argsort(moved, axis=-1, kind="stable")
    sorted_p = np.take_along_axis(moved, order, axis=-1)
    i = np.arange(1, m + 1, dtype=np.float64)
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(1.0, (m - i + 1.0) * sorted_p), axis=-1)
    else:
        scaled = m * sorted_p / i
        adj = np.minimum(1.0, np.minimum.accumulate(scaled[..., ::-1], axis=-1)[..., ::-1])
    result = np.empty_like(adj)
    np.put_along_axis(result, order, adj, axis=-1)
    return np.moveaxis(result, -1, axis)
