"""The default HCMC plan (20 August 2021) shows the tension of August 2021.

The seed's documented anchor (docs/seed.md, "Demand and beds by role"): the seeded hospitals take
60 % of the city's reported 170 t/day, on the curve's anchor date, 19 August, the reporting day
of ``make plan``. Before issue 13's follow-up, 170 t/day was the curve's upper level, reached
only at the end of August, so the plan's hospitals used about 81 t/day against 105.4 t/day of
medical liquid, and a Phú Mỹ outage added no unmet demand (hospital stocks covered it).

The registry and the plans are built as in ``tests/coordination/test_real_supply.py`` (its
fixtures: ``make plan``'s seed, the base plan and the example's plant outage only).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from data.units import OxygenConversions
from tests.coordination.test_real_supply import PHU_MY, _delivered_t, outage, seeded_store

__all__ = ["outage", "seeded_store"]  # fixtures, used by name

M3_PER_T = OxygenConversions().lox_t_to_gas_m3(1.0)


def test_day_0_demand_meets_the_seeds_anchor(outage: tuple[Any, Any]) -> None:
    """60 % of 170 t/day = 102 t/day on day 0 (reports of 19 August, a few carried forward)."""
    base, _ = outage
    day0_t = sum(f.demand_m3_per_day[0] for f in base.forecasts) / M3_PER_T
    assert day0_t == pytest.approx(0.6 * 170.0, rel=0.05), day0_t


def test_medical_liquid_is_nearly_all_used(outage: tuple[Any, Any]) -> None:
    """Once the hospitals' own stocks run down, the week uses most of the medical liquid."""
    base, _ = outage
    liquid_t = sum(s.liquid_t_per_day for s in base.request.suppliers)
    assert liquid_t == pytest.approx(105.4)
    by_day = _delivered_t(base, "bulk_liquid")
    # Over three quarters of the plants' medical liquid on the last day (it was two thirds).
    assert by_day[base.request.horizon_days - 1] > 0.75 * liquid_t, dict(by_day)


def test_phu_my_outage_leaves_liquid_demand_unmet(outage: tuple[Any, Any]) -> None:
    """The Phú Mỹ plants' three days out (days 0-2) leave tank hospitals short, not only moved.

    Without them the other plants give 22.6 t/day; the requirement of day 2 is above it, so
    the plan uses every tonne left and leaves more than 5 t of gas unmet (no capacity left)
    on the outage days (tank hospitals also take cylinders, so hospitals on cylinders alone
    are short too), and nothing new after them.
    """
    base, scenario = outage
    assert sum(s.liquid_t_per_day for s in scenario.request.suppliers) == pytest.approx(105.4)

    def unmet(plan: Any) -> dict[tuple[str, int], float]:
        by_key: dict[tuple[str, int], float] = defaultdict(float)
        for u in plan.allocation.unmet:
            by_key[(u.facility_id, u.day)] += u.unmet_m3
        return by_key

    before, after = unmet(base), unmet(scenario)
    added = {
        key: after[key] - before.get(key, 0.0)
        for key in after
        if after[key] > before.get(key, 0.0) + 1e-6
    }
    assert sum(added.values()) > 5 * M3_PER_T, added
    assert {day for _, day in added} <= {0, 1, 2}
    left_t = sum(
        s.liquid_t_per_day for s in scenario.request.suppliers if s.supplier_id not in PHU_MY
    )
    assert _delivered_t(scenario, "bulk_liquid")[2] == pytest.approx(left_t, rel=0.01)
    assert all(
        str(u.reason) == "no_capacity_left"
        for u in scenario.allocation.unmet
        if (u.facility_id, u.day) in added
    )
    # The outage plants carry nothing on days 0-2, and the base plan used them then.
    assert not any(f.supplier_id in PHU_MY and f.day <= 2 for f in scenario.allocation.flows)
    assert sum(_delivered_t(base, "bulk_liquid", suppliers=PHU_MY).values()) > 0
