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

from kypho.simulate._kernels import cg_update, dot, matvec_into

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
    return cast(_F, numba.njit(cache=True, nogil=True)(fn))


@_jit
def _isolated(a: FloatArray, g: int) -> bool:
    """Whether point ``g`` has no coupling (a cell the tube or a wall occupies: its row is its diagonal)."""
    return bool(
        a[g, 0] == 0.0
        and a[g, 1] == 0.0
        and a[g, 2] == 0.0
        and a[g, 3] == 0.0
        and a[g, 5] == 0.0
        and a[g, 6] == 0.0
        and a[g, 7] == 0.0
        and a[g, 8] == 0.0
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
    """
    px = nx + 2
    pcx = ncx + 2
    for jc in range(ncy):
        for ic in range(ncx):
            kc = oc + (jc + 1) * pcx + ic + 1
            g0 = o + (2 * jc + 2) * px + 2 * ic + 2
            for m in range(9):
                pw[kc, m] = 0.0
            pw[kc, 4] = 1.0
            if _isolated(a, g0):
                continue
            # the fine points on its x-line: their stencil collapsed (summed) in y
            for di in (-1, 1):
                f = g0 + di
                centre = a[f, 1] + a[f, 4] + a[f, 7]
                toward = a[f, 1 - di] + a[f, 4 - di] + a[f, 7 - di]
                if _isolated(a, g0 + 2 * di):
                    centre += a[f, 1 + di] + a[f, 4 + di] + a[f, 7 + di]
                if centre > 0.0:
                    pw[kc, 4 + di] = -toward / centre
            # on its y-line: collapsed in x
            for dj in (-1, 1):
                f = g0 + dj * px
                centre = a[f, 3] + a[f, 4] + a[f, 5]
                toward = a[f, 3 - 3 * dj] + a[f, 4 - 3 * dj] + a[f, 5 - 3 * dj]
                if _isolated(a, g0 + 2 * dj * px):
                    centre += a[f, 3 + 3 * dj] + a[f, 4 + 3 * dj] + a[f, 5 + 3 * dj]
                if centre > 0.0:
                    pw[kc, 4 + 3 * dj] = -toward / centre
            # the four corner points: from their own equation, the edge points known
            for dj in (-1, 1):
                for di in (-1, 1):
                    f = g0 + dj * px + di
                    c = a[f, 4]
                    s = (
                        a[f, 4 - 3 * dj - di]
                        + a[f, 4 - 3 * dj] * pw[kc, 4 + di]
                        + a[f, 4 - di] * pw[kc, 4 + 3 * dj]
                    )
                    if c > 0.0:
                        pw[kc, 4 + 3 * dj + di] = -s / c


@_jit
def _galerkin(a: FloatArray, o: int, nx: int, pw: FloatArray, oc: int, ncx: int, ncy: int) -> None:
    """The coarse operator ``Pᵀ A P`` (nine-point) into ``a`` at ``oc``."""
    px = nx + 2
    pcx = ncx + 2
    ap = np.empty((5, 5))
    for jc in range(ncy):
        for ic in range(ncx):
            kc = oc + (jc + 1) * pcx + ic + 1
            g0 = o + (2 * jc + 2) * px + 2 * ic + 2
            # A P e_J on the 5 × 5 fine points around J
            ap[:, :] = 0.0
            for gy in (-1, 0, 1):
                for gx in (-1, 0, 1):
                    w = pw[kc, 4 + 3 * gy + gx]
                    if w == 0.0:
                        continue
                    g = g0 + gy * px + gx
                    for fy in (-1, 0, 1):
                        for fx in (-1, 0, 1):
                            ap[gy + fy + 2, gx + fx + 2] += a[g, 4 + 3 * fy + fx] * w
            # row I = J - d of the coarse operator: its entry towards J
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ki = kc - dy * pcx - dx
                    s = 0.0
                    for fy in (-1, 0, 1):
                        ry = fy - 2 * dy + 2
                        if ry < 0 or ry > 4:
                            continue
                        for fx in (-1, 0, 1):
                            rx = fx - 2 * dx + 2
                            if rx < 0 or rx > 4:
                                continue
                            s += pw[ki, 4 + 3 * fy + fx] * ap[ry, rx]
                    a[ki, 4 + 3 * dy + dx] = s


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
    px = nx + 2
    for j in range(ny):
        for i in range(nx):
            k = j * nx + i
            g = (j + 1) * px + i + 1
            a[g, 4] = diag[k]
            if i + 1 < nx:
                a[g, 5] = -ax[k]
                a[g + 1, 3] = -ax[k]
            if j + 1 < ny:
                a[g, 7] = -ay[k]
                a[g + px, 1] = -ay[k]
    for level in range(levels - 1):
        o, oc = offsets[level], offsets[level + 1]
        _interpolation(a, o, nxs[level], pw, oc, nxs[level + 1], nys[level + 1])
        _galerkin(a, o, nxs[level], pw, oc, nxs[level + 1], nys[level + 1])
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
        self._vectors = np.zeros((4, self.nx * self.ny))
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
        return _pcg(self._levels, (diag, ax, ay), b, x0, (rtol, maxiter), self._vectors)


@_jit
def _smooth(lv: Levels, level: int, x: FloatArray, b: FloatArray, forward: bool) -> None:
    """One Gauss–Seidel sweep of level ``level``, in natural order or reversed.

    The point just updated is carried in a register (``prev``), so that the
    recurrence along the row is one multiply-add long.
    """
    a, dinv = lv[3], lv[4]
    o, nx, ny = lv[2][level], lv[0][level], lv[1][level]
    px = nx + 2
    step = 1 if forward else -1
    behind = 3 if forward else 5  # the entry towards the point updated just before
    ahead = 8 - behind
    for jj in range(ny):
        row = o + (jj + 1 if forward else ny - jj) * px
        prev = 0.0
        for ii in range(nx):
            g = row + (ii + 1 if forward else nx - ii)
            t = (
                b[g]
                - a[g, 0] * x[g - px - 1]
                - a[g, 1] * x[g - px]
                - a[g, 2] * x[g - px + 1]
                - a[g, ahead] * x[g + step]
                - a[g, 6] * x[g + px - 1]
                - a[g, 7] * x[g + px]
                - a[g, 8] * x[g + px + 1]
            ) * dinv[g]
            prev = t - a[g, behind] * dinv[g] * prev
            x[g] = prev


@_jit
def _smooth5(lv: Levels, x: FloatArray, b: FloatArray, forward: bool) -> None:
    """:func:`_smooth` on the finest level, whose stencil is five-point."""
    dinv, west, south = lv[4], lv[7], lv[8]
    nx, ny = lv[0][0], lv[1][0]
    px = nx + 2
    step = 1 if forward else -1
    east = 1 if forward else 0  # west[g + 1] couples g with g + 1
    for jj in range(ny):
        row = (jj + 1 if forward else ny - jj) * px
        prev = 0.0  # x of the point before, kept out of memory: the sweep's recurrence
        for ii in range(nx):
            g = row + (ii + 1 if forward else nx - ii)
            t = (
                b[g]
                - west[g + east] * x[g + step]
                - south[g] * x[g - px]
                - south[g + px] * x[g + px]
            ) * dinv[g]
            prev = t - west[g + 1 - east] * dinv[g] * prev
            x[g] = prev


@_jit
def _first_sweep5(lv: Levels, x: FloatArray, b: FloatArray, r: FloatArray) -> None:
    """The forward sweep of :func:`_smooth5` from ``x = 0``, then the residual ``r = b − A x``.

    From zero, the sweep need not read the points not yet updated (they are
    0), and each point's equation held exactly when it was updated, so its
    residual is what the later updates of its east and north neighbours
    changed: two terms instead of five (and ``x`` need not be cleared first).
    """
    dinv, west, south = lv[4], lv[7], lv[8]
    nx, ny = lv[0][0], lv[1][0]
    px = nx + 2
    for j in range(1, ny + 1):
        row = j * px
        prev = 0.0
        for i in range(1, nx + 1):
            g = row + i
            t = (b[g] - south[g] * x[g - px]) * dinv[g]
            prev = t - west[g] * dinv[g] * prev
            x[g] = prev
    for j in range(1, ny + 1):
        row = j * px
        for i in range(1, nx + 1):
            g = row + i
            r[g] = -west[g + 1] * x[g + 1] - south[g + px] * x[g + px]


@_jit
def _first_sweep(lv: Levels, level: int, x: FloatArray, b: FloatArray, r: FloatArray) -> None:
    """:func:`_first_sweep5` on a coarse level (nine-point)."""
    a, dinv = lv[3], lv[4]
    o, nx, ny = lv[2][level], lv[0][level], lv[1][level]
    px = nx + 2
    for j in range(1, ny + 1):
        row = o + j * px
        prev = 0.0
        for i in range(1, nx + 1):
            g = row + i
            t = (
                b[g] - a[g, 0] * x[g - px - 1] - a[g, 1] * x[g - px] - a[g, 2] * x[g - px + 1]
            ) * dinv[g]
            prev = t - a[g, 3] * dinv[g] * prev
            x[g] = prev
    for j in range(1, ny + 1):
        row = o + j * px
        for i in range(1, nx + 1):
            g = row + i
            r[g] = -(
                a[g, 5] * x[g + 1]
                + a[g, 6] * x[g + px - 1]
                + a[g, 7] * x[g + px]
                + a[g, 8] * x[g + px + 1]
            )


@_jit
def vcycle(lv: Levels, r: FloatArray, z: FloatArray) -> None:
    """``z = M⁻¹ r``: one symmetric V-cycle from a zero guess.

    The work vectors must be zero on the rings (only their insides are written:
    each level's ``x`` by its first sweep, which reads no point before writing it).
    """
    nxs, nys, offsets, pw, factor, work = lv[0], lv[1], lv[2], lv[5], lv[6], lv[9]
    work_x, work_b, work_r = work[0], work[1], work[2]
    levels = nxs.size
    nx0, ny0 = nxs[0], nys[0]
    for j in range(ny0):
        for i in range(nx0):
            work_b[(j + 1) * (nx0 + 2) + i + 1] = r[j * nx0 + i]
    for level in range(levels - 1):
        o, oc = offsets[level], offsets[level + 1]
        nx, cx, cy = nxs[level], nxs[level + 1], nys[level + 1]
        px, pcx = nx + 2, cx + 2
        if level == 0:
            _first_sweep5(lv, work_x, work_b, work_r)
        else:
            _first_sweep(lv, level, work_x, work_b, work_r)
        for jc in range(cy):
            for ic in range(cx):
                kc = oc + (jc + 1) * pcx + ic + 1
                g0 = o + (2 * jc + 2) * px + 2 * ic + 2
                s = 0.0
                for fj in (-1, 0, 1):
                    for fi in (-1, 0, 1):
                        s += pw[kc, 4 + 3 * fj + fi] * work_r[g0 + fj * px + fi]
                work_b[kc] = s
    # the coarsest level: forward and back substitution with the Cholesky factor
    o = offsets[levels - 1]
    cx, cy = nxs[levels - 1], nys[levels - 1]
    nc = cx * cy
    y = np.empty(nc)
    for k in range(nc):
        s = work_b[o + (k // cx + 1) * (cx + 2) + k % cx + 1]
        for m in range(k):
            s -= factor[k, m] * y[m]
        y[k] = s / factor[k, k]
    for k in range(nc - 1, -1, -1):
        s = y[k]
        for m in range(k + 1, nc):
            s -= factor[m, k] * y[m]
        y[k] = s / factor[k, k]
    for k in range(nc):
        work_x[o + (k // cx + 1) * (cx + 2) + k % cx + 1] = y[k]
    for level in range(levels - 2, -1, -1):
        o, oc = offsets[level], offsets[level + 1]
        nx, cx, cy = nxs[level], nxs[level + 1], nys[level + 1]
        px, pcx = nx + 2, cx + 2
        for jc in range(cy):
            for ic in range(cx):
                kc = oc + (jc + 1) * pcx + ic + 1
                g0 = o + (2 * jc + 2) * px + 2 * ic + 2
                v = work_x[kc]
                for fj in (-1, 0, 1):
                    for fi in (-1, 0, 1):
                        work_x[g0 + fj * px + fi] += pw[kc, 4 + 3 * fj + fi] * v
        if level == 0:
            _smooth5(lv, work_x, work_b, False)
        else:
            _smooth(lv, level, work_x, work_b, False)
    for j in range(ny0):
        for i in range(nx0):
            z[j * nx0 + i] = work_x[(j + 1) * (nx0 + 2) + i + 1]


@_jit
def _pcg(
    lv: Levels,
    matrix: tuple[FloatArray, FloatArray, FloatArray],
    b: FloatArray,
    x0: FloatArray,
    tolerance: tuple[float, int],
    vectors: FloatArray,
) -> tuple[FloatArray, int, float]:
    """:meth:`Hierarchy.solve`, compiled (``matrix``: ``(diag, ax, ay)``; ``tolerance``:
    ``(rtol, maxiter)``)."""
    diag, ax, ay = matrix
    rtol, maxiter = tolerance
    nx = lv[0][0]
    n = b.size
    r, ad, z, d = vectors[0], vectors[1], vectors[2], vectors[3]
    x = x0.copy()
    bnorm = 0.0
    for k in range(n):  # not np.dot: a BLAS call here costs more than the loop
        bnorm += b[k] * b[k]
    bnorm = np.sqrt(bnorm)
    if bnorm == 0.0:
        return np.zeros(n), 0, 0.0
    matvec_into(diag, ax, ay, nx, x, ad)
    xb = 0.0
    xax = 0.0
    for k in range(n):
        xb += x[k] * b[k]
        xax += x[k] * ad[k]
    if xax > 0.0 and xb > 0.0:
        scale = xb / xax
        for k in range(n):
            x[k] *= scale
    it = 0
    while True:
        matvec_into(diag, ax, ay, nx, x, ad)
        rr = 0.0
        for k in range(n):
            r[k] = b[k] - ad[k]
            rr += r[k] * r[k]
        if np.sqrt(rr) <= rtol * bnorm or it >= maxiter:
            return x, it, np.sqrt(rr) / bnorm
        vcycle(lv, r, z)
        rz = 0.0
        for k in range(n):
            d[k] = z[k]
            rz += r[k] * z[k]
        while it < maxiter:
            it += 1
            matvec_into(diag, ax, ay, nx, d, ad)
            rr = cg_update(x, r, d, ad, rz / dot(d, ad))
            if np.sqrt(rr) <= rtol * bnorm:
                break
            vcycle(lv, r, z)
            rz_new = 0.0
            for k in range(n):
                rz_new += r[k] * z[k]
            beta = rz_new / rz
            for k in range(n):
                d[k] = z[k] + beta * d[k]
            rz = rz_new
