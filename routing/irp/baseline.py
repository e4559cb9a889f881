"""The baseline inventory-routing plan: refill a tank when it would run below its floor, then route.

Period by period: a customer whose level would end the period below L without a delivery gets one
that fills it up to U (capped by a vehicle's capacity and by what the depot holds after
production; the customers of highest priority weight first, then the most urgent); then the
period's deliveries are routed by PyVRP in at most K routes. When the loads do not fit in K
vehicles, the quantities are cut back to what each customer needs to stay at L, and if even that
does not fit (or the depot runs short), what each customer misses is listed as a shortfall with
its reason, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routing.irp._pyvrp_period import route_period_fleet
from routing.irp.instance import IrpInstance
from routing.irp.solution import IrpRoute, IrpShortfall, IrpSolution, IrpStop


@dataclass(frozen=True, slots=True)
class _Need:
    customer: int
    minimum: int  # to end the period at L
    fill: int  # to reach U after delivery


def _needs(instance: IrpInstance, levels: np.ndarray, demand: np.ndarray) -> list[_Need]:
    """Return the customers that need a delivery now: highest priority, then emptiest, first.

    ``levels`` are the tanks' after this period's fixed arrivals, ``demand`` the period's use.
    """
    floor = instance.min_levels_units
    top = instance.max_levels_units
    needs = []
    for i in range(1, instance.num_customers + 1):
        if levels[i] - demand[i] < floor[i]:
            needs.append(_Need(i, int(floor[i] + demand[i] - levels[i]), int(top[i] - levels[i])))
    weights = instance.weights
    return sorted(
        needs,
        key=lambda need: (
            -weights[need.customer],
            levels[need.customer] / max(demand[need.customer], 1),
        ),
    )


def _plan_quantities(instance: IrpInstance, needs: list[_Need], stock: int) -> dict[int, int]:
    """Return the quantity per customer for this period, within the depot's stock and C.

    In the needs' order, each customer gets what keeps it at L (at most C, at most what the depot
    still holds: a part when that is all there is); then each is topped up towards U.
    """
    cap = instance.largest_capacity_units
    quantities: dict[int, int] = {}
    for need in needs:
        minimum = min(need.minimum, cap, stock)
        if minimum > 0:
            quantities[need.customer] = minimum
            stock -= minimum
    for need in needs:  # top up to U with what the depot still holds
        if need.customer in quantities:
            extra = min(min(need.fill, cap) - quantities[need.customer], stock)
            quantities[need.customer] += extra
            stock -= extra
    return quantities


def _too_far(instance: IrpInstance, customer: int) -> bool:
    """Return whether a route to ``customer`` alone exceeds the route-duration limit."""
    limit = instance.max_route_duration
    return limit is not None and instance.route_duration([customer]) > limit


def _shortfalls(
    instance: IrpInstance,
    needs: list[_Need],
    quantities: dict[int, int],
    dropped: list[int],
    t: int,
) -> list[IrpShortfall]:
    """Return what each needing customer misses after this period's deliveries, and why."""
    found = []
    for need in needs:
        missing = need.minimum - quantities.get(need.customer, 0)
        if missing <= 0:
            continue
        if _too_far(instance, need.customer):
            reason = "duration"
        elif need.customer in dropped:
            reason = "fleet"
        elif need.minimum > instance.largest_capacity_units:
            reason = "capacity"
        else:
            reason = "depot"
        found.append(IrpShortfall(t + 1, need.customer, missing, reason))
    return found


def _route_or_cut(
    instance: IrpInstance,
    quantities: dict[int, int],
    needs: dict[int, _Need],
    *,
    time_limit_s: float,
    seed: int,
    max_iterations: int | None,
) -> tuple[list[tuple[int, tuple[int, ...]]], dict[int, int], list[int]]:
    """Route the period; cut loads to the minimum, then drop customers, until it fits.

    Routes come as ``(vehicle 1..K, customers in order)``.
    """
    customers = list(quantities)
    routes = route_period_fleet(
        instance,
        customers,
        [quantities[c] for c in customers],
        time_limit_s=time_limit_s,
        seed=seed,
        max_iterations=max_iterations,
    )
    if routes is not None:
        return routes, quantities, []
    quantities = {c: min(quantities[c], needs[c].minimum) for c in customers}
    dropped: list[int] = []
    while customers:
        loads = [quantities[c] for c in customers]
        routes = route_period_fleet(
            instance,
            customers,
            loads,
            time_limit_s=time_limit_s,
            seed=seed,
            max_iterations=max_iterations,
        )
        if routes is not None:
            return routes, {c: quantities[c] for c in customers}, dropped
        dropped.append(customers.pop())  # the least urgent customer goes first
    return [], {}, dropped


def solve_baseline(
    instance: IrpInstance,
    *,
    time_limit_s: float = 1.0,
    seed: int = 0,
    max_iterations: int | None = None,
) -> IrpSolution:
    """Plan the horizon with the refill-when-needed rule, routing each period with PyVRP.

    Parameters
    ----------
    time_limit_s
        PyVRP's budget per period (and per retry when the loads do not fit).
    seed
        PyVRP's seed.
    max_iterations
        When given, PyVRP stops after this many iterations per period instead of on
        ``time_limit_s``, so the same seed gives the same plan whatever the machine's load.

    Returns
    -------
    IrpSolution
        The routes and, when the depot's stock or the fleet could not cover a customer, its
        shortfalls (period, customer, missing units, reason ``"depot"``, ``"capacity"``,
        ``"fleet"``, or ``"duration"`` for a customer no route reaches within
        ``max_route_duration``).
    """
    levels = instance.initial_levels_units.astype(np.int64).copy()
    top = instance.max_levels_units
    arrivals = instance.arrival_matrix
    routes: list[IrpRoute] = []
    shortfalls: list[IrpShortfall] = []
    for t in range(instance.num_periods):
        demand = instance.demand_matrix[t]
        # Fixed arrivals come first, up to U (checker.simulate_levels).
        levels[1:] = np.minimum(levels[1:] + arrivals[t, 1:], np.maximum(top[1:], levels[1:]))
        stock = int(levels[0] + demand[0])
        needs = _needs(instance, levels, demand)
        quantities = _plan_quantities(
            instance, [n for n in needs if not _too_far(instance, n.customer)], stock
        )
        by_customer = {need.customer: need for need in needs}
        period_routes, quantities, dropped = _route_or_cut(
            instance,
            quantities,
            by_customer,
            time_limit_s=time_limit_s,
            seed=seed,
            max_iterations=max_iterations,
        )
        shortfalls.extend(_shortfalls(instance, needs, quantities, dropped, t))
        for vehicle, customers in period_routes:
            stops = tuple(IrpStop(c, quantities[c]) for c in customers)
            routes.append(IrpRoute(t + 1, vehicle, stops))
        for customer, quantity in quantities.items():
            levels[customer] += quantity
            levels[0] -= quantity
        # A tank holds no negative stock: what it cannot serve is lost (checker.simulate_levels).
        levels[1:] = np.maximum(levels[1:] - demand[1:], 0)
        levels[0] += demand[0]
    extras = {"solver": "baseline"}
    return IrpSolution(tuple(routes), tuple(shortfalls), extras)
