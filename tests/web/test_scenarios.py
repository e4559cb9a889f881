"""Scenario endpoints: planners write and run, coordinators read their province's, others nothing.

Runs never change the base data.

The hand-checkable District 5 scenario below: the registry's only facility on the map is Chợ Rẫy
(79-A, cylinders only, one report); the scenario opens a 500-bed field hospital with room for 300
cylinders (1,800 m³ a day), so it receives 3 x 1,800 = 5,400 m³ over 3 days and the rest of its
estimated demand is unmet, while the base plan meets all of Chợ Rẫy's demand.
"""

from __future__ import annotations

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
FIELD_HOSPITAL = {
    "type": "new_facility",
    "facility_id": "FH-D5",
    "name": "Bệnh viện dã chiến Quận 5",
    "lon": 106.675,
    "lat": 10.757,
    "tier": 2,
    "beds": 500,
    "cylinder_storage": 300,
}
SCENARIO = {
    "name": "Bệnh viện dã chiến + Tân Đông Sơn ngừng",
    "description": "field hospital opens, one cylinder filler stops on day 0",
    "region": "hcmc_d5",
    "date": "2021-08-20",
    "horizon_days": 3,
    "changes": [
        FIELD_HOSPITAL,
        {"type": "supplier_capacity", "supplier_id": "TDS", "capacity_factor": 0.0, "days": [0]},
    ],
}
# A bow-tie: the ring crosses itself, so shapely calls it invalid.
BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [[106.65, 10.75], [106.67, 10.77], [106.67, 10.75], [106.65, 10.77], [106.65, 10.75]]
    ],
}


@pytest.fixture
def user(plans_app: Any, template_db):  # type: ignore[no-untyped-def]
    make = user_factory(plans_app, template_db)
    assert make("repA").post("/facilities/79-A/reports", json=REPORT).status_code == 201
    return make


@pytest.fixture
def scenario_id(user: Any) -> str:
    created = user("planner").post("/scenarios", json=SCENARIO)
    assert created.status_code == 201, created.get_data(as_text=True)
    return created.get_json()["scenario_id"]  # type: ignore[no-any-return]


def test_planner_creates_lists_and_reads(user: Any) -> None:
    created = user("planner").post("/scenarios", json=SCENARIO)
    assert created.status_code == 201
    body = created.get_json()
    assert created.headers["Location"] == f"/api/v1/scenarios/{body['scenario_id']}"
    assert body["version"] == 1 and body["created_by"] == "planner"
    assert body["created_at"] == "2021-08-20T02:00:00+00:00"  # the app's clock
    assert body["province_code"] == "79" and body["document"] == SCENARIO
    (row,) = user("planner").get("/scenarios").get_json()["scenarios"]
    assert row["scenario_id"] == body["scenario_id"] and row["changes"] == 2
    assert row["name"] == SCENARIO["name"] and "document" not in row
    assert user("planner").get("/scenarios?region=hcmc").get_json()["scenarios"] == []
    read = user("planner").get(f"/scenarios/{body['scenario_id']}").get_json()
    assert read["document"] == SCENARIO and [v["version"] for v in read["versions"]] == [1]


def test_edit_makes_a_new_version_and_the_old_one_stays(user: Any, scenario_id: str) -> None:
    edited = {**SCENARIO, "horizon_days": 2, "changes": [FIELD_HOSPITAL]}
    response = user("planner").put(f"/scenarios/{scenario_id}", json=edited)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["version"] == 2
    latest = user("planner").get(f"/scenarios/{scenario_id}").get_json()
    assert latest["version"] == 2 and latest["document"] == edited
    assert [v["version"] for v in latest["versions"]] == [1, 2]
    first = user("planner").get(f"/scenarios/{scenario_id}?version=1").get_json()
    assert first["document"] == SCENARIO
    (row,) = user("planner").get("/scenarios").get_json()["scenarios"]
    assert row["version"] == 2 and row["first_created_by"] == "planner"
    expect_error(user("planner").get(f"/scenarios/{scenario_id}?version=3"), 404)


def test_copy_is_a_new_scenario_that_remembers_its_source(user: Any, scenario_id: str) -> None:
    response = user("planner").post(f"/scenarios/{scenario_id}/copy", json={"name": "bản sao"})
    assert response.status_code == 201, response.get_data(as_text=True)
    copy = response.get_json()
    assert copy["scenario_id"] != scenario_id and copy["version"] == 1
    assert copy["copied_from"] == {"scenario_id": scenario_id, "version": 1}
    assert copy["document"] == {**SCENARIO, "name": "bản sao"}
    plain = user("planner").post(f"/scenarios/{scenario_id}/copy")  # no body: same name
    assert plain.status_code == 201 and plain.get_json()["document"] == SCENARIO
    assert len(user("planner").get("/scenarios").get_json()["scenarios"]) == 3
    assert user("planner").get(f"/scenarios/{scenario_id}").get_json()["document"] == SCENARIO


def test_run_stores_both_plans_and_compares_them(user: Any, scenario_id: str) -> None:
    response = user("planner").post(f"/scenarios/{scenario_id}/run")
    assert response.status_code == 201, response.get_data(as_text=True)
    run = response.get_json()
    assert response.headers["Location"] == f"/api/v1/scenarios/{scenario_id}/runs/{run['run_id']}"
    comparison = run["comparison"]
    totals = comparison["totals"]
    assert totals["unmet_m3"]["base"] == 0.0
    (field_hospital,) = comparison["facilities"]
    assert field_hospital["facility_id"] == "FH-D5"
    # 300 cylinders of 6 m³ a day for 3 days reach it; the rest of its demand is unmet.
    delivered = sum(
        f["quantity_m3"] for f in comparison["flows_added"] if f["facility_id"] == "FH-D5"
    )
    assert delivered == pytest.approx(5400.0, abs=0.5)
    assert field_hospital["unmet_m3_scenario"] == pytest.approx(
        totals["unmet_m3"]["scenario"], abs=0.5
    )
    assert totals["delivered_m3"]["change"] == pytest.approx(5400.0, abs=1.0)

    base = user("planner").get(f"/plans/{run['base_plan_id']}").get_json()
    what_if = user("planner").get(f"/plans/{run['scenario_plan_id']}").get_json()
    assert base["meta"]["scenario"] == {
        "scenario_id": scenario_id,
        "version": 1,
        "run_id": run["run_id"],
        "plan": "base",
    }
    assert what_if["meta"]["scenario"]["plan"] == "scenario"
    assert {f["facility_id"] for f in base["facilities"]} == {"79-A"}
    assert {f["facility_id"] for f in what_if["facilities"]} == {"79-A", "FH-D5"}
    assert base["allocation"]["totals"]["unmet_m3"] == totals["unmet_m3"]["base"]

    geojson = user("planner").get(f"/scenarios/{scenario_id}/runs/{run['run_id']}?format=geojson")
    assert geojson.status_code == 200 and geojson.mimetype == "application/geo+json"
    features = geojson.get_json()["features"]
    (point,) = [f for f in features if f["properties"]["kind"] == "facility_change"]
    assert point["geometry"]["coordinates"] == [106.675, 10.757]
    assert (
        point["properties"]["new_facility"] and point["properties"]["days_of_supply_base"] is None
    )
    lines = [f for f in features if f["properties"]["kind"] == "flow_change"]
    assert len(lines) == sum(
        len(comparison[k]) for k in ("flows_added", "flows_removed", "flows_changed")
    )
    assert user("planner").get(f"/scenarios/{scenario_id}/runs/{run['run_id']}").get_json() == run
    (listed,) = user("planner").get(f"/scenarios/{scenario_id}/runs").get_json()["runs"]
    assert listed["run_id"] == run["run_id"] and listed["totals"] == totals


def test_runs_never_change_the_base_data(user: Any, plans_app: Any, scenario_id: str) -> None:
    closure = {
        **SCENARIO,
        "changes": [
            FIELD_HOSPITAL,
            {
                "type": "road_change",
                "polygon": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [106.655, 10.754],
                            [106.664, 10.754],
                            [106.664, 10.761],
                            [106.655, 10.761],
                            [106.655, 10.754],
                        ]
                    ],
                },
            },
            {"type": "supplier_capacity", "supplier_id": "TDS", "capacity_factor": 0.0},
            {"type": "case_surge", "factor": 3.0},
        ],
    }
    assert user("planner").put(f"/scenarios/{scenario_id}", json=closure).status_code == 200
    store = plans_app.extensions["oxyroute"].store
    service = plans_app.extensions["oxyroute_plans"]
    facilities_before = store.list_facilities()
    plain_before = (
        user("planner")
        .post("/plans", json={"region": "hcmc_d5", "date": "2021-08-20", "horizon_days": 3})
        .get_json()
    )
    _, network = service.region_network("hcmc_d5")
    times_before = network.summary()

    run = user("planner").post(f"/scenarios/{scenario_id}/run").get_json()
    assert run["comparison"]["totals"]["demand_m3"]["change"] > 0

    assert store.list_facilities() == facilities_before  # no FH-D5 in the registry
    assert service.region_network("hcmc_d5")[1] is network and network.summary() == times_before
    plain_after = (
        user("planner")
        .post("/plans", json={"region": "hcmc_d5", "date": "2021-08-20", "horizon_days": 3})
        .get_json()
    )
    assert plain_after["totals"] == plain_before["totals"]
    assert run["comparison"]["totals"]["unmet_m3"]["base"] == plain_before["totals"]["unmet_m3"]
    assert run["comparison"]["totals"]["demand_m3"]["base"] == plain_before["totals"]["demand_m3"]
    # The older version still runs and gives its own answer.
    older = user("planner").post(f"/scenarios/{scenario_id}/run", json={"version": 1}).get_json()
    assert older["version"] == 1 and older["comparison"]["totals"] != run["comparison"]["totals"]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        # a supplier the region does not have (found against the base data)
        (
            {"type": "supplier_capacity", "supplier_id": "NOPE", "capacity_factor": 0.0},
            "changes[0].supplier_id",
            "unknown supplier 'NOPE'",
        ),
        # a polygon whose ring crosses itself
        ({"type": "road_change", "polygon": BOW_TIE}, "changes[0].polygon", "not a valid polygon"),
        # a negative surge factor
        ({"type": "case_surge", "factor": -2}, "changes[0].factor", ">= 0"),
        # a negative capacity factor
        (
            {"type": "supplier_capacity", "supplier_id": "TDS", "capacity_factor": -1},
            "changes[0].capacity_factor",
            ">= 0",
        ),
        # a facility the registry does not hold
        (
            {"type": "case_surge", "scope": "facility", "ids": ["79-Z"], "factor": 2},
            "changes[0].ids",
            "unknown facility '79-Z'",
        ),
        # a road name that matches nothing on District 5's map (change_roads names the key)
        (
            {"type": "road_change", "road_names": ["Đường Không Có"]},
            "changes[0].road_names",
            "no road is named ['đường không có']",
        ),
        # an unknown change type
        ({"type": "earthquake"}, "changes[0].type", "not one of"),
    ],
)
def test_bad_changes_get_422_naming_the_field(
    user: Any, change: dict[str, Any], field: str, reason: str
) -> None:
    error = expect_error(
        user("planner").post("/scenarios", json={**SCENARIO, "changes": [change]}), 422
    )
    assert any(d["field"] == field and reason in d["reason"] for d in error["details"]), error
    assert user("planner").get("/scenarios").get_json()["scenarios"] == []  # nothing stored


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({**SCENARIO, "region": "atlantis"}, "region"),  # not a served region
        ({**SCENARIO, "date": "20/08/2021"}, "date"),  # not ISO
        ({**SCENARIO, "horizon_days": 0}, "horizon_days"),
        ({k: v for k, v in SCENARIO.items() if k != "name"}, "name"),  # missing
        ({**SCENARIO, "colour": "red"}, "colour"),  # unknown key
        (["hcmc_d5"], "body"),  # not an object
    ],
)
def test_bad_documents_get_422_naming_the_field(
    user: Any, scenario_id: str, document: Any, field: str
) -> None:
    for response in (
        user("planner").post("/scenarios", json=document),
        user("planner").put(f"/scenarios/{scenario_id}", json=document),
    ):
        error = expect_error(response, 422)
        assert any(d["field"] == field for d in error["details"]), error
    assert user("planner").get(f"/scenarios/{scenario_id}").get_json()["version"] == 1


def test_bad_run_and_copy_requests(user: Any, scenario_id: str) -> None:
    error = expect_error(
        user("planner").post(
            f"/scenarios/{scenario_id}/run", json={"options": {"fairness": "yes"}}
        ),
        422,
    )
    assert any("fairness" in d["field"] or "fairness" in d["reason"] for d in error["details"])
    error = expect_error(
        user("planner").post(f"/scenarios/{scenario_id}/run", json={"speed": 1}), 422
    )
    assert error["details"][0]["field"] == "speed"
    expect_error(user("planner").post(f"/scenarios/{scenario_id}/run", json={"version": 0}), 422)
    expect_error(user("planner").post(f"/scenarios/{scenario_id}/run", json={"version": 9}), 404)
    expect_error(
        user("planner").post(f"/scenarios/{scenario_id}/copy", json={"name": 5, "x": 1}), 422
    )
    expect_error(
        user("planner").post("/scenarios", data="name=x", headers={"Content-Type": "text/plain"}),
        400,
    )
    expect_error(
        user("planner").post(
            "/scenarios", data="{not json", headers={"Content-Type": "application/json"}
        ),
        400,
    )


def test_unknown_ids_are_404(user: Any, scenario_id: str) -> None:
    unknown = "0" * 32
    for path in (
        f"/scenarios/{unknown}",
        "/scenarios/not-an-id",
        f"/scenarios/{unknown}/runs",
        f"/scenarios/{scenario_id}/runs/{unknown}",
        f"/scenarios/{scenario_id}/runs/x",
    ):
        expect_error(user("planner").get(path), 404)
    for path in (f"/scenarios/{unknown}/run", f"/scenarios/{unknown}/copy"):
        expect_error(user("planner").post(path), 404)
    expect_error(user("planner").put(f"/scenarios/{unknown}", json=SCENARIO), 404)
    run_id = user("planner").post(f"/scenarios/{scenario_id}/run").get_json()["run_id"]
    error = expect_error(
        user("planner").get(f"/scenarios/{scenario_id}/runs/{run_id}?format=pdf"), 422
    )
    assert error["details"][0]["field"] == "format"


@pytest.mark.parametrize("username", ["dispatcher", "ministry", "admin", "repA", "coord79"])
def test_only_planners_write(user: Any, scenario_id: str, username: str) -> None:
    expect_error(user(username).post("/scenarios", json=SCENARIO), 403)
    expect_error(user(username).put(f"/scenarios/{scenario_id}", json=SCENARIO), 403)
    expect_error(user(username).post(f"/scenarios/{scenario_id}/copy"), 403)
    expect_error(user(username).post(f"/scenarios/{scenario_id}/run"), 403)
    # Refused before the lookup: an unknown id is 403 too, so ids cannot be probed.
    expect_error(user(username).post(f"/scenarios/{'0' * 32}/run"), 403)


@pytest.mark.parametrize("username", ["dispatcher", "ministry", "admin", "repA"])
def test_other_roles_cannot_read(user: Any, scenario_id: str, username: str) -> None:
    expect_error(user(username).get("/scenarios"), 403)
    expect_error(user(username).get(f"/scenarios/{scenario_id}"), 403)
    expect_error(user(username).get(f"/scenarios/{scenario_id}/runs"), 403)


def test_coordinators_read_their_province_only(user: Any, scenario_id: str) -> None:
    run_id = user("planner").post(f"/scenarios/{scenario_id}/run").get_json()["run_id"]
    assert [
        s["scenario_id"] for s in user("coord79").get("/scenarios").get_json()["scenarios"]
    ] == [scenario_id]
    assert user("coord79").get(f"/scenarios/{scenario_id}").status_code == 200
    assert user("coord79").get(f"/scenarios/{scenario_id}/runs/{run_id}").status_code == 200
    assert user("coord01").get("/scenarios").get_json()["scenarios"] == []
    expect_error(user("coord01").get(f"/scenarios/{scenario_id}"), 403)
    expect_error(user("coord01").get(f"/scenarios/{scenario_id}/runs/{run_id}"), 403)
    expect_error(user(None).get("/scenarios"), 401)


def test_openapi_documents_the_scenario_endpoints(user: Any) -> None:
    paths = user(None).get("/openapi.json").get_json()["paths"]
    assert set(paths["/scenarios"]) == {"get", "post"}
    # The scenario_id path parameter is listed once on the path item, for all its methods.
    assert set(paths["/scenarios/{scenario_id}"]) == {"parameters", "get", "put"}
    for path in ("/scenarios/{scenario_id}/copy", "/scenarios/{scenario_id}/run"):
        assert set(paths[path]) == {"parameters", "post"}
        assert [p["name"] for p in paths[path]["parameters"]] == ["scenario_id"]
    assert "geojson" in str(paths["/scenarios/{scenario_id}/runs/{run_id}"])
