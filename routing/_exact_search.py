"""Solve tiny problems exactly: every subset of tasks on every vehicle, shared out optimally."""

from __future__ import annotations

import itertools
import math
from typing import Any

from routing._pyvrp_model import PyvrpModel
from routing._pyvrp_routes import RawRoute, pyvrp_cost, raw_route, task_visits, visit_orders

EXACT_MAX_VISITS = 8
EXACT_MAX_EVALUATIONS = 100_000
EVALUATION_S = 5e-6  # one visit order generated and, if valid, evaluated by PyVRP (measured 4 us)
# Problems with at most this many visits (a job is one, a shipment two), and at most this many
# visit orders to generate over all vehicle types, are solved by enumeration instead of the
# search: 0.44 s at the most (100,000 orders, about 4 us each; 7 jobs on one vehicle type 0.06 s,
# 8 jobs are left to the search), where the search spent its whole time limit (10 s by default)
# and, on 1,126 fuzzed problems of up to 6 visits, left 5 with less priority-weighted work served
# and 2 at a higher cost than the optimum (it never merges some routes with shipments).

_Alternatives = list[list[Any]]  # a task's alternative visit lists (a job: one per window)


def _count_evaluations(members: dict[int, list[_Alternatives]], num_vehicle_types: int) -> int:
    """Return how many visit orders the enumeration generates over all vehicle types."""
    evaluations = 0
    for chosen in members.values():
        visits = sum(len(alternatives[0]) for alternatives in chosen)
        evaluations += math.prod(len(a) for a in chosen) * math.factorial(visits)
    return evaluations * num_vehicle_types


def _cheapest_routes(
    data: Any, vehicle_type: int, members: dict[int, list[_Alternatives]]
) -> dict[int, tuple[int, Any]]:
    """Return the cheapest feasible route of a vehicle type for each subset of tasks (a mask)."""
    import pyvrp

    table: dict[int, tuple[int, Any]] = {}
    for mask, chosen in members.items():
        for alternative in itertools.product(*chosen):
            for order in visit_orders([visit for visits in alternative for visit in visits]):
                route = pyvrp.Route(data, order, vehicle_type)
                if route.is_feasible():
                    cost = pyvrp_cost(route)
                    if mask not in table or cost < table[mask][0]:
                        table[mask] = (cost, route)
    return table


def _share_among_vehicles(
    data: Any, best: list[dict[int, tuple[int, Any]]], n_tasks: int
) -> dict[int, tuple[int, list[Any]]]:
    """Share the subsets among the vehicles: a dynamic programme, tasks used -> (cost, routes)."""
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
    return plans


def solve_exactly(model: PyvrpModel, time_limit_s: float) -> list[RawRoute] | None:
    """Solve a tiny problem by enumeration; ``None`` when it is too large or has reloads.

    Too large: more than ``EXACT_MAX_VISITS`` visits, or more than ``EXACT_MAX_EVALUATIONS``
    visit orders to generate over all vehicle types, or more than ``time_limit_s`` at
    ``EVALUATION_S`` each.

    Every subset of tasks is tried on every vehicle type, in every visit order (each job at each
    of its time windows), each route evaluated by PyVRP itself (feasibility, costs); then the
    subsets are shared among the vehicles (a dynamic programme over the tasks left) for the most
    priority-weighted tasks served (as the search's prizes weigh them), then the least cost.
    """
    data = model.partial
    if any(vt.reload_depots for vt in data.vehicle_types()):
        return None
    # Each task: its prize (the search's weight of it) and its alternative visit lists.
    tasks = task_visits(data)
    n_tasks = len(tasks)
    if sum(len(alternatives[0]) for _, alternatives in tasks) > EXACT_MAX_VISITS:
        return None
    subsets = range(1, 1 << n_tasks)
    members = {mask: [tasks[k][1] for k in range(n_tasks) if mask >> k & 1] for mask in subsets}
    evaluations = _count_evaluations(members, data.num_vehicle_types)
    if evaluations > EXACT_MAX_EVALUATIONS or evaluations * EVALUATION_S > time_limit_s:
        return None
    best = [_cheapest_routes(data, t, members) for t in range(data.num_vehicle_types)]
    plans = _share_among_vehicles(data, best, n_tasks)

    def weight(mask: int) -> int:
        return sum(tasks[k][0] for k in range(n_tasks) if mask >> k & 1)

    chosen_mask = min(plans, key=lambda mask: (-weight(mask), plans[mask][0], mask))
    return [raw_route(route) for route in plans[chosen_mask][1]]
