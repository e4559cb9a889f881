"""Tests of web/map_layers.py: places, suppliers, province and district outlines, settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import shape

from data.districts import DISTRICTS_OSM, districts_from_osm
from data.errors import InvalidInputError
from data.schema.network import Place
from web.map import WebMapConfig
from web.map_layers import (
    features_near,
    places_to_geojson,
    provinces_from_topojson,
    suppliers_to_geojson,
)


@pytest.fixture(scope="session")
def topology(data_dir: Path) -> dict[str, Any]:
    """Parse the shared 63-province TopoJSON."""
    from data.provinces import TOPOJSON_63

    return json.loads((data_dir / TOPOJSON_63).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def provinces(topology: dict[str, Any]) -> dict[str, Any]:
    """Build the province layer as the map serves it (150 m simplification)."""
    return provinces_from_topojson(topology)


@pytest.fixture(scope="session")
def districts(data_dir: Path) -> dict[str, Any]:
    """Every admin_level 6 unit of the 2018 Ho Chi Minh City OSM snapshot."""
    return districts_from_osm(data_dir / DISTRICTS_OSM)


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    polygons = (
        [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    )
    return [ring for polygon in polygons for ring in polygon]


# -- places and suppliers


def test_places_keep_vietnamese_names_and_columns() -> None:
    places = [Place("3098834445", 106.6701859, 10.762528, "Bệnh Viện Hòa Hảo", {"beds": ""})]
    assert places_to_geojson(places) == {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "3098834445",
                "geometry": {"type": "Point", "coordinates": [106.670186, 10.762528]},
                "properties": {"id": "3098834445", "name": "Bệnh Viện Hòa Hảo", "beds": ""},
            }
        ],
    }


def test_suppliers_capacity_in_gas() -> None:
    suppliers = [
        # 34.3 t/day of liquid x 700 m³/t = 24,010 m³/day
        Place(
            "NSV-BH2",
            106.865,
            10.929,
            "Nippon Sanso Việt Nam – Biên Hòa 2",  # noqa: RUF001 - en dash in a Vietnamese name
            {"capacity_lox_t_per_day": "34.3", "capacity_cylinders_per_day": ""},
        ),
        # 1,000 cylinders of 40 L x 6.0 m³ = 6,000 m³/day
        Place(
            "FILL",
            106.7,
            10.8,
            "Trạm nạp",
            {"capacity_lox_t_per_day": "", "capacity_cylinders_per_day": "1000"},
        ),
        Place(
            "NONE",
            106.7,
            10.8,
            "Kho",
            {"capacity_lox_t_per_day": "", "capacity_cylinders_per_day": ""},
        ),
    ]
    properties = [f["properties"] for f in suppliers_to_geojson(suppliers)["features"]]
    assert [p["capacity_m3_per_day"] for p in properties] == [24010, 6000, None]
    assert properties[0]["capacity_lox_t_per_day"] == 34.3
    assert properties[0]["capacity_cylinders_per_day"] is None
    assert properties[0]["name"] == "Nippon Sanso Việt Nam – Biên Hòa 2"  # noqa: RUF001 - en dash in a Vietnamese name


def test_bad_capacity_is_reported_with_the_supplier() -> None:
    bad = [
        Place("X1", 106.7, 10.8, "x", {"capacity_lox_t_per_day": "ba tấn"}),
        Place("X2", 106.7, 10.8, "y", {"capacity_lox_t_per_day": "n/a"}),
    ]
    with pytest.raises(InvalidInputError, match="2 problem") as caught:
        suppliers_to_geojson(bad)
    assert caught.value.problems == [
        "X1.capacity_lox_t_per_day: not a number: 'ba tấn'",
        "X2.capacity_lox_t_per_day: not a number: 'n/a'",
    ]


def test_region_suppliers_file(d5_region) -> None:  # type: ignore[no-untyped-def]
    collection = suppliers_to_geojson(d5_region.suppliers.read())
    by_id = {f["id"]: f["properties"] for f in collection["features"]}
    assert by_id["NSV-PM"]["capacity_m3_per_day"] == 240 * 700
    assert all(
        p["capacity_m3_per_day"] is None or p["capacity_m3_per_day"] > 0 for p in by_id.values()
    )


# -- provinces


def test_tiny_topology_shares_the_border() -> None:
    """Two unit squares side by side; the shared arc is stored once and used reversed."""
    topology = {
        "type": "Topology",
        "arcs": [
            [[1.0, 0.0], [1.0, 1.0]],  # 0: shared border
            [[1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [1.0, 0.0]],  # 1: west square's rest
            [[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0]],  # 2: east square's rest
        ],
        "objects": {
            "p": {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Polygon", "arcs": [[0, 1]], "properties": {"ten_tinh": "TP HCM"}},
                    {
                        "type": "Polygon",
                        "arcs": [[2, ~0]],
                        "properties": {"ten_tinh": "Bình Dương"},
                    },
                ],
            }
        },
    }
    features = provinces_from_topojson(topology)["features"]
    assert [f["properties"] for f in features] == [
        {"province_code": "79", "name": "Thành phố Hồ Chí Minh", "ten_tinh": "TP HCM"},
        {"province_code": "74", "name": "Tỉnh Bình Dương", "ten_tinh": "Bình Dương"},
    ]
    west, east = (shape(f["geometry"]) for f in features)
    assert west.area == pytest.approx(1.0) and east.area == pytest.approx(1.0)
    assert west.intersection(east).length == pytest.approx(1.0)  # they meet along x = 1
    for feature in features:
        assert shapely.LinearRing(_rings(feature["geometry"])[0]).is_ccw  # RFC 7946 exterior


def test_not_a_topology() -> None:
    with pytest.raises(InvalidInputError, match="topology: not a TopoJSON Topology"):
        provinces_from_topojson({"type": "FeatureCollection", "features": []})


def test_63_provinces(provinces: dict[str, Any]) -> None:
    properties = [f["properties"] for f in provinces["features"]]
    assert len(properties) == 63
    assert len({p["province_code"] for p in properties}) == 63
    assert {
        "province_code": "79",
        "name": "Thành phố Hồ Chí Minh",
        "ten_tinh": "TP HCM",
    } in properties
    assert "Tỉnh Thừa Thiên Huế" in {p["name"] for p in properties}
    assert set(provinces) == {"type", "features"}


def test_provinces_are_valid_oriented_rounded(provinces: dict[str, Any]) -> None:
    for feature in provinces["features"]:
        geometry = shape(feature["geometry"])
        assert geometry.is_valid, feature["properties"]["name"]
        polygons = (
            [feature["geometry"]["coordinates"]]
            if feature["geometry"]["type"] == "Polygon"
            else feature["geometry"]["coordinates"]
        )
        for polygon in polygons:
            assert shapely.LinearRing(polygon[0]).is_ccw
            assert all(not shapely.LinearRing(hole).is_ccw for hole in polygon[1:])
        assert all(
            round(v, 6) == v for ring in _rings(feature["geometry"]) for p in ring for v in p
        )


def test_simplification_keeps_islands_and_neighbours(
    topology: dict[str, Any], provinces: dict[str, Any]
) -> None:
    full = {
        f["properties"]["province_code"]: shape(f["geometry"])
        for f in provinces_from_topojson(topology, tolerance_m=0)["features"]
    }
    simple = {f["properties"]["province_code"]: shape(f["geometry"]) for f in provinces["features"]}
    # Khánh Hoà (56) holds Trường Sa, Đà Nẵng (48) Hoàng Sa: no island may vanish. Rocks under
    # about 100 m² (1e-8 square degrees) may merge with a reef next to them or snap away.
    for code in ("56", "48"):
        islands = [p for p in shapely.get_parts(full[code]) if p.area > 1e-8]
        assert len(islands) > 100 if code == "56" else len(islands) > 10
        assert all(simple[code].intersects(island) for island in islands)
    # Neighbours keep one shared border: no overlap between HCMC (79) and Bình Dương (74).
    assert simple["79"].intersection(simple["74"]).area < 1e-9
    assert simple["79"].boundary.intersection(simple["74"].boundary).length > 0.1
    vertices = sum(len(r) for f in provinces["features"] for r in _rings(f["geometry"]))
    assert vertices < 0.5 * sum(shapely.get_num_coordinates(g) for g in full.values())


# -- districts


def test_districts_of_ho_chi_minh_city(districts: dict[str, Any]) -> None:
    complete = {
        f["properties"]["name"] for f in districts["features"] if f["properties"]["complete"]
    }
    # The 2018 snapshot closes the 19 urban districts; rural districts cross the extract's edge.
    assert len(complete) == 19
    assert {"Quận 5", "Quận Bình Thạnh", "Quận Thủ Đức", "Quận Gò Vấp"} <= complete
    for feature in districts["features"]:
        kind = feature["geometry"]["type"]
        assert kind in (
            ("Polygon", "MultiPolygon")
            if feature["properties"]["complete"]
            else ("LineString", "MultiLineString")
        )


def test_district_5_holds_the_d5_network(districts: dict[str, Any], d5_network) -> None:  # type: ignore[no-untyped-def]
    district_5 = next(f for f in districts["features"] if f["properties"]["name"] == "Quận 5")
    polygon = shape(district_5["geometry"])
    inside = shapely.contains_xy(polygon, d5_network.node_lon, d5_network.node_lat).mean()
    assert inside > 0.8  # the OSM export's box spills a little into Districts 1, 10 and 11


def test_features_near_filters_by_box(districts: dict[str, Any]) -> None:
    near = features_near(districts, [106.669, 10.752, 106.687, 10.767], margin_deg=0)
    names = {f["properties"]["name"] for f in near["features"]}
    assert "Quận 5" in names and "Huyện Củ Chi" not in names


def test_missing_osm_file(tmp_path: Path) -> None:
    from data.errors import MissingDataFileError

    with pytest.raises(MissingDataFileError, match=r"district boundaries .* not found"):
        districts_from_osm(tmp_path / "none.osm.pbf")


# -- settings


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"tile_url": "tiles.example.org/{z}/{x}/{y}.png"},
            "tile_url: must be an http",
        ),  # no scheme
        (
            {"tile_url": "https://tiles.example.org/tile.png"},
            "tile_url: must be an http",
        ),  # no z/x/y
        ({"regions": "hcmc"}, "regions: give a tuple of names"),  # a bare string
        ({"road_tolerance_m": -5.0}, "road_tolerance_m: must be >= 0"),  # negative
    ],
)
def test_bad_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        WebMapConfig(**kwargs)


def test_settings_from_environment() -> None:
    config = WebMapConfig.from_environment(
        {
            "OXYROUTE_MAP_REGIONS": "hcmc, hcmc_d5",
            "OXYROUTE_TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        }
    )
    assert config.regions == ("hcmc", "hcmc_d5")
    assert config.tile_url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert WebMapConfig.from_environment({}) == WebMapConfig()
