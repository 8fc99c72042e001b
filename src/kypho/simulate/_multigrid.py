"""Black-box multigrid (compiled) as the preconditioner of CG for the pressure matrix.

The pressure matrix is the five-point, symmetric positive definite matrix of
:mod:`kypho.simulate.flow` whose couplings jump by up to 10⁶ where set cement
meets marrow. Geometric multigrid with fixed (bilinear) interpolation fails
across such jumps; the black-box multigrid of Dendy (1982) takes the
interpolation from the operator itself, so that the coarse-grid correction
respects the jumps. One level:

* **coarse points**: the fine points whose column and row indices are both odd
  (0-based); an ``n``-point line has ``n // 2`` coarse points;
* **interpolation** ``P`` (weights of each coarse point in its 3 × 3 fine
  neighbourhood): a coarse point keeps its value; a fine point between two
  coarse points on a line takes the weighted mean of the two, the weights being
  the operator's couplings towards them once the stencil has been collapsed
  (summed) across the line — where the coefficient jumps, the side with the
  strong coupling dominates; a fine point between four coarse points takes its
  value from its own equation, its eight neighbours being already known;
* **coarse operator** ``A_c = Pᵀ A P`` (Galerkin): nine-point from the first
  coarse level on, still symmetric positive definite;
* **smoother**: point Gauss–Seidel in natural order, forward before the coarse
  correction and backward after it, so that one V-cycle is a symmetric positive
  definite operator (a valid CG preconditioner); the coarsest level (at most
  ``coarse_max`` points) is solved exactly with its dense Cholesky factor.

All levels live in flat arrays, each level padded with a ring of empty points
(level ``l`` starts at ``offsets[l]``; its point ``(i, j)`` is at
``offsets[l] + (j + 1) (nx + 2) + i + 1``), so that the loops need no tests at
the edges: ``stencil[g, 4 + 3 dj + di]`` is the matrix entry of point ``g``
with its neighbour ``(di, dj)`` (0 on the ring), ``weights[g, 4 + 3 dj + di]``
(``g`` a coarse point) the weight of ``g`` at the fine point ``(di, dj)`` from
it.

References
----------
Dendy JE Jr. Black box multigrid. J Comput Phys 1982;48:366-386.
Alcouffe RE, Brandt A, Dendy JE Jr, Painter JW. The multi-grid method for the
diffusion equation with strongly discontinuous coefficients. SIAM J Sci Stat
Comput 1981;2:430-454.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["Hierarchy", "vcycle"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_F = TypeVar("_F", bound=Callable[..., Any])

#: The arrays of a hierarchy, passed to the compiled functions as one tuple:
#: ``(nxs, nys, offsets, stencil, inverse diagonal, weights, coarsest factor, west,
#: south, work)``; west and south: the finest level's five-point couplings as
#: compact arrays; work: three vectors as long as all levels.
Levels = tuple[
    IntArray,
    IntArray,
    IntArray,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
]


def _jit(fn: _F) -> _F:
    return cast(_F, numba.njit(cache=True, nogil=True, fastmath={"contract"})(fn))


def _jit_sums(fn: _F) -> _F:
    """:func:`_jit` for the vector loops with a sum: it may be reordered (vectorised)."""
    return cast(_F, numba.njit(cache=True, nogil=True, fastmath={"contract", "reassoc"})(fn))


@_jit
def _isolated(a: FloatArray, g: int) -> bool:
    """Whether point ``g`` has no coupling (a cell the tube or a wall occupies: its row is its diagonal)."""
    k = np.uint64(g)
    return bool(
        a[k, 0] == 0.0
        and a[k, 1] == 0.0
        and a[k, 2] == 0.0
        and a[k, 3] == 0.0
        and a[k, 5] == 0.0
        and a[k, 6] == 0.0
        and a[k, 7] == 0.0
        and a[k, 8] == 0.0
    )


@_jit
def _interpolation(
    a: FloatArray, o: int, nx: int, pw: FloatArray, oc: int, ncx: int, ncy: int
) -> None:
    """Operator-dependent interpolation weights of every coarse point (into ``pw``).

    A coarse point without couplings (inside the tube) interpolates to no fine
    point: its diagonal (1, against couplings of ~10⁻⁸) would pin the fine
    points next to it to zero in the coarse correction. A fine point between it
    and a coupled coarse point takes the latter's value (the couplings towards
    the isolated side are lumped into the centre), so constants stay exact.
    Indices are cast to unsigned before use (see :func:`_sweep5_from_zero`).
    """
    u = np.uint64
    px = nx + 2
    pcx = ncx + 2
    for jc in range(ncy):
        for ic in range(ncx):
            kc = u(oc + (jc + 1) * pcx + ic + 1)
            g0 = o + (2 * jc + 2) * px + 2 * ic + 2
            for m in range(9):
                pw[kc, m] = 0.0
            pw[kc, 4] = 1.0
            if _isolated(a, g0):
                continue
            # the fine points on its x-line: their stencil collapsed (summed) in y
            for di in (-1, 1):
                f = u(g0 + di)
                centre = a[f, 1] + a[f, 4] + a[f, 7]
                toward = a[f, u(1 - di)] + a[f, u(4 - di)] + a[f, u(7 - di)]
                if _isolated(a, g0 + 2 * di):
                    centre += a[f, u(1 + di)] + a[f, u(4 + di)] + a[f, u(7 + di)]
                if centre > 0.0:
                    pw[kc, u(4 + di)] = -toward / centre
            # on its y-line: collapsed in x
            for dj in (-1, 1):
                f = u(g0 + dj * px)
                centre = a[f, 3] + a[f, 4] + a[f, 5]
                toward = a[f, u(3 - 3 * dj)] + a[f, u(4 - 3 * dj)] + a[f, u(5 - 3 * dj)]
                if _isolated(a, g0 + 2 * dj * px):
                    centre += a[f, u(3 + 3 * dj)] + a[f, u(4 + 3 * dj)] + a[f, u(5 + 3 * dj)]
                if centre > 0.0:
                    pw[kc, u(4 + 3 * dj)] = -toward / centre
            # the four corner points: from their own equation, the edge points known
            for dj in (-1, 1):
                for di in (-1, 1):
                    f = u(g0 + dj * px + di)
                    c = a[f, 4]
                    s = (
                        a[f, u(4 - 3 * dj - di)]
                        + a[f, u(4 - 3 * dj)] * pw[kc, u(4 + di)]
                        + a[f, u(4 - di)] * pw[kc, u(4 + 3 * dj)]
                    )
                    if c > 0.0:
                        pw[kc, u(4 + 3 * dj + di)] = -s / c


@_jit
def _galerkin(
    a: FloatArray, o: int, nx: int, pw: FloatArray, oc: int, ncx: int, ncy: int, five: bool
) -> None:
    """The coarse operator ``Pᵀ A P`` (nine-point) into ``a`` at ``oc``.

    ``five``: the fine operator is five-point (the finest level), so its corner
    entries (zero) are not read.
    """
    u = np.uint64
    px = nx + 2
    pcx = ncx + 2
    ap = np.empty(25)  # A P e_J on the 5 × 5 fine points around J, row by row
    for jc in range(ncy):
        for ic in range(ncx):
            kc = oc + (jc + 1) * pcx + ic + 1
            g0 = o + (2 * jc + 2) * px + 2 * ic + 2
            ap[:] = 0.0
            for gy in range(-1, 2):
                for gx in range(-1, 2):
                    w = pw[u(kc), u(4 + 3 * gy + gx)]
                    if w == 0.0:
                        continue
                    g = u(g0 + gy * px + gx)
                    c = u(5 * gy + gx + 12)
                    if five:
                        ap[c - u(5)] += a[g, 1] * w
                        ap[c - u(1)] += a[g, 3] * w
                        ap[c] += a[g, 4] * w
                        ap[c + u(1)] += a[g, 5] * w
                        ap[c + u(5)] += a[g, 7] * w
                        continue
                    for fy in range(-1, 2):
                        for fx in range(-1, 2):
                            ap[c + u(5 * fy + fx)] += a[g, u(4 + 3 * fy + fx)] * w
            # row I = J - d of the coarse operator: its entry towards J
            for dy in range(-1, 2):
                for dx in range(-1, 2):
                    ki = u(kc - dy * pcx - dx)
                    s = 0.0
                    for fy in range(max(-1, 2 * dy - 2), min(1, 2 * dy + 2) + 1):
                        for fx in range(max(-1, 2 * dx - 2), min(1, 2 * dx + 2) + 1):
                            s += (
                                pw[ki, u(4 + 3 * fy + fx)]
                                * ap[u(5 * (fy - 2 * dy) + fx - 2 * dx + 12)]
                            )
                    a[ki, u(4 + 3 * dy + dx)] = s


@_jit
def _cholesky(m: FloatArray) -> FloatArray:
    """Lower Cholesky factor of a small symmetric matrix (its lower triangle read).

    Written out: LAPACK's, called from here, wakes BLAS threads that cost more
    than the factorisation. A pivot that is not positive (a matrix that is not
    positive definite) gives a NaN factor, which the solve reports as not
    converged.
    """
    n = m.shape[0]
    f = np.zeros((n, n))
    for j in range(n):
        s = m[j, j]
        for k in range(j):
            s -= f[j, k] * f[j, k]
        f[j, j] = np.sqrt(s) if s > 0.0 else np.nan
        for i in range(j + 1, n):
            t = m[i, j]
            for k in range(j):
                t -= f[i, k] * f[j, k]
            f[i, j] = t / f[j, j]
    return f


@_jit
def _fill(lv: Levels, diag: FloatArray, ax: FloatArray, ay: FloatArray) -> None:
    """Build every level of the hierarchy of ``(diag, −ax, −ay)`` into the given arrays.

    The arrays are reused from one build to the next (allocating megabytes at
    each solve costs more than the build); the rings are never written, so
    they stay zero.
    """
    nxs, nys, offsets, a, dinv, pw, factor, west, south, _ = lv
    levels = nxs.size
    nx, ny = nxs[0], nys[0]
    one, px = np.uint64(1), np.uint64(nx + 2)
    for j in range(ny):
        for i in range(nx):
            k = j * nx + i
            f = np.uint64((j + 1) * (nx + 2) + i + 1)
            a[f, 4] = diag[k]
            if i + 1 < nx:
                a[f, 5] = -ax[k]
                a[f + one, 3] = -ax[k]
            if j + 1 < ny:
                a[f, 7] = -ay[k]
                a[f + px, 1] = -ay[k]
    for level in range(levels - 1):
        o, oc = offsets[level], offsets[level + 1]
        _interpolation(a, o, nxs[level], pw, oc, nxs[level + 1], nys[level + 1])
        _galerkin(a, o, nxs[level], pw, oc, nxs[level + 1], nys[level + 1], level == 0)
    for g in range(offsets[levels]):
        dinv[g] = 1.0 / a[g, 4] if a[g, 4] > 0.0 else 0.0
    for g in range(offsets[1]):
        west[g] = a[g, 3]
        south[g] = a[g, 1]
    # the coarsest level: dense, factorised
    o = offsets[levels - 1]
    cx, cy = nxs[levels - 1], nys[levels - 1]
    pcx = cx + 2
    nc = cx * cy
    dense = np.zeros((nc, nc))
    for j in range(cy):
        for i in range(cx):
            g = o + (j + 1) * pcx + i + 1
            for dj in (-1, 0, 1):
                for di in (-1, 0, 1):
                    if 0 <= i + di < cx and 0 <= j + dj < cy:
                        dense[j * cx + i, (j + dj) * cx + i + di] = a[g, 4 + 3 * dj + di]
    factor[:, :] = _cholesky(dense)


@dataclass
class Hierarchy:
    """The levels of one grid and their arrays, built again in place by :meth:`build`.

    ``nx`` × ``ny`` the finest grid; levels are added while the coarsest has
    more than ``coarse_max`` points and both sides at least 3. A matrix that
    is not positive definite gives a coarsest factor with NaNs: :meth:`solve`
    then reports no convergence.
    """

    nx: int
    ny: int
    coarse_max: int = 64
    nxs: IntArray = field(init=False, repr=False)
    nys: IntArray = field(init=False, repr=False)
    offsets: IntArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        nxl, nyl = [self.nx], [self.ny]
        while nxl[-1] * nyl[-1] > self.coarse_max and nxl[-1] >= 3 and nyl[-1] >= 3:
            nxl.append(nxl[-1] // 2)
            nyl.append(nyl[-1] // 2)
        self.nxs = np.array(nxl, dtype=np.int64)
        self.nys = np.array(nyl, dtype=np.int64)
        sizes = (self.nxs + 2) * (self.nys + 2)
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        total, fine = int(self.offsets[-1]), int(self.offsets[1])
        self._a = np.zeros((total, 9))
        self._pw = np.zeros((total, 9))
        self._dinv = np.zeros(total)
        nc = int(self.nxs[-1] * self.nys[-1])
        self._factor = np.zeros((nc, nc))
        self._west, self._south = np.zeros(fine), np.zeros(fine)
        self._work = np.zeros((3, total))
        self._vectors = np.zeros((6, fine))
        self._matrix = np.zeros((3, fine))
        self._levels: Levels = (
            self.nxs, self.nys, self.offsets, self._a, self._dinv, self._pw, self._factor,
            self._west, self._south, self._work,
        )  # fmt: skip

    @property
    def levels(self) -> int:
        """Number of levels, the finest included."""
        return int(self.nxs.size)

    def build(self, diag: FloatArray, ax: FloatArray, ay: FloatArray) -> None:
        """Build the hierarchy of the five-point matrix ``(diag, −ax, −ay)``.

        ``ax[k]`` couples cell ``k`` with ``k + 1`` (0 on the last column),
        ``ay[k]`` with ``k + nx``.
        """
        _fill(self._levels, diag, ax, ay)

    def precondition(self, r: FloatArray) -> FloatArray:
        """``M⁻¹ r``: one V-cycle (see :func:`vcycle`)."""
        z = np.empty_like(r)
        vcycle(self._levels, r, z)
        return z

    def solve(
        self,
        diag: FloatArray,
        ax: FloatArray,
        ay: FloatArray,
        b: FloatArray,
        x0: FloatArray,
        rtol: float,
        maxiter: int,
    ) -> tuple[FloatArray, int, float]:
        """Solve ``A x = b`` by CG preconditioned with one V-cycle of this hierarchy.

        ``A`` is ``(diag, −ax, −ay)``; the hierarchy may be of an earlier
        matrix (a symmetric positive definite preconditioner still, a weaker
        one). From ``x0``, scaled first by the factor that minimises the
        error's energy norm (the pressure of a stiffer fill is often the last
        one raised). Stops when the true residual ``‖b − A x‖₂ ≤ rtol ‖b‖₂``
        (checked whenever the recursive residual says so; CG restarts from the
        true residual if it does not hold). Returns ``(x, iterations, relative
        residual)``.
        """
        return _pcg(
            self._levels, (diag, ax, ay), b, x0, (rtol, maxiter), self._vectors, self._matrix
        )


@_jit
def _sweep5_from_zero(
    dinv: FloatArray,
    west: FloatArray,
    south: FloatArray,
    nx: int,
    ny: int,
    x: FloatArray,
    b: FloatArray,
    r: FloatArray,
    cg: tuple[FloatArray, FloatArray, FloatArray, float],
) -> float:
    """Forward Gauss–Seidel on the finest level from ``x = 0``, then ``r = b − A x``.

    Fused with CG's update before it: ``cg = (p, d, ad, α)`` — each point's
    ``p += α d`` and ``b −= α ad`` are done just before the sweep reads ``b``
    there (the sweep reads ``b`` at its own point only); returns the updated
    ``‖b‖²``.

    From zero, the sweep need not read the points not yet updated (they are
    0), and each point's equation held exactly when it was updated, so its
    residual is what the later updates of its east and north neighbours
    changed: two terms instead of five (and ``x`` need not be cleared first).
    The point just updated is carried in a register (``prev``): the sweep's
    recurrence along the row is one multiply-add long. Indices are unsigned
    here and below: with signed ones numba adds a test for negative
    (wrap-around) indices to every access, which costs 2–8 times the arithmetic
    and keeps the loops from being vectorised.
    """
    one, px, last = np.uint64(1), np.uint64(nx + 2), np.uint64(nx + 1)
    p, d, ad, alpha = cg
    bb = 0.0
    for j in range(1, ny + 1):
        row = np.uint64(j) * px
        prev = 0.0
        for i in range(one, last):
            g = row + i
            p[g] += alpha * d[g]
            b[g] -= alpha * ad[g]
            bb += b[g] * b[g]
            prev = (b[g] - south[g] * x[g - px]) * dinv[g] - west[g] * dinv[g] * prev
            x[g] = prev
    for j in range(1, ny + 1):
        row = np.uint64(j) * px
        for i in range(one, last):
            g = row + i
            r[g] = -west[g + one] * x[g + one] - south[g + px] * x[g + px]
    return bb


@_jit
def _sweep5_back(
    dinv: FloatArray,
    west: FloatArray,
    south: FloatArray,
    nx: int,
    ny: int,
    x: FloatArray,
    b: FloatArray,
) -> float:
    """Backward Gauss–Seidel on the finest level (five-point); returns ``b · x`` after it.

    ``b · x`` is CG's ``r · z`` when ``b`` is the residual and this the
    V-cycle's last pass (summed here, while ``x`` is in registers).
    """
    one, px = np.uint64(1), np.uint64(nx + 2)
    bx = 0.0
    for j in range(ny, 0, -1):
        row = np.uint64(j) * px
        prev = 0.0
        for i in range(nx, 0, -1):
            g = row + np.uint64(i)
            prev = (
                b[g] - west[g] * x[g - one] - south[g] * x[g - px] - south[g + px] * x[g + px]
            ) * dinv[g] - west[g + one] * dinv[g] * prev
            x[g] = prev
            bx += b[g] * prev
    return bx


@_jit
def _sweep_from_zero(
    a: FloatArray,
    dinv: FloatArray,
    o: int,
    nx: int,
    ny: int,
    x: FloatArray,
    b: FloatArray,
    r: FloatArray,
) -> None:
    """:func:`_sweep5_from_zero` on a coarse level (nine-point, starting at ``o``)."""
    one, px, last = np.uint64(1), np.uint64(nx + 2), np.uint64(nx + 1)
    for j in range(1, ny + 1):
        row = np.uint64(o + j * (nx + 2))
        prev = 0.0
        for i in range(one, last):
            g = row + i
            s = px + one
            prev = (
                b[g] - a[g, 0] * x[g - s] - a[g, 1] * x[g - px] - a[g, 2] * x[g - px + one]
            ) * dinv[g] - a[g, 3] * dinv[g] * prev
            x[g] = prev
    for j in range(1, ny + 1):
        row = np.uint64(o + j * (nx + 2))
        for i in range(one, last):
            g = row + i
            r[g] = -(
                a[g, 5] * x[g + one]
                + a[g, 6] * x[g + px - one]
                + a[g, 7] * x[g + px]
                + a[g, 8] * x[g + px + one]
            )


@_jit
def _sweep_back(
    a: FloatArray, dinv: FloatArray, o: int, nx: int, ny: int, x: FloatArray, b: FloatArray
) -> None:
    """Backward Gauss–Seidel on a coarse level (nine-point, starting at ``o``)."""
    one, px = np.uint64(1), np.uint64(nx + 2)
    s = px + one
    for j in range(ny, 0, -1):
        row = np.uint64(o + j * (nx + 2))
        prev = 0.0
        for i in range(nx, 0, -1):
            g = row + np.uint64(i)
            prev = (
                b[g]
                - a[g, 0] * x[g - s]
                - a[g, 1] * x[g - px]
                - a[g, 2] * x[g - px + one]
                - a[g, 3] * x[g - one]
                - a[g, 6] * x[g + px - one]
                - a[g, 7] * x[g + px]
                - a[g, 8] * x[g + s]
            ) * dinv[g] - a[g, 5] * dinv[g] * prev
            x[g] = prev


@_jit
def _transfer(
    pw: FloatArray,
    o: int,
    nx: int,
    fine: FloatArray,
    oc: int,
    cx: int,
    cy: int,
    coarse: FloatArray,
    up: bool,
) -> None:
    """Between a level (at ``o``) and the next coarser one (at ``oc``): ``coarse = Pᵀ fine``
    (restriction: each coarse point's weighted sum over its 3 × 3 fine points) or, with
    ``up``, ``fine += P coarse`` (prolongation: each coarse value spread over them)."""
    px = nx + 2
    # the 3 × 3 fine points' offsets, unsigned: adding one wraps round to a subtraction
    shifts = np.array([-px - 1, -px, -px + 1, -1, 0, 1, px - 1, px, px + 1]).astype(np.uint64)
    one, two = np.uint64(1), np.uint64(2)
    for jc in range(cy):
        kc = np.uint64(oc + (jc + 1) * (cx + 2) + 1)
        g = np.uint64(o + (2 * jc + 2) * px + 2)
        for _ in range(cx):
            if up:
                v = coarse[kc]
                for m in range(9):
                    fine[g + shifts[m]] += pw[kc, m] * v
            else:
                s = 0.0
                for m in range(9):
                    s += pw[kc, m] * fine[g + shifts[m]]
                coarse[kc] = s
            kc += one
            g += two


@_jit
def _coarsest(factor: FloatArray, o: int, cx: int, cy: int, b: FloatArray, x: FloatArray) -> None:
    """``x = A⁻¹ b`` on the coarsest level (at ``o``): substitution with its Cholesky factor."""
    nc = cx * cy
    y = np.empty(nc)
    for k in range(nc):
        s = b[o + (k // cx + 1) * (cx + 2) + k % cx + 1]
        for m in range(k):
            s -= factor[k, m] * y[m]
        y[k] = s / factor[k, k]
    for k in range(nc - 1, -1, -1):
        s = y[k]
        for m in range(k + 1, nc):
            s -= factor[m, k] * y[m]
        y[k] = s / factor[k, k]
    for k in range(nc):
        x[o + (k // cx + 1) * (cx + 2) + k % cx + 1] = y[k]


@_jit
def _vcycle_padded(
    lv: Levels,
    r: FloatArray,
    z: FloatArray,
    cg: tuple[FloatArray, FloatArray, FloatArray, float],
    enough: float,
) -> tuple[float, float]:
    """``z = M⁻¹ r`` on the finest level's padded layout, after CG's update ``cg``
    (see :func:`_sweep5_from_zero`); returns ``(r · z, ‖r‖²)``.

    When the updated ``‖r‖²`` is at most ``enough`` the V-cycle stops after its
    first sweep (CG has converged: ``z`` is not needed) and returns ``r · z = 0``.
    ``z``'s ring must be zero (only its inside is written); the finest level's
    first sweep writes every inner point before reading it.
    """
    nxs, nys, offsets, a, dinv, pw, factor, west, south, work = lv
    wx, wb, wr = work[0], work[1], work[2]
    levels = nxs.size
    nx0, ny0 = nxs[0], nys[0]
    if levels == 1:
        p, d, ad, alpha = cg
        rr = 0.0
        for g in range(offsets[1]):
            p[g] += alpha * d[g]
            r[g] -= alpha * ad[g]
            rr += r[g] * r[g]
        if rr <= enough:
            return 0.0, rr
        _coarsest(factor, 0, nx0, ny0, r, z)
        rz = 0.0
        for g in range(offsets[1]):
            rz += r[g] * z[g]
        return rz, rr
    rr = _sweep5_from_zero(dinv, west, south, nx0, ny0, z, r, wr, cg)
    if rr <= enough:
        return 0.0, rr
    _transfer(pw, 0, nx0, wr, offsets[1], nxs[1], nys[1], wb, False)
    for level in range(1, levels - 1):
        o = offsets[level]
        _sweep_from_zero(a, dinv, o, nxs[level], nys[level], wx, wb, wr)
        _transfer(
            pw, o, nxs[level], wr, offsets[level + 1], nxs[level + 1], nys[level + 1], wb, False
        )
    last = levels - 1
    _coarsest(factor, offsets[last], nxs[last], nys[last], wb, wx)
    for level in range(levels - 2, 0, -1):
        o = offsets[level]
        _transfer(
            pw, o, nxs[level], wx, offsets[level + 1], nxs[level + 1], nys[level + 1], wx, True
        )
        _sweep_back(a, dinv, o, nxs[level], nys[level], wx, wb)
    _transfer(pw, 0, nx0, z, offsets[1], nxs[1], nys[1], wx, True)
    return _sweep5_back(dinv, west, south, nx0, ny0, z, r), rr


@_jit
def vcycle(lv: Levels, r: FloatArray, z: FloatArray) -> None:
    """``z = M⁻¹ r``: one symmetric V-cycle from a zero guess (``r``, ``z`` cell-ordered).

    Forward Gauss–Seidel on each level on the way down, the coarsest solved
    exactly, backward Gauss–Seidel on the way up: ``M⁻¹`` is symmetric positive
    definite.
    """
    nx, ny = lv[0][0], lv[1][0]
    rp = np.zeros(lv[2][1])
    zp = np.zeros(lv[2][1])
    _pad(r, nx, ny, rp, True)
    unused = np.zeros(lv[2][1])
    _vcycle_padded(lv, rp, zp, (unused, unused, unused, 0.0), -1.0)
    _pad(z, nx, ny, zp, False)


@_jit
def _pad(cells: FloatArray, nx: int, ny: int, padded: FloatArray, inward: bool) -> None:
    """Copy cell-ordered ``cells`` into the inside of ``padded`` (``inward``), or back."""
    for j in range(ny):
        row, k = np.uint64((j + 1) * (nx + 2) + 1), np.uint64(j * nx)
        for i in range(np.uint64(nx)):
            if inward:
                padded[row + i] = cells[k + i]
            else:
                cells[k + i] = padded[row + i]


@_jit
def _pad_matrix(
    diag: FloatArray, ax: FloatArray, ay: FloatArray, nx: int, ny: int, m: FloatArray
) -> None:
    """The matrix ``(diag, −ax, −ay)`` as padded rows ``m[0]`` (diagonal), ``m[1]``
    (coupling with the west neighbour) and ``m[2]`` (with the south one), rings zero."""
    one, px = np.uint64(1), np.uint64(nx + 2)
    md, mw, ms = m[0], m[1], m[2]
    for j in range(ny):
        row, k0 = np.uint64((j + 1) * (nx + 2) + 1), np.uint64(j * nx)
        for i in range(np.uint64(nx)):
            g, k = row + i, k0 + i
            md[g] = diag[k]
            mw[g + one] = -ax[k]  # 0 on the last column: the ring's entry stays 0
            if j + 1 < ny:
                ms[g + px] = -ay[k]


@_jit_sums
def _apply(m: FloatArray, nx: int, ny: int, v: FloatArray, out: FloatArray, j: int) -> float:
    """Row ``j`` of ``out = A v`` (padded layout); returns that row's ``v · out``."""
    one, px = np.uint64(1), np.uint64(nx + 2)
    md, mw, ms = m[0], m[1], m[2]
    row = np.uint64(j) * px
    s = 0.0
    for i in range(one, np.uint64(nx + 1)):
        g = row + i
        t = (
            md[g] * v[g]
            + mw[g] * v[g - one]
            + mw[g + one] * v[g + one]
            + ms[g] * v[g - px]
            + ms[g + px] * v[g + px]
        )
        out[g] = t
        s += v[g] * t
    return s


@_jit_sums
def _residual(
    m: FloatArray, nx: int, ny: int, b: FloatArray, x: FloatArray, ax: FloatArray, r: FloatArray
) -> float:
    """``r = b − A x`` (padded); returns ``‖r‖²``."""
    for j in range(1, ny + 1):
        _apply(m, nx, ny, x, ax, j)
    rr = 0.0
    for g in range(b.size):
        r[g] = b[g] - ax[g]
        rr += r[g] * r[g]
    return rr


@_jit_sums
def _direction(
    m: FloatArray,
    nx: int,
    ny: int,
    z: FloatArray,
    beta: float,
    d: FloatArray,
    ad: FloatArray,
) -> float:
    """``d = z + β d``, then ``ad = A d``, in one pass a row behind; returns ``d · A d``."""
    px = nx + 2
    dad = 0.0
    for j in range(1, ny + 2):
        if j <= ny:
            row = j * px
            for i in range(1, nx + 1):
                d[row + i] = z[row + i] + beta * d[row + i]
        if j >= 2:
            dad += _apply(m, nx, ny, d, ad, j - 1)
    return dad


@_jit
def _pcg(
    lv: Levels,
    matrix: tuple[FloatArray, FloatArray, FloatArray],
    b: FloatArray,
    x0: FloatArray,
    tolerance: tuple[float, int],
    vectors: FloatArray,
    m: FloatArray,
) -> tuple[FloatArray, int, float]:
    """:meth:`Hierarchy.solve`, compiled (``matrix``: ``(diag, ax, ay)``; ``tolerance``:
    ``(rtol, maxiter)``; ``vectors`` and ``m``: padded work arrays, rings zero)."""
    diag, ax, ay = matrix
    rtol, maxiter = tolerance
    nx, ny = lv[0][0], lv[1][0]
    n = b.size
    bp, x, r, z, d, ad = vectors[0], vectors[1], vectors[2], vectors[3], vectors[4], vectors[5]
    _pad_matrix(diag, ax, ay, nx, ny, m)
    _pad(b, nx, ny, bp, True)
    _pad(x0, nx, ny, x, True)
    bnorm = 0.0
    for k in range(n):  # not np.dot: a BLAS call here costs more than the loop
        bnorm += b[k] * b[k]
    bnorm = np.sqrt(bnorm)
    out = np.empty(n)
    if bnorm == 0.0:
        out[:] = 0.0
        return out, 0, 0.0
    xax = 0.0
    for j in range(1, ny + 1):
        xax += _apply(m, nx, ny, x, ad, j)
    xb = 0.0
    for g in range(bp.size):
        xb += x[g] * bp[g]
    if xax > 0.0 and xb > 0.0:
        scale = xb / xax
        for g in range(x.size):
            x[g] *= scale
    it = 0
    while True:
        rr = _residual(m, nx, ny, bp, x, ad, r)
        if np.sqrt(rr) <= rtol * bnorm or it >= maxiter:
            _pad(out, nx, ny, x, False)
            return out, it, np.sqrt(rr) / bnorm
        rz, _ = _vcycle_padded(lv, r, z, (x, d, ad, 0.0), -1.0)
        dad = _direction(m, nx, ny, z, 0.0, d, ad)
        enough = (rtol * bnorm) ** 2
        while it < maxiter:
            it += 1
            # CG's update x += α d, r −= α A d is done inside the V-cycle's first sweep
            rz_new, rr = _vcycle_padded(lv, r, z, (x, d, ad, rz / dad), enough)
            if rr <= enough:
                break
            dad = _direction(m, nx, ny, z, rz_new / rz, d, ad)
            rz = rz_new
