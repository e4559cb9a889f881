"""Why a task is not served: the pre-check before solving and the reasons after it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from data.schema.routes import (
    RouteProblem,
    TaskId,
    TimeWindow,
    Vehicle,
    speed_scaled_durations,
    total_amounts,
)
from routing._route_tasks import INT64_MAX, Task, list_tasks, service_start

REASON_SKILLS = "no vehicle has the required skills"
REASON_CAPACITY = "demand exceeds every vehicle's capacity"
REASON_TIME_WINDOW = "time window unreachable from any depot"
REASON_SHIFT = "cannot be served within any vehicle's shift"
REASON_FLEET = "fleet capacity exhausted"
REASON_NOT_SERVED = "not served in the time limit"
REASON_NO_ROOM = "no room beside the other tasks"
REASON_MAX_TASKS = "more tasks than any vehicle's max_tasks"

# A failed single-task check: category ("time_window" or "shift"), by how much it fails, text.
_Failure = tuple[str, int, str]


def _fmt(values: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


class ShortestLegs:
    """Shortest travel between two locations through any others, one origin's row at a time.

    Rows are computed on demand (Dijkstra from that origin over the dense matrix, O(n^2) each)
    and kept: the pre-check needs them only for the few tasks that fail on direct legs, from the
    vehicles' starts and those tasks' locations. All pairs at once (Floyd-Warshall) took 1.0 s
    for 1,000 locations here, and grows with the cube.
    """

    def __init__(self, matrix: npt.NDArray[np.int64]) -> None:
        self._matrix = matrix
        self._graph: Any = None
        self._rows: dict[int, npt.NDArray[np.int64]] = {}

    def __getitem__(self, leg: tuple[int, int]) -> int:
        from scipy.sparse.csgraph import csgraph_from_dense, shortest_path

        origin, destination = leg
        row = self._rows.get(origin)
        if row is None:
            if self._graph is None:
                # null_value -1: zero entries (two stops at one place) are edges, not missing.
                self._graph = csgraph_from_dense(self._matrix.astype(np.float64), null_value=-1)
            reached = shortest_path(self._graph, method="D", directed=True, indices=[origin])[0]
            row = np.minimum(np.rint(reached), self._matrix[origin]).astype(np.int64)
            self._rows[origin] = row
        return int(row[destination])


Legs = npt.NDArray[np.int64] | ShortestLegs
"""Travel between two locations: the matrix itself, or shortest paths through other stops."""

Closures = dict[tuple[str, int], tuple[ShortestLegs, ShortestLegs | None]]
"""Shortest-path legs (durations, distances) per travel profile and vehicle speed, filled as
they are needed."""


def _legs(
    problem: RouteProblem, vehicle: Vehicle, closures: Closures | None
) -> tuple[Legs, Legs | None]:
    """Return the duration and distance legs the check uses: direct, or shortest paths.

    Each on the vehicle's own travel profile (a loaded tanker's road times).
    """
    durations = problem.durations_of(vehicle)
    distances = problem.distances_of(vehicle)
    if closures is None:
        return speed_scaled_durations(durations, vehicle.speed_factor), distances
    key = (vehicle.profile, vehicle.duration_factor)
    if key not in closures:
        closures[key] = (
            ShortestLegs(speed_scaled_durations(durations, vehicle.speed_factor)),
            ShortestLegs(distances) if distances is not None else None,
        )
    return closures[key]


def _task_steps(task: Task) -> list[tuple[int, int, tuple[TimeWindow, ...], TaskId]]:
    """Return the task's steps: location, service time, windows and step id, in visit order."""
    if task.job is not None:
        job = task.job
        return [(job.location_idx, job.service_s, job.time_windows, job.job_id)]
    shipment = task.shipment
    assert shipment is not None
    return [
        (s.location_idx, s.service_s, (s.time_window,) if s.time_window else (), s.step_id)
        for s in (shipment.pickup, shipment.delivery)
    ]


def _late_failure(
    vehicle: Vehicle,
    task_id: TaskId,
    here: int | None,
    shift_start: int,
    leg: int,
    arrival: int,
    windows: tuple[TimeWindow, ...],
) -> _Failure:
    """Say by how much the earliest arrival misses the step's last window."""
    last = windows[-1]
    late = arrival - last.end_s
    origin = f"location {here}" if here is not None else "its first stop"
    shown = ", ".join(f"[{w.start_s}, {w.end_s}]" for w in windows)
    return (
        "time_window",
        late,
        f"earliest arrival at {task_id!r} is {arrival} s (vehicle {vehicle.vehicle_id!r} "
        f"leaving {origin} at {shift_start} s, {leg} s away) but its window"
        f"{'s' if len(windows) > 1 else ''} {shown} close{'' if len(windows) > 1 else 's'} "
        f"{late} s earlier",
    )


def _limit_failure(
    vehicle: Vehicle, back_s: int, shift_end: int, travel: int, distance: int, service: int
) -> _Failure | None:
    """Check the round trip against the vehicle's shift end, travel, distance and duration."""
    name = f"{vehicle.vehicle_id!r}"
    if back_s > shift_end:
        return (
            "shift",
            back_s - shift_end,
            f"vehicle {name} would be back at {back_s} s, after its shift ends at {shift_end} s",
        )
    if vehicle.max_travel_time_s is not None and travel > vehicle.max_travel_time_s:
        return (
            "shift",
            travel - vehicle.max_travel_time_s,
            f"the round trip alone drives {travel} s, more than vehicle {name}'s "
            f"max_travel_time_s {vehicle.max_travel_time_s}",
        )
    if vehicle.max_distance_m is not None and distance > vehicle.max_distance_m:
        return (
            "shift",
            distance - vehicle.max_distance_m,
            f"the round trip alone drives {distance} m, more than vehicle "
            f"{name}'s max_distance_m {vehicle.max_distance_m}",
        )
    if vehicle.max_duration_s is not None and travel + service > vehicle.max_duration_s:
        return (
            "shift",
            travel + service - vehicle.max_duration_s,
            f"the round trip alone takes {travel + service} s, more than vehicle "
            f"{name}'s max_duration_s {vehicle.max_duration_s}",
        )
    return None


def single_task_failure(
    problem: RouteProblem, vehicle: Vehicle, task: Task, *, closures: Closures | None = None
) -> _Failure | None:
    """Return why ``vehicle`` cannot serve ``task`` alone (category, slack, text), or ``None``.

    ``slack`` measures by how much the check fails, so the closest vehicle can be reported.
    With ``closures`` (a cache per speed, filled here) every leg is its shortest path through
    other locations: VROOM's matrices need not obey the triangle inequality, and a task too far
    for a direct trip may be reached in time through other stops, so only a failure on these
    legs proves it unservable.
    """
    durations, distances = _legs(problem, vehicle, closures)
    shift_start = vehicle.time_window.start_s if vehicle.time_window else 0
    shift_end = vehicle.time_window.end_s if vehicle.time_window else INT64_MAX
    here = vehicle.start_location_idx
    clock = shift_start
    travel = distance = service_total = 0
    for location_idx, service_s, windows, task_id in _task_steps(task):
        leg = int(durations[here, location_idx]) if here is not None else 0
        if here is not None and distances is not None:
            distance += int(distances[here, location_idx])
        travel += leg
        arrival = clock + leg
        begin = service_start(arrival, windows)
        if begin is None:
            return _late_failure(vehicle, task_id, here, shift_start, leg, arrival, windows)
        clock = begin + service_s
        service_total += service_s
        here = location_idx
    assert here is not None  # a task has at least one step
    end = vehicle.end_location_idx
    back = int(durations[here, end]) if end is not None else 0
    if end is not None and distances is not None:
        distance += int(distances[here, end])
    travel += back
    return _limit_failure(vehicle, clock + back, shift_end, travel, distance, service_total)


def _capability_reason(problem: RouteProblem, task: Task) -> tuple[str | None, list[Vehicle]]:
    """Check skills, ``max_tasks`` and capacity; return a reason, else the vehicles that fit."""
    dims = problem.num_dimensions
    skilled = [v for v in problem.vehicles if task.skills <= v.skills]
    if not skilled:
        fleet = sorted({s for v in problem.vehicles for s in v.skills})
        return f"{REASON_SKILLS} {sorted(task.skills)} (skills in the fleet: {fleet})", []
    counted = [v for v in skilled if v.max_tasks is None or task.num_steps <= v.max_tasks]
    if not counted:
        largest_tasks = max(v.max_tasks or 0 for v in skilled)
        return (
            f"{REASON_MAX_TASKS}: the task has {task.num_steps} step(s), the largest "
            f"max_tasks of a vehicle with the skills is {largest_tasks}"
        ), []
    need = task.need(dims)
    fitting = [v for v in counted if all(n <= c for n, c in zip(need, v.capacity, strict=True))]
    if not fitting:
        largest = [max(v.capacity[d] for v in counted) for d in range(dims)]
        return (
            f"{REASON_CAPACITY}: needs {_fmt(need)}, the largest capacity of a vehicle with "
            f"the skills is {_fmt(largest)}"
        ), []
    return None, fitting


def explain_unservable_tasks(problem: RouteProblem) -> dict[int, str]:
    """Find the tasks that no vehicle could serve even on an otherwise empty route.

    Parameters
    ----------
    problem
        The routing problem.

    Returns
    -------
    dict
        Task position (jobs first, then shipments, in problem order) to a reason that starts with
        one of the ``REASON_*`` texts of :mod:`routing.vehicle_routes` and gives the numbers
        behind it.
    """
    reasons: dict[int, str] = {}
    closures: Closures = {}
    for task in list_tasks(problem):
        reason, fitting = _capability_reason(problem, task)
        if reason is not None:
            reasons[task.position] = reason
            continue
        failures = [single_task_failure(problem, v, task) for v in fitting]
        if all(f is not None for f in failures):
            failures = [single_task_failure(problem, v, task, closures=closures) for v in fitting]
        if all(f is not None for f in failures):
            found = [f for f in failures if f is not None]
            if all(f[0] == "time_window" for f in found):
                closest = min(found, key=lambda f: f[1])
                reasons[task.position] = f"{REASON_TIME_WINDOW}: {closest[2]}"
            else:
                closest = min((f for f in found if f[0] == "shift"), key=lambda f: f[1])
                reasons[task.position] = f"{REASON_SHIFT}: {closest[2]}"
    return reasons


def unassigned_reason(
    problem: RouteProblem, tasks: list[Task], time_limit_s: float, proven: bool = False
) -> str:
    """Explain why pre-check-feasible tasks were left out: fleet capacity, else the search.

    ``proven``: the plan was found by enumeration, so no plan serves more priority-weighted work.
    """
    dims = problem.num_dimensions
    if dims and not any(v.reload_location_idxs for v in problem.vehicles):
        fleet = total_amounts([v.capacity for v in problem.vehicles], dims)
        demand = total_amounts([t.need(dims) for t in tasks], dims)
        for d in range(dims):
            if demand[d] > fleet[d]:
                return (
                    f"{REASON_FLEET}: the tasks need {demand[d]} in load dimension {d} but the "
                    f"whole fleet carries {fleet[d]}; tasks of lower priority are left out first"
                )
    if proven:
        return (
            f"{REASON_NO_ROOM}: every plan that serves it serves less priority-weighted work, "
            "or as much at a higher cost (all plans enumerated); shifts, time windows and "
            "capacities are too tight together with the other tasks"
        )
    return (
        f"{REASON_NOT_SERVED} ({time_limit_s:g} s): no feasible place in a route was found; "
        "shifts, time windows and capacities are too tight together with the other tasks"
    )
