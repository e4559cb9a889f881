"""Local search on single-source assignments (compiled with numba).

Used by ``matcher.allocation`` after the single-sourcing assignment has been chosen from the
relaxed flow: each facility-product ("item") has one supplier and a need per day (what the
relaxation delivered to it; in the weighted search, all it could receive). A supplier whose
assigned needs exceed its capacity on a day leaves the excess unserved; one with room left
strands it. The search moves items to other usable suppliers while that strictly lowers the total
excess over all suppliers and days, then while it strictly lowers the priority-weighted excess
(each supplier-day's excess taken from its lowest-priority needs first, as the re-solve would
leave them unserved). The exact min-cost flow on the final assignment then decides the
quantities, and the plan reports the gap to the relaxation's bound either way.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt


@numba.njit(cache=True)
def reduce_overload(
    current: npt.NDArray[np.int64],
    need: npt.NDArray[np.float64],
    load: npt.NDArray[np.float64],
    capacity: npt.NDArray[np.float64],
    item_product: npt.NDArray[np.int64],
    pair_item: npt.NDArray[np.int64],
    pair_supplier: npt.NDArray[np.int64],
    max_passes: int,
) -> int:  # pragma: no cover - compiled; tested through matcher.allocation
    """Move items between suppliers while each move strictly lowers the total overload.

    ``current[i]``: supplier of item ``i`` (updated in place); ``need[i, d]``: its need on day
    ``d``; ``load[s, p, d]``: the needs assigned to supplier ``s`` for product ``p`` (updated in
    place); ``capacity[s, p, d]``; ``item_product[i]``; candidate moves ``(pair_item[k],
    pair_supplier[k])``, tried in that order on every pass (first improvement, evaluated on the
    loads as they are). Returns the number of moves made.
    """
    n_days = need.shape[1]
    moves = 0
    for _ in range(max_passes):
        moved = 0
        for k in range(len(pair_item)):
            i = pair_item[k]
            to = pair_supplier[k]
            at = current[i]
            if to == at:
                continue
            p = item_product[i]
            change = 0.0
            for d in range(n_days):
                q = need[i, d]
                if q == 0.0:
                    continue
                la = load[at, p, d]
                lb = load[to, p, d]
                ca = capacity[at, p, d]
                cb = capacity[to, p, d]
                change += max(0.0, la - q - ca) - max(0.0, la - ca)
                change += max(0.0, lb + q - cb) - max(0.0, lb - cb)
            if change < -1e-6:
                for d in range(n_days):
                    load[at, p, d] -= need[i, d]
                    load[to, p, d] += need[i, d]
                current[i] = to
                moved += 1
        moves += moved
        if moved == 0:
            break
    return moves


@numba.njit(cache=True)
def _shed_cost(
    load: float,
    capacity: float,
    by_class: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
) -> float:  # pragma: no cover - compiled; tested through matcher.allocation
    """Priority-weighted need a supplier-day cannot serve: its excess, lowest weights first."""
    excess = load - capacity
    cost = 0.0
    for k in range(len(weights)):
        if excess <= 1e-9:
            break
        take = min(by_class[k], excess)
        cost += take * weights[k]
        excess -= take
    return cost


@numba.njit(cache=True)
def reduce_weighted_overload(
    current: npt.NDArray[np.int64],
    need: npt.NDArray[np.float64],
    item_class: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    load: npt.NDArray[np.float64],
    by_class: npt.NDArray[np.float64],
    capacity: npt.NDArray[np.float64],
    item_product: npt.NDArray[np.int64],
    pair_item: npt.NDArray[np.int64],
    pair_supplier: npt.NDArray[np.int64],
    max_passes: int,
) -> int:  # pragma: no cover - compiled; tested through matcher.allocation
    """Move items while each move strictly lowers the priority-weighted overload.

    As :func:`reduce_overload`, but an overloaded supplier-day is charged what the exact
    re-solve would leave unserved there: its excess, taken from its lowest-priority needs first
    (``by_class[s, p, d, k]``: need of priority class ``k``, classes in ascending ``weights``;
    updated in place with ``load``). A high-priority item may thus move to a supplier where it
    displaces lower-priority needs. Only moves away from a supplier overloaded on a day the item
    needs are tried (no other move can lower the sum). With one class of weight 1 this is
    :func:`reduce_overload`, but kept separate: running that search through this one made the
    same 3,356 moves on the national benchmark in 0.21 s instead of 0.016 s.
    """
    n_days = need.shape[1]
    moves = 0
    for _ in range(max_passes):
        moved = 0
        for k in range(len(pair_item)):
            i = pair_item[k]
            to = pair_supplier[k]
            at = current[i]
            if to == at:
                continue
            p = item_product[i]
            c = item_class[i]
            overloaded = False
            for d in range(n_days):
                if need[i, d] > 0.0 and load[at, p, d] > capacity[at, p, d] + 1e-9:
                    overloaded = True
                    break
            if not overloaded:
                continue
            change = 0.0
            for d in range(n_days):
                q = need[i, d]
                if q == 0.0:
                    continue
                change -= _shed_cost(
                    load[at, p, d], capacity[at, p, d], by_class[at, p, d], weights
                )
                change -= _shed_cost(
                    load[to, p, d], capacity[to, p, d], by_class[to, p, d], weights
                )
                by_class[at, p, d, c] -= q
                by_class[to, p, d, c] += q
                change += _shed_cost(
                    load[at, p, d] - q, capacity[at, p, d], by_class[at, p, d], weights
                )
                change += _shed_cost(
                    load[to, p, d] + q, capacity[to, p, d], by_class[to, p, d], weights
                )
                by_class[at, p, d, c] += q
                by_class[to, p, d, c] -= q
            if change < -1e-6:
                for d in range(n_days):
                    q = need[i, d]
                    load[at, p, d] -= q
                    load[to, p, d] += q
                    by_class[at, p, d, c] -= q
                    by_class[to, p, d, c] += q
                current[i] = to
                moved += 1
        moves += moved
        if moved == 0:
            break
    return moves
