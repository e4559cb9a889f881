"""The baseline inventory-routing plan: refill a tank when it would run below its floor, then route.

Period by period: a customer whose level would end the period below L without a delivery gets one
that fills it up to U (capped by a vehicle's capacity and by what the depot holds after
production, the most urgent customers first); then the period's deliveries are routed by PyVRP in
at most K routes. When the loads do not fit in K vehicles, the quantities are cut back to what
each customer needs to stay at L, and if even that does not fit (or the depot runs short), the
customers left out are listed as shortfalls with the reason, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routing.irp._pyvrp_period import route_period
from routing.irp.instance import IrpInstance
from routing.irp.solution import IrpRoute, IrpShortfall, IrpSolution, IrpStop


@dataclass(frozen=True, slots=True)
class _Need:
    customer: int
    minimum: int  # to end the period at L
    fill: int  # to reach U after delivery


def _needs(instance: IrpInstance, levels: np.ndarray) -> list[_Need]:
    """Return the customers that need a delivery now, the emptiest (in periods left) first."""
    demand = instance.demands_per_period_units
    floor = instance.min_levels_units
    top = instance.max_levels_units
    needs = []
    for i in range(1, instance.num_customers + 1):
        if levels[i] - demand[i] < floor[i]:
            needs.append(_Need(i, int(floor[i] + demand[i] - levels[i]), int(top[i] - levels[i])))
    return sorted(needs, key=lambda need: levels[need.customer] / max(demand[need.customer], 1))


def _plan_quantities(
    instance: IrpInstance, needs: list[_Need], stock: int, shortfalls: list[IrpShortfall], t: int
) -> dict[int, int]:
    """Return the quantity per customer for this period, within the depot's stock and C."""
    cap = instance.vehicle_capacity_units
    quantities: dict[int, int] = {}
    for need in needs:
        minimum = min(need.minimum, cap)
        if minimum > stock:
            shortfalls.append(
                IrpShortfall(t + 1, need.customer, need.minimum - min(stock, minimum), "depot")
            )
            continue
        quantities[need.customer] = minimum
        stock -= minimum
        if need.minimum > cap:
            shortfalls.append(IrpShortfall(t + 1, need.customer, need.minimum - cap, "capacity"))
    for need in needs:  # top up to U with what the depot still holds
        if need.customer in quantities:
            extra = min(min(need.fill, cap) - quantities[need.customer], stock)
            quantities[need.customer] += extra
            stock -= extra
    return quantities


def _route_or_cut(
    instance: IrpInstance,
    quantities: dict[int, int],
    needs: dict[int, _Need],
    *,
    time_limit_s: float,
    seed: int,
    max_iterations: int | None,
) -> tuple[list[tuple[int, ...]], dict[int, int], list[int]]:
    """Route the period; cut loads to the minimum, then drop customers, until it fits."""
    customers = list(quantities)
    routes = route_period(
        instance,
        customers,
        [quantities[c] for c in customers],
        time_limit_s=time_limit_s,
        seed=seed,
        max_iterations=max_iterations,
    )
    if routes is not None:
        return routes, quantities, []
    cap = instance.vehicle_capacity_units
    quantities = {c: min(needs[c].minimum, cap) for c in customers}
    dropped: list[int] = []
    while customers:
        loads = [quantities[c] for c in customers]
        routes = route_period(
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
        shortfalls (period, customer, missing units, reason ``"depot"``, ``"capacity"`` or
        ``"fleet"``).
    """
    levels = instance.initial_levels_units.astype(np.int64).copy()
    demand = instance.demands_per_period_units
    routes: list[IrpRoute] = []
    shortfalls: list[IrpShortfall] = []
    for t in range(instance.num_periods):
        stock = int(levels[0] + demand[0])
        needs = _needs(instance, levels)
        quantities = _plan_quantities(instance, needs, stock, shortfalls, t)
        by_customer = {need.customer: need for need in needs}
        period_routes, quantities, dropped = _route_or_cut(
            instance,
            quantities,
            by_customer,
            time_limit_s=time_limit_s,
            seed=seed,
            max_iterations=max_iterations,
        )
        shortfalls.extend(IrpShortfall(t + 1, c, by_customer[c].minimum, "fleet") for c in dropped)
        for vehicle, customers in enumerate(period_routes, start=1):
            stops = tuple(IrpStop(c, quantities[c]) for c in customers)
            routes.append(IrpRoute(t + 1, vehicle, stops))
        for customer, quantity in quantities.items():
            levels[customer] += quantity
            levels[0] -= quantity
        levels[1:] -= demand[1:]
        levels[0] += demand[0]
    extras = {"solver": "baseline"}
    return IrpSolution(tuple(routes), tuple(shortfalls), extras)
