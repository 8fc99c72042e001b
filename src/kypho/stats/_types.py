"""Type variables shared by the result classes of :mod:`kypho.stats`.

A result is ``SomeResult[float, int]`` for one sample (``axis=None``) and
``SomeResult[NDArray[np.float64], NDArray[np.int64]]`` for a batch (``axis=k``).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

F = TypeVar("F", float, NDArray[np.float64])
"""A real-valued field: ``float`` for one sample, an array for a batch."""

I = TypeVar("I", int, NDArray[np.int64])  # noqa: E741 - I for integer, paired with F
"""A count field: ``int`` for one sample, an array for a batch."""

B = TypeVar("B", bool, NDArray[np.bool_])
"""A flag field: ``bool`` for one sample, an array for a batch."""

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
