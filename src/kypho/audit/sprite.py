"""SPRITE: whole-number samples that have a printed mean and SD on a bounded scale.

GRIMMER (:func:`kypho.audit.granularity.grimmer`) says whether some sample exists;
SPRITE shows some, so a reader can see what the data would have to look like (all
values at the floor of a scale, say). The search is a seeded random walk: start from a
sample with a possible total whose values are as equal as possible (the least SD), then
move one unit between two values — apart to raise the SD, together to lower it — until
the SD prints as the reported one. Distinct samples come from restarts.

References
----------
Heathers JAJ, Anaya J, van der Zee T, Brown NJL. Recovering data from summary
statistics: Sample Parameter Reconstruction via Iterative TEchniques (SPRITE). PeerJ
Preprints 2018;6:e26968v1. Wallrich L. rsprite2 (R package; GitHub LukasWallrich/rsprite2),
whose documented cases are kypho's reference tests (tests/reference/audit).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from kypho.audit.granularity import _sum_squares_bounds, _sums, _variance_sums, grimmer
from kypho.audit.rounding import PrintedInterval, RoundingRule, printed_interval
from kypho.errors import AuditError

__all__ = ["SpriteResult", "sprite"]


@dataclass(frozen=True)
class SpriteResult:
    """Outcome of :func:`sprite`.

    Attributes
    ----------
    status : str
        ``"found"`` (``samples`` holds at least one), ``"impossible"`` (GRIMMER proves
        that no sample exists) or ``"not_found"`` (none found within the search budget;
        not a proof).
    samples : tuple of tuple of float
        Distinct samples, each sorted, with the printed mean and SD.
    reason : str
        A sentence saying what was found.
    """

    status: str
    samples: tuple[tuple[float, ...], ...]
    reason: str
    mean: str
    sd: str
    n: int


def sprite(
    mean: str,
    sd: str,
    n: int,
    *,
    low: int,
    high: int,
    items: int = 1,
    max_samples: int = 5,
    seed: int = 0,
    max_steps: int = 20_000,
    rounding: RoundingRule = "up_or_down",
) -> SpriteResult:
    """Find up to ``max_samples`` whole-number samples with the printed mean and SD.

    Parameters
    ----------
    mean, sd : str
        As printed (sample SD, divisor ``n − 1``).
    n : int
        Sample size, at least 2.
    low, high : int
        The scale's bounds (of one item's score).
    items : int
        Whole-number items averaged into each score.
    max_samples, seed, max_steps : int
        How many distinct samples to look for, the random seed (the search is
        deterministic for a seed), and the moves allowed per sample.
    rounding : str
        How the author rounded (:mod:`kypho.audit.rounding`).

    Returns
    -------
    SpriteResult

    Examples
    --------
    >>> r = sprite("3.50", "1.19", 20, low=1, high=7, max_samples=2)
    >>> r.status, len(r.samples), r.samples[0][:4]
    ('found', 2, (2.0, 2.0, 2.0, 3.0))
    >>> sprite("0.15", "0.09", 55, low=0, high=10).status
    'impossible'
    """
    if n < 2:
        raise AuditError(f"SPRITE: n must be at least 2 for an SD (got {n})")
    if not low < high:
        raise AuditError(
            f"SPRITE: the scale's low bound must be below its high bound (got {low}, {high})"
        )
    check = grimmer(mean, sd, n, low=low, high=high, items=items, rounding=rounding)
    if not check.consistent:
        return SpriteResult(
            "impossible",
            (),
            f"GRIMMER shows that no {n} whole-number values from {low} to {high} have mean "
            f"{mean} and SD {sd}",
            mean,
            sd,
            n,
        )
    lo_b, hi_b = low * items, high * items
    mean_iv = printed_interval(mean, rounding=rounding, what="SPRITE mean").scaled(items)
    sd_iv = printed_interval(sd, rounding=rounding, what="SPRITE SD").scaled(items)
    totals = [t for t in _sums(mean_iv, n) if lo_b * n <= t <= hi_b * n]
    rng = np.random.default_rng(seed)
    found: dict[tuple[int, ...], None] = {}
    attempts = 0
    while len(found) < max_samples and attempts < 4 * max_samples:
        attempts += 1
        total = totals[int(rng.integers(len(totals)))]
        allowed = _variance_sums(sd_iv, n, Fraction(total * total, n))
        q_least, q_most = _sum_squares_bounds(total, n, lo_b, hi_b)
        if q_most is not None and (allowed.high < q_least or allowed.low > q_most):
            continue
        sample = _walk(total, n, lo_b, hi_b, allowed, rng, max_steps)
        if sample is not None:
            found[sample] = None
    samples = tuple(tuple(v / items for v in s) for s in found)
    if not samples:
        return SpriteResult(
            "not_found",
            (),
            f"GRIMMER allows mean {mean} and SD {sd} for n = {n} on {low}–{high}, but no "
            f"sample was found in {attempts} searches (not a proof)",
            mean,
            sd,
            n,
        )
    return SpriteResult(
        "found",
        samples,
        f"{len(samples)} distinct sample(s) of {n} whole numbers from {low} to {high} have "
        f"mean {mean} and SD {sd}",
        mean,
        sd,
        n,
    )


def _walk(
    total: int,
    n: int,
    low: int,
    high: int,
    allowed: PrintedInterval,
    rng: np.random.Generator,
    max_steps: int,
) -> tuple[int, ...] | None:
    """Random walk from the least-SD sample with this total to one whose Σx² is allowed."""
    q, r = divmod(total, n)
    x = np.full(n, q, dtype=np.int64)
    x[:r] += 1
    squares = int((x * x).sum())
    for _ in range(max_steps):
        if allowed.contains(Fraction(squares)):
            return tuple(int(v) for v in np.sort(x))
        i, j = rng.choice(n, size=2, replace=False)
        if x[i] > x[j]:
            i, j = j, i
        if squares < allowed.low:
            # spread: x_i down, x_j up (Σx² grows by 2(x_j − x_i) + 2)
            if x[i] > low and x[j] < high:
                squares += 2 * int(x[j] - x[i]) + 2
                x[i] -= 1
                x[j] += 1
        elif x[j] - x[i] >= 2:
            # draw together (Σx² falls by 2(x_j − x_i) − 2)
            squares -= 2 * int(x[j] - x[i]) - 2
            x[i] += 1
            x[j] -= 1
    return None
