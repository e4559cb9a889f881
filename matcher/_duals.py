"""Dual potentials of an optimal min-cost flow, and the lower bound they prove (numba).

OR-Tools' min-cost flow returns the flow but not the node potentials. Single sourcing needs a
proven lower bound for each day; it solves the relaxation on a subset of the arcs (each
facility-product's nearest suppliers) and proves the bound on all of them by LP duality:

- :func:`residual_potentials` runs Bellman-Ford on the residual network of an optimal flow (no
  negative cycle, so it converges) and returns potentials ``p`` with ``p[t] - p[h] <= cost``
  on every arc that still has room;
- for any potentials, ``sum_v supply[v] p[v] - sum_a cap[a] max(0, p[t] - p[h] - cost[a])`` is
  a lower bound on the min-cost flow over those arcs (the dual objective with the best arc
  multipliers); :func:`dual_bound` evaluates it on the full arc set. With the subset's optimal
  potentials it equals the subset's optimum when no left-out arc is priced below its cost, and
  drops by what the left-out arcs could have saved otherwise.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt


@numba.njit(cache=True)
def residual_potentials(
    n_nodes: int,
    tails: npt.NDArray[np.int64],
    heads: npt.NDArray[np.int64],
    caps: npt.NDArray[np.int64],
    costs: npt.NDArray[np.int64],
    flows: npt.NDArray[np.int64],
    max_passes: int,
) -> tuple[npt.NDArray[np.int64], bool]:  # pragma: no cover - compiled; tested via allocation
    """Return node potentials of an optimal flow and whether Bellman-Ford converged.

    Shortest distances ``d`` from a virtual root (0 to every node) over the residual arcs (an
    arc with room, at its cost; an arc with flow, backwards at minus its cost); the potentials
    are ``-d``. Stops after ``max_passes`` passes without convergence (``False``).
    """
    distance = np.zeros(n_nodes, np.int64)
    for _ in range(max_passes):
        changed = False
        for a in range(len(tails)):
            t = tails[a]
            h = heads[a]
            c = costs[a]
            if flows[a] < caps[a] and distance[t] + c < distance[h]:
                distance[h] = distance[t] + c
                changed = True
            if flows[a] > 0 and distance[h] - c < distance[t]:
                distance[t] = distance[h] - c
                changed = True
        if not changed:
            return -distance, True
    return -distance, False


def dual_bound(
    potentials: npt.NDArray[np.int64],
    tails: npt.NDArray[np.int64],
    heads: npt.NDArray[np.int64],
    caps: npt.NDArray[np.int64],
    costs: npt.NDArray[np.int64],
    supplies: npt.NDArray[np.int64],
) -> int | None:
    """Return the LP-duality lower bound of ``potentials`` on a network, exactly (integers).

    ``None`` when the left-out arcs' term is so large (over 1e17) that the bound is useless, or
    the sums could leave the exact range of 64-bit integers.
    """
    excess = potentials[tails] - potentials[heads] - costs
    priced = np.nonzero(excess > 0)[0]
    # Elementwise sums, not BLAS dot products: OpenBLAS's threads spin after a call and took a
    # third of a CPU second per plan from the solver processes on two cores.
    penalty = float((caps[priced].astype(np.float64) * excess[priced]).sum())
    value = float((np.abs(supplies).astype(np.float64) * np.abs(potentials)).sum())
    if penalty > 1e17 or value > 1e18:
        # Useless (or beyond exact int64 sums): the caller relaxes on all arcs instead.
        return None
    return int(supplies @ potentials) - int(caps[priced] @ excess[priced])
