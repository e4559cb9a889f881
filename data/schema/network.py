"""Value types for places, snapping results, travel-time matrices and road paths."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError


def coordinate_problems(label: str, lon: object, lat: object) -> list[str]:
    """Return what is wrong with a WGS84 ``[lon, lat]`` pair (empty when it is valid)."""
    problems = []
    for axis, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
            problems.append(f"{label}.{axis}: must be a number, got {value!r}")
        elif not math.isfinite(float(value)):
            problems.append(f"{label}.{axis}: must be finite, got {value!r}")
        elif not -limit <= float(value) <= limit:
            problems.append(f"{label}.{axis}: {value!r} is outside [-{limit:g}, {limit:g}]")
    return problems


@dataclass(frozen=True, slots=True)
class Place:
    """A named point in WGS84: a facility, a supplier, a depot or any query point.

    Parameters
    ----------
    place_id
        Stable business id (for example a facility code); never a matrix position.
    lon, lat
        WGS84 longitude and latitude in degrees.
    name
        Human-readable name, Vietnamese diacritics kept as given.
    properties
        Any other attributes read with the place (strings, as in the source file).
    """

    place_id: str
    lon: float
    lat: float
    name: str = ""
    properties: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        problems = coordinate_problems(f"place {self.place_id!r}", self.lon, self.lat)
        if not isinstance(self.place_id, str) or not self.place_id.strip():
            problems.append(f"place_id: must be a non-empty string, got {self.place_id!r}")
        if problems:
            raise InvalidInputError.from_problems("place", problems)
        object.__setattr__(self, "lon", float(self.lon))
        object.__setattr__(self, "lat", float(self.lat))
        if not isinstance(self.properties, MappingProxyType):
            object.__setattr__(self, "properties", MappingProxyType(dict(self.properties)))


def validate_places(places: Sequence[Place], what: str) -> None:
    """Check a list of places is non-empty and its ids are unique.

    Raises
    ------
    InvalidInputError
        If the list is empty or an id appears twice (each duplicate is named).
    """
    if len(places) == 0:
        raise InvalidInputError(f"{what}: the list of points is empty; give at least one point")
    seen: set[str] = set()
    duplicates = []
    for place in places:
        if place.place_id in seen:
            duplicates.append(place.place_id)
        seen.add(place.place_id)
    if duplicates:
        raise InvalidInputError(
            f"{what}: duplicate ids {sorted(set(duplicates))!r}; every point needs its own id"
        )


@dataclass(frozen=True, slots=True)
class SnapResult:
    """Where a place meets the road network, or why it does not.

    ``snap_distance_m`` is the straight-line distance (metres, in a projected metric CRS) from the
    place to the nearest road. When ``reachable`` is False, ``reason`` says why and the snapped
    fields are None. A place reached through a gateway has ``gateway_id`` set.
    """

    place_id: str
    lon: float
    lat: float
    reachable: bool
    snap_distance_m: float | None
    snapped_lon: float | None = None
    snapped_lat: float | None = None
    road_name: str = ""
    gateway_id: str | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``[lon, lat]`` order, metres)."""
        return {
            "id": self.place_id,
            "location": [self.lon, self.lat],
            "reachable": self.reachable,
            "snap_distance_m": None
            if self.snap_distance_m is None
            else round(self.snap_distance_m, 1),
            "snapped_location": None
            if self.snapped_lon is None
            else [self.snapped_lon, self.snapped_lat],
            "road_name": self.road_name,
            "gateway_id": self.gateway_id,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class TravelMatrix:
    """Road travel times and distances between origins and destinations.

    ``duration_s[i, j]`` and ``distance_m[i, j]`` (float64, shape
    ``(len(origin_ids), len(destination_ids))``) are the fastest path's time in seconds and its
    length in metres; ``inf`` marks an unreachable pair (a place that could not be snapped, or no
    road path). ``snaps`` explains every place.
    """

    origin_ids: tuple[str, ...]
    destination_ids: tuple[str, ...]
    duration_s: npt.NDArray[np.float64]
    distance_m: npt.NDArray[np.float64]
    snaps: Mapping[str, SnapResult]

    def __post_init__(self) -> None:
        shape = (len(self.origin_ids), len(self.destination_ids))
        for name in ("duration_s", "distance_m"):
            array = getattr(self, name)
            if array.shape != shape:
                raise InvalidInputError(f"{name}: shape {array.shape} does not match ids {shape}")
            array.setflags(write=False)

    def to_long_records(self) -> list[dict[str, Any]]:
        """Return one JSON-ready row per pair; unreachable pairs carry None (null) values."""
        rows = []
        for i, origin_id in enumerate(self.origin_ids):
            for j, destination_id in enumerate(self.destination_ids):
                duration = float(self.duration_s[i, j])
                distance = float(self.distance_m[i, j])
                rows.append(
                    {
                        "origin_id": origin_id,
                        "destination_id": destination_id,
                        "duration_s": round(duration, 1) if math.isfinite(duration) else None,
                        "distance_m": round(distance, 1) if math.isfinite(distance) else None,
                    }
                )
        return rows


@dataclass(frozen=True, slots=True)
class RoadPath:
    """The fastest road path between two places.

    ``coordinates`` is the path as ``[lon, lat]`` pairs (WGS84) from the origin's snapped point to
    the destination's; ``road_names`` lists the named roads in driving order (consecutive repeats
    dropped).
    """

    origin: SnapResult
    destination: SnapResult
    duration_s: float
    distance_m: float
    coordinates: tuple[tuple[float, float], ...]
    road_names: tuple[str, ...] = ()

    def to_geojson(self) -> dict[str, Any]:
        """Return the path as an RFC 7946 GeoJSON Feature.

        The geometry is a LineString of ``[lon, lat]`` pairs rounded to 6 decimals.
        """
        return {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [[round(lon, 6), round(lat, 6)] for lon, lat in self.coordinates],
            },
            "properties": {
                "origin_id": self.origin.place_id,
                "destination_id": self.destination.place_id,
                "duration_s": round(self.duration_s, 1),
                "distance_m": round(self.distance_m, 1),
                "origin_snap_distance_m": self.origin.snap_distance_m,
                "destination_snap_distance_m": self.destination.snap_distance_m,
                "road_names": list(self.road_names),
                "attribution": "© OpenStreetMap contributors",
            },
        }


@dataclass(frozen=True, slots=True)
class GatewayLink:
    """Extra travel from a gateway to a place off the map: time (s) and, if known, distance (m)."""

    extra_s: float
    extra_m: float | None = None

    def __post_init__(self) -> None:
        problems = []
        if (
            isinstance(self.extra_s, bool)
            or not isinstance(self.extra_s, int | float)
            or not math.isfinite(self.extra_s)
            or self.extra_s < 0
        ):
            problems.append(
                f"extra_s: must be a non-negative number of seconds, got {self.extra_s!r}"
            )
        if self.extra_m is not None and (
            isinstance(self.extra_m, bool)
            or not isinstance(self.extra_m, int | float)
            or not math.isfinite(self.extra_m)
            or self.extra_m < 0
        ):
            problems.append(
                f"extra_m: must be a non-negative number of metres, got {self.extra_m!r}"
            )
        if problems:
            raise InvalidInputError.from_problems("gateway link", problems)


@dataclass(frozen=True, slots=True)
class Gateway:
    """A point where roads leave the map, with the extra travel to places beyond it.

    A place whose id is in ``links`` is reached through the gateway (its own coordinates are not
    snapped): travel time = road time to the gateway + ``links[place_id].extra_s``; the same added
    time applies in the other direction. With several gateways for one place, the fastest
    combination wins.
    """

    gateway_id: str
    name: str
    lon: float
    lat: float
    links: Mapping[str, GatewayLink]

    def __post_init__(self) -> None:
        problems = coordinate_problems(f"gateway {self.gateway_id!r}", self.lon, self.lat)
        if not self.links:
            problems.append(
                f"gateway {self.gateway_id!r}: links is empty; list the places it serves"
            )
        if problems:
            raise InvalidInputError.from_problems("gateway", problems)
        if not isinstance(self.links, MappingProxyType):
            object.__setattr__(self, "links", MappingProxyType(dict(self.links)))
