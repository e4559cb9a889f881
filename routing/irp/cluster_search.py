"""Regroup whole regions into shared delivery periods on large inventory-routing instances.

On large instances (n > 50) the baseline already makes the fewest visits the tanks allow in
nearly full routes; what is left is *which customers share a period*. The schedule search moves
one customer at a time, so it cannot turn an interleaved plan (neighbours visited on alternate
periods, every route crossing the whole map) into one where each period serves a compact region.
This step builds such plans directly, then hands the best one to the schedule search:

1. **Visit patterns per customer.** Every set of periods the tank allows with the fewest visits,
   quantities by the just-enough rule (each visit brings what carries the tank to the next visit
   at its floor), priced by the customer's holding cost less the depot's (a unit shipped earlier
   leaves the depot earlier).
2. **Phase templates.** Pairs of period sets among the ``TEMPLATE_MASKS`` most common of
   those patterns (every ordered pair, and the disjoint pair covering the most periods: on the
   benchmark's six periods, 1-3-5 and 2-4-6).
3. **Split the map in two.** Customers are sorted by their projection on one of
   ``LINE_DIRECTIONS`` directions, or by their angle around the depot; those before a share
   (``SPLIT_SHARES``) of the total consumption take the first template, the rest the second.
   Each customer then takes its pattern closest to its template (Jaccard similarity of the
   period sets; the lower holding on a tie).
4. **Rank, route and price.** A quick estimate (:func:`split_proxy`: routes needed per period
   times a round trip, nearest-neighbour distances within each period, holding) ranks the
   splits that fit the fleet; PyVRP routes the ``SPLITS_ROUTED`` best, on an iteration budget,
   and the checker prices them. The cheapest feasible split (or the plan given, when no split
   beats it) starts :func:`routing.irp.schedule_search.search_schedules`, which gets the rest
   of the time.

Splitting in more parts was tried and dropped: twelve k-means clusters with templates chosen
by the estimate cost 9-13 % more than the best two-way split on ``L_abs6n200_4_L``.

The answer is never worse than the plan given (both are priced by the checker). Design and
figures: docs/irp.md, "Large instances".
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from routing.irp._pyvrp_period import route_period_fleet
from routing.irp.checker import check_solution
from routing.irp.instance import IrpInstance
from routing.irp.schedule_search import search_schedules
from routing.irp.solution import IrpRoute, IrpSolution, IrpStop

LINE_DIRECTIONS = 16  # split lines tried, every 22.5 degrees (a direction and its reverse)
TEMPLATE_MASKS = 8  # the most common fewest-visit patterns, paired as templates
SPLIT_SHARES = (0.5, 0.4, 0.6)  # of the consumption on the first template's side
SPLITS_ROUTED = 12  # splits of best proxy routed by PyVRP (fewer when the clock runs out)
MIN_SPLITS_ROUTED = 6  # routed even past the construction's share of the clock
CONSTRUCTION_SHARE = 0.2  # of the budget, at most, for routing the splits (clock mode)
_SPLIT_PYVRP_ITERATIONS = 300  # per period and split: about 0.2 s at 100 customers
_MAX_PATTERN_PERIODS = 12  # beyond, 2^T patterns per customer are too many to list


@dataclass(frozen=True, slots=True)
class VisitPattern:
    """One customer's visits over the horizon with the just-enough quantities.

    Attributes
    ----------
    periods_mask
        Bit t (0-based) set when the customer is visited in period t + 1.
    quantities_units
        Delivered per period (0 where not visited).
    holding
        The customer's holding cost minus the depot's holding cost saved by shipping these
        quantities (the depot's part relative to shipping nothing); comparable across patterns
        of one customer only.
    """

    periods_mask: int
    quantities_units: tuple[int, ...]
    holding: float


_IDLE = VisitPattern(0, (), 0.0)  # placeholder of position 0 (the depot)


def _just_enough(
    instance: IrpInstance, customer: int, periods: list[int]
) -> tuple[int, ...] | None:
    """Return the just-enough deliveries for visits in ``periods`` (0-based); None if infeasible."""
    num_periods = instance.num_periods
    start = int(instance.initial_levels_units[customer])
    top = int(instance.max_levels_units[customer])
    floor = int(instance.min_levels_units[customer])
    use = int(instance.demands_per_period_units[customer])

    def needed(last: int) -> int:  # cumulative deliveries needed by the end of period ``last``
        return max(0, (last + 1) * use + floor - start)

    first = periods[0] if periods else num_periods
    if first > 0 and needed(first - 1) > 0:
        return None
    quantities = [0] * num_periods
    previous = 0
    for j, t in enumerate(periods):
        following = periods[j + 1] if j + 1 < len(periods) else num_periods
        total = needed(following - 1)
        if start + total - t * use > top:  # the tank cannot take it
            return None
        quantities[t] = total - previous
        previous = total
    return tuple(quantities)


def fewest_visit_patterns(instance: IrpInstance, customer: int) -> list[VisitPattern]:
    """Return every visit pattern of ``customer`` with the fewest visits its tank allows.

    Sorted by ``holding`` (lowest first). Empty when the horizon has more than
    ``_MAX_PATTERN_PERIODS`` periods (the step is then skipped) or when no pattern keeps the tank
    within its bounds (the caller's plan must then already be short).
    """
    num_periods = instance.num_periods
    if num_periods > _MAX_PATTERN_PERIODS:
        return []
    own_h = float(instance.holding_costs_per_unit_period[customer])
    depot_h = float(instance.holding_costs_per_unit_period[0])
    use = int(instance.demands_per_period_units[customer])
    found: list[VisitPattern] = []
    for mask in range(1 << num_periods):
        periods = [t for t in range(num_periods) if mask >> t & 1]
        if found and len(periods) > bin(found[0].periods_mask).count("1"):
            continue
        quantities = _just_enough(instance, customer, periods)
        if quantities is None:
            continue
        level, shipped, holding = int(instance.initial_levels_units[customer]), 0, 0.0
        for t in range(num_periods):
            level += quantities[t] - use
            shipped += quantities[t]
            holding += own_h * level - depot_h * shipped
        pattern = VisitPattern(mask, quantities, holding)
        if found and len(periods) < bin(found[0].periods_mask).count("1"):
            found = []
        found.append(pattern)
    return sorted(found, key=lambda p: (p.holding, p.periods_mask))


def phase_templates(patterns: list[list[VisitPattern]]) -> tuple[int, int] | None:
    """Return two disjoint period masks among the patterns, covering the most periods.

    Ties go to the pair whose masks are the most common patterns. None when no two patterns
    are disjoint (every customer then shares a period with every other anyway).
    """
    counts = Counter(p.periods_mask for options in patterns for p in options)
    pairs = [
        (first, second)
        for first in counts
        for second in counts
        if first < second and not first & second
    ]
    if not pairs:
        return None
    first, second = max(
        pairs,
        key=lambda pair: (
            bin(pair[0] | pair[1]).count("1"),
            counts[pair[0]] + counts[pair[1]],
            -pair[0],
        ),
    )
    return (first, second) if counts[first] >= counts[second] else (second, first)


def _jaccard(a: int, b: int) -> float:
    union = bin(a | b).count("1")
    return bin(a & b).count("1") / union if union else 1.0


def _line_order(instance: IrpInstance, angle_rad: float) -> list[int]:
    projection = instance.xs[1:] * math.cos(angle_rad) + instance.ys[1:] * math.sin(angle_rad)
    return [int(c) for c in np.argsort(projection, kind="stable") + 1]


def _sweep_order(instance: IrpInstance, *, clockwise: bool) -> list[int]:
    angles = np.arctan2(instance.ys[1:] - instance.ys[0], instance.xs[1:] - instance.xs[0])
    return [int(c) for c in np.argsort(-angles if clockwise else angles, kind="stable") + 1]


def _closest(options: list[VisitPattern], template: int) -> VisitPattern:
    """Return the pattern most similar to ``template`` (Jaccard), the lower holding on a tie."""
    return max(options, key=lambda p: (_jaccard(p.periods_mask, template), -p.holding))


def split_by_line(
    instance: IrpInstance,
    patterns: list[list[VisitPattern]],
    templates: tuple[int, int],
    angle_rad: float,
    *,
    share: float = 0.5,
) -> list[VisitPattern]:
    """Give each customer a pattern: one template on one side of a line, the other beyond.

    Customers are sorted by their projection on the direction ``angle_rad``; see
    :func:`split_in_order` for the rest.
    """
    order = _line_order(instance, angle_rad)
    return split_in_order(instance, patterns, templates, order, share=share)


def split_by_sweep(
    instance: IrpInstance,
    patterns: list[list[VisitPattern]],
    templates: tuple[int, int],
    *,
    share: float = 0.5,
    clockwise: bool = False,
) -> list[VisitPattern]:
    """Give each customer a pattern by its angle around the depot (two sectors).

    Customers are sorted by their angle seen from the depot (counter-clockwise from the west,
    or the reverse); see :func:`split_in_order` for the rest.
    """
    order = _sweep_order(instance, clockwise=clockwise)
    return split_in_order(instance, patterns, templates, order, share=share)


def split_in_order(
    instance: IrpInstance,
    patterns: list[list[VisitPattern]],
    templates: tuple[int, int],
    order: list[int],
    *,
    share: float = 0.5,
) -> list[VisitPattern]:
    """Give the customers before ``share`` of the consumption one template, the others the other.

    Walking ``order`` (every customer once), customers follow ``templates[0]`` until ``share``
    of the total consumption per period is reached, then ``templates[1]``. Each takes its
    pattern most similar to its template (Jaccard on the periods), the lower holding on a tie.

    Returns
    -------
    list of VisitPattern
        Position i holds customer i's pattern (position 0, the depot, a placeholder).
    """
    first = [_closest(options, templates[0]) if options else _IDLE for options in patterns]
    second = [_closest(options, templates[1]) if options else _IDLE for options in patterns]
    return _assign(instance, order, share, first, second)


def _assign(
    instance: IrpInstance,
    order: list[int],
    share: float,
    first: list[VisitPattern],
    second: list[VisitPattern],
) -> list[VisitPattern]:
    use = instance.demands_per_period_units
    first_part = float(use[1:].sum()) * share
    chosen = [VisitPattern(0, (0,) * instance.num_periods, 0.0)] * (instance.num_customers + 1)
    running = 0.0
    for customer in order:
        chosen[customer] = first[customer] if running < first_part else second[customer]
        running += float(use[customer])
    return chosen


def route_patterns(
    instance: IrpInstance,
    chosen: list[VisitPattern],
    *,
    seed: int,
    pyvrp_iterations: int = _SPLIT_PYVRP_ITERATIONS,
) -> IrpSolution | None:
    """Route each period's just-enough loads with PyVRP; None when a period does not fit.

    The instance's own vehicles (capacities, and the route duration when it sets one) are used,
    so a mixed fleet is routed within each vehicle's capacity.
    """
    routes: list[IrpRoute] = []
    for t in range(instance.num_periods):
        customers = [i for i in range(1, len(chosen)) if chosen[i].quantities_units[t] > 0]
        loads = [chosen[i].quantities_units[t] for i in customers]
        found = route_period_fleet(
            instance,
            customers,
            loads,
            time_limit_s=60.0,
            seed=seed,
            max_iterations=pyvrp_iterations,
        )
        if found is None:
            return None
        for vehicle, sequence in found:
            stops = tuple(IrpStop(c, chosen[c].quantities_units[t]) for c in sequence)
            routes.append(IrpRoute(t + 1, vehicle, stops))
    return IrpSolution(tuple(routes))


def split_proxy(instance: IrpInstance, chosen: list[VisitPattern]) -> float | None:
    """Return a quick estimate of a split's cost; None when a period's loads exceed the fleet's.

    Per period: the routes it needs at least (``ceil(load / largest capacity)``) times a
    round trip to the load-weighted mean customer, plus the mean distance of each visited
    customer to its two nearest customers visited in the same period (the local part of the
    tours); plus the patterns' holding. It ranks splits; PyVRP prices the best of them.
    """
    distances = instance.distances.astype(np.float64)
    use = instance.demands_per_period_units[1:]
    round_trip = 2 * float(np.average(distances[0, 1:], weights=np.maximum(use, 1)))
    capacity = instance.largest_capacity_units
    fleet_capacity = sum(instance.capacities)
    total = sum(p.holding for p in chosen[1:])
    for t in range(instance.num_periods):
        visited = [i for i in range(1, len(chosen)) if chosen[i].quantities_units[t] > 0]
        load = sum(chosen[i].quantities_units[t] for i in visited)
        if load > fleet_capacity:
            return None
        total += math.ceil(load / capacity) * round_trip
        if len(visited) > 2:
            sub = distances[np.ix_(visited, visited)]
            np.fill_diagonal(sub, np.inf)
            total += float(np.partition(sub, 1, axis=1)[:, :2].mean(axis=1).sum())
    return total


def _candidate_splits(
    instance: IrpInstance, patterns: list[list[VisitPattern]]
) -> list[tuple[float, list[VisitPattern]]]:
    """Return every split (templates x line or sweep x share) that fits, best proxy first."""
    counts = Counter(p.periods_mask for options in patterns[1:] for p in options)
    common = [mask for mask, _ in counts.most_common(TEMPLATE_MASKS)]
    pairs = [(a, b) for a in common for b in common if a != b]
    disjoint = phase_templates(patterns[1:])
    if disjoint is not None and disjoint not in pairs:
        pairs.append(disjoint)
    orders = [
        _line_order(instance, 2 * math.pi * k / LINE_DIRECTIONS) for k in range(LINE_DIRECTIONS)
    ]
    orders += [_sweep_order(instance, clockwise=side) for side in (False, True)]
    closest = {
        mask: [_closest(options, mask) if options else _IDLE for options in patterns]
        for mask in {m for pair in pairs for m in pair}
    }
    found: list[tuple[float, list[VisitPattern]]] = []
    seen: set[tuple[int, ...]] = set()
    for (first, second), order, share in itertools.product(pairs, orders, SPLIT_SHARES):
        chosen = _assign(instance, order, share, closest[first], closest[second])
        key = tuple(p.periods_mask for p in chosen)
        if key in seen:
            continue
        seen.add(key)
        estimate = split_proxy(instance, chosen)
        if estimate is not None:
            found.append((estimate, chosen))
    found.sort(key=lambda item: item[0])
    return found


def best_split(
    instance: IrpInstance, *, seed: int, deadline: float = math.inf
) -> tuple[IrpSolution, float] | None:
    """Return the cheapest feasible split (routed by PyVRP) and its cost; None if none is.

    The ``SPLITS_ROUTED`` splits of best proxy are routed in proxy order; with a finite
    ``deadline`` the ones not started by then are skipped, once ``MIN_SPLITS_ROUTED`` are
    routed (the estimate's first choice is not always the best: on ``L_abs6n200_4_L`` it
    routed 12.7 % above the best known, the fifth 4.9 %).
    """
    patterns: list[list[VisitPattern]] = [[]] + [
        fewest_visit_patterns(instance, i) for i in range(1, instance.num_customers + 1)
    ]
    if any(not options for options in patterns[1:]):
        return None
    best: tuple[IrpSolution, float] | None = None
    for k, (_, chosen) in enumerate(_candidate_splits(instance, patterns)[:SPLITS_ROUTED]):
        if k >= MIN_SPLITS_ROUTED and time.monotonic() > deadline:
            break
        plan = route_patterns(instance, chosen, seed=seed)
        if plan is None:
            continue
        check = check_solution(instance, plan)
        if check.feasible and (best is None or check.total_cost < best[1]):
            best = (plan, check.total_cost)
    return best


def regroup_by_region(
    instance: IrpInstance,
    start: IrpSolution,
    *,
    time_limit_s: float,
    seed: int,
    max_iterations: int | None = None,
) -> IrpSolution:
    """Improve a feasible plan by regrouping regions into shared periods, then searching.

    Parameters
    ----------
    start
        A feasible plan without shortfalls (the baseline, or a searched plan).
    time_limit_s
        Wall-clock budget, seconds: the splits get at most ``CONSTRUCTION_SHARE`` of it, the
        schedule search the rest.
    max_iterations
        When given, every split is routed (PyVRP on iteration budgets) and the schedule search
        stops after that many perturbations: the same seed gives the same plan on any machine.

    Returns
    -------
    IrpSolution
        The cheapest feasible plan of: the schedule search started from the better of the best
        split and ``start``, and ``start`` itself (priced by the checker). ``extras`` hold
        ``solver`` (``"regroup+schedule-ils"``), ``split_cost`` (the best split before the
        search, None when none was feasible) and the search's ``iterations``.
    """
    started = time.monotonic()
    counted = max_iterations is not None
    deadline = math.inf if counted else started + CONSTRUCTION_SHARE * time_limit_s
    start_check = check_solution(instance, start)
    split = best_split(instance, seed=seed, deadline=deadline)
    origin = start
    if split is not None and (not start_check.feasible or split[1] < start_check.total_cost):
        origin = split[0]
    left_s = max(time_limit_s - (time.monotonic() - started), 0.1)
    searched = search_schedules(
        instance, origin, time_limit_s=left_s, seed=seed, max_iterations=max_iterations
    )
    searched_check = check_solution(instance, searched)
    chosen = searched
    if start_check.feasible and (
        not searched_check.feasible or start_check.total_cost < searched_check.total_cost - 1e-6
    ):
        chosen = start
    extras = {
        **searched.extras,
        "solver": "regroup+schedule-ils",
        "split_cost": None if split is None else round(split[1], 4),
    }
    return IrpSolution(chosen.routes, chosen.shortfalls, extras)
