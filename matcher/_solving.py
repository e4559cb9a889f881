"""Solve the allocation's networks exactly: min-cost flows, in worker processes for many days.

OR-Tools, and the process pool of ``workers > 1``, are imported where they are used, so that
``import matcher`` does not load them (see :mod:`matcher`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from data.schema.allocation import AllocationOptions, Flow
from matcher._flows import FlowMaker
from matcher._networks import (
    Arcs,
    Network,
    TransportArcs,
    build_day_network,
    build_horizon_network,
    concat_transport,
    usable_arcs,
)
from matcher._scaling import Scaled


@dataclass(frozen=True, slots=True)
class Solution:
    """A solved allocation in quanta: transport per arc, unmet demand per facility-day."""

    transport_q: npt.NDArray[np.float64]  # quantity on each transport arc
    unmet_q: npt.NDArray[np.float64]  # (F, D)
    objective: float
    status: str
    arcs: TransportArcs
    # The plan's flows, when they were built while the solve went on (see solution_from_parts).
    flows: list[Flow] | None = None


def solve_arrays(
    tails: npt.NDArray[np.int64],
    heads: npt.NDArray[np.int64],
    caps: npt.NDArray[np.int64],
    costs: npt.NDArray[np.int64],
    supplies: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], int]:
    """Solve one min-cost flow exactly; return the arc flows and the optimal cost."""
    from ortools.graph.python import min_cost_flow

    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    solver.set_nodes_supplies(np.arange(len(supplies)), supplies)
    status = solver.solve()
    if status != solver.OPTIMAL:
        # Cannot happen on validated input (unmet arcs make every instance feasible and the
        # ranges were checked); fail loudly rather than return a wrong plan.
        raise RuntimeError(f"min-cost flow returned status {status} on a validated network")
    return solver.flows(np.arange(len(tails))), int(solver.optimal_cost())


@dataclass(frozen=True, slots=True)
class PartResult:
    """What one solved network contributes to the plan: positive transport and unmet quanta."""

    arcs: TransportArcs
    transport_q: npt.NDArray[np.int64]
    u_f: npt.NDArray[np.int64]
    u_d: npt.NDArray[np.int64]
    unmet_q: npt.NDArray[np.int64]
    cost: int


def solve_part(network: Network) -> PartResult:
    """Solve one network and keep only its nonzero flows (compact, for worker processes)."""
    flows, cost = solve_arrays(
        network.tails, network.heads, network.caps, network.costs, network.supplies
    )
    return part_from_flows(network, flows, cost)


def part_from_flows(network: Network, flows: npt.NDArray[np.int64], cost: int) -> PartResult:
    """Keep a solved network's nonzero transport and unmet flows."""
    n_t = len(network.t_s)
    keep = np.nonzero(flows[:n_t] > 0)[0]
    unmet = flows[network.first_unmet :]
    short = np.nonzero(unmet > 0)[0]
    return PartResult(
        arcs=TransportArcs(
            s=network.t_s[keep], f=network.t_f[keep], p=network.t_p[keep], d=network.t_d[keep]
        ),
        transport_q=flows[keep],
        u_f=network.u_f[short],
        u_d=network.u_d[short],
        unmet_q=unmet[short],
        cost=cost,
    )


_WORKER_STATE: tuple[Scaled, Any, AllocationOptions] | None = None
# The problem a worker process solves days of; set once per worker by ``_init_worker`` (inherited
# without copying under ``fork``), so that each task sends only a day number.

DayTask = Callable[[Scaled, Any, AllocationOptions, int], Any]
"""``task(scaled, context, options, day)``: the context is what every day shares (the arcs)."""


def _init_worker(scaled: Scaled, context: Any, options: AllocationOptions) -> None:
    global _WORKER_STATE
    _WORKER_STATE = (scaled, context, options)


def _run_in_worker(task: DayTask, day: int) -> Any:
    assert _WORKER_STATE is not None, "worker started without _init_worker"
    return task(*_WORKER_STATE, day)


def map_days(
    task: DayTask,
    scaled: Scaled,
    context: Any,
    options: AllocationOptions,
) -> Iterator[Any]:
    """Yield ``task(scaled, context, options, day)`` for every day, in order.

    In ``options.workers`` processes when more than one is asked for: OR-Tools' min-cost flow
    holds the GIL while it solves (measured: a Python thread got 2 % of its ticks during a
    solve), so threads do not overlap; processes do. Each worker receives the problem once and
    then builds and solves whole days, returning compact results; a day is yielded as soon as it
    and the days before it are done, so the caller can use it while later days are solved. Every
    day is computed identically either way, so the plan does not depend on ``workers``.
    """
    n_d = scaled.demand_q.shape[1]
    if options.workers <= 1 or n_d <= 1:
        for day in range(n_d):
            yield task(scaled, context, options, day)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    start_method = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(
        max_workers=min(options.workers, n_d),
        mp_context=start_method,
        initializer=_init_worker,
        initargs=(scaled, context, options),
    ) as pool:
        yield from pool.map(functools.partial(_run_in_worker, task), range(n_d))


def _solve_day_task(scaled: Scaled, arcs: Arcs, options: AllocationOptions, day: int) -> PartResult:
    return solve_part(build_day_network(scaled, day, arcs))


def solution_from_parts(
    n_f: int, n_d: int, parts: Iterable[PartResult], make_flows: FlowMaker | None = None
) -> Solution:
    """Assemble the solution of independent networks (proven optimal each), in day order.

    With ``make_flows``, each part's plan flows are built as the part arrives, while worker
    processes may still be solving later days.
    """
    unmet = np.zeros((n_f, n_d))
    done: list[PartResult] = []
    flows: list[Flow] | None = [] if make_flows is not None else None
    for part in parts:
        unmet[part.u_f, part.u_d] = part.unmet_q
        done.append(part)
        if make_flows is not None and flows is not None:
            flows.extend(make_flows(part.arcs, part.transport_q.astype(np.float64)))
    return Solution(
        transport_q=np.concatenate([part.transport_q for part in done]).astype(np.float64),
        unmet_q=unmet,
        objective=float(sum(part.cost for part in done)),
        status="optimal",
        arcs=concat_transport([part.arcs for part in done]),
        flows=flows,
    )


def solve_network(
    scaled: Scaled,
    options: AllocationOptions,
    usable: npt.NDArray[np.bool_],
    make_flows: FlowMaker | None = None,
) -> Solution:
    """Solve the min-cost flow exactly: one network per day, or one coupled network."""
    n_f, n_d = scaled.demand_q.shape
    if options.carry_over:
        parts: Iterable[PartResult] = [solve_part(build_horizon_network(scaled, usable))]
    else:
        parts = map_days(_solve_day_task, scaled, usable_arcs(usable), options)
    return solution_from_parts(n_f, n_d, parts, make_flows)
