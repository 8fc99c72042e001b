"""The vertebral body as a 2D sagittal section: dimensions, bone, exits, filling tube.

Coordinates: ``x`` anteroposterior (0 at the anterior wall, ``depth`` at the
posterior wall), ``y`` superior–inferior (0 at the inferior endplate,
``height`` at the superior endplate), both in mm. The section stands for a
slab of ``thickness_mm`` (lateral extent); volumes in ml are per that slab.

The cortical shell is closed (no flow) except at the *exits*: a cortical
breach (Yeom type C leakage) and the basivertebral-vein foramen on the
posterior wall (type B), each a stretch of wall through which fluid leaves
against a hydraulic resistance.

References
----------
.. [1] Baroud G, Falk R, Crookshank M, Sponagel S, Steffen T. Experimental and
   theoretical investigation of directional permeability of human vertebral
   cancellous bone for cement infiltration. J Biomech. 2004;37:189-196.
   (Permeability 4.45 ± 1.72 × 10⁻⁸ m² superior–inferior, 3.44 ± 1.26 × 10⁻⁸ m²
   anteroposterior.)
.. [2] Yeom JS et al. J Bone Joint Surg Br. 2003;85:83-89 (leakage types B, C, S).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from kypho.errors import SimulationError

__all__ = ["Exit", "Tube", "Vertebra"]

Wall = Literal["anterior", "posterior", "inferior", "superior"]
_WALLS = ("anterior", "posterior", "inferior", "superior")


@dataclass(frozen=True)
class Exit:
    """A stretch of the cortical wall through which fluid can leave the body.

    Attributes
    ----------
    name
        Label (``"breach"``, ``"basivertebral vein"``).
    wall
        ``"anterior"``, ``"posterior"``, ``"inferior"`` or ``"superior"``.
    center_mm
        Centre along the wall (mm from the inferior endplate on the anterior or
        posterior wall; mm from the anterior wall on an endplate).
    size_mm
        Length of the opening in the section (mm).
    resistance_mm
        Hydraulic resistance of the way out beyond the wall, as an equivalent
        length of trabecular bone (mm, with the bone's permeability normal to
        the wall); the fluid leaving carries its own viscosity through it.
    threshold_per_s
        The breach threshold ``β``: cement passes only while the pressure in
        the cell above the exit's exceeds ``β`` times the viscosity of the cement
        in the cell (Pa per Pa·s), and then flows against that excess (a
        Bingham reading: a paste extrudes through a narrow opening only above a
        pressure that grows with its consistency). Below it the face holds the
        cement back and lets the cell's marrow out until the cell is plugged.
    """

    name: str
    wall: Wall
    center_mm: float
    size_mm: float
    resistance_mm: float = 1.0
    threshold_per_s: float = 0.0

    def __post_init__(self) -> None:
        if self.wall not in _WALLS:
            raise SimulationError(
                f"exit {self.name!r}: 'wall' must be one of {', '.join(_WALLS)} (got {self.wall!r})"
            )
        if not self.size_mm > 0 or not self.resistance_mm >= 0 or not self.threshold_per_s >= 0:
            raise SimulationError(
                f"exit {self.name!r}: 'size_mm' must be positive, 'resistance_mm' and 'threshold_per_s' not negative (got {self.size_mm}, {self.resistance_mm}, {self.threshold_per_s})"
            )


@dataclass(frozen=True)
class Tube:
    """The cement filling tube: straight from its entry on the posterior wall to its tip.

    Attributes
    ----------
    tip_mm
        ``(x, y)`` of the tip (mm).
    entry_mm
        ``(x, y)`` where it crosses the posterior wall (the pedicle).
    opening
        ``"forward"`` (the tip's end is open: cement leaves along the tube's
        axis) or ``"side"`` (an opening in the wall just behind the tip).
    side
        Which side a side opening faces: ``"superior"`` or ``"inferior"``.
    diameter_mm
        Outer diameter; the tube's cells are impermeable.
    """

    tip_mm: tuple[float, float]
    entry_mm: tuple[float, float] = (35.0, 16.0)
    opening: Literal["forward", "side"] = "forward"
    side: Literal["superior", "inferior"] = "superior"
    diameter_mm: float = 3.0

    def __post_init__(self) -> None:
        if self.opening not in ("forward", "side"):
            raise SimulationError(
                f"filling tube: 'opening' must be 'forward' or 'side' (got {self.opening!r})"
            )
        if self.side not in ("superior", "inferior"):
            raise SimulationError(
                f"filling tube: 'side' must be 'superior' or 'inferior' (got {self.side!r})"
            )
        length = math.dist(self.tip_mm, self.entry_mm)
        if length < self.diameter_mm:
            raise SimulationError(
                f"filling tube: the tip {self.tip_mm} must lie at least one diameter ({self.diameter_mm} mm) from the entry {self.entry_mm}"
            )


def _default_exits() -> tuple[Exit, ...]:
    return (
        Exit(
            "breach",
            "anterior",
            center_mm=13.5,
            size_mm=4.0,
            resistance_mm=1.0,
            threshold_per_s=5.0,
        ),
        Exit(
            "basivertebral vein",
            "posterior",
            center_mm=11.0,
            size_mm=2.0,
            resistance_mm=10.0,
            threshold_per_s=5.0,
        ),
    )


@dataclass(frozen=True)
class Vertebra:
    """A lumbar vertebral body in sagittal section, with its bone and exits.

    Attributes
    ----------
    depth_mm, height_mm
        Anteroposterior depth and superior–inferior height of the body.
    thickness_mm
        Lateral extent of the slab the section stands for.
    width_mm
        Lateral width of the body (for the AP-film area fraction).
    permeability_si_m2, permeability_ap_m2
        Trabecular permeability superior–inferior and anteroposterior (Baroud
        et al. 2004 [1]_).
    porosity
        Pore fraction of the trabecular bone (osteoporotic).
    marrow_viscosity_pa_s
        Viscosity of the marrow the cement displaces.
    exits
        The ways out (:class:`Exit`).
    cavity_center_mm, cavity_radius_mm
        The balloon's cavity (kyphoplasty): porosity 1 and ``cavity_permeability_factor``
        times the bone's permeability; radius 0 for none.
    cortex_resistance_mm
        The intact cortical shell lets marrow out through its vascular pores:
        every wall face not in an exit drains marrow against this resistance
        (equivalent bone length, mm) until its cell is plugged by cement
        (``plug_fraction``, see :func:`~kypho.simulate.simulate`); it never lets
        cement out (its threshold is infinite). ``math.inf`` closes the shell.
    temperature_c
        Body temperature (°C): cement cures at this temperature's speed once in
        the body (at the room temperature of the protocol before).
    """

    depth_mm: float = 35.0
    height_mm: float = 27.0
    thickness_mm: float = 12.0
    width_mm: float = 45.0
    permeability_si_m2: float = 4.45e-8
    permeability_ap_m2: float = 3.44e-8
    porosity: float = 0.85
    marrow_viscosity_pa_s: float = 0.1
    exits: tuple[Exit, ...] = field(default_factory=_default_exits)
    cavity_center_mm: tuple[float, float] = (17.0, 13.5)
    cavity_radius_mm: float = 4.0
    cavity_permeability_factor: float = 20.0
    temperature_c: float = 37.0
    cortex_resistance_mm: float = 50.0

    def __post_init__(self) -> None:
        for name in (
            "depth_mm",
            "height_mm",
            "thickness_mm",
            "width_mm",
            "permeability_si_m2",
            "permeability_ap_m2",
            "marrow_viscosity_pa_s",
            "cavity_permeability_factor",
        ):
            value = getattr(self, name)
            if not value > 0:
                raise SimulationError(f"vertebra: '{name}' must be a positive number (got {value})")
        if not 0 < self.porosity <= 1:
            raise SimulationError(
                f"vertebra: 'porosity' must be a fraction above 0 and at most 1 (got {self.porosity})"
            )
        if not self.cortex_resistance_mm > 0:
            raise SimulationError(
                f"vertebra: 'cortex_resistance_mm' must be positive (math.inf for a closed shell; got {self.cortex_resistance_mm})"
            )
        if not self.exits:
            raise SimulationError(
                "vertebra: at least one exit is needed (injected cement must displace marrow somewhere)"
            )
        for exit_ in self.exits:
            length = self.height_mm if exit_.wall in ("anterior", "posterior") else self.depth_mm
            if not 0 <= exit_.center_mm <= length:
                raise SimulationError(
                    f"exit {exit_.name!r}: 'center_mm' must lie on the {exit_.wall} wall, from 0 to {length} mm (got {exit_.center_mm})"
                )
