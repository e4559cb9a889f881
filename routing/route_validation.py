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
from fractions import Fraction

from data.errors import InvalidRoutePlanError
from data.schema.routes import (
    Job,
    RoutePlan,
    RouteProblem,
    Shipment,
    TaskId,
    TimeWindow,
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


def _route_violations(
    problem: RouteProblem,
    route: VehicleRoute,
    jobs: dict[TaskId, Job],
    steps_of: dict[TaskId, tuple[Shipment, str]],
    seen: Counter[TaskId],
) -> list[str]:
    vehicle = next(v for v in problem.vehicles if v.vehicle_id == route.vehicle_id)
    name = f"vehicle {vehicle.vehicle_id!r}"
    out: list[str] = []
    steps = list(route.steps)
    dims = problem.num_dimensions
    zero = (0,) * dims
    start, end = vehicle.start_location_idx, vehicle.end_location_idx
    if start is not None and (
        not steps or steps[0].kind != "start" or steps[0].location_idx != start
    ):
        out.append(f"{name}: route must begin with a start step at location {start}")
        return out
    if end is not None and (not steps or steps[-1].kind != "end" or steps[-1].location_idx != end):
        out.append(f"{name}: route must finish with an end step at location {end}")
        return out
    middle = [s for s in steps if s.kind not in ("start", "end")]
    if len(middle) + (vehicle.start_location_idx is not None) + (
        vehicle.end_location_idx is not None
    ) != len(steps):
        out.append(f"{name}: start and end steps may only come first and last")
        return out
    if not any(s.task_id is not None for s in middle):
        out.append(f"{name}: route serves no task; leave the vehicle out instead")

    # Trips: the deliveries of a trip's jobs are loaded at its start (depot or reload).
    trip_loads: list[list[int]] = [list(zero)]
    for step in middle:
        if step.kind == "reload":
            trip_loads.append(list(zero))
        elif step.kind == "job" and step.task_id in jobs:
            for d, value in enumerate(jobs[step.task_id].delivery or zero):
                trip_loads[-1][d] += value
    reloads = sum(1 for s in middle if s.kind == "reload")
    if vehicle.max_reloads is not None and reloads > vehicle.max_reloads:
        out.append(f"{name}: {reloads} reloads, more than max_reloads {vehicle.max_reloads}")

    durations, costs, distances = problem.durations_s, problem.cost_matrix, problem.distances_m
    # VROOM's speed factor: a leg takes d * round(100 / factor) hundredths of a second, here
    # rounded to the second (halves up).
    hundredths = math.floor(100 / float(vehicle.speed_factor) + 0.5)

    def leg_s(origin: int, destination: int) -> int:
        return (int(durations[origin, destination]) * hundredths + 50) // 100

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
    clock = departure
    here: int | None = None
    travel = cost = distance = tasks = 0
    trip = 0
    load = list(trip_loads[0])
    picked_on_route: set[Shipment] = set()
    position_in_route: dict[TaskId, int] = {}
    for number, step in enumerate(steps):
        label = f"{name} step {number} ({step.kind} {step.task_id!r} at {step.location_idx})"
        if step.location_idx >= problem.num_locations:
            out.append(f"{label}: location index out of range")
            return out
        if here is not None:
            travel += leg_s(here, step.location_idx)
            cost += int(costs[here, step.location_idx])
            if distances is not None:
                distance += int(distances[here, step.location_idx])
            clock += leg_s(here, step.location_idx)
        here = step.location_idx
        if step.kind != "start" and step.arrival_s != clock:
            out.append(f"{label}: arrival {step.arrival_s} s, but the matrices give {clock} s")
        if step.travel_s != travel:
            out.append(f"{label}: travel {step.travel_s} s, but the matrices give {travel} s")
        if distances is not None and step.distance_m is not None and step.distance_m != distance:
            out.append(f"{label}: distance {step.distance_m} m, but the matrices give {distance} m")
        windows: tuple[TimeWindow, ...] = ()
        service = 0
        if step.kind == "job":
            job = jobs.get(step.task_id)  # type: ignore[arg-type]
            if job is None or job.location_idx != step.location_idx:
                out.append(f"{label}: not a job of the problem at this location")
                continue
            if not job.skills <= vehicle.skills:
                out.append(
                    f"{label}: needs skills {sorted(job.skills)}, "
                    f"vehicle has {sorted(vehicle.skills)}"
                )
            windows, service = job.time_windows, job.service_s
            tasks += 1
            load = [
                a - d + p
                for a, d, p in zip(load, job.delivery or zero, job.pickup or zero, strict=True)
            ]
        elif step.kind in ("pickup", "delivery"):
            found = steps_of.get(step.task_id)  # type: ignore[arg-type]
            if found is None or found[1] != step.kind:
                out.append(f"{label}: not a shipment {step.kind} of the problem")
                continue
            shipment, _ = found
            part = shipment.pickup if step.kind == "pickup" else shipment.delivery
            if part.location_idx != step.location_idx:
                out.append(f"{label}: the shipment step is at location {part.location_idx}")
            if not shipment.skills <= vehicle.skills:
                out.append(
                    f"{label}: needs skills {sorted(shipment.skills)}, "
                    f"vehicle has {sorted(vehicle.skills)}"
                )
            windows = (part.time_window,) if part.time_window is not None else ()
            service = part.service_s
            tasks += 1
            sign = 1 if step.kind == "pickup" else -1
            load = [a + sign * b for a, b in zip(load, shipment.amount or zero, strict=True)]
            if step.kind == "pickup":
                picked_on_route.add(shipment)
            elif shipment not in picked_on_route:
                out.append(f"{label}: delivered before (or without) its pickup on this route")
        elif step.kind == "reload":
            if step.location_idx not in vehicle.reload_location_idxs:
                out.append(
                    f"{label}: not one of the vehicle's reload locations "
                    f"{list(vehicle.reload_location_idxs)}"
                )
            service = vehicle.reload_service_s
            trip += 1
            load = list(trip_loads[trip])
        if step.task_id is not None:
            seen[step.task_id] += 1
            position_in_route[step.task_id] = number
        if step.service_s != service:
            out.append(f"{label}: service {step.service_s} s, the problem says {service} s")
        begin = step.arrival_s + step.waiting_s
        if step.waiting_s < 0:
            out.append(f"{label}: negative waiting {step.waiting_s} s")
        if windows and not any(window.contains(begin) for window in windows):
            shown = ", ".join(f"[{w.start_s}, {w.end_s}]" for w in windows)
            out.append(f"{label}: service starts at {begin} s, outside its window(s) {shown}")
        clock = begin + step.service_s if step.kind != "start" else departure
        if list(step.load) != load:
            out.append(f"{label}: load {list(step.load)}, recomputed {load}")
        for d, (amount, capacity) in enumerate(zip(load, vehicle.capacity, strict=True)):
            if amount > capacity:
                out.append(f"{label}: load {amount} exceeds capacity {capacity} in dimension {d}")
            if amount < 0:
                out.append(f"{label}: negative load {amount} in dimension {d}")
        if step.kind == "reload":
            # The trip just ended must not have carried more than capacity when it left.
            for d, (amount, capacity) in enumerate(
                zip(trip_loads[trip], vehicle.capacity, strict=True)
            ):
                if amount > capacity:
                    out.append(
                        f"{label}: trip {trip} leaves with {amount} > capacity {capacity} (dim {d})"
                    )
    for d, (amount, capacity) in enumerate(zip(trip_loads[0], vehicle.capacity, strict=True)):
        if amount > capacity:
            out.append(f"{name}: leaves the start with {amount} > capacity {capacity} (dim {d})")
    for shipment in picked_on_route:
        if shipment.delivery.step_id not in position_in_route:
            out.append(
                f"{name}: shipment {shipment.pickup.step_id!r} picked up but never delivered"
            )
    finish = clock
    if vehicle.time_window is not None and finish > vehicle.time_window.end_s:
        out.append(
            f"{name}: finishes at {finish} s, after its shift ends at {vehicle.time_window.end_s} s"
        )
    if vehicle.max_travel_time_s is not None and travel > vehicle.max_travel_time_s:
        out.append(
            f"{name}: drives {travel} s, more than max_travel_time_s {vehicle.max_travel_time_s}"
        )
    if vehicle.max_duration_s is not None and finish - departure > vehicle.max_duration_s:
        out.append(
            f"{name}: shift lasts {finish - departure} s, "
            f"more than max_duration_s {vehicle.max_duration_s}"
        )
    if vehicle.max_distance_m is not None and distance > vehicle.max_distance_m:
        out.append(
            f"{name}: drives {distance} m, more than max_distance_m {vehicle.max_distance_m}"
        )
    if vehicle.max_tasks is not None and tasks > vehicle.max_tasks:
        out.append(f"{name}: serves {tasks} tasks, more than max_tasks {vehicle.max_tasks}")
    if problem.costs is not None:
        expected_cost = vehicle.fixed_cost + cost
    else:
        # VROOM: fixed + round(per_hour * travel / 3600 + per_km * distance / 1000).
        exact = Fraction(vehicle.cost_per_hour * travel, 3600) + Fraction(
            vehicle.cost_per_km * distance, 1000
        )
        expected_cost = vehicle.fixed_cost + math.floor(exact + Fraction(1, 2))
    if route.cost != expected_cost:
        out.append(f"{name}: route cost {route.cost}, recomputed {expected_cost}")
    if route.travel_s != travel:
        out.append(f"{name}: route travel {route.travel_s} s, recomputed {travel} s")
    return out


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
