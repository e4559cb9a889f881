"""The region's inventory routing on a plant's whole fleet (issue 17): tankers of two sizes.

The instance (``_two_sizes``): plant P with a 20 t tanker (TK20) and a 5 t one (TK5), a 6 h
shift (one typical trip a day each); tank A, 20 km east of P, burning 16,000 kg a day with 8,000
kg left (its 12 h floor), needs 16,000 kg today; tank B, 20 km north, burning 4,400 kg with
2,200 kg left, needs 4,400 kg. Together 20,400 kg: more than the 20 t tanker carries, so the
only plan keeping both floors is TK20 -> A and TK5 -> B (40 km each, 80 km). With the largest
class only, as before, B would be short.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest

from coordination.irp_fleet import assign_trips, core_instance, plant_problems
from coordination.irp_plan import (
    IrpPlant,
    IrpTank,
    IrpTanker,
    RegionIrpInput,
    TankerRoute,
    plan_region_irp,
)

_KM = 1000.0


def _two_sizes(**changes: object) -> RegionIrpInput:
    diagonal = math.hypot(20, 20) * _KM
    distance = np.array(
        [[0, 20 * _KM, 20 * _KM], [20 * _KM, 0, diagonal], [20 * _KM, diagonal, 0]],
        dtype=np.float64,
    )
    problem = RegionIrpInput(
        start_date=dt.date(2021, 8, 20),
        horizon_days=1,
        tanks=(
            IrpTank("A", "Bệnh viện Chợ Rẫy", 30_000, 8_000, 16_000, 106.66, 10.76),
            IrpTank("B", "Bệnh viện Nhân dân Gia Định", 10_000, 2_200, 4_400, 106.70, 10.80),
        ),
        plants=(IrpPlant("P", "Nhà máy Phú Mỹ", 30_000, 0, 107.03, 10.59),),
        tankers=(IrpTanker("TK5", 5_000, "P"), IrpTanker("TK20", 20_000, "P")),
        place_ids=("P", "A", "B"),
        duration_s=distance / 40_000 * 3600,  # 40 km/h
        distance_m=distance,
        shift_s=6 * 3600,
    )
    return dataclasses.replace(problem, **changes)  # type: ignore[arg-type]


def test_every_tanker_of_the_plant_is_a_vehicle_of_its_own_capacity() -> None:
    problem = _two_sizes(shift_s=12 * 3600)  # room for three typical trips a day
    subs, unused = plant_problems(problem, problem.tanks, {"A": "P", "B": "P"})
    assert unused == []
    [sub] = subs
    assert [t.vehicle_id for t in sub.tankers] == ["TK20", "TK5"]  # largest first
    assert sub.trips_per_tanker == 3
    instance = core_instance(problem, sub)
    assert instance.vehicle_capacities_units is not None
    assert instance.vehicle_capacities_units.tolist() == [20_000] * 3 + [5_000] * 3
    assert instance.vehicle_capacity_units == 20_000
    assert [sub.vehicle_tanker(k).vehicle_id for k in (1, 3, 4, 6)] == [
        "TK20",
        "TK20",
        "TK5",
        "TK5",
    ]


def test_the_small_tanker_serves_what_the_large_one_cannot_carry() -> None:
    plan = plan_region_irp(_two_sizes(), time_limit_s=2, seed=0)
    served = {
        facility: (route.vehicle_id, route.capacity_kg)
        for route in plan.routes
        for facility, _ in route.stops
    }
    assert served == {"A": ("TK20", 20_000), "B": ("TK5", 5_000)}
    assert all(route.load_kg <= route.capacity_kg + 1e-6 for route in plan.routes)
    assert sum(route.distance_m for route in plan.routes) == pytest.approx(80 * _KM)
    assert plan.unused_tankers == ()
    assert plan.shortfalls == ()
    assert plan.figures.below_floor == ()


def test_a_plant_without_tanks_still_lists_its_tankers_as_unused() -> None:
    problem = _two_sizes(
        plants=(
            IrpPlant("P", "Nhà máy Phú Mỹ", 30_000, 0, 107.03, 10.59),
            IrpPlant("Q", "Nhà máy Biên Hòa 2", 30_000, 0, 106.85, 10.93),
        ),
        tankers=(*_two_sizes().tankers, IrpTanker("TKQ", 10_000, "Q")),
        place_ids=("P", "A", "B", "Q"),
        distance_m=np.pad(_two_sizes().distance_m, (0, 1), constant_values=90 * _KM),
        duration_s=np.pad(_two_sizes().duration_s, (0, 1), constant_values=9000.0),
        assignment={"A": "P", "B": "P"},
    )
    plan = plan_region_irp(problem, time_limit_s=2, seed=0)
    assert plan.unused_tankers == (("TKQ", "no tank is supplied from its plant"),)


def _route(capacity_kg: float, driving_s: float) -> TankerRoute:
    return TankerRoute(0, "?", "P", (("A", 1_000.0),), capacity_kg, 10 * _KM, driving_s)


def test_trips_go_to_tankers_of_the_capacity_the_core_planned_them_on() -> None:
    tankers = (
        IrpTanker("TK20a", 20_000, "P"),
        IrpTanker("TK20b", 20_000, "P"),
        IrpTanker("TK5", 5_000, "P"),
    )
    # Longest first to the least busy: the 5 t trip (the longest) would go to TK20a, an idle
    # tanker of another size, if capacities were ignored.
    routes = [_route(5_000, 9_000), _route(20_000, 3_000), _route(20_000, 2_000)]
    assigned = assign_trips(routes, tankers, 12 * 3600)
    assert sorted((r.capacity_kg, r.vehicle_id) for r in assigned) == [
        (5_000, "TK5"),
        (20_000, "TK20a"),
        (20_000, "TK20b"),
    ]
