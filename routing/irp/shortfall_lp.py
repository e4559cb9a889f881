"""The quantity LP of inventory routing for fixed routes, when not every tank can keep its floor.

With the routes of every period fixed, choose what each route leaves at each of its customers,
lexicographically: first the least priority-weighted shortfall, then the least holding cost
(HiGHS through ``scipy.optimize.milp``, no integer variable). Variables per customer i and
period t: the end level ``I >= 0``, the units below the floor ``s`` in ``[0, L]`` and the
consumption the tank could not serve ``u`` in ``[0, r]`` (it ran dry), and the part ``o`` of a
fixed arrival ``a`` the tank cannot take (consumption ``r`` and ``a`` per period):

- ``I[i, t] = I[i, t-1] + a - o + sum_r q[r, i, t] - r + u`` and
  ``I[i, t-1] + a - o + sum_r q <= U_i``;
- ``I[i, t] + s[i, t] >= L_i``; a route's quantities sum to at most its vehicle's capacity;
- the depot: ``B[t] = B[t-1] + r0 - sum q[., ., t] >= 0``.

Phase 1 minimises ``sum w_i (s + (1 + 1e-3) u)``: ``s + u`` are the units below the floor as
:func:`routing.irp.checker.simulate_levels` counts them (a tank that ran dry starts the next
period empty); ``u`` costs a little more so the LP does not pretend a tank lost consumption
while it still held stock. Phase 2 keeps every ``s`` and ``u`` at most its phase-1 value and
minimises holding (plus 1e-5 per unit delivered: ties go to just enough). The LP cannot express
that ``u > 0`` only when the tank is empty (lost sales are not convex), so its plan is checked by
the checker and kept only when it scores better. Quantities are rounded to whole units; a
rounded plan that breaks a rule is floored instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from routing.irp.checker import check_solution, simulate_levels
from routing.irp.instance import IrpInstance
from routing.irp.solution import IrpRoute, IrpShortfall, IrpSolution, IrpStop

_DRY_EXTRA = 1e-3  # u's extra weight over s (see the module docstring)
_TIE_BREAK_PER_UNIT = 1e-5


@dataclass(frozen=True, slots=True)
class _Layout:
    """Variable positions: q per (route, customer), then I, u, s, o per (customer, period), B."""

    members: tuple[tuple[int, int], ...]  # (route position, customer)
    n: int
    periods: int

    @property
    def i0(self) -> int:
        return len(self.members)

    def level(self, i: int, t: int) -> int:
        return self.i0 + t * self.n + (i - 1)

    def lost(self, i: int, t: int) -> int:
        return self.i0 + self.n * self.periods + t * self.n + (i - 1)

    def below(self, i: int, t: int) -> int:
        return self.i0 + 2 * self.n * self.periods + t * self.n + (i - 1)

    def spill(self, i: int, t: int) -> int:
        return self.i0 + 3 * self.n * self.periods + t * self.n + (i - 1)

    def depot(self, t: int) -> int:
        return self.i0 + 4 * self.n * self.periods + t

    @property
    def size(self) -> int:
        return self.i0 + 4 * self.n * self.periods + self.periods


class _Rows:
    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.lows: list[float] = []
        self.highs: list[float] = []

    def add(self, entries: list[tuple[int, float]], low: float, high: float) -> None:
        number = len(self.lows)
        for col, val in entries:
            self.rows.append(number)
            self.cols.append(col)
            self.vals.append(val)
        self.lows.append(low)
        self.highs.append(high)

    def matrix(self, size: int) -> sp.csr_matrix:
        return sp.csr_matrix((self.vals, (self.rows, self.cols)), shape=(len(self.lows), size))


def _system(
    instance: IrpInstance, routes: Sequence[IrpRoute], capacities: Sequence[int], lay: _Layout
) -> _Rows:
    rows = _Rows()
    demand, arrivals = instance.demand_matrix, instance.arrival_matrix
    start = instance.initial_levels_units
    by_customer_period: dict[tuple[int, int], list[int]] = {}
    by_route: dict[int, list[int]] = {}
    for m, (k, i) in enumerate(lay.members):
        by_customer_period.setdefault((i, routes[k].period - 1), []).append(m)
        by_route.setdefault(k, []).append(m)
    for t in range(lay.periods):
        for i in range(1, lay.n + 1):
            qs = [(m, 1.0) for m in by_customer_period.get((i, t), [])]
            before = [] if t == 0 else [(lay.level(i, t - 1), 1.0)]
            known = (float(start[i]) if t == 0 else 0.0) + float(arrivals[t, i])
            spill = (lay.spill(i, t), -1.0)  # the part of a fixed arrival the tank cannot take
            balance = [(lay.level(i, t), 1.0), (lay.lost(i, t), -1.0), (spill[0], 1.0)]
            balance += [(col, -1.0) for col, _ in qs] + [(c, -v) for c, v in before]
            rhs = known - float(demand[t, i])
            rows.add(balance, rhs, rhs)
            top = float(instance.max_levels_units[i]) - known
            rows.add([*qs, *before, spill], -np.inf, top)
            floor = float(instance.min_levels_units[i])
            rows.add([(lay.level(i, t), 1.0), (lay.below(i, t), 1.0)], floor, np.inf)
        shipped = [(m, 1.0) for m, (k, _) in enumerate(lay.members) if routes[k].period - 1 == t]
        depot = [(lay.depot(t), 1.0), *shipped]
        if t > 0:
            depot.append((lay.depot(t - 1), -1.0))
        rhs = float(demand[t, 0]) + (float(start[0]) if t == 0 else 0.0)
        rows.add(depot, rhs, rhs)
    for k, ms in by_route.items():
        rows.add([(m, 1.0) for m in ms], -np.inf, float(capacities[k]))
    return rows


def _bounds(instance: IrpInstance, lay: _Layout) -> tuple[np.ndarray, np.ndarray]:
    low = np.zeros(lay.size)
    high = np.full(lay.size, np.inf)
    for t in range(lay.periods):
        for i in range(1, lay.n + 1):
            high[lay.lost(i, t)] = float(instance.demand_matrix[t, i])
            high[lay.below(i, t)] = float(instance.min_levels_units[i])
            high[lay.spill(i, t)] = float(instance.arrival_matrix[t, i])
    return low, high


def optimise_quantities(
    instance: IrpInstance,
    routes: Sequence[IrpRoute],
    capacities: Sequence[int],
    *,
    time_limit_s: float = 10.0,
) -> IrpSolution | None:
    """Return ``routes`` with the lexicographically best quantities (weighted shortfall, cost).

    Parameters
    ----------
    routes
        The routes to drive (period, vehicle, customers in order; quantities ignored).
    capacities
        The load limit of each route, in the order of ``routes``.
    time_limit_s
        HiGHS's limit for each of the two phases.

    Returns
    -------
    IrpSolution or None
        The routes with whole quantities (stops left with nothing dropped, routes left empty
        dropped, vehicles kept), no shortfalls declared (:func:`declare_shortfalls` adds them);
        None when HiGHS finds no answer in time.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    members = tuple((k, s.customer) for k, route in enumerate(routes) for s in route.stops)
    lay = _Layout(members, instance.num_customers, instance.num_periods)
    rows = _system(instance, routes, capacities, lay)
    constraint = LinearConstraint(rows.matrix(lay.size), np.array(rows.lows), np.array(rows.highs))
    low, high = _bounds(instance, lay)
    weights = instance.weights
    penalty = np.zeros(lay.size)
    for t in range(lay.periods):
        for i in range(1, lay.n + 1):
            penalty[lay.below(i, t)] = weights[i]
            penalty[lay.lost(i, t)] = weights[i] * (1 + _DRY_EXTRA)
            penalty[lay.spill(i, t)] = _TIE_BREAK_PER_UNIT
    options = {"time_limit": time_limit_s, "disp": False}
    first = milp(penalty, constraints=constraint, bounds=Bounds(low, high), options=options)
    if first.x is None:
        return None
    for t in range(lay.periods):
        for i in range(1, lay.n + 1):
            for col in (lay.below(i, t), lay.lost(i, t)):
                high[col] = min(high[col], float(first.x[col]) + 1e-7)
    cost = np.zeros(lay.size)
    cost[: lay.i0] = _TIE_BREAK_PER_UNIT
    # Spilling an arrival to save holding must never pay: it costs more than a unit held all along.
    waste = float(np.abs(instance.holding_costs_per_unit_period).max()) * lay.periods + 1.0
    for t in range(lay.periods):
        for i in range(1, lay.n + 1):
            cost[lay.level(i, t)] = instance.holding_costs_per_unit_period[i]
            cost[lay.spill(i, t)] = waste
        cost[lay.depot(t)] = instance.holding_costs_per_unit_period[0]
    second = milp(cost, constraints=constraint, bounds=Bounds(low, high), options=options)
    chosen = second.x if second.x is not None else first.x
    rounded = _solution(routes, members, np.round(chosen[: lay.i0]))
    if check_solution(instance, declare_shortfalls(instance, rounded)).valid:
        return rounded
    return _solution(routes, members, np.floor(chosen[: lay.i0] + 1e-6))


def declare_shortfalls(instance: IrpInstance, solution: IrpSolution) -> IrpSolution:
    """Return ``solution`` declaring every customer-period it leaves below the floor, with why.

    Reasons, the first that applies: ``depot`` (the depot ends this period or a later one
    empty: more here would be taken from another customer), ``capacity`` (the customer's route
    leaves full), ``fleet`` (no route visits it that period; ``duration`` when no route can reach
    it within ``max_route_duration``), ``tank`` (its tank is full after
    the delivery), else ``depot``.
    """
    n = instance.num_customers
    delivered = np.zeros((instance.num_periods, n + 1))
    route_of: dict[tuple[int, int], IrpRoute] = {}
    for driven in solution.routes:
        for stop in driven.stops:
            delivered[driven.period - 1, stop.customer] += stop.quantity_units
            route_of[driven.period, stop.customer] = driven
    after, end, missing = simulate_levels(instance, delivered)
    # The depot "runs out" for period t when it ends t or any later period empty: more for
    # this customer would have to be taken from another.
    empty_from = np.minimum.accumulate(end[::-1, 0])[::-1] < 1
    found = []
    for t, i in zip(*np.nonzero(missing[:, 1:] > 0), strict=True):
        customer, period = int(i) + 1, int(t) + 1
        route: IrpRoute | None = route_of.get((period, customer))
        if empty_from[t]:
            reason = "depot"
        elif route is not None and route.load_units >= instance.vehicle_capacity(route.vehicle):
            reason = "capacity"
        elif route is None:
            limit = instance.max_route_duration
            too_far = limit is not None and instance.route_duration([customer]) > limit
            reason = "duration" if too_far else "fleet"
        elif after[t, customer] >= instance.max_levels_units[customer]:
            reason = "tank"
        else:
            reason = "depot"
        found.append(IrpShortfall(period, customer, round(float(missing[t, customer])), reason))
    found.sort(key=lambda s: (s.period, s.customer))
    return IrpSolution(solution.routes, tuple(found), solution.extras)


def _solution(
    routes: Sequence[IrpRoute], members: tuple[tuple[int, int], ...], amounts: np.ndarray
) -> IrpSolution:
    quantity = {member: round(float(x)) for member, x in zip(members, amounts, strict=True)}
    planned = []
    for k, route in enumerate(routes):
        stops = tuple(
            IrpStop(s.customer, quantity[k, s.customer])
            for s in route.stops
            if quantity[k, s.customer] > 0
        )
        if stops:
            planned.append(IrpRoute(route.period, route.vehicle, stops))
    return IrpSolution(tuple(planned))
