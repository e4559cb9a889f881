"""Plausibility checks where reports enter the store, and the province officers' review queue.

The three bad reports of issue 13: 100,000 L of liquid in a 10,000 L tank (refused), 33,000 m³
the day after 650 m³ (stored, flagged, in the queue), 1e9 m³ with zero patients (refused).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from data.errors import InvalidInputError
from data.schema.registry import DailyReport
from tests.registry_world import FACILITY_A
from tests.web.conftest import expect_error

BASE = {
    "oxygen_used_24h_m3": 650.0,
    "patients_cannula_mask": 30,
    "patients_high_flow": 5,
    "patients_invasive": 2,
}


def _ok(response: Any, status: int) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def world(app: Any, as_user: Any) -> Any:
    """Give 79-A a 10,000 L tank and 100 cylinders; report 650 m³ on 18 August."""
    document = {**FACILITY_A.to_dict(), "liquid_tank_capacity_l": 10_000.0}
    document["cylinders_on_hand"] = {"40L": 100}
    _ok(as_user("admin").put("/facilities/79-A", json=document), 200)
    _ok(
        as_user("repA").post(
            "/facilities/79-A/reports", json={**BASE, "report_date": "2021-08-18"}
        ),
        201,
    )
    return app.extensions["oxyroute"].store


def _jump(as_user: Any) -> Any:
    body = {**BASE, "report_date": "2021-08-19", "oxygen_used_24h_m3": 33_000.0}
    return _ok(as_user("repA").post("/facilities/79-A/reports", json=body), 201)


def test_impossible_reports_are_refused_naming_field_value_limit(world: Any, as_user: Any) -> None:
    before = world.count_report_revisions()
    audit_before = len(world.audit_trail())
    rep_a = as_user("repA")
    tank = {**BASE, "report_date": "2021-08-19", "liquid_stock_l": 100_000.0}
    error = expect_error(rep_a.post("/facilities/79-A/reports", json=tank), 422)
    detail = error["details"][0]
    assert detail["field"] == "liquid_stock_l"
    assert "100,000" in detail["reason"] and "10,000" in detail["reason"]
    assert "bồn" in detail["reason"]  # the Vietnamese message too
    huge = {"report_date": "2021-08-19", "oxygen_used_24h_m3": 1e9}
    error = expect_error(rep_a.post("/facilities/79-A/reports", json=huge), 422)
    assert error["details"][0]["field"] == "oxygen_used_24h_m3"
    assert "1,001,000" in error["details"][0]["reason"]
    assert world.count_report_revisions() == before  # nothing stored
    assert len(world.audit_trail()) == audit_before
    expect_error(rep_a.get("/facilities/79-A/reports/2021-08-19"), 404)


def test_doubtful_report_is_stored_flagged_with_warnings_in_both_languages(
    world: Any, as_user: Any
) -> None:
    answer = _jump(as_user)
    rules = {w["rule_id"] for w in answer["warnings"]}
    assert rules == {"history.use_jump", "use.above_patient_flows"}
    jump = next(w for w in answer["warnings"] if w["rule_id"] == "history.use_jump")
    assert jump["field"] == "oxygen_used_24h_m3" and jump["value"] == 33_000.0
    assert jump["limit"] == 1950.0 and "median" in jump["message_en"]
    assert "trung vị" in jump["message_vi"]
    assert answer["review_status"] == "unreviewed" and answer["flags"] == answer["warnings"]
    read = _ok(as_user("coord79").get("/facilities/79-A/reports/2021-08-19"), 200)
    assert {f["rule_id"] for f in read["flags"]} == rules
    listed = _ok(
        as_user("coord79").get(
            "/reports", query_string={"date_from": "2021-08-18", "date_to": "2021-08-19"}
        ),
        200,
    )
    statuses = {r["report_date"]: r["review_status"] for r in listed["reports"]}
    assert statuses == {"2021-08-18": "unflagged", "2021-08-19": "unreviewed"}


def test_review_queue_is_scoped_and_accepting_is_audited(world: Any, as_user: Any) -> None:
    _jump(as_user)
    period = {"date_from": "2021-08-01", "date_to": "2021-08-20"}
    queue = _ok(as_user("coord79").get("/review/reports", query_string=period), 200)
    [item] = queue["items"]
    assert item["facility_name"] == "Bệnh viện Chợ Rẫy" and item["revision"] == 1
    # 33,000 against 3 x 650 (the jump) beats 3 x 734.4 m³ of patients x planning flows
    assert item["seriousness"] == pytest.approx(33_000 / 1950, abs=1e-3)
    assert _ok(as_user("coord01").get("/review/reports", query_string=period), 200)["items"] == []
    expect_error(
        as_user("coord01").get("/review/reports", query_string={**period, "province_code": "79"}),
        403,
    )
    expect_error(as_user("repA").get("/review/reports", query_string=period), 403)
    target = "/review/reports/79-A/2021-08-19/accept"
    expect_error(as_user("coord01").post(target, json={"reason": "x"}), 403)
    expect_error(as_user("repA").post(target, json={"reason": "x"}), 403)
    expect_error(as_user("coord79").post(target, json={"reason": "  "}), 422)
    expect_error(as_user("coord79").post(target, json={"reason": "ok", "revision": 2}), 409)
    expect_error(as_user("coord79").post(target, json={"reason": 5}), 400)
    review = _ok(
        as_user("coord79").post(
            target, json={"reason": "Đã gọi điện: bệnh viện mở thêm khu hồi sức", "revision": 1}
        ),
        201,
    )
    assert review["decision"] == "accepted" and review["reviewed_by"] == "coord79"
    assert _ok(as_user("coord79").get("/review/reports", query_string=period), 200)["items"] == []
    accepted = _ok(
        as_user("coord79").get("/review/reports", query_string={**period, "status": "accepted"}),
        200,
    )
    assert [i["review"]["reason"] for i in accepted["items"]] == [
        "Đã gọi điện: bệnh viện mở thêm khu hồi sức"
    ]
    [event] = [
        e
        for e in world.audit_trail(entity="reports", entity_id="79-A/2021-08-19")
        if e.action == "accept_flags"
    ]
    assert event.actor == "coord79" and event.detail["revision"] == 1
    assert set(event.detail["flags"]) == {"history.use_jump", "use.above_patient_flows"}


def test_asking_for_a_correction_then_the_correction_is_checked_again(
    world: Any, as_user: Any
) -> None:
    _jump(as_user)
    period = {"date_from": "2021-08-01", "date_to": "2021-08-20"}
    _ok(
        as_user("coord79").post(
            "/review/reports/79-A/2021-08-19/correction",
            json={"reason": "33.000 m³? Kiểm tra lại số liệu"},
        ),
        201,
    )
    read = _ok(as_user("repA").get("/facilities/79-A/reports/2021-08-19"), 200)
    assert read["review_status"] == "correction_requested"
    assert read["review"]["reason"] == "33.000 m³? Kiểm tra lại số liệu"
    waiting = _ok(
        as_user("coord79").get(
            "/review/reports", query_string={**period, "status": "correction_requested"}
        ),
        200,
    )
    assert len(waiting["items"]) == 1
    corrected = {**BASE, "report_date": "2021-08-19", "oxygen_used_24h_m3": 660.0}
    answer = _ok(as_user("repA").post("/facilities/79-A/reports", json=corrected), 201)
    assert answer["warnings"] == [] and answer["revision"] == 2
    for status in ("unreviewed", "correction_requested"):
        queue = as_user("coord79").get("/review/reports", query_string={**period, "status": status})
        assert _ok(queue, 200)["items"] == []
    events = world.audit_trail(entity="reports", entity_id="79-A/2021-08-19")
    assert [e.action for e in events] == ["submit", "request_correction", "correct"]


def test_batch_submission_refuses_all_or_nothing_and_names_each_report(world: Any) -> None:
    before = world.count_report_revisions()
    good = DailyReport(
        facility_id="79-A",
        report_date=dt.date(2021, 8, 19),
        oxygen_used_24h_m3=640.0,
        patients_cannula_mask=30,
        patients_high_flow=5,
        patients_invasive=2,
    )
    tank = DailyReport(
        facility_id="79-B",
        report_date=dt.date(2021, 8, 19),
        oxygen_used_24h_m3=10.0,
        liquid_stock_l=100_000.0,
    )
    huge = DailyReport(facility_id="79-A", report_date=dt.date(2021, 8, 20), oxygen_used_24h_m3=1e9)
    with pytest.raises(InvalidInputError) as caught:
        world.submit_reports([good, tank, huge], submitted_by="admin")
    problems = caught.value.problems
    assert problems[0].startswith("reports[2].liquid_stock_l: ")
    assert problems[1].startswith("reports[3].oxygen_used_24h_m3: ")
    assert world.count_report_revisions() == before  # the good one was rolled back too
    # the flags of a batch are stored and returned like a single submission's
    jump = DailyReport(
        facility_id="79-A",
        report_date=dt.date(2021, 8, 19),
        oxygen_used_24h_m3=33_000.0,
        patients_cannula_mask=30,
    )
    [result] = world.submit_reports([jump], submitted_by="admin")
    assert "history.use_jump" in {f.rule_id for f in result.flags}
    checks = world.report_checks(date_from=dt.date(2021, 8, 19), date_to=dt.date(2021, 8, 19))
    assert checks[("79-A", dt.date(2021, 8, 19), 1)].flags == result.flags
