"""The one table of truck speeds by OSM road class, with its sources.

OSM carries almost no ``maxspeed`` tags in Vietnam, so every road class gets an explicit speed here.
The speeds are *planning* speeds for a loaded oxygen truck in city traffic, not legal limits:

- Legal ceilings: Circular 31/2019/TT-BGTVT (Vietnam's road speed rules) allows at most 60 km/h in
  built-up areas on divided or one-way roads with two or more lanes, 50 km/h on undivided two-way
  roads; outside built-up areas trucks over 3.5 t may drive 80 km/h (70 km/h on undivided roads);
  expressways up to 120 km/h.
- Loaded cryogenic tankers drive at most 40-45 km/h (``../shared/oxygen-parameters.md``,
  "Cryogenic tanker").
- Ho Chi Minh City's average traffic speed is far below the ceilings (about 20-25 km/h on arterials
  at peak in the city's own traffic reports), so urban classes sit well under 50 km/h.

Where an edge does carry a numeric ``maxspeed`` below its class speed, the lower value wins. An edge
with several classes (osmnx merges ways) takes the fastest of them. A class missing from the table
falls back to ``FALLBACK_SPEED_KPH``. Regions may override any entry (``[speeds_kph]`` in the region
file), and set one for another OSM ``highway`` value (``OTHER_OSM_ROAD_CLASSES``); any other name is
refused as a typo.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from types import MappingProxyType

from data.errors import InvalidInputError

#: Planning speed (km/h) of a loaded oxygen truck by OSM ``highway`` value.
SPEEDS_KPH: Mapping[str, float] = MappingProxyType(
    {
        "motorway": 70.0,  # expressways (HCMC-Long Thanh-Dau Giay, HCMC-Trung Luong): truck, loaded
        "motorway_link": 35.0,
        "trunk": 45.0,  # national highways through the city (QL1A, QL13, QL22, Xa lo Ha Noi)
        "trunk_link": 30.0,
        "primary": 35.0,
        "primary_link": 25.0,
        "secondary": 30.0,
        "secondary_link": 25.0,
        "tertiary": 25.0,
        "tertiary_link": 20.0,
        "unclassified": 20.0,
        "residential": 18.0,
        "living_street": 10.0,
        "service": 12.0,
        "road": 20.0,
        "busway": 20.0,
    }
)

#: Speed (km/h) for a road class that the table does not list.
FALLBACK_SPEED_KPH = 20.0

#: Other OSM ``highway`` values a region may set a speed for (edges of these classes, where a
#: network keeps any, otherwise drive at ``FALLBACK_SPEED_KPH``); any other name is a typo.
OTHER_OSM_ROAD_CLASSES = frozenset(
    {
        "track",
        "pedestrian",
        "bus_guideway",
        "escape",
        "raceway",
        "emergency_bay",
        "rest_area",
        "services",
        "construction",
        "proposed",
        "footway",
        "cycleway",
        "path",
        "bridleway",
        "steps",
        "corridor",
    }
)


def validate_speeds(speeds_kph: Mapping[str, float]) -> None:
    """Check that every road class is an OSM road class and every speed a positive finite km/h.

    Raises
    ------
    InvalidInputError
        Listing every name that is neither in the table nor another OSM road class (a typo such
        as ``primray`` would otherwise be ignored silently) and every speed that is not positive
        and finite.
    """
    problems = [
        f"speeds_kph[{road_class!r}]: unknown road class (the table's: {', '.join(SPEEDS_KPH)}; "
        f"other OSM classes: {', '.join(sorted(OTHER_OSM_ROAD_CLASSES))})"
        for road_class in speeds_kph
        if road_class not in SPEEDS_KPH and road_class not in OTHER_OSM_ROAD_CLASSES
    ]
    problems += [
        f"speeds_kph[{road_class!r}]: must be a positive number of km/h, got {speed!r}"
        for road_class, speed in speeds_kph.items()
        if not (
            isinstance(speed, int | float)
            and not isinstance(speed, bool)
            and math.isfinite(speed)
            and speed > 0
        )
    ]
    if problems:
        raise InvalidInputError.from_problems("speed table", problems)


def merge_speeds(overrides_kph: Mapping[str, float] | None = None) -> dict[str, float]:
    """Return the default table with ``overrides_kph`` applied (validated)."""
    merged = dict(SPEEDS_KPH)
    if overrides_kph:
        validate_speeds(overrides_kph)
        merged.update({str(k): float(v) for k, v in overrides_kph.items()})
    return merged


def speed_table_digest(speeds_kph: Mapping[str, float]) -> str:
    """Return a short stable hash of a speed table (part of the graph cache key)."""
    payload = json.dumps(
        {"table": dict(sorted(speeds_kph.items())), "fallback": FALLBACK_SPEED_KPH}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def parse_maxspeed_kph(value: object) -> float | None:
    """Parse an OSM ``maxspeed`` value (``"50"``, ``"50 km/h"``, ``"30 mph"``, lists) to km/h.

    Returns the lowest numeric speed found, or None when nothing numeric is there.
    """
    values = value if isinstance(value, list) else [value]
    speeds = []
    for item in values:
        if item is None:
            continue
        text = str(item).strip().lower()
        factor = 1.609344 if text.endswith("mph") else 1.0
        number = text.replace("km/h", "").replace("kph", "").replace("mph", "").strip()
        try:
            speed = float(number) * factor
        except ValueError:
            continue
        if math.isfinite(speed) and speed > 0:
            speeds.append(speed)
    return min(speeds) if speeds else None


def edge_speed_kph(
    highway: object, maxspeed: object, speeds_kph: Mapping[str, float]
) -> tuple[float, str]:
    """Return the planning speed of an edge and the road class it was taken from.

    Parameters
    ----------
    highway
        The edge's OSM ``highway`` value: a string, or a list when osmnx merged several ways.
    maxspeed
        The edge's OSM ``maxspeed`` value, if any; it only ever lowers the class speed.
    speeds_kph
        The speed table to use.
    """
    classes = [str(h) for h in (highway if isinstance(highway, list) else [highway]) if h]
    if not classes:
        classes = ["road"]
    best_class = max(classes, key=lambda c: speeds_kph.get(c, FALLBACK_SPEED_KPH))
    speed = speeds_kph.get(best_class, FALLBACK_SPEED_KPH)
    posted = parse_maxspeed_kph(maxspeed)
    if posted is not None:
        speed = min(speed, posted)
    return speed, best_class


#: Planning speed (km/h) of a *loaded cryogenic tanker* (liquid oxygen, UN 1073, class 2.2) by OSM
#: ``highway`` value: the ``"tanker"`` profile of :mod:`routing.profiles`. Sources and assumptions
#: (``docs/tanker-profile.md``): Circular 31/2019/TT-BGTVT, Article 7, puts tank trucks ("ô tô xi
#: téc") in its slowest class outside built-up areas, 60 km/h on divided roads and 50 km/h on
#: undivided ones (heavy trucks: 80/70); in built-up areas every vehicle has 60/50. A loaded
#: cryogenic tanker is driven at 40-45 km/h at most (``../shared/oxygen-parameters.md``,
#: "Cryogenic tanker"), so no class exceeds 45 km/h. Below that ceiling every class is one step
#: slower than the general table (an assumption: a 20-40 t semi-trailer with a sloshing liquid
#: load brakes, turns and pulls away slower than a cylinder truck in the same traffic).
TANKER_SPEEDS_KPH: Mapping[str, float] = MappingProxyType(
    {
        "motorway": 45.0,  # the loaded-tanker ceiling (oxygen-parameters.md), not 60 (Circular 31)
        "motorway_link": 30.0,
        "trunk": 40.0,
        "trunk_link": 25.0,
        "primary": 30.0,
        "primary_link": 20.0,
        "secondary": 25.0,
        "secondary_link": 20.0,
        "tertiary": 20.0,
        "tertiary_link": 15.0,
        "unclassified": 15.0,
        "residential": 12.0,
        "living_street": 8.0,
        "service": 10.0,
        "road": 15.0,
        "busway": 15.0,
    }
)

#: Speed (km/h) of a loaded tanker on a road class its table does not list.
TANKER_FALLBACK_SPEED_KPH = 15.0
