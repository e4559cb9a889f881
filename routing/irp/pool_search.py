"""The inventory-routing solver: a route-pool matheuristic around :mod:`routing.irp.route_mip`.

Design (docs/irp.md): the MIP chooses, for every period, routes from a pool and the quantities
(it moves a delivery a day earlier or later, merges two visits into one route, trades routing
against holding, all at once and exactly over the pool). The pool starts from runs of customers
consecutive by angle around the depot and from the baseline plan (so a feasible answer exists
from the start), and grows around the incumbent: each route with one customer dropped, with one
nearby customer inserted, pairs of routes of a period merged, and each period's visits re-routed
by PyVRP. Each step frees two or three periods (all of them when the MIP is small) and keeps the
incumbent's routes elsewhere, so HiGHS works on a neighbourhood it can search in seconds. With
at most ``EXACT_MAX_CUSTOMERS`` customers the pool is every subset with its optimal tour, and the
answer is a proven optimum when HiGHS closes the gap within the time limit.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from routing.irp._pyvrp_period import route_period
from routing.irp.baseline import solve_baseline
from routing.irp.checker import check_solution, route_cost
from routing.irp.instance import IrpInstance
from routing.irp.route_mip import MipResult, Route, all_subset_routes, solve_route_mip
from routing.irp.solution import IrpRoute, IrpSolution, IrpStop

EXACT_MAX_CUSTOMERS = 10


@dataclass(frozen=True, slots=True)
class IrpParams:
    """Settings of :func:`solve_irp`: wall-clock budget (s), seed, neighbours tried per route."""

    time_limit_s: float = 30.0
    seed: int = 0
    neighbours: int = 5

    def __post_init__(self) -> None:
        if not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s: {self.time_limit_s!r} must be positive")
        if self.neighbours < 1:
            raise ValueError(f"neighbours: {self.neighbours!r} must be at least 1")


def mip_solution(result: MipResult, *, extras: dict[str, object] | None = None) -> IrpSolution:
    """Turn the MIP's chosen routes and quantities into a solution (vehicles numbered 1..)."""
    routes = []
    for t, chosen in enumerate(result.periods):
        vehicle = 0
        for route, amounts in chosen:
            stops = tuple(IrpStop(c, q) for c, q in zip(route, amounts, strict=True) if q > 0)
            if stops:
                vehicle += 1
                routes.append(IrpRoute(t + 1, vehicle, stops))
    return IrpSolution(tuple(routes), extras=dict(extras or {}))


def two_opt(instance: IrpInstance, route: Route) -> Route:
    """Return ``route`` improved by 2-opt moves until none helps (depot at both ends)."""
    best = list(route)
    dist = instance.distances
    improved = True
    while improved and len(best) > 2:
        improved = False
        tour = [0, *best, 0]
        for a in range(len(tour) - 2):
            for b in range(a + 2, len(tour) - 1):
                delta = (
                    dist[tour[a], tour[b]]
                    + dist[tour[a + 1], tour[b + 1]]
                    - dist[tour[a], tour[a + 1]]
                    - dist[tour[b], tour[b + 1]]
                )
                if delta < 0:
                    tour[a + 1 : b + 1] = reversed(tour[a + 1 : b + 1])
                    improved = True
        best = tour[1:-1]
    return tuple(best)


def _insert(instance: IrpInstance, route: Route, customer: int) -> Route:
    """Insert ``customer`` where it adds the least travel."""
    tour = [0, *route, 0]
    dist = instance.distances
    costs = [
        dist[tour[k], customer] + dist[customer, tour[k + 1]] - dist[tour[k], tour[k + 1]]
        for k in range(len(tour) - 1)
    ]
    k = int(np.argmin(costs))
    return (*route[:k], customer, *route[k:])


class _Pool:
    """Routes keyed by their customer set (the cheapest order kept)."""

    def __init__(self, instance: IrpInstance) -> None:
        self.instance = instance
        self.routes: dict[frozenset[int], tuple[Route, int]] = {}

    def add(self, route: Iterable[int]) -> bool:
        ordered = two_opt(self.instance, tuple(route))
        if not ordered:
            return False
        key = frozenset(ordered)
        cost = route_cost(self.instance, ordered)
        known = self.routes.get(key)
        if known is not None and known[1] <= cost:
            return False
        self.routes[key] = (ordered, cost)
        return True

    def columns(self) -> list[tuple[Route, int]]:
        return list(self.routes.values())


def _grow(pool: _Pool, solution: IrpSolution, params: IrpParams, deadline: float) -> int:
    """Add the incumbent's neighbourhood to the pool; return how many routes are new."""
    instance = pool.instance
    nearest = np.argsort(instance.distances, axis=1)
    added = 0
    by_period: dict[int, list[IrpRoute]] = {}
    for route in solution.routes:
        by_period.setdefault(route.period, []).append(route)
    for period_routes in by_period.values():
        visited = {s.customer for r in period_routes for s in r.stops}
        for route in period_routes:
            customers = tuple(s.customer for s in route.stops)
            if len(customers) > 1:
                for drop in customers:
                    added += pool.add(c for c in customers if c != drop)
            near = [
                int(c)
                for member in customers
                for c in nearest[member, 1 : params.neighbours + 1]
                if int(c) != 0 and int(c) not in customers
            ]
            for extra in dict.fromkeys(near):
                added += pool.add(_insert(instance, customers, extra))
        for a, first in enumerate(period_routes):
            for second in period_routes[a + 1 :]:
                merged = [s.customer for s in first.stops] + [s.customer for s in second.stops]
                added += pool.add(merged)
        if time.monotonic() < deadline:
            in_period = sorted(visited)
            loads = [int(s.quantity_units) for r in period_routes for s in r.stops]
            order = [s.customer for r in period_routes for s in r.stops]
            by_customer = dict(zip(order, loads, strict=True))
            rerouted = route_period(
                instance,
                in_period,
                [by_customer[c] for c in in_period],
                time_limit_s=min(0.1, max(deadline - time.monotonic(), 0.05)),
                seed=params.seed,
            )
            for route_customers in rerouted or []:
                added += pool.add(route_customers)
    return added


def solve_irp(instance: IrpInstance, params: IrpParams | None = None) -> IrpSolution:
    """Plan deliveries and routes for the whole horizon within ``params.time_limit_s``.

    Instances with at most ``EXACT_MAX_CUSTOMERS`` customers go to the exact route-enumeration
    MIP first; ``extras["proven_optimal"]`` says whether HiGHS proved the optimum in time. Others
    (and exact runs that find nothing) run the pool matheuristic from the baseline plan.

    Returns
    -------
    IrpSolution
        The best feasible plan found, checked; when the instance leaves customers short even in
        the baseline, its shortfalls (and nothing better) are returned.
    """
    params = params or IrpParams()
    started = time.monotonic()
    deadline = started + params.time_limit_s
    if instance.num_customers <= EXACT_MAX_CUSTOMERS:
        exact = solve_route_mip(
            instance, all_subset_routes(instance), time_limit_s=params.time_limit_s * 0.9
        )
        if exact is not None:
            extras = {"solver": "exact-mip", "proven_optimal": exact.proven_optimal}
            if exact.proven_optimal:
                extras["lower_bound"] = round(exact.lower_bound, 4)
            return mip_solution(exact, extras=extras)
    budget = min(1.0, params.time_limit_s / (10 * instance.num_periods))
    best = solve_baseline(instance, time_limit_s=budget, seed=params.seed)
    if best.shortfalls:
        return best
    best_cost = check_solution(instance, best).total_cost
    pool = _Pool(instance)
    for seed_route in _sweep_routes(instance):
        pool.add(seed_route)
    rng = np.random.default_rng(params.seed)
    rounds = improved = 0
    while deadline - time.monotonic() > 0.2:
        rounds += 1
        for route in best.routes:
            pool.add(s.customer for s in route.stops)
        _grow(pool, best, params, deadline)
        columns = pool.columns()
        window = _window(instance.num_periods, len(columns), rng)
        fixed = _incumbent_choice(best, columns, instance.num_periods, window)
        left = deadline - time.monotonic()
        slice_s = min(left, max(2.0, params.time_limit_s / 5))
        result = solve_route_mip(instance, columns, time_limit_s=slice_s, fixed_choice=fixed)
        if result is None:
            continue
        candidate = mip_solution(result)
        check = check_solution(instance, candidate)
        if check.feasible and check.total_cost <= best_cost + 1e-6:
            improved += check.total_cost < best_cost - 1e-6
            best, best_cost = candidate, check.total_cost
    extras = {
        "solver": "pool-mip",
        "rounds": rounds,
        "improvements": improved,
        "pool_routes": len(pool.routes),
    }
    return IrpSolution(best.routes, best.shortfalls, extras)


def _sweep_routes(instance: IrpInstance, *, longest: int = 3) -> list[Route]:
    """Return seed routes: every run of up to ``longest`` customers consecutive by angle.

    A run stops growing when one period's consumption of its customers exceeds C; runs of
    neighbours by angle are the routes a good plan drives, one-customer runs included.
    """
    n = instance.num_customers
    angles = np.arctan2(instance.ys[1:] - instance.ys[0], instance.xs[1:] - instance.xs[0])
    order = [int(k) + 1 for k in np.argsort(angles, kind="stable")]
    demand = instance.demands_per_period_units
    routes = []
    for first in range(n):
        load, run = 0, list[int]()
        for step in range(min(longest, n)):
            customer = order[(first + step) % n]
            load += int(demand[customer])
            if run and load > instance.vehicle_capacity_units:
                break
            run.append(customer)
            routes.append(tuple(run))
    return routes


def _window(num_periods: int, num_columns: int, rng: np.random.Generator) -> range:
    """Return the periods left free in one step: all of them when the MIP is small, else 2-3."""
    if num_columns * num_periods <= 600:
        return range(num_periods)
    width = min(num_periods, int(rng.integers(2, 4)))
    first = int(rng.integers(0, num_periods - width + 1))
    return range(first, first + width)


def _incumbent_choice(
    solution: IrpSolution, columns: list[tuple[Route, int]], num_periods: int, free: range
) -> list[list[int] | None]:
    """Return the incumbent's pool positions per period, None for the periods left free."""
    position = {frozenset(route): k for k, (route, _) in enumerate(columns)}
    choice: list[list[int] | None] = [[] for _ in range(num_periods)]
    for route in solution.routes:
        chosen = choice[route.period - 1]
        assert chosen is not None
        chosen.append(position[frozenset(s.customer for s in route.stops)])
    for t in free:
        choice[t] = None
    return choice
