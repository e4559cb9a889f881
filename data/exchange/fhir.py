"""HL7 FHIR R5 resources of the registry, plans, routes and daily reports (plain data in, JSON out).

Conventions (INTEROP.md, docs/fhir.md): FHIR **R5** (5.0.0), because ``InventoryReport`` exists
only in R5 and R5's ``SupplyDelivery.suppliedItem`` is a list. Facilities and suppliers are an
``Organization`` plus a ``Location`` (``position`` in WGS84 longitude/latitude, the registry's
``lon``/``lat``); a plan's flows are ``SupplyRequest``; the delivery stops of stored routes are
``SupplyDelivery``; the latest daily reports are ``InventoryReport``. Business identifiers use the
``urn:oxyroute:*`` systems below, the oxygen is SNOMED CT 24099007 "Oxygen (substance)" with the
oxyroute product form beside it, and quantities carry UCUM units (gas volume in ``m3`` at normal
conditions, 1 atm and 15 °C). Every function is pure: it reads no file, store or clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from data.errors import InvalidInputError
from data.reporting import LOCAL_TZ
from data.schema.documents import PlanDocument, RoutesDocument
from data.schema.registry import Facility, ReportRevision, Supplier
from data.units import OxygenConversions

FHIR_VERSION = "5.0.0"

# Identifier and code systems defined by oxyroute (documented in docs/fhir.md).
FACILITY_SYSTEM = "urn:oxyroute:facility"
"""``Organization``/``Location`` identifier of a facility: its registry ``facility_id``."""
SUPPLIER_SYSTEM = "urn:oxyroute:supplier"
"""``Organization``/``Location`` identifier of a supplier: its registry ``supplier_id``."""
PLAN_SYSTEM = "urn:oxyroute:plan"
"""Identifier of an allocation plan (``plan_id``), the target of ``SupplyRequest.basedOn``."""
PLAN_FLOW_SYSTEM = "urn:oxyroute:plan-flow"
"""``SupplyRequest`` identifier: ``<plan_id>/<index of the flow in the plan>``."""
ROUTE_STOP_SYSTEM = "urn:oxyroute:route-stop"
"""``SupplyDelivery`` identifier: ``<routes_id>/<delivery step id>``."""
DAILY_REPORT_SYSTEM = "urn:oxyroute:daily-report"
"""``InventoryReport`` identifier: ``<facility_id>/<report date YYYY-MM-DD>``."""
USER_SYSTEM = "urn:oxyroute:user"
"""Identifier of an oxyroute user (the submitter of a report)."""
PRODUCT_SYSTEM = "urn:oxyroute:oxygen-product"
"""Oxygen product forms: ``bulk_liquid`` (cryogenic liquid by tanker), ``cylinder``."""
SUPPLIER_KIND_SYSTEM = "urn:oxyroute:supplier-kind"
"""Supplier kinds of the registry (``liquid_producer``, ``filling_station``, ...)."""
PARAMETER_SYSTEM = "urn:oxyroute:supply-parameter"
"""``SupplyRequest.parameter`` codes: ``quantity-in-product-unit``, ``travel-time``."""
INVENTORY_CATEGORY_SYSTEM = "urn:oxyroute:inventory-category"
"""``InventoryReport`` item categories: ``oxygen-on-hand``, ``liquid-stock``, ``cylinders-full``,
``cylinders-empty``."""
DATA_ORIGIN_SYSTEM = "urn:oxyroute:data-origin"
"""``meta.tag`` code ``generated`` on resources built from generated (seed) data."""

SNOMED = "http://snomed.info/sct"
OXYGEN_SNOMED = "24099007"
UCUM = "http://unitsofmeasure.org"
ORGANIZATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"
ROLE_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"
SUPPLY_ITEM_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/supplydelivery-supplyitemtype"

_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_PRODUCTS = {
    "bulk_liquid": "Liquid medical oxygen, bulk (cryogenic tanker)",
    "cylinder": "Medical oxygen in cylinders",
}
_PRODUCT_TEXT = {
    "bulk_liquid": "Oxy lỏng y tế (bồn) / liquid medical oxygen",
    "cylinder": "Oxy y tế đóng bình / medical oxygen cylinders",
}


# --------------------------------------------------------------------------- ids and small types


def resource_id(prefix: str, *parts: str) -> str:
    """Return a FHIR resource id (``[A-Za-z0-9-.]{1,64}``) for ``prefix`` and business ids.

    ``prefix-part1-part2...`` when that is a valid FHIR id; otherwise (registry ids may hold ``_``
    and be 64 characters long) ``prefix.`` followed by 40 hex digits of the SHA-256 of the parts,
    so the id is still stable. The business id itself is always in the resource's identifier.
    """
    plain = "-".join((prefix, *parts))
    if _FHIR_ID.fullmatch(plain):
        return plain
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]
    return f"{prefix}.{digest}"


def facility_resource_id(facility_id: str) -> str:
    """Return the id of a facility's ``Organization`` and ``Location`` (``fac-<facility_id>``)."""
    return resource_id("fac", facility_id)


def supplier_resource_id(supplier_id: str) -> str:
    """Return the id of a supplier's ``Organization`` and ``Location`` (``sup-<supplier_id>``)."""
    return resource_id("sup", supplier_id)


def _reference(resource_type: str, rid: str, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"reference": f"{resource_type}/{rid}"}
    if display:
        out["display"] = display
    return out


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def oxygen_concept(product: str | None = None) -> dict[str, Any]:
    """Return the CodeableConcept of oxygen, with the product form when given.

    Parameters
    ----------
    product
        ``bulk_liquid`` or ``cylinder`` (the plan's products); None for oxygen in general.

    Raises
    ------
    InvalidInputError
        If ``product`` is not one of the plan's products.
    """
    codings = [_coding(SNOMED, OXYGEN_SNOMED, "Oxygen (substance)")]
    if product is None:
        return {"coding": codings, "text": "Oxy y tế / medical oxygen"}
    if product not in _PRODUCTS:
        raise InvalidInputError(
            f"product: must be one of {', '.join(sorted(_PRODUCTS))}, got {product!r}"
        )
    codings.append(_coding(PRODUCT_SYSTEM, product, _PRODUCTS[product]))
    return {"coding": codings, "text": _PRODUCT_TEXT[product]}


def _product_quantity(value: float, unit: str) -> dict[str, Any]:
    """Return a quantity in an oxyroute unit, coded in UCUM (cylinders: ``{cylinder}``).

    ``t_lox``: tonnes of liquid oxygen; ``kg_lox``: kilograms; ``cylinders_<size>``: full
    cylinders of that size. The ``unit`` text keeps oxyroute's name, so nothing is lost.
    """
    if unit == "t_lox":
        return _quantity(value, unit, "t")
    if unit == "kg_lox":
        return _quantity(value, unit, "kg")
    if unit.startswith("cylinders_"):
        return _quantity(value, unit, "{cylinder}")
    raise InvalidInputError(f"unit: must be t_lox, kg_lox or cylinders_<size>, got {unit!r}")


def _day_period(day: dt.date) -> dict[str, str]:
    """Return the local day (Asia/Ho_Chi_Minh) as a FHIR Period (``end`` inclusive, in seconds)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL_TZ)
    end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=LOCAL_TZ)
    return {"start": start.isoformat(), "end": end.isoformat()}


def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _address(
    *, text: str | None, district: str | None, province_name: str | None
) -> dict[str, Any]:
    address: dict[str, Any] = {"use": "work", "type": "physical"}
    if text:
        address["text"] = text
    if district:
        address["district"] = district
    if province_name:
        address["state"] = province_name
    address["country"] = "VN"
    return address


# --------------------------------------------------------------------------- facilities, suppliers


def organization_from_facility(facility: Facility) -> dict[str, Any]:
    """Return the ``Organization`` of a facility (a healthcare provider).

    Its 2021 province is not ``partOf``: a province is where a hospital is, not who runs it
    (Chợ Rẫy answers to the Ministry of Health); it is in the ``Location``'s address.
    """
    return {
        "resourceType": "Organization",
        "id": facility_resource_id(facility.facility_id),
        "identifier": [
            {"use": "official", "system": FACILITY_SYSTEM, "value": facility.facility_id}
        ],
        "type": [
            {
                "coding": [_coding(ORGANIZATION_TYPE_SYSTEM, "prov", "Healthcare Provider")],
                "text": f"cơ sở y tế tuyến {facility.tier} / facility of tier {facility.tier}",
            }
        ],
        "name": facility.name,
    }


def location_from_facility(
    facility: Facility, *, province_name: str | None = None
) -> dict[str, Any]:
    """Return the ``Location`` of a facility: position (WGS84 lon/lat), address, managing org.

    Parameters
    ----------
    facility
        The registry record (``lon``/``lat`` in WGS84 degrees).
    province_name
        Name of its 2021 province, written as ``address.state`` (left out when None).
    """
    rid = facility_resource_id(facility.facility_id)
    return {
        "resourceType": "Location",
        "id": rid,
        "identifier": [
            {"use": "official", "system": FACILITY_SYSTEM, "value": facility.facility_id}
        ],
        "status": "active",
        "name": facility.name,
        "mode": "instance",
        "type": [{"coding": [_coding(ROLE_CODE_SYSTEM, "HOSP", "Hospital")]}],
        "address": _address(
            text=facility.address, district=facility.district, province_name=province_name
        ),
        "form": {"coding": [_coding(PHYSICAL_TYPE_SYSTEM, "bu", "Building")]},
        "position": {"longitude": facility.lon, "latitude": facility.lat},
        "managingOrganization": _reference("Organization", rid, facility.name),
    }


def organization_from_supplier(supplier: Supplier) -> dict[str, Any]:
    """Return the ``Organization`` of an oxygen supplier (a business, with its oxyroute kind)."""
    kind = str(supplier.kind)
    return {
        "resourceType": "Organization",
        "id": supplier_resource_id(supplier.supplier_id),
        "identifier": [
            {"use": "official", "system": SUPPLIER_SYSTEM, "value": supplier.supplier_id}
        ],
        "type": [
            {
                "coding": [
                    _coding(
                        ORGANIZATION_TYPE_SYSTEM, "bus", "Non-Healthcare Business or Corporation"
                    ),
                    _coding(SUPPLIER_KIND_SYSTEM, kind),
                ],
                "text": f"oxygen supplier: {kind}",
            }
        ],
        "name": supplier.name,
    }


def location_from_supplier(
    supplier: Supplier, *, province_name: str | None = None
) -> dict[str, Any]:
    """Return the ``Location`` of a supplier (``position`` left out when it has no lon/lat)."""
    rid = supplier_resource_id(supplier.supplier_id)
    location: dict[str, Any] = {
        "resourceType": "Location",
        "id": rid,
        "identifier": [
            {"use": "official", "system": SUPPLIER_SYSTEM, "value": supplier.supplier_id}
        ],
        "status": "active",
        "name": supplier.name,
        "mode": "instance",
        "address": _address(text=None, district=None, province_name=province_name),
        "form": {"coding": [_coding(PHYSICAL_TYPE_SYSTEM, "si", "Site")]},
    }
    if supplier.lon is not None and supplier.lat is not None:
        location["position"] = {"longitude": supplier.lon, "latitude": supplier.lat}
    location["managingOrganization"] = _reference("Organization", rid, supplier.name)
    return location


# --------------------------------------------------------------------------- plans and routes


def _check_document_id(name: str, value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9]{1,48}", value):
        raise InvalidInputError(f"{name}: must be 1-48 letters or digits, got {value!r}")
    return value


def supply_requests_from_plan(document: PlanDocument, *, plan_id: str) -> list[dict[str, Any]]:
    """Return one ``SupplyRequest`` per flow of a stored plan (``plan.json``), in flow order.

    Parameters
    ----------
    document
        The plan document (:func:`coordination.planning.plan_to_dict` plus ``meta``):
        ``start_date``, ``facilities``, ``suppliers`` and ``allocation.flows``.
    plan_id
        The plan's id: ``SupplyRequest`` ids are ``<plan_id>-<flow index>``.

    Returns
    -------
    list of dict
        ``quantity`` is the flow's gas volume in m³ (UCUM ``m3``); the quantity in the product's
        unit (``t_lox`` or ``cylinders_40L``) and the travel time (s) are ``parameter``s. The
        occurrence is the flow's local day; ``priority`` is ``urgent`` on the facility's first
        shortfall day (as dispatch treats it), else ``routine``.

    Raises
    ------
    InvalidInputError
        If ``plan_id`` is not letters and digits, or the document lacks a start date or flows,
        or a flow has an unknown product or unit.
    """
    _check_document_id("plan_id", plan_id)
    try:
        start = dt.date.fromisoformat(document["start_date"])
        flows = document["allocation"]["flows"]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"plan: not a plan document ({exc!r})") from None
    facilities: dict[str, Mapping[str, Any]] = {
        f["facility_id"]: f for f in document.get("facilities", [])
    }
    supplier_names = {s["supplier_id"]: s.get("name") for s in document.get("suppliers", [])}
    meta = document.get("meta") or {}
    plan_reference = {
        "identifier": {"system": PLAN_SYSTEM, "value": plan_id},
        "display": f"oxyroute allocation plan {plan_id} ({document.get('region', '?')})",
    }
    out = []
    for index, flow in enumerate(flows):
        facility_id, supplier_id = flow["facility_id"], flow["supplier_id"]
        facility = facilities.get(facility_id, {})
        day = start + dt.timedelta(days=int(flow["day"]))
        first_short = facility.get("first_shortfall_day")
        urgent = first_short is not None and int(first_short) == int(flow["day"])
        facility_rid = facility_resource_id(facility_id)
        supplier_rid = supplier_resource_id(supplier_id)
        request: dict[str, Any] = {
            "resourceType": "SupplyRequest",
            "id": f"{plan_id}-{index}",
            "identifier": [{"system": PLAN_FLOW_SYSTEM, "value": f"{plan_id}/{index}"}],
            "status": "active",
            "basedOn": [plan_reference],
            "priority": "urgent" if urgent else "routine",
            "item": {"concept": oxygen_concept(flow["product"])},
            "quantity": _quantity(float(flow["quantity_m3"]), "m3", "m3"),
            "parameter": [
                {
                    "code": {
                        "coding": [_coding(PARAMETER_SYSTEM, "quantity-in-product-unit")],
                        "text": "quantity in the product's unit",
                    },
                    "valueQuantity": _product_quantity(float(flow["quantity"]), flow["unit"]),
                }
            ],
            "occurrencePeriod": _day_period(day),
        }
        if flow.get("travel_time_s") is not None:
            request["parameter"].append(
                {
                    "code": {
                        "coding": [_coding(PARAMETER_SYSTEM, "travel-time")],
                        "text": "road travel time from supplier to facility",
                    },
                    "valueQuantity": _quantity(int(flow["travel_time_s"]), "s", "s"),
                }
            )
        if meta.get("created_at"):
            request["authoredOn"] = meta["created_at"]
        request["supplier"] = [
            _reference("Organization", supplier_rid, supplier_names.get(supplier_id))
        ]
        request["deliverFrom"] = _reference(
            "Location", supplier_rid, supplier_names.get(supplier_id)
        )
        request["deliverTo"] = _reference("Location", facility_rid, facility.get("name"))
        out.append(request)
    return out


def supply_deliveries_from_routes(routes: RoutesDocument) -> list[dict[str, Any]]:
    """Return one ``SupplyDelivery`` per delivery stop of stored routes (``routes.json``).

    Parameters
    ----------
    routes
        The routes document (:func:`coordination.dispatch.routes_to_dict`): ``routes_id``,
        ``plan_id``, ``loads`` (with ``flow_index``) and ``routes`` with their ``steps``.

    Returns
    -------
    list of dict
        In route then stop order. ``occurrenceDateTime`` is the planned arrival (local time with
        its offset); ``status`` is ``in-progress`` (R5 has no "planned": the routes are a dispatch
        plan, not a proof of delivery); ``suppliedItem`` (a list in R5) holds the quantity in the
        vehicle's unit (``kg_lox`` or ``cylinders_<size>``); ``basedOn`` is the plan flow's
        ``SupplyRequest`` by identifier. Unassigned loads have no delivery.

    Raises
    ------
    InvalidInputError
        If ``routes_id`` or ``plan_id`` is missing or not letters and digits.
    """
    routes_id = _check_document_id("routes_id", routes.get("routes_id"))
    plan_id = _check_document_id("plan_id", routes.get("plan_id"))
    flow_of_load = {load["load_id"]: load.get("flow_index") for load in routes.get("loads", [])}
    out = []
    number = 0
    for route in routes.get("routes", []):
        for step in route.get("steps", []):
            if step.get("type") != "delivery":
                continue
            facility_rid = facility_resource_id(step["facility_id"])
            delivery: dict[str, Any] = {
                "resourceType": "SupplyDelivery",
                "id": f"{routes_id}-{number}",
                "identifier": [{"system": ROUTE_STOP_SYSTEM, "value": f"{routes_id}/{step['id']}"}],
            }
            load_id = step.get("load_id")
            flow_index = None if load_id is None else flow_of_load.get(load_id)
            if flow_index is not None:
                delivery["basedOn"] = [
                    {
                        "type": "SupplyRequest",
                        "identifier": {
                            "system": PLAN_FLOW_SYSTEM,
                            "value": f"{plan_id}/{flow_index}",
                        },
                    }
                ]
            delivery.update(
                {
                    "status": "in-progress",
                    "type": {
                        "coding": [_coding(SUPPLY_ITEM_TYPE_SYSTEM, "medication", "Medication")]
                    },
                    "suppliedItem": [
                        {
                            "quantity": _product_quantity(step["quantity"], step["unit"]),
                            "itemCodeableConcept": oxygen_concept(step["product"]),
                        }
                    ],
                    "occurrenceDateTime": step["arrival"],
                    "supplier": _reference(
                        "Organization", supplier_resource_id(step["supplier_id"])
                    ),
                    "destination": _reference("Location", facility_rid, step.get("name")),
                    "receiver": [_reference("Organization", facility_rid, step.get("name"))],
                }
            )
            out.append(delivery)
            number += 1
    return out


# --------------------------------------------------------------------------- daily reports


def inventory_reports(
    revisions: Iterable[ReportRevision],
    *,
    conversions: OxygenConversions,
    facility_names: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Return one R5 ``InventoryReport`` (a snapshot) per facility-day report revision given.

    Parameters
    ----------
    revisions
        The latest revision of each facility-day.
    conversions
        Unit factors for the derived oxygen on hand (m³ gas: liquid stock plus full cylinders).
    facility_names
        Facility names for the location references' ``display`` (optional).

    Returns
    -------
    list of dict
        Items: oxygen on hand (m³, always), liquid stock (L of liquid, when the facility has a
        tank), full and empty cylinders by size (counts). ``meta.versionId`` is the revision
        number, ``reportedDateTime`` its submission instant (UTC), ``reportingPeriod`` the local
        day; generated (seed) reports carry the ``meta.tag`` ``generated``.
    """
    names = facility_names or {}
    out = []
    for revision in revisions:
        report = revision.report
        rid = facility_resource_id(report.facility_id)
        items: list[dict[str, Any]] = [
            {
                "category": {
                    "coding": [_coding(INVENTORY_CATEGORY_SYSTEM, "oxygen-on-hand")],
                    "text": "oxygen on hand, m³ gas (liquid stock plus full cylinders)",
                },
                "quantity": _quantity(round(report.stock_on_hand_m3(conversions), 3), "m3", "m3"),
                "item": {"concept": oxygen_concept()},
            }
        ]
        if report.liquid_stock_l is not None:
            items.append(
                {
                    "category": {"coding": [_coding(INVENTORY_CATEGORY_SYSTEM, "liquid-stock")]},
                    "quantity": _quantity(report.liquid_stock_l, "L", "L"),
                    "item": {"concept": oxygen_concept("bulk_liquid")},
                }
            )
        for code, counts in (
            ("cylinders-full", report.cylinders_full),
            ("cylinders-empty", report.cylinders_empty),
        ):
            for size in sorted(counts, key=lambda s: float(s.removesuffix("L"))):
                items.append(
                    {
                        "category": {"coding": [_coding(INVENTORY_CATEGORY_SYSTEM, code)]},
                        "quantity": _product_quantity(counts[size], f"cylinders_{size}"),
                        "item": {
                            "concept": oxygen_concept("cylinder")
                            if code == "cylinders-full"
                            else {
                                "coding": [_coding(PRODUCT_SYSTEM, "cylinder")],
                                "text": f"empty {size} cylinder",
                            }
                        },
                    }
                )
        resource: dict[str, Any] = {
            "resourceType": "InventoryReport",
            "id": resource_id("inv", report.facility_id, report.report_date.strftime("%Y%m%d")),
            "meta": {
                "versionId": str(revision.revision),
                "lastUpdated": _instant(revision.submitted_at),
            },
            "identifier": [
                {
                    "system": DAILY_REPORT_SYSTEM,
                    "value": f"{report.facility_id}/{report.report_date.isoformat()}",
                }
            ],
            "status": "active",
            "countType": "snapshot",
            "reportedDateTime": _instant(revision.submitted_at),
            "reporter": {
                "identifier": {"system": USER_SYSTEM, "value": revision.submitted_by},
                "display": revision.submitted_by,
            },
            "reportingPeriod": _day_period(report.report_date),
            "inventoryListing": [
                {
                    "location": _reference("Location", rid, names.get(report.facility_id)),
                    "countingDateTime": _instant(revision.submitted_at),
                    "item": items,
                }
            ],
        }
        if revision.generated:
            resource["meta"]["tag"] = [
                _coding(DATA_ORIGIN_SYSTEM, "generated", "generated (seed) data")
            ]
        if report.note:
            resource["note"] = [{"text": report.note}]
        out.append(resource)
    return out


# --------------------------------------------------------------------------- bundles


def capability_statement(*, base_url: str, now: dt.datetime) -> dict[str, Any]:
    """Return the server's R5 ``CapabilityStatement`` (what ``GET [base]/metadata`` answers).

    Reads and searches of ``Organization`` and ``Location`` (parameters ``province_code`` and
    ``kind``), searches of ``InventoryReport`` (``date``, ``province_code``, ``facility_id``);
    ``SupplyRequest`` and ``SupplyDelivery`` are served per stored plan and route set under
    ``plans/{plan_id}/...`` (described in ``documentation``, not FHIR search). JSON only,
    read-only, bearer tokens.
    """
    if now.tzinfo is None:
        raise InvalidInputError("now: must be aware (with a time zone)")

    def search_param(name: str, kind: str, documentation: str) -> dict[str, Any]:
        return {"name": name, "type": kind, "documentation": documentation}

    province = search_param("province_code", "token", "2021 province code (two digits)")
    registry_kind = search_param("kind", "token", "facility or supplier")
    read_search = [{"code": "read"}, {"code": "search-type"}]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": _instant(now),
        "publisher": "oxyroute",
        "kind": "instance",
        "software": {"name": "oxyroute"},
        "implementation": {
            "description": "oxyroute: oxygen supply registry, allocation plans and routes",
            "url": base_url.rstrip("/"),
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Read-only. Every request except this one needs Authorization: Bearer "
                    "<token>; each resource is scoped as the registry API's own endpoint "
                    "(a province coordinator sees its province, a reporter its facility)."
                ),
                "security": {
                    "description": "Bearer tokens issued by the oxyroute registry (oxyroute users)"
                },
                "resource": [
                    {
                        "type": "Organization",
                        "interaction": read_search,
                        "searchParam": [province, registry_kind],
                        "documentation": "Facilities (fac-<id>) and suppliers (sup-<id>)",
                    },
                    {
                        "type": "Location",
                        "interaction": read_search,
                        "searchParam": [province, registry_kind],
                        "documentation": "Positions in WGS84 of facilities and suppliers",
                    },
                    {
                        "type": "InventoryReport",
                        "interaction": [{"code": "search-type"}],
                        "searchParam": [
                            search_param("date", "date", "report day, YYYY-MM-DD"),
                            province,
                            search_param("facility_id", "token", "one facility"),
                        ],
                        "documentation": "Oxygen stock of each facility-day from daily reports",
                    },
                    {
                        "type": "SupplyRequest",
                        "documentation": (
                            "Allocation plan flows: GET [base]/plans/{plan_id}/SupplyRequest"
                        ),
                    },
                    {
                        "type": "SupplyDelivery",
                        "documentation": (
                            "Planned route stops: "
                            "GET [base]/plans/{plan_id}/routes/{routes_id}/SupplyDelivery"
                        ),
                    },
                ],
            }
        ],
    }


def bundle(
    resources: Sequence[Mapping[str, Any]],
    *,
    bundle_type: str,
    base_url: str | None = None,
    self_url: str | None = None,
    timestamp: dt.datetime | None = None,
) -> dict[str, Any]:
    """Wrap resources in a ``Bundle`` of type ``searchset`` or ``collection``.

    Parameters
    ----------
    resources
        The resources, in order.
    bundle_type
        ``searchset`` (a search answer: ``total`` and ``search.mode`` = ``match``) or
        ``collection``.
    base_url
        The FHIR base (``.../api/v1/fhir``) when the server can read the resources back:
        ``fullUrl`` is then ``<base>/<type>/<id>``; otherwise a name-based ``urn:uuid``
        (stable for the same type and id).
    self_url, timestamp
        The request's URL (``link`` ``self``) and the bundle's assembly instant (aware).

    Raises
    ------
    InvalidInputError
        If ``bundle_type`` is neither, or a timestamp is naive.
    """
    if bundle_type not in ("searchset", "collection"):
        raise InvalidInputError(
            f"bundle_type: must be searchset or collection, got {bundle_type!r}"
        )
    full_url: Callable[[Mapping[str, Any]], str]
    if base_url is not None:
        base = base_url.rstrip("/")
        full_url = lambda r: f"{base}/{r['resourceType']}/{r['id']}"  # noqa: E731
    else:
        full_url = lambda r: (  # noqa: E731
            "urn:uuid:"
            + str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:oxyroute:{r['resourceType']}/{r['id']}"))
        )
    document: dict[str, Any] = {"resourceType": "Bundle", "type": bundle_type}
    if timestamp is not None:
        if timestamp.tzinfo is None:
            raise InvalidInputError("timestamp: must be aware (with a time zone)")
        document["timestamp"] = _instant(timestamp)
    if bundle_type == "searchset":
        document["total"] = len(resources)
    if self_url is not None:
        document["link"] = [{"relation": "self", "url": self_url}]
    entries = []
    for resource in resources:
        entry: dict[str, Any] = {"fullUrl": full_url(resource), "resource": dict(resource)}
        if bundle_type == "searchset":
            entry["search"] = {"mode": "match"}
        entries.append(entry)
    document["entry"] = entries
    return document
