"""Finite-volume Darcy pressure and implicit upwind cement transport on a :class:`Grid`.

Pressure (incompressible two-fluid Darcy flow, one pressure):

.. math::

    -\\nabla\\cdot\\bigl(\\mathbf{K}\\,f(\\mathbf{x},t)\\,\\nabla p\\bigr) = q,
    \\qquad f = \\sum_b \\frac{c_b}{\\mu_b(a_b(t))} + \\frac{1 - \\sum_b c_b}{\\mu_m},

with ``K = diag(K_AP, K_SI)``, ``c_b`` the volume fraction of the pores held by
batch ``b`` (viscosity ``μ_b`` at its age ``a_b``) and ``μ_m`` the marrow's
viscosity. Two-point fluxes with harmonic face transmissibilities; exits are
Robin faces, each with its own mobility (the cell's fluidity where cement may
pass, the marrow's part of it where only marrow may). The matrix is
symmetric positive definite and five-point; it is solved by conjugate
gradients preconditioned by one V-cycle of a black-box multigrid
(:mod:`kypho.simulate._multigrid`; its hierarchy kept across solves while the
matrix changes little), warm-started from the previous step's pressure, with
a sparse LU as the fallback when the iteration does not converge. MIC(0)
(:mod:`kypho.simulate._kernels`) remains as the other preconditioner.

Transport of each batch's fraction, implicit (backward Euler) and upwind:

.. math::

    \\phi V_i\\,(c_i^{n+1} - c_i^n) + \\Delta t\\Bigl(\\sum_{\\mathrm{out}} F\\,c_i^{n+1}
    - \\sum_{\\mathrm{in}} F\\,c_{j}^{n+1}\\Bigr) = \\Delta t\\,q_{b,i}.

The exit faces that hold cement back (see :func:`kypho.simulate.simulate`)
are left out of the outflow sum: marrow leaves through them, cement does not.
Each interior face's flux leaves one cell and enters the other with the same
upwind value, so the sum over cells telescopes: cement in the body changes by
exactly what was injected minus what left through the open exits, to
rounding. Cells ordered by decreasing pressure make the system triangular
(flow runs downhill): one sweep solves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from kypho.errors import SimulationError
from kypho.simulate import _kernels, _multigrid
from kypho.simulate.grid import Grid

__all__ = ["Fluxes", "PressureSolver", "PressureSystem", "face_fluxes", "transport_step"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class PressureSystem:
    """The five-point pressure matrix of one step and its face transmissibilities.

    ``diag`` (N), couplings ``ax`` (cell to its +x neighbour, 0 on the last
    column) and ``ay`` (to its +y neighbour); ``tx``/``ty`` the x- and y-face
    transmissibilities in :meth:`Grid.faces` order; ``te`` the exit faces'
    and ``pe`` the pressure each exit face drains against (Pa).
    """

    diag: FloatArray
    ax: FloatArray
    ay: FloatArray
    tx: FloatArray
    ty: FloatArray
    te: FloatArray
    pe: FloatArray
    nx: int

    def boundary_rhs(self, cells: IntArray) -> FloatArray:
        """The exits' part of the right-hand side (``te · pe`` summed per cell)."""
        out: FloatArray = np.bincount(cells, self.te * self.pe, self.diag.size).astype(np.float64)
        return out

    def matrix(self) -> sp.csr_matrix:
        """The matrix as a sparse CSR (symmetric)."""
        n = self.diag.size
        east, north = self.ax[:-1], self.ay[: n - self.nx]
        return sp.diags(
            [self.diag, -east, -east, -north, -north],
            [0, 1, -1, self.nx, -self.nx],
            shape=(n, n),
            format="csr",
        )


@dataclass
class PressureSolver:
    """Assembles and solves the pressure system of one grid.

    Attributes
    ----------
    solves
        Pressure solves so far.
    iterations
        Conjugate-gradient iterations over all solves.
    fallbacks
        Solves that the iteration did not converge and a sparse LU finished.
    setups
        Multigrid hierarchies built.
    switch_resolves, rejected_steps
        Bookkeeping of :func:`kypho.simulate.simulate`: re-solves after an exit
        face switched, and transport steps halved to keep fractions ≤ 1.
    rtol
        Relative residual ``‖b − A p‖ / ‖b‖`` each solve reaches (the true
        residual, from the previous solve's pressure).
    preconditioner
        ``"multigrid"`` (one V-cycle of :mod:`kypho.simulate._multigrid`) or
        ``"mic0"`` (:func:`kypho.simulate._kernels.pcg_mic0`).
    rebuild_factor, rebuild_every
        The multigrid hierarchy is kept from one solve to the next until a
        diagonal entry of the matrix has changed by more than
        ``rebuild_factor`` (either way) since it was built, or after
        ``rebuild_every`` solves, whichever comes first.
    """

    grid: Grid
    rtol: float = 1e-9
    maxiter: int = 2000
    preconditioner: str = "multigrid"
    rebuild_factor: float = 2.0
    rebuild_every: int = 8
    solves: int = 0
    iterations: int = 0
    fallbacks: int = 0
    setups: int = 0
    switch_resolves: int = 0
    rejected_steps: int = 0
    _previous: FloatArray | None = field(default=None, repr=False)
    _hierarchy: _multigrid.Hierarchy | None = field(default=None, repr=False)
    _built_diag: FloatArray | None = field(default=None, repr=False)
    _built_at: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.preconditioner not in ("multigrid", "mic0"):
            raise SimulationError(
                f"pressure solver: 'preconditioner' must be 'multigrid' or 'mic0' (got {self.preconditioner!r})"
            )
        if not self.rebuild_factor >= 1 or self.rebuild_every < 1:
            raise SimulationError(
                f"pressure solver: 'rebuild_factor' must be a number of at least 1 and 'rebuild_every' a whole number of at least 1 (got {self.rebuild_factor} and {self.rebuild_every})"
            )
        g = self.grid
        self._left, self._right, self._below, self._above = g.faces()
        self._cx = g.thickness * g.hy / g.hx
        self._cy = g.thickness * g.hx / g.hy

    def assemble(
        self,
        fluidity: FloatArray,
        blocked: BoolArray,
        exit_mobility: FloatArray | None = None,
        exit_pressure: FloatArray | None = None,
    ) -> PressureSystem:
        """The pressure system for cell fluidities ``fluidity`` (1/Pa·s).

        ``exit_mobility`` (one per exit face, 1/Pa·s) is the mobility of the
        fluid that may leave through each face, by default the cell's
        fluidity; ``exit_pressure`` the pressure it drains against, by default
        the boundary's (the right-hand side gets :meth:`PressureSystem.boundary_rhs`).
        """
        g = self.grid
        n = g.n
        mobility = fluidity[g.boundary.cell] if exit_mobility is None else exit_mobility
        te = g.boundary.geometry * mobility
        diag, ax, ay = np.empty(n), np.empty(n), np.empty(n)
        tx, ty = np.empty(g.ny * (g.nx - 1)), np.empty((g.ny - 1) * g.nx)
        _kernels.assemble_into(
            g.nx, self._cx, self._cy, g.kx, g.ky, np.ascontiguousarray(fluidity, dtype=np.float64),
            g.boundary.cell, te, np.ascontiguousarray(blocked, dtype=np.bool_), diag, ax, ay, tx, ty,
        )  # fmt: skip
        pe = g.boundary.pressure if exit_pressure is None else exit_pressure
        return PressureSystem(diag, ax, ay, tx, ty, te, pe, g.nx)

    def solve(self, system: PressureSystem, rhs: FloatArray) -> FloatArray:
        """Solve for the pressure, warm-started from this solver's previous solution."""
        n = self.grid.n
        x0 = self._previous if self._previous is not None else np.zeros(n)
        if self.preconditioner == "mic0":
            p, iterations, residual = _kernels.pcg_mic0(
                system.diag, system.ax, system.ay, system.nx, rhs, x0, self.rtol, self.maxiter
            )
        else:
            p, iterations, residual = self._current_hierarchy(system).solve(
                system.diag, system.ax, system.ay, rhs, x0, self.rtol, self.maxiter
            )
        self.solves += 1
        self.iterations += int(iterations)
        if not residual <= self.rtol * 10:
            self.fallbacks += 1
            matrix = system.matrix().tocsc()
            p = spl.spsolve(matrix, rhs, permc_spec="MMD_AT_PLUS_A")
            p = p + spl.spsolve(matrix, rhs - matrix @ p, permc_spec="MMD_AT_PLUS_A")
        self._previous = p
        return np.asarray(p, dtype=np.float64)

    def _current_hierarchy(self, system: PressureSystem) -> _multigrid.Hierarchy:
        """The kept multigrid hierarchy, rebuilt when the matrix has moved too far from it."""
        if self._hierarchy is None:
            self._hierarchy = _multigrid.Hierarchy(self.grid.nx, self.grid.ny)
        built = self._built_diag
        if (
            built is None
            or self.solves - self._built_at >= self.rebuild_every
            or not _kernels.within_factor(system.diag, built, self.rebuild_factor)
        ):
            self._hierarchy.build(system.diag, system.ax, system.ay)
            self._built_diag = system.diag.copy()
            self._built_at = self.solves
            self.setups += 1
        return self._hierarchy


@dataclass(frozen=True)
class Fluxes:
    """Volumetric fluxes (m³/s) of one step: x-faces (+x), y-faces (+y), exits (outwards)."""

    x: FloatArray
    y: FloatArray
    exit: FloatArray


def face_fluxes(solver: PressureSolver, p: FloatArray, system: PressureSystem) -> Fluxes:
    """Two-point fluxes from the pressure ``p``."""
    b = solver.grid.boundary
    return Fluxes(
        x=system.tx * (p[solver._left] - p[solver._right]),
        y=system.ty * (p[solver._below] - p[solver._above]),
        exit=system.te * (p[b.cell] - system.pe),
    )


def transport_step(
    solver: PressureSolver,
    order: IntArray,
    fluxes: Fluxes,
    fractions: FloatArray,
    blocked: BoolArray,
    source_rhs: FloatArray,
    dt: float,
    cement_open: BoolArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Advance every batch's fraction by ``dt`` (implicit upwind).

    Parameters
    ----------
    order
        The cells by decreasing pressure (of the solve that gave ``fluxes``).
    fractions
        ``(N, batches)`` fractions at the start of the step.
    source_rhs
        ``(N, batches)`` cement volume (m³) injected into each cell this step.
    cement_open
        Per exit face: whether cement leaves through it (default: all).

    Returns
    -------
    tuple
        The new fractions ``(N, batches)`` and the cement volume (m³) of each
        batch that left through each exit face, ``(faces, batches)``.
    """
    g = solver.grid
    n = g.n
    b = g.boundary
    out_exit = np.maximum(fluxes.exit, 0.0)
    if cement_open is not None:
        out_exit = np.where(cement_open, out_exit, 0.0)
    fx = np.zeros(n)
    fx.reshape(g.ny, g.nx)[:, :-1] = fluxes.x.reshape(g.ny, g.nx - 1)
    fy = np.zeros(n)
    fy[: n - g.nx] = fluxes.y
    new = _kernels.upwind_sweep(
        order,
        g.nx,
        fx,
        fy,
        np.bincount(b.cell, out_exit, n).astype(np.float64),
        g.pore,
        blocked,
        np.ascontiguousarray(fractions),
        np.ascontiguousarray(source_rhs),
        dt,
    )
    leaked = dt * out_exit[:, None] * new[b.cell]
    return new, leaked
