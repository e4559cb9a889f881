"""Periods finer than a day in the region's inventory-routing plan (issue 17, rolling horizon).

The instance (``_region``): one plant P (48 t of liquid a day) with one 20 t tanker; tank H, a big
hospital, burns 24,000 kg a day (1,000 kg an hour) from a 22,000 kg tank with a 12 h floor
(12,000 kg): full, it lasts 10 h before reaching its floor, so a day's periods cannot plan it
(22,000 - 24,000 < 12,000), nor 12 h ones (22,000 - 12,000 < 12,000); 8 h ones can (22,000 -
8,000 >= 12,000). Tank A burns 2,000 kg a day from 10,000 kg. Both are 20 km from P (30 min at
40 km/h) and 5 km apart. H starts at 20,000 kg: it reaches its floor at 08:00 on the first day
and needs 8,000 kg in each later 8 h period, three deliveries a day; the plant makes 16,000 kg
in each period, and the tanker (a trip takes about 3 h) can make one or two trips per period.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter

import numpy as np
import pytest

from coordination.irp_periods import (
    choose_period_h,
    day_and_start,
    missing_at_finest_kg,
    starts_at,
    time_label,
)
from coordination.irp_plan import (
    IrpPlant,
    IrpTank,
    IrpTanker,
    RegionIrpInput,
    TankDelivery,
    evaluate_tanks,
    plan_region_irp,
)
from coordination.irp_plan_io import irp_files, irp_plan_to_dict, plan_figures, routes_to_geojson

_KM = 1000.0
_H = IrpTank("H", "Bệnh viện Chợ Rẫy", 22_000, 20_000, 24_000, 106.66, 10.76)
_A = IrpTank("A", "Bệnh viện Nhân dân Gia Định", 10_000, 5_000, 2_000, 106.70, 10.80)


def _region(**changes: object) -> RegionIrpInput:
    ids = ("P", "H", "A")
    distance = np.array(
        [[0, 20 * _KM, 20 * _KM], [20 * _KM, 0, 5 * _KM], [20 * _KM, 5 * _KM, 0]],
        dtype=np.float64,
    )
    problem = RegionIrpInput(
        start_date=dt.date(2021, 8, 20),
        horizon_days=2,
        tanks=(_H, _A),
        plants=(IrpPlant("P", "Nhà máy Phú Mỹ", 48_000, 0, 107.03, 10.59),),
        tankers=(IrpTanker("TK1", 20_000, "P"),),
        place_ids=ids,
        duration_s=distance / 40_000 * 3600,  # 40 km/h
        distance_m=distance,
    )
    return dataclasses.replace(problem, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("capacity_kg", "burn_kg_per_day", "floor_h", "expected"),
    [
        (22_000, 24_000, 12.0, 8),  # lasts 10 h above its 12 h floor: 8 h periods
        (10_000, 24_000, 2.0, 8),  # holds 10 h of burn, floor 2 h: 10 - 8 >= 2
        (10_000, 24_000, 3.0, 6),  # floor 3 h: 10 - 8 < 3, 10 - 6 >= 3
        (30_000, 24_000, 12.0, 12),  # 30 h: 30 - 12 >= 12, 30 - 24 < 12
        (40_000, 24_000, 12.0, 24),  # 40 h: a day's periods hold it
        (8_000, 24_000, 3.0, None),  # 8 h of tank, floor 3 h: 8 - 6 < 3, not even at 6 h
    ],
)
def test_the_longest_period_that_plans_every_tank_is_chosen(
    capacity_kg: float, burn_kg_per_day: float, floor_h: float, expected: int | None
) -> None:
    tank = IrpTank("T", "T", capacity_kg, 0, burn_kg_per_day, floor_h=floor_h)
    assert choose_period_h([tank]) == expected
    # With a tank of days next to it, the plant still needs the finer period.
    assert choose_period_h([tank, _A]) == expected
    assert missing_at_finest_kg(tank) == (pytest.approx(1_000) if expected is None else 0.0)


def test_periods_map_back_to_days_and_local_times() -> None:
    assert [day_and_start(k, 8) for k in range(4)] == [(0, 0), (0, 8), (0, 16), (1, 0)]
    assert day_and_start(5, 24) == (5, 0)
    assert starts_at(dt.date(2021, 8, 20), 1, 16).isoformat() == "2021-08-21T16:00:00+07:00"
    assert time_label(2, 8, 8) == "day 2 08:00-16:00" and time_label(2, 0, 24) == "day 2"


def test_a_tank_lasting_10_hours_is_planned_several_times_a_day() -> None:
    plan = plan_region_irp(_region(), time_limit_s=3, seed=0, max_iterations=200)
    assert plan.period_h == {"H": 8, "A": 8}
    assert not [s for s in plan.shortfalls if s.reason == "tank_too_small"]
    # Supply allows it: no tank ends a period below its floor, so nothing is short.
    assert plan.figures.periods_below_floor == () and plan.figures.below_floor == ()
    assert plan.shortfalls == ()
    to_h = [d for d in plan.deliveries if d.facility_id == "H"]
    per_day = Counter(d.day for d in to_h)
    assert per_day[0] >= 2 and per_day[1] >= 3, per_day  # 16 h, then 24 h at 8,000 kg per 8 h
    assert {d.start_h for d in to_h} <= {0, 8, 16} and all(d.period_h == 8 for d in to_h)
    # The core's count matches the hand count: 8,000 kg per period after the first.
    assert sum(d.quantity_kg for d in to_h) >= 5 * 8_000 - 1
    assert all(r.period_h == 8 and r.start_h in (0, 8, 16) for r in plan.routes)
    # Each tanker day stays within its shift (12 h): the shift holds over a day's periods.
    days: Counter[tuple[int, str]] = Counter()
    for route in plan.routes:
        days[route.day, route.vehicle_id] += int(route.duration_s)
    assert max(days.values()) <= plan.shift_s


def test_the_same_plan_in_daily_periods_would_leave_the_tank_below_its_floor() -> None:
    plan = plan_region_irp(_region(), time_limit_s=3, seed=0, max_iterations=200)
    daily = [dataclasses.replace(d, period_h=24, start_h=0) for d in plan.deliveries]
    # The same kg, all arriving at midnight: the 22,000 kg tank overflows and runs low by night.
    figures = evaluate_tanks(plan.tanks, daily, 2, period_h={"H": 8, "A": 8})
    assert ("H", 0) in figures.below_floor


def test_evaluate_tanks_checks_every_period_end() -> None:
    # H: 20,000 - 8,000 = 12,000 at 08:00; +8,000 -8,000 at 16:00 and midnight; then 4,000 and 0.
    deliveries = [
        TankDelivery(0, "H", "P", "TK1", 8_000, period_h=8, start_h=8),
        TankDelivery(0, "H", "P", "TK1", 8_000, period_h=8, start_h=16),
    ]
    figures = evaluate_tanks([_H], deliveries, 2, period_h={"H": 8})
    assert figures.levels_kg["H"] == (12_000, 0)
    assert figures.periods_below_floor == (("H", 1, 0), ("H", 1, 8), ("H", 1, 16))
    assert figures.below_floor == (("H", 1),)
    assert figures.lowest_hours["H"] == 0.0
    # Checked only at day ends (24 h), the first day looks the same and the second too.
    assert evaluate_tanks([_H], deliveries, 2).below_floor == (("H", 1),)


def test_the_documents_give_each_period_its_start() -> None:
    problem = _region()
    plan = plan_region_irp(problem, time_limit_s=3, seed=0, max_iterations=200)
    document = irp_plan_to_dict(plan, problem)
    assert {t["facility_id"]: t["period_h"] for t in document["tanks"]} == {"H": 8, "A": 8}
    starts = {r["starts_at"] for r in document["routes"]}
    assert starts <= {
        f"2021-08-{day}T{hour}:00+07:00" for day in (20, 21) for hour in ("00", "08", "16")
    }
    assert all(d["period_h"] == 8 for d in document["deliveries"])
    files = irp_files(plan, problem)
    summary = files["irp_summary.txt"]
    assert "periods: 8 h Nhà máy Phú Mỹ (2 tanks)" in summary
    day0 = json.loads(files["irp_routes_day0.json"])
    assert day0["routes"] == [r for r in document["routes"] if r["day"] == 0]
    assert len(day0["routes"]) >= 2  # several trips on the first day
    features = routes_to_geojson(day0)["features"]
    lines = [f for f in features if f["geometry"]["type"] == "LineString"]
    assert [f["properties"]["starts_at"] for f in lines] == [r["starts_at"] for r in day0["routes"]]
    # Plant, stops, plant: [lon, lat] of the places, the road's distance kept.
    first = day0["routes"][0]
    assert lines[0]["geometry"]["coordinates"][0] == [107.03, 10.59]
    assert lines[0]["properties"]["distance_m"] == first["distance_m"]
    stops = [f for f in features if f["properties"]["kind"] == "stop"]
    assert {f["properties"]["name"] for f in stops} <= {_H.name, _A.name}
    assert plan_figures(plan)["tanks_planned"] == 2


def test_a_dispatched_delivery_counts_from_the_period_of_its_eta() -> None:
    """8 h periods: 8,000 kg due at 17:00 on day 0 arrive in period 16:00-24:00, not at 00:00."""
    from coordination.irp_fleet import core_instance, plant_problems
    from coordination.irp_plan import FixedDelivery

    fixed = (FixedDelivery(51, "H", 0, 8_000, vehicle_id="TK9", supplier_id="P", hour=17),)
    problem = _region(fixed=fixed)
    [sub], _ = plant_problems(problem, problem.tanks, {"H": "P", "A": "P"})
    arrivals = core_instance(problem, sub).fixed_arrivals_units
    assert arrivals is not None and sub.period_h == 8
    assert arrivals[:, 1].tolist() == [0, 0, 8_000, 0, 0, 0]  # H's column, periods of 2 days
    plan = plan_region_irp(problem, time_limit_s=3, seed=0, max_iterations=200)
    [kept] = [d for d in plan.deliveries if d.fixed]
    assert (kept.day, kept.start_h, kept.quantity_kg) == (0, 17, 8_000)
    # Counted from 17:00, it cannot keep H at its floor at 08:00 and 16:00: the plan does.
    assert plan.figures.periods_below_floor == ()


def test_a_fixed_delivery_hour_outside_the_day_is_refused() -> None:
    from coordination.irp_plan import FixedDelivery
    from data.errors import InvalidInputError

    fixed = (FixedDelivery(52, "H", 0, 1_000, hour=24),)
    with pytest.raises(InvalidInputError, match=r"fixed\[0\] \(delivery 52\)\.hour: 24"):
        plan_region_irp(_region(fixed=fixed))


def test_in_transit_deliveries_keep_the_local_hour_of_their_eta() -> None:
    from types import SimpleNamespace

    from coordination.irp_plan_io import fixed_deliveries
    from data.reporting import LOCAL_TZ
    from data.schema.live import DeliveryState
    from data.schema.live import Product as DeliveryProduct
    from data.units import OxygenConversions

    def moving(delivery_id: int, eta: dt.datetime | None) -> SimpleNamespace:
        return SimpleNamespace(
            delivery_id=delivery_id, facility_id="H", state=DeliveryState.IN_TRANSIT,
            product=DeliveryProduct.LIQUID, planned_liquid_kg=4_000.0, planned_m3=0.0,
            eta=eta, vehicle_id="TK9", supplier_id="P",
        )  # fmt: skip

    start = dt.date(2021, 8, 20)
    found = fixed_deliveries(
        [
            moving(1, dt.datetime(2021, 8, 21, 10, 30, tzinfo=dt.UTC)),  # 17:30 local, day 1
            moving(2, dt.datetime(2021, 8, 19, 22, 0, tzinfo=LOCAL_TZ)),  # late: now, 00:00
            moving(3, None),
        ],
        {"H"},
        start,
        OxygenConversions(),
    )
    assert [(f.delivery_id, f.day, f.hour) for f in found] == [(1, 1, 17), (2, 0, 0), (3, 0, 0)]
