"""Flask test-client tests of the web map page and its base-layer endpoints."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from routing.network_export import roads_to_geojson

LAYERS = ("roads", "districts", "facilities", "suppliers")


def test_page_is_public_and_offline(map_client: Any) -> None:
    response = map_client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<script src="/webmap/leaflet/leaflet.js">' in html
    assert "http://" not in html and "https://" not in html  # no CDN
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "img-src 'self' data:;" in policy


@pytest.mark.parametrize(
    "path",
    [
        "/webmap/leaflet/leaflet.js",
        "/webmap/leaflet/leaflet.css",
        "/webmap/static/map.js",
        "/webmap/static/map.css",
        "/webmap/static/plan_data.js",
        "/webmap/static/report_panels.js",
        "/webmap/static/map_strings.js",
        "/webmap/static/live_board.js",
        "/webmap/static/requests_board.js",
        "/webmap/static/plans_panel.js",
        "/webmap/static/invest_panel.js",
    ],
)
def test_assets_are_served(map_client: Any, path: str) -> None:
    response = map_client.get(path)
    assert response.status_code == 200 and len(response.data) > 1000
    response.close()


def test_scripts_load_in_order(map_client: Any) -> None:
    """Strings and plan_data.js before map.js (which uses them); the panels after (they use it)."""
    html = map_client.get("/").get_data(as_text=True)
    order = [html.index(f'<script src="/webmap/static/{name}">') for name in _SCRIPTS]
    assert order == sorted(order)


_SCRIPTS = (
    "map_strings.js",
    "plan_data.js",
    "map.js",
    "report_panels.js",
    "live_board.js",
    "requests_board.js",
    "plans_panel.js",
    "invest_panel.js",
)
_STATIC = Path(__file__).resolve().parents[3] / "web" / "static"


def test_report_form_fields_are_the_report_schema(map_client: Any) -> None:
    """Every field of the report form is a field of POST /facilities/{id}/reports, and back."""
    import re

    document = map_client.get("/api/v1/openapi.json").get_json()
    schema = document["components"]["schemas"]["DailyReport"]["properties"]
    script = (_STATIC / "report_panels.js").read_text(encoding="utf-8")
    numbers = re.findall(r'\["([a-z0-9_]+)", "(?:m3|l|count)"', script)
    form = set(numbers) | {"report_date", "note", "cylinders_full", "cylinders_empty"}
    assert len(numbers) == len(set(numbers))  # each once
    assert form == set(schema) - {"facility_id"}  # the facility comes from the address
    # Its kinds follow the schema: whole numbers for counts, numbers for quantities.
    for name, kind in re.findall(r'\["([a-z0-9_]+)", "(m3|l|count)"', script):
        types = {s.get("type") for s in schema[name].get("anyOf", [schema[name]])}
        assert ("integer" in types) == (kind == "count"), name


def test_paths_the_page_calls_are_served(map_client: Any) -> None:
    """The report form and the review queue call endpoints the API documents."""
    paths = map_client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in [
        ("/facilities/{record_id}", "get"),
        ("/facilities/{facility_id}/reports", "post"),
        ("/facilities/{facility_id}/reports", "get"),
        ("/review/reports", "get"),
        ("/review/reports/{facility_id}/{report_date}/accept", "post"),
        ("/review/reports/{facility_id}/{report_date}/correction", "post"),
        ("/plans/{plan_id}", "get"),
        # The live board (issue 14): live_board.js, requests_board.js, plans_panel.js.
        ("/status", "get"),
        ("/facilities", "get"),
        ("/alerts", "get"),
        ("/alerts/stream", "get"),
        ("/alerts/{alert_id}/ack", "post"),
        ("/requests", "get"),
        ("/requests/{request_id}/approve", "post"),
        ("/requests/{request_id}/reject", "post"),
        ("/requests/{request_id}/cancel", "post"),
        ("/requests/{request_id}/options", "get"),
        ("/requests/{request_id}/source", "post"),
        ("/requests/{request_id}/dispatch", "post"),
        ("/plans", "get"),
        ("/plans/{plan_id}/approve", "post"),
        ("/plans/{plan_id}/publish", "post"),
        ("/deliveries", "get"),
        ("/deliveries/{delivery_id}/confirm", "post"),
    ]:
        assert method in paths[path], (method, path)


def test_config_credits_and_no_tiles_by_default(map_client: Any) -> None:
    config = map_client.get("/webmap/config.json").get_json()
    assert config["tile_url"] is None
    assert config["attribution"] == [
        "© OpenStreetMap contributors",
        "Province shapes: Open Development Vietnam (“Địa phận tỉnh”)",
    ]
    assert config["leaflet_version"].startswith("1.9")


def test_tile_server_only_when_configured(
    db_url: str, clock: Any, d5_resources: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import web.map as webmap
    from api import ApiConfig, create_app

    monkeypatch.setattr(webmap, "load_map_resources", lambda config, **_: d5_resources)
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    app = create_app(
        ApiConfig(
            database_url=db_url,
            clock=clock,
            webmap=webmap.WebMapConfig(tile_url=tiles, tile_attribution="Ex"),
        )
    )
    client = app.test_client()
    assert client.get("/webmap/config.json").get_json()["tile_url"] == tiles
    assert (
        "img-src 'self' data: https://tiles.example.org;"
        in client.get("/").headers["Content-Security-Policy"]
    )
    app.extensions["oxyroute"].store.engine.dispose()


@pytest.mark.parametrize(
    "path",
    ["/map/v1/regions", "/map/v1/provinces.geojson", "/map/v1/regions/hcmc_d5/roads.geojson"],
)
def test_layers_need_a_token(map_client: Any, path: str) -> None:
    response = map_client.get(path)
    assert response.status_code == 401
    assert response.get_json()["error"]["category"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="oxyroute"'


def test_token_in_url_is_refused(map_client: Any, template_db: Any) -> None:
    token = template_db.tokens["planner"]
    response = map_client.get(f"/map/v1/regions?token={token}")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"] == [
        {"field": "token", "reason": "send it in the Authorization header, not the URL"}
    ]


def test_openapi_lists_every_map_route(map_app: Any, map_client: Any) -> None:
    document = map_client.get("/map/v1/openapi.json").get_json()
    rules = {
        str(r.rule).removeprefix("/map/v1").replace("<", "{").replace(">", "}")
        for r in map_app.url_map.iter_rules()
        if str(r.rule).startswith("/map/v1")
    }
    assert rules == set(document["paths"])


def test_regions(map_client: Any, auth: Any) -> None:
    body = map_client.get("/map/v1/regions", headers=auth("coord79")).get_json()
    assert body == {
        "regions": [
            {
                "region_id": "hcmc_d5",
                "name": "Quận 5, TP Hồ Chí Minh (District 5)",
                "bbox": [106.669185, 10.752442, 106.687015, 10.766841],
                "province_code": "79",
                "layers": sorted(LAYERS),
                "attribution": "© OpenStreetMap contributors",
            }
        ]
    }


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_is_geojson(map_client: Any, auth: Any, layer: str) -> None:
    response = map_client.get(f"/map/v1/regions/hcmc_d5/{layer}.geojson", headers=auth("planner"))
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = json.loads(response.data.decode("utf-8"))
    assert body["type"] == "FeatureCollection" and body["features"]
    assert "crs" not in body


def test_roads_match_the_export(map_client: Any, auth: Any, d5_network: Any) -> None:
    body = map_client.get(
        "/map/v1/regions/hcmc_d5/roads.geojson", headers=auth("planner")
    ).get_json()
    assert body == roads_to_geojson(d5_network)


def test_facilities_keep_vietnamese(map_client: Any, auth: Any) -> None:
    response = map_client.get("/map/v1/regions/hcmc_d5/facilities.geojson", headers=auth("planner"))
    assert "Bệnh Viện Hòa Hảo".encode() in response.data  # raw UTF-8, not \\u escapes
    names = {f["properties"]["name"] for f in json.loads(response.data)["features"]}
    assert len(names) == 6 and "Bệnh Viện Hòa Hảo" in names


def test_suppliers_carry_capacity(map_client: Any, auth: Any) -> None:
    body = map_client.get(
        "/map/v1/regions/hcmc_d5/suppliers.geojson", headers=auth("planner")
    ).get_json()
    by_id = {f["id"]: f["properties"] for f in body["features"]}
    assert by_id["NSV-BH2"]["capacity_lox_t_per_day"] == 34.3
    assert by_id["NSV-BH2"]["capacity_m3_per_day"] == 24010


def test_provinces_layer(map_client: Any, auth: Any) -> None:
    response = map_client.get("/map/v1/provinces.geojson", headers=auth("repA"))
    assert response.mimetype == "application/geo+json"
    assert len(response.get_json()["features"]) == 63


def test_gzip_and_etag(map_client: Any, auth: Any) -> None:
    path = "/map/v1/regions/hcmc_d5/roads.geojson"
    plain = map_client.get(path, headers=auth("planner"))
    zipped = map_client.get(path, headers={**auth("planner"), "Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 3
    again = map_client.get(
        path, headers={**auth("planner"), "If-None-Match": plain.headers["ETag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("path", "field", "reason"),
    [
        # unknown region
        (
            "/map/v1/regions/hanoi/roads.geojson",
            "region",
            "'hanoi' is not served (served: hcmc_d5)",
        ),
        # unknown layer of a served region
        (
            "/map/v1/regions/hcmc_d5/rivers.geojson",
            "layer",
            "'hcmc_d5' has no layer 'rivers' (it has: roads, districts, facilities, suppliers)",
        ),
    ],
)
def test_unknown_region_or_layer_is_404(
    map_client: Any, auth: Any, path: str, field: str, reason: str
) -> None:
    response = map_client.get(path, headers=auth("planner"))
    assert response.status_code == 404
    assert response.get_json() == {
        "error": {
            "status": 404,
            "category": "not_found",
            "message": "not found",
            "details": [{"field": field, "reason": reason}],
        }
    }


def test_layers_are_built_once_per_app(
    d5_region: Any, d5_network: Any, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import web.map_layers as layers
    from web.map_layers import MapResources

    calls = []

    def counting(network: Any, **kwargs: Any) -> Any:
        calls.append(network)
        return roads_to_geojson(network, **kwargs)

    monkeypatch.setattr(layers, "roads_to_geojson", counting)
    resources = MapResources({"hcmc_d5": (d5_region, d5_network)}, data_dir=data_dir)
    assert calls == []  # nothing is built before it is asked for
    first = resources.regions["hcmc_d5"].layers["roads"].get()
    second = resources.regions["hcmc_d5"].layers["roads"].get()
    assert first is second and len(calls) == 1


def test_missing_shared_data_is_503_without_paths(
    db_url: str, clock: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, auth: Any
) -> None:
    import web.map as webmap
    from api import ApiConfig, create_app
    from web.map_layers import MapResources

    empty = MapResources({}, data_dir=tmp_path)
    monkeypatch.setattr(webmap, "load_map_resources", lambda config, **_: empty)
    app = create_app(ApiConfig(database_url=db_url, clock=clock))
    response = app.test_client().get("/map/v1/provinces.geojson", headers=auth("planner"))
    assert response.status_code == 503
    assert str(tmp_path) not in response.get_data(as_text=True)
    assert response.get_json()["error"]["message"].startswith("layer unavailable")
    app.extensions["oxyroute"].store.engine.dispose()


def test_factory_loads_configured_regions(db_url: str, clock: Any, auth: Any) -> None:
    """The real wiring: ``create_app`` loads District 5 (from the graph cache) and serves it."""
    from api import ApiConfig, create_app
    from web.map import WebMapConfig

    app = create_app(
        ApiConfig(database_url=db_url, clock=clock, webmap=WebMapConfig(regions=("hcmc_d5",)))
    )
    regions = app.test_client().get("/map/v1/regions", headers=auth("planner")).get_json()
    assert [r["region_id"] for r in regions["regions"]] == ["hcmc_d5"]
    app.extensions["oxyroute"].store.engine.dispose()


def test_no_region_configured(db_url: str, clock: Any, auth: Any) -> None:
    from api import ApiConfig, create_app

    app = create_app(ApiConfig(database_url=db_url, clock=clock))
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/map/v1/regions", headers=auth("planner")).get_json() == {"regions": []}
    app.extensions["oxyroute"].store.engine.dispose()


def test_unknown_configured_region_fails_at_start(db_url: str, clock: Any) -> None:
    from api import ApiConfig, create_app
    from data.errors import MissingDataFileError
    from web.map import WebMapConfig

    with pytest.raises(MissingDataFileError, match="region 'atlantis': no bundled region"):
        create_app(
            ApiConfig(database_url=db_url, clock=clock, webmap=WebMapConfig(regions=("atlantis",)))
        )
