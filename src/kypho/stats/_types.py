"""Type variables shared by the result classes of :mod:`kypho.stats`.

A result is ``SomeResult[float, int]`` for one sample (``axis=None``) and
``SomeResult[NDArray[np.float64], NDArray[np.int64]]`` for a batch (``axis=k``).
"""

from __future__ import annotations

from typing import Any, TypeVar

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


_MAIN_FIELDS: tuple[str, ...] = (
    "method",
    "statistic",
    "dof",
    "p_value",
    "mean_difference",
    "difference",
    "ci_low",
    "ci_high",
    "effect_size",
    "smd",
    "n",
    "n1",
    "n2",
    "mean",
    "sd",
    "u",
    "z",
    "icc",
    "kappa",
    "bias",
)


class ResultDisplay:
    """Short ``repr`` and a notebook table for the frozen result dataclasses.

    ``repr(result)`` names the test and its main numbers on one line (for one
    sample; a batch says how many samples it holds); ``_repr_html_`` is what
    Jupyter shows: the main fields, then ``reason``, as a two-column table with
    numbers printed as the report prints them. The full record stays in
    :func:`dataclasses.asdict` and ``to_frame()``.
    """

    def _main_items(self) -> list[tuple[str, Any]]:
        import dataclasses

        names = [f.name for f in dataclasses.fields(self)]  # type: ignore[arg-type]
        return [(name, getattr(self, name)) for name in _MAIN_FIELDS if name in names]

    def _batch_size(self) -> int | None:
        for _, value in self._main_items():
            if isinstance(value, np.ndarray) and value.ndim > 0:
                return int(value.size)
        return None

    def __repr__(self) -> str:
        name = type(self).__name__
        size = self._batch_size()
        if size is not None:
            method = getattr(self, "method", "")
            return f"{name}(method={method!r}, batch of {size} samples)"
        parts = []
        for field_name, value in self._main_items():
            if value is None:
                continue
            if isinstance(value, float | np.floating):
                parts.append(f"{field_name}={float(value):.4g}")
            elif isinstance(value, tuple):
                parts.append(f"{field_name}=({', '.join(f'{float(v):.4g}' for v in value)})")
            else:
                parts.append(f"{field_name}={value!r}")
        return f"{name}({', '.join(parts)})"

    def summary(self) -> Any:
        """The result as a readable two-column frame: ``field`` and ``value``, main fields first.

        ``to_frame()`` keeps one row per sample (so batches and several results
        concatenate); this is the shape to read one result in.
        """
        import pandas as pd

        from kypho.stats._common import result_frame

        wide = result_frame(self)
        if len(wide) != 1:
            return wide.T
        main = [n for n, _ in self._main_items() if n in wide.columns]
        rest = [c for c in wide.columns if c not in main]
        return pd.DataFrame({"field": main + rest, "value": [wide.loc[0, c] for c in main + rest]})

    def _repr_html_(self) -> str:
        import html

        from kypho.report.format import format_estimate, format_p

        size = self._batch_size()
        rows = []
        for field_name, value in self._main_items():
            if size is not None and isinstance(value, np.ndarray):
                text = f"{size} values"
            elif field_name == "p_value" and value is not None:
                text = format_p(float(value))
            elif isinstance(value, int | np.integer) and not isinstance(value, bool):
                text = str(int(value))
            elif isinstance(value, float | np.floating):
                number = float(value)
                text = str(int(number)) if number.is_integer() else format_estimate(number)
            elif isinstance(value, tuple):
                text = ", ".join(format_estimate(float(v)) for v in value)
            else:
                text = "—" if value is None else str(value)
            rows.append(f"<tr><th>{html.escape(field_name)}</th><td>{html.escape(text)}</td></tr>")
        reason = getattr(self, "reason", "")
        caption = html.escape(type(self).__name__)
        note = f"<p>{html.escape(str(reason))}</p>" if isinstance(reason, str) and reason else ""
        return (
            f'<table class="kypho-result"><caption>{caption}</caption><tbody>'
            + "".join(rows)
            + f"</tbody></table>{note}"
        )
