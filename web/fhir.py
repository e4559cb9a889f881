"""HTTP endpoints serving HL7 FHIR R5 resources under ``/api/v1/fhir/`` (``application/fhir+json``).

Thin views over :mod:`data.exchange.fhir`: parse, authorize exactly as the JSON endpoint each one
mirrors (``/facilities``, ``/suppliers``, ``/plans/{id}``, ``/plans/{id}/routes/{id}``,
``/reports``),
build the resources, wrap them in a ``Bundle``, return. Errors keep the API's JSON envelope.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from flask import Response, current_app, request

from data.access import ROLE_PERMISSIONS, authorize
from data.errors import InvalidInputError, MalformedInputError, RecordNotFoundError
from data.exchange import fhir
from data.reporting import LOCAL_TZ
from data.schema.registry import Facility, Role, Supplier
from web.common import (
    API_PREFIX,
    app_state,
    authorize_facility,
    current_store,
    principal,
    query_date,
    query_province,
    require,
)
from web.errors import RoutesNotFoundError
from web.openapi import (
    HEX_ID_SCHEMA,
    PROVINCE_CODE_SCHEMA,
    ApiBlueprint,
    error_responses,
    operation,
    path_parameter,
    query_parameter,
)
from web.plans import PlanService, authorize_plan_read

_HEX_ID = re.compile(r"^[0-9a-f]{32}$")
_KINDS = ("facility", "supplier")
bp = ApiBlueprint("fhir", __name__, url_prefix=API_PREFIX)
_ERRORS = error_responses("400", "401", "403", "404", "422")
_PROVINCE = query_parameter("province_code", PROVINCE_CODE_SCHEMA, "2021 province code")
_KIND = query_parameter(
    "kind",
    {"type": "string", "enum": list(_KINDS)},
    "only facilities or only suppliers (default both)",
)


def _fhir_ok(description: str, resource_type: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/fhir+json": {
                "schema": {
                    "type": "object",
                    "required": ["resourceType"],
                    "properties": {"resourceType": {"type": "string", "const": resource_type}},
                }
            }
        },
    }


def _service() -> PlanService:
    return current_app.extensions["oxyroute_plans"]  # type: ignore[no-any-return]


def _fhir_response(document: dict[str, Any]) -> Response:
    return current_app.response_class(
        json.dumps(document, ensure_ascii=False), mimetype="application/fhir+json"
    )


def _fhir_base() -> str:
    """Return the absolute FHIR base of this request (``http://host/api/v1/fhir``)."""
    return request.host_url.rstrip("/") + request.path[: request.path.index("/fhir/") + 5]


def _now() -> dt.datetime:
    return app_state().config.clock()


def _query_kinds() -> tuple[str, ...]:
    raw = request.args.get("kind")
    if raw is None:
        return _KINDS
    if raw not in _KINDS:
        raise MalformedInputError(
            "kind: bad value", [f"kind: must be facility or supplier, got {raw!r}"]
        )
    return (raw,)


def _scoped_facilities(permission: str) -> tuple[str | None, str | None]:
    """Return (facility id, province code) a facility-scoped read may cover, authorized.

    As ``GET /facilities`` and ``GET /reports``: a reporter gets its facility, a coordinator its
    province by default (another province: 403), national roles the query's province or all.
    """
    user = principal()
    if user.role == Role.FACILITY_REPORTER:
        authorize(user, permission, facility_id=user.facility_id)
        return user.facility_id, None
    province_code = query_province()
    if province_code is None and user.role == Role.PROVINCE_COORDINATOR:
        province_code = user.province_code
    authorize(user, permission, province_code=province_code)
    return None, province_code


def _registry_records(store: Any) -> tuple[list[Facility], list[Supplier]]:
    """Facilities and suppliers the request may read (``kind`` and ``province_code`` applied).

    Suppliers are shared regional resources (as ``GET /suppliers``); a role without
    ``suppliers:read`` gets facilities only unless it asks for ``kind=supplier`` (403).
    """
    kinds = _query_kinds()
    facilities: list[Facility] = []
    suppliers: list[Supplier] = []
    if "facility" in kinds:
        facility_id, province_code = _scoped_facilities("facilities:read")
        if facility_id is not None:
            facilities = [store.get_record("facilities", facility_id)]
        else:
            facilities = store.list_facilities(province_code=province_code)
    supplier_readable = "suppliers:read" in ROLE_PERMISSIONS[principal().role]
    if kinds == ("supplier",) or (supplier_readable and "supplier" in kinds):
        authorize(principal(), "suppliers:read")
        suppliers = store.list_records("suppliers", province_code=query_province(), limit=None)
    return facilities, suppliers


def _province_names(store: Any) -> dict[str, str]:
    return {p.province_code: p.name for p in store.list_provinces()}


def _registry_record(store: Any, resource_id: str) -> Facility | Supplier:
    """Return the facility or supplier behind an ``Organization``/``Location`` id, authorized."""
    from data.exchange.fhir import facility_resource_id, supplier_resource_id

    user = principal()
    if resource_id.startswith(("fac-", "fac.")):
        record: Any = None
        if user.role == Role.FACILITY_REPORTER:
            # Refuse before looking anything up, so ids outside its scope are not probed.
            if resource_id != facility_resource_id(user.facility_id or ""):
                asked = resource_id.removeprefix("fac-") if resource_id[3] == "-" else resource_id
                authorize(user, "facilities:read", facility_id=asked)
            record = store.get_record("facilities", user.facility_id)
        elif resource_id.startswith("fac-"):
            record = store.get_record("facilities", resource_id.removeprefix("fac-"))
        else:
            require("facilities:read")
            record = next(
                (
                    f
                    for f in store.list_facilities()
                    if facility_resource_id(f.facility_id) == resource_id
                ),
                None,
            )
        if record is None or facility_resource_id(record.facility_id) != resource_id:
            raise RecordNotFoundError(f"id: no Organization or Location {resource_id!r}")
        authorize(
            user,
            "facilities:read",
            facility_id=record.facility_id,
            province_code=record.province_code,
        )
        return record  # type: ignore[no-any-return]
    if resource_id.startswith(("sup-", "sup.")):
        authorize(user, "suppliers:read")
        if resource_id.startswith("sup-"):
            record = store.get_record("suppliers", resource_id.removeprefix("sup-"))
        else:
            record = next(
                (
                    s
                    for s in store.list_records("suppliers", limit=None)
                    if supplier_resource_id(s.supplier_id) == resource_id
                ),
                None,
            )
        if record is None or supplier_resource_id(record.supplier_id) != resource_id:
            raise RecordNotFoundError(f"id: no Organization or Location {resource_id!r}")
        return record  # type: ignore[no-any-return]
    raise RecordNotFoundError(
        f"id: no Organization or Location {resource_id!r} (ids start with fac- or sup-)"
    )


def _organization(record: Facility | Supplier) -> dict[str, Any]:
    if isinstance(record, Facility):
        return fhir.organization_from_facility(record)
    return fhir.organization_from_supplier(record)


def _location(record: Facility | Supplier, names: dict[str, str]) -> dict[str, Any]:
    if isinstance(record, Facility):
        return fhir.location_from_facility(record, province_name=names.get(record.province_code))
    return fhir.location_from_supplier(record, province_name=names.get(record.province_code))


def _searchset(resources: list[dict[str, Any]]) -> Response:
    return _fhir_response(
        fhir.bundle(
            resources,
            bundle_type="searchset",
            base_url=_fhir_base(),
            self_url=request.url,
            timestamp=_now(),
        )
    )


@operation(
    bp,
    "GET",
    "/fhir/metadata",
    summary="FHIR R5 CapabilityStatement (public, like the OpenAPI document)",
    public=True,
    responses={"200": _fhir_ok("CapabilityStatement", "CapabilityStatement"), **_ERRORS},
)
def fhir_metadata() -> Response:
    """Return the server's CapabilityStatement (public)."""
    # Public, as the OpenAPI document: FHIR clients read the capabilities before signing in.
    return _fhir_response(fhir.capability_statement(base_url=_fhir_base(), now=_now()))


@operation(
    bp,
    "GET",
    "/fhir/Organization",
    summary="FHIR R5 Organization searchset of facilities and suppliers",
    parameters=[_PROVINCE, _KIND],
    responses={"200": _fhir_ok("Bundle (searchset)", "Bundle"), **_ERRORS},
)
def fhir_organizations() -> Response:
    """Return the facilities and suppliers the caller may read as Organizations."""
    facilities, suppliers = _registry_records(current_store())
    records: list[Facility | Supplier] = [*facilities, *suppliers]
    return _searchset([_organization(r) for r in records])


@operation(
    bp,
    "GET",
    "/fhir/Location",
    summary="FHIR R5 Location searchset (position WGS84 lon/lat)",
    parameters=[_PROVINCE, _KIND],
    responses={"200": _fhir_ok("Bundle (searchset)", "Bundle"), **_ERRORS},
)
def fhir_locations() -> Response:
    """Return the facilities and suppliers the caller may read as Locations."""
    facilities, suppliers = _registry_records(current_store())
    names = _province_names(current_store())
    records: list[Facility | Supplier] = [*facilities, *suppliers]
    return _searchset([_location(r, names) for r in records])


@operation(
    bp,
    "GET",
    "/fhir/Organization/<resource_id>",
    summary="One FHIR R5 Organization (fac-<facility_id> or sup-<supplier_id>)",
    responses={"200": _fhir_ok("Organization", "Organization"), **_ERRORS},
)
def fhir_organization(resource_id: str) -> Response:
    """Return one facility or supplier as an Organization."""
    return _fhir_response(_organization(_registry_record(current_store(), resource_id)))


@operation(
    bp,
    "GET",
    "/fhir/Location/<resource_id>",
    summary="One FHIR R5 Location (fac-<facility_id> or sup-<supplier_id>)",
    responses={"200": _fhir_ok("Location", "Location"), **_ERRORS},
)
def fhir_location(resource_id: str) -> Response:
    """Return one facility or supplier as a Location."""
    record = _registry_record(current_store(), resource_id)
    return _fhir_response(_location(record, _province_names(current_store())))


@operation(
    bp,
    "GET",
    "/fhir/plans/<plan_id>/SupplyRequest",
    summary="A stored plan's flows as FHIR R5 SupplyRequest (Bundle collection)",
    parameters=[path_parameter("plan_id", HEX_ID_SCHEMA)],
    responses={"200": _fhir_ok("Bundle (collection)", "Bundle"), **_ERRORS},
)
def fhir_supply_requests(plan_id: str) -> Response:
    """Return a stored plan's flows as SupplyRequests."""
    service = _service()
    require("plans:read")
    authorize_plan_read(service, plan_id)  # as GET /plans/{id}: dispatchers once published
    document = json.loads(service.load(plan_id, "plan.json"))
    resources = fhir.supply_requests_from_plan(document, plan_id=plan_id)
    return _fhir_response(
        fhir.bundle(resources, bundle_type="collection", self_url=request.url, timestamp=_now())
    )


@operation(
    bp,
    "GET",
    "/fhir/plans/<plan_id>/routes/<routes_id>/SupplyDelivery",
    summary="Stored routes' delivery stops as FHIR R5 SupplyDelivery (collection)",
    parameters=[
        path_parameter("plan_id", HEX_ID_SCHEMA),
        path_parameter("routes_id", HEX_ID_SCHEMA),
    ],
    responses={"200": _fhir_ok("Bundle (collection)", "Bundle"), **_ERRORS},
)
def fhir_supply_deliveries(plan_id: str, routes_id: str) -> Response:
    """Return stored routes' delivery stops as SupplyDeliveries."""
    service = _service()
    require("routes:read")
    meta = json.loads(service.load(plan_id, "meta.json"))
    authorize(principal(), "routes:read", province_code=meta.get("province_code"))
    path = service.plans_dir / plan_id / "routes" / routes_id / "routes.json"
    if not _HEX_ID.match(routes_id) or not path.is_file():
        raise RoutesNotFoundError(f"routes_id: no routes {routes_id!r} for plan {plan_id!r}")
    routes = json.loads(path.read_text(encoding="utf-8"))
    resources = fhir.supply_deliveries_from_routes(routes)
    return _fhir_response(
        fhir.bundle(resources, bundle_type="collection", self_url=request.url, timestamp=_now())
    )


@operation(
    bp,
    "GET",
    "/fhir/InventoryReport",
    summary="Latest daily reports of a day as FHIR R5 InventoryReport (searchset)",
    parameters=[
        query_parameter(
            "date",
            {"type": "string", "format": "date"},
            "report day (Asia/Ho_Chi_Minh), default today",
        ),
        _PROVINCE,
        query_parameter("facility_id", {"type": "string"}, "one facility"),
    ],
    responses={"200": _fhir_ok("Bundle (searchset)", "Bundle"), **_ERRORS},
)
def fhir_inventory_reports() -> Response:
    """Return the latest reports of a day as InventoryReports."""
    day = query_date("date", _now().astimezone(LOCAL_TZ).date())
    facility_id = request.args.get("facility_id")
    province_code: str | None = None
    if facility_id is not None:
        # As GET /facilities/{id}/reports: a reporter is checked before the lookup.
        authorize_facility(facility_id, "reports:read")
        if "province_code" in request.args:
            raise InvalidInputError("province_code: give facility_id or province_code, not both")
    else:
        facility_id, province_code = _scoped_facilities("reports:read")
    revisions = current_store().latest_reports(
        date_from=day, date_to=day, facility_id=facility_id, province_code=province_code
    )
    names = {
        f.facility_id: f.name for f in current_store().list_facilities(province_code=province_code)
    }
    resources = fhir.inventory_reports(
        revisions, conversions=app_state().config.conversions, facility_names=names
    )
    return _searchset(resources)
