"""Small helpers over PyVRP routes, shared by the search, the enumeration and the polishing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

# One route as a worker returns it: vehicle type, departure time, [(kind, index)] where kind is
# "client", "pickup", "delivery" or "depot" (a reload when it is not first or last).
RawRoute = tuple[int, int, list[tuple[str, int]]]


def raw_route(route: Any) -> RawRoute:
    """Return a PyVRP route as vehicle type, departure time and its activities."""
    import pyvrp

    kinds = {
        pyvrp.ActivityType.CLIENT: "client",
        pyvrp.ActivityType.DEPOT: "depot",
        pyvrp.ActivityType.PICKUP: "pickup",
        pyvrp.ActivityType.DELIVERY: "delivery",
    }
    activities = [(kinds[activity.type], int(activity.idx)) for activity in route.schedule()]
    return (int(route.vehicle_type()), int(route.start_time()), activities)


def pyvrp_cost(route: Any) -> int:
    """Return a feasible PyVRP route's objective: distance, duration and fixed costs."""
    return int(route.distance_cost()) + int(route.duration_cost()) + int(route.fixed_vehicle_cost())


def route_visits(route: Any) -> list[Any]:
    """Return a PyVRP route's visits between its start and its end, as activities."""
    import pyvrp

    return [pyvrp.Activity(a.type, a.idx) for a in route.schedule()[1:-1]]


def task_visits(data: Any) -> list[tuple[int, list[list[Any]]]]:
    """List each task of a PyVRP model with its prize and its alternative visit lists.

    A job is one client, or one client per time window (a client group: any one of them); a
    shipment is its pickup then its delivery. Jobs come in client order, then the shipments.
    """
    import pyvrp

    client = pyvrp.ActivityType.CLIENT
    tasks: list[tuple[int, list[list[Any]]]] = []
    listed: set[int] = set()
    for number in range(data.num_clients):
        if number in listed:
            continue
        group = data.client(number).group
        members = [number] if group is None else list(data.group(group).clients)
        listed.update(members)
        tasks.append((data.client(number).prize, [[pyvrp.Activity(client, c)] for c in members]))
    for number, shipment in enumerate(data.shipments()):
        pair = [
            pyvrp.Activity(pyvrp.ActivityType.PICKUP, number),
            pyvrp.Activity(pyvrp.ActivityType.DELIVERY, number),
        ]
        tasks.append((shipment.prize, [pair]))
    return tasks


def visit_orders(visits: Sequence[Any]) -> Iterator[list[Any]]:
    """Yield every order of the visits that keeps each shipment's pickup before its delivery."""
    for order in itertools.permutations(visits):
        picked: set[int] = set()
        for visit in order:
            if visit.is_pickup():
                picked.add(visit.idx)
            elif visit.is_delivery() and visit.idx not in picked:
                break
        else:
            yield list(order)
