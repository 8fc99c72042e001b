"""The compiled pressure solver and the exits' yield rule."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse.linalg as spl

from kypho.simulate import Vertebra, simulate, staged_protocol, traditional_protocol
from kypho.simulate.flow import PressureSolver
from kypho.simulate.grid import build_grid


def _jumping_system(solver: PressureSolver, seed: int = 1):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    n = solver.grid.n
    # fluidities spanning marrow (10) to set cement (1e-5), in patches
    fluidity = 10.0 ** rng.choice([1.0, -2.0, -5.0], size=n)
    blocked = np.zeros(n, dtype=bool)
    blocked[rng.choice(n, 5, replace=False)] = True
    fluidity[blocked] = 0.0
    system = solver.assemble(fluidity, blocked)
    rhs = np.zeros(n)
    rhs[np.flatnonzero(~blocked)[n // 3]] = 1e-7
    return system, rhs


def test_pcg_agrees_with_a_direct_solve_on_jumping_coefficients() -> None:
    grid = build_grid(Vertebra(), 23, 17)
    solver = PressureSolver(grid)
    system, rhs = _jumping_system(solver)
    p = solver.solve(system, rhs)
    direct = spl.spsolve(system.matrix().tocsc(), rhs)
    assert solver.fallbacks == 0
    assert solver.iterations > 0
    np.testing.assert_allclose(p, direct, rtol=1e-6, atol=1e-9 * np.abs(direct).max())


def test_a_solve_that_does_not_converge_is_finished_by_lu() -> None:
    grid = build_grid(Vertebra(), 23, 17)
    solver = PressureSolver(grid, maxiter=1)
    system, rhs = _jumping_system(solver, seed=2)
    p = solver.solve(system, rhs)
    direct = spl.spsolve(system.matrix().tocsc(), rhs)
    assert solver.fallbacks == 1
    np.testing.assert_allclose(p, direct, rtol=1e-9, atol=1e-12 * np.abs(direct).max())


def test_the_cortex_never_passes_cement_and_a_higher_threshold_lets_less_out() -> None:
    base = Vertebra()
    leaks = []
    for beta in (5.0, 200.0):
        v = replace(base, exits=tuple(replace(e, threshold_per_s=beta) for e in base.exits))
        r = simulate(staged_protocol(v), v, nx=20)
        assert r.cortex_ml == 0.0
        assert r.leaked_by_exit()["cortex"] == 0.0
        leaks.append(r.leaked_total_ml)
    assert leaks[0] > leaks[1] > 0.0  # the yield pressure grows with β: less extrudes


def test_the_time_step_shrinks_with_the_cells() -> None:
    v = Vertebra()
    # the exits' finer control left out: on 12 cells the front reaches the breach
    coarse = simulate(traditional_protocol(v), v, nx=12, exit_courant=0.125)
    fine = simulate(traditional_protocol(v), v, nx=24, exit_courant=0.125)
    assert fine.steps > coarse.steps  # same injection, so a shorter mean step
