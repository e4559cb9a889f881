"""Polish a search's routes: insert the tasks it left out, reorder short routes exactly."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from routing._pyvrp_routes import pyvrp_cost, route_visits, task_visits, visit_orders

POLISH_SHARE = 0.05
POLISH_MAX_S = 0.25
# Time kept after the search for inserting left-out tasks and reordering short routes (700 jobs
# on 100 vehicles of 7: reordering every route took 2.4 s before it was bounded by this).

INSERTION_MAX_EVALUATIONS = 20_000
# Candidate routes tried when inserting the tasks a search left out (about 0.1 s).

EXACT_ORDER_MAX_VISITS = 6
# Routes of at most this many visits (720 orders, about 3.5 ms) are reordered exactly after the
# search (7 visits, 5,040 orders, took 24 ms a route).


@dataclass(slots=True)
class _Fleet:
    """The routes being polished, their visits and vehicle types, and the vehicles in use."""

    routes: list[Any]
    visits: list[list[Any]]
    vehicle_types: list[int]
    used: list[int]  # routes per vehicle type
    budget: int  # candidate routes still to evaluate
    spent: bool = field(default=False)  # the budget ran out

    def slots(self, data: Any) -> list[int]:
        """Return the candidate routes: each route, and -1 - t for an unused vehicle of type t."""
        slots = list(range(len(self.routes)))
        slots += [
            -1 - t
            for t in range(data.num_vehicle_types)
            if self.used[t] < data.vehicle_type(t).num_available
        ]
        return slots

    def place(self, slot: int, route: Any, visits: list[Any]) -> None:
        """Replace route ``slot``, or start a route on a vehicle of type ``-1 - slot``."""
        if slot >= 0:
            self.routes[slot], self.visits[slot] = route, visits
        else:
            self.routes.append(route)
            self.visits.append(visits)
            self.vehicle_types.append(-1 - slot)
            self.used[-1 - slot] += 1


def _cheapest_insertion(
    data: Any, fleet: _Fleet, alternatives: list[list[Any]]
) -> tuple[int, int, Any, list[Any]] | None:
    """Return the feasible placement of a task that adds least cost: (extra, slot, route, visits).

    Sets ``fleet.spent`` and returns ``None`` when the evaluation budget runs out.
    """
    import pyvrp

    best: tuple[int, int, Any, list[Any]] | None = None
    for slot in fleet.slots(data):
        if slot >= 0:
            base, vehicle_type = fleet.visits[slot], fleet.vehicle_types[slot]
            base_cost = pyvrp_cost(fleet.routes[slot])
        else:
            base, vehicle_type, base_cost = [], -1 - slot, 0
        for alternative in alternatives:
            for placed in _insertions(base, alternative):
                fleet.budget -= 1
                if fleet.budget < 0:
                    fleet.spent = True
                    return None
                candidate = pyvrp.Route(data, placed, vehicle_type)
                if candidate.is_feasible():
                    extra = pyvrp_cost(candidate) - base_cost
                    if best is None or extra < best[0]:
                        best = (extra, slot, candidate, placed)
    return best


def insert_left_out(
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
    visits = [route_visits(route) for route in routes]
    vehicle_types = [int(r.vehicle_type()) for r in routes]
    served = {(a.is_client(), a.idx) for route in visits for a in route}
    options = [  # prize, alternative visit lists of each task left out
        (prize, alternatives)
        for prize, alternatives in task_visits(data)
        if not any((a.is_client(), a.idx) in served for a in itertools.chain(*alternatives))
    ]
    if not options:
        return routes
    options.sort(key=lambda option: -option[0])
    used = [0] * data.num_vehicle_types
    for vehicle_type in vehicle_types:
        used[vehicle_type] += 1
    fleet = _Fleet(list(routes), visits, vehicle_types, used, budget)
    for _, alternatives in options:
        if time.perf_counter() >= until:
            break
        best = _cheapest_insertion(data, fleet, alternatives)
        if fleet.spent:
            break
        if best is not None:
            _, slot, candidate, placed = best
            fleet.place(slot, candidate, placed)
    return fleet.routes


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


def best_order(data: Any, route: Any) -> Any:
    """Return the cheapest feasible order of a short route's visits (the route itself if none).

    PyVRP's operators can leave a short route with shipments in a worse order than one a single
    move away for a human (fuzzing found plans 4 % above the brute-force optimum on 5 visits).
    Routes of up to ``EXACT_ORDER_MAX_VISITS`` visits without reloads are therefore tried in
    every order that keeps each pickup before its delivery, each evaluated by PyVRP itself
    (feasibility, distance and duration costs); the vehicle and its visits stay the same.
    """
    import pyvrp

    visits = route_visits(route)
    if len(visits) < 2 or len(visits) > EXACT_ORDER_MAX_VISITS:
        return route
    if any(visit.is_depot() for visit in visits):
        return route
    vehicle_type = route.vehicle_type()
    best, best_cost = route, pyvrp_cost(route)
    for order in visit_orders(visits):
        candidate = pyvrp.Route(data, order, vehicle_type)
        if candidate.is_feasible() and pyvrp_cost(candidate) < best_cost:
            best, best_cost = candidate, pyvrp_cost(candidate)
    return best
