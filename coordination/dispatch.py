"""Dispatch: one day of a plan's deliveries and a fleet -> vehicle routes, road paths, sheets.

A thin orchestration layer, like :mod:`planning`: it reads the plan's flows of one day, turns them
into a :class:`~data.schema.routes.RouteProblem` (integer seconds, kg of liquid oxygen and
cylinders), calls the sealed solver core (:func:`routing.vehicle_routes.solve_routes`), checks the
answer with the independent validator and serialises it (VROOM-like JSON with ``unassigned``,
RFC 7946 GeoJSON, printable HTML route sheets in Vietnamese and English). No optimisation lives
here.

Model
-----
* Each delivery of the allocation (a flow: supplier, facility, product, quantity) becomes one or
  more *loads*. A load is a shipment: picked up (loaded) at the allocated supplier, delivered at
  the facility, by one vehicle. A vehicle that serves several loads in its shift goes back to a
  plant or filling station to load again: that is the reload, and it happens at the supplier the
  allocation chose for the next load. (The core's reload depots load "whatever the next trip
  carries" at any reload place, which would ignore the allocated supplier.)
* Load dimensions: ``[lox_kg, cylinders]``. Tankers carry kg of liquid oxygen (flows in ``t_lox``
  are converted and rounded up to whole kg), cylinder trucks carry cylinders. Skills keep the
  products apart: bulk liquid only on tankers (skill 1), cylinders only on trucks (skill 2).
* A delivery larger than the largest vehicle of its kind is split into ``ceil(q / capacity)``
  loads of near-equal size; each load says ``part`` of ``parts``.
* Every vehicle starts and ends its shift at its home depot (a supplier of the plan), between
  ``start_time`` and ``start_time + shift_s``.
* Time windows: a facility's receiving hours (default 07:00-19:00, per facility in the options);
  an urgent load (the facility's first shortfall day is the routed day) must arrive by
  ``urgent_by`` (default 12:00) and has priority 50. When no vehicle could reach it by then even on
  an empty route, its window falls back to the receiving hours and the load says why.
* Travel times come from the road network (suppliers outside the map through the region's
  gateways), in whole seconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from data.errors import InvalidInputError, NoRouteError
from data.region import Region
from data.schema.network import Place
from data.schema.registry import VehicleKind
from data.schema.routes import (
    RoutePlan,
    RouteProblem,
    Shipment,
    ShipmentStep,
    TimeWindow,
    Vehicle,
)
from routing.network import RoadNetwork

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ATTRIBUTION = "© OpenStreetMap contributors"

SKILL_BULK_LIQUID = 1
"""Skill of tankers, needed by bulk-liquid loads."""
SKILL_CYLINDERS = 2
"""Skill of cylinder trucks, needed by cylinder loads."""
LOAD_DIMENSIONS = ("lox_kg", "cylinders")
"""Names of the load dimensions, in the problem's order."""
URGENT_PRIORITY = 50
"""Priority of urgent loads (0-100, VROOM's scale); other loads have 0."""
UNREACHABLE_S = 10_000_000
"""Travel time (s) standing for "no road path" between two reachable places (beyond any shift)."""
MAX_TIME_LIMIT_S = 60.0
"""Largest solver time limit a request may ask for (costly operations run with time limits)."""

_PRODUCT_SKILL = {"bulk_liquid": SKILL_BULK_LIQUID, "cylinder": SKILL_CYLINDERS}
_KIND_OF_PRODUCT = {
    "bulk_liquid": VehicleKind.CRYOGENIC_TANKER,
    "cylinder": VehicleKind.CYLINDER_TRUCK,
}


# --------------------------------------------------------------------------- inputs


def _parse_clock(where: str, value: Any, problems: list[str]) -> int | None:
    """Seconds after midnight of ``"HH:MM"`` (``"24:00"`` allowed), or record a problem."""
    if isinstance(value, str):
        hours, sep, minutes = value.partition(":")
        if sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
            seconds = int(hours) * 3600 + int(minutes) * 60
            if int(minutes) < 60 and seconds <= 24 * 3600:
                return seconds
    problems.append(f'{where}: must be a local time "HH:MM" (00:00-24:00), got {value!r}')
    return None


def _clock_text(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True, slots=True)
class ServiceTimes:
    """Time spent at stops, in seconds. oxyroute's assumptions (no published source): override them.

    Parameters
    ----------
    facility_stop_s
        Fixed time at a facility: parking, paperwork, signature (default 600 = 10 min).
    per_cylinder_unload_s
        Per cylinder unloaded and swapped for an empty one (default 30).
    tank_fill_s
        One hospital tank (VIE) fill from a tanker: hose, cool-down, transfer
        (default 2,700 = 45 min).
    supplier_stop_s
        Fixed time at a plant or filling station: queue, weighing, papers (default 900 = 15 min).
    per_cylinder_load_s
        Per full cylinder loaded at a filling station (default 20).
    tanker_load_s
        Filling a tanker at a liquid-oxygen plant (default 2,700 = 45 min).
    """

    facility_stop_s: int = 600
    per_cylinder_unload_s: int = 30
    tank_fill_s: int = 2700
    supplier_stop_s: int = 900
    per_cylinder_load_s: int = 20
    tanker_load_s: int = 2700

    def __post_init__(self) -> None:
        problems = [
            f"options.service.{f.name}: must be a whole number of seconds >= 0, "
            f"got {getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), bool)
            or not isinstance(getattr(self, f.name), int)
            or getattr(self, f.name) < 0
        ]
        if problems:
            raise InvalidInputError.from_problems("service times", problems)

    def unload_s(self, product: str, quantity: int) -> int:
        """Service time of delivering ``quantity`` (cylinders, or kg for one tank fill)."""
        if product == "bulk_liquid":
            return self.facility_stop_s + self.tank_fill_s
        return self.facility_stop_s + self.per_cylinder_unload_s * quantity

    def load_s(self, product: str, quantity: int) -> int:
        """Service time of loading ``quantity`` at the supplier."""
        if product == "bulk_liquid":
            return self.supplier_stop_s + self.tanker_load_s
        return self.supplier_stop_s + self.per_cylinder_load_s * quantity


@dataclass(frozen=True, slots=True)
class FacilityOptions:
    """Per-facility settings of a dispatch: receiving hours and the contact for the route sheet."""

    receiving_hours_s: tuple[int, int] | None = None
    contact: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class DispatchOptions:
    """Validated settings of one dispatch (all times local, Asia/Ho_Chi_Minh).

    Parameters
    ----------
    start_s
        When shifts start, seconds after local midnight (default 06:00).
    shift_s
        Shift length: latest return is ``start_s + shift_s`` (default 12 h).
    receiving_hours_s
        Default receiving hours of facilities (default 07:00-19:00).
    urgent_by_s
        Urgent loads arrive by this time when possible (default 12:00).
    facilities
        Per-facility receiving hours and contacts, by facility id.
    service
        Service times.
    time_limit_s, seed, max_iterations
        Solver settings (default 5 s, seed 0, no iteration limit; set ``max_iterations`` for
        reproducible routes).
    """

    start_s: int = 6 * 3600
    shift_s: int = 12 * 3600
    receiving_hours_s: tuple[int, int] = (7 * 3600, 19 * 3600)
    urgent_by_s: int = 12 * 3600
    facilities: Mapping[str, FacilityOptions] = field(default_factory=lambda: MappingProxyType({}))
    service: ServiceTimes = field(default_factory=ServiceTimes)
    time_limit_s: float = 5.0
    seed: int = 0
    max_iterations: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.facilities, MappingProxyType):
            object.__setattr__(self, "facilities", MappingProxyType(dict(self.facilities)))

    @classmethod
    def from_mapping(cls, values: Any, *, start_time: Any = None) -> DispatchOptions:
        """Build options from a request's ``options`` object (and its ``start_time``).

        Keys: ``shift_hours``, ``receiving_hours`` (``["07:00", "19:00"]``), ``urgent_by``,
        ``facilities`` (``{id: {"receiving_hours": [...], "contact": ..., "phone": ...}}``),
        ``service`` (fields of :class:`ServiceTimes`), ``time_limit_s``, ``seed``,
        ``max_iterations``.

        Raises
        ------
        InvalidInputError
            Listing every bad key or value, each named as ``options.<key>``.
        """
        problems: list[str] = []
        kwargs: dict[str, Any] = {}
        if start_time is not None:
            start = _parse_clock("start_time", start_time, problems)
            if start is not None:
                kwargs["start_s"] = start
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise InvalidInputError.from_problems(
                "dispatch options", [f"options: must be an object, got {values!r}"]
            )
        allowed = {
            "shift_hours",
            "receiving_hours",
            "urgent_by",
            "facilities",
            "service",
            "time_limit_s",
            "seed",
            "max_iterations",
        }
        problems += [
            f"options.{k}: unknown key (allowed: {', '.join(sorted(allowed))})"
            for k in sorted(set(values) - allowed)
        ]
        if "shift_hours" in values:
            hours = values["shift_hours"]
            if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24:
                problems.append(f"options.shift_hours: must be a number in (0, 24], got {hours!r}")
            else:
                kwargs["shift_s"] = round(hours * 3600)
        if "receiving_hours" in values:
            window = _parse_window("options.receiving_hours", values["receiving_hours"], problems)
            if window is not None:
                kwargs["receiving_hours_s"] = window
        if "urgent_by" in values:
            urgent = _parse_clock("options.urgent_by", values["urgent_by"], problems)
            if urgent is not None:
                kwargs["urgent_by_s"] = urgent
        if "facilities" in values:
            kwargs["facilities"] = _parse_facility_options(values["facilities"], problems)
        if "service" in values:
            service = values["service"]
            known = {f.name for f in dataclasses.fields(ServiceTimes)}
            if not isinstance(service, dict):
                problems.append(f"options.service: must be an object, got {service!r}")
            else:
                problems += [
                    f"options.service.{k}: unknown key (allowed: {', '.join(sorted(known))})"
                    for k in sorted(set(service) - known)
                ]
                try:
                    kwargs["service"] = ServiceTimes(
                        **{k: v for k, v in service.items() if k in known}
                    )
                except InvalidInputError as error:
                    problems += error.problems
        if "time_limit_s" in values:
            limit = values["time_limit_s"]
            if (
                isinstance(limit, bool)
                or not isinstance(limit, int | float)
                or not 0 < limit <= MAX_TIME_LIMIT_S
            ):
                problems.append(
                    f"options.time_limit_s: must be a number in (0, {MAX_TIME_LIMIT_S:g}], "
                    f"got {limit!r}"
                )
            else:
                kwargs["time_limit_s"] = float(limit)
        if "seed" in values:
            seed = values["seed"]
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
                problems.append(f"options.seed: must be an integer in [0, 2^31), got {seed!r}")
            else:
                kwargs["seed"] = seed
        if "max_iterations" in values and values["max_iterations"] is not None:
            iterations = values["max_iterations"]
            if (
                isinstance(iterations, bool)
                or not isinstance(iterations, int)
                or not 1 <= iterations <= 1_000_000
            ):
                problems.append(
                    f"options.max_iterations: must be an integer in [1, 1000000], "
                    f"got {iterations!r}"
                )
            else:
                kwargs["max_iterations"] = iterations
        options = cls(**kwargs) if not problems else None
        if options is not None and options.start_s + options.shift_s > 36 * 3600:
            problems.append("options.shift_hours: the shift must end by 12:00 the next day")
        if problems or options is None:
            raise InvalidInputError.from_problems("dispatch options", problems)
        return options


def _parse_window(where: str, value: Any, problems: list[str]) -> tuple[int, int] | None:
    if not (isinstance(value, list) and len(value) == 2):
        problems.append(f'{where}: must be ["HH:MM", "HH:MM"], got {value!r}')
        return None
    start = _parse_clock(f"{where}[0]", value[0], problems)
    end = _parse_clock(f"{where}[1]", value[1], problems)
    if start is None or end is None:
        return None
    if start >= end:
        problems.append(
            f"{where}: opens at {value[0]} but closes at {value[1]}; give [open, close]"
        )
        return None
    return (start, end)


def _parse_facility_options(value: Any, problems: list[str]) -> dict[str, FacilityOptions]:
    out: dict[str, FacilityOptions] = {}
    if not isinstance(value, dict):
        problems.append(
            f"options.facilities: must be an object keyed by facility id, got {value!r}"
        )
        return out
    for facility_id, entry in value.items():
        where = f"options.facilities.{facility_id}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be an object, got {entry!r}")
            continue
        unknown = sorted(set(entry) - {"receiving_hours", "contact", "phone"})
        problems += [
            f"{where}.{k}: unknown key (allowed: contact, phone, receiving_hours)" for k in unknown
        ]
        hours = (
            _parse_window(f"{where}.receiving_hours", entry["receiving_hours"], problems)
            if "receiving_hours" in entry
            else None
        )
        texts = {}
        for key in ("contact", "phone"):
            text = entry.get(key, "")
            if not isinstance(text, str) or len(text) > 200:
                problems.append(f"{where}.{key}: must be a text of at most 200 characters")
                text = ""
            texts[key] = text
        out[str(facility_id)] = FacilityOptions(hours, texts["contact"], texts["phone"])
    return out


@dataclass(frozen=True, slots=True)
class FleetVehicle:
    """A vehicle available for the day: a cryogenic tanker (kg of LOX) or a cylinder truck.

    Raises
    ------
    InvalidInputError
        If the id or depot is empty, or the capacity of its kind is missing or not positive.
    """

    vehicle_id: str
    kind: VehicleKind
    home_depot_id: str
    tank_capacity_lox_kg: int = 0
    cylinder_capacity: int = 0
    plate: str = ""
    operator_id: str = ""

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.vehicle_id, str) or not self.vehicle_id.strip():
            problems.append(f"vehicle_id: must be a non-empty text, got {self.vehicle_id!r}")
        if not isinstance(self.home_depot_id, str) or not self.home_depot_id.strip():
            problems.append(f"home_depot_id: must be a supplier id, got {self.home_depot_id!r}")
        capacity_name = (
            "tank_capacity_lox_kg"
            if self.kind == VehicleKind.CRYOGENIC_TANKER
            else "cylinder_capacity"
        )
        capacity = getattr(self, capacity_name)
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity <= 0:
            problems.append(
                f"{capacity_name}: must be a positive whole number for a {self.kind}, "
                f"got {capacity!r}"
            )
        if problems:
            raise InvalidInputError.from_problems(f"vehicle {self.vehicle_id!r}", problems)

    @property
    def capacity(self) -> tuple[int, int]:
        """Capacity in the dispatch's load dimensions ``(lox_kg, cylinders)``."""
        if self.kind == VehicleKind.CRYOGENIC_TANKER:
            return (self.tank_capacity_lox_kg, 0)
        return (0, self.cylinder_capacity)

    @classmethod
    def from_registry(cls, record: Any) -> FleetVehicle:
        """Build from a registry :class:`data.schema.registry.Vehicle` (capacity rounded down)."""
        return cls(
            vehicle_id=record.vehicle_id,
            kind=VehicleKind(record.kind),
            home_depot_id=record.home_depot_id or "",
            tank_capacity_lox_kg=int(record.tank_capacity_lox_kg or 0),
            cylinder_capacity=int(record.cylinder_capacity or 0),
            plate=record.plate or "",
            operator_id=record.operator_id or "",
        )


def vehicles_from_mapping(values: Any) -> tuple[FleetVehicle, ...]:
    """Parse a request's ``vehicles`` list (objects like the registry's vehicles).

    Each object: ``vehicle_id``, ``kind`` (``cryogenic_tanker`` or ``cylinder_truck``),
    ``home_depot_id`` (a supplier of the plan), ``tank_capacity_lox_kg`` or ``cylinder_capacity``,
    optional ``plate``, ``operator_id``.

    Raises
    ------
    InvalidInputError
        Listing every problem as ``vehicles[k].<field>``.
    """
    if not isinstance(values, list) or not values:
        raise InvalidInputError.from_problems(
            "vehicles", [f"vehicles: must be a non-empty list of vehicles, got {values!r}"]
        )
    problems: list[str] = []
    out: list[FleetVehicle] = []
    allowed = {
        "vehicle_id",
        "kind",
        "home_depot_id",
        "tank_capacity_lox_kg",
        "cylinder_capacity",
        "plate",
        "operator_id",
    }
    for k, item in enumerate(values):
        where = f"vehicles[{k}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object, got {item!r}")
            continue
        problems += [
            f"{where}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})"
            for key in sorted(set(item) - allowed)
        ]
        kind = item.get("kind")
        if kind not in {m.value for m in VehicleKind}:
            problems.append(
                f"{where}.kind: must be cryogenic_tanker or cylinder_truck, got {kind!r}"
            )
            continue
        try:
            vehicle = FleetVehicle(
                vehicle_id=item.get("vehicle_id"),  # type: ignore[arg-type]
                kind=VehicleKind(kind),
                home_depot_id=item.get("home_depot_id"),  # type: ignore[arg-type]
                tank_capacity_lox_kg=item.get("tank_capacity_lox_kg", 0),
                cylinder_capacity=item.get("cylinder_capacity", 0),
                plate=str(item.get("plate") or ""),
                operator_id=str(item.get("operator_id") or ""),
            )
        except InvalidInputError as error:
            problems += [f"{where}.{p}" for p in error.problems]
            continue
        if any(v.vehicle_id == vehicle.vehicle_id for v in out):
            problems.append(f"{where}.vehicle_id: {vehicle.vehicle_id!r} is used twice")
        out.append(vehicle)
    if problems:
        raise InvalidInputError.from_problems("vehicles", problems)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Stop:
    """A place a route visits: a supplier (where loads are picked up) or a facility."""

    place_id: str
    name: str
    lon: float
    lat: float
    kind: str  # "supplier" or "facility"
    address: str = ""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One flow of the plan on the routed day, in the vehicles' units.

    ``quantity`` is kg of liquid oxygen (``unit`` ``"kg_lox"``, rounded up from the plan's tonnes)
    or whole cylinders (``unit`` ``"cylinders_40L"`` etc.). ``flow_index`` is its position in the
    plan's ``allocation.flows``.
    """

    flow_index: int
    supplier_id: str
    facility_id: str
    product: str
    quantity: int
    unit: str
    quantity_m3: float
    urgent: bool


@dataclass(frozen=True, slots=True)
class Load:
    """What one vehicle carries for one delivery: the whole delivery or one part of a split."""

    load_id: str
    delivery: Delivery
    quantity: int
    part: int
    parts: int

    @property
    def amount(self) -> tuple[int, int]:
        """Amount in the load dimensions ``(lox_kg, cylinders)``."""
        if self.delivery.product == "bulk_liquid":
            return (self.quantity, 0)
        return (0, self.quantity)

    @property
    def note(self) -> str:
        """Why the delivery was split, if it was (empty otherwise)."""
        if self.parts == 1:
            return ""
        return (
            f"delivery of {self.delivery.quantity} {self.delivery.unit} is larger than any "
            f"vehicle of its kind: split into {self.parts} loads; this is part {self.part}"
        )


@dataclass(frozen=True, slots=True)
class DispatchRequest:
    """Everything a dispatch depends on besides the road network.

    Built with :func:`dispatch_request_from_plan`; a what-if is a copy with fields replaced.
    """

    plan_id: str
    region_id: str
    date: dt.date
    day: int
    suppliers: Mapping[str, Stop]
    facilities: Mapping[str, Stop]
    deliveries: tuple[Delivery, ...]
    vehicles: tuple[FleetVehicle, ...]
    options: DispatchOptions = field(default_factory=DispatchOptions)
    vehicles_excluded: tuple[tuple[str, str], ...] = ()


def _kg_from_tonnes(tonnes: float) -> int:
    # Explicit scaling step: tonnes of LOX -> whole kg, rounded up so no allocated oxygen is lost
    # (the 1e-6 absorbs the plan's 4-decimal rounding of tonnes).
    return math.ceil(tonnes * 1000.0 - 1e-6)


def dispatch_request_from_plan(
    plan: Mapping[str, Any],
    *,
    day: Any,
    vehicles: Sequence[FleetVehicle],
    options: DispatchOptions | None = None,
    plan_id: str = "",
    addresses: Mapping[str, str] | None = None,
) -> DispatchRequest:
    """Gather the deliveries of one day of a stored plan (``plan.json`` as written by planning).

    Parameters
    ----------
    plan
        The plan document (:func:`planning.plan_to_dict` output).
    day
        Day offset in the plan's horizon (0 = the plan's start date).
    vehicles
        The fleet. Vehicles whose home depot is not a supplier of the plan are left out and listed
        in ``vehicles_excluded`` with the reason.
    options
        Dispatch settings (default :class:`DispatchOptions`).
    plan_id
        The plan's id, echoed in the answer.
    addresses
        Street addresses by facility or supplier id (from the registry), for the route sheets.

    Raises
    ------
    InvalidInputError
        If ``day`` is outside the horizon, the plan document lacks a part, a flow's unit is unknown,
        or no vehicle can start from a supplier of the plan.
    """
    options = options if options is not None else DispatchOptions()
    addresses = addresses or {}
    problems: list[str] = []
    horizon = plan.get("horizon_days")
    if (
        isinstance(day, bool)
        or not isinstance(day, int)
        or not isinstance(horizon, int)
        or not 0 <= day < horizon
    ):
        problems.append(
            f"day: must be an integer from 0 to {(horizon or 1) - 1} (the plan's "
            f"horizon), got {day!r}"
        )
    try:
        start_date = dt.date.fromisoformat(plan["start_date"])
        suppliers = {
            s["supplier_id"]: Stop(
                s["supplier_id"],
                s["name"],
                float(s["location"][0]),
                float(s["location"][1]),
                "supplier",
                addresses.get(s["supplier_id"], ""),
            )
            for s in plan["suppliers"]
        }
        facility_rows = {f["facility_id"]: f for f in plan["facilities"]}
        flows = plan["allocation"]["flows"]
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise InvalidInputError(
            f"plan: the stored plan document lacks {error}; recompute it with POST /plans"
        ) from None
    if problems:
        raise InvalidInputError.from_problems("dispatch request", problems)
    facilities: dict[str, Stop] = {}
    deliveries: list[Delivery] = []
    for index, flow in enumerate(flows):
        if flow["day"] != day:
            continue
        row = facility_rows[flow["facility_id"]]
        facilities[row["facility_id"]] = Stop(
            row["facility_id"],
            row["name"],
            float(row["location"][0]),
            float(row["location"][1]),
            "facility",
            addresses.get(row["facility_id"], ""),
        )
        first_short = row.get("first_shortfall_day")
        urgent = first_short is not None and first_short <= day
        if flow["product"] == "bulk_liquid" and flow["unit"] == "t_lox":
            quantity, unit = _kg_from_tonnes(float(flow["quantity"])), "kg_lox"
        elif flow["product"] == "cylinder" and str(flow["unit"]).startswith("cylinders_"):
            quantity, unit = math.ceil(float(flow["quantity"]) - 1e-9), str(flow["unit"])
        else:
            problems.append(
                f"plan.allocation.flows[{index}].unit: {flow['unit']!r} for product "
                f"{flow['product']!r} is not t_lox or cylinders_<size>"
            )
            continue
        if quantity > 0:
            deliveries.append(
                Delivery(
                    index,
                    flow["supplier_id"],
                    flow["facility_id"],
                    flow["product"],
                    quantity,
                    unit,
                    float(flow["quantity_m3"]),
                    urgent,
                )
            )
    usable = [v for v in vehicles if v.home_depot_id in suppliers]
    excluded = tuple(
        (
            v.vehicle_id,
            f"home depot {v.home_depot_id!r} is not a supplier of this plan "
            f"(known: {', '.join(sorted(suppliers))})",
        )
        for v in vehicles
        if v.home_depot_id not in suppliers
    )
    if not usable:
        problems.append(
            "vehicles: no vehicle has a home depot among the plan's suppliers "
            f"({', '.join(sorted(suppliers))}); give vehicles with such a home_depot_id"
        )
    if problems:
        raise InvalidInputError.from_problems("dispatch request", problems)
    return DispatchRequest(
        plan_id=plan_id,
        region_id=str(plan.get("region", "")),
        date=start_date + dt.timedelta(days=day),
        day=day,
        suppliers=MappingProxyType(suppliers),
        facilities=MappingProxyType(facilities),
        deliveries=tuple(deliveries),
        vehicles=tuple(usable),
        options=options,
        vehicles_excluded=excluded,
    )


# --------------------------------------------------------------------------- problem and solve


def split_deliveries(
    deliveries: Sequence[Delivery],
    vehicles: Sequence[FleetVehicle],
) -> tuple[Load, ...]:
    """Cut each delivery into loads no larger than the largest vehicle of its kind.

    A delivery of ``q`` with largest capacity ``c < q`` becomes ``ceil(q / c)`` loads of
    near-equal size (the first ones one unit larger). Deliveries no vehicle of the right kind can
    carry stay whole (they are reported unassigned by the solver's pre-check).
    """
    loads: list[Load] = []
    for number, delivery in enumerate(deliveries, start=1):
        kind = _KIND_OF_PRODUCT[delivery.product]
        capacities = [max(v.capacity) for v in vehicles if v.kind == kind]
        largest = max(capacities, default=0)
        parts = math.ceil(delivery.quantity / largest) if 0 < largest < delivery.quantity else 1
        base, extra = divmod(delivery.quantity, parts)
        for part in range(1, parts + 1):
            load_id = f"L{number}" if parts == 1 else f"L{number}.{part}"
            loads.append(Load(load_id, delivery, base + (1 if part <= extra else 0), part, parts))
    return tuple(loads)


@dataclass(frozen=True, slots=True)
class DispatchProblem:
    """The route problem of a dispatch and the maps from its positions back to business ids."""

    problem: RouteProblem
    place_ids: tuple[str, ...]  # location_idx -> supplier or facility id
    loads: tuple[Load, ...]  # loads in the problem (shipment order)
    windows: Mapping[str, tuple[int, int]]  # load_id -> delivery window (s after midnight)
    urgent_window_missed: Mapping[str, str]  # load_id -> why the urgent window was relaxed
    dropped: tuple[tuple[Load, str], ...]  # loads left out before solving, with the reason


def _seconds(values: np.ndarray) -> np.ndarray:
    """Scale float seconds or metres to integers explicitly (rounded; inf -> UNREACHABLE_S)."""
    out = np.full(values.shape, UNREACHABLE_S, dtype=np.int64)
    finite = np.isfinite(values)
    out[finite] = np.rint(values[finite]).astype(np.int64)
    np.fill_diagonal(out, 0)
    return out


def build_dispatch_problem(
    request: DispatchRequest,
    network: RoadNetwork,
    region: Region,
) -> DispatchProblem:
    """Turn a dispatch request into a route problem on road travel times.

    Places the roads do not reach are left out: their loads are returned in ``dropped`` with the
    snapping reason, and vehicles based there are not used.

    Raises
    ------
    InvalidInputError
        If no vehicle's home depot is reachable by road.
    """
    from routing.travel_time import travel_time_matrix
    from routing.vehicle_routes import REASON_TIME_WINDOW, explain_unservable_tasks

    options = request.options
    loads = split_deliveries(request.deliveries, request.vehicles)
    used_ids: list[str] = []
    for place_id in [v.home_depot_id for v in request.vehicles] + [
        x for load in loads for x in (load.delivery.supplier_id, load.delivery.facility_id)
    ]:
        if place_id not in used_ids:
            used_ids.append(place_id)
    stops = {**request.suppliers, **request.facilities}
    places = [Place(pid, stops[pid].lon, stops[pid].lat, stops[pid].name) for pid in used_ids]
    matrix = travel_time_matrix(
        network, places, places, gateways=region.gateways, max_snap_m=region.max_snap_m
    )
    reachable = [pid for pid in used_ids if matrix.snaps[pid].reachable]
    keep = np.array([used_ids.index(pid) for pid in reachable], dtype=np.int64)
    durations = _seconds(matrix.duration_s[np.ix_(keep, keep)])
    distances = _seconds(matrix.distance_m[np.ix_(keep, keep)])
    idx = {pid: k for k, pid in enumerate(reachable)}

    vehicles = []
    for fleet_vehicle in request.vehicles:
        depot = idx.get(fleet_vehicle.home_depot_id)
        if depot is None:
            continue
        skill = (
            SKILL_BULK_LIQUID
            if fleet_vehicle.kind == VehicleKind.CRYOGENIC_TANKER
            else SKILL_CYLINDERS
        )
        vehicles.append(
            Vehicle(
                fleet_vehicle.vehicle_id,
                depot,
                depot,
                capacity=fleet_vehicle.capacity,
                time_window=TimeWindow(options.start_s, options.start_s + options.shift_s),
                skills=frozenset({skill}),
            )
        )
    if not vehicles:
        raise InvalidInputError.from_problems(
            "dispatch request",
            [
                "vehicles: no vehicle's home depot is reachable by road: "
                + "; ".join(
                    f"{v.home_depot_id}: {matrix.snaps[v.home_depot_id].reason}"
                    for v in request.vehicles
                )
            ],
        )

    dropped: list[tuple[Load, str]] = []
    kept: list[Load] = []
    for load in loads:
        bad = [
            pid for pid in (load.delivery.supplier_id, load.delivery.facility_id) if pid not in idx
        ]
        if bad:
            dropped.append(
                (
                    load,
                    "unreachable by road: "
                    + "; ".join(f"{pid}: {matrix.snaps[pid].reason}" for pid in bad),
                )
            )
        else:
            kept.append(load)

    def window_of(load: Load, urgent: bool) -> tuple[int, int]:
        facility = options.facilities.get(load.delivery.facility_id)
        opens, closes = (
            facility.receiving_hours_s
            if facility and facility.receiving_hours_s
            else options.receiving_hours_s
        )
        if urgent and options.urgent_by_s > opens:
            closes = min(closes, options.urgent_by_s)
        return opens, closes

    def shipments_for(urgent_ok: Mapping[str, bool]) -> tuple[Shipment, ...]:
        out = []
        for load in kept:
            product = load.delivery.product
            opens, closes = window_of(load, urgent_ok[load.load_id])
            out.append(
                Shipment(
                    pickup=ShipmentStep(
                        f"{load.load_id}:load",
                        idx[load.delivery.supplier_id],
                        options.service.load_s(product, load.quantity),
                    ),
                    delivery=ShipmentStep(
                        f"{load.load_id}:drop",
                        idx[load.delivery.facility_id],
                        options.service.unload_s(product, load.quantity),
                        TimeWindow(opens, closes),
                    ),
                    amount=load.amount,
                    priority=URGENT_PRIORITY if load.delivery.urgent else 0,
                    skills=frozenset({_PRODUCT_SKILL[product]}),
                )
            )
        return tuple(out)

    urgent_ok = {load.load_id: load.delivery.urgent for load in kept}
    problem = RouteProblem(
        durations_s=durations,
        vehicles=tuple(vehicles),
        shipments=shipments_for(urgent_ok),
        distances_m=distances,
    )
    missed: dict[str, str] = {}
    if any(urgent_ok.values()):
        # An urgent load no vehicle can bring by the urgent time, even alone, is better late than
        # never: relax it to the receiving hours and say so.
        for position, reason in explain_unservable_tasks(problem).items():
            load = kept[position]
            if load.delivery.urgent and reason.startswith(REASON_TIME_WINDOW):
                urgent_ok[load.load_id] = False
                missed[load.load_id] = (
                    f"cannot arrive by {_clock_text(options.urgent_by_s)}: "
                    f"{reason}; delivered within the receiving hours instead"
                )
        if missed:
            problem = dataclasses.replace(problem, shipments=shipments_for(urgent_ok))
    windows = {load.load_id: window_of(load, urgent_ok[load.load_id]) for load in kept}
    return DispatchProblem(
        problem,
        tuple(reachable),
        tuple(kept),
        MappingProxyType(windows),
        MappingProxyType(missed),
        tuple(dropped),
    )


@dataclass(frozen=True, slots=True)
class DispatchResult:
    """A dispatch's answer: the problem, the validated route plan, and the request behind them."""

    request: DispatchRequest
    dispatch_problem: DispatchProblem
    plan: RoutePlan


def plan_dispatch(request: DispatchRequest, network: RoadNetwork, region: Region) -> DispatchResult:
    """Route the day's loads: build the problem, solve it, validate the answer independently.

    Loads that cannot be served are part of the answer (``unassigned`` with a reason each);
    nothing here raises for infeasibility.

    Raises
    ------
    InvalidInputError
        If no vehicle's home depot is reachable by road.
    routing.route_validation.InvalidRoutePlanError
        If the solver's plan breaks a rule of its problem (a bug: the plan is not returned).
    """
    from routing.route_validation import validate_route_plan
    from routing.vehicle_routes import SolverParams, solve_routes

    dispatch_problem = build_dispatch_problem(request, network, region)
    options = request.options
    params = SolverParams(
        time_limit_s=options.time_limit_s, seed=options.seed, max_iterations=options.max_iterations
    )
    plan = solve_routes(dispatch_problem.problem, params)
    validate_route_plan(dispatch_problem.problem, plan)
    return DispatchResult(request, dispatch_problem, plan)


# --------------------------------------------------------------------------- serialisation


def _local(date: dt.date, seconds: int) -> str:
    midnight = dt.datetime.combine(date, dt.time(0), tzinfo=LOCAL_TZ)
    return (midnight + dt.timedelta(seconds=int(seconds))).isoformat()


def _named_load(amount: Sequence[int]) -> dict[str, int]:
    return {name: int(value) for name, value in zip(LOAD_DIMENSIONS, amount, strict=True)}


REASON_FLEET_TIME = "fleet time exhausted"
"""Reason of loads left out because the shifts and time windows are full with other loads."""


def _explain_reason(result: DispatchResult, load: Load, reason: str) -> str:
    """Say why a load is unassigned in the dispatcher's terms, with the numbers behind it.

    The core's "fleet capacity" reason counts each vehicle's capacity once, but here a vehicle
    goes back to a supplier to load again, so what runs out is time: say how much.
    """
    from routing.vehicle_routes import (
        REASON_FLEET,
        REASON_NO_ROOM,
        REASON_NOT_SERVED,
        REASON_SKILLS,
    )

    if reason.startswith(REASON_SKILLS):
        if f"[{SKILL_BULK_LIQUID}]" in reason:
            return "no cryogenic tanker available for bulk liquid (" + reason + ")"
        return "no cylinder truck available for cylinders (" + reason + ")"
    if not reason.startswith((REASON_FLEET, REASON_NOT_SERVED, REASON_NO_ROOM)):
        return reason
    dproblem, options = result.dispatch_problem, result.request.options
    kind = _KIND_OF_PRODUCT[load.delivery.product]
    fleet = [
        v
        for v in result.request.vehicles
        if v.kind == kind and v.home_depot_id in dproblem.place_ids
    ]
    busy_s = sum(
        route.steps[-1].arrival_s - route.steps[0].arrival_s
        for route in result.plan.routes
        if any(v.vehicle_id == route.vehicle_id for v in fleet)
    )
    durations = dproblem.problem.durations_s
    supplier = dproblem.place_ids.index(load.delivery.supplier_id)
    facility = dproblem.place_ids.index(load.delivery.facility_id)
    service = options.service.load_s(
        load.delivery.product, load.quantity
    ) + options.service.unload_s(load.delivery.product, load.quantity)
    alone_s = min(
        int(durations[d, supplier] + durations[supplier, facility] + durations[facility, d])
        + service
        for d in (dproblem.place_ids.index(v.home_depot_id) for v in fleet)
    )
    opens, closes = dproblem.windows[load.load_id]
    return (
        f"{REASON_FLEET_TIME}: the {len(fleet)} {kind}(s) spend {busy_s / 3600:.1f} h of their "
        f"{len(fleet) * options.shift_s / 3600:.1f} h of shifts ({_clock_text(options.start_s)}-"
        f"{_clock_text(options.start_s + options.shift_s)}) on other loads (urgent ones first); "
        f"this load alone takes at least {alone_s / 3600:.1f} h (depot -> supplier -> facility -> "
        f"depot with loading and unloading) and must arrive between {_clock_text(opens)} and "
        f"{_clock_text(closes)}; add a vehicle, lengthen the shift or widen the receiving hours"
    )


def routes_to_dict(result: DispatchResult, *, routes_id: str = "") -> dict[str, Any]:
    """Return the routes as VROOM-like JSON: ``code``, ``summary``, ``unassigned``, ``routes``.

    Times are ISO 8601 with the Asia/Ho_Chi_Minh offset; ``duration``, ``service`` and
    ``waiting_time`` are seconds, ``distance`` metres, loads named ``lox_kg`` and ``cylinders``,
    locations ``[lon, lat]``.
    """
    request, dproblem, plan = result.request, result.dispatch_problem, result.plan
    date = request.date
    stops = {**request.suppliers, **request.facilities}
    loads = {load.load_id: load for load in dproblem.loads}
    loads.update({load.load_id: load for load, _ in dproblem.dropped})
    fleet = {v.vehicle_id: v for v in request.vehicles}

    def load_fields(load: Load) -> dict[str, Any]:
        return {
            "load_id": load.load_id,
            "supplier_id": load.delivery.supplier_id,
            "facility_id": load.delivery.facility_id,
            "product": load.delivery.product,
            "quantity": load.quantity,
            "unit": load.delivery.unit,
        }

    routes = []
    for route in plan.routes:
        vehicle = fleet[str(route.vehicle_id)]
        steps = []
        for step in route.steps:
            place_id = dproblem.place_ids[step.location_idx]
            stop = stops[place_id]
            departure = step.arrival_s + step.waiting_s + step.service_s
            entry: dict[str, Any] = {"type": step.kind}
            if step.task_id is not None:
                load_id = str(step.task_id).rsplit(":", 1)[0]
                entry["id"] = step.task_id
                entry.update(load_fields(loads[load_id]))
                if step.kind == "delivery":
                    opens, closes = dproblem.windows[load_id]
                    entry["time_window"] = [_local(date, opens), _local(date, closes)]
            entry.update(
                {
                    "place_id": place_id,
                    "name": stop.name,
                    "address": stop.address,
                    "location": [round(stop.lon, 6), round(stop.lat, 6)],
                    "arrival": _local(date, step.arrival_s),
                    "departure": _local(
                        date, departure if step.kind != "start" else step.arrival_s
                    ),
                    "waiting_time": step.waiting_s,
                    "service": step.service_s,
                    "duration": step.travel_s,
                    "distance": step.distance_m,
                    "load": _named_load(step.load),
                }
            )
            steps.append(entry)
        routes.append(
            {
                "vehicle": vehicle.vehicle_id,
                "kind": str(vehicle.kind),
                "plate": vehicle.plate,
                "operator_id": vehicle.operator_id,
                "home_depot_id": vehicle.home_depot_id,
                "capacity": _named_load(vehicle.capacity),
                "start": steps[0]["departure"],
                "end": steps[-1]["arrival"],
                "cost": route.cost,
                "duration": route.travel_s,
                "service": route.service_s,
                "waiting_time": route.waiting_s,
                "distance": route.distance_m,
                "delivery": _named_load(route.delivery),
                "priority": route.priority,
                "steps": steps,
            }
        )

    unassigned = []
    for load, reason in dproblem.dropped:
        for kind, suffix, place_id in (
            ("pickup", "load", load.delivery.supplier_id),
            ("delivery", "drop", load.delivery.facility_id),
        ):
            stop = stops[place_id]
            unassigned.append(
                {
                    "id": f"{load.load_id}:{suffix}",
                    "type": kind,
                    **load_fields(load),
                    "location": [round(stop.lon, 6), round(stop.lat, 6)],
                    "reason": reason,
                }
            )
    for task in plan.unassigned:
        load = loads[str(task.task_id).rsplit(":", 1)[0]]
        stop = stops[dproblem.place_ids[task.location_idx]]
        unassigned.append(
            {
                "id": task.task_id,
                "type": task.kind,
                **load_fields(load),
                "location": [round(stop.lon, 6), round(stop.lat, 6)],
                "reason": _explain_reason(result, load, task.reason),
            }
        )

    all_loads = list(dproblem.loads) + [load for load, _ in dproblem.dropped]
    options = request.options
    delivered = [0, 0]
    for route in plan.routes:
        delivered = [a + b for a, b in zip(delivered, route.delivery, strict=True)]
    return {
        "code": 0,
        "routes_id": routes_id,
        "plan_id": request.plan_id,
        "region": request.region_id,
        "day": request.day,
        "date": date.isoformat(),
        "timezone": str(LOCAL_TZ),
        "conventions": {
            "times": "ISO 8601, Asia/Ho_Chi_Minh",
            "duration_service_waiting_time": "seconds",
            "distance": "metres",
            "location": "[lon, lat] WGS84",
            "load": "lox_kg: kg of liquid oxygen; cylinders: full cylinders",
        },
        "summary": {
            "routes": len(routes),
            "unassigned": len(unassigned),
            "loads": len(all_loads),
            "loads_unassigned": len({u["load_id"] for u in unassigned}),
            "cost": plan.cost,
            "duration": sum(r.travel_s for r in plan.routes),
            "service": sum(r.service_s for r in plan.routes),
            "waiting_time": sum(r.waiting_s for r in plan.routes),
            "distance": sum(r.distance_m or 0 for r in plan.routes),
            "delivery": _named_load(delivered),
        },
        "solver": {
            "engine": plan.engine,
            "seed": options.seed,
            "time_limit_s": options.time_limit_s,
            "max_iterations": options.max_iterations,
            "runtime_s": round(plan.runtime_s, 3),
            "validated": True,
        },
        "options": {
            "start_time": _clock_text(options.start_s),
            "shift_hours": options.shift_s / 3600,
            "receiving_hours": [_clock_text(s) for s in options.receiving_hours_s],
            "urgent_by": _clock_text(options.urgent_by_s),
            "service": dataclasses.asdict(options.service),
        },
        "loads": [
            {
                **load_fields(load),
                "flow_index": load.delivery.flow_index,
                "delivery_quantity": load.delivery.quantity,
                "part": load.part,
                "parts": load.parts,
                "urgent": load.delivery.urgent,
                "note": load.note,
                "time_window": (
                    [_local(date, s) for s in dproblem.windows[load.load_id]]
                    if load.load_id in dproblem.windows
                    else None
                ),
                "urgent_window_missed": dproblem.urgent_window_missed.get(load.load_id),
            }
            for load in all_loads
        ],
        "unassigned": unassigned,
        "routes": routes,
        "vehicles_unused": [
            v.vehicle_id
            for v in request.vehicles
            if v.vehicle_id not in {r["vehicle"] for r in routes}
        ],
        "vehicles_excluded": [
            {"vehicle_id": vid, "reason": why} for vid, why in request.vehicles_excluded
        ],
        "contacts": {
            fid: {"contact": f.contact, "phone": f.phone}
            for fid, f in options.facilities.items()
            if f.contact or f.phone
        },
        "attribution": ATTRIBUTION,
    }


# --------------------------------------------------------------------------- geometry


def _leg_coordinates(
    network: RoadNetwork,
    region: Region,
    origin: Stop,
    destination: Stop,
    cache: dict[tuple[str, str], tuple[list[list[float]], bool]],
) -> tuple[list[list[float]], bool]:
    """Road path of one leg as ``[lon, lat]`` pairs, and whether part of it is off the map.

    A supplier outside the map is joined to the gateway giving the fastest trip by a straight
    segment (the region's measured gateway link; its road geometry is not on the map).
    """
    from routing.travel_time import road_path

    key = (origin.place_id, destination.place_id)
    if key in cache:
        return cache[key]
    links: dict[str, list[tuple[Any, float]]] = {}
    for gateway in region.gateways:
        for place_id, link in gateway.links.items():
            links.setdefault(place_id, []).append((gateway, link.extra_s))
    a_off, b_off = origin.place_id in links, destination.place_id in links
    point_a = Place(origin.place_id, origin.lon, origin.lat)
    point_b = Place(destination.place_id, destination.lon, destination.lat)

    def path(a: Place, b: Place) -> tuple[float, list[list[float]]]:
        found = road_path(network, a, b, max_snap_m=region.max_snap_m)
        return found.duration_s, [[lon, lat] for lon, lat in found.coordinates]

    coordinates: list[list[float]]
    if a_off and b_off:
        coordinates = [[origin.lon, origin.lat], [destination.lon, destination.lat]]
    elif a_off or b_off:
        best: tuple[float, list[list[float]]] | None = None
        for gateway, extra_s in links[origin.place_id if a_off else destination.place_id]:
            gate = Place(gateway.gateway_id, gateway.lon, gateway.lat)
            try:
                seconds, coords = path(gate, point_b) if a_off else path(point_a, gate)
            except NoRouteError:
                continue
            if best is None or seconds + extra_s < best[0]:
                best = (seconds + extra_s, coords)
        inner = best[1] if best is not None else []
        coordinates = (
            [[origin.lon, origin.lat], *inner]
            if a_off
            else [*inner, [destination.lon, destination.lat]]
        )
    else:
        coordinates = path(point_a, point_b)[1]
    rounded = [[round(lon, 6), round(lat, 6)] for lon, lat in coordinates]
    cache[key] = (rounded, a_off or b_off)
    return cache[key]


def routes_to_geojson(
    routes: Mapping[str, Any],
    network: RoadNetwork,
    region: Region,
) -> dict[str, Any]:
    """Return the routes as an RFC 7946 FeatureCollection (``[lon, lat]``, WGS84, 6 decimals).

    Per route: one ``LineString`` feature (``kind`` ``"route"``) following the roads from the home
    depot through every stop and back, then one ``Point`` feature per step (``kind`` ``"stop"``)
    in driving order with ``sequence``, ``arrival``, ``departure``, ``load`` and the quantity
    handled. Segments to suppliers outside the map are straight lines to the region's gateway
    (``off_map`` true on the route).

    Parameters
    ----------
    routes
        The answer of :func:`routes_to_dict`.
    """
    cache: dict[tuple[str, str], tuple[list[list[float]], bool]] = {}
    features: list[dict[str, Any]] = []
    for route in routes["routes"]:
        steps = route["steps"]
        line: list[list[float]] = []
        off_map = False
        for previous, step in itertools.pairwise(steps):
            if previous["place_id"] == step["place_id"]:
                continue
            lon_a, lat_a = previous["location"]
            lon_b, lat_b = step["location"]
            origin = Stop(previous["place_id"], previous["name"], lon_a, lat_a, "stop")
            destination = Stop(step["place_id"], step["name"], lon_b, lat_b, "stop")
            coords, leg_off_map = _leg_coordinates(network, region, origin, destination, cache)
            off_map |= leg_off_map
            line.extend(coords if not line else coords[1:] if coords[:1] == line[-1:] else coords)
        if len(line) < 2:
            line = [steps[0]["location"], steps[-1]["location"]]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {
                    "kind": "route",
                    "vehicle": route["vehicle"],
                    "vehicle_kind": route["kind"],
                    "start": route["start"],
                    "end": route["end"],
                    "duration_s": route["duration"],
                    "distance_m": route["distance"],
                    "off_map": off_map,
                },
            }
        )
        for sequence, step in enumerate(steps):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": step["location"]},
                    "properties": {
                        "kind": "stop",
                        "vehicle": route["vehicle"],
                        "sequence": sequence,
                        "type": step["type"],
                        "place_id": step["place_id"],
                        "name": step["name"],
                        "load_id": step.get("load_id"),
                        "quantity": step.get("quantity"),
                        "unit": step.get("unit"),
                        "arrival": step["arrival"],
                        "departure": step["departure"],
                        "load": step["load"],
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features, "attribution": ATTRIBUTION}


# --------------------------------------------------------------------------- route sheets

_TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Lệnh điều xe – Phiếu lộ trình",  # noqa: RUF001
        "vehicle": "Xe",
        "plate": "Biển số",
        "kind.cryogenic_tanker": "Xe bồn oxy lỏng",
        "kind.cylinder_truck": "Xe chở bình oxy",
        "date": "Ngày",
        "depot": "Nơi xuất phát / về",
        "driver": "Tài xế",
        "phone": "Điện thoại",
        "departure": "Giờ xuất phát",
        "return": "Giờ về dự kiến",
        "seq": "#",
        "stop": "Điểm dừng",
        "address": "Địa chỉ",
        "action": "Công việc",
        "quantity": "Số lượng",
        "arrival": "Giờ đến",
        "leave": "Giờ đi",
        "window": "Giờ nhận hàng",
        "contact": "Liên hệ",
        "signature": "Ký nhận",
        "type.start": "Xuất phát",
        "type.end": "Về nơi xuất phát",
        "type.pickup": "Nhận hàng",
        "type.delivery": "Giao hàng",
        "unit.kg_lox": "kg oxy lỏng",
        "unit.cylinders": "bình",
        "urgent": "KHẨN",
        "split": "Phần {part}/{parts} của đơn {total}",
        "load_after": "Hàng trên xe sau điểm này",
        "notes": "Ghi chú",
        "generated": "Lập lúc",
        "total": "Tổng",
        "drive": "Thời gian lái xe",
        "distance": "Quãng đường",
        "minutes": "phút",
        "km": "km",
    },
    "en": {
        "title": "Dispatch order – route sheet",  # noqa: RUF001
        "vehicle": "Vehicle",
        "plate": "Plate",
        "kind.cryogenic_tanker": "Liquid-oxygen tanker",
        "kind.cylinder_truck": "Cylinder truck",
        "date": "Date",
        "depot": "Start / return depot",
        "driver": "Driver",
        "phone": "Phone",
        "departure": "Departure",
        "return": "Expected return",
        "seq": "#",
        "stop": "Stop",
        "address": "Address",
        "action": "Task",
        "quantity": "Quantity",
        "arrival": "Arrive",
        "leave": "Leave",
        "window": "Receiving hours",
        "contact": "Contact",
        "signature": "Received (signature)",
        "type.start": "Start",
        "type.end": "Return to depot",
        "type.pickup": "Load",
        "type.delivery": "Deliver",
        "unit.kg_lox": "kg liquid oxygen",
        "unit.cylinders": "cylinders",
        "urgent": "URGENT",
        "split": "Part {part}/{parts} of a {total} order",
        "load_after": "On board after stop",
        "notes": "Notes",
        "generated": "Generated",
        "total": "Total",
        "drive": "Driving time",
        "distance": "Distance",
        "minutes": "min",
        "km": "km",
    },
}
LANGUAGES = tuple(_TEXTS)
"""Languages of the route sheets: Vietnamese (``vi``) and English (``en``)."""

_SHEET_CSS = """
@page { size: A4 portrait; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #000;
       margin: 0; }
h1 { font-size: 15pt; margin: 0 0 4mm; }
table { border-collapse: collapse; width: 100%; }
.head td { padding: 1mm 2mm; vertical-align: top; }
.stops { margin-top: 4mm; }
.stops th, .stops td { border: 0.3mm solid #000; padding: 1.5mm; vertical-align: top;
                       text-align: left; }
.stops th { background: #eee; }
.stops tr { page-break-inside: avoid; break-inside: avoid; }
.stops thead { display: table-header-group; }
.blank { display: inline-block; min-width: 40mm; border-bottom: 0.3mm dotted #000; }
.sign { min-width: 30mm; height: 12mm; }
.urgent { font-weight: bold; border: 0.3mm solid #000; padding: 0 1mm; }
.small { font-size: 8.5pt; }
footer { margin-top: 5mm; font-size: 8.5pt; }
@media screen { body { max-width: 200mm; margin: 8mm auto; } }
"""


def _hhmm(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).strftime("%H:%M")


def _quantity_text(step: Mapping[str, Any], texts: Mapping[str, str]) -> str:
    if step.get("quantity") is None:
        return ""
    unit = step["unit"]
    if unit == "kg_lox":
        return f"{step['quantity']:,} {texts['unit.kg_lox']}".replace(",", "\u202f")
    size = unit.removeprefix("cylinders_")
    return f"{step['quantity']} {texts['unit.cylinders']} {size}"


def route_sheet_html(routes: Mapping[str, Any], vehicle_id: str, *, lang: str = "vi") -> str:
    """Render a driver's printable route sheet (A4, print CSS) as an HTML document.

    Parameters
    ----------
    routes
        The answer of :func:`routes_to_dict`.
    vehicle_id
        The vehicle whose route is printed.
    lang
        ``"vi"`` (default) or ``"en"``.

    Returns
    -------
    str
        A complete UTF-8 HTML document; unknown contacts and the driver's name are blank lines to
        fill in by hand.

    Raises
    ------
    InvalidInputError
        If ``lang`` is not a known language or the vehicle has no route in ``routes``.
    """
    if lang not in _TEXTS:
        raise InvalidInputError(f"lang: must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    found = [r for r in routes["routes"] if r["vehicle"] == vehicle_id]
    if not found:
        raise InvalidInputError(
            f"vehicle_id: {vehicle_id!r} has no route in these routes (routes: "
            f"{', '.join(r['vehicle'] for r in routes['routes']) or 'none'})"
        )
    route = found[0]
    texts = _TEXTS[lang]
    loads = {load["load_id"]: load for load in routes.get("loads", [])}
    contacts = routes.get("contacts", {})
    esc = html.escape
    blank = '<span class="blank">&nbsp;</span>'
    rows = []
    for sequence, step in enumerate(route["steps"]):
        load = loads.get(step.get("load_id") or "")
        notes = []
        if load and load.get("urgent") and step["type"] == "delivery":
            notes.append(f'<span class="urgent">{esc(texts["urgent"])}</span>')
        if load and load.get("parts", 1) > 1:
            total = _quantity_text(
                {"quantity": load["delivery_quantity"], "unit": load["unit"]}, texts
            )
            notes.append(
                esc(texts["split"].format(part=load["part"], parts=load["parts"], total=total))
            )
        window = ""
        if step.get("time_window"):
            window = "–".join(_hhmm(t) for t in step["time_window"])  # noqa: RUF001
        contact_html = ""
        if step["type"] == "delivery":
            known = contacts.get(step["place_id"], {})
            name = esc(known["contact"]) if known.get("contact") else blank
            phone = esc(known["phone"]) if known.get("phone") else blank
            contact_html = f"{name}<br>{esc(texts['phone'])}: {phone}"
        on_board = ", ".join(
            _quantity_text(
                {"quantity": v, "unit": "kg_lox" if k == "lox_kg" else "cylinders_"}, texts
            ).strip()
            for k, v in step["load"].items()
            if v
        )
        rows.append(
            "<tr>"
            f"<td>{sequence}</td>"
            f'<td><b>{esc(step["name"])}</b><br><span class="small">'
            f"{esc(step.get('address') or '') or blank}</span></td>"
            f"<td>{esc(texts['type.' + step['type']])}"
            f"{'<br>' + ' '.join(notes) if notes else ''}</td>"
            f"<td>{esc(_quantity_text(step, texts))}</td>"
            f"<td>{_hhmm(step['arrival'])}</td>"
            f"<td>{_hhmm(step['departure'])}</td>"
            f"<td>{esc(window)}</td>"
            f'<td class="small">{contact_html}</td>'
            f'<td class="small">{esc(on_board)}</td>'
            f'<td class="sign"></td>'
            "</tr>"
        )
    depot = route["steps"][0]
    head = [
        (texts["vehicle"], f"{esc(route['vehicle'])} – {esc(texts['kind.' + route['kind']])}"),  # noqa: RUF001
        (texts["plate"], esc(route.get("plate") or "") or blank),
        (texts["date"], esc(routes["date"])),
        (texts["depot"], esc(depot["name"])),
        (texts["departure"], _hhmm(route["start"])),
        (texts["return"], _hhmm(route["end"])),
        (texts["driver"], blank),
        (texts["phone"], blank),
        (texts["drive"], f"{round(route['duration'] / 60)} {texts['minutes']}"),
        (texts["distance"], f"{(route['distance'] or 0) / 1000:.1f} {texts['km']}"),
    ]
    head_rows = "".join(
        f"<tr><td>{esc(a)}</td><td><b>{b}</b></td><td>{esc(c)}</td><td><b>{d}</b></td></tr>"
        for (a, b), (c, d) in zip(head[::2], head[1::2], strict=True)
    )
    columns = [
        "seq",
        "stop",
        "action",
        "quantity",
        "arrival",
        "leave",
        "window",
        "contact",
        "load_after",
        "signature",
    ]
    header = "".join(f"<th>{esc(texts[c])}</th>" for c in columns)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{esc(texts['title'])} – {esc(route['vehicle'])} – {esc(routes['date'])}</title>"  # noqa: RUF001
        f"<style>{_SHEET_CSS}</style></head><body>"
        f"<h1>{esc(texts['title'])}</h1>"
        f'<table class="head">{head_rows}</table>'
        f'<table class="stops"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        f"<p>{esc(texts['notes'])}: {blank}{blank}{blank}</p>"
        f"<footer>{esc(routes.get('plan_id') or '')} / {esc(routes.get('routes_id') or '')} – "  # noqa: RUF001
        f"{esc(routes['timezone'])} – Map data {esc(ATTRIBUTION)}</footer>"  # noqa: RUF001
        "</body></html>\n"
    )
