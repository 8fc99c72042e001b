"""Injection protocols: batches of cement and the injections made from them.

A protocol is a list of batches (each mixed separately, at its own time) and a
sequence of injections ``(start time, volume, rate, batch, tube)``. The paper's
two techniques [1]_ are built by :func:`traditional_protocol` and
:func:`staged_protocol`:

* **traditional**: one batch; a forward-opening tube in the middle of the body;
  all the cement at the "wire-drawing stage";
* **staged** (precise injection and staged perfusion): the tube's opening placed
  at the collapsed cortex (forward-opening for an anterior-wall breach,
  side-opening towards the endplate for an endplate breach), a first small
  volume at the "dough stage" to close the breach; a second batch mixed when
  the first injection ends and injected at its "wire-drawing stage" from the
  middle of the body. Same total volume as the traditional protocol.

References
----------
.. [1] Huang J. et al., the kypho paper (``shared/paper/``), "Surgical technique".
"""

from __future__ import annotations

from dataclasses import dataclass

from kypho.errors import SimulationError
from kypho.simulate.cement import CEMENTS, DOUGH_PA_S, WIRE_DRAWING_PA_S, Cement
from kypho.simulate.geometry import Exit, Tube, Vertebra

__all__ = [
    "Batch",
    "Injection",
    "Protocol",
    "staged_protocol",
    "traditional_protocol",
]


@dataclass(frozen=True)
class Batch:
    """One mix of cement: what cement, and when it was mixed (s on the protocol's clock)."""

    name: str
    cement: Cement
    mixed_at_s: float = 0.0


@dataclass(frozen=True)
class Injection:
    """One injection: ``volume_ml`` of ``batch`` at ``rate_ml_s`` from ``start_s``, through ``tube``.

    ``until_covered`` names an exit: the injection stops early when the
    fluoroscopy would show the cement at that exit (the paper's "the bone
    cortex breach has been closed"); the volume not injected is added to the
    next injection, so the protocol's total stays the same.
    """

    start_s: float
    volume_ml: float
    rate_ml_s: float
    batch: str
    tube: Tube
    until_covered: str | None = None

    @property
    def end_s(self) -> float:
        """When the injection ends (s)."""
        return self.start_s + self.volume_ml / self.rate_ml_s


@dataclass(frozen=True)
class Protocol:
    """Batches and the injections made from them, in time order.

    Attributes
    ----------
    name
        Label (``"traditional"``, ``"staged"``).
    batches
        The batches, each mixed separately.
    injections
        In order of start; they must not overlap in time.
    room_temperature_c
        Temperature of cement still in its syringe (°C).
    """

    name: str
    batches: tuple[Batch, ...]
    injections: tuple[Injection, ...]
    room_temperature_c: float = 23.0

    def __post_init__(self) -> None:
        names = [b.name for b in self.batches]
        if len(set(names)) != len(names):
            raise SimulationError(
                f"protocol {self.name!r}: batch names must be distinct (got {names})"
            )
        if not self.injections:
            raise SimulationError(f"protocol {self.name!r}: at least one injection is needed")
        previous_end = -float("inf")
        for k, inj in enumerate(self.injections, start=1):
            if inj.batch not in names:
                raise SimulationError(
                    f"protocol {self.name!r}, injection {k}: batch {inj.batch!r} is not one of the protocol's batches ({', '.join(names)})"
                )
            if not inj.volume_ml > 0 or not inj.rate_ml_s > 0:
                raise SimulationError(
                    f"protocol {self.name!r}, injection {k}: volume and rate must be positive (got {inj.volume_ml} ml at {inj.rate_ml_s} ml/s)"
                )
            mixed = self.batch(inj.batch).mixed_at_s
            if inj.start_s < mixed:
                raise SimulationError(
                    f"protocol {self.name!r}, injection {k}: starts at {inj.start_s:g} s, before its batch {inj.batch!r} is mixed ({mixed:g} s)"
                )
            if inj.start_s < previous_end - 1e-9:
                raise SimulationError(
                    f"protocol {self.name!r}, injection {k}: starts at {inj.start_s:g} s, before the previous injection ends ({previous_end:g} s)"
                )
            previous_end = inj.end_s

    def batch(self, name: str) -> Batch:
        """The batch called ``name``."""
        for b in self.batches:
            if b.name == name:
                return b
        raise SimulationError(f"protocol {self.name!r} has no batch {name!r}")

    @property
    def total_volume_ml(self) -> float:
        """All the cement injected (ml)."""
        return sum(inj.volume_ml for inj in self.injections)


def _breach(vertebra: Vertebra) -> Exit:
    for exit_ in vertebra.exits:
        if exit_.name == "breach":
            return exit_
    raise SimulationError("the staged protocol needs an exit named 'breach' in the vertebra")


def _middle_tube(vertebra: Vertebra, entry: tuple[float, float]) -> Tube:
    return Tube(tip_mm=vertebra.cavity_center_mm, entry_mm=entry, opening="forward")


def traditional_protocol(
    vertebra: Vertebra,
    *,
    cement: Cement | None = None,
    volume_ml: float = 5.5,
    rate_ml_s: float = 0.1,
    entry_mm: tuple[float, float] | None = None,
) -> Protocol:
    """The control group's technique: one batch at the wire-drawing stage, forward tube.

    Examples
    --------
    >>> p = traditional_protocol(Vertebra())
    >>> [(round(i.start_s), i.volume_ml, i.tube.opening) for i in p.injections]
    [(317, 5.5, 'forward')]
    """
    cement = cement or CEMENTS["low"]
    entry = entry_mm or (vertebra.depth_mm, vertebra.height_mm * 0.6)
    start = cement.age_at(WIRE_DRAWING_PA_S, temperature_c=23.0)
    batch = Batch("A", cement, 0.0)
    tube = _middle_tube(vertebra, entry)
    return Protocol("traditional", (batch,), (Injection(start, volume_ml, rate_ml_s, "A", tube),))


def staged_protocol(
    vertebra: Vertebra,
    *,
    cement: Cement | None = None,
    volume_ml: float = 5.5,
    seal_volume_ml: float = 1.0,
    rate_ml_s: float = 0.1,
    seal_rate_ml_s: float | None = None,
    seal_depth_mm: float = 4.0,
    remix_delay_s: float = 0.0,
    entry_mm: tuple[float, float] | None = None,
) -> Protocol:
    """The experimental technique: seal the breach at the dough stage, then fill.

    Parameters
    ----------
    vertebra
        Must have an exit named ``"breach"``; the first tube's opening is placed
        ``seal_depth_mm`` inside the body from the breach's centre.
    seal_volume_ml
        Most volume of the first (dough-stage) injection; it stops earlier when
        the cement reaches the breach (``until_covered``), and the second
        injection gets the rest of ``volume_ml``.
    remix_delay_s
        Time from the end of the first injection to mixing the second batch.

    Examples
    --------
    >>> p = staged_protocol(Vertebra())
    >>> [(i.batch, i.volume_ml, i.tube.opening) for i in p.injections]
    [('A', 1.0, 'forward'), ('B', 4.5, 'forward')]
    """
    cement = cement or CEMENTS["low"]
    if not 0 < seal_volume_ml < volume_ml:
        raise SimulationError(
            f"staged protocol: 'seal_volume_ml' must be above 0 and below the total volume {volume_ml} ml (got {seal_volume_ml})"
        )
    breach = _breach(vertebra)
    entry = entry_mm or (vertebra.depth_mm, vertebra.height_mm * 0.6)
    d = seal_depth_mm
    if breach.wall == "anterior":
        tip, opening, side = (d, breach.center_mm), "forward", "superior"
    elif breach.wall == "superior":
        tip, opening, side = (breach.center_mm, vertebra.height_mm - d), "side", "superior"
    elif breach.wall == "inferior":
        tip, opening, side = (breach.center_mm, d), "side", "inferior"
    else:
        raise SimulationError(
            "staged protocol: a breach of the posterior wall is outside the paper's technique (anterior wall or endplate)"
        )
    seal_tube = Tube(tip_mm=tip, entry_mm=entry, opening=opening, side=side)  # type: ignore[arg-type]
    seal_rate = seal_rate_ml_s or rate_ml_s
    first_start = cement.age_at(DOUGH_PA_S, temperature_c=23.0)
    first = Injection(
        first_start, seal_volume_ml, seal_rate, "A", seal_tube, until_covered=breach.name
    )
    mixed_b = first.end_s + remix_delay_s
    second_start = mixed_b + cement.age_at(WIRE_DRAWING_PA_S, temperature_c=23.0)
    second = Injection(
        second_start, volume_ml - seal_volume_ml, rate_ml_s, "B", _middle_tube(vertebra, entry)
    )
    return Protocol(
        "staged", (Batch("A", cement, 0.0), Batch("B", cement, mixed_b)), (first, second)
    )
