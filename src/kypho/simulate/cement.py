"""Bone-cement curing: viscosity as a function of the cement's own age since mixing.

A PMMA cement's viscosity rises roughly exponentially with the time since the
powder and the monomer were mixed, until it sets [1]_ [2]_. Curing is faster
when warmer: Nicholas et al. [1]_ measured curing times about halved between
25 °C and 37 °C. kypho's curve, per cement and temperature:

.. math::

    \\mu(a) = \\min\\bigl(\\mu_{\\mathrm{ref}}\\,
              e^{(s a - a_{\\mathrm{ref}})/\\tau},\\; \\mu_{\\max}\\bigr),
    \\qquad s = r\\,2^{(T - T_{\\mathrm{ref}})/\\Delta T_{1/2}},

with ``a`` the age since mixing (s), ``s`` the curing speed-up at temperature
``T`` (``r`` a free curing-rate factor for sensitivity analyses), and the cement
treated as set (viscosity ``μ_max``) from ``s a ≥ a_set``.

The stage names of the paper ("wire-drawing stage", "dough stage") carry no
number in the paper. kypho reads them as the ages at which the viscosity
reaches :data:`WIRE_DRAWING_PA_S` and :data:`DOUGH_PA_S` (configurable).

References
----------
.. [1] Nicholas MKD, Waters MGJ, Holford KM, Adusei G. Analysis of rheological
   properties of bone cements. J Mater Sci Mater Med. 2007;18:1407-1412.
   (CMW 1 cured in 8.7 min, Palacos R and Cemex in 13 min at 25 °C; curing
   about twice as fast at 37 °C; all reached about 75 × 10³ Pa·s.)
.. [2] Lewis G. Viscoelastic properties of injectable bone cements for
   orthopaedic applications: state-of-the-art review. J Biomed Mater Res B.
   2011;98B:171-191.
.. [3] Koh BTH, Tan JH, Ramruttun AK, Wang W. Effect of storage temperature and
   equilibration time on PMMA bone cement polymerization in joint replacement
   surgery. J Orthop Surg Res. 2015;10:178. (SmartSet HV: setting 534 ± 17 s
   stored at 20 °C, 381 ± 8 s stored at 28 °C after 15 min equilibration.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from kypho.errors import SimulationError

__all__ = ["CEMENTS", "DOUGH_PA_S", "WIRE_DRAWING_PA_S", "Cement"]

#: Viscosity (Pa·s) read as the start of the "wire-drawing stage" (kypho's reading).
WIRE_DRAWING_PA_S = 60.0
#: Viscosity (Pa·s) read as the start of the "dough stage" (kypho's reading).
DOUGH_PA_S = 600.0


@dataclass(frozen=True)
class Cement:
    """A cement's curing curve (see the module docstring for the formula).

    Attributes
    ----------
    name
        Label used in tables and figures.
    viscosity_ref_pa_s
        Viscosity ``μ_ref`` at age ``age_ref_s`` at the reference temperature.
    age_ref_s
        Age of the reference viscosity (s since mixing).
    efold_s
        ``τ``: time for the viscosity to grow by a factor e (s); ``math.inf``
        for a cement that does not cure (a Newtonian test fluid).
    set_s
        Setting time at the reference temperature (s); ``math.inf`` for never.
    viscosity_max_pa_s
        Viscosity of set cement, ``μ_max`` (Nicholas et al.: about 75 × 10³ Pa·s).
    temperature_ref_c, halving_c
        Reference temperature and the warming that halves curing times (°C).
    curing_rate
        Free factor ``r`` on the curing speed (1 = as published).
    source
        Where the numbers come from.
    """

    name: str
    viscosity_ref_pa_s: float
    age_ref_s: float
    efold_s: float
    set_s: float
    viscosity_max_pa_s: float = 75e3
    temperature_ref_c: float = 23.0
    halving_c: float = 12.0
    curing_rate: float = 1.0
    source: str = ""

    def __post_init__(self) -> None:
        for field, value in (
            ("viscosity_ref_pa_s", self.viscosity_ref_pa_s),
            ("efold_s", self.efold_s),
            ("set_s", self.set_s),
            ("viscosity_max_pa_s", self.viscosity_max_pa_s),
            ("halving_c", self.halving_c),
            ("curing_rate", self.curing_rate),
        ):
            if not value > 0:
                raise SimulationError(
                    f"cement {self.name!r}: '{field}' must be a positive number (got {value})"
                )
        if self.viscosity_max_pa_s < self.viscosity_ref_pa_s:
            raise SimulationError(
                f"cement {self.name!r}: 'viscosity_max_pa_s' ({self.viscosity_max_pa_s}) must be at least 'viscosity_ref_pa_s' ({self.viscosity_ref_pa_s})"
            )

    def speed(self, temperature_c: float) -> float:
        """Curing speed-up ``s`` at ``temperature_c`` relative to the reference."""
        return float(
            self.curing_rate * 2.0 ** ((temperature_c - self.temperature_ref_c) / self.halving_c)
        )

    def viscosity(
        self, age_s: npt.ArrayLike, *, temperature_c: float = 23.0
    ) -> npt.NDArray[np.float64]:
        """Viscosity (Pa·s) at ``age_s`` seconds after mixing.

        Examples
        --------
        >>> c = CEMENTS["low"]
        >>> round(float(c.viscosity(c.age_ref_s)), 6) == c.viscosity_ref_pa_s
        True
        >>> float(c.viscosity(3600.0))  # set
        75000.0
        """
        age = np.asarray(age_s, dtype=np.float64)
        return self.viscosity_effective(age * self.speed(temperature_c))

    def viscosity_effective(self, effective_age_s: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Viscosity (Pa·s) at an *effective* age: seconds of curing at the reference temperature.

        A batch that sits in the syringe at room temperature and then in the body
        accumulates effective age at each temperature's speed (:meth:`speed`).
        """
        eff = np.asarray(effective_age_s, dtype=np.float64)
        if math.isinf(self.efold_s):
            mu = np.full_like(eff, self.viscosity_ref_pa_s)
        else:
            with np.errstate(over="ignore"):
                mu = self.viscosity_ref_pa_s * np.exp((eff - self.age_ref_s) / self.efold_s)
        mu = np.minimum(mu, self.viscosity_max_pa_s)
        return np.where(eff >= self.set_s, self.viscosity_max_pa_s, mu)

    def age_at(self, viscosity_pa_s: float, *, temperature_c: float = 23.0) -> float:
        """Age (s) at which the viscosity reaches ``viscosity_pa_s`` (0 if already above).

        Examples
        --------
        >>> c = CEMENTS["low"]
        >>> round(float(c.viscosity(c.age_at(WIRE_DRAWING_PA_S))), 6)
        60.0
        """
        if math.isinf(self.efold_s):
            if viscosity_pa_s <= self.viscosity_ref_pa_s:
                return 0.0
            raise SimulationError(
                f"cement {self.name!r} does not cure: it never reaches {viscosity_pa_s} Pa·s"
            )
        eff = self.age_ref_s + self.efold_s * math.log(viscosity_pa_s / self.viscosity_ref_pa_s)
        return max(0.0, min(eff, self.set_s) / self.speed(temperature_c))

    def with_rate(self, curing_rate: float) -> Cement:
        """The same cement with another curing-rate factor."""
        return replace(self, curing_rate=curing_rate)


#: Curing curves used by default. The curve shapes follow the sources above;
#: the reference viscosities of the two classes are kypho's assumption within
#: the range those sources describe (low-viscosity cements are liquid for the
#: first minutes, high-viscosity cements are doughy almost from mixing).
CEMENTS: dict[str, Cement] = {
    "low": Cement(
        name="low-viscosity PMMA",
        viscosity_ref_pa_s=10.0,
        age_ref_s=120.0,
        efold_s=110.0,
        set_s=840.0,
        source="curve shape: Nicholas et al. 2007, Lewis 2011; reference viscosity assumed",
    ),
    "high": Cement(
        name="high-viscosity PMMA",
        viscosity_ref_pa_s=200.0,
        age_ref_s=120.0,
        efold_s=150.0,
        set_s=780.0,
        source="curve shape: Nicholas et al. 2007, Lewis 2011; reference viscosity assumed",
    ),
}
