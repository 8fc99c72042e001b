"""An in-silico model of bone-cement perfusion in a vertebral body (``kypho simulate``).

Two-fluid Darcy flow (cement displacing marrow) in a 2D sagittal section with
anisotropic trabecular permeability; each batch of cement cures with its own
age since mixing; a cortical breach and the basivertebral vein are exits; the
filling tube opens forward or to the side. See ``docs/simulate.md`` for the
equations, every parameter's source, the verification and the calibration.

It is a model with stated assumptions, not evidence about patients.
"""

from __future__ import annotations

from kypho.simulate.cement import CEMENTS, DOUGH_PA_S, WIRE_DRAWING_PA_S, Cement
from kypho.simulate.geometry import Exit, Tube, Vertebra
from kypho.simulate.model import PRESSURE_LIMIT_KPA, SimulationResult, films, simulate
from kypho.simulate.protocol import (
    Batch,
    Injection,
    Protocol,
    staged_protocol,
    traditional_protocol,
)

__all__ = [
    "CEMENTS",
    "DOUGH_PA_S",
    "PRESSURE_LIMIT_KPA",
    "WIRE_DRAWING_PA_S",
    "Batch",
    "Cement",
    "Exit",
    "Injection",
    "Protocol",
    "SimulationResult",
    "Tube",
    "Vertebra",
    "films",
    "simulate",
    "staged_protocol",
    "traditional_protocol",
]
