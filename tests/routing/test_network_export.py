"""Tests of routing/network_export.py: roads as simplified GeoJSON, GeoDataFrame, GeoPackage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from data.errors import InvalidInputError
from routing.network import RoadNetwork
from routing.network_export import (
    drawn_edges,
    roads_to_geodataframe,
    roads_to_geojson,
    write_roads_geopackage,
)


def _tiny_network() -> RoadNetwork:
    """Three junctions: a two-way primary road A-B (2 edges, twins) and a one-way residential B-C.

    A = (106.1000004, 10.2000004), B = (106.1010000, 10.2000000), C = (106.1010000, 10.2010000).
    The primary road has a middle vertex 0.3 m off the straight line (removed by a 5 m
    simplification); coordinates have 7 decimals so that rounding to 6 shows.
    """
    a, mid, b, c = (
        (106.1000004, 10.2000004),
        (106.1005000, 10.2000027),
        (106.101, 10.2),
        (106.101, 10.201),
    )
    geometry = [[a, mid, b], [b, mid, a], [b, c]]
    offsets = np.cumsum([0] + [len(g) for g in geometry])
    flat = np.array([p for g in geometry for p in g])
    return RoadNetwork(
        name="Đường thử (test)",
        node_osmid=np.array([1, 2, 3]),
        node_lon=np.array([a[0], b[0], c[0]]),
        node_lat=np.array([a[1], b[1], c[1]]),
        edge_from=np.array([0, 1, 1]),
        edge_to=np.array([1, 0, 2]),
        edge_length_m=np.array([109.4, 109.4, 110.6]),
        edge_time_s=np.array([11.0, 11.0, np.inf]),
        edge_class=np.array([1, 1, 0]),
        edge_name=np.array([1, 1, 2]),
        edge_ref=np.array([0, 0, 0]),
        edge_twin=np.array([1, 0, -1]),
        geom_offsets=offsets,
        geom_lon=flat[:, 0],
        geom_lat=flat[:, 1],
        road_classes=("residential", "primary"),
        labels=("", "Nguyễn Trãi", "Hẻm 5"),
        metric_epsg=32648,
    )


def test_tiny_network_exact_geojson() -> None:
    collection = roads_to_geojson(_tiny_network())
    assert collection == {
        "type": "FeatureCollection",
        "features": [
            {  # primary first (faster class), the two-way road drawn once, middle vertex dropped
                "type": "Feature",
                "geometry": {
                    "type": "MultiLineString",
                    "coordinates": [[[106.1, 10.2], [106.101, 10.2]]],
                },
                "properties": {"road_class": "primary", "roads": 1, "length_m": 109},
            },
            {
                "type": "Feature",
                "geometry": {
                    "type": "MultiLineString",
                    "coordinates": [[[106.101, 10.2], [106.101, 10.201]]],
                },
                "properties": {"road_class": "residential", "roads": 1, "length_m": 111},
            },
        ],
    }


def test_tolerance_zero_keeps_every_vertex() -> None:
    primary = roads_to_geojson(_tiny_network(), tolerance_m=0)["features"][0]
    assert primary["geometry"]["coordinates"] == [
        [[106.1, 10.2], [106.1005, 10.200003], [106.101, 10.2]]
    ]


def test_drawn_edges_keep_one_edge_per_road() -> None:
    assert drawn_edges(_tiny_network()).tolist() == [0, 2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tolerance_m": -1.0}, "tolerance_m: must be a finite number >= 0, got -1.0"),  # negative
        ({"tolerance_m": float("nan")}, "tolerance_m: must be a finite number"),  # not a number
        ({"decimals": 16}, "decimals: must be a whole number from 0 to 15, got 16"),  # too many
        ({"decimals": True}, "decimals: must be a whole number"),  # a bool is not a count
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        roads_to_geojson(_tiny_network(), **kwargs)  # type: ignore[arg-type]


def _positions(collection: dict) -> list[list[float]]:  # type: ignore[type-arg]
    return [
        p for f in collection["features"] for line in f["geometry"]["coordinates"] for p in line
    ]


def test_d5_roads_rfc7946(d5_network: RoadNetwork) -> None:
    collection = roads_to_geojson(d5_network)
    assert set(collection) == {"type", "features"}  # no "crs" member (RFC 7946)
    positions = _positions(collection)
    lon = np.array([p[0] for p in positions])
    lat = np.array([p[1] for p in positions])
    # [lon, lat] order: District 5 lies near 106.68 E, 10.76 N.
    assert lon.min() > 106.6 and lon.max() < 106.7
    assert lat.min() > 10.7 and lat.max() < 10.8
    assert all(len(p) == 2 for p in positions)
    assert all(round(v, 6) == v for p in positions for v in p)  # 6 decimals at most


def test_d5_counts_and_lengths(d5_network: RoadNetwork) -> None:
    collection = roads_to_geojson(d5_network)
    twin = np.asarray(d5_network.edge_twin)
    roads = int((twin < 0).sum()) + int((twin >= 0).sum()) // 2
    assert sum(f["properties"]["roads"] for f in collection["features"]) == roads == 912
    edges = drawn_edges(d5_network)
    total_m = float(np.asarray(d5_network.edge_length_m)[edges].sum())
    assert sum(f["properties"]["length_m"] for f in collection["features"]) == pytest.approx(
        total_m, abs=len(collection["features"])
    )
    classes = [f["properties"]["road_class"] for f in collection["features"]]
    assert classes[0] == "primary" and classes[-1] == "service"


def test_d5_simplification_keeps_junctions(d5_network: RoadNetwork) -> None:
    full = roads_to_geojson(d5_network, tolerance_m=0)
    simple = roads_to_geojson(d5_network)
    assert len(_positions(simple)) < 0.8 * len(_positions(full))

    def ends(collection: dict) -> set[tuple[float, float]]:  # type: ignore[type-arg]
        return {
            tuple(line[i])
            for f in collection["features"]
            for line in f["geometry"]["coordinates"]
            for i in (0, -1)
        }

    assert ends(simple) == ends(full)


def test_geodataframe_keeps_vietnamese_names(d5_network: RoadNetwork) -> None:
    frame = roads_to_geodataframe(d5_network)
    assert len(frame) == 912
    assert frame.crs.to_epsg() == 4326
    assert "Nguyễn Trãi" in set(frame["name"])
    assert frame.geometry.is_valid.all()


def test_geopackage_round_trip(tmp_path: Path) -> None:
    import pyogrio

    path = tmp_path / "roads.gpkg"
    write_roads_geopackage(_tiny_network(), path)
    frame = pyogrio.read_dataframe(path, layer="roads")
    assert frame.crs.to_epsg() == 4326
    assert frame["name"].tolist() == ["Nguyễn Trãi", "Hẻm 5"]
    assert frame["oneway"].tolist() == [False, True]
    assert frame["time_s"].isna().tolist() == [False, True]  # the closed road has no time
    description = pyogrio.read_info(path, layer="roads")["layer_metadata"]["DESCRIPTION"]
    assert description == "Đường thử (test): roads. © OpenStreetMap contributors, ODbL 1.0"


def test_geopackage_needs_gpkg_suffix(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"path: a GeoPackage file name ends in \.gpkg"):
        write_roads_geopackage(_tiny_network(), tmp_path / "roads.shp")
