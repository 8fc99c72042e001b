"""The finite-volume grid of a vertebra: cells, faces, exits, tube and source cells.

Cell-centred, ``nx`` cells anteroposterior by ``ny`` superior–inferior; cell
``k = j * nx + i`` (``i`` from the anterior wall, ``j`` from the inferior
endplate). Everything here is geometry: it does not change while cement flows,
except the tube (one per injection).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kypho.errors import SimulationError
from kypho.simulate.geometry import Tube, Vertebra

__all__ = ["Boundary", "Grid", "TubeCells", "build_grid", "nested_dissection", "tube_cells"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Boundary:
    """Boundary faces through which fluid leaves (or, in tests, enters at a set pressure).

    ``flux = geometry * fluidity[cell] * (p[cell] - pressure)``, with ``geometry``
    (m³) the face area times the normal permeability over the distance from the
    cell centre to the face plus the exit's resistance length.
    """

    cell: IntArray
    geometry: FloatArray
    pressure: FloatArray
    exit_index: IntArray
    names: tuple[str, ...]
    threshold: FloatArray
    marrow_only: BoolArray


@dataclass(frozen=True)
class Grid:
    """Cells and faces of a rectangular section."""

    nx: int
    ny: int
    hx: float  # m
    hy: float  # m
    thickness: float  # m
    kx: FloatArray  # (N,) permeability, m²
    ky: FloatArray
    pore: FloatArray  # (N,) pore volume, m³
    xc: FloatArray  # (N,) cell centres, m
    yc: FloatArray
    boundary: Boundary

    @property
    def n(self) -> int:
        """Number of cells."""
        return self.nx * self.ny

    def faces(self) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """``(left, right)`` cells of x-faces and ``(below, above)`` cells of y-faces."""
        idx = np.arange(self.n, dtype=np.int64).reshape(self.ny, self.nx)
        return (
            idx[:, :-1].ravel(),
            idx[:, 1:].ravel(),
            idx[:-1, :].ravel(),
            idx[1:, :].ravel(),
        )


@dataclass(frozen=True)
class TubeCells:
    """Cells the tube occupies (impermeable) and the cells its opening feeds, with weights."""

    blocked: BoolArray
    source: IntArray
    weight: FloatArray


def build_grid(vertebra: Vertebra, nx: int, ny: int) -> Grid:
    """The grid of ``vertebra`` with ``nx`` × ``ny`` cells.

    Examples
    --------
    >>> g = build_grid(Vertebra(), 35, 27)
    >>> g.n, round(g.hx * 1e3, 3), g.boundary.names
    (945, 1.0, ('breach', 'basivertebral vein', 'cortex'))
    """
    if nx < 4 or ny < 4:
        raise SimulationError(f"grid: at least 4 × 4 cells are needed (got {nx} × {ny})")
    hx = vertebra.depth_mm * 1e-3 / nx
    hy = vertebra.height_mm * 1e-3 / ny
    thickness = vertebra.thickness_mm * 1e-3
    xc = np.tile((np.arange(nx) + 0.5) * hx, ny)
    yc = np.repeat((np.arange(ny) + 0.5) * hy, nx)
    kx = np.full(nx * ny, vertebra.permeability_ap_m2)
    ky = np.full(nx * ny, vertebra.permeability_si_m2)
    porosity = np.full(nx * ny, vertebra.porosity)
    if vertebra.cavity_radius_mm > 0:
        cx, cy = (v * 1e-3 for v in vertebra.cavity_center_mm)
        r = vertebra.cavity_radius_mm * 1e-3
        inside = (xc - cx) ** 2 + (yc - cy) ** 2 <= r * r
        kx[inside] *= vertebra.cavity_permeability_factor
        ky[inside] *= vertebra.cavity_permeability_factor
        porosity[inside] = 1.0
    pore = porosity * hx * hy * thickness
    cells: list[IntArray] = []
    geometry: list[FloatArray] = []
    which: list[IntArray] = []
    for e, exit_ in enumerate(vertebra.exits):
        lo = (exit_.center_mm - exit_.size_mm / 2) * 1e-3
        hi = (exit_.center_mm + exit_.size_mm / 2) * 1e-3
        if exit_.wall in ("anterior", "posterior"):
            i = 0 if exit_.wall == "anterior" else nx - 1
            along = (np.arange(ny) + 0.5) * hy
            pick = np.flatnonzero((along >= lo) & (along <= hi))
            if pick.size == 0:
                pick = np.array([int(np.argmin(np.abs(along - exit_.center_mm * 1e-3)))])
            c = pick * nx + i
            kn, h_normal, area = kx[c], hx, hy * thickness
        else:
            j = 0 if exit_.wall == "inferior" else ny - 1
            along = (np.arange(nx) + 0.5) * hx
            pick = np.flatnonzero((along >= lo) & (along <= hi))
            if pick.size == 0:
                pick = np.array([int(np.argmin(np.abs(along - exit_.center_mm * 1e-3)))])
            c = j * nx + pick
            kn, h_normal, area = ky[c], hy, hx * thickness
        cells.append(c.astype(np.int64))
        geometry.append(area * kn / (h_normal / 2 + exit_.resistance_mm * 1e-3))
        which.append(np.full(c.size, e, dtype=np.int64))
    names = [e.name for e in vertebra.exits]
    thresholds = [np.full(c.size, vertebra.exits[k].threshold_per_s) for k, c in enumerate(cells)]
    marrow_only = [np.zeros(c.size, dtype=bool) for c in cells]
    if np.isfinite(vertebra.cortex_resistance_mm):
        taken = {
            (int(c), int(w))
            for c, w in zip(np.concatenate(cells), _walls_of(cells, vertebra), strict=True)
        }
        shell_cells, shell_geometry = [], []
        r = vertebra.cortex_resistance_mm * 1e-3
        walls = (
            (0, np.arange(ny) * nx, kx, hx, hy),
            (1, np.arange(ny) * nx + nx - 1, kx, hx, hy),
            (2, np.arange(nx), ky, hy, hx),
            (3, (ny - 1) * nx + np.arange(nx), ky, hy, hx),
        )
        for w, wall_cells, k, h_normal, h_along in walls:
            free = np.array(
                [int(c) for c in wall_cells if (int(c), w) not in taken], dtype=np.int64
            )
            shell_cells.append(free)
            shell_geometry.append(h_along * thickness * k[free] / (h_normal / 2 + r))
        shell = np.concatenate(shell_cells)
        cells.append(shell)
        geometry.append(np.concatenate(shell_geometry))
        which.append(np.full(shell.size, len(names), dtype=np.int64))
        thresholds.append(np.full(shell.size, np.inf))
        marrow_only.append(np.ones(shell.size, dtype=bool))
        names.append("cortex")
    cell = np.concatenate(cells)
    boundary = Boundary(
        cell=cell,
        geometry=np.concatenate(geometry),
        pressure=np.zeros(cell.size),
        exit_index=np.concatenate(which),
        names=tuple(names),
        threshold=np.concatenate(thresholds),
        marrow_only=np.concatenate(marrow_only),
    )
    return Grid(nx, ny, hx, hy, thickness, kx, ky, pore, xc, yc, boundary)


def _walls_of(cells: list[IntArray], vertebra: Vertebra) -> IntArray:
    """Wall number (0 anterior, 1 posterior, 2 inferior, 3 superior) of each exit face."""
    code = {"anterior": 0, "posterior": 1, "inferior": 2, "superior": 3}
    return np.concatenate(
        [
            np.full(c.size, code[e.wall], dtype=np.int64)
            for c, e in zip(cells, vertebra.exits, strict=True)
        ]
    )


def tube_cells(grid: Grid, tube: Tube) -> TubeCells:
    """Rasterise ``tube`` on ``grid``: its impermeable cells and its opening's cells.

    Raises
    ------
    SimulationError
        If the tube's opening feeds no cell (e.g. its tip is against a wall).
    """
    entry = np.array(tube.entry_mm) * 1e-3
    tip = np.array(tube.tip_mm) * 1e-3
    length = float(np.hypot(*(tip - entry)))
    axis = (tip - entry) / length
    normal = np.array([axis[1], -axis[0]])  # points superior for a tube pointing anterior
    dx, dy = grid.xc - entry[0], grid.yc - entry[1]
    s = dx * axis[0] + dy * axis[1]
    t = dx * normal[0] + dy * normal[1]
    h = max(grid.hx, grid.hy)
    radius = max(tube.diameter_mm * 1e-3 / 2, 0.5 * h)
    blocked = (s >= -h) & (s <= length) & (np.abs(t) <= radius)
    b2 = blocked.reshape(grid.ny, grid.nx)
    touch_x = np.zeros_like(b2, dtype=np.float64)
    touch_y = np.zeros_like(b2, dtype=np.float64)
    touch_x[:, 1:] += b2[:, :-1]
    touch_x[:, :-1] += b2[:, 1:]
    touch_y[1:, :] += b2[:-1, :]
    touch_y[:-1, :] += b2[1:, :]
    contact = (touch_x * grid.hy + touch_y * grid.hx).ravel()
    candidate = ~blocked & (contact > 0)
    if tube.opening == "forward":
        opening = candidate & (s > length) & (np.abs(t) <= radius + h)
    else:
        sign = 1.0 if tube.side == "superior" else -1.0
        reach = max(tube.diameter_mm * 1e-3, 1.5 * h)
        opening = candidate & (s >= length - reach) & (s <= length) & (sign * t > 0)
    source = np.flatnonzero(opening)
    if source.size == 0:
        raise SimulationError(
            f"filling tube with tip at {tube.tip_mm} mm ({tube.opening} opening): the opening feeds no bone cell; move the tip away from the wall"
        )
    weight = contact[source] / contact[source].sum()
    return TubeCells(blocked=blocked, source=source.astype(np.int64), weight=weight)


def nested_dissection(nx: int, ny: int) -> IntArray:
    """A nested-dissection ordering of the ``nx`` × ``ny`` grid (computed once per grid).

    Separators are ordered last, recursively, which keeps the fill of the
    factorised pressure matrix near ``O(N log N)``.

    Examples
    --------
    >>> order = nested_dissection(5, 4)
    >>> sorted(order.tolist()) == list(range(20))
    True
    """
    idx = np.arange(nx * ny, dtype=np.int64).reshape(ny, nx)
    out: list[IntArray] = []

    def split(block: IntArray) -> None:
        rows, cols = block.shape
        if block.size <= 64 or min(rows, cols) < 3:
            out.append(block.ravel())
            return
        if rows >= cols:
            m = rows // 2
            split(block[:m])
            split(block[m + 1 :])
            out.append(block[m])
        else:
            m = cols // 2
            split(block[:, :m])
            split(block[:, m + 1 :])
            out.append(block[:, m])

    split(idx)
    return np.concatenate(out)
