"""Build the two PyVRP models of a routing problem (see :mod:`routing.vehicle_routes`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError
from data.schema.routes import RouteProblem, TimeWindow, Vehicle, speed_scaled_durations
from routing._route_tasks import INT64_MAX, Task, list_tasks

# Headroom kept below int64 for PyVRP's sums of costs, prizes and penalties.
OBJECTIVE_LIMIT = 2**60

_Metric = tuple[tuple[Any, ...], int, int | None]  # matrix key, unit cost, limit
# (skills when they matter, metric key, speed, (tasks announced on the vehicle, unit cost) when
# some task is announced on a vehicle: see :class:`routing._route_tasks.VehiclePreference`,
# the vehicle's travel profile: whose matrices it drives on)
_ProfileKey = tuple[
    frozenset[int] | None, tuple[Any, ...], int, tuple[frozenset[int], int] | None, str
]


@dataclass(frozen=True, slots=True)
class PyvrpModel:
    """The PyVRP data of one problem plus the maps back to our ids."""

    complete: Any  # pyvrp.ProblemData, every task required
    partial: Any  # pyvrp.ProblemData, tasks optional with prizes
    client_tasks: tuple[int, ...]  # PyVRP client index -> task position
    shipment_tasks: tuple[int, ...]  # PyVRP shipment index -> task position
    depot_locations: tuple[int | None, ...]  # PyVRP depot index -> our location (None: free)
    type_vehicles: tuple[tuple[int, ...], ...]  # PyVRP vehicle type -> our vehicle positions
    task_weights: tuple[int, ...]  # task position -> 1 + priority (0 when pre-check dropped it)
    max_penalty: float  # PyVRP's bound on a penalty per unit of violation (penalty_bound)


def objective_scale(problem: RouteProblem) -> int:
    """Return the integer factor that makes every vehicle's cost an integer per matrix entry.

    Costs are ``per_hour / 3600`` per second and ``per_km / 1000`` per metre; the solver's
    objective is the exact cost times this factor (1 with VROOM's defaults or a costs matrix).
    """
    scale = 1
    if problem.costs is None:
        for vehicle in problem.vehicles:
            scale = math.lcm(
                scale,
                3600 // math.gcd(vehicle.cost_per_hour, 3600),
                1000 // math.gcd(vehicle.cost_per_km, 1000),
            )
    return scale


def _vehicle_key(vehicle: Vehicle) -> tuple[Any, ...]:
    return (
        vehicle.start_location_idx,
        vehicle.end_location_idx,
        vehicle.capacity,
        vehicle.time_window,
        vehicle.max_travel_time_s,
        vehicle.max_duration_s,
        vehicle.skills,
        vehicle.reload_location_idxs,
        vehicle.reload_service_s,
        vehicle.max_reloads,
        vehicle.fixed_cost,
        vehicle.cost_per_hour,
        vehicle.cost_per_km,
        vehicle.duration_factor,
        vehicle.max_distance_m,
        vehicle.max_tasks,
        vehicle.profile,
    )


def _vehicle_metric(problem: RouteProblem, vehicle: Vehicle, scale: int) -> _Metric:
    """Return what PyVRP's distance matrix holds for ``vehicle``, its unit cost and its limit.

    PyVRP has one distance matrix per profile; it carries both the objective (times the
    vehicle's ``unit_distance_cost``) and the ``max_distance`` limit. So the matrix is the
    quantity the vehicle's limit counts (travel seconds for ``max_travel_time_s``, metres for
    ``max_distance_m``), and that is only exact when the vehicle's cost is proportional to it
    (or zero). Returns ``(metric key, unit cost, limit)``.

    Raises
    ------
    InvalidInputError
        If the vehicle's limit and its cost count different things.
    """
    factor = vehicle.duration_factor
    hour, km = vehicle.cost_per_hour, vehicle.cost_per_km
    key: tuple[Any, ...]
    if problem.costs is not None:
        key, unit = ("costs",), scale
    elif km == 0:
        key, unit = ("durations", factor), hour * scale // 3600
    elif hour == 0:
        key, unit = ("distances",), km * scale // 1000
    else:
        key, unit = ("mixed", factor, hour * scale // 3600, km * scale // 1000), 1
    name = f"vehicle {vehicle.vehicle_id!r}"
    if vehicle.max_travel_time_s is not None and vehicle.max_distance_m is not None:
        raise InvalidInputError(
            f"{name}: max_travel_time_s and max_distance_m together are not supported (the "
            "engine limits one quantity per vehicle); keep one of them",
            ["max_travel_time_s with max_distance_m"],
        )
    if vehicle.max_travel_time_s is not None:
        durations = speed_scaled_durations(problem.durations_of(vehicle), vehicle.speed_factor)
        if unit == 0:
            key = ("durations", factor)
        elif key != ("durations", factor) and not (
            key == ("costs",) and np.array_equal(problem.cost_matrix_of(vehicle), durations)
        ):
            raise InvalidInputError(
                f"{name}: max_travel_time_s is only supported when the vehicle's cost is its "
                "travel time (no separate costs matrix, cost_per_km 0); drop max_travel_time_s, "
                "the costs matrix or cost_per_km",
                ["max_travel_time_s with a cost that is not the travel time"],
            )
        return key, unit, vehicle.max_travel_time_s
    if vehicle.max_distance_m is not None:
        distances = problem.distances_of(vehicle)
        if unit == 0:
            key = ("distances",)
        elif key != ("distances",) and not (
            key == ("costs",)
            and distances is not None
            and np.array_equal(problem.cost_matrix_of(vehicle), distances)
        ):
            raise InvalidInputError(
                f"{name}: max_distance_m is only supported when the vehicle's cost is per "
                "distance (cost_per_hour 0 and cost_per_km > 0, or both 0), because the engine "
                "counts the objective and the distance limit on one matrix; drop max_distance_m "
                "or set costs {per_hour: 0, per_km: N}",
                ["max_distance_m with a cost that is not per distance"],
            )
        return key, unit, vehicle.max_distance_m
    return key, unit, None


def _metric_matrix(
    problem: RouteProblem, key: tuple[Any, ...], scale: int, travel: str
) -> npt.NDArray[np.int64]:
    """Return the matrix (over the problem's locations) named by a :func:`_vehicle_metric` key.

    ``travel``: the vehicle's travel profile, whose times and distances it drives on.
    """
    if key[0] == "costs":
        return problem.cost_matrix
    distances = problem.profile_distances_m.get(travel, problem.distances_m)
    if key[0] == "distances":
        assert distances is not None
        return distances
    durations = speed_scaled_durations(
        problem.profile_durations_s.get(travel, problem.durations_s), 100 / key[1]
    )
    if key[0] == "durations":
        return durations
    assert distances is not None
    mixed: npt.NDArray[np.int64] = key[2] * durations + key[3] * distances
    return mixed


def _penalty_bound(problem: RouteProblem, scale: int) -> float:
    """Return PyVRP's bound on a penalty per unit of excess load, time warp or distance.

    PyVRP's default bound (100,000) suits costs in natural units. The objective here is the
    exact cost times ``scale`` (:func:`objective_scale`), so the bound is scaled too: unscaled,
    a vehicle with ``per_km`` 3 next to one with ``per_km`` 1000 (scale 1000) made an overloaded
    route cheaper than any feasible one, and a task the larger vehicle could serve was left
    unassigned. The bound stays low enough that a penalised cost fits in int64 (the largest
    violation is at most the sum of every matrix entry, window bound, service and amount), and
    never falls below PyVRP's default.
    """
    from pyvrp import PenaltyParams

    default = PenaltyParams().max_penalty
    matrices = (
        problem.durations_s,
        problem.distances_m,
        *problem.profile_durations_s.values(),
        *problem.profile_distances_m.values(),
    )
    violation = 1 + sum(int(m.sum()) for m in matrices if m is not None)
    for vehicle in problem.vehicles:
        violation += vehicle.time_window.end_s if vehicle.time_window else 0
    for task in list_tasks(problem):
        violation += sum(task.need(problem.num_dimensions))
        if task.job is not None:
            violation += task.job.service_s + max(
                (w.end_s for w in task.job.time_windows), default=0
            )
        else:
            for step in (task.shipment.pickup, task.shipment.delivery):  # type: ignore[union-attr]
                violation += step.service_s + (step.time_window.end_s if step.time_window else 0)
    return max(default, min(default * scale, OBJECTIVE_LIMIT // violation))


def _refuse_max_tasks(problem: RouteProblem) -> bool:
    """Return whether ``max_tasks`` is modelled (as an extra load dimension); refuse if inexact.

    Each job delivers 1 in that dimension, loaded at the start. That counts the tasks of a route
    only if nothing unloads it before the end.
    """
    if not any(v.max_tasks is not None for v in problem.vehicles):
        return False
    refused = []
    if problem.shipments:
        refused.append("max_tasks with shipments")
    if any(v.max_tasks is not None and v.reload_location_idxs for v in problem.vehicles):
        refused.append("max_tasks with reload_location_idxs")
    if refused:
        raise InvalidInputError(
            f"{' and '.join(refused)} are not supported (the task count would not be "
            "exact); drop max_tasks, or the shipments / reloads",
            refused,
        )
    return True


@dataclass(frozen=True, slots=True)
class _Layout:
    """PyVRP's locations: the depots first, then one per task step (copies of matrix rows)."""

    depot_keys: tuple[tuple[int | None, int], ...]  # (location, service); None: the free depot
    origin: tuple[int, ...]  # PyVRP location -> our location (-1: the free depot)
    client_tasks: tuple[int, ...]
    client_windows: tuple[TimeWindow | None, ...]
    shipment_tasks: tuple[int, ...]
    step_skills: tuple[frozenset[int] | None, ...]  # None at the depots

    def depot(self, location_idx: int | None, service_s: int = 0) -> int:
        """Return the PyVRP depot index of a start, end or reload point."""
        return self.depot_keys.index((location_idx, service_s))

    def expand(self, matrix: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Return ``matrix`` over PyVRP's locations, zero to and from the free depot."""
        origin = np.array(self.origin, dtype=np.int64)
        free = origin < 0
        gather = np.where(free, 0, origin)
        out: npt.NDArray[np.int64] = matrix[np.ix_(gather, gather)].copy()
        out[free, :] = 0
        out[:, free] = 0
        return out


def _layout(problem: RouteProblem, tasks: Sequence[Task]) -> _Layout:
    """Lay out the depots and task steps; a job of several windows gets a client per window."""
    keys: list[tuple[int | None, int]] = []
    for vehicle in problem.vehicles:
        keys += [(vehicle.start_location_idx, 0), (vehicle.end_location_idx, 0)]
        keys += [(idx, vehicle.reload_service_s) for idx in vehicle.reload_location_idxs]
    depot_keys = list(dict.fromkeys(keys))  # one depot per distinct pair, in order of first use
    origin: list[int] = [-1 if loc is None else loc for loc, _ in depot_keys]
    client_tasks: list[int] = []
    client_windows: list[TimeWindow | None] = []
    skills: list[frozenset[int] | None] = [None] * len(depot_keys)
    for task in tasks:
        if task.job is not None:
            alternatives: tuple[TimeWindow | None, ...] = task.job.time_windows or (None,)
            for alternative in alternatives:
                client_tasks.append(task.position)
                client_windows.append(alternative)
                origin.append(task.job.location_idx)
                skills.append(task.skills)
    shipment_tasks: list[int] = []
    for task in tasks:
        if task.shipment is not None:
            shipment_tasks.append(task.position)
            origin.extend([task.shipment.pickup.location_idx, task.shipment.delivery.location_idx])
            skills += [task.skills, task.skills]
    return _Layout(
        tuple(depot_keys),
        tuple(origin),
        tuple(client_tasks),
        tuple(client_windows),
        tuple(shipment_tasks),
        tuple(skills),
    )


@dataclass(frozen=True, slots=True)
class _Profiles:
    """PyVRP's routing profiles: one per (skills when they matter, metric, speed, travel)."""

    keys: tuple[_ProfileKey, ...]
    matters: bool  # some vehicle lacks the skills of some task step
    distances: tuple[Any, ...]  # int64 matrices over PyVRP's locations, one per profile
    durations: tuple[Any, ...]
    prohibitives: tuple[int, ...]  # distance of an edge into a task the vehicle may not serve
    owned: Mapping[Any, frozenset[int]] | None = None  # vehicle id -> tasks announced on it

    def of(self, vehicle: Vehicle, metric: _Metric) -> int:
        """Return the profile index of a vehicle with the given metric."""
        return self.keys.index(_profile_key(vehicle, metric, self.matters, self.owned))


def _profile_key(
    vehicle: Vehicle,
    metric: _Metric,
    matters: bool,
    owned: Mapping[Any, frozenset[int]] | None = None,
) -> _ProfileKey:
    announced = None if owned is None else (owned.get(vehicle.vehicle_id, frozenset()), metric[1])
    return (
        vehicle.skills if matters else None,
        metric[0],
        vehicle.duration_factor,
        announced,
        vehicle.profile,
    )


def _task_locations(layout: _Layout) -> dict[int, list[int]]:
    """Return task position -> the PyVRP locations where serving it starts.

    A job's clients (one per time window), a shipment's pickup.
    """
    first = len(layout.depot_keys)
    out: dict[int, list[int]] = {}
    for number, position in enumerate(layout.client_tasks):
        out.setdefault(position, []).append(first + number)
    first += len(layout.client_tasks)
    for number, position in enumerate(layout.shipment_tasks):
        out.setdefault(position, []).append(first + 2 * number)
    return out


def _add_reassignment_costs(
    distances: npt.NDArray[np.int64],
    announced: tuple[frozenset[int], int],
    preferences: Mapping[int, tuple[int, int]],
    locations: Mapping[int, list[int]],
    scale: int,
) -> None:
    """Add each announced task's penalty to the edges into it, for a vehicle it is not on.

    The penalty is in cost units; the matrix counts ``unit`` scaled cost per entry, so the
    penalty becomes ``ceil(penalty * scale / unit)`` entries (none for a vehicle that costs
    nothing to run).
    """
    owned, unit = announced
    if unit <= 0:
        return
    for position, (_, penalty) in preferences.items():
        if position in owned or position not in locations:
            continue
        extra = -(-penalty * scale // unit)
        for column in locations[position]:
            distances[:, column] += extra
            distances[column, column] = 0


def _profiles(
    problem: RouteProblem,
    layout: _Layout,
    metrics: Sequence[_Metric],
    scale: int,
    preferences: Mapping[int, tuple[int, int]] | None = None,
) -> _Profiles:
    """Build the profiles; edges into a task a vehicle may not serve get prohibitive distance."""
    skill_sets = sorted({v.skills for v in problem.vehicles}, key=lambda s: sorted(s))
    matters = any(
        s is not None and not s <= vehicle_skills
        for s in layout.step_skills
        for vehicle_skills in skill_sets
    )
    owned = _owned_tasks(problem, preferences)
    keys = list(
        dict.fromkeys(
            _profile_key(v, m, matters, owned)
            for v, m in zip(problem.vehicles, metrics, strict=True)
        )
    )
    num_locations = len(layout.origin)
    distance_matrices: list[Any] = []
    duration_matrices: list[Any] = []
    prohibitives: list[int] = []
    locations = _task_locations(layout)
    for skills, metric, factor, announced, travel in keys:
        distances = layout.expand(_metric_matrix(problem, metric, scale, travel))
        if announced is not None and preferences:
            _add_reassignment_costs(distances, announced, preferences, locations, scale)
        max_entry = int(max(int(distances.max(initial=0)), 0))
        # Any legitimate route has fewer than 2 * (num_locations + 2) edges.
        prohibitive = 2 * (num_locations + 2) * (max_entry + 1)
        if skills is not None:
            forbidden = [
                i for i, s in enumerate(layout.step_skills) if s is not None and not s <= skills
            ]
            distances[:, forbidden] = prohibitive
            distances[forbidden, forbidden] = 0  # PyVRP requires zero diagonals
        distance_matrices.append(distances)
        durations = problem.profile_durations_s.get(travel, problem.durations_s)
        duration_matrices.append(layout.expand(speed_scaled_durations(durations, 100 / factor)))
        prohibitives.append(prohibitive)
    return _Profiles(
        tuple(keys),
        matters,
        tuple(distance_matrices),
        tuple(duration_matrices),
        tuple(prohibitives),
        owned,
    )


def _owned_tasks(
    problem: RouteProblem, preferences: Mapping[int, tuple[int, int]] | None
) -> dict[Any, frozenset[int]] | None:
    """Return vehicle id -> positions of the tasks announced on it (None without preferences)."""
    if not preferences:
        return None
    owned: dict[Any, set[int]] = {v.vehicle_id: set() for v in problem.vehicles}
    for position, (vehicle, _) in preferences.items():
        owned[problem.vehicles[vehicle].vehicle_id].add(position)
    return {vehicle_id: frozenset(tasks) for vehicle_id, tasks in owned.items()}


def _vehicle_type_options(
    vehicle: Vehicle, layout: _Layout, unit: int, scale: int
) -> dict[str, Any]:
    """Return the optional settings of a vehicle's PyVRP type: shift, reloads, costs."""
    extra: dict[str, Any] = {}
    if vehicle.time_window is not None:
        extra.update(tw_early=vehicle.time_window.start_s, tw_late=vehicle.time_window.end_s)
    if vehicle.max_duration_s is not None:
        extra["shift_duration"] = vehicle.max_duration_s
    if vehicle.reload_location_idxs:
        extra["reload_depots"] = sorted(
            {layout.depot(i, vehicle.reload_service_s) for i in vehicle.reload_location_idxs}
        )
        if vehicle.max_reloads is not None:
            extra["max_reloads"] = vehicle.max_reloads
    if vehicle.fixed_cost:
        extra["fixed_cost"] = vehicle.fixed_cost * scale
    if unit != 1:
        extra["unit_distance_cost"] = unit
    return extra


def _vehicle_type(
    problem: RouteProblem,
    positions: Sequence[int],
    metric: _Metric,
    layout: _Layout,
    profiles: _Profiles,
    scale: int,
    task_count: int | None,
) -> Any:
    """Return the PyVRP vehicle type of identical vehicles (``task_count``: for ``max_tasks``)."""
    import pyvrp

    vehicle = problem.vehicles[positions[0]]
    _, unit, limit = metric
    profile = profiles.of(vehicle, metric)
    max_distance = limit if limit is not None else INT64_MAX
    if profiles.matters:
        max_distance = min(max_distance, profiles.prohibitives[profile] - 1)
    capacity = list(vehicle.capacity) if problem.num_dimensions else []
    if task_count is not None:
        capacity.append(vehicle.max_tasks if vehicle.max_tasks is not None else task_count)
    return pyvrp.VehicleType(
        num_available=len(positions),
        capacity=capacity,
        start_depot=layout.depot(vehicle.start_location_idx),
        end_depot=layout.depot(vehicle.end_location_idx),
        max_distance=max_distance,
        profile=profile,
        name=str(vehicle.vehicle_id),
        **_vehicle_type_options(vehicle, layout, unit, scale),
    )


def _base_prize(
    problem: RouteProblem,
    metrics: Sequence[_Metric],
    profiles: _Profiles,
    num_locations: int,
    scale: int,
    weights: Sequence[int],
    penalties: int = 0,
) -> int:
    """Return the prize of one task, above the cost of any solution; refuse int64 overflow.

    ``penalties``: the sum of the reassignment penalties (cost units), which a solution may pay.
    """
    total_fixed = scale * sum(v.fixed_cost for v in problem.vehicles) + scale * penalties
    largest_edge_cost = max(
        (
            metric[1] * profiles.prohibitives[profiles.of(vehicle, metric)]
            for vehicle, metric in zip(problem.vehicles, metrics, strict=True)
        ),
        default=0,
    )
    max_cost = max(
        int(_metric_matrix(problem, m, scale, v.profile).max(initial=0)) * u
        for v, (m, u, _) in zip(problem.vehicles, metrics, strict=True)
    )
    base_prize = (2 * num_locations + len(problem.vehicles) + 2) * (max_cost + 1) + total_fixed
    bound = max(base_prize * 2 * (sum(weights) + 1), largest_edge_cost * 2 * (num_locations + 2))
    if bound >= OBJECTIVE_LIMIT:
        raise InvalidInputError(
            f"costs too large for exact integer arithmetic: a plan could cost up to {bound}, "
            f"above {OBJECTIVE_LIMIT}; scale the costs, per_hour, per_km or fixed values down",
            ["costs overflow"],
        )
    return base_prize


@dataclass(frozen=True, slots=True)
class _ModelTasks:
    """What the complete and the partial model share about the tasks."""

    layout: _Layout
    tasks: Mapping[int, Task]  # by position
    num_dimensions: int
    counts_tasks: bool  # max_tasks is the last load dimension
    base_prize: int
    weights: Sequence[int]


def _window(tw: TimeWindow | None) -> dict[str, int]:
    return {} if tw is None else {"tw_early": tw.start_s, "tw_late": tw.end_s}


def _job_clients(spec: _ModelTasks, required: bool) -> tuple[list[Any], list[Any]]:
    """Return PyVRP's clients of the jobs and the groups of jobs with several windows."""
    import pyvrp

    dims = spec.num_dimensions
    first = len(spec.layout.depot_keys)
    clients = []
    client_groups: list[Any] = []
    group_of: dict[int, int] = {}
    for number, position in enumerate(spec.layout.client_tasks):
        job = spec.tasks[position].job
        assert job is not None
        grouped = len(job.time_windows) > 1
        extra: dict[str, Any] = {}
        if grouped:
            if position not in group_of:
                group_of[position] = len(client_groups)
                client_groups.append(pyvrp.ClientGroup(required=required, name=str(job.job_id)))
            extra["group"] = group_of[position]
        delivery = list(job.delivery or (0,) * dims)
        pickup = list(job.pickup or (0,) * dims)
        if spec.counts_tasks:
            delivery.append(1)
            pickup.append(0)
        clients.append(
            pyvrp.Client(
                first + number,
                delivery=delivery,
                pickup=pickup,
                service_duration=job.service_s,
                prize=0 if required else spec.base_prize * spec.weights[position],
                required=required and not grouped,
                name=str(job.job_id),
                **_window(spec.layout.client_windows[number]),
                **extra,
            )
        )
    for number, client in enumerate(clients):
        if client.group is not None:
            client_groups[client.group].add_client(number)
    return clients, client_groups


def _shipments(spec: _ModelTasks, required: bool) -> list[Any]:
    """Return PyVRP's shipments; a shipment's prize counts it twice (pickup and delivery)."""
    import pyvrp

    shipments = []
    first = len(spec.layout.depot_keys) + len(spec.layout.client_tasks)
    for number, position in enumerate(spec.layout.shipment_tasks):
        shipment = spec.tasks[position].shipment
        assert shipment is not None
        pick, drop = shipment.pickup, shipment.delivery
        shipments.append(
            pyvrp.Shipment(
                first + 2 * number,
                first + 2 * number + 1,
                pickup_service_duration=pick.service_s,
                delivery_service_duration=drop.service_s,
                amount=list(shipment.amount or (0,) * spec.num_dimensions),
                prize=0 if required else 2 * spec.base_prize * spec.weights[position],
                required=required,
                pickup_tw_early=pick.time_window.start_s if pick.time_window else 0,
                pickup_tw_late=pick.time_window.end_s if pick.time_window else INT64_MAX,
                delivery_tw_early=drop.time_window.start_s if drop.time_window else 0,
                delivery_tw_late=drop.time_window.end_s if drop.time_window else INT64_MAX,
            )
        )
    return shipments


def _problem_data(
    spec: _ModelTasks, vehicle_types: list[Any], profiles: _Profiles, required: bool
) -> Any:
    """Return one PyVRP model: every task required, or optional with prizes."""
    import pyvrp

    locations = [pyvrp.Location(0, 0) for _ in spec.layout.origin]
    depots = [
        pyvrp.Depot(i, service_duration=service)
        for i, (_, service) in enumerate(spec.layout.depot_keys)
    ]
    clients, client_groups = _job_clients(spec, required)
    return pyvrp.ProblemData(
        locations,
        clients,
        depots,
        vehicle_types,
        list(profiles.distances),
        list(profiles.durations),
        groups=client_groups,
        shipments=_shipments(spec, required),
    )


def build_pyvrp_model(
    problem: RouteProblem,
    dropped: Mapping[int, str],
    preferences: Mapping[int, tuple[int, int]] | None = None,
) -> PyvrpModel:
    """Build the complete and the partial PyVRP model of the tasks not in ``dropped``.

    ``preferences``: task position -> (vehicle position, penalty) of tasks announced on a vehicle
    (see :class:`routing._route_tasks.VehiclePreference`); serving such a task with another
    vehicle adds the penalty to that vehicle's edges into the task.

    Raises
    ------
    InvalidInputError
        If a vehicle's limit and cost count different things, ``max_tasks`` would not be exact,
        or the costs are too large for exact integer arithmetic.
    """
    tasks = [t for t in list_tasks(problem) if t.position not in dropped]
    scale = objective_scale(problem)
    metrics = [_vehicle_metric(problem, v, scale) for v in problem.vehicles]
    counts_tasks = _refuse_max_tasks(problem)
    layout = _layout(problem, tasks)
    profiles = _profiles(problem, layout, metrics, scale, preferences)
    groups: dict[tuple[Any, ...], list[int]] = {}  # identical vehicles share one type
    for position, vehicle in enumerate(problem.vehicles):
        owned = None if profiles.owned is None else profiles.owned[vehicle.vehicle_id]
        groups.setdefault((*_vehicle_key(vehicle), owned), []).append(position)
    task_count = len(tasks) if counts_tasks else None
    vehicle_types = [
        _vehicle_type(problem, p, metrics[p[0]], layout, profiles, scale, task_count)
        for p in groups.values()
    ]
    weights = [0] * (len(problem.jobs) + len(problem.shipments))
    for task in tasks:
        weights[task.position] = 1 + task.priority  # a shipment's prize counts it twice
    penalties = sum(penalty for _, penalty in (preferences or {}).values())
    base_prize = _base_prize(
        problem, metrics, profiles, len(layout.origin), scale, weights, penalties
    )
    by_position = {t.position: t for t in tasks}
    spec = _ModelTasks(
        layout, by_position, problem.num_dimensions, counts_tasks, base_prize, weights
    )
    return PyvrpModel(
        complete=_problem_data(spec, vehicle_types, profiles, required=True),
        partial=_problem_data(spec, vehicle_types, profiles, required=False),
        client_tasks=layout.client_tasks,
        shipment_tasks=layout.shipment_tasks,
        depot_locations=tuple(loc for loc, _ in layout.depot_keys),
        type_vehicles=tuple(tuple(p) for p in groups.values()),
        task_weights=tuple(weights),
        max_penalty=_penalty_bound(problem, scale),
    )
