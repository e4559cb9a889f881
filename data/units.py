"""Oxygen unit conversions (liquid, cylinders, gas) with their sources, in one place.

Every gas volume in oxyroute is m³ at normal conditions (1 atm, 15 °C), suffix ``_m3``.
The factors below come from ``../shared/oxygen-parameters.md`` (section "Unit conversions");
planners override them by passing their own :class:`OxygenConversions`.

Sources
-------
- LOX density 1.141 kg/L: dswgascylinder.com LOX conversion table.
- 1 kg LOX -> 0.70 Nm³ (0 °C), 0.74 m³ at 15 °C, 0.75 m³ at 20 °C: the same table, from O2 gas
  densities 1.429 / 1.354 / 1.331 kg/m³. Vietnam's Ministry of Health quoted 851,000 m³/day for
  1,300 t/day (about 655 m³/t), so the factor is a setting; the default is 700 m³/t as
  oxygen-parameters.md advises.
- 1 L LOX -> about 860 L gas (Wikipedia "Expansion ratio"; 861 in the PATH/CHAI VIE brief).
- 40 L cylinder at 150 bar -> about 6.0 m³ (ideal 5.9; Vietnamese press rule
  "6 L @ 150 bar = 900 L"); the common Vietnamese hospital cylinder. Other sizes scale with water
  volume at the same fill pressure.
- WHO/EBC "large cylinder" about 7 m³; UK/EU J-type about 6.8 m³.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from data.errors import InvalidInputError

LITRES_PER_M3 = 1000.0
MINUTES_PER_DAY = 24 * 60


def _is_positive_finite(value: object) -> bool:
    # Not bool (true would be a factor of 1), and an int too large for a float is not finite
    # (math.isfinite raises OverflowError on it).
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and value > 0
    except OverflowError:
        return False


def _default_cylinder_sizes() -> dict[str, float]:
    # Water volume (L) -> gas content (m³) at 150 bar, scaled from 40 L = 6.0 m³
    # (oxygen-parameters.md).
    return {f"{litres}L": round(litres * 6.0 / 40.0, 3) for litres in (2, 5, 8, 10, 14, 40)}


@dataclass(frozen=True, slots=True)
class OxygenConversions:
    """Conversion factors between liquid oxygen, cylinders and gas.

    Parameters
    ----------
    gas_m3_per_lox_t
        Gas m³ obtained from one tonne of liquid oxygen (default 700, Nm³ per tonne).
    lox_kg_per_l
        Density of liquid oxygen (default 1.141 kg/L).
    cylinder_gas_m3
        Gas content of one full cylinder by size label (default "40L" = 6.0 m³, others scaled).
    """

    gas_m3_per_lox_t: float = 700.0
    lox_kg_per_l: float = 1.141
    cylinder_gas_m3: dict[str, float] = field(default_factory=_default_cylinder_sizes)

    def __post_init__(self) -> None:
        problems = []
        # Generous bounds around the physical values (700 m³/t, 1.141 kg/L, 6 m³ per 40 L
        # cylinder): a planner's override may differ, but a factor such as 5e-324 turned every
        # quantity in tonnes into infinity.
        for name, low, high in (("gas_m3_per_lox_t", 1.0, 1e5), ("lox_kg_per_l", 0.01, 100.0)):
            value = getattr(self, name)
            if not _is_positive_finite(value):
                problems.append(f"{name}: must be a positive finite number, got {value!r}")
            elif not low <= value <= high:
                problems.append(f"{name}: must be between {low:g} and {high:g}, got {value!r}")
        for size, gas_m3 in self.cylinder_gas_m3.items():
            if not _is_positive_finite(gas_m3):
                problems.append(f"cylinder_gas_m3[{size!r}]: must be positive, got {gas_m3!r}")
            elif not 1e-3 <= gas_m3 <= 1e4:
                problems.append(
                    f"cylinder_gas_m3[{size!r}]: must be between 0.001 and 10000 m³, got {gas_m3!r}"
                )
        if problems:
            raise InvalidInputError.from_problems("oxygen conversions", problems)

    def lox_t_to_gas_m3(self, lox_t: float) -> float:
        """Convert tonnes of liquid oxygen to m³ of gas."""
        return lox_t * self.gas_m3_per_lox_t

    def gas_m3_to_lox_t(self, gas_m3: float) -> float:
        """Convert m³ of gas to tonnes of liquid oxygen."""
        return gas_m3 / self.gas_m3_per_lox_t

    def lox_l_to_gas_m3(self, lox_l: float) -> float:
        """Convert litres of liquid oxygen to m³ of gas (through the density)."""
        return self.lox_t_to_gas_m3(lox_l * self.lox_kg_per_l / 1000.0)

    def cylinders_to_gas_m3(self, count: float, size: str = "40L") -> float:
        """Convert a number of full cylinders of ``size`` to m³ of gas.

        Raises
        ------
        InvalidInputError
            If ``size`` is not a known cylinder size.
        """
        try:
            per_cylinder_m3 = self.cylinder_gas_m3[size]
        except KeyError:
            known = ", ".join(sorted(self.cylinder_gas_m3))
            raise InvalidInputError(
                f"cylinder size: unknown size {size!r}; known sizes: {known}"
            ) from None
        return count * per_cylinder_m3


def flow_l_per_min_to_m3_per_day(flow_l_per_min: float) -> float:
    """Convert a continuous flow in L/min to m³/day (24 h, the WHO planning convention)."""
    return flow_l_per_min * MINUTES_PER_DAY / LITRES_PER_M3
