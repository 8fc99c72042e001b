"""Run an injection protocol on a vertebra: :func:`simulate` and its :class:`SimulationResult`.

Each injection is advanced in adaptive steps: no cell ahead of the cement
front may fill faster than ``courant`` of its pores per step (``exit_courant``
at the exits, where the leak is decided), and no step is longer than
``max_step_s``, so the time step shrinks with the cells and the scheme
converges under refinement of both. An injection stopped by fluoroscopy
(``until_covered``) stops within its step, when the exit shows covered. Once
the front has moved ``pressure_courant`` cells since the last solve while an
exit is being approached, ``bulk_pressure_courant`` cells while none is (and
whenever a step would overfill a cell): the viscosity of each batch at its
age, the viscosity of every cell (the fluids' viscosities weighted by volume:
within a cell the front puts them in series), the exits' switch made
consistent with the pressure, one pressure solve. Each step: one implicit
transport step for all batches, and the books: injected, in the body, leaked
through each exit (cement only; the marrow pushed out is not leakage). Between
injections nothing flows (the fluids are incompressible and nothing drives
them) but the batches keep curing.

From the final fill the radiographic summaries are derived:

* **lateral film**: the section itself; a cell shows cement when its cement
  fraction is at least ``visible`` (0.5); area % = cells showing / all cells;
* **AP film**: at each height, the cement's lateral span is taken to cover the
  same fraction of the body's width as its anteroposterior span (first to last
  cell showing) covers of its depth — transversely isotropic spread (Baroud et
  al. found AP and transverse permeabilities close); area % = mean over heights;
* **pattern**: ``"dense"`` when the mean cement fraction of the cells showing is
  at least ``dense`` (0.9), else ``"spongy"``;
* the paper's **distribution grade** from these three by
  :func:`kypho.classify.cement_grade`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from kypho.errors import SimulationError
from kypho.simulate import _kernels
from kypho.simulate.flow import (
    PressureSolver,
    PressureSystem,
)
from kypho.simulate.geometry import Vertebra
from kypho.simulate.grid import Grid, build_grid, tube_cells
from kypho.simulate.protocol import Injection, Protocol

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["APPROACH", "PRESSURE_LIMIT_KPA", "SimulationResult", "films", "simulate"]

#: Default highest pressure at the tube's opening (kPa): the highest injection
#: pressure measured at the syringe during vertebroplasty in patients, 3215 kPa
#: (Krebs J et al., Clinical measurements of cement injection pressure during
#: vertebroplasty, Spine 2005;30:E118-E122; mean peaks about 1700 kPa). The
#: pressure inside the body cannot exceed what the syringe delivers, so this is
#: an upper bound, not a typical value.
PRESSURE_LIMIT_KPA = 3215.0

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Films:
    """Radiographic summaries of a fill (see the module docstring)."""

    area_ap_pct: float
    area_lateral_pct: float
    pattern: str
    grade: str | None
    grade_note: str


def films(fraction: FloatArray, *, visible: float = 0.5, dense: float = 0.9) -> Films:
    """AP and lateral cement-area %, pattern and the paper's grade of a ``(ny, nx)`` fill.

    Examples
    --------
    >>> fill = np.zeros((10, 10)); fill[1:9, 1:9] = 1.0
    >>> f = films(fill)
    >>> f.area_lateral_pct, f.area_ap_pct, f.pattern, f.grade
    (64.0, 64.0, 'dense', 'I')
    """
    import pandas as pd

    from kypho.classify import cement_grade

    shows = fraction >= visible
    lateral = 100.0 * float(shows.mean())
    ny, nx = fraction.shape
    spans = np.zeros(ny)
    for j in np.flatnonzero(shows.any(axis=1)):
        cols = np.flatnonzero(shows[j])
        spans[j] = (cols[-1] - cols[0] + 1) / nx
    ap = 100.0 * float(spans.mean())
    pattern = "dense" if shows.any() and float(fraction[shows].mean()) >= dense else "spongy"
    graded = cement_grade(pd.Series([pattern]), pd.Series([ap]), pd.Series([lateral]))
    grade = graded.grade.iloc[0]
    return Films(
        area_ap_pct=ap,
        area_lateral_pct=lateral,
        pattern=pattern,
        grade=None if pd.isna(grade) else str(grade),
        grade_note=str(graded.note.iloc[0]),
    )


@dataclass(frozen=True)
class SimulationResult:
    """What one protocol did to one vertebra.

    Time series (one entry per step, at the step's end): ``time_s``,
    ``injected_ml``, ``in_body_ml``, ``leaked_ml`` (``(steps, exits)``,
    cumulative, per exit in ``exits``), ``pressure_kpa`` (mean pressure over the
    tube's opening, above the exits' pressure) and ``balance_error``
    (``|injected − in body − leaked| / injected``).

    ``not_injected_ml``: volume an early-stopped last injection left in the
    syringe (0 unless the last injection stopped early: ``until_covered``, or
    a limit below).

    ``outcome``: one sentence on how the run ended (``"completed"``, or which
    injection stopped, when, why, and how much cement was placed); ``stops``:
    one such sentence per injection stopped by a limit (the pressure limit, no
    way out left for the displaced marrow, or the step limit); the volume it
    did not inject is added to the next injection, as for ``until_covered``.

    Solver bookkeeping: ``steps``, ``pressure_solves``, ``cg_iterations``
    (over all solves) and ``lu_fallbacks`` (solves a sparse LU finished).

    Final state: ``fraction`` (``(ny, nx)`` cement fraction of the pores),
    ``batch_fraction`` (``(batches, ny, nx)``), ``fill_fraction`` (cement / pore
    volume of the body), and the films (``area_ap_pct``, ``area_lateral_pct``,
    ``pattern``, ``grade``, ``grade_note``).
    """

    protocol: str
    exits: tuple[str, ...]
    batches: tuple[str, ...]
    time_s: FloatArray
    injected_ml: FloatArray
    in_body_ml: FloatArray
    leaked_ml: FloatArray
    pressure_kpa: FloatArray
    balance_error: FloatArray
    fraction: FloatArray
    batch_fraction: FloatArray
    depth_mm: float
    height_mm: float
    fill_fraction: float
    area_ap_pct: float
    area_lateral_pct: float
    pattern: str
    grade: str | None
    grade_note: str
    steps: int
    pressure_solves: int
    cg_iterations: int
    lu_fallbacks: int
    not_injected_ml: float
    outcome: str
    stops: tuple[str, ...]

    @property
    def completed(self) -> bool:
        """Whether every injection placed its whole volume (none stopped by a limit)."""
        return not self.stops

    @property
    def leaked_total_ml(self) -> float:
        """Cement leaked through the vertebra's exits (breach, veins) by the end (ml).

        The intact ``"cortex"`` is left out (see :attr:`cortex_ml`).
        """
        keep = [k for k, name in enumerate(self.exits) if name != "cortex"]
        return float(self.leaked_ml[-1, keep].sum())

    @property
    def cortex_ml(self) -> float:
        """Cement through the intact cortex (ml): 0 by construction, the cortex never lets cement out."""
        keep = [k for k, name in enumerate(self.exits) if name == "cortex"]
        return float(self.leaked_ml[-1, keep].sum())

    @property
    def leaked_fraction(self) -> float:
        """Leaked cement as a fraction of the cement injected."""
        return self.leaked_total_ml / float(self.injected_ml[-1])

    def leaked_by_exit(self) -> dict[str, float]:
        """Final leaked volume (ml) per exit."""
        return {name: float(v) for name, v in zip(self.exits, self.leaked_ml[-1], strict=True)}

    def to_frame(self) -> pd.DataFrame:
        """The time series as a DataFrame (one row per step)."""
        import pandas as pd

        frame = pd.DataFrame(
            {
                "time_s": self.time_s,
                "injected_ml": self.injected_ml,
                "in_body_ml": self.in_body_ml,
                "pressure_kpa": self.pressure_kpa,
                "balance_error": self.balance_error,
            }
        )
        for k, name in enumerate(self.exits):
            frame[f"leaked_ml[{name}]"] = self.leaked_ml[:, k]
        return frame

    def summary(self) -> dict[str, object]:
        """The headline numbers as a plain dict."""
        return {
            "protocol": self.protocol,
            "injected_ml": float(self.injected_ml[-1]),
            "leaked_ml": self.leaked_total_ml,
            "leaked_fraction": self.leaked_fraction,
            "cortex_ml": self.cortex_ml,
            **{f"leaked_ml[{k}]": v for k, v in self.leaked_by_exit().items()},
            "fill_fraction": self.fill_fraction,
            "area_ap_pct": self.area_ap_pct,
            "area_lateral_pct": self.area_lateral_pct,
            "pattern": self.pattern,
            "grade": self.grade,
            "peak_pressure_kpa": float(self.pressure_kpa.max()),
            "max_balance_error": float(self.balance_error.max()),
            "not_injected_ml": self.not_injected_ml,
            "outcome": self.outcome,
        }


def _age_functions(protocol: Protocol, vertebra: Vertebra) -> list[Callable[[float], float]]:
    """Per batch: effective curing age at time t (room temperature until first injected)."""
    out: list[Callable[[float], float]] = []
    for batch in protocol.batches:
        starts = [i.start_s for i in protocol.injections if i.batch == batch.name]
        first = min(starts) if starts else math.inf
        s_room = batch.cement.speed(protocol.room_temperature_c)
        s_body = batch.cement.speed(vertebra.temperature_c)
        mixed = batch.mixed_at_s

        def age(
            t: float,
            first: float = first,
            s_room: float = s_room,
            s_body: float = s_body,
            mixed: float = mixed,
        ) -> float:
            return s_room * (min(t, first) - mixed) + s_body * max(0.0, t - first)

        out.append(age)
    return out


def _cement_viscosity(grid: Grid, fractions: FloatArray, inverse: FloatArray) -> FloatArray:
    """Per exit face: the viscosity of the cement in its cell (0 where there is none)."""
    cells = fractions[grid.boundary.cell]
    cement = cells.sum(axis=1)
    fluid = _kernels.row_dot(cells, inverse)
    out: FloatArray = np.divide(cement, fluid, out=np.zeros_like(cement), where=fluid > 0)
    return out


def _yield_pressure(grid: Grid, viscosity: FloatArray) -> FloatArray:
    """Per exit face: the pressure cement must exceed to pass, ``p_e + β μ_c`` (``inf`` for β = ∞)."""
    b = grid.boundary
    with np.errstate(invalid="ignore"):
        extra = b.threshold * viscosity
    out: FloatArray = b.pressure + np.where(np.isnan(extra), np.inf, extra)
    return out


def _cement_open(
    grid: Grid,
    fractions: FloatArray,
    yield_pressure: FloatArray,
    pressure: FloatArray,
    plug: float,
) -> BoolArray:
    """Exit faces that let cement out: the cell holds cement above its yield pressure.

    A face of a cell without cement counts as closed (it passes marrow either
    way); the intact cortex (``β = ∞``) never opens. If no face would pass
    anything (every exit cell full of held cement), the one nearest to
    yielding opens.
    """
    b = grid.boundary
    cement = fractions[b.cell].sum(axis=1)
    is_open: BoolArray = (cement > 0) & (pressure[b.cell] > yield_pressure)
    if not is_open.any():
        marrow_left = float(b.geometry @ (cement < plug))
        if marrow_left <= 1e-9 * float(b.geometry.sum()):
            margin = pressure[b.cell] - yield_pressure
            is_open[int(np.argmax(margin))] = True
    return is_open


def _exit_mobility(
    grid: Grid,
    fractions: FloatArray,
    fluidity: FloatArray,
    is_open: BoolArray,
    marrow: float,
    plug: float,
) -> FloatArray:
    """Per exit face: the cell's fluidity where cement passes; else the marrow's part of it
    while the cell holds less than ``plug`` cement, and nothing once it is plugged."""
    cells = grid.boundary.cell
    cement = fractions[cells].sum(axis=1)
    held = np.where(cement < plug, (1.0 - cement) * marrow, 0.0)
    out: FloatArray = np.where(is_open, fluidity[cells], held)
    return out


@dataclass(frozen=True)
class _Advance:
    """One transport step's result: the new fill and what the time step needs of it.

    ``fractions`` (``(N, batches)``) and ``cement`` (their sum per cell) are
    buffers of the run; ``out`` the cement (m³) of each batch that left
    through each exit face; ``largest`` the largest cement fraction,
    ``in_body`` the cement in the body (m³); ``shortest`` and ``near`` the
    shortest filling time ahead of the front, anywhere and near an exit, under
    the same fluxes (for the next step).
    """

    fractions: FloatArray
    cement: FloatArray
    out: FloatArray
    largest: float
    in_body: float
    shortest: float
    near: float


@dataclass(frozen=True)
class _CellFlow:
    """The fluxes of one solve laid out per cell, for the compiled transport kernels.

    ``fx[k]``: flux from ``k`` to ``k + 1``; ``fy[k]``: from ``k`` to
    ``k + nx``; ``exit_face``: each exit face's cement outflow (0 where it
    holds its cement); ``exit_cell``: their sum per cell; ``order``: the cells
    in an order in which every cell follows its upwind neighbours, with their
    upwind lists (``start``, ``upwind``, ``inflow``, ``outflow``: see
    :func:`kypho.simulate._kernels.flow_order`). All but ``exit_face`` are
    the run's buffers, overwritten by the next solve.
    """

    fx: FloatArray
    fy: FloatArray
    exit_face: FloatArray
    exit_cell: FloatArray
    order: npt.NDArray[np.uint32]
    start: npt.NDArray[np.uint32]
    upwind: npt.NDArray[np.uint32]
    inflow: FloatArray
    outflow: FloatArray

    @classmethod
    def of(
        cls,
        run: _Run,
        system: PressureSystem,
        p: FloatArray,
        cement_open: BoolArray,
    ) -> _CellFlow:
        grid = run.grid
        fx, fy = run.fx, run.fy
        _kernels.cell_fluxes_into(grid.nx, system.ax, system.ay, p, fx, fy)
        exit_flux = system.te * (p[grid.boundary.cell] - system.pe)
        face = np.where(cement_open, np.maximum(exit_flux, 0.0), 0.0)
        cell = np.bincount(grid.boundary.cell, face, grid.n).astype(np.float64)
        lists = run.order, run.start, run.upwind, run.inflow, run.outflow
        if (
            _kernels.flow_order(grid.nx, fx, fy, cell, lists[0], run.order_work, *lists[1:])
            < grid.n
        ):
            raise SimulationError(
                "the fluxes of a pressure solve form a cycle (a bug: please report it)"
            )
        return cls(fx, fy, face, cell, *lists)

    def step(
        self,
        run: _Run,
        blocked: BoolArray,
        batch: int,
        rate: FloatArray,
        dt: float,
        into: tuple[FloatArray, FloatArray],
    ) -> _Advance:
        """One implicit upwind step of ``run.fractions`` by ``dt``, batch ``batch`` injected at
        ``rate`` (m³/s per cell), into the buffers ``into`` (see
        :func:`kypho.simulate.flow.transport_step` and :func:`kypho.simulate._kernels.transport`)."""
        grid = run.grid
        new, cement = into
        largest, in_body, shortest, near = _kernels.transport(
            self.order, self.start, self.upwind, self.inflow, self.outflow, grid.pore, blocked,
            run.fractions, batch, dt, run.active, rate, run.near_exit, new, cement,
        )  # fmt: skip
        out = dt * self.exit_face[:, None] * new[grid.boundary.cell]
        return _Advance(new, cement, out, largest, in_body, shortest, near)

    def courant(
        self,
        run: _Run,
        blocked: BoolArray,
        source_rate: FloatArray,
    ) -> tuple[float, float]:
        """The shortest filling time of a cell ahead of the front, and of one near an exit (s).

        A cell is ahead of the front while under half cement (see
        :func:`kypho.simulate._kernels.courant_times`); ``inf`` when none is filling.
        """
        return _kernels.courant_times(
            run.grid.nx, self.fx, self.fy, self.exit_cell, run.grid.pore, blocked,
            run.cement, source_rate, run.near_exit,
        )  # fmt: skip


def _near_exits(grid: Grid) -> BoolArray:
    """Cells of the exit faces that can pass cement, and their four neighbours."""
    b = grid.boundary
    mask = np.zeros((grid.ny, grid.nx), dtype=bool)
    mask.ravel()[b.cell[np.isfinite(b.threshold)]] = True
    out = mask.copy()
    out[1:, :] |= mask[:-1, :]
    out[:-1, :] |= mask[1:, :]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out.ravel()


def _covered(cement: FloatArray, cells: IntArray, visible: float) -> bool:
    """Whether every one of ``cells`` shows cement on the films (``cement`` ≥ ``visible``)."""
    return bool(float(cement[cells].min()) >= visible)


#: An exit is being approached while some cell near it (an exit cell that can
#: pass cement, or a neighbour) fills within this many times the shortest
#: filling time ahead of the front (the front's smeared edge fills about ten
#: times more slowly per cell ahead: so within about three cells of the exit).
APPROACH = 1000.0


class _NoWayOut(Exception):
    """Every exit face is plugged or holds its cement: the injection cannot go on."""


def _pressure(
    run: _Run,
    t: float,
    blocked: BoolArray,
    rhs: FloatArray,
) -> tuple[PressureSystem, BoolArray, FloatArray]:
    """One pressure solve at time ``t``, with the exits' switch consistent with its pressure.

    Returns the system, which exit faces let cement out and the pressure.
    Raises :class:`_NoWayOut` when no exit face passes anything (the fluids are
    incompressible: the pressure would have no bound).
    """
    solver, fractions, marrow, plug = run.solver, run.fractions, run.marrow, run.control.plug
    inverse = np.array(
        [
            1.0 / float(pb.cement.viscosity_effective(age(t)))
            for pb, age in zip(run.protocol.batches, run.ages, strict=True)
        ]
    )
    # the fluids of a cell flow in series across the front: viscosities add by volume
    fluidity = run.fluidity
    _kernels.fluidity_into(fractions, 1.0 / inverse, marrow, blocked, fluidity)
    grid = solver.grid
    yield_p = _yield_pressure(grid, _cement_viscosity(grid, fractions, inverse))
    state = _cement_open(grid, fractions, yield_p, run.p, plug)
    for _ in range(6):
        mobility = _exit_mobility(grid, fractions, fluidity, state, marrow, plug)
        if not (mobility > 0).any():
            raise _NoWayOut
        system = solver.assemble(
            fluidity, blocked, mobility, np.where(state, yield_p, grid.boundary.pressure)
        )
        p = solver.solve(system, rhs + system.boundary_rhs(grid.boundary.cell))
        again = _cement_open(grid, fractions, yield_p, p, plug)  # the active set of this pressure
        if np.array_equal(again, state):
            break
        state = again
        solver.switch_resolves += 1
    return system, state, p


def simulate(
    protocol: Protocol,
    vertebra: Vertebra | None = None,
    *,
    nx: int = 100,
    ny: int | None = None,
    courant: float = 0.125,
    exit_courant: float | None = None,
    pressure_courant: float | None = None,
    bulk_pressure_courant: float | None = None,
    pressure_every: int = 8,
    max_step_s: float = 1.0,
    plug_fraction: float = 0.1,
    visible: float = 0.5,
    dense: float = 0.9,
    pressure_limit_kpa: float = PRESSURE_LIMIT_KPA,
    max_steps: int = 100_000,
    grid: Grid | None = None,
    preconditioner: str = "multigrid",
) -> SimulationResult:
    """Run ``protocol`` on ``vertebra`` (default :class:`Vertebra`) on an ``nx`` × ``ny`` grid.

    Parameters
    ----------
    nx, ny
        Cells anteroposterior and superior–inferior (``ny`` defaults to the
        body's aspect ratio).
    courant
        Time-step control: no cell ahead of the cement front (under half
        cement) may fill faster than this fraction of its pores per step, so
        the front advances about ``courant`` cells a step and the time step
        shrinks with the cells (the scheme converges as the grid is refined).
    exit_courant
        The same control for the cells of the exits that can pass cement and
        their neighbours, where the leak is decided (default ``courant / 16``:
        the front crosses an exit in small steps, the bulk in long ones).
    pressure_courant, bulk_pressure_courant, pressure_every
        The pressure is solved again once the front has moved about
        ``pressure_courant`` cells (default ``2 × courant``; the steps' sum of
        ``step / shortest filling time``) while an exit is being approached
        (a cell near an exit fills within :data:`APPROACH` times the shortest
        filling time), about ``bulk_pressure_courant`` cells (default ``8 ×
        courant``) while none is, and at least every ``pressure_every``
        transport steps. The fluxes of a solve stay exactly conservative in
        between; a step that would overfill a cell re-solves first.
    max_step_s
        Longest step (s), for the curing between front moves.
    plug_fraction
        Cement fraction at which an exit cell stops draining marrow through a
        face that holds its cement (the cement plugs the opening).
    visible, dense
        Thresholds of the film summaries (see the module docstring).
    pressure_limit_kpa
        Highest pressure at the tube's opening (kPa above the exits'): an
        injection whose pressure would exceed it stops there, as a surgeon
        stops when the syringe will not go further (default
        :data:`PRESSURE_LIMIT_KPA`). An injection also stops when no exit
        passes anything any more (the pressure would have no bound).
    max_steps
        Most transport steps over the whole run; an injection still going
        then stops (a safeguard: no run lasts without bound).
    grid
        A grid already built for this vertebra (saves rebuilding it).
    preconditioner
        Of the pressure solve's conjugate gradients: ``"multigrid"`` (one
        V-cycle of a black-box multigrid) or ``"mic0"`` (the modified
        incomplete Cholesky factorisation); both solve to the same tolerance
        (see :class:`kypho.simulate.flow.PressureSolver`).

    Notes
    -----
    An exit face lets cement out only while the pressure in its cell exceeds
    the exit's pressure plus its threshold ``β`` times the viscosity of the
    cement in the cell, and then the flux is driven by that excess (the face
    drains against the yield pressure). Otherwise only the cell's marrow leaves
    through it (mobility: the marrow's fraction over its viscosity) until the
    cell holds ``plug_fraction`` cement, and cement arriving there stays. The
    set of open faces is made consistent with each solve's pressure (re-solved,
    at most six times, when a face changes). When every exit cell is full of
    held cement the face nearest to yielding opens (the weakest plug gives
    way), at its yield pressure.

    An injection stopped by a limit leaves the rest of its volume to the next
    injection (as ``until_covered`` does); the result's ``outcome`` and
    ``stops`` say which injection stopped, when, why and how much was placed.

    Examples
    --------
    >>> from kypho.simulate.protocol import traditional_protocol
    >>> v = Vertebra()
    >>> r = simulate(traditional_protocol(v), v, nx=28)
    >>> round(float(r.injected_ml[-1]), 9), bool(r.balance_error.max() < 1e-10)
    (5.5, True)
    """
    vertebra = vertebra or Vertebra()
    if ny is None:
        ny = max(4, round(nx * vertebra.height_mm / vertebra.depth_mm))
    control = _Control(
        courant=courant,
        exit_courant=courant / 16 if exit_courant is None else exit_courant,
        pressure_courant=2 * courant if pressure_courant is None else pressure_courant,
        bulk_pressure_courant=(
            8 * courant if bulk_pressure_courant is None else bulk_pressure_courant
        ),
        pressure_every=pressure_every,
        max_step_s=max_step_s,
        plug=plug_fraction,
        visible=visible,
        limit_kpa=pressure_limit_kpa,
        max_steps=max_steps,
    )
    grid = grid or build_grid(vertebra, nx, ny)
    nb = len(protocol.batches)
    run = _Run(
        grid=grid,
        solver=PressureSolver(grid, preconditioner=preconditioner),
        protocol=protocol,
        ages=_age_functions(protocol, vertebra),
        marrow=1.0 / vertebra.marrow_viscosity_pa_s,
        control=control,
        near_exit=_near_exits(grid),
        books=_Books(protocol.injections[0].start_s, len(grid.boundary.names)),
        fractions=np.zeros((grid.n, nb)),
        p=np.zeros(grid.n),
    )
    carried = 0.0
    for k_inj, inj in enumerate(protocol.injections, start=1):
        volume = inj.volume_ml + carried
        done = _inject(run, k_inj, inj, volume)
        carried = volume - done * inj.rate_ml_s
    return _result(run, vertebra, carried, dense)


@dataclass(frozen=True)
class _Control:
    """How a run steps and when it stops (see :func:`simulate`'s parameters; checked here)."""

    courant: float
    exit_courant: float
    pressure_courant: float
    bulk_pressure_courant: float
    pressure_every: int
    max_step_s: float
    plug: float
    visible: float
    limit_kpa: float
    max_steps: int

    def __post_init__(self) -> None:
        c = self
        if (
            not c.courant > 0
            or not c.exit_courant > 0
            or not c.pressure_courant > 0
            or not c.bulk_pressure_courant > 0
            or not c.max_step_s > 0
            or c.pressure_every < 1
        ):
            raise SimulationError(
                f"'courant', 'exit_courant', 'pressure_courant', 'bulk_pressure_courant' and 'max_step_s' must be positive numbers and 'pressure_every' at least 1 (got {c.courant}, {c.exit_courant}, {c.pressure_courant}, {c.bulk_pressure_courant}, {c.max_step_s} and {c.pressure_every})"
            )
        if not c.limit_kpa > 0 or c.max_steps < 1:
            raise SimulationError(
                f"'pressure_limit_kpa' must be a positive number (math.inf for none) and 'max_steps' at least 1 (got {c.limit_kpa} and {c.max_steps})"
            )


class _Books:
    """The run's time series (the initial state first, then one entry per step) and totals (m³)."""

    def __init__(self, start_s: float, exits: int) -> None:
        self.times = [start_s]
        self.injected = [0.0]
        self.body = [0.0]
        self.leaked = [np.zeros(exits)]
        self.pressure = [0.0]
        self.balance = [0.0]
        self.total_injected = 0.0
        self.total_leaked = np.zeros(exits)

    def record(
        self,
        grid: Grid,
        t: float,
        injected: float,
        out: FloatArray,
        in_body: float,
        at_tube: float,
    ) -> None:
        """One step: ``injected`` (m³), ``out`` (m³ per exit face and batch), cement in the body (m³)."""
        self.total_injected += injected
        self.total_leaked += np.bincount(
            grid.boundary.exit_index, out.sum(axis=1), self.total_leaked.size
        )
        self.times.append(t)
        self.injected.append(self.total_injected * 1e6)
        self.body.append(in_body * 1e6)
        self.leaked.append(self.total_leaked * 1e6)
        self.pressure.append(at_tube / 1e3)
        self.balance.append(
            abs(self.total_injected - in_body - float(self.total_leaked.sum()))
            / self.total_injected
        )


@dataclass
class _Run:
    """A run's fixed parts and its state between steps."""

    grid: Grid
    solver: PressureSolver
    protocol: Protocol
    ages: list[Callable[[float], float]]
    marrow: float
    control: _Control
    near_exit: BoolArray
    books: _Books
    fractions: FloatArray
    p: FloatArray
    steps: int = 0
    stops: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # buffers kept for the run: the step writes the new fill into ``spare``
        # and the two change places when it is accepted (a batch not yet
        # injected keeps its column 0 in both: see _kernels.transport)
        n, nb = self.fractions.shape
        self.cement = np.zeros(n)
        self.spare = (np.zeros((n, nb)), np.zeros(n))
        self.active = np.zeros(nb, dtype=np.bool_)
        self.fluidity = np.empty(n)
        self.fx, self.fy = np.empty(n), np.empty(n)
        # cell indices unsigned: numba then indexes without testing for negative
        # (wrap-around) indices, which costs the sweep about a fifth of its time
        self.order = np.empty(n, dtype=np.uint32)
        self.order_work = np.empty(2 * n, dtype=np.int64)
        self.start = np.empty(n + 1, dtype=np.uint32)
        self.upwind = np.empty(2 * n, dtype=np.uint32)
        self.inflow, self.outflow = np.empty(2 * n), np.empty(n)

    def accept(self, advance: _Advance) -> None:
        """Take ``advance``'s fill as the run's; its buffers' former holder becomes the spare."""
        if advance.fractions is self.spare[0]:
            self.spare = (self.fractions, self.cement)
        self.fractions, self.cement = advance.fractions, advance.cement


def _stopped(k: int, inj: Injection, volume: float, why: str, done: float) -> str:
    """The sentence for injection ``k`` stopped ``done`` s after its start."""
    return (
        f"injection {k} (batch {inj.batch!r}) stopped at {inj.start_s + done:.1f} s: "
        f"{why}; {done * inj.rate_ml_s:.2f} of {volume:.2f} ml placed"
    )


def _inject(run: _Run, k: int, inj: Injection, volume: float) -> float:
    """Run injection ``k`` (``volume`` ml, the carried-over volume included) on ``run``.

    Returns how long it injected (s): its whole duration, or less when the
    exit it watches showed covered or a limit stopped it (then a sentence is
    added to ``run.stops``).
    """
    grid, solver, c = run.grid, run.solver, run.control
    exit_names = list(grid.boundary.names)
    tube = tube_cells(grid, inj.tube)
    blocked = tube.blocked
    rate = inj.rate_ml_s * 1e-6
    duration = volume / inj.rate_ml_s
    watch = None
    if inj.until_covered is not None:
        if inj.until_covered not in exit_names:
            raise SimulationError(
                f"injection of batch {inj.batch!r}: 'until_covered' names no exit of the vertebra ({inj.until_covered!r}; exits: {', '.join(exit_names)})"
            )
        watch = grid.boundary.cell[grid.boundary.exit_index == exit_names.index(inj.until_covered)]
    rhs = np.zeros(grid.n)
    np.add.at(rhs, tube.source, rate * tube.weight)
    batch = [b.name for b in run.protocol.batches].index(inj.batch)
    run.active[batch] = True
    done = 0.0
    last_dt = 0.0
    since = c.pressure_every  # transport steps since the last pressure solve
    moved = 0.0  # front motion since then: sum of step / shortest filling time
    approaching = True  # until the first solve says
    filling: tuple[float, float] | None = None  # of the present fill under the present fluxes
    try:
        while done < duration * (1 - 1e-12):
            if run.steps >= c.max_steps:
                why = f"the step limit ({c.max_steps}) was reached"
                run.stops.append(_stopped(k, inj, volume, why, done))
                break
            remaining = duration - done
            lag = c.pressure_courant if approaching else c.bulk_pressure_courant
            if since >= c.pressure_every or moved >= lag:
                t_mid = inj.start_s + done + 0.5 * min(last_dt or remaining, remaining)
                system, state, run.p = _pressure(run, t_mid, blocked, rhs)
                flow = _CellFlow.of(run, system, run.p, state)
                since, moved, filling = 0, 0.0, None
                at_tube = _kernels.dot(tube.weight, run.p[tube.source])
                if at_tube > c.limit_kpa * 1e3:
                    why = f"the pressure at the opening would exceed the limit of {c.limit_kpa:g} kPa ({at_tube / 1e3:.0f} kPa)"
                    run.stops.append(_stopped(k, inj, volume, why, done))
                    break
            if filling is None:
                filling = flow.courant(run, blocked, rhs)
                approaching = filling[1] < APPROACH * filling[0]
            shortest, near = filling
            dt = min(remaining, c.max_step_s, c.courant * shortest, c.exit_courant * near)
            if remaining - dt < 1e-9 * duration:
                dt = remaining
            fresh = since == 0
            while True:
                step = flow.step(run, blocked, batch, rhs, dt, run.spare)
                if step.largest <= 1.0 + 1e-8 or dt < 1e-9 * duration:
                    break
                solver.rejected_steps += 1
                if not fresh:  # first try the fluxes of the present fill
                    since = c.pressure_every
                    break
                dt *= 0.5
            if since >= c.pressure_every:
                continue  # re-solve at the present fill, then retry the step
            if watch is not None and _covered(step.cement, watch, c.visible):
                # stop when the exit shows covered, not at the end of the step
                lo, hi = 0.0, dt
                while hi - lo > 1e-3 * dt:
                    mid = 0.5 * (lo + hi)
                    spare = (np.zeros_like(run.fractions), np.zeros(grid.n))
                    trial = flow.step(run, blocked, batch, rhs, mid, spare)
                    if _covered(trial.cement, watch, c.visible):
                        hi, step = mid, trial
                    else:
                        lo = mid
                dt = hi
            since += 1
            moved += dt / shortest
            run.steps += 1
            run.accept(step)
            filling = step.shortest, step.near
            last_dt = dt
            done = duration if dt == remaining else done + dt
            run.books.record(grid, inj.start_s + done, rate * dt, step.out, step.in_body, at_tube)
            if watch is not None and _covered(run.cement, watch, c.visible):
                break
    except _NoWayOut:
        why = "every exit is plugged or holds its cement, so the displaced marrow has no way out"
        run.stops.append(_stopped(k, inj, volume, why, done))
    return done


def _outcome(run: _Run, carried: float) -> str:
    """One sentence on how the run ended."""
    placed = run.books.total_injected * 1e6
    total = run.protocol.total_volume_ml
    if run.stops:
        return "; ".join(run.stops) + f"; {placed:.2f} of {total:.2f} ml placed in all"
    if carried > 1e-9:
        return (
            f"completed: {placed:.2f} of {total:.2f} ml placed; the last "
            f"injection stopped when {run.protocol.injections[-1].until_covered} showed covered "
            f"({carried:.2f} ml not injected)"
        )
    return f"completed: {placed:.2f} of {total:.2f} ml placed"


def _result(run: _Run, vertebra: Vertebra, carried: float, dense: float) -> SimulationResult:
    """The run's result: its books, final fill, films and solver counts."""
    grid, books, fractions = run.grid, run.books, run.fractions
    nb = fractions.shape[1]
    final = fractions.sum(axis=1).reshape(grid.ny, grid.nx)
    summary = films(final, visible=run.control.visible, dense=dense)
    return SimulationResult(
        protocol=run.protocol.name,
        exits=tuple(grid.boundary.names),
        batches=tuple(b.name for b in run.protocol.batches),
        time_s=np.array(books.times),
        injected_ml=np.array(books.injected),
        in_body_ml=np.array(books.body),
        leaked_ml=np.array(books.leaked),
        pressure_kpa=np.array(books.pressure),
        balance_error=np.array(books.balance),
        fraction=final,
        batch_fraction=fractions.T.reshape(nb, grid.ny, grid.nx).copy(),
        depth_mm=vertebra.depth_mm,
        height_mm=vertebra.height_mm,
        fill_fraction=float(grid.pore @ fractions.sum(axis=1)) / float(grid.pore.sum()),
        area_ap_pct=summary.area_ap_pct,
        area_lateral_pct=summary.area_lateral_pct,
        pattern=summary.pattern,
        grade=summary.grade,
        grade_note=summary.grade_note,
        steps=run.steps,
        pressure_solves=run.solver.solves,
        cg_iterations=run.solver.iterations,
        lu_fallbacks=run.solver.fallbacks,
        not_injected_ml=carried,
        outcome=_outcome(run, carried),
        stops=tuple(run.stops),
    )
