"""Beyond the paper: power for the next study, trajectories over time, confounding."""

from __future__ import annotations

from kypho.beyond.confounding import (
    ConfoundingResult,
    adjust_for_confounding,
    ordinal_logit,
    plot_love,
    propensity_analysis,
)
from kypho.beyond.montecarlo import (
    SimulatedPower,
    simulate_power_means,
    simulate_power_ordinal,
    simulate_power_proportions,
)
from kypho.beyond.planning import (
    Endpoint,
    analytic_power,
    endpoints_from_data,
    endpoints_from_summary,
    plot_power_curves,
    simulated_power,
)
from kypho.beyond.power import (
    OrdinalEffect,
    PowerResult,
    ordinal_effect,
    power_means,
    power_ordinal,
    power_proportions,
)
from kypho.beyond.report import report_section
from kypho.beyond.trajectories import (
    TrajectoryResult,
    fit_trajectory,
    mixed_model,
    plot_trajectory,
)

__all__ = [
    "ConfoundingResult",
    "Endpoint",
    "OrdinalEffect",
    "PowerResult",
    "SimulatedPower",
    "TrajectoryResult",
    "adjust_for_confounding",
    "analytic_power",
    "endpoints_from_data",
    "endpoints_from_summary",
    "fit_trajectory",
    "mixed_model",
    "ordinal_effect",
    "ordinal_logit",
    "plot_love",
    "plot_power_curves",
    "plot_trajectory",
    "power_means",
    "power_ordinal",
    "power_proportions",
    "propensity_analysis",
    "report_section",
    "simulate_power_means",
    "simulate_power_ordinal",
    "simulate_power_proportions",
    "simulated_power",
]
