"""Plan endpoints: coordinators and planners compute and read plans; everyone else is refused."""

from __future__ import annotations

import csv
import json
from typing import Any

import pytest

from tests.web.conftest import expect_error, user_factory

REPORT = {
    "report_date": "2021-08-19",
    "oxygen_used_24h_m3": 150.0,
    "patients_cannula_mask": 20,
    "patients_high_flow": 4,
    "patients_invasive": 2,
    "cylinders_full": {"40L": 10},
}
BODY = {"region": "hcmc_d5", "date": "2021-08-20", "horizon_days": 3}


@pytest.fixture
def user(plans_app: Any, template_db):  # type: ignore[no-untyped-def]
    return user_factory(plans_app, template_db)


def test_coordinator_computes_and_reads_a_plan(user: Any, tmp_path: Any) -> None:
    assert user("repA").post("/facilities/79-A/reports", json=REPORT).status_code == 201
    created = user("coord79").post("/plans", json=BODY)
    assert created.status_code == 201, created.get_data(as_text=True)
    answer = created.get_json()
    plan_id = answer["plan_id"]
    assert created.headers["Location"].endswith(plan_id)
    assert answer["totals"]["demand_m3"] > 0
    plan = user("coord79").get(f"/plans/{plan_id}").get_json()
    (cho_ray,) = [f for f in plan["facilities"] if f["facility_id"] == "79-A"]
    assert cho_ray["name"] == "Bệnh viện Chợ Rẫy" and not cho_ray["demand_estimated"]
    assert plan["meta"]["created_by"] == "coord79"
    geojson = user("planner").get(f"/plans/{plan_id}?format=geojson")
    assert geojson.status_code == 200 and geojson.mimetype == "application/geo+json"
    assert {f["properties"]["kind"] for f in geojson.get_json()["features"]} >= {
        "facility",
        "supplier",
    }
    flows = user("planner").get(f"/plans/{plan_id}?format=csv")
    assert flows.mimetype == "text/csv"
    header = next(csv.reader(flows.get_data(as_text=True).lstrip("\ufeff").splitlines()))
    assert header[:3] == ["date", "supplier_id", "supplier_name"]
    facilities = user("planner").get(f"/plans/{plan_id}?format=csv&table=facilities")
    assert "Bệnh viện Chợ Rẫy" in facilities.get_data(as_text=True)
    summary = user("planner").get(f"/plans/{plan_id}?format=txt")
    assert summary.mimetype == "text/plain"
    first, _, rest = summary.get_data(as_text=True).partition("\n\n")
    assert first.startswith("Plan for ") and rest.startswith("Act first")  # issue 14
    gpkg = user("planner").get(f"/plans/{plan_id}?format=gpkg")
    assert gpkg.status_code == 200 and gpkg.mimetype == "application/geopackage+sqlite3"
    assert gpkg.get_data().startswith(b"SQLite format 3\x00")
    import geopandas as gpd

    path = tmp_path / "plan.gpkg"
    path.write_bytes(gpkg.get_data())
    layer = gpd.read_file(path, layer="facilities")
    assert "Bệnh viện Chợ Rẫy" in set(layer["name"]) and layer.crs.to_epsg() == 4326


@pytest.mark.parametrize("username", ["coord01", "dispatcher", "ministry", "repA"])
def test_other_roles_and_provinces_are_refused(user: Any, username: str) -> None:
    expect_error(user(username).post("/plans", json=BODY), 403)


def test_reading_is_scoped_too(user: Any) -> None:
    plan_id = user("planner").post("/plans", json=BODY).get_json()["plan_id"]
    for username in ("coord01", "dispatcher", "repB"):
        expect_error(user(username).get(f"/plans/{plan_id}"), 403)
    expect_error(user(None).get(f"/plans/{plan_id}"), 401)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"region": "atlantis", "date": "2021-08-20"}, "region"),  # not a served region
        ({"region": "hcmc_d5", "date": "20/08/2021"}, "date"),  # not ISO
        ({"region": "hcmc_d5", "date": "2021-08-20", "horizon_days": 0}, "horizon_days"),
        ({"region": "hcmc_d5", "date": "2021-08-20", "options": {"fairness": "yes"}}, "fairness"),
        ({"region": "hcmc_d5", "date": "2021-08-20", "colour": "red"}, "colour"),  # unknown key
        # processes are the server's to spend; solver time limits are capped
        ({"region": "hcmc_d5", "date": "2021-08-20", "options": {"workers": 8}}, "workers"),
        (
            {"region": "hcmc_d5", "date": "2021-08-20", "options": {"time_limit_s": 600}},
            "time_limit_s",
        ),
        (["hcmc_d5"], "body"),  # not an object
        # only YYYY-MM-DD: fromisoformat read the basic format and ISO weeks too
        ({"region": "hcmc_d5", "date": "20210820"}, "date"),
        ({"region": "hcmc_d5", "date": "2021-W33-5"}, "date"),
    ],
)
def test_bad_plan_requests_name_the_field(user: Any, body: Any, field: str) -> None:
    error = expect_error(user("planner").post("/plans", json=body), 422)
    assert any(field in d["field"] or field in d["reason"] for d in error["details"]), error


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"{", "application/json"),  # not JSON: a 422 "expected a JSON object" before
        (b"[" * 5000 + b"]" * 5000, "application/json"),  # RecursionError: a 500 before
        (b'{"region": "hcmc_d5", "date": "2021-08-20"}', "text/plain"),  # not sent as JSON
    ],
)
def test_a_body_that_is_not_json_is_a_400(user: Any, data: bytes, content_type: str) -> None:
    response = user("planner").post("/plans", data=data, content_type=content_type)
    assert expect_error(response, 400)["details"][0]["field"] == "body"


def test_a_body_with_a_byte_order_mark_is_read(user: Any) -> None:
    data = b"\xef\xbb\xbf" + json.dumps(BODY).encode("utf-8")
    response = user("planner").post("/plans", data=data, content_type="application/json")
    assert response.status_code == 201, response.get_data(as_text=True)


def test_unknown_plan_and_bad_format(user: Any) -> None:
    expect_error(user("planner").get("/plans/" + "0" * 32), 404)
    expect_error(user("planner").get("/plans/not-an-id"), 404)
    plan_id = user("planner").post("/plans", json=BODY).get_json()["plan_id"]
    error = expect_error(user("planner").get(f"/plans/{plan_id}?format=pdf"), 422)
    assert "format" in error["details"][0]["field"]


def test_plans_reuse_the_networks_the_map_loaded(db_url: str, clock, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import routing.graph
    from api import ApiConfig, create_app
    from web.map import WebMapConfig

    app = create_app(
        ApiConfig(
            database_url=db_url,
            clock=clock,
            plans_dir=str(tmp_path),
            webmap=WebMapConfig(regions=("hcmc_d5",)),
        )
    )

    def no_second_load(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the plan service loaded the network a second time")

    monkeypatch.setattr(routing.graph, "network_for_region", no_second_load)
    region, network = app.extensions["oxyroute_plans"].region_network("hcmc_d5")
    assert region.region_id == "hcmc_d5" and network.node_count > 600
    app.extensions["oxyroute"].store.engine.dispose()


def test_costly_operations_are_limited_per_user(user: Any) -> None:
    # Default rule: 6 plans, route computations or scenario runs per user per minute.
    statuses = [user("planner").post("/plans", json=BODY).status_code for _ in range(7)]
    assert statuses == [201] * 6 + [429]
    refused = user("planner").post("/plans", json=BODY)
    error = expect_error(refused, 429)
    assert "per user" in error["message"] and int(refused.headers["Retry-After"]) > 0
    # Another user is not held back by the first one's requests.
    assert user("coord79").post("/plans", json=BODY).status_code == 201
