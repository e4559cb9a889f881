"""District boundaries read from OpenStreetMap administrative relations, and a point's district."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import shapely

from data.errors import MissingDataFileError
from data.geojson import COORDINATE_DECIMALS, geometry_to_geojson, simplify_mercator

#: OSM file with Ho Chi Minh City's district (admin_level 6) boundaries, relative to the data dir.
DISTRICTS_OSM = Path("raw") / "hcmc_2018-01-01_hcm_province.osm.pbf"


DISTRICT_TOLERANCE_M = 10.0


def districts_from_osm(
    path: Path,
    *,
    admin_level: str = "6",
    tolerance_m: float = DISTRICT_TOLERANCE_M,
    decimals: int = COORDINATE_DECIMALS,
) -> dict[str, Any]:
    """Read district boundaries (OSM ``boundary=administrative`` relations) from an OSM file.

    A relation whose member ways are all in the file becomes a (Multi)Polygon (osmium's area
    assembler) with ``complete: true``. A relation cut by the extract's edge cannot be closed
    honestly: its ways that are in the file become a MultiLineString with ``complete: false``.

    Parameters
    ----------
    path
        An OSM file (PBF or XML) with relations, ways and nodes.
    admin_level
        OSM ``admin_level`` of the units (default "6": quận/huyện/thị xã in Vietnam).
    tolerance_m
        Douglas-Peucker tolerance in Web Mercator metres (default 10).

    Returns
    -------
    dict
        Features with properties ``name``, ``osm_relation_id``, ``admin_level``, ``complete``,
        ordered by name.

    Raises
    ------
    MissingDataFileError
        If the file does not exist.
    """
    import osmium

    if not path.is_file():
        raise MissingDataFileError(
            f"district boundaries {str(path)!r} not found; point OXYROUTE_DATA_DIR at the shared "
            "data"
        )
    relations: dict[int, tuple[str, list[int]]] = {}
    for relation in osmium.FileProcessor(str(path), osmium.osm.RELATION):
        if not isinstance(relation, osmium.osm.Relation):
            continue
        tags = {tag.k: tag.v for tag in relation.tags}
        if tags.get("boundary") == "administrative" and tags.get("admin_level") == admin_level:
            ways = [m.ref for m in relation.members if m.type == "w"]
            relations[relation.id] = (tags.get("name", ""), ways)
    wanted = {way_id for _, ways in relations.values() for way_id in ways}
    way_lines: dict[int, shapely.Geometry] = {}
    for way in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations():
        if isinstance(way, osmium.osm.Way) and way.id in wanted:
            points = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
            if len(points) >= 2:
                way_lines[way.id] = shapely.LineString(points)
    factory = osmium.geom.WKBFactory()
    areas: dict[int, shapely.Geometry] = {}
    processor = (
        osmium.FileProcessor(str(path))
        .with_areas(osmium.filter.TagFilter(("boundary", "administrative")))
        .with_filter(osmium.filter.EntityFilter(osmium.osm.AREA))
    )
    for area in processor:
        if not isinstance(area, osmium.osm.Area):
            continue
        relation_id = area.orig_id()
        if not area.from_way() and relation_id in relations:
            try:
                areas[relation_id] = shapely.from_wkb(factory.create_multipolygon(area))
            except RuntimeError:  # osmium refuses areas it could not assemble
                continue
    features: list[dict[str, Any]] = []
    for relation_id, (name, ways) in relations.items():
        complete = relation_id in areas and areas[relation_id].is_valid
        if complete:
            geometry = areas[relation_id]
        else:
            lines = [way_lines[w] for w in ways if w in way_lines]
            if not lines:
                continue
            geometry = shapely.line_merge(shapely.MultiLineString(lines))
        geometry = simplify_mercator(geometry, tolerance_m)
        features.append(
            {
                "type": "Feature",
                "geometry": geometry_to_geojson(geometry, decimals=decimals),
                "properties": {
                    "name": name,
                    "osm_relation_id": relation_id,
                    "admin_level": admin_level,
                    "complete": complete,
                },
            }
        )
    features.sort(key=lambda f: f["properties"]["name"])
    return {"type": "FeatureCollection", "features": features}


def district_polygons(districts: dict[str, Any]) -> list[tuple[str, Any]]:
    """Return ``(name, shapely geometry)`` of the complete district polygons of a collection.

    ``districts`` is a GeoJSON FeatureCollection as :func:`districts_from_osm` returns it; only
    (Multi)Polygons with ``complete`` true (or no such property) are kept: a district cut by the
    extract's edge has no polygon to put a point in.
    """
    return [
        (f["properties"]["name"], shapely.geometry.shape(f["geometry"]))
        for f in districts.get("features", [])
        if f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        and f["properties"].get("complete", True)
    ]


def district_shapes(data_dir: Path, cache_dir: Path | None = None) -> list[tuple[str, Any]]:
    """Return Hồ Chí Minh City's district polygons (OSM boundaries of 2018) from the data dir.

    Reading them from the OSM extract takes about 1.3 s; with ``cache_dir`` they are kept there
    as WKB (:func:`data.shape_cache.cached_shapes`) and read back in milliseconds.

    Raises
    ------
    MissingDataFileError
        If :data:`DISTRICTS_OSM` is not in ``data_dir``.
    """
    from data.shape_cache import cached_shapes

    source = data_dir / DISTRICTS_OSM
    return cached_shapes(
        source,
        cache_dir,
        "hcmc-districts-2018",
        lambda: district_polygons(districts_from_osm(source)),
    )


def district_for_point(lon: float, lat: float, polygons: Sequence[tuple[str, Any]]) -> str | None:
    """Return the name of the district polygon that covers a WGS84 point, else None."""
    point = shapely.Point(lon, lat)
    return next((name for name, polygon in polygons if polygon.covers(point)), None)


# Words that say what kind of district a name is, not which one ("Quận 5", "Q.5", "District 5";
# Thủ Đức was a "quận" in 2018 and a "thành phố" from 2021).
_DISTRICT_KIND_WORDS = frozenset(
    {"quan", "q", "huyen", "h", "district", "thi", "xa", "thanh", "pho", "tp"}
)


def same_district(declared: str, found: str) -> bool:
    """Return True when two district names name the same district, whatever their kind word.

    Compared without diacritics and case, the words for "district" ("Quận", "Huyện", "Q.",
    "District", "Thành phố", "Thị xã") left out: "Q.5" is "Quận 5", "Thành phố Thủ Đức" is
    "Quận Thủ Đức".
    """
    from data.seed_roles import plain_name

    def key(name: str) -> tuple[str, ...]:
        words = tuple(w for w in plain_name(name).split() if w not in _DISTRICT_KIND_WORDS)
        return tuple(w.lstrip("0") or "0" for w in words)

    return key(declared) == key(found)


def districts_from_geojson(
    path: Path,
    *,
    name_property: str = "name",
    decimals: int = COORDINATE_DECIMALS,
) -> dict[str, Any]:
    """Read district outlines from a GeoJSON file of (Multi)Polygons (a region's ``[districts]``).

    Every feature keeps its properties; ``name`` is set from ``name_property`` and ``complete``
    to true (the file's polygons are taken as whole districts). Features are ordered by name.

    Raises
    ------
    MissingDataFileError
        If the file does not exist.
    InvalidInputError
        If it is not a UTF-8 GeoJSON FeatureCollection, or a feature is not a valid
        (Multi)Polygon or has no ``name_property``; every bad feature is listed.
    """
    import json

    from data.errors import InvalidInputError

    if not path.is_file():
        raise MissingDataFileError(
            f"districts file {str(path)!r} not found; fix [districts] file in the region file"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InvalidInputError(f"districts file {path.name}: not UTF-8 GeoJSON ({exc})") from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise InvalidInputError(f"districts file {path.name}: expected a FeatureCollection")
    problems: list[str] = []
    out: list[dict[str, Any]] = []
    for i, feature in enumerate(features):
        where = f"features[{i}]"
        properties = feature.get("properties") if isinstance(feature, dict) else None
        properties = dict(properties) if isinstance(properties, dict) else {}
        name = properties.get(name_property)
        if not isinstance(name, str) or not name.strip():
            problems.append(
                f"{where}.properties.{name_property}: missing; set [districts] name_property "
                f"to the property that names the district (found: {sorted(properties)})"
            )
            continue
        try:
            geometry = shapely.geometry.shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException):
            geometry = None
        if geometry is None or geometry.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(f"{where}.geometry: must be a Polygon or MultiPolygon ({name!r})")
            continue
        if not geometry.is_valid:
            geometry = shapely.make_valid(geometry)
        out.append(
            {
                "type": "Feature",
                "geometry": geometry_to_geojson(geometry, decimals=decimals),
                "properties": {**properties, "name": name.strip(), "complete": True},
            }
        )
    if problems:
        raise InvalidInputError.from_problems(f"districts file {path.name}", problems)
    out.sort(key=lambda f: f["properties"]["name"])
    return {"type": "FeatureCollection", "features": out}


def region_districts(
    districts_file: Path | None,
    *,
    name_property: str = "name",
    province_code: str | None,
    data_dir: Path | None,
) -> tuple[dict[str, Any] | None, str]:
    """Return a region's district outlines and where they come from, or ``None`` and why not.

    The region's ``[districts] file`` when it has one; else Hồ Chí Minh City's OSM outlines
    (:data:`DISTRICTS_OSM`) for a region of province 79 when the data directory holds them;
    else none, with the reason (another region's map must not show the city's districts, nor an
    empty layer without a word: issue 16).

    Raises
    ------
    MissingDataFileError, InvalidInputError
        As :func:`districts_from_geojson`, for a configured file.
    """
    if districts_file is not None:
        return (
            districts_from_geojson(districts_file, name_property=name_property),
            f"[districts] file {districts_file.name}",
        )
    if province_code == "79" and data_dir is not None and (data_dir / DISTRICTS_OSM).is_file():
        return districts_from_osm(data_dir / DISTRICTS_OSM), f"OpenStreetMap {DISTRICTS_OSM.name}"
    return None, (
        "the region has no [districts] file (a GeoJSON of district polygons with a name "
        "property); Hồ Chí Minh City's outlines serve only regions of province 79"
    )


def region_district_shapes(
    districts_file: Path | None,
    *,
    name_property: str = "name",
    province_code: str | None,
    data_dir: Path | None,
    cache_dir: Path | None = None,
) -> list[tuple[str, Any]] | None:
    """Return a region's district polygons for point-in-district checks, or ``None`` (none known).

    From the region's ``[districts] file``, else Hồ Chí Minh City's (:func:`district_shapes`,
    cached) for a region of province 79, as :func:`region_districts` chooses.
    """
    if districts_file is not None:
        return district_polygons(
            districts_from_geojson(districts_file, name_property=name_property)
        )
    if province_code == "79" and data_dir is not None and (data_dir / DISTRICTS_OSM).is_file():
        return district_shapes(data_dir, cache_dir)
    return None
