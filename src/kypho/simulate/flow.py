"""Finite-volume Darcy pressure and implicit upwind cement transport on a :class:`Grid`.

Pressure (incompressible two-fluid Darcy flow, one pressure):

.. math::

    -\\nabla\\cdot\\bigl(\\mathbf{K}\\,f(\\mathbf{x},t)\\,\\nabla p\\bigr) = q,
    \\qquad f = \\sum_b \\frac{c_b}{\\mu_b(a_b(t))} + \\frac{1 - \\sum_b c_b}{\\mu_m},

with ``K = diag(K_AP, K_SI)``, ``c_b`` the volume fraction of the pores held by
batch ``b`` (viscosity ``μ_b`` at its age ``a_b``) and ``μ_m`` the marrow's
viscosity. Two-point fluxes with harmonic face transmissibilities; exits are
Robin faces. The matrix keeps one sparsity pattern for the whole run; it is
refilled each step and factorised (sparse LU) with a fill-reducing ordering
computed once per grid.

Transport of each batch's fraction, implicit (backward Euler) and upwind:

.. math::

    \\phi V_i\\,(c_i^{n+1} - c_i^n) + \\Delta t\\Bigl(\\sum_{\\mathrm{out}} F\\,c_i^{n+1}
    - \\sum_{\\mathrm{in}} F\\,c_{j}^{n+1}\\Bigr) = \\Delta t\\,q_{b,i}.

Each interior face's flux leaves one cell and enters the other with the same
upwind value, so the sum over cells telescopes: cement in the body changes by
exactly what was injected minus what left through the exits, to rounding. The
system is triangular when the cells are ordered by decreasing pressure (flow
runs downhill), so it is solved by one triangular sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from kypho.simulate.grid import Grid

__all__ = ["Fluxes", "PressureSolver", "face_fluxes", "transport_step"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def _harmonic(a: FloatArray, b: FloatArray) -> FloatArray:
    total = a + b
    out = np.zeros_like(total)
    np.divide(2.0 * a * b, total, out=out, where=total > 0)
    return out


@dataclass
class PressureSolver:
    """Assembles and solves the pressure system of one grid, reusing its structure.

    The sparsity pattern is built once; each step only refills the values. The
    fill-reducing ordering (minimum degree on ``AᵀA + A``) is computed by the
    first factorisation and reused by every later one, which then skips the
    ordering and factorises the pre-permuted matrix directly.

    Attributes
    ----------
    factorizations
        LU factorisations so far (one per pressure solve).
    """

    grid: Grid
    factorizations: int = 0
    _inverse: IntArray | None = field(default=None, repr=False)
    _order: IntArray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        g = self.grid
        n = g.n
        self._left, self._right, self._below, self._above = g.faces()
        rows = np.concatenate([np.arange(n), self._left, self._right, self._below, self._above])
        cols = np.concatenate([np.arange(n), self._right, self._left, self._above, self._below])
        entry = np.arange(rows.size, dtype=np.float64) + 1.0
        pattern = sp.csr_matrix((entry, (rows, cols)), shape=(n, n))
        pattern.sort_indices()
        self._slot = pattern.data.astype(np.int64) - 1
        self._indices = pattern.indices.copy()
        self._indptr = pattern.indptr.copy()
        self._cx = g.thickness * g.hy / g.hx
        self._cy = g.thickness * g.hx / g.hy

    def assemble(
        self, fluidity: FloatArray, blocked: BoolArray, exit_open: BoolArray | None = None
    ) -> tuple[sp.csr_matrix, FloatArray, FloatArray, FloatArray]:
        """The pressure matrix and the transmissibilities of x-faces, y-faces and exits.

        ``exit_open`` (one per exit face) closes the faces where it is False.
        """
        g = self.grid
        n = g.n
        lx = g.kx * fluidity
        ly = g.ky * fluidity
        tx = self._cx * _harmonic(lx[self._left], lx[self._right])
        ty = self._cy * _harmonic(ly[self._below], ly[self._above])
        te = g.boundary.geometry * fluidity[g.boundary.cell]
        if exit_open is not None:
            te = np.where(exit_open, te, 0.0)
        diag = (
            np.bincount(self._left, tx, n)
            + np.bincount(self._right, tx, n)
            + np.bincount(self._below, ty, n)
            + np.bincount(self._above, ty, n)
            + np.bincount(g.boundary.cell, te, n)
        )
        diag[blocked] = 1.0
        values = np.concatenate([diag, -tx, -tx, -ty, -ty])
        matrix = sp.csr_matrix((values[self._slot], self._indices, self._indptr), shape=(n, n))
        return matrix, tx, ty, te

    def solve(self, matrix: sp.csr_matrix, rhs: FloatArray) -> FloatArray:
        """Solve ``matrix @ p = rhs`` (LU, with one step of iterative refinement)."""
        options = {"diag_pivot_thresh": 0.0, "options": {"SymmetricMode": True}}
        if self._inverse is None:
            lu = spl.splu(matrix.tocsc(), permc_spec="MMD_AT_PLUS_A", **options)
            self._order = np.asarray(lu.perm_c, dtype=np.int64)
            self._inverse = np.argsort(self._order)
            self.factorizations += 1
            p: FloatArray = lu.solve(rhs)
            refined: FloatArray = p + lu.solve(rhs - matrix @ p)
            return refined
        inv = self._inverse
        permuted = matrix[inv][:, inv].tocsc()
        lu = spl.splu(permuted, permc_spec="NATURAL", **options)
        self.factorizations += 1
        x = lu.solve(rhs[inv])
        x = x + lu.solve(rhs[inv] - permuted @ x)
        p = np.empty_like(x)
        p[inv] = x
        return p


@dataclass(frozen=True)
class Fluxes:
    """Volumetric fluxes (m³/s) of one step: x-faces (+x), y-faces (+y), exits (outwards)."""

    x: FloatArray
    y: FloatArray
    exit: FloatArray


def face_fluxes(
    solver: PressureSolver, p: FloatArray, tx: FloatArray, ty: FloatArray, te: FloatArray
) -> Fluxes:
    """Two-point fluxes from the pressure ``p``."""
    b = solver.grid.boundary
    return Fluxes(
        x=tx * (p[solver._left] - p[solver._right]),
        y=ty * (p[solver._below] - p[solver._above]),
        exit=te * (p[b.cell] - b.pressure),
    )


def transport_step(
    solver: PressureSolver,
    p: FloatArray,
    fluxes: Fluxes,
    fractions: FloatArray,
    blocked: BoolArray,
    source_rhs: FloatArray,
    dt: float,
) -> tuple[FloatArray, FloatArray]:
    """Advance every batch's fraction by ``dt`` (implicit upwind).

    Parameters
    ----------
    fractions
        ``(N, batches)`` fractions at the start of the step.
    source_rhs
        ``(N, batches)`` cement volume (m³) injected into each cell this step.

    Returns
    -------
    tuple
        The new fractions ``(N, batches)`` and the cement volume (m³) of each
        batch that left through each exit face, ``(faces, batches)``.
    """
    g = solver.grid
    n = g.n
    b = g.boundary
    left, right, below, above = solver._left, solver._right, solver._below, solver._above
    fx, fy = fluxes.x, fluxes.y
    up = np.concatenate([np.where(fx > 0, left, right), np.where(fy > 0, below, above)])
    down = np.concatenate([np.where(fx > 0, right, left), np.where(fy > 0, above, below)])
    flow = np.abs(np.concatenate([fx, fy]))
    keep = flow > 0
    up, down, flow = up[keep], down[keep], flow[keep]
    out_exit = np.maximum(fluxes.exit, 0.0)
    outflow = np.bincount(up, flow, n) + np.bincount(b.cell, out_exit, n)
    diag = g.pore + dt * outflow
    diag[blocked] = 1.0
    rank = np.empty(n, dtype=np.int64)
    order = np.argsort(-p, kind="stable")
    rank[order] = np.arange(n)
    rows = np.concatenate([rank, rank[down]])
    cols = np.concatenate([rank, rank[up]])
    values = np.concatenate([diag, -dt * flow])
    matrix = sp.csr_matrix((values, (rows, cols)), shape=(n, n))
    rhs = g.pore[:, None] * fractions + source_rhs
    rhs[blocked] = fractions[blocked]
    solved = spl.spsolve_triangular(matrix, rhs[order], lower=True)
    new = np.empty_like(fractions)
    new[order] = solved.reshape(n, -1)
    leaked = dt * out_exit[:, None] * new[b.cell]
    return new, leaked
