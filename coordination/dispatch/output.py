"""A dispatch's answer as a VROOM-like routes document: routes, loads, ``unassigned``, summary."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence

from coordination.dispatch.empties import add_route_empties
from coordination.dispatch.model import (
    ATTRIBUTION,
    KIND_OF_PRODUCT,
    DispatchOptions,
    DispatchResult,
    FleetVehicle,
    Load,
    Stop,
    clock_text,
    company_of,
)
from data.reporting import LOCAL_TZ
from data.schema.documents import (
    DeliveryWindow,
    DispatchOptionsEcho,
    LoadDocument,
    LoadFields,
    NamedLoad,
    RouteDocument,
    RoutesDocument,
    RoutesSummary,
    RouteStepDocument,
    SolverFacts,
    StepEmpties,
    StepTaskFields,
    UnassignedDocument,
)
from data.schema.registry import VehicleKind
from data.schema.routes import RouteStep, VehicleRoute

REASON_FLEET_TIME = "fleet time exhausted"
"""Reason of loads left out because the shifts and time windows are full with other loads."""

_CONVENTIONS = {
    "times": "ISO 8601, Asia/Ho_Chi_Minh",
    "duration_service_waiting_time": "seconds",
    "distance": "metres",
    "location": "[lon, lat] WGS84",
    "load": "lox_kg: kg of liquid oxygen; cylinders: full cylinders",
}
"""Units and conventions stated in every routes document."""


def _local(date: dt.date, seconds: int) -> str:
    midnight = dt.datetime.combine(date, dt.time(0), tzinfo=LOCAL_TZ)
    return (midnight + dt.timedelta(seconds=int(seconds))).isoformat()


def _named_load(amount: Sequence[int]) -> NamedLoad:
    lox_kg, cylinders = amount
    return {"lox_kg": int(lox_kg), "cylinders": int(cylinders)}


def _location(stop: Stop) -> list[float]:
    return [round(stop.lon, 6), round(stop.lat, 6)]


def _load_fields(load: Load) -> LoadFields:
    return {
        "load_id": load.load_id,
        "supplier_id": load.delivery.supplier_id,
        "facility_id": load.delivery.facility_id,
        "product": load.delivery.product,
        "quantity": load.quantity,
        "unit": load.delivery.unit,
    }


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
        return _explain_skills(result, load, reason)
    if not reason.startswith((REASON_FLEET, REASON_NOT_SERVED, REASON_NO_ROOM)):
        return reason
    dproblem, options = result.dispatch_problem, result.request.options
    kind = KIND_OF_PRODUCT[load.delivery.product]
    fleet = [
        v
        for v in result.request.vehicles
        if v.kind == kind and v.home_depot_id in dproblem.place_ids
    ]
    opens, closes = dproblem.windows[load.load_id]
    shift_end_s = options.start_s + options.shift_s
    # The real limit is the earlier of the shift's end and the window's close (issue 15: "9.2 h of
    # their 24.0 h" was reported when the 07:00-12:00 receiving window was what ran out).
    limit_s = min(shift_end_s, closes)
    busy_s = sum(
        max(0, min(route.steps[-1].arrival_s, limit_s) - route.steps[0].arrival_s)
        for route in result.plan.routes
        if any(v.vehicle_id == route.vehicle_id for v in fleet)
    )
    alone_s = _alone_s(result, load, fleet)
    if limit_s < shift_end_s:
        what = (
            f"urgent by {clock_text(closes)}"
            if load.delivery.urgent and closes == options.urgent_by_s
            else f"receiving window {clock_text(opens)}-{clock_text(closes)}"
        )
        span = f"between the shift start ({clock_text(options.start_s)}) and {clock_text(closes)}"
        limit_text = f"the real limit is the {what}"
    else:
        span = f"of shifts ({clock_text(options.start_s)}-{clock_text(shift_end_s)})"
        limit_text = "the real limit is the shift"
    return (
        f"{REASON_FLEET_TIME}: the {len(fleet)} {kind}(s) spend {busy_s / 3600:.1f} h of their "
        f"{len(fleet) * max(0, limit_s - options.start_s) / 3600:.1f} h {span} on other loads "
        f"(urgent ones first); {limit_text}; this load alone takes at least "
        f"{alone_s / 3600:.1f} h (depot -> supplier -> facility -> depot with loading and "
        f"unloading) and must arrive between {clock_text(opens)} and {clock_text(closes)}; add "
        f"a vehicle, lengthen the shift or widen the receiving hours"
    )


def _alone_s(result: DispatchResult, load: Load, fleet: Sequence[FleetVehicle]) -> int:
    """Return the shortest trip serving ``load`` alone (s): depot, supplier, facility, depot.

    Read from the solved problem, so that visit times are counted once, as the solver did, and
    each vehicle drives on its own profile's times (a loaded tanker's).
    """
    dproblem = result.dispatch_problem
    problem = dproblem.problem
    shipment = problem.shipments[dproblem.loads.index(load)]
    supplier, facility = shipment.pickup.location_idx, shipment.delivery.location_idx
    service = shipment.pickup.service_s + shipment.delivery.service_s
    route_vehicles = {v.vehicle_id: v for v in problem.vehicles}
    trips = []
    for fleet_vehicle in fleet:
        depot = dproblem.yards.get(
            fleet_vehicle.home_depot_id, dproblem.place_ids.index(fleet_vehicle.home_depot_id)
        )
        vehicle = route_vehicles.get(fleet_vehicle.vehicle_id)
        durations = problem.durations_of(vehicle) if vehicle is not None else problem.durations_s
        trips.append(
            int(durations[depot, supplier] + durations[supplier, facility])
            + int(durations[facility, depot])
            + service
        )
    return min(trips)


def _explain_skills(result: DispatchResult, load: Load, reason: str) -> str:
    """Say whether no vehicle of the kind exists, or none of the supplier's company."""
    kind = KIND_OF_PRODUCT[load.delivery.product]
    if not any(v.kind == kind for v in result.request.vehicles):
        if kind == VehicleKind.CRYOGENIC_TANKER:
            return "no cryogenic tanker available for bulk liquid (" + reason + ")"
        return "no cylinder truck available for cylinders (" + reason + ")"
    supplier = result.request.suppliers[load.delivery.supplier_id]
    return (
        f"no {kind} of {company_of(supplier.name)} available to load at "
        f"{load.delivery.supplier_id}: vehicles load only at their own company's plants and "
        f"filling stations; add one of its vehicles or set options.cross_company_loading "
        f"({reason})"
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Lookup:
    """Business ids behind a result's positions: stops by place, loads (dropped too) by id."""

    result: DispatchResult
    stops: Mapping[str, Stop]
    loads: Mapping[str, Load]
    vehicles: Mapping[str, FleetVehicle]

    @classmethod
    def of(cls, result: DispatchResult) -> _Lookup:
        request, dproblem = result.request, result.dispatch_problem
        loads = {load.load_id: load for load in dproblem.loads}
        loads.update({load.load_id: load for load, _ in dproblem.dropped})
        stops = {**request.suppliers, **request.facilities}
        return cls(result, stops, loads, {v.vehicle_id: v for v in request.vehicles})

    def local(self, seconds: int) -> str:
        return _local(self.result.request.date, seconds)


def _step_entry(
    step: RouteStep, lookup: _Lookup, visit_s: int = 0, visits_so_far_s: int = 0
) -> RouteStepDocument:
    """Return a step as the document shows it.

    ``visit_s`` is the fixed visit time the problem counted in the travel into this step (see
    :func:`coordination.dispatch.problem.build_dispatch_problem`): it is shown as service, and the
    arrival moves back by it. ``visits_so_far_s`` (this one included) comes off the driving time.
    The receiving window bounds when unloading starts, after parking and papers.
    """
    dproblem = lookup.result.dispatch_problem
    place_id = dproblem.place_ids[step.location_idx]
    stop = lookup.stops[place_id]
    departure = step.arrival_s + step.waiting_s + step.service_s
    task: StepTaskFields = {}
    empties: StepEmpties = {}  # filled per route (coordination/dispatch/empties.py)
    if step.task_id is not None:
        load_id = str(step.task_id).rsplit(":", 1)[0]
        window: DeliveryWindow = {}
        if step.kind == "delivery":
            opens, closes = dproblem.windows[load_id]
            window["time_window"] = [lookup.local(opens), lookup.local(closes)]
        task = {"id": str(step.task_id), **_load_fields(lookup.loads[load_id]), **window}
    return {
        "type": step.kind,
        **task,
        **empties,
        "place_id": place_id,
        "name": stop.name,
        "address": stop.address,
        "location": _location(stop),
        "arrival": lookup.local(step.arrival_s - visit_s),
        "departure": lookup.local(departure if step.kind != "start" else step.arrival_s),
        "waiting_time": step.waiting_s,
        "service": step.service_s + visit_s,
        "duration": step.travel_s - visits_so_far_s,
        "distance": step.distance_m,
        "load": _named_load(step.load),
    }


def _route_entry(route: VehicleRoute, lookup: _Lookup) -> RouteDocument:
    vehicle = lookup.vehicles[str(route.vehicle_id)]
    dproblem = lookup.result.dispatch_problem
    steps = []
    previous: int | None = None
    visits_s = 0
    for step in route.steps:
        visit_s = dproblem.visit_paid_s(previous, step.location_idx)
        visits_s += visit_s
        steps.append(_step_entry(step, lookup, visit_s, visits_s))
        previous = step.location_idx
    return {
        "vehicle": vehicle.vehicle_id,
        "kind": str(vehicle.kind),
        "plate": vehicle.plate,
        "operator_id": vehicle.operator_id,
        "home_depot_id": vehicle.home_depot_id,
        "capacity": _named_load(vehicle.capacity),
        "start": steps[0]["departure"],
        "end": steps[-1]["arrival"],
        "cost": route.cost,
        "duration": route.travel_s - visits_s,
        "service": route.service_s + visits_s,
        "waiting_time": route.waiting_s,
        "distance": route.distance_m,
        "delivery": _named_load(route.delivery),
        "priority": route.priority,
        "steps": steps,
    }


def _unassigned_entries(lookup: _Lookup) -> list[UnassignedDocument]:
    """Both steps of each load dropped before solving, then the tasks the solver left out."""
    result = lookup.result
    dproblem = result.dispatch_problem
    unassigned: list[UnassignedDocument] = []
    for load, reason in dproblem.dropped:
        for kind, suffix, place_id in (
            ("pickup", "load", load.delivery.supplier_id),
            ("delivery", "drop", load.delivery.facility_id),
        ):
            unassigned.append(
                {
                    "id": f"{load.load_id}:{suffix}",
                    "type": kind,
                    **_load_fields(load),
                    "location": _location(lookup.stops[place_id]),
                    "reason": reason,
                }
            )
    for task in result.plan.unassigned:
        load = lookup.loads[str(task.task_id).rsplit(":", 1)[0]]
        stop = lookup.stops[dproblem.place_ids[task.location_idx]]
        unassigned.append(
            {
                "id": str(task.task_id),
                "type": task.kind,
                **_load_fields(load),
                "location": _location(stop),
                "reason": _explain_reason(result, load, task.reason),
            }
        )
    return unassigned


def _load_entries(loads: Sequence[Load], lookup: _Lookup) -> list[LoadDocument]:
    dproblem = lookup.result.dispatch_problem
    return [
        {
            **_load_fields(load),
            "flow_index": load.delivery.flow_index,
            "delivery_quantity": load.delivery.quantity,
            "part": load.part,
            "parts": load.parts,
            "urgent": load.delivery.urgent,
            "note": load.note,
            "time_window": (
                [lookup.local(s) for s in dproblem.windows[load.load_id]]
                if load.load_id in dproblem.windows
                else None
            ),
            "urgent_window_missed": dproblem.urgent_window_missed.get(load.load_id),
        }
        for load in loads
    ]


def _summary(
    result: DispatchResult,
    routes: Sequence[RouteDocument],
    unassigned: Sequence[UnassignedDocument],
    loads: Sequence[Load],
) -> RoutesSummary:
    plan = result.plan
    delivered = [0, 0]
    for route in plan.routes:
        delivered = [a + b for a, b in zip(delivered, route.delivery, strict=True)]
    return {
        "routes": len(routes),
        "unassigned": len(unassigned),
        "loads": len(loads),
        "loads_unassigned": len({u["load_id"] for u in unassigned}),
        "cost": plan.cost,
        "duration": sum(r["duration"] for r in routes),
        "service": sum(r["service"] for r in routes),
        "waiting_time": sum(r.waiting_s for r in plan.routes),
        "distance": sum(r.distance_m or 0 for r in plan.routes),
        "delivery": _named_load(delivered),
    }


def _solver_facts(result: DispatchResult) -> SolverFacts:
    options = result.request.options
    return {
        "engine": result.plan.engine,
        "seed": options.seed,
        "time_limit_s": options.time_limit_s,
        "max_iterations": options.max_iterations,
        "runtime_s": round(result.plan.runtime_s, 3),
        "validated": True,
    }


def _options_echo(options: DispatchOptions) -> DispatchOptionsEcho:
    return {
        "start_time": clock_text(options.start_s),
        "shift_hours": options.shift_s / 3600,
        "receiving_hours": [clock_text(s) for s in options.receiving_hours_s],
        "urgent_by": clock_text(options.urgent_by_s),
        "service": dataclasses.asdict(options.service),
        "cross_company_loading": options.cross_company_loading,
        "min_drop_lox_share": options.min_drop_lox_share,
        "min_drop_cylinders": options.min_drop_cylinders,
    }


def routes_to_dict(result: DispatchResult, *, routes_id: str = "") -> RoutesDocument:
    """Return the routes as VROOM-like JSON: ``code``, ``summary``, ``unassigned``, ``routes``.

    Times are ISO 8601 with the Asia/Ho_Chi_Minh offset; ``duration``, ``service`` and
    ``waiting_time`` are seconds, ``distance`` metres, loads named ``lox_kg`` and ``cylinders``,
    locations ``[lon, lat]``.
    """
    request, dproblem = result.request, result.dispatch_problem
    lookup = _Lookup.of(result)
    routes = add_route_empties(
        [_route_entry(route, lookup) for route in result.plan.routes],
        {fid: f.cylinders_empty for fid, f in request.options.facilities.items()},
    )
    unassigned = _unassigned_entries(lookup)
    all_loads = list(dproblem.loads) + [load for load, _ in dproblem.dropped]
    options = request.options
    routed = {r["vehicle"] for r in routes}
    return {
        "code": 0,
        "routes_id": routes_id,
        "plan_id": request.plan_id,
        "region": request.region_id,
        "day": request.day,
        "date": request.date.isoformat(),
        "timezone": str(LOCAL_TZ),
        "conventions": dict(_CONVENTIONS),
        "summary": _summary(result, routes, unassigned, all_loads),
        "solver": _solver_facts(result),
        "options": _options_echo(options),
        "loads": _load_entries(all_loads, lookup),
        "unassigned": unassigned,
        "routes": routes,
        "vehicles_unused": [v.vehicle_id for v in request.vehicles if v.vehicle_id not in routed],
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
