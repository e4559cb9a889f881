"""A plant's inventory-routing problem for the core: its tanks, whole fleet and shift (issue 17).

:mod:`coordination.irp_plan` solves a region as one problem per plant; this module builds that
problem (:func:`plant_problems`), turns it into the core's instance (:func:`core_instance`) and
gives the core's trips back to the plant's tankers (:func:`assign_trips`). Units: kg of liquid
oxygen, metres, seconds.

- **The whole fleet.** Every tanker based at the plant is used, each with its own payload: the
  core makes at most one route per vehicle and period, so tanker ``j`` (largest first, then by
  id) becomes ``trips`` vehicles of its capacity (``vehicle_capacities_units``), where trips is
  how many typical trips fit in a period (:func:`trips_per_tanker`). A route planned on a vehicle
  of ``c`` kg goes to a tanker of ``c`` kg (:func:`assign_trips`).
- **The shift as the route-duration limit.** ``travel_times`` are the directed duration
  matrix's seconds, symmetrised as the distances are (the core's 2-opt assumes symmetry), an
  unreachable pair priced :data:`UNREACHABLE_S`; ``service_times`` are the plant's loading
  (:data:`TANKER_LOAD_S`, once per route) and each tank's fill (:data:`TANK_STOP_S`);
  ``max_route_duration`` is the shorter of the shift and the period. A tanker's day of several
  trips is still kept within its shift afterwards (:func:`coordination.irp_plan.cut_to_shift`),
  and a tank no route reaches in time is the core's ``duration`` shortfall, reported as
  ``shift``.
- **Dispatched deliveries** arrive as ``fixed_arrivals_units`` in the first period of their day,
  not added to the starting level (which made a tank look fuller before the truck came).
- **Priorities.** Each tank's ``priority`` (the allocation's weight, ``10 x tier + round(10 x
  critical share)``, :func:`data.schema.allocation.default_priority`) is its
  ``priority_weights`` entry: when the plant or the fleet cannot keep every floor, the core
  first minimises the sum of weight x kg below the floor, so higher tiers are short last, as in
  the allocation. Consumption stays one burn per tank (the live status's): the region's input
  carries no forecast per day, so ``demands_by_period_units`` is not filled.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from coordination.irp_periods import (
    FINEST_PERIOD_H,
    burn_per_period_kg,
    choose_period_h,
    periods_per_day,
)

if TYPE_CHECKING:
    from coordination.irp_plan import IrpPlant, IrpTank, IrpTanker, RegionIrpInput, TankerRoute
    from routing.irp import IrpInstance

HOLDING_M_PER_T_DAY = 1.0
"""Holding cost, metres of tanker travel per tonne kept one day (a tie-breaker, small)."""

TANKER_LOAD_S = 2700 + 900
"""Plant visit at the start of a route: filling the tanker plus the stop (the dispatch's
``tanker_load_s`` and ``supplier_stop_s``)."""
TANK_STOP_S = 600 + 2700
"""One hospital tank fill: the stop plus the fill (``facility_stop_s`` and ``tank_fill_s``)."""

UNREACHABLE_M = 10**9
"""Metres the core is given for a pair of places with no road path (never worth driving)."""
UNREACHABLE_S = 10**9
"""Seconds the core is given for a pair of places with no road path (never within a shift)."""


def place_rows(place_ids: Sequence[str]) -> dict[str, int]:
    """Return each place id's row in the road matrix."""
    return {place_id: k for k, place_id in enumerate(place_ids)}


@dataclass(frozen=True, slots=True)
class PlantProblem:
    """One plant's share of the region: its tanks, its tankers, their trips and its period.

    ``tankers`` are largest first, then by id; the core's vehicle ``k`` (1..K) is trip
    ``(k - 1) % trips_per_tanker`` of tanker ``(k - 1) // trips_per_tanker``.
    """

    plant: IrpPlant
    tanks: tuple[IrpTank, ...]
    tankers: tuple[IrpTanker, ...]
    starts_kg: tuple[int, ...]
    trips_per_tanker: int
    period_h: int = 24

    @property
    def periods_per_day(self) -> int:
        """Return how many of the plant's periods make a day."""
        return periods_per_day(self.period_h)

    def vehicle_tanker(self, vehicle: int) -> IrpTanker:
        """Return the tanker behind the core's ``vehicle`` (1..K)."""
        return self.tankers[(vehicle - 1) // self.trips_per_tanker]


def trips_per_tanker(
    problem: RegionIrpInput, plant: IrpPlant, tanks: Sequence[IrpTank], period_h: int = 24
) -> int:
    """Return how many trips a tanker of ``plant`` can make in one period (at least 1).

    A typical trip loads at the plant, drives to the median tank and back and fills two tanks.
    A period's trips fit in its length and in a shift, and take no more than the period's share
    of the trips of a shift (rounded up): the core limits each route, not a tanker's day, so
    this keeps the day's periods from planning more trips than a shift holds (what remains over
    is cut by :func:`coordination.irp_plan.cut_to_shift`). For days, it is the trips of a shift.
    """
    row = place_rows(problem.place_ids)
    home = row[plant.supplier_id]
    round_trips = [
        float(
            problem.duration_s[home, row[t.facility_id]]
            + problem.duration_s[row[t.facility_id], home]
        )
        for t in tanks
    ]
    typical = TANKER_LOAD_S + float(np.median(round_trips)) + 2 * TANK_STOP_S
    per_shift = max(1, math.floor(problem.shift_s / typical))
    in_period = max(1, math.floor(min(period_h * 3600, problem.shift_s) / typical))
    return min(in_period, math.ceil(per_shift / periods_per_day(period_h)))


def _tanker_key(tanker: IrpTanker) -> tuple[float, str]:
    return (-tanker.capacity_kg, tanker.vehicle_id)


def plant_problems(
    problem: RegionIrpInput, tanks: Sequence[IrpTank], chosen: Mapping[str, str]
) -> tuple[list[PlantProblem], list[tuple[str, str]]]:
    """Return one problem per plant with tankers and tanks, and the tankers left unused (why).

    Every tanker of a plant is used; a plant's tankers are unused only when no tank is supplied
    from it. A tank's starting level is its level now (capped at the tank): dispatched
    deliveries arrive in their period (:func:`fixed_arrivals`).
    """
    found: list[PlantProblem] = []
    unused: list[tuple[str, str]] = []
    for plant in problem.plants:
        fleet = tuple(
            sorted(
                (t for t in problem.tankers if t.home_plant_id == plant.supplier_id),
                key=_tanker_key,
            )
        )
        mine = tuple(t for t in tanks if chosen.get(t.facility_id) == plant.supplier_id)
        if not fleet:
            continue
        if not mine:
            unused.extend((t.vehicle_id, "no tank is supplied from its plant") for t in fleet)
            continue
        starts = tuple(min(math.floor(t.level_kg), math.floor(t.capacity_kg)) for t in mine)
        period_h = choose_period_h(mine) or FINEST_PERIOD_H  # every tank is plannable at 6 h
        trips = trips_per_tanker(problem, plant, mine, period_h)
        found.append(PlantProblem(plant, mine, fleet, starts, trips, period_h))
    return found, unused


def fixed_arrivals(problem: RegionIrpInput, sub: PlantProblem) -> npt.NDArray[np.int64] | None:
    """Return the dispatched kg arriving per (period, vertex), or None when none arrives.

    A fixed delivery arrives in the period of its day that holds its ETA's hour; one due after
    the horizon is left out. Kg are rounded to whole kg, the core's unit.
    """
    column = {t.facility_id: k for k, t in enumerate(sub.tanks, start=1)}
    periods = problem.horizon_days * sub.periods_per_day
    arrivals = np.zeros((periods, len(sub.tanks) + 1), dtype=np.int64)
    for fixed in problem.fixed:
        where = column.get(fixed.facility_id)
        if where is None or not 0 <= fixed.day < problem.horizon_days:
            continue
        period = fixed.day * sub.periods_per_day + fixed.hour // sub.period_h
        arrivals[period, where] += round(fixed.quantity_kg)
    return arrivals if arrivals.any() else None


def _symmetric(directed: npt.NDArray[np.float64], unreachable: int) -> npt.NDArray[np.int64]:
    """Return the mean of both directions in whole units, a missing path priced ``unreachable``."""
    finite = np.where(np.isfinite(directed), directed, float(unreachable))
    both = np.rint((finite + finite.T) / 2.0)
    both = np.minimum(both, float(unreachable)).astype(np.int64)
    np.fill_diagonal(both, 0)
    return both


def core_instance(problem: RegionIrpInput, sub: PlantProblem) -> IrpInstance:
    """Build the core's instance of one plant: position 0 the plant, tanks from 1.

    Every tanker of the plant gives ``trips_per_tanker`` vehicles of its own capacity; routes
    are limited to ``min(shift, period)`` seconds of travel, loading and fills.
    """
    from routing.irp import IrpInstance

    row = place_rows(problem.place_ids)
    ids = [sub.plant.supplier_id, *(t.facility_id for t in sub.tanks)]
    index = np.array([row[i] for i in ids], dtype=np.int64)
    # Finite by the assignment (every tank reaches its plant); between tanks, a pair with no road
    # path is priced prohibitively rather than refused.
    distances = _symmetric(problem.distance_m[np.ix_(index, index)], UNREACHABLE_M)
    travel_times = _symmetric(problem.duration_s[np.ix_(index, index)], UNREACHABLE_S)
    period_h = sub.period_h
    holding = HOLDING_M_PER_T_DAY / 1000.0 * period_h / 24.0
    capacities = [
        math.floor(t.capacity_kg) for t in sub.tankers for _ in range(sub.trips_per_tanker)
    ]
    return IrpInstance(
        name=sub.plant.supplier_id,
        num_periods=problem.horizon_days * sub.periods_per_day,
        vehicle_capacity_units=max(capacities),
        num_vehicles=len(capacities),
        xs=np.array([sub.plant.lon, *(t.lon for t in sub.tanks)], dtype=np.float64),
        ys=np.array([sub.plant.lat, *(t.lat for t in sub.tanks)], dtype=np.float64),
        initial_levels_units=np.array(
            [math.floor(sub.plant.stock_kg), *sub.starts_kg], dtype=np.int64
        ),
        max_levels_units=np.array(
            [0, *(math.floor(t.capacity_kg) for t in sub.tanks)], dtype=np.int64
        ),
        min_levels_units=np.array([0, *(math.ceil(t.floor_kg) for t in sub.tanks)], dtype=np.int64),
        demands_per_period_units=np.array(
            [
                math.floor(burn_per_period_kg(sub.plant.output_kg_per_day, period_h)),
                *(math.ceil(burn_per_period_kg(t.burn_kg_per_day, period_h)) for t in sub.tanks),
            ],
            dtype=np.int64,
        ),
        holding_costs_per_unit_period=np.full(len(ids), holding, dtype=np.float64),
        distances=distances,
        priority_weights=np.array([1.0, *(t.priority for t in sub.tanks)], dtype=np.float64),
        vehicle_capacities_units=np.array(capacities, dtype=np.int64),
        travel_times=travel_times,
        service_times=np.array([TANKER_LOAD_S, *(TANK_STOP_S for _ in sub.tanks)], dtype=np.int64),
        max_route_duration=min(problem.shift_s, period_h * 3600),
        fixed_arrivals_units=fixed_arrivals(problem, sub),
        demands_by_period_units=_use_by_period(problem, sub),
    )


def _use_by_period(problem: RegionIrpInput, sub: PlantProblem) -> npt.NDArray[np.int64] | None:
    """Return each period's use (T x (n + 1): the plant's output, then each tank's projected burn).

    None when every tank burns steadily (the constant ``demands_per_period_units`` then holds).
    """
    if not any(t.burn_growth for t in sub.tanks):
        return None
    period_h = sub.period_h
    output = math.floor(burn_per_period_kg(sub.plant.output_kg_per_day, period_h))
    rows = [
        [
            output,
            *(
                math.ceil(burn_per_period_kg(t.burn_on_day(p // sub.periods_per_day), period_h))
                for t in sub.tanks
            ),
        ]
        for p in range(problem.horizon_days * sub.periods_per_day)
    ]
    return np.array(rows, dtype=np.int64)


def assign_trips(
    routes: Sequence[TankerRoute], tankers: Sequence[IrpTanker], shift_s: int
) -> list[TankerRoute]:
    """Give each day's trips to the plant's tankers, longest first to the least busy tanker.

    A trip goes to a tanker of the capacity of the core's vehicle (``route.capacity_kg``), so a
    load planned for a 20 t tanker never lands on a 10 t one; among those, the least busy (then
    by id). Periods shorter than a day are taken in order (the trips of 06:00 after those of
    00:00), so a tanker's trips are numbered in time. A trip that ends a tanker's day after its
    shift is marked ``over_shift``.
    """
    by_capacity: dict[float, list[str]] = defaultdict(list)
    for tanker in tankers:
        by_capacity[tanker.capacity_kg].append(tanker.vehicle_id)
    assigned: list[TankerRoute] = []
    for day in sorted({route.day for route in routes}):
        busy = {tanker.vehicle_id: 0.0 for tanker in tankers}
        trips = dict.fromkeys(busy, 0)
        for route in sorted(
            (r for r in routes if r.day == day), key=lambda r: (r.start_h, -r.duration_s, r.stops)
        ):
            able = by_capacity.get(route.capacity_kg) or list(busy)
            vehicle_id = min(able, key=lambda v: (busy[v], v))
            busy[vehicle_id] += route.duration_s
            trips[vehicle_id] += 1
            assigned.append(
                dataclasses.replace(
                    route,
                    vehicle_id=vehicle_id,
                    trip=trips[vehicle_id],
                    over_shift=busy[vehicle_id] > shift_s,
                )
            )
    return assigned
