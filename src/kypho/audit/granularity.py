"""GRIM, GRIMMER and DEBIT: can a printed mean (and SD) come from n whole-number values?

All three work on the printed text, in exact rational arithmetic, so that the rounding
interval of the last printed digit is applied without floating-point doubt: a mean
printed with ``d`` decimals stands for any value in ``[M − ½·10⁻ᵈ, M + ½·10⁻ᵈ]``, both
ends included so that both round-half-up and round-half-to-even readings are accepted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from kypho.audit.model import Reported
from kypho.audit.rounding import PrintedInterval, RoundingRule, parse_printed, printed_interval
from kypho.errors import AuditError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DebitResult",
    "GrimResult",
    "GrimmerResult",
    "debit",
    "grim",
    "grim_percent",
    "grimmer",
]


def _exact(value: str | Reported, what: str) -> tuple[Fraction, Fraction, int]:
    """The printed number as a fraction, half a unit of its last digit, its decimals."""
    text = value.text if isinstance(value, Reported) else value
    x, decimals = parse_printed(text, what)
    return x, Fraction(1, 2 * 10**decimals), decimals


def _interval(value: str | Reported, rounding: RoundingRule, what: str) -> PrintedInterval:
    text = value.text if isinstance(value, Reported) else value
    return printed_interval(text, rounding=rounding, what=what)


def _check_n(n: int, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise AuditError(f"{what}: n must be a whole number of at least 1 (got {n!r})")


def _sums(mean: PrintedInterval, total_n: int) -> range:
    """Whole-number totals whose mean over ``total_n`` prints as ``mean``."""
    return mean.scaled(total_n).whole_numbers()


def _fmt(x: Fraction, decimals: int) -> str:
    return f"{float(x):.{decimals}f}"


@dataclass(frozen=True)
class GrimResult:
    """Outcome of :func:`grim`.

    Attributes
    ----------
    consistent : bool
        Some whole-number total over ``n × items`` values has a mean that prints as
        the reported one.
    applicable : bool
        False when ``n × items ≥ 10^decimals``: then every printed mean is possible and
        the test says nothing.
    nearest : tuple of str
        The possible means next to the reported one, printed to its decimals.
    """

    consistent: bool
    applicable: bool
    mean: str
    n: int
    items: int
    nearest: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """One-row frame of the result."""
        import pandas as pd

        return pd.DataFrame([self.__dict__])


def grim(
    mean: str | Reported, n: int, *, items: int = 1, rounding: RoundingRule = "up_or_down"
) -> GrimResult:
    """GRIM test: is a printed mean possible for ``n`` whole-number values?

    Parameters
    ----------
    mean : str or Reported
        The mean as printed (``"8.34"``); its decimals set the rounding interval.
    n : int
        Number of values (patients).
    items : int
        Number of whole-number items averaged per patient (1 for a single score).
    rounding : str
        How the author rounded (:mod:`kypho.audit.rounding`); the default accepts a
        half rounded either way.

    Returns
    -------
    GrimResult

    Notes
    -----
    The mean of ``N = n × items`` whole numbers is ``T / N`` for a whole total ``T``. The
    printed mean ``M`` with ``d`` decimals is possible iff some whole ``T`` satisfies
    ``(M − ½·10⁻ᵈ)·N ≤ T ≤ (M + ½·10⁻ᵈ)·N``.

    References
    ----------
    Brown NJL, Heathers JAJ. The GRIM test: a simple technique detects numerous anomalies
    in the reporting of results in psychology. Soc Psychol Personal Sci 2017;8:363-369.

    Examples
    --------
    >>> grim("8.34", 55).consistent
    False
    >>> grim("8.34", 55).nearest
    ('8.33', '8.35')
    >>> grim("69.47", 55).consistent
    True
    """
    _check_n(n, "GRIM")
    _check_n(items, "GRIM items")
    m, half, decimals = _exact(mean, "GRIM mean")
    total_n = n * items
    sums = _sums(_interval(mean, rounding, "GRIM mean"), total_n)
    below = math.floor((m - half) * total_n)
    above = math.ceil((m + half) * total_n)
    if len(sums):
        nearest = tuple(_fmt(Fraction(t, total_n), decimals) for t in (sums[0], sums[-1]))
        nearest = tuple(dict.fromkeys(nearest))
    else:
        nearest = (
            _fmt(Fraction(below, total_n), decimals),
            _fmt(Fraction(above, total_n), decimals),
        )
    text = mean.text if isinstance(mean, Reported) else mean.strip()
    return GrimResult(
        consistent=len(sums) > 0,
        applicable=total_n < 10**decimals,
        mean=text,
        n=n,
        items=items,
        nearest=nearest,
    )


@dataclass(frozen=True)
class GrimmerResult:
    """Outcome of :func:`grimmer`.

    Attributes
    ----------
    consistent : bool
        Some whole-number data set of size ``n`` (within the bounds, if given) has a
        mean and an SD that print as the reported ones.
    grim_consistent : bool
        The mean alone passes GRIM.
    sd_min, sd_max : float or None
        Smallest and largest SD that whole-number data with a possible mean can have
        (``sd_max`` only with both bounds); None when the mean fails GRIM.
    """

    consistent: bool
    grim_consistent: bool
    mean: str
    sd: str
    n: int
    sd_min: float | None
    sd_max: float | None

    def to_frame(self) -> pd.DataFrame:
        """One-row frame of the result."""
        import pandas as pd

        return pd.DataFrame([self.__dict__])


def _sum_squares_bounds(
    total: int, n: int, low: int | None, high: int | None
) -> tuple[int, int | None]:
    """Least and greatest sum of squares of ``n`` whole numbers summing to ``total``."""
    q, r = divmod(total, n)
    least = n * q * q + r * (2 * q + 1)
    if low is None or high is None:
        return least, None
    width = high - low
    shifted = total - n * low
    if width == 0:
        return least, least
    k, rest = divmod(shifted, width)
    k, rest = (n, 0) if k >= n else (k, rest)
    most_shifted = k * width * width + rest * rest
    return least, most_shifted + 2 * low * shifted + n * low * low


def _variance_sums(sd: PrintedInterval, n: int, base: Fraction) -> PrintedInterval:
    """Sums of squares ``Q`` whose sample SD ``√((Q − base)/(n − 1))`` prints as ``sd``."""
    low, low_closed = sd.low, sd.low_closed
    if low < 0:
        low, low_closed = Fraction(0), True
    return PrintedInterval(
        low * low * (n - 1) + base, sd.high * sd.high * (n - 1) + base, low_closed, sd.high_closed
    )


def grimmer(
    mean: str | Reported,
    sd: str | Reported,
    n: int,
    *,
    low: float | None = None,
    high: float | None = None,
    items: int = 1,
    rounding: RoundingRule = "up_or_down",
) -> GrimmerResult:
    """GRIMMER test: are a printed mean and SD possible for ``n`` whole-number values?

    Parameters
    ----------
    mean, sd : str or Reported
        As printed; the SD is the sample SD (divisor ``n − 1``).
    n : int
        Number of values (patients), at least 2.
    low, high : float, optional
        Bounds of the scale (of one item's score); with both, the largest possible SD
        is checked too.
    items : int
        Whole-number items averaged into each patient's score (1 for a single score).
        Each score is then ``Sᵢ / items`` for a whole ``Sᵢ``, so the test runs on the
        ``Sᵢ`` with mean and SD multiplied by ``items``.
    rounding : str
        How the author rounded (:mod:`kypho.audit.rounding`).

    Returns
    -------
    GrimmerResult
        ``sd_min`` is kypho's exact minimum-SD bound: the smallest SD any whole-number
        data set with a possible mean has (values as equal as possible).

    Notes
    -----
    For a whole total ``T`` allowed by GRIM, the sum of squares ``Q = Σx²`` must be a
    whole number with the parity of ``T`` (``x² ≡ x mod 2``), at least the value for
    data as equal as possible (``T = nq + r``: ``Q ≥ nq² + r(2q+1)``) and, on a bounded
    scale, at most the value for data pushed to the bounds. The SD is
    ``√((Q − T²/n)/(n − 1))``; the reported SD is possible iff some such ``Q`` gives an
    SD that prints as the reported one.

    References
    ----------
    Anaya J. The GRIMMER test: a method for testing the validity of reported measures of
    variability. PeerJ Preprints 2016;4:e2400v1.
    Allard A. Analytic-GRIMMER: a new way of testing the possibility of
    descriptive statistics. PsyArXiv 2018.

    Examples
    --------
    >>> grimmer("0.15", "0.09", 55, low=0, high=10).consistent
    False
    >>> grimmer("69.47", "6.90", 55).consistent
    True
    """
    _check_n(n, "GRIMMER")
    _check_n(items, "GRIMMER items")
    if n < 2:
        raise AuditError(f"GRIMMER: n must be at least 2 for an SD (got {n})")
    mean_iv = _interval(mean, rounding, "GRIMMER mean").scaled(items)
    sd_iv = _interval(sd, rounding, "GRIMMER SD").scaled(items)
    lo_b = None if low is None else math.ceil(low * items)
    hi_b = None if high is None else math.floor(high * items)
    sums = list(_sums(mean_iv, n))
    if lo_b is not None:
        sums = [t for t in sums if t >= lo_b * n]
    if hi_b is not None:
        sums = [t for t in sums if t <= hi_b * n]
    mean_text = mean.text if isinstance(mean, Reported) else mean.strip()
    sd_text = sd.text if isinstance(sd, Reported) else sd.strip()
    if not sums:
        return GrimmerResult(False, False, mean_text, sd_text, n, None, None)
    consistent = False
    sd_min: float | None = None
    sd_max: float | None = None
    for t in sums:
        q_least, q_most = _sum_squares_bounds(t, n, lo_b, hi_b)
        base = Fraction(t * t, n)
        sd_least = math.sqrt((q_least - base) / (n - 1)) / items
        sd_min = sd_least if sd_min is None else min(sd_min, sd_least)
        if q_most is not None:
            sd_most = math.sqrt((q_most - base) / (n - 1)) / items
            sd_max = sd_most if sd_max is None else max(sd_max, sd_most)
        allowed = _variance_sums(sd_iv, n, base).whole_numbers()
        q_from = max(allowed.start, q_least)
        q_to = allowed.stop - 1 if q_most is None else min(allowed.stop - 1, q_most)
        if q_from % 2 != t % 2:
            q_from += 1
        if q_from <= q_to:
            consistent = True
    return GrimmerResult(consistent, True, mean_text, sd_text, n, sd_min, sd_max)


@dataclass(frozen=True)
class DebitResult:
    """Outcome of :func:`debit`.

    Attributes
    ----------
    consistent : bool
        Some count ``k`` of ones among ``n`` 0/1 values gives a mean and a sample SD
        that print as the reported ones.
    counts : tuple of int
        Every such ``k``.
    """

    consistent: bool
    mean: str
    sd: str
    n: int
    counts: tuple[int, ...]

    def to_frame(self) -> pd.DataFrame:
        """One-row frame of the result."""
        import pandas as pd

        return pd.DataFrame([self.__dict__])


def debit(
    mean: str | Reported, sd: str | Reported, n: int, *, rounding: RoundingRule = "up_or_down"
) -> DebitResult:
    """DEBIT test: are a printed mean and SD possible for ``n`` binary (0/1) values?

    Parameters
    ----------
    mean, sd : str or Reported
        The proportion and its sample SD (divisor ``n − 1``) as printed.
    n : int
        Number of values, at least 2.
    rounding : str
        How the author rounded (:mod:`kypho.audit.rounding`).

    Returns
    -------
    DebitResult

    Notes
    -----
    With ``k`` ones among ``n`` values the mean is ``p = k/n`` and the sample SD is
    ``√(n p (1 − p) / (n − 1))``. Every ``k`` from 0 to ``n`` is tried, exactly.

    References
    ----------
    Heathers JAJ, Brown NJL. DEBIT: a simple consistency test for binary data. OSF
    Preprints 2019.

    Examples
    --------
    >>> debit("0.40", "0.50", 25).consistent
    True
    >>> debit("0.40", "0.30", 25).consistent
    False
    """
    _check_n(n, "DEBIT")
    if n < 2:
        raise AuditError(f"DEBIT: n must be at least 2 for an SD (got {n})")
    mean_iv = _interval(mean, rounding, "DEBIT mean")
    sd_iv = _interval(sd, rounding, "DEBIT SD")
    variance = _variance_sums(sd_iv, n, Fraction(0))
    counts = []
    for k in _sums(mean_iv, n):
        if not 0 <= k <= n:
            continue
        # (n − 1)·s² for k ones among n values:
        if variance.contains(Fraction(k * (n - k), n)):
            counts.append(k)
    return DebitResult(
        consistent=bool(counts),
        mean=mean.text if isinstance(mean, Reported) else mean.strip(),
        sd=sd.text if isinstance(sd, Reported) else sd.strip(),
        n=n,
        counts=tuple(counts),
    )


def grim_percent(
    percent: str | Reported, n: int, *, rounding: RoundingRule = "up_or_down"
) -> GrimResult:
    """GRIM on a bare percentage: is "p %" possible as a count out of ``n``?

    Parameters
    ----------
    percent : str or Reported
        The percentage as printed (``"16.4"``); its decimals set the rounding interval.
    n : int
        The denominator (patients).
    rounding : str
        How the author rounded (:mod:`kypho.audit.rounding`).

    Returns
    -------
    GrimResult
        ``nearest`` holds the possible percentages next to the printed one.

    Notes
    -----
    ``p`` % of ``n`` is possible iff some whole count ``k`` has ``100·k/n`` printing as
    ``p``: GRIM on the proportion ``p/100`` with two more decimals.

    References
    ----------
    Brown NJL, Heathers JAJ (2017), as :func:`grim`; scrutiny's ``grim(percent = TRUE)``.

    Examples
    --------
    >>> grim_percent("16.4", 55).consistent
    True
    >>> grim_percent("16.5", 55).consistent
    False
    """
    _check_n(n, "GRIM percentage")
    text = percent.text if isinstance(percent, Reported) else percent.strip()
    p, _, decimals = _exact(text, "GRIM percentage")
    iv = printed_interval(text, rounding=rounding, what="GRIM percentage")
    counts = PrintedInterval(iv.low * n / 100, iv.high * n / 100, iv.low_closed, iv.high_closed)
    possible = counts.whole_numbers()
    if len(possible):
        nearest = tuple(
            dict.fromkeys(_fmt(Fraction(100 * k, n), decimals) for k in (possible[0], possible[-1]))
        )
    else:
        below = math.floor(p * n / 100)
        nearest = tuple(_fmt(Fraction(100 * k, n), decimals) for k in (below, below + 1))
    return GrimResult(
        consistent=len(possible) > 0,
        applicable=n < 100 * 10**decimals,
        mean=text,
        n=n,
        items=1,
        nearest=nearest,
    )
