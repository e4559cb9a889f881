"""Route one period's deliveries with PyVRP (the only module of routing.irp that imports it)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from routing.irp.instance import IrpInstance


def _durations(instance: IrpInstance, ids: list[int]) -> np.ndarray | None:
    """Return the travel times between ``ids`` with the depot's service on the edges leaving it.

    None when the instance sets no route-duration limit (PyVRP then ignores time).
    """
    if instance.max_route_duration is None:
        return None
    times = instance.distances if instance.travel_times is None else instance.travel_times
    sub = times[np.ix_(ids, ids)].copy()
    if instance.service_times is not None:
        sub[0, 1:] += int(instance.service_times[0])  # loading, once per route
    return sub


def route_period(
    instance: IrpInstance,
    customers: Sequence[int],
    loads_units: Sequence[int],
    *,
    time_limit_s: float,
    seed: int = 0,
    max_iterations: int | None = None,
) -> list[tuple[int, ...]] | None:
    """Split ``customers`` with their loads into at most K capacity-feasible routes of least cost.

    Distances are the instance's rounded Euclidean integers, so PyVRP's objective is exact.
    With ``max_iterations`` PyVRP stops after that many iterations instead of ``time_limit_s``:
    the same seed then gives the same routes whatever the machine's load.

    Returns
    -------
    list of tuple of int or None
        The routes (customer ids in visiting order), or None when PyVRP found no solution that
        fits every load in K vehicles of capacity C within the time limit.
    """
    routes = route_period_fleet(
        instance,
        customers,
        loads_units,
        time_limit_s=time_limit_s,
        seed=seed,
        max_iterations=max_iterations,
    )
    return None if routes is None else [route for _, route in routes]


def route_period_fleet(
    instance: IrpInstance,
    customers: Sequence[int],
    loads_units: Sequence[int],
    *,
    time_limit_s: float,
    seed: int = 0,
    max_iterations: int | None = None,
) -> list[tuple[int, tuple[int, ...]]] | None:
    """Route one period's loads on the instance's own vehicles, each within its capacity.

    As :func:`route_period`, with one PyVRP vehicle type per distinct capacity
    (``IrpInstance.capacities``) and, when the instance sets ``max_route_duration``, travel
    times on the edges, service durations on the clients and the limit as the vehicles' shift
    (the depot's service added to the edges leaving it).

    Returns
    -------
    list of (int, tuple of int) or None
        ``(vehicle 1..K, customer ids in visiting order)`` per route, or None when PyVRP found
        no solution that fits every load within the time limit.
    """
    if not customers:
        return []
    from pyvrp import Model
    from pyvrp.exceptions import PenaltyBoundWarning
    from pyvrp.stop import MaxIterations, MaxRuntime

    model = Model()
    depot_location = model.add_location(float(instance.xs[0]), float(instance.ys[0]))
    depot = model.add_depot(depot_location)
    fleet: dict[int, list[int]] = {}  # capacity -> vehicles 1..K, in order
    for vehicle, capacity in enumerate(instance.capacities, start=1):
        fleet.setdefault(capacity, []).append(vehicle)
    limit = instance.max_route_duration
    for capacity, vehicles in fleet.items():
        if limit is None:
            model.add_vehicle_type(num_available=len(vehicles), capacity=capacity)
        else:
            model.add_vehicle_type(
                num_available=len(vehicles), capacity=capacity, shift_duration=limit
            )
    locations = [depot_location]
    for customer, load in zip(customers, loads_units, strict=True):
        location = model.add_location(float(instance.xs[customer]), float(instance.ys[customer]))
        service = 0 if instance.service_times is None else int(instance.service_times[customer])
        if instance.max_route_duration is None:
            model.add_client(location, delivery=int(load))
        else:
            model.add_client(location, delivery=int(load), service_duration=service)
        locations.append(location)
    del depot
    ids = [0, *customers]
    sub = instance.distances[np.ix_(ids, ids)]
    durations = _durations(instance, ids)
    for a, frm in enumerate(locations):
        for b, to in enumerate(locations):
            if a != b and durations is None:
                model.add_edge(frm, to, distance=int(sub[a, b]))
            elif a != b and durations is not None:
                model.add_edge(frm, to, distance=int(sub[a, b]), duration=int(durations[a, b]))
    with warnings.catch_warnings():
        # Tight loads make PyVRP raise its penalty bound and warn; None below reports the case.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        stop = MaxRuntime(time_limit_s) if max_iterations is None else MaxIterations(max_iterations)
        result = model.solve(stop, seed=seed, display=False, collect_stats=False)
    if not result.is_feasible() or not result.best.is_complete():
        return None
    free = [list(vehicles) for vehicles in fleet.values()]  # per vehicle type, in type order
    # A client activity's index is the client's position in the order they were added.
    return [
        (free[route.vehicle_type()].pop(0), tuple(customers[a.idx] for a in route.schedule()[1:-1]))
        for route in result.best.routes()
    ]
