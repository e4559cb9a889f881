"""The OR-Tools routing baseline of the VRP benchmark: its default search on our problem.

Supports capacities, time windows and depots, not skills, shipments, reloads, open routes,
travel-time or distance limits, vehicle costs or speed factors; a problem using one is refused.
It leaves everything unassigned when it finds no solution. Used by ``benchmarks/bench_vrp.py``;
oxyroute itself routes with PyVRP only (:func:`routing.vehicle_routes.solve_routes`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from data.errors import InvalidInputError
from data.schema.routes import DEFAULT_COST_PER_HOUR, Job, RoutePlan, RouteProblem, VehicleRoute
from routing._route_plan import Visit, list_unassigned, make_route
from routing._route_tasks import list_tasks
from routing._unservable import unassigned_reason
from routing.vehicle_routes import REASON_NOT_SERVED, explain_unservable_tasks

# Time kept back from the budget for building the model and writing the plan (as oxyroute does).
_OVERHEAD_S = 0.25


def _unsupported(problem: RouteProblem) -> list[str]:
    """Return the features of the problem the baseline does not model, sorted."""
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
    return sorted(set(unsupported))


@dataclass(frozen=True, slots=True)
class _Model:
    """OR-Tools' routing model with its index manager, time dimension and job nodes."""

    manager: Any
    routing: Any
    time_dim: Any
    jobs: list[tuple[int, Job]]  # (task position, job) of node first_job + k
    first_job: int


def _build_model(problem: RouteProblem, jobs: list[tuple[int, Job]]) -> _Model:
    """Build the model: a start and an end node per vehicle, then one node per job."""
    from ortools.constraint_solver import pywrapcp

    n_vehicles = len(problem.vehicles)
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
    cost_list = problem.cost_matrix[np.ix_(loc, loc)].tolist()

    def cost_callback(a: int, b: int) -> int:
        return cost_list[manager.IndexToNode(a)][manager.IndexToNode(b)]  # type: ignore[no-any-return]

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(cost_callback))
    model = _Model(manager, routing, None, jobs, first_job)
    _add_loads(problem, model, len(node_location))
    return _Model(manager, routing, _add_times(problem, model, loc), jobs, first_job)


def _add_loads(problem: RouteProblem, model: _Model, num_nodes: int) -> None:
    """Add one capacity dimension per load dimension (a job's delivery, else its pickup)."""
    dims = problem.num_dimensions
    for d in range(dims):
        demand = [0] * num_nodes
        for k, (_, job) in enumerate(model.jobs):
            demand[model.first_job + k] = (job.delivery or job.pickup or (0,) * dims)[d]

        def demand_callback(a: int, demand: list[int] = demand) -> int:
            return int(demand[model.manager.IndexToNode(a)])

        index = model.routing.RegisterUnaryTransitCallback(demand_callback)
        model.routing.AddDimensionWithVehicleCapacity(
            index, 0, [v.capacity[d] for v in problem.vehicles], True, f"load{d}"
        )


def _add_times(problem: RouteProblem, model: _Model, loc: Any) -> Any:
    """Add the time dimension (travel plus service) with the job and shift windows."""
    manager, routing = model.manager, model.routing
    service = np.zeros(len(loc), dtype=np.int64)
    for k, (_, job) in enumerate(model.jobs):
        service[model.first_job + k] = job.service_s
    transit_nodes = problem.durations_s[np.ix_(loc, loc)] + service[:, None]
    transit_list = transit_nodes.tolist()

    def transit_callback(a: int, b: int) -> int:
        return transit_list[manager.IndexToNode(a)][manager.IndexToNode(b)]  # type: ignore[no-any-return]

    windows = [j.time_window for _, j in model.jobs] + [v.time_window for v in problem.vehicles]
    horizon = max(
        [w.end_s for w in windows if w is not None] + [int(transit_nodes.sum(axis=1).max())]
    )
    time_index = routing.RegisterTransitCallback(transit_callback)
    routing.AddDimension(time_index, horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for k, (_, job) in enumerate(model.jobs):
        if job.time_window is not None:
            time_dim.CumulVar(manager.NodeToIndex(model.first_job + k)).SetRange(
                job.time_window.start_s, job.time_window.end_s
            )
    for v, vehicle in enumerate(problem.vehicles):
        if vehicle.time_window is not None:
            for index in (routing.Start(v), routing.End(v)):
                time_dim.CumulVar(index).SetRange(
                    vehicle.time_window.start_s, vehicle.time_window.end_s
                )
    return time_dim


def _routes(
    problem: RouteProblem, model: _Model, solution: Any
) -> tuple[list[VehicleRoute], set[int]]:
    """Read the solution's routes, scheduled by oxyroute's own plan builder; and the jobs served."""
    routing = model.routing
    routes: list[VehicleRoute] = []
    served: set[int] = set()
    for v, vehicle in enumerate(problem.vehicles):
        index = solution.Value(routing.NextVar(routing.Start(v)))
        visits: list[Visit] = []
        while not routing.IsEnd(index):
            position, job = model.jobs[model.manager.IndexToNode(index) - model.first_job]
            visits.append(Visit("job", job.location_idx, position))
            served.add(position)
            index = solution.Value(routing.NextVar(index))
        if visits:
            departure = solution.Min(model.time_dim.CumulVar(routing.Start(v)))
            routes.append(make_route(problem, vehicle, int(departure), visits))
    return routes, served


def solve_with_ortools(
    problem: RouteProblem, *, time_limit_s: float = 10.0, seed: int = 0
) -> RoutePlan:
    """Route the fleet with OR-Tools' default search within ``time_limit_s`` seconds.

    ``seed`` is only recorded in the plan (OR-Tools' default search takes none).

    Raises
    ------
    InvalidInputError
        If the problem uses a feature the baseline does not model; the message lists them.
    """
    from ortools.constraint_solver import pywrapcp

    started = time.perf_counter()
    found = _unsupported(problem)
    if found:
        raise InvalidInputError(
            f"engine 'ortools' does not support {found}; use engine 'pyvrp'", found
        )
    dropped = explain_unservable_tasks(problem)
    jobs = [(p, j) for p, j in enumerate(problem.jobs) if p not in dropped]
    model = _build_model(problem, jobs)
    search = pywrapcp.DefaultRoutingSearchParameters()
    remaining = max(time_limit_s - (time.perf_counter() - started) - _OVERHEAD_S, 0.05)
    search.time_limit.FromMilliseconds(int(remaining * 1000))
    solution = model.routing.SolveWithParameters(search)
    routes, served = _routes(problem, model, solution) if solution is not None else ([], set())
    pending = [t for t in list_tasks(problem) if t.position not in dropped]
    reason = (
        unassigned_reason(problem, pending, time_limit_s)
        if solution is not None
        else f"{REASON_NOT_SERVED} ({time_limit_s:g} s): OR-Tools found no solution"
    )
    return RoutePlan(
        routes=tuple(routes),
        unassigned=tuple(list_unassigned(problem, dropped, served, reason)),
        cost=sum(r.cost for r in routes),
        engine="ortools",
        seed=seed,
        runtime_s=time.perf_counter() - started,
    )
