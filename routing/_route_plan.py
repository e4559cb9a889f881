"""From engine routes to our plan: an independent forward schedule on the original matrices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from data.schema.routes import (
    Job,
    RoutePlan,
    RouteProblem,
    RouteStep,
    Shipment,
    StepKind,
    TaskId,
    TimeWindow,
    UnassignedTask,
    Vehicle,
    VehicleRoute,
    speed_scaled_durations,
    total_amounts,
)
from routing._pyvrp_model import PyvrpModel
from routing._pyvrp_routes import RawRoute
from routing._route_tasks import list_tasks, service_start
from routing._unservable import unassigned_reason


@dataclass(frozen=True, slots=True)
class Visit:
    """One stop of a route: a job, a shipment's pickup or delivery, or a reload."""

    kind: Literal["job", "pickup", "delivery", "reload"]
    location_idx: int
    task_position: int | None


def _round_half_up(numerator: int, denominator: int) -> int:
    """Round ``numerator / denominator`` (both >= 0) to the nearest integer, halves up."""
    return (2 * numerator + denominator) // (2 * denominator)


def _route_cost(vehicle: Vehicle, travel_s: int, distance_m: int, matrix_cost: int | None) -> int:
    """Return VROOM's cost of a route: fixed plus the costs matrix sum, or the per-hour/km cost.

    ``matrix_cost`` is the sum of the ``costs`` matrix along the route, ``None`` without one.
    """
    if matrix_cost is not None:
        return vehicle.fixed_cost + matrix_cost
    # per_hour * travel / 3600 + per_km * distance / 1000, over the common denominator 3.6e6.
    travel_cost = _round_half_up(
        vehicle.cost_per_hour * travel_s * 1000 + vehicle.cost_per_km * distance_m * 3600,
        3_600_000,
    )
    return vehicle.fixed_cost + travel_cost


def _task_of(problem: RouteProblem, visit: Visit) -> Job | Shipment:
    assert visit.task_position is not None
    if visit.task_position < len(problem.jobs):
        return problem.jobs[visit.task_position]
    return problem.shipments[visit.task_position - len(problem.jobs)]


def _trip_loads(problem: RouteProblem, visits: list[Visit]) -> list[tuple[int, ...]]:
    """Return the load leaving the start and each reload: the deliveries of that trip's jobs."""
    dims = problem.num_dimensions
    trip_loads: list[tuple[int, ...]] = []
    current: list[tuple[int, ...]] = []
    for visit in visits:
        if visit.kind == "reload":
            trip_loads.append(total_amounts(current, dims))
            current = []
        elif visit.kind == "job":
            job = _task_of(problem, visit)
            assert isinstance(job, Job)
            current.append(job.delivery)
    trip_loads.append(total_amounts(current, dims))
    return trip_loads


@dataclass(slots=True)
class _Schedule:
    """Running totals of a route as it is scheduled, and the steps so far."""

    durations: npt.NDArray[np.int64]  # scaled by the vehicle's speed
    costs: npt.NDArray[np.int64]
    distances: npt.NDArray[np.int64] | None
    trip_loads: list[tuple[int, ...]]
    clock: int
    load: tuple[int, ...] = ()
    trip: int = 0
    travel: int = 0
    cost: int = 0
    distance: int = 0
    service: int = 0
    waiting: int = 0
    priority: int = 0
    delivered: list[tuple[int, ...]] = field(default_factory=list)
    picked: list[tuple[int, ...]] = field(default_factory=list)
    steps: list[RouteStep] = field(default_factory=list)

    def drive(self, here: int | None, to: int) -> None:
        """Drive from ``here`` (nowhere at an open start) to ``to``."""
        if here is None:
            return
        self.travel += int(self.durations[here, to])
        self.cost += int(self.costs[here, to])
        self.distance += int(self.distances[here, to]) if self.distances is not None else 0
        self.clock += int(self.durations[here, to])

    def add_step(
        self,
        kind: StepKind,
        location_idx: int,
        arrival: int,
        wait: int,
        service: int,
        task: TaskId | None,
    ) -> None:
        """Record a step with the totals so far (``task`` is ``None`` at a start, end, reload)."""
        self.steps.append(
            RouteStep(
                kind,
                location_idx,
                arrival,
                self.travel,
                wait,
                service,
                self.load,
                task,
                self.distance if self.distances is not None else None,
            )
        )


def _serve_job(schedule: _Schedule, job: Job, dims: int) -> None:
    zero = (0,) * dims
    schedule.load = tuple(
        a - d + p
        for a, d, p in zip(schedule.load, job.delivery or zero, job.pickup or zero, strict=True)
    )
    schedule.delivered.append(job.delivery)
    schedule.picked.append(job.pickup)
    schedule.priority += job.priority


def _serve_shipment(schedule: _Schedule, shipment: Shipment, pickup: bool, dims: int) -> None:
    sign = 1 if pickup else -1
    amount = shipment.amount or (0,) * dims
    schedule.load = tuple(a + sign * b for a, b in zip(schedule.load, amount, strict=True))
    # As in VROOM, a shipment's priority counts on its pickup and its delivery.
    schedule.priority += shipment.priority
    (schedule.picked if pickup else schedule.delivered).append(shipment.amount)


def _serve(
    problem: RouteProblem, vehicle: Vehicle, visit: Visit, schedule: _Schedule
) -> tuple[tuple[TimeWindow, ...], int, TaskId | None]:
    """Update the load and totals for a visit; return its windows, service time and task id."""
    if visit.kind == "reload":
        schedule.trip += 1
        schedule.load = schedule.trip_loads[schedule.trip]
        return (), vehicle.reload_service_s, None
    task = _task_of(problem, visit)
    if isinstance(task, Job):
        _serve_job(schedule, task, problem.num_dimensions)
        return task.time_windows, task.service_s, task.job_id
    step = task.pickup if visit.kind == "pickup" else task.delivery
    _serve_shipment(schedule, task, visit.kind == "pickup", problem.num_dimensions)
    windows = (step.time_window,) if step.time_window is not None else ()
    return windows, step.service_s, step.step_id


def make_route(
    problem: RouteProblem, vehicle: Vehicle, departure_s: int, visits: list[Visit]
) -> VehicleRoute:
    """Schedule ``visits`` for ``vehicle`` leaving at ``departure_s`` (earliest service starts)."""
    dims = problem.num_dimensions
    # The vehicle's own profile (a loaded tanker's road times), so its ETAs are its own.
    durations = speed_scaled_durations(problem.durations_of(vehicle), vehicle.speed_factor)
    trip_loads = _trip_loads(problem, visits)
    schedule = _Schedule(
        durations,
        problem.cost_matrix_of(vehicle),
        problem.distances_of(vehicle),
        trip_loads,
        departure_s,
        trip_loads[0],
    )
    here = vehicle.start_location_idx
    if here is not None:
        schedule.add_step("start", here, departure_s, 0, 0, None)
    for visit in visits:
        schedule.drive(here, visit.location_idx)
        arrival = schedule.clock
        windows, service, task_id = _serve(problem, vehicle, visit, schedule)
        # The earliest window still open; a late arrival (never from a feasible engine route)
        # keeps its arrival so that the validator reports it.
        begin = service_start(arrival, windows)
        wait = begin - arrival if begin is not None else 0
        schedule.clock = arrival + wait + service
        schedule.service += service
        schedule.waiting += wait
        schedule.add_step(visit.kind, visit.location_idx, arrival, wait, service, task_id)
        here = visit.location_idx
    end = vehicle.end_location_idx
    if end is not None:
        schedule.drive(here, end)
        schedule.add_step("end", end, schedule.clock, 0, 0, None)
    has_distances = problem.distances_m is not None
    return VehicleRoute(
        vehicle_id=vehicle.vehicle_id,
        steps=tuple(schedule.steps),
        cost=_route_cost(
            vehicle,
            schedule.travel,
            schedule.distance,
            schedule.cost if problem.costs is not None else None,
        ),
        travel_s=schedule.travel,
        service_s=schedule.service,
        waiting_s=schedule.waiting,
        delivery=total_amounts(schedule.delivered, dims),
        pickup=total_amounts(schedule.picked, dims),
        priority=schedule.priority,
        distance_m=schedule.distance if has_distances else None,
    )


def list_unassigned(
    problem: RouteProblem, dropped: Mapping[int, str], served: set[int], reason: str
) -> list[UnassignedTask]:
    """List the tasks not served: the pre-check's with their reasons, the others with ``reason``."""
    unassigned: list[UnassignedTask] = []
    for task in list_tasks(problem):
        if task.position in dropped:
            unassigned += task.unassigned(dropped[task.position])
        elif task.position not in served:
            unassigned += task.unassigned(reason)
    return unassigned


def _visits(
    problem: RouteProblem, model: PyvrpModel, activities: list[tuple[str, int]]
) -> list[Visit]:
    """Translate a raw route's activities into visits (reloads: depots between start and end)."""
    visits: list[Visit] = []
    for number, (kind, idx) in enumerate(activities):
        if kind == "depot":
            if 0 < number < len(activities) - 1:
                location = model.depot_locations[idx]
                assert location is not None
                visits.append(Visit("reload", location, None))
            continue
        if kind == "client":
            position = model.client_tasks[idx]
            job = problem.jobs[position]
            visits.append(Visit("job", job.location_idx, position))
        else:
            position = model.shipment_tasks[idx]
            shipment = problem.shipments[position - len(problem.jobs)]
            step = shipment.pickup if kind == "pickup" else shipment.delivery
            visits.append(Visit(kind, step.location_idx, position))  # type: ignore[arg-type]
    return visits


def plan_from_raw(
    problem: RouteProblem,
    model: PyvrpModel,
    raw: list[RawRoute],
    dropped: Mapping[int, str],
    *,
    time_limit_s: float,
    seed: int,
    runtime_s: float,
    proven: bool = False,
) -> RoutePlan:
    """Turn engine routes into the plan; ``proven``: the routes come from the enumeration."""
    routes: list[VehicleRoute] = []
    served: set[int] = set()
    next_vehicle = [0] * len(model.type_vehicles)
    for vehicle_type, departure, activities in sorted(raw, key=lambda r: (r[0], r[1], r[2])):
        vehicle_position = model.type_vehicles[vehicle_type][next_vehicle[vehicle_type]]
        next_vehicle[vehicle_type] += 1
        visits = _visits(problem, model, activities)
        served.update(v.task_position for v in visits if v.task_position is not None)
        routes.append(make_route(problem, problem.vehicles[vehicle_position], departure, visits))
    # Vehicles in input order, as VROOM lists them.
    order = {v.vehicle_id: i for i, v in enumerate(problem.vehicles)}
    routes.sort(key=lambda r: order[r.vehicle_id])
    pending = [t for t in list_tasks(problem) if t.position not in dropped]
    late_reason = unassigned_reason(problem, pending, time_limit_s, proven)
    return RoutePlan(
        routes=tuple(routes),
        unassigned=tuple(list_unassigned(problem, dropped, served, late_reason)),
        cost=sum(r.cost for r in routes),
        engine="pyvrp",
        seed=seed,
        runtime_s=runtime_s,
    )
