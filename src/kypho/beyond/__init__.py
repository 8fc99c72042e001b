"""Beyond the paper: power for the next study, trajectories over time, confounding."""

from __future__ import annotations

from kypho.beyond.montecarlo import (
    SimulatedPower,
    simulate_power_means,
    simulate_power_ordinal,
    simulate_power_proportions,
)
from kypho.beyond.power import (
    OrdinalEffect,
    PowerResult,
    ordinal_effect,
    power_means,
    power_ordinal,
    power_proportions,
)

__all__ = [
    "OrdinalEffect",
    "PowerResult",
    "SimulatedPower",
    "ordinal_effect",
    "power_means",
    "power_ordinal",
    "power_proportions",
    "simulate_power_means",
    "simulate_power_ordinal",
    "simulate_power_proportions",
]
