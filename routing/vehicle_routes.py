"""Solve vehicle-routing problems: the only module that talks to the routing engines.

A :class:`~data.schema.routes.RouteProblem` goes in and a :class:`~data.schema.routes.RoutePlan`
comes out. PyVRP (iterated local search, the default engine) and OR-Tools routing (kept as the
benchmark baseline) stay sealed in here: their indices, depots, profiles, prizes and search
parameters never leak out.

How the problem maps onto PyVRP
-------------------------------
* Every task step (job, shipment pickup, shipment delivery) gets its own PyVRP location, a copy of
  its matrix row and column, so that two tasks at one place can still differ (skills).
* Every distinct (location, reload service time) used as a start, end or reload point becomes a
  PyVRP depot. An open start or end (``None``) becomes a free depot: zero travel to and from it.
* Skills become routing profiles: for a vehicle lacking a task's skills the edges into that task
  cost ``prohibitive`` distance, larger than the vehicle's ``max_distance``, so such a visit is
  infeasible. One profile per distinct skill set; one profile only when skills never matter.
* PyVRP's distance matrix of a profile is the one per-edge quantity that carries both a vehicle's
  objective (times its ``unit_distance_cost``) and its ``max_distance`` limit: the travel times
  (default cost, ``max_travel_time_s``), the distances (``cost_per_km`` only, ``max_distance_m``),
  the ``costs`` matrix, or a per-hour plus per-km mix. A limit on another quantity than the
  vehicle's cost is refused. Profiles are per (skill set, that quantity, speed factor), with the
  durations scaled by the vehicle's speed factor. Costs are scaled to integers exactly
  (:func:`_objective_scale`); fixed costs become PyVRP's ``fixed_cost``.
* ``max_tasks`` is one more load dimension in which every job delivers 1 (refused with shipments
  or reloads, where that would not count the tasks).
* A job with several time windows becomes one client per window in a mutually exclusive
  ``ClientGroup`` (required in the complete model, optional in the partial one).
* Identical vehicles (all fields but the id) form one vehicle type with ``num_available``.
* Tasks that a pre-check shows cannot be served by any vehicle (skills, capacity, time window,
  shift) are left out with a reason giving the numbers, before solving.

Unassigned tasks and priorities
-------------------------------
There are two models of the same problem. The *complete* model makes every task required (the
fastest search when everything fits). The *partial* model makes tasks optional with a prize of
``base_prize * (1 + priority)`` where ``base_prize`` exceeds the cost of any solution, so serving
one more task always beats any saving in cost, and a task of priority ``p`` weighs as ``1 + p``
tasks (VROOM's rule: priorities decide what is left out; a shipment is two tasks, its pickup
and its delivery, each of the shipment's priority, as VROOM counts them). Each search starts on
the complete model; if it has no feasible solution after half of its time, it continues on the
partial model from the routes it has, repaired to be feasible (visits removed until they are).
With several workers (different seeds, one process each) the plan serving the most
priority-weighted tasks wins, then the cheapest. Routes that a search could not make feasible
are dropped and their tasks listed as unassigned.

Determinism
-----------
A run is reproducible for a fixed seed when it stops on ``max_iterations``; a pure time limit
stops after however many iterations the machine managed, so results can vary between machines.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import multiprocessing
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError
from data.schema.routes import (
    DEFAULT_COST_PER_HOUR,
    Job,
    RoutePlan,
    RouteProblem,
    RouteStep,
    Shipment,
    TaskId,
    TimeWindow,
    UnassignedTask,
    Vehicle,
    VehicleRoute,
    speed_scaled_durations,
    total_amounts,
)

Engine = Literal["pyvrp", "ortools"]
_ENGINES: tuple[str, ...] = ("pyvrp", "ortools")
_INT64_MAX = int(np.iinfo(np.int64).max)
# Time kept back from the wall-clock budget for building the model, starting worker processes
# and writing the plan, so that the whole call returns within ``time_limit_s``.
_OVERHEAD_S = 0.25
# Share of the search time the complete model (every task required) gets to find a feasible
# solution before the search switches to the partial model (optional tasks with prizes).
_PHASE1_SHARE = 0.5
# Search settings per worker, cycled: worker k uses _SEARCH_SETTINGS[k % 2]. The first (also the
# single worker's) is tuned for a 10 s budget: a granular neighbourhood of 20 nearest tasks and at
# most 10 perturbations per iteration make iterations about twice as fast, which pays on 125-400
# tasks (CVRPLIB X-n125..X-n401: mean gap 1.17% -> 0.62% per seed at 9.4 s CPU). The second keeps
# PyVRP's defaults (50 neighbours, 25 perturbations), which stay ahead on about 100 tasks (X-n101,
# X-n110: 0.00% against 0.88% and 0.26%), so with two workers the best plan is the better of both.
# Measured in docs/vrp.md.
_SEARCH_SETTINGS: tuple[tuple[int, int], ...] = ((20, 10), (50, 25))  # (neighbours, perturbations)

REASON_SKILLS = "no vehicle has the required skills"
REASON_CAPACITY = "demand exceeds every vehicle's capacity"
REASON_TIME_WINDOW = "time window unreachable from any depot"
REASON_SHIFT = "cannot be served within any vehicle's shift"
REASON_FLEET = "fleet capacity exhausted"
REASON_NOT_SERVED = "not served in the time limit"
REASON_NO_ROOM = "no room beside the other tasks"
REASON_MAX_TASKS = "more tasks than any vehicle's max_tasks"
# Headroom kept below int64 for PyVRP's sums of costs, prizes and penalties.
_OBJECTIVE_LIMIT = 2**60


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


def _objective_scale(problem: RouteProblem) -> int:
    """Return the integer factor that makes every vehicle's cost an integer per matrix entry.

    Costs are ``per_hour / 3600`` per second and ``per_km / 1000`` per metre; the solver's
    objective is the exact cost times this factor (1 with VROOM's defaults or a costs matrix).
    """
    scale = 1
    if problem.costs is None:
        for vehicle in problem.vehicles:
            scale = math.lcm(
                scale,
                3600 // math.gcd(vehicle.cost_per_hour, 3600),
                1000 // math.gcd(vehicle.cost_per_km, 1000),
            )
    return scale


def _service_start(arrival_s: int, windows: Sequence[TimeWindow]) -> int | None:
    """Return the earliest start of service at or after ``arrival_s`` in any window.

    ``None`` when every window has closed; ``arrival_s`` when there is no window.
    """
    if not windows:
        return arrival_s
    starts = [max(arrival_s, w.start_s) for w in windows if arrival_s <= w.end_s]
    return min(starts) if starts else None


@dataclass(frozen=True, slots=True)
class SolverParams:
    """Validated settings of one solve.

    Parameters
    ----------
    time_limit_s
        Wall-clock budget of the whole call, in seconds (default 10).
    seed
        Seed of the first worker; worker ``k`` uses ``seed + k`` (default 0).
    num_workers
        Independent searches run in parallel processes, best plan kept (default 1). Use the
        number of cores you may occupy. Workers alternate between two search settings (a small
        neighbourhood tuned for large problems at short budgets, and PyVRP's defaults).
    max_iterations
        Stop each search after this many iterations (default ``None``: only the time limit).
        Set it for reproducible plans.
    engine
        ``"pyvrp"`` (default) or ``"ortools"`` (OR-Tools routing with its default search, kept as
        a baseline; it supports capacities, time windows and depots, not skills, shipments,
        reloads, open routes or travel-time limits, and leaves everything unassigned when it
        finds no solution).

    Raises
    ------
    InvalidInputError
        If a value is out of range; the message names the field.
    """

    time_limit_s: float = 10.0
    seed: int = 0
    num_workers: int = 1
    max_iterations: int | None = None
    engine: Engine = "pyvrp"

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.time_limit_s, int | float) or not self.time_limit_s > 0:
            problems.append(
                f"time_limit_s must be a positive number of seconds, got {self.time_limit_s!r}"
            )
        if not isinstance(self.seed, int) or self.seed < 0:
            problems.append(f"seed must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.num_workers, int) or not 1 <= self.num_workers <= 64:
            problems.append(f"num_workers must be an integer in [1, 64], got {self.num_workers!r}")
        if self.max_iterations is not None and (
            not isinstance(self.max_iterations, int) or self.max_iterations < 1
        ):
            problems.append(
                f"max_iterations must be a positive integer or None, got {self.max_iterations!r}"
            )
        if self.engine not in _ENGINES:
            problems.append(f"engine must be one of {list(_ENGINES)}, got {self.engine!r}")
        if problems:
            raise InvalidInputError.from_problems("solver parameters", problems)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SolverParams:
        """Build parameters from a mapping, for example a parsed TOML table.

        Raises
        ------
        InvalidInputError
            If a key is unknown or a value is out of range.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidInputError(
                f"unknown solver parameter(s) {unknown}; known: {sorted(known)}",
                [f"unknown key {k!r}" for k in unknown],
            )
        return cls(**dict(values))


# --------------------------------------------------------------------------------------------
# Tasks: jobs and shipments behind one small internal record
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Task:
    """A job or a shipment, as the pre-check and the engines see it."""

    position: int  # index into problem.jobs (jobs first) then problem.shipments
    job: Job | None
    shipment: Shipment | None

    @property
    def skills(self) -> frozenset[int]:
        return self.job.skills if self.job is not None else self.shipment.skills  # type: ignore[union-attr]

    @property
    def priority(self) -> int:
        return self.job.priority if self.job is not None else self.shipment.priority  # type: ignore[union-attr]

    def need(self, num_dimensions: int) -> tuple[int, ...]:
        """Largest load this task alone puts on a vehicle, per dimension."""
        if self.job is not None:
            delivery = self.job.delivery or (0,) * num_dimensions
            pickup = self.job.pickup or (0,) * num_dimensions
            return tuple(max(d, p) for d, p in zip(delivery, pickup, strict=True))
        return self.shipment.amount or (0,) * num_dimensions  # type: ignore[union-attr]

    @property
    def num_steps(self) -> int:
        """Tasks in VROOM's sense (for ``max_tasks``): 1 for a job, 2 for a shipment."""
        return 1 if self.job is not None else 2

    def unassigned(self, reason: str) -> list[UnassignedTask]:
        if self.job is not None:
            return [UnassignedTask(self.job.job_id, "job", self.job.location_idx, reason)]
        shipment = self.shipment
        assert shipment is not None
        return [
            UnassignedTask(shipment.pickup.step_id, "pickup", shipment.pickup.location_idx, reason),
            UnassignedTask(
                shipment.delivery.step_id, "delivery", shipment.delivery.location_idx, reason
            ),
        ]


def _tasks(problem: RouteProblem) -> list[_Task]:
    jobs = [_Task(i, job, None) for i, job in enumerate(problem.jobs)]
    offset = len(problem.jobs)
    return jobs + [_Task(offset + k, None, s) for k, s in enumerate(problem.shipments)]


# --------------------------------------------------------------------------------------------
# Pre-check: tasks no vehicle can serve even alone
# --------------------------------------------------------------------------------------------


def _fmt(values: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


class _ShortestLegs:
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


_Legs = npt.NDArray[np.int64] | _ShortestLegs
"""Travel between two locations: the matrix itself, or shortest paths through other stops."""


def _single_task_failure(
    problem: RouteProblem,
    vehicle: Vehicle,
    task: _Task,
    *,
    closures: dict[int, tuple[_ShortestLegs, _ShortestLegs | None]] | None = None,
) -> tuple[str, int, str] | None:
    """Return why ``vehicle`` cannot serve ``task`` alone (category, slack, text), or ``None``.

    ``slack`` measures by how much the check fails, so the closest vehicle can be reported.
    With ``closures`` (a cache per speed, filled here) every leg is its shortest path through
    other locations: VROOM's matrices need not obey the triangle inequality, and a task too far
    for a direct trip may be reached in time through other stops, so only a failure on these
    legs proves it unservable.
    """
    durations: _Legs = speed_scaled_durations(problem.durations_s, vehicle.speed_factor)
    distances: _Legs | None = problem.distances_m
    if closures is not None:
        if vehicle.duration_factor not in closures:
            closures[vehicle.duration_factor] = (
                _ShortestLegs(speed_scaled_durations(problem.durations_s, vehicle.speed_factor)),
                _ShortestLegs(problem.distances_m) if problem.distances_m is not None else None,
            )
        durations, distances = closures[vehicle.duration_factor]
    shift_start = vehicle.time_window.start_s if vehicle.time_window else 0
    shift_end = vehicle.time_window.end_s if vehicle.time_window else _INT64_MAX
    steps: list[tuple[int, int, tuple[TimeWindow, ...], TaskId]]
    if task.job is not None:
        job = task.job
        steps = [(job.location_idx, job.service_s, job.time_windows, job.job_id)]
    else:
        shipment = task.shipment
        assert shipment is not None
        steps = [
            (s.location_idx, s.service_s, (s.time_window,) if s.time_window else (), s.step_id)
            for s in (shipment.pickup, shipment.delivery)
        ]
    here = vehicle.start_location_idx
    clock = shift_start
    travel = 0
    distance = 0
    service_total = 0
    for location_idx, service_s, windows, task_id in steps:
        leg = int(durations[here, location_idx]) if here is not None else 0
        if here is not None and distances is not None:
            distance += int(distances[here, location_idx])
        travel += leg
        arrival = clock + leg
        begin = _service_start(arrival, windows)
        if begin is None:
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
        clock = begin + service_s
        service_total += service_s
        here = location_idx
    assert here is not None  # a task has at least one step
    back = (
        int(durations[here, vehicle.end_location_idx])
        if vehicle.end_location_idx is not None
        else 0
    )
    if vehicle.end_location_idx is not None and distances is not None:
        distance += int(distances[here, vehicle.end_location_idx])
    travel += back
    if clock + back > shift_end:
        return (
            "shift",
            clock + back - shift_end,
            f"vehicle {vehicle.vehicle_id!r} would be back at {clock + back} s, after its shift "
            f"ends at {shift_end} s",
        )
    if vehicle.max_travel_time_s is not None and travel > vehicle.max_travel_time_s:
        return (
            "shift",
            travel - vehicle.max_travel_time_s,
            f"the round trip alone drives {travel} s, more than vehicle {vehicle.vehicle_id!r}'s "
            f"max_travel_time_s {vehicle.max_travel_time_s}",
        )
    if vehicle.max_distance_m is not None and distance > vehicle.max_distance_m:
        return (
            "shift",
            distance - vehicle.max_distance_m,
            f"the round trip alone drives {distance} m, more than vehicle "
            f"{vehicle.vehicle_id!r}'s max_distance_m {vehicle.max_distance_m}",
        )
    if vehicle.max_duration_s is not None and travel + service_total > vehicle.max_duration_s:
        return (
            "shift",
            travel + service_total - vehicle.max_duration_s,
            f"the round trip alone takes {travel + service_total} s, more than vehicle "
            f"{vehicle.vehicle_id!r}'s max_duration_s {vehicle.max_duration_s}",
        )
    return None


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
        one of the ``REASON_*`` texts of this module and gives the numbers behind it.
    """
    dims = problem.num_dimensions
    reasons: dict[int, str] = {}
    closures: dict[int, tuple[_ShortestLegs, _ShortestLegs | None]] = {}
    for task in _tasks(problem):
        skilled = [v for v in problem.vehicles if task.skills <= v.skills]
        if not skilled:
            fleet = sorted({s for v in problem.vehicles for s in v.skills})
            reasons[task.position] = (
                f"{REASON_SKILLS} {sorted(task.skills)} (skills in the fleet: {fleet})"
            )
            continue
        counted = [v for v in skilled if v.max_tasks is None or task.num_steps <= v.max_tasks]
        if not counted:
            largest_tasks = max(v.max_tasks or 0 for v in skilled)
            reasons[task.position] = (
                f"{REASON_MAX_TASKS}: the task has {task.num_steps} step(s), the largest "
                f"max_tasks of a vehicle with the skills is {largest_tasks}"
            )
            continue
        skilled = counted
        need = task.need(dims)
        fitting = [v for v in skilled if all(n <= c for n, c in zip(need, v.capacity, strict=True))]
        if not fitting:
            largest = [max(v.capacity[d] for v in skilled) for d in range(dims)]
            reasons[task.position] = (
                f"{REASON_CAPACITY}: needs {_fmt(need)}, the largest capacity of a vehicle with "
                f"the skills is {_fmt(largest)}"
            )
            continue
        failures = [_single_task_failure(problem, v, task) for v in fitting]
        if all(f is not None for f in failures):
            failures = [_single_task_failure(problem, v, task, closures=closures) for v in fitting]
        if all(f is not None for f in failures):
            found = [f for f in failures if f is not None]
            if all(f[0] == "time_window" for f in found):
                closest = min(found, key=lambda f: f[1])
                reasons[task.position] = f"{REASON_TIME_WINDOW}: {closest[2]}"
            else:
                closest = min((f for f in found if f[0] == "shift"), key=lambda f: f[1])
                reasons[task.position] = f"{REASON_SHIFT}: {closest[2]}"
    return reasons


# --------------------------------------------------------------------------------------------
# PyVRP model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PyvrpModel:
    """The PyVRP data of one problem plus the maps back to our ids."""

    complete: Any  # pyvrp.ProblemData, every task required
    partial: Any  # pyvrp.ProblemData, tasks optional with prizes
    client_tasks: tuple[int, ...]  # PyVRP client index -> task position
    shipment_tasks: tuple[int, ...]  # PyVRP shipment index -> task position
    depot_locations: tuple[int | None, ...]  # PyVRP depot index -> our location (None: free)
    type_vehicles: tuple[tuple[int, ...], ...]  # PyVRP vehicle type -> our vehicle positions
    task_weights: tuple[int, ...]  # task position -> 1 + priority (0 when pre-check dropped it)
    max_penalty: float  # PyVRP's bound on a penalty per unit of violation (_penalty_bound)


def _vehicle_key(vehicle: Vehicle) -> tuple[Any, ...]:
    return (
        vehicle.start_location_idx,
        vehicle.end_location_idx,
        vehicle.capacity,
        vehicle.time_window,
        vehicle.max_travel_time_s,
        vehicle.max_duration_s,
        vehicle.skills,
        vehicle.reload_location_idxs,
        vehicle.reload_service_s,
        vehicle.max_reloads,
        vehicle.fixed_cost,
        vehicle.cost_per_hour,
        vehicle.cost_per_km,
        vehicle.duration_factor,
        vehicle.max_distance_m,
        vehicle.max_tasks,
    )


def _vehicle_metric(
    problem: RouteProblem, vehicle: Vehicle, scale: int
) -> tuple[tuple[Any, ...], int, int | None]:
    """Return what PyVRP's distance matrix holds for ``vehicle``, its unit cost and its limit.

    PyVRP has one distance matrix per profile; it carries both the objective (times the
    vehicle's ``unit_distance_cost``) and the ``max_distance`` limit. So the matrix is the
    quantity the vehicle's limit counts (travel seconds for ``max_travel_time_s``, metres for
    ``max_distance_m``), and that is only exact when the vehicle's cost is proportional to it
    (or zero). Returns ``(metric key, unit cost, limit)``.

    Raises
    ------
    InvalidInputError
        If the vehicle's limit and its cost count different things.
    """
    factor = vehicle.duration_factor
    hour, km = vehicle.cost_per_hour, vehicle.cost_per_km
    key: tuple[Any, ...]
    if problem.costs is not None:
        key, unit = ("costs",), scale
    elif km == 0:
        key, unit = ("durations", factor), hour * scale // 3600
    elif hour == 0:
        key, unit = ("distances",), km * scale // 1000
    else:
        key, unit = ("mixed", factor, hour * scale // 3600, km * scale // 1000), 1
    name = f"vehicle {vehicle.vehicle_id!r}"
    if vehicle.max_travel_time_s is not None and vehicle.max_distance_m is not None:
        raise InvalidInputError(
            f"{name}: max_travel_time_s and max_distance_m together are not supported (the "
            "engine limits one quantity per vehicle); keep one of them",
            ["max_travel_time_s with max_distance_m"],
        )
    if vehicle.max_travel_time_s is not None:
        durations = speed_scaled_durations(problem.durations_s, vehicle.speed_factor)
        if unit == 0:
            key = ("durations", factor)
        elif key != ("durations", factor) and not (
            key == ("costs",) and np.array_equal(problem.cost_matrix, durations)
        ):
            raise InvalidInputError(
                f"{name}: max_travel_time_s is only supported when the vehicle's cost is its "
                "travel time (no separate costs matrix, cost_per_km 0); drop max_travel_time_s, "
                "the costs matrix or cost_per_km",
                ["max_travel_time_s with a cost that is not the travel time"],
            )
        return key, unit, vehicle.max_travel_time_s
    if vehicle.max_distance_m is not None:
        if unit == 0:
            key = ("distances",)
        elif key != ("distances",) and not (
            key == ("costs",)
            and problem.distances_m is not None
            and np.array_equal(problem.cost_matrix, problem.distances_m)
        ):
            raise InvalidInputError(
                f"{name}: max_distance_m is only supported when the vehicle's cost is per "
                "distance (cost_per_hour 0 and cost_per_km > 0, or both 0), because the engine "
                "counts the objective and the distance limit on one matrix; drop max_distance_m "
                "or set costs {per_hour: 0, per_km: N}",
                ["max_distance_m with a cost that is not per distance"],
            )
        return key, unit, vehicle.max_distance_m
    return key, unit, None


def _metric_matrix(
    problem: RouteProblem, key: tuple[Any, ...], scale: int
) -> npt.NDArray[np.int64]:
    """Return the matrix (over the problem's locations) named by a :func:`_vehicle_metric` key."""
    if key[0] == "costs":
        return problem.cost_matrix
    if key[0] == "distances":
        assert problem.distances_m is not None
        return problem.distances_m
    durations = speed_scaled_durations(problem.durations_s, 100 / key[1])
    if key[0] == "durations":
        return durations
    assert problem.distances_m is not None
    mixed: npt.NDArray[np.int64] = key[2] * durations + key[3] * problem.distances_m
    return mixed


def _penalty_bound(problem: RouteProblem, scale: int) -> float:
    """Return PyVRP's bound on a penalty per unit of excess load, time warp or distance.

    PyVRP's default bound (100,000) suits costs in natural units. The objective here is the
    exact cost times ``scale`` (:func:`_objective_scale`), so the bound is scaled too: unscaled,
    a vehicle with ``per_km`` 3 next to one with ``per_km`` 1000 (scale 1000) made an overloaded
    route cheaper than any feasible one, and a task the larger vehicle could serve was left
    unassigned. The bound stays low enough that a penalised cost fits in int64 (the largest
    violation is at most the sum of every matrix entry, window bound, service and amount), and
    never falls below PyVRP's default.
    """
    from pyvrp import PenaltyParams

    default = PenaltyParams().max_penalty
    violation = 1 + sum(
        int(m.sum()) for m in (problem.durations_s, problem.distances_m) if m is not None
    )
    for vehicle in problem.vehicles:
        violation += vehicle.time_window.end_s if vehicle.time_window else 0
    for task in _tasks(problem):
        violation += sum(task.need(problem.num_dimensions))
        if task.job is not None:
            violation += task.job.service_s + max(
                (w.end_s for w in task.job.time_windows), default=0
            )
        else:
            for step in (task.shipment.pickup, task.shipment.delivery):  # type: ignore[union-attr]
                violation += step.service_s + (step.time_window.end_s if step.time_window else 0)
    return max(default, min(default * scale, _OBJECTIVE_LIMIT // violation))


def _build_pyvrp_model(problem: RouteProblem, dropped: Mapping[int, str]) -> _PyvrpModel:
    import pyvrp

    dims = problem.num_dimensions
    tasks = [t for t in _tasks(problem) if t.position not in dropped]
    scale = _objective_scale(problem)
    metrics = [_vehicle_metric(problem, v, scale) for v in problem.vehicles]
    counts_tasks = any(v.max_tasks is not None for v in problem.vehicles)
    if counts_tasks:
        # max_tasks is an extra load dimension: each job delivers 1, loaded at the start. That
        # counts the tasks of a route only if nothing unloads it before the end.
        refused = []
        if problem.shipments:
            refused.append("max_tasks with shipments")
        if any(v.max_tasks is not None and v.reload_location_idxs for v in problem.vehicles):
            refused.append("max_tasks with reload_location_idxs")
        if refused:
            raise InvalidInputError(
                f"{' and '.join(refused)} are not supported (the task count would not be "
                "exact); drop max_tasks, or the shipments / reloads",
                refused,
            )

    # Depots: one per distinct (location, service) pair; None is the free depot of open routes.
    depot_keys: list[tuple[int | None, int]] = []

    def depot(location_idx: int | None, service_s: int = 0) -> int:
        key = (location_idx, service_s)
        if key not in depot_keys:
            depot_keys.append(key)
        return depot_keys.index(key)

    for vehicle in problem.vehicles:
        depot(vehicle.start_location_idx)
        depot(vehicle.end_location_idx)
        for idx in vehicle.reload_location_idxs:
            depot(idx, vehicle.reload_service_s)

    # Locations: depots first, then one per task step (copies of matrix rows and columns); a job
    # with several time windows gets one client per window, in a mutually exclusive group.
    origin: list[int] = [-1 if loc is None else loc for loc, _ in depot_keys]
    client_tasks: list[int] = []
    client_windows: list[TimeWindow | None] = []
    shipment_tasks: list[int] = []
    for task in tasks:
        if task.job is not None:
            alternatives: tuple[TimeWindow | None, ...] = task.job.time_windows or (None,)
            for alternative in alternatives:
                client_tasks.append(task.position)
                client_windows.append(alternative)
                origin.append(task.job.location_idx)
    for task in tasks:
        if task.shipment is not None:
            shipment_tasks.append(task.position)
            origin.extend([task.shipment.pickup.location_idx, task.shipment.delivery.location_idx])
    origin_arr = np.array(origin, dtype=np.int64)
    free = origin_arr < 0
    gather = np.where(free, 0, origin_arr)

    def expand(matrix: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        out: npt.NDArray[np.int64] = matrix[np.ix_(gather, gather)].copy()
        out[free, :] = 0
        out[:, free] = 0
        return out

    num_locations = len(origin)

    # Skills -> profiles: the edges into a task a vehicle may not serve get `prohibitive` distance.
    step_skills: list[frozenset[int] | None] = [None] * len(depot_keys)
    by_position = {t.position: t for t in tasks}
    step_skills += [by_position[p].skills for p in client_tasks]
    for p in shipment_tasks:
        step_skills += [by_position[p].skills, by_position[p].skills]
    skill_sets = sorted({v.skills for v in problem.vehicles}, key=lambda s: sorted(s))
    matters = any(
        s is not None and not s <= vehicle_skills
        for s in step_skills
        for vehicle_skills in skill_sets
    )
    # One profile per (skill set when skills matter, metric of the distance matrix, speed).
    profile_keys: list[tuple[frozenset[int] | None, tuple[Any, ...], int]] = []

    def profile_key(position: int) -> tuple[frozenset[int] | None, tuple[Any, ...], int]:
        vehicle = problem.vehicles[position]
        return (vehicle.skills if matters else None, metrics[position][0], vehicle.duration_factor)

    for position in range(len(problem.vehicles)):
        if profile_key(position) not in profile_keys:
            profile_keys.append(profile_key(position))
    distance_matrices: list[Any] = []  # int64 matrices, one per profile
    duration_matrices: list[Any] = []
    prohibitives: list[int] = []
    for skills, metric, factor in profile_keys:
        distances = expand(_metric_matrix(problem, metric, scale))
        max_entry = int(max(int(distances.max(initial=0)), 0))
        # Any legitimate route has fewer than 2 * (num_locations + 2) edges.
        prohibitive = 2 * (num_locations + 2) * (max_entry + 1)
        if skills is not None:
            forbidden = [i for i, s in enumerate(step_skills) if s is not None and not s <= skills]
            distances[:, forbidden] = prohibitive
            distances[forbidden, forbidden] = 0  # PyVRP requires zero diagonals
        distance_matrices.append(distances)
        duration_matrices.append(expand(speed_scaled_durations(problem.durations_s, 100 / factor)))
        prohibitives.append(prohibitive)

    # Vehicle types: identical vehicles share one type.
    groups: dict[tuple[Any, ...], list[int]] = {}
    for position, vehicle in enumerate(problem.vehicles):
        groups.setdefault(_vehicle_key(vehicle), []).append(position)
    vehicle_types = []
    largest_edge_cost = 0
    total_fixed = 0
    for positions in groups.values():
        vehicle = problem.vehicles[positions[0]]
        _, unit, limit = metrics[positions[0]]
        profile = profile_keys.index(profile_key(positions[0]))
        max_distance = limit if limit is not None else _INT64_MAX
        if matters:
            max_distance = min(max_distance, prohibitives[profile] - 1)
        largest_edge_cost = max(largest_edge_cost, unit * prohibitives[profile])
        total_fixed += vehicle.fixed_cost * scale * len(positions)
        extra: dict[str, Any] = {}
        if vehicle.time_window is not None:
            extra.update(tw_early=vehicle.time_window.start_s, tw_late=vehicle.time_window.end_s)
        if vehicle.max_duration_s is not None:
            extra["shift_duration"] = vehicle.max_duration_s
        if vehicle.reload_location_idxs:
            extra["reload_depots"] = sorted(
                {depot(i, vehicle.reload_service_s) for i in vehicle.reload_location_idxs}
            )
            if vehicle.max_reloads is not None:
                extra["max_reloads"] = vehicle.max_reloads
        if vehicle.fixed_cost:
            extra["fixed_cost"] = vehicle.fixed_cost * scale
        if unit != 1:
            extra["unit_distance_cost"] = unit
        capacity = list(vehicle.capacity) if dims else []
        if counts_tasks:
            capacity.append(vehicle.max_tasks if vehicle.max_tasks is not None else len(tasks))
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(positions),
                capacity=capacity,
                start_depot=depot(vehicle.start_location_idx),
                end_depot=depot(vehicle.end_location_idx),
                max_distance=max_distance,
                profile=profile,
                name=str(vehicle.vehicle_id),
                **extra,
            )
        )

    # Prizes: serving one more task must beat any possible saving in cost.
    max_cost = max(int(_metric_matrix(problem, m, scale).max(initial=0)) * u for m, u, _ in metrics)
    base_prize = (2 * num_locations + len(problem.vehicles) + 2) * (max_cost + 1) + total_fixed
    weights = [0] * (len(problem.jobs) + len(problem.shipments))
    for task in tasks:
        weights[task.position] = 1 + task.priority  # a shipment's prize counts it twice
    bound = max(base_prize * 2 * (sum(weights) + 1), largest_edge_cost * 2 * (num_locations + 2))
    if bound >= _OBJECTIVE_LIMIT:
        raise InvalidInputError(
            f"costs too large for exact integer arithmetic: a plan could cost up to {bound}, "
            f"above {_OBJECTIVE_LIMIT}; scale the costs, per_hour, per_km or fixed values down",
            ["costs overflow"],
        )

    def window(tw: Any) -> dict[str, int]:
        return {} if tw is None else {"tw_early": tw.start_s, "tw_late": tw.end_s}

    def build(required: bool) -> Any:
        locations = [pyvrp.Location(0, 0) for _ in range(num_locations)]
        depots = [
            pyvrp.Depot(i, service_duration=service) for i, (_, service) in enumerate(depot_keys)
        ]
        clients = []
        client_groups: list[Any] = []
        group_of: dict[int, int] = {}
        for number, position in enumerate(client_tasks):
            job = by_position[position].job
            assert job is not None
            grouped = len(job.time_windows) > 1
            extra: dict[str, Any] = {}
            if grouped:
                if position not in group_of:
                    group_of[position] = len(client_groups)
                    client_groups.append(pyvrp.ClientGroup(required=required, name=str(job.job_id)))
                extra["group"] = group_of[position]
            delivery = list(job.delivery or (0,) * dims)
            pickup = list(job.pickup or (0,) * dims)
            if counts_tasks:
                delivery.append(1)
                pickup.append(0)
            clients.append(
                pyvrp.Client(
                    len(depot_keys) + number,
                    delivery=delivery,
                    pickup=pickup,
                    service_duration=job.service_s,
                    prize=0 if required else base_prize * weights[position],
                    required=required and not grouped,
                    name=str(job.job_id),
                    **window(client_windows[number]),
                    **extra,
                )
            )
        for number, client in enumerate(clients):
            if client.group is not None:
                client_groups[client.group].add_client(number)
        shipments = []
        first = len(depot_keys) + len(client_tasks)
        for number, position in enumerate(shipment_tasks):
            shipment = by_position[position].shipment
            assert shipment is not None
            pick, drop = shipment.pickup, shipment.delivery
            shipments.append(
                pyvrp.Shipment(
                    first + 2 * number,
                    first + 2 * number + 1,
                    pickup_service_duration=pick.service_s,
                    delivery_service_duration=drop.service_s,
                    amount=list(shipment.amount or (0,) * dims),
                    prize=0 if required else 2 * base_prize * weights[position],
                    required=required,
                    pickup_tw_early=pick.time_window.start_s if pick.time_window else 0,
                    pickup_tw_late=pick.time_window.end_s if pick.time_window else _INT64_MAX,
                    delivery_tw_early=drop.time_window.start_s if drop.time_window else 0,
                    delivery_tw_late=drop.time_window.end_s if drop.time_window else _INT64_MAX,
                )
            )
        return pyvrp.ProblemData(
            locations,
            clients,
            depots,
            vehicle_types,
            distance_matrices,
            duration_matrices,
            groups=client_groups,
            shipments=shipments,
        )

    return _PyvrpModel(
        complete=build(required=True),
        partial=build(required=False),
        client_tasks=tuple(client_tasks),
        shipment_tasks=tuple(shipment_tasks),
        depot_locations=tuple(loc for loc, _ in depot_keys),
        type_vehicles=tuple(tuple(p) for p in groups.values()),
        task_weights=tuple(weights),
        max_penalty=_penalty_bound(problem, scale),
    )


# One route as a worker returns it: vehicle type, departure time, [(kind, index)] where kind is
# "client", "pickup", "delivery" or "depot" (a reload when it is not first or last).
_RawRoute = tuple[int, int, list[tuple[str, int]]]


class _CompleteModelStop:
    """Stop the complete model's search: budget spent, or still infeasible at the switch point.

    The switch point is ``_PHASE1_SHARE`` of the time (or iteration) budget.
    """

    def __init__(self, runtime_s: float, max_iterations: int | None) -> None:
        self._started = time.perf_counter()
        self._runtime_s = runtime_s
        self._max_iterations = max_iterations
        self.iterations = 0

    def __call__(self, best_cost: int) -> bool:
        self.iterations += 1
        elapsed = time.perf_counter() - self._started
        if elapsed >= self._runtime_s:
            return True
        if self._max_iterations is not None and self.iterations >= self._max_iterations:
            return True
        # PyVRP passes INT64_MAX as the cost while the best solution is infeasible.
        if best_cost < _INT64_MAX:
            return False
        if elapsed >= _PHASE1_SHARE * self._runtime_s:
            return True
        return (
            self._max_iterations is not None
            and self.iterations >= _PHASE1_SHARE * self._max_iterations
        )


def _search_params(worker: int, max_penalty: float | None = None) -> Any:
    """Return PyVRP's solver settings for worker number ``worker`` (see ``_SEARCH_SETTINGS``).

    ``max_penalty`` bounds the penalties (:func:`_penalty_bound`); ``None`` keeps PyVRP's.
    """
    from pyvrp import PenaltyParams
    from pyvrp.search import NeighbourhoodParams, PerturbationParams
    from pyvrp.solve import SolveParams

    num_neighbours, max_perturbations = _SEARCH_SETTINGS[worker % len(_SEARCH_SETTINGS)]
    penalty = PenaltyParams() if max_penalty is None else PenaltyParams(max_penalty=max_penalty)
    return SolveParams(
        neighbourhood=NeighbourhoodParams(num_neighbours=num_neighbours),
        perturbation=PerturbationParams(max_perturbations=max_perturbations),
        penalty=penalty,
    )


def _run_pyvrp(
    complete: Any,
    partial: Any,
    seed: int,
    runtime_s: float,
    max_iterations: int | None,
    worker: int = 0,
    max_penalty: float | None = None,
) -> list[_RawRoute]:
    """Run one PyVRP search; return the feasible routes of its best solution.

    The search runs on the complete model (every task required). If it has no feasible solution
    after ``_PHASE1_SHARE`` of its budget, it switches to the partial model (optional tasks with
    prizes) for the rest, starting from the routes found so far, repaired to be feasible.
    ``worker`` picks the search settings and ``max_penalty`` bounds the penalties
    (:func:`_penalty_bound`). The last ``_POLISH_SHARE`` of the time (at most
    ``_POLISH_MAX_S``) is kept for inserting left-out tasks and reordering short routes, which
    stop at the end of ``runtime_s``. Top-level so that it can run in worker processes.
    """
    import pyvrp
    from pyvrp.exceptions import PenaltyBoundWarning
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    started = time.perf_counter()
    search_s = runtime_s - min(_POLISH_MAX_S, _POLISH_SHARE * runtime_s)
    deadline = started + search_s
    search = _search_params(worker, max_penalty)
    stop = _CompleteModelStop(search_s, max_iterations)
    with warnings.catch_warnings():
        # PyVRP warns when its penalties hit their bound: expected when not every task fits,
        # which is what the switch to the partial model handles.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        best = pyvrp.solve(complete, stop, seed=seed, collect_stats=False, params=search).best
    left_iterations = None if max_iterations is None else max_iterations - stop.iterations
    data = complete  # the model of ``best``
    if not best.is_feasible():
        data = partial
        repaired = [_repair_route(partial, route) for route in best.routes()]
        best = pyvrp.Solution(
            partial, [route for route in repaired if route.num_clients() or route.num_shipments()]
        )
        remaining = deadline - time.perf_counter()
        if remaining > 0.01 and (left_iterations is None or left_iterations > 0):
            criteria: list[Any] = [MaxRuntime(remaining)]
            if left_iterations is not None:
                criteria.append(MaxIterations(left_iterations))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PenaltyBoundWarning)
                best = pyvrp.solve(
                    partial,
                    MultipleCriteria(criteria),
                    seed=seed,
                    collect_stats=False,
                    params=search,
                    initial_solution=best,
                ).best
    # An infeasible route is dropped whole; its tasks become "not served in the time limit".
    routes = [route for route in best.routes() if route.is_feasible()]
    polish_until = started + runtime_s
    routes = _insert_left_out(data, routes, _INSERTION_MAX_EVALUATIONS, polish_until)
    return [
        _raw_route(_best_order(data, route) if time.perf_counter() < polish_until else route)
        for route in routes
    ]


_POLISH_SHARE = 0.05
_POLISH_MAX_S = 0.25
# Time kept after the search for inserting left-out tasks and reordering short routes (700 jobs
# on 100 vehicles of 7: reordering every route took 2.4 s before it was bounded by this).

_INSERTION_MAX_EVALUATIONS = 20_000
# Candidate routes tried when inserting the tasks a search left out (about 0.1 s).


def _insert_left_out(
    data: Any, routes: list[Any], budget: int, until: float = math.inf
) -> list[Any]:
    """Insert tasks the search left out where they fit, cheapest place first; return the routes.

    PyVRP's search sometimes leaves out a task that fits in a route as it is (fuzzing: a job
    beside a shipment on the one vehicle able to do both). Each left-out task, heaviest prize
    first, is tried at every place of every route and on every unused vehicle (a job at each of
    its time windows; a shipment's delivery after its pickup), each candidate evaluated by PyVRP;
    the feasible one that adds least cost is kept. At most ``budget`` candidates are evaluated,
    and no task is started after ``until`` (a ``time.perf_counter()`` value).
    """
    import pyvrp

    visits = [_route_visits(route) for route in routes]
    vehicle_types = [int(r.vehicle_type()) for r in routes]
    served = {(a.is_client(), a.idx) for route in visits for a in route}
    options = [  # prize, alternative visit lists of each task left out
        (prize, alternatives)
        for prize, alternatives in _task_visits(data)
        if not any((a.is_client(), a.idx) in served for a in itertools.chain(*alternatives))
    ]
    if not options:
        return routes
    options.sort(key=lambda option: -option[0])
    used = [0] * data.num_vehicle_types
    for vehicle_type in vehicle_types:
        used[vehicle_type] += 1
    current = list(routes)
    for _, alternatives in options:
        if time.perf_counter() >= until:
            break
        # Candidate routes: each route, and an empty route of each type with a vehicle left.
        slots = list(range(len(current)))
        slots += [
            -1 - t
            for t in range(data.num_vehicle_types)
            if used[t] < data.vehicle_type(t).num_available
        ]
        best: tuple[int, int, Any, list[Any]] | None = None
        for slot in slots:
            if slot >= 0:
                base, vehicle_type, before = visits[slot], vehicle_types[slot], current[slot]
                base_cost = _pyvrp_cost(before)
            else:
                base, vehicle_type, base_cost = [], -1 - slot, 0
            for alternative in alternatives:
                for placed in _insertions(base, alternative):
                    budget -= 1
                    if budget < 0:
                        return current
                    candidate = pyvrp.Route(data, placed, vehicle_type)
                    if candidate.is_feasible():
                        extra = _pyvrp_cost(candidate) - base_cost
                        if best is None or extra < best[0]:
                            best = (extra, slot, candidate, placed)
        if best is not None:
            _, slot, candidate, placed = best
            if slot >= 0:
                current[slot], visits[slot] = candidate, placed
            else:
                current.append(candidate)
                visits.append(placed)
                vehicle_types.append(-1 - slot)
                used[-1 - slot] += 1
    return current


def _insertions(base: list[Any], inserted: list[Any]) -> Iterator[list[Any]]:
    """Yield ``base`` with one visit, or a pickup and later its delivery, put in at every place."""
    if len(inserted) == 1:
        for i in range(len(base) + 1):
            yield [*base[:i], inserted[0], *base[i:]]
        return
    pickup, delivery = inserted
    for i in range(len(base) + 1):
        with_pickup = [*base[:i], pickup, *base[i:]]
        for j in range(i + 1, len(with_pickup) + 1):
            yield [*with_pickup[:j], delivery, *with_pickup[j:]]


def _route_visits(route: Any) -> list[Any]:
    """Return a PyVRP route's visits between its start and its end, as activities."""
    import pyvrp

    return [pyvrp.Activity(a.type, a.idx) for a in route.schedule()[1:-1]]


def _task_visits(data: Any) -> list[tuple[int, list[list[Any]]]]:
    """List each task of a PyVRP model with its prize and its alternative visit lists.

    A job is one client, or one client per time window (a client group: any one of them); a
    shipment is its pickup then its delivery. Jobs come in client order, then the shipments.
    """
    import pyvrp

    client = pyvrp.ActivityType.CLIENT
    tasks: list[tuple[int, list[list[Any]]]] = []
    listed: set[int] = set()
    for number in range(data.num_clients):
        if number in listed:
            continue
        group = data.client(number).group
        members = [number] if group is None else list(data.group(group).clients)
        listed.update(members)
        tasks.append((data.client(number).prize, [[pyvrp.Activity(client, c)] for c in members]))
    for number, shipment in enumerate(data.shipments()):
        pair = [
            pyvrp.Activity(pyvrp.ActivityType.PICKUP, number),
            pyvrp.Activity(pyvrp.ActivityType.DELIVERY, number),
        ]
        tasks.append((shipment.prize, [pair]))
    return tasks


def _raw_route(route: Any) -> _RawRoute:
    """Return a PyVRP route as vehicle type, departure time and its activities."""
    import pyvrp

    kinds = {
        pyvrp.ActivityType.CLIENT: "client",
        pyvrp.ActivityType.DEPOT: "depot",
        pyvrp.ActivityType.PICKUP: "pickup",
        pyvrp.ActivityType.DELIVERY: "delivery",
    }
    activities = [(kinds[activity.type], int(activity.idx)) for activity in route.schedule()]
    return (int(route.vehicle_type()), int(route.start_time()), activities)


def _pyvrp_cost(route: Any) -> int:
    """Return a feasible PyVRP route's objective: distance, duration and fixed costs."""
    return int(route.distance_cost()) + int(route.duration_cost()) + int(route.fixed_vehicle_cost())


def _orders(visits: Sequence[Any]) -> Iterator[list[Any]]:
    """Yield every order of the visits that keeps each shipment's pickup before its delivery."""
    for order in itertools.permutations(visits):
        picked: set[int] = set()
        for visit in order:
            if visit.is_pickup():
                picked.add(visit.idx)
            elif visit.is_delivery() and visit.idx not in picked:
                break
        else:
            yield list(order)


_EXACT_MAX_VISITS = 8
_EXACT_MAX_EVALUATIONS = 100_000
_EVALUATION_S = 5e-6  # one visit order generated and, if valid, evaluated by PyVRP (measured 4 us)
# Problems with at most this many visits (a job is one, a shipment two), and at most this many
# visit orders to generate over all vehicle types, are solved by enumeration instead of the
# search: 0.44 s at the most (100,000 orders, about 4 us each; 7 jobs on one vehicle type 0.06 s,
# 8 jobs are left to the search), where the search spent its whole time limit (10 s by default)
# and, on 1,126 fuzzed problems of up to 6 visits, left 5 with less priority-weighted work served
# and 2 at a higher cost than the optimum (it never merges some routes with shipments).


def _solve_exactly(model: _PyvrpModel, time_limit_s: float) -> list[_RawRoute] | None:
    """Solve a tiny problem by enumeration; ``None`` when it is too large or has reloads.

    Too large: more than ``_EXACT_MAX_VISITS`` visits, or more than ``_EXACT_MAX_EVALUATIONS``
    visit orders to generate over all vehicle types, or more than ``time_limit_s`` at
    ``_EVALUATION_S`` each.

    Every subset of tasks is tried on every vehicle type, in every visit order (each job at each
    of its time windows), each route evaluated by PyVRP itself (feasibility, costs); then the
    subsets are shared among the vehicles (a dynamic programme over the tasks left) for the most
    priority-weighted tasks served (as the search's prizes weigh them), then the least cost.
    """
    import pyvrp

    data = model.partial
    if any(vt.reload_depots for vt in data.vehicle_types()):
        return None
    # Each task: its prize (the search's weight of it) and its alternative visit lists.
    tasks = _task_visits(data)
    n_tasks = len(tasks)
    if sum(len(alternatives[0]) for _, alternatives in tasks) > _EXACT_MAX_VISITS:
        return None
    subsets = range(1, 1 << n_tasks)
    members = {mask: [tasks[k][1] for k in range(n_tasks) if mask >> k & 1] for mask in subsets}
    evaluations = 0
    for chosen in members.values():
        visits = sum(len(alternatives[0]) for alternatives in chosen)
        evaluations += math.prod(len(a) for a in chosen) * math.factorial(visits)
    evaluations *= data.num_vehicle_types
    if evaluations > _EXACT_MAX_EVALUATIONS or evaluations * _EVALUATION_S > time_limit_s:
        return None
    # The cheapest feasible route of each vehicle type for each subset of tasks.
    best: list[dict[int, tuple[int, Any]]] = []
    for vehicle_type in range(data.num_vehicle_types):
        table: dict[int, tuple[int, Any]] = {}
        for mask, chosen in members.items():
            for alternative in itertools.product(*chosen):
                for order in _orders([visit for visits in alternative for visit in visits]):
                    route = pyvrp.Route(data, order, vehicle_type)
                    if route.is_feasible():
                        cost = _pyvrp_cost(route)
                        if mask not in table or cost < table[mask][0]:
                            table[mask] = (cost, route)
        best.append(table)
    # Share the subsets among the vehicles: tasks used -> (cost, routes).
    plans: dict[int, tuple[int, list[Any]]] = {0: (0, [])}
    full = (1 << n_tasks) - 1
    for vehicle_type, table in enumerate(best):
        count = min(data.vehicle_type(vehicle_type).num_available, n_tasks)
        for _ in range(count):
            extended = dict(plans)
            for used, (cost, routes) in plans.items():
                free = full & ~used
                subset = free
                while subset:
                    if subset in table:
                        total = cost + table[subset][0]
                        key = used | subset
                        if key not in extended or total < extended[key][0]:
                            extended[key] = (total, [*routes, table[subset][1]])
                    subset = (subset - 1) & free
            plans = extended

    def weight(mask: int) -> int:
        return sum(tasks[k][0] for k in range(n_tasks) if mask >> k & 1)

    chosen_mask = min(plans, key=lambda mask: (-weight(mask), plans[mask][0], mask))
    return [_raw_route(route) for route in plans[chosen_mask][1]]


_EXACT_ORDER_MAX_VISITS = 6
# Routes of at most this many visits (720 orders, about 3.5 ms) are reordered exactly after the
# search (7 visits, 5,040 orders, took 24 ms a route).


def _best_order(data: Any, route: Any) -> Any:
    """Return the cheapest feasible order of a short route's visits (the route itself if none).

    PyVRP's operators can leave a short route with shipments in a worse order than one a single
    move away for a human (fuzzing found plans 4 % above the brute-force optimum on 5 visits).
    Routes of up to ``_EXACT_ORDER_MAX_VISITS`` visits without reloads are therefore tried in
    every order that keeps each pickup before its delivery, each evaluated by PyVRP itself
    (feasibility, distance and duration costs); the vehicle and its visits stay the same.
    """
    import pyvrp

    visits = _route_visits(route)
    if len(visits) < 2 or len(visits) > _EXACT_ORDER_MAX_VISITS:
        return route
    if any(visit.is_depot() for visit in visits):
        return route
    vehicle_type = route.vehicle_type()
    best, best_cost = route, _pyvrp_cost(route)
    for order in _orders(visits):
        candidate = pyvrp.Route(data, order, vehicle_type)
        if candidate.is_feasible() and _pyvrp_cost(candidate) < best_cost:
            best, best_cost = candidate, _pyvrp_cost(candidate)
    return best


def _repair_route(data: Any, route: Any) -> Any:
    """Remove visits from an infeasible PyVRP route until it is feasible; return the new route.

    Each round drops the task whose removal leaves the least violation (excess load, time warp,
    excess distance), then reload visits that no longer separate two trips. The route keeps its
    trips, which a search on the partial model would struggle to rebuild.
    """
    import pyvrp

    def violation(candidate: Any) -> int:
        excess = sum(candidate.excess_load()) + candidate.time_warp() + candidate.excess_distance()
        return int(excess)

    def tidy(activities: list[Any]) -> list[Any]:
        out: list[Any] = []
        for activity in activities:
            if activity.is_depot() and (not out or out[-1].is_depot()):
                continue
            out.append(activity)
        while out and out[-1].is_depot():
            out.pop()
        return out

    vehicle_type = route.vehicle_type()
    activities = _route_visits(route)
    current = pyvrp.Route(data, activities, vehicle_type)
    while not current.is_feasible() and activities:
        options = []
        for position, activity in enumerate(activities):
            if activity.is_depot():
                continue
            if activity.is_shipment():
                kept = [a for a in activities if not (a.is_shipment() and a.idx == activity.idx)]
            else:
                kept = activities[:position] + activities[position + 1 :]
            kept = tidy(kept)
            candidate = pyvrp.Route(data, kept, vehicle_type)
            options.append((violation(candidate), position, kept, candidate))
        if not options:
            break
        _, _, activities, current = min(options, key=lambda o: (o[0], o[1]))
    if not current.is_feasible():
        return pyvrp.Route(data, [], vehicle_type)
    return current


def _served_weight(model: _PyvrpModel, raw: list[_RawRoute]) -> int:
    total = 0
    for _, _, activities in raw:
        for kind, idx in activities:
            if kind == "client":
                total += model.task_weights[model.client_tasks[idx]]
            elif kind == "pickup":
                total += 2 * model.task_weights[model.shipment_tasks[idx]]
    return total


# --------------------------------------------------------------------------------------------
# From engine routes to our plan: an independent forward schedule on the original matrices
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Visit:
    kind: Literal["job", "pickup", "delivery", "reload"]
    location_idx: int
    task_position: int | None


def _make_route(
    problem: RouteProblem, vehicle: Vehicle, departure_s: int, visits: list[_Visit]
) -> VehicleRoute:
    """Schedule ``visits`` for ``vehicle`` leaving at ``departure_s`` (earliest service starts)."""
    dims = problem.num_dimensions
    zero = (0,) * dims
    durations = speed_scaled_durations(problem.durations_s, vehicle.speed_factor)
    costs, distances = problem.cost_matrix, problem.distances_m

    def task_of(visit: _Visit) -> Job | Shipment:
        assert visit.task_position is not None
        if visit.task_position < len(problem.jobs):
            return problem.jobs[visit.task_position]
        return problem.shipments[visit.task_position - len(problem.jobs)]

    # Load leaving the start and each reload: the deliveries of the jobs of that trip.
    trip_loads: list[tuple[int, ...]] = []
    current: list[tuple[int, ...]] = []
    for visit in visits:
        if visit.kind == "reload":
            trip_loads.append(total_amounts(current, dims))
            current = []
        elif visit.kind == "job":
            job = task_of(visit)
            assert isinstance(job, Job)
            current.append(job.delivery)
    trip_loads.append(total_amounts(current, dims))

    steps: list[RouteStep] = []
    load = trip_loads[0]
    trip = 0
    here = vehicle.start_location_idx
    clock = departure_s
    travel = cost = distance = service_total = waiting_total = priority = 0
    delivered: list[tuple[int, ...]] = []
    picked: list[tuple[int, ...]] = []
    if here is not None:
        steps.append(
            RouteStep(
                "start", here, clock, 0, 0, 0, load, None, 0 if distances is not None else None
            )
        )
    for visit in visits:
        loc = visit.location_idx
        if here is not None:
            travel += int(durations[here, loc])
            cost += int(costs[here, loc])
            distance += int(distances[here, loc]) if distances is not None else 0
            clock += int(durations[here, loc])
        arrival = clock
        task_id: TaskId | None = None
        windows: tuple[TimeWindow, ...] = ()
        if visit.kind == "reload":
            service = vehicle.reload_service_s
            trip += 1
            load = trip_loads[trip]
        else:
            task = task_of(visit)
            if isinstance(task, Job):
                windows, service, task_id = task.time_windows, task.service_s, task.job_id
                load = tuple(
                    a - d + p
                    for a, d, p in zip(
                        load, task.delivery or zero, task.pickup or zero, strict=True
                    )
                )
                delivered.append(task.delivery)
                picked.append(task.pickup)
                priority += task.priority
            else:
                step = task.pickup if visit.kind == "pickup" else task.delivery
                windows = (step.time_window,) if step.time_window is not None else ()
                service, task_id = step.service_s, step.step_id
                sign = 1 if visit.kind == "pickup" else -1
                load = tuple(a + sign * b for a, b in zip(load, task.amount or zero, strict=True))
                # As in VROOM, a shipment's priority counts on its pickup and its delivery.
                priority += task.priority
                if visit.kind == "pickup":
                    picked.append(task.amount)
                else:
                    delivered.append(task.amount)
        # The earliest window still open; a late arrival (never from a feasible engine route)
        # keeps its arrival so that the validator reports it.
        begin = _service_start(arrival, windows)
        wait = begin - arrival if begin is not None else 0
        clock = arrival + wait + service
        service_total += service
        waiting_total += wait
        steps.append(
            RouteStep(
                visit.kind,
                loc,
                arrival,
                travel,
                wait,
                service,
                load,
                task_id,
                distance if distances is not None else None,
            )
        )
        here = loc
    end = vehicle.end_location_idx
    if end is not None:
        if here is not None:
            travel += int(durations[here, end])
            cost += int(costs[here, end])
            distance += int(distances[here, end]) if distances is not None else 0
            clock += int(durations[here, end])
        steps.append(
            RouteStep(
                "end",
                end,
                clock,
                travel,
                0,
                0,
                load,
                None,
                distance if distances is not None else None,
            )
        )
    return VehicleRoute(
        vehicle_id=vehicle.vehicle_id,
        steps=tuple(steps),
        cost=_route_cost(vehicle, travel, distance, cost if problem.costs is not None else None),
        travel_s=travel,
        service_s=service_total,
        waiting_s=waiting_total,
        delivery=total_amounts(delivered, dims),
        pickup=total_amounts(picked, dims),
        priority=priority,
        distance_m=distance if distances is not None else None,
    )


def _unassigned_reason(
    problem: RouteProblem, tasks: list[_Task], time_limit_s: float, proven: bool = False
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


def _plan_from_raw(
    problem: RouteProblem,
    model: _PyvrpModel,
    raw: list[_RawRoute],
    dropped: Mapping[int, str],
    params: SolverParams,
    runtime_s: float,
    *,
    proven: bool = False,
) -> RoutePlan:
    """Turn engine routes into the plan; ``proven``: the routes come from :func:`_solve_exactly`."""
    routes: list[VehicleRoute] = []
    served: set[int] = set()
    next_vehicle = [0] * len(model.type_vehicles)
    for vehicle_type, departure, activities in sorted(raw, key=lambda r: (r[0], r[1], r[2])):
        vehicle_position = model.type_vehicles[vehicle_type][next_vehicle[vehicle_type]]
        next_vehicle[vehicle_type] += 1
        vehicle = problem.vehicles[vehicle_position]
        visits: list[_Visit] = []
        for number, (kind, idx) in enumerate(activities):
            if kind == "depot":
                if 0 < number < len(activities) - 1:
                    location = model.depot_locations[idx]
                    assert location is not None
                    visits.append(_Visit("reload", location, None))
                continue
            if kind == "client":
                position = model.client_tasks[idx]
                job = problem.jobs[position]
                visits.append(_Visit("job", job.location_idx, position))
            else:
                position = model.shipment_tasks[idx]
                shipment = problem.shipments[position - len(problem.jobs)]
                step = shipment.pickup if kind == "pickup" else shipment.delivery
                visits.append(_Visit(kind, step.location_idx, position))  # type: ignore[arg-type]
            served.add(position)
        routes.append(_make_route(problem, vehicle, departure, visits))
    # Vehicles in input order, as VROOM lists them.
    order = {v.vehicle_id: i for i, v in enumerate(problem.vehicles)}
    routes.sort(key=lambda r: order[r.vehicle_id])
    all_tasks = _tasks(problem)
    unassigned: list[UnassignedTask] = []
    late_reason = _unassigned_reason(
        problem, [t for t in all_tasks if t.position not in dropped], params.time_limit_s, proven
    )
    for task in all_tasks:
        if task.position in dropped:
            unassigned += task.unassigned(dropped[task.position])
        elif task.position not in served:
            unassigned += task.unassigned(late_reason)
    return RoutePlan(
        routes=tuple(routes),
        unassigned=tuple(unassigned),
        cost=sum(r.cost for r in routes),
        engine=params.engine,
        seed=params.seed,
        runtime_s=runtime_s,
    )


def _solve_with_pyvrp(
    problem: RouteProblem, params: SolverParams, dropped: Mapping[int, str], started: float
) -> RoutePlan:
    model = _build_pyvrp_model(problem, dropped)
    if not model.client_tasks and not model.shipment_tasks:
        return _plan_from_raw(problem, model, [], dropped, params, time.perf_counter() - started)
    exact = _solve_exactly(model, params.time_limit_s)
    if exact is not None:
        plan = _plan_from_raw(problem, model, exact, dropped, params, 0.0, proven=True)
        return dataclasses.replace(plan, engine="pyvrp", runtime_s=time.perf_counter() - started)
    runtime_s = params.time_limit_s - (time.perf_counter() - started) - _OVERHEAD_S
    if params.num_workers > 1:
        runtime_s -= 0.1  # starting worker processes
    runtime_s = max(runtime_s, 0.05)
    seeds = [params.seed + k for k in range(params.num_workers)]
    arguments = (model.complete, model.partial)
    bound = model.max_penalty
    if params.num_workers == 1:
        results = [_run_pyvrp(*arguments, seeds[0], runtime_s, params.max_iterations, 0, bound)]
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=params.num_workers - 1, mp_context=context) as pool:
            futures = [
                pool.submit(
                    _run_pyvrp, *arguments, seed, runtime_s, params.max_iterations, k, bound
                )
                for k, seed in enumerate(seeds[1:], start=1)
            ]
            first = _run_pyvrp(*arguments, seeds[0], runtime_s, params.max_iterations, 0, bound)
            results = [first] + [f.result() for f in futures]
    plans = [_plan_from_raw(problem, model, raw, dropped, params, 0.0) for raw in results]
    weights = [_served_weight(model, raw) for raw in results]
    best = min(range(len(plans)), key=lambda k: (-weights[k], plans[k].cost, k))
    chosen = plans[best]
    return RoutePlan(
        routes=chosen.routes,
        unassigned=chosen.unassigned,
        cost=chosen.cost,
        engine="pyvrp",
        seed=params.seed,
        runtime_s=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------------------------
# OR-Tools baseline
# --------------------------------------------------------------------------------------------


def _solve_with_ortools(
    problem: RouteProblem, params: SolverParams, dropped: Mapping[int, str], started: float
) -> RoutePlan:
    from ortools.constraint_solver import pywrapcp

    unsupported = []
    if problem.shipments:
        unsupported.append("shipments")
    if any(j.skills for j in problem.jobs):
        unsupported.append("job skills")
    if any(j.delivery and j.pickup and any(j.pickup) and any(j.delivery) for j in problem.jobs):
        unsupported.append("jobs with both delivery and pickup")
    for vehicle in problem.vehicles:
        if vehicle.start_location_idx is None or vehicle.end_location_idx is None:
            unsupported.append("open routes (vehicle without start or end)")
        if vehicle.reload_location_idxs:
            unsupported.append("reloads")
        if vehicle.max_travel_time_s is not None or vehicle.max_duration_s is not None:
            unsupported.append("max_travel_time_s / max_duration_s")
        if vehicle.max_distance_m is not None or vehicle.max_tasks is not None:
            unsupported.append("max_distance_m / max_tasks")
        if (
            vehicle.fixed_cost
            or vehicle.cost_per_km
            or vehicle.cost_per_hour != DEFAULT_COST_PER_HOUR
            or vehicle.duration_factor != 100
        ):
            unsupported.append("vehicle costs / speed_factor")
    if any(len(j.time_windows) > 1 for j in problem.jobs):
        unsupported.append("several time windows per job")
    if unsupported:
        found = sorted(set(unsupported))
        raise InvalidInputError(
            f"engine 'ortools' does not support {found}; use engine 'pyvrp'", found
        )
    dims = problem.num_dimensions
    jobs = [(p, j) for p, j in enumerate(problem.jobs) if p not in dropped]
    n_vehicles = len(problem.vehicles)
    # Nodes: one per vehicle start and end (OR-Tools' own depots), then one per job.
    node_location = [v.start_location_idx for v in problem.vehicles] + [
        v.end_location_idx for v in problem.vehicles
    ]
    node_location += [j.location_idx for _, j in jobs]
    first_job = 2 * n_vehicles
    manager = pywrapcp.RoutingIndexManager(
        len(node_location),
        n_vehicles,
        list(range(n_vehicles)),
        list(range(n_vehicles, 2 * n_vehicles)),
    )
    routing = pywrapcp.RoutingModel(manager)
    loc = np.array(node_location, dtype=np.int64)
    cost_nodes = problem.cost_matrix[np.ix_(loc, loc)]
    service = np.zeros(len(node_location), dtype=np.int64)
    for k, (_, job) in enumerate(jobs):
        service[first_job + k] = job.service_s
    transit_nodes = problem.durations_s[np.ix_(loc, loc)] + service[:, None]
    cost_list = cost_nodes.tolist()
    transit_list = transit_nodes.tolist()

    def cost_callback(a: int, b: int) -> int:
        return cost_list[manager.IndexToNode(a)][manager.IndexToNode(b)]  # type: ignore[no-any-return]

    def transit_callback(a: int, b: int) -> int:
        return transit_list[manager.IndexToNode(a)][manager.IndexToNode(b)]  # type: ignore[no-any-return]

    cost_index = routing.RegisterTransitCallback(cost_callback)
    routing.SetArcCostEvaluatorOfAllVehicles(cost_index)
    for d in range(dims):
        demand = [0] * len(node_location)
        for k, (_, job) in enumerate(jobs):
            demand[first_job + k] = (job.delivery or job.pickup or (0,) * dims)[d]

        def demand_callback(a: int, demand: list[int] = demand) -> int:
            return int(demand[manager.IndexToNode(a)])

        index = routing.RegisterUnaryTransitCallback(demand_callback)
        routing.AddDimensionWithVehicleCapacity(
            index, 0, [v.capacity[d] for v in problem.vehicles], True, f"load{d}"
        )
    windows = [j.time_window for _, j in jobs] + [v.time_window for v in problem.vehicles]
    horizon = max(
        [w.end_s for w in windows if w is not None] + [int(transit_nodes.sum(axis=1).max())]
    )
    time_index = routing.RegisterTransitCallback(transit_callback)
    routing.AddDimension(time_index, horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for k, (_, job) in enumerate(jobs):
        if job.time_window is not None:
            time_dim.CumulVar(manager.NodeToIndex(first_job + k)).SetRange(
                job.time_window.start_s, job.time_window.end_s
            )
    for v, vehicle in enumerate(problem.vehicles):
        if vehicle.time_window is not None:
            time_dim.CumulVar(routing.Start(v)).SetRange(
                vehicle.time_window.start_s, vehicle.time_window.end_s
            )
            time_dim.CumulVar(routing.End(v)).SetRange(
                vehicle.time_window.start_s, vehicle.time_window.end_s
            )
    search = pywrapcp.DefaultRoutingSearchParameters()
    remaining = max(params.time_limit_s - (time.perf_counter() - started) - _OVERHEAD_S, 0.05)
    search.time_limit.FromMilliseconds(int(remaining * 1000))
    solution = routing.SolveWithParameters(search)
    routes: list[VehicleRoute] = []
    served: set[int] = set()
    if solution is not None:
        for v, vehicle in enumerate(problem.vehicles):
            index = solution.Value(routing.NextVar(routing.Start(v)))
            visits: list[_Visit] = []
            while not routing.IsEnd(index):
                position, job = jobs[manager.IndexToNode(index) - first_job]
                visits.append(_Visit("job", job.location_idx, position))
                served.add(position)
                index = solution.Value(routing.NextVar(index))
            if visits:
                departure = solution.Min(time_dim.CumulVar(routing.Start(v)))
                routes.append(_make_route(problem, vehicle, int(departure), visits))
    reason = (
        _unassigned_reason(
            problem, [t for t in _tasks(problem) if t.position not in dropped], params.time_limit_s
        )
        if solution is not None
        else f"{REASON_NOT_SERVED} ({params.time_limit_s:g} s): OR-Tools found no solution"
    )
    unassigned: list[UnassignedTask] = []
    for task in _tasks(problem):
        if task.position in dropped:
            unassigned += task.unassigned(dropped[task.position])
        elif task.position not in served:
            unassigned += task.unassigned(reason)
    return RoutePlan(
        routes=tuple(routes),
        unassigned=tuple(unassigned),
        cost=sum(r.cost for r in routes),
        engine="ortools",
        seed=params.seed,
        runtime_s=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def solve_routes(problem: RouteProblem, params: SolverParams | None = None) -> RoutePlan:
    """Route the fleet over the tasks; list every task that cannot be served with its reason.

    Parameters
    ----------
    problem
        Validated problem over matrix positions (integer seconds, integer costs).
    params
        Solver settings; default :class:`SolverParams` (10 s, seed 0, one worker, PyVRP).

    Returns
    -------
    RoutePlan
        Routes with per-step arrival, waiting, service and load, computed on the problem's own
        matrices, and an ``unassigned`` entry (with reason) for every task not routed. Tasks that
        no vehicle could serve even alone are reported without solving.

    Raises
    ------
    InvalidInputError
        If the chosen engine cannot model a feature the problem uses.
    """
    params = params if params is not None else SolverParams()
    started = time.perf_counter()
    dropped = explain_unservable_tasks(problem)
    if params.engine == "ortools":
        return _solve_with_ortools(problem, params, dropped, started)
    return _solve_with_pyvrp(problem, params, dropped, started)
