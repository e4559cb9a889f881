"""Single sourcing: one supplier per facility-product, with a proven lower bound.

The network relaxation (every supplier allowed) is a proven lower bound; the sources are chosen
from its flow (:mod:`matcher._source_choice`) and the network restricted to the chosen arcs is
solved exactly; the plan reports the gap to the bound. Without carry-over each day is relaxed on
its own, by column generation on its nearest suppliers with a bound proven by LP duality
(:mod:`matcher._duals`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from data.schema.allocation import PRODUCTS, AllocationOptions
from matcher._flows import FlowMaker
from matcher._networks import Network, build_day_network, subnetwork
from matcher._scaling import Scaled
from matcher._solving import (
    DayTask,
    PartResult,
    Solution,
    map_days,
    part_from_flows,
    solution_from_parts,
    solve_arrays,
    solve_network,
    solve_part,
)
from matcher._source_choice import DayArcs, choose_single_sources, chosen_usable, list_day_arcs

_NEAREST_SUPPLIERS = 8
# Single sourcing relaxes each day on the 8 nearest suppliers of each facility-product that can
# deliver that day. Measured on the national benchmark (days 0, 3, 6): 3 and 5 nearest gave
# relaxations 0.9-37 % above the optimum and useless bounds; 8 gave 0.0001 % above it, a proven
# bound 0.0007-0.0024 % below it, and 0.20-0.24 s instead of 0.37-0.44 s a day.
_BOUND_TOLERANCE = 1e-4
# The proven bound may lie this far below the restricted relaxation (relative); farther, the day
# is relaxed on all its arcs instead, whose optimum is the exact bound.
_MAX_DUAL_PASSES = 200
# Bellman-Ford passes allowed for the potentials (20-30 on the national instance).
_PRICING_MIN_ARCS = 100_000
# Days with fewer live transport arcs are relaxed on all of them: such a solve takes under 0.1 s
# here, and the restricted rounds (1-3 solves) measured 1.0-2.2x slower on generated days of
# 20,000-40,000 arcs, against 0.6x on the national benchmark's 200,000.
_PRICING_ROUNDS = 3
# Restricted solves before relaxing a day on all its arcs. Measured on generated instances:
# 8 nearest were enough on each day of the national benchmark; elsewhere (other seeds and
# sizes) one or two more rounds, with the arcs priced below cost added, reached the tolerance.


def _nearest_live(one_day: Scaled, day_arcs: DayArcs, count: int) -> npt.NDArray[np.bool_]:
    """Mark the ``count`` nearest live arcs of each facility-product, in live-arc order.

    Live arcs (the supplier offers the product and the facility has demand that day) are the
    transport arcs of the day's network, in the same order; every live facility-product keeps
    at least one, so a network on the marked arcs has the same nodes.
    """
    a_s, a_f, a_p = day_arcs.arcs
    live = (one_day.capacity_q[a_s, a_p, 0] > 0) & (one_day.demand_q[a_f, 0] > 0)
    ordered = day_arcs.by_item[live[day_arcs.by_item]]
    item = a_f[ordered] * len(PRODUCTS) + a_p[ordered]
    starts = np.ones(len(ordered), bool)
    starts[1:] = item[1:] != item[:-1]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(ordered)), 0))
    marked = np.zeros(len(a_s), bool)
    marked[ordered[np.arange(len(ordered)) - first < count]] = True
    near_live: npt.NDArray[np.bool_] = marked[live]
    return near_live


def _relax_day(one_day: Scaled, day_arcs: DayArcs) -> tuple[PartResult, int]:
    """Relax one day (no single sourcing) and prove a lower bound on the relaxation's optimum.

    Column generation on the transport arcs: solve the day on each facility-product's nearest
    suppliers, take that flow's potentials (Bellman-Ford on its residual network) and price
    every arc with them. By LP duality (:func:`matcher._duals.dual_bound`) that prices a lower
    bound on the optimum over all arcs; once it lies within ``_BOUND_TOLERANCE`` of the
    restricted optimum, the restricted flow and that bound are the answer. Otherwise the arcs
    priced below their cost join and the day is solved again, up to ``_PRICING_ROUNDS`` times;
    then, or at once on days with fewer than ``_PRICING_MIN_ARCS`` transport arcs, the day is
    relaxed on all its arcs, whose optimum is the exact bound.
    """
    full = build_day_network(one_day, 0, day_arcs.arcs)
    if len(full.t_s) >= _PRICING_MIN_ARCS:
        priced = _priced_relaxation(full, _nearest_live(one_day, day_arcs, _NEAREST_SUPPLIERS))
        if priced is not None:
            return priced
    relaxed = solve_part(full)
    return relaxed, relaxed.cost


def _priced_relaxation(
    full: Network, selected: npt.NDArray[np.bool_]
) -> tuple[PartResult, int] | None:
    """Run the pricing rounds of :func:`_relax_day` from the ``selected`` transport arcs.

    Returns the restricted relaxation and its proven bound, or ``None`` when the rounds end
    without a bound within ``_BOUND_TOLERANCE``.
    """
    from matcher._duals import dual_bound, residual_potentials

    n_t = len(full.t_s)
    for _ in range(_PRICING_ROUNDS):
        if selected.all():
            return None
        restricted = subnetwork(full, selected)
        flows, cost = solve_arrays(
            restricted.tails, restricted.heads, restricted.caps, restricted.costs, full.supplies
        )
        potentials, converged = residual_potentials(
            len(full.supplies),
            restricted.tails,
            restricted.heads,
            restricted.caps,
            restricted.costs,
            flows,
            _MAX_DUAL_PASSES,
        )
        if not converged:
            return None
        bound = dual_bound(potentials, full.tails, full.heads, full.caps, full.costs, full.supplies)
        if bound is not None and cost - bound <= _BOUND_TOLERANCE * max(1, abs(cost)):
            return part_from_flows(restricted, flows, cost), bound
        priced = potentials[full.tails[:n_t]] - potentials[full.heads[:n_t]] > full.costs[:n_t]
        selected = selected | priced
    return None


def _one_day(scaled: Scaled, day: int) -> Scaled:
    """Return the problem of one day, as a one-day horizon."""
    return dataclasses.replace(
        scaled,
        capacity_q=scaled.capacity_q[:, :, day : day + 1],
        demand_q=scaled.demand_q[:, day : day + 1],
    )


def _on_day(part: PartResult, day: int) -> PartResult:
    """Return a one-day part moved to ``day`` of the horizon."""
    return dataclasses.replace(
        part,
        arcs=dataclasses.replace(part.arcs, d=np.full(len(part.arcs.d), day, np.int64)),
        u_d=np.full(len(part.u_d), day, np.int64),
    )


def _relax_day_task(
    scaled: Scaled, day_arcs: DayArcs, options: AllocationOptions, day: int
) -> tuple[PartResult, int]:
    """Return the relaxation of one independent day and its proven lower bound."""
    relaxed, bound = _relax_day(_one_day(scaled, day), day_arcs)
    return _on_day(relaxed, day), bound


def _single_source_day_task(
    scaled: Scaled, day_arcs: DayArcs, options: AllocationOptions, day: int
) -> tuple[PartResult, int]:
    """Single sourcing on one independent day: relax, choose the sources, re-solve.

    Returns the day's final part and the proven lower bound of its relaxation.
    """
    one_day = _one_day(scaled, day)
    relaxed, bound = _relax_day(one_day, day_arcs)
    n_f = scaled.demand_q.shape[0]
    relaxed_day = solution_from_parts(n_f, 1, [relaxed])
    chosen = choose_single_sources(one_day, relaxed_day, options, day_arcs.sources)[0]
    f_all, p_all = np.nonzero(chosen >= 0)
    s_all = chosen[f_all, p_all]
    order = np.lexsort((p_all, f_all, s_all))  # the order of np.nonzero on an (S, F, P) mask
    final = solve_part(build_day_network(one_day, 0, (s_all[order], f_all[order], p_all[order])))
    return _on_day(final, day), bound


def solve_single_sourcing(
    scaled: Scaled, options: AllocationOptions, make_flows: FlowMaker
) -> tuple[Solution, float]:
    """Single sourcing: the plan restricted to one supplier per item, and a proven lower bound.

    Without carry-over the days are independent: each day's relaxation is solved on its own,
    with its proven bound (:func:`_relax_day`), in parallel with ``workers``; per day, each day
    is also assigned and re-solved in the same task. Over the horizon, the sources are chosen
    from all days' relaxations at once. With carry-over, the coupled horizon is relaxed exactly.
    """
    n_f, n_d = scaled.demand_q.shape
    bounds: list[int] = []

    day_arcs = list_day_arcs(scaled)

    def bounded(task: DayTask) -> Iterator[PartResult]:
        for part, bound in map_days(task, scaled, day_arcs, options):
            bounds.append(bound)
            yield part

    if options.single_sourcing_scope == "day" and not options.carry_over:
        solution = solution_from_parts(n_f, n_d, bounded(_single_source_day_task), make_flows)
        lower_bound = float(sum(bounds))
    else:
        if options.carry_over:
            relaxed = solve_network(scaled, options, scaled.usable)
            lower_bound = relaxed.objective
        else:
            relaxed = solution_from_parts(n_f, n_d, bounded(_relax_day_task))
            lower_bound = float(sum(bounds))
        chosen = choose_single_sources(scaled, relaxed, options, day_arcs.sources)
        solution = solve_network(scaled, options, chosen_usable(scaled, chosen), make_flows)
    if solution.objective > lower_bound:
        solution = dataclasses.replace(solution, status="feasible")
    return solution, lower_bound
