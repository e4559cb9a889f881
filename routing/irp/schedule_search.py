"""Iterated local search over delivery schedules for inventory routing (design: docs/irp.md).

The state is which customer each vehicle visits in each period and in which order. Quantities
follow from the schedule by the *just-enough* rule: at each visit a customer receives what carries
it to its next visit (or the horizon's end) at its minimum level, so its holding cost and every
route's load are known in O(T) per customer. A move removes a visit, inserts one (cheapest
position, any vehicle of the period), or moves one to another period or route; it is kept when
the exact cost change (travel + customer holding + depot holding) is negative and every route,
tank and the depot stay feasible. Perturbation removes and re-inserts a few random visits;
the best plan found is finished by the exact quantity LP (:func:`routing.irp.route_mip`, which may
deliver more than just enough when the depot's holding cost is higher) and a PyVRP pass per period.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

from routing.irp._pyvrp_period import route_period_fleet
from routing.irp.checker import check_solution, route_cost
from routing.irp.instance import IrpInstance
from routing.irp.route_mip import mip_solution, solve_route_mip
from routing.irp.shortfall_lp import declare_shortfalls, optimise_quantities
from routing.irp.solution import IrpRoute, IrpSolution, IrpStop
from routing.irp.tours import two_opt

_EPS = 1e-9
_NEIGHBOURS = 10  # re-examined around a customer that moved
_PYVRP_ITERATIONS = 2_000  # the final re-routing's budget when the search counts iterations
# Pattern moves enumerate every visit pattern (2^T - 1): beyond 12 periods (4,095 patterns) they
# are skipped; a week of 6 h periods (T = 28) would otherwise never finish a pass.
_MAX_PATTERN_PERIODS = 12


@dataclass(frozen=True, slots=True)
class _Plan:
    """One customer's quantities per period under the just-enough rule, and its costs.

    ``short`` is the customer's units below its floor over the horizon times its priority
    weight (always 0 unless the search allows shortfalls).
    """

    quantities: tuple[int, ...]
    holding: float
    short: float = 0.0


class _Search:
    """The mutable search state; one instance per run, never shared."""

    def __init__(
        self,
        instance: IrpInstance,
        solution: IrpSolution,
        tank_patterns: dict[int, list[list[bool]]] | None = None,
        *,
        shortfalls: bool = False,
    ) -> None:
        # Per customer, the visit patterns its tank allows (data only): shared between the
        # states of one search, so it is computed once per customer.
        self.tank_patterns = {} if tank_patterns is None else tank_patterns
        # Allowing shortfalls, a plan may leave tanks below their floor (priced by weight) and
        # the depot short (priced at the least weight: that much must be cut from someone).
        self.shortfalls = shortfalls
        self.weights = instance.weights.tolist()
        # Per vertex and period: consumption (the depot's production at 0) and fixed arrivals.
        self.use = instance.demand_matrix.T.tolist()
        self.production = self.use[0]
        self.arrive = instance.arrival_matrix.T.tolist()
        self.least_weight = min(self.weights[1:], default=1.0)
        self.inst = instance
        self.n, self.T, self.K = instance.num_customers, instance.num_periods, instance.num_vehicles
        self.caps = instance.capacities
        self.mixed = instance.mixed_fleet
        # The route-duration limit: travel times and services, only read when a limit is set.
        self.limit = instance.max_route_duration
        times = instance.distances if instance.travel_times is None else instance.travel_times
        self.times = times.tolist()
        services = instance.service_times
        self.service = [0] * (self.n + 1) if services is None else services.tolist()
        self.dist = instance.distances.tolist()
        self.routes: list[list[list[int]]] = [[[] for _ in range(self.K)] for _ in range(self.T)]
        for route in solution.routes:
            self.routes[route.period - 1][route.vehicle - 1] = [s.customer for s in route.stops]
        self.vehicle = [[-1] * (self.n + 1) for _ in range(self.T)]
        for t in range(self.T):
            for v, seq in enumerate(self.routes[t]):
                for c in seq:
                    self.vehicle[t][c] = v
        given = np.zeros((self.n + 1, self.T), dtype=np.int64)
        for route in solution.routes:
            for stop in route.stops:
                given[stop.customer, route.period - 1] = int(stop.quantity_units)
        # The plan's own quantities: recomputing them could overload a route that relies on an
        # earlier, larger delivery; :meth:`normalise` re-plans each customer where that is cheaper.
        self.plans: list[_Plan] = [self._given(i, given[i].tolist()) for i in range(self.n + 1)]
        self.load = [
            [sum(self.plans[c].quantities[t] for c in self.routes[t][v]) for v in range(self.K)]
            for t in range(self.T)
        ]
        self.shipped = [sum(p.quantities[t] for p in self.plans) for t in range(self.T)]
        self.travel = sum(route_cost(instance, seq) for per in self.routes for seq in per)
        order = np.argsort(instance.distances, axis=1, kind="stable")
        self.near = [
            [int(c) for c in row if c != 0 and c != i][:_NEIGHBOURS] for i, row in enumerate(order)
        ]

    # -- costs ---------------------------------------------------------------------------------

    def _given(self, i: int, quantities: list[int]) -> _Plan:
        """Return customer ``i``'s plan for given deliveries (the depot's row: all zero)."""
        if i == 0:
            return _Plan(tuple(quantities), 0.0)
        inst = self.inst
        level, use, arrive = int(inst.initial_levels_units[i]), self.use[i], self.arrive[i]
        top, floor = int(inst.max_levels_units[i]), int(inst.min_levels_units[i])
        rate = float(inst.holding_costs_per_unit_period[i])
        holding, missing = 0.0, 0
        for t in range(self.T):
            if arrive[t]:
                level = min(level + arrive[t], max(top, level))
            level += quantities[t] - use[t]
            missing += max(0, floor - level)
            level = max(level, 0)  # a dry tank loses what it cannot serve
            holding += rate * level
        return _Plan(tuple(quantities), holding, self.weights[i] * missing)

    def _wanted(self, i: int, periods: list[int], room: list[int] | None) -> list[int]:
        """Return the level each visit should leave, in visiting order.

        The floor plus the most net use until the next visit (fixed arrivals count), more where
        the next visit's route has too little room.
        """
        use, arrive = self.use[i], self.arrive[i]
        floor = int(self.inst.min_levels_units[i])
        wanted = [0] * len(periods)
        for j in range(len(periods) - 1, -1, -1):
            following = periods[j + 1] if j + 1 < len(periods) else self.T
            net = worst = 0
            for t in range(periods[j], following):
                net += use[t] - (arrive[t] if t > periods[j] else 0)
                worst = max(worst, net)
            wanted[j] = floor + worst
            if j + 1 < len(periods) and room is not None:
                reach = net - arrive[following]  # the next visit's arrival comes before it
                wanted[j] = max(wanted[j], wanted[j + 1] - room[following] + reach)
        return wanted

    def plan(self, i: int, visits: list[bool], room: list[int] | None = None) -> _Plan | None:
        """Return customer ``i``'s latest feasible deliveries for a visit pattern; None if short.

        Each visit brings what carries the tank to the next visit (or the horizon's end) at its
        floor, *just enough*; where a visit's route has only ``room[t]`` left, the missing part
        is delivered at earlier visits (as late as possible), within the tank's maximum level.
        Allowing shortfalls, a pattern that cannot keep the floor gets what the tank and the
        routes' room allow and its units below the floor are priced; otherwise it is refused.
        """
        inst = self.inst
        top, floor = int(inst.max_levels_units[i]), int(inst.min_levels_units[i])
        use, arrive = self.use[i], self.arrive[i]
        periods = [t for t in range(self.T) if visits[t]]
        wanted = self._wanted(i, periods, room)
        level = int(inst.initial_levels_units[i])
        rate = float(inst.holding_costs_per_unit_period[i])
        quantities = [0] * self.T
        holding, missing, j = 0.0, 0, 0
        for t in range(self.T):
            if arrive[t]:
                level = min(level + arrive[t], max(top, level))
            if visits[t]:
                amount = max(0, min(wanted[j], top) - level)
                if room is not None:
                    amount = max(0, min(amount, room[t]))
                quantities[t] = amount
                level += amount
                j += 1
            level -= use[t]
            missing += max(0, floor - level)
            level = max(level, 0)
            holding += rate * level
        if missing and not self.shortfalls:
            return None
        return _Plan(tuple(quantities), holding, self.weights[i] * missing)

    def depot_holding(self, shipped: list[int]) -> float | None:
        """Return the depot's holding cost for per-period shipments; None if it runs short."""
        terms = self.depot_terms(shipped)
        if terms is None or terms[1] > 0:
            return None
        return terms[0]

    def depot_terms(self, shipped: list[int]) -> tuple[float, float] | None:
        """Return the depot's (holding cost, weighted deficit) for per-period shipments.

        Without shortfalls a depot running short is refused (None). Allowing them, the deficit
        (the most the cumulative shipments exceed the stock) is priced at the least customer
        weight: at least that much must be cut from someone; holding counts the stock >= 0.
        """
        inst = self.inst
        stock, holding, lowest = int(inst.initial_levels_units[0]), 0.0, 0
        rate = float(inst.holding_costs_per_unit_period[0])
        for t in range(self.T):
            stock += self.production[t] - shipped[t]
            if stock < 0 and not self.shortfalls:
                return None
            lowest = min(lowest, stock)
            holding += rate * max(stock, 0)
        return holding, -lowest * self.least_weight

    def total(self) -> float:
        """Return the plan's cost: travel, customers' and depot's holding."""
        terms = self.depot_terms(self.shipped)
        assert terms is not None
        return self.travel + sum(p.holding for p in self.plans) + terms[0]

    def shortage(self) -> float:
        """Return the weighted units below the floor plus the depot's weighted deficit."""
        terms = self.depot_terms(self.shipped)
        assert terms is not None
        return sum(p.short for p in self.plans) + terms[1]

    # -- route geometry --------------------------------------------------------------------------

    def removal_saving(self, t: int, i: int) -> int:
        seq = self.routes[t][self.vehicle[t][i]]
        k = seq.index(i)
        before = seq[k - 1] if k > 0 else 0
        after = seq[k + 1] if k + 1 < len(seq) else 0
        return int(self.dist[before][i] + self.dist[i][after] - self.dist[before][after])

    def _duration(self, seq: list[int]) -> int:
        """Return a route's duration (travel and services); an empty one's is the depot's."""
        tour = [0, *seq, 0]
        travel = sum(self.times[a][b] for a, b in itertools.pairwise(tour))
        return int(travel + self.service[0] + sum(self.service[c] for c in seq))

    def _insertable(self, base: int, a: int, i: int, b: int) -> bool:
        """Return whether ``i`` between ``a`` and ``b`` keeps a route of ``base`` within limit."""
        if self.limit is None:
            return True
        times = self.times
        added = times[a][i] + self.service[i] + times[i][b] - times[a][b]
        return bool(base + added <= self.limit)

    def _removable(self, t: int, i: int) -> bool:
        """Return whether customer ``i``'s period-``t`` route stays within limit without it."""
        if self.limit is None:
            return True
        seq = [c for c in self.routes[t][self.vehicle[t][i]] if c != i]
        return not seq or self._duration(seq) <= self.limit

    def best_insertion(self, t: int, i: int, extra_load: int) -> tuple[int, int, int] | None:
        """Return (added travel, vehicle, position) of the cheapest feasible insertion."""
        best: tuple[int, int, int] | None = None
        empty_seen: set[int] = set()  # capacities of the empty vehicles tried
        for v in range(self.K):
            seq = self.routes[t][v]
            too_full = self.load[t][v] + extra_load > self.caps[v]
            if too_full or (not seq and self.caps[v] in empty_seen):
                continue
            tour = [0, *seq, 0]
            base = self._duration(seq) if self.limit is not None else 0
            for k in range(len(tour) - 1):
                a, b = tour[k], tour[k + 1]
                added = self.dist[a][i] + self.dist[i][b] - self.dist[a][b]
                if (best is None or added < best[0]) and self._insertable(base, a, i, b):
                    best = (added, v, k)
            if not seq:
                if not self.mixed:
                    break  # every empty vehicle is the same
                empty_seen.add(self.caps[v])
        return best

    def _overloads(self, t: int, i: int, extra: int) -> bool:
        """Return whether ``extra`` more for customer ``i`` overloads its period-``t`` route."""
        v = self.vehicle[t][i]
        return self.load[t][v] + extra > self.caps[v]

    # -- moves -----------------------------------------------------------------------------------

    def evaluate(
        self, i: int, visits: list[bool], drop: int | None, add: int | None
    ) -> Move | None:
        """Price changing customer ``i``'s visits (drop period, add period); None if infeasible."""
        old = self.plans[i].quantities
        room = [0] * self.T
        for t in range(self.T):
            if visits[t] and t != add:
                v = self.vehicle[t][i]
                room[t] = self.caps[v] - self.load[t][v] + old[t]
            elif visits[t]:
                freed = old[t] if t == drop else 0
                room[t] = max(
                    self.caps[v] - self.load[t][v] + (freed if v == self.vehicle[t][i] else 0)
                    for v in range(self.K)
                )
        if drop is not None and not self._removable(drop, i):
            return None
        plan = self.plan(i, visits, room)
        if plan is None:
            return None
        for t in range(self.T):
            kept = visits[t] and t not in (add, drop)
            if kept and self._overloads(t, i, plan.quantities[t] - old[t]):
                return None
        shipped = [self.shipped[t] - old[t] + plan.quantities[t] for t in range(self.T)]
        depot_new = self.depot_terms(shipped)
        if depot_new is None:
            return None
        depot_old = self.depot_terms(self.shipped)
        assert depot_old is not None
        delta = plan.holding - self.plans[i].holding + depot_new[0] - depot_old[0]
        short = plan.short - self.plans[i].short + depot_new[1] - depot_old[1]
        if drop is not None:
            delta -= self.removal_saving(drop, i)
        where = None
        if add is not None:
            if drop == add:  # re-insert in the same period: free its load first
                v = self.vehicle[add][i]
                self.load[add][v] -= old[add]
                self._take_out(add, i)
                where = self.best_insertion(add, i, plan.quantities[add])
                self._put_back(add, i, v)
                self.load[add][v] += old[add]
            else:
                where = self.best_insertion(add, i, plan.quantities[add])
            if where is None:
                return None
            delta += where[0]
        return Move(i, drop, add, where[1:] if where else None, plan, delta, short)

    def normalise(self) -> None:
        """Re-plan every customer's quantities for its visits where that lowers the cost."""
        for i in range(1, self.n + 1):
            visits = [self.vehicle[t][i] >= 0 for t in range(self.T)]
            move = self.evaluate(i, visits, None, None)
            if move is not None and _improves(move):
                self.apply(move)

    def _take_out(self, t: int, i: int) -> None:
        seq = self.routes[t][self.vehicle[t][i]]
        self._saved = (seq.index(i), list(seq))
        seq.remove(i)

    def _put_back(self, t: int, i: int, v: int) -> None:
        self.routes[t][v][:] = self._saved[1]

    def apply(self, move: Move) -> None:
        i = move.customer
        old = self.plans[i].quantities
        if move.drop is not None:
            t = move.drop
            v = self.vehicle[t][i]
            self.travel -= self.removal_saving(t, i)
            self.routes[t][v].remove(i)
            self.load[t][v] -= old[t]
            self.vehicle[t][i] = -1
        if move.add is not None and move.where is not None:
            t, (v, k) = move.add, move.where
            seq = self.routes[t][v]
            tour = [0, *seq, 0]
            self.travel += (
                self.dist[tour[k]][i] + self.dist[i][tour[k + 1]] - self.dist[tour[k]][tour[k + 1]]
            )
            seq.insert(k, i)
            self.vehicle[t][i] = v
            self.load[t][v] += move.plan.quantities[t]
        for t in range(self.T):
            delta = move.plan.quantities[t] - old[t]
            if self.vehicle[t][i] >= 0 and t != move.add:
                self.load[t][self.vehicle[t][i]] += delta
            self.shipped[t] += delta
        self.plans[i] = move.plan

    def moves_of(self, i: int) -> list[Move]:
        """Return every feasible move of customer ``i`` (remove, insert, shift, re-insert)."""
        visits = [self.vehicle[t][i] >= 0 for t in range(self.T)]
        found = []
        for drop in [None, *[t for t in range(self.T) if visits[t]]]:
            for add in [None, *range(self.T)]:
                if drop is None and add is None:
                    continue
                if add is not None and visits[add] and add != drop:
                    continue
                pattern = list(visits)
                if drop is not None:
                    pattern[drop] = False
                if add is not None:
                    pattern[add] = True
                move = self.evaluate(i, pattern, drop, add)
                if move is not None:
                    found.append(move)
        return found

    def _insertions(self, t: int, i: int) -> list[tuple[int, int, int, int]]:
        """Return (added travel, vehicle, position, load) of the cheapest place in each route."""
        found = []
        empty_seen: set[int] = set()  # capacities of the empty vehicles tried
        for v in range(self.K):
            tour = [0, *self.routes[t][v], 0]
            if len(tour) == 2 and self.caps[v] in empty_seen:
                continue
            base = self._duration(self.routes[t][v]) if self.limit is not None else 0
            options = [
                (
                    self.dist[tour[k]][i]
                    + self.dist[i][tour[k + 1]]
                    - self.dist[tour[k]][tour[k + 1]],
                    k,
                )
                for k in range(len(tour) - 1)
                if self._insertable(base, tour[k], i, tour[k + 1])
            ]
            if not options:
                continue
            added, k = min(options)
            found.append((added, v, k, self.load[t][v]))
            if len(tour) == 2:
                if not self.mixed:
                    break  # every empty vehicle is the same
                empty_seen.add(self.caps[v])
        return sorted(found)

    def pattern_moves_of(self, i: int) -> list[PatternMove]:
        """Return customer ``i``'s feasible changes of two or more visits at once.

        A tank that holds two or three periods of consumption cannot move one visit at a time:
        shifting visits (1, 4) to (2, 5) passes through (2, 4) or (1, 5), which overflow or run
        dry. Every visit pattern that drops or adds at least two periods is priced exactly
        (removals, cheapest insertions with room for the new loads, holding of the customer and
        the depot), each period's insertion places computed once. None beyond
        ``_MAX_PATTERN_PERIODS`` periods.
        """
        if self.T > _MAX_PATTERN_PERIODS:
            return []
        current = [self.vehicle[t][i] >= 0 for t in range(self.T)]
        count = sum(current)
        places: dict[int, list[tuple[int, int, int, int]]] = {}
        found = []
        if i not in self.tank_patterns:
            # A pattern the tank refuses without route limits is refused with them too.
            every = ([bool(mask >> t & 1) for t in range(self.T)] for mask in range(1, 1 << self.T))
            self.tank_patterns[i] = [p for p in every if self.plan(i, p) is not None]
        for pattern in self.tank_patterns[i]:
            drops = [t for t in range(self.T) if current[t] and not pattern[t]]
            adds = [t for t in range(self.T) if pattern[t] and not current[t]]
            if (len(drops) < 2 and len(adds) < 2) or abs(sum(pattern) - count) > 1:
                continue
            for t in adds:
                if t not in places:
                    places[t] = self._insertions(t, i)
            move = self._evaluate_pattern(i, pattern, drops, adds, places)
            if move is not None:
                found.append(move)
        return found

    def _evaluate_pattern(
        self,
        i: int,
        pattern: list[bool],
        drops: list[int],
        adds: list[int],
        places: dict[int, list[tuple[int, int, int, int]]],
    ) -> PatternMove | None:
        old = self.plans[i].quantities
        if any(not places[t] for t in adds):
            return None  # no route reaches the customer within the duration limit
        room = [0] * self.T
        for t in range(self.T):
            if t in adds:
                room[t] = max(self.caps[v] - load for _, v, _, load in places[t])
            elif pattern[t]:
                v = self.vehicle[t][i]
                room[t] = self.caps[v] - self.load[t][v] + old[t]
        if not all(self._removable(t, i) for t in drops):
            return None
        plan = self.plan(i, pattern, room)
        if plan is None:
            return None
        for t in range(self.T):
            kept = pattern[t] and t not in adds
            if kept and self._overloads(t, i, plan.quantities[t] - old[t]):
                return None
        shipped = [self.shipped[t] - old[t] + plan.quantities[t] for t in range(self.T)]
        depot_new = self.depot_terms(shipped)
        depot_old = self.depot_terms(self.shipped)
        if depot_new is None or depot_old is None:
            return None
        delta = plan.holding - self.plans[i].holding + depot_new[0] - depot_old[0]
        short = plan.short - self.plans[i].short + depot_new[1] - depot_old[1]
        delta -= sum(self.removal_saving(t, i) for t in drops)
        wheres = []
        for t in adds:
            fits = [p for p in places[t] if p[3] + plan.quantities[t] <= self.caps[p[1]]]
            if not fits:
                return None
            added, v, k, _ = fits[0]
            delta += added
            wheres.append((t, v, k))
        return PatternMove(i, tuple(drops), tuple(wheres), plan, delta, short)

    def apply_pattern(self, move: PatternMove) -> None:
        """Apply a :class:`PatternMove` (its drops and adds are in different periods)."""
        i = move.customer
        old = self.plans[i].quantities
        for t in move.drops:
            v = self.vehicle[t][i]
            self.travel -= self.removal_saving(t, i)
            self.routes[t][v].remove(i)
            self.load[t][v] -= old[t]
            self.vehicle[t][i] = -1
        added = set()
        for t, v, k in move.adds:
            tour = [0, *self.routes[t][v], 0]
            self.travel += (
                self.dist[tour[k]][i] + self.dist[i][tour[k + 1]] - self.dist[tour[k]][tour[k + 1]]
            )
            self.routes[t][v].insert(k, i)
            self.vehicle[t][i] = v
            self.load[t][v] += move.plan.quantities[t]
            added.add(t)
        for t in range(self.T):
            delta = move.plan.quantities[t] - old[t]
            if self.vehicle[t][i] >= 0 and t not in added:
                self.load[t][self.vehicle[t][i]] += delta
            self.shipped[t] += delta
        self.plans[i] = move.plan

    def two_opt_all(self) -> None:
        for t in range(self.T):
            for v in range(self.K):
                seq = self.routes[t][v]
                if len(seq) > 2:
                    better = list(two_opt(self.inst, tuple(seq)))
                    if self.limit is not None and self._duration(better) > self.limit:
                        continue  # shorter, but slower: travel times need not follow distances
                    self.travel += route_cost(self.inst, better) - route_cost(self.inst, seq)
                    self.routes[t][v][:] = better

    def to_solution(self) -> IrpSolution:
        routes = []
        for t in range(self.T):
            number = 0
            for v, seq in enumerate(self.routes[t]):
                stops = tuple(IrpStop(c, self.plans[c].quantities[t]) for c in seq)
                if stops:
                    # Identical vehicles are numbered 1.. by route; a mixed fleet keeps its own.
                    number = v + 1 if self.mixed else number + 1
                    routes.append(IrpRoute(t + 1, number, stops))
        return IrpSolution(tuple(routes))


@dataclass(frozen=True, slots=True)
class Move:
    """A priced change of one customer's visits: drop/add periods, insertion, new plan, delta."""

    customer: int
    drop: int | None
    add: int | None
    where: tuple[int, int] | None
    plan: _Plan
    delta: float
    short_delta: float = 0.0


@dataclass(frozen=True, slots=True)
class PatternMove:
    """A priced change of several of one customer's visits: periods dropped, (t, v, k) added."""

    customer: int
    drops: tuple[int, ...]
    adds: tuple[tuple[int, int, int], ...]
    plan: _Plan
    delta: float
    short_delta: float = 0.0


def _key(move: Move | PatternMove) -> tuple[float, float]:
    """Order moves by the change of weighted shortfall first, then of cost."""
    return (round(move.short_delta, 9), move.delta)


def _improves(move: Move | PatternMove) -> bool:
    return move.short_delta < -_EPS or (move.short_delta <= _EPS and move.delta < -1e-6)


def _local_search(
    state: _Search,
    rng: np.random.Generator,
    deadline: float,
    focus: set[int] | None = None,
    *,
    patterns: bool = True,
) -> None:
    """Apply improving moves (best per customer, random order) until none is left.

    With ``focus``, only those customers are examined first; a customer that moves puts itself
    and its nearest neighbours back on the list (after a perturbation, the rest of the plan is
    already a local optimum: at n = 200 a full pass takes about half a second).
    """
    pending = set(range(1, state.n + 1)) if focus is None else set(focus)
    while pending and time.monotonic() < deadline:
        order = rng.permutation(sorted(pending))
        pending = set()
        for i in order:
            moves: list[Move | PatternMove] = [*state.moves_of(int(i))]
            if patterns:
                moves.extend(state.pattern_moves_of(int(i)))
            if not moves:
                continue
            best = min(moves, key=_key)
            if _improves(best):
                if isinstance(best, Move):
                    state.apply(best)
                else:
                    state.apply_pattern(best)
                pending.update((int(i), *state.near[int(i)]))
        state.two_opt_all()


def _perturb(state: _Search, rng: np.random.Generator, strength: int) -> set[int]:
    """Apply ``strength`` random feasible moves; return the customers moved and their neighbours."""
    touched: set[int] = set()
    for _ in range(strength):
        i = int(rng.integers(1, state.n + 1))
        moves = state.moves_of(i)
        if moves:
            state.apply(moves[int(rng.integers(len(moves)))])
            touched.update((i, *state.near[i]))
    return touched


def _reroute(
    instance: IrpInstance,
    solution: IrpSolution,
    seed: int,
    period_time_s: float,
    pyvrp_iterations: int | None,
) -> IrpSolution:
    """Return ``solution`` with each period's routes re-routed by PyVRP where that is shorter.

    Re-routed stops keep no quantity (0): the quantity LP sets them.
    """
    periods: dict[int, list[IrpRoute]] = {}
    for route in solution.routes:
        periods.setdefault(route.period, []).append(route)
    for t, routes in periods.items():
        customers = [s.customer for r in routes for s in r.stops]
        loads = [int(s.quantity_units) for r in routes for s in r.stops]
        # Vehicles of one capacity come back numbered 1.. in route order, as before.
        fleet = route_period_fleet(
            instance,
            customers,
            loads,
            time_limit_s=period_time_s,
            seed=seed,
            max_iterations=pyvrp_iterations,
        )
        old_cost = sum(route_cost(instance, [s.customer for s in r.stops]) for r in routes)
        if fleet is not None and sum(route_cost(instance, b) for _, b in fleet) < old_cost:
            periods[t] = [IrpRoute(t, v, tuple(IrpStop(c, 0) for c in b)) for v, b in fleet]
    return IrpSolution(tuple(r for routes in periods.values() for r in routes))


def finish(
    instance: IrpInstance,
    solution: IrpSolution,
    *,
    seed: int,
    period_time_s: float = 0.1,
    pyvrp_iterations: int | None = None,
) -> IrpSolution:
    """Re-route each period with PyVRP, then optimise the quantities of those routes exactly.

    PyVRP gets ``period_time_s`` per period, or ``pyvrp_iterations`` iterations when given
    (deterministic).
    """
    rerouted = _reroute(instance, solution, seed, period_time_s, pyvrp_iterations)
    chosen = [tuple(s.customer for s in r.stops) for r in rerouted.routes]
    pool = [(route, route_cost(instance, route)) for route in dict.fromkeys(chosen)]
    index = {route: k for k, (route, _) in enumerate(pool)}
    fixed: list[list[int] | None] = [
        [index[tuple(s.customer for s in r.stops)] for r in rerouted.routes if r.period == t + 1]
        for t in range(instance.num_periods)
    ]
    result = solve_route_mip(instance, pool, time_limit_s=30.0, fixed_choice=fixed)
    if result is None:
        return solution
    return mip_solution(result)


def search_schedules(
    instance: IrpInstance,
    start: IrpSolution,
    *,
    time_limit_s: float,
    seed: int,
    max_iterations: int | None = None,
) -> IrpSolution:
    """Improve a feasible plan by iterated local search until ``time_limit_s`` has passed.

    Parameters
    ----------
    time_limit_s
        Wall-clock budget, seconds: 90 % goes to the search less what the final PyVRP pass gets
        (6 % of the budget, at least 0.1 s per period); ignored by the search when
        ``max_iterations`` is given.
    max_iterations
        Stop after this many perturbations instead of on the clock, and run the final PyVRP
        pass on an iteration budget too: the same seed then gives the same plan on any machine
        at any load (slower or faster, never different).

    Returns
    -------
    IrpSolution
        The best plan found (never worse than ``start`` as the checker prices it), with its
        quantities re-optimised by the LP.
    """
    counted = max_iterations is not None
    reroute_s = max(0.1, 0.06 * time_limit_s / instance.num_periods)
    search_s = max(time_limit_s * 0.9 - reroute_s * instance.num_periods, time_limit_s * 0.5)
    deadline = math.inf if counted else time.monotonic() + search_s
    rng = np.random.default_rng(seed)
    shortfalls = bool(start.shortfalls)
    state = _Search(instance, start, shortfalls=shortfalls)
    state.normalise()
    _local_search(state, rng, deadline)
    best, best_cost, best_short = state.to_solution(), state.total(), state.shortage()
    current, current_short = best_cost, best_short
    iterations = 0
    while _goes_on(iterations, max_iterations, deadline):
        iterations += 1
        saved = state.to_solution()
        touched = _perturb(state, rng, strength=int(rng.integers(2, 2 + max(2, state.n // 10))))
        _local_search(state, rng, deadline, touched)
        cost, short = state.total(), state.shortage()
        if max_iterations is not None:
            left = max(0.0, 1.0 - iterations / max_iterations)
        else:
            left = max(0.0, deadline - time.monotonic()) / search_s
        heat = 0.002 * best_cost * left
        if _accepts((short, cost), (current_short, current), heat, rng):
            current, current_short = cost, short
            if _before((short, cost), (best_short, best_cost)):
                best, best_cost, best_short = state.to_solution(), cost, short
        else:
            state = _Search(instance, saved, state.tank_patterns, shortfalls=shortfalls)
    pyvrp_iterations = _PYVRP_ITERATIONS if counted else None
    if shortfalls or instance.mixed_fleet or instance.varies_by_period:
        candidates = _finish_short(instance, best, start, seed, reroute_s, pyvrp_iterations)
    else:
        finished = finish(
            instance, best, seed=seed, period_time_s=reroute_s, pyvrp_iterations=pyvrp_iterations
        )
        # On a tie the finished plan wins: its quantities are the LP's, just enough where
        # holding does not decide (the baseline fills tanks to the top).
        candidates = [finished, best, start]
    priced = [(check_solution(instance, s), s) for s in candidates]
    valid = [(c.score, k) for k, (c, _) in enumerate(priced) if c.valid]
    chosen = candidates[min(valid)[1]] if valid else start
    extras = {"solver": "schedule-ils", "iterations": iterations}
    return IrpSolution(chosen.routes, chosen.shortfalls, extras)


def _finish_short(
    instance: IrpInstance,
    best: IrpSolution,
    start: IrpSolution,
    seed: int,
    period_time_s: float,
    pyvrp_iterations: int | None,
) -> list[IrpSolution]:
    """Return the candidates by the shortfall LP, each declaring its shortfalls (if any).

    Used when shortfalls are allowed, the vehicles differ, or consumption varies or fixed
    deliveries arrive (the route MIP's LP knows none of these).

    The search's best plan re-routed by PyVRP, its quantities and the start's re-optimised by
    the shortfall LP (:mod:`routing.irp.shortfall_lp`), then the best plan and the start as
    they are (the search's plan may overdraw the depot: the checker then refuses it).
    """
    rerouted = _reroute(instance, best, seed, period_time_s, pyvrp_iterations)
    found = []
    for plan in (rerouted, start):
        capacities = [instance.vehicle_capacity(r.vehicle) for r in plan.routes]
        optimised = optimise_quantities(instance, plan.routes, capacities)
        if optimised is not None:
            found.append(declare_shortfalls(instance, optimised))
    return [*found, declare_shortfalls(instance, best), start]


def _before(first: tuple[float, float], second: tuple[float, float]) -> bool:
    """Return whether (shortfall, cost) ``first`` is strictly better than ``second``."""
    return first[0] < second[0] - _EPS or (
        first[0] <= second[0] + _EPS and first[1] < second[1] - _EPS
    )


def _accepts(
    new: tuple[float, float],
    current: tuple[float, float],
    heat: float,
    rng: np.random.Generator,
) -> bool:
    """Return whether the search moves to (shortfall, cost) ``new``.

    Less shortfall always, more never; at equal shortfall a lower cost, or a higher one now
    and then (a simulated-annealing rule, ``heat`` cooling to 0; the draw is made only then).
    """
    if new[0] < current[0] - _EPS:
        return True
    if new[0] > current[0] + _EPS:
        return False
    return new[1] < current[1] - _EPS or bool(
        rng.random() < math.exp(-(new[1] - current[1]) / max(heat, _EPS))
    )


def _goes_on(iterations: int, max_iterations: int | None, deadline: float) -> bool:
    """Return whether the search continues: on its iteration budget, else on the clock."""
    if max_iterations is not None:
        return iterations < max_iterations
    return time.monotonic() < deadline
