"""Route endpoints: who computes and reads routes, and the refusals.

Dispatchers and the plan's province coordinator compute and read routes; everyone else is refused;
unknown ids 404; bad input 422 naming the field.

Plans are written straight into the plans folder (the hand-made District 5 plan of
``tests/coordination/test_dispatch.py``), so these tests do not pay for an allocation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.coordination.test_dispatch import HAND_FLOWS, TANKER, TRUCK, check_routes, plan_document
from tests.web.conftest import expect_error, user_factory

PLAN_ID = "a" * 32
VEHICLES = [
    {
        "vehicle_id": "TK1",
        "kind": "cryogenic_tanker",
        "tank_capacity_lox_kg": 5000,
        "home_depot_id": "ALV-SHTP",
        "plate": "51C-123.45",
    },
    {
        "vehicle_id": "CT1",
        "kind": "cylinder_truck",
        "cylinder_capacity": 150,
        "home_depot_id": "TDS",
    },
]
BODY = {
    "day": 0,
    "vehicles": VEHICLES,
    "start_time": "06:00",
    "options": {
        "max_iterations": 200,
        "time_limit_s": 5,
        "seed": 1,
        "facilities": {"14468398": {"contact": "Khoa Dược – chị Lan", "phone": "028 3923 4332"}},  # noqa: RUF001 - en dash in a Vietnamese name
    },
}


@pytest.fixture
def routes_app(db_url: str, clock, tmp_path: Path):  # type: ignore[no-untyped-def]
    from api import ApiConfig, create_app

    plan_dir = tmp_path / PLAN_ID
    plan_dir.mkdir()
    (plan_dir / "plan.json").write_text(
        json.dumps(plan_document(HAND_FLOWS), ensure_ascii=False), encoding="utf-8"
    )
    (plan_dir / "meta.json").write_text(
        json.dumps({"plan_id": PLAN_ID, "region": "hcmc_d5", "province_code": "79"}),
        encoding="utf-8",
    )
    application = create_app(ApiConfig(database_url=db_url, clock=clock, plans_dir=str(tmp_path)))
    yield application
    application.extensions["oxyroute"].store.engine.dispose()


@pytest.fixture
def user(routes_app: Any, template_db):  # type: ignore[no-untyped-def]
    return user_factory(routes_app, template_db)


def _create(user: Any, username: str = "dispatcher", body: dict[str, Any] | None = None) -> str:
    created = user(username).post(f"/plans/{PLAN_ID}/routes", json=body or BODY)
    assert created.status_code == 201, created.get_data(as_text=True)
    return created.get_json()["routes_id"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("username", ["dispatcher", "coord79"])
def test_dispatcher_and_coordinator_compute_and_read_routes(user: Any, username: str) -> None:
    created = user(username).post(f"/plans/{PLAN_ID}/routes", json=BODY)
    assert created.status_code == 201, created.get_data(as_text=True)
    answer = created.get_json()
    routes_id = answer["routes_id"]
    assert created.headers["Location"].endswith(f"/plans/{PLAN_ID}/routes/{routes_id}")
    assert answer["unassigned"] == [] and answer["summary"]["routes"] == 2
    routes = user(username).get(f"/plans/{PLAN_ID}/routes/{routes_id}")
    assert routes.status_code == 200 and routes.mimetype == "application/json"
    document = routes.get_json()
    check_routes(document, plan_document(HAND_FLOWS), [TANKER, TRUCK])
    assert document["meta"]["created_by"] == username and document["unassigned"] == []
    geojson = user(username).get(f"/plans/{PLAN_ID}/routes/{routes_id}?format=geojson")
    assert geojson.status_code == 200 and geojson.mimetype == "application/geo+json"
    kinds = [f["properties"]["kind"] for f in geojson.get_json()["features"]]
    assert kinds.count("route") == 2 and kinds.count("stop") == 10
    for lang, word in (("vi", "Giao hàng"), ("en", "Deliver")):
        sheet = user(username).get(f"/plans/{PLAN_ID}/routes/{routes_id}/sheets/TK1?lang={lang}")
        assert sheet.status_code == 200 and sheet.mimetype == "text/html"
        text = sheet.get_data(as_text=True)
        assert word in text and "Bệnh viện Nguyễn Tri Phương" in text
        assert "Khoa Dược – chị Lan" in text and "© OpenStreetMap contributors" in text  # noqa: RUF001 - en dash in a Vietnamese name


@pytest.mark.parametrize("username", ["coord01", "planner", "ministry", "repA", "admin"])
def test_other_roles_and_provinces_are_refused(user: Any, username: str) -> None:
    expect_error(user(username).post(f"/plans/{PLAN_ID}/routes", json=BODY), 403)


def test_reading_is_refused_to_others_too(user: Any) -> None:
    routes_id = _create(user)
    for username in ("coord01", "planner", "repA"):
        expect_error(user(username).get(f"/plans/{PLAN_ID}/routes/{routes_id}"), 403)
        expect_error(user(username).get(f"/plans/{PLAN_ID}/routes/{routes_id}/sheets/TK1"), 403)
    expect_error(user(None).get(f"/plans/{PLAN_ID}/routes/{routes_id}"), 401)


def test_unknown_ids_are_404(user: Any) -> None:
    routes_id = _create(user)
    expect_error(user("dispatcher").post(f"/plans/{'b' * 32}/routes", json=BODY), 404)
    expect_error(user("dispatcher").get(f"/plans/{'b' * 32}/routes/{routes_id}"), 404)
    expect_error(user("dispatcher").get(f"/plans/{PLAN_ID}/routes/{'c' * 32}"), 404)
    expect_error(user("dispatcher").get(f"/plans/{PLAN_ID}/routes/..%2F..%2Fmeta"), 404)
    expect_error(user("dispatcher").get(f"/plans/{PLAN_ID}/routes/{routes_id}/sheets/NOPE"), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "day": 5}, "day"),  # outside the plan's three days
        ({**BODY, "day": "0"}, "day"),  # a string, not a day offset
        ({k: v for k, v in BODY.items() if k != "day"}, "day"),  # missing
        ({**BODY, "start_time": "6 am"}, "start_time"),
        ({**BODY, "colour": "red"}, "colour"),  # unknown key
        ({**BODY, "vehicles": [{**VEHICLES[0], "kind": "bicycle"}]}, "vehicles[0].kind"),
        (
            {**BODY, "vehicles": [{**VEHICLES[1], "cylinder_capacity": 0}]},
            "vehicles[0].cylinder_capacity",
        ),
        ({**BODY, "vehicles": []}, "vehicles"),
        (  # a fraction of a kilogram is not a whole number (5500.0 is: see below)
            {**BODY, "vehicles": [{**VEHICLES[0], "tank_capacity_lox_kg": 5500.5}]},
            "vehicles[0].tank_capacity_lox_kg",
        ),
        ({**BODY, "options": {"shift_hours": 30}}, "options.shift_hours"),
        ({**BODY, "options": {"receiving_hours": ["19:00", "07:00"]}}, "options.receiving_hours"),
    ],
)
def test_bad_input_is_422_naming_the_field(user: Any, body: dict[str, Any], field: str) -> None:
    error = expect_error(user("dispatcher").post(f"/plans/{PLAN_ID}/routes", json=body), 422)
    assert field in [d["field"] for d in error["details"]], error


def test_whole_numbers_written_as_floats_are_accepted(user: Any) -> None:
    # GET /vehicles gives 5500.0; pasting it must work (issue 15), 5500.5 is refused above.
    vehicles = [
        {**VEHICLES[0], "tank_capacity_lox_kg": 5500.0},
        {**VEHICLES[1], "cylinder_capacity": 150.0},
    ]
    created = user("dispatcher").post(
        f"/plans/{PLAN_ID}/routes", json={**BODY, "vehicles": vehicles}
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    routes_id = created.get_json()["routes_id"]
    document = user("dispatcher").get(f"/plans/{PLAN_ID}/routes/{routes_id}").get_json()
    capacities = {r["vehicle"]: r["capacity"] for r in document["routes"]}
    assert capacities["TK1"]["lox_kg"] == 5500 and capacities["CT1"]["cylinders"] == 150
    error = expect_error(
        user("dispatcher").post(
            f"/plans/{PLAN_ID}/routes",
            json={**BODY, "vehicles": [{**VEHICLES[1], "cylinder_capacity": 150.5}]},
        ),
        422,
    )
    assert [d["field"] for d in error["details"]] == ["vehicles[0].cylinder_capacity"], error
    assert "150.5" in str(error["details"]), error


def test_malformed_json_is_400_and_bad_query_422(user: Any) -> None:
    response = user("dispatcher").post(
        f"/plans/{PLAN_ID}/routes", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    expect_error(response, 400)
    routes_id = _create(user)
    error = expect_error(
        user("dispatcher").get(f"/plans/{PLAN_ID}/routes/{routes_id}?format=csv"), 422
    )
    assert error["details"][0]["field"] == "format"
    error = expect_error(
        user("dispatcher").get(f"/plans/{PLAN_ID}/routes/{routes_id}/sheets/TK1?lang=fr"), 422
    )
    assert error["details"][0]["field"] == "lang"


def test_registry_fleet_is_used_when_no_vehicles_are_given(user: Any, routes_app: Any) -> None:
    from data.schema.registry import Supplier, SupplierKind, TransportOperator, Vehicle, VehicleKind

    body = {k: v for k, v in BODY.items() if k != "vehicles"}
    error = expect_error(user("dispatcher").post(f"/plans/{PLAN_ID}/routes", json=body), 422)
    assert "vehicles" in [d["field"] for d in error["details"]]
    store = routes_app.extensions["oxyroute"].store
    store.create_records(
        [  # references are checked against stored records: parents first
            Supplier(
                supplier_id="TDS",
                name="Thép Thủ Đức – trạm nạp oxy",  # noqa: RUF001 - en dash in a Vietnamese name
                kind=SupplierKind.FILLING_STATION,
                province_code="79",
                lon=106.76,
                lat=10.842,
            ),
            TransportOperator(operator_id="OP1", name="Vận tải Oxy Sài Gòn", province_code="79"),
        ],
        actor="test",
    )
    store.create_records(
        [
            Vehicle(
                vehicle_id="CT9",
                operator_id="OP1",
                kind=VehicleKind.CYLINDER_TRUCK,
                cylinder_capacity=200,
                home_depot_id="TDS",
                plate="51D-999.99",
            ),
        ],
        actor="test",
    )
    created = user("dispatcher").post(f"/plans/{PLAN_ID}/routes", json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    answer = created.get_json()
    # Only the cylinder truck is registered: the bulk load waits for a tanker, with the reason.
    assert {u["product"] for u in answer["unassigned"]} == {"bulk_liquid"}
    assert all("no cryogenic tanker" in u["reason"] for u in answer["unassigned"])
    document = user("dispatcher").get(f"/plans/{PLAN_ID}/routes/{answer['routes_id']}").get_json()
    assert [r["vehicle"] for r in document["routes"]] == ["CT9"]
    assert document["routes"][0]["plate"] == "51D-999.99"


def test_openapi_lists_the_route_paths(user: Any) -> None:
    paths = user(None).get("/openapi.json").get_json()["paths"]
    assert {
        "/plans/{plan_id}/routes",
        "/plans/{plan_id}/routes/{routes_id}",
        "/plans/{plan_id}/routes/{routes_id}/sheets/{vehicle_id}",
    } <= set(paths)
