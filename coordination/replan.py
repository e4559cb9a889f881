"""Re-plan a published day's routes when the day changes (issue 15): the pure core.

Plain data in (the published routes document, the plan document, events, the time "now", the
road network), plain data out (a new routes document and what changed). No Flask, no store.

Model
-----
* **Done stops are kept.** A ``stop_done`` marks that step and every earlier one of its route
  done (with the reported quantity, default the planned one). They are copied unchanged into the
  new routes; the solver never sees them.
* **Every vehicle starts where it is now**: at its last done stop (its depot's yard if none), when
  it is ready: the later of "now" and that stop's departure, plus any ``delay``. A vehicle that
  is driving between two stops at "now" is placed at its last done stop, leaving at "now" (an
  approximation: the road position is not interpolated). It ends at its home depot by the end of
  its shift, as in the dispatch.
* **What it carries goes on**: each load picked up and not (fully) delivered is a shipment picked
  up at the vehicle's start, only by that vehicle (a skill of its own), with priority 100. A load
  only partly delivered keeps its rest on board (load id ``<id>r``); a load only partly picked up
  leaves its rest at the supplier (load id ``<id>s``).
* **A broken vehicle's load becomes a transfer point**: each load on board is a shipment picked
  up at the breakdown's location (place ``transfer-<vehicle>``), by any vehicle of the right kind,
  whatever its company (an emergency transfer, not loading at a competitor's plant), with
  priority 100; its pickup is a new stop ``<id>:transfer``. The transfer takes a supplier stop
  (``supplier_stop_s``) plus the loading time of the quantity (``per_cylinder_load_s`` per
  cylinder, ``tanker_load_s`` for liquid: pumping from tanker to tanker). Its loads not yet
  picked up go back to the pool.
* **New urgent requests** are loads ``U<i>`` (priority 50, window now to ``needed_by``) from the
  given supplier, else the supplier of that product in the day's loads nearest as the crow flies.
* **Closed roads** are closed on a copy of the network (:func:`routing.network.change_roads`).
* **Stability penalty.** A stop already announced on a vehicle (a load planned on it, not yet
  picked up) costs ``move_penalty_s`` (default 1,800: half an hour of driving, in the solver's
  cost units of one per second) when another vehicle serves it
  (:class:`routing.vehicle_routes.VehiclePreference`). So an announced stop moves only when that
  saves more than 30 minutes of driving, or serves a load that would otherwise be left out
  (serving a load always outweighs the penalty). ETA shifts are not penalised but reported, with
  those beyond ``eta_tolerance_min`` (default 30) flagged. ``move_penalty_s`` 0 is re-solving
  the remaining work freely; ``benchmarks/bench_replan.py`` measures the trade-off.
* **Nothing is lost.** Every load of the published routes is done, routed again or listed as
  unassigned with the reason; ``balance`` sums it per product (kg of LOX, cylinders) and is
  checked before the answer is returned.
* A window that no vehicle can meet any more (the pre-check says so) is relaxed to the close of
  the receiving hours (19:00 by default) and the load says why: late beats never.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from coordination.dispatch.model import (
    PRODUCT_SKILL,
    SKILL_BULK_LIQUID,
    SKILL_CYLINDERS,
    Delivery,
    DispatchOptions,
    DispatchProblem,
    DispatchRequest,
    DispatchResult,
    FleetVehicle,
    Load,
    Stop,
    clock_text,
)
from coordination.dispatch.output import routes_to_dict
from coordination.dispatch.problem import (
    TANKER_PROFILE,
    _place_stop,
    _road_times,
    _step_services,
    _with_visits,
    company_skills,
)
from coordination.replan_answer import balance, changes, new_steps
from coordination.replan_events import (
    Event,
    RoadClosed,
    UrgentRequest,
    check_events,
    local_seconds,
)
from coordination.replan_state import (
    TRANSFER_PREFIX,
    Remaining,
    VehicleState,
    breakdown_location,
    broken_in,
    carried_unassigned,
    remaining_loads,
    vehicle_states,
)
from data.errors import InvalidInputError
from data.region import Region
from data.reporting import LOCAL_TZ
from data.schema.registry import VehicleKind
from data.schema.routes import RouteProblem, Shipment, ShipmentStep, TimeWindow, Vehicle
from routing.network import RoadNetwork

SKILL_ON_BOARD_BASE = 10_000
"""Skill ``SKILL_ON_BOARD_BASE + k``: only vehicle ``k`` may deliver what it carries."""
CARRIED_PRIORITY = 100
"""Priority of loads already off a plant (on board, or at a transfer point)."""
URGENT_REQUEST_PRIORITY = 50
NO_WORKING_VEHICLE = (
    "no working vehicle left: every vehicle of the day has broken down or cannot start; "
    "send vehicles with the re-plan"
)


@dataclass(frozen=True, slots=True)
class ReplanOptions:
    """Settings of a re-plan.

    Parameters
    ----------
    move_penalty_s
        Cost of serving a stop announced on one vehicle with another, in the solver's cost units
        (one per second of driving; default 1,800). 0 re-solves the remaining work freely.
    eta_tolerance_min
        ETA shifts larger than this are flagged in the changes (default 30 minutes).
    time_limit_s, seed, max_iterations
        Solver settings (default 5 s, seed 0, 1,000 iterations: reproducible).
    """

    move_penalty_s: int = 1800
    eta_tolerance_min: int = 30
    time_limit_s: float = 5.0
    seed: int = 0
    max_iterations: int | None = 1000

    def __post_init__(self) -> None:
        problems = []
        for name in ("move_penalty_s", "eta_tolerance_min", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems.append(f"options.{name}: must be a whole number >= 0, got {value!r}")
        limit = self.time_limit_s
        if isinstance(limit, bool) or not isinstance(limit, int | float) or not 0 < limit <= 60:
            problems.append(f"options.time_limit_s: must be in (0, 60], got {limit!r}")
        its = self.max_iterations
        if its is not None and (isinstance(its, bool) or not isinstance(its, int) or its < 1):
            problems.append(f"options.max_iterations: must be a whole number >= 1, got {its!r}")
        if problems:
            raise InvalidInputError.from_problems("re-plan options", problems)

    @classmethod
    def from_mapping(cls, values: Any) -> ReplanOptions:
        """Build options from a request's ``options`` object (``5500.0`` is a whole number).

        Raises
        ------
        InvalidInputError
            Listing every unknown key or bad value, named ``options.<key>``.
        """
        if values is None:
            return cls()
        if not isinstance(values, dict):
            raise InvalidInputError(f"options: must be an object, got {values!r}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidInputError.from_problems(
                "re-plan options",
                [
                    f"options.{k}: unknown key (allowed: {', '.join(sorted(known))})"
                    for k in unknown
                ],
            )
        whole = {
            k: int(v) if isinstance(v, float) and v.is_integer() and k != "time_limit_s" else v
            for k, v in values.items()
        }
        return cls(**whole)


@dataclass(frozen=True, slots=True)
class ReplanResult:
    """A re-plan's answer: the new routes document (with ``replan``: changes and balance)."""

    document: dict[str, Any]


# --------------------------------------------------------------------------- state


def _fleet_of_routes(routes: Mapping[str, Any], fleet: Sequence[FleetVehicle]) -> dict[str, Any]:
    """Return vehicle id -> fleet vehicle: the routes' own, then the others given."""
    out: dict[str, FleetVehicle] = {}
    for route in routes["routes"]:
        kind = VehicleKind(route["kind"])
        capacity = route["capacity"]
        out[route["vehicle"]] = FleetVehicle(
            route["vehicle"],
            kind,
            route["home_depot_id"],
            tank_capacity_lox_kg=int(capacity["lox_kg"]),
            cylinder_capacity=int(capacity["cylinders"]),
            plate=route.get("plate", ""),
            operator_id=route.get("operator_id", ""),
        )
    for vehicle in fleet:
        out.setdefault(vehicle.vehicle_id, vehicle)
    return out


def _urgent_loads(
    events: Sequence[Event],
    stops: Mapping[str, Stop],
    pool: Sequence[Remaining],
    now_s: int,
    *,
    tag: str,
    taken: frozenset[str],
    day_loads: Sequence[Mapping[str, Any]] = (),
) -> list[Remaining]:
    """Return the new urgent requests as loads ``U<tag>-<i>``; refuse unknown places.

    ``tag`` (the new routes id's first six characters) keeps the ids of two re-plans of a day
    apart; an id still in ``taken`` (the routes' loads) gets ``'`` appended.
    """
    out: list[Remaining] = []
    problems: list[str] = []
    for event in events:
        if not isinstance(event, UrgentRequest):
            continue
        where = f"events[{event.index}]"
        if stops.get(event.facility_id) is None or stops[event.facility_id].kind != "facility":
            problems.append(
                f"{where}.facility_id: {event.facility_id!r} is not a facility of the plan"
            )
            continue
        supplier = event.supplier_id
        if supplier is None:
            # The suppliers of what remains, else of the day's loads (all may be delivered).
            same = [
                r.load.delivery.supplier_id
                for r in pool
                if r.load.delivery.product == event.product
                and not r.load.delivery.supplier_id.startswith(TRANSFER_PREFIX)
            ] or [str(d["supplier_id"]) for d in day_loads if d["product"] == event.product]
            supplier = _nearest(
                stops, [s for s in same if not s.startswith(TRANSFER_PREFIX)], event.facility_id
            )
        if supplier is None or supplier not in stops or stops[supplier].kind != "supplier":
            problems.append(
                f"{where}.supplier_id: {supplier!r} is not a supplier of the plan (give one: no "
                f"load of {event.product} today to choose from)"
            )
            continue
        unit = "kg_lox" if event.product == "bulk_liquid" else "cylinders_40L"
        delivery = Delivery(
            -1, supplier, event.facility_id, event.product, event.quantity, unit, 0.0, True
        )
        load_id = f"U{tag}-{event.index}"
        while load_id in taken:
            load_id += "'"
        out.append(
            Remaining(
                Load(load_id, delivery, event.quantity, 1, 1),
                "pool",
                (now_s, event.needed_by_s),
            )
        )
    if problems:
        raise InvalidInputError.from_problems("re-plan events", problems)
    return out


def _nearest(stops: Mapping[str, Stop], candidates: Sequence[str], facility_id: str) -> str | None:
    """Return the candidate nearest the facility as the crow flies (a choice among few)."""
    facility = stops[facility_id]
    return min(
        dict.fromkeys(candidates),
        key=lambda s: (stops[s].lon - facility.lon) ** 2 + (stops[s].lat - facility.lat) ** 2,
        default=None,
    )


# --------------------------------------------------------------------------- problem


def _options_of(routes: Mapping[str, Any], replan: ReplanOptions) -> DispatchOptions:
    """Return the published dispatch's options, with the re-plan's solver settings."""
    echo = dict(routes["options"])
    start = echo.pop("start_time", None)
    values = {
        k: v
        for k, v in echo.items()
        if k
        in {
            "shift_hours",
            "receiving_hours",
            "urgent_by",
            "service",
            "cross_company_loading",
            "min_drop_lox_share",
            "min_drop_cylinders",
        }
    }
    values.update(
        time_limit_s=replan.time_limit_s, seed=replan.seed, max_iterations=replan.max_iterations
    )
    return DispatchOptions.from_mapping(values, start_time=start)


@dataclass(frozen=True, slots=True)
class _Built:
    dispatch: DispatchProblem
    request: DispatchRequest
    remaining: tuple[Remaining, ...]
    starts: Mapping[str, int]  # vehicle id -> start location
    relaxed: Mapping[str, str]


def _build(
    routes: Mapping[str, Any],
    plan: Mapping[str, Any],
    states: Mapping[str, VehicleState],
    remaining: Sequence[Remaining],
    options: DispatchOptions,
    network: RoadNetwork,
    region: Region,
    now_s: int,
) -> _Built:
    """Build the re-plan's route problem over the working vehicles and the remaining loads."""
    suppliers = {
        s["supplier_id"]: _place_stop(s, "supplier_id", "supplier", "") for s in plan["suppliers"]
    }
    facilities = {
        f["facility_id"]: _place_stop(f, "facility_id", "facility", "") for f in plan["facilities"]
    }
    for vehicle_id, state in states.items():
        if state.broken is not None and state.steps:
            lon, lat = breakdown_location(state)
            suppliers[f"{TRANSFER_PREFIX}{vehicle_id}"] = Stop(
                f"{TRANSFER_PREFIX}{vehicle_id}",
                f"Điểm chuyển tải: xe {vehicle_id} hỏng / transfer point: {vehicle_id} broken down",
                float(lon),
                float(lat),
                "supplier",
            )
    working = [s for s in states.values() if s.broken is None]
    request = DispatchRequest(
        plan_id=str(routes.get("plan_id", "")),
        region_id=str(routes.get("region", "")),
        date=dt.date.fromisoformat(routes["date"]),
        day=int(routes["day"]),
        suppliers=MappingProxyType(suppliers),
        facilities=MappingProxyType(facilities),
        deliveries=(),
        vehicles=tuple(s.fleet for s in working),
        options=options,
    )
    loads = [r.load for r in remaining]
    positions = [s.steps[s.done]["place_id"] for s in working if s.done > 0]
    roads = _road_times(request, loads, network, region, also=positions)
    reachable = set(roads.place_ids)
    roads, visit_s, yards = _with_visits(roads, request, loads)
    idx = {p: k for k, p in enumerate(roads.place_ids[: len(roads.place_ids) - len(yards)])}
    companies = company_skills(request)
    vehicles, starts = _vehicles(
        working, idx, yards, options, companies, now_s, tankers=roads.tanker_durations_s is not None
    )
    kept = [
        r
        for r in remaining
        if {r.load.delivery.supplier_id, r.load.delivery.facility_id} <= reachable
        and (r.source != "on_board" or r.vehicle_id in starts)
        and vehicles
    ]
    dropped = tuple(
        (
            r.load,
            "unreachable by road now (a closed road, or the place cannot be snapped)"
            if vehicles
            else NO_WORKING_VEHICLE,
        )
        for r in remaining
        if r not in kept
    )
    if not vehicles:
        # Every vehicle has broken down: an idle placeholder (it can serve nothing) keeps the
        # problem valid, and every load is listed as unassigned with the reason.
        vehicles = (Vehicle("-", 0, 0, capacity=(0, 0), time_window=TimeWindow(now_s, now_s)),)
    shipments = [_shipment(r, idx, starts, options, companies, vehicles) for r in kept]
    profile_durations_s, profile_distances_m = roads.profile_matrices()
    problem = RouteProblem(
        durations_s=roads.durations_s,
        vehicles=vehicles,
        shipments=tuple(shipments),
        distances_m=roads.distances_m,
        profile_durations_s=profile_durations_s,
        profile_distances_m=profile_distances_m,
    )
    problem, windows, relaxed = _relax_missed_windows(problem, kept, options)
    return _Built(
        DispatchProblem(
            problem,
            roads.place_ids,
            tuple(r.load for r in kept),
            MappingProxyType(windows),
            MappingProxyType(relaxed),
            dropped,
            visit_s,
            MappingProxyType(yards),
        ),
        request,
        tuple(kept),
        MappingProxyType(starts),
        MappingProxyType(relaxed),
    )


def _vehicles(
    working: Sequence[VehicleState],
    idx: Mapping[str, int],
    yards: Mapping[str, int],
    options: DispatchOptions,
    companies: Mapping[str, int],
    now_s: int,
    *,
    tankers: bool = False,
) -> tuple[tuple[Vehicle, ...], dict[str, int]]:
    """Return the working vehicles as the problem's, starting where they are now.

    With ``tankers`` (the road times have a tanker matrix), cryogenic tankers drive on it.
    """
    vehicles: list[Vehicle] = []
    starts: dict[str, int] = {}
    shift_end = options.start_s + options.shift_s
    for position, state in enumerate(working):
        fleet = state.fleet
        end = yards.get(fleet.home_depot_id)
        if end is None:
            continue
        if state.done > 0:
            step = state.steps[state.done]
            start = idx.get(step["place_id"])
            left = local_seconds(
                dt.datetime.fromisoformat(step["departure"]),
                dt.date.fromisoformat(step["departure"][:10]),
            )
        else:
            start, left = end, options.start_s
        if start is None:
            continue
        ready = max(now_s, left, options.start_s) + state.delay_s
        skill = SKILL_BULK_LIQUID if fleet.kind == VehicleKind.CRYOGENIC_TANKER else SKILL_CYLINDERS
        skills = {skill, SKILL_ON_BOARD_BASE + position}
        skills |= (
            set(companies.values())
            if options.cross_company_loading
            else {companies[fleet.home_depot_id]}
        )
        starts[fleet.vehicle_id] = start
        vehicles.append(
            Vehicle(
                fleet.vehicle_id,
                start,
                end,
                capacity=fleet.capacity,
                time_window=TimeWindow(ready, max(ready, shift_end)),
                skills=frozenset(skills),
                profile=(
                    TANKER_PROFILE
                    if tankers and fleet.kind == VehicleKind.CRYOGENIC_TANKER
                    else "general"
                ),
            )
        )
    return tuple(vehicles), starts


def _shipment(
    remaining: Remaining,
    idx: Mapping[str, int],
    starts: Mapping[str, int],
    options: DispatchOptions,
    companies: Mapping[str, int],
    vehicles: Sequence[Vehicle],
    window_s: tuple[int, int] | None = None,
) -> Shipment:
    """Return a remaining load as a shipment: from its supplier, its vehicle or a transfer."""
    load, service = remaining.load, options.service
    product, quantity = load.delivery.product, load.quantity
    skills = {PRODUCT_SKILL[product]}
    if remaining.source == "on_board":
        assert remaining.vehicle_id is not None
        pickup_idx, load_s = starts[remaining.vehicle_id], 0
        vehicle = next(v for v in vehicles if v.vehicle_id == remaining.vehicle_id)
        skills |= {s for s in vehicle.skills if s >= SKILL_ON_BOARD_BASE}
    elif remaining.source == "transfer":
        pickup_idx = idx[load.delivery.supplier_id]
        load_s = (
            service.tanker_load_s
            if product == "bulk_liquid"
            else service.per_cylinder_load_s * quantity
        )
    else:
        pickup_idx = idx[load.delivery.supplier_id]
        load_s = _step_services(load, service, set(), merged=True)[0]
        skills.add(companies[load.delivery.supplier_id])
    unload_s = _step_services(load, service, set(), merged=True)[1]
    opens, closes = window_s or remaining.window_s
    urgent = load.load_id.startswith("U") and load.delivery.flow_index == -1
    priority = (
        CARRIED_PRIORITY
        if remaining.source != "pool"
        else URGENT_REQUEST_PRIORITY
        if urgent or load.delivery.urgent
        else 0
    )
    # A transfer pickup is a new stop, not the broken vehicle's done pickup of the same load: its
    # own id keeps step ids unique in the routes and in the changes.
    pickup_id = (
        f"{load.load_id}:transfer" if remaining.source == "transfer" else f"{load.load_id}:load"
    )
    return Shipment(
        pickup=ShipmentStep(pickup_id, pickup_idx, load_s),
        delivery=ShipmentStep(
            f"{load.load_id}:drop",
            idx[load.delivery.facility_id],
            unload_s,
            TimeWindow(min(opens + service.facility_stop_s, closes), closes),
        ),
        amount=load.amount,
        priority=priority,
        skills=frozenset(skills),
    )


def _relax_missed_windows(
    problem: RouteProblem, kept: Sequence[Remaining], options: DispatchOptions
) -> tuple[RouteProblem, dict[str, tuple[int, int]], dict[str, str]]:
    """Relax windows no vehicle can meet any more to the receiving hours' close; say why."""
    from routing.vehicle_routes import REASON_TIME_WINDOW, explain_unservable_tasks

    windows = {r.load.load_id: r.window_s for r in kept}
    relaxed: dict[str, str] = {}
    shipments = list(problem.shipments)
    late = options.receiving_hours_s[1]
    for position, reason in explain_unservable_tasks(problem).items():
        if not reason.startswith(REASON_TIME_WINDOW):
            continue
        remaining = kept[position]
        opens, closes = remaining.window_s
        if closes >= late:
            continue
        windows[remaining.load.load_id] = (opens, late)
        relaxed[remaining.load.load_id] = (
            f"cannot arrive by {clock_text(closes)} any more: {reason}; delivered by "
            f"{clock_text(late)} instead"
        )
        old = shipments[position]
        shipments[position] = dataclasses.replace(
            old,
            delivery=dataclasses.replace(
                old.delivery,
                time_window=TimeWindow(min(opens + options.service.facility_stop_s, late), late),
            ),
        )
    return dataclasses.replace(problem, shipments=tuple(shipments)), windows, relaxed


# --------------------------------------------------------------------------- answer


def _spliced_route(
    state: VehicleState, new: Mapping[str, Any] | None, carried_ids: set[str]
) -> dict[str, Any] | None:
    """Return a vehicle's route: its done steps, then the solver's (or its end if none)."""
    kept = [dict(s) for s in state.steps[: state.done + 1]]
    for index, step in enumerate(kept[1:], start=1):
        step["quantity"] = state.quantity(index)
        step["done"] = True
    if new is None and state.done == 0:
        return None
    base = kept[-1] if kept else None
    if new is None:
        end = dict(base) if base else {}
        end.update(type="end", arrival=end.get("departure"), service=0, waiting_time=0)
        for key in ("id", "load_id", "supplier_id", "facility_id", "product", "quantity", "unit"):
            end.pop(key, None)
        end.pop("done", None)
        if state.broken is not None:
            end["broken_down"] = True
        steps = [*kept, end]
        route: dict[str, Any] = {"steps": steps}
    else:
        route = dict(new)
        offset_s = int(base["duration"]) if base else 0
        offset_m = int(base["distance"] or 0) if base else 0
        tail = new_steps(new, carried_ids)
        for step in tail:
            step["duration"] = int(step["duration"]) + offset_s
            step["distance"] = int(step["distance"] or 0) + offset_m
        steps = [*kept, *tail] if kept else [new["steps"][0], *tail]
        route["steps"] = steps
    fleet = state.fleet
    route.update(
        vehicle=fleet.vehicle_id,
        kind=str(fleet.kind),
        plate=fleet.plate,
        operator_id=fleet.operator_id,
        home_depot_id=fleet.home_depot_id,
        capacity={"lox_kg": fleet.capacity[0], "cylinders": fleet.capacity[1]},
        start=steps[0]["departure"],
        end=steps[-1]["arrival"],
        duration=int(steps[-1]["duration"]),
        distance=int(steps[-1]["distance"] or 0),
        service=sum(int(s["service"]) for s in steps),
        waiting_time=sum(int(s["waiting_time"]) for s in steps),
        broken_down=state.broken is not None,
    )
    route.setdefault("cost", route["duration"])
    route.setdefault("priority", 0)
    route["delivery"] = {
        "lox_kg": sum(
            s["quantity"]
            for s in steps
            if s["type"] == "delivery" and s["product"] == "bulk_liquid"
        ),
        "cylinders": sum(
            s["quantity"]
            for s in steps
            if s["type"] == "delivery" and s["product"] != "bulk_liquid"
        ),
    }
    return route


def _roads_closed(routes: Mapping[str, Any], events: Sequence[Event]) -> list[RoadClosed]:
    """Return the roads closed so far: by the re-plans the routes come from, then the events."""
    earlier = [
        RoadClosed(
            -1,
            entry.get("polygon"),
            tuple(entry["road_names"]) if entry.get("road_names") is not None else None,
        )
        for entry in (routes.get("replan") or {}).get("roads_closed", [])
    ]
    return [*earlier, *(e for e in events if isinstance(e, RoadClosed))]


def _closed_network(network: RoadNetwork, closures: Sequence[RoadClosed]) -> RoadNetwork:
    from routing.network import change_roads

    for event in closures:
        try:
            network = change_roads(network, polygon=event.polygon, road_names=event.road_names)
        except InvalidInputError as error:
            raise InvalidInputError.from_problems(
                "re-plan events",
                [f"events[{event.index}].polygon: {p}" for p in error.problems]
                or [f"events[{event.index}]: {error}"],
            ) from None
    return network


def replan_routes(
    routes: Mapping[str, Any],
    plan: Mapping[str, Any],
    events: Sequence[Event],
    *,
    now: dt.datetime,
    network: RoadNetwork,
    region: Region,
    fleet: Sequence[FleetVehicle] = (),
    options: ReplanOptions | None = None,
    routes_id: str = "",
) -> ReplanResult:
    """Re-plan a published day's routes after the events, from where every vehicle is at ``now``.

    Parameters
    ----------
    routes
        The routes document: published (``routes.json`` as ``POST /plans/{id}/routes`` wrote it)
        or a re-plan's (read back as it stands: :mod:`coordination.replan_state`); the events
        are those since these routes.
    plan
        The plan document the routes came from (its suppliers and facilities).
    events
        Parsed events (:func:`coordination.replan_events.events_from_mapping`).
    now
        The time of the re-plan (aware); it must not be before the routes' start.
    network, region
        The road network and its region (gateways), as for the dispatch.
    fleet
        Vehicles besides the routes' own that may take work (e.g. the registry's fleet).
    options
        :class:`ReplanOptions` (stability penalty, solver settings).
    routes_id
        The id the new routes will be stored under.

    Returns
    -------
    ReplanResult
        The new routes document, with ``replan``: the events' effects (``changes``), the
        ``balance`` per product and the published routes' id.

    Raises
    ------
    InvalidInputError
        Naming each bad event's field (``events[i].vehicle``, ``events[i].step``, ...) or
        ``now`` (before the routes start or the re-plan they come from, after their day).
    """
    from routing.route_validation import validate_route_plan
    from routing.vehicle_routes import SolverParams, VehiclePreference, solve_routes

    replan = options or ReplanOptions()
    dispatch_options = _options_of(routes, replan)
    now_s = _now_s(routes, now, dispatch_options)
    vehicles = _fleet_of_routes(routes, fleet)
    steps = {r["vehicle"]: r["steps"] for r in routes["routes"]}
    check_events(
        events,
        steps,
        start_s=dispatch_options.start_s,
        now_s=now_s,
        fleet_ids=frozenset(vehicles),
        broken_ids=frozenset(broken_in(routes)),
    )
    states = vehicle_states(routes, vehicles, events)
    remaining = remaining_loads(routes, states, dispatch_options)
    stops = {
        s["supplier_id"]: _place_stop(s, "supplier_id", "supplier", "") for s in plan["suppliers"]
    }
    stops.update(
        {
            f["facility_id"]: _place_stop(f, "facility_id", "facility", "")
            for f in plan["facilities"]
        }
    )
    known = frozenset(
        {*(d["load_id"] for d in routes["loads"]), *(r.load.load_id for r in remaining)}
    )
    tag = (routes_id or str(routes.get("routes_id", "")))[:6]
    remaining += _urgent_loads(
        events, stops, remaining, now_s, tag=tag, taken=known, day_loads=routes["loads"]
    )
    # The pieces of the routes' loads (follow-ons name their original load) and urgent requests.
    origins = {r.load.load_id: r.origin for r in remaining}
    closures = _roads_closed(routes, events)
    built = _build(
        routes,
        plan,
        states,
        remaining,
        dispatch_options,
        _closed_network(network, closures),
        region,
        now_s,
    )
    # Announced pickups (at a supplier or, after an earlier re-plan, at a transfer point) stay
    # on their vehicle unless moving them saves more than the penalty.
    preferences = [
        VehiclePreference(r.pickup_id, r.announced_on, replan.move_penalty_s)
        for r in built.remaining
        if r.announced_on is not None and r.announced_on in built.starts
    ]
    params = SolverParams(
        time_limit_s=replan.time_limit_s, seed=replan.seed, max_iterations=replan.max_iterations
    )
    problem = built.dispatch.problem
    solved = solve_routes(problem, params, preferences=preferences if replan.move_penalty_s else ())
    validate_route_plan(problem, solved)
    result = DispatchResult(built.request, built.dispatch, solved)
    fresh = routes_to_dict(result, routes_id=routes_id)
    document = _document(routes, fresh, states, built, replan, now, origins)
    document["replan"]["roads_closed"] = [
        {"polygon": c.polygon, "road_names": list(c.road_names) if c.road_names else None}
        for c in closures
    ]
    return ReplanResult(document)


def _now_s(routes: Mapping[str, Any], now: dt.datetime, options: DispatchOptions) -> int:
    """Return ``now`` in seconds of the routes' day; refuse it outside the day or early.

    Early is before the routes start, or before the re-plan they come from.
    """
    date = dt.date.fromisoformat(routes["date"])
    if now.tzinfo is None:
        raise InvalidInputError("now: must be an aware time (with an offset)")
    now_s = local_seconds(now, date)
    if now_s < options.start_s:
        raise InvalidInputError(
            f"now: {now.isoformat()} is before the routes start "
            f"({routes['date']} {clock_text(options.start_s)})"
        )
    if now_s >= 24 * 3600:
        # Every vehicle would be ready after its shift: all loads unassigned, a mistaken date.
        raise InvalidInputError(
            f"now: {now.isoformat()} is after the routes' day ({routes['date']}); re-plan a "
            "day's routes on that day"
        )
    earlier = (routes.get("replan") or {}).get("now")
    if earlier and now < dt.datetime.fromisoformat(earlier):
        raise InvalidInputError(
            f"now: {now.isoformat()} is before the re-plan these routes come from ({earlier}); "
            "a re-plan goes forward in the day"
        )
    return now_s


def _document(
    routes: Mapping[str, Any],
    fresh: Mapping[str, Any],
    states: Mapping[str, VehicleState],
    built: _Built,
    replan: ReplanOptions,
    now: dt.datetime,
    origins: Mapping[str, str],
) -> dict[str, Any]:
    """Return the new routes document: done steps spliced before the solved ones, and changes.

    ``origins``: every remaining load id -> its original load id ("" for an urgent request).
    """
    carried = {r.load.load_id for r in built.remaining if r.source == "on_board"}
    solved = {r["vehicle"]: r for r in fresh["routes"]}
    new_routes = []
    for vehicle_id, state in states.items():
        route = _spliced_route(state, solved.get(vehicle_id), carried)
        if route is not None:
            new_routes.append(route)
    # Entries this re-plan leaves out are marked: the next re-plan finds them again from where
    # the day stands, and tries them again.
    unassigned = [
        *carried_unassigned(routes),
        *({**u, "replanned": True} for u in fresh["unassigned"]),
    ]
    known = {d["load_id"] for d in routes["loads"]}
    loads = [
        *routes["loads"],
        *(
            {**d, "origin_load_id": origins[d["load_id"]]}
            if origins.get(d["load_id"]) not in ("", None, d["load_id"])
            else d
            for d in fresh["loads"]
            if d["load_id"] not in known
        ),
    ]
    document = dict(fresh)
    document.update(
        plan_id=routes.get("plan_id", ""),
        routes=new_routes,
        unassigned=unassigned,
        loads=loads,
        vehicles_unused=sorted(set(states) - {r["vehicle"] for r in new_routes}),
        vehicles_excluded=routes.get("vehicles_excluded", []),
        contacts=routes.get("contacts", {}),
        options=routes["options"],
    )
    summary = dict(fresh["summary"])
    summary.update(
        routes=len(new_routes),
        unassigned=len(unassigned),
        loads=len(loads),
        loads_unassigned=len({u["load_id"] for u in unassigned}),
        duration=sum(r["duration"] for r in new_routes),
        service=sum(r["service"] for r in new_routes),
        distance=sum(r["distance"] for r in new_routes),
    )
    document["summary"] = summary
    earlier = routes.get("replan") or {}
    document["replan"] = {
        "from_routes_id": routes.get("routes_id", ""),
        "published_routes_id": earlier.get("published_routes_id", routes.get("routes_id", "")),
        "now": now.isoformat(),
        "broken_down": _broken_down(routes, states),
        "options": dataclasses.asdict(replan),
        "windows_relaxed": dict(built.relaxed),
        "changes": changes(routes["routes"], new_routes, unassigned, replan.eta_tolerance_min),
        "balance": {},
    }
    new_ids = frozenset(k for k, v in origins.items() if not v)
    document["replan"]["balance"] = balance(routes, document, new_load_ids=new_ids)
    return document


def _broken_down(
    routes: Mapping[str, Any], states: Mapping[str, VehicleState]
) -> dict[str, dict[str, Any]]:
    """Return every vehicle broken down so far: when and where (read back by the next re-plan)."""
    date = dt.date.fromisoformat(routes["date"])
    midnight = dt.datetime.combine(date, dt.time(0), tzinfo=LOCAL_TZ)
    out = dict((routes.get("replan") or {}).get("broken_down") or {})
    for vehicle_id, state in states.items():
        if state.broken is not None:
            out[vehicle_id] = {
                "at": (midnight + dt.timedelta(seconds=state.broken.at_s)).isoformat(),
                "location": list(breakdown_location(state)),
            }
    return out
