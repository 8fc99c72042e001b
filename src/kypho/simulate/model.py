"""Run an injection protocol on a vertebra: :func:`simulate` and its :class:`SimulationResult`.

Each injection is cut into steps that grow as the cloud grows (step ``k`` of
``N`` ends at ``(k/N)²`` of the injection, so the front moves about as far in
each step). In a step: the viscosity of
each batch at its age, the fluidity of every cell, one pressure solve, the face
fluxes, one implicit transport step for all batches, and the books: injected,
in the body, leaked through each exit (cement only; the marrow pushed out is
not leakage). Between injections nothing flows (the fluids are incompressible
and nothing drives them) but the batches keep curing.

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
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from kypho.errors import SimulationError
from kypho.simulate.flow import PressureSolver, face_fluxes, transport_step
from kypho.simulate.geometry import Vertebra
from kypho.simulate.grid import Grid, build_grid, tube_cells
from kypho.simulate.protocol import Protocol

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SimulationResult", "films", "simulate"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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
    syringe (0 unless the last injection has ``until_covered``).

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
    factorizations: int
    not_injected_ml: float

    @property
    def leaked_total_ml(self) -> float:
        """Cement leaked through the vertebra's exits (breach, veins) by the end (ml).

        Cement counted through the intact ``"cortex"`` (the smeared edge of the
        front, a discretisation effect) is not included: see :attr:`cortex_ml`.
        """
        keep = [k for k, name in enumerate(self.exits) if name != "cortex"]
        return float(self.leaked_ml[-1, keep].sum())

    @property
    def cortex_ml(self) -> float:
        """Cement that crossed the intact cortex at below the plug fraction (ml; numerical)."""
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


def _open_exits(
    grid: Grid, fractions: FloatArray, inverse: FloatArray, pressure: FloatArray, plug: float
) -> BoolArray:
    """Exit faces open this step: cells with little cement always; cement above its threshold.

    The pressure is the previous step's (a lagged switch). If every face would
    close, the one nearest to yielding stays open (the cement yields there).
    """
    b = grid.boundary
    cells = fractions[b.cell]
    cement = cells.sum(axis=1)
    fluid = cells @ inverse
    viscosity = np.divide(cement, fluid, out=np.zeros_like(cement), where=fluid > 0)
    with np.errstate(invalid="ignore"):
        margin = (pressure[b.cell] - b.pressure) - b.threshold * viscosity
    margin = np.where(np.isnan(margin), -np.inf, margin)
    is_open: BoolArray = (cement < plug) | (margin > 0)
    if not is_open.any():
        is_open[int(np.argmax(margin))] = True
    return is_open


def simulate(
    protocol: Protocol,
    vertebra: Vertebra | None = None,
    *,
    nx: int = 100,
    ny: int | None = None,
    steps_per_ml: float = 10.0,
    min_steps: int = 10,
    plug_fraction: float = 0.1,
    visible: float = 0.5,
    dense: float = 0.9,
    grid: Grid | None = None,
) -> SimulationResult:
    """Run ``protocol`` on ``vertebra`` (default :class:`Vertebra`) on an ``nx`` × ``ny`` grid.

    Parameters
    ----------
    nx, ny
        Cells anteroposterior and superior–inferior (``ny`` defaults to the
        body's aspect ratio).
    steps_per_ml, min_steps
        Time steps per ml injected; each injection gets at least ``min_steps``.
    visible, dense
        Thresholds of the film summaries (see the module docstring).
    plug_fraction
        Cement fraction from which an exit cell's cement is held by the exit's
        threshold (below it the cell's fluid is taken as marrow and passes).
    grid
        A grid already built for this vertebra (saves rebuilding it).

    Examples
    --------
    >>> from kypho.simulate.protocol import traditional_protocol
    >>> v = Vertebra()
    >>> r = simulate(traditional_protocol(v), v, nx=28, steps_per_ml=4)
    >>> round(float(r.injected_ml[-1]), 9), bool(r.balance_error.max() < 1e-10)
    (5.5, True)
    """
    vertebra = vertebra or Vertebra()
    if ny is None:
        ny = max(4, round(nx * vertebra.height_mm / vertebra.depth_mm))
    if not steps_per_ml > 0:
        raise SimulationError(f"'steps_per_ml' must be a positive number (got {steps_per_ml})")
    grid = grid or build_grid(vertebra, nx, ny)
    n = grid.n
    solver = PressureSolver(grid)
    names = tuple(b.name for b in protocol.batches)
    nb = len(names)
    ages = _age_functions(protocol, vertebra)
    exit_index = grid.boundary.exit_index
    n_exits = len(grid.boundary.names)
    fractions = np.zeros((n, nb))
    blocked = np.zeros(n, dtype=bool)
    marrow = 1.0 / vertebra.marrow_viscosity_pa_s
    times: list[float] = []
    injected: list[float] = []
    body: list[float] = []
    leaked: list[FloatArray] = []
    pressure: list[float] = []
    balance: list[float] = []
    total_injected = 0.0
    total_leaked = np.zeros(n_exits)
    carried = 0.0
    exit_names = list(grid.boundary.names)
    for inj in protocol.injections:
        tube = tube_cells(grid, inj.tube)
        blocked = tube.blocked
        b = names.index(inj.batch)
        volume = inj.volume_ml + carried
        rate = inj.rate_ml_s * 1e-6
        nsteps = max(min_steps, math.ceil(volume * steps_per_ml - 1e-9))
        duration = volume / inj.rate_ml_s
        # the cloud's front slows as it grows (radius ~ sqrt(volume)): step ends at
        # (k / nsteps)² of the injection, so the Courant number at the front stays level
        ends = duration * (np.arange(1, nsteps + 1) / nsteps) ** 2
        watch = None
        if inj.until_covered is not None:
            if inj.until_covered not in exit_names:
                raise SimulationError(
                    f"injection of batch {inj.batch!r}: 'until_covered' names no exit of the vertebra ({inj.until_covered!r}; exits: {', '.join(exit_names)})"
                )
            watch = grid.boundary.cell[exit_index == exit_names.index(inj.until_covered)]
        rhs = np.zeros(n)
        np.add.at(rhs, tube.source, rate * tube.weight)
        unit_source = np.zeros((n, nb))
        np.add.at(unit_source[:, b], tube.source, rate * tube.weight)
        done = 0.0
        previous = np.zeros(n)
        for k in range(nsteps):
            begin = 0.0 if k == 0 else float(ends[k - 1])
            dt = float(ends[k]) - begin
            source = unit_source * dt
            t_mid = inj.start_s + begin + 0.5 * dt
            inverse = np.array(
                [
                    1.0 / float(pb.cement.viscosity_effective(age(t_mid)))
                    for pb, age in zip(protocol.batches, ages, strict=True)
                ]
            )
            fluidity = (
                fractions @ inverse + np.clip(1.0 - fractions.sum(axis=1), 0.0, None) * marrow
            )
            fluidity[blocked] = 0.0
            exit_open = _open_exits(grid, fractions, inverse, previous, plug_fraction)
            matrix, tx, ty, te = solver.assemble(fluidity, blocked, exit_open)
            p = solver.solve(matrix, rhs)
            previous = p
            fluxes = face_fluxes(solver, p, tx, ty, te)
            fractions, out = transport_step(solver, p, fluxes, fractions, blocked, source, dt)
            total_injected += rate * dt
            total_leaked += np.bincount(exit_index, out.sum(axis=1), n_exits)
            in_body = float(grid.pore @ fractions.sum(axis=1))
            times.append(inj.start_s + float(ends[k]))
            injected.append(total_injected * 1e6)
            body.append(in_body * 1e6)
            leaked.append(total_leaked * 1e6)
            pressure.append(float(tube.weight @ p[tube.source]) / 1e3)
            balance.append(
                abs(total_injected - in_body - float(total_leaked.sum())) / total_injected
            )
            done = float(ends[k])
            if watch is not None and float(fractions[watch].sum(axis=1).min()) >= visible:
                break
        carried = volume - done * inj.rate_ml_s
    leak_exits = list(range(n_exits))
    final = fractions.sum(axis=1).reshape(grid.ny, grid.nx)
    summary = films(final, visible=visible, dense=dense)
    return SimulationResult(
        protocol=protocol.name,
        exits=tuple(grid.boundary.names[k] for k in leak_exits),
        batches=names,
        time_s=np.array(times),
        injected_ml=np.array(injected),
        in_body_ml=np.array(body),
        leaked_ml=np.array(leaked)[:, leak_exits],
        pressure_kpa=np.array(pressure),
        balance_error=np.array(balance),
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
        steps=len(times),
        factorizations=solver.factorizations,
        not_injected_ml=carried,
    )
