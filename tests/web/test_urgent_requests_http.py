"""HTTP tests of urgent requests (SOS): filing, decisions, concurrency, sourcing and dispatch.

The world: facilities 79-A (Chợ Rẫy, by District 5), 79-N (Nguyễn Tri Phương, in District 5)
and 79-B (Gia Định, off the District 5 map) of province 79, 01-C of Hà Nội; the
clock at 2021-08-20 09:00 in Hồ Chí Minh City; the served region is District 5 (its suppliers
reached through the gateways), with the filling station TDS and the plant ALV-SHTP in the
registry and a cylinder truck and a tanker homed at them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Client, expect_error, user_factory

NEEDED_BY = "2021-08-20T18:00:00+07:00"
TDS = {
    "supplier_id": "TDS",
    "name": "Thép Thủ Đức - trạm nạp oxy",
    "kind": "filling_station",
    "province_code": "79",
    "lon": 106.7600,
    "lat": 10.8420,
    "cylinders_per_day": 300,
}
ALV = {
    "supplier_id": "ALV-SHTP",
    "name": "Air Liquide Việt Nam - Khu Công nghệ cao TP.HCM",
    "kind": "liquid_producer",
    "province_code": "79",
    "lon": 106.7960,
    "lat": 10.8460,
    "liquid_output_t_per_day": 6.8,
}


@pytest.fixture
def sos_app(db_url: str, clock: Any, tmp_path: Any):  # type: ignore[no-untyped-def]
    """Yield an app serving District 5 only, with two suppliers and two vehicles registered."""
    from api import ApiConfig, create_app
    from data.schema.registry import Facility, Supplier, TransportOperator, Vehicle

    application = create_app(
        ApiConfig(database_url=db_url, clock=clock, plans_dir=str(tmp_path), regions=("hcmc_d5",))
    )
    store = application.extensions["oxyroute"].store
    store.create_records(
        [
            Supplier.from_mapping(TDS),
            Supplier.from_mapping(ALV),
            TransportOperator(operator_id="OP-1", name="Đội xe thử"),
            Facility(
                facility_id="79-N",
                name="Bệnh viện Nguyễn Tri Phương",
                province_code="79",
                lon=106.6730,
                lat=10.7565,
                tier=3,
            ),
        ],
        actor="fixture",
    )
    store.create_records(
        [
            Vehicle.from_mapping(
                {
                    "vehicle_id": "CT-1",
                    "operator_id": "OP-1",
                    "kind": "cylinder_truck",
                    "cylinder_capacity": 80,
                    "home_depot_id": "TDS",
                }
            ),
            Vehicle.from_mapping(
                {
                    "vehicle_id": "TK-1",
                    "operator_id": "OP-1",
                    "kind": "cryogenic_tanker",
                    "tank_capacity_lox_kg": 5500,
                    "home_depot_id": "ALV-SHTP",
                }
            ),
        ],
        actor="fixture",
    )
    yield application
    store.engine.dispose()


@pytest.fixture
def sos_user(sos_app: Any, template_db: Any):  # type: ignore[no-untyped-def]
    return user_factory(sos_app, template_db)


def _file(client: Client, **changes: Any) -> Any:
    body = {
        "facility_id": "79-A",
        "product": "cylinders",
        "requested_cylinders": 40,
        "needed_by": NEEDED_BY,
        "reason": "Bệnh nhân thở máy tăng đột biến",
        "contact_name": "Nguyễn Thị Hồng",
        "contact_phone": "+84 903 123 456",
        **changes,
    }
    return client.post("/requests", json={k: v for k, v in body.items() if v is not None})


def _counts(app: Any) -> tuple[int, int, int]:
    """Rows of urgent requests, deliveries and audit events (equal before and after: no write)."""
    from sqlalchemy import func, select

    from data.db.models import audit_events, deliveries, urgent_requests

    with app.extensions["oxyroute"].store.engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (urgent_requests, deliveries, audit_events)
        )


def _audit(app: Any, request_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    store = app.extensions["oxyroute"].store
    events = store.audit_trail(entity="urgent_requests", entity_id=str(request_id))
    return [(e.action, e.actor, e.detail) for e in events]


def test_a_reporter_files_a_request_and_names_survive(sos_app: Any, sos_user: Any) -> None:
    filed = _file(sos_user("repA"))
    assert filed.status_code == 201, filed.get_json()
    body = filed.get_json()
    assert filed.headers["Location"] == f"/api/v1/requests/{body['request_id']}"
    assert filed.headers["ETag"] == '"1"'
    assert body["state"] == "requested" and body["version"] == 1
    assert body["facility_name"] == "Bệnh viện Chợ Rẫy"
    assert body["province_code"] == "79"
    assert body["reason"] == "Bệnh nhân thở máy tăng đột biến"
    assert body["contact_name"] == "Nguyễn Thị Hồng"
    assert body["needed_by"] == "2021-08-20T11:00:00+00:00"
    assert body["needed_by_local"] == "2021-08-20T18:00:00+07:00"
    assert body["state_label_vi"] == "Chờ duyệt" and body["state_label_en"] == "Requested"
    again = sos_user("coord79").get(f"/requests/{body['request_id']}")
    assert again.get_json() == body
    assert _audit(sos_app, body["request_id"])[0][:2] == ("file", "repA")


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        # the deadline has passed (the clock is 09:00 local)
        ({"needed_by": "2021-08-20T08:59:00+07:00"}, "needed_by", "later than now"),
        # a time without its offset is ambiguous
        ({"needed_by": "2021-08-20T18:00:00"}, "needed_by", "UTC offset"),
        ({"needed_by": "tomorrow"}, "needed_by", "ISO 8601"),
        ({"product": "gas"}, "product", "liquid or cylinders"),
        # the quantity of the other product
        ({"product": "liquid"}, "requested_liquid_kg", "kg of liquid oxygen"),
        ({"requested_cylinders": 0}, "requested_cylinders", "from 1 to"),
        ({"requested_cylinders": 2.5}, "requested_cylinders", "whole number"),
        ({"reason": "  "}, "reason", "non-empty"),
        ({"reason": None}, "reason", "required"),
        ({"contact_phone": "call me"}, "contact_phone", "digits"),
        ({"priority": "high"}, "priority", "unknown key"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(
    sos_app: Any, sos_user: Any, changes: dict[str, Any], field: str, text: str
) -> None:
    before = _counts(sos_app)
    error = expect_error(_file(sos_user("coord79"), **changes), 422)
    fields = {d["field"]: d["reason"] for d in error["details"]}
    assert field in fields and text in fields[field], error
    assert _counts(sos_app) == before


def test_every_problem_is_listed_once(sos_user: Any) -> None:
    error = expect_error(
        _file(sos_user("coord79"), product="liquid", requested_cylinders=3, reason=""), 422
    )
    assert {d["field"] for d in error["details"]} == {
        "requested_cylinders",
        "requested_liquid_kg",
        "reason",
    }


@pytest.mark.parametrize(
    ("user", "facility_id", "status"),
    [
        ("repB", "79-A", 403),  # another facility's reporter
        ("coord01", "79-A", 403),  # another province's officer
        ("dispatcher", "79-A", 403),  # dispatchers do not file
        ("planner", "79-A", 403),
        ("coord79", "79-Z", 403),  # no such facility: not one of its province's (no leak)
        ("admin", "79-Z", 404),  # no such facility
    ],
)
def test_who_may_not_file(
    sos_app: Any, sos_user: Any, user: str, facility_id: str, status: int
) -> None:
    before = _counts(sos_app)
    expect_error(_file(sos_user(user), facility_id=facility_id), status)
    assert _counts(sos_app) == before


def test_approve_with_a_different_quantity_needs_a_reason(sos_app: Any, sos_user: Any) -> None:
    request_id = _file(sos_user("repA")).get_json()["request_id"]
    coord = sos_user("coord79")
    before = _counts(sos_app)
    error = expect_error(
        coord.post(
            f"/requests/{request_id}/approve", json={"version": 1, "approved_cylinders": 30}
        ),
        422,
    )
    assert error["details"][0]["field"] == "reason"
    assert "40 cylinders requested, 30 cylinders approved" in error["details"][0]["reason"]
    assert _counts(sos_app) == before
    approved = coord.post(
        f"/requests/{request_id}/approve",
        json={"version": 1, "approved_cylinders": 30, "reason": "Kho TDS còn 30 bình"},
    )
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert (body["state"], body["version"], body["approved_cylinders"]) == ("approved", 2, 30)
    assert body["requested_cylinders"] == 40 and body["decision_reason"] == "Kho TDS còn 30 bình"
    action, actor, detail = _audit(sos_app, request_id)[-1]
    assert (action, actor) == ("approve", "coord79")
    assert detail["from"] == "requested" and detail["to"] == "approved"
    assert detail["requested_cylinders"] == 40 and detail["approved_cylinders"] == 30
    assert detail["reason"] == "Kho TDS còn 30 bình"


def test_two_coordinators_approving_at_once_one_wins(sos_user: Any) -> None:
    request_id = _file(sos_user("repA")).get_json()["request_id"]
    first = sos_user("coord79").post(f"/requests/{request_id}/approve", json={"version": 1})
    assert first.status_code == 200
    second = sos_user("admin").post(
        f"/requests/{request_id}/reject", json={"version": 1, "reason": "trùng"}
    )
    error = expect_error(second, 409)
    assert "version 2" in error["message"] and "you sent 1" in error["message"]
    assert error["current"]["state"] == "approved" and error["current"]["version"] == 2
    assert second.headers["ETag"] == '"2"'


def test_if_match_carries_the_version(sos_user: Any) -> None:
    request_id = _file(sos_user("repA")).get_json()["request_id"]
    coord = sos_user("coord79")
    stale = coord.post(f"/requests/{request_id}/approve", headers={"If-Match": '"7"'})
    assert expect_error(stale, 409)["current"]["version"] == 1
    ok = coord.post(f"/requests/{request_id}/approve", headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    missing = expect_error(coord.post(f"/requests/{request_id}/cancel", json={}), 422)
    assert missing["details"][0]["field"] == "version"


def test_reject_needs_a_reason_and_is_final(sos_app: Any, sos_user: Any) -> None:
    request_id = _file(sos_user("repA")).get_json()["request_id"]
    coord = sos_user("coord79")
    error = expect_error(coord.post(f"/requests/{request_id}/reject", json={"version": 1}), 422)
    assert error["details"][0]["field"] == "reason"
    rejected = coord.post(
        f"/requests/{request_id}/reject",
        json={"version": 1, "reason": "Đã nhận đủ từ kế hoạch hôm nay"},
    )
    assert rejected.get_json()["state"] == "rejected"
    error = expect_error(coord.post(f"/requests/{request_id}/approve", json={"version": 2}), 409)
    assert "cannot become approved" in error["message"]
    assert [a for a, _, _ in _audit(sos_app, request_id)] == ["file", "reject"]


@pytest.mark.parametrize(
    ("user", "action", "status"),
    [
        ("repA", "approve", 403),  # a reporter files and cancels, never decides
        ("coord01", "approve", 403),  # another province
        ("dispatcher", "approve", 403),
        ("repB", "cancel", 403),  # another facility's reporter
        ("ministry", "cancel", 403),  # reads only
        ("repA", "dispatch", 403),
    ],
)
def test_who_may_not_change_a_request(
    sos_app: Any, sos_user: Any, user: str, action: str, status: int
) -> None:
    request_id = _file(sos_user("repA")).get_json()["request_id"]
    before = _counts(sos_app)
    expect_error(
        sos_user(user).post(f"/requests/{request_id}/{action}", json={"version": 1}), status
    )
    assert _counts(sos_app) == before


def test_unknown_request_is_404(sos_user: Any) -> None:
    expect_error(sos_user("coord79").get("/requests/999"), 404)
    expect_error(sos_user("coord79").post("/requests/999/approve", json={"version": 1}), 404)


def test_source_then_dispatch_creates_the_delivery(sos_app: Any, sos_user: Any) -> None:
    from sqlalchemy import select

    from data.db.models import deliveries

    reporter, coord, dispatcher = sos_user("repA"), sos_user("coord79"), sos_user("dispatcher")
    request_id = _file(reporter).get_json()["request_id"]
    expect_error(dispatcher.get(f"/requests/{request_id}/options"), 409)  # not approved yet
    coord.post(f"/requests/{request_id}/approve", json={"version": 1})
    answer = dispatcher.get(f"/requests/{request_id}/options")
    assert answer.status_code == 200, answer.get_json()
    options = answer.get_json()["options"]
    assert [o["option_id"] for o in options] == ["trip:TDS:CT-1"]  # the tanker cannot carry
    option = options[0]
    assert option["supplier_name"] == "Thép Thủ Đức - trạm nạp oxy"  # the name beside the id
    assert option["meets_needed_by"] and option["to_supplier_min"] == 0.0
    # loading 40 cylinders at TDS: 15 min + 40 x 20 s
    assert option["loading_min"] == pytest.approx(28.3, abs=0.05)
    # TDS -> Chợ Rẫy: 25.3 min to the District 5 gateway (hcmc_d5.toml) plus the last streets
    assert 25.3 < option["to_facility_min"] < 40
    before = _counts(sos_app)
    wrong = expect_error(
        dispatcher.post(f"/requests/{request_id}/source", json={"version": 2, "option_id": "x"}),
        422,
    )
    assert wrong["details"][0]["field"] == "option_id"
    assert "trip:TDS:CT-1" in wrong["details"][0]["reason"]
    assert _counts(sos_app) == before
    sourced = dispatcher.post(
        f"/requests/{request_id}/source", json={"version": 2, "option_id": "trip:TDS:CT-1"}
    ).get_json()
    assert sourced["state"] == "sourced" and sourced["sourcing"]["vehicle_id"] == "CT-1"
    assert sourced["sourcing"]["region"] == "hcmc_d5"
    dispatched = dispatcher.post(f"/requests/{request_id}/dispatch", json={"version": 3})
    assert dispatched.status_code == 200, dispatched.get_json()
    body = dispatched.get_json()
    assert body["state"] == "dispatched" and body["delivery_state"] == "in_transit"
    with sos_app.extensions["oxyroute"].store.engine.connect() as connection:
        row = (
            connection.execute(select(deliveries).where(deliveries.c.request_id == request_id))
            .one()
            ._mapping
        )
    assert row["delivery_id"] == body["delivery_id"]
    assert (row["supplier_id"], row["vehicle_id"], row["state"]) == ("TDS", "CT-1", "in_transit")
    assert row["planned_cylinders"] == 40 and row["planned_m3"] == pytest.approx(240.0)
    assert row["eta"].replace(tzinfo=None).isoformat() == option["eta"][:19]
    expect_error(dispatcher.post(f"/requests/{request_id}/cancel", json={"version": 4}), 403)
    error = expect_error(coord.post(f"/requests/{request_id}/cancel", json={"version": 4}), 409)
    assert "dispatched" in error["message"]
    assert [a for a, _, _ in _audit(sos_app, request_id)] == [
        "file",
        "approve",
        "source",
        "dispatch",
    ]


def test_an_insertion_into_todays_route_and_what_it_delays(sos_app: Any, sos_user: Any) -> None:
    import datetime as dt

    from sqlalchemy import insert

    from data.db.models import deliveries

    store = sos_app.extensions["oxyroute"].store
    now = dt.datetime(2021, 8, 20, 2, 0, tzinfo=dt.UTC)
    with store.engine.begin() as connection:
        for index, (facility_id, eta_h, cylinders) in enumerate(
            [("79-N", 1.0, 20), ("79-A", 2.0, 10)]
        ):
            connection.execute(
                insert(deliveries).values(
                    facility_id=facility_id,
                    supplier_id="TDS",
                    vehicle_id="CT-1",
                    routes_id="r" * 32,
                    stop_index=index,
                    product="cylinders",
                    planned_cylinders=cylinders,
                    planned_m3=cylinders * 6.0,
                    eta=now + dt.timedelta(hours=eta_h),
                    state="planned",
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
            )
    request_id = _file(sos_user("repA"), requested_cylinders=30).get_json()["request_id"]
    sos_user("coord79").post(f"/requests/{request_id}/approve", json={"version": 1})
    options = sos_user("dispatcher").get(f"/requests/{request_id}/options").get_json()
    # CT-1 is on today's route (80 cylinders, 30 on board still to deliver: 50 spare)
    assert [o["kind"] for o in options["options"]] == ["insertion"]
    insertion = options["options"][0]
    assert insertion["vehicle_id"] == "CT-1" and insertion["supplier_id"] == "TDS"
    # cheapest: after Nguyễn Tri Phương (79-N) and before Chợ Rẫy: the drop is at Chợ Rẫy itself, so the
    # detour is only the unloading (10 min + 30 x 30 s = 25 min) and Chợ Rẫy's own stop waits
    assert insertion["after_stop_index"] == 0
    assert insertion["detour_min"] == pytest.approx(25.0)
    assert [d["facility_id"] for d in insertion["delays"]] == ["79-A"]
    assert insertion["delays"][0]["delay_min"] == pytest.approx(25.0)
    assert options["nearest_supplier_ids"] == ["TDS"]
    # it leaves Nguyễn Tri Phương at 10:00 + 10 min + 20 x 30 s = 10:20 local, then drives
    assert insertion["eta"] > "2021-08-20T03:20:00+00:00"
    assert insertion["delays"][0]["eta_after"] == "2021-08-20T04:25:00+00:00"


def test_the_board_and_the_filters_follow_the_scope(sos_user: Any) -> None:
    first = _file(sos_user("repA")).get_json()["request_id"]
    _file(sos_user("repB"), facility_id="79-B", needed_by="2021-08-20T12:00:00+07:00")
    _file(sos_user("repC"), facility_id="01-C")
    sos_user("coord79").post(f"/requests/{first}/approve", json={"version": 1})

    def ids(user: str, query: str = "") -> list[str]:
        answer = sos_user(user).get(f"/requests{query}")
        assert answer.status_code == 200, answer.get_json()
        return [r["facility_id"] for r in answer.get_json()["requests"]]

    assert ids("coord79") == ["79-B", "79-A"]  # by needed_by
    assert ids("repA") == ["79-A"]
    assert ids("coord01") == ["01-C"]
    assert ids("ministry") == ["79-B", "79-A", "01-C"]
    assert ids("ministry", "?province_code=01") == ["01-C"]
    assert ids("planner", "?state=approved") == ["79-A"]
    assert ids("coord79", "?facility_id=79-B") == ["79-B"]
    board = sos_user("coord79").get("/requests").get_json()["board"]
    assert [c["state"] for c in board][:4] == ["requested", "approved", "sourced", "dispatched"]
    assert board[0]["label_vi"] == "Chờ duyệt" and board[1]["request_ids"] == [first]
    expect_error(sos_user("coord01").get("/requests?province_code=79"), 403)
    expect_error(sos_user("repB").get("/requests?facility_id=79-A"), 403)
    expect_error(sos_user("coord79").get("/requests?state=lost"), 400)


def test_options_need_a_served_region(sos_app: Any, sos_user: Any) -> None:
    hanoi = _file(sos_user("repC"), facility_id="01-C").get_json()["request_id"]
    sos_user("admin").post(f"/requests/{hanoi}/approve", json={"version": 1})
    error = expect_error(sos_user("admin").get(f"/requests/{hanoi}/options"), 422)
    assert "no served region covers province 01" in error["details"][0]["reason"]
    request_id = _file(sos_user("repA")).get_json()["request_id"]
    sos_user("coord79").post(f"/requests/{request_id}/approve", json={"version": 1})
    error = expect_error(
        sos_user("coord79").get(f"/requests/{request_id}/options?region=hcmc"), 422
    )
    assert error["details"][0]["field"] == "region"
    expect_error(sos_user("coord79").get(f"/requests/{request_id}/options?nearest=0"), 400)
    ok = sos_user("coord79").get(f"/requests/{request_id}/options?region=hcmc_d5&nearest=1")
    assert ok.status_code == 200 and ok.get_json()["nearest_supplier_ids"] == ["TDS"]
