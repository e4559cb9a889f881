"""Inventory routing for a region's bulk-liquid tanks over a rolling horizon (issue 17, item 2).

The model (docs/irp.md, "Rolling horizon on a region"):

- **Tanks.** Each facility with a liquid tank is a customer of the core
  (:mod:`routing.irp`): capacity ``U`` (the tank, kg of liquid oxygen), a safety floor ``L`` of
  ``floor_h`` hours of burn (default :data:`DEFAULT_FLOOR_H`, 12 h: a tank that ends a day at its
  floor still lasts until a tanker arriving by noon, the dispatch's ``urgent_by``), its level now
  and its burn per day (the live status, :mod:`coordination.status`).
- **Periods.** Each plant's problem is planned in days, or in 12, 8 or 6 hour periods where one
  of its tanks lasts less than a day above its floor (:mod:`coordination.irp_periods`): the
  core gets the burn, output and vehicles of a period, and every route, delivery and shortfall
  maps back to its day and the hour its period starts. A tank that even 6 h periods cannot plan
  is a ``tank_too_small`` shortfall.
- **Plants and tankers.** The core has one depot, so the region is solved as **one problem per
  plant** (:mod:`coordination.irp_fleet`): each tank belongs to one plant (the plan's allocation
  when given, else the nearest plant with tankers whose daily output still covers it), and a
  plant's problem gets every tanker based there, each with its own payload. Each tanker loads
  only at its home plant, which is its company's, so the company rule of the dispatch holds.
  The core makes at most one trip per vehicle and period, so each tanker gives ``trips``
  vehicles of its capacity, where trips is how many typical trips (loading, the median tank and
  back, two tank fills) fit in a shift (or a shorter period); each day's trips are then given to
  the tankers of the capacity the core planned them on, longest first to the least busy, and a
  trip that ends a tanker's day past its shift is marked ``over_shift``.
- **Shift.** The core keeps each trip within ``min(shift, period)``: travel on the tanker's
  roads, the plant's loading and each tank's fill (a tank no trip reaches in time is its
  ``duration`` shortfall, reported as ``shift``). A tanker's day of several trips is then kept
  within its shift (:func:`cut_to_shift`): the stops it cannot reach in time are shortfalls
  (reason ``shift``) and the levels show the cost.
- **Plants.** The plant's medical liquid output per day is its production, its stock at start
  is 0 unless given.
- **Roads.** Distances and times come from the loaded-tanker road matrix (``profile="tanker"``).
  The core's route moves assume a symmetric matrix, so it gets the mean of the two directions in
  whole metres; every figure returned (km, hours) is priced again on the directed matrix.
- **Objective.** The core's: no tank below its floor where supply allows (else the least
  priority-weighted kg below the floor, each tank weighed by its ``priority``, the allocation's
  order: higher tiers and more critical patients short last), then travel (metres), then
  holding at :data:`HOLDING_M_PER_T_DAY` metres per tonne-day (a tie-breaker).
- **Rolling horizon.** Deliveries already dispatched (in transit) are fixed: they are returned
  unchanged, marked ``fixed``, and the core gets them as arrivals in the first period of their
  day (``fixed_arrivals_units``), so a tank is not taken as fuller than it is before the truck
  comes; the levels reported are simulated with each fixed delivery on its own day.
- **Refusals and shortfalls.** Malformed input (negative consumption or level, a tank of no size,
  a tanker of an unknown plant) raises :class:`data.errors.InvalidInputError` listing every
  problem. A tank that cannot hold its floor plus 6 hours of burn, a facility no plant's tanker can
  reach, and facility-days the plants or the fleet cannot cover are **shortfalls** with a reason
  in English and Vietnamese; nothing is dropped silently.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from coordination.irp_fleet import HOLDING_M_PER_T_DAY as HOLDING_M_PER_T_DAY
from coordination.irp_fleet import TANK_STOP_S as TANK_STOP_S
from coordination.irp_fleet import TANKER_LOAD_S as TANKER_LOAD_S
from coordination.irp_fleet import (
    PlantProblem,
    assign_trips,
    core_instance,
    place_rows,
    plant_problems,
)
from coordination.irp_periods import (
    FINEST_PERIOD_H,
    day_and_start,
    missing_at_finest_kg,
    plannable,
)
from data.errors import InvalidInputError

if TYPE_CHECKING:
    from routing.irp import IrpRoute

DEFAULT_FLOOR_H = 12.0
"""Safety floor of every tank, hours of its burn (a tank ending a day at it lasts to noon)."""

DEFAULT_HORIZON_DAYS = 7
DEFAULT_SHIFT_S = 12 * 3600

_EPS_KG = 0.5

REASONS: Mapping[str, tuple[str, str]] = {
    "tank_too_small": (
        "the tank cannot hold its floor plus 6 hours of burn: it would need deliveries more often "
        "than every 6 hours, the plan's shortest period",
        "bồn không chứa đủ mức an toàn cộng 6 giờ tiêu thụ: cần giao thường xuyên hơn mỗi 6 giờ, "
        "chu kỳ ngắn nhất của kế hoạch",
    ),
    "unreachable": (
        "no plant with tankers can reach the facility on the tanker's roads",
        "không nhà máy nào có xe bồn đến được cơ sở này trên đường cho xe bồn",
    ),
    "no_status": (
        "its level or burn is unknown (no recent good report): it cannot be planned",
        "chưa biết mức tồn hoặc mức tiêu thụ (không có báo cáo hợp lệ gần đây): không thể lập "
        "kế hoạch",
    ),
    "depot": (
        "the plant's liquid output does not cover it",
        "sản lượng lỏng của nhà máy không đủ",
    ),
    "capacity": (
        "one tanker load a day cannot cover it",
        "một chuyến xe bồn mỗi ngày không đủ",
    ),
    "fleet": (
        "the plant's tankers are all busy",
        "xe bồn của nhà máy đã kín lịch",
    ),
    "shift": (
        "the tanker's shift ends before this stop: the delivery waits",
        "ca làm việc của xe bồn kết thúc trước điểm giao này: chuyến giao phải chờ",
    ),
    "tank": (
        "the tank is full after the delivery: it cannot hold enough to keep its floor",
        "bồn đã đầy sau khi giao: không chứa đủ để giữ mức an toàn",
    ),
    "below_floor": (
        "the tank ends the day below its floor",
        "bồn xuống dưới mức an toàn cuối ngày",
    ),
}
"""Reason codes of shortfalls, with their English and Vietnamese text."""

_CORE_REASONS: Mapping[str, str] = {
    "depot": "depot",
    "capacity": "capacity",
    "fleet": "fleet",
    "duration": "shift",  # no trip reaches the tank within the shift (the route-duration limit)
    "tank": "tank",
}
"""The plan's reason for each shortfall reason of the core (another reads ``below_floor``)."""


@dataclass(frozen=True, slots=True)
class IrpTank:
    """A facility's liquid tank: capacity, level now and burn, kg of liquid oxygen.

    ``priority``: the weight of its kg below the floor when not every floor can be kept (the
    allocation's priority, ``10 x tier + round(10 x critical share)``; 1.0 when not given).
    ``burn_growth``: the burn of each horizon day relative to ``burn_kg_per_day`` (the demand
    projection's trend, day 0 first: ``(1.0, 1.04, 1.09, ...)``); a day beyond it keeps its last
    factor, and none means a steady burn. The floor stays ``floor_h`` hours of today's burn.
    """

    facility_id: str
    name: str
    capacity_kg: float
    level_kg: float
    burn_kg_per_day: float
    lon: float = 0.0
    lat: float = 0.0
    floor_h: float = DEFAULT_FLOOR_H
    priority: float = 1.0
    burn_growth: tuple[float, ...] = ()

    @property
    def floor_kg(self) -> float:
        """Return the safety floor: ``floor_h`` hours of burn, kg."""
        return self.burn_kg_per_day * self.floor_h / 24.0

    def burn_on_day(self, day: int) -> float:
        """Return the burn of horizon day ``day`` (0 = the start date), kg."""
        if not self.burn_growth:
            return self.burn_kg_per_day
        return self.burn_kg_per_day * self.burn_growth[min(day, len(self.burn_growth) - 1)]


@dataclass(frozen=True, slots=True)
class IrpPlant:
    """A liquid plant: its medical output per day and stock at the start, kg of liquid."""

    supplier_id: str
    name: str
    output_kg_per_day: float
    stock_kg: float = 0.0
    lon: float = 0.0
    lat: float = 0.0


@dataclass(frozen=True, slots=True)
class IrpTanker:
    """A cryogenic tanker: payload (kg of liquid oxygen) and home plant."""

    vehicle_id: str
    capacity_kg: float
    home_plant_id: str


@dataclass(frozen=True, slots=True)
class FixedDelivery:
    """A delivery already dispatched: it arrives on ``day`` (0 = the start date) and stays.

    ``hour``: the local hour of its ETA (0-23; 0 when unknown): in a plant planned in periods
    shorter than a day it counts from the period that holds that hour.
    """

    delivery_id: int
    facility_id: str
    day: int
    quantity_kg: float
    vehicle_id: str | None = None
    supplier_id: str | None = None
    hour: int = 0


@dataclass(frozen=True, slots=True)
class RegionIrpInput:
    """A region's inventory-routing problem in plain data.

    ``duration_s`` and ``distance_m`` (float64, ``inf`` where unreachable) are the loaded
    tanker's road matrix over ``place_ids``, which hold every plant and tank id. ``assignment``
    maps a facility id to the plant that supplies it (empty: the nearest plant that can).
    ``left_out``: facilities the adapter could not describe (unknown level or burn), kept as
    shortfalls of the plan. ``names``: names of places by id, for documents only.
    """

    start_date: dt.date
    horizon_days: int
    tanks: tuple[IrpTank, ...]
    plants: tuple[IrpPlant, ...]
    tankers: tuple[IrpTanker, ...]
    place_ids: tuple[str, ...]
    duration_s: npt.NDArray[np.float64] = field(repr=False)
    distance_m: npt.NDArray[np.float64] = field(repr=False)
    fixed: tuple[FixedDelivery, ...] = ()
    assignment: Mapping[str, str] = field(default_factory=dict)
    shift_s: int = DEFAULT_SHIFT_S
    left_out: tuple[IrpPlanShortfall, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TankDelivery:
    """One delivery of the plan: day, facility, plant, tanker, quantity (kg of liquid).

    It arrives in the period of ``period_h`` hours that starts at ``start_h`` o'clock of ``day``
    (a whole day, from midnight, unless its plant's problem is planned in finer periods).
    """

    day: int
    facility_id: str
    plant_id: str | None
    vehicle_id: str | None
    quantity_kg: float
    fixed: bool = False
    delivery_id: int | None = None
    period_h: int = 24
    start_h: int = 0


@dataclass(frozen=True, slots=True)
class TankerRoute:
    """One tanker's trip of one day: plant, the tanks in visiting order, kg left at each.

    ``trip`` numbers the tanker's trips of the day (1 first); ``over_shift`` says the tanker's
    day ends after its shift with this trip. The trip belongs to the period of ``period_h`` hours
    starting at ``start_h`` o'clock of ``day`` (the whole day unless planned finer).
    """

    day: int
    vehicle_id: str
    plant_id: str
    stops: tuple[tuple[str, float], ...]
    capacity_kg: float
    distance_m: float
    driving_s: float
    trip: int = 1
    over_shift: bool = False
    period_h: int = 24
    start_h: int = 0

    @property
    def load_kg(self) -> float:
        """Return the kg of liquid delivered on the trip."""
        return sum(quantity for _, quantity in self.stops)

    @property
    def duration_s(self) -> float:
        """Return driving plus the plant's loading and each tank fill, seconds."""
        return self.driving_s + TANKER_LOAD_S + TANK_STOP_S * len(self.stops)


@dataclass(frozen=True, slots=True)
class IrpPlanShortfall:
    """A facility (and day, None for all) the plan cannot keep at its floor, and why.

    ``period_h`` and ``start_h``: the period of that day (the whole day unless planned finer).
    """

    facility_id: str
    day: int | None
    missing_kg: float
    reason: str
    period_h: int = 24
    start_h: int = 0

    @property
    def message_en(self) -> str:
        """Return the reason in English."""
        return REASONS[self.reason][0]

    @property
    def message_vi(self) -> str:
        """Return the reason in Vietnamese."""
        return REASONS[self.reason][1]


@dataclass(frozen=True, slots=True)
class TankFigures:
    """Figures of a plan's tank levels over the horizon (same for every plan compared).

    ``levels_kg``: each tank's end-of-day levels. ``below_floor``: the facility-days with a
    period ending below the floor; ``periods_below_floor``: those periods, as (facility, day,
    hour the period starts). ``lowest_hours``: each tank's lowest hours to empty at a period's end.
    """

    levels_kg: Mapping[str, tuple[float, ...]]
    below_floor: tuple[tuple[str, int], ...]
    lowest_hours: Mapping[str, float]
    periods_below_floor: tuple[tuple[str, int, int], ...] = ()

    @property
    def empty_days(self) -> int:
        """Return how many facility-days end with the tank empty (0.5 kg tolerance)."""
        return sum(level <= _EPS_KG for trace in self.levels_kg.values() for level in trace)

    @property
    def lowest_hours_to_empty(self) -> float:
        """Return the lowest hours to empty of any tank at any day's end (inf: none)."""
        return min(self.lowest_hours.values(), default=math.inf)


@dataclass(frozen=True, slots=True)
class RegionIrpPlan:
    """The plan for the horizon: deliveries (fixed ones included), routes, levels, shortfalls.

    Each plant's problem is planned in days or, where a tank lasts less, in periods of 12, 8 or 6
    hours (:mod:`coordination.irp_periods`); ``period_h`` gives each tank's.
    """

    start_date: dt.date
    horizon_days: int
    tanks: tuple[IrpTank, ...]
    deliveries: tuple[TankDelivery, ...]
    routes: tuple[TankerRoute, ...]
    shortfalls: tuple[IrpPlanShortfall, ...]
    figures: TankFigures
    assignment: Mapping[str, str]
    unused_tankers: tuple[tuple[str, str], ...] = ()
    solver: Mapping[str, object] = field(default_factory=dict)
    shift_s: int = DEFAULT_SHIFT_S
    period_h: Mapping[str, int] = field(default_factory=dict)
    """Period length of each planned tank (its plant's problem), hours; absent: 24."""

    def first_day_routes(self) -> tuple[TankerRoute, ...]:
        """Return the routes of day 0, the ones to dispatch now."""
        return tuple(route for route in self.routes if route.day == 0)


# ------------------------------------------------------------------------------- validation


def _bad_number(value: float, *, low: float = 0.0) -> bool:
    return not math.isfinite(value) or value < low


def validate_region_input(problem: RegionIrpInput) -> None:
    """Check a region's problem; raise once listing every problem.

    Raises
    ------
    InvalidInputError
        Naming the field, the value and the fix: a horizon below 1 day, a negative or
        non-finite tank capacity, level, burn or floor, a tank of no size, a priority not above
        0, a plant with negative
        output or stock, a tanker without capacity or based at an unknown plant, a fixed delivery
        of an unknown facility or a negative quantity, a place missing from the matrix, or a
        matrix whose shape does not match ``place_ids``.
    """
    problems: list[str] = []
    if problem.horizon_days < 1:
        problems.append(f"horizon_days: {problem.horizon_days} must be at least 1")
    _check_tanks(problem, problems)
    _check_plants(problem, problems)
    plant_ids = {plant.supplier_id for plant in problem.plants}
    tank_ids = {tank.facility_id for tank in problem.tanks}
    for k, fixed in enumerate(problem.fixed):
        where = f"fixed[{k}] (delivery {fixed.delivery_id})"
        if fixed.facility_id not in tank_ids:
            problems.append(f"{where}.facility_id: {fixed.facility_id!r} is not a tank")
        if _bad_number(fixed.quantity_kg):
            problems.append(f"{where}.quantity_kg: {fixed.quantity_kg!r} must be 0 or more")
        if (
            isinstance(fixed.hour, bool)
            or not isinstance(fixed.hour, int)
            or not 0 <= fixed.hour < 24
        ):
            problems.append(f"{where}.hour: {fixed.hour!r} must be a whole hour from 0 to 23")
    _check_matrix(problem, tank_ids | plant_ids, problems)
    if problems:
        raise InvalidInputError.from_problems("inventory-routing problem", problems)


def _check_tanks(problem: RegionIrpInput, problems: list[str]) -> None:
    for k, tank in enumerate(problem.tanks):
        where = f"tanks[{k}] ({tank.facility_id})"
        for name in ("capacity_kg", "level_kg", "burn_kg_per_day", "floor_h"):
            value = getattr(tank, name)
            if _bad_number(value):
                problems.append(f"{where}.{name}: {value!r} must be a finite number, 0 or more")
        if tank.capacity_kg == 0:
            problems.append(
                f"{where}.capacity_kg: 0; a facility without a tank is not planned here"
            )
        if any(_bad_number(factor) for factor in tank.burn_growth):
            problems.append(
                f"{where}.burn_growth: {tank.burn_growth!r} must hold finite numbers, 0 or more"
            )
        if not math.isfinite(tank.priority) or tank.priority <= 0:
            problems.append(
                f"{where}.priority: {tank.priority!r} must be a finite number above 0 (1.0 when "
                "every tank weighs the same)"
            )


def _check_plants(problem: RegionIrpInput, problems: list[str]) -> None:
    plant_ids = {plant.supplier_id for plant in problem.plants}
    for k, plant in enumerate(problem.plants):
        for name in ("output_kg_per_day", "stock_kg"):
            value = getattr(plant, name)
            if _bad_number(value):
                problems.append(
                    f"plants[{k}] ({plant.supplier_id}).{name}: {value!r} must be 0 or more"
                )
    for k, tanker in enumerate(problem.tankers):
        where = f"tankers[{k}] ({tanker.vehicle_id})"
        if _bad_number(tanker.capacity_kg, low=1.0):
            problems.append(f"{where}.capacity_kg: {tanker.capacity_kg!r} must be at least 1 kg")
        if tanker.home_plant_id not in plant_ids:
            problems.append(
                f"{where}.home_plant_id: {tanker.home_plant_id!r} is not a plant of the problem"
            )


def _check_matrix(problem: RegionIrpInput, needed: set[str], problems: list[str]) -> None:
    size = len(problem.place_ids)
    for name in ("duration_s", "distance_m"):
        shape = getattr(problem, name).shape
        if shape != (size, size):
            problems.append(f"{name}: shape {shape} does not match {size} place_ids")
    missing = sorted(needed - set(problem.place_ids))
    if missing:
        problems.append(f"place_ids: {', '.join(missing[:5])} missing from the road matrix")


# ------------------------------------------------------------------------------- evaluation


def evaluate_tanks(
    tanks: Sequence[IrpTank],
    deliveries: Sequence[TankDelivery],
    horizon_days: int,
    *,
    period_h: Mapping[str, int] | None = None,
) -> TankFigures:
    """Simulate every tank with the plan's deliveries; count days and periods below the floor.

    A delivery arrives at the start of its period (``day``, ``start_h``); the tank then burns
    steadily. A level is never above the tank (an overfill is lost) nor below zero. Levels are
    checked at the end of each of the tank's periods (``period_h``, by facility; 24 h when absent,
    so a daily plan is checked at each day's end): a facility-period is below the floor when its
    end level is below ``floor_kg`` (0.5 kg tolerance), and a facility-day when one of its periods
    is. Hours to empty are each period's end level over the burn per hour (the level now, which
    no plan changes, is left out).
    """
    arrivals: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for delivery in deliveries:
        arrivals[delivery.facility_id][delivery.day * 24 + delivery.start_h] += delivery.quantity_kg
    levels: dict[str, tuple[float, ...]] = {}
    below: list[tuple[str, int]] = []
    periods_below: list[tuple[str, int, int]] = []
    lowest: dict[str, float] = {}
    for tank in tanks:
        step = (period_h or {}).get(tank.facility_id, 24)
        ends = _period_end_levels(tank, arrivals[tank.facility_id], horizon_days * 24, step)
        days_below: set[int] = set()
        for hour, level in ends:
            if level < tank.floor_kg - _EPS_KG:
                periods_below.append((tank.facility_id, (hour - step) // 24, (hour - step) % 24))
                days_below.add((hour - 1) // 24)
        below.extend((tank.facility_id, day) for day in sorted(days_below))
        levels[tank.facility_id] = tuple(level for hour, level in ends if hour % 24 == 0)
        lowest[tank.facility_id] = min(
            (_hours_left(level, tank.burn_on_day((hour - 1) // 24)) for hour, level in ends),
            default=math.inf,
        )
    return TankFigures(levels, tuple(below), lowest, tuple(periods_below))


def _hours_left(level_kg: float, burn_kg_per_day: float) -> float:
    return level_kg / (burn_kg_per_day / 24.0) if burn_kg_per_day > 0 else math.inf


def _period_end_levels(
    tank: IrpTank, arrivals: Mapping[int, float], hours: int, step: int
) -> list[tuple[int, float]]:
    """Return (hour of the horizon, level) at the end of each period of ``step`` hours."""
    marks = sorted(
        {*range(0, hours, step), *(h for h in arrivals if 0 <= h < hours and arrivals[h])}
    )
    marks.append(hours)
    level = min(tank.level_kg, tank.capacity_kg)
    ends: list[tuple[int, float]] = []
    for at, until in itertools.pairwise(marks):
        level = min(level + arrivals.get(at, 0.0), tank.capacity_kg)
        span = until - at
        # A whole day burns exactly the day's burn (no rounding in the daily figures).
        day_burn = tank.burn_on_day(at // 24)
        burn = day_burn if span == 24 else day_burn * span / 24.0
        level = max(level - burn, 0.0)
        if until % step == 0:
            ends.append((until, level))
    return ends


# ---------------------------------------------------------------------------- assignment


def _row(problem: RegionIrpInput) -> dict[str, int]:
    return place_rows(problem.place_ids)


def assign_tanks(
    problem: RegionIrpInput, tanks: Sequence[IrpTank]
) -> tuple[dict[str, str], list[IrpPlanShortfall]]:
    """Give each tank one plant with tankers; the unreachable ones are shortfalls.

    The problem's ``assignment`` is kept where its plant has tankers and reaches the tank;
    otherwise, tanks by decreasing burn take the nearest such plant (tanker minutes) whose daily
    output not yet taken covers their burn, or the nearest one when none does.
    """
    row = _row(problem)
    based = {tanker.home_plant_id for tanker in problem.tankers}
    plants = [plant for plant in problem.plants if plant.supplier_id in based]
    left = {plant.supplier_id: plant.output_kg_per_day for plant in plants}
    chosen: dict[str, str] = {}
    shortfalls: list[IrpPlanShortfall] = []

    def minutes(plant_id: str, facility_id: str) -> float:
        there = problem.duration_s[row[plant_id], row[facility_id]]
        back = problem.duration_s[row[facility_id], row[plant_id]]
        return float(there + back)

    for tank in sorted(tanks, key=lambda t: (-t.burn_kg_per_day, t.facility_id)):
        reach = [p for p in plants if math.isfinite(minutes(p.supplier_id, tank.facility_id))]
        if not reach:
            shortfalls.append(IrpPlanShortfall(tank.facility_id, None, 0.0, "unreachable"))
            continue
        given = problem.assignment.get(tank.facility_id)
        if given not in {p.supplier_id for p in reach}:
            reach.sort(key=lambda p: (minutes(p.supplier_id, tank.facility_id), p.supplier_id))
            roomy = [p for p in reach if left[p.supplier_id] >= tank.burn_kg_per_day]
            given = (roomy or reach)[0].supplier_id
        assert given is not None
        chosen[tank.facility_id] = given
        left[given] -= tank.burn_kg_per_day
    return chosen, shortfalls


# ------------------------------------------------------------------------------- solving


def _usable(problem: RegionIrpInput) -> tuple[list[IrpTank], list[IrpPlanShortfall]]:
    """Return the tanks the finest period (6 h) can plan, and shortfalls for the others."""
    usable: list[IrpTank] = []
    shortfalls: list[IrpPlanShortfall] = []
    for tank in problem.tanks:
        if tank.burn_kg_per_day == 0:
            continue  # no use: nothing to deliver, nothing to plan
        if not plannable(tank, FINEST_PERIOD_H):
            missing = max(missing_at_finest_kg(tank), 1.0)  # 1 kg: the core's rounding
            shortfalls.append(
                IrpPlanShortfall(tank.facility_id, None, round(missing, 1), "tank_too_small")
            )
            continue
        usable.append(tank)
    return usable, shortfalls


def _priced_route(problem: RegionIrpInput, sub: PlantProblem, route: IrpRoute) -> TankerRoute:
    """Price the core's route on the directed matrix, on the tanker behind its vehicle.

    The tanker is provisional (:func:`coordination.irp_fleet.assign_trips` balances the day
    among the tankers of the same capacity); the capacity is the core's vehicle's.
    """
    row = _row(problem)
    day, start_h = day_and_start(route.period - 1, sub.period_h)
    tanker = sub.vehicle_tanker(route.vehicle)
    visits = [(sub.tanks[s.customer - 1].facility_id, float(s.quantity_units)) for s in route.stops]
    path = [sub.plant.supplier_id, *(facility for facility, _ in visits), sub.plant.supplier_id]
    distance = driving = 0.0
    for a, b in itertools.pairwise(path):
        distance += float(problem.distance_m[row[a], row[b]])
        driving += float(problem.duration_s[row[a], row[b]])
    return TankerRoute(
        day,
        tanker.vehicle_id,
        sub.plant.supplier_id,
        tuple(visits),
        tanker.capacity_kg,
        distance,
        driving,
        period_h=sub.period_h,
        start_h=start_h,
    )


def _stop_times(problem: RegionIrpInput, route: TankerRoute) -> list[tuple[float, float, float]]:
    """Return, after each stop, (time since leaving the plant incl. loading, time back, km)."""
    row = _row(problem)
    at = row[route.plant_id]
    elapsed, metres = float(TANKER_LOAD_S), 0.0
    found = []
    for facility_id, _ in route.stops:
        here = row[facility_id]
        elapsed += float(problem.duration_s[at, here]) + TANK_STOP_S
        metres += float(problem.distance_m[at, here])
        back = float(problem.duration_s[here, row[route.plant_id]])
        found.append((elapsed, back, metres + float(problem.distance_m[here, row[route.plant_id]])))
        at = here
    return found


def _reversed(route: TankerRoute) -> TankerRoute:
    return dataclasses.replace(route, stops=route.stops[::-1])


def _fitting(
    problem: RegionIrpInput, route: TankerRoute, used_s: float
) -> tuple[TankerRoute, list[tuple[float, float, float]], int]:
    """Return the route, its stop times, and how many of its first stops fit in the shift."""
    times = _stop_times(problem, route)
    fits = 0
    for elapsed, back, _ in times:
        if used_s + elapsed + back > problem.shift_s:
            break
        fits += 1
    if fits == len(route.stops):
        return route, times, fits + 1  # whole: preferred to any cut (then trimmed to fits)
    return route, times, fits


def cut_to_shift(
    problem: RegionIrpInput, routes: Sequence[TankerRoute]
) -> tuple[list[TankerRoute], list[IrpPlanShortfall]]:
    """Keep each tanker's day within its shift: drop the stops it cannot reach in time.

    A tanker's trips of a day run one after another (trip 1 first); a stop is kept when the
    tanker can fill it and be back at the plant by the shift's end. The stops dropped become
    shortfalls (reason ``shift``, the quantity they would have left); a trip left with no stop
    is dropped. The core limits each trip, not a tanker's day: this is where the day holds.
    """
    kept: list[TankerRoute] = []
    cut: list[IrpPlanShortfall] = []
    busy: dict[tuple[int, str], float] = defaultdict(float)
    for planned in sorted(routes, key=lambda r: (r.day, r.vehicle_id, r.trip)):
        used = busy[planned.day, planned.vehicle_id]
        # Either direction of a trip drives the same (the core's distances are symmetric): when
        # the shift cuts it, keep the direction that keeps more stops, then more kg.
        route, times, fits = max(
            (_fitting(problem, r, used) for r in (planned, _reversed(planned))),
            key=lambda found: (found[2], sum(q for _, q in found[0].stops[: found[2]])),
        )
        fits = min(fits, len(route.stops))
        cut.extend(
            IrpPlanShortfall(
                facility_id, route.day, quantity, "shift", route.period_h, route.start_h
            )
            for facility_id, quantity in route.stops[fits:]
        )
        if fits == 0:
            continue
        elapsed, back, metres = times[fits - 1]
        driving = elapsed + back - TANKER_LOAD_S - TANK_STOP_S * fits
        trimmed = dataclasses.replace(
            route, stops=route.stops[:fits], distance_m=metres, driving_s=driving, over_shift=False
        )
        busy[route.day, route.vehicle_id] = used + trimmed.duration_s
        kept.append(trimmed)
    return kept, cut


def _solve_plant(
    problem: RegionIrpInput,
    sub: PlantProblem,
    *,
    time_limit_s: float,
    seed: int,
    max_iterations: int | None = None,
) -> tuple[list[TankerRoute], list[IrpPlanShortfall], dict[str, object]]:
    from routing.irp import IrpParams, check_solution, solve_irp

    instance = core_instance(problem, sub)
    params = IrpParams(time_limit_s=time_limit_s, seed=seed, max_iterations=max_iterations)
    solution = solve_irp(instance, params)
    check = check_solution(instance, solution)
    routes = assign_trips(
        [_priced_route(problem, sub, route) for route in solution.routes if route.stops],
        sub.tankers,
        problem.shift_s,
    )
    shortfalls = []
    for short in solution.shortfalls:
        day, start_h = day_and_start(short.period - 1, sub.period_h)
        facility_id = sub.tanks[short.customer - 1].facility_id
        missing = float(short.missing_units)
        reason = _CORE_REASONS.get(short.reason, "below_floor")
        shortfalls.append(
            IrpPlanShortfall(facility_id, day, missing, reason, sub.period_h, start_h)
        )
    facts: dict[str, object] = {
        "tanks": len(sub.tanks),
        "tankers": len(sub.tankers),
        "period_h": sub.period_h,
        "periods": instance.num_periods,
        "trips_per_tanker": sub.trips_per_tanker,
        "solver": solution.extras.get("solver", ""),
        "feasible": check.feasible,
        "core_cost": round(check.total_cost, 1),
    }
    return routes, shortfalls, facts


def plan_region_irp(
    problem: RegionIrpInput,
    *,
    time_limit_s: float = 30.0,
    seed: int = 0,
    max_iterations: int | None = None,
) -> RegionIrpPlan:
    """Plan the region's tank deliveries and tanker routes for the horizon.

    Parameters
    ----------
    problem
        The tanks, plants, tankers, road matrix and dispatched deliveries (validated here).
    time_limit_s
        Budget of the whole solve, seconds, shared among the plants by their tanks (at least
        1 s each).
    seed
        Seed of the core (the same seed and limit give the same plan up to the wall clock).
    max_iterations
        None: every plant's solve stops on the clock. A number: the core's iteration budget
        (``IrpParams.max_iterations``), so the same seed gives the same plan on any machine.

    Returns
    -------
    RegionIrpPlan
        Deliveries (the fixed ones unchanged, then the planned ones), routes, simulated levels,
        and shortfalls with reasons; facility-days below the floor that no reason above explains
        are listed as ``below_floor``.

    Raises
    ------
    InvalidInputError
        See :func:`validate_region_input`.
    """
    validate_region_input(problem)
    started = time.monotonic()
    usable, shortfalls = _usable(problem)
    shortfalls[:0] = problem.left_out
    chosen, unreachable = assign_tanks(problem, usable)
    shortfalls.extend(unreachable)
    subs, unused = plant_problems(problem, usable, chosen)
    total_tanks = max(sum(len(sub.tanks) for sub in subs), 1)
    routes: list[TankerRoute] = []
    facts: dict[str, object] = {}
    for sub in subs:
        share = max(time_limit_s * len(sub.tanks) / total_tanks, 1.0)
        found, short, plant_facts = _solve_plant(
            problem, sub, time_limit_s=share, seed=seed, max_iterations=max_iterations
        )
        routes.extend(found)
        shortfalls.extend(short)
        facts[sub.plant.supplier_id] = plant_facts
    routes.sort(key=lambda r: (r.day, r.vehicle_id, r.trip))
    over_shift = sum(r.over_shift for r in routes)
    routes, cut = cut_to_shift(problem, routes)
    shortfalls.extend(cut)
    deliveries = _deliveries(problem, routes)
    period_h = {t.facility_id: sub.period_h for sub in subs for t in sub.tanks}
    figures = evaluate_tanks(problem.tanks, deliveries, problem.horizon_days, period_h=period_h)
    explained = {(s.facility_id, s.day) for s in shortfalls} | {
        (s.facility_id, None) for s in shortfalls if s.day is None
    }
    for facility_id, day in figures.below_floor:
        if (facility_id, day) not in explained and (facility_id, None) not in explained:
            shortfalls.append(IrpPlanShortfall(facility_id, day, 0.0, "below_floor"))
    return RegionIrpPlan(
        start_date=problem.start_date,
        horizon_days=problem.horizon_days,
        tanks=problem.tanks,
        deliveries=deliveries,
        routes=tuple(routes),
        shortfalls=tuple(shortfalls),
        figures=figures,
        assignment=chosen,
        unused_tankers=tuple(unused),
        shift_s=problem.shift_s,
        period_h=period_h,
        solver={
            "plants": facts,
            "planned_trips_over_shift": over_shift,
            "time_limit_s": time_limit_s,
            "max_iterations": max_iterations,
            "seed": seed,
            "run_time_s": round(time.monotonic() - started, 2),
        },
    )


def _deliveries(problem: RegionIrpInput, routes: Sequence[TankerRoute]) -> tuple[TankDelivery, ...]:
    fixed = [
        TankDelivery(
            f.day,
            f.facility_id,
            f.supplier_id,
            f.vehicle_id,
            f.quantity_kg,
            True,
            f.delivery_id,
            start_h=f.hour,
        )
        for f in problem.fixed
    ]
    planned = [
        TankDelivery(
            route.day,
            facility_id,
            route.plant_id,
            route.vehicle_id,
            quantity,
            period_h=route.period_h,
            start_h=route.start_h,
        )
        for route in routes
        for facility_id, quantity in route.stops
        if quantity > 0
    ]
    return (*fixed, *planned)
