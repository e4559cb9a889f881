"""The live re-plan endpoint: ``POST /plans/{plan_id}/routes/{routes_id}/replan`` (issue 15).

The hand-made District 5 plan of ``tests/coordination/test_dispatch.py`` (a tanker TK1 of Air
Liquide, a cylinder truck CT1 of Thép Thủ Đức) is routed once per module and written into each
test's plans folder, so most tests do not pay for a dispatch. CT1 breaks down after loading; CT2,
a second truck of Thép Thủ Đức sent in ``vehicles``, must collect its cylinders at the transfer
point. The new routes are read back as the province's coordinator (dispatchers read published
plans' routes only: issue 14). Refusals are 422 naming ``events[i].<field>`` (or ``now``,
``options.<key>``), 403 for other roles and provinces, 404 for unknown ids; nothing is stored on
a refusal.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from coordination.dispatch import (
    DispatchOptions,
    dispatch_request_from_plan,
    plan_dispatch,
    routes_to_dict,
    routes_to_geojson,
)
from tests.coordination.test_dispatch import FAST, HAND_FLOWS, TANKER, TRUCK, plan_document
from tests.web.conftest import expect_error, user_factory

PLAN_ID = "a" * 32
ROUTES_ID = "b" * 32
REPLAN = f"/plans/{PLAN_ID}/routes/{ROUTES_ID}/replan"
CT2 = {
    "vehicle_id": "CT2",
    "kind": "cylinder_truck",
    "cylinder_capacity": 150,
    "home_depot_id": "TDS",
    "plate": "51D-222.22",
}
OPTIONS = {"max_iterations": 300, "time_limit_s": 5, "seed": 1}


@pytest.fixture(scope="module")
def published(d5_network: Any, d5_region: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the routes document (TK1 and CT1, CT2 not in it) and its GeoJSON, made once."""
    request = dispatch_request_from_plan(
        plan_document(HAND_FLOWS),
        day=0,
        vehicles=[TANKER, TRUCK],
        options=DispatchOptions.from_mapping(FAST),
    )
    routes = routes_to_dict(plan_dispatch(request, d5_network, d5_region), routes_id=ROUTES_ID)
    assert [r["vehicle"] for r in routes["routes"]] == ["TK1", "CT1"]
    return dict(routes), routes_to_geojson(routes, d5_network, d5_region)


@pytest.fixture
def replan_app(db_url: str, clock: Any, tmp_path: Path, published: Any):  # type: ignore[no-untyped-def]
    from api import ApiConfig, create_app

    plan_dir = tmp_path / PLAN_ID
    folder = plan_dir / "routes" / ROUTES_ID
    folder.mkdir(parents=True)
    (plan_dir / "plan.json").write_text(
        json.dumps(plan_document(HAND_FLOWS), ensure_ascii=False), encoding="utf-8"
    )
    (plan_dir / "meta.json").write_text(
        json.dumps({"plan_id": PLAN_ID, "region": "hcmc_d5", "province_code": "79"}),
        encoding="utf-8",
    )
    routes, geojson = published
    (folder / "routes.json").write_text(json.dumps(routes, ensure_ascii=False), encoding="utf-8")
    (folder / "routes.geojson").write_text(json.dumps(geojson), encoding="utf-8")
    application = create_app(ApiConfig(database_url=db_url, clock=clock, plans_dir=str(tmp_path)))
    yield application
    application.extensions["oxyroute"].store.engine.dispose()


@pytest.fixture
def user(replan_app: Any, template_db):  # type: ignore[no-untyped-def]
    return user_factory(replan_app, template_db)


def _stored(app: Any) -> list[str]:
    """Return the routes ids stored for the plan (staging folders too: nothing may be left)."""
    plans_dir = app.extensions["oxyroute_plans"].plans_dir
    return sorted(p.name for p in (plans_dir / PLAN_ID / "routes").iterdir())


def _route(document: dict[str, Any], vehicle: str) -> dict[str, Any]:
    return next(r for r in document["routes"] if r["vehicle"] == vehicle)


def _breakdown_body(routes: dict[str, Any]) -> tuple[dict[str, Any], int, int]:
    """Return a body where CT1 loads its first load, then breaks down; that step and quantity."""
    steps = _route(routes, "CT1")["steps"]
    first = next(i for i, s in enumerate(steps) if s["type"] == "pickup")
    body = {
        "now": "2021-08-20T07:05:00+07:00",
        "events": [
            {"type": "stop_done", "vehicle": "CT1", "step": first},
            {"type": "breakdown", "vehicle": "CT1", "at": "07:00", "location": [106.668, 10.757]},
        ],
        "options": OPTIONS,
        "vehicles": [CT2],
    }
    return body, first, int(steps[first]["quantity"])


def test_a_breakdown_is_replanned_and_stored_as_new_routes(
    user: Any, replan_app: Any, published: Any
) -> None:
    routes, _ = published
    body, first, loaded = _breakdown_body(routes)
    created = user("dispatcher").post(REPLAN, json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    answer = created.get_json()
    new_id = answer["routes_id"]
    assert new_id != ROUTES_ID and answer["from_routes_id"] == ROUTES_ID
    assert created.headers["Location"].endswith(f"/plans/{PLAN_ID}/routes/{new_id}")
    assert _stored(replan_app) == sorted([ROUTES_ID, new_id])
    # The cylinders on the broken truck reach their hospitals: nothing unassigned, none lost.
    assert answer["balance"]["cylinder"]["unassigned"] == 0
    assert answer["summary"]["loads_unassigned"] == 0
    # What changed: the transfer pickup is a new stop of CT2, CT1's deliveries moved to CT2, and
    # CT1's done pickup stays where it was (one id per step: issue 15's hand-off found a clash).
    changes = answer["changes"]
    loaded_id = _route(routes, "CT1")["steps"][first]["id"]
    load_id = loaded_id.split(":")[0]
    assert [(s["id"], s["vehicle"]) for s in changes["new_stops"]] == [
        (f"{load_id}:transfer", "CT2")
    ], changes
    assert {"id": f"{load_id}:drop", "from": "CT1", "to": "CT2"} in changes["moved"], changes
    assert loaded_id not in {m["id"] for m in changes["moved"]}, changes
    assert loaded_id not in {s["id"] for s in changes["eta_shifts"]}, changes
    assert set(answer["links"]["sheets"]) >= {"CT1", "CT2"}

    document = user("coord79").get(f"/plans/{PLAN_ID}/routes/{new_id}").get_json()
    broken = _route(document, "CT1")
    assert broken["broken_down"] and broken["steps"][-1]["type"] == "end"
    old_steps = _route(routes, "CT1")["steps"][: first + 1]
    assert [(s.get("id"), s["arrival"]) for s in broken["steps"][: first + 1]] == [
        (s.get("id"), s["arrival"]) for s in old_steps
    ]
    transfer = [s for s in _route(document, "CT2")["steps"] if s["place_id"] == "transfer-CT1"]
    assert sum(s["quantity"] for s in transfer) == loaded
    assert document["meta"] == {
        "created_by": "dispatcher",
        "created_at": document["meta"]["created_at"],
        "replan_of": ROUTES_ID,
    }
    # The published routes are untouched; the new ones draw and print like any routes.
    old = user("coord79").get(f"/plans/{PLAN_ID}/routes/{ROUTES_ID}").get_json()
    assert old == routes
    geojson = user("coord79").get(f"/plans/{PLAN_ID}/routes/{new_id}?format=geojson")
    assert geojson.status_code == 200
    vehicles = {
        f["properties"]["vehicle"]
        for f in geojson.get_json()["features"]
        if f["properties"]["kind"] == "route"
    }
    assert {"CT1", "CT2"} <= vehicles
    sheet = user("coord79").get(answer["links"]["sheets"]["CT2"].removeprefix("/api/v1"))
    assert sheet.status_code == 200, sheet.get_data(as_text=True)
    assert "Điểm chuyển tải: xe CT1 hỏng" in sheet.get_data(as_text=True)


def test_a_replan_of_a_replan_is_accepted(user: Any, replan_app: Any, published: Any) -> None:
    # A re-plan's routes are read back as they stand (done stops, the broken truck, transfers):
    # the next events are those since that re-plan (issue 15, a live day).
    body, first_step, loaded = _breakdown_body(published[0])
    first = user("dispatcher").post(REPLAN, json=body).get_json()
    stored = user("coord79").get(f"/plans/{PLAN_ID}/routes/{first['routes_id']}").get_json()
    ct2 = _route(stored, "CT2")["steps"]
    transfer = next(i for i, s in enumerate(ct2) if s["place_id"] == "transfer-CT1")
    again = user("dispatcher").post(
        f"/plans/{PLAN_ID}/routes/{first['routes_id']}/replan",
        json={
            "now": "09:30",
            "events": [{"type": "stop_done", "vehicle": "CT2", "step": transfer}],
            "options": OPTIONS,
        },
    )
    assert again.status_code == 201, again.get_data(as_text=True)
    answer = again.get_json()
    assert answer["from_routes_id"] == first["routes_id"]
    assert answer["links"]["replaces"].endswith(first["routes_id"])
    assert _stored(replan_app) == sorted([ROUTES_ID, first["routes_id"], answer["routes_id"]])
    document = user("coord79").get(f"/plans/{PLAN_ID}/routes/{answer['routes_id']}").get_json()
    # CT1 stays broken with its done stop; CT2's transfer is done and not made again.
    assert _route(document, "CT1")["broken_down"]
    assert [s.get("done") for s in _route(document, "CT1")["steps"][1 : first_step + 1]] == [
        True
    ] * first_step
    assert _route(document, "CT2")["steps"][: transfer + 1][-1].get("done")
    pickups = [s for r in document["routes"] for s in r["steps"] if s["place_id"] == "transfer-CT1"]
    assert sum(s["quantity"] for s in pickups) == loaded
    assert answer["balance"] == {
        **answer["balance"],
        "cylinder": {**answer["balance"]["cylinder"], "unassigned": 0},
    }
    assert document["meta"]["replan_of"] == first["routes_id"]
    # A time before the re-plan it re-plans is refused, and nothing is stored.
    error = expect_error(
        user("dispatcher").post(
            f"/plans/{PLAN_ID}/routes/{answer['routes_id']}/replan",
            json={"now": "07:00", "events": []},
        ),
        422,
    )
    assert [d["field"] for d in error["details"]] == ["now"], error
    assert len(_stored(replan_app)) == 3


def _events_case(events: list[dict[str, Any]], now: str = "08:00") -> dict[str, Any]:
    return {"now": now, "events": events, "options": OPTIONS}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # a vehicle nobody knows (not in the routes, the body or the registry)
        (_events_case([{"type": "delay", "vehicle": "XX9", "minutes": 5}]), "events[0].vehicle"),
        # step 40 was never planned
        (_events_case([{"type": "stop_done", "vehicle": "CT1", "step": 40}]), "events[0].step"),
        # the second event is at fault: the index names it
        (
            _events_case(
                [
                    {"type": "delay", "vehicle": "CT1", "minutes": 5},
                    {"type": "breakdown", "vehicle": "CT1", "at": "05:00"},  # before 06:00
                ]
            ),
            "events[1].at",
        ),
        # a breakdown after now
        (_events_case([{"type": "breakdown", "vehicle": "TK1", "at": "10:00"}]), "events[0].at"),
        # delivered more than was loaded
        (
            _events_case([{"type": "stop_done", "vehicle": "CT1", "step": 1, "quantity": 999}]),
            "events[0].quantity",
        ),
        # an unknown event type
        (_events_case([{"type": "flood"}]), "events[0].type"),
        # a key the event type does not take
        (
            _events_case([{"type": "delay", "vehicle": "CT1", "minutes": 5, "km": 3}]),
            "events[0].km",
        ),
        # urgent request for a place that is not a facility of the plan
        (
            _events_case(
                [
                    {
                        "type": "urgent_request",
                        "facility_id": "nowhere",
                        "product": "cylinder",
                        "quantity": 5,
                        "needed_by": "11:00",
                    }
                ]
            ),
            "events[0].facility_id",
        ),
        # events is not a list
        (_events_case({"type": "delay"}), "events"),  # type: ignore[arg-type]
        ({"now": "08:00", "options": OPTIONS}, "events"),  # missing
        (_events_case([], now="05:30"), "now"),  # before the routes start (06:00)
        (_events_case([], now="2021-08-21T09:30:00+07:00"), "now"),  # the next day
        (_events_case([], now="half past nine"), "now"),
        (_events_case([], now="2021-08-20T09:30:00"), "now"),  # no offset
        ({"events": []}, "now"),  # missing
        ({**_events_case([]), "colour": "red"}, "colour"),  # unknown key
        ({**_events_case([]), "options": {"move_penalty_s": -1}}, "options.move_penalty_s"),
        ({**_events_case([]), "options": {"speed": 2}}, "options.speed"),
        ({**_events_case([]), "vehicles": [{**CT2, "kind": "bicycle"}]}, "vehicles[0].kind"),
        ({**_events_case([]), "vehicles": []}, "vehicles"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_stores_nothing(
    user: Any, replan_app: Any, body: dict[str, Any], field: str
) -> None:
    error = expect_error(user("dispatcher").post(REPLAN, json=body), 422)
    assert field in [d["field"] for d in error["details"]], error
    assert _stored(replan_app) == [ROUTES_ID]


def test_every_problem_is_listed_once(user: Any) -> None:
    body = {
        "now": "half past nine",
        "events": [
            {"type": "delay", "vehicle": "CT1", "minutes": 0},
            {"type": "stop_done", "vehicle": "CT1"},
        ],
        "options": {"seed": -1},
    }
    error = expect_error(user("dispatcher").post(REPLAN, json=body), 422)
    fields = [d["field"] for d in error["details"]]
    assert fields == ["now", "events[0].minutes", "events[1].step", "options.seed"], error


@pytest.mark.parametrize("username", ["coord01", "planner", "ministry", "repA", "admin"])
def test_other_roles_and_provinces_are_refused(
    user: Any, replan_app: Any, published: Any, username: str
) -> None:
    body, _, _ = _breakdown_body(published[0])
    expect_error(user(username).post(REPLAN, json=body), 403)
    assert _stored(replan_app) == [ROUTES_ID]


def test_without_a_token_is_401(user: Any, replan_app: Any) -> None:
    expect_error(user(None).post(REPLAN, json=_events_case([])), 401)
    assert _stored(replan_app) == [ROUTES_ID]


def test_the_provinces_coordinator_may_replan(user: Any, published: Any) -> None:
    # An empty list of events re-plans the rest of the day from now, as it stands.
    created = user("coord79").post(REPLAN, json=_events_case([], now="06:30"))
    assert created.status_code == 201, created.get_data(as_text=True)
    answer = created.get_json()
    assert answer["changes"]["counts"]["moved"] == 0
    assert answer["balance"]["cylinder"]["delivered_done"] == 0
    routes, _ = published
    assert answer["balance"]["cylinder"]["routed"] == sum(
        load["quantity"] for load in routes["loads"] if load["product"] == "cylinder"
    )


def test_unknown_ids_are_404_and_malformed_json_400(user: Any, replan_app: Any) -> None:
    body = _events_case([])
    expect_error(
        user("dispatcher").post(f"/plans/{'c' * 32}/routes/{ROUTES_ID}/replan", json=body), 404
    )
    expect_error(
        user("dispatcher").post(f"/plans/{PLAN_ID}/routes/{'c' * 32}/replan", json=body), 404
    )
    response = user("dispatcher").post(
        REPLAN, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    expect_error(response, 400)
    assert _stored(replan_app) == [ROUTES_ID]


def test_the_registry_fleet_may_take_work(user: Any, replan_app: Any, published: Any) -> None:
    # Without vehicles in the body, the registry's trucks may collect a broken truck's load.
    from data.schema.registry import Supplier, SupplierKind, TransportOperator, Vehicle, VehicleKind

    store = replan_app.extensions["oxyroute"].store
    store.create_records(
        [
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
            )
        ],
        actor="test",
    )
    body, _, loaded = _breakdown_body(published[0])
    body = copy.deepcopy({k: v for k, v in body.items() if k != "vehicles"})
    created = user("dispatcher").post(REPLAN, json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    answer = created.get_json()
    assert answer["balance"]["cylinder"]["unassigned"] == 0
    document = user("coord79").get(f"/plans/{PLAN_ID}/routes/{answer['routes_id']}").get_json()
    ct9 = _route(document, "CT9")
    assert ct9["plate"] == "51D-999.99"
    assert sum(s["quantity"] for s in ct9["steps"] if s["place_id"] == "transfer-CT1") == loaded


def test_openapi_lists_the_replan_path(user: Any) -> None:
    paths = user(None).get("/openapi.json").get_json()["paths"]
    operation = paths["/plans/{plan_id}/routes/{routes_id}/replan"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["now", "events"]
