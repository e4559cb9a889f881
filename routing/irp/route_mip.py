"""The route-pool MIP of inventory routing (HiGHS through ``scipy.optimize.milp``).

Given a pool of routes (customer sequences with their travel cost), choose for each period at most
K routes that visit every customer at most once, and the quantity each route leaves at each of its
customers, minimising routing plus holding cost under the README's rules:

- ``y[r, t]`` in {0, 1}: route r driven in period t; ``sum_r y[r, t] <= K``;
  ``sum_{r containing i} y[r, t] <= 1``;
- ``q[r, i, t] >= 0``: quantity of route r for customer i; ``q <= min(C, U_i) y[r, t]`` and
  ``sum_i q[r, i, t] <= C y[r, t]``;
- ``I[i, t] = I[i, t-1] + sum_r q[r, i, t] - r_i`` with ``L_i <= I[i, t] <= U_i - r_i`` (the upper
  bound is the order-up-to limit: the level after delivery is ``I[i, t] + r_i``);
- ``B[t] = B[t-1] + r0 - sum q[., ., t] >= 0`` (the depot, after production).

With the pool of every subset of customers, each with its optimal tour (:func:`all_subset_routes`),
the MIP is exact: it is how instances with at most ~12 customers are solved to proven optimality.
The free search (no period fixed) is tightened by rounds of LP relaxation that add the violated
(l, S) inequalities per route (:mod:`routing.irp.lot_sizing_cuts`) and, over the whole pool of
sets, the rounded capacity inequalities (:mod:`routing.irp.exact_capacity_cuts`); an incumbent
plan's cost is a cutoff row (:mod:`routing.irp.exact_milp`).
With a smaller pool it is the recombination step of the heuristic (:mod:`routing.irp.pool_search`).
Quantities come back integral: for fixed routes the quantity problem is a network flow with
integer data, so :func:`solve_route_mip` re-solves it as an LP at a vertex.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from routing.irp.checker import check_solution
from routing.irp.exact_capacity_cuts import separate_capacity_cuts
from routing.irp.instance import IrpInstance
from routing.irp.lot_sizing_cuts import separate_lot_sizing
from routing.irp.solution import IrpRoute, IrpSolution, IrpStop

if TYPE_CHECKING:
    from scipy.optimize import Bounds

Route = tuple[int, ...]
# Added per unit delivered in the quantity LP: far below any benchmark cost difference (holding
# costs have two decimals, so a unit moved a period changes the cost by 0 or >= 0.01).
_TIE_BREAK_PER_UNIT = 1e-5


@dataclass(frozen=True, slots=True)
class MipResult:
    """The MIP's answer: routes per period with quantities, the cost, and whether it is proven."""

    periods: tuple[tuple[tuple[Route, tuple[int, ...]], ...], ...]  # per period: (route, q)
    objective: float
    proven_optimal: bool
    lower_bound: float


def all_subset_routes(instance: IrpInstance) -> list[tuple[Route, int]]:
    """Return every non-empty subset of customers with its optimal tour and cost (Held-Karp).

    Exponential: meant for at most ~12 customers.
    """
    n = instance.num_customers
    dist = instance.distances
    full = 1 << n
    inf = np.iinfo(np.int64).max // 4
    best = np.full((full, n), inf, dtype=np.int64)  # best[S, j]: depot -> S ending at j+1
    parent = np.full((full, n), -1, dtype=np.int64)
    for j in range(n):
        best[1 << j, j] = dist[0, j + 1]
    for subset in range(1, full):
        for j in range(n):
            here = best[subset, j]
            if here >= inf:
                continue
            for k in range(n):
                if subset >> k & 1:
                    continue
                nxt = subset | 1 << k
                value = here + dist[j + 1, k + 1]
                if value < best[nxt, k]:
                    best[nxt, k] = value
                    parent[nxt, k] = j
    routes = []
    for subset in range(1, full):
        members = [j for j in range(n) if subset >> j & 1]
        costs = [best[subset, j] + dist[j + 1, 0] for j in members]
        last = members[int(np.argmin(costs))]
        order = []
        cursor, current = subset, last
        while current >= 0:
            order.append(current + 1)
            previous = int(parent[cursor, current])
            cursor &= ~(1 << current)
            current = previous
        routes.append((tuple(reversed(order)), int(min(costs))))
    return routes


class _Layout:
    """Variable positions of the MIP: y, then q, then customer levels I, then depot levels B."""

    def __init__(self, instance: IrpInstance, routes: Sequence[Route]) -> None:
        self.num_routes = len(routes)
        self.members = [(r, i) for r, route in enumerate(routes) for i in route]
        self.periods = instance.num_periods
        self.n = instance.num_customers
        self.q0 = self.num_routes * self.periods
        self.i0 = self.q0 + len(self.members) * self.periods
        self.b0 = self.i0 + self.n * self.periods
        self.size = self.b0 + self.periods

    def y(self, r: int, t: int) -> int:
        return t * self.num_routes + r

    def q(self, m: int, t: int) -> int:
        return self.q0 + t * len(self.members) + m

    def level(self, i: int, t: int) -> int:
        return self.i0 + t * self.n + (i - 1)

    def depot(self, t: int) -> int:
        return self.b0 + t


def _constraints(
    instance: IrpInstance, routes: Sequence[Route], lay: _Layout, *, lean: bool = False
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Return the MIP's rows ``(A, low, high)``.

    ``lean`` leaves out each ``q <= a y`` whose ``a`` is C on a route with a capacity row
    (implied by it): half the rows of the all-subsets model at n = 10, the same LP.
    """
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lows: list[float] = []
    highs: list[float] = []

    def row(entries: list[tuple[int, float]], low: float, high: float) -> None:
        number = len(lows)
        for col, val in entries:
            rows.append(number)
            cols.append(col)
            vals.append(val)
        lows.append(low)
        highs.append(high)

    cap = instance.vehicle_capacity_units
    demand = instance.demands_per_period_units
    start = instance.initial_levels_units
    by_customer: dict[int, list[int]] = {}
    by_route: dict[int, list[int]] = {}
    for m, (r, i) in enumerate(lay.members):
        by_customer.setdefault(i, []).append(m)
        by_route.setdefault(r, []).append(m)
    for t in range(lay.periods):
        row([(lay.y(r, t), 1.0) for r in range(lay.num_routes)], 0, instance.num_vehicles)
        for i in range(1, lay.n + 1):
            ms = by_customer.get(i, [])
            row([(lay.y(lay.members[m][0], t), 1.0) for m in ms], 0, 1)
            inflow = [(lay.q(m, t), -1.0) for m in ms] + [(lay.level(i, t), 1.0)]
            if t > 0:
                inflow.append((lay.level(i, t - 1), -1.0))
            rhs = -float(demand[i]) + (float(start[i]) if t == 0 else 0.0)
            row(inflow, rhs, rhs)
        loaded = [
            r
            for r, ms in by_route.items()
            if sum(_most_per_visit(instance, lay.members[m][1], t) for m in ms) > cap
        ]
        with_row = set(loaded)
        for m, (r, i) in enumerate(lay.members):
            bound = _most_per_visit(instance, i, t)
            if not (lean and bound >= cap and r in with_row):
                row([(lay.q(m, t), 1.0), (lay.y(r, t), -float(bound))], -np.inf, 0)
        for r in loaded:
            ms = by_route[r]
            row([(lay.q(m, t), 1.0) for m in ms] + [(lay.y(r, t), -float(cap))], -np.inf, 0)
        _window_cuts(instance, lay, by_customer, t, row)
        depot = [(lay.q(m, t), 1.0) for m in range(len(lay.members))] + [(lay.depot(t), 1.0)]
        if t > 0:
            depot.append((lay.depot(t - 1), -1.0))
        rhs = float(demand[0]) + (float(start[0]) if t == 0 else 0.0)
        row(depot, rhs, rhs)
    matrix = sp.csr_matrix((vals, (rows, cols)), shape=(len(lows), lay.size))
    return matrix, np.array(lows), np.array(highs)


def _most_per_visit(instance: IrpInstance, i: int, t: int) -> int:
    """Return the most one visit to customer ``i`` in period ``t`` (0-based) can leave.

    The level after delivery is at most U and the level before it is at least L (the previous
    period's end) or I0 in the first period, so a visit brings at most ``U - L`` (``U - I0``)
    and at most C. Tighter than ``min(C, U)``: the LP bound rises and HiGHS prunes sooner.
    """
    before = int(instance.initial_levels_units[i]) if t == 0 else int(instance.min_levels_units[i])
    room = int(instance.max_levels_units[i]) - before
    return max(0, min(instance.vehicle_capacity_units, room))


def _window_cuts(
    instance: IrpInstance,
    lay: _Layout,
    by_customer: dict[int, list[int]],
    last: int,
    row: Callable[[list[tuple[int, float]], float, float], None],
) -> None:
    """Add the visit-count inequalities of every window of periods ending at ``last``.

    Over periods s..last a customer consumes ``(last - s + 1) r`` and starts with at most I0
    (s = 1) or ``U - r`` (the most it can hold at an end of period); what is missing to stay at
    or above L must come in visits of at most ``a = min(C, U - L)`` each (:func:`_most_per_visit`);
    and the level before the window plus ``min(a, need of the window)`` per visit covers the
    window (no visit: the level alone covers it). All are valid for every solution; with the
    first two HiGHS proves S_abs1n5_2_L6 (n = 5, T = 6) in 8.9 s instead of 25 s.
    """
    for i in range(1, lay.n + 1):
        r_i = int(instance.demands_per_period_units[i])
        top = int(instance.max_levels_units[i])
        for first in range(last + 1):
            per_visit = max(_most_per_visit(instance, i, t) for t in range(first, last + 1))
            start = int(instance.initial_levels_units[i]) if first == 0 else top - r_i
            window = (last - first + 1) * r_i + int(instance.min_levels_units[i])
            need = window - start
            visited = [
                lay.y(lay.members[m][0], t)
                for t in range(first, last + 1)
                for m in by_customer.get(i, [])
            ]
            if need > 0 and per_visit > 0:
                row([(col, 1.0) for col in visited], float(-(-need // per_visit)), np.inf)
            if first > 0 and window > 0:
                # The level before the window and at most ``per_visit`` a visit cover the window.
                entries = [(col, float(min(window, per_visit))) for col in visited]
                row([*entries, (lay.level(i, first - 1), 1.0)], float(window), np.inf)


def _bounds(
    instance: IrpInstance, lay: _Layout, fixed: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    low = np.zeros(lay.size)
    high = np.full(lay.size, np.inf)
    high[: lay.q0] = 1.0
    if fixed is not None:
        pinned = ~np.isnan(fixed)
        low[: lay.q0][pinned] = fixed[pinned]
        high[: lay.q0][pinned] = fixed[pinned]
    for t in range(lay.periods):
        for i in range(1, lay.n + 1):
            low[lay.level(i, t)] = instance.min_levels_units[i]
            high[lay.level(i, t)] = (
                instance.max_levels_units[i] - instance.demands_per_period_units[i]
            )
    return low, high


def _add_lot_sizing_cuts(
    instance: IrpInstance,
    lay: _Layout,
    system: tuple[sp.csr_matrix, np.ndarray, np.ndarray],
    objective: np.ndarray,
    bounds: Bounds,
    deadline: float,
    *,
    rounds: int = 25,
    routes: Sequence[Route] = (),
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Tighten the MIP by rounds of LP relaxation and separation until none is violated.

    Each round adds the violated (l, S) inequalities (:mod:`routing.irp.lot_sizing_cuts`) and,
    when ``routes`` is the whole pool of enumerated sets, the rounded capacity inequalities
    (:mod:`routing.irp.exact_capacity_cuts`). Stops after ``rounds`` rounds or at ``deadline``
    (monotonic clock); returns the system with the cuts appended.
    """
    from routing.irp.exact_milp import append_rows, solve_lp

    by_customer: dict[int, list[int]] = {}
    for m, (_, i) in enumerate(lay.members):
        by_customer.setdefault(i, []).append(m)
    # Rounded capacity cuts need every route (enumerated sets): not for a partial pool.
    capacity_cuts = len(routes) == lay.num_routes > 0
    y_position = [[lay.y(r, t) for r in range(lay.num_routes)] for t in range(lay.periods)]
    for _ in range(rounds):
        left_s = deadline - time.monotonic()
        if left_s <= 0:
            break
        x = solve_lp(objective, system, (bounds.lb, bounds.ub), left_s)
        if x is None:
            break
        cuts = separate_lot_sizing(instance, lay, by_customer, x)
        if capacity_cuts:
            cuts += separate_capacity_cuts(instance, routes, y_position, x)
        if not cuts:
            break
        system = append_rows(system, cuts)
    return system


def _objective(
    instance: IrpInstance, pool: Sequence[tuple[Route, int]], lay: _Layout
) -> np.ndarray:
    """Return the cost vector: route costs on y, holding on the customers' and depot's levels."""
    objective = np.zeros(lay.size)
    for t in range(lay.periods):
        for r, (_, cost) in enumerate(pool):
            objective[lay.y(r, t)] = cost
        for i in range(1, lay.n + 1):
            objective[lay.level(i, t)] = instance.holding_costs_per_unit_period[i]
        objective[lay.depot(t)] = instance.holding_costs_per_unit_period[0]
    return objective


def solve_route_mip(
    instance: IrpInstance,
    pool: Sequence[tuple[Route, int]],
    *,
    time_limit_s: float,
    fixed_choice: Sequence[Sequence[int] | None] | None = None,
    incumbent: IrpSolution | None = None,
) -> MipResult | None:
    """Choose routes per period from ``pool`` and the quantities, minimising the total cost.

    Parameters
    ----------
    pool
        ``(customer sequence, travel cost)`` pairs; each may be used in any period.
    time_limit_s
        HiGHS's wall-clock limit; the best solution found by then is returned.
    fixed_choice
        Per period, the pool positions of the routes to drive there, or None to leave the period
        free. With every period fixed only the quantities are optimised (an LP); with some fixed
        it is the large-neighbourhood step of :mod:`routing.irp.pool_search`.
    incumbent
        A feasible plan (free search only): its cost is a cutoff (a row ``objective <= cost``),
        so HiGHS prunes every node whose bound passes it. Its plan then always fits, priced with
        the pool's tours, and the answer is never worse than it.

    Returns
    -------
    MipResult or None
        None when no feasible choice exists in the pool (or none was found in time).
        ``proven_optimal`` is set only for a free search that HiGHS closed (relative gap 1e-6).
    """
    if fixed_choice is None:
        return _solve_free(instance, pool, time_limit_s, incumbent)
    return _solve_fixed(instance, pool, time_limit_s, fixed_choice)


def _solve_free(
    instance: IrpInstance,
    pool: Sequence[tuple[Route, int]],
    time_limit_s: float,
    incumbent: IrpSolution | None,
) -> MipResult | None:
    """Solve the free route MIP (every period open): cuts, then HiGHS; quantities re-solved."""
    from scipy.optimize import Bounds

    from routing.irp.exact_milp import solve_mip

    started = time.monotonic()
    routes = [route for route, _ in pool]
    lay = _Layout(instance, routes)
    system = _constraints(instance, routes, lay, lean=True)
    objective = _objective(instance, pool, lay)
    integrality = np.zeros(lay.size)
    integrality[: lay.q0] = 1
    col_low, col_high = _bounds(instance, lay, None)
    system = _add_lot_sizing_cuts(
        instance,
        lay,
        system,
        objective,
        Bounds(col_low, col_high),
        started + time_limit_s * 0.3,
        routes=routes,
    )
    cutoff = None
    if incumbent is not None:
        cost = check_solution(instance, incumbent).total_cost
        # The MIP prices the incumbent's routes with optimal tours: never above its own cost.
        cutoff = cost + 1e-6 * max(1.0, abs(cost))
    # The limit counts from the call: building the model takes seconds on large pools.
    left_s = time_limit_s - (time.monotonic() - started)
    answer = solve_mip(
        objective,
        system,
        (col_low, col_high),
        integrality,
        time_limit_s=max(left_s, 0.05),
        cutoff=cutoff,
    )
    if answer.x is None:
        return None
    choice: list[Sequence[int] | None] = [
        [r for r in range(lay.num_routes) if answer.x[lay.y(r, t)] > 0.5]
        for t in range(lay.periods)
    ]
    # Re-solve the quantities for the chosen routes: an LP vertex, integral (network flow).
    # The LP takes well under a second; it is not cut short with the MIP's remaining time.
    again = _solve_fixed(instance, pool, 5.0, choice)
    if again is None:
        return None
    return MipResult(again.periods, again.objective, answer.optimal, answer.dual_bound)


def _solve_fixed(
    instance: IrpInstance,
    pool: Sequence[tuple[Route, int]],
    time_limit_s: float,
    fixed_choice: Sequence[Sequence[int] | None],
) -> MipResult | None:
    """Solve the route MIP with some periods' routes fixed (an LP when all are fixed)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    started = time.monotonic()
    routes = [route for route, _ in pool]
    lay = _Layout(instance, routes)
    matrix, lows, highs = _constraints(instance, routes, lay)
    objective = _objective(instance, pool, lay)
    fixed = np.full(lay.q0, np.nan)
    for t, chosen in enumerate(fixed_choice):
        if chosen is not None:
            fixed[t * lay.num_routes : (t + 1) * lay.num_routes] = 0.0
            for r in chosen:
                fixed[lay.y(r, t)] = 1.0
    fully_fixed = not np.isnan(fixed).any()
    if fully_fixed:
        # Where moving stock from the depot to a tank costs nothing (equal holding costs), many
        # quantity plans tie; the least delivered one (just enough) is the one a person expects.
        objective[lay.q0 : lay.i0] = _TIE_BREAK_PER_UNIT
    integrality = np.zeros(lay.size)
    if not fully_fixed:
        integrality[: lay.q0] = 1
    bounds = Bounds(*_bounds(instance, lay, fixed))
    left_s = time_limit_s - (time.monotonic() - started)
    options = {"time_limit": max(left_s, 0.05), "mip_rel_gap": 1e-6, "disp": False}
    result = milp(
        objective,
        constraints=LinearConstraint(matrix, lows, highs),
        bounds=bounds,
        integrality=integrality,
        options=options,
    )
    if result.x is None:
        return None
    choice: list[Sequence[int] | None] = [
        [r for r in range(lay.num_routes) if result.x[lay.y(r, t)] > 0.5]
        for t in range(lay.periods)
    ]
    if not fully_fixed:
        again = _solve_fixed(instance, pool, 5.0, choice)
        if again is None:
            return None
        bound = float(getattr(result, "mip_dual_bound", None) or result.fun)
        return MipResult(again.periods, again.objective, False, bound)
    periods: list[tuple[tuple[Route, tuple[int, ...]], ...]] = []
    for t in range(lay.periods):
        picked: list[tuple[Route, tuple[int, ...]]] = []
        for r in choice[t] or ():
            amounts = tuple(
                round(float(result.x[lay.q(m, t)]))
                for m, (owner, _) in enumerate(lay.members)
                if owner == r
            )
            picked.append((routes[r], amounts))
        periods.append(tuple(picked))
    cost = float(result.fun) - _TIE_BREAK_PER_UNIT * float(result.x[lay.q0 : lay.i0].sum())
    return MipResult(tuple(periods), cost, result.status == 0, cost)


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
