"""The black-box multigrid preconditioner of the pressure solve (kypho.simulate._multigrid)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse.linalg as spl

from kypho.errors import SimulationError
from kypho.simulate import Vertebra, simulate, staged_protocol
from kypho.simulate._multigrid import Hierarchy
from kypho.simulate.flow import PressureSolver, PressureSystem
from kypho.simulate.grid import build_grid

#: fluidities from marrow to set cement: jumps of 10⁶ between neighbouring cells
LEVELS = np.array([1.0, -2.0, -5.0])


def _system(
    nx: int, ny: int, *, patch: int | None, seed: int, blocked: int = 0
) -> tuple[PressureSolver, PressureSystem, np.ndarray]:
    """A pressure system on a vertebra's grid with a random fluidity field and a point source.

    ``patch``: the field is a random 8 × 8 pattern drawn on the whole body
    (the same field at every resolution), or, with ``None``, random cell by cell.
    """
    rng = np.random.default_rng(seed)
    grid = build_grid(Vertebra(), nx, ny)
    if patch is None:
        fluidity = 10.0 ** rng.choice(LEVELS, size=grid.n)
    else:
        pattern = 10.0 ** rng.choice(LEVELS, size=(patch, patch))
        rows = np.arange(ny) * patch // ny
        cols = np.arange(nx) * patch // nx
        fluidity = pattern[np.ix_(rows, cols)].ravel().copy()
    cut = np.zeros(grid.n, dtype=bool)
    cut[rng.choice(grid.n, blocked, replace=False)] = True
    fluidity[cut] = 0.0
    solver = PressureSolver(grid, maxiter=20000)
    system = solver.assemble(fluidity, cut)
    rhs = system.boundary_rhs(grid.boundary.cell)
    rhs[(ny // 2) * nx + nx // 3] += 1e-7
    return solver, system, rhs


def _residual(system: PressureSystem, p: np.ndarray, rhs: np.ndarray) -> float:
    return float(np.linalg.norm(rhs - system.matrix() @ p) / np.linalg.norm(rhs))


@pytest.mark.parametrize(("patch", "seed"), [(None, 1), (None, 2), (8, 3), (5, 4)])
def test_multigrid_cg_equals_the_mic0_cg_and_a_direct_solve_on_jumps_of_a_million(
    patch: int | None, seed: int
) -> None:
    solver, system, rhs = _system(37, 29, patch=patch, seed=seed, blocked=9)
    mic = PressureSolver(solver.grid, preconditioner="mic0", maxiter=20000)
    p_mg = solver.solve(system, rhs)
    p_mic = mic.solve(system, rhs)
    direct = spl.spsolve(system.matrix().tocsc(), rhs)
    assert solver.fallbacks == 0
    assert mic.fallbacks == 0
    assert _residual(system, p_mg, rhs) <= solver.rtol
    assert _residual(system, p_mic, rhs) <= mic.rtol
    scale = np.abs(direct).max()
    np.testing.assert_allclose(p_mg, p_mic, rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(p_mg, direct, rtol=0, atol=1e-6 * scale)
    assert solver.iterations < mic.iterations


def test_the_iterations_stay_bounded_as_the_grid_is_refined() -> None:
    """The same 8 × 8 pattern of fluidities (jumps of 10⁶) on 16² to 128² cells.

    MIC(0)-preconditioned CG needs about twice the iterations at each halving
    of the cells' size (68 → 175 from 16² to 128² when this was written); the
    multigrid's count stays nearly flat (12 → 13).
    """
    counts, mic_counts = [], []
    for n in (16, 32, 64, 128):
        solver, system, rhs = _system(n, n, patch=8, seed=3)
        p = solver.solve(system, rhs)
        assert _residual(system, p, rhs) <= solver.rtol
        counts.append(solver.iterations)
        mic = PressureSolver(solver.grid, preconditioner="mic0", maxiter=20000)
        mic.solve(system, rhs)
        mic_counts.append(mic.iterations)
    assert max(counts) <= 20
    assert max(counts) - min(counts) <= 4
    assert mic_counts[-1] > 2 * mic_counts[0]


def _vcycle_factor(system: PressureSystem, h: Hierarchy, cycles: int = 30) -> float:
    """The stationary V-cycle's asymptotic reduction of the error's energy norm per cycle."""
    rng = np.random.default_rng(11)
    e = rng.standard_normal(system.diag.size)
    a = system.matrix()
    factor = 1.0
    for _ in range(cycles):
        new = e - h.precondition(a @ e)
        factor = float(np.sqrt(new @ (a @ new) / (e @ (a @ e))))
        e = new
    return factor


def test_a_blocked_band_does_not_stall_the_vcycle_under_refinement() -> None:
    """A tube-like band of blocked cells (diagonal 1, no couplings) across the body.

    Its coarse points once interpolated to the cells next to the band: their
    diagonal of 1 (against couplings of about 10⁻¹ here, 10⁻⁸ in a run) pinned
    those cells to zero in the coarse correction, and the V-cycle's reduction
    per cycle went 0.43 → 0.65 → 0.95 from 32² to 128² cells (measured when
    this was written); now 0.43, 0.39, 0.41.
    """
    factors = []
    for n in (32, 64, 128):
        grid = build_grid(Vertebra(), n, n)
        j, i = np.divmod(np.arange(grid.n), n)
        band = (i > n // 8) & (np.abs(j - (n // 2 + (i - n // 8) * 0.1)) < n / 20)
        fluidity = np.ones(grid.n)
        fluidity[band] = 0.0
        system = PressureSolver(grid).assemble(fluidity, band)
        h = Hierarchy(n, n)
        h.build(system.diag, system.ax, system.ay)
        factors.append(_vcycle_factor(system, h))
    assert max(factors) < 0.5, factors


def _dense(h: Hierarchy, level: int) -> np.ndarray:
    """Level ``level``'s operator as a dense matrix (and: nothing stored off the grid)."""
    nx, ny, o = int(h.nxs[level]), int(h.nys[level]), int(h.offsets[level])
    out = np.zeros((nx * ny, nx * ny))
    for j in range(ny):
        for i in range(nx):
            g = o + (j + 1) * (nx + 2) + i + 1
            for dj in (-1, 0, 1):
                for di in (-1, 0, 1):
                    entry = h._a[g, 4 + 3 * dj + di]
                    if 0 <= i + di < nx and 0 <= j + dj < ny:
                        out[j * nx + i, (j + dj) * nx + i + di] = entry
                    else:
                        assert entry == 0.0
    return out


def _interpolation(h: Hierarchy, level: int) -> np.ndarray:
    nx, ny = int(h.nxs[level]), int(h.nys[level])
    cx, cy = int(h.nxs[level + 1]), int(h.nys[level + 1])
    out = np.zeros((nx * ny, cx * cy))
    for jc in range(cy):
        for ic in range(cx):
            kc = int(h.offsets[level + 1]) + (jc + 1) * (cx + 2) + ic + 1
            for fj in (-1, 0, 1):
                for fi in (-1, 0, 1):
                    i, j = 2 * ic + 1 + fi, 2 * jc + 1 + fj
                    w = h._pw[kc, 4 + 3 * fj + fi]
                    if 0 <= i < nx and 0 <= j < ny:
                        out[j * nx + i, jc * cx + ic] = w
                    else:
                        assert w == 0.0
    return out


@pytest.mark.parametrize(("nx", "ny"), [(13, 10), (16, 12)])
def test_the_coarse_operators_are_galerkin_products(nx: int, ny: int) -> None:
    """``A_c = Pᵀ A P`` level by level, against dense products; the finest level is ``A``."""
    _, system, _ = _system(nx, ny, patch=None, seed=5, blocked=2)
    h = Hierarchy(nx, ny, coarse_max=4)
    h.build(system.diag, system.ax, system.ay)
    assert h.levels >= 3
    np.testing.assert_array_equal(_dense(h, 0), system.matrix().toarray())
    for level in range(h.levels - 1):
        a, p = _dense(h, level), _interpolation(h, level)
        coarse = _dense(h, level + 1)
        np.testing.assert_allclose(coarse, p.T @ a @ p, rtol=0, atol=1e-13 * np.abs(coarse).max())
    # from the five-point M-matrix, the weights are weighted means: in [0, 1]
    first = _interpolation(h, 0)
    assert np.all((first >= 0.0) & (first <= 1.0 + 1e-12))
    assert (first == 1.0).sum(axis=0).min() >= 1  # each coarse point keeps its value


def test_the_interpolation_is_exact_for_constants_where_the_operator_is() -> None:
    """Without exits (a pure Neumann operator) constants are in the kernel: P 1 = 1."""
    n = 12
    grid = build_grid(Vertebra(), n, n)
    solver = PressureSolver(grid)
    system = solver.assemble(np.full(grid.n, 3.0), np.zeros(grid.n, dtype=bool))
    bare = np.bincount(grid.boundary.cell, system.te, grid.n)
    h = Hierarchy(n, n, coarse_max=4)
    h.build(system.diag - bare, system.ax, system.ay)
    p = _interpolation(h, 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


def _dense_vcycle(h: Hierarchy, level: int, b: np.ndarray) -> np.ndarray:
    """The V-cycle written with dense matrices: the definition the compiled one must equal."""
    a = _dense(h, level)
    if level == h.levels - 1:
        return np.linalg.solve(a, b)
    x = scipy.linalg.solve_triangular(np.tril(a), b, lower=True)  # forward Gauss–Seidel from 0
    p = _interpolation(h, level)
    x = x + p @ _dense_vcycle(h, level + 1, p.T @ (b - a @ x))
    return x + scipy.linalg.solve_triangular(np.triu(a), b - a @ x, lower=False)  # backward


@pytest.mark.parametrize(
    ("nx", "ny", "coarse_max"), [(13, 10, 4), (16, 12, 4), (24, 17, 64), (7, 5, 64)]
)
def test_the_compiled_vcycle_equals_its_dense_definition(nx: int, ny: int, coarse_max: int) -> None:
    """Sweeps, residuals from the first sweep, restriction, prolongation and the coarsest solve.

    Odd and even sides, three or four levels, and a single level (7 × 5 ≤ 64
    points: the V-cycle is the exact solve).
    """
    _, system, _ = _system(nx, ny, patch=None, seed=9, blocked=3)
    h = Hierarchy(nx, ny, coarse_max=coarse_max)
    h.build(system.diag, system.ax, system.ay)
    rng = np.random.default_rng(10)
    for _ in range(2):
        r = rng.standard_normal(nx * ny)
        expected = _dense_vcycle(h, 0, r)
        np.testing.assert_allclose(
            h.precondition(r), expected, rtol=0, atol=1e-9 * np.abs(expected).max()
        )
    if h.levels == 1:
        np.testing.assert_allclose(
            h.precondition(r), np.linalg.solve(system.matrix().toarray(), r), rtol=1e-9
        )


def test_one_vcycle_is_a_symmetric_positive_definite_operator() -> None:
    """CG needs ``M⁻¹`` symmetric positive definite: ``u·M⁻¹v = v·M⁻¹u`` and ``v·M⁻¹v > 0``."""
    _, system, _ = _system(23, 17, patch=None, seed=6, blocked=3)
    h = Hierarchy(23, 17)
    h.build(system.diag, system.ax, system.ay)
    rng = np.random.default_rng(7)
    for _ in range(3):
        u, v = rng.standard_normal(23 * 17), rng.standard_normal(23 * 17)
        mu, mv = h.precondition(u), h.precondition(v)
        assert float(u @ mv) == pytest.approx(float(v @ mu), rel=1e-10)
        assert float(v @ mv) > 0.0


def test_a_kept_hierarchy_is_rebuilt_when_the_matrix_has_moved() -> None:
    solver, system, rhs = _system(24, 18, patch=4, seed=8)
    solver = PressureSolver(solver.grid, rebuild_factor=4.0, rebuild_every=3)
    p0 = solver.solve(system, rhs)
    assert solver.setups == 1
    solver.solve(system, rhs)  # the same matrix: kept
    assert solver.setups == 1
    twice = solver.assemble(
        np.full(solver.grid.n, 2.0), np.zeros(solver.grid.n, dtype=bool)
    )  # every entry changed by far more than 4
    solver.solve(twice, rhs)
    assert solver.setups == 2
    for _ in range(3):  # at most three solves on one hierarchy
        solver.solve(twice, rhs)
    assert solver.setups == 3
    # a kept (older) hierarchy still solves to the tolerance
    stale = PressureSolver(solver.grid, rebuild_factor=1e300, rebuild_every=10**9)
    stale.solve(twice, rhs)
    p = stale.solve(system, rhs)
    assert stale.setups == 1
    assert _residual(system, p, rhs) <= stale.rtol
    np.testing.assert_allclose(p, p0, rtol=0, atol=1e-6 * np.abs(p0).max())


def test_the_solver_options_are_checked() -> None:
    grid = build_grid(Vertebra(), 8, 8)
    with pytest.raises(SimulationError) as err:
        PressureSolver(grid, preconditioner="ilu")
    assert str(err.value) == (
        "pressure solver: 'preconditioner' must be 'multigrid' or 'mic0' (got 'ilu')"
    )
    with pytest.raises(SimulationError) as err:
        PressureSolver(grid, rebuild_factor=0.5)
    assert str(err.value) == (
        "pressure solver: 'rebuild_factor' must be a number of at least 1 and "
        "'rebuild_every' a whole number of at least 1 (got 0.5 and 8)"
    )


def test_a_whole_run_gives_the_same_result_with_either_preconditioner() -> None:
    """Staged protocol, 30 × 23 cells: multigrid against MIC(0), each solve to 10⁻⁹."""
    v = Vertebra()
    mg = simulate(staged_protocol(v), v, nx=30)
    mic = simulate(staged_protocol(v), v, nx=30, preconditioner="mic0")
    assert mg.steps == mic.steps
    assert mg.pressure_solves == mic.pressure_solves
    assert mg.cg_iterations < mic.cg_iterations
    assert mg.leaked_total_ml > 0.0
    for name, volume in mic.leaked_by_exit().items():
        assert mg.leaked_by_exit()[name] == pytest.approx(volume, rel=1e-6, abs=1e-12)
    np.testing.assert_allclose(mg.fraction, mic.fraction, rtol=0, atol=1e-6)
    np.testing.assert_allclose(mg.pressure_kpa, mic.pressure_kpa, rtol=1e-6)
    assert float(mg.balance_error.max()) < 1e-10
