"""Route order helpers for inventory routing: 2-opt and cheapest insertion on rounded distances."""

from __future__ import annotations

import numpy as np

from routing.irp.instance import IrpInstance

Route = tuple[int, ...]


def two_opt(instance: IrpInstance, route: Route) -> Route:
    """Return ``route`` improved by 2-opt moves until none helps (depot at both ends)."""
    best = list(route)
    dist = instance.distances
    improved = True
    while improved and len(best) > 2:
        improved = False
        tour = [0, *best, 0]
        for a in range(len(tour) - 2):
            for b in range(a + 2, len(tour) - 1):
                delta = (
                    dist[tour[a], tour[b]]
                    + dist[tour[a + 1], tour[b + 1]]
                    - dist[tour[a], tour[a + 1]]
                    - dist[tour[b], tour[b + 1]]
                )
                if delta < 0:
                    tour[a + 1 : b + 1] = reversed(tour[a + 1 : b + 1])
                    improved = True
        best = tour[1:-1]
    return tuple(best)


def cheapest_insertion(instance: IrpInstance, route: Route, customer: int) -> Route:
    """Insert ``customer`` where it adds the least travel."""
    tour = [0, *route, 0]
    dist = instance.distances
    costs = [
        dist[tour[k], customer] + dist[customer, tour[k + 1]] - dist[tour[k], tour[k + 1]]
        for k in range(len(tour) - 1)
    ]
    k = int(np.argmin(costs))
    return (*route[:k], customer, *route[k:])
