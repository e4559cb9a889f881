"""Build the road network from OSM files with osmnx (once) and cache it compactly (graph I/O).

This is the graph I/O module. A cold build reads the OSM file with pyosmium (keeping only the ways
of the chosen network type), lets osmnx build and simplify the graph, keeps the largest strongly
connected component, applies the speed table, reads the restriction tags vehicle profiles need
(``hgv``, ``hazmat``, tunnels, weight, height and width limits; :mod:`routing.profiles`) and stores
compact arrays in an ``.npz`` file keyed by the source file's hash, the network type and the speed
table. The graph is profile-independent: it is built once, and each profile derives its times
from it in memory. A warm start loads that file in well under a second.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from data.errors import InvalidInputError, MissingDataFileError
from data.region import Region
from routing.hierarchy import Hierarchy, hierarchy_available
from routing.network import EdgeAccess, RoadNetwork, utm_epsg
from routing.profiles import ACCESS_KEYS, NO_RESTRICTION, WayAccess, combine_access, way_access
from routing.speeds import edge_speed_kph, merge_speeds, speed_table_digest

#: Bump when the cached layout or the build changes, so old caches are rebuilt.
CACHE_FORMAT = 5  # 5: restriction tags per edge (issue 15, the tanker profile)

Progress = Callable[[str], None]

_EXCLUDED_HIGHWAYS = {
    "abandoned",
    "bridleway",
    "bus_guideway",
    "construction",
    "corridor",
    "cycleway",
    "elevator",
    "escalator",
    "footway",
    "no",
    "path",
    "pedestrian",
    "planned",
    "platform",
    "proposed",
    "raceway",
    "razed",
    "rest_area",
    "services",
    "steps",
    "track",
}
_EXCLUDED_SERVICE = {"alley", "driveway", "emergency_access", "parking", "parking_aisle", "private"}

#: Network types: the same rules as osmnx's ``drive`` and ``drive_service`` filters.
NETWORK_TYPES = ("drive", "drive_service")

SUPPORTED_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".xml", ".xml.gz", ".osm.pbf", ".pbf")


def _no_progress(_: str) -> None:
    return None


def keeps_way(tags: Mapping[str, str], network_type: str) -> bool:
    """Return True when a way with these OSM tags belongs to the network type (osmnx's rules)."""
    highway = tags.get("highway")
    if not highway or highway in _EXCLUDED_HIGHWAYS:
        return False
    if tags.get("area") == "yes" or tags.get("access") == "private":
        return False
    if tags.get("motor_vehicle") == "no" or tags.get("motorcar") == "no":
        return False
    if network_type == "drive":
        return highway != "service" and tags.get("service") not in _EXCLUDED_SERVICE
    return tags.get("service") not in {"emergency_access", "parking", "parking_aisle", "private"}


def file_sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_road_file(path: Path) -> None:
    """Check a road network file exists and has a supported format.

    Raises
    ------
    MissingDataFileError
        If the file is not there.
    InvalidInputError
        If its name does not end in a supported suffix (OSM XML, ``.osm.gz``, ``.osm.pbf``).
    """
    if not any(path.name.lower().endswith(s) for s in SUPPORTED_SUFFIXES):
        raise InvalidInputError(
            f"road network file {str(path)!r}: unknown format; use OSM XML (.osm, .osm.gz, "
            ".osm.bz2) or OSM PBF (.osm.pbf)"
        )
    if not path.is_file():
        raise MissingDataFileError(
            f"road network file {str(path)!r} not found; set OXYROUTE_DATA_DIR (or --data-dir) to "
            "the folder that holds it, or fix the path in the region file"
        )


def _filter_to_xml(
    source: Path, network_type: str, target: Path
) -> tuple[int, int, dict[int, WayAccess]]:
    """Write the ways of ``network_type`` and their nodes from any OSM file to OSM XML for osmnx.

    Returns the node and way counts, and the access (restriction tags) of every written way that
    has one, by way id (pieces of cut ways included): osmnx keeps none of those tags.
    """
    import osmium

    way_node_ids: set[int] = set()
    ways = []
    for way in osmium.FileProcessor(str(source), osmium.osm.WAY):
        if not isinstance(way, osmium.osm.Way):  # the WAY filter yields nothing else
            continue
        tags = {tag.k: tag.v for tag in way.tags}
        if keeps_way(tags, network_type):
            refs = [node.ref for node in way.nodes]
            way_node_ids.update(refs)
            ways.append((way.id, refs, tags))
    if not ways:
        raise InvalidInputError(
            f"road network file {str(source)!r}: no way passes the {network_type!r} filter; is it "
            "a road network?"
        )
    writer = osmium.SimpleWriter(str(target), overwrite=True)
    try:
        located: set[int] = set()
        for node in osmium.FileProcessor(str(source), osmium.osm.NODE):
            if not isinstance(node, osmium.osm.Node):  # the NODE filter yields nothing else
                continue
            if node.id in way_node_ids and node.location.valid():
                writer.add_node(
                    osmium.osm.mutable.Node(id=node.id, location=node.location, tags={})
                )
                located.add(node.id)
        # Clipped extracts (osmium's "simple" strategy, bbox exports) keep every node reference of
        # a way but only the nodes inside the box, and osmnx refuses ways with missing nodes. Cut
        # such ways at the missing nodes and keep the pieces of two or more nodes; extra pieces
        # get ids above every way id of the file.
        next_id = max(way_id for way_id, _, _ in ways) + 1
        piece_count = 0
        accesses: dict[int, WayAccess] = {}
        for way_id, refs, tags in ways:
            access = way_access(tags)
            for k, piece in enumerate(_located_runs(refs, located)):
                piece_id = way_id
                if k > 0:
                    piece_id, next_id = next_id, next_id + 1
                writer.add_way(osmium.osm.mutable.Way(id=piece_id, nodes=piece, tags=tags))
                piece_count += 1
                if access != NO_RESTRICTION:
                    accesses[piece_id] = access
    finally:
        writer.close()
    if piece_count == 0:
        raise InvalidInputError(
            f"road network file {str(source)!r}: none of its {len(ways):,} {network_type!r} ways "
            "has two nodes with a position in the file; is the extract missing its nodes?"
        )
    return len(located), piece_count, accesses


def _located_runs(refs: list[int], located: set[int]) -> list[list[int]]:
    """Split a way's node references into the runs of two or more nodes that have a position."""
    runs: list[list[int]] = [[]]
    for ref in refs:
        if ref in located:
            runs[-1].append(ref)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) >= 2]


def _labels(value: object) -> str:
    items = value if isinstance(value, list) else [value]
    seen: list[str] = []
    for item in items:
        if isinstance(item, str) and item and item not in seen:
            seen.append(item)
    return "; ".join(seen)


def _edge_access(data: Mapping[str, Any], way_accesses: Mapping[int, WayAccess]) -> WayAccess:
    """Return the strictest access of an edge's ways, and of any restriction tag on the edge."""
    osmids = data.get("osmid")
    ids = osmids if isinstance(osmids, list) else [osmids]
    found = [way_accesses[i] for i in ids if isinstance(i, int) and i in way_accesses]
    if any(key in data for key in ACCESS_KEYS):  # tags osmnx kept (tunnel; others if configured)
        found.append(way_access(data))
    return combine_access(found)


def _access_arrays(edges: list[Any], way_accesses: Mapping[int, WayAccess]) -> EdgeAccess:
    rows = [_edge_access(data, way_accesses) for _u, _v, _key, data in edges]
    if not rows:
        return EdgeAccess.unrestricted(0)
    flags, weight, height, width = zip(*rows, strict=True)
    return EdgeAccess(
        np.array(flags, dtype=np.int64),
        np.array(weight, dtype=np.float64),
        np.array(height, dtype=np.float64),
        np.array(width, dtype=np.float64),
    )


def network_from_graph(
    G: Any,
    *,
    name: str,
    speeds_kph: Mapping[str, float],
    source: Mapping[str, Any],
    way_accesses: Mapping[int, WayAccess] | None = None,
) -> RoadNetwork:
    """Convert an osmnx MultiDiGraph (WGS84, simplified) into a :class:`RoadNetwork`.

    Keeps the largest strongly connected component; every edge gets its class speed and travel time,
    and its restriction tags (:class:`EdgeAccess`) from ``way_accesses`` (by OSM way id, as
    :func:`_filter_to_xml` reads them) and from the edge's own attributes.

    Raises
    ------
    InvalidInputError
        If that component has no edge (no road can be driven there and back).
    """
    import osmnx as ox

    if G.number_of_edges() > 0:
        G = ox.truncate.largest_component(G, strongly=True)
    if G.number_of_edges() == 0:
        raise InvalidInputError(
            f"road network of {name}: no road joins two junctions in both directions (the "
            "largest strongly connected part has no edge); the road data is too small, or only "
            "has one-way streets that never lead back"
        )
    node_ids = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
    position = {int(n): i for i, n in enumerate(node_ids)}
    node_lon = np.array([G.nodes[n]["x"] for n in node_ids], dtype=np.float64)
    node_lat = np.array([G.nodes[n]["y"] for n in node_ids], dtype=np.float64)

    edges = sorted(
        G.edges(keys=True, data=True), key=lambda e: (position[e[0]], position[e[1]], e[2])
    )
    count = len(edges)
    edge_from = np.empty(count, dtype=np.int64)
    edge_to = np.empty(count, dtype=np.int64)
    length_m = np.empty(count, dtype=np.float64)
    time_s = np.empty(count, dtype=np.float64)
    edge_class = np.empty(count, dtype=np.int64)
    edge_name = np.empty(count, dtype=np.int64)
    edge_ref = np.empty(count, dtype=np.int64)
    classes: dict[str, int] = {}
    labels: dict[str, int] = {"": 0}
    offsets = np.zeros(count + 1, dtype=np.int64)
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    osm_way: list[Any] = []
    for i, (u, v, _key, data) in enumerate(edges):
        edge_from[i], edge_to[i] = position[u], position[v]
        length_m[i] = float(data["length"])
        speed_kph, road_class = edge_speed_kph(
            data.get("highway"), data.get("maxspeed"), speeds_kph
        )
        time_s[i] = length_m[i] / (speed_kph / 3.6)
        edge_class[i] = classes.setdefault(road_class, len(classes))
        edge_name[i] = labels.setdefault(_labels(data.get("name")), len(labels))
        edge_ref[i] = labels.setdefault(_labels(data.get("ref")), len(labels))
        geometry = data.get("geometry")
        if geometry is not None:
            coords = np.asarray(geometry.coords, dtype=np.float64)
        else:
            coords = np.array(
                [
                    [node_lon[edge_from[i]], node_lat[edge_from[i]]],
                    [node_lon[edge_to[i]], node_lat[edge_to[i]]],
                ]
            )
        lons.append(coords[:, 0])
        lats.append(coords[:, 1])
        offsets[i + 1] = offsets[i] + len(coords)
        osm_way.append(data.get("osmid"))

    # The twin of u->v is a v->u edge over the same ways and length (two-way roads).
    twin = np.full(count, -1, dtype=np.int64)
    by_pair: dict[tuple[int, int], list[int]] = {}
    for i in range(count):
        by_pair.setdefault((int(edge_from[i]), int(edge_to[i])), []).append(i)
    for i in range(count):
        if twin[i] >= 0:
            continue
        for j in by_pair.get((int(edge_to[i]), int(edge_from[i])), []):
            if (
                twin[j] < 0
                and j != i
                and abs(length_m[j] - length_m[i]) < 0.5
                and osm_way[j] == osm_way[i]
            ):
                twin[i], twin[j] = j, i
                break

    center_lon, center_lat = float(np.median(node_lon)), float(np.median(node_lat))
    return RoadNetwork(
        name=name,
        node_osmid=node_ids,
        node_lon=node_lon,
        node_lat=node_lat,
        edge_from=edge_from,
        edge_to=edge_to,
        edge_length_m=length_m,
        edge_time_s=time_s,
        edge_class=edge_class,
        edge_name=edge_name,
        edge_ref=edge_ref,
        edge_twin=twin,
        geom_offsets=offsets,
        geom_lon=np.concatenate(lons),
        geom_lat=np.concatenate(lats),
        road_classes=tuple(classes),
        labels=tuple(labels),
        metric_epsg=utm_epsg(center_lon, center_lat),
        source=dict(source),
        edge_access=_access_arrays(edges, way_accesses or {}),
    )


_ACCESS_ARRAYS = ("flags", "maxweight_t", "maxheight_m", "maxwidth_m")

_HIERARCHY_ARRAYS = ("rank", "up_ptr", "up_head", "parent", "edge_arc", "edge_up")

_ARRAYS = (
    "node_osmid",
    "node_lon",
    "node_lat",
    "edge_from",
    "edge_to",
    "edge_length_m",
    "edge_time_s",
    "edge_class",
    "edge_name",
    "edge_ref",
    "edge_twin",
    "geom_offsets",
    "geom_lon",
    "geom_lat",
)


def save_network(network: RoadNetwork, path: Path) -> None:
    """Write a network to an ``.npz`` cache file atomically (a temporary file, then a rename)."""
    meta = {
        "name": network.name,
        "road_classes": list(network.road_classes),
        "labels": list(network.labels),
        "metric_epsg": network.metric_epsg,
        "source": dict(network.source),
    }
    arrays = {name: getattr(network, name) for name in _ARRAYS}
    access = network.edge_access or EdgeAccess.unrestricted(network.edge_count)
    arrays.update({f"access_{name}": getattr(access, name) for name in _ACCESS_ARRAYS})
    hierarchy = network._shared.get("hierarchy")
    if hierarchy is not None:
        arrays.update({f"cch_{name}": getattr(hierarchy, name) for name in _HIERARCHY_ARRAYS})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def load_network(path: Path) -> RoadNetwork:
    """Read a network from an ``.npz`` cache file written by :func:`save_network`."""
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(str(npz["meta"]))
        arrays = {name: npz[name] for name in _ARRAYS}
        access = EdgeAccess(*(npz[f"access_{name}"] for name in _ACCESS_ARRAYS))
        shared = {}
        if all(f"cch_{name}" in npz for name in _HIERARCHY_ARRAYS):
            shared["hierarchy"] = Hierarchy(
                **{name: npz[f"cch_{name}"] for name in _HIERARCHY_ARRAYS}
            )
    return RoadNetwork(
        name=meta["name"],
        road_classes=tuple(meta["road_classes"]),
        labels=tuple(meta["labels"]),
        metric_epsg=int(meta["metric_epsg"]),
        source=meta["source"],
        edge_access=access,
        _shared=shared,
        **arrays,
    )


def cache_key(source_sha256: str, network_type: str, speeds_kph: Mapping[str, float]) -> str:
    """Return the cache key of a build: source hash, network type, speed table, cache format."""
    payload = f"{source_sha256}|{network_type}|{speed_table_digest(speeds_kph)}|{CACHE_FORMAT}"
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def build_network(
    road_file: Path,
    *,
    name: str,
    network_type: str = "drive",
    speeds_kph: Mapping[str, float] | None = None,
    progress: Progress = _no_progress,
) -> RoadNetwork:
    """Build a network from an OSM file with osmnx (no cache involved).

    Raises
    ------
    MissingDataFileError
        If the file is missing.
    InvalidInputError
        If the format is unknown, the network type is unknown, no road is found, or no road can
        be driven there and back.
    """
    check_road_file(road_file)
    if network_type not in NETWORK_TYPES:
        raise InvalidInputError(
            f"network_type: {network_type!r} is not one of {', '.join(NETWORK_TYPES)}"
        )
    import osmnx as ox

    speeds = merge_speeds(speeds_kph)
    started = time.perf_counter()
    sha256 = file_sha256(road_file)
    with tempfile.TemporaryDirectory(prefix="oxyroute-") as tmp:
        filtered = Path(tmp) / "roads.osm"
        progress(f"[1/4] reading {road_file.name} ({network_type} roads) with pyosmium")
        try:
            nodes, ways, way_accesses = _filter_to_xml(road_file, network_type, filtered)
        except RuntimeError as exc:  # pyosmium reports unreadable files as RuntimeError
            raise InvalidInputError(
                f"road network file {str(road_file)!r}: cannot be read as OSM data ({exc})"
            ) from None
        progress(f"[2/4] {ways:,} ways, {nodes:,} nodes; osmnx builds and simplifies the graph")
        G = ox.graph_from_xml(filtered, simplify=True, retain_all=True)
    progress(
        f"[3/4] {len(G):,} nodes, {G.number_of_edges():,} edges; keeping the largest strongly "
        "connected component, applying speeds"
    )
    source = {
        "file": road_file.name,
        "sha256": sha256,
        "network_type": network_type,
        "speed_table": speed_table_digest(speeds),
        "speeds_kph": speeds,
        "built_with": f"osmnx {ox.__version__}",
    }
    network = network_from_graph(
        G, name=name, speeds_kph=speeds, source=source, way_accesses=way_accesses
    )
    progress(
        f"[4/4] done in {time.perf_counter() - started:.1f} s: {network.node_count:,} nodes, "
        f"{network.edge_count:,} directed edges"
    )
    return network


def load_or_build_network(
    road_file: Path,
    *,
    name: str,
    cache_dir: Path,
    network_type: str = "drive",
    speeds_kph: Mapping[str, float] | None = None,
    progress: Progress = _no_progress,
) -> RoadNetwork:
    """Return the network of ``road_file``, from the cache when a build with the same key exists.

    The key is the file's SHA-256, the network type and the speed table, so editing any of them
    rebuilds. A damaged cache file is rebuilt, never trusted.
    """
    check_road_file(road_file)
    speeds = merge_speeds(speeds_kph)
    key = cache_key(file_sha256(road_file), network_type, speeds)
    stem = road_file.name.split(".")[0]
    cached = cache_dir / "graphs" / f"{stem}-{key}.npz"
    if cached.is_file():
        try:
            network = load_network(cached)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            progress(f"cache {cached.name} unreadable ({exc}); rebuilding")
        else:
            if network.name != name:
                network = dataclasses.replace(network, name=name)
            return network
    progress(
        f"building the road network of {name} (first run; cached afterwards in {cached.parent})"
    )
    network = build_network(
        road_file, name=name, network_type=network_type, speeds_kph=speeds, progress=progress
    )
    _prepare_hierarchy(network, progress)
    save_network(network, cached)
    return network


def _prepare_hierarchy(network: RoadNetwork, progress: Progress) -> None:
    """Build the contraction hierarchy now, so that it is cached with the graph."""
    if hierarchy_available():
        started = time.perf_counter()
        network.contraction_hierarchy()
        progress(f"contraction hierarchy ready in {time.perf_counter() - started:.1f} s")


def download_network(
    query: str,
    *,
    name: str,
    network_type: str = "drive",
    speeds_kph: Mapping[str, float] | None = None,
    progress: Progress = _no_progress,
) -> RoadNetwork:
    """Download a network from OpenStreetMap's Overpass API with osmnx (needs the internet).

    The fallback for users who are online and have no OSM file: ``query`` is a place name osmnx can
    geocode, such as ``"District 5, Ho Chi Minh City, Vietnam"``.
    """
    import osmnx as ox

    speeds = merge_speeds(speeds_kph)
    progress(f"downloading the {network_type} network of {query!r} from Overpass")
    G = ox.graph_from_place(query, network_type=network_type, simplify=True)
    source = {
        "overpass_query": query,
        "network_type": network_type,
        "speed_table": speed_table_digest(speeds),
        "speeds_kph": speeds,
    }
    return network_from_graph(G, name=name, speeds_kph=speeds, source=source)


def network_for_region(
    region: Region,
    *,
    cache_dir: Path,
    online: bool = False,
    progress: Progress = _no_progress,
) -> RoadNetwork:
    """Return the road network of a region: cached, built from its OSM file, or downloaded.

    Downloading (osmnx's Overpass path) happens only when the region's road file is missing, it has
    an ``overpass_query`` and ``online`` is True; the download is cached like a file build.

    Raises
    ------
    MissingDataFileError
        If the road file is missing and downloading is not allowed or possible.
    """
    if region.road_file is not None:
        return load_or_build_network(
            region.road_file,
            name=region.name,
            cache_dir=cache_dir,
            network_type=region.network_type,
            speeds_kph=region.speeds_kph,
            progress=progress,
        )
    if region.overpass_query is None or not online:
        raise MissingDataFileError(
            f"region {region.region_id!r}: its road file is missing; set OXYROUTE_DATA_DIR (or "
            "--data-dir) to the folder holding it, or pass --online to download it from "
            "OpenStreetMap"
        )
    speeds = merge_speeds(region.speeds_kph)
    key = hashlib.sha256(
        f"{region.overpass_query}|{region.network_type}|{speed_table_digest(speeds)}|{CACHE_FORMAT}".encode()
    ).hexdigest()[:20]
    cached = cache_dir / "graphs" / f"overpass-{key}.npz"
    if cached.is_file():
        return load_network(cached)
    network = download_network(
        region.overpass_query,
        name=region.name,
        network_type=region.network_type,
        speeds_kph=speeds,
        progress=progress,
    )
    _prepare_hierarchy(network, progress)
    save_network(network, cached)
    return network
