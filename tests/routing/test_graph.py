"""Building, caching and reading road networks from OSM files."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import numpy as np
import pytest

from data.errors import InvalidInputError, MissingDataFileError
from routing.graph import build_network, load_network, load_or_build_network, save_network
from routing.network import RoadNetwork
from routing.speeds import SPEEDS_KPH, edge_speed_kph, merge_speeds, parse_maxspeed_kph


def test_d5_network_is_one_strongly_connected_component(d5_network: RoadNetwork) -> None:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = d5_network.node_count
    graph = csr_matrix(
        (np.ones(d5_network.edge_count), (d5_network.edge_from, d5_network.edge_to)), shape=(n, n)
    )
    count, _ = connected_components(graph, directed=True, connection="strong")
    assert count == 1
    assert 600 < n < 900  # District 5: about 730 junctions after osmnx simplification


def test_every_edge_has_its_class_speed(d5_network: RoadNetwork) -> None:
    speeds_kph = d5_network.edge_length_m / d5_network.edge_time_s * 3.6
    for i, road_class in enumerate(d5_network.road_classes):
        on_class = speeds_kph[d5_network.edge_class == i]
        assert np.all(on_class <= SPEEDS_KPH.get(road_class, 20.0) + 1e-9)


def test_geometry_runs_from_start_to_end_node(d5_network: RoadNetwork) -> None:
    first = d5_network.geom_offsets[:-1]
    last = d5_network.geom_offsets[1:] - 1
    np.testing.assert_allclose(
        d5_network.geom_lon[first], d5_network.node_lon[d5_network.edge_from]
    )
    np.testing.assert_allclose(d5_network.geom_lat[last], d5_network.node_lat[d5_network.edge_to])


def test_twins_are_the_same_road_in_reverse(d5_network: RoadNetwork) -> None:
    has = np.flatnonzero(d5_network.edge_twin >= 0)
    twin = d5_network.edge_twin[has]
    assert np.array_equal(d5_network.edge_twin[twin], has)
    assert np.array_equal(d5_network.edge_from[twin], d5_network.edge_to[has])
    np.testing.assert_allclose(
        d5_network.edge_length_m[twin], d5_network.edge_length_m[has], atol=0.5
    )


def test_cache_round_trip_is_exact_and_warm_load_is_fast(
    d5_network: RoadNetwork, tmp_path: Path
) -> None:
    path = tmp_path / "net.npz"
    save_network(d5_network, path)
    loaded = load_network(path)
    for name in ("edge_from", "edge_to", "edge_time_s", "edge_length_m", "geom_lon", "edge_twin"):
        assert np.array_equal(getattr(loaded, name), getattr(d5_network, name))
    assert loaded.labels == d5_network.labels  # Vietnamese names survive the cache
    assert "Nguyễn Trãi" in loaded.labels


def test_cache_is_keyed_by_file_and_speed_table(d5_region, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    messages: list[str] = []
    kwargs = {"name": "d5", "cache_dir": tmp_path, "network_type": "drive_service"}
    cold = load_or_build_network(d5_region.road_file, progress=messages.append, **kwargs)
    assert any("[4/4]" in m for m in messages)  # the first build shows its progress
    messages.clear()
    started = time.perf_counter()
    warm = load_or_build_network(d5_region.road_file, progress=messages.append, **kwargs)
    assert time.perf_counter() - started < 5  # generous: a warm load takes milliseconds here
    assert messages == []  # no rebuild
    assert np.array_equal(cold.edge_time_s, warm.edge_time_s)
    # The contraction hierarchy is cached with the graph, not rebuilt on a warm start.
    assert np.array_equal(
        warm._shared["hierarchy"].up_head, cold.contraction_hierarchy()[0].up_head
    )
    slower = load_or_build_network(
        d5_region.road_file, speeds_kph={"primary": 10.0}, progress=messages.append, **kwargs
    )
    assert messages  # a new speed table means a new build
    assert len(list((tmp_path / "graphs").glob("*.npz"))) == 2
    assert slower.edge_time_s.sum() > cold.edge_time_s.sum()


def test_damaged_cache_is_rebuilt(d5_region, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    kwargs = {"name": "d5", "cache_dir": tmp_path, "network_type": "drive_service"}
    load_or_build_network(d5_region.road_file, **kwargs)
    (cached,) = (tmp_path / "graphs").glob("*.npz")
    cached.write_bytes(b"not a numpy archive")
    rebuilt = load_or_build_network(d5_region.road_file, **kwargs)
    assert rebuilt.node_count > 600


def test_unknown_road_file_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "roads.shp"
    path.write_bytes(b"")
    with pytest.raises(InvalidInputError, match="unknown format"):
        build_network(path, name="x")


def test_missing_road_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(MissingDataFileError, match="OXYROUTE_DATA_DIR"):
        build_network(tmp_path / "absent.osm.gz", name="x")


def test_file_with_no_roads_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.osm.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(
            '<?xml version="1.0"?><osm version="0.6"><node id="1" lat="10.7" lon="106.6"/>'
            '<way id="2"><nd ref="1"/><tag k="building" v="yes"/></way></osm>'
        )
    with pytest.raises(InvalidInputError, match="no way passes"):
        build_network(path, name="x")


def _osm_xml(nodes: str, ways: str) -> str:
    return f'<?xml version="1.0"?><osm version="0.6">{nodes}{ways}</osm>'


_SQUARE_NODES = "".join(
    f'<node id="{i}" lat="{lat}" lon="{lon}"/>'
    for i, (lon, lat) in enumerate(
        [(106.700, 10.770), (106.701, 10.770), (106.702, 10.770), (106.702, 10.771)], start=1
    )
)


def test_clipped_extract_with_missing_nodes_builds_from_the_nodes_present(tmp_path: Path) -> None:
    # An osmium "simple" bbox extract keeps every node reference of a way that crosses the box but
    # only the nodes inside it; osmnx raised "Some edges missing nodes" (exit 1, traceback).
    path = tmp_path / "clipped.osm"
    path.write_text(
        _osm_xml(
            _SQUARE_NODES,
            '<way id="7"><nd ref="1"/><nd ref="2"/><nd ref="99"/><nd ref="3"/><nd ref="4"/>'
            '<tag k="highway" v="residential"/></way>',
        ),
        encoding="utf-8",
    )
    network = build_network(path, name="x")
    # Cut at the missing node 99: pieces 1-2 and 3-4, two-way; one piece is kept (the larger
    # strongly connected component), never a made-up segment from 2 to 3.
    assert network.edge_count == 2
    assert sorted(network.node_osmid.tolist()) in ([1, 2], [3, 4])


@pytest.mark.parametrize(
    ("ways", "match"),
    [
        # a single one-way street: its strongly connected components have no edge
        (
            '<way id="7"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/>'
            '<tag k="oneway" v="yes"/></way>',
            "no road joins two junctions in both directions",
        ),
        # a way whose only node with a position is one
        ('<way id="7"><nd ref="1"/><tag k="highway" v="primary"/></way>', "two nodes with a"),
        # a way whose nodes are all missing from the file
        (
            '<way id="7"><nd ref="98"/><nd ref="99"/><tag k="highway" v="primary"/></way>',
            "two nodes with a position",
        ),
    ],
)
def test_road_data_without_a_drivable_loop_is_refused(
    tmp_path: Path, ways: str, match: str
) -> None:
    # These raised ValueError from numpy or osmnx instead of an input error.
    path = tmp_path / "tiny.osm"
    path.write_text(_osm_xml(_SQUARE_NODES, ways), encoding="utf-8")
    with pytest.raises(InvalidInputError, match=match):
        build_network(path, name="x")


def test_corrupt_osm_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.osm"
    path.write_text("this is not xml", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="cannot be read as OSM data"):
        build_network(path, name="x")


def test_pbf_files_build_too(d5_network: RoadNetwork, tmp_path: Path, d5_region) -> None:  # type: ignore[no-untyped-def]
    import osmium

    pbf = tmp_path / "d5.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(d5_region.road_file)):
            writer.add(obj)
    from_pbf = build_network(pbf, name="d5", network_type="drive_service")
    assert from_pbf.node_count == d5_network.node_count
    assert from_pbf.edge_count == d5_network.edge_count


def test_unknown_network_type_is_refused(d5_region) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match="network_type"):
        build_network(d5_region.road_file, name="x", network_type="bike")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50", 50.0),
        ("40 km/h", 40.0),
        ("30 mph", 48.28032),
        (["60", "40"], 40.0),
        ("signals", None),
        (None, None),
    ],
)
def test_parse_maxspeed(value, expected) -> None:  # type: ignore[no-untyped-def]
    assert parse_maxspeed_kph(value) == (pytest.approx(expected) if expected else None)


def test_edge_speed_uses_fastest_class_and_lower_posted_limit() -> None:
    assert edge_speed_kph(["residential", "primary"], None, SPEEDS_KPH) == (
        SPEEDS_KPH["primary"],
        "primary",
    )
    assert edge_speed_kph("primary", "20", SPEEDS_KPH)[0] == 20.0
    assert edge_speed_kph("primary", "120", SPEEDS_KPH)[0] == SPEEDS_KPH["primary"]
    assert edge_speed_kph("spaceway", None, SPEEDS_KPH)[0] == 20.0


def test_unknown_road_class_in_speed_overrides_is_refused() -> None:
    # A typo in a region's [speeds_kph] was ignored silently: the planner's 30 km/h never applied.
    with pytest.raises(InvalidInputError, match=r"speeds_kph\['primray'\]: unknown road class"):
        merge_speeds({"primray": 30.0})
    assert merge_speeds({"primary": 30.0})["primary"] == 30.0
    # Another OSM road class is not a typo: its edges (if any) take the override.
    track = merge_speeds({"track": 8.0})
    assert track["track"] == 8.0
    assert edge_speed_kph("track", None, track)[0] == 8.0
