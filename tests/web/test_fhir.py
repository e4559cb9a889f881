"""FHIR endpoints: R5 resources as ``application/fhir+json``, scoped like the JSON ones.

A coordinator sees its province, a reporter its facility (as the JSON endpoints they mirror);
unknown ids get 404.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.bundle import Bundle
from fhir.resources.capabilitystatement import CapabilityStatement
from fhir.resources.inventoryreport import InventoryReport
from fhir.resources.location import Location
from fhir.resources.organization import Organization
from fhir.resources.supplydelivery import SupplyDelivery
from fhir.resources.supplyrequest import SupplyRequest

from data.schema.registry import Supplier, SupplierKind
from tests.coordination.test_dispatch import HAND_FLOWS, plan_document
from tests.web.conftest import expect_error, user_factory
from tests.web.test_dispatch import BODY as ROUTES_BODY
from tests.web.test_plans import BODY as PLAN_BODY
from tests.web.test_plans import REPORT

HAND_PLAN_ID = "a" * 32
MODELS = {
    "CapabilityStatement": CapabilityStatement,
    "Organization": Organization,
    "Location": Location,
    "SupplyRequest": SupplyRequest,
    "SupplyDelivery": SupplyDelivery,
    "InventoryReport": InventoryReport,
}
SUPPLIER = Supplier(
    supplier_id="TDS",
    name="Thép Thủ Đức – trạm nạp oxy",  # noqa: RUF001 (the supplier's name as written)
    kind=SupplierKind.FILLING_STATION,
    province_code="79",
    lon=106.76,
    lat=10.842,
    cylinders_per_day=300,  # as in data/regions/hcmc_suppliers.csv
    products=("cylinder",),
)


@pytest.fixture
def user(plans_app: Any, template_db: Any, tmp_path: Path) -> Any:
    """Users of an app with one supplier and the hand-made District 5 plan stored."""
    plans_app.extensions["oxyroute"].store.create_records([SUPPLIER], actor="test")
    plan_dir = tmp_path / HAND_PLAN_ID
    plan_dir.mkdir()
    (plan_dir / "plan.json").write_text(
        json.dumps(plan_document(HAND_FLOWS), ensure_ascii=False), encoding="utf-8"
    )
    (plan_dir / "meta.json").write_text(
        json.dumps({"plan_id": HAND_PLAN_ID, "region": "hcmc_d5", "province_code": "79"}),
        encoding="utf-8",
    )
    return user_factory(plans_app, template_db)


def fhir_get(client: Any, path: str) -> dict[str, Any]:
    """GET a FHIR answer (200, application/fhir+json) and validate every resource with R5 models."""
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    document: dict[str, Any] = json.loads(response.get_data(as_text=True))
    if document["resourceType"] == "Bundle":
        Bundle.model_validate(document)
        for entry in document["entry"]:
            resource = entry["resource"]
            MODELS[resource["resourceType"]].model_validate(resource)
    else:
        MODELS[document["resourceType"]].model_validate(document)
    return document


def resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle["entry"]]


def business_ids(bundle: dict[str, Any]) -> set[str]:
    return {r["identifier"][0]["value"] for r in resources(bundle)}


def test_organizations_and_locations_of_the_registry(user: Any) -> None:
    admin = user("admin")
    organizations = fhir_get(admin, "/fhir/Organization")
    assert organizations["type"] == "searchset" and organizations["total"] == 4
    assert business_ids(organizations) == {"79-A", "79-B", "01-C", "TDS"}
    names = {r["name"] for r in resources(organizations)}
    assert {"Bệnh viện Chợ Rẫy", "Thép Thủ Đức – trạm nạp oxy"} <= names  # noqa: RUF001 (the supplier's name as written)
    locations = fhir_get(admin, "/fhir/Location?province_code=79&kind=facility")
    by_id = {r["identifier"][0]["value"]: r for r in resources(locations)}
    assert set(by_id) == {"79-A", "79-B"}
    cho_ray = by_id["79-A"]
    # Chợ Rẫy's record: lon 106.6597, lat 10.7578 (longitude first, WGS84).
    assert cho_ray["position"] == {"longitude": 106.6597, "latitude": 10.7578}
    assert cho_ray["address"]["state"] == "Thành phố Hồ Chí Minh"
    assert cho_ray["address"]["district"] == "Quận 5"
    # Every fullUrl is readable, and so is every managingOrganization reference.
    for entry in locations["entry"]:
        url = entry["fullUrl"]
        assert url.startswith("http://localhost/api/v1/fhir/Location/")
        again = fhir_get(admin, url.removeprefix("http://localhost/api/v1"))
        assert again == entry["resource"]
        organization = fhir_get(
            admin, "/fhir/" + entry["resource"]["managingOrganization"]["reference"]
        )
        assert organization["name"] == entry["resource"]["name"]


def test_coordinators_and_reporters_see_their_scope(user: Any) -> None:
    assert business_ids(fhir_get(user("coord79"), "/fhir/Organization")) == {"79-A", "79-B", "TDS"}
    assert business_ids(fhir_get(user("coord01"), "/fhir/Location")) == {"01-C", "TDS"}
    assert business_ids(fhir_get(user("repA"), "/fhir/Organization")) == {"79-A"}
    assert fhir_get(user("repA"), "/fhir/Location/fac-79-A")["identifier"][0]["value"] == "79-A"
    expect_error(user("coord79").get("/fhir/Organization?province_code=01"), 403)
    expect_error(user("coord79").get("/fhir/Organization/fac-01-C"), 403)
    expect_error(user("coord01").get("/fhir/Location/fac-79-A"), 403)
    expect_error(user("repA").get("/fhir/Location/fac-79-B"), 403)
    expect_error(user("repA").get("/fhir/Organization?kind=supplier"), 403)
    expect_error(user(None).get("/fhir/Organization"), 401)


def test_unknown_ids_and_bad_parameters(user: Any) -> None:
    admin = user("admin")
    for rid in ("fac-nope", "sup-nope", "fac.0123", "Patient-1", "sup-TDS_x"):
        expect_error(admin.get(f"/fhir/Organization/{rid}"), 404)
    assert fhir_get(admin, "/fhir/Organization/sup-TDS")["name"] == SUPPLIER.name
    expect_error(admin.get("/fhir/Organization?kind=hospital"), 400)
    expect_error(admin.get("/fhir/Location?province_code=7"), 400)
    expect_error(admin.get("/fhir/Location?_format=json"), 400)  # undeclared parameter
    expect_error(admin.get("/fhir/InventoryReport?date=20.08.2021"), 400)


def test_inventory_reports_are_scoped(user: Any) -> None:
    assert user("repA").post("/facilities/79-A/reports", json=REPORT).status_code == 201
    day = REPORT["report_date"]
    bundle = fhir_get(user("coord79"), f"/fhir/InventoryReport?date={day}")
    (report,) = resources(bundle)
    assert report["identifier"][0]["value"] == f"79-A/{day}"
    assert report["reporter"]["display"] == "repA" and report["meta"]["versionId"] == "1"
    (listing,) = report["inventoryListing"]
    assert listing["location"] == {"reference": "Location/fac-79-A", "display": "Bệnh viện Chợ Rẫy"}
    quantities = {i["category"]["coding"][0]["code"]: i["quantity"] for i in listing["item"]}
    assert quantities["oxygen-on-hand"] == {
        "value": 60.0,  # ten full 40 L cylinders of 6 m³
        "unit": "m3",
        "system": "http://unitsofmeasure.org",
        "code": "m3",
    }
    assert quantities["cylinders-full"]["value"] == 10
    assert resources(fhir_get(user("repA"), f"/fhir/InventoryReport?date={day}")) == [report]
    assert resources(
        fhir_get(user("admin"), f"/fhir/InventoryReport?date={day}&facility_id=79-A")
    ) == [report]
    # Other provinces and facilities get nothing of it (filtered) or a refusal.
    assert resources(fhir_get(user("coord01"), f"/fhir/InventoryReport?date={day}")) == []
    assert resources(fhir_get(user("repB"), f"/fhir/InventoryReport?date={day}")) == []
    expect_error(user("coord01").get(f"/fhir/InventoryReport?date={day}&province_code=79"), 403)
    expect_error(user("coord01").get(f"/fhir/InventoryReport?date={day}&facility_id=79-A"), 403)
    expect_error(user("repB").get(f"/fhir/InventoryReport?date={day}&facility_id=79-A"), 403)
    expect_error(user("admin").get(f"/fhir/InventoryReport?date={day}&facility_id=nope"), 404)


def test_a_computed_plan_as_supply_requests(user: Any) -> None:
    assert user("repA").post("/facilities/79-A/reports", json=REPORT).status_code == 201
    created = user("coord79").post("/plans", json=PLAN_BODY)
    assert created.status_code == 201, created.get_data(as_text=True)
    plan_id = created.get_json()["plan_id"]
    plan = user("coord79").get(f"/plans/{plan_id}").get_json()
    flows = plan["allocation"]["flows"]
    assert flows, "the test plan should deliver something"
    bundle = fhir_get(user("planner"), f"/fhir/plans/{plan_id}/SupplyRequest")
    requests = resources(bundle)
    assert bundle["type"] == "collection" and len(requests) == len(flows)
    total_m3 = sum(r["quantity"]["value"] for r in requests)
    assert math.isclose(
        total_m3, plan["allocation"]["totals"]["delivered_m3"], rel_tol=1e-9, abs_tol=1e-6
    )
    assert all(r["quantity"]["code"] == "m3" for r in requests)
    names = {f["facility_id"]: f["name"] for f in plan["facilities"]}
    for request, flow in zip(requests, flows, strict=True):
        assert request["deliverTo"]["reference"] == f"Location/fac-{flow['facility_id']}"
        assert request["deliverTo"]["display"] == names[flow["facility_id"]]
        assert request["basedOn"][0]["identifier"]["value"] == plan_id
    for username in ("coord01", "dispatcher", "repA", "ministry"):
        expect_error(user(username).get(f"/fhir/plans/{plan_id}/SupplyRequest"), 403)
    expect_error(user("planner").get(f"/fhir/plans/{'0' * 32}/SupplyRequest"), 404)


def test_routes_as_supply_deliveries(user: Any) -> None:
    created = user("dispatcher").post(f"/plans/{HAND_PLAN_ID}/routes", json=ROUTES_BODY)
    assert created.status_code == 201, created.get_data(as_text=True)
    routes_id = created.get_json()["routes_id"]
    routes = user("dispatcher").get(f"/plans/{HAND_PLAN_ID}/routes/{routes_id}").get_json()
    stops = [s for r in routes["routes"] for s in r["steps"] if s["type"] == "delivery"]
    path = f"/fhir/plans/{HAND_PLAN_ID}/routes/{routes_id}/SupplyDelivery"
    deliveries = resources(fhir_get(user("coord79"), path))
    assert len(deliveries) == len(stops) > 0
    loads = {load["load_id"]: load for load in routes["loads"]}
    delivered: dict[str, float] = {}
    for delivery, stop in zip(deliveries, stops, strict=True):
        assert delivery["occurrenceDateTime"] == stop["arrival"]
        assert delivery["destination"]["reference"] == f"Location/fac-{stop['facility_id']}"
        (item,) = delivery["suppliedItem"]
        assert (item["quantity"]["value"], item["quantity"]["unit"]) == (
            stop["quantity"],
            stop["unit"],
        )
        flow_ref = delivery["basedOn"][0]["identifier"]["value"]
        assert flow_ref == f"{HAND_PLAN_ID}/{loads[stop['load_id']]['flow_index']}"
        delivered[flow_ref] = delivered.get(flow_ref, 0) + item["quantity"]["value"]
    # Every day-0 flow is delivered in full (kg of LOX, whole cylinders), as the loads say.
    expected = {
        f"{HAND_PLAN_ID}/{i}": (
            math.ceil(f["quantity"] * 1000) if f["unit"] == "t_lox" else f["quantity"]
        )
        for i, f in enumerate(HAND_FLOWS)
        if f["day"] == 0
    }
    assert delivered == expected
    for username in ("coord01", "planner", "repA"):
        expect_error(user(username).get(path), 403)
    expect_error(
        user("dispatcher").get(f"/fhir/plans/{HAND_PLAN_ID}/routes/{'c' * 32}/SupplyDelivery"), 404
    )
    expect_error(
        user("dispatcher").get(f"/fhir/plans/{HAND_PLAN_ID}/routes/..%2F..%2Fmeta/SupplyDelivery"),
        404,
    )


def test_capability_statement_is_public_and_lists_what_is_served(user: Any) -> None:
    anonymous = user(None)
    statement = fhir_get(anonymous, "/fhir/metadata")  # validated with the R5 model
    assert (statement["fhirVersion"], statement["kind"], statement["format"]) == (
        "5.0.0",
        "instance",
        ["json"],
    )
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(served) == {
        "Organization",
        "Location",
        "InventoryReport",
        "SupplyRequest",
        "SupplyDelivery",
    }
    assert {i["code"] for i in served["Organization"]["interaction"]} == {"read", "search-type"}
    # Every search parameter it announces is accepted by the endpoint it describes.
    admin = user("admin")
    for resource_type in ("Organization", "Location", "InventoryReport"):
        values = {
            "province_code": "79",
            "kind": "facility",
            "date": "2021-08-20",
            "facility_id": "79-A",
        }
        for param in served[resource_type]["searchParam"]:
            fhir_get(admin, f"/fhir/{resource_type}?{param['name']}={values[param['name']]}")
    # The rest still needs a token.
    expect_error(anonymous.get("/fhir/Organization"), 401)
