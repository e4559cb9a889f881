"""Merging a duplicate facility over HTTP, and merged duplicates left out of plans and demand.

The world (tests/registry_world.py, clock 2021-08-20 09:00 in Hồ Chí Minh City) holds Chợ Rẫy
(79-A, District 5, on the ``hcmc_d5`` map), Gia Định (79-B) and Bạch Mai (01-C). The twin 79-A2
("BV Cho Ray", Chợ Rẫy's point) reported 900 m³ on 18 August and 950 m³ on 19 August; merged
into 79-A on the 20th, its reporting ends on the 19th and its two revisions are copied under 79-A.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from data.schema.registry import DailyReport
from tests.web.conftest import expect_error, user_factory

MERGE = {"duplicate_id": "79-A2", "reason": "trùng OSM / same OSM way"}


def _report(facility_id: str, day: int, used_m3: float) -> DailyReport:
    return DailyReport(
        facility_id=facility_id,
        report_date=dt.date(2021, 8, day),
        oxygen_used_24h_m3=used_m3,
        patients_cannula_mask=30,
        patients_high_flow=5,
    )


def _add_twin(app: Any) -> Any:
    store = app.extensions["oxyroute"].store
    cho_ray = store.get_record("facilities", "79-A")
    store.create_record(
        dataclasses.replace(cho_ray, facility_id="79-A2", name="BV Cho Ray"), actor="test"
    )
    store.submit_report(_report("79-A2", 18, 900.0), submitted_by="repA2")
    store.submit_report(_report("79-A2", 19, 950.0), submitted_by="repA2")
    return store


@pytest.fixture
def twin(app: Any) -> Any:
    return _add_twin(app)


def test_coordinator_merges_a_duplicate_of_its_province(twin: Any, as_user: Any) -> None:
    response = as_user("coord79").post("/facilities/79-A/merge", json=MERGE)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["keep_name"] == "Bệnh viện Chợ Rẫy" and answer["duplicate_name"] == "BV Cho Ray"
    assert answer["days"] == ["2021-08-18", "2021-08-19"]
    assert len(answer["revisions"]) == 2 and answer["reviews"] == 0
    assert answer["reporting_until"] == "2021-08-19"
    assert answer["reason"] == "trùng OSM / same OSM way"
    copied = as_user("coord79").get("/facilities/79-A/reports/2021-08-19").get_json()
    assert copied["oxygen_used_24h_m3"] == 950.0
    duplicate = as_user("coord79").get("/facilities/79-A2").get_json()
    assert duplicate["source"].startswith("merged into 79-A")
    [event] = [e for e in twin.audit_trail(entity="facilities", entity_id="79-A2")][-1:]
    assert (event.action, event.actor) == ("merge", "coord79")
    assert event.detail["reason"] == "trùng OSM / same OSM way"


def test_an_admin_merges_too(twin: Any, as_user: Any) -> None:
    response = as_user("admin").post("/facilities/79-A/merge", json=MERGE)
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("username", "keep", "body", "status", "text"),
    [
        # outside the caller's scope: another province's officer, a reporter (no facilities:write)
        ("coord01", "79-A", MERGE, 403, ""),
        ("repA", "79-A", MERGE, 403, ""),
        ("ministry", "79-A", MERGE, 403, ""),
        # the duplicate in another province: out of a coordinator's scope, 422 for an admin
        ("coord79", "79-A", {**MERGE, "duplicate_id": "01-C"}, 403, ""),
        ("admin", "79-A", {**MERGE, "duplicate_id": "01-C"}, 422, "province 01"),
        # unknown ids: an officer gets the same 403 as for another province's (issue 16)
        ("coord79", "79-NONE", MERGE, 403, "'79-NONE' is not one of them"),
        ("coord79", "79-A", {**MERGE, "duplicate_id": "79-NONE"}, 403, "'79-NONE'"),
        ("admin", "79-NONE", MERGE, 404, "no facilities record '79-NONE'"),
        ("admin", "79-A", {**MERGE, "duplicate_id": "79-NONE"}, 404, "'duplicate_id'"),
        # itself
        ("coord79", "79-A", {**MERGE, "duplicate_id": "79-A"}, 422, "into itself"),
        # both fields are required, and the reason says something
        ("coord79", "79-A", {"duplicate_id": "79-A2"}, 422, "reason"),
        ("coord79", "79-A", {**MERGE, "reason": "   "}, 422, "reason"),
        ("coord79", "79-A", {**MERGE, "reason": "x" * 2001}, 422, "at most 2000"),
        ("coord79", "79-A", {"reason": "trùng"}, 422, "duplicate_id"),
        ("coord79", "79-A", {**MERGE, "duplicate_id": 7}, 422, "duplicate_id"),
        # another shape
        ("coord79", "79-A", {**MERGE, "keep": "79-B"}, 400, "nothing else"),
        ("coord79", "79-A", ["79-A2"], 400, "nothing else"),
    ],
)
def test_refusals_change_nothing(
    twin: Any, as_user: Any, username: str, keep: str, body: Any, status: int, text: str
) -> None:
    revisions = twin.count_report_revisions()
    error = expect_error(as_user(username).post(f"/facilities/{keep}/merge", json=body), status)
    assert text in str(error)
    assert twin.count_report_revisions() == revisions
    assert twin.get_record("facilities", "79-A2").reporting_until is None
    assert all(e.action != "merge" for e in twin.audit_trail(entity="facilities"))


def test_a_day_both_reported_is_a_409_listing_the_days(twin: Any, as_user: Any) -> None:
    twin.submit_report(_report("79-A", 19, 800.0), submitted_by="repA")
    error = expect_error(as_user("coord79").post("/facilities/79-A/merge", json=MERGE), 409)
    assert "both reported on 2021-08-19" in error["message"]
    assert twin.get_record("facilities", "79-A2").reporting_until is None


# ---------------------------------------------------------------------- counted once after a merge


def _demand_ids(user: Any, day: str) -> list[str]:
    response = user.get("/demand/provinces", query_string={"province_code": "79", "date": day})
    assert response.status_code == 200, response.get_data(as_text=True)
    (row,) = response.get_json()["rows"]
    return sorted(d["facility_id"] for d in row["facility_demands"])


def test_demand_counts_the_kept_facility_once(twin: Any, as_user: Any) -> None:
    officer = as_user("coord79")
    # Before the merge both count: the same 950 m³ would be there twice once copied.
    assert _demand_ids(officer, "2021-08-19") == ["79-A", "79-A2", "79-B"]
    assert officer.post("/facilities/79-A/merge", json=MERGE).status_code == 200
    for day in ("2021-08-19", "2021-08-20"):  # the copied day, and today (carried forward)
        assert _demand_ids(officer, day) == ["79-A", "79-B"], day
    response = officer.get("/demand/provinces", query_string={"date": "2021-08-19"})
    (row,) = response.get_json()["rows"]
    assert row["oxygen_used_m3_per_day"] == 950.0 and row["facilities_reporting"] == 1
    (cho_ray,) = [d for d in row["facility_demands"] if d["facility_id"] == "79-A"]
    assert cho_ray["declared_use_m3"] == 950.0


@pytest.fixture
def plan_user(plans_app: Any, template_db: Any) -> Any:
    _add_twin(plans_app)
    return user_factory(plans_app, template_db)


def _plan_facilities(user: Any, day: str) -> list[dict[str, Any]]:
    body = {"region": "hcmc_d5", "date": day, "horizon_days": 1}
    created = user("coord79").post("/plans", json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    plan = user("coord79").get(f"/plans/{created.get_json()['plan_id']}").get_json()
    return [f for f in plan["facilities"] if f["facility_id"] in ("79-A", "79-A2")]


def test_plans_count_the_kept_facility_once(plan_user: Any) -> None:
    before = _plan_facilities(plan_user, "2021-08-20")
    assert sorted(f["facility_id"] for f in before) == ["79-A", "79-A2"]
    assert plan_user("coord79").post("/facilities/79-A/merge", json=MERGE).status_code == 200
    for day in ("2021-08-20", "2021-08-19"):  # today, and a day inside the twin's period
        after = _plan_facilities(plan_user, day)
        assert [f["facility_id"] for f in after] == ["79-A"], day
    # Today's plan takes Chợ Rẫy's copied 19 August report, carried forward one day.
    (cho_ray,) = _plan_facilities(plan_user, "2021-08-20")
    assert cho_ray["report_date"] == "2021-08-19", cho_ray
