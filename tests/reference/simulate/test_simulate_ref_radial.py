"""The pressure solver against the analytic radial Darcy solution of a point source.

Source: the exact solution p = Qμ/(2πw√(KxKy)) ln(R/ρ) of Darcy's law for a line
source in an anisotropic slab (e.g. Bear J., Dynamics of Fluids in Porous Media,
1972, §7.2, with the stretching x/√Kx, y/√Ky). The two-point flux scheme is second
order, so the error must fall by about 4 per halving of the cell size.
"""

from __future__ import annotations

import pytest

from kypho.simulate.verify import observed_orders, radial_source_error


def test_error_falls_at_second_order_under_refinement() -> None:
    table = observed_orders((21, 41, 81))
    for n, error, order in table:
        print(f"n={n:4d}  relative RMS error {error:.3e}  observed order {order:.3f}")
    orders = [order for _, _, order in table[1:]]
    assert all(1.8 <= order <= 2.3 for order in orders), orders
    assert table[-1][1] < 5e-4


def test_isotropic_case_has_the_same_order() -> None:
    coarse = radial_source_error(21, permeability_x=4e-8, permeability_y=4e-8)
    fine = radial_source_error(41, permeability_x=4e-8, permeability_y=4e-8)
    assert coarse / fine == pytest.approx((41 / 21) ** 2, rel=0.15)
