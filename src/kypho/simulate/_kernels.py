"""Compiled inner loops of the perfusion model (numba): the pressure solve and the transport sweep.

Both work on the structured ``nx`` × ``ny`` grid (cell ``k = j * nx + i``) with
the couplings stored per cell: ``ax[k]`` between ``k`` and its posterior
neighbour ``k + 1`` (0 on the last column), ``ay[k]`` between ``k`` and its
superior neighbour ``k + nx`` (0 on the last row).

* :func:`pcg_mic0` — conjugate gradients preconditioned by the modified
  incomplete Cholesky factorisation MIC(0) of the five-point matrix (natural
  ordering; Gustafsson 1978), warm-started from a previous pressure. The
  matrix is symmetric positive definite: two-point fluxes, and every exit
  adds to the diagonal only.
* :func:`upwind_sweep` — the implicit upwind transport step solved cell by
  cell in order of decreasing pressure: with two-point fluxes every cell's
  upwind neighbours have a higher pressure, so they are already updated.
* :func:`flow_order` — an order of the cells in which every cell comes after
  its upwind neighbours, in linear time from the fluxes (a topological sort of
  the flux graph); any such order gives the sweep the same result, bit for bit,
  and this one visits neighbours close together in memory.
* :func:`transport` — the time step's work after a solve, in one pass: the
  upwind sweep in a flow order, each cell's cement, the largest, the cement in
  the body and the next step's filling times (:func:`courant_times` of the new
  fill), into buffers kept for the run.
* :func:`fluidity_into`, :func:`assemble_into`, :func:`cell_fluxes_into` — the
  cells' fluidity, the five-point matrix and the fluxes of a solve, with the
  same arithmetic (and so the same results) as the array expressions they
  replaced, without their temporaries.

Compiled on first use and cached next to this file (``cache=True``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

__all__ = [
    "assemble_into",
    "cell_fluxes_into",
    "cg_update",
    "courant_times",
    "dot",
    "flow_order",
    "fluidity_into",
    "matvec",
    "matvec_into",
    "pcg_mic0",
    "row_dot",
    "transport",
    "upwind_sweep",
    "within_factor",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
IndexArray = npt.NDArray[np.int64] | npt.NDArray[np.uint32]
_F = TypeVar("_F", bound=Callable[..., Any])


def _jit(fn: _F) -> _F:
    return cast(_F, numba.njit(cache=True, nogil=True)(fn))


@_jit
def matvec_into(
    diag: FloatArray, ax: FloatArray, ay: FloatArray, nx: int, x: FloatArray, out: FloatArray
) -> None:
    """``out = A @ x`` for the five-point matrix ``(diag, -ax, -ay)``."""
    n = diag.size
    for k in range(n):
        s = diag[k] * x[k]
        if k + 1 < n:
            s -= ax[k] * x[k + 1]
        if k >= 1:
            s -= ax[k - 1] * x[k - 1]
        if k + nx < n:
            s -= ay[k] * x[k + nx]
        if k >= nx:
            s -= ay[k - nx] * x[k - nx]
        out[k] = s


@_jit
def matvec(diag: FloatArray, ax: FloatArray, ay: FloatArray, nx: int, x: FloatArray) -> FloatArray:
    """``A @ x`` for the five-point matrix ``(diag, -ax, -ay)``."""
    out = np.empty(diag.size)
    matvec_into(diag, ax, ay, nx, x, out)
    return out


@_jit
def _mic0(diag: FloatArray, ax: FloatArray, ay: FloatArray, nx: int) -> FloatArray:
    """``1/√e`` of MIC(0) (modification 0.97, fallback to the diagonal where ``e`` collapses)."""
    n = diag.size
    inv = np.empty(n)
    tau = 0.97
    sigma = 0.25
    for k in range(n):
        e = diag[k]
        if k >= 1:
            w = ax[k - 1] * inv[k - 1]
            e -= w * w + tau * ax[k - 1] * ay[k - 1] * inv[k - 1] * inv[k - 1]
        if k >= nx:
            s = ay[k - nx] * inv[k - nx]
            e -= s * s + tau * ay[k - nx] * ax[k - nx] * inv[k - nx] * inv[k - nx]
        if e < sigma * diag[k]:
            e = diag[k]
        inv[k] = 1.0 / np.sqrt(e)
    return inv


@_jit
def _apply(
    inv: FloatArray, ax: FloatArray, ay: FloatArray, nx: int, r: FloatArray, z: FloatArray
) -> None:
    """``z = M⁻¹ r`` with ``M = L Lᵀ`` from :func:`_mic0` (forward then backward sweep)."""
    n = r.size
    q = np.empty(n)
    for k in range(n):
        t = r[k]
        if k >= 1:
            t += ax[k - 1] * inv[k - 1] * q[k - 1]
        if k >= nx:
            t += ay[k - nx] * inv[k - nx] * q[k - nx]
        q[k] = t * inv[k]
    for k in range(n - 1, -1, -1):
        t = q[k]
        if k + 1 < n:
            t += ax[k] * inv[k] * z[k + 1]
        if k + nx < n:
            t += ay[k] * inv[k] * z[k + nx]
        z[k] = t * inv[k]


@_jit
def _dot(a: FloatArray, b: FloatArray) -> float:
    s = 0.0
    for k in range(a.size):
        s += a[k] * b[k]
    return s


@_jit
def cg_update(x: FloatArray, r: FloatArray, d: FloatArray, ad: FloatArray, alpha: float) -> float:
    """One CG update ``x += α d``, ``r −= α A d``; returns ``‖r‖²`` of the new residual."""
    rr = 0.0
    for k in range(x.size):
        x[k] += alpha * d[k]
        r[k] -= alpha * ad[k]
        rr += r[k] * r[k]
    return rr


@_jit
def dot(a: FloatArray, b: FloatArray) -> float:
    """``a · b`` of two vectors, in one thread (a BLAS call starts threads that cost more)."""
    return _dot(a, b)


@_jit
def row_dot(m: FloatArray, w: FloatArray) -> FloatArray:
    """``m @ w`` for an ``(N, k)`` matrix with few columns, in one thread."""
    n, k = m.shape
    out = np.empty(n)
    for i in range(n):
        s = 0.0
        for j in range(k):
            s += m[i, j] * w[j]
        out[i] = s
    return out


@_jit
def pcg_mic0(
    diag: FloatArray,
    ax: FloatArray,
    ay: FloatArray,
    nx: int,
    b: FloatArray,
    x0: FloatArray,
    rtol: float,
    maxiter: int,
) -> tuple[FloatArray, int, float]:
    """Solve ``A x = b`` by MIC(0)-preconditioned CG from ``x0``.

    Stops when ``‖b − A x‖₂ ≤ rtol ‖b‖₂``. Returns ``(x, iterations, relative
    residual)``; a residual above ``rtol`` means it did not converge.
    """
    n = b.size
    inv = _mic0(diag, ax, ay, nx)
    x = x0.copy()
    r = b - matvec(diag, ax, ay, nx, x)
    bnorm = np.sqrt(_dot(b, b))
    if bnorm == 0.0:
        return np.zeros(n), 0, 0.0
    rnorm = np.sqrt(_dot(r, r))
    if rnorm <= rtol * bnorm:
        return x, 0, rnorm / bnorm
    z = np.empty(n)
    _apply(inv, ax, ay, nx, r, z)
    d = z.copy()
    rz = _dot(r, z)
    it = 0
    while it < maxiter:
        it += 1
        ad = matvec(diag, ax, ay, nx, d)
        rr = cg_update(x, r, d, ad, rz / _dot(d, ad))
        if np.sqrt(rr) <= rtol * bnorm:
            break
        _apply(inv, ax, ay, nx, r, z)
        rz_new = _dot(r, z)
        beta = rz_new / rz
        for k in range(n):
            d[k] = z[k] + beta * d[k]
        rz = rz_new
    # the true residual (the recursive one drifts)
    r = b - matvec(diag, ax, ay, nx, x)
    return x, it, np.sqrt(_dot(r, r)) / bnorm


@_jit
def _face(k: int, side: int, n: int, nx: int, fx: FloatArray, fy: FloatArray) -> tuple[int, float]:
    """Cell ``k``'s neighbour across one side (west, east, south, north) and the flux into ``k``.

    ``-1`` where the side is the grid's edge. ``fx`` is 0 on the last column,
    so the west and east faces that wrap to the next row carry nothing.
    """
    if side == 0:
        return (k - 1, fx[k - 1]) if k >= 1 else (-1, 0.0)
    if side == 1:
        return (k + 1, -fx[k]) if k + 1 < n else (-1, 0.0)
    if side == 2:
        return (k - nx, fy[k - nx]) if k >= nx else (-1, 0.0)
    return (k + nx, -fy[k]) if k + nx < n else (-1, 0.0)


@_jit
def upwind_sweep(
    order: IntArray,
    nx: int,
    fx: FloatArray,
    fy: FloatArray,
    exit_out: FloatArray,
    pore: FloatArray,
    blocked: npt.NDArray[np.bool_],
    old: FloatArray,
    source: FloatArray,
    dt: float,
) -> FloatArray:
    """One implicit upwind step of every batch's fraction, solved in pressure order.

    ``fx[k]`` is the flux (m³/s) from ``k`` to ``k + 1`` (0 on the last
    column), ``fy[k]`` from ``k`` to ``k + nx``; ``exit_out[k]`` the flux of
    the cell's exit faces that let cement out; ``old`` and ``source`` are
    ``(N, batches)`` (fractions, injected volume in m³). ``order`` lists the
    cells by decreasing pressure.
    """
    n, nb = old.shape
    new = old.copy()
    for m in range(n):
        k = order[m]
        if blocked[k]:
            continue
        out = exit_out[k]
        for b in range(nb):
            new[k, b] = pore[k] * old[k, b] + source[k, b]
        for side in range(4):
            up, f = _face(k, side, n, nx, fx, fy)
            if up < 0:
                continue
            if f > 0.0:
                for b in range(nb):
                    new[k, b] += dt * f * new[up, b]
            else:
                out -= f
        den = pore[k] + dt * out
        for b in range(nb):
            new[k, b] /= den
    return new


@_jit
def courant_times(
    nx: int,
    fx: FloatArray,
    fy: FloatArray,
    exit_out: FloatArray,
    pore: FloatArray,
    blocked: npt.NDArray[np.bool_],
    c: FloatArray,
    source: FloatArray,
    near_exit: npt.NDArray[np.bool_],
) -> tuple[float, float]:
    """Shortest filling time of a cell ahead of the front: anywhere, and near an exit (s).

    A cell is ahead of the front while under half cement and filling; its
    filling rate is the explicit estimate: cement flowing in from upwind
    cells (``fx``, ``fy`` as in :func:`upwind_sweep`) and the ``source``
    (m³/s), minus what leaves (``exit_out``: the open exits' outflow). ``inf``
    where no such cell is.
    """
    n = c.size
    shortest = np.inf
    shortest_exit = np.inf
    for k in range(n):
        if blocked[k] or c[k] >= 0.5:
            continue
        inflow = source[k]
        out = exit_out[k]
        for side in range(4):
            up, f = _face(k, side, n, nx, fx, fy)
            if up < 0:
                continue
            if f > 0.0:
                inflow += f * c[up]
            else:
                out -= f
        rate = inflow - out * c[k]
        if rate > 0.0:
            t = pore[k] * (1.0 - c[k]) / rate
            if t < shortest:
                shortest = t
            if near_exit[k] and t < shortest_exit:
                shortest_exit = t
    return shortest, shortest_exit


@_jit
def within_factor(a: FloatArray, b: FloatArray, factor: float) -> bool:
    """Whether every ``a[k]`` is within ``factor`` of ``b[k]`` (both positive), either way."""
    within = True
    for k in range(a.size):  # a loop, not all(): compiled, and it stops at the first
        if a[k] > factor * b[k] or b[k] > factor * a[k]:
            within = False
            break
    return within


@_jit
def flow_order(
    nx: int,
    fx: FloatArray,
    fy: FloatArray,
    exit_out: FloatArray,
    order: IndexArray,
    work: IntArray,
    start: IndexArray,
    upwind: IndexArray,
    inflow: FloatArray,
    outflow: FloatArray,
) -> int:
    """Fill ``order`` with the cells such that every cell follows its upwind neighbours.

    A cell's upwind neighbours are those that send it a positive flux (``fx``,
    ``fy`` as in :func:`upwind_sweep`). Kahn's topological sort, last in first
    out: a cell is placed once all its upwind neighbours are, and the cells it
    frees are placed next (an east or west one first: the next cell in memory),
    so the order runs down the flow in short chains of neighbouring cells (a
    sort by pressure jumps across the grid; chains along the rows were 10–30 %
    faster to sweep than along the columns). ``work`` is a buffer of ``2 N``
    integers.

    For the sweeps of :func:`transport`, the cell placed ``m``-th gets its
    upwind neighbours ``upwind[start[m]:start[m + 1]]`` with the fluxes they
    send it (``inflow``), in the order of :func:`upwind_sweep`'s sides, and in
    ``outflow[m]`` its outflow (``exit_out`` plus every non-positive side flux
    subtracted, in that order): the same sums as the sweep's. ``start`` holds
    ``N + 1`` entries, ``upwind`` and ``inflow`` ``2 N`` (one per face at most);
    ``order``, ``start`` and ``upwind`` may be unsigned (``uint32``: faster
    indexing in :func:`transport`).

    Returns the number of cells placed: ``N`` unless the fluxes have a cycle
    (they cannot, being differences of one pressure).
    """
    n = fx.size
    waiting = work[:n]
    stack = work[n:]
    top = 0
    for k in range(n - 1, -1, -1):
        inflows = 0
        for side in range(4):
            up, f = _face(k, side, n, nx, fx, fy)
            if up >= 0 and f > 0.0:
                inflows += 1
        waiting[k] = inflows
        if inflows == 0:
            stack[top] = k
            top += 1
    m = 0
    e = 0
    while top > 0:
        top -= 1
        k = stack[top]
        order[m] = k
        start[m] = e
        out = exit_out[k]
        for side in range(4):
            other, f = _face(k, side, n, nx, fx, fy)
            if other < 0:
                continue
            if f > 0.0:
                upwind[e] = other
                inflow[e] = f
                e += 1
            else:
                out -= f
        outflow[m] = out
        for down in range(4):
            side = 3 - down  # north and south first, so an east or west one is placed next
            other, f = _face(k, side, n, nx, fx, fy)
            if other >= 0 and f < 0.0:  # k feeds ``other``
                waiting[other] -= 1
                if waiting[other] == 0:
                    stack[top] = other
                    top += 1
        m += 1
    start[m] = e
    return m


@_jit
def transport(
    order: IndexArray,
    start: IndexArray,
    upwind: IndexArray,
    inflow: FloatArray,
    outflow: FloatArray,
    pore: FloatArray,
    blocked: npt.NDArray[np.bool_],
    old: FloatArray,
    batch: int,
    dt: float,
    active: npt.NDArray[np.bool_],
    rate: FloatArray,
    near_exit: npt.NDArray[np.bool_],
    new: FloatArray,
    cement: FloatArray,
) -> tuple[float, float, float, float]:
    """One implicit upwind step into ``new``, with what the time step needs of its result.

    The step of :func:`upwind_sweep`, its source the injection ``rate`` (m³/s
    per cell) of batch ``batch`` (times ``dt`` inside), in a flow order with its upwind
    lists (:func:`flow_order`): every cell follows its upwind neighbours and
    its sums are formed in the same order as the sweep's, so the result is the
    same bit for bit. Only the batches marked ``active`` are computed: the
    columns of the others must be 0 in ``old`` and ``new`` (a batch not yet
    injected holds no cement anywhere and stays so). ``cement`` receives each
    cell's cement fraction (its batches summed).

    Returns ``(largest cement fraction, cement volume in the body (m³),
    shortest filling time, shortest filling time near an exit)``: the last two
    are :func:`courant_times` of the new fill under the same fluxes and the
    injection ``rate``, computed as each cell is solved (its
    upwind neighbours are final by then). The largest fraction is ``nan`` if
    any is.
    """
    n, nb = old.shape
    largest = -np.inf
    undefined = False
    shortest = np.inf
    shortest_exit = np.inf
    for m in range(n):
        k = order[m]
        c = 0.0
        if blocked[k]:
            for b in range(nb):
                new[k, b] = old[k, b]
                c += old[k, b]
        else:
            first, last = start[m], start[m + 1]
            out = outflow[m]
            den = pore[k] + dt * out
            for b in range(nb):
                if active[b]:
                    v = pore[k] * old[k, b] + (rate[k] if b == batch else 0.0) * dt
                    for e in range(first, last):
                        v += dt * inflow[e] * new[upwind[e], b]
                    v /= den
                    new[k, b] = v
                    c += v
            if not c >= 0.5:
                fed = rate[k]
                for e in range(first, last):
                    fed += inflow[e] * cement[upwind[e]]
                filling = fed - out * c
                if filling > 0.0:
                    t = pore[k] * (1.0 - c) / filling
                    if t < shortest:
                        shortest = t
                    if near_exit[k] and t < shortest_exit:
                        shortest_exit = t
        cement[k] = c
        if c > largest:
            largest = c
        elif c != c:
            undefined = True
    in_body = _dot(pore, cement)
    return (np.nan if undefined else largest), in_body, shortest, shortest_exit


@_jit
def fluidity_into(
    fractions: FloatArray,
    viscosity: FloatArray,
    marrow: float,
    blocked: npt.NDArray[np.bool_],
    out: FloatArray,
) -> None:
    """Each cell's fluidity (1/Pa·s): its fluids' viscosities added by volume, inverted.

    ``viscosity`` per batch (Pa·s), ``marrow`` the marrow's fluidity; the
    marrow fills what the cement leaves (never less than nothing); 0 in the
    ``blocked`` cells.
    """
    n, nb = fractions.shape
    for k in range(n):
        if blocked[k]:
            out[k] = 0.0
            continue
        mu = 0.0
        c = 0.0
        for b in range(nb):
            mu += fractions[k, b] * viscosity[b]
            c += fractions[k, b]
        out[k] = 1.0 / (mu + max(1.0 - c, 0.0) / marrow)


@_jit
def _harmonic(a: float, b: float) -> float:
    total = a + b
    return 2.0 * a * b / total if total > 0.0 else 0.0


@_jit
def assemble_into(
    nx: int,
    cx: float,
    cy: float,
    kx: FloatArray,
    ky: FloatArray,
    fluidity: FloatArray,
    exit_cell: IntArray,
    exit_t: FloatArray,
    blocked: npt.NDArray[np.bool_],
    diag: FloatArray,
    ax: FloatArray,
    ay: FloatArray,
    tx: FloatArray,
    ty: FloatArray,
) -> None:
    """The five-point pressure matrix: couplings ``ax``/``ay`` per cell, ``tx``/``ty`` per face.

    Face transmissibilities ``cx · 2λ_Lλ_R/(λ_L+λ_R)`` with ``λ = k · fluidity``
    (``cy`` and ``ky`` across y-faces); x-faces numbered row by row, ``nx − 1``
    a row, y-faces ``nx`` a row. The diagonal sums, per cell, its east, west,
    north and south faces' and then its exit faces' transmissibilities
    (``exit_t``, in face order), and is 1 in the ``blocked`` cells.
    """
    n = fluidity.size
    ny = n // nx
    for k in range(n):
        diag[k] = 0.0
    for f in range(exit_cell.size):  # first the exits' sum per cell, in face order
        diag[exit_cell[f]] += exit_t[f]
    for j in range(ny):
        for i in range(nx):
            k = j * nx + i
            if i + 1 < nx:
                t = cx * _harmonic(kx[k] * fluidity[k], kx[k + 1] * fluidity[k + 1])
                tx[j * (nx - 1) + i] = t
                ax[k] = t
            else:
                ax[k] = 0.0
            if j + 1 < ny:
                t = cy * _harmonic(ky[k] * fluidity[k], ky[k + nx] * fluidity[k + nx])
                ty[k] = t
                ay[k] = t
            else:
                ay[k] = 0.0
    for k in range(n):
        if blocked[k]:
            diag[k] = 1.0
            continue
        d = ax[k]
        if k % nx > 0:
            d += ax[k - 1]
        d += ay[k]
        if k >= nx:
            d += ay[k - nx]
        diag[k] = d + diag[k]


@_jit
def cell_fluxes_into(
    nx: int, ax: FloatArray, ay: FloatArray, p: FloatArray, fx: FloatArray, fy: FloatArray
) -> None:
    """The fluxes of pressure ``p`` per cell: ``fx[k]`` from ``k`` to ``k + 1``, ``fy[k]`` to ``k + nx``.

    ``ax``/``ay`` are the couplings of :func:`assemble_into`; 0 on the last
    column and row.
    """
    n = p.size
    for k in range(n):
        fx[k] = ax[k] * (p[k] - p[k + 1]) if k % nx < nx - 1 else 0.0
        fy[k] = ay[k] * (p[k] - p[k + nx]) if k + nx < n else 0.0
