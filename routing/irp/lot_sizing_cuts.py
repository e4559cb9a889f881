"""The (l, S) lot-sizing inequalities of the route MIP, separated on its LP relaxation.

For one customer, periods ``u`` in a set S up to a period l, deliveries ``q_u`` and visits
``z_u`` (the routes through the customer chosen in u) satisfy

    sum_{u in S} q_u  <=  sum_{u in S} D(u, l) z_u  +  I_l - F,

with ``D(u, l) = (l - u + 1) r`` the consumption from u to l, ``I_l`` the end level of l and
``F`` a floor of the level before the first visit of S (L, or min(I0, L) when S holds the first
period). Proof: with u* the first visited period of S, the left side is at most the deliveries
of u*..l, which equal ``D(u*, l) + I_l - I_{u*-1}``; ``z_{u*} = 1`` and ``I_{u*-1} >= F``.
They are the convex hull of the uncapacitated lot-sizing problem (Barany, Van Roy and Wolsey,
1984): they price holding the way an integral plan does, where the big-M bound
``q <= a z`` lets the LP deliver a fraction of a visit every period. There are 2^l per
customer and period, so the violated ones are found on the LP's answer and added in rounds.

The proof holds for any set of routes per period, not only all the routes through the customer:
with ``q_u`` and ``z_u`` summed over the routes chosen in u, u* is the first period where one of
them runs. So the separation picks, per period, the routes that carry more than ``D(u, l)`` per
unit of their ``y`` (route by route, ``q[r, i, u] > D(u, l) y[r, u]``): a route through the
customer that leaves it nothing then no longer pays for another route's delivery, as the sum
over every route did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from routing.irp.instance import IrpInstance

Row = tuple[list[tuple[int, float]], float, float]  # entries, low, high


class CutLayout(Protocol):
    """What the separation needs of the MIP's variable layout (positions of y, q and I)."""

    n: int
    periods: int
    members: list[tuple[int, int]]

    def y(self, r: int, t: int) -> int:
        """Return the position of ``y[r, t]``."""
        ...

    def q(self, m: int, t: int) -> int:
        """Return the position of member m's quantity in period t."""
        ...

    def level(self, i: int, t: int) -> int:
        """Return the position of customer i's end level of period t."""
        ...


def separate_lot_sizing(
    instance: IrpInstance,
    lay: CutLayout,
    by_customer: Mapping[int, Sequence[int]],
    x: npt.NDArray[np.float64],
    *,
    tolerance: float = 1e-4,
) -> list[Row]:
    """Return the (l, S) inequalities that the LP answer ``x`` violates, one per (customer, l).

    Each row reads ``sum_{(u, r) chosen} (q[r, i, u] - D(u, l) y[r, u]) - I_l <= -F``, the
    chosen (period, route) pairs being those where the route carries more than ``D(u, l) y``;
    ``by_customer[i]`` lists the members (route, customer) positions of customer i.
    """
    rows: list[Row] = []
    for i in range(1, lay.n + 1):
        ms = by_customer.get(i, [])
        if not ms:
            continue
        use = int(instance.demands_per_period_units[i])
        floor = int(instance.min_levels_units[i])
        first_floor = min(int(instance.initial_levels_units[i]), floor)
        # Per route member and period: what it leaves and whether its route runs.
        q = [[float(x[lay.q(m, u)]) for m in ms] for u in range(lay.periods)]
        y = [[float(x[lay.y(lay.members[m][0], u)]) for m in ms] for u in range(lay.periods)]
        for last in range(lay.periods):
            chosen = [
                (u, k)
                for u in range(last + 1)
                for k in range(len(ms))
                if q[u][k] > (last - u + 1) * use * y[u][k] + 1e-9
            ]
            if not chosen:
                continue
            bound = first_floor if chosen[0][0] == 0 else floor
            excess = sum(q[u][k] - (last - u + 1) * use * y[u][k] for u, k in chosen)
            if excess - (float(x[lay.level(i, last)]) - bound) <= tolerance * max(1.0, use):
                continue
            entries: list[tuple[int, float]] = [(lay.level(i, last), -1.0)]
            for u, k in chosen:
                m = ms[k]
                entries.append((lay.q(m, u), 1.0))
                entries.append((lay.y(lay.members[m][0], u), -float((last - u + 1) * use)))
            rows.append((entries, -np.inf, -float(bound)))
    return rows
