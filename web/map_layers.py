"""Base layers of the web map as RFC 7946 GeoJSON: places, province and district outlines, roads.

The converters (``*_to_geojson``, :func:`provinces_from_topojson`) are pure: plain data in, a
GeoJSON FeatureCollection (a dict) out. :class:`MapResources` is the I/O edge: it reads the shared
files once per application and keeps each layer's serialised bytes (plain and gzip) for reuse.

Conventions of every layer: WGS84 ``[lon, lat]``, no ``crs`` member, exterior rings
counter-clockwise and holes clockwise, 6 decimals. Outlines are simplified for display in Web
Mercator (EPSG:3857, the map's projection), so tolerances are in metres on the map (at 10° N a
Mercator metre is 0.985 m on the ground).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import MultiPolygon, Polygon

from data.districts import DISTRICTS_OSM, districts_from_geojson, districts_from_osm
from data.errors import InvalidInputError, MissingDataFileError
from data.geojson import COORDINATE_DECIMALS, MERCATOR_EPSG, geometry_to_geojson
from data.provinces import PROVINCES_2021, TOPOJSON_63
from data.region import Region
from data.schema.network import Place
from data.units import OxygenConversions
from routing.network import RoadNetwork
from routing.network_export import OSM_ATTRIBUTION, roads_to_geojson

#: Credit of the province shapes (licence not verified upstream; likely CC BY-SA 4.0).
PROVINCE_ATTRIBUTION = "Province shapes: Open Development Vietnam (“Địa phận tỉnh”)"


#: Display simplification (Web Mercator metres) of province and district outlines.
PROVINCE_TOLERANCE_M = 150.0

#: Cylinder size assumed for ``capacity_cylinders_per_day`` (the supplier file gives no size);
#: 40 L is the common Vietnamese hospital cylinder (``data/units.py``).
SUPPLIER_CYLINDER_SIZE = "40L"


# ---------------------------------------------------------------------------- pure converters


def places_to_geojson(
    places: Iterable[Place],
    *,
    numeric_properties: Sequence[str] = (),
    decimals: int = COORDINATE_DECIMALS,
) -> dict[str, Any]:
    """Return places (facilities, suppliers) as a FeatureCollection of Points.

    Parameters
    ----------
    places
        The places; each becomes a feature whose ``id`` is the place id.
    numeric_properties
        Properties to turn into numbers (a float, or ``null`` when empty). Other properties are
        kept as the strings the file holds.

    Returns
    -------
    dict
        Features with properties ``id``, ``name`` and every other column of the source file.

    Raises
    ------
    InvalidInputError
        Listing every numeric property that holds text which is not a number.
    """
    features = []
    problems = []
    for place in places:
        properties: dict[str, Any] = {"id": place.place_id, "name": place.name}
        for key, value in place.properties.items():
            if key in numeric_properties:
                text = str(value).strip()
                try:
                    properties[key] = float(text) if text else None
                except ValueError:
                    problems.append(f"{place.place_id}.{key}: not a number: {value!r}")
                    properties[key] = None
            else:
                properties[key] = value
        for key in numeric_properties:
            properties.setdefault(key, None)
        features.append(
            {
                "type": "Feature",
                "id": place.place_id,
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(place.lon, decimals), round(place.lat, decimals)],
                },
                "properties": properties,
            }
        )
    if problems:
        raise InvalidInputError.from_problems("places", problems)
    return {"type": "FeatureCollection", "features": features}


def suppliers_to_geojson(
    suppliers: Iterable[Place], *, conversions: OxygenConversions | None = None
) -> dict[str, Any]:
    """Return suppliers as Points with their capacity as numbers and in m³ of gas per day.

    ``capacity_lox_t_per_day`` and ``capacity_cylinders_per_day`` become numbers (``null`` when
    the file leaves them empty). ``capacity_m3_per_day`` is their sum in gas: tonnes of liquid times
    ``conversions.gas_m3_per_lox_t`` plus cylinders times the gas of one 40 L cylinder (the file
    gives no size; see :data:`SUPPLIER_CYLINDER_SIZE`); ``null`` when both are empty. The map sizes
    supplier symbols by it.
    """
    conversions = conversions or OxygenConversions()
    collection = places_to_geojson(
        suppliers, numeric_properties=("capacity_lox_t_per_day", "capacity_cylinders_per_day")
    )
    for feature in collection["features"]:
        properties = feature["properties"]
        lox_t = properties["capacity_lox_t_per_day"]
        cylinders = properties["capacity_cylinders_per_day"]
        if lox_t is None and cylinders is None:
            properties["capacity_m3_per_day"] = None
            continue
        gas_m3 = 0.0
        if lox_t is not None:
            gas_m3 += conversions.lox_t_to_gas_m3(lox_t)
        if cylinders is not None:
            gas_m3 += conversions.cylinders_to_gas_m3(cylinders, SUPPLIER_CYLINDER_SIZE)
        properties["capacity_m3_per_day"] = round(gas_m3)
    return collection


def _decode_arcs(topology: Mapping[str, Any]) -> list[np.ndarray]:
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        points = np.asarray(arc, dtype=np.float64)
        if transform is not None:  # quantised and delta-encoded
            points = np.cumsum(points, axis=0) * transform["scale"] + transform["translate"]
        arcs.append(points)
    return arcs


def _simplify_arcs(arcs: list[np.ndarray], tolerance_m: float) -> list[np.ndarray]:
    """Simplify each arc once in Web Mercator; shared borders stay shared (no slivers or gaps)."""
    if tolerance_m <= 0:
        return arcs
    to_mercator = pyproj.Transformer.from_crs(4326, MERCATOR_EPSG, always_xy=True)
    to_wgs84 = pyproj.Transformer.from_crs(MERCATOR_EPSG, 4326, always_xy=True)
    out = []
    for arc in arcs:
        if arc.shape[0] <= 2:
            out.append(arc)
            continue
        x, y = to_mercator.transform(arc[:, 0], arc[:, 1])
        simple = shapely.get_coordinates(
            shapely.simplify(shapely.linestrings(np.column_stack([x, y])), tolerance_m)
        )
        lon, lat = to_wgs84.transform(simple[:, 0], simple[:, 1])
        out.append(np.column_stack([lon, lat]))
    return out


def _ring(indices: Sequence[int], arcs: list[np.ndarray]) -> np.ndarray:
    parts: list[np.ndarray] = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        parts.append(arc if not parts else arc[1:])
    return np.concatenate(parts)


def _polygons(
    geometry: Mapping[str, Any],
    arcs: list[np.ndarray],
    full_arcs: list[np.ndarray],
) -> shapely.Geometry:
    if geometry["type"] == "Polygon":
        polygon_arcs = [geometry["arcs"]]
    elif geometry["type"] == "MultiPolygon":
        polygon_arcs = geometry["arcs"]
    else:
        raise InvalidInputError(
            f"TopoJSON geometry: expected Polygon or MultiPolygon, got {geometry['type']!r}"
        )
    polygons = []
    for rings in polygon_arcs:
        coordinates = []
        for ring_arcs in rings:
            ring = _ring(ring_arcs, arcs)
            full = _ring(ring_arcs, full_arcs)
            if ring.shape[0] < full.shape[0] and (
                np.unique(ring, axis=0).shape[0] < 3
                or not Polygon(ring).is_valid
                or Polygon(ring).area < 0.5 * Polygon(full).area
            ):
                # A small island collapses or twists when simplified; keep it in full (islands
                # such as Trường Sa and Hoàng Sa must stay on the map).
                ring = full
            coordinates.append(ring)
        polygons.append(Polygon(coordinates[0], coordinates[1:]))
    made = shapely.make_valid(MultiPolygon(polygons))
    polygonal = [g for g in shapely.get_parts(made) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polygonal)


def provinces_from_topojson(
    topology: Mapping[str, Any],
    *,
    tolerance_m: float = PROVINCE_TOLERANCE_M,
    decimals: int = COORDINATE_DECIMALS,
) -> dict[str, Any]:
    """Return the 63 provinces of the shared TopoJSON as GeoJSON (Multi)Polygons, simplified.

    Each arc (a stretch of border) is simplified once, so two neighbours keep exactly the same
    border; rings that would collapse (small islands) are kept in full. Invalid shapes are repaired
    with ``make_valid``.

    Parameters
    ----------
    topology
        The parsed TopoJSON (``raw/vn_provinces_63_pre2025.topojson``): one GeometryCollection whose
        geometries carry ``ten_tinh``.
    tolerance_m
        Douglas-Peucker tolerance in Web Mercator metres (default 150; 0 keeps every vertex).

    Returns
    -------
    dict
        Features with properties ``province_code`` (GSO code of 2021, ``null`` if the name is
        unknown), ``name`` (official 2021 name) and ``ten_tinh`` (as the file writes it).

    Raises
    ------
    InvalidInputError
        If the TopoJSON has no ``arcs`` or ``objects``, or holds a geometry that is not polygonal.
    """
    if not isinstance(topology, Mapping) or "arcs" not in topology or not topology.get("objects"):
        raise InvalidInputError("topology: not a TopoJSON Topology (needs 'arcs' and 'objects')")
    full_arcs = _decode_arcs(topology)
    arcs = _simplify_arcs(full_arcs, tolerance_m)
    by_topo_name = {topo: (code, name) for code, name, topo in PROVINCES_2021}
    collection = next(iter(topology["objects"].values()))
    features = []
    for geometry in collection["geometries"]:
        properties = geometry.get("properties") or {}
        ten_tinh = str(properties.get("ten_tinh", ""))
        code, name = by_topo_name.get(ten_tinh, (None, ten_tinh))
        features.append(
            {
                "type": "Feature",
                "geometry": geometry_to_geojson(
                    _polygons(geometry, arcs, full_arcs), decimals=decimals
                ),
                "properties": {"province_code": code, "name": name, "ten_tinh": ten_tinh},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def features_near(
    collection: Mapping[str, Any],
    bbox: Sequence[float],
    *,
    margin_deg: float = 0.01,
) -> dict[str, Any]:
    """Return the features whose bounding box meets ``bbox`` (``[west, south, east, north]``).

    A bounding-box filter only (no geometry is cut); ``margin_deg`` widens ``bbox`` on every side.
    """
    west, south, east, north = bbox
    box = shapely.box(west - margin_deg, south - margin_deg, east + margin_deg, north + margin_deg)
    kept = [
        f
        for f in collection["features"]
        if shapely.intersects(box, shapely.box(*shapely.geometry.shape(f["geometry"]).bounds))
    ]
    return {"type": "FeatureCollection", "features": kept}


def network_bbox(network: RoadNetwork) -> list[float]:
    """Return ``[west, south, east, north]`` of a network's nodes, rounded to 6 decimals."""
    return [
        round(float(v), COORDINATE_DECIMALS)
        for v in (
            network.node_lon.min(),
            network.node_lat.min(),
            network.node_lon.max(),
            network.node_lat.max(),
        )
    ]


# ---------------------------------------------------------------------------- cached resources


@dataclass(frozen=True, slots=True)
class EncodedLayer:
    """A layer serialised once: UTF-8 JSON, its gzip, and a strong ETag."""

    body: bytes
    gzipped: bytes
    etag: str

    @classmethod
    def from_geojson(cls, collection: Mapping[str, Any]) -> EncodedLayer:
        """Serialise a FeatureCollection (compact UTF-8; Vietnamese characters kept as they are)."""
        body = json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(
            body,
            gzip.compress(body, compresslevel=6, mtime=0),
            hashlib.sha256(body).hexdigest()[:32],
        )


class _Once:
    """Compute a value on first use, once, even when several request threads ask together."""

    def __init__(self, build: Callable[[], EncodedLayer]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._value: EncodedLayer | None = None

    def get(self) -> EncodedLayer:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
        return self._value


@dataclass(frozen=True, slots=True)
class RegionLayers:
    """One served region: its definition, loaded network and layers (built on first use)."""

    region: Region
    network: RoadNetwork
    province_code: str | None
    layers: Mapping[str, _Once] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        """Return what the map needs to show the region: id, name, bbox, province, layer names."""
        return {
            "region_id": self.region.region_id,
            "name": self.region.name,
            "bbox": network_bbox(self.network),
            "province_code": self.province_code,
            "layers": sorted(self.layers),
            "attribution": OSM_ATTRIBUTION,
        }


class MapResources:
    """The web map's data for one application: served regions and the shared outline layers.

    Built by :func:`load_map_resources`; the road network of each region is passed in already
    loaded. Layers are built on first request and kept (one build per application).
    """

    def __init__(
        self,
        regions: Mapping[str, tuple[Region, RoadNetwork]],
        *,
        data_dir: Path | None,
        conversions: OxygenConversions | None = None,
        road_tolerance_m: float = 5.0,
    ) -> None:
        self.data_dir = data_dir
        self.conversions = conversions or OxygenConversions()
        self._topology_lock = threading.Lock()
        self._provinces_full: dict[str, Any] | None = None
        self.provinces = _Once(
            lambda: EncodedLayer.from_geojson(provinces_from_topojson(self._topology()))
        )
        self._districts_all = _Once(
            lambda: EncodedLayer.from_geojson(districts_from_osm(self._data_file(DISTRICTS_OSM)))
        )
        self.regions: dict[str, RegionLayers] = {}
        for region_id, (region, network) in regions.items():
            self.regions[region_id] = RegionLayers(
                region=region,
                network=network,
                province_code=self._province_of(network) if data_dir is not None else None,
                layers=self._region_layers(region, network, road_tolerance_m),
            )

    def _data_file(self, relative: Path) -> Path:
        if self.data_dir is None:
            raise MissingDataFileError(
                f"{relative}: the data directory is not set; set OXYROUTE_DATA_DIR or pass data_dir"
            )
        return self.data_dir / relative

    def _topology(self) -> dict[str, Any]:
        with self._topology_lock:
            if self._provinces_full is None:
                path = self._data_file(TOPOJSON_63)
                if not path.is_file():
                    raise MissingDataFileError(
                        f"province shapes {str(path)!r} not found; point OXYROUTE_DATA_DIR at the "
                        "shared data"
                    )
                self._provinces_full = json.loads(path.read_text(encoding="utf-8"))
            return self._provinces_full

    def _province_of(self, network: RoadNetwork) -> str | None:
        """Return the 2021 province code of the province holding the network's centre, if any."""
        west, south, east, north = network_bbox(network)
        centre = shapely.Point((west + east) / 2, (south + north) / 2)
        for feature in provinces_from_topojson(self._topology(), tolerance_m=0)["features"]:
            if shapely.geometry.shape(feature["geometry"]).contains(centre):
                code: str | None = feature["properties"]["province_code"]
                return code
        return None

    def _districts_layer(self, region: Region, network: RoadNetwork) -> _Once | None:
        """Return the region's district layer, or None (a 404 for the layer) when it has none.

        The region's own ``[districts] file``; else Hồ Chí Minh City's OSM outlines near the map
        for a region of province 79 (read once for all such regions); else none: another city's
        map must not show an empty layer as if it had no districts (issue 16).
        """
        if region.districts_file is not None:
            file, name_property = region.districts_file, region.districts_name_property
            return _Once(
                lambda: EncodedLayer.from_geojson(
                    districts_from_geojson(file, name_property=name_property)
                )
            )
        if region.province_code != "79" or self.data_dir is None:
            return None
        if not (self.data_dir / DISTRICTS_OSM).is_file():
            return None
        return _Once(
            lambda: EncodedLayer.from_geojson(
                features_near(json.loads(self._districts_all.get().body), network_bbox(network))
            )
        )

    def _region_layers(
        self,
        region: Region,
        network: RoadNetwork,
        tolerance_m: float,
    ) -> dict[str, _Once]:
        layers = {
            "roads": _Once(
                lambda: EncodedLayer.from_geojson(
                    roads_to_geojson(network, tolerance_m=tolerance_m)
                )
            ),
        }
        districts = self._districts_layer(region, network)
        if districts is not None:
            layers["districts"] = districts
        if region.facilities is not None:
            facilities = region.facilities
            layers["facilities"] = _Once(
                lambda: EncodedLayer.from_geojson(places_to_geojson(facilities.read()))
            )
        if region.suppliers is not None:
            suppliers = region.suppliers
            layers["suppliers"] = _Once(
                lambda: EncodedLayer.from_geojson(
                    suppliers_to_geojson(suppliers.read(), conversions=self.conversions)
                )
            )
        return layers
