"""Check an inventory-routing solution against its instance and price it (the README's rules).

Order of events in period t: (1) the deliveries arrive, the depot ships them, and a customer then
holds at most U; (2) the depot produces r0 and every customer consumes r; (3) the end levels must
be: customer >= L, depot >= 0. Cost = routing (rounded Euclidean) + holding, where holding sums
h x end level over periods 1..T for the depot and every customer (initial stock not charged).
A plan may declare shortfalls (customer-periods below L, where the depot or the fleet cannot do
better): declared ones are scored, units x the customer's priority weight, not reported as
violations; a tank never holds negative stock (what it cannot serve is lost).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routing.irp.instance import IrpInstance
from routing.irp.solution import IrpRoute, IrpSolution


@dataclass(frozen=True, slots=True)
class IrpCheck:
    """What :func:`check_solution` found: the violations (empty when valid), costs, shortfalls.

    ``shortfalls`` lists every (period, customer, units below the floor) of the plan, declared
    or not; ``weighted_shortfall`` sums units x the customer's priority weight.
    """

    violations: tuple[str, ...]
    routing_cost: int
    holding_cost: float
    shortfalls: tuple[tuple[int, int, float], ...] = ()
    weighted_shortfall: float = 0.0

    @property
    def valid(self) -> bool:
        """Return whether the plan breaks no rule (its declared shortfalls are allowed)."""
        return not self.violations

    @property
    def feasible(self) -> bool:
        """Return whether the plan breaks no rule and keeps every tank at its floor."""
        return not self.violations and not self.shortfalls

    @property
    def shortfall_units(self) -> float:
        """Return the units below the floor summed over customers and periods."""
        return sum(missing for _, _, missing in self.shortfalls)

    @property
    def total_cost(self) -> float:
        """Return routing plus holding cost (meaningful only when valid)."""
        return self.routing_cost + self.holding_cost

    @property
    def score(self) -> tuple[float, float]:
        """Return (weighted shortfall, total cost): compare plans lexicographically, less first."""
        return (round(self.weighted_shortfall, 6), self.total_cost)


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
    capacity = instance.vehicle_capacity(route.vehicle)
    if route.load_units > capacity:
        found.append(f"{where}: load {route.load_units:g} exceeds the vehicle capacity {capacity}")
    limit = instance.max_route_duration
    if limit is not None and _indexable(instance, route):
        duration = instance.route_duration([s.customer for s in route.stops])
        if duration > limit:
            found.append(
                f"{where}: duration {duration} (travel and service) exceeds the maximum route "
                f"duration {limit}"
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


def simulate_levels(
    instance: IrpInstance, delivered: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Follow the tanks through the horizon for deliveries ``delivered[t, i]`` (t 0-based).

    A tank holds no negative stock: consumption it cannot serve is lost, so a tank that ran dry
    starts the next period empty. Consumption, production and fixed arrivals are the
    instance's per period (``demand_matrix``, ``arrival_matrix``). Units below the floor at
    period t are ``max(0, L - (level before + arrivals + delivery - r))``: how much more the
    tank would have needed.

    Returns
    -------
    tuple of numpy.ndarray
        ``after[t, i]`` the level after the delivery (depot: after shipping), ``end[t, i]`` the
        end-of-period level (customers clamped at 0; the depot after production, unclamped),
        ``missing[t, i]`` the units below the floor (0 for the depot).
    """
    periods, size = instance.num_periods, instance.num_customers + 1
    levels = instance.initial_levels_units.astype(np.float64).copy()
    demands, arrivals = instance.demand_matrix, instance.arrival_matrix
    floors, top = instance.min_levels_units, instance.max_levels_units
    after = np.zeros((periods, size))
    end = np.zeros((periods, size))
    missing = np.zeros((periods, size))
    for t in range(periods):
        # A fixed arrival fills the tank up to U at most (the rest is not delivered).
        arrived = np.minimum(levels[1:] + arrivals[t, 1:], np.maximum(top[1:], levels[1:]))
        after[t, 1:] = arrived + delivered[t, 1:]
        after[t, 0] = levels[0] - delivered[t, 1:].sum()
        unclamped = after[t, 1:] - demands[t, 1:]
        missing[t, 1:] = np.maximum(floors[1:] - unclamped, 0.0)
        levels[1:] = np.maximum(unclamped, 0.0)
        levels[0] = after[t, 0] + demands[t, 0]
        end[t] = levels
    return after, end, missing


def _declared(
    instance: IrpInstance, solution: IrpSolution, violations: list[str]
) -> dict[tuple[int, int], float]:
    declared: dict[tuple[int, int], float] = {}
    for k, short in enumerate(solution.shortfalls):
        if not (
            1 <= short.period <= instance.num_periods
            and 1 <= short.customer <= instance.num_customers
        ):
            violations.append(
                f"shortfall {k}: period {short.period}, customer {short.customer} is not a "
                "customer-period of the instance"
            )
            continue
        key = (short.period, short.customer)
        declared[key] = declared.get(key, 0) + short.missing_units
    return declared


def check_solution(instance: IrpInstance, solution: IrpSolution) -> IrpCheck:
    """Check every rule of the benchmark and compute the cost of a solution.

    Checks: periods, vehicles and customers in range; at most one route per vehicle and period;
    integer non-negative quantities; route load <= the vehicle's capacity (C, or its own in
    ``vehicle_capacities_units``); route duration (travel and service) <= ``max_route_duration``
    when set; a customer visited at most once per period; level after delivery <= U;
    end-of-period level >= L unless the plan declares that shortfall (``solution.shortfalls``,
    the units exactly as the plan leaves them); depot end level (after production) >= 0. A tank
    that runs dry starts the next period empty (:func:`simulate_levels`).

    Returns
    -------
    IrpCheck
        Every violation found (one line each, naming the period, customer or route), the
        routing and holding costs, every shortfall and their sum weighted by the customers'
        priorities. It never raises on a bad solution: it reports.
    """
    violations: list[str] = []
    delivered, routing = _deliveries(instance, solution, violations)
    declared = _declared(instance, solution, violations)
    after, end, missing = simulate_levels(instance, delivered)
    top, floors, weights = instance.max_levels_units, instance.min_levels_units, instance.weights
    shortfalls: list[tuple[int, int, float]] = []
    for t in range(instance.num_periods):
        period = t + 1
        for over in np.flatnonzero(after[t, 1:] > top[1:]) + 1:
            violations.append(
                f"period {period}, customer {over}: level after delivery {after[t, over]:g} "
                f"exceeds the maximum level U = {top[over]}"
            )
        for i in range(1, instance.num_customers + 1):
            short, said = float(missing[t, i]), declared.get((period, i), 0)
            if short > 0:
                shortfalls.append((period, i, short))
            if short > 0 and said == 0:
                violations.append(
                    f"period {period}, customer {i}: end level {floors[i] - short:g} is below "
                    f"the minimum level L = {floors[i]}"
                )
            elif said != short:
                violations.append(
                    f"period {period}, customer {i}: the plan declares a shortfall of {said:g} "
                    f"but leaves the tank {short:g} below the minimum level L = {floors[i]}"
                )
        if end[t, 0] < 0:
            production = instance.demand_matrix[t, 0]
            violations.append(
                f"period {period}, depot: end level {end[t, 0]:g} is negative (shipped "
                f"{delivered[t, 1:].sum():g} with production {production})"
            )
    holding = float((end @ instance.holding_costs_per_unit_period).sum())
    weighted = sum(float(weights[i]) * short for _, i, short in shortfalls)
    return IrpCheck(tuple(violations), routing, holding, tuple(shortfalls), weighted)
