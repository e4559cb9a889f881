"""Tests of the loaded-tanker profile (routing/profiles.py): speeds, barred roads, caches."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from data.errors import InvalidInputError
from data.schema.network import Place
from routing.graph import load_network, network_from_graph, save_network
from routing.network import EdgeAccess, RoadNetwork, change_roads
from routing.profiles import (
    TANKER,
    VehicleProfile,
    barred_edge_count,
    network_for_profile,
    profile_edge_times,
    way_access,
)
from routing.speeds import SPEEDS_KPH, TANKER_SPEEDS_KPH
from routing.travel_time import road_path, travel_time_matrix

FIXTURES = Path(__file__).parent / "fixtures"

A = (106.700, 10.770)
B = (106.709, 10.770)
C = (106.7045, 10.780)


def _detour_graph(*, alley_tags: dict[str, Any] | None = None) -> Any:
    """Three junctions: a 1,000 m alley A-B and a 3,000 m primary detour A-C-B, all two-way.

    By hand: the general truck takes the alley at 18 km/h (200 s) rather than the detour at
    35 km/h (3,000 m / 9.722 m/s = 308.6 s). A loaded tanker may not use the alley when it is
    barred, and drives the detour at 30 km/h: 3,000 m / 8.333 m/s = 360 s.
    """
    import networkx as nx

    G = nx.MultiDiGraph(crs="EPSG:4326")
    for node, (lon, lat) in zip((1, 2, 3), (A, B, C), strict=True):
        G.add_node(node, x=lon, y=lat)
    roads = [
        (1, 2, 101, 1000.0, "residential", "Hẻm cấm xe tải", alley_tags or {}),
        (1, 3, 102, 1500.0, "primary", "Đường vòng", {}),
        (3, 2, 103, 1500.0, "primary", "Đường vòng", {}),
    ]
    for u, v, osmid, length, highway, name, tags in roads:
        for a, b in ((u, v), (v, u)):
            G.add_edge(a, b, osmid=osmid, length=length, highway=highway, name=name, **tags)
    return G


def _detour_network(**kwargs: Any) -> RoadNetwork:
    way_accesses = kwargs.pop("way_accesses", None)
    return network_from_graph(
        _detour_graph(**kwargs),
        name="Đường vòng (test)",
        speeds_kph=SPEEDS_KPH,
        source={},
        way_accesses=way_accesses,
    )


def _places() -> list[Place]:
    return [Place("A", *A, "Kho A"), Place("B", *B, "Bệnh viện B")]


@pytest.mark.parametrize("backend", ["cch", "numba", "scipy"])
def test_tanker_takes_the_longer_legal_road(backend: str) -> None:
    # The alley's hgv=no comes from the OSM file (way id 101), as the graph build reads it.
    network = _detour_network(way_accesses={101: way_access({"hgv": "no"})})
    places = _places()
    general = travel_time_matrix(network, places, places, backend=backend)  # type: ignore[arg-type]
    tanker = travel_time_matrix(network, places, places, backend=backend, profile="tanker")  # type: ignore[arg-type]
    assert general.duration_s[0, 1] == pytest.approx(200.0)
    assert general.distance_m[0, 1] == pytest.approx(1000.0)
    assert tanker.duration_s[0, 1] == pytest.approx(360.0)
    assert tanker.distance_m[0, 1] == pytest.approx(3000.0)
    assert tanker.duration_s[1, 0] == pytest.approx(360.0)
    assert tanker.snaps["A"].reachable and tanker.snaps["B"].reachable


def test_road_path_of_the_tanker_names_the_detour() -> None:
    network = _detour_network(alley_tags={"hgv": "no"})  # a tag kept on the edge itself
    general = road_path(network, *_places())
    tanker = road_path(network, *_places(), profile="tanker")
    assert general.road_names == ("Hẻm cấm xe tải",)
    assert tanker.road_names == ("Đường vòng",)
    assert tanker.duration_s == pytest.approx(360.0)


@pytest.mark.parametrize(
    ("tags", "bar"),
    [
        ({"maxweight": "10"}, "weight"),  # 10 t bridge, the tanker weighs 40 t
        ({"maxheight": "3.5 m"}, "height"),  # the tanker is 4.0 m high
        ({"tunnel": "yes"}, "tunnel"),  # dangerous goods avoid tunnels (ADR C/E)
        ({"hazmat": "no"}, "hazmat"),
    ],
)
def test_each_restriction_bars_the_alley(tags: dict[str, str], bar: str) -> None:
    network = _detour_network(alley_tags=tags)
    counts = barred_edge_count(network, "tanker")
    assert counts["total"] == 2 and counts[bar] == 2  # both directions of the alley
    matrix = travel_time_matrix(network, _places(), _places(), profile="tanker")
    assert matrix.duration_s[0, 1] == pytest.approx(360.0)


def test_an_unrestricted_alley_is_driven_at_the_tanker_speed() -> None:
    network = _detour_network(alley_tags={"hgv": "destination", "maxweight": "45"})
    matrix = travel_time_matrix(network, _places(), _places(), profile="tanker")
    # 1,000 m at the tanker's 12 km/h (residential) is 300 s, still faster than the detour.
    assert TANKER_SPEEDS_KPH["residential"] == 12.0
    assert matrix.duration_s[0, 1] == pytest.approx(300.0)
    assert matrix.distance_m[0, 1] == pytest.approx(1000.0)


def test_place_on_a_barred_road_is_unreachable_with_the_reason() -> None:
    network = _detour_network(alley_tags={"hgv": "no"})
    middle = Place("H", (A[0] + B[0]) / 2, A[1] + 0.0001, "Trạm y tế trong hẻm")
    places = [*_places(), middle]
    general = travel_time_matrix(network, places, places)
    tanker = travel_time_matrix(network, places, places, profile="tanker")
    assert general.snaps["H"].reachable and np.isfinite(general.duration_s[0, 2])
    assert not tanker.snaps["H"].reachable
    assert "tanker profile" in tanker.snaps["H"].reason
    assert "hgv=no" in tanker.snaps["H"].reason
    assert math.isinf(tanker.duration_s[0, 2])


def test_tanker_is_never_faster_than_the_general_truck(d5_network: RoadNetwork) -> None:
    tanker = network_for_profile(d5_network, "tanker")
    open_edges = np.isfinite(tanker.edge_time_s)
    assert np.all(tanker.edge_time_s[open_edges] >= d5_network.edge_time_s[open_edges])
    speeds_kph = tanker.edge_length_m[open_edges] / tanker.edge_time_s[open_edges] * 3.6
    assert speeds_kph.max() <= 45.0 + 1e-9  # the loaded-tanker ceiling


def test_d5_roads_a_tanker_may_not_use(d5_network: RoadNetwork) -> None:
    # District 5's OSM export tags hgv=no on four alleys and Hoà Hảo, maxweight=2.5 on Phan Văn
    # Trị, 25 t on Hẻm 60 Nguyễn Trãi and maxwidth=2 on a piece of Hẻm 286 Trần Hưng Đạo.
    counts = barred_edge_count(d5_network, "tanker")
    assert counts == {
        "total": 44,
        "hgv": 12,
        "hazmat": 0,
        "tunnel": 0,
        "weight": 32,
        "height": 0,
        "width": 2,
    }
    tanker = network_for_profile(d5_network, "tanker")
    barred = {d5_network.edge_label(int(e)) for e in np.flatnonzero(tanker.edge_bars)}
    assert "Đường Phan Văn Trị" in barred and "Hoà Hảo" in barred
    assert np.all(np.isinf(tanker.edge_time_s[tanker.edge_bars != 0]))


def test_profile_is_part_of_every_cache_key(d5_network: RoadNetwork) -> None:
    tanker = network_for_profile(d5_network, "tanker")
    assert network_for_profile(d5_network, "tanker") is tanker  # derived once, then kept
    assert network_for_profile(tanker, "tanker") is tanker
    # The graph (and its hierarchy) is built once and shared by every profile.
    assert tanker._shared is d5_network._shared
    assert tanker.contraction_hierarchy()[0] is d5_network.contraction_hierarchy()[0]
    metrics = d5_network._shared["metrics"]
    assert d5_network.profile.encode() + b"|" + d5_network.time_digest() in metrics
    assert b"tanker|" + tanker.time_digest() in metrics
    assert tanker.time_digest() != d5_network.time_digest()

    places = _d5_places(d5_network)
    general_matrix = travel_time_matrix(d5_network, places, places, cache=True)
    tanker_matrix = travel_time_matrix(d5_network, places, places, cache=True, profile="tanker")
    assert travel_time_matrix(d5_network, places, places, cache=True) is general_matrix
    again = travel_time_matrix(d5_network, places, places, cache=True, profile="tanker")
    assert again is tanker_matrix
    assert not np.array_equal(general_matrix.duration_s, tanker_matrix.duration_s)
    assert not tanker_matrix.duration_s.flags.writeable
    # A what-if is a new set of general times: its tanker times are derived anew.
    closed = change_roads(d5_network, road_names=["Trần Hưng Đạo"])
    assert network_for_profile(closed, "tanker") is not tanker
    assert travel_time_matrix(closed, places, places, cache=True) is not general_matrix


def _d5_places(network: RoadNetwork) -> list[Place]:
    """Five junctions spread over District 5 (by position in the network)."""
    idx = np.linspace(0, network.node_count - 1, 5).astype(int)
    return [
        Place(f"J{k}", float(network.node_lon[i]), float(network.node_lat[i]))
        for k, i in enumerate(idx)
    ]


@pytest.mark.parametrize("backend", ["cch", "numba", "scipy"])
def test_general_profile_matrices_are_unchanged(d5_region, d5_network, backend) -> None:  # type: ignore[no-untyped-def]
    # Computed with the code before the tanker profile (commit dd00466) on the District 5
    # hospitals; the general profile must give the same values to the microsecond.
    before = json.loads((FIXTURES / "tanker_general_d5_before.json").read_text())[backend]
    places = d5_region.facilities.read()
    assert [p.place_id for p in places] == before["ids"]
    for kwargs in ({}, {"profile": "general"}):
        matrix = travel_time_matrix(d5_network, places, places, backend=backend, **kwargs)
        np.testing.assert_allclose(matrix.duration_s, before["duration_s"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(matrix.distance_m, before["distance_m"], rtol=0, atol=1e-6)
    assert network_for_profile(d5_network, "general") is d5_network


def test_the_graph_cache_keeps_the_restriction_tags(
    d5_network: RoadNetwork, tmp_path: Path
) -> None:
    path = tmp_path / "net.npz"
    save_network(d5_network, path)
    warm = load_network(path)
    assert warm.edge_access is not None and d5_network.edge_access is not None
    for name in ("flags", "maxweight_t", "maxheight_m", "maxwidth_m"):
        np.testing.assert_array_equal(
            getattr(warm.edge_access, name), getattr(d5_network.edge_access, name)
        )
    np.testing.assert_array_equal(
        profile_edge_times(warm, TANKER), profile_edge_times(d5_network, TANKER)
    )


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"hgv": "no"}, (EdgeAccess.HGV_NO, None, None, None)),
        ({"hgv": "destination"}, (0, None, None, None)),  # may deliver there
        ({"hgv:conditional": "no @ (06:00-22:00)"}, (EdgeAccess.HGV_NO, None, None, None)),
        ({"hazmat:adr_tunnel_cat": "D"}, (EdgeAccess.HAZMAT_NO, None, None, None)),
        ({"hazmat:E": "no"}, (EdgeAccess.HAZMAT_NO, None, None, None)),
        ({"tunnel": "building_passage"}, (0, None, None, None)),  # not a tunnel
        ({"tunnel": ["yes", "building_passage"]}, (EdgeAccess.TUNNEL, None, None, None)),
        ({"maxweight": "8000 kg"}, (0, 8.0, None, None)),
        ({"maxweight": "25", "maxweightrating:hgv": "3.5"}, (0, 3.5, None, None)),
        ({"maxweight:conditional": "2.5 @ (06:00-22:00)"}, (0, 2.5, None, None)),
        ({"maxheight": "14'6\""}, (0, None, 14 * 0.3048 + 6 * 0.0254, None)),
        ({"maxheight": "default", "maxwidth": "2"}, (0, None, None, 2.0)),  # default: no limit
    ],
)
def test_restriction_tags_are_read(tags: dict[str, Any], expected: tuple[Any, ...]) -> None:
    flags, weight, height, width = way_access(tags)
    assert flags == expected[0]
    for value, wanted in zip((weight, height, width), expected[1:], strict=True):
        if wanted is None:
            assert math.isnan(value)
        else:
            assert value == pytest.approx(wanted)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"profile": "bicycle"}, "profile: 'bicycle' is not a vehicle profile; use one of general"),
        ({"profile": ""}, "profile: '' is not a vehicle profile"),
    ],
)
def test_unknown_profile_is_refused(kwargs: dict[str, Any], message: str) -> None:
    network = _detour_network()
    with pytest.raises(InvalidInputError, match=message):
        travel_time_matrix(network, _places(), _places(), **kwargs)


def test_a_tanker_network_is_not_turned_into_another_profile() -> None:
    tanker = network_for_profile(_detour_network(), "tanker")
    with pytest.raises(InvalidInputError, match="network is of profile 'tanker'"):
        travel_time_matrix(tanker, _places(), _places(), profile="general")


def test_bad_profile_lists_every_problem() -> None:
    with pytest.raises(InvalidInputError) as caught:
        VehicleProfile(
            name="general",  # reserved
            speeds_kph={"primray": 30.0, "primary": -1.0},  # a typo and a negative speed
            fallback_speed_kph=0.0,
            mass_t=math.inf,
        )
    text = str(caught.value)
    for part in ("name:", "'primray'", "speeds_kph['primary']", "fallback_speed_kph", "mass_t"):
        assert part in text
