"""Numerical core of the synthetic cohort: correlated draws with exact summaries.

Every function works on whole columns (NumPy arrays), so that the same code
draws 110 patients or a million.

The recipe for one measurement in one group:

1. correlated standard normal scores per patient (:func:`trajectories`): a
   latent patient effect shared by the timepoints of a measure, so that a
   patient's VAS or heights follow a trajectory;
2. a marginal shape that respects the bounds (:func:`shape`): normal when the
   mean is far from every bound, otherwise a gamma distribution whose support
   starts at the bound (a Gaussian copula: ranks, hence correlations, survive);
3. exact standardisation (:func:`standardise`), clipping to the bounds and
   standardising again until both hold (:func:`fit`);
4. rounding to the stored resolution, then a greedy repair
   (:func:`repair`) that moves single values by one resolution step until the
   sample mean and SD print as the published ones.

References
----------
.. [1] Nelsen RB. An Introduction to Copulas. 2nd ed. Springer; 2006 (the
   Gaussian copula).
.. [2] Wilson EB, Hilferty MM. The distribution of chi-square. Proc Natl Acad
   Sci USA 1931;17(12):684-688.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "Movable",
    "Target",
    "apportion",
    "fit",
    "repair",
    "repair_t",
    "shape",
    "standardise",
    "trajectories",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# A marginal closer to a bound than this many SDs is drawn skewed away from it.
_SKEW_WITHIN_SD = 4.0


@dataclass(frozen=True)
class Target:
    """A published mean ± SD and the interval each must fall in to print the same.

    ``mean_half`` and ``sd_half`` are half a unit of the last printed digit.
    """

    mean: float
    sd: float
    mean_half: float
    sd_half: float

    def hit(self, mean: float, sd: float) -> bool:
        """Whether a sample mean and SD print as the published ones."""
        return _inside(mean, self.mean, self.mean_half) and _inside(sd, self.sd, self.sd_half)


def _inside(value: float, printed: float, half: float) -> bool:
    # strictly inside, with room for the float error of the printed value itself
    return abs(value - printed) < half * (1.0 - 1e-6)


def trajectories(
    rng: np.random.Generator, n: int, k: int, *, rho: float, latent: FloatArray | None = None
) -> FloatArray:
    """Standard normal scores ``(n, k)`` with correlation ``rho`` between columns.

    Notes
    -----
    Each patient has a latent effect :math:`u_i \\sim N(0, 1)` (``latent`` when
    given, so that several measures can share it) and
    :math:`z_{it} = \\sqrt{\\rho}\\,u_i + \\sqrt{1-\\rho}\\,e_{it}`; columns then have
    unit variance and pairwise correlation :math:`\\rho`.
    """
    u = rng.standard_normal(n) if latent is None else latent
    e = rng.standard_normal((n, k))
    out: FloatArray = np.sqrt(rho) * u[:, None] + np.sqrt(1.0 - rho) * e
    return out


def shape(z: FloatArray, mean: float, sd: float, lo: float | None, hi: float | None) -> FloatArray:
    """Map standard normal scores to a marginal with this mean and SD inside the bounds.

    Notes
    -----
    When the mean is within four SDs of a bound at distance :math:`d`, the values are
    :math:`\\text{bound} \\pm G^{-1}(\\Phi(z))` (Wilson–Hilferty's approximation [2]_) with :math:`G` the gamma distribution
    of shape :math:`(d/\\text{sd})^2` and scale :math:`\\text{sd}^2/d` (mean :math:`d`,
    SD ``sd``), so the support starts at the bound. Otherwise they are normal.
    The map is monotone, so the correlation of the scores carries over (a
    Gaussian copula [1]_).
    """
    d_lo = np.inf if lo is None else (mean - lo) / sd
    d_hi = np.inf if hi is None else (hi - mean) / sd
    if min(d_lo, d_hi) >= _SKEW_WITHIN_SD or sd <= 0:
        return mean + sd * z
    if d_lo <= d_hi and lo is not None:
        return lo + _gamma_quantile(z, mean - lo, sd)
    top = float("inf") if hi is None else hi
    return top - _gamma_quantile(-z, top - mean, sd)


def _gamma_quantile(z: FloatArray, mean: float, sd: float) -> FloatArray:
    """Gamma(mean, sd) quantile at the normal score ``z`` (Wilson–Hilferty [2]_).

    :math:`x = k\\theta\\,(1 - 1/(9k) + z/\\sqrt{9k})^3` with shape :math:`k = (m/s)^2`
    and scale :math:`\\theta = s^2/m`; monotone in ``z`` and vectorised. Exact moments
    come from the standardisation that follows, so the approximation only sets the
    shape; the rare negative values of a very skewed gamma are put at 0.
    """
    k = (mean / sd) ** 2
    base = 1.0 - 1.0 / (9.0 * k) + z / np.sqrt(9.0 * k)
    out: FloatArray = mean * np.maximum(base, 0.0) ** 3
    return out


def standardise(x: FloatArray, mean: float, sd: float) -> FloatArray:
    """Shift and scale ``x`` so that its sample mean and SD (n − 1) are exactly these.

    Notes
    -----
    :math:`x' = m + s\\,(x - \\bar x)/s_x`. A constant ``x`` is returned as ``m``.
    """
    if len(x) < 2:
        return np.full(len(x), mean)
    sx = float(np.std(x, ddof=1))
    if sx == 0:
        return np.full(len(x), mean)
    return mean + sd * (x - float(np.mean(x))) / sx


def fit(
    x: FloatArray,
    mean: float,
    sd: float,
    lo: float | None,
    hi: float | None,
    *,
    rounds: int = 60,
) -> FloatArray:
    """Standardise exactly, then clip to the bounds and standardise again until both hold.

    Clipping pulls the tail in and standardising pushes it out again, by less each
    round; when the target is feasible this converges within a few rounds. The last
    round clips, so the bounds always hold (the moments then hold approximately).
    """
    y = standardise(x, mean, sd)
    lo_v = -np.inf if lo is None else lo
    hi_v = np.inf if hi is None else hi
    for _ in range(rounds):
        if y.min() >= lo_v and y.max() <= hi_v:
            return y
        y = standardise(np.clip(y, lo_v, hi_v), mean, sd)
    return np.clip(y, lo_v, hi_v)


def repair(
    y: FloatArray,
    step: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    target: Target,
    rng: np.random.Generator,
    *,
    max_moves: int = 2000,
    max_pairs: int = 4000,
) -> tuple[IntArray, bool]:
    """Move values by whole steps until the sample mean and SD print as the target.

    Parameters
    ----------
    y
        The values (already on their grid, as the analysis will see them).
    step
        Per value, the change of ``y`` for one resolution step of the stored input
        (e.g. 0.1 mm of the injured height changes the height ratio by
        ``0.1 / reference × 100``).
    lo, hi
        Per value, the bounds ``y`` must stay within.
    target
        The published mean and SD with their rounding.
    rng
        Breaks ties, so that repeated moves do not pile up on one patient.

    Returns
    -------
    steps : ndarray of int
        Signed number of steps applied to each value.
    ok : bool
        Whether the target was reached.

    Notes
    -----
    Greedy: each move is the single-value step (up or down) or the pair of steps (one
    value up, another down) that brings the normalised distance
    :math:`\\max(|\\bar y - M|/h_M, |s_y - S|/h_S)` lowest, computed exactly from the
    running sums :math:`\\sum y` and :math:`\\sum y^2` (centred at the start). Stops when
    both are inside their rounding intervals.
    """
    n = len(y)
    k = np.zeros(n, dtype=np.int64)
    if n < 2:
        return k, False
    centre = float(np.mean(y))
    c = y - centre
    m_target = target.mean - centre
    sample = min(n, int(np.sqrt(max_pairs)))

    def loss(s1: FloatArray, s2: FloatArray) -> FloatArray:
        mean = s1 / n
        var = np.maximum(s2 - s1 * s1 / n, 0.0) / (n - 1)
        return np.maximum(
            np.abs(mean - m_target) / target.mean_half,
            np.abs(np.sqrt(var) - target.sd) / target.sd_half,
        )

    s1, s2 = float(c.sum()), float((c * c).sum())
    current = float(loss(np.array([s1]), np.array([s2]))[0])
    for _ in range(max_moves):
        if current < 1.0 - 1e-6:
            return k, True
        jitter = rng.random(n) * 1e-9
        up_ok = c + step <= hi - centre + 1e-12
        down_ok = c - step >= lo - centre - 1e-12
        l_up = loss(s1 + step, s2 + 2 * c * step + step * step) + jitter
        l_up[~up_ok] = np.inf
        l_dn = loss(s1 - step, s2 - 2 * c * step + step * step) + jitter
        l_dn[~down_ok] = np.inf
        best_up, best_dn = int(np.argmin(l_up)), int(np.argmin(l_dn))
        i_up = rng.choice(n, size=sample, replace=False)
        i_dn = rng.choice(n, size=sample, replace=False)
        cu, cd = c[i_up][:, None], c[i_dn][None, :]
        su, sd_ = step[i_up][:, None], step[i_dn][None, :]
        l_pair = loss(
            s1 + su - sd_,
            s2 + 2 * cu * su + su * su - 2 * cd * sd_ + sd_ * sd_,
        )
        l_pair[~up_ok[i_up], :] = np.inf
        l_pair[:, ~down_ok[i_dn]] = np.inf
        l_pair[i_up[:, None] == i_dn[None, :]] = np.inf
        flat = int(np.argmin(l_pair))
        pu, pd_ = i_up[flat // sample], i_dn[flat % sample]
        options = (float(l_up[best_up]), float(l_dn[best_dn]), float(l_pair.flat[flat]))
        choice = int(np.argmin(options))
        if options[choice] >= current:
            return k, False
        moves: tuple[tuple[int, int], ...] = ((best_up, 1),) if choice == 0 else ((best_dn, -1),)
        if choice == 2:
            moves = ((int(pu), 1), (int(pd_), -1))
        for i, sign in moves:
            d = sign * step[i]
            s1 += d
            s2 += 2 * c[i] * d + d * d
            c[i] += d
            k[i] += sign
        current = options[choice]
    return k, current < 1.0 - 1e-6


@dataclass
class Movable:
    """One group's values on their grid, as :func:`repair_t` moves them.

    ``k`` counts the steps applied so far (it starts at the steps an earlier
    :func:`repair` applied, so that the caller can map the total back to its input).
    """

    y: FloatArray
    step: FloatArray
    lo: FloatArray
    hi: FloatArray
    target: Target
    k: IntArray


def _moments(s1: FloatArray, s2: FloatArray, n: int) -> tuple[FloatArray, FloatArray]:
    mean = s1 / n
    var = np.maximum(s2 - s1 * s1 / n, 0.0) / (n - 1)
    return mean, np.sqrt(var)


def repair_t(
    a: Movable,
    b: Movable,
    t_value: float,
    t_half: float,
    rng: np.random.Generator,
    *,
    max_moves: int = 3000,
    sample: int = 40,
) -> bool:
    """Move values of two groups until Student's |t| prints as published, keeping both
    groups' means and SDs inside their printed rounding.

    Works like :func:`repair` on both groups at once, with one more term in the
    distance: :math:`| |t| - T | / h_T`, where
    :math:`t = (\\bar a - \\bar b) / (s_p \\sqrt{1/n_a + 1/n_b})` and :math:`s_p^2` is
    the pooled variance (with equal group sizes Student's and Welch's t coincide).
    A move is one step of one value, two opposite steps in one group, or one step in
    each group (so that both means can shift together). Moves ``a.y``/``a.k`` and
    ``b.y``/``b.k`` in place; returns whether all three targets are met.
    """
    na, nb = len(a.y), len(b.y)
    if min(na, nb) < 2:
        return False
    sums = [float(a.y.sum()), float((a.y * a.y).sum()), float(b.y.sum()), float((b.y * b.y).sum())]

    def loss(s1a: FloatArray, s2a: FloatArray, s1b: FloatArray, s2b: FloatArray) -> FloatArray:
        ma, sa = _moments(s1a, s2a, na)
        mb, sb = _moments(s1b, s2b, nb)
        sp2 = ((na - 1) * sa * sa + (nb - 1) * sb * sb) / (na + nb - 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.abs(ma - mb) / np.sqrt(sp2 * (1.0 / na + 1.0 / nb))
        parts = (
            np.abs(ma - a.target.mean) / a.target.mean_half,
            np.abs(sa - a.target.sd) / a.target.sd_half,
            np.abs(mb - b.target.mean) / b.target.mean_half,
            np.abs(sb - b.target.sd) / b.target.sd_half,
            np.abs(t - t_value) / t_half,
        )
        out: FloatArray = np.maximum.reduce(np.broadcast_arrays(*parts))
        return out

    def steps(g: Movable, idx: IntArray, sign: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Change of Σy and Σy² for one step of each chosen value, and where allowed."""
        d = sign * g.step[idx]
        y = g.y[idx]
        ok = (y + d <= g.hi[idx] + 1e-12) & (y + d >= g.lo[idx] - 1e-12)
        return d, 2 * y * d + d * d, np.where(ok, 0.0, np.inf)

    current = float(loss(*(np.array([v]) for v in sums))[0])
    for _ in range(max_moves):
        if current < 1.0 - 1e-6:
            return True
        ia = rng.choice(na, size=min(na, sample), replace=False)
        ib = rng.choice(nb, size=min(nb, sample), replace=False)
        s1a, s2a, s1b, s2b = (np.array(v) for v in sums)
        # candidates: (loss array, decoder of the flat argmin into moves)
        options: list[tuple[FloatArray, list[tuple[int, IntArray, int]], tuple[int, ...]]] = []
        for sa_ in (1, -1):
            da1, da2, bad_a = steps(a, ia, sa_)
            options.append(
                (loss(s1a + da1, s2a + da2, s1b, s2b) + bad_a, [(0, ia, sa_)], (len(ia),))
            )
            db1, db2, bad_b = steps(b, ib, sa_)
            options.append(
                (loss(s1a, s2a, s1b + db1, s2b + db2) + bad_b, [(1, ib, sa_)], (len(ib),))
            )
            for sb_ in (1, -1):
                db1, db2, bad_b = steps(b, ib, sb_)
                cross = (
                    loss(
                        (s1a + da1)[:, None],
                        (s2a + da2)[:, None],
                        (s1b + db1)[None, :],
                        (s2b + db2)[None, :],
                    )
                    + bad_a[:, None]
                    + bad_b[None, :]
                )
                options.append((cross, [(0, ia, sa_), (1, ib, sb_)], cross.shape))
        for gi, g, idx in ((0, a, ia), (1, b, ib)):
            up1, up2, bad_up = steps(g, idx, 1)
            dn1, dn2, bad_dn = steps(g, idx, -1)
            same = np.where(idx[:, None] == idx[None, :], np.inf, 0.0)
            d1 = up1[:, None] + dn1[None, :]
            # a value moved up and another down: Σy² changes by both terms
            d2 = up2[:, None] + dn2[None, :]
            if gi == 0:
                within = loss(s1a + d1, s2a + d2, s1b, s2b)
            else:
                within = loss(s1a, s2a, s1b + d1, s2b + d2)
            within = within + bad_up[:, None] + bad_dn[None, :] + same
            options.append((within, [(gi, idx, 1), (gi, idx, -1)], within.shape))
        best_loss, best_moves = current, None
        for values, moves, shape_ in options:
            flat = int(np.argmin(values))
            if values.flat[flat] < best_loss:
                pos = np.unravel_index(flat, shape_)
                best_loss = float(values.flat[flat])
                best_moves = [
                    (g, int(idx[p]), sign) for (g, idx, sign), p in zip(moves, pos, strict=True)
                ]
        if best_moves is None:
            return False
        for gi, i, sign in best_moves:
            g = (a, b)[gi]
            d = sign * g.step[i]
            sums[2 * gi] += d
            sums[2 * gi + 1] += 2 * g.y[i] * d + d * d
            g.y[i] += d
            g.k[i] += sign
        current = best_loss
    return current < 1.0 - 1e-6


def apportion(total: int, weights: npt.ArrayLike) -> IntArray:
    """Split ``total`` into whole counts proportional to ``weights`` (largest remainder).

    Notes
    -----
    Hamilton's method: each part gets the floor of its quota
    :math:`\\text{total}\\,w_j/\\sum w`, and the parts with the largest remainders
    get one more until the counts add up to ``total``.

    Examples
    --------
    >>> apportion(10, [12, 43]).tolist()
    [2, 8]
    """
    w = np.asarray(weights, dtype=np.float64)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    quota = total * w / w.sum()
    base = np.floor(quota).astype(np.int64)
    short = total - int(base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:short]] += 1
    result: IntArray = base
    return result
