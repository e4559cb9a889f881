"""FHIR R5 resources from the seeded registry and reports and from a hand-made plan.

Every resource validates with ``fhir.resources`` (R5 models), names keep their diacritics, positions
are ``[lon, lat]`` of the record, quantities add up to the plan's.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any

import fhir.resources as fhir_resources
import pytest
from fhir.resources.bundle import Bundle
from fhir.resources.inventoryreport import InventoryReport
from fhir.resources.location import Location
from fhir.resources.organization import Organization
from fhir.resources.supplydelivery import SupplyDelivery
from fhir.resources.supplyrequest import SupplyRequest

from data.errors import InvalidInputError
from data.exchange import fhir
from data.schema.registry import Facility, ReportRevision
from data.seed import SeedData, hcmc_seed
from data.units import OxygenConversions
from tests.coordination.test_dispatch import APRIL_30, HAND_FLOWS, HOA_HAO, NTP, plan_document
from tests.registry_world import FACILITY_A

FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
PLAN_ID = "f" * 32


@pytest.fixture(scope="session")
def seed(data_dir: Path) -> SeedData:
    return hcmc_seed(data_dir)


def _round_trip(model: Any, resource: dict[str, Any]) -> dict[str, Any]:
    """Validate with the R5 model and return what it serialises back (as a client would read it)."""
    return json.loads(model.model_validate(resource).model_dump_json())  # type: ignore[no-any-return]


def test_the_models_are_r5() -> None:
    # The default models of fhir.resources 8 are R5; InventoryReport exists only there.
    assert fhir_resources.__fhir_version__ == fhir.FHIR_VERSION == "5.0.0"


def test_every_seeded_facility_and_supplier_validates(seed: SeedData) -> None:
    ids = set()
    for facility in seed.facilities:
        organization = _round_trip(Organization, fhir.organization_from_facility(facility))
        location = _round_trip(
            Location, fhir.location_from_facility(facility, province_name="Thành phố Hồ Chí Minh")
        )
        # FHIR does not enforce it (org-1): ours always have both a name and an identifier.
        assert organization["name"] == facility.name == location["name"]
        assert organization["identifier"] == [
            {"use": "official", "system": fhir.FACILITY_SYSTEM, "value": facility.facility_id}
        ]
        assert location["managingOrganization"]["reference"] == f"Organization/{organization['id']}"
        assert (location["position"]["longitude"], location["position"]["latitude"]) == (
            facility.lon,
            facility.lat,
        )
        assert FHIR_ID.fullmatch(organization["id"])
        ids.add(organization["id"])
    for supplier in seed.suppliers:
        organization = _round_trip(Organization, fhir.organization_from_supplier(supplier))
        location = _round_trip(Location, fhir.location_from_supplier(supplier))
        assert (
            organization["name"] == supplier.name
            and organization["identifier"][0]["value"] == supplier.supplier_id
        )
        assert location["position"] == {"longitude": supplier.lon, "latitude": supplier.lat}
        ids.add(organization["id"])
    assert len(ids) == len(seed.facilities) + len(seed.suppliers)  # ids do not collide


def test_vietnamese_names_and_the_position_survive() -> None:
    # Chợ Rẫy is at 106.6597 E, 10.7578 N: longitude first, as the record has it.
    location = fhir.location_from_facility(FACILITY_A, province_name="Thành phố Hồ Chí Minh")
    back = json.loads(json.dumps(_round_trip(Location, location), ensure_ascii=False))
    assert back["name"] == "Bệnh viện Chợ Rẫy"
    assert back["address"] == {
        "use": "work",
        "type": "physical",
        "district": "Quận 5",
        "state": "Thành phố Hồ Chí Minh",
        "country": "VN",
    }
    assert back["position"] == {"longitude": 106.6597, "latitude": 10.7578}


@pytest.mark.parametrize(
    ("facility_id", "expected"),
    [
        ("79-A", "fac-79-A"),  # a valid FHIR id as it is
        ("osm_node_1", None),  # "_" is not allowed in FHIR ids: hashed
        ("A" * 64, None),  # too long with the prefix: hashed
    ],
)
def test_resource_ids_are_valid_and_stable(facility_id: str, expected: str | None) -> None:
    rid = fhir.facility_resource_id(facility_id)
    assert FHIR_ID.fullmatch(rid) and rid == fhir.facility_resource_id(facility_id)
    if expected is not None:
        assert rid == expected
    else:
        assert rid.startswith("fac.") and len(rid) == 44
    facility = Facility(
        facility_id=facility_id, name="Trạm y tế", province_code="79", lon=106.7, lat=10.8, tier=1
    )
    assert _round_trip(Organization, fhir.organization_from_facility(facility))["id"] == rid


def _latest_revisions(seed: SeedData, day: dt.date) -> list[ReportRevision]:
    latest: dict[str, ReportRevision] = {}
    for report, at in seed.reports:
        if report.report_date == day:
            number = latest[report.facility_id].revision + 1 if report.facility_id in latest else 1
            latest[report.facility_id] = ReportRevision(
                report=report,
                revision=number,
                submitted_at=at,
                submitted_by="seed:generated",
                content_hash=report.content_hash(),
                generated=True,
                source="generated: oxyroute seed v1",
            )
    return list(latest.values())


def test_seeded_reports_are_r5_inventory_reports(seed: SeedData) -> None:
    conversions = OxygenConversions()
    revisions = _latest_revisions(seed, dt.date(2021, 8, 20))
    assert len(revisions) > 50
    resources = fhir.inventory_reports(revisions, conversions=conversions)
    assert len(resources) == len(revisions)
    for resource, revision in zip(resources, revisions, strict=True):
        back = _round_trip(InventoryReport, resource)
        assert back["status"] == "active" and back["countType"] == "snapshot"
        assert back["meta"]["tag"][0]["code"] == "generated"
        assert back["reportingPeriod"] == {
            "start": "2021-08-20T00:00:00+07:00",
            "end": "2021-08-20T23:59:59+07:00",
        }
        (listing,) = back["inventoryListing"]
        assert listing["location"]["reference"] == "Location/" + fhir.facility_resource_id(
            revision.report.facility_id
        )
        items = {}
        for item in listing["item"]:
            code = item["category"]["coding"][0]["code"]
            items.setdefault(code, []).append(item["quantity"])
        (on_hand,) = items["oxygen-on-hand"]
        assert on_hand["code"] == "m3"
        assert math.isclose(
            on_hand["value"], revision.report.stock_on_hand_m3(conversions), abs_tol=1e-3
        )
        full = {q["unit"]: q["value"] for q in items.get("cylinders-full", [])}
        assert full == {f"cylinders_{s}": n for s, n in revision.report.cylinders_full.items()}
        assert all(q["code"] == "{cylinder}" for q in items.get("cylinders-full", []))
    Bundle.model_validate(fhir.bundle(resources, bundle_type="collection"))


def test_a_plan_becomes_one_supply_request_per_flow() -> None:
    document = {**plan_document(HAND_FLOWS), "meta": {"created_at": "2021-08-19T10:00:00+00:00"}}
    resources = fhir.supply_requests_from_plan(document, plan_id=PLAN_ID)
    assert len(resources) == len(HAND_FLOWS)
    total_m3 = 0.0
    for index, (resource, flow) in enumerate(zip(resources, HAND_FLOWS, strict=True)):
        back = _round_trip(SupplyRequest, resource)
        assert back["id"] == f"{PLAN_ID}-{index}"
        assert back["identifier"] == [
            {"system": fhir.PLAN_FLOW_SYSTEM, "value": f"{PLAN_ID}/{index}"}
        ]
        assert back["basedOn"][0]["identifier"] == {"system": fhir.PLAN_SYSTEM, "value": PLAN_ID}
        assert back["quantity"]["code"] == "m3" and back["status"] == "active"
        total_m3 += back["quantity"]["value"]
        by_code = {p["code"]["coding"][0]["code"]: p["valueQuantity"] for p in back["parameter"]}
        assert by_code["quantity-in-product-unit"]["value"] == flow["quantity"]
        assert by_code["quantity-in-product-unit"]["unit"] == flow["unit"]
        assert (
            by_code["quantity-in-product-unit"]["code"]
            == {"t_lox": "t", "cylinders_40L": "{cylinder}"}[flow["unit"]]
        )
        concept = back["item"]["concept"]["coding"]
        assert {(c["system"], c["code"]) for c in concept} == {
            ("http://snomed.info/sct", "24099007"),
            (fhir.PRODUCT_SYSTEM, flow["product"]),
        }
        assert back["deliverFrom"]["reference"] == "Location/sup-" + flow["supplier_id"]
        assert back["deliverTo"]["reference"] == "Location/fac-" + flow["facility_id"]
        day = dt.date(2021, 8, 20) + dt.timedelta(days=flow["day"])
        assert back["occurrencePeriod"]["start"] == f"{day}T00:00:00+07:00"
        assert dt.datetime.fromisoformat(back["authoredOn"]) == dt.datetime(
            2021, 8, 19, 10, tzinfo=dt.UTC
        )
    assert math.isclose(total_m3, sum(f["quantity_m3"] for f in HAND_FLOWS))
    # Urgent on the facility's first shortfall day (NTP and Hòa Hảo on day 0), as dispatch has it.
    priorities = {(r["deliverTo"]["reference"], r["priority"]) for r in resources}
    assert ("Location/fac-" + NTP, "urgent") in priorities
    assert ("Location/fac-" + HOA_HAO, "urgent") in priorities
    assert ("Location/fac-" + APRIL_30, "routine") in priorities
    assert resources[0]["deliverTo"]["display"] == "Bệnh viện Nguyễn Tri Phương"
    Bundle.model_validate(fhir.bundle(resources, bundle_type="collection"))


ROUTES = {
    "routes_id": "e" * 32,
    "plan_id": PLAN_ID,
    "loads": [{"load_id": "L0", "flow_index": 2}],
    "routes": [
        {
            "vehicle": "CT1",
            "steps": [
                {"type": "start", "arrival": "2021-08-20T06:00:00+07:00"},
                {"type": "pickup", "id": "L0:load", "load_id": "L0"},
                {
                    "type": "delivery",
                    "id": "L0:drop",
                    "load_id": "L0",
                    "supplier_id": "TDS",
                    "facility_id": "14468398",
                    "product": "cylinder",
                    "quantity": 40,
                    "unit": "cylinders_40L",
                    "name": "Bệnh viện Nguyễn Tri Phương",
                    "arrival": "2021-08-20T07:12:30+07:00",
                },
            ],
        }
    ],
}


def test_delivery_stops_become_r5_supply_deliveries() -> None:
    (resource,) = fhir.supply_deliveries_from_routes(ROUTES)
    back = _round_trip(SupplyDelivery, resource)
    assert back["occurrenceDateTime"] == "2021-08-20T07:12:30+07:00"
    assert back["basedOn"][0]["identifier"] == {
        "system": fhir.PLAN_FLOW_SYSTEM,
        "value": f"{PLAN_ID}/2",
    }
    assert back["destination"] == {
        "reference": "Location/fac-14468398",
        "display": "Bệnh viện Nguyễn Tri Phương",
    }
    (item,) = back["suppliedItem"]  # R5: a list
    assert item["quantity"] == {
        "value": 40,
        "unit": "cylinders_40L",
        "system": fhir.UCUM,
        "code": "{cylinder}",
    }


def test_r4b_would_refuse_the_r5_supplied_item_list() -> None:
    # Why R5: in R4/R4B suppliedItem is one object, and InventoryReport does not exist.
    from fhir.resources.R4B.supplydelivery import SupplyDelivery as SupplyDeliveryR4B

    (resource,) = fhir.supply_deliveries_from_routes(ROUTES)
    with pytest.raises(ValueError, match="suppliedItem"):
        SupplyDeliveryR4B.model_validate({k: v for k, v in resource.items() if k != "type"})


def test_bundles_link_to_readable_urls_or_stable_urns() -> None:
    organization = fhir.organization_from_facility(FACILITY_A)
    searchset = fhir.bundle(
        [organization],
        bundle_type="searchset",
        base_url="http://x/api/v1/fhir/",
        timestamp=dt.datetime(2021, 8, 20, 2, tzinfo=dt.UTC),
    )
    Bundle.model_validate(searchset)
    assert searchset["total"] == 1 and searchset["timestamp"] == "2021-08-20T02:00:00Z"
    assert searchset["entry"][0]["fullUrl"] == "http://x/api/v1/fhir/Organization/fac-79-A"
    assert searchset["entry"][0]["search"] == {"mode": "match"}
    collection = fhir.bundle([organization], bundle_type="collection")
    assert collection["entry"][0]["fullUrl"].startswith("urn:uuid:")
    assert collection == fhir.bundle([organization], bundle_type="collection")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # a product the plan does not have
        (lambda: fhir.oxygen_concept("oxygen_gas"), "product: must be one of"),
        # a plan id that cannot be part of a FHIR id
        (
            lambda: fhir.supply_requests_from_plan(plan_document(HAND_FLOWS), plan_id="a/b"),
            "plan_id",
        ),
        # not a plan document
        (
            lambda: fhir.supply_requests_from_plan({"flows": []}, plan_id=PLAN_ID),
            "not a plan document",
        ),
        # a flow in an unknown unit
        (
            lambda: fhir.supply_requests_from_plan(
                plan_document([{**HAND_FLOWS[0], "unit": "gallons"}]), plan_id=PLAN_ID
            ),
            "unit: must be t_lox, kg_lox or cylinders_<size>",
        ),
        # routes without their id
        (lambda: fhir.supply_deliveries_from_routes({**ROUTES, "routes_id": None}), "routes_id"),
        # a bundle type this module does not build
        (lambda: fhir.bundle([], bundle_type="transaction"), "bundle_type"),
        # a naive timestamp
        (
            lambda: fhir.bundle([], bundle_type="collection", timestamp=dt.datetime(2021, 8, 20)),
            "aware",
        ),
    ],
)
def test_bad_input_is_refused_with_the_field(call: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        call()
