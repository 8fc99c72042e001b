"""Beyond the paper: power for the next study, trajectories over time, confounding."""

from __future__ import annotations

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
    "ordinal_effect",
    "power_means",
    "power_ordinal",
    "power_proportions",
]
