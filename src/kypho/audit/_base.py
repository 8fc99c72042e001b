"""What every check shares: the context of a table, printed intervals, P and decisions.

A printed value is consistent with a recomputation when its rounding interval meets the
recomputed range (:func:`overlaps`); a printed P says "significant" or not at alpha only
when its interval lies on one side of alpha (:func:`significance`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from kypho.audit.model import Reported, SummaryTable, SummaryTables
from kypho.audit.result import Finding, Status
from kypho.audit.rounding import RoundingRule

__all__ = [
    "Ctx",
    "decision_finding",
    "fmt",
    "fmt_p",
    "interval",
    "overlaps",
    "p_is",
    "p_range_finding",
    "significance",
    "span",
]


@dataclass(frozen=True)
class Ctx:
    study: SummaryTables
    table: SummaryTable
    alpha: float
    rounding: RoundingRule = "up_or_down"
    #: The study's between-group t tests, batched (``_continuous_rows.BetweenTests``);
    #: None computes each row's on its own.
    between: Any = field(default=None, compare=False)

    @property
    def keys(self) -> tuple[str, str]:
        return self.study.groups[0].key, self.study.groups[1].key

    def finding(
        self, row: str, column: str, check: str, status: Status, reason: str, **kw: Any
    ) -> Finding:
        return Finding(self.table.number, row, column, check, status, reason, **kw)


def fmt_p(p: float, *, below: float = 0.001) -> str:
    """A recomputed P as text: 4 decimals; below ``below``, 2 significant digits.

    Never in exponent notation (a report is read by clinicians): 3.1e-05 is written
    0.000031, and anything below 0.000001 as "< 0.000001".

    >>> [fmt_p(p) for p in (0.52813, 0.0015, 0.00031, 3.14e-05, 9.96e-06, 2e-9, 0.0)]
    ['0.5281', '0.0015', '0.00031', '0.000031', '0.000010', '< 0.000001', '< 0.000001']
    """
    if p < 1e-6:
        return "< 0.000001"
    if p < below:
        rounded = float(f"{p:.2g}")  # 9.96e-06 has its two digits at 1.0e-05
        return f"{p:.{max(1 - math.floor(math.log10(rounded)), 0)}f}"
    return f"{p:.4f}"


def p_is(text: str) -> str:
    """``"P = 0.0015"``, or ``"P < 0.000001"`` for a P that :func:`fmt_p` wrote as a bound."""
    return f"P {text}" if text.startswith("<") else f"P = {text}"


def fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


def span(value: float, lo: float, hi: float, f: Any = fmt) -> str:
    if f(lo) == f(hi):
        return str(f(value))
    return f"{f(value)} [{f(lo)}, {f(hi)}]"


def overlaps(rep: Reported, lo: float, hi: float) -> bool:
    """The printed value's interval meets [lo, hi]."""
    return rep.low <= hi and lo <= rep.high


def significance(rep: Reported, alpha: float) -> bool | None:
    """Whether a printed P says significant at alpha; None when it cannot tell."""
    if rep.comparator == "=":
        # "P = 0.050" may stand for 0.0496 or 0.0504: its side of 0.05 is not printed.
        if rep.low < alpha < rep.high or rep.value == alpha:
            return None
        return rep.value < alpha
    if rep.comparator in ("<", "<="):
        return True if rep.value <= alpha else None
    return False if rep.value >= alpha else None


def p_range_finding(
    ctx: Ctx, row: str, rep: Reported, column: str = "P", group: str | None = None
) -> Finding:
    if rep.value > 1.0 or rep.value < 0.0:
        return ctx.finding(
            row,
            column,
            "p_range",
            "impossible",
            f"a P value is a probability, so it lies between 0 and 1; {rep.text} does not",
            reported=rep.text,
            group=group,
        )
    return ctx.finding(
        row, column, "p_range", "consistent", "within [0, 1]", reported=rep.text, group=group
    )


def decision_finding(
    ctx: Ctx,
    row: str,
    rep: Reported,
    p: float,
    lo: float,
    hi: float,
    method: str,
    *,
    column: str = "P",
    group: str | None = None,
    section: str | None = None,
) -> Finding:
    said = significance(rep, ctx.alpha)
    found = True if hi < ctx.alpha else False if lo >= ctx.alpha else None
    recomputed = span(p, lo, hi, fmt_p)
    kw: dict[str, Any] = {
        "reported": rep.text,
        "recomputed": recomputed,
        "group": group,
        "section": section,
        "method": method,
        "recomputed_value": p,
        "recomputed_low": lo,
        "recomputed_high": hi,
    }
    a = f"{ctx.alpha:g}"
    if said is None:
        return ctx.finding(
            row,
            column,
            "decision",
            "not_checkable",
            f"P {rep.text} does not say on which side of {a} P lies",
            **kw,
        )
    if found is None:
        return ctx.finding(
            row,
            column,
            "decision",
            "not_checkable",
            f"the recomputed P ranges over {a} within the rounding of the printed values",
            **kw,
        )
    words = {True: "significant", False: "not significant"}
    if said == found:
        return ctx.finding(
            row,
            column,
            "decision",
            "consistent",
            f"{words[said]} at {a}, as printed",
            decision_error=False,
            **kw,
        )
    return ctx.finding(
        row,
        column,
        "decision",
        "inconsistent",
        f"decision error: printed P {rep.text} is {words[said]} at {a}, the recomputed P "
        f"{recomputed} ({method}) is {words[found]}",
        decision_error=True,
        **kw,
    )


def interval(rep: Reported, *, floor: float | None = None) -> tuple[float, float]:
    lo, hi = rep.value - rep.half_unit, rep.value + rep.half_unit
    if floor is not None:
        lo = max(lo, floor)
    return lo, hi
