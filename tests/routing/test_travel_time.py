"""Travel-time matrices and road paths against networkx, on the District 5 network."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.errors import InvalidInputError, NoRouteError
from data.schema.network import Gateway, GatewayLink, Place
from routing.network import RoadNetwork, change_roads
from routing.travel_time import road_path, travel_time_matrix


def _nx_graph(network: RoadNetwork) -> nx.DiGraph:
    """Build an independent oracle: networkx over the open edges, keeping the fastest of parallel edges."""
    G = nx.DiGraph()
    for e in range(network.edge_count):
        t = float(network.edge_time_s[e])
        if not math.isfinite(t):
            continue
        u, v = int(network.edge_from[e]), int(network.edge_to[e])
        if not G.has_edge(u, v) or G[u][v]["time_s"] > t:
            G.add_edge(u, v, time_s=t)
    return G


def _node_places(network: RoadNetwork, nodes: np.ndarray) -> list[Place]:
    return [Place(f"n{i}", float(network.node_lon[i]), float(network.node_lat[i])) for i in nodes]


@pytest.fixture(scope="module")
def sampled(d5_network: RoadNetwork) -> tuple[np.ndarray, list[Place]]:
    rng = np.random.default_rng(20210820)
    nodes = rng.choice(d5_network.node_count, size=40, replace=False)
    return nodes, _node_places(d5_network, nodes)


@pytest.mark.parametrize("backend", ["cch", "numba", "scipy"])
def test_matrix_equals_networkx_on_sampled_pairs(
    d5_network: RoadNetwork, sampled: tuple[np.ndarray, list[Place]], backend: str
) -> None:
    nodes, places = sampled
    matrix = travel_time_matrix(d5_network, places, places, backend=backend)  # type: ignore[arg-type]
    G = _nx_graph(d5_network)
    for i, u in enumerate(nodes):
        expected = nx.single_source_dijkstra_path_length(G, int(u), weight="time_s")
        for j, v in enumerate(nodes):
            assert matrix.duration_s[i, j] == pytest.approx(expected[int(v)], abs=1.0)
    assert np.all(np.diag(matrix.duration_s) == 0)
    assert np.all(np.isfinite(matrix.duration_s))  # one strongly connected component


@pytest.mark.parametrize("backend", ["cch", "numba"])
def test_backends_agree_with_scipy_on_times_and_distances(
    d5_network: RoadNetwork, d5_region, backend: str
) -> None:  # type: ignore[no-untyped-def]
    facilities = d5_region.facilities.read()
    fast = travel_time_matrix(d5_network, facilities, facilities, backend=backend)  # type: ignore[arg-type]
    exact = travel_time_matrix(d5_network, facilities, facilities, backend="scipy")
    np.testing.assert_allclose(fast.duration_s, exact.duration_s, atol=1e-6)
    np.testing.assert_allclose(fast.distance_m, exact.distance_m, atol=1e-6)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    lons=st.lists(st.floats(106.6695, 106.6865), min_size=2, max_size=12),
    lats=st.lists(st.floats(10.7530, 10.7665), min_size=2, max_size=12),
    closed=st.booleans(),
)
def test_any_points_all_backends_agree(d5_network: RoadNetwork, lons, lats, closed) -> None:  # type: ignore[no-untyped-def]
    # Places anywhere in District 5 (mid-street, several on one street, one-way or not), with and
    # without a closure: the hierarchy, the compiled Dijkstra and scipy give the same answers.
    network = change_roads(d5_network, road_names=["Nguyễn Trãi"]) if closed else d5_network
    places = [
        Place(f"p{i}", lon, lat) for i, (lon, lat) in enumerate(zip(lons, lats, strict=False))
    ]
    results = [
        travel_time_matrix(network, places, places, backend=b)  # type: ignore[arg-type]
        for b in ("cch", "numba", "scipy")
    ]
    for other in results[1:]:
        np.testing.assert_allclose(results[0].duration_s, other.duration_s, atol=1e-6)
        np.testing.assert_allclose(results[0].distance_m, other.distance_m, atol=1e-6)
    duration = results[0].duration_s
    reachable = np.array([results[0].snaps[p.place_id].reachable for p in places])
    assert np.all(np.diag(duration)[reachable] == 0)
    assert np.all(np.isinf(duration[~reachable])) and np.all(np.isinf(duration[:, ~reachable]))
    # The triangle inequality holds for shortest paths.
    via = (duration[:, :, None] + duration[None, :, :]).min(axis=1)
    assert np.all(duration <= via + 1e-6)


def test_distance_is_that_of_the_fastest_path(d5_network: RoadNetwork, sampled) -> None:  # type: ignore[no-untyped-def]
    _, places = sampled
    matrix = travel_time_matrix(d5_network, places[:5], places[5:10])
    for i in range(5):
        for j in range(5):
            path = road_path(d5_network, places[i], places[5 + j])
            assert path.duration_s == pytest.approx(matrix.duration_s[i, j], abs=1e-6)
            assert path.distance_m == pytest.approx(matrix.distance_m[i, j], abs=1e-6)


def test_mid_street_place_is_reached_mid_street(d5_network: RoadNetwork) -> None:
    # A point halfway along a long edge must cost about half the edge from its start node,
    # not the whole edge (which snapping to the nearest junction would give).
    e = int(np.argmax(np.where(d5_network.edge_twin < 0, d5_network.edge_length_m, 0)))
    start, end = d5_network.geom_offsets[e], d5_network.geom_offsets[e + 1]
    mid = (start + end - 1) // 2
    lon, lat = float(d5_network.geom_lon[mid]), float(d5_network.geom_lat[mid])
    u = int(d5_network.edge_from[e])
    origin = Place("u", float(d5_network.node_lon[u]), float(d5_network.node_lat[u]))
    matrix = travel_time_matrix(d5_network, [origin], [Place("mid", lon, lat)])
    assert 0 < matrix.duration_s[0, 0] < d5_network.edge_time_s[e]


def test_two_places_on_one_one_way_street(d5_network: RoadNetwork) -> None:
    # Downstream on a one-way street is a short hop; upstream means driving round the block.
    one_way = np.flatnonzero((d5_network.edge_twin < 0) & (d5_network.edge_length_m > 150))
    e = int(one_way[0])
    start = int(d5_network.geom_offsets[e])
    end = int(d5_network.geom_offsets[e + 1]) - 1
    a = Place("a", *_along(d5_network, start, end, 0.25))
    b = Place("b", *_along(d5_network, start, end, 0.75))
    matrix = travel_time_matrix(d5_network, [a, b], [a, b])
    forward, backward = matrix.duration_s[0, 1], matrix.duration_s[1, 0]
    assert forward == pytest.approx(0.5 * d5_network.edge_time_s[e], rel=0.05)
    assert backward > forward


def _along(network: RoadNetwork, start: int, end: int, share: float) -> tuple[float, float]:
    lon = network.geom_lon[start : end + 1]
    lat = network.geom_lat[start : end + 1]
    step = np.hypot(np.diff(lon), np.diff(lat))
    cum = np.r_[0.0, np.cumsum(step)]
    at = share * cum[-1]
    return float(np.interp(at, cum, lon)), float(np.interp(at, cum, lat))


def test_far_place_is_unreachable_with_reason(d5_network: RoadNetwork, sampled) -> None:  # type: ignore[no-untyped-def]
    _, places = sampled
    far = Place("far", 106.80, 10.90)  # Thu Duc, about 20 km from District 5
    matrix = travel_time_matrix(d5_network, [places[0], far], [places[1]])
    assert math.isinf(matrix.duration_s[1, 0]) and math.isinf(matrix.distance_m[1, 0])
    assert math.isfinite(matrix.duration_s[0, 0])
    snap = matrix.snaps["far"]
    assert not snap.reachable and snap.snap_distance_m > 2000
    assert "snapping limit" in snap.reason
    assert matrix.to_long_records()[1]["duration_s"] is None  # JSON null, not a crash


def test_snap_limit_is_a_setting(d5_network: RoadNetwork, sampled) -> None:  # type: ignore[no-untyped-def]
    _, places = sampled
    near = Place("near", places[0].lon + 0.001, places[0].lat)  # about 110 m east of a junction
    loose = travel_time_matrix(d5_network, [near], [places[1]])
    strict = travel_time_matrix(d5_network, [near], [places[1]], max_snap_m=1.0)
    assert loose.snaps["near"].reachable
    assert not strict.snaps["near"].reachable
    assert math.isinf(strict.duration_s[0, 0])


def test_gateway_adds_its_extra_time_and_the_fastest_gateway_wins(
    d5_network: RoadNetwork, sampled
) -> None:  # type: ignore[no-untyped-def]
    _, places = sampled
    g1, g2 = places[0], places[1]
    gateways = [
        Gateway("g1", "one", g1.lon, g1.lat, {"plant": GatewayLink(600.0, 5000.0)}),
        Gateway("g2", "two", g2.lon, g2.lat, {"plant": GatewayLink(900.0, 8000.0)}),
    ]
    plant = Place("plant", 107.03, 10.59)  # Phu My, far outside the map
    hospital = places[2]
    via = travel_time_matrix(d5_network, [plant], [hospital], gateways=gateways)
    direct = travel_time_matrix(d5_network, [g1, g2], [hospital])
    expected = min(direct.duration_s[0, 0] + 600.0, direct.duration_s[1, 0] + 900.0)
    assert via.duration_s[0, 0] == pytest.approx(expected)
    best = int(np.argmin([direct.duration_s[0, 0] + 600.0, direct.duration_s[1, 0] + 900.0]))
    assert via.distance_m[0, 0] == pytest.approx(
        direct.distance_m[best, 0] + (5000.0, 8000.0)[best]
    )
    assert via.snaps["plant"].gateway_id == ("g1", "g2")[best]
    back = travel_time_matrix(d5_network, [hospital], [plant], gateways=gateways)
    assert math.isfinite(back.duration_s[0, 0])


def test_road_path_geojson_follows_rfc7946(d5_network: RoadNetwork, sampled) -> None:  # type: ignore[no-untyped-def]
    _, places = sampled
    path = road_path(d5_network, places[3], places[4])
    feature = path.to_geojson()
    coordinates = feature["geometry"]["coordinates"]
    assert feature["geometry"]["type"] == "LineString" and len(coordinates) >= 2
    lon0, lat0 = coordinates[0]
    assert 106 < lon0 < 107 and 10 < lat0 < 11  # [lon, lat] order
    assert coordinates[0] == pytest.approx([places[3].lon, places[3].lat], abs=1e-5)
    assert coordinates[-1] == pytest.approx([places[4].lon, places[4].lat], abs=1e-5)
    assert "crs" not in feature
    assert feature["properties"]["duration_s"] > 0
    assert feature["properties"]["attribution"] == "© OpenStreetMap contributors"


def test_closure_changes_only_paths_through_it_and_never_shortens(
    d5_network: RoadNetwork, sampled
) -> None:  # type: ignore[no-untyped-def]
    _nodes, places = sampled
    before = travel_time_matrix(d5_network, places, places)
    closed = change_roads(d5_network, road_names=["Nguyễn Trãi"])
    after = travel_time_matrix(closed, places, places)
    assert closed.changes and not d5_network.changes  # the original is untouched
    assert np.isfinite(d5_network.edge_time_s).all()
    finite = np.isfinite(after.duration_s)
    assert np.all(after.duration_s[finite] >= before.duration_s[finite] - 1e-9)
    # Pairs whose fastest path avoided the closed road keep their time exactly.
    closed_edges = set(np.flatnonzero(~np.isfinite(closed.edge_time_s)).tolist())
    unchanged = changed = 0
    for i in range(0, len(places), 4):
        for j in range(1, len(places), 5):
            if i == j:
                continue
            path = road_path(d5_network, places[i], places[j])
            uses_closed = any(name == "Nguyễn Trãi" for name in path.road_names)
            if uses_closed:
                changed += after.duration_s[i, j] > before.duration_s[i, j]
            else:
                assert after.duration_s[i, j] == pytest.approx(before.duration_s[i, j])
                unchanged += 1
    assert unchanged > 0 and changed > 0 and closed_edges


def test_slow_down_multiplies_times_on_the_chosen_roads(d5_network: RoadNetwork) -> None:
    slowed = change_roads(d5_network, road_names=["nguyễn trãi"], factor=3.0)
    hit = slowed.edge_time_s != d5_network.edge_time_s
    assert hit.any()
    np.testing.assert_allclose(slowed.edge_time_s[hit], 3.0 * d5_network.edge_time_s[hit])


def test_polygon_closure_can_cut_a_place_off(d5_network: RoadNetwork, sampled) -> None:  # type: ignore[no-untyped-def]
    _, places = sampled
    target = places[5]
    box = {
        "type": "Polygon",
        "coordinates": [
            [
                [target.lon - 0.004, target.lat - 0.004],
                [target.lon + 0.004, target.lat - 0.004],
                [target.lon + 0.004, target.lat + 0.004],
                [target.lon - 0.004, target.lat + 0.004],
                [target.lon - 0.004, target.lat - 0.004],
            ]
        ],
    }
    flooded = change_roads(d5_network, polygon=box)
    matrix = travel_time_matrix(flooded, [places[0]], [target])
    assert math.isinf(matrix.duration_s[0, 0])
    assert not matrix.snaps[target.place_id].reachable
    assert "closed" in matrix.snaps[target.place_id].reason
    with pytest.raises(NoRouteError, match="closed"):
        road_path(flooded, places[0], target)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"road_names": ["Đường Không Có"]}, "no road is named"),  # unknown road
        ({"road_names": ["Nguyễn Trãi"], "factor": -2.0}, "factor: must be a positive"),
        ({"road_names": ["Nguyễn Trãi"], "factor": float("nan")}, "factor"),
        (
            {
                "polygon": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
                }
            },
            "not a valid polygon",
        ),  # a bow-tie crosses itself
        ({"polygon": {"type": "Point", "coordinates": [106.67, 10.75]}}, "Polygon or MultiPolygon"),
        ({}, "give a polygon, road_names"),
    ],
)
def test_bad_road_changes_are_refused(d5_network: RoadNetwork, kwargs, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match=message):
        change_roads(d5_network, **kwargs)


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [
        (float("nan"), 10.75, "must be finite"),  # NaN
        (106.67, 95.0, "outside"),  # latitude out of range
        (200.0, 10.75, "outside"),  # longitude out of range
        ("106.6", 10.75, "must be a number"),  # a string slipped through
    ],
)
def test_bad_coordinates_are_refused(lon, lat, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match=message):
        Place("x", lon, lat)


def test_empty_and_duplicate_point_lists_are_refused(d5_network: RoadNetwork, sampled) -> None:  # type: ignore[no-untyped-def]
    _, places = sampled
    with pytest.raises(InvalidInputError, match="origins: the list of points is empty"):
        travel_time_matrix(d5_network, [], places)
    with pytest.raises(InvalidInputError, match="destinations: duplicate ids"):
        travel_time_matrix(d5_network, places, [places[0], places[0]])
    with pytest.raises(InvalidInputError, match="backend"):
        travel_time_matrix(d5_network, places, places, backend="dijkstra")  # type: ignore[arg-type]
