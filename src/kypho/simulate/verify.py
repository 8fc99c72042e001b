"""Verification of the pressure solver against the analytic radial Darcy solution.

A point source of rate ``Q`` (m³/s) in a slab of thickness ``w`` with
permeabilities ``K_x, K_y`` and viscosity ``μ`` has the pressure

.. math::

    p(x, y) = \\frac{Q\\,\\mu}{2\\pi\\,w\\sqrt{K_x K_y}}\\,
              \\ln\\frac{R}{\\rho}, \\qquad
    \\rho^2 = \\sqrt{K_x K_y}\\,\\Bigl(\\frac{x^2}{K_x} + \\frac{y^2}{K_y}\\Bigr)

(the isotropic solution in the stretched coordinates ``x/√K_x, y/√K_y``). The
solver is run on ``[-R_x, R_x] × [-R_y, R_y]`` (``R_x/R_y = √(K_x/K_y)`` so
that the stretched cells are square) with the source in the centre cell and
the exact pressure imposed on every boundary face, through the same assembly
and solve the simulation uses; the error is measured away from the source
(``ρ ≥ R/4``), where the two-point flux scheme is second order.
"""

from __future__ import annotations

import math

import numpy as np

from kypho.errors import SimulationError
from kypho.simulate.flow import PressureSolver
from kypho.simulate.grid import Boundary, Grid

__all__ = ["observed_orders", "radial_source_error"]


def radial_source_error(
    n: int,
    *,
    permeability_x: float = 3.44e-8,
    permeability_y: float = 4.45e-8,
    radius: float = 0.01,
    thickness: float = 0.012,
    viscosity: float = 100.0,
    rate: float = 1e-7,
) -> float:
    """Relative RMS error of the FV pressure on an ``n`` × ``n`` grid (``n`` odd), ``ρ ≥ R/4``.

    Examples
    --------
    >>> radial_source_error(41) < 0.01
    True
    """
    if n < 5 or n % 2 == 0:
        raise SimulationError(f"radial verification: 'n' must be odd and at least 5 (got {n})")
    geo = math.sqrt(permeability_x * permeability_y)
    rx = radius * math.sqrt(permeability_x / geo)
    ry = radius * math.sqrt(permeability_y / geo)
    hx, hy = 2 * rx / n, 2 * ry / n
    xc = np.tile(-rx + (np.arange(n) + 0.5) * hx, n)
    yc = np.repeat(-ry + (np.arange(n) + 0.5) * hy, n)
    coef = rate * viscosity / (2 * math.pi * thickness * geo)

    def exact(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        rho = np.sqrt(geo * (x**2 / permeability_x + y**2 / permeability_y))
        return coef * np.log(radius / rho)

    idx = np.arange(n * n).reshape(n, n)
    walls = [
        (idx[:, 0], xc[idx[:, 0]] - hx / 2, yc[idx[:, 0]], permeability_x, hx, hy),
        (idx[:, -1], xc[idx[:, -1]] + hx / 2, yc[idx[:, -1]], permeability_x, hx, hy),
        (idx[0, :], xc[idx[0, :]], yc[idx[0, :]] - hy / 2, permeability_y, hy, hx),
        (idx[-1, :], xc[idx[-1, :]], yc[idx[-1, :]] + hy / 2, permeability_y, hy, hx),
    ]
    cell = np.concatenate([w[0] for w in walls])
    geometry = np.concatenate(
        [np.full(w[0].size, w[5] * thickness * w[3] / (w[4] / 2)) for w in walls]
    )
    pressure = np.concatenate([exact(w[1], w[2]) for w in walls])
    boundary = Boundary(
        cell=cell.astype(np.int64),
        geometry=geometry,
        pressure=pressure,
        exit_index=np.zeros(cell.size, dtype=np.int64),
        names=("boundary",),
        threshold=np.zeros(cell.size),
        marrow_only=np.zeros(cell.size, dtype=bool),
    )
    grid = Grid(
        nx=n,
        ny=n,
        hx=hx,
        hy=hy,
        thickness=thickness,
        kx=np.full(n * n, permeability_x),
        ky=np.full(n * n, permeability_y),
        pore=np.full(n * n, hx * hy * thickness),
        xc=xc,
        yc=yc,
        boundary=boundary,
    )
    solver = PressureSolver(grid)
    fluidity = np.full(n * n, 1.0 / viscosity)
    system = solver.assemble(fluidity, np.zeros(n * n, dtype=bool))
    rhs = system.boundary_rhs(cell)
    rhs[(n * n) // 2] += rate
    p = solver.solve(system, rhs)
    rho = np.sqrt(geo * (xc**2 / permeability_x + yc**2 / permeability_y))
    far = rho >= radius / 4
    reference = exact(xc[far], yc[far])
    return float(np.sqrt(np.mean((p[far] - reference) ** 2)) / np.sqrt(np.mean(reference**2)))


def observed_orders(sizes: tuple[int, ...] = (21, 41, 81, 161)) -> list[tuple[int, float, float]]:
    """``(n, error, observed order against the previous n)`` under refinement.

    The order is ``log(e_prev / e) / log(n / n_prev)`` (``nan`` for the first).
    """
    out: list[tuple[int, float, float]] = []
    for k, n in enumerate(sizes):
        err = radial_source_error(n)
        order = math.nan if k == 0 else math.log(out[-1][1] / err) / math.log(n / sizes[k - 1])
        out.append((n, err, order))
    return out
