"""Polish an inventory-routing plan with route-pool MIPs (:mod:`routing.irp.route_mip`).

The MIP chooses, for the periods left free, routes from a pool and, for all periods, the
quantities: it moves a delivery a day earlier or later, merges two visits into one route and
trades routing against holding at once, exactly over the pool. The pool starts from runs of
customers consecutive by angle around the depot and the incumbent's routes, and grows around the
incumbent: each route with one customer dropped, with one nearby customer inserted, pairs of
routes of a period merged, and each period's visits re-routed by PyVRP. Each step frees two or
three periods (all of them when the MIP is small) and keeps the incumbent's routes elsewhere, so
HiGHS searches a neighbourhood it can cover in seconds. Design and figures: docs/irp.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from routing.irp._pyvrp_period import route_period
from routing.irp.checker import check_solution, route_cost
from routing.irp.instance import IrpInstance
from routing.irp.route_mip import Route, mip_solution, solve_route_mip
from routing.irp.solution import IrpRoute, IrpSolution
from routing.irp.tours import cheapest_insertion, two_opt

if TYPE_CHECKING:
    from routing.irp.solver import IrpParams


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
                added += pool.add(cheapest_insertion(instance, customers, extra))
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


def polish_with_pool(
    instance: IrpInstance, start: IrpSolution, *, deadline: float, params: IrpParams
) -> IrpSolution:
    """Improve a feasible plan by route-pool MIPs over windows of periods until ``deadline``.

    Returns
    -------
    IrpSolution
        The best plan found, never worse than ``start`` as the checker prices it.
    """
    best = start
    best_cost = check_solution(instance, best).total_cost
    pool = _Pool(instance)
    for seed_route in _sweep_routes(instance):
        pool.add(seed_route)
    rng = np.random.default_rng(params.seed)
    rounds = improved = 0
    while deadline - time.monotonic() > 0.5:
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
    extras = {"pool_rounds": rounds, "pool_improvements": improved, "pool_routes": len(pool.routes)}
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
