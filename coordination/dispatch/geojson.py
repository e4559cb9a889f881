"""Routes on the map: road paths of each route and its stops as RFC 7946 GeoJSON."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from coordination.dispatch.model import ATTRIBUTION, Stop
from data.errors import NoRouteError
from data.region import Region
from data.schema.documents import RouteDocument, RoutesDocument, RouteStepDocument
from data.schema.network import Place
from routing.network import RoadNetwork

_LegCache = dict[tuple[str, str], tuple[list[list[float]], bool]]
"""Road paths of legs already drawn, by (origin id, destination id), with their off-map flag."""


def _leg_coordinates(
    network: RoadNetwork,
    region: Region,
    origin: Stop,
    destination: Stop,
    cache: _LegCache,
) -> tuple[list[list[float]], bool]:
    """Road path of one leg as ``[lon, lat]`` pairs, and whether part of it is off the map.

    A supplier outside the map is joined to the gateway giving the fastest trip by a straight
    segment (the region's measured gateway link; its road geometry is not on the map).
    """
    from routing.travel_time import road_path

    key = (origin.place_id, destination.place_id)
    if key in cache:
        return cache[key]
    links: dict[str, list[tuple[Any, float]]] = {}
    for gateway in region.gateways:
        for place_id, link in gateway.links.items():
            links.setdefault(place_id, []).append((gateway, link.extra_s))
    a_off, b_off = origin.place_id in links, destination.place_id in links
    point_a = Place(origin.place_id, origin.lon, origin.lat)
    point_b = Place(destination.place_id, destination.lon, destination.lat)

    def path(a: Place, b: Place) -> tuple[float, list[list[float]]]:
        found = road_path(network, a, b, max_snap_m=region.max_snap_m)
        return found.duration_s, [[lon, lat] for lon, lat in found.coordinates]

    coordinates: list[list[float]]
    if a_off and b_off:
        coordinates = [[origin.lon, origin.lat], [destination.lon, destination.lat]]
    elif a_off or b_off:
        best: tuple[float, list[list[float]]] | None = None
        for gateway, extra_s in links[origin.place_id if a_off else destination.place_id]:
            gate = Place(gateway.gateway_id, gateway.lon, gateway.lat)
            try:
                seconds, coords = path(gate, point_b) if a_off else path(point_a, gate)
            except NoRouteError:
                continue
            if best is None or seconds + extra_s < best[0]:
                best = (seconds + extra_s, coords)
        inner = best[1] if best is not None else []
        coordinates = (
            [[origin.lon, origin.lat], *inner]
            if a_off
            else [*inner, [destination.lon, destination.lat]]
        )
    else:
        coordinates = path(point_a, point_b)[1]
    rounded = [[round(lon, 6), round(lat, 6)] for lon, lat in coordinates]
    cache[key] = (rounded, a_off or b_off)
    return cache[key]


def _route_line(
    steps: Sequence[RouteStepDocument], network: RoadNetwork, region: Region, cache: _LegCache
) -> tuple[list[list[float]], bool]:
    """Road path through a route's steps, and whether part of it is off the map."""
    line: list[list[float]] = []
    off_map = False
    for previous, step in itertools.pairwise(steps):
        if previous["place_id"] == step["place_id"]:
            continue
        lon_a, lat_a = previous["location"]
        lon_b, lat_b = step["location"]
        origin = Stop(previous["place_id"], previous["name"], lon_a, lat_a, "stop")
        destination = Stop(step["place_id"], step["name"], lon_b, lat_b, "stop")
        coords, leg_off_map = _leg_coordinates(network, region, origin, destination, cache)
        off_map |= leg_off_map
        line.extend(coords if not line else coords[1:] if coords[:1] == line[-1:] else coords)
    if len(line) < 2:
        line = [steps[0]["location"], steps[-1]["location"]]
    return line, off_map


def _stop_features(route: RouteDocument) -> list[dict[str, Any]]:
    """One ``Point`` feature per step of a route, in driving order."""
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": step["location"]},
            "properties": {
                "kind": "stop",
                "vehicle": route["vehicle"],
                "sequence": sequence,
                "type": step["type"],
                "place_id": step["place_id"],
                "name": step["name"],
                "load_id": step.get("load_id"),
                "quantity": step.get("quantity"),
                "unit": step.get("unit"),
                "arrival": step["arrival"],
                "departure": step["departure"],
                "load": step["load"],
            },
        }
        for sequence, step in enumerate(route["steps"])
    ]


def routes_to_geojson(
    routes: RoutesDocument,
    network: RoadNetwork,
    region: Region,
) -> dict[str, Any]:
    """Return the routes as an RFC 7946 FeatureCollection (``[lon, lat]``, WGS84, 6 decimals).

    Per route: one ``LineString`` feature (``kind`` ``"route"``) following the roads from the home
    depot through every stop and back, then one ``Point`` feature per step (``kind`` ``"stop"``)
    in driving order with ``sequence``, ``arrival``, ``departure``, ``load`` and the quantity
    handled. Segments to suppliers outside the map are straight lines to the region's gateway
    (``off_map`` true on the route).

    Parameters
    ----------
    routes
        The answer of :func:`~coordination.dispatch.routes_to_dict`.
    """
    cache: _LegCache = {}
    features: list[dict[str, Any]] = []
    for route in routes["routes"]:
        line, off_map = _route_line(route["steps"], network, region, cache)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {
                    "kind": "route",
                    "vehicle": route["vehicle"],
                    "vehicle_kind": route["kind"],
                    "start": route["start"],
                    "end": route["end"],
                    "duration_s": route["duration"],
                    "distance_m": route["distance"],
                    "off_map": off_map,
                },
            }
        )
        features.extend(_stop_features(route))
    return {"type": "FeatureCollection", "features": features, "attribution": ATTRIBUTION}
