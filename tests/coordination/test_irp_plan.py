"""The region's inventory-routing plan (issue 17, rolling horizon): a hand-built region.

The instance (``_region``): one plant P with one 20 t tanker; tanks A and B of 10,000 kg, each
20 km from P and 5 km apart, each burning 2,000 kg a day (floor 12 h = 1,000 kg); A holds 2,500
kg (it needs a delivery on day 0), B 5,000 kg (it lasts until day 2). Over 3 days the optimum is
one trip on day 0, P -> A -> B -> P (45 km), leaving A 4,500 kg and B 2,000 kg, just enough to end
day 2 at the floor; two separate trips would drive 80 km.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest

from coordination.irp_plan import (
    FixedDelivery,
    IrpPlant,
    IrpTank,
    IrpTanker,
    RegionIrpInput,
    TankDelivery,
    TankerRoute,
    cut_to_shift,
    evaluate_tanks,
    plan_region_irp,
)
from data.errors import InvalidInputError

_KM = 1000.0


def _region(**changes: object) -> RegionIrpInput:
    ids = ("P", "A", "B")
    distance = np.array(
        [[0, 20 * _KM, 20 * _KM], [20 * _KM, 0, 5 * _KM], [20 * _KM, 5 * _KM, 0]],
        dtype=np.float64,
    )
    problem = RegionIrpInput(
        start_date=dt.date(2021, 8, 20),
        horizon_days=3,
        tanks=(
            IrpTank("A", "Bệnh viện Chợ Rẫy", 10_000, 2_500, 2_000, 106.66, 10.76),
            IrpTank("B", "Bệnh viện Nhân dân Gia Định", 10_000, 5_000, 2_000, 106.70, 10.80),
        ),
        plants=(IrpPlant("P", "Nhà máy Phú Mỹ", 50_000, 0, 107.03, 10.59),),
        tankers=(IrpTanker("TK1", 20_000, "P"),),
        place_ids=ids,
        duration_s=distance / 40_000 * 3600,  # 40 km/h
        distance_m=distance,
    )
    return dataclasses.replace(problem, **changes)  # type: ignore[arg-type]


def test_hand_built_region_gets_one_trip_of_45_km() -> None:
    plan = plan_region_irp(_region(), time_limit_s=2, seed=0)
    assert [(r.day, r.vehicle_id, r.distance_m) for r in plan.routes] == [(0, "TK1", 45 * _KM)]
    quantities = dict(plan.routes[0].stops)
    assert quantities == pytest.approx({"A": 4_500, "B": 2_000}, abs=1)
    assert plan.figures.below_floor == ()
    assert plan.shortfalls == ()
    # Day 2 ends both tanks at the floor: 12 h of burn left.
    assert plan.figures.lowest_hours_to_empty == pytest.approx(12.0, abs=0.05)
    assert plan.first_day_routes() == plan.routes
    assert plan.assignment == {"A": "P", "B": "P"}


def test_dispatched_deliveries_are_never_changed() -> None:
    fixed = (
        FixedDelivery(41, "A", 0, 3_000, vehicle_id="TK9", supplier_id="P"),
        FixedDelivery(42, "B", 1, 1_500, vehicle_id="TK9", supplier_id="P"),
    )
    for seed in (0, 1):
        plan = plan_region_irp(_region(fixed=fixed), time_limit_s=2, seed=seed)
        kept = [d for d in plan.deliveries if d.fixed]
        assert kept == [
            TankDelivery(0, "A", "P", "TK9", 3_000, True, 41),
            TankDelivery(1, "B", "P", "TK9", 1_500, True, 42),
        ]
        assert all(d.delivery_id is None for d in plan.deliveries if not d.fixed)
        # They count as arriving: with 3,000 kg more today, A needs only 1,500 kg more.
        planned = sum(d.quantity_kg for d in plan.deliveries if not d.fixed)
        assert planned == pytest.approx(1_500 + 500, abs=2)
        assert plan.figures.below_floor == ()


def test_a_dispatched_delivery_counts_only_from_the_day_it_arrives() -> None:
    # A (2,500 kg, 2,000 kg a day, floor 1,000) gets 6,000 kg dispatched for day 1. Counted in
    # its starting level (as before), A looked as if it lasted the horizon and ended day 0 at
    # 500 kg, below its floor; as an arrival on day 1, the plan brings A at least 500 kg today.
    fixed = (FixedDelivery(43, "A", 1, 6_000, vehicle_id="TK9", supplier_id="P"),)
    plan = plan_region_irp(_region(fixed=fixed), time_limit_s=2, seed=0)
    today = sum(d.quantity_kg for d in plan.deliveries if d.facility_id == "A" and d.day == 0)
    assert today >= 500 - 1
    assert plan.figures.below_floor == ()
    assert [d for d in plan.deliveries if d.fixed] == [
        TankDelivery(1, "A", "P", "TK9", 6_000, True, 43)
    ]


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        # negative consumption
        ({"burn_kg_per_day": -5.0}, "tanks[0] (A).burn_kg_per_day", "-5.0"),
        # a level that is not a number
        ({"level_kg": math.nan}, "tanks[0] (A).level_kg", "nan"),
        # no tank at all
        ({"capacity_kg": 0.0}, "tanks[0] (A).capacity_kg", "0"),
    ],
)
def test_bad_tanks_are_refused_naming_the_field(
    changes: dict[str, float], field: str, value: str
) -> None:
    region = _region()
    bad = dataclasses.replace(region.tanks[0], **changes)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"inventory-routing problem") as caught:
        plan_region_irp(dataclasses.replace(region, tanks=(bad, region.tanks[1])))
    assert field in str(caught.value)
    assert value in str(caught.value)


def test_a_tanker_of_an_unknown_plant_and_a_short_matrix_are_refused() -> None:
    region = _region(tankers=(IrpTanker("TK1", 20_000, "Q"),), place_ids=("P", "A", "B", "X"))
    with pytest.raises(InvalidInputError) as caught:
        plan_region_irp(region)
    text = str(caught.value)
    assert "tankers[0] (TK1).home_plant_id: 'Q' is not a plant" in text
    assert "duration_s: shape (3, 3) does not match 4 place_ids" in text


def test_a_tank_smaller_than_its_floor_is_a_shortfall_with_its_reason() -> None:
    region = _region()
    # 1,200 kg of tank for a 1,000 kg floor and 2,000 kg a day (500 kg in 6 h): it cannot be
    # planned even in periods of 6 h; it lacks 1,000 + 500 - 1,200 = 300 kg of tank.
    small = dataclasses.replace(region.tanks[1], capacity_kg=1_200, level_kg=1_200)
    plan = plan_region_irp(
        dataclasses.replace(region, tanks=(region.tanks[0], small)), time_limit_s=2
    )
    reasons = {(s.facility_id, s.day): s for s in plan.shortfalls}
    assert reasons["B", None].reason == "tank_too_small"
    assert reasons["B", None].missing_kg == pytest.approx(300)
    assert "more often than every 6 hours" in reasons["B", None].message_en
    assert "thường xuyên hơn mỗi 6 giờ" in reasons["B", None].message_vi
    assert plan.period_h == {"A": 24}  # A's plant keeps days: B is not in its problem
    assert {f for r in plan.routes for f, _ in r.stops} == {"A"}  # A is still served
    assert ("B", 0) in plan.figures.below_floor  # its days below the floor are counted


def test_an_unreachable_facility_is_a_shortfall_not_a_crash() -> None:
    region = _region()
    distance = region.distance_m.copy()
    distance[0, 2] = distance[2, 0] = math.inf
    duration = region.duration_s.copy()
    duration[0, 2] = duration[2, 0] = math.inf
    plan = plan_region_irp(
        dataclasses.replace(region, distance_m=distance, duration_s=duration), time_limit_s=2
    )
    assert [(s.facility_id, s.reason) for s in plan.shortfalls if s.day is None] == [
        ("B", "unreachable")
    ]
    assert "B" not in plan.assignment
    assert {f for r in plan.routes for f, _ in r.stops} == {"A"}


def test_a_plant_that_cannot_cover_the_tanks_gives_shortfalls_by_day() -> None:
    plant = IrpPlant("P", "Nhà máy Phú Mỹ", 1_000, 0, 107.03, 10.59)
    plan = plan_region_irp(_region(plants=(plant,)), time_limit_s=2)
    depot = [s for s in plan.shortfalls if s.reason == "depot"]
    assert depot, plan.shortfalls
    assert all(s.day is not None and s.missing_kg > 0 for s in depot)


def test_each_trip_is_planned_within_the_shift() -> None:
    # 3 h: loading (1 h), 30 min to A, its fill (55 min) and 30 min back fit (2 h 55 min);
    # going on to B would end the trip at 3 h 57 min. The core (route-duration limit) plans A
    # today and B, which lasts until day 2, on its own trip that day: nothing is cut.
    plan = plan_region_irp(_region(shift_s=3 * 3600), time_limit_s=2)
    assert [(r.day, r.stops[0][0], len(r.stops)) for r in plan.routes] == [
        (0, "A", 1),
        (2, "B", 1),
    ]
    assert [r.distance_m for r in plan.routes] == [40 * _KM, 40 * _KM]
    assert all(r.duration_s <= 3 * 3600 for r in plan.routes)
    assert plan.shortfalls == ()
    assert plan.figures.below_floor == ()
    assert plan.solver["planned_trips_over_shift"] == 0


def test_a_tank_no_trip_reaches_within_the_shift_is_a_shift_shortfall() -> None:
    # 2 h 30 min: even the 2 h 55 min trip to A alone does not fit; A, which needs a delivery
    # today, is short from day 0 (the core's "duration" reason, read "shift").
    plan = plan_region_irp(_region(shift_s=9_000), time_limit_s=2)
    assert plan.routes == ()
    shift = [s for s in plan.shortfalls if s.reason == "shift"]
    assert ("A", 0) in {(s.facility_id, s.day) for s in shift}
    assert all(s.missing_kg > 0 for s in shift)
    assert "shift ends" in shift[0].message_en and "ca làm việc" in shift[0].message_vi


def test_cut_to_shift_still_keeps_a_tanker_day_of_several_trips() -> None:
    # Each trip fits a 3 h shift (2 h 55 min), two in a row do not: the second is cut.
    problem = _region(shift_s=3 * 3600)
    trips = [
        TankerRoute(0, "TK1", "P", ((facility, 1_000.0),), 20_000, 40 * _KM, 3_600, trip=k)
        for k, facility in ((1, "A"), (2, "B"))
    ]
    kept, cut = cut_to_shift(problem, trips)
    assert [r.stops for r in kept] == [(("A", 1_000.0),)]
    assert [(s.facility_id, s.day, s.reason, s.missing_kg) for s in cut] == [
        ("B", 0, "shift", 1_000.0)
    ]


def test_evaluate_tanks_counts_days_below_the_floor() -> None:
    tank = IrpTank("A", "A", 10_000, 2_500, 2_000)
    figures = evaluate_tanks([tank], [TankDelivery(1, "A", "P", "TK1", 9_000)], 3)
    # 500 (below 1,000), then min(500 + 9,000, 10,000) - 2,000 = 7,500, then 5,500.
    assert figures.levels_kg["A"] == (500, 7_500, 5_500)
    assert figures.below_floor == (("A", 0),)
    assert figures.lowest_hours["A"] == pytest.approx(6.0)
    assert figures.empty_days == 0
    dry = evaluate_tanks([IrpTank("D", "D", 10_000, 1_000, 2_000)], [], 2)
    assert dry.levels_kg["D"] == (0, 0) and dry.empty_days == 2
    assert dry.lowest_hours_to_empty == 0
