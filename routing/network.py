"""The compact road network (CSR-ready arrays) and what-if changes to it: closures, slow-downs."""

from __future__ import annotations

import dataclasses
import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError

if TYPE_CHECKING:
    import shapely

    from routing.hierarchy import Hierarchy, Metric

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: How many customizations (sets of travel times) a network family keeps in memory.
_KEPT_METRICS = 8


def utm_epsg(lon: float, lat: float) -> int:
    """Return the EPSG code of the WGS84 UTM zone holding ``(lon, lat)`` (32648 for HCMC)."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


@dataclass(frozen=True, eq=False, repr=False)
class EdgeAccess:
    """The OSM tags of each edge that may bar a heavy or dangerous-goods vehicle (per edge).

    Read from the OSM file when the graph is built (``routing/graph.py``) and cached with it, so a
    vehicle profile (:mod:`routing.profiles`) can decide which roads its vehicles may use without
    reading OSM again. An edge osmnx merged from several ways takes the strictest of them.

    Attributes
    ----------
    flags
        Bit mask per edge: ``HGV_NO`` (``hgv=no`` or ``private``, also as ``hgv:conditional``),
        ``HAZMAT_NO`` (``hazmat=no``, ``hazmat:C/D/E=no`` or ADR tunnel category C, D or E),
        ``TUNNEL`` (``tunnel=yes``, not ``building_passage``).
    maxweight_t, maxheight_m, maxwidth_m
        The lowest posted limit per edge (``maxweight``, ``maxweight:hgv``, ``maxweightrating``
        and their ``:conditional`` values; ``maxheight``; ``maxwidth``), ``nan`` when none.
    """

    HGV_NO = 1
    HAZMAT_NO = 2
    TUNNEL = 4

    flags: IntArray
    maxweight_t: FloatArray
    maxheight_m: FloatArray
    maxwidth_m: FloatArray

    def __post_init__(self) -> None:
        for name in ("flags", "maxweight_t", "maxheight_m", "maxwidth_m"):
            getattr(self, name).setflags(write=False)

    @classmethod
    def unrestricted(cls, edge_count: int) -> EdgeAccess:
        """Return the access of a network whose roads carry no restriction tag."""
        return cls(
            np.zeros(edge_count, dtype=np.int64),
            np.full(edge_count, np.nan),
            np.full(edge_count, np.nan),
            np.full(edge_count, np.nan),
        )


class _SharedGeometry:
    """Projected edge geometry and its spatial index, built once per network.

    Closures change times, never geometry, so all variants of one network share this object.
    """

    def __init__(self, network: RoadNetwork) -> None:
        # pyproj and shapely load here, not when routing is imported (about 0.1 s).
        import pyproj
        import shapely

        self.to_metric = pyproj.Transformer.from_crs(4326, network.metric_epsg, always_xy=True)
        self.to_wgs84 = pyproj.Transformer.from_crs(network.metric_epsg, 4326, always_xy=True)
        x, y = self.to_metric.transform(network.geom_lon, network.geom_lat)
        self.geom_x = np.asarray(x, dtype=np.float64)
        self.geom_y = np.asarray(y, dtype=np.float64)
        counts = np.diff(network.geom_offsets)
        edge_of_vertex = np.repeat(np.arange(network.edge_count), counts)
        self.lines = shapely.linestrings(
            np.column_stack([self.geom_x, self.geom_y]), indices=edge_of_vertex
        )
        # Cumulative projected length along each edge's vertices, to cut edges at fractions.
        seg = np.hypot(np.diff(self.geom_x), np.diff(self.geom_y))
        seg[network.geom_offsets[1:-1] - 1] = 0.0  # no segment between consecutive edges
        self.cum_m = np.concatenate([[0.0], np.cumsum(seg)])
        self.tree = shapely.STRtree(self.lines)


@dataclass(frozen=True, eq=False, repr=False)
class RoadNetwork:
    """A directed road network in compact arrays, ready for shortest-path searches.

    Nodes are positions ``0..node_count-1``; edges are positions ``0..edge_count-1``. Every array is
    read-only. ``edge_time_s`` is ``inf`` for a closed edge: closed edges stay in the arrays (places
    can still snap to them, and are then unreachable) but no path uses them.

    Attributes
    ----------
    name
        Human-readable name of the network (the region's name).
    node_osmid, node_lon, node_lat
        OSM node id and WGS84 position of every node.
    edge_from, edge_to
        Node positions of each directed edge.
    edge_length_m, edge_time_s
        Length (m) and travel time (s) of each edge.
    edge_class
        Index into ``road_classes`` of the road class the edge's speed came from.
    edge_name, edge_ref
        Index into ``labels`` of the edge's road name(s) and reference(s) (0 = none); several are
        joined with ``"; "``.
    edge_twin
        Position of the same road in the opposite direction, or -1 (one-way roads).
    geom_offsets, geom_lon, geom_lat
        Edge ``e``'s geometry is ``geom_lon/lat[geom_offsets[e]:geom_offsets[e + 1]]``, from its
        start node to its end node.
    metric_epsg
        EPSG code of the projected metric CRS (UTM) used for snapping and distances.
    source
        Provenance: source file hash, speed-table digest, build settings.
    changes
        The what-if changes applied (closures, slow-downs), in order.
    edge_access
        Restriction tags per edge (hgv, hazmat, tunnel, weight, height, width limits), or None
        when the network was made without them (then no road is barred to any profile).
    profile
        The vehicle profile whose times ``edge_time_s`` holds: ``"general"`` (the speed table
        of :mod:`routing.speeds`) or another profile's name (see :mod:`routing.profiles`).
    edge_bars
        For a profile other than ``"general"``: why the profile may not use each edge (bits of
        :class:`routing.profiles.Bar`, 0 = allowed); such edges have ``inf`` time. None otherwise.
    """

    name: str
    node_osmid: IntArray
    node_lon: FloatArray
    node_lat: FloatArray
    edge_from: IntArray
    edge_to: IntArray
    edge_length_m: FloatArray
    edge_time_s: FloatArray
    edge_class: IntArray
    edge_name: IntArray
    edge_ref: IntArray
    edge_twin: IntArray
    geom_offsets: IntArray
    geom_lon: FloatArray
    geom_lat: FloatArray
    road_classes: tuple[str, ...]
    labels: tuple[str, ...]
    metric_epsg: int
    source: Mapping[str, Any] = field(default_factory=dict)
    changes: tuple[str, ...] = ()
    edge_access: EdgeAccess | None = None
    profile: str = "general"
    edge_bars: IntArray | None = None
    _shared: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    def __repr__(self) -> str:
        changes = f", changes={list(self.changes)!r}" if self.changes else ""
        profile = f", profile={self.profile!r}" if self.profile != "general" else ""
        return (
            f"RoadNetwork({self.name!r}, {self.node_count} nodes, {self.edge_count} edges"
            f"{profile}{changes})"
        )

    @property
    def node_count(self) -> int:
        """Number of nodes."""
        return int(self.node_lon.shape[0])

    @property
    def edge_count(self) -> int:
        """Number of directed edges (closed ones included)."""
        return int(self.edge_from.shape[0])

    @property
    def geometry(self) -> _SharedGeometry:
        """Projected edge geometry and spatial index (built on first use, shared with variants)."""
        if "geometry" not in self._shared:
            self._shared["geometry"] = _SharedGeometry(self)
        shared: _SharedGeometry = self._shared["geometry"]
        return shared

    def contraction_hierarchy(self) -> tuple[Hierarchy, Metric]:
        """Return the CCH of this network and its customization for this network's travel times.

        The hierarchy depends only on the topology, so it is built once (or loaded from the graph
        cache) and shared with every variant; each distinct set of travel times is customized once
        (about 10 ms for the city) and kept for the most recent variants. The key is the profile's
        name and the travel times, so a profile's customization is never taken for another's.
        """
        from routing.hierarchy import build_hierarchy, customize

        if "hierarchy" not in self._shared:
            self._shared["hierarchy"] = build_hierarchy(
                self.node_lon, self.node_lat, self.edge_from, self.edge_to
            )
        hierarchy: Hierarchy = self._shared["hierarchy"]
        metrics: dict[bytes, Metric] = self._shared.setdefault("metrics", {})
        key = self.profile.encode() + b"|" + self.time_digest()
        if key not in metrics:
            if len(metrics) >= _KEPT_METRICS:
                metrics.pop(next(iter(metrics)))
            metrics[key] = customize(hierarchy, self.edge_time_s, self.edge_length_m)
        return hierarchy, metrics[key]

    def time_digest(self) -> bytes:
        """Return a 16-byte digest of ``edge_time_s`` (part of the metric and matrix cache keys)."""
        return hashlib.blake2b(self.edge_time_s.tobytes(), digest_size=16).digest()

    def edge_label(self, edge_idx: int) -> str:
        """Return the road name of an edge, else its reference, else ``""``."""
        name = self.labels[int(self.edge_name[edge_idx])]
        return name or self.labels[int(self.edge_ref[edge_idx])]

    def summary(self) -> dict[str, Any]:
        """Return counts and totals a person can read: nodes, edges, km of road by class."""
        open_edges = np.isfinite(self.edge_time_s)
        km_by_class = {
            road_class: round(float(self.edge_length_m[self.edge_class == i].sum()) / 1000.0, 1)
            for i, road_class in enumerate(self.road_classes)
        }
        return {
            "name": self.name,
            "nodes": self.node_count,
            "edges": self.edge_count,
            "closed_edges": int((~open_edges).sum()),
            "road_km": round(float(self.edge_length_m.sum()) / 1000.0, 1),
            "road_km_by_class": dict(sorted(km_by_class.items(), key=lambda kv: -kv[1])),
            "bbox": [
                float(self.node_lon.min()),
                float(self.node_lat.min()),
                float(self.node_lon.max()),
                float(self.node_lat.max()),
            ],
            "metric_crs": f"EPSG:{self.metric_epsg}",
            "changes": list(self.changes),
        }


def _normalise_name(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().casefold()


def _edges_named(network: RoadNetwork, road_names: Iterable[str]) -> tuple[np.ndarray, list[str]]:
    wanted = {_normalise_name(n) for n in road_names}
    label_hits = np.array(
        [
            any(_normalise_name(part) in wanted for part in label.split("; ")) if label else False
            for label in network.labels
        ]
    )
    mask = label_hits[network.edge_name] | label_hits[network.edge_ref]
    found = {
        _normalise_name(part)
        for label, hit in zip(network.labels, label_hits, strict=True)
        if hit
        for part in label.split("; ")
    }
    missing = sorted(n for n in wanted if n not in found)
    return mask, missing


def _edges_in_polygon(network: RoadNetwork, polygon_lonlat: shapely.Geometry) -> np.ndarray:
    import shapely

    geometry = network.geometry
    metric_polygon = shapely.transform(
        polygon_lonlat,
        lambda xy: np.column_stack(geometry.to_metric.transform(xy[:, 0], xy[:, 1])),
    )
    hits = geometry.tree.query(metric_polygon, predicate="intersects")
    mask = np.zeros(network.edge_count, dtype=bool)
    mask[hits] = True
    return mask


def _as_polygon(polygon: object) -> shapely.Geometry:
    import shapely
    import shapely.geometry

    if isinstance(polygon, Mapping):
        try:
            geom = shapely.geometry.shape(polygon)
        except Exception as exc:  # shapely raises several types on malformed GeoJSON
            raise InvalidInputError(f"polygon: not a valid GeoJSON geometry ({exc})") from None
    elif isinstance(polygon, shapely.Geometry):
        geom = polygon
    else:
        raise InvalidInputError(
            f"polygon: expected a GeoJSON Polygon/MultiPolygon or a shapely geometry, got "
            f"{type(polygon).__name__}"
        )
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInputError(
            f"polygon: expected a Polygon or MultiPolygon, got {geom.geom_type}"
        )
    if geom.is_empty or not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise InvalidInputError(f"polygon: not a valid polygon ({reason}); fix or simplify it")
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidInputError(
            f"polygon: coordinates must be WGS84 [lon, lat]; bounds {geom.bounds} are out of range"
        )
    return geom


def change_roads(
    network: RoadNetwork,
    *,
    polygon: object | None = None,
    road_names: Iterable[str] | None = None,
    factor: float | None = None,
) -> RoadNetwork:
    """Return a new network with roads closed, or slowed by ``factor``; ``network`` is unchanged.

    Parameters
    ----------
    network
        The network to start from (it may already carry changes).
    polygon
        Roads whose geometry intersects this WGS84 polygon (GeoJSON mapping or shapely geometry).
    road_names
        Roads whose name or reference (``ref``, e.g. "QL1A") equals one of these, ignoring case.
    factor
        None closes the roads. A number > 0 multiplies their travel times (2 = twice as slow; below
        1 speeds them up, which a closure scenario should not need).

    Raises
    ------
    InvalidInputError
        If neither selector is given, the polygon is not a valid WGS84 polygon, a road name matches
        nothing, or the factor is not a positive finite number.
    """
    if polygon is None and road_names is None:
        raise InvalidInputError("road change: give a polygon, road_names, or both")
    if factor is not None and (
        isinstance(factor, bool)
        or not isinstance(factor, int | float)
        or not np.isfinite(factor)
        or factor <= 0
    ):
        raise InvalidInputError(f"factor: must be a positive finite number, got {factor!r}")
    mask = np.zeros(network.edge_count, dtype=bool)
    descriptions = []
    if polygon is not None:
        mask |= _edges_in_polygon(network, _as_polygon(polygon))
        descriptions.append("polygon")
    if road_names is not None:
        names = [road_names] if isinstance(road_names, str) else list(road_names)
        if not names:
            raise InvalidInputError("road_names: the list is empty")
        named, missing = _edges_named(network, names)
        if missing:
            raise InvalidInputError(
                f"road_names: no road is named {missing!r} in {network.name}; check the spelling "
                "(Vietnamese diacritics matter) or use the road's ref such as 'QL1A'"
            )
        mask |= named
        descriptions.append("roads " + ", ".join(names))
    times = network.edge_time_s.copy()
    if factor is None:
        times[mask] = np.inf
        verb = "closed"
    else:
        times[mask] = times[mask] * float(factor)
        verb = f"slowed x{factor:g}"
    change = f"{verb}: {' + '.join(descriptions)} ({int(mask.sum())} edges)"
    return dataclasses.replace(network, edge_time_s=times, changes=(*network.changes, change))
