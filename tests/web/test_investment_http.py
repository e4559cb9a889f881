"""Investment endpoints: planners compute and store a portfolio; the province reads it.

The hand-checkable District 5 case: Chợ Rẫy (79-A) reports 26 patients; both scenarios open a
500-bed field hospital (FH-D5) that can take only cylinders, 300 of them (1,800 m³ a day), one
day; the second doubles every facility's patients. Before any investment 9,432 m³ are unmet as
reported and 20,664 m³ at x2, all at the field hospital, whose receiving limit binds. Two
candidates at FH-D5: 40 L cylinders (4.5 million đồng, +6 m³/day each, up to 500) and a VIE tank
(2.5 billion đồng, +4,537 m³/day, 6 weeks). With 3 billion đồng and 8 weeks the optimum buys the
tank and 111 cylinders (2.5 + 0.4995 billion; +4,537 + 666 = 5,203 m³/day): 4,229 and 15,461
m³ are left. With a 4-week deadline the tank is too slow: the most cylinders, 500 (2.25 billion,
+3,000 m³/day), leave 6,432 and 17,664 m³.
"""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path
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
SCENARIOS = {
    "horizon_days": 1,
    "scenarios": [
        {"name": "Như báo cáo / as reported", "weight": 1, "changes": [FIELD_HOSPITAL]},
        {
            "name": "Gấp đôi / x2",
            "weight": 1,
            "changes": [FIELD_HOSPITAL, {"type": "case_surge", "scope": "all", "factor": 2}],
        },
    ],
}
CYLINDERS = {
    "candidate_id": "cyl40@FH-D5",
    "kind": "cylinders",
    "facility_id": "FH-D5",
    "name": "Bình 40 L / 40 L cylinders",
    "capex_vnd": 4.5e6,
    "install_weeks": 1,
    "capacity_m3_per_day": 6,
    "max_units": 500,
    "source": "assumption",
}
TANK = {
    "candidate_id": "vie5680@FH-D5",
    "kind": "liquid_tank",
    "facility_id": "FH-D5",
    "name": "Bồn VIE 5.680 L / VIE tank 5,680 L",
    "capex_vnd": 2.5e9,
    "install_weeks": 6,
    "capacity_m3_per_day": 4537,
    "source": "assumption",
}
BODY = {
    "region": "hcmc_d5",
    "date": "2021-08-20",
    "scenarios": SCENARIOS,
    "budget_vnd": 3e9,
    "deadline_weeks": 8,
    "candidates": [CYLINDERS, TANK],
    "time_limit_s": 20,
    "cost_curve_budgets_vnd": [0, 1e9, 3e9, 6e9],
}


@pytest.fixture
def user(plans_app: Any, template_db: Any):  # type: ignore[no-untyped-def]
    make = user_factory(plans_app, template_db)
    assert make("repA").post("/facilities/79-A/reports", json=REPORT).status_code == 201
    return make


def _stored(plans_app: Any) -> list[str]:
    root = Path(plans_app.extensions["oxyroute_plans"].plans_dir) / "investments"
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


def _units(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {row["candidate_id"]: row["units"] for row in rows}


def test_planner_computes_the_hand_worked_portfolio(user: Any, plans_app: Any) -> None:
    response = user("planner").post("/investments", json=BODY)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    investment_id = body["investment_id"]
    assert response.headers["Location"] == f"/api/v1/investments/{investment_id}"
    assert _stored(plans_app) == [investment_id]
    assert _units(body["portfolio"]) == {"vie5680@FH-D5": 1, "cyl40@FH-D5": 111}
    assert body["optimum"]["capex_vnd"] == 2_999_500_000 and body["optimum"]["status"] == "optimal"
    tank = next(r for r in body["portfolio"] if r["kind"] == "liquid_tank")
    assert tank["site_name"] == "Bệnh viện dã chiến Quận 5"  # the name beside the id
    assert tank["candidate_name"] == "Bồn VIE 5.680 L / VIE tank 5,680 L"
    by_name = {s["scenario"]: s for s in body["scenarios"]}
    reported, doubled = by_name["Như báo cáo / as reported"], by_name["Gấp đôi / x2"]
    assert (reported["unmet_m3_before"], reported["unmet_m3_after"]) == (9432.0, 4229.0)
    assert (doubled["unmet_m3_before"], doubled["unmet_m3_after"]) == (20664.0, 15461.0)
    assert body["before"]["expected_unmet_m3"] == pytest.approx((9432 + 20664) / 2)
    curve = [p["expected_unmet_m3"] for p in body["cost_curve"]]
    assert [p["budget_vnd"] for p in body["cost_curve"]] == [0, 1e9, 3e9, 6e9]
    assert curve[0] == body["before"]["expected_unmet_m3"]
    assert curve[2] == body["optimum"]["expected_unmet_m3"]
    assert all(b <= a for a, b in itertools.pairwise(curve))  # more money never hurts
    assert body["candidates_source"] == "given in the request (2 candidates)"
    assert set(body["links"]) == {"self", "csv", "geojson", "txt"}


def test_stored_files_are_served_in_every_format(user: Any) -> None:
    body = user("planner").post("/investments", json=BODY).get_json()
    link = f"/investments/{body['investment_id']}"
    assert user("planner").get(link).get_json() == body  # result.json is the answer
    table = user("coord79").get(f"{link}?format=csv")
    assert table.status_code == 200 and table.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(table.get_data(as_text=True).lstrip("\ufeff"))))
    optimum = [r for r in rows if r["method"] == "milp"]
    assert {r["candidate_id"]: int(r["units"]) for r in optimum} == _units(body["portfolio"])
    assert {r["site_name"] for r in rows} == {"Bệnh viện dã chiến Quận 5"}
    geojson = user("coord79").get(f"{link}?format=geojson")
    assert geojson.mimetype == "application/geo+json"
    features = geojson.get_json()["features"]
    bought = [f for f in features if f["properties"]["kind"] == "investment"]
    assert {f["properties"]["candidate_id"] for f in bought} == set(_units(body["portfolio"]))
    assert bought[0]["geometry"]["coordinates"] == [106.675, 10.757]  # [lon, lat]
    report = user("planner").get(f"{link}?format=txt")
    assert report.mimetype == "text/plain"
    text = report.get_data(as_text=True)
    assert "Danh mục đầu tư / portfolio" in text and "Gấp đôi / x2" in text
    expect_error(user("planner").get(f"{link}?format=xlsx"), 422)


def test_a_candidate_slower_than_the_deadline_is_not_bought(user: Any) -> None:
    response = user("planner").post("/investments", json={**BODY, "deadline_weeks": 4})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert _units(body["portfolio"]) == {"cyl40@FH-D5": 500}  # its max_units
    assert body["candidates_too_slow"] == 1 and body["optimum"]["capex_vnd"] == 2_250_000_000
    after = [s["unmet_m3_after"] for s in body["scenarios"]]
    assert after == [9432.0 - 3000, 20664.0 - 3000]


def test_default_candidates_are_offered_without_a_list(user: Any) -> None:
    body = {k: v for k, v in BODY.items() if k not in ("candidates", "cost_curve_budgets_vnd")}
    response = user("planner").post("/investments", json={**body, "budget_vnd": 0})
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    # District 5 has no bundled file: the default types go where their rules allow (the
    # suppliers' tankers and trucks here: Chợ Rẫy has no bed or cylinder figures).
    assert answer["candidates_source"].startswith("default types offered by their rules")
    assert answer["candidates"] > 0 and answer["portfolio"] == [] and answer["cost_curve"] == []


def test_reading_is_scoped_and_writing_is_for_planners(user: Any, plans_app: Any) -> None:
    investment_id = user("planner").post("/investments", json=BODY).get_json()["investment_id"]
    assert user("coord79").get(f"/investments/{investment_id}").status_code == 200
    for username in ("coord01", "repA", "dispatcher"):
        expect_error(user(username).get(f"/investments/{investment_id}"), 403)
    for username in ("coord79", "repA", "admin", "ministry"):
        expect_error(user(username).post("/investments", json=BODY), 403)
    assert _stored(plans_app) == [investment_id]
    expect_error(user("planner").get(f"/investments/{'0' * 32}"), 404)
    expect_error(user("planner").get("/investments/not-an-id"), 404)
    expect_error(user(None).get(f"/investments/{investment_id}"), 401)


def _with_scenario(**changes: Any) -> dict[str, Any]:
    first = {**SCENARIOS["scenarios"][0], **changes}  # type: ignore[index]
    return {**BODY, "scenarios": {"horizon_days": 1, "scenarios": [first]}}


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        # a budget below zero
        ({**BODY, "budget_vnd": -1}, "budget_vnd", "must be a number of đồng >= 0, got -1"),
        # a negative cost in a candidate row
        (
            {**BODY, "candidates": [{**CYLINDERS, "capex_vnd": -5}]},
            "candidates[0].capex_vnd",
            "must be a finite number >= 0, got -5.0",
        ),
        # a candidate at a facility the region does not have
        (
            {**BODY, "candidates": [{**TANK, "facility_id": "79-Z"}]},
            "candidates[0].facility_id",
            "unknown facility '79-Z'",
        ),
        # a candidate kind that does not exist
        ({**BODY, "candidates": [{**TANK, "kind": "pipeline"}]}, "candidates[0].kind", "pipeline"),
        # a column the candidates CSV does not have
        ({**BODY, "candidates": [{**TANK, "colour": "red"}]}, "candidates[0].colour", "unknown"),
        # scenarios that do not parse: a weight of zero, neither surge nor changes, a bad surge
        (_with_scenario(weight=0), "scenarios.scenarios[0].weight", "must be a number > 0"),
        (
            {**BODY, "scenarios": {"scenarios": [{"name": "x", "weight": 1}]}},
            "scenarios.scenarios[0]",
            "exactly one of surge_factor",
        ),
        (
            {**BODY, "scenarios": {"scenarios": [{"name": "x", "weight": 1, "surge_factor": -2}]}},
            "scenarios.scenarios[0].surge_factor",
            "-2",
        ),
        ({**BODY, "scenarios": []}, "scenarios", "not an object"),
        # a scenario naming a supplier the region does not have
        (
            _with_scenario(
                changes=[{"type": "supplier_capacity", "supplier_id": "NOPE", "capacity_factor": 0}]
            ),
            "scenarios.scenarios[0].changes[0].supplier_id",
            "unknown supplier 'NOPE'",
        ),
        ({**BODY, "deadline_weeks": -2}, "deadline_weeks", "must be a number >= 0"),
        ({**BODY, "time_limit_s": 600}, "time_limit_s", "at most 60"),
        ({**BODY, "gap": 1}, "gap", "from 0 to below 1"),
        ({**BODY, "cost_curve_budgets_vnd": [1e9, -1]}, "cost_curve_budgets_vnd[1]", ">= 0"),
        ({**BODY, "region": "atlantis"}, "region", "'atlantis'"),
        ({**BODY, "date": "20/08/2021"}, "date", "expected YYYY-MM-DD"),
        ({**BODY, "colour": "red"}, "colour", "unknown key"),
        ({k: v for k, v in BODY.items() if k != "budget_vnd"}, "budget_vnd", "missing"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    user: Any, plans_app: Any, body: Any, field: str, reason: str
) -> None:
    error = expect_error(user("planner").post("/investments", json=body), 422)
    assert any(d["field"] == field and reason in d["reason"] for d in error["details"]), error[
        "details"
    ]
    assert _stored(plans_app) == []


def test_a_body_that_is_not_json_is_a_400(user: Any, plans_app: Any) -> None:
    response = user("planner").post(
        "/investments", data=b"budget=1", headers={"Content-Type": "text/plain"}
    )
    expect_error(response, 400)
    assert _stored(plans_app) == []
