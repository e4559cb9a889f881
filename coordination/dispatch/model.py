"""The dispatch's domain types: fleet vehicles, options, the request, loads and the answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from data.errors import InvalidInputError
from data.schema.registry import VehicleKind
from data.schema.routes import RoutePlan, RouteProblem

ATTRIBUTION = "© OpenStreetMap contributors"

SKILL_BULK_LIQUID = 1
"""Skill of tankers, needed by bulk-liquid loads."""
SKILL_CYLINDERS = 2
"""Skill of cylinder trucks, needed by cylinder loads."""
SKILL_COMPANY_BASE = 100
"""Skills ``SKILL_COMPANY_BASE + k`` mark the company ``k`` (in name order) whose plants load."""
URGENT_PRIORITY = 50
"""Priority of urgent loads (0-100, VROOM's scale); other loads have 0."""
UNREACHABLE_S = 10_000_000
"""Travel time (s) standing for "no road path" between two reachable places (beyond any shift)."""
MAX_TIME_LIMIT_S = 60.0
"""Largest solver time limit a request may ask for (costly operations run with time limits)."""

PRODUCT_SKILL = MappingProxyType({"bulk_liquid": SKILL_BULK_LIQUID, "cylinder": SKILL_CYLINDERS})
"""Skill a load of each product needs."""
KIND_OF_PRODUCT = MappingProxyType(
    {"bulk_liquid": VehicleKind.CRYOGENIC_TANKER, "cylinder": VehicleKind.CYLINDER_TRUCK}
)
"""Kind of vehicle that carries each product."""


def company_of(supplier_name: str) -> str:
    """Return the company of a supplier: its name before the en dash (``"Company \u2013 site"``).

    The registry names suppliers ``"<company> \u2013 <site>"`` (Air Liquide Việt Nam, KCN Phú
    Mỹ); a name without the dash is its own company.
    """
    return supplier_name.split(" \u2013 ")[0].strip()


def clock_text(seconds: int) -> str:
    """Return seconds after midnight as a local time ``"HH:MM"``."""
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
    """Per-facility settings of a dispatch: receiving hours and the contact for the route sheet.

    ``cylinders_empty``: empty cylinders the facility reported for collection (its daily
    report's ``cylinders_empty``, all sizes); ``None`` (not reported): as many as the full ones
    delivered (see :mod:`coordination.dispatch.empties`).
    """

    receiving_hours_s: tuple[int, int] | None = None
    contact: str = ""
    phone: str = ""
    cylinders_empty: int | None = None


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
    min_drop_lox_share
        Smallest useful bulk drop, as a share of the smallest tanker's capacity in the fleet
        (default 0.1: 550 kg for a 5.5 t tanker). A smaller drop is not routed unless urgent.
    min_drop_cylinders
        Smallest useful cylinder drop (default 5 cylinders). A smaller drop is not routed unless
        urgent.
    cross_company_loading
        Whether a vehicle may load at another company's plant or filling station (default
        ``False``: each company's vehicles load only at that company's sites, the company being
        the supplier's name before its en dash). A coordinator who has agreed otherwise sets it.
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
    cross_company_loading: bool = False
    min_drop_lox_share: float = 0.1
    min_drop_cylinders: int = 5

    def __post_init__(self) -> None:
        if not isinstance(self.facilities, MappingProxyType):
            object.__setattr__(self, "facilities", MappingProxyType(dict(self.facilities)))

    @classmethod
    def from_mapping(cls, values: Any, *, start_time: Any = None) -> DispatchOptions:
        """Build options from a request's ``options`` object (and its ``start_time``).

        Keys: ``shift_hours``, ``receiving_hours`` (``["07:00", "19:00"]``), ``urgent_by``,
        ``facilities`` (``{id: {"receiving_hours": [...], "contact": ..., "phone": ...}}``),
        ``service`` (fields of :class:`ServiceTimes`), ``time_limit_s``, ``seed``,
        ``max_iterations``, ``cross_company_loading`` (true or false), ``min_drop_lox_share``
        (0 to 1), ``min_drop_cylinders`` (a whole number >= 0).

        Raises
        ------
        InvalidInputError
            Listing every bad key or value, each named as ``options.<key>``.
        """
        # The parsers build instances of this module's classes: imported here, not at the top.
        from coordination.dispatch.parsing import options_from_mapping

        return options_from_mapping(values, start_time=start_time)


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

    Built with :func:`~coordination.dispatch.dispatch_request_from_plan`; a what-if is a copy
    with fields replaced.
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


@dataclass(frozen=True, slots=True)
class DispatchProblem:
    """The route problem of a dispatch and the maps from its positions back to business ids."""

    problem: RouteProblem
    place_ids: tuple[str, ...]  # location_idx -> supplier or facility id
    loads: tuple[Load, ...]  # loads in the problem (shipment order)
    windows: Mapping[str, tuple[int, int]]  # load_id -> delivery window (s after midnight)
    urgent_window_missed: Mapping[str, str]  # load_id -> why the urgent window was relaxed
    dropped: tuple[tuple[Load, str], ...]  # loads left out before solving, with the reason
    # location_idx -> fixed time of a visit (s), counted in the travel time into the place from
    # another place, so that loads picked up or dropped together pay it once (issue 15).
    visit_s: tuple[int, ...] = ()
    # home depot id -> the location_idx where its vehicles start and end (the depot's yard: a
    # copy of the depot's place that charges no visit, so loading at home still pays one).
    yards: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def visit_paid_s(self, previous_idx: int | None, location_idx: int) -> int:
        """Return the visit time paid on arriving at ``location_idx`` from ``previous_idx``."""
        if not self.visit_s or previous_idx is None or previous_idx == location_idx:
            return 0
        return self.visit_s[location_idx]


@dataclass(frozen=True, slots=True)
class DispatchResult:
    """A dispatch's answer: the problem, the validated route plan, and the request behind them."""

    request: DispatchRequest
    dispatch_problem: DispatchProblem
    plan: RoutePlan
