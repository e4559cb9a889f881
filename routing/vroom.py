"""Read VROOM's problem JSON into a route problem and write a route plan as VROOM's solution JSON.

VROOM's conventions hold throughout: ``[lon, lat]`` coordinates (WGS84), integer seconds and
metres, ``unassigned`` in every answer, and the error codes 0 ok / 1 internal / 2 input /
3 routing. The keys supported are listed in ``docs/vrp.md`` (and in :data:`SUPPORTED_KEYS`);
any other key is refused with an error naming it, rather than silently ignored.

Vehicle ``costs``, ``speed_factor``, ``max_tasks``, ``max_distance`` and ``profile`` (several
routing profiles in ``matrices``) and several job ``time_windows`` follow VROOM's semantics; the
few combinations the engine cannot model exactly are refused by name (see ``docs/vrp.md``).

Extensions beyond VROOM (documented in ``docs/vrp.md``): vehicle keys ``reload_indices``,
``reload_service`` and ``max_reloads`` (multi-trip reloads at a plant or filling station), a
``reload`` step type in routes, and a ``reason`` on every unassigned entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError
from data.schema.routes import (
    DEFAULT_COST_PER_HOUR,
    GENERAL_PROFILE,
    MAX_SPEED_FACTOR,
    Job,
    RoutePlan,
    RouteProblem,
    Shipment,
    ShipmentStep,
    TaskId,
    TimeWindow,
    Vehicle,
)

CODE_OK = 0
CODE_INTERNAL_ERROR = 1
CODE_INPUT_ERROR = 2
CODE_ROUTING_ERROR = 3

MAX_VALUE = 2**32 - 1
"""Largest integer accepted for a time, distance, cost, amount, skill or limit (4,294,967,295).

VROOM's own limit on durations, distances, costs and time windows (unsigned 32-bit); it keeps
every sum the engine forms within 64-bit integers, where larger values overflowed (a crash).
"""

MAX_ID = 2**64 - 1
"""Largest id of a vehicle, job or shipment step (VROOM's ids are unsigned 64-bit)."""

MatrixProvider = Callable[
    [Sequence[tuple[float, float]]], tuple[npt.ArrayLike, npt.ArrayLike | None]
]
"""Builds matrices for ``[lon, lat]`` locations: (durations in s, distances in m or ``None``)."""

SUPPORTED_KEYS: dict[str, frozenset[str]] = {
    "problem": frozenset({"vehicles", "jobs", "shipments", "matrices"}),
    "vehicle": frozenset(
        {
            "id",
            "profile",
            "description",
            "start",
            "start_index",
            "end",
            "end_index",
            "capacity",
            "skills",
            "time_window",
            "max_travel_time",
            "max_distance",
            "max_tasks",
            "speed_factor",
            "costs",
            "reload_indices",
            "reload_service",
            "max_reloads",
        }
    ),
    "job": frozenset(
        {
            "id",
            "description",
            "location",
            "location_index",
            "delivery",
            "pickup",
            "service",
            "time_windows",
            "priority",
            "skills",
        }
    ),
    "shipment": frozenset({"pickup", "delivery", "amount", "priority", "skills"}),
    "shipment_step": frozenset(
        {"id", "description", "location", "location_index", "service", "time_windows"}
    ),
    "matrix": frozenset({"durations", "distances", "costs"}),
    "costs": frozenset({"fixed", "per_hour", "per_km"}),
}
"""VROOM keys (and oxyroute extensions) accepted at each level of the input."""

_HINTS = {
    "breaks": "driver breaks are not supported yet",
    "per_task_hour": "a cost per hour of service is not supported; fold it into 'fixed'",
    "steps": "fixed route steps are not supported",
    "setup": "setup times are not supported; add them to 'service'",
    "amount": "use 'delivery' and/or 'pickup'",
    "options": "solver options are given on the command line (--time-limit, --seed)",
    "matrix": 'use \'matrices\': {"car": {"durations": [[...]]}}',
}


@dataclass(frozen=True, slots=True)
class VroomProblem:
    """A parsed VROOM problem: the route problem plus what the answer must echo back.

    ``coordinates[location_idx]`` is the ``[lon, lat]`` of a location when the input gave one.
    VROOM keeps job, pickup and delivery ids apart (a job and a pickup may both be ``1``; so may a
    shipment's pickup and delivery), while the route problem needs one id per task: a job keeps
    its id, a shipment step becomes ``"pickup <id>"`` or ``"delivery <id>"``, and ``vroom_ids``
    maps those back for the answer.
    """

    problem: RouteProblem
    coordinates: tuple[tuple[float, float] | None, ...]
    descriptions: Mapping[tuple[str, TaskId], str]
    vroom_ids: Mapping[TaskId, int] = field(default_factory=dict)

    def vroom_id(self, task_id: TaskId) -> TaskId:
        """Return the id the input gave a task (in its job, pickup or delivery namespace)."""
        return self.vroom_ids.get(task_id, task_id)


class _Collector:
    """Collects every input problem, to raise once."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, message: str) -> None:
        self.problems.append(message)

    def keys(self, where: str, item: Mapping[str, Any], level: str) -> None:
        for key in item:
            if key not in SUPPORTED_KEYS[level]:
                hint = _HINTS.get(
                    key, f"supported keys: {', '.join(sorted(SUPPORTED_KEYS[level]))}"
                )
                self.add(f"{where}.{key}: unsupported key ({hint})")

    def integer(
        self, where: str, value: Any, *, minimum: int = 0, maximum: int = MAX_VALUE
    ) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(f"{where}: must be an integer, got {value!r}")
            return None
        if value < minimum:
            self.add(f"{where}: must be >= {minimum}, got {value}")
            return None
        if value > maximum:
            self.add(f"{where}: must be <= {maximum}, got {value}")
            return None
        return value

    def amounts(self, where: str, value: Any) -> tuple[int, ...]:
        if not isinstance(value, list):
            self.add(f"{where}: must be a list of non-negative integers, got {value!r}")
            return ()
        out = [self.integer(f"{where}[{k}]", v) for k, v in enumerate(value)]
        return tuple(v for v in out if v is not None) if all(v is not None for v in out) else ()

    def skills(self, where: str, value: Any) -> frozenset[int]:
        return frozenset(self.amounts(where, value))

    def window(self, where: str, value: Any) -> TimeWindow | None:
        if not (isinstance(value, list) and len(value) == 2):
            self.add(f"{where}: must be [start, end] in seconds, got {value!r}")
            return None
        start = self.integer(f"{where}[0]", value[0])
        end = self.integer(f"{where}[1]", value[1])
        if start is None or end is None:
            return None
        if start > end:
            self.add(f"{where}: starts after it ends ({start} > {end}); swap the bounds")
            return None
        return TimeWindow(start, end)

    def windows(self, where: str, value: Any) -> tuple[TimeWindow, ...]:
        if not isinstance(value, list) or not value:
            self.add(f"{where}: must be a non-empty list of [start, end] windows, got {value!r}")
            return ()
        windows = [self.window(f"{where}[{k}]", w) for k, w in enumerate(value)]
        return tuple(w for w in windows if w is not None) if None not in windows else ()

    def number(self, where: str, value: Any, *, low: float, high: float) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
            self.add(f"{where}: must be a number in ({low:g}, {high:g}], got {value!r}")
            return None
        return float(value)


class _Locations:
    """Maps VROOM locations (matrix index or coordinates) to matrix positions."""

    def __init__(self, has_matrix: bool, size: int | None, collector: _Collector) -> None:
        self.has_matrix = has_matrix
        self.size = size
        self.collector = collector
        self.coordinates: dict[int, tuple[float, float]] = {}
        self.by_coordinates: dict[tuple[float, float], int] = {}

    def resolve(self, where: str, item: Mapping[str, Any], prefix: str = "") -> int | None:
        index_key, coord_key = (
            f"{prefix}index" if prefix else "location_index",
            prefix.rstrip("_") or "location",
        )
        coordinates = None
        if coord_key in item:
            value = item[coord_key]
            if (
                isinstance(value, list)
                and len(value) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
                and -180 <= value[0] <= 180
                and -90 <= value[1] <= 90
            ):
                coordinates = (float(value[0]), float(value[1]))
            else:
                self.collector.add(
                    f"{where}.{coord_key}: must be [lon, lat] in WGS84 degrees, got {value!r}"
                )
                return None
        if self.has_matrix:
            if index_key not in item:
                self.collector.add(f"{where}.{index_key}: required when 'matrices' is given")
                return None
            idx = self.collector.integer(f"{where}.{index_key}", item[index_key])
            if idx is not None and self.size is not None and idx >= self.size:
                self.collector.add(
                    f"{where}.{index_key}: {idx} is outside the matrix, which has {self.size} "
                    f"locations (valid: 0..{self.size - 1})"
                )
                return None
            if idx is not None and coordinates is not None:
                self.coordinates[idx] = coordinates
            return idx
        if index_key in item:
            self.collector.add(f"{where}.{index_key}: given but the input has no 'matrices'")
            return None
        if coordinates is None:
            return None
        if coordinates not in self.by_coordinates:
            self.by_coordinates[coordinates] = len(self.by_coordinates)
            self.coordinates[self.by_coordinates[coordinates]] = coordinates
        return self.by_coordinates[coordinates]


def _matrix(where: str, value: Any, collector: _Collector) -> npt.NDArray[np.int64] | None:
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        collector.add(f"{where}: must be a list of rows (a square matrix of integers)")
        return None
    sizes = {len(row) for row in value}
    if len(value) == 0 or sizes != {len(value)}:
        collector.add(
            f"{where}: must be square, got {len(value)} row(s) of length(s) {sorted(sizes)}; "
            "give one row and one column per location"
        )
        return None
    flat = [v for row in value for v in row]

    def valid(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_VALUE

    if not all(valid(v) for v in flat):
        bad = next(v for v in flat if not valid(v))
        collector.add(f"{where}: entries must be integers in [0, {MAX_VALUE}], got {bad!r}")
        return None
    return np.array(value, dtype=np.int64)


class _Parser:
    """Reads one VROOM document, collecting every problem to raise once."""

    def __init__(self) -> None:
        self.collector = _Collector()
        self.has_matrices = False
        self.profile_name: str | None = None  # the first profile's: the problem's own matrices
        self.durations: npt.NDArray[np.int64] | None = None
        self.costs: npt.NDArray[np.int64] | None = None
        self.distances: npt.NDArray[np.int64] | None = None
        # The other profiles' durations and distances, by VROOM name (see :meth:`matrices`).
        self.other_durations: dict[str, npt.NDArray[np.int64]] = {}
        self.other_distances: dict[str, npt.NDArray[np.int64]] = {}
        self.locations = _Locations(False, None, self.collector)
        self.descriptions: dict[tuple[str, TaskId], str] = {}
        self.first_use: dict[tuple[str, int], str] = {}
        self.vroom_ids: dict[TaskId, int] = {}

    def lists(self, document: dict[str, Any]) -> tuple[list[Any], list[Any], list[Any]]:
        """Return the vehicles, jobs and shipments lists (empty where they are not lists)."""
        collector = self.collector
        collector.keys("problem", document, "problem")
        vehicles_in = document.get("vehicles")
        if not isinstance(vehicles_in, list) or not vehicles_in:
            collector.add("problem.vehicles: must be a non-empty list")
            vehicles_in = []
        jobs_in = document.get("jobs", [])
        shipments_in = document.get("shipments", [])
        for key, value in (("jobs", jobs_in), ("shipments", shipments_in)):
            if not isinstance(value, list):
                collector.add(f"problem.{key}: must be a list")
        jobs_in = jobs_in if isinstance(jobs_in, list) else []
        shipments_in = shipments_in if isinstance(shipments_in, list) else []
        if not jobs_in and not shipments_in:
            collector.add("problem: give at least one job or shipment")
        return vehicles_in, jobs_in, shipments_in

    def matrices(self, matrices: Any) -> None:
        """Read the profiles' matrices; set up the locations (indices or coordinates).

        The first profile's matrices are the problem's own (its vehicles drive on the
        ``"general"`` profile); each other profile's durations (and distances) become a travel
        profile of the same name, over the same locations, for the vehicles that name it. A
        ``costs`` matrix is shared: with several profiles, each must give the same one or none
        does; distances are given by every profile or by none.
        """
        collector = self.collector
        self.has_matrices = matrices is not None
        if matrices is not None:
            if not isinstance(matrices, dict) or not matrices:
                collector.add(
                    "problem.matrices: must hold one object per routing profile, "
                    '{"car": {"durations": [[...]]}} for example'
                )
            else:
                for number, (name, entry) in enumerate(matrices.items()):
                    self._profile(f"problem.matrices.{name}", str(name), entry, first=number == 0)
                self._check_profiles(matrices)
        size = self.durations.shape[0] if self.durations is not None else None
        self.locations = _Locations(self.has_matrices, size, collector)

    def _profile(self, where: str, name: str, entry: Any, *, first: bool) -> None:
        collector = self.collector
        if first:
            self.profile_name = name
        if not isinstance(entry, dict):
            collector.add(f"{where}: must be an object with 'durations'")
            return
        collector.keys(where, entry, "matrix")
        durations = distances = None
        if "durations" not in entry:
            collector.add(f"{where}.durations: required (travel times in seconds)")
        else:
            durations = _matrix(f"{where}.durations", entry["durations"], collector)
        if "costs" in entry and first:
            self.costs = _matrix(f"{where}.costs", entry["costs"], collector)
        if "distances" in entry:
            distances = _matrix(f"{where}.distances", entry["distances"], collector)
        if first:
            self.durations, self.distances = durations, distances
            return
        if durations is not None:
            self.other_durations[name] = durations
        if distances is not None:
            self.other_distances[name] = distances

    def _check_profiles(self, matrices: dict[str, Any]) -> None:
        """Refuse profiles over other locations, unequal costs, distances in only some."""
        collector, first = self.collector, self.profile_name
        if len(matrices) < 2 or self.durations is None or first is None:
            return
        size = self.durations.shape[0]
        for name, durations in self.other_durations.items():
            if durations.shape[0] != size:
                collector.add(
                    f"problem.matrices.{name}.durations: {durations.shape[0]} locations but "
                    f"matrices.{first} has {size}; every profile covers the same locations"
                )
        entries = {name: e for name, e in matrices.items() if isinstance(e, dict)}
        with_costs = [name for name, e in entries.items() if "costs" in e]
        if with_costs and (
            len(with_costs) != len(matrices)
            or any(entries[name]["costs"] != entries[first]["costs"] for name in with_costs)
        ):
            collector.add(
                f"problem.matrices: costs differ between profiles ({', '.join(with_costs)} give "
                "costs); one costs matrix is shared by every profile here: give the same costs "
                "in every profile, or none"
            )
        with_distances = [name for name, e in entries.items() if "distances" in e]
        if with_distances and len(with_distances) != len(matrices):
            collector.add(
                f"problem.matrices: only {', '.join(with_distances)} give distances; give "
                "distances in every profile or in none"
            )

    def travel_profile(self, vroom_profile: str) -> str:
        """Return the route problem's profile of a VROOM profile (the first is the general)."""
        if vroom_profile == self.profile_name:
            return GENERAL_PROFILE
        # "general" names the problem's own matrices (the first profile's); another VROOM
        # profile of that name is kept apart as "vroom:general".
        return f"vroom:{vroom_profile}" if vroom_profile == GENERAL_PROFILE else vroom_profile

    @property
    def size(self) -> int | None:
        """Locations in the matrix, ``None`` without one."""
        return self.durations.shape[0] if self.durations is not None else None

    def describe(self, kind: str, identifier: Any, item: Mapping[str, Any], where: str) -> None:
        """Keep an item's description for the answer."""
        if "description" in item:
            if isinstance(item["description"], str):
                self.descriptions[(kind, identifier)] = item["description"]
            else:
                self.collector.add(f"{where}.description: must be a string")

    def unique(self, kind: str, identifier: int | None, where: str) -> bool:
        """Record a task id in its kind's namespace; refuse it (False) if already used there."""
        if identifier is None:
            return True
        if (kind, identifier) in self.first_use:
            self.collector.add(
                f"{where}.id: {identifier} is already the id of "
                f"{self.first_use[(kind, identifier)]}; {kind} ids must be unique (as in VROOM)"
            )
            return False
        self.first_use[(kind, identifier)] = where
        return True

    def _ends(self, where: str, item: dict[str, Any]) -> tuple[int | None, int | None]:
        locations = self.locations
        has_start = "start" in item or "start_index" in item
        start = locations.resolve(where, item, "start_") if has_start else None
        has_end = "end" in item or "end_index" in item
        end = locations.resolve(where, item, "end_") if has_end else None
        if start is None and end is None:
            self.collector.add(
                f"{where}: needs a start or an end (start/start_index, end/end_index)"
            )
        return start, end

    def _reloads(self, where: str, item: dict[str, Any]) -> tuple[int, ...]:
        collector, size = self.collector, self.size
        reload_idxs: list[int] = []
        reload_in = item.get("reload_indices", [])
        if not isinstance(reload_in, list):
            collector.add(f"{where}.reload_indices: must be a list of matrix indices")
            reload_in = []
        for r, value in enumerate(reload_in):
            idx = collector.integer(f"{where}.reload_indices[{r}]", value)
            if idx is not None and size is not None and idx >= size:
                collector.add(
                    f"{where}.reload_indices[{r}]: {idx} is outside the matrix ({size} locations)"
                )
            elif idx is not None:
                reload_idxs.append(idx)
        if "reload_indices" in item and not self.has_matrices:
            collector.add(f"{where}.reload_indices: needs 'matrices' (indices point into them)")
        return tuple(reload_idxs)

    def _vehicle_fields(self, where: str, item: dict[str, Any]) -> dict[str, Any]:
        collector = self.collector
        reload_idxs = self._reloads(where, item)

        def optional(key: str, read: Callable[[str, Any], Any], default: Any) -> Any:
            return read(f"{where}.{key}", item[key]) if key in item else default

        return {
            "capacity": optional("capacity", collector.amounts, ()),
            "skills": optional("skills", collector.skills, frozenset()),
            "time_window": optional("time_window", collector.window, None),
            "max_travel_time_s": optional("max_travel_time", collector.integer, None),
            "reload_location_idxs": reload_idxs,
            "reload_service_s": optional("reload_service", collector.integer, 0) or 0,
            "max_reloads": optional("max_reloads", collector.integer, None),
            "max_distance_m": optional("max_distance", collector.integer, None),
            "max_tasks": optional("max_tasks", collector.integer, None),
        }

    def _vehicle_costs(self, where: str, costs_in: Any, fields: dict[str, Any]) -> None:
        collector, profile_name = self.collector, self.profile_name
        if not isinstance(costs_in, dict):
            collector.add(f"{where}.costs: must be an object with fixed, per_hour, per_km")
            return
        collector.keys(f"{where}.costs", costs_in, "costs")
        for key, name in (
            ("fixed", "fixed_cost"),
            ("per_hour", "cost_per_hour"),
            ("per_km", "cost_per_km"),
        ):
            if key in costs_in:
                value = collector.integer(f"{where}.costs.{key}", costs_in[key])
                if value is not None:
                    fields[name] = value
        if self.costs is not None:
            if costs_in.get("per_hour", DEFAULT_COST_PER_HOUR) != DEFAULT_COST_PER_HOUR:
                collector.add(
                    f"{where}.costs.per_hour: cannot be combined with "
                    f"matrices.{profile_name}.costs (as in VROOM); drop one of them"
                )
            if costs_in.get("per_km", 0):
                collector.add(
                    f"{where}.costs.per_km: cannot be combined with "
                    f"matrices.{profile_name}.costs (VROOM would ignore it); drop one of them"
                )
        if costs_in.get("per_km", 0) and self.has_matrices and self.distances is None:
            collector.add(f"{where}.costs.per_km: needs matrices.{profile_name}.distances (metres)")

    def vehicle(self, k: int, item: Any) -> Vehicle | None:
        """Read ``vehicles[k]``; ``None`` when it cannot be built."""
        collector, profile_name = self.collector, self.profile_name
        where = f"vehicles[{k}]"
        if not isinstance(item, dict):
            collector.add(f"{where}: must be an object")
            return None
        collector.keys(where, item, "vehicle")
        identifier = collector.integer(f"{where}.id", item.get("id"), maximum=MAX_ID)
        known = [] if profile_name is None else [profile_name, *self.other_durations]
        default = profile_name if len(known) == 1 else "car"
        profile = item.get("profile", default or "car")
        if known and profile not in known:
            collector.add(
                f"{where}.profile: {profile!r} has no matrix (matrices give "
                f"{', '.join(repr(k) for k in known)})"
            )
        start, end = self._ends(where, item)
        fields = self._vehicle_fields(where, item)
        if known and profile in known:
            fields["profile"] = self.travel_profile(profile)
        if "speed_factor" in item:
            factor = collector.number(
                f"{where}.speed_factor", item["speed_factor"], low=0, high=MAX_SPEED_FACTOR
            )
            fields["speed_factor"] = factor if factor is not None else 1.0
        if "costs" in item:
            self._vehicle_costs(where, item["costs"], fields)
        if "max_distance" in item and self.has_matrices and self.distances is None:
            collector.add(f"{where}.max_distance: needs matrices.{profile_name}.distances (metres)")
        if identifier is None or (start is None and end is None):
            return None
        vehicle = None
        try:
            vehicle = Vehicle(identifier, start, end, **fields)
        except InvalidInputError as error:
            collector.problems += [f"{where}: {p}" for p in error.problems]
        self.describe("vehicle", identifier, item, where)
        return vehicle

    def job(self, k: int, item: Any) -> Job | None:
        """Read ``jobs[k]``; ``None`` when it cannot be built."""
        collector = self.collector
        where = f"jobs[{k}]"
        if not isinstance(item, dict):
            collector.add(f"{where}: must be an object")
            return None
        collector.keys(where, item, "job")
        identifier = collector.integer(f"{where}.id", item.get("id"), maximum=MAX_ID)
        location = self.locations.resolve(where, item)
        if location is None and "location" not in item and "location_index" not in item:
            collector.add(f"{where}: needs a location or a location_index")

        def optional(key: str, read: Callable[[str, Any], Any], default: Any) -> Any:
            return read(f"{where}.{key}", item[key]) if key in item else default

        job_fields: dict[str, Any] = {
            "delivery": optional("delivery", collector.amounts, ()),
            "pickup": optional("pickup", collector.amounts, ()),
            "service_s": collector.integer(f"{where}.service", item.get("service", 0)) or 0,
            "time_windows": optional("time_windows", collector.windows, ()),
            "priority": collector.integer(f"{where}.priority", item.get("priority", 0)) or 0,
            "skills": optional("skills", collector.skills, frozenset()),
        }
        if not self.unique("job", identifier, where):
            return None
        if identifier is None or location is None:
            return None
        job = None
        try:
            job = Job(identifier, location, **job_fields)
        except InvalidInputError as error:
            collector.problems += [f"{where}: {p}" for p in error.problems]
        self.describe("job", identifier, item, where)
        return job

    def _shipment_step(self, part: str, step_where: str, step: Any) -> ShipmentStep | None:
        collector = self.collector
        if not isinstance(step, dict):
            collector.add(f"{step_where}: required object with id and location")
            return None
        collector.keys(step_where, step, "shipment_step")
        identifier = collector.integer(f"{step_where}.id", step.get("id"), maximum=MAX_ID)
        location = self.locations.resolve(step_where, step)
        if location is None and "location" not in step and "location_index" not in step:
            collector.add(f"{step_where}: needs a location or a location_index")
        service = collector.integer(f"{step_where}.service", step.get("service", 0)) or 0
        windows = (
            collector.windows(f"{step_where}.time_windows", step["time_windows"])
            if "time_windows" in step
            else ()
        )
        if len(windows) > 1:
            collector.add(
                f"{step_where}.time_windows: {len(windows)} time windows given; a shipment "
                "step takes one window (several are supported on jobs only: the engine "
                "cannot pair alternative pickup and delivery windows)"
            )
        window = windows[0] if windows else None
        if not (self.unique(part, identifier, step_where) and identifier is not None):
            return None
        internal = f"{part} {identifier}"
        self.vroom_ids[internal] = identifier
        built = ShipmentStep(internal, location, service, window) if location is not None else None
        self.describe(part, identifier, step, step_where)
        return built

    def shipment(self, k: int, item: Any) -> Shipment | None:
        """Read ``shipments[k]``; ``None`` when it cannot be built."""
        collector = self.collector
        where = f"shipments[{k}]"
        if not isinstance(item, dict):
            collector.add(f"{where}: must be an object")
            return None
        collector.keys(where, item, "shipment")
        steps = [
            self._shipment_step(part, f"{where}.{part}", item.get(part))
            for part in ("pickup", "delivery")
        ]
        amount = collector.amounts(f"{where}.amount", item["amount"]) if "amount" in item else ()
        priority = collector.integer(f"{where}.priority", item.get("priority", 0)) or 0
        skills = (
            collector.skills(f"{where}.skills", item["skills"]) if "skills" in item else frozenset()
        )
        pickup, delivery = steps
        if pickup is None or delivery is None:
            return None
        try:
            return Shipment(pickup, delivery, amount, priority, skills)
        except InvalidInputError as error:
            collector.problems += [f"{where}: {p}" for p in error.problems]
        return None

    def provided_matrices(self, matrix_provider: MatrixProvider | None) -> None:
        """Ask the provider for matrices over the coordinates when the input has none."""
        collector = self.collector
        if matrix_provider is None:
            collector.add(
                "problem.matrices: a travel-time matrix is required (give 'matrices' with "
                "'durations' and use location_index); computing one from coordinates needs the "
                "road network, which this command does not load yet"
            )
            return
        coordinates = self.locations.coordinates
        points = [coordinates[i] for i in range(len(coordinates))]
        produced, produced_distances = matrix_provider(points)
        self.durations = _matrix(
            "matrix_provider durations", np.asarray(produced).tolist(), collector
        )
        if produced_distances is not None:
            self.distances = _matrix(
                "matrix_provider distances", np.asarray(produced_distances).tolist(), collector
            )


def parse_vroom_problem(
    document: Any, *, matrix_provider: MatrixProvider | None = None
) -> VroomProblem:
    """Build a route problem from VROOM's input JSON (already decoded).

    Parameters
    ----------
    document
        The decoded JSON object.
    matrix_provider
        Called with the ``[lon, lat]`` locations when the input has coordinates but no
        ``matrices``; returns travel times (s) and distances (m, or ``None``). Without it such an
        input is refused.

    Returns
    -------
    VroomProblem

    Raises
    ------
    InvalidInputError
        Listing every problem: unsupported keys (named), wrong types, negative amounts, a matrix
        that is not square, an unknown location index, duplicate ids, a missing matrix.
    """
    parser = _Parser()
    if not isinstance(document, dict):
        raise InvalidInputError("problem: the JSON document must be an object", ["problem"])
    vehicles_in, jobs_in, shipments_in = parser.lists(document)
    parser.matrices(document.get("matrices"))
    vehicles = [parser.vehicle(k, item) for k, item in enumerate(vehicles_in)]
    jobs = [parser.job(k, item) for k, item in enumerate(jobs_in)]
    shipments = [parser.shipment(k, item) for k, item in enumerate(shipments_in)]
    if not parser.has_matrices and not parser.collector.problems:
        parser.provided_matrices(matrix_provider)
    if parser.collector.problems:
        raise InvalidInputError.from_problems("VROOM problem", parser.collector.problems)
    assert parser.durations is not None
    problem = RouteProblem(
        durations_s=parser.durations,
        vehicles=tuple(v for v in vehicles if v is not None),
        jobs=tuple(j for j in jobs if j is not None),
        shipments=tuple(s for s in shipments if s is not None),
        costs=parser.costs,
        distances_m=parser.distances,
        profile_durations_s={
            parser.travel_profile(name): m for name, m in parser.other_durations.items()
        },
        profile_distances_m={
            parser.travel_profile(name): m for name, m in parser.other_distances.items()
        },
    )
    coordinates = tuple(parser.locations.coordinates.get(i) for i in range(problem.num_locations))
    return VroomProblem(problem, coordinates, parser.descriptions, parser.vroom_ids)


def _location(parsed: VroomProblem, location_idx: int) -> dict[str, Any]:
    out: dict[str, Any] = {"location_index": location_idx}
    coordinates = (
        parsed.coordinates[location_idx] if location_idx < len(parsed.coordinates) else None
    )
    if coordinates is not None:
        out["location"] = [coordinates[0], coordinates[1]]
    return out


def to_vroom_solution(
    parsed: VroomProblem, plan: RoutePlan, *, loading_ms: int = 0
) -> dict[str, Any]:
    """Serialise a plan as VROOM's solution JSON (code 0, summary, unassigned, routes).

    Parameters
    ----------
    parsed
        The parsed problem the plan answers (for coordinates and descriptions).
    plan
        The plan.
    loading_ms
        Time spent reading the input, reported in ``summary.computing_times.loading``.
    """
    problem = parsed.problem
    dims = problem.num_dimensions
    has_distances = problem.distances_m is not None
    routes = []
    for route in plan.routes:
        steps = []
        for step in route.steps:
            entry: dict[str, Any] = {"type": step.kind}
            if step.task_id is not None:
                entry["id"] = parsed.vroom_id(step.task_id)
                if (step.kind, entry["id"]) in parsed.descriptions:
                    entry["description"] = parsed.descriptions[(step.kind, entry["id"])]
            entry.update(_location(parsed, step.location_idx))
            entry.update(
                setup=0,
                service=step.service_s,
                waiting_time=step.waiting_s,
                load=list(step.load),
                arrival=step.arrival_s,
                duration=step.travel_s,
            )
            if has_distances:
                entry["distance"] = step.distance_m
            steps.append(entry)
        out: dict[str, Any] = {
            "vehicle": route.vehicle_id,
            "cost": route.cost,
            "setup": 0,
            "service": route.service_s,
            "duration": route.travel_s,
            "waiting_time": route.waiting_s,
            "priority": route.priority,
            "delivery": list(route.delivery),
            "pickup": list(route.pickup),
            "steps": steps,
        }
        if ("vehicle", route.vehicle_id) in parsed.descriptions:
            out["description"] = parsed.descriptions[("vehicle", route.vehicle_id)]
        if has_distances:
            out["distance"] = route.distance_m
        routes.append(out)
    unassigned = []
    for task in plan.unassigned:
        entry = {"id": parsed.vroom_id(task.task_id), "type": task.kind}
        entry.update(_location(parsed, task.location_idx))
        if (task.kind, entry["id"]) in parsed.descriptions:
            entry["description"] = parsed.descriptions[(task.kind, entry["id"])]
        entry["reason"] = task.reason
        unassigned.append(entry)

    def total(key: str) -> list[int]:
        return [sum(r[key][d] for r in routes) for d in range(dims)]

    summary: dict[str, Any] = {
        "cost": plan.cost,
        "routes": len(routes),
        "unassigned": len(unassigned),
        "setup": 0,
        "service": sum(r.service_s for r in plan.routes),
        "duration": sum(r.travel_s for r in plan.routes),
        "waiting_time": sum(r.waiting_s for r in plan.routes),
        "priority": sum(r.priority for r in plan.routes),
        "delivery": total("delivery"),
        "pickup": total("pickup"),
        "violations": [],
        "computing_times": {
            "loading": loading_ms,
            "solving": round(plan.runtime_s * 1000),
            "routing": 0,
        },
    }
    if has_distances:
        summary["distance"] = sum(r.distance_m or 0 for r in plan.routes)
    return {"code": CODE_OK, "summary": summary, "unassigned": unassigned, "routes": routes}


def to_vroom_error(code: int, message: str) -> dict[str, Any]:
    """Return VROOM's error answer: ``{"code": code, "error": message}``."""
    return {"code": code, "error": message}
