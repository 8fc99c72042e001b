"""Input checks shared by the "beyond the paper" analyses.

Each raises :class:`kypho.errors.StatisticsError` with a message that names the
argument, the value received and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kypho.errors import StatisticsError


def _is_number(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float | np.integer | np.floating)
        and math.isfinite(float(value))
    )


def probability(name: str, value: object) -> float:
    """Return ``value`` as a float strictly between 0 and 1, or raise."""
    if not _is_number(value) or not 0.0 < float(value) < 1.0:  # type: ignore[arg-type]
        raise StatisticsError(f"{name} must be a number strictly between 0 and 1 (got {value!r})")
    return float(value)  # type: ignore[arg-type]


def positive(name: str, value: object) -> float:
    """Return ``value`` as a finite float greater than 0, or raise."""
    if not _is_number(value) or not float(value) > 0.0:  # type: ignore[arg-type]
        raise StatisticsError(f"{name} must be a finite number greater than 0 (got {value!r})")
    return float(value)  # type: ignore[arg-type]


def finite(name: str, value: object) -> float:
    """Return ``value`` as a finite float, or raise."""
    if not _is_number(value):
        raise StatisticsError(f"{name} must be a finite number (got {value!r})")
    return float(value)  # type: ignore[arg-type]


def count(name: str, value: object, *, minimum: int) -> int:
    """Return ``value`` as an int of at least ``minimum``, or raise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < minimum:
        raise StatisticsError(
            f"{name} must be a whole number of at least {minimum} (got {value!r})"
        )
    return int(value)


def choice(name: str, value: object, allowed: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, or raise."""
    if not isinstance(value, str) or value not in allowed:
        words = ", ".join(repr(a) for a in allowed)
        raise StatisticsError(f"{name} must be one of {words} (got {value!r})")
    return value


def distribution(name: str, value: ArrayLike) -> NDArray[np.float64]:
    """Return grade probabilities (or counts) as probabilities summing to 1, or raise.

    Counts are accepted and normalised, so a published table of grade counts
    can be passed as it is.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatisticsError(
            f"{name} must be a sequence of non-negative numbers (got {value!r})"
        ) from exc
    if arr.ndim != 1 or arr.size < 2:
        raise StatisticsError(
            f"{name} must list at least 2 grades as non-negative numbers (got {value!r})"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or not arr.sum() > 0:
        raise StatisticsError(
            f"{name} must be non-negative finite numbers with a positive sum (got {value!r})"
        )
    normalised: NDArray[np.float64] = arr / arr.sum()
    return normalised
