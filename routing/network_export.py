"""Export a road network as simplified RFC 7946 GeoJSON (roads by class) or as a GeoDataFrame.

Both exports draw each road once: of a two-way road's two directed edges only one is kept (the one
with the lower position), one-way roads are kept as they are. Coordinates are WGS84 ``[lon, lat]``.
Simplification (Douglas-Peucker) runs in the network's metric CRS (UTM), so its tolerance is in
metres; it keeps a subset of each road's own vertices and always keeps both ends, so roads still
meet at junctions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import shapely

from data.errors import InvalidInputError
from data.geojson import COORDINATE_DECIMALS
from routing.network import RoadNetwork
from routing.speeds import SPEEDS_KPH

if TYPE_CHECKING:
    import geopandas as gpd


#: Default simplification tolerance (m) of the web map's road layer.
DEFAULT_TOLERANCE_M = 5.0

#: Attribution every export carries (the roads are OpenStreetMap data, ODbL 1.0).
OSM_ATTRIBUTION = "© OpenStreetMap contributors"


def _class_rank(road_class: str) -> tuple[int, str]:
    order = list(SPEEDS_KPH)
    return (order.index(road_class) if road_class in order else len(order), road_class)


def drawn_edges(network: RoadNetwork) -> np.ndarray:
    """Return the positions of the edges that draw each road once (int64, ascending).

    A two-way road is kept through the lower of its two edge positions; one-way roads are kept.
    """
    positions = np.arange(network.edge_count, dtype=np.int64)
    twin = np.asarray(network.edge_twin)
    return positions[(twin < 0) | (positions < twin)]


def _vertex_positions(network: RoadNetwork, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the positions in ``geom_lon/lat`` of the vertices of ``edges``, and their counts."""
    offsets = np.asarray(network.geom_offsets)
    starts = offsets[edges]
    counts = offsets[edges + 1] - starts
    first_of_edge = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return np.repeat(starts - first_of_edge, counts) + np.arange(int(counts.sum())), counts


def _edge_lines_metric(
    network: RoadNetwork, edges: np.ndarray
) -> tuple[np.ndarray, pyproj.Transformer]:
    """Return the LineStrings (metric CRS) of ``edges`` and the metric -> WGS84 transformer."""
    to_metric = pyproj.Transformer.from_crs(4326, network.metric_epsg, always_xy=True)
    to_wgs84 = pyproj.Transformer.from_crs(network.metric_epsg, 4326, always_xy=True)
    vertex_idx, counts = _vertex_positions(network, edges)
    x, y = to_metric.transform(
        np.asarray(network.geom_lon)[vertex_idx], np.asarray(network.geom_lat)[vertex_idx]
    )
    lines = shapely.linestrings(
        np.column_stack([x, y]), indices=np.repeat(np.arange(edges.shape[0]), counts)
    )
    return lines, to_wgs84


def _rounded_parts(
    lines_metric: np.ndarray, to_wgs84: pyproj.Transformer, decimals: int
) -> list[list[list[float]]]:
    """Return each line's WGS84 coordinates rounded to ``decimals``, repeated points removed.

    A line that collapses to a single point after rounding comes back as an empty list.
    """
    coords, line_idx = shapely.get_coordinates(lines_metric, return_index=True)
    lon, lat = to_wgs84.transform(coords[:, 0], coords[:, 1])
    lonlat = np.round(np.column_stack([lon, lat]), decimals)
    same_line = np.concatenate([[False], line_idx[1:] == line_idx[:-1]])
    repeated = same_line & np.concatenate([[False], np.all(lonlat[1:] == lonlat[:-1], axis=1)])
    lonlat, line_idx = lonlat[~repeated], line_idx[~repeated]
    splits = np.searchsorted(line_idx, np.arange(1, lines_metric.shape[0]))
    parts = []
    for part in np.split(lonlat, splits):
        parts.append(part.tolist() if part.shape[0] >= 2 else [])
    return parts


def roads_to_geojson(
    network: RoadNetwork,
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = COORDINATE_DECIMALS,
) -> dict[str, Any]:
    """Return the network's roads as an RFC 7946 FeatureCollection, one feature per road class.

    Parameters
    ----------
    network
        The road network; closed edges are drawn too (closures are a routing matter).
    tolerance_m
        Douglas-Peucker tolerance in metres, in the network's metric CRS (default 5 m; 0 keeps
        every vertex).
    decimals
        Decimal places of the coordinates (default 6, about 0.1 m).

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "features": [...]}``, no ``crs`` member. Each feature is a
        MultiLineString of ``[lon, lat]`` positions with properties ``road_class`` (OSM ``highway``
        value), ``roads`` (number of roads drawn: a two-way road counts once) and ``length_m``
        (their total length, integer metres, before simplification). Features are ordered from the
        fastest class (motorway) to the slowest; classes without roads are left out. Roads shorter
        than the rounding (a single point after rounding) are left out of the geometry but counted.

    Raises
    ------
    InvalidInputError
        If ``tolerance_m`` is negative or not finite, or ``decimals`` is not 0-15.
    """
    if not (isinstance(tolerance_m, int | float) and np.isfinite(tolerance_m) and tolerance_m >= 0):
        raise InvalidInputError(f"tolerance_m: must be a finite number >= 0, got {tolerance_m!r}")
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 15:
        raise InvalidInputError(f"decimals: must be a whole number from 0 to 15, got {decimals!r}")
    edges = drawn_edges(network)
    lines, to_wgs84 = _edge_lines_metric(network, edges)
    if tolerance_m > 0:
        lines = shapely.simplify(lines, tolerance_m, preserve_topology=False)
    parts = _rounded_parts(lines, to_wgs84, decimals)
    edge_class = np.asarray(network.edge_class)[edges]
    lengths = np.asarray(network.edge_length_m)[edges]
    features = []
    for class_idx in sorted(
        set(edge_class.tolist()), key=lambda i: _class_rank(network.road_classes[i])
    ):
        members = np.flatnonzero(edge_class == class_idx)
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "MultiLineString",
                    "coordinates": [parts[i] for i in members if parts[i]],
                },
                "properties": {
                    "road_class": network.road_classes[class_idx],
                    "roads": int(members.shape[0]),
                    "length_m": round(float(lengths[members].sum())),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def roads_to_geodataframe(network: RoadNetwork) -> gpd.GeoDataFrame:
    """Return one row per road (a two-way road once) with its attributes, in EPSG:4326.

    Columns: ``edge_id`` (position of the drawn edge), ``from_osmid``, ``to_osmid``, ``road_class``,
    ``name``, ``ref``, ``oneway`` (bool), ``length_m`` (float, m), ``time_s`` (float, s;
    ``inf`` when closed), ``closed`` (bool), ``geometry`` (LineString, full detail).
    """
    import geopandas as gpd

    edges = drawn_edges(network)
    vertex_idx, counts = _vertex_positions(network, edges)
    lines = shapely.linestrings(
        np.column_stack(
            [np.asarray(network.geom_lon)[vertex_idx], np.asarray(network.geom_lat)[vertex_idx]]
        ),
        indices=np.repeat(np.arange(edges.shape[0]), counts),
    )
    times = np.asarray(network.edge_time_s)[edges]
    return gpd.GeoDataFrame(
        {
            "edge_id": edges,
            "from_osmid": np.asarray(network.node_osmid)[np.asarray(network.edge_from)[edges]],
            "to_osmid": np.asarray(network.node_osmid)[np.asarray(network.edge_to)[edges]],
            "road_class": [network.road_classes[i] for i in np.asarray(network.edge_class)[edges]],
            "name": [network.labels[i] for i in np.asarray(network.edge_name)[edges]],
            "ref": [network.labels[i] for i in np.asarray(network.edge_ref)[edges]],
            "oneway": np.asarray(network.edge_twin)[edges] < 0,
            "length_m": np.asarray(network.edge_length_m)[edges],
            "time_s": times,
            "closed": ~np.isfinite(times),
        },
        geometry=lines,
        crs="EPSG:4326",
    )


def write_roads_geopackage(network: RoadNetwork, path: Path, *, layer: str = "roads") -> None:
    """Write the roads of :func:`roads_to_geodataframe` to a GeoPackage layer (pyogrio).

    The layer's description carries the attribution "© OpenStreetMap contributors" (ODbL 1.0).
    Closed roads keep ``time_s = inf`` in memory but are written with ``time_s`` empty (NULL).

    Raises
    ------
    InvalidInputError
        If ``path`` does not end in ``.gpkg``.
    """
    if Path(path).suffix.lower() != ".gpkg":
        raise InvalidInputError(f"path: a GeoPackage file name ends in .gpkg, got {str(path)!r}")
    frame = roads_to_geodataframe(network)
    frame["time_s"] = frame["time_s"].where(np.isfinite(frame["time_s"]))
    frame.to_file(
        path,
        layer=layer,
        driver="GPKG",
        engine="pyogrio",
        layer_options={"DESCRIPTION": f"{network.name}: roads. {OSM_ATTRIBUTION}, ODbL 1.0"},
    )
