"""Rounding rules: which true values print as a given number, in exact arithmetic.

A number printed with ``d`` decimals stands for every true value that the author's
rounding rule maps onto it. GRIM, GRIMMER, DEBIT and SPRITE work with that set, an
interval whose ends may be open or closed. With ``u = 10⁻ᵈ`` (one unit of the last
printed digit) and ``h = u / 2``, for a printed ``M ≥ 0``:

============== ============================== =========================================
rule           true values printing as ``M``  meaning
============== ============================== =========================================
up_or_down     [M − h, M + h]                 either way at a half (kypho's default, as
                                              scrutiny's): a tie is read both ways
up             [M − h, M + h)                 half rounds away from zero (SPSS, Excel)
down           (M − h, M + h]                 half rounds towards zero
even           [M − h, M + h] if the last     half rounds to the even digit (R's
               digit of M is even, else       ``round``, IEC 60559, Python's ``round``)
               (M − h, M + h)
ceiling        (M − u, M]                     always up
floor          [M, M + u)                     always down
ceiling_or_floor (M − u, M + u)               either of the two
trunc          [M, M + u)                     towards zero (dropping digits)
anti_trunc     (M − u, M]                     away from zero
============== ============================== =========================================

For a negative ``M`` each rule is mirrored where its definition is about zero (``up``,
``down``, ``trunc``, ``anti_trunc``), and kept where it is about the number line
(``ceiling``, ``floor``).

References
----------
Jung L. scrutiny: error detection in science (R package), vignette "Rounding"
(the names of the rules follow it). IEEE 754-2019 §4.3 (roundTiesToEven).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, get_args

from kypho.errors import AuditError

__all__ = ["ROUNDING_RULES", "PrintedInterval", "RoundingRule", "parse_printed", "printed_interval"]

RoundingRule = Literal[
    "up_or_down",
    "up",
    "down",
    "even",
    "ceiling",
    "floor",
    "ceiling_or_floor",
    "trunc",
    "anti_trunc",
]
ROUNDING_RULES: tuple[RoundingRule, ...] = get_args(RoundingRule)


@dataclass(frozen=True)
class PrintedInterval:
    """The true values that print as a number: ``low``–``high`` with open or closed ends."""

    low: Fraction
    high: Fraction
    low_closed: bool
    high_closed: bool

    def scaled(self, factor: int) -> PrintedInterval:
        """The interval multiplied by a positive whole number."""
        return PrintedInterval(
            self.low * factor, self.high * factor, self.low_closed, self.high_closed
        )

    def contains(self, x: Fraction) -> bool:
        """Whether ``x`` prints as the number."""
        above = x > self.low or (self.low_closed and x == self.low)
        below = x < self.high or (self.high_closed and x == self.high)
        return above and below

    def whole_numbers(self) -> range:
        """The whole numbers inside the interval."""
        lo = math.ceil(self.low)
        if not self.low_closed and lo == self.low:
            lo += 1
        hi = math.floor(self.high)
        if not self.high_closed and hi == self.high:
            hi -= 1
        return range(lo, hi + 1)


def parse_printed(text: str, what: str) -> tuple[Fraction, int]:
    """A printed number (a star and a Unicode minus allowed) as an exact fraction and its
    number of decimals."""
    body = text.strip().rstrip("*").strip().replace("−", "-")
    try:
        value = Fraction(body)
    except ValueError:
        raise AuditError(
            f"{what}: expected a printed number such as '8.34' (got {text!r})"
        ) from None
    decimals = len(body.split(".", 1)[1]) if "." in body else 0
    return value, decimals


def printed_interval(
    text: str, *, rounding: RoundingRule = "up_or_down", what: str = "value"
) -> PrintedInterval:
    """The true values that print as ``text`` under a rounding rule.

    Parameters
    ----------
    text : str
        The number as printed (trailing zeros matter: ``"5.20"`` has 2 decimals).
    rounding : str
        One of :data:`ROUNDING_RULES`.
    what : str
        What the number is, for the error message.

    Examples
    --------
    >>> iv = printed_interval("5.19")
    >>> (str(iv.low), str(iv.high), iv.low_closed, iv.high_closed)
    ('1037/200', '1039/200', True, True)
    >>> printed_interval("5.2", rounding="even").low_closed
    True
    >>> printed_interval("5.3", rounding="even").low_closed
    False
    """
    if rounding not in ROUNDING_RULES:
        raise AuditError(
            f"{what}: rounding must be one of {', '.join(ROUNDING_RULES)} (got {rounding!r})"
        )
    m, decimals = parse_printed(text, what)
    unit = Fraction(1, 10**decimals)
    half = unit / 2
    negative = m < 0
    if rounding == "up_or_down":
        return PrintedInterval(m - half, m + half, True, True)
    if rounding in ("up", "down"):
        # "up": a half moves away from zero, so the end nearer zero is closed.
        near_zero_closed = rounding == "up"
        if negative:
            return PrintedInterval(m - half, m + half, not near_zero_closed, near_zero_closed)
        return PrintedInterval(m - half, m + half, near_zero_closed, not near_zero_closed)
    if rounding == "even":
        last_digit = abs(int(m * 10**decimals)) % 10
        closed = last_digit % 2 == 0
        return PrintedInterval(m - half, m + half, closed, closed)
    if rounding == "ceiling":
        return PrintedInterval(m - unit, m, False, True)
    if rounding == "floor":
        return PrintedInterval(m, m + unit, True, False)
    if rounding == "ceiling_or_floor":
        return PrintedInterval(m - unit, m + unit, False, False)
    towards_zero = rounding == "trunc"
    if negative == towards_zero:
        return PrintedInterval(m - unit, m, False, True)
    return PrintedInterval(m, m + unit, True, False)
