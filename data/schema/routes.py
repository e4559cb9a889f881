"""Value types of the vehicle-routing problem and of the route plan that answers it.

Conventions: time is integer seconds (``_s``) counted from the same origin as every time window
(for example midnight of the planning day), distance integer metres (``_m``), and amounts are
non-negative integers in the unit of each capacity dimension (for example m³ of oxygen gas, or
cylinders). Locations are positions in the problem's matrices (``location_idx``); business ids
(``vehicle_id``, ``job_id``, ...) are separate and are what callers should show to users.

Every record is a frozen, slotted dataclass that validates itself on construction and raises
:class:`data.errors.InvalidInputError` listing every problem at once. Variants (what-if
scenarios) are made with :func:`dataclasses.replace`, never by editing a shared instance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError

TaskId = int | str
"""A business id of a vehicle, job or shipment step (VROOM uses integers; strings also work)."""

MAX_PRIORITY = 100
"""Largest job priority, as in VROOM (priorities are integers in ``[0, 100]``)."""

DEFAULT_COST_PER_HOUR = 3600
"""A vehicle's travel cost per hour when none is given (VROOM's default: cost = travel seconds)."""

MAX_SPEED_FACTOR = 5.0
"""Largest vehicle speed factor, as in VROOM (factors lie in ``(0, 5]``)."""

GENERAL_PROFILE = "general"
"""The travel profile of the problem's own matrices (``durations_s``, ``distances_m``)."""

StepKind = Literal["start", "job", "pickup", "delivery", "reload", "end"]
TaskKind = Literal["job", "pickup", "delivery"]


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _check_id(what: str, value: object, problems: list[str]) -> None:
    if not (_is_int(value) or isinstance(value, str)):
        problems.append(f"{what} must be an integer or a string, got {value!r}")


def _check_amounts(what: str, values: tuple[int, ...], problems: list[str]) -> None:
    for position, value in enumerate(values):
        if not _is_int(value):
            problems.append(f"{what}[{position}] must be an integer, got {value!r}")
        elif value < 0:
            problems.append(
                f"{what}[{position}] must be >= 0, got {value}; amounts are never negative"
            )


def _check_seconds(what: str, value: int | None, problems: list[str]) -> None:
    if value is None:
        return
    if not _is_int(value):
        problems.append(f"{what} must be an integer number of seconds, got {value!r}")
    elif value < 0:
        problems.append(f"{what} must be >= 0 seconds, got {value}")


def _check_skills(what: str, skills: frozenset[int], problems: list[str]) -> None:
    for skill in sorted(skills, key=repr):
        if not _is_int(skill):
            problems.append(f"{what} must hold integers, got {skill!r}")


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A closed interval ``[start_s, end_s]`` of seconds in which service may start.

    Raises
    ------
    InvalidInputError
        If a bound is not a non-negative integer or ``start_s > end_s``.
    """

    start_s: int
    end_s: int

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_seconds("time window start_s", self.start_s, problems)
        _check_seconds("time window end_s", self.end_s, problems)
        if not problems and self.start_s > self.end_s:
            problems.append(
                f"time window [{self.start_s}, {self.end_s}] starts after it ends; swap the bounds"
            )
        if problems:
            raise InvalidInputError.from_problems("time window", problems)

    def contains(self, time_s: int) -> bool:
        """Return whether ``time_s`` lies inside the window (bounds included)."""
        return self.start_s <= time_s <= self.end_s


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A vehicle (tanker or cylinder truck) and the limits of its shift.

    Parameters
    ----------
    vehicle_id
        Business id, unique among the problem's vehicles.
    start_location_idx, end_location_idx
        Matrix positions where the shift starts and ends (its depots; they may differ). ``None``
        means the route starts at its first task or ends at its last task (open route).
    capacity
        Capacity per load dimension; every vehicle and task of a problem uses the same number of
        dimensions. Empty means "no capacity constraint" only if every task has no amounts.
    time_window
        Shift: earliest departure and latest return, in seconds. ``None``: unconstrained.
    max_travel_time_s
        Largest total driving time of the route (service and waiting excluded), as VROOM's
        ``max_travel_time``. ``None``: unconstrained.
    max_duration_s
        Largest shift length from departure to return, driving, service and waiting included.
    skills
        Skills this vehicle has; it may serve a task only if it has all the task's skills.
    reload_location_idxs
        Plants or filling stations where the vehicle may empty and reload during its shift to serve
        more than one load (multi-trip). Empty: no reloads.
    reload_service_s
        Time a reload takes at a reload location (filling a tank, swapping cylinders).
    max_reloads
        Largest number of reloads in the shift. ``None``: unconstrained.
    fixed_cost
        Cost of using the vehicle at all, in the problem's cost unit (VROOM's ``costs.fixed``).
    cost_per_hour
        Travel cost per hour of driving (VROOM's ``costs.per_hour``, default 3600, so that the
        cost is the travel time in seconds). Must stay the default when the problem has a
        ``costs`` matrix.
    cost_per_km
        Travel cost per kilometre driven (VROOM's ``costs.per_km``, default 0); needs
        ``distances_m`` and no ``costs`` matrix. The route cost is
        ``fixed_cost + round(cost_per_hour * travel_s / 3600 + cost_per_km * distance_m / 1000)``
        (half away from zero), or ``fixed_cost`` plus the ``costs`` entries along the route.
    speed_factor
        Travel times of this vehicle are the matrix times divided by this factor, in ``(0, 5]``
        (VROOM's ``speed_factor``); see :func:`speed_scaled_durations` for the rounding.
    max_distance_m
        Largest total distance of the route, in metres (VROOM's ``max_distance``); needs
        ``distances_m``. ``None``: unconstrained.
    max_tasks
        Largest number of tasks (jobs, shipment pickups and deliveries) on the route (VROOM's
        ``max_tasks``). ``None``: unconstrained.
    profile
        The travel profile whose matrices this vehicle drives on: ``"general"`` (the problem's
        ``durations_s`` and ``distances_m``) or a key of the problem's ``profile_durations_s``
        (for example ``"tanker"``: a loaded cryogenic tanker's road times), as VROOM's vehicle
        ``profile``. ``speed_factor`` scales the profile's times.
    """

    vehicle_id: TaskId
    start_location_idx: int | None
    end_location_idx: int | None
    capacity: tuple[int, ...] = ()
    time_window: TimeWindow | None = None
    max_travel_time_s: int | None = None
    max_duration_s: int | None = None
    skills: frozenset[int] = field(default_factory=frozenset)
    reload_location_idxs: tuple[int, ...] = ()
    reload_service_s: int = 0
    max_reloads: int | None = None
    fixed_cost: int = 0
    cost_per_hour: int = DEFAULT_COST_PER_HOUR
    cost_per_km: int = 0
    speed_factor: float = 1.0
    max_distance_m: int | None = None
    max_tasks: int | None = None
    profile: str = GENERAL_PROFILE

    def __post_init__(self) -> None:
        object.__setattr__(self, "capacity", tuple(self.capacity))
        object.__setattr__(self, "skills", frozenset(self.skills))
        object.__setattr__(self, "reload_location_idxs", tuple(self.reload_location_idxs))
        what = f"vehicle {self.vehicle_id!r}"
        problems: list[str] = []
        _check_id(f"{what} vehicle_id", self.vehicle_id, problems)
        for name in ("start_location_idx", "end_location_idx"):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value < 0):
                problems.append(f"{what} {name} must be a non-negative integer, got {value!r}")
        if self.start_location_idx is None and self.end_location_idx is None:
            problems.append(f"{what} needs a start_location_idx or an end_location_idx (or both)")
        _check_amounts(f"{what} capacity", self.capacity, problems)
        if self.time_window is not None and not isinstance(self.time_window, TimeWindow):
            problems.append(f"{what} time_window must be a TimeWindow, got {self.time_window!r}")
        _check_seconds(f"{what} max_travel_time_s", self.max_travel_time_s, problems)
        _check_seconds(f"{what} max_duration_s", self.max_duration_s, problems)
        _check_skills(f"{what} skills", self.skills, problems)
        for idx in self.reload_location_idxs:
            if not _is_int(idx) or idx < 0:
                problems.append(
                    f"{what} reload_location_idxs must hold non-negative integers, got {idx!r}"
                )
        _check_seconds(f"{what} reload_service_s", self.reload_service_s, problems)
        if self.max_reloads is not None and (not _is_int(self.max_reloads) or self.max_reloads < 0):
            problems.append(
                f"{what} max_reloads must be a non-negative integer, got {self.max_reloads!r}"
            )
        for name in ("fixed_cost", "cost_per_hour", "cost_per_km"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                problems.append(f"{what} {name} must be a non-negative integer, got {value!r}")
        if (
            isinstance(self.speed_factor, bool)
            or not isinstance(self.speed_factor, int | float | np.integer | np.floating)
            or not 0 < self.speed_factor <= MAX_SPEED_FACTOR
        ):
            problems.append(
                f"{what} speed_factor must be a number in (0, {MAX_SPEED_FACTOR:g}], "
                f"got {self.speed_factor!r}"
            )
        if self.max_distance_m is not None and (
            not _is_int(self.max_distance_m) or self.max_distance_m < 0
        ):
            problems.append(
                f"{what} max_distance_m must be a non-negative integer of metres, "
                f"got {self.max_distance_m!r}"
            )
        if self.max_tasks is not None and (not _is_int(self.max_tasks) or self.max_tasks < 0):
            problems.append(
                f"{what} max_tasks must be a non-negative integer, got {self.max_tasks!r}"
            )
        if not isinstance(self.profile, str) or not self.profile:
            problems.append(
                f"{what} profile must be a non-empty string (a travel profile's name, "
                f"{GENERAL_PROFILE!r} by default), got {self.profile!r}"
            )
        if problems:
            raise InvalidInputError.from_problems(what, problems)

    @property
    def duration_factor(self) -> int:
        """Hundredths of a second per second of matrix time: ``round(100 / speed_factor)``.

        VROOM keeps travel times in hundredths of a second and scales them by this integer, so
        speed factors are respected to two decimals.
        """
        return math.floor(100 / float(self.speed_factor) + 0.5)


@dataclass(frozen=True, slots=True)
class Job:
    """A single stop: deliver and/or pick up amounts at one location.

    Parameters
    ----------
    job_id
        Business id, unique among jobs and shipment steps.
    location_idx
        Matrix position of the stop.
    delivery, pickup
        Amounts per load dimension: ``delivery`` is loaded at the start of the trip (depot or
        reload) and dropped here; ``pickup`` is collected here and carried to the trip's end.
    service_s
        Time spent at the stop (unloading cylinders, filling a tank).
    time_window
        When service may start (receiving hours). ``None``: any time.
    priority
        Integer in ``[0, 100]``; when not every task can be served, higher priorities are served
        first (as in VROOM).
    skills
        Skills a vehicle needs to serve this job.
    time_windows
        Several windows, of which service must start in any one (VROOM's ``time_windows``).
        Given alone; kept sorted by start. With one window it equals ``(time_window,)`` and
        ``time_window`` is set to it; with several ``time_window`` stays ``None``. Empty (with
        ``time_window`` ``None``): any time.
    """

    job_id: TaskId
    location_idx: int
    delivery: tuple[int, ...] = ()
    pickup: tuple[int, ...] = ()
    service_s: int = 0
    time_window: TimeWindow | None = None
    priority: int = 0
    skills: frozenset[int] = field(default_factory=frozenset)
    time_windows: tuple[TimeWindow, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "delivery", tuple(self.delivery))
        object.__setattr__(self, "pickup", tuple(self.pickup))
        object.__setattr__(self, "skills", frozenset(self.skills))
        what = f"job {self.job_id!r}"
        problems: list[str] = []
        windows = tuple(self.time_windows)
        if any(not isinstance(w, TimeWindow) for w in windows):
            problems.append(f"{what} time_windows must hold TimeWindow records, got {windows!r}")
        elif windows and self.time_window is not None and windows != (self.time_window,):
            problems.append(f"{what}: give time_window or time_windows, not both")
        elif windows:
            windows = tuple(sorted(windows, key=lambda w: (w.start_s, w.end_s)))
            object.__setattr__(self, "time_window", windows[0] if len(windows) == 1 else None)
        elif self.time_window is not None:
            windows = (self.time_window,)
        object.__setattr__(self, "time_windows", windows)
        _check_id(f"{what} job_id", self.job_id, problems)
        if not _is_int(self.location_idx) or self.location_idx < 0:
            problems.append(
                f"{what} location_idx must be a non-negative integer, got {self.location_idx!r}"
            )
        _check_amounts(f"{what} delivery", self.delivery, problems)
        _check_amounts(f"{what} pickup", self.pickup, problems)
        if self.delivery and self.pickup and len(self.delivery) != len(self.pickup):
            problems.append(
                f"{what} delivery has {len(self.delivery)} dimension(s) but pickup has "
                f"{len(self.pickup)}; use the same number of load dimensions"
            )
        _check_seconds(f"{what} service_s", self.service_s, problems)
        if self.time_window is not None and not isinstance(self.time_window, TimeWindow):
            problems.append(f"{what} time_window must be a TimeWindow, got {self.time_window!r}")
        if not _is_int(self.priority) or not 0 <= self.priority <= MAX_PRIORITY:
            problems.append(
                f"{what} priority must be an integer in [0, {MAX_PRIORITY}], got {self.priority!r}"
            )
        _check_skills(f"{what} skills", self.skills, problems)
        if problems:
            raise InvalidInputError.from_problems(what, problems)


@dataclass(frozen=True, slots=True)
class ShipmentStep:
    """The pickup or the delivery end of a shipment.

    Parameters
    ----------
    step_id
        Business id, unique among jobs and shipment steps.
    location_idx
        Matrix position of the step.
    service_s
        Time spent at the step.
    time_window
        When service may start. ``None``: any time.
    """

    step_id: TaskId
    location_idx: int
    service_s: int = 0
    time_window: TimeWindow | None = None

    def __post_init__(self) -> None:
        what = f"shipment step {self.step_id!r}"
        problems: list[str] = []
        _check_id(f"{what} step_id", self.step_id, problems)
        if not _is_int(self.location_idx) or self.location_idx < 0:
            problems.append(
                f"{what} location_idx must be a non-negative integer, got {self.location_idx!r}"
            )
        _check_seconds(f"{what} service_s", self.service_s, problems)
        if self.time_window is not None and not isinstance(self.time_window, TimeWindow):
            problems.append(f"{what} time_window must be a TimeWindow, got {self.time_window!r}")
        if problems:
            raise InvalidInputError.from_problems(what, problems)


@dataclass(frozen=True, slots=True)
class Shipment:
    """An amount carried from a pickup step to a delivery step by one vehicle, pickup first.

    Parameters
    ----------
    pickup, delivery
        The two ends of the shipment.
    amount
        Amount carried, per load dimension.
    priority
        Integer in ``[0, 100]``, as for :class:`Job`.
    skills
        Skills a vehicle needs to serve this shipment.
    """

    pickup: ShipmentStep
    delivery: ShipmentStep
    amount: tuple[int, ...] = ()
    priority: int = 0
    skills: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", tuple(self.amount))
        object.__setattr__(self, "skills", frozenset(self.skills))
        what = f"shipment {self.pickup.step_id!r}->{self.delivery.step_id!r}"
        problems: list[str] = []
        _check_amounts(f"{what} amount", self.amount, problems)
        if not _is_int(self.priority) or not 0 <= self.priority <= MAX_PRIORITY:
            problems.append(
                f"{what} priority must be an integer in [0, {MAX_PRIORITY}], got {self.priority!r}"
            )
        _check_skills(f"{what} skills", self.skills, problems)
        if problems:
            raise InvalidInputError.from_problems(what, problems)


def _as_matrix(
    name: str, matrix: npt.ArrayLike | None, problems: list[str]
) -> npt.NDArray[np.int64] | None:
    """Return a read-only int64 copy of a square matrix, or record why it is not one."""
    if matrix is None:
        return None
    array = np.asarray(matrix)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        problems.append(
            f"{name} must be a square matrix (n x n), got shape {array.shape}; "
            "give one row and one column per location"
        )
        return None
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.floating) or not np.all(np.isfinite(array)):
            problems.append(f"{name} must hold finite integers, got dtype {array.dtype}")
            return None
        if not np.all(array == np.round(array)):
            problems.append(
                f"{name} must hold integers (seconds, metres or cost units); scale and round "
                "fractional values explicitly before building the problem"
            )
            return None
    result = array.astype(np.int64, copy=True)
    if result.size and result.min() < 0:
        row, col = np.unravel_index(int(np.argmin(result)), result.shape)
        problems.append(f"{name}[{row}][{col}] is {int(result[row, col])}; entries must be >= 0")
    if result.size and np.any(np.diagonal(result) != 0):
        first = int(np.flatnonzero(np.diagonal(result))[0])
        problems.append(
            f"{name}[{first}][{first}] is {int(result[first, first])}; the diagonal must be 0 "
            "(travel from a place to itself)"
        )
    result.setflags(write=False)
    return result


def _reference_problems(
    vehicles: tuple[Vehicle, ...],
    jobs: tuple[Job, ...],
    shipments: tuple[Shipment, ...],
    n: int | None,
) -> list[str]:
    """List duplicate vehicle and task ids, and location indices outside ``n`` locations."""
    problems: list[str] = []

    def check_idx(what: str, idx: int | None) -> None:
        if idx is not None and n is not None and idx >= n:
            problems.append(
                f"{what} is {idx} but the matrices have only {n} locations (valid: 0..{n - 1})"
            )

    seen_vehicles: set[TaskId] = set()
    for vehicle in vehicles:
        what = f"vehicle {vehicle.vehicle_id!r}"
        if vehicle.vehicle_id in seen_vehicles:
            problems.append(f"{what}: vehicle_id is used twice; ids must be unique")
        seen_vehicles.add(vehicle.vehicle_id)
        check_idx(f"{what} start_location_idx", vehicle.start_location_idx)
        check_idx(f"{what} end_location_idx", vehicle.end_location_idx)
        for idx in vehicle.reload_location_idxs:
            check_idx(f"{what} reload_location_idxs", idx)
    seen_tasks: set[TaskId] = set()

    def check_task_id(what: str, task_id: TaskId) -> None:
        if task_id in seen_tasks:
            problems.append(
                f"{what}: id {task_id!r} is used twice; job and shipment step ids must be unique"
            )
        seen_tasks.add(task_id)

    for job in jobs:
        check_task_id(f"job {job.job_id!r}", job.job_id)
        check_idx(f"job {job.job_id!r} location_idx", job.location_idx)
    for shipment in shipments:
        for step in (shipment.pickup, shipment.delivery):
            check_task_id(f"shipment step {step.step_id!r}", step.step_id)
            check_idx(f"shipment step {step.step_id!r} location_idx", step.location_idx)
    return problems


def _vehicle_cost_problems(
    vehicles: tuple[Vehicle, ...], *, has_costs: bool, has_distances: bool
) -> list[str]:
    """List vehicle costs and limits that the given matrices cannot serve (as in VROOM)."""
    problems = []
    for vehicle in vehicles:
        what = f"vehicle {vehicle.vehicle_id!r}"
        if has_costs and vehicle.cost_per_hour != DEFAULT_COST_PER_HOUR:
            problems.append(
                f"{what}: cost_per_hour {vehicle.cost_per_hour} cannot be combined with a "
                "costs matrix (as in VROOM); drop one of them"
            )
        if has_costs and vehicle.cost_per_km:
            problems.append(
                f"{what}: cost_per_km {vehicle.cost_per_km} cannot be combined with a costs "
                "matrix (VROOM would ignore it); drop one of them"
            )
        if not has_distances and vehicle.cost_per_km:
            problems.append(f"{what}: cost_per_km needs distances_m (a distances matrix)")
        if not has_distances and vehicle.max_distance_m is not None:
            problems.append(f"{what}: max_distance_m needs distances_m (a distances matrix)")
    return problems


def _dimension_problems(
    vehicles: tuple[Vehicle, ...], jobs: tuple[Job, ...], shipments: tuple[Shipment, ...]
) -> list[str]:
    """List a mix of load dimensions among capacities and amounts (all must have as many)."""
    dims = {len(v.capacity) for v in vehicles}
    dims |= {len(a) for j in jobs for a in (j.delivery, j.pickup) if a}
    dims |= {len(s.amount) for s in shipments if s.amount}
    if len(dims) > 1:
        return [
            f"capacities and amounts use different numbers of load dimensions {sorted(dims)}; "
            "give every vehicle capacity and every amount the same number of dimensions"
        ]
    return []


def _profile_matrices(
    name: str,
    matrices: Mapping[str, npt.ArrayLike] | None,
    n: int | None,
    problems: list[str],
) -> Mapping[str, npt.NDArray[np.int64]]:
    """Return read-only int64 copies of a profile's matrices by name, or record the problems."""
    if matrices is None:
        return MappingProxyType({})
    if not isinstance(matrices, Mapping):
        problems.append(f"{name} must map profile names to matrices, got {type(matrices)!r}")
        return MappingProxyType({})
    out: dict[str, npt.NDArray[np.int64]] = {}
    for profile, matrix in matrices.items():
        if not isinstance(profile, str) or not profile or profile == GENERAL_PROFILE:
            problems.append(
                f"{name}: {profile!r} is not a profile name; use a non-empty string other than "
                f"{GENERAL_PROFILE!r} (the problem's own matrices)"
            )
            continue
        array = _as_matrix(f"{name}[{profile!r}]", matrix, problems)
        if array is None:
            continue
        if n is not None and array.shape[0] != n:
            problems.append(
                f"{name}[{profile!r}] has shape {array.shape} but durations_s has {(n, n)}; "
                "give every profile a matrix over the same locations"
            )
            continue
        out[profile] = array
    return MappingProxyType(out)


def _profile_problems(
    vehicles: tuple[Vehicle, ...],
    durations: Mapping[str, npt.NDArray[np.int64]],
    distances: Mapping[str, npt.NDArray[np.int64]],
    *,
    has_distances: bool,
) -> list[str]:
    """List vehicles on an unknown profile, and profile distances without their times."""
    problems: list[str] = []
    known = [GENERAL_PROFILE, *sorted(durations)]
    for vehicle in vehicles:
        if isinstance(vehicle, Vehicle) and vehicle.profile not in known:
            problems.append(
                f"vehicle {vehicle.vehicle_id!r} profile: {vehicle.profile!r} has no matrix; "
                f"use one of {', '.join(known)} or add its profile_durations_s"
            )
    for profile in sorted(set(distances) - set(durations)):
        problems.append(
            f"profile_distances_m[{profile!r}] has no profile_durations_s[{profile!r}]; "
            "give the profile's travel times too"
        )
    if distances and not has_distances:
        problems.append("profile_distances_m needs distances_m (the general profile's distances)")
    return problems


@dataclass(frozen=True, slots=True, eq=False)
class RouteProblem:
    """A vehicle-routing problem over matrix positions: vehicles, jobs, shipments and matrices.

    Parameters
    ----------
    durations_s
        Travel time in seconds between locations, shape ``(n, n)``, stored as read-only int64.
    vehicles, jobs, shipments
        The fleet and the tasks.
    costs
        Travel cost between locations (the objective), shape ``(n, n)``, integer. ``None``: the
        cost is the travel time, as in VROOM.
    distances_m
        Travel distance in metres, shape ``(n, n)``. ``None``: distances are not reported.
    profile_durations_s
        Travel times of other travel profiles, by profile name (for example ``"tanker"``), each
        of shape ``(n, n)`` (stored read-only int64). A vehicle whose ``profile`` names one
        drives on it; the others drive on ``durations_s`` (the ``"general"`` profile, a name
        that cannot be a key). Empty by default.
    profile_distances_m
        Travel distances of those profiles, by name; each key must be a key of
        ``profile_durations_s``, and ``distances_m`` must be given. A profile without its own
        distances uses ``distances_m``.

    A ``costs`` matrix is shared by every profile (the objective); without one, each vehicle's
    cost counts its own profile's times and distances.

    Raises
    ------
    InvalidInputError
        Listing every problem found: a matrix that is not square, negative or non-integer, a
        location index outside the matrix, duplicate ids, amounts with the wrong number of
        dimensions, no vehicle, a profile matrix of another shape, a vehicle's unknown profile.
    """

    durations_s: npt.NDArray[np.int64]
    vehicles: tuple[Vehicle, ...]
    jobs: tuple[Job, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    costs: npt.NDArray[np.int64] | None = None
    distances_m: npt.NDArray[np.int64] | None = None
    profile_durations_s: Mapping[str, npt.NDArray[np.int64]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    profile_distances_m: Mapping[str, npt.NDArray[np.int64]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        problems: list[str] = []
        object.__setattr__(self, "vehicles", tuple(self.vehicles))
        object.__setattr__(self, "jobs", tuple(self.jobs))
        object.__setattr__(self, "shipments", tuple(self.shipments))
        durations = _as_matrix("durations_s", self.durations_s, problems)
        costs = _as_matrix("costs", self.costs, problems)
        distances = _as_matrix("distances_m", self.distances_m, problems)
        object.__setattr__(self, "durations_s", durations)
        object.__setattr__(self, "costs", costs)
        object.__setattr__(self, "distances_m", distances)
        n = durations.shape[0] if durations is not None else None
        for name, other in (("costs", costs), ("distances_m", distances)):
            if other is not None and n is not None and other.shape[0] != n:
                problems.append(f"{name} has shape {other.shape} but durations_s has {(n, n)}")
        profile_durations = _profile_matrices(
            "profile_durations_s", self.profile_durations_s, n, problems
        )
        profile_distances = _profile_matrices(
            "profile_distances_m", self.profile_distances_m, n, problems
        )
        object.__setattr__(self, "profile_durations_s", profile_durations)
        object.__setattr__(self, "profile_distances_m", profile_distances)
        problems.extend(
            _profile_problems(
                self.vehicles,
                profile_durations,
                profile_distances,
                has_distances=distances is not None,
            )
        )
        if not self.vehicles:
            problems.append("vehicles is empty; give at least one vehicle")
        for kind, items in (
            ("vehicles", self.vehicles),
            ("jobs", self.jobs),
            ("shipments", self.shipments),
        ):
            expected = {"vehicles": Vehicle, "jobs": Job, "shipments": Shipment}[kind]
            for item in items:
                if not isinstance(item, expected):
                    problems.append(f"{kind} must hold {expected.__name__} records, got {item!r}")
        if problems:
            raise InvalidInputError.from_problems("route problem", problems)

        problems.extend(_reference_problems(self.vehicles, self.jobs, self.shipments, n))
        problems.extend(
            _vehicle_cost_problems(
                self.vehicles, has_costs=costs is not None, has_distances=distances is not None
            )
        )
        problems.extend(_dimension_problems(self.vehicles, self.jobs, self.shipments))
        if problems:
            raise InvalidInputError.from_problems("route problem", problems)

    @property
    def num_locations(self) -> int:
        """Number of locations (rows of the matrices)."""
        return int(self.durations_s.shape[0])

    @property
    def num_dimensions(self) -> int:
        """Number of load dimensions (0 when nothing has a capacity or an amount)."""
        for vehicle in self.vehicles:
            return len(vehicle.capacity)
        return 0

    @property
    def cost_matrix(self) -> npt.NDArray[np.int64]:
        """The objective's matrix: ``costs`` if given, else ``durations_s``."""
        return self.costs if self.costs is not None else self.durations_s

    def durations_of(self, vehicle: Vehicle) -> npt.NDArray[np.int64]:
        """Return the travel times of ``vehicle``'s profile (before its ``speed_factor``)."""
        return self.profile_durations_s.get(vehicle.profile, self.durations_s)

    def distances_of(self, vehicle: Vehicle) -> npt.NDArray[np.int64] | None:
        """Return the distances of ``vehicle``'s profile (``distances_m`` if it has none)."""
        return self.profile_distances_m.get(vehicle.profile, self.distances_m)

    def cost_matrix_of(self, vehicle: Vehicle) -> npt.NDArray[np.int64]:
        """Return ``vehicle``'s objective matrix: ``costs`` if given, else its profile's times."""
        return self.costs if self.costs is not None else self.durations_of(vehicle)


@dataclass(frozen=True, slots=True)
class RouteStep:
    """One step of a route, with its schedule and the load on board after it.

    ``arrival_s`` is when the vehicle arrives; service starts after ``waiting_s`` and lasts
    ``service_s``. ``travel_s`` is the driving time accumulated since the start (VROOM's step
    ``duration``); ``distance_m`` likewise when the problem has distances. ``task_id`` is ``None``
    for start, reload and end steps.
    """

    kind: StepKind
    location_idx: int
    arrival_s: int
    travel_s: int
    waiting_s: int
    service_s: int
    load: tuple[int, ...]
    task_id: TaskId | None = None
    distance_m: int | None = None


@dataclass(frozen=True, slots=True)
class VehicleRoute:
    """The ordered steps of one vehicle's shift, with totals (cost in the cost matrix's units)."""

    vehicle_id: TaskId
    steps: tuple[RouteStep, ...]
    cost: int
    travel_s: int
    service_s: int
    waiting_s: int
    delivery: tuple[int, ...]
    pickup: tuple[int, ...]
    priority: int
    distance_m: int | None = None


@dataclass(frozen=True, slots=True)
class UnassignedTask:
    """A job or shipment step that no route serves, and why (with numbers where possible)."""

    task_id: TaskId
    kind: TaskKind
    location_idx: int
    reason: str


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """The answer to a :class:`RouteProblem`: routes plus every task that is not served.

    A plan that cannot serve everything is still an answer: each task is either in exactly one
    route or in ``unassigned`` with its reason.
    """

    routes: tuple[VehicleRoute, ...]
    unassigned: tuple[UnassignedTask, ...]
    cost: int
    engine: str
    seed: int
    runtime_s: float


def speed_scaled_durations(
    durations_s: npt.NDArray[np.int64], speed_factor: float
) -> npt.NDArray[np.int64]:
    """Return the travel times of a vehicle with ``speed_factor``, in whole seconds.

    Each leg is scaled as VROOM does, to hundredths of a second (``d * round(100 / factor)``),
    then rounded to the nearest second, halves up: ``(d * round(100 / factor) + 50) // 100``.
    VROOM keeps the hundredths along the route and truncates arrivals instead, so with a factor
    that does not divide a leg evenly an arrival may differ from VROOM's by under a second per
    leg. A factor of 1 returns the matrix unchanged.
    """
    factor = math.floor(100 / float(speed_factor) + 0.5)
    if factor == 100:
        return durations_s
    scaled: npt.NDArray[np.int64] = (durations_s.astype(np.int64) * factor + 50) // 100
    return scaled


def total_amounts(amounts: Sequence[tuple[int, ...]], num_dimensions: int) -> tuple[int, ...]:
    """Return the per-dimension sum of ``amounts`` (empty tuples count as zeros)."""
    totals = [0] * num_dimensions
    for amount in amounts:
        for position, value in enumerate(amount):
            totals[position] += int(value)
    return tuple(totals)
