"""From a stored plan to a solved route plan: the day's deliveries, loads, the route problem."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from coordination.dispatch.model import (
    KIND_OF_PRODUCT,
    PRODUCT_SKILL,
    SKILL_BULK_LIQUID,
    SKILL_COMPANY_BASE,
    SKILL_CYLINDERS,
    UNREACHABLE_S,
    URGENT_PRIORITY,
    Delivery,
    DispatchOptions,
    DispatchProblem,
    DispatchRequest,
    DispatchResult,
    FleetVehicle,
    Load,
    ServiceTimes,
    Stop,
    clock_text,
    company_of,
)
from data.errors import InvalidInputError
from data.region import Region
from data.schema.network import Place
from data.schema.registry import VehicleKind
from data.schema.routes import (
    GENERAL_PROFILE,
    RouteProblem,
    Shipment,
    ShipmentStep,
    TimeWindow,
    Vehicle,
)
from routing.network import RoadNetwork

if TYPE_CHECKING:
    from data.schema.documents import PlanDocument
    from data.schema.network import SnapResult


# --------------------------------------------------------------------------- request


def _kg_from_tonnes(tonnes: float) -> int:
    # Explicit scaling step: tonnes of LOX -> whole kg, rounded up so no allocated oxygen is lost
    # (the 1e-6 absorbs the plan's 4-decimal rounding of tonnes).
    return math.ceil(tonnes * 1000.0 - 1e-6)


def _check_day(plan: PlanDocument, day: Any, problems: list[str]) -> None:
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


def _place_stop(row: Mapping[str, Any], id_key: str, kind: str, address: str) -> Stop:
    """Return a supplier or facility row of a plan document (``location`` [lon, lat]) as a stop."""
    return Stop(
        row[id_key],
        row["name"],
        float(row["location"][0]),
        float(row["location"][1]),
        kind,
        address,
    )


def _delivery_quantity(
    flow: Mapping[str, Any], index: int, problems: list[str]
) -> tuple[int, str] | None:
    """Return a flow's quantity in the vehicles' units (whole kg of LOX or cylinders), or None."""
    if flow["product"] == "bulk_liquid" and flow["unit"] == "t_lox":
        return _kg_from_tonnes(float(flow["quantity"])), "kg_lox"
    if flow["product"] == "cylinder" and str(flow["unit"]).startswith("cylinders_"):
        return math.ceil(float(flow["quantity"]) - 1e-9), str(flow["unit"])
    problems.append(
        f"plan.allocation.flows[{index}].unit: {flow['unit']!r} for product "
        f"{flow['product']!r} is not t_lox or cylinders_<size>"
    )
    return None


def _day_deliveries(
    flows: Sequence[Mapping[str, Any]],
    facility_rows: Mapping[str, Mapping[str, Any]],
    day: int,
    addresses: Mapping[str, str],
    problems: list[str],
) -> tuple[dict[str, Stop], list[Delivery]]:
    """Return the facilities served on ``day`` and its deliveries (urgent: first shortfall)."""
    facilities: dict[str, Stop] = {}
    deliveries: list[Delivery] = []
    for index, flow in enumerate(flows):
        if flow["day"] != day:
            continue
        row = facility_rows[flow["facility_id"]]
        facility_id = row["facility_id"]
        facilities[facility_id] = _place_stop(
            row, "facility_id", "facility", addresses.get(facility_id, "")
        )
        first_short = row.get("first_shortfall_day")
        urgent = first_short is not None and first_short <= day
        converted = _delivery_quantity(flow, index, problems)
        if converted is None:
            continue
        quantity, unit = converted
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
    return facilities, deliveries


def _plan_fleet(
    vehicles: Sequence[FleetVehicle], suppliers: Mapping[str, Stop], problems: list[str]
) -> tuple[list[FleetVehicle], tuple[tuple[str, str], ...]]:
    """Vehicles based at a supplier of the plan, and the others with the reason."""
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
    return usable, excluded


def dispatch_request_from_plan(
    plan: PlanDocument,
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
        The plan document (:func:`coordination.planning.plan_to_dict` output), typically read
        back from ``plan.json``; a missing part is refused with its name.
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
    _check_day(plan, day, problems)
    try:
        start_date = dt.date.fromisoformat(plan["start_date"])
        suppliers = {
            s["supplier_id"]: _place_stop(
                s, "supplier_id", "supplier", addresses.get(s["supplier_id"], "")
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
    facilities, deliveries = _day_deliveries(flows, facility_rows, day, addresses, problems)
    usable, excluded = _plan_fleet(vehicles, suppliers, problems)
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


# --------------------------------------------------------------------------- loads


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
        kind = KIND_OF_PRODUCT[delivery.product]
        capacities = [max(v.capacity) for v in vehicles if v.kind == kind]
        largest = max(capacities, default=0)
        parts = math.ceil(delivery.quantity / largest) if 0 < largest < delivery.quantity else 1
        base, extra = divmod(delivery.quantity, parts)
        for part in range(1, parts + 1):
            load_id = f"L{number}" if parts == 1 else f"L{number}.{part}"
            loads.append(Load(load_id, delivery, base + (1 if part <= extra else 0), part, parts))
    return tuple(loads)


# --------------------------------------------------------------------------- route problem


def _seconds(values: np.ndarray) -> np.ndarray:
    """Scale float seconds or metres to integers explicitly (rounded; inf -> UNREACHABLE_S)."""
    out = np.full(values.shape, UNREACHABLE_S, dtype=np.int64)
    finite = np.isfinite(values)
    out[finite] = np.rint(values[finite]).astype(np.int64)
    np.fill_diagonal(out, 0)
    return out


TANKER_PROFILE = "tanker"
"""The travel profile of loaded cryogenic tankers (``routing/profiles.py``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class _RoadTimes:
    """Integer road times and distances between the reachable places of a dispatch.

    ``tanker_durations_s`` and ``tanker_distances_m``: the same places on the loaded-tanker
    profile (``None`` when the request has no tanker); a pair the tanker may not drive is
    ``UNREACHABLE_S``.
    """

    place_ids: tuple[str, ...]  # reachable places; location_idx -> place id
    durations_s: np.ndarray
    distances_m: np.ndarray
    snaps: Mapping[str, SnapResult]  # every place, reachable or not, with the snapping reason
    tanker_durations_s: np.ndarray | None = None
    tanker_distances_m: np.ndarray | None = None

    @property
    def idx(self) -> dict[str, int]:
        return {place_id: k for k, place_id in enumerate(self.place_ids)}

    def profile_matrices(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Return the route problem's ``profile_durations_s`` and ``profile_distances_m``."""
        if self.tanker_durations_s is None or self.tanker_distances_m is None:
            return {}, {}
        return (
            {TANKER_PROFILE: self.tanker_durations_s},
            {TANKER_PROFILE: self.tanker_distances_m},
        )


def _road_times(
    request: DispatchRequest,
    loads: Sequence[Load],
    network: RoadNetwork,
    region: Region,
    *,
    also: Sequence[str] = (),
) -> _RoadTimes:
    """Road times between the depots, suppliers and facilities used (first-use order).

    ``also``: more places (suppliers or facilities of the request) to include, after those.
    When the request has a cryogenic tanker, the loaded-tanker profile's times too (cached per
    profile with the network): the reachable places are those of the general matrix, and a
    place the tanker may not reach is ``UNREACHABLE_S`` away for it.
    """
    from routing.travel_time import travel_time_matrix

    used_ids: list[str] = []
    for place_id in [
        *(v.home_depot_id for v in request.vehicles),
        *(x for load in loads for x in (load.delivery.supplier_id, load.delivery.facility_id)),
        *also,
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
    tanker_durations = tanker_distances = None
    if any(v.kind == VehicleKind.CRYOGENIC_TANKER for v in request.vehicles):
        tanker = travel_time_matrix(
            network,
            places,
            places,
            gateways=region.gateways,
            max_snap_m=region.max_snap_m,
            profile=TANKER_PROFILE,
            cache=True,
        )
        tanker_durations = _seconds(tanker.duration_s[np.ix_(keep, keep)])
        tanker_distances = _seconds(tanker.distance_m[np.ix_(keep, keep)])
    return _RoadTimes(
        tuple(reachable),
        _seconds(matrix.duration_s[np.ix_(keep, keep)]),
        _seconds(matrix.distance_m[np.ix_(keep, keep)]),
        matrix.snaps,
        tanker_durations,
        tanker_distances,
    )


def company_skills(request: DispatchRequest) -> dict[str, int]:
    """Return the skill of each supplier's company, by supplier id (companies in name order).

    A load picked up at a supplier needs its company's skill; a vehicle has the skill of its
    home depot's company, or every company's with ``options.cross_company_loading``.
    """
    companies = sorted({company_of(stop.name) for stop in request.suppliers.values()})
    return {
        supplier_id: SKILL_COMPANY_BASE + companies.index(company_of(stop.name))
        for supplier_id, stop in request.suppliers.items()
    }


def _bulk_only_suppliers(loads: Sequence[Load]) -> set[str]:
    """Suppliers where every load is bulk liquid: a tanker fill is part of the visit there."""
    bulk = {load.delivery.supplier_id for load in loads if load.delivery.product == "bulk_liquid"}
    return bulk - {
        load.delivery.supplier_id for load in loads if load.delivery.product != "bulk_liquid"
    }


def _with_visits(
    roads: _RoadTimes, request: DispatchRequest, loads: Sequence[Load]
) -> tuple[_RoadTimes, tuple[int, ...], dict[str, int]]:
    """Charge each place's fixed visit time on the roads into it, and add the depots' yards.

    The fixed part of a stop (queue, weighing and papers at a supplier, plus the tanker fill at a
    liquid plant; parking and papers at a facility) is paid once per visit, whatever the number of
    loads picked up or dropped there: it is added to every travel time into the place from
    another place, and the steps keep only the part that grows with the quantity. Vehicles start
    and end at a yard, a copy of their depot's place into which no visit is charged, so loading
    at home still pays one and coming home pays none. Returns the roads with the yards appended,
    the visit time per location and the yard of each depot.
    """
    service = request.options.service
    bulk_only = _bulk_only_suppliers(loads)
    visits: list[int] = []
    for place_id in roads.place_ids:
        if place_id in request.facilities:
            visits.append(service.facility_stop_s)
        else:
            extra = service.tanker_load_s if place_id in bulk_only else 0
            visits.append(service.supplier_stop_s + extra)
    depots = [d for d in dict.fromkeys(v.home_depot_id for v in request.vehicles) if d in roads.idx]
    rows = list(range(len(roads.place_ids))) + [roads.idx[d] for d in depots]
    keep = np.array(rows, dtype=np.int64)
    visit = np.array(visits + [0] * len(depots), dtype=np.int64)

    def charged(times: np.ndarray) -> np.ndarray:
        durations = times[np.ix_(keep, keep)] + visit[np.newaxis, :]
        np.fill_diagonal(durations, 0)
        durations[times[np.ix_(keep, keep)] >= UNREACHABLE_S] = UNREACHABLE_S
        return durations

    has_tanker = roads.tanker_durations_s is not None and roads.tanker_distances_m is not None
    yards = {d: len(roads.place_ids) + k for k, d in enumerate(depots)}
    extended = _RoadTimes(
        roads.place_ids + tuple(depots),
        charged(roads.durations_s),
        roads.distances_m[np.ix_(keep, keep)],
        roads.snaps,
        charged(roads.tanker_durations_s) if has_tanker else None,  # type: ignore[arg-type]
        roads.tanker_distances_m[np.ix_(keep, keep)] if has_tanker else None,  # type: ignore[index]
    )
    return extended, tuple(int(v) for v in visit), yards


def _step_services(
    load: Load, service: ServiceTimes, bulk_only: set[str], *, merged: bool
) -> tuple[int, int]:
    """Return the pickup and delivery service times of a load (without the visit when merged)."""
    product, quantity = load.delivery.product, load.quantity
    if not merged:
        return service.load_s(product, quantity), service.unload_s(product, quantity)
    if product == "bulk_liquid":
        load_s = 0 if load.delivery.supplier_id in bulk_only else service.tanker_load_s
        return load_s, service.tank_fill_s
    return service.per_cylinder_load_s * quantity, service.per_cylinder_unload_s * quantity


def _route_vehicles(
    request: DispatchRequest, roads: _RoadTimes, yards: Mapping[str, int]
) -> tuple[Vehicle, ...]:
    """Return the fleet as the problem's vehicles (those based at a reachable depot).

    A vehicle starts and ends at its depot's yard (``yards``) when given, else at the depot.

    Raises
    ------
    InvalidInputError
        If no vehicle's home depot is reachable by road.
    """
    options, idx = request.options, roads.idx
    companies = company_skills(request)
    vehicles = []
    for fleet_vehicle in request.vehicles:
        depot = yards.get(fleet_vehicle.home_depot_id, idx.get(fleet_vehicle.home_depot_id))
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
                profile=(
                    TANKER_PROFILE
                    if fleet_vehicle.kind == VehicleKind.CRYOGENIC_TANKER
                    and roads.tanker_durations_s is not None
                    else GENERAL_PROFILE
                ),
                skills=frozenset(
                    {skill, companies[fleet_vehicle.home_depot_id]}
                    if not options.cross_company_loading
                    else {skill, *companies.values()}
                ),
            )
        )
    if not vehicles:
        raise InvalidInputError.from_problems(
            "dispatch request",
            [
                "vehicles: no vehicle's home depot is reachable by road: "
                + "; ".join(
                    f"{v.home_depot_id}: {roads.snaps[v.home_depot_id].reason}"
                    for v in request.vehicles
                )
            ],
        )
    return tuple(vehicles)


def _reachable_loads(
    loads: Sequence[Load], roads: _RoadTimes
) -> tuple[list[Load], list[tuple[Load, str]]]:
    """Split loads into those whose supplier and facility the roads reach, and the others."""
    idx = roads.idx
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
                    + "; ".join(f"{pid}: {roads.snaps[pid].reason}" for pid in bad),
                )
            )
        else:
            kept.append(load)
    return kept, dropped


def minimum_drops(request: DispatchRequest) -> dict[str, int]:
    """Return the smallest useful drop per product, in the vehicles' units (kg LOX, cylinders).

    Bulk: ``min_drop_lox_share`` of the smallest tanker's capacity in the fleet (a hospital tank
    fill takes ``tank_fill_s`` whatever the quantity; issue 15 saw 35 kg filled in 55 minutes);
    cylinders: ``min_drop_cylinders``.
    """
    options = request.options
    tankers = [
        v.tank_capacity_lox_kg for v in request.vehicles if v.kind == VehicleKind.CRYOGENIC_TANKER
    ]
    return {
        "bulk_liquid": math.ceil(options.min_drop_lox_share * min(tankers, default=0)),
        "cylinder": options.min_drop_cylinders,
    }


def _useful_loads(
    loads: Sequence[Load], request: DispatchRequest
) -> tuple[list[Load], list[tuple[Load, str]]]:
    """Split loads into those worth a drop (or urgent) and the too small ones, with the reason."""
    minimum = minimum_drops(request)
    kept: list[Load] = []
    small: list[tuple[Load, str]] = []
    for load in loads:
        least = minimum[load.delivery.product]
        if load.delivery.urgent or load.delivery.quantity >= least:
            kept.append(load)
            continue
        small.append(
            (
                load,
                f"below the minimum useful drop: {load.delivery.quantity} {load.delivery.unit} < "
                f"{least} (options.min_drop_lox_share of the smallest tanker, or "
                f"options.min_drop_cylinders); not urgent, so it waits for a larger order "
                f"(lower the minimum to send it today)",
            )
        )
    return kept, small


def _delivery_window(options: DispatchOptions, load: Load, urgent: bool) -> tuple[int, int]:
    """Return the receiving hours of the load's facility, closing at the urgent time if urgent."""
    facility = options.facilities.get(load.delivery.facility_id)
    opens, closes = (
        facility.receiving_hours_s
        if facility and facility.receiving_hours_s
        else options.receiving_hours_s
    )
    if urgent and options.urgent_by_s > opens:
        closes = min(closes, options.urgent_by_s)
    return opens, closes


def _shipments(
    loads: Sequence[Load],
    idx: Mapping[str, int],
    options: DispatchOptions,
    urgent_ok: Mapping[str, bool],
    companies: Mapping[str, int],
    services: Mapping[str, tuple[int, int]],
    facility_visit_s: int = 0,
) -> tuple[Shipment, ...]:
    """One shipment per load: loaded at its supplier, delivered within its window.

    A load needs its product's skill and the skill of its supplier's company (``companies``,
    by supplier id; see :func:`company_skills`). ``services``: pickup and delivery service times
    by load id. ``facility_visit_s``: the fixed visit time charged on the roads into a facility;
    unloading starts no earlier than the opening plus that time, so the vehicle arrives (and
    starts parking and papers) within the receiving hours.
    """
    out = []
    for load in loads:
        product = load.delivery.product
        opens, closes = _delivery_window(options, load, urgent_ok[load.load_id])
        out.append(
            Shipment(
                pickup=ShipmentStep(
                    f"{load.load_id}:load",
                    idx[load.delivery.supplier_id],
                    services[load.load_id][0],
                ),
                delivery=ShipmentStep(
                    f"{load.load_id}:drop",
                    idx[load.delivery.facility_id],
                    services[load.load_id][1],
                    TimeWindow(min(opens + facility_visit_s, closes), closes),
                ),
                amount=load.amount,
                priority=URGENT_PRIORITY if load.delivery.urgent else 0,
                skills=frozenset({PRODUCT_SKILL[product], companies[load.delivery.supplier_id]}),
            )
        )
    return tuple(out)


def _missed_urgent_windows(
    problem: RouteProblem, loads: Sequence[Load], options: DispatchOptions
) -> dict[str, str]:
    """Urgent loads no vehicle can bring by the urgent time, even alone, with the reason.

    Such a load is better late than never: it is delivered within the receiving hours instead.
    """
    from routing.vehicle_routes import REASON_TIME_WINDOW, explain_unservable_tasks

    missed: dict[str, str] = {}
    for position, reason in explain_unservable_tasks(problem).items():
        load = loads[position]
        if load.delivery.urgent and reason.startswith(REASON_TIME_WINDOW):
            missed[load.load_id] = (
                f"cannot arrive by {clock_text(options.urgent_by_s)}: "
                f"{reason}; delivered within the receiving hours instead"
            )
    return missed


def build_dispatch_problem(
    request: DispatchRequest,
    network: RoadNetwork,
    region: Region,
    *,
    merge_visits: bool = True,
) -> DispatchProblem:
    """Turn a dispatch request into a route problem on road travel times.

    Places the roads do not reach are left out: their loads are returned in ``dropped`` with the
    snapping reason, and vehicles based there are not used. With ``merge_visits`` (the default)
    the fixed time of a stop is paid once per visit, however many loads are picked up or dropped
    there (see :func:`_with_visits`); ``False`` charges it per load, as before issue 15 (kept for
    the benchmark's comparison).

    Raises
    ------
    InvalidInputError
        If no vehicle's home depot is reachable by road.
    """
    options = request.options
    loads = split_deliveries(request.deliveries, request.vehicles)
    roads = _road_times(request, loads, network, region)
    kept, dropped = _reachable_loads(loads, roads)
    kept, small = _useful_loads(kept, request)
    dropped += small
    idx = roads.idx
    visit_s: tuple[int, ...] = ()
    yards: dict[str, int] = {}
    if merge_visits:
        roads, visit_s, yards = _with_visits(roads, request, kept)
    vehicles = _route_vehicles(request, roads, yards)
    bulk_only = _bulk_only_suppliers(kept)
    services = {
        load.load_id: _step_services(load, options.service, bulk_only, merged=merge_visits)
        for load in kept
    }
    companies = company_skills(request)
    facility_visit_s = options.service.facility_stop_s if merge_visits else 0
    urgent_ok = {load.load_id: load.delivery.urgent for load in kept}
    profile_durations, profile_distances = roads.profile_matrices()
    problem = RouteProblem(
        durations_s=roads.durations_s,
        vehicles=vehicles,
        shipments=_shipments(kept, idx, options, urgent_ok, companies, services, facility_visit_s),
        distances_m=roads.distances_m,
        profile_durations_s=profile_durations,
        profile_distances_m=profile_distances,
    )
    missed: dict[str, str] = {}
    if any(urgent_ok.values()):
        missed = _missed_urgent_windows(problem, kept, options)
        if missed:
            urgent_ok.update({load_id: False for load_id in missed})
            problem = dataclasses.replace(
                problem,
                shipments=_shipments(
                    kept, idx, options, urgent_ok, companies, services, facility_visit_s
                ),
            )
    windows = {
        load.load_id: _delivery_window(options, load, urgent_ok[load.load_id]) for load in kept
    }
    return DispatchProblem(
        problem,
        roads.place_ids,
        tuple(kept),
        MappingProxyType(windows),
        MappingProxyType(missed),
        tuple(dropped),
        visit_s,
        MappingProxyType(yards),
    )


def plan_dispatch(
    request: DispatchRequest,
    network: RoadNetwork,
    region: Region,
    *,
    merge_visits: bool = True,
) -> DispatchResult:
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

    dispatch_problem = build_dispatch_problem(request, network, region, merge_visits=merge_visits)
    options = request.options
    params = SolverParams(
        time_limit_s=options.time_limit_s, seed=options.seed, max_iterations=options.max_iterations
    )
    plan = solve_routes(dispatch_problem.problem, params)
    validate_route_plan(dispatch_problem.problem, plan)
    return DispatchResult(request, dispatch_problem, plan)
