"""The region's tank plan follows the demand projection's trend, day by day (issue 17, item 1).

A surge is the case the inventory routing must see coming: a tank whose burn doubles over the
horizon needs more, sooner, than today's burn says. Region of tests/coordination/test_irp_plan.py
(plant P, tanks A and B of 10,000 kg, 2,000 kg a day today, floor 12 h = 1,000 kg).
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from coordination.irp_plan import TankDelivery, evaluate_tanks, plan_region_irp
from coordination.irp_plan_io import burn_growth
from data.errors import InvalidInputError
from tests.coordination.test_irp_plan import _region

SURGE = (1.0, 1.5, 2.0)  # B burns 2,000, 3,000 then 4,000 kg


def _surging_b() -> object:
    region = _region()
    b = dataclasses.replace(region.tanks[1], burn_growth=SURGE)
    return dataclasses.replace(region, tanks=(region.tanks[0], b))


def test_levels_follow_the_burn_of_each_day() -> None:
    region = _surging_b()
    b = region.tanks[1]  # type: ignore[attr-defined]
    figures = evaluate_tanks([b], [TankDelivery(1, "B", "P", "TK1", 3_000)], 3)
    # 5,000 - 2,000 = 3,000; + 3,000 - 3,000 = 3,000; - 4,000 -> empty (never below zero).
    assert figures.levels_kg["B"] == pytest.approx((3_000, 3_000, 0))
    assert figures.below_floor == (("B", 2),)
    assert figures.lowest_hours["B"] == 0
    enough = evaluate_tanks([b], [TankDelivery(1, "B", "P", "TK1", 5_000)], 3)
    assert enough.levels_kg["B"] == pytest.approx((3_000, 5_000, 1_000))
    # Hours to empty by each day's own burn: 36 h, 40 h, then 1,000 kg at 4,000 kg a day = 6 h
    # (12 h at today's burn).
    assert enough.lowest_hours["B"] == pytest.approx(6.0)
    assert enough.below_floor == ()


def test_a_surging_tank_gets_enough_before_it_runs_low() -> None:
    steady = plan_region_irp(_region(), time_limit_s=2, seed=0)
    steady_b = sum(d.quantity_kg for d in steady.deliveries if d.facility_id == "B")
    assert steady_b == pytest.approx(2_000, abs=1)  # enough for 2,000 kg a day, not the surge
    plan = plan_region_irp(_surging_b(), time_limit_s=2, seed=0)  # type: ignore[arg-type]
    to_b = sum(d.quantity_kg for d in plan.deliveries if d.facility_id == "B")
    # 9,000 kg burnt over three days from 5,000, ending day 2 at the 1,000 kg floor.
    assert to_b >= 5_000 - 1
    assert plan.figures.below_floor == ()
    assert plan.shortfalls == ()


def test_growth_comes_from_the_projection_relative_to_day_0() -> None:
    forecasts = [
        SimpleNamespace(facility_id="A", demand_m3_per_day=(100.0, 110.0, 121.0)),
        SimpleNamespace(facility_id="U", demand_m3_per_day=(0.0, 0.0, 0.0)),  # unknown demand
    ]
    assert burn_growth(forecasts) == {"A": (1.0, 1.1, 1.21)}


def test_a_bad_growth_factor_is_refused_naming_the_field() -> None:
    region = _region()
    bad = dataclasses.replace(region.tanks[0], burn_growth=(1.0, -2.0))
    with pytest.raises(InvalidInputError, match=r"tanks\[0\] \(A\)\.burn_growth"):
        plan_region_irp(dataclasses.replace(region, tanks=(bad, region.tanks[1])))
