"""The compiled time step: flow order, fused transport, fluidity, assembly and fluxes.

The fused kernels must give the same numbers, bit for bit, as the separate
steps they replaced (the sweep in pressure order, the filling times of the new
fill, the cement in the body): any order in which every cell follows its
upwind neighbours solves the same triangular system with the same sums.
"""

from __future__ import annotations

import numpy as np
import pytest

from kypho.simulate import Vertebra, _kernels
from kypho.simulate.flow import PressureSolver, face_fluxes
from kypho.simulate.grid import build_grid

NX, NY = 23, 17


def _flow(seed: int):  # type: ignore[no-untyped-def]
    """A solved pressure on jumping fluidities with blocked cells, its per-cell fluxes and exits."""
    rng = np.random.default_rng(seed)
    grid = build_grid(Vertebra(), NX, NY)
    solver = PressureSolver(grid)
    n = grid.n
    fluidity = 10.0 ** rng.choice([1.0, -2.0, -5.0], size=n)
    blocked = np.zeros(n, dtype=bool)
    blocked[rng.choice(n, 9, replace=False)] = True
    fluidity[blocked] = 0.0
    system = solver.assemble(fluidity, blocked)
    rhs = np.zeros(n)
    rhs[np.flatnonzero(~blocked)[rng.integers(n - 9, size=2)]] = 1e-7
    p = solver.solve(system, rhs + system.boundary_rhs(grid.boundary.cell))
    fx, fy = np.empty(n), np.empty(n)
    _kernels.cell_fluxes_into(NX, system.ax, system.ay, p, fx, fy)
    exit_face = np.maximum(face_fluxes(solver, p, system).exit, 0.0) * (
        rng.random(grid.boundary.cell.size) < 0.5
    )
    exit_cell = np.bincount(grid.boundary.cell, exit_face, n).astype(np.float64)
    return grid, solver, system, p, fx, fy, exit_cell, blocked, rhs


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_cell_fluxes_are_the_face_fluxes(seed: int) -> None:
    grid, solver, system, p, fx, fy, *_ = _flow(seed)
    faces = face_fluxes(solver, p, system)
    assert np.array_equal(fx.reshape(NY, NX)[:, :-1].ravel(), faces.x)
    assert np.array_equal(fx.reshape(NY, NX)[:, -1], np.zeros(NY))
    assert np.array_equal(fy[: grid.n - NX], faces.y)
    assert np.array_equal(fy[grid.n - NX :], np.zeros(NX))


def _lists(fx, fy, exit_cell):  # type: ignore[no-untyped-def]
    """:func:`_kernels.flow_order`'s order and upwind lists, and the number of cells placed."""
    n = fx.size
    order, start = np.empty(n, dtype=np.uint32), np.empty(n + 1, dtype=np.uint32)
    upwind, inflow, outflow = np.empty(2 * n, dtype=np.uint32), np.empty(2 * n), np.empty(n)
    work = np.empty(2 * n, dtype=np.int64)
    placed = _kernels.flow_order(NX, fx, fy, exit_cell, order, work, start, upwind, inflow, outflow)
    return (order, start, upwind, inflow, outflow), placed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_flow_order_puts_every_cell_after_its_upwind_neighbours(seed: int) -> None:
    grid, _, _, _, fx, fy, exit_cell, *_ = _flow(seed)
    n = grid.n
    (order, start, upwind, inflow, outflow), placed = _lists(fx, fy, exit_cell)
    assert placed == n
    assert np.array_equal(np.sort(order), np.arange(n))
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    left = np.arange(n)[np.arange(n) % NX < NX - 1]
    below = np.arange(n - NX)
    edges = 0
    for a, b, f in ((left, left + 1, fx[left]), (below, below + NX, fy[below])):
        downhill = f > 0  # from a to b: a first
        uphill = f < 0
        assert (position[a[downhill]] < position[b[downhill]]).all()
        assert (position[b[uphill]] < position[a[uphill]]).all()
        edges += int(downhill.sum() + uphill.sum())
    assert edges > n  # the test has flow to order
    # each cell's upwind list: the neighbours sending it a positive flux, west, east,
    # south, north; its outflow: the open exits' plus every flux leaving it
    for m, k in enumerate(order.tolist()):
        sides = [(k - 1, fx[k - 1]), (k + 1, -fx[k]), (k - NX, fy[k - NX]), (k + NX, -fy[k])]
        sides = [(j, f) for j, f in sides if 0 <= j < n]
        ups = upwind[start[m] : start[m + 1]]
        assert ups.tolist() == [j for j, f in sides if f > 0]
        assert inflow[start[m] : start[m + 1]].tolist() == [f for j, f in sides if f > 0]
        out = exit_cell[k]
        for _, f in sides:
            out = out if f > 0 else out - f
        assert outflow[m] == out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_fused_transport_equals_the_sweep_in_pressure_order_bit_for_bit(seed: int) -> None:
    grid, _, _, p, fx, fy, exit_cell, blocked, rhs = _flow(seed)
    rng = np.random.default_rng(seed + 10)
    n = grid.n
    old = np.zeros((n, 3))
    old[:, 0] = rng.random(n) * (rng.random(n) < 0.6)
    old[:, 1] = (
        0.5 * rng.random(n) * (rng.random(n) < 0.3)
    )  # batch 2 here; batch 3 not yet injected
    unit_source = np.zeros((n, 3))
    unit_source[:, 1] = rhs
    near = rng.random(n) < 0.2
    dt = 0.37
    by_pressure = np.argsort(-p, kind="stable").astype(np.int64)
    expected = _kernels.upwind_sweep(
        by_pressure, NX, fx, fy, exit_cell, grid.pore, blocked, old, unit_source * dt, dt
    )
    cement = expected.sum(axis=1)
    shortest, near_exit = _kernels.courant_times(
        NX, fx, fy, exit_cell, grid.pore, blocked, cement, rhs, near
    )
    lists, _ = _lists(fx, fy, exit_cell)
    for active in ([True, True, True], [True, True, False]):
        new = np.zeros((n, 3))
        got_cement = np.full(n, np.nan)
        largest, in_body, got_shortest, got_near = _kernels.transport(
            *lists, grid.pore, blocked, old, 1, dt, np.array(active), rhs, near, new, got_cement,
        )  # fmt: skip
        assert np.array_equal(new, expected)
        assert np.array_equal(got_cement, cement)
        assert largest == cement.max()
        assert in_body == _kernels.dot(grid.pore, cement)
        assert (got_shortest, got_near) == (shortest, near_exit)
        assert np.isfinite(shortest)
        assert np.isfinite(near_exit)
    assert (expected[:, 2] == 0).all()  # a batch with no cement and no source stays 0


def test_the_fused_transport_reports_an_undefined_fraction() -> None:
    grid, _, _, _, fx, fy, exit_cell, blocked, rhs = _flow(1)
    n = grid.n
    old = np.zeros((n, 1))
    old[np.flatnonzero(~blocked)[0], 0] = np.nan
    lists, _ = _lists(fx, fy, exit_cell)
    largest, *_ = _kernels.transport(
        *lists, grid.pore, blocked, old, 0, 0.1, np.array([True]), rhs,
        np.zeros(n, dtype=bool), np.zeros((n, 1)), np.zeros(n),
    )  # fmt: skip
    assert np.isnan(largest)


def test_the_fluidity_adds_the_fluids_viscosities_by_volume() -> None:
    rng = np.random.default_rng(4)
    n = 200
    fractions = rng.random((n, 2)) * 0.6
    fractions[:10] = 0.0
    fractions[10:20] = [0.7, 0.5]  # over-full: no marrow, not less than none
    viscosity = np.array([600.0, 75000.0])
    marrow = 1.0 / 0.04
    blocked = rng.random(n) < 0.1
    out = np.full(n, np.nan)
    _kernels.fluidity_into(fractions, viscosity, marrow, blocked, out)
    mu = fractions @ viscosity + np.clip(1.0 - fractions.sum(axis=1), 0.0, None) * 0.04
    expected = np.where(blocked, 0.0, 1.0 / mu)
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    assert (out[:10][~blocked[:10]] == marrow).all()


def test_the_assembled_matrix_follows_its_definition() -> None:
    """Against the two-point flux definition written out cell by cell (harmonic means)."""
    grid, solver, system, *_ = _flow(5)
    rng = np.random.default_rng(5)
    n = grid.n
    fluidity = 10.0 ** rng.uniform(-5, 1, size=n)
    blocked = np.zeros(n, dtype=bool)
    blocked[[3, 40, 41]] = True
    fluidity[blocked] = 0.0
    mobility = rng.random(grid.boundary.cell.size)
    system = solver.assemble(fluidity, blocked, mobility)
    dense = np.zeros((n, n))
    for k in range(n):
        i, j = k % NX, k // NX
        for other, h_along, h_across, perm in (
            (k + 1 if i + 1 < NX else -1, grid.hy, grid.hx, grid.kx),
            (k + NX if j + 1 < NY else -1, grid.hx, grid.hy, grid.ky),
        ):
            if other < 0:
                continue
            a, b = perm[k] * fluidity[k], perm[other] * fluidity[other]
            t = 0.0 if a + b == 0 else grid.thickness * h_along / h_across * 2 * a * b / (a + b)
            dense[k, other] = dense[other, k] = -t
            dense[k, k] += t
            dense[other, other] += t
    for cell, g, m in zip(grid.boundary.cell, grid.boundary.geometry, mobility, strict=True):
        dense[cell, cell] += g * m
    dense[blocked, blocked] = 1.0
    np.testing.assert_allclose(system.matrix().toarray(), dense, rtol=1e-13, atol=0)
