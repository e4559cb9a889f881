"""Read the standard VRP benchmark instances (Solomon VRPTW, CVRPLIB X) into route problems.

The instance files live in the shared data directory (``vrp-benchmarks/``), never in the project;
see ``SOURCES.md`` there for provenance and conventions.

Integer scaling (a named step, see :data:`SOLOMON_SCALE`): Solomon instances use euclidean
distances truncated to one decimal, so every distance, travel time, time window and service time
is multiplied by 10 and kept as an exact integer (``floor(10 * d)`` computed with integer
square roots, no floating point). Costs reported in the original unit are the integer cost
divided by 10. X instances use ``nint`` euclidean distances (TSPLIB ``EUC_2D``), already integer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError, MissingDataFileError
from data.schema.routes import Job, RouteProblem, TimeWindow, Vehicle

SOLOMON_SCALE = 10
"""Solomon values are multiplied by this factor to become exact integers (one decimal kept)."""

BENCHMARK_INSTANCES = (
    "C101",
    "R101",
    "RC101",
    "R201",
    "RC201",
    "X-n101-k25",
    "X-n110-k13",
    "X-n125-k30",
    "X-n157-k13",
    "X-n200-k36",
    "X-n256-k16",
    "X-n303-k21",
    "X-n401-k29",
)
"""The 13 instances of the team benchmark, in report order."""


@dataclass(frozen=True, slots=True)
class BenchmarkInstance:
    """A benchmark instance as a route problem, its scale and its best-known cost (scaled)."""

    name: str
    problem: RouteProblem
    scale: int
    best_known_cost: int


def solomon_distances_tenths(xy: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Return euclidean distances truncated to one decimal, in tenths, exactly.

    ``floor(10 * sqrt(dx² + dy²)) == isqrt(100 * (dx² + dy²))`` for integer coordinates, so no
    floating-point rounding can shift a value across a truncation boundary.
    """
    squared = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2) * SOLOMON_SCALE**2
    tenths: npt.NDArray[np.int64] = np.vectorize(math.isqrt, otypes=[np.int64])(squared)
    return tenths


def nint_euclidean(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Return TSPLIB ``EUC_2D`` distances: euclidean rounded to the nearest integer.

    TSPLIB's ``nint`` is ``int(d + 0.5)``.
    """
    diff = xy[:, None, :] - xy[None, :, :]
    rounded: npt.NDArray[np.int64] = np.floor(np.sqrt((diff**2).sum(axis=2)) + 0.5).astype(np.int64)
    return rounded


def read_solomon(text: str, *, name: str = "solomon") -> RouteProblem:
    """Build a route problem from a Solomon VRPTW text file, scaled by :data:`SOLOMON_SCALE`.

    Raises
    ------
    InvalidInputError
        If the text does not have the Solomon layout.
    """
    rows = [
        line.split() for line in text.splitlines() if line.split() and line.split()[0].isdigit()
    ]
    try:
        num_vehicles, capacity = (int(v) for v in rows[0])
        customers = [[int(v) for v in row] for row in rows[1:]]
    except (IndexError, ValueError) as error:
        raise InvalidInputError(f"{name}: not a Solomon instance ({error})") from error
    if any(len(row) != 7 for row in customers) or not customers:
        raise InvalidInputError(f"{name}: customer rows must have 7 columns")
    xy = np.array([[row[1], row[2]] for row in customers], dtype=np.int64)
    matrix = solomon_distances_tenths(xy)
    depot = customers[0]
    shift = TimeWindow(depot[4] * SOLOMON_SCALE, depot[5] * SOLOMON_SCALE)
    vehicles = tuple(
        Vehicle(f"v{k + 1}", 0, 0, capacity=(capacity,), time_window=shift)
        for k in range(num_vehicles)
    )
    jobs = tuple(
        Job(
            row[0],
            position,
            delivery=(row[3],),
            service_s=row[6] * SOLOMON_SCALE,
            time_window=TimeWindow(row[4] * SOLOMON_SCALE, row[5] * SOLOMON_SCALE),
        )
        for position, row in enumerate(customers)
        if position > 0
    )
    return RouteProblem(durations_s=matrix, vehicles=vehicles, jobs=jobs, costs=matrix)


def read_cvrplib(text: str, *, name: str = "cvrp") -> RouteProblem:
    """Build a route problem from a CVRPLIB ``EUC_2D`` instance, with an unbounded fleet.

    "Unbounded" is one vehicle per client, which can never bind.

    Raises
    ------
    InvalidInputError
        If a section is missing or the edge weight type is not ``EUC_2D``.
    """
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current: str | None = None
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0] == "EOF":
            continue
        if parts[0].endswith("_SECTION"):
            current = parts[0]
            sections[current] = []
        elif ":" in line and current is None:
            key, _, value = line.partition(":")
            header[key.strip()] = value.strip()
        elif current is not None:
            sections[current].append(parts)
    if header.get("EDGE_WEIGHT_TYPE") != "EUC_2D":
        raise InvalidInputError(
            f"{name}: EDGE_WEIGHT_TYPE must be EUC_2D, got {header.get('EDGE_WEIGHT_TYPE')!r}"
        )
    try:
        capacity = int(header["CAPACITY"])
        coords = np.array([[float(r[1]), float(r[2])] for r in sections["NODE_COORD_SECTION"]])
        demands = [int(r[1]) for r in sections["DEMAND_SECTION"]]
        depot = int(sections["DEPOT_SECTION"][0][0]) - 1
    except (KeyError, IndexError, ValueError) as error:
        raise InvalidInputError(f"{name}: missing or malformed CVRPLIB field ({error})") from error
    matrix = nint_euclidean(coords)
    clients = [i for i in range(len(demands)) if i != depot]
    vehicles = tuple(
        Vehicle(f"v{k + 1}", depot, depot, capacity=(capacity,)) for k in range(len(clients))
    )
    jobs = tuple(Job(i + 1, i, delivery=(demands[i],)) for i in clients)
    return RouteProblem(durations_s=matrix, vehicles=vehicles, jobs=jobs, costs=matrix)


def read_best_known_cost(text: str, *, scale: int = 1) -> int:
    """Return the ``Cost`` line of a CVRPLIB solution file, multiplied by ``scale`` and rounded."""
    for line in text.splitlines():
        if line.strip().lower().startswith("cost"):
            return round(float(line.split()[-1]) * scale)
    raise InvalidInputError("solution file has no 'Cost' line")


def load_benchmark_instance(directory: Path, name: str) -> BenchmarkInstance:
    """Read instance ``name`` and its best-known solution cost from ``directory``.

    Raises
    ------
    MissingDataFileError
        If the instance or solution file is not in ``directory``.
    """
    solomon = not name.startswith("X-")
    path = directory / (f"{name}.txt" if solomon else f"{name}.vrp")
    solution = directory / f"{name}.sol"
    for needed in (path, solution):
        if not needed.is_file():
            raise MissingDataFileError(
                f"benchmark file {str(needed)!r} not found; check OXYROUTE_DATA_DIR"
            )
    text = path.read_text()
    problem = read_solomon(text, name=name) if solomon else read_cvrplib(text, name=name)
    scale = SOLOMON_SCALE if solomon else 1
    return BenchmarkInstance(
        name, problem, scale, read_best_known_cost(solution.read_text(), scale=scale)
    )
