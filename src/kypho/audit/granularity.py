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

import pandas as pd

from kypho.audit.model import Reported
from kypho.errors import AuditError

__all__ = ["DebitResult", "GrimResult", "GrimmerResult", "debit", "grim", "grimmer"]


def _exact(value: str | Reported, what: str) -> tuple[Fraction, Fraction, int]:
    """The printed number as a fraction, half a unit of its last digit, its decimals."""
    text = value.text if isinstance(value, Reported) else value
    body = text.strip().rstrip("*").strip().replace("−", "-")
    try:
        x = Fraction(body)
    except ValueError:
        raise AuditError(
            f"{what}: expected a printed number such as '8.34' (got {text!r})"
        ) from None
    decimals = len(body.split(".", 1)[1]) if "." in body else 0
    return x, Fraction(1, 2 * 10**decimals), decimals


def _check_n(n: int, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise AuditError(f"{what}: n must be a whole number of at least 1 (got {n!r})")


def _sums(mean: Fraction, half: Fraction, total_n: int) -> range:
    """Whole-number totals whose mean over ``total_n`` prints as ``mean``."""
    lo = math.ceil((mean - half) * total_n)
    hi = math.floor((mean + half) * total_n)
    return range(lo, hi + 1)


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
        return pd.DataFrame([self.__dict__])


def grim(mean: str | Reported, n: int, *, items: int = 1) -> GrimResult:
    """GRIM test: is a printed mean possible for ``n`` whole-number values?

    Parameters
    ----------
    mean : str or Reported
        The mean as printed (``"8.34"``); its decimals set the rounding interval.
    n : int
        Number of values (patients).
    items : int
        Number of whole-number items averaged per patient (1 for a single score).

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
    sums = _sums(m, half, total_n)
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


def grimmer(
    mean: str | Reported,
    sd: str | Reported,
    n: int,
    *,
    low: float | None = None,
    high: float | None = None,
) -> GrimmerResult:
    """GRIMMER test: are a printed mean and SD possible for ``n`` whole-number values?

    Parameters
    ----------
    mean, sd : str or Reported
        As printed; the SD is the sample SD (divisor ``n − 1``).
    n : int
        Number of values, at least 2.
    low, high : float, optional
        Bounds of the scale (whole numbers); with both, the largest possible SD is
        checked too.

    Returns
    -------
    GrimmerResult

    Notes
    -----
    For a whole total ``T`` allowed by GRIM, the sum of squares ``Q = Σx²`` must be a
    whole number with the parity of ``T`` (``x² ≡ x mod 2``), at least the value for
    data as equal as possible (``T = nq + r``: ``Q ≥ nq² + r(2q+1)``) and, on a bounded
    scale, at most the value for data pushed to the bounds. The SD is
    ``√((Q − T²/n)/(n − 1))``; the reported SD is possible iff some such ``Q`` gives an
    SD within its rounding interval.

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
    if n < 2:
        raise AuditError(f"GRIMMER: n must be at least 2 for an SD (got {n})")
    m, mhalf, _ = _exact(mean, "GRIMMER mean")
    s, shalf, _ = _exact(sd, "GRIMMER SD")
    lo_b = None if low is None else math.ceil(low)
    hi_b = None if high is None else math.floor(high)
    sums = list(_sums(m, mhalf, n))
    if lo_b is not None:
        sums = [t for t in sums if t >= lo_b * n]
    if hi_b is not None:
        sums = [t for t in sums if t <= hi_b * n]
    mean_text = mean.text if isinstance(mean, Reported) else mean.strip()
    sd_text = sd.text if isinstance(sd, Reported) else sd.strip()
    if not sums:
        return GrimmerResult(False, False, mean_text, sd_text, n, None, None)
    s_lo = max(s - shalf, Fraction(0))
    s_hi = s + shalf
    consistent = False
    sd_min: float | None = None
    sd_max: float | None = None
    for t in sums:
        q_least, q_most = _sum_squares_bounds(t, n, lo_b, hi_b)
        base = Fraction(t * t, n)
        var_least = (q_least - base) / (n - 1)
        sd_min = min(sd_min, math.sqrt(var_least)) if sd_min is not None else math.sqrt(var_least)
        if q_most is not None:
            sd_most = math.sqrt((q_most - base) / (n - 1))
            sd_max = max(sd_max, sd_most) if sd_max is not None else sd_most
        q_from = max(math.ceil(s_lo * s_lo * (n - 1) + base), q_least)
        q_to = math.floor(s_hi * s_hi * (n - 1) + base)
        if q_most is not None:
            q_to = min(q_to, q_most)
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
        return pd.DataFrame([self.__dict__])


def debit(mean: str | Reported, sd: str | Reported, n: int) -> DebitResult:
    """DEBIT test: are a printed mean and SD possible for ``n`` binary (0/1) values?

    Parameters
    ----------
    mean, sd : str or Reported
        The proportion and its sample SD (divisor ``n − 1``) as printed.
    n : int
        Number of values, at least 2.

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
    m, mhalf, _ = _exact(mean, "DEBIT mean")
    s, shalf, _ = _exact(sd, "DEBIT SD")
    s_lo2 = max(s - shalf, Fraction(0)) ** 2
    s_hi2 = (s + shalf) ** 2
    counts = []
    for k in _sums(m, mhalf, n):
        if not 0 <= k <= n:
            continue
        var = Fraction(k * (n - k), n * (n - 1))
        if s_lo2 <= var <= s_hi2:
            counts.append(k)
    return DebitResult(
        consistent=bool(counts),
        mean=mean.text if isinstance(mean, Reported) else mean.strip(),
        sd=sd.text if isinstance(sd, Reported) else sd.strip(),
        n=n,
        counts=tuple(counts),
    )
