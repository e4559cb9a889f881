"""Local search on single-source assignments (compiled with numba).

Used by ``matcher.allocation`` after the single-sourcing assignment has been chosen from the
relaxed flow: each facility-product ("item") has one supplier and a need per day (what the
relaxation delivered to it). A supplier whose
assigned needs exceed its capacity on a day leaves the excess unserved; one with room left
strands it. The search moves items to other usable suppliers while that strictly lowers the total
excess over all suppliers and days. The exact min-cost flow on the final assignment then decides
the quantities, and the plan reports the gap to the relaxation's bound either way.
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
