"""Plan hand-off: listing, approval and publication by role, 409s, deliveries from route stops.

The published plan is District 5's hand-made plan (:mod:`tests.web.deliveries_world`): routing
its day 0 gives three drop stops, which publishing turns into three planned deliveries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.coordination.test_dispatch import HOA_HAO, NGUYEN_TRAI, NTP
from tests.web.conftest import expect_error
from tests.web.deliveries_world import (  # noqa: F401 - the fixtures are used by name
    PLAN_ID,
    app_store_fixture,
    handoff_app_fixture,
    publish,
    route_plan,
    user_fixture,
)


def test_publish_turns_route_stops_into_planned_deliveries(user: Any, app_store: Any) -> None:
    answer = publish(user)
    assert answer["state"] == "published" and answer["published_by"] == "coord79"
    assert answer["approved_by"] == "coord79" and answer["deliveries_created"] == 3
    assert answer["unregistered_suppliers"] == []
    by_facility = {d["facility_id"]: d for d in answer["deliveries"]}
    assert set(by_facility) == {NTP, HOA_HAO, NGUYEN_TRAI}
    ntp = by_facility[NTP]
    # 1.5 t of liquid oxygen: 1,500 kg, 1,050 m³ at 700 m³/t, on the tanker from Air Liquide.
    assert ntp["product"] == "liquid" and ntp["planned_liquid_kg"] == 1500.0
    assert ntp["planned_m3"] == 1050.0 and ntp["vehicle_id"] == "TK1"
    assert (
        ntp["supplier_id"] == "ALV-SHTP" and ntp["facility_name"] == "Bệnh viện Nguyễn Tri Phương"
    )
    assert ntp["supplier_name"].startswith("Air Liquide Việt Nam")
    assert by_facility[HOA_HAO]["planned_cylinders"] == 100
    assert by_facility[HOA_HAO]["planned_m3"] == 600.0
    assert by_facility[NGUYEN_TRAI]["planned_cylinders"] == 40
    (routes_id,) = answer["routes_ids"]
    routes = user("coord79").get(f"/plans/{PLAN_ID}/routes/{routes_id}").get_json()
    arrivals = {
        (route["vehicle"], index): step["arrival"]
        for route in routes["routes"]
        for index, step in enumerate(route["steps"])
        if step["type"] == "delivery"
    }
    assert len(arrivals) == 3
    for delivery in answer["deliveries"]:
        assert delivery["state"] == "planned" and delivery["plan_id"] == PLAN_ID
        eta = dt.datetime.fromisoformat(delivery["eta"])
        # the ETA is the stop's arrival on the route, to the second (stored as UTC, shown local)
        arrival = arrivals[(delivery["vehicle_id"], delivery["stop_index"])]
        assert eta == dt.datetime.fromisoformat(arrival)
        assert delivery["eta"] == dt.datetime.fromisoformat(arrival).isoformat()
        # ETAs are aware, Asia/Ho_Chi_Minh, on the plan's day (20 August 2021), in the shift.
        assert eta.utcoffset() == dt.timedelta(hours=7)
        assert eta.date() == dt.date(2021, 8, 20) and 6 <= eta.hour < 18
    # every delivery left an audit row in the publishing transaction
    audited = {e.entity_id for e in app_store.audit_trail(entity="deliveries")}
    assert {str(d["delivery_id"]) for d in answer["deliveries"]} <= audited


def test_publishing_again_is_idempotent(user: Any) -> None:
    first = publish(user)
    again = user("coord79").post(f"/plans/{PLAN_ID}/publish")
    assert again.status_code == 200
    assert again.get_json()["deliveries_created"] == 0
    assert again.get_json()["deliveries_existing"] == 3
    listed = user("coord79").get(f"/deliveries?plan_id={PLAN_ID}").get_json()
    assert listed["count"] == 3 and first["routes_ids"] == again.get_json()["routes_ids"]


def test_publish_needs_approval_and_approval_a_draft(user: Any) -> None:
    route_plan(user)
    error = expect_error(user("coord79").post(f"/plans/{PLAN_ID}/publish"), 409)
    assert "must be approved" in error["message"]
    approved = user("coord79").post(f"/plans/{PLAN_ID}/approve", json={"version": 1})
    assert approved.status_code == 200 and approved.get_json()["version"] == 2
    # approving twice: it is no longer a draft
    expect_error(user("coord79").post(f"/plans/{PLAN_ID}/approve"), 409)
    # a stale version: another coordinator changed it since
    stale = expect_error(
        user("coord79").post(f"/plans/{PLAN_ID}/publish", json={"version": 1}), 409
    )
    assert "version" in stale["message"]
    assert user("admin").post(f"/plans/{PLAN_ID}/publish", json={"version": 2}).status_code == 200


def test_publish_without_routes_is_refused(user: Any) -> None:
    assert user("coord79").post(f"/plans/{PLAN_ID}/approve").status_code == 200
    error = expect_error(user("coord79").post(f"/plans/{PLAN_ID}/publish"), 422)
    assert error["details"][0]["field"] == "routes_id"
    # nothing was stored: the plan is still approved, not published
    listed = user("planner").get("/plans").get_json()["plans"]
    assert [p["state"] for p in listed] == ["approved"]


@pytest.mark.parametrize("username", ["coord01", "dispatcher", "planner", "ministry", "repA"])
def test_only_the_province_coordinator_or_an_admin_approves(user: Any, username: str) -> None:
    expect_error(user(username).post(f"/plans/{PLAN_ID}/approve"), 403)
    expect_error(user(username).post(f"/plans/{PLAN_ID}/publish"), 403)
    expect_error(user(None).post(f"/plans/{PLAN_ID}/approve"), 401)


def test_dispatchers_see_published_plans_only(user: Any) -> None:
    route_plan(user)
    assert user("coord79").post(f"/plans/{PLAN_ID}/approve").status_code == 200
    assert user("dispatcher").get("/plans").get_json()["plans"] == []
    expect_error(user("dispatcher").get(f"/plans/{PLAN_ID}"), 403)
    expect_error(user("dispatcher").get("/plans?state=approved"), 403)
    assert user("coord79").post(f"/plans/{PLAN_ID}/publish").status_code == 200
    (listed,) = user("dispatcher").get("/plans").get_json()["plans"]
    assert listed["plan_id"] == PLAN_ID and listed["state"] == "published"
    assert user("dispatcher").get(f"/plans/{PLAN_ID}").status_code == 200


def test_bad_bodies_are_refused_naming_the_field(user: Any) -> None:
    for body, field in (
        ({"version": "2"}, "version"),  # text, not a number
        ({"colour": "red"}, "colour"),  # unknown key
    ):
        error = expect_error(user("coord79").post(f"/plans/{PLAN_ID}/approve", json=body), 422)
        assert error["details"][0]["field"] == field
    expect_error(user("coord79").post(f"/plans/{'e' * 32}/approve"), 404)
    expect_error(
        user("coord79").post(f"/plans/{PLAN_ID}/publish", json={"routes_id": "f" * 32}), 404
    )
    expect_error(user("planner").get("/plans?state=lost"), 400)
    expect_error(user("planner").get("/plans?date=20-08-2021"), 400)


REPORT = {
    "report_date": "2021-08-19",
    "oxygen_used_24h_m3": 150.0,
    "patients_cannula_mask": 20,
    "patients_high_flow": 4,
    "patients_invasive": 2,
    "cylinders_full": {"40L": 10},
}


def test_a_computed_plan_is_listed_as_a_draft_with_its_headline(user: Any, clock: Any) -> None:
    assert user("repA").post("/facilities/79-A/reports", json=REPORT).status_code == 201
    body = {"region": "hcmc_d5", "date": "2021-08-20", "horizon_days": 2}
    created = user("coord79").post("/plans", json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    plan_id = created.get_json()["plan_id"]
    for username in ("coord79", "planner"):
        (listed,) = user(username).get("/plans?region=hcmc_d5&date=2021-08-20").get_json()["plans"]
        assert listed["plan_id"] == plan_id and listed["state"] == "draft"
        assert listed["created_by"] == "coord79" and listed["headline"]
        assert listed["plan_date"] == "2021-08-20" and listed["horizon_days"] == 2
        # who/when in Asia/Ho_Chi_Minh: the test clock's 02:00 UTC is 09:00 local
        assert listed["created_at"] == "2021-08-20T09:00:00+07:00"
    assert user("coord01").get("/plans").get_json()["plans"] == []
    assert user("planner").get("/plans?date=2021-08-21").get_json()["plans"] == []
    assert user("planner").get("/plans?state=published").get_json()["plans"] == []
    for username in ("repA", "ministry"):
        expect_error(user(username).get("/plans"), 403)
