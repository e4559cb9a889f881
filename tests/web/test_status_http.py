"""``GET /api/v1/status`` over HTTP: scope by role, filters, thresholds of the region, bad input.

The clock is 2021-08-20 09:00 Asia/Ho_Chi_Minh. Chợ Rẫy (79-A) reported on 19 Aug at 15:00:
30 x 40 L = 180 m³, 240 m³/24 h with 20 patients (10 m³/h, declared use); 54 m³ arrived at
06:00, 120 m³ are on their way (ETA 13:00). At 09:00: 180 + 54 - 180 = 54 m³, 5.4 h: critical.
Bạch Mai (01-C) reported the same at 08:00 on 20 Aug: 180 - 10 = 170 m³, 17 h: warning.
Gia Định (79-B) never reported: unknown.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import insert

from data.db.models import deliveries
from data.reporting import LOCAL_TZ
from data.schema.registry import DailyReport
from tests.web.conftest import expect_error


def local(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2021, 8, day, hour, tzinfo=LOCAL_TZ)


@pytest.fixture
def world(app: Any, clock: Any) -> Any:
    store = app.extensions["oxyroute"].store
    now = clock.now
    for facility_id, when in (("79-A", local(19, 15)), ("01-C", local(20, 8))):
        clock.now = when.astimezone(dt.UTC)
        store.submit_report(
            DailyReport(
                facility_id=facility_id,
                report_date=when.date(),
                oxygen_used_24h_m3=240.0,
                patients_cannula_mask=20,
                cylinders_full={"40L": 30},
            ),
            submitted_by="tester",
        )
    clock.now = now
    stamp = local(19, 8).astimezone(dt.UTC)
    common = {"facility_id": "79-A", "product": "cylinders", "created_at": stamp}
    with store.engine.begin() as connection:
        for row in [
            {
                **common,
                "planned_m3": 54.0,
                "state": "delivered",
                "received_m3": 54.0,
                "received_at": local(20, 6).astimezone(dt.UTC),
                "updated_at": stamp,
                "version": 2,
            },
            {
                **common,
                "planned_m3": 120.0,
                "state": "in_transit",
                "eta": local(20, 13).astimezone(dt.UTC),
                "updated_at": stamp,
                "version": 1,
            },
        ]:
            connection.execute(insert(deliveries).values(**row))
    return store


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [s["facility_id"] for s in response.get_json()["statuses"]]


def test_a_national_role_sees_every_facility_most_urgent_first(world: Any, as_user: Any) -> None:
    response = as_user("ministry").get("/status")
    assert ids(response) == ["79-A", "01-C", "79-B"]
    body = response.get_json()
    assert body["at"] == "2021-08-20T09:00:00+07:00"
    assert body["counts"] == {"critical": 1, "warning": 1, "unknown": 1, "ok": 0}
    a = body["statuses"][0]
    assert a["name"] == "Bệnh viện Chợ Rẫy"
    assert a["level"] == "critical"
    assert a["hours_to_empty"] == 5.4
    assert a["stock_m3"] == 54.0
    assert a["burn_m3_per_h"] == 10.0
    assert a["burn_basis"] == "declared use"
    assert a["report_date"] == "2021-08-19"
    assert a["report_age_h"] == 18.0
    assert a["in_transit_m3"] == 120.0
    assert a["next_arrival"] == "2021-08-20T13:00:00+07:00"
    assert a["runs_dry_at"] == "2021-08-20T14:24:00+07:00"
    c = body["statuses"][1]
    assert (c["level"], c["hours_to_empty"], c["report_age_h"]) == ("warning", 17.0, 1.0)
    b = body["statuses"][2]
    assert b["level"] == "unknown" and b["hours_to_empty"] is None and b["stock_m3"] is None


def test_scope_by_role(world: Any, as_user: Any) -> None:
    assert ids(as_user("coord79").get("/status")) == ["79-A", "79-B"]
    assert ids(as_user("coord01").get("/status")) == ["01-C"]
    assert ids(as_user("repA").get("/status")) == ["79-A"]
    assert ids(as_user("repA").get("/status?facility_id=79-A")) == ["79-A"]
    assert ids(as_user("coord79").get("/status?facility_id=79-B")) == ["79-B"]
    # outside the caller's scope: refused, never filtered into an empty list of someone else's
    expect_error(as_user("repA").get("/status?facility_id=79-B"), 403)
    expect_error(as_user("repA").get("/status?province_code=01"), 403)
    expect_error(as_user("coord79").get("/status?province_code=01"), 403)
    expect_error(as_user("coord79").get("/status?facility_id=01-C"), 403)
    expect_error(as_user(None).get("/status"), 401)


def test_filters(world: Any, as_user: Any) -> None:
    user = as_user("admin")
    assert ids(user.get("/status?province_code=79")) == ["79-A", "79-B"]
    assert ids(user.get("/status?level=warning")) == ["01-C"]
    assert ids(user.get("/status?level=ok")) == []
    assert ids(user.get("/status?facility_id=01-C")) == ["01-C"]
    # at 15:00 Chợ Rẫy is empty (180 + 54 - 240 < 0); Bạch Mai has 180 - 70 = 110 m³, 11 h
    later = user.get("/status?at=2021-08-20T15:00:00%2B07:00").get_json()
    by_id = {s["facility_id"]: s for s in later["statuses"]}
    assert by_id["79-A"]["hours_to_empty"] == 0.0
    assert by_id["79-A"]["runs_dry_at"] == "2021-08-20T15:00:00+07:00"
    assert by_id["01-C"]["hours_to_empty"] == 11.0
    # a time without an offset is Asia/Ho_Chi_Minh time; Z is UTC
    naive = user.get("/status?at=2021-08-20T14:00:00").get_json()
    assert naive["at"] == "2021-08-20T14:00:00+07:00"
    utc = user.get("/status?at=2021-08-20T07:00:00Z").get_json()
    assert utc["at"] == "2021-08-20T14:00:00+07:00"
    # before the report of 19 Aug was stored, Chợ Rẫy had no report
    before = user.get("/status?at=2021-08-19T12:00:00&facility_id=79-A").get_json()
    assert before["statuses"][0]["level"] == "unknown"


@pytest.mark.parametrize(
    ("query", "status", "field", "reason"),
    [
        # not a date and time
        ("at=yesterday", 400, "at", "must be an ISO 8601 date and time"),
        # a date alone
        ("at=2021-08-20", 400, "at", "must be an ISO 8601 date and time"),
        # no such day
        ("at=2021-02-30T10:00", 400, "at", "must be an ISO 8601 date and time"),
        # a week ahead: a projection, not a status
        ("at=2021-08-27T10:00", 422, "at", "must not be more than 72 h after now"),
        # not a level
        ("level=red", 400, "level", "must be one of critical, warning, unknown, ok, got 'red'"),
        # not a province code
        ("province_code=HCM", 400, "province_code", "must be a two-digit code"),
        # not an id
        ("facility_id=a%20b", 400, "facility_id", "must be a facility id"),
        # a parameter the endpoint does not take
        ("lvl=critical", 400, "lvl", "unknown query parameter"),
    ],
)
def test_bad_queries_name_the_field(
    world: Any, as_user: Any, query: str, status: int, field: str, reason: str
) -> None:
    error = expect_error(as_user("admin").get(f"/status?{query}"), status)
    assert any(d["field"] == field and reason in d["reason"] for d in error["details"]), error


def test_an_unknown_facility_is_404(world: Any, as_user: Any) -> None:
    expect_error(as_user("admin").get("/status?facility_id=79-NONE"), 404)


def test_the_served_region_sets_the_thresholds(
    world: Any, db_url: str, clock: Any, tmp_path: Any, template_db: Any
) -> None:
    from api import ApiConfig, create_app
    from tests.web.conftest import user_factory

    region = tmp_path / "vung.toml"
    region.write_text(
        'name = "Vùng thử"\nprovince_code = "79"\n[roads]\noverpass_query = "Quận 5"\n'
        "[status]\ncritical_hours = 5\nwarning_hours = 12\n",
        encoding="utf-8",
    )
    served = create_app(ApiConfig(database_url=db_url, clock=clock, regions=(str(region),)))
    try:
        body = user_factory(served, template_db)("admin").get("/status").get_json()
    finally:
        served.extensions["oxyroute"].store.engine.dispose()
    by_id = {s["facility_id"]: s for s in body["statuses"]}
    # 5.4 h is above this region's 5 h: warning, not critical; Bạch Mai (01) keeps the defaults
    assert by_id["79-A"]["level"] == "warning"
    assert by_id["01-C"]["level"] == "warning"
    assert body["thresholds"]["by_province"] == {
        "79": {"critical_hours": 5.0, "warning_hours": 12.0}
    }
