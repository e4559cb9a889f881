"""Inventory-routing instances: the validated problem data and the benchmark ``.dat`` reader.

The format is the one of the Archetti et al. instances (``irp-benchmarks/README.md`` in the shared
data): line 1 ``V T C K``; the depot line ``0 x y I0 r0 h0``; one line ``i x y I0 U L r h`` per
customer.
Quantities are integers in the instance's own unit (``_units``), costs are per unit and period.
Position 0 of every per-vertex array is the depot; customer ``i`` (its id in the file) is at ``i``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class IrpInstance:
    """One inventory-routing problem: a producing depot, customers with tanks, identical vehicles.

    Attributes
    ----------
    name
        The instance's name (its file stem), for reports only.
    num_periods
        T, the number of periods of the horizon.
    vehicle_capacity_units
        C, the load limit of every vehicle route.
    num_vehicles
        K, the vehicles; each makes at most one route per period.
    xs, ys
        Coordinates of the depot (position 0) and customers (1..n); planar, any unit.
    initial_levels_units
        I0 of the depot and every customer, before period 1.
    max_levels_units, min_levels_units
        U and L per customer (position 0, the depot, holds 0: unbounded above, floor 0).
    demands_per_period_units
        r per customer (position 0 holds the depot's production per period, r0).
    holding_costs_per_unit_period
        h of the depot and every customer, charged on end-of-period levels.
    distances
        Travel cost between vertices, Euclidean distance rounded to the nearest integer
        (``floor(d + 0.5)``); shape (n + 1, n + 1), int64, zero diagonal.
    priority_weights
        Optional weight of each customer's shortfall (shape (n + 1,), position 0 unused, every
        customer's > 0); None (default) weighs every customer 1.0. When the depot or the fleet
        cannot keep every tank at its floor, the solver minimises the sum of weight x units
        below the floor first, then the cost (docs/irp.md, "Shortfalls, fleets, shifts").
    vehicle_capacities_units
        Optional load limit of each vehicle (shape (K,), each >= 1); None (default): every
        vehicle carries C. Vehicle k of a solution (1..K) is position k - 1.
    travel_times, service_times, max_route_duration
        Optional route-duration limit, in one time unit of the caller's choice (seconds from
        coordination): ``travel_times`` int64 (n + 1, n + 1), >= 0, default the distances;
        ``service_times`` int64 (n + 1,), >= 0, position 0 the depot's (loading, once per
        route), default 0; ``max_route_duration`` (>= 1) the longest a route may take, depot to
        depot with every service; None (default) sets no limit.

    Raises
    ------
    InvalidInputError
        When an optional array has the wrong shape or a value out of range, every problem
        named by field, value and reason.
    """

    name: str
    num_periods: int
    vehicle_capacity_units: int
    num_vehicles: int
    xs: FloatArray
    ys: FloatArray
    initial_levels_units: IntArray
    max_levels_units: IntArray
    min_levels_units: IntArray
    demands_per_period_units: IntArray
    holding_costs_per_unit_period: FloatArray
    distances: IntArray = field(repr=False)
    priority_weights: FloatArray | None = field(default=None, repr=False)
    vehicle_capacities_units: IntArray | None = field(default=None, repr=False)
    travel_times: IntArray | None = field(default=None, repr=False)
    service_times: IntArray | None = field(default=None, repr=False)
    max_route_duration: int | None = None
    demands_by_period_units: IntArray | None = field(default=None, repr=False)
    fixed_arrivals_units: IntArray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.priority_weights is not None:
            object.__setattr__(
                self, "priority_weights", np.asarray(self.priority_weights, dtype=np.float64)
            )
        problems: list[str] = []
        _check_weights(self, problems)
        _check_capacities(self, problems)
        _check_durations(self, problems)
        _check_by_period(self, problems)
        if problems:
            raise InvalidInputError.from_problems(f"instance {self.name!r}", problems)

    @property
    def weights(self) -> FloatArray:
        """Return the shortfall weight per vertex (position 0 unused): the given or all 1.0."""
        if self.priority_weights is None:
            return np.ones(len(self.xs), dtype=np.float64)
        return self.priority_weights

    def vehicle_capacity(self, vehicle: int) -> int:
        """Return the load limit of ``vehicle`` (1..K; C outside that range)."""
        capacities = self.vehicle_capacities_units
        if capacities is None or not 1 <= vehicle <= len(capacities):
            return self.vehicle_capacity_units
        return int(capacities[vehicle - 1])

    @property
    def capacities(self) -> list[int]:
        """Return the load limit of each vehicle, position k - 1 for vehicle k."""
        return [self.vehicle_capacity(k) for k in range(1, self.num_vehicles + 1)]

    @property
    def largest_capacity_units(self) -> int:
        """Return the largest vehicle's load limit (C when every vehicle carries C)."""
        return max(self.capacities)

    @property
    def demand_matrix(self) -> IntArray:
        """Return the consumption per (period - 1, vertex), column 0 the depot's production."""
        if self.demands_by_period_units is not None:
            return self.demands_by_period_units
        return np.tile(self.demands_per_period_units, (self.num_periods, 1))

    @property
    def arrival_matrix(self) -> IntArray:
        """Return the fixed arrivals per (period - 1, vertex): the given ones or all 0."""
        if self.fixed_arrivals_units is not None:
            return self.fixed_arrivals_units
        return np.zeros((self.num_periods, len(self.xs)), dtype=np.int64)

    @property
    def varies_by_period(self) -> bool:
        """Return whether consumption or production varies, or fixed deliveries arrive."""
        return self.demands_by_period_units is not None or (
            self.fixed_arrivals_units is not None and bool(self.fixed_arrivals_units.any())
        )

    def route_duration(self, customers: tuple[int, ...] | list[int]) -> int:
        """Return a depot-to-depot route's duration: travel plus every service, depot's too."""
        if not customers:
            return 0
        times = self.distances if self.travel_times is None else self.travel_times
        stops = [0, *customers, 0]
        travel = int(times[stops[:-1], stops[1:]].sum())
        if self.service_times is None:
            return travel
        return travel + int(self.service_times[0]) + int(self.service_times[list(customers)].sum())

    @property
    def mixed_fleet(self) -> bool:
        """Return whether some vehicle's capacity differs from C."""
        return any(c != self.vehicle_capacity_units for c in self.capacities)

    @property
    def num_customers(self) -> int:
        """Return n, the number of customers (the depot excluded)."""
        return len(self.xs) - 1

    @property
    def depot_production_units(self) -> int:
        """Return r0, what the depot produces every period."""
        return int(self.demands_per_period_units[0])


def _check_weights(instance: IrpInstance, problems: list[str]) -> None:
    weights = instance.priority_weights
    if weights is None:
        return
    expected = (len(instance.xs),)
    if np.shape(weights) != expected:
        problems.append(
            f"priority_weights: shape {np.shape(weights)} where {expected} is expected (one "
            "weight per vertex, position 0 the depot, unused)"
        )
        return
    for i in range(1, len(weights)):
        value = float(weights[i])
        if not math.isfinite(value) or value <= 0:
            problems.append(
                f"priority_weights[{i}]: {value!r} must be a finite number above 0 (1.0 is the "
                "default weight)"
            )


def _check_capacities(instance: IrpInstance, problems: list[str]) -> None:
    capacities = instance.vehicle_capacities_units
    if capacities is None:
        return
    values = np.asarray(capacities, dtype=np.float64)
    if values.shape != (instance.num_vehicles,):
        problems.append(
            f"vehicle_capacities_units: shape {values.shape} where ({instance.num_vehicles},) "
            f"is expected (one capacity per vehicle, K = {instance.num_vehicles})"
        )
        return
    found = len(problems)
    for k, value in enumerate(values.tolist(), start=1):
        if not math.isfinite(value) or value < 1 or value != int(value):
            problems.append(
                f"vehicle_capacities_units[{k - 1}]: {value:g} for vehicle {k} must be a whole "
                "number of units, at least 1"
            )
    if len(problems) == found:
        object.__setattr__(instance, "vehicle_capacities_units", values.astype(np.int64))


def _whole_array(
    name: str, value: object, shape: tuple[int, ...], problems: list[str]
) -> FloatArray | None:
    """Return ``value`` as floats when it has ``shape`` and whole values >= 0, else record why."""
    values = np.asarray(value, dtype=np.float64)
    if values.shape != shape:
        problems.append(f"{name}: shape {values.shape} where {shape} is expected")
        return None
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    for position in zip(*np.nonzero(bad), strict=True):
        where = ", ".join(str(int(p)) for p in position)
        problems.append(f"{name}[{where}]: {values[position]:g} must be a whole number, 0 or more")
    return None if bad.any() else values


def _check_durations(instance: IrpInstance, problems: list[str]) -> None:
    size = len(instance.xs)
    for name, shape in (("travel_times", (size, size)), ("service_times", (size,))):
        given = getattr(instance, name)
        if given is not None:
            values = _whole_array(name, given, shape, problems)
            if values is not None:
                object.__setattr__(instance, name, values.astype(np.int64))
    limit = instance.max_route_duration
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, int | np.integer) or limit < 1:
        problems.append(
            f"max_route_duration: {limit!r} must be a whole number of time units, at least 1 "
            "(None for no limit)"
        )
    else:
        object.__setattr__(instance, "max_route_duration", int(limit))


def _check_by_period(instance: IrpInstance, problems: list[str]) -> None:
    shape = (instance.num_periods, len(instance.xs))
    for name in ("demands_by_period_units", "fixed_arrivals_units"):
        given = getattr(instance, name)
        if given is None:
            continue
        values = _whole_array(name, given, shape, problems)
        if values is None:
            continue
        if name == "fixed_arrivals_units" and values[:, 0].any():
            problems.append(
                f"{name}[:, 0]: {values[:, 0].astype(np.int64).tolist()} must be 0: nothing "
                "arrives at the depot (column 0)"
            )
            continue
        object.__setattr__(instance, name, values.astype(np.int64))


def rounded_distances(xs: FloatArray, ys: FloatArray) -> IntArray:
    """Return the rounded Euclidean distance matrix, ``floor(d + 0.5)``, as int64."""
    dx = xs[:, None] - xs[None, :]
    dy = ys[:, None] - ys[None, :]
    return np.floor(np.sqrt(dx * dx + dy * dy) + 0.5).astype(np.int64)


_CUSTOMER_FIELDS = ("id", "x", "y", "I0", "U", "L", "r", "h")
_DEPOT_FIELDS = ("id", "x", "y", "I0", "r0", "h0")
_INTEGER_FIELDS = frozenset({"id", "I0", "U", "L", "r", "r0", "V", "T", "C", "K"})


def _numbers(
    line_no: int, tokens: list[str], names: tuple[str, ...], problems: list[str]
) -> dict[str, float] | None:
    """Parse one line's tokens into named numbers; record every problem, None if unusable."""
    if len(tokens) != len(names):
        problems.append(
            f"line {line_no}: {len(tokens)} value(s) where {len(names)} are expected "
            f"({' '.join(names)})"
        )
        return None
    values: dict[str, float] = {}
    for name, token in zip(names, tokens, strict=True):
        try:
            value = float(token)
        except ValueError:
            problems.append(f"line {line_no}, field {name}: {token!r} is not a number")
            continue
        if not math.isfinite(value):
            problems.append(f"line {line_no}, field {name}: {token!r} is not a finite number")
        elif name in _INTEGER_FIELDS and value != int(value):
            problems.append(f"line {line_no}, field {name}: {token!r} must be a whole number")
        values[name] = value
    return values if len(values) == len(names) else None


def _check_header(header: dict[str, float], problems: list[str]) -> None:
    for name, low in (("V", 2), ("T", 1), ("C", 1), ("K", 1)):
        if header[name] < low:
            problems.append(f"line 1, field {name}: {header[name]:g} must be at least {low}")


def _check_customer(line_no: int, row: dict[str, float], problems: list[str]) -> None:
    where = f"line {line_no}"
    for name in ("I0", "L", "r", "h"):
        if row[name] < 0:
            problems.append(f"{where}, field {name}: {row[name]:g} is negative; use 0 or more")
    if row["U"] < row["L"]:
        problems.append(
            f"{where}, field U: maximum level {row['U']:g} is below the minimum level L = "
            f"{row['L']:g}; a tank cannot be smaller than its floor"
        )
    if row["I0"] > row["U"]:
        problems.append(
            f"{where}, field I0: initial level {row['I0']:g} is above the maximum level "
            f"U = {row['U']:g}"
        )
    if row["U"] - row["r"] < row["L"]:
        problems.append(
            f"{where}, field r: consumption {row['r']:g} per period cannot be met between the "
            f"maximum level U = {row['U']:g} and the minimum L = {row['L']:g}"
        )


def parse_instance(text: str, *, name: str = "instance") -> IrpInstance:
    """Read an instance written in the benchmark's ``.dat`` format.

    Parameters
    ----------
    text
        The file's content (whitespace separated; blank lines ignored).
    name
        The instance name kept for reports (the file stem).

    Returns
    -------
    IrpInstance
        The validated instance, with its rounded distance matrix.

    Raises
    ------
    InvalidInputError
        Listing every problem once, each naming the line and field: a wrong number of values, a
        value that is not a number (or not whole where a quantity is expected), a negative level,
        consumption or holding cost, a maximum level below the minimum, an initial level above the
        maximum, customer ids that are not 1..n in order, or fewer lines than V announces.
    """
    lines = [(no, raw.split()) for no, raw in enumerate(text.splitlines(), start=1)]
    lines = [(no, tokens) for no, tokens in lines if tokens]
    problems: list[str] = []
    if not lines:
        raise InvalidInputError.from_problems(f"instance {name!r}", ["the file is empty"])
    head_no, head_tokens = lines[0]
    header = _numbers(head_no, head_tokens, ("V", "T", "C", "K"), problems)
    if header is None:
        raise InvalidInputError.from_problems(f"instance {name!r}", problems)
    _check_header(header, problems)
    num_vertices = int(header["V"])
    body = lines[1:]
    if len(body) != num_vertices:
        problems.append(
            f"line 1, field V: {num_vertices} vertices announced but {len(body)} vertex line(s) "
            "follow"
        )
    rows: list[dict[str, float]] = []
    for position, (line_no, tokens) in enumerate(body):
        names = _DEPOT_FIELDS if position == 0 else _CUSTOMER_FIELDS
        row = _numbers(line_no, tokens, names, problems)
        if row is None:
            continue
        if row["id"] != position:
            problems.append(f"line {line_no}, field id: {row['id']:g} where {position} is expected")
        if position == 0:
            for key in ("I0", "r0", "h0"):
                if row[key] < 0:
                    problems.append(f"line {line_no}, field {key}: {row[key]:g} is negative")
        else:
            _check_customer(line_no, row, problems)
        rows.append(row)
    if problems:
        raise InvalidInputError.from_problems(f"instance {name!r}", problems)
    return _build(name, header, rows)


def _build(name: str, header: dict[str, float], rows: list[dict[str, float]]) -> IrpInstance:
    depot, customers = rows[0], rows[1:]

    def ints(key: str, depot_value: float) -> IntArray:
        return np.array([depot_value, *(c[key] for c in customers)], dtype=np.int64)

    xs = np.array([r["x"] for r in rows], dtype=np.float64)
    ys = np.array([r["y"] for r in rows], dtype=np.float64)
    return IrpInstance(
        name=name,
        num_periods=int(header["T"]),
        vehicle_capacity_units=int(header["C"]),
        num_vehicles=int(header["K"]),
        xs=xs,
        ys=ys,
        initial_levels_units=ints("I0", depot["I0"]),
        max_levels_units=ints("U", 0),
        min_levels_units=ints("L", 0),
        demands_per_period_units=ints("r", depot["r0"]),
        holding_costs_per_unit_period=np.array(
            [depot["h0"], *(c["h"] for c in customers)], dtype=np.float64
        ),
        distances=rounded_distances(xs, ys),
    )
