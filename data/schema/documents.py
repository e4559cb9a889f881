"""The JSON documents of plans and routes, typed: ``plan.json`` and ``routes.json``.

These are the shapes stored beside a plan and served by the API: ids, m³, seconds, metres, ISO 8601
local times and WGS84 ``[lon, lat]``. They are plain ``dict`` objects at run time (built and parsed
as JSON); the types say which keys each part has. A document read back from disk is not checked
against them: the functions that read one name the missing part when they meet it.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

# --------------------------------------------------------------------------- plan.json


class ReplacedValue(TypedDict):
    """A report value a plan did not take at face value (unreviewed flag, correction asked for).

    ``field`` is the report field (``oxygen_used_24h_m3``, ``liquid_stock_l``,
    ``cylinders_full``, or stock fields joined by ``" + "``); ``declared_m3`` what the report
    said and ``used_m3`` what the plan used instead (m³ gas; day 0 for use, ``None`` when the
    demand is unknown); ``used_basis`` what that stands on; ``rule_ids`` the flags (or
    ``review.correction_requested``); ``review_status`` ``unreviewed`` or
    ``correction_requested``. docs/plausibility.md says what a plan uses instead.
    """

    field: str
    report_date: str
    declared_m3: float
    used_m3: float | None
    used_basis: str
    rule_ids: list[str]
    review_status: str
    reason: str


class PlanFacilityRow(TypedDict):
    """One facility of a plan document: demand, shortfall and what the allocation gave it (m³).

    ``demand_m3`` is ``None`` where the demand is unknown (``demand_known`` false, basis
    ``unknown``): missing is never zero. The keys after ``generated_data`` were added by issue 13;
    they are ``NotRequired`` because plans stored before it lack them, and a plan written now
    always has them.
    """

    facility_id: str
    name: str
    district: str
    tier: int
    location: list[float]
    demand_m3: float | None
    demand_estimated: bool
    shortfall_m3: float
    first_shortfall_day: int | None
    days_of_supply: float | None
    allocated_m3: float
    unmet_m3: float
    unmet_reasons: list[str]
    reachable: bool
    unreachable_reason: str
    generated_data: bool
    #: What the demand stands on: ``declared_use``, ``patients_x_flows``, ``estimated`` or
    #: ``unknown``.
    demand_basis: NotRequired[str]
    demand_known: NotRequired[bool]
    #: The report the demand stands on (ISO date) and its age in days before the plan's first day.
    report_date: NotRequired[str | None]
    report_age_days: NotRequired[int | None]
    carried_forward_days: NotRequired[int | None]
    #: The facility's last report before the plan, of any age (ISO date), ``None`` if never.
    last_report_date: NotRequired[str | None]
    #: Why the demand has this basis, when it is not the first choice.
    demand_note: NotRequired[str]
    #: Review status of the facility's newest report before the plan (``None`` without one).
    report_review_status: NotRequired[str | None]
    #: Values of its reports the plan did not take at face value.
    replaced_values: NotRequired[list[ReplacedValue]]


class PlanSupplierRow(TypedDict):
    """One supplier of a plan document: daily capacities and how the roads reach it."""

    supplier_id: str
    name: str
    kind: str
    location: list[float]
    liquid_t_per_day: float
    cylinders_per_day: int
    via_gateway: str | None
    reachable: bool
    #: Per plan date: ``"declared YYYY-MM-DD"`` or ``"medical share"`` (docs/declarations.md).
    capacity_basis: NotRequired[list[str]]
    #: Per plan date: the day's liquid t and cylinders before scenario factors.
    capacity_by_day: NotRequired[list[dict[str, Any]]]


class PlanDocument(TypedDict):
    """A coordinator's plan (``plan.json``), as :func:`coordination.planning.plan_to_dict` writes.

    ``allocation`` is the allocation core's JSON plan (:func:`matcher.problem_json.plan_to_json`:
    ``flows``, ``unmet``, ``totals``). The API adds ``plan_id`` and ``meta`` when it stores one.
    """

    region: str
    #: The reports behind the plan in one line, e.g. "NO REPORTS for 2021-09-04 (...); the latest
    #: day with reports is 2021-08-31 (85 facilities)": the plan summary's first statement.
    headline: str
    start_date: str
    horizon_days: int
    dates: list[str]
    facilities: list[PlanFacilityRow]
    suppliers: list[PlanSupplierRow]
    allocation: dict[str, Any]
    timings_s: dict[str, float]
    attribution: str
    plan_id: NotRequired[str]
    meta: NotRequired[dict[str, Any]]
    # issue 16: what the region's scope left out (coordination/region_scope.py)
    left_out: NotRequired[list[dict[str, Any]]]
    off_map_other_provinces: NotRequired[int]
    far_snaps: NotRequired[list[dict[str, Any]]]
    region_file: NotRequired[str]


# --------------------------------------------------------------------------- routes.json


class NamedLoad(TypedDict):
    """An amount in the dispatch's load dimensions: kg of liquid oxygen and full cylinders."""

    lox_kg: int
    cylinders: int


class LoadFields(TypedDict):
    """What a load is: its id, where it goes from and to, and how much of which product."""

    load_id: str
    supplier_id: str
    facility_id: str
    product: str
    quantity: int
    unit: str


class DeliveryWindow(TypedDict, total=False):
    """The window of a delivery step: ``[opens, closes]``, ISO 8601 local (deliveries only)."""

    time_window: list[str]


class StepTaskFields(DeliveryWindow, total=False):
    """The keys a pickup or delivery step has and a start or end step lacks."""

    id: str
    load_id: str
    supplier_id: str
    facility_id: str
    product: str
    quantity: int
    unit: str


class StepEmpties(TypedDict, total=False):
    """Empty cylinders at a step (issue 15, ``coordination/dispatch/empties.py``).

    Only on the steps of routes that collect empties: ``empties`` collected at this delivery,
    ``empties_returned`` unloaded here (the filling station or the home depot),
    ``empties_on_board`` after this step.
    """

    empties: int
    empties_returned: int
    empties_on_board: int


class RouteStepDocument(StepTaskFields, StepEmpties):
    """One step of a route (``start``, ``pickup``, ``delivery``, ``end``) with its times."""

    type: str
    place_id: str
    name: str
    address: str
    location: list[float]
    arrival: str
    departure: str
    waiting_time: int
    service: int
    duration: int
    distance: int | None
    load: NamedLoad


class RouteDocument(TypedDict):
    """One vehicle's route: the vehicle, its totals (s, m) and its steps in driving order."""

    vehicle: str
    kind: str
    plate: str
    operator_id: str
    home_depot_id: str
    capacity: NamedLoad
    start: str
    end: str
    cost: int
    duration: int
    service: int
    waiting_time: int
    distance: int | None
    delivery: NamedLoad
    priority: int
    steps: list[RouteStepDocument]


class UnassignedDocument(LoadFields):
    """A pickup or delivery left out, with the reason in the dispatcher's terms."""

    id: str
    type: str
    location: list[float]
    reason: str


class LoadDocument(LoadFields):
    """A load of the day: part of which plan flow, its window, and why it was split or relaxed."""

    flow_index: int
    delivery_quantity: int
    part: int
    parts: int
    urgent: bool
    note: str
    time_window: list[str] | None
    urgent_window_missed: str | None


class RoutesSummary(TypedDict):
    """Totals of a routes document (seconds, metres, loads)."""

    routes: int
    unassigned: int
    loads: int
    loads_unassigned: int
    cost: int
    duration: int
    service: int
    waiting_time: int
    distance: int
    delivery: NamedLoad


class SolverFacts(TypedDict):
    """The solver settings and run of a routes document."""

    engine: str
    seed: int
    time_limit_s: float
    max_iterations: int | None
    runtime_s: float
    validated: bool


class DispatchOptionsEcho(TypedDict):
    """The options a dispatch ran with, in the request's terms (local ``HH:MM`` times)."""

    start_time: str
    shift_hours: float
    receiving_hours: list[str]
    urgent_by: str
    service: dict[str, int]
    # issue 15: loads that make sense (docs/dispatch.md)
    cross_company_loading: NotRequired[bool]
    min_drop_lox_share: NotRequired[float]
    min_drop_cylinders: NotRequired[int]


class FacilityContact(TypedDict):
    """Who receives at a facility, for the route sheets."""

    contact: str
    phone: str


class VehicleExclusion(TypedDict):
    """A vehicle left out of the dispatch, with the reason."""

    vehicle_id: str
    reason: str


class RoutesMeta(TypedDict):
    """Who computed stored routes and when (added by the API)."""

    created_by: str
    created_at: str


class RoutesDocument(TypedDict):
    """Vehicle routes of one day (``routes.json``), VROOM-like, as routes_to_dict writes them."""

    code: int
    routes_id: str
    plan_id: str
    region: str
    day: int
    date: str
    timezone: str
    conventions: dict[str, str]
    summary: RoutesSummary
    solver: SolverFacts
    options: DispatchOptionsEcho
    loads: list[LoadDocument]
    unassigned: list[UnassignedDocument]
    routes: list[RouteDocument]
    vehicles_unused: list[str]
    vehicles_excluded: list[VehicleExclusion]
    contacts: dict[str, FacilityContact]
    attribution: str
    meta: NotRequired[RoutesMeta]
