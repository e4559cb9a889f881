"""Snap WGS84 points to the nearest road edge, in the network's projected metric CRS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError
from data.schema.network import Place, SnapResult
from routing.network import RoadNetwork
from routing.profiles import bar_reasons

#: Default farthest a place may lie from the nearest road before it is reported unreachable (m).
DEFAULT_MAX_SNAP_M = 2000.0


@dataclass(frozen=True, slots=True)
class Anchors:
    """Where each snapped place sits on the network: an edge and a fraction of its length.

    ``edge_idx[i]`` is -1 when place ``i`` is unreachable; ``fraction[i]`` is measured from the
    edge's start node (0) to its end node (1).
    """

    edge_idx: npt.NDArray[np.int64]
    fraction: npt.NDArray[np.float64]


def snap_places(
    network: RoadNetwork, places: Sequence[Place], *, max_snap_m: float = DEFAULT_MAX_SNAP_M
) -> tuple[list[SnapResult], Anchors]:
    """Snap places to their nearest road edge, refusing any farther than ``max_snap_m``.

    The distance is measured in the network's UTM zone (metres). A place farther than the limit, or
    whose nearest road is closed in both directions, is returned with ``reachable=False`` and a
    reason; it is never moved to a farther road silently.

    Raises
    ------
    InvalidInputError
        If ``max_snap_m`` is not a positive number.
    """
    import shapely

    if (
        isinstance(max_snap_m, bool)
        or not isinstance(max_snap_m, int | float)
        or not np.isfinite(max_snap_m)
        or max_snap_m <= 0
    ):
        raise InvalidInputError(
            f"max_snap_m: must be a positive number of metres, got {max_snap_m!r}"
        )
    count = len(places)
    if count == 0:
        return [], Anchors(np.empty(0, dtype=np.int64), np.empty(0))
    geometry = network.geometry
    lon = np.array([p.lon for p in places])
    lat = np.array([p.lat for p in places])
    x, y = geometry.to_metric.transform(lon, lat)
    points = shapely.points(np.asarray(x), np.asarray(y))
    (input_idx, edge_hits), distance_m = geometry.tree.query_nearest(
        points, return_distance=True, all_matches=False
    )
    edge_of = np.full(count, -1, dtype=np.int64)
    dist_of = np.full(count, np.inf)
    edge_of[input_idx] = edge_hits
    dist_of[input_idx] = distance_m
    if network.edge_bars is not None:
        _prefer_open_ties(network, points, edge_of, dist_of)
    lines = geometry.lines[np.maximum(edge_of, 0)]
    along_m = shapely.line_locate_point(lines, points)
    line_len = shapely.length(lines)
    fraction = np.clip(np.divide(along_m, line_len, out=np.zeros(count), where=line_len > 0), 0, 1)
    snapped = shapely.line_interpolate_point(lines, along_m)
    snapped_lon, snapped_lat = geometry.to_wgs84.transform(
        shapely.get_x(snapped), shapely.get_y(snapped)
    )

    results = []
    for i, place in enumerate(places):
        edge = int(edge_of[i])
        distance = float(dist_of[i])
        if edge < 0 or distance > max_snap_m:
            reason = (
                f"{distance:,.0f} m from the nearest road of {network.name}, beyond the "
                f"{max_snap_m:,.0f} m snapping limit: check the coordinates, or give the place a "
                "gateway if it lies outside the map (only the largest part of the network in "
                "which every road leads there and back is kept: roads on an island or beyond a "
                "one-way dead end of the extract do not count)"
            )
            results.append(
                SnapResult(
                    place.place_id,
                    place.lon,
                    place.lat,
                    False,
                    distance if np.isfinite(distance) else None,
                    reason=reason,
                )
            )
            edge_of[i] = -1
            continue
        twin = int(network.edge_twin[edge])
        closed = not np.isfinite(network.edge_time_s[edge]) and (
            twin < 0 or not np.isfinite(network.edge_time_s[twin])
        )
        label = network.edge_label(edge)
        result = SnapResult(
            place.place_id,
            place.lon,
            place.lat,
            not closed,
            distance,
            float(snapped_lon[i]),
            float(snapped_lat[i]),
            label,
            reason=_closed_reason(network, edge, twin, label) if closed else "",
        )
        results.append(result)
        if closed:
            edge_of[i] = -1
    return results, Anchors(edge_of, fraction)


def _is_closed(network: RoadNetwork, edge: int) -> bool:
    """Return True when an edge and its twin (if any) cannot be driven."""
    twin = int(network.edge_twin[edge])
    return not np.isfinite(network.edge_time_s[edge]) and (
        twin < 0 or not np.isfinite(network.edge_time_s[twin])
    )


def _prefer_open_ties(
    network: RoadNetwork,
    points: npt.NDArray[np.object_],
    edge_of: npt.NDArray[np.int64],
    dist_of: npt.NDArray[np.float64],
) -> None:
    """Move places from a road their profile may not use to an open road at the same distance.

    A place on a junction is equally near every road there; for a profile (a tanker) that may
    not use one of them, take an open one, so that the place is not unreachable only because
    of which tie the index returned. A place is never moved to a farther road. (In place.)
    """
    for i in np.flatnonzero(edge_of >= 0).tolist():
        if not _is_closed(network, int(edge_of[i])):
            continue
        hits, distances = network.geometry.tree.query_nearest(
            points[i],
            return_distance=True,
            all_matches=True,
        )
        for edge, distance in zip(
            np.ravel(hits).tolist(), np.ravel(distances).tolist(), strict=True
        ):
            if distance <= dist_of[i] + 1e-6 and not _is_closed(network, int(edge)):
                edge_of[i] = int(edge)
                break


def _closed_reason(network: RoadNetwork, edge: int, twin: int, label: str) -> str:
    """Say why a place's nearest road is closed: a what-if, or a profile's bar (with its reason)."""
    reason = f"its nearest road ({label or 'unnamed'}) is closed"
    if network.edge_bars is None:
        return reason
    bars = int(network.edge_bars[edge]) | (int(network.edge_bars[twin]) if twin >= 0 else 0)
    if not bars:
        return reason
    return f"{reason} to the {network.profile} profile: {bar_reasons(bars)}"
