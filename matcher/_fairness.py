"""Fairness mode: minimise the largest unmet share, then weighted unmet demand, then transport.

The share is found by an LP (GLOP) and then exactly in whole quanta by bisection with max flows;
the networks with the unmet demand capped at that share are solved by the min-cost flow. OR-Tools
and SciPy are imported where they solve, so that ``import matcher`` does not load them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from data.errors import SolverTimeoutError
from data.schema.allocation import AllocationOptions
from matcher._networks import Network, TransportArcs, build_networks, concat_transport
from matcher._scaling import Scaled
from matcher._solving import Solution, solution_from_parts, solve_part


def solve_fairness(scaled: Scaled, options: AllocationOptions) -> Solution:
    """Minimise the largest unmet share, then weighted unmet demand, then transport.

    Stage 1, the largest share, is an LP (GLOP): the networks' own flow LP with one share row
    per facility-day, built from the arc arrays in one sparse matrix (node balance rows from the
    arcs' tails and heads, share rows from the unmet arcs), not variable by variable. Only
    facility-days that some supplier can serve count in the largest share; those with no usable
    supplier are unmet whatever the plan does and would pin the share at 1.

    The rest is exact, in integer quanta like every other mode: a largest share ``z`` caps each
    such unmet arc at ``floor(z x demand)``, so the smallest ``z`` whose networks stay feasible
    (found by bisection from the LP's value, each step a max flow per network) is the best
    largest share a plan in quanta can have; the networks with those caps are then solved by the
    min-cost flow, whose objective puts weighted unmet demand before transport. (GLOP's later
    stages, as first written, left flows a few millionths of a quantum over some capacities and
    took 20 s on 3,000 facilities x 30 suppliers.)
    """
    n_f, n_d = scaled.demand_q.shape
    # GLOP gave up (not optimal, in a fraction of a second) on supplies many orders above the
    # demand, such as an "unlimited" supplier of 1e15 m³. No supplier can send more than the
    # whole demand, so the networks get capacities capped at it (the same optimum); explanations
    # use the real ones.
    scaled = dataclasses.replace(
        scaled, capacity_q=np.minimum(scaled.capacity_q, int(scaled.demand_q.sum()))
    )
    networks = build_networks(scaled, scaled.usable, options.carry_over)
    arcs = concat_transport([TransportArcs(s=n.t_s, f=n.t_f, p=n.t_p, d=n.t_d) for n in networks])
    # Arcs that can carry something: the supplier has capacity that day, the facility may receive
    # the product (a receiving limit of 0 made a facility "servable" that no plan can serve, and
    # pinned the largest share at 1).
    live = (scaled.capacity_q[arcs.s, arcs.p, arcs.d] > 0) & (scaled.limit_q[arcs.f, arcs.p] > 0)
    arcs = TransportArcs(s=arcs.s[live], f=arcs.f[live], p=arcs.p[live], d=arcs.d[live])
    serveable = np.zeros((n_f, n_d), bool)
    if options.carry_over:
        first_day = np.full(n_f, n_d)
        np.minimum.at(first_day, arcs.f, arcs.d)
        serveable = np.arange(n_d)[None, :] >= first_day[:, None]
    else:
        serveable[arcs.f, arcs.d] = True
    # Per network: the unmet arcs the share counts (positions) and their demands.
    shared = [serveable[n.u_f, n.u_d] for n in networks]
    share_arcs = [n.first_unmet + np.nonzero(m)[0] for n, m in zip(networks, shared, strict=True)]
    share_demand = [scaled.demand_q[n.u_f, n.u_d][m] for n, m in zip(networks, shared, strict=True)]
    z_lp = _largest_share_lp(networks, share_arcs, share_demand, options)
    z = _smallest_integral_share(networks, share_arcs, share_demand, z_lp)
    capped = []
    for network, arcs_at, demand in zip(networks, share_arcs, share_demand, strict=True):
        caps = network.caps.copy()
        caps[arcs_at] = _share_caps(demand, z)
        capped.append(dataclasses.replace(network, caps=caps))
    return solution_from_parts(n_f, n_d, (solve_part(n) for n in capped))


def _share_caps(demand: npt.NDArray[np.int64], z: float) -> npt.NDArray[np.int64]:
    """Return the most unmet quanta a largest share ``z`` allows for each demand."""
    caps: npt.NDArray[np.int64] = np.minimum(
        np.floor(z * demand.astype(np.float64) + 1e-9).astype(np.int64), demand
    )
    return caps


_SHARE_BISECTIONS = 60
# Steps of the bisection on the largest share: the interval shrinks to 1e-18 at most, and the
# search stops sooner once it is below 1e-12 (two shares of facilities' demands in quanta closer
# than that are not told apart).


def _smallest_integral_share(
    networks: list[Network],
    share_arcs: list[npt.NDArray[np.int64]],
    share_demand: list[npt.NDArray[np.int64]],
    z_lp: float,
) -> float:
    """Find the smallest largest share all networks can meet with unmet arcs in whole quanta.

    The LP's share is a lower bound (up to its tolerance); a share of 1 is always feasible (the
    unmet arcs keep the whole demand). Feasibility is monotone in the share, so it is bisected;
    each step is one max flow per network from a super source on the supplies to a super sink on
    the demands, with the unmet arcs' capacities reset.
    """
    from ortools.graph.python import max_flow

    flows = []
    for network in networks:
        n_nodes = len(network.supplies)
        source, sink = n_nodes, n_nodes + 1
        give = np.nonzero(network.supplies > 0)[0]
        take = np.nonzero(network.supplies < 0)[0]
        solver = max_flow.SimpleMaxFlow()
        solver.add_arcs_with_capacity(
            np.concatenate([network.tails, np.full(len(give), source), take]),
            np.concatenate([network.heads, give, np.full(len(take), sink)]),
            np.concatenate([network.caps, network.supplies[give], -network.supplies[take]]),
        )
        flows.append((solver, source, sink, int(network.supplies[give].sum())))

    def feasible(z: float) -> bool:
        for (solver, source, sink, total), arcs, demand in zip(
            flows, share_arcs, share_demand, strict=True
        ):
            solver.set_arcs_capacity(arcs, _share_caps(demand, z))
            if solver.solve(source, sink) != solver.OPTIMAL or solver.optimal_flow() < total:
                return False
        return True

    z_lp = min(1.0, max(0.0, z_lp))
    probe = max(0.0, z_lp - 1e-6)  # GLOP's tolerance
    if feasible(probe):
        low, high = 0.0, probe  # the LP's value was high: search below it
    else:
        smallest = min((int(d.min()) for d in share_demand if len(d)), default=1)
        low, high = probe, min(1.0, z_lp + 1.0 / max(1, smallest) + 1e-9)
        if high < 1.0 and not feasible(high):
            low, high = high, 1.0
    for _ in range(_SHARE_BISECTIONS):
        if high - low <= 1e-12:
            break
        middle = (low + high) / 2
        if feasible(middle):
            high = middle
        else:
            low = middle
    return high


def _largest_share_lp(
    networks: list[Network],
    share_arcs: list[npt.NDArray[np.int64]],
    share_demand: list[npt.NDArray[np.int64]],
    options: AllocationOptions,
) -> float:
    """Solve the LP of the smallest largest unmet share (GLOP) over the networks' flows.

    ``share_arcs`` and ``share_demand``: per network, the unmet arcs the share counts and their
    demands.
    """
    import scipy.sparse as sp
    from ortools.linear_solver.python import model_builder_helper as mbh

    tails = np.concatenate(
        [n.tails + off for n, off in zip(networks, _offsets(networks, "supplies"), strict=True)]
    )
    heads = np.concatenate(
        [n.heads + off for n, off in zip(networks, _offsets(networks, "supplies"), strict=True)]
    )
    # GLOP works in floats with absolute tolerances: quantities are given to it in units of
    # ``unit`` quanta, a power of ten that keeps them below 10^7 (a facility asking for 2e9 m³ a
    # day made GLOP report the always-feasible LP infeasible).
    caps = np.concatenate([n.caps for n in networks]).astype(np.float64)
    supplies = np.concatenate([n.supplies for n in networks]).astype(np.float64)
    largest = float(np.abs(supplies).max(initial=1.0))
    unit = 10.0 ** max(0, math.ceil(math.log10(largest)) - 7)
    caps /= unit
    supplies /= unit
    n_arcs, n_nodes = len(tails), len(supplies)
    rows_arcs = np.concatenate(
        [off + a for a, off in zip(share_arcs, _offsets(networks, "tails"), strict=True)]
    )
    rows_demand = np.concatenate(share_demand).astype(np.float64) / unit
    z = n_arcs  # the largest unmet share is the last variable
    n_share = len(rows_arcs)
    balance = sp.csr_matrix(
        (
            np.concatenate([np.ones(n_arcs), -np.ones(n_arcs)]),
            (np.concatenate([tails, heads]), np.concatenate([np.arange(n_arcs)] * 2)),
        ),
        shape=(n_nodes, n_arcs + 1),
    )
    # Each share row reads unmet / demand - z <= 0 (divided by the demand, so that a facility
    # with a huge demand does not put coefficients 10 orders apart in one LP: GLOP gave up).
    share = sp.csr_matrix(
        (
            np.concatenate([1.0 / rows_demand, -np.ones(n_share)]),
            (
                np.concatenate([np.arange(n_share)] * 2),
                np.concatenate([rows_arcs, np.full(n_share, z)]),
            ),
        ),
        shape=(n_share, n_arcs + 1),
    )
    objective = np.zeros(n_arcs + 1)
    objective[z] = 1.0
    model: Any = mbh.ModelBuilderHelper()  # Any: malformed ndarray stubs (ortools 9.15)
    model.fill_model_from_sparse_data(
        np.zeros(n_arcs + 1),
        np.concatenate([caps, [1.0]]),
        objective,
        np.concatenate([supplies, np.full(n_share, -np.inf)]),
        np.concatenate([supplies, np.zeros(n_share)]),
        sp.vstack([balance, share], format="csr"),
    )
    solver = mbh.ModelSolverHelper("glop")
    solver.set_time_limit_in_seconds(options.time_limit_s)
    solver.solve(model)
    if solver.status() != mbh.SolveStatus.OPTIMAL:
        raise SolverTimeoutError(
            f"fairness LP: no optimal largest unmet share within time_limit_s="
            f"{options.time_limit_s} (GLOP status {solver.status().name}); raise the limit or "
            "drop fairness mode"
        )
    return float(np.asarray(solver.variable_values(), np.float64)[z])


def _offsets(networks: list[Network], field: str) -> list[int]:
    """Start of each network's nodes (``"supplies"``) or arcs (``"tails"``) when concatenated."""
    sizes = [len(getattr(n, field)) for n in networks]
    return [int(v) for v in np.concatenate([[0], np.cumsum(sizes)[:-1]])]


# --------------------------------------------------------------------------------------------
# Reading the plan back
