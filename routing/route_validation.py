"""Check a route plan against its problem, independently of the solver that produced it.

Everything is recomputed from the problem's own matrices and records: the schedule of every
route (arrival, waiting, service) with each vehicle's speed factor, time windows (service in any
one of a job's windows), shift, travel-time, distance and task-count limits, loads against
capacities (with reloads), skills, shipment order, costs (VROOM's rule: fixed cost plus the costs
matrix, or per hour and per km), and that every task is routed exactly once or listed as
unassigned with a reason. Nothing here imports a routing engine.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from data.errors import InvalidRoutePlanError
from data.schema.routes import (
    Job,
    RoutePlan,
    RouteProblem,
    RouteStep,
    Shipment,
    TaskId,
    TimeWindow,
    Vehicle,
    VehicleRoute,
)


def find_plan_violations(problem: RouteProblem, plan: RoutePlan) -> list[str]:
    """Return every way ``plan`` breaks ``problem``'s rules (an empty list when it is valid).

    Parameters
    ----------
    problem
        The problem the plan answers.
    plan
        The plan to check.

    Returns
    -------
    list of str
        One message per violation, naming the vehicle, the step and the numbers.
    """
    violations: list[str] = []
    jobs = {job.job_id: job for job in problem.jobs}
    steps_of: dict[TaskId, tuple[Shipment, str]] = {}
    for shipment in problem.shipments:
        steps_of[shipment.pickup.step_id] = (shipment, "pickup")
        steps_of[shipment.delivery.step_id] = (shipment, "delivery")
    vehicles = {vehicle.vehicle_id: vehicle for vehicle in problem.vehicles}
    seen = Counter[TaskId]()
    used_vehicles = Counter[TaskId]()
    for route in plan.routes:
        used_vehicles[route.vehicle_id] += 1
        if route.vehicle_id not in vehicles:
            violations.append(f"route of unknown vehicle {route.vehicle_id!r}")
            continue
        violations += _route_violations(problem, route, jobs, steps_of, seen)
    for vehicle_id, count in used_vehicles.items():
        if count > 1:
            violations.append(f"vehicle {vehicle_id!r} has {count} routes; at most one is allowed")
    for task in plan.unassigned:
        seen[task.task_id] += 1
        if not task.reason.strip():
            violations.append(f"unassigned task {task.task_id!r} has no reason")
        expected = "job" if task.task_id in jobs else steps_of.get(task.task_id, (None, "?"))[1]
        if task.kind != expected:
            violations.append(
                f"unassigned task {task.task_id!r} has kind {task.kind!r}, expected {expected!r}"
            )
    for task_id in list(jobs) + list(steps_of):
        if seen[task_id] != 1:
            violations.append(
                f"task {task_id!r} appears {seen[task_id]} times in routes and unassigned; "
                "it must appear exactly once"
            )
    for task_id in seen:
        if task_id not in jobs and task_id not in steps_of:
            violations.append(f"plan mentions unknown task {task_id!r}")
    total = sum(route.cost for route in plan.routes)
    if total != plan.cost:
        violations.append(f"plan cost {plan.cost} differs from the sum of route costs {total}")
    return violations


@dataclass(slots=True)
class _Walk:
    """A route being checked: its vehicle, the problem's records and the recomputed state."""

    problem: RouteProblem
    vehicle: Vehicle
    name: str
    jobs: dict[TaskId, Job]
    steps_of: dict[TaskId, tuple[Shipment, str]]
    trip_loads: list[list[int]]  # deliveries of each trip's jobs, loaded at its start or reload
    hundredths: int  # a leg takes d * hundredths / 100 s (VROOM's speed factor)
    departure: int
    seen: Counter[TaskId]
    out: list[str]
    clock: int = 0
    here: int | None = None
    travel: int = 0
    cost: int = 0
    distance: int = 0
    tasks: int = 0
    trip: int = 0
    load: list[int] = field(default_factory=list)
    picked_on_route: set[Shipment] = field(default_factory=set)
    position_in_route: dict[TaskId, int] = field(default_factory=dict)

    @property
    def zero(self) -> tuple[int, ...]:
        """No load in any dimension."""
        return (0,) * self.problem.num_dimensions

    def leg_s(self, origin: int, destination: int) -> int:
        """Return a leg's travel time for this vehicle, rounded to the second (halves up)."""
        durations = self.problem.durations_of(self.vehicle)
        return (int(durations[origin, destination]) * self.hundredths + 50) // 100

    def drive(self, to: int) -> None:
        """Drive from the last step's location (nowhere before the first step) to ``to``."""
        here = self.here
        if here is not None:
            self.travel += self.leg_s(here, to)
            self.cost += int(self.problem.cost_matrix_of(self.vehicle)[here, to])
            distances = self.problem.distances_of(self.vehicle)
            if distances is not None:
                self.distance += int(distances[here, to])
            self.clock += self.leg_s(here, to)
        self.here = to


def _frame_violation(vehicle: Vehicle, name: str, steps: list[RouteStep]) -> str | None:
    """Check that the route starts and ends where the vehicle does, with no inner start or end."""
    start, end = vehicle.start_location_idx, vehicle.end_location_idx
    if start is not None and (
        not steps or steps[0].kind != "start" or steps[0].location_idx != start
    ):
        return f"{name}: route must begin with a start step at location {start}"
    if end is not None and (not steps or steps[-1].kind != "end" or steps[-1].location_idx != end):
        return f"{name}: route must finish with an end step at location {end}"
    middle = [s for s in steps if s.kind not in ("start", "end")]
    if len(middle) + (start is not None) + (end is not None) != len(steps):
        return f"{name}: start and end steps may only come first and last"
    return None


def _trip_loads(middle: list[RouteStep], jobs: dict[TaskId, Job], dims: int) -> list[list[int]]:
    """Return the load of each trip: the deliveries of its jobs, loaded at its start."""
    trip_loads: list[list[int]] = [[0] * dims]
    for step in middle:
        if step.kind == "reload":
            trip_loads.append([0] * dims)
        elif step.kind == "job" and step.task_id in jobs:
            for d, value in enumerate(jobs[step.task_id].delivery or (0,) * dims):
                trip_loads[-1][d] += value
    return trip_loads


def _skills_violation(label: str, needed: frozenset[int], vehicle: Vehicle) -> list[str]:
    if needed <= vehicle.skills:
        return []
    return [f"{label}: needs skills {sorted(needed)}, vehicle has {sorted(vehicle.skills)}"]


def _serve_job(
    walk: _Walk, step: RouteStep, label: str
) -> tuple[tuple[TimeWindow, ...], int] | None:
    job = walk.jobs.get(step.task_id)  # type: ignore[arg-type]
    if job is None or job.location_idx != step.location_idx:
        walk.out.append(f"{label}: not a job of the problem at this location")
        return None
    walk.out += _skills_violation(label, job.skills, walk.vehicle)
    walk.tasks += 1
    zero = walk.zero
    walk.load = [
        a - d + p
        for a, d, p in zip(walk.load, job.delivery or zero, job.pickup or zero, strict=True)
    ]
    return job.time_windows, job.service_s


def _serve_shipment(
    walk: _Walk, step: RouteStep, label: str
) -> tuple[tuple[TimeWindow, ...], int] | None:
    found = walk.steps_of.get(step.task_id)  # type: ignore[arg-type]
    if found is None or found[1] != step.kind:
        walk.out.append(f"{label}: not a shipment {step.kind} of the problem")
        return None
    shipment, _ = found
    part = shipment.pickup if step.kind == "pickup" else shipment.delivery
    if part.location_idx != step.location_idx:
        walk.out.append(f"{label}: the shipment step is at location {part.location_idx}")
    walk.out += _skills_violation(label, shipment.skills, walk.vehicle)
    walk.tasks += 1
    sign = 1 if step.kind == "pickup" else -1
    amount = shipment.amount or walk.zero
    walk.load = [a + sign * b for a, b in zip(walk.load, amount, strict=True)]
    if step.kind == "pickup":
        walk.picked_on_route.add(shipment)
    elif shipment not in walk.picked_on_route:
        walk.out.append(f"{label}: delivered before (or without) its pickup on this route")
    windows = (part.time_window,) if part.time_window is not None else ()
    return windows, part.service_s


def _serve(walk: _Walk, step: RouteStep, label: str) -> tuple[tuple[TimeWindow, ...], int] | None:
    """Check the step's task and update the load; return its windows and service (None: skip)."""
    if step.kind == "job":
        return _serve_job(walk, step, label)
    if step.kind in ("pickup", "delivery"):
        return _serve_shipment(walk, step, label)
    if step.kind == "reload":
        vehicle = walk.vehicle
        if step.location_idx not in vehicle.reload_location_idxs:
            walk.out.append(
                f"{label}: not one of the vehicle's reload locations "
                f"{list(vehicle.reload_location_idxs)}"
            )
        walk.trip += 1
        walk.load = list(walk.trip_loads[walk.trip])
        return (), vehicle.reload_service_s
    return (), 0


def _check_times(walk: _Walk, step: RouteStep, label: str) -> None:
    """Check the step's arrival, travel and distance so far against the recomputed ones."""
    if step.kind != "start" and step.arrival_s != walk.clock:
        walk.out.append(
            f"{label}: arrival {step.arrival_s} s, but the matrices give {walk.clock} s"
        )
    if step.travel_s != walk.travel:
        walk.out.append(f"{label}: travel {step.travel_s} s, but the matrices give {walk.travel} s")
    if (
        walk.problem.distances_m is not None
        and step.distance_m is not None
        and step.distance_m != walk.distance
    ):
        walk.out.append(
            f"{label}: distance {step.distance_m} m, but the matrices give {walk.distance} m"
        )


def _check_service(
    walk: _Walk, step: RouteStep, label: str, windows: tuple[TimeWindow, ...], service: int
) -> None:
    """Check the step's service time, waiting and window; move the clock past its service."""
    if step.service_s != service:
        walk.out.append(f"{label}: service {step.service_s} s, the problem says {service} s")
    begin = step.arrival_s + step.waiting_s
    if step.waiting_s < 0:
        walk.out.append(f"{label}: negative waiting {step.waiting_s} s")
    if windows and not any(window.contains(begin) for window in windows):
        shown = ", ".join(f"[{w.start_s}, {w.end_s}]" for w in windows)
        walk.out.append(f"{label}: service starts at {begin} s, outside its window(s) {shown}")
    walk.clock = begin + step.service_s if step.kind != "start" else walk.departure


def _check_load(walk: _Walk, step: RouteStep, label: str) -> None:
    """Check the step's load against the recomputed one and the capacities."""
    capacities = walk.vehicle.capacity
    if list(step.load) != walk.load:
        walk.out.append(f"{label}: load {list(step.load)}, recomputed {walk.load}")
    for d, (amount, capacity) in enumerate(zip(walk.load, capacities, strict=True)):
        if amount > capacity:
            walk.out.append(f"{label}: load {amount} exceeds capacity {capacity} in dimension {d}")
        if amount < 0:
            walk.out.append(f"{label}: negative load {amount} in dimension {d}")
    if step.kind == "reload":
        # The trip just ended must not have carried more than capacity when it left.
        trip = walk.trip
        for d, (amount, capacity) in enumerate(zip(walk.trip_loads[trip], capacities, strict=True)):
            if amount > capacity:
                walk.out.append(
                    f"{label}: trip {trip} leaves with {amount} > capacity {capacity} (dim {d})"
                )


def _check_step(walk: _Walk, number: int, step: RouteStep) -> bool:
    """Check one step in route order; return False when the route cannot be checked further."""
    label = f"{walk.name} step {number} ({step.kind} {step.task_id!r} at {step.location_idx})"
    if step.location_idx >= walk.problem.num_locations:
        walk.out.append(f"{label}: location index out of range")
        return False
    walk.drive(step.location_idx)
    _check_times(walk, step, label)
    served = _serve(walk, step, label)
    if served is None:
        return True
    if step.task_id is not None:
        walk.seen[step.task_id] += 1
        walk.position_in_route[step.task_id] = number
    _check_service(walk, step, label, *served)
    _check_load(walk, step, label)
    return True


def _limit_violations(walk: _Walk) -> list[str]:
    """Check the whole route: start load, deliveries, shift, travel, duration, distance, tasks."""
    vehicle, name, out = walk.vehicle, walk.name, []
    for d, (amount, capacity) in enumerate(zip(walk.trip_loads[0], vehicle.capacity, strict=True)):
        if amount > capacity:
            out.append(f"{name}: leaves the start with {amount} > capacity {capacity} (dim {d})")
    for shipment in walk.picked_on_route:
        if shipment.delivery.step_id not in walk.position_in_route:
            out.append(
                f"{name}: shipment {shipment.pickup.step_id!r} picked up but never delivered"
            )
    finish, travel, distance = walk.clock, walk.travel, walk.distance
    if vehicle.time_window is not None and finish > vehicle.time_window.end_s:
        out.append(
            f"{name}: finishes at {finish} s, after its shift ends at {vehicle.time_window.end_s} s"
        )
    if vehicle.max_travel_time_s is not None and travel > vehicle.max_travel_time_s:
        out.append(
            f"{name}: drives {travel} s, more than max_travel_time_s {vehicle.max_travel_time_s}"
        )
    if vehicle.max_duration_s is not None and finish - walk.departure > vehicle.max_duration_s:
        out.append(
            f"{name}: shift lasts {finish - walk.departure} s, "
            f"more than max_duration_s {vehicle.max_duration_s}"
        )
    if vehicle.max_distance_m is not None and distance > vehicle.max_distance_m:
        out.append(
            f"{name}: drives {distance} m, more than max_distance_m {vehicle.max_distance_m}"
        )
    if vehicle.max_tasks is not None and walk.tasks > vehicle.max_tasks:
        out.append(f"{name}: serves {walk.tasks} tasks, more than max_tasks {vehicle.max_tasks}")
    return out


def _cost_violations(walk: _Walk, route: VehicleRoute) -> list[str]:
    """Check the route's cost (VROOM's rule) and travel against the recomputed ones."""
    vehicle, name, out = walk.vehicle, walk.name, []
    if walk.problem.costs is not None:
        expected_cost = vehicle.fixed_cost + walk.cost
    else:
        # VROOM: fixed + round(per_hour * travel / 3600 + per_km * distance / 1000).
        exact = Fraction(vehicle.cost_per_hour * walk.travel, 3600) + Fraction(
            vehicle.cost_per_km * walk.distance, 1000
        )
        expected_cost = vehicle.fixed_cost + math.floor(exact + Fraction(1, 2))
    if route.cost != expected_cost:
        out.append(f"{name}: route cost {route.cost}, recomputed {expected_cost}")
    if route.travel_s != walk.travel:
        out.append(f"{name}: route travel {route.travel_s} s, recomputed {walk.travel} s")
    return out


def _route_violations(
    problem: RouteProblem,
    route: VehicleRoute,
    jobs: dict[TaskId, Job],
    steps_of: dict[TaskId, tuple[Shipment, str]],
    seen: Counter[TaskId],
) -> list[str]:
    vehicle = next(v for v in problem.vehicles if v.vehicle_id == route.vehicle_id)
    name = f"vehicle {vehicle.vehicle_id!r}"
    steps = list(route.steps)
    frame = _frame_violation(vehicle, name, steps)
    if frame is not None:
        return [frame]
    out: list[str] = []
    middle = [s for s in steps if s.kind not in ("start", "end")]
    if not any(s.task_id is not None for s in middle):
        out.append(f"{name}: route serves no task; leave the vehicle out instead")
    trip_loads = _trip_loads(middle, jobs, problem.num_dimensions)
    reloads = sum(1 for s in middle if s.kind == "reload")
    if vehicle.max_reloads is not None and reloads > vehicle.max_reloads:
        out.append(f"{name}: {reloads} reloads, more than max_reloads {vehicle.max_reloads}")
    first = steps[0]
    departure = (
        first.arrival_s + first.waiting_s + first.service_s
        if first.kind == "start"
        else first.arrival_s
    )
    if vehicle.time_window is not None and departure < vehicle.time_window.start_s:
        out.append(
            f"{name}: leaves at {departure} s, "
            f"before its shift starts at {vehicle.time_window.start_s} s"
        )
    # VROOM's speed factor: a leg takes d * round(100 / factor) hundredths of a second, here
    # rounded to the second (halves up).
    hundredths = math.floor(100 / float(vehicle.speed_factor) + 0.5)
    walk = _Walk(
        problem, vehicle, name, jobs, steps_of, trip_loads, hundredths, departure, seen, out
    )
    walk.clock, walk.load = departure, list(trip_loads[0])
    for number, step in enumerate(steps):
        if not _check_step(walk, number, step):
            return out
    return out + _limit_violations(walk) + _cost_violations(walk, route)


def validate_route_plan(problem: RouteProblem, plan: RoutePlan) -> None:
    """Raise if ``plan`` breaks any rule of ``problem``; return nothing when it is valid.

    Raises
    ------
    InvalidRoutePlanError
        Listing every violation :func:`find_plan_violations` found.
    """
    violations = find_plan_violations(problem, plan)
    if violations:
        joined = "\n  - ".join(violations)
        raise InvalidRoutePlanError(
            f"route plan breaks {len(violations)} rule(s):\n  - {joined}", violations
        )
