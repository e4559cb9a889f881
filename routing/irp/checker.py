"""Check an inventory-routing solution against its instance and price it (the README's rules).

Order of events in period t: (1) the deliveries arrive, the depot ships them, and a customer then
holds at most U; (2) the depot produces r0 and every customer consumes r; (3) the end levels must
be: customer >= L, depot >= 0. Cost = routing (rounded Euclidean) + holding, where holding sums
h x end level over periods 1..T for the depot and every customer (initial stock not charged).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routing.irp.instance import IrpInstance
from routing.irp.solution import IrpRoute, IrpSolution


@dataclass(frozen=True, slots=True)
class IrpCheck:
    """What :func:`check_solution` found: the violations (empty when feasible) and the costs."""

    violations: tuple[str, ...]
    routing_cost: int
    holding_cost: float

    @property
    def feasible(self) -> bool:
        """Return whether the solution breaks no rule."""
        return not self.violations

    @property
    def total_cost(self) -> float:
        """Return routing plus holding cost (meaningful only when feasible)."""
        return self.routing_cost + self.holding_cost


def _route_violations(instance: IrpInstance, route: IrpRoute, where: str) -> list[str]:
    found = []
    if not 1 <= route.period <= instance.num_periods:
        found.append(f"{where}: period {route.period} is outside 1..{instance.num_periods}")
    if not 1 <= route.vehicle <= instance.num_vehicles:
        found.append(f"{where}: vehicle {route.vehicle} is outside 1..{instance.num_vehicles}")
    for stop in route.stops:
        if not 1 <= stop.customer <= instance.num_customers:
            found.append(
                f"{where}: customer {stop.customer} is outside 1..{instance.num_customers}"
            )
        q = stop.quantity_units
        if q < 0 or q != int(q):
            found.append(
                f"{where}: quantity {q:g} for customer {stop.customer} is not a non-negative "
                "whole number"
            )
    if route.load_units > instance.vehicle_capacity_units:
        found.append(
            f"{where}: load {route.load_units:g} exceeds the vehicle capacity "
            f"{instance.vehicle_capacity_units}"
        )
    return found


def _indexable(instance: IrpInstance, route: IrpRoute) -> bool:
    return 1 <= route.period <= instance.num_periods and all(
        1 <= stop.customer <= instance.num_customers for stop in route.stops
    )


def route_cost(instance: IrpInstance, customers: list[int] | tuple[int, ...]) -> int:
    """Return the travel cost of a depot-to-depot route through ``customers`` in that order."""
    if not customers:
        return 0
    stops = [0, *customers, 0]
    return int(instance.distances[stops[:-1], stops[1:]].sum())


def _deliveries(
    instance: IrpInstance, solution: IrpSolution, violations: list[str]
) -> tuple[np.ndarray, int]:
    """Return deliveries[t, i] (t 0-based) and the routing cost; record route-level violations."""
    n, periods = instance.num_customers, instance.num_periods
    delivered = np.zeros((periods, n + 1), dtype=np.float64)
    visits: dict[tuple[int, int], int] = {}
    seen_vehicles: set[tuple[int, int]] = set()
    cost = 0
    for k, route in enumerate(solution.routes):
        where = f"route {k} (period {route.period}, vehicle {route.vehicle})"
        found = _route_violations(instance, route, where)
        violations.extend(found)
        if (route.period, route.vehicle) in seen_vehicles:
            violations.append(f"{where}: the vehicle already has a route in this period")
        seen_vehicles.add((route.period, route.vehicle))
        if not _indexable(instance, route):
            continue  # its levels cannot be followed; the violation above says why
        cost += route_cost(instance, [s.customer for s in route.stops])
        for stop in route.stops:
            key = (route.period, stop.customer)
            visits[key] = visits.get(key, 0) + 1
            if visits[key] == 2:
                violations.append(
                    f"customer {stop.customer} is visited more than once in period {route.period}"
                )
            delivered[route.period - 1, stop.customer] += stop.quantity_units
    return delivered, cost


def check_solution(instance: IrpInstance, solution: IrpSolution) -> IrpCheck:
    """Check every rule of the benchmark and compute the cost of a solution.

    Checks: periods, vehicles and customers in range; at most one route per vehicle and period;
    integer non-negative quantities; route load <= C; a customer visited at most once per period;
    level after delivery <= U; end-of-period level >= L; depot end level (after production) >= 0.

    Returns
    -------
    IrpCheck
        Every violation found (one line each, naming the period, customer or route) and the
        routing and holding costs. It never raises on a bad solution: it reports.
    """
    violations: list[str] = []
    delivered, routing = _deliveries(instance, solution, violations)
    levels = instance.initial_levels_units.astype(np.float64).copy()
    demands = instance.demands_per_period_units
    holding = 0.0
    for t in range(instance.num_periods):
        period = t + 1
        shipped = delivered[t, 1:].sum()
        after = levels[1:] + delivered[t, 1:]
        for i in np.flatnonzero(after > instance.max_levels_units[1:]) + 1:
            violations.append(
                f"period {period}, customer {i}: level after delivery {after[i - 1]:g} exceeds "
                f"the maximum level U = {instance.max_levels_units[i]}"
            )
        levels[1:] = after - demands[1:]
        levels[0] = levels[0] - shipped + demands[0]
        for i in np.flatnonzero(levels[1:] < instance.min_levels_units[1:]) + 1:
            violations.append(
                f"period {period}, customer {i}: end level {levels[i]:g} is below the minimum "
                f"level L = {instance.min_levels_units[i]}"
            )
        if levels[0] < 0:
            violations.append(
                f"period {period}, depot: end level {levels[0]:g} is negative (shipped "
                f"{shipped:g} with production {demands[0]})"
            )
        holding += float(instance.holding_costs_per_unit_period @ levels)
    return IrpCheck(tuple(violations), routing, holding)
