"""HTTP endpoints for dispatchers' routes on a stored plan: ``/api/v1/plans/{id}/routes...``.

Thin views over :mod:`dispatch`: parse, call one orchestration function, serialise, return. Routes
are stored as files beside their plan (``<plans_dir>/<plan_id>/routes/<routes_id>/``), written
atomically, so any worker can serve them after a restart.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any

from flask import Response, current_app, g, request

from data.access import authorize
from data.errors import InvalidInputError, MissingDataFileError
from data.schema.documents import RoutesDocument
from data.schema.registry import Facility
from web.common import API_PREFIX, current_store, json_body, require
from web.errors import RoutesNotFoundError
from web.openapi import (
    HEX_ID_SCHEMA,
    ApiBlueprint,
    error_responses,
    json_request,
    operation,
    path_parameter,
    query_parameter,
)
from web.plans import PlanService, costly_operation

_ROUTES_ID = re.compile(r"^[0-9a-f]{32}$")
_BODY_KEYS = {"day", "vehicles", "start_time", "options"}
bp = ApiBlueprint("dispatch", __name__, url_prefix=API_PREFIX)
_ERRORS = error_responses("400", "401", "403", "404", "422", "429")
_PLAN_ID = path_parameter("plan_id", HEX_ID_SCHEMA)
_ROUTES_ID_PARAMETER = path_parameter("routes_id", HEX_ID_SCHEMA)
_CLOCK = {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$"}
_WINDOW = {"type": "array", "items": _CLOCK, "minItems": 2, "maxItems": 2}
_VEHICLE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["vehicle_id", "kind", "home_depot_id"],
    "properties": {
        "vehicle_id": {"type": "string", "minLength": 1},
        "kind": {"type": "string", "enum": ["cryogenic_tanker", "cylinder_truck"]},
        "home_depot_id": {"type": "string", "description": "a supplier of the plan"},
        "tank_capacity_lox_kg": {"type": "integer", "minimum": 1},
        "cylinder_capacity": {"type": "integer", "minimum": 1},
        "plate": {"type": "string"},
        "operator_id": {"type": "string"},
    },
}
_SERVICE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        name: {"type": "integer", "minimum": 0}
        for name in (
            "facility_stop_s",
            "per_cylinder_unload_s",
            "tank_fill_s",
            "supplier_stop_s",
            "per_cylinder_load_s",
            "tanker_load_s",
        )
    },
}
_ROUTES_REQUEST: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["day"],
    "properties": {
        "day": {"type": "integer", "minimum": 0, "description": "day offset in the plan"},
        "vehicles": {
            "type": "array",
            "items": _VEHICLE,
            "minItems": 1,
            "description": "default: the registry's fleet",
        },
        "start_time": {**_CLOCK, "description": "shift start, local time (default 06:00)"},
        "options": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "shift_hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 24},
                "receiving_hours": _WINDOW,
                "urgent_by": _CLOCK,
                "facilities": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "receiving_hours": _WINDOW,
                            "contact": {"type": "string"},
                            "phone": {"type": "string"},
                            "cylinders_empty": {"type": ["integer", "null"], "minimum": 0},
                        },
                    },
                },
                "service": _SERVICE,
                "cross_company_loading": {"type": "boolean", "default": False},
                "min_drop_lox_share": {"type": "number", "minimum": 0, "maximum": 1},
                "min_drop_cylinders": {"type": "integer", "minimum": 0},
                "time_limit_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
                "seed": {"type": "integer", "minimum": 0},
                "max_iterations": {"type": ["integer", "null"], "minimum": 1},
            },
        },
    },
}


def _service() -> PlanService:
    return current_app.extensions["oxyroute_plans"]  # type: ignore[no-any-return]


def _plan_meta(plan_id: str, permission: str) -> dict[str, Any]:
    require(permission)
    meta: dict[str, Any] = json.loads(_service().load(plan_id, "meta.json"))
    authorize(g.principal, permission, province_code=meta.get("province_code"))
    return meta


def _routes_dir(plan_id: str, routes_id: str) -> Path:
    path = _service().plans_dir / plan_id / "routes" / routes_id
    if not _ROUTES_ID.match(routes_id) or not path.is_dir():
        raise RoutesNotFoundError(f"routes_id: no routes {routes_id!r} for plan {plan_id!r}")
    return path


def _save(plan_id: str, routes_id: str, files: dict[str, str]) -> None:
    parent = _service().plans_dir / plan_id / "routes"
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=".staging-"))
    for name, text in files.items():
        (staging / name).write_text(text, encoding="utf-8")
    os.replace(staging, parent / routes_id)


def _fleet(body: dict[str, Any], store: Any) -> tuple[Any, ...]:
    """Return the request's vehicles, else the registry's fleet (422 on ``vehicles`` if none)."""
    from coordination.dispatch import FleetVehicle, vehicles_from_mapping

    if "vehicles" in body:
        return vehicles_from_mapping(body["vehicles"])
    records = store.list_records("vehicles", limit=None)
    fleet = []
    for record in records:
        try:
            fleet.append(FleetVehicle.from_registry(record))
        except InvalidInputError:
            continue  # no home depot or capacity: cannot be routed; the registry says which
    if not fleet:
        raise InvalidInputError.from_problems(
            "routes request",
            [
                "vehicles: the registry has no vehicle with a home depot and a capacity; "
                "give a vehicles list in the request"
            ],
        )
    return tuple(fleet)


@operation(
    bp,
    "POST",
    "/plans/<plan_id>/routes",
    summary="Route one day of a plan (dispatchers, coordinators)",
    parameters=[_PLAN_ID],
    request_body=json_request(_ROUTES_REQUEST),
    responses={
        "201": {
            "description": "routes computed, validated and stored",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_ERRORS,
    },
)
def create_routes(plan_id: str) -> Response:
    """Route one day of a stored plan on the road network and store the routes; 201."""
    from coordination.dispatch import (
        dispatch_request_from_plan,
        plan_dispatch,
        routes_to_dict,
        routes_to_geojson,
    )

    meta = _plan_meta(plan_id, "routes:write")
    body, options, fleet = _routes_request()
    service = _service()
    document = json.loads(service.load(plan_id, "plan.json"))
    facility_ids = {f["facility_id"] for f in document.get("facilities", [])}
    addresses = {
        f.facility_id: f.address
        for f in current_store().list_records("facilities", limit=None)
        if isinstance(f, Facility) and f.facility_id in facility_ids and f.address
    }
    dispatch_request = dispatch_request_from_plan(
        document,
        day=body["day"],
        vehicles=fleet,
        options=options,
        plan_id=plan_id,
        addresses=addresses,
    )
    try:
        region, network = service.region_network(meta["region"])
    except MissingDataFileError as exc:
        raise InvalidInputError(f"region: {exc}") from None
    with costly_operation("routes"):
        result = plan_dispatch(dispatch_request, network, region)
    routes_id = uuid.uuid4().hex
    answer = routes_to_dict(result, routes_id=routes_id)
    answer["meta"] = {
        "created_by": g.principal.username,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    _save(
        plan_id,
        routes_id,
        {
            "routes.json": json.dumps(answer, ensure_ascii=False),
            "routes.geojson": json.dumps(
                routes_to_geojson(answer, network, region), ensure_ascii=False
            ),
        },
    )
    return _created(plan_id, routes_id, answer)


def _routes_request() -> tuple[dict[str, Any], Any, tuple[Any, ...]]:
    """Return the body of a routes request, its dispatch options and its fleet.

    Every problem of the body (unknown keys, no ``day``, bad options, no usable vehicle) is
    listed in one 422.
    """
    from coordination.dispatch import DispatchOptions

    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInputError("body: expected a JSON object with day (and vehicles)")
    problems = [
        f"{key}: unknown key (allowed: {', '.join(sorted(_BODY_KEYS))})"
        for key in sorted(set(body) - _BODY_KEYS)
    ]
    if "day" not in body:
        problems.append("day: required (day offset in the plan's horizon, 0 = first day)")
    options = None
    try:
        options = DispatchOptions.from_mapping(
            body.get("options"), start_time=body.get("start_time")
        )
    except InvalidInputError as error:
        problems += error.problems
    fleet: tuple[Any, ...] = ()
    try:
        fleet = _fleet(body, current_store())
    except InvalidInputError as error:
        problems += error.problems
    if problems:
        raise InvalidInputError.from_problems("routes request", problems)
    return body, options, fleet


def _created(plan_id: str, routes_id: str, answer: RoutesDocument) -> Response:
    """Return the 201 answer of stored routes: their summary and links (one sheet per vehicle)."""
    base = f"{request.path}/{routes_id}"
    links = {
        "self": base,
        "geojson": f"{base}?format=geojson",
        "sheets": {r["vehicle"]: f"{base}/sheets/{r['vehicle']}?lang=vi" for r in answer["routes"]},
    }
    created = {
        "routes_id": routes_id,
        "plan_id": plan_id,
        "day": answer["day"],
        "date": answer["date"],
        "summary": answer["summary"],
        "unassigned": answer["unassigned"],
        "links": links,
    }
    response = current_app.response_class(
        json.dumps(created, ensure_ascii=False), status=201, mimetype="application/json"
    )
    response.headers["Location"] = base
    return response


@operation(
    bp,
    "GET",
    "/plans/<plan_id>/routes/<routes_id>",
    summary="Stored routes as VROOM-like JSON or RFC 7946 GeoJSON",
    parameters=[
        _PLAN_ID,
        _ROUTES_ID_PARAMETER,
        query_parameter("format", {"type": "string", "enum": ["json", "geojson"]}),
    ],
    responses={
        "200": {
            "description": "the routes",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/geo+json": {"schema": {"type": "object"}},
            },
        },
        **_ERRORS,
    },
)
def get_routes(plan_id: str, routes_id: str) -> Response:
    """Return stored routes as JSON or GeoJSON (``format``)."""
    _plan_meta(plan_id, "routes:read")
    folder = _routes_dir(plan_id, routes_id)
    fmt = request.args.get("format", "json")
    if fmt == "json":
        return current_app.response_class(
            (folder / "routes.json").read_text(encoding="utf-8"), mimetype="application/json"
        )
    if fmt == "geojson":
        return current_app.response_class(
            (folder / "routes.geojson").read_text(encoding="utf-8"),
            mimetype="application/geo+json",
        )
    raise InvalidInputError(f"format: must be json or geojson, got {fmt!r}")


@operation(
    bp,
    "GET",
    "/plans/<plan_id>/routes/<routes_id>/sheets/<vehicle_id>",
    summary="A driver's printable route sheet (HTML, A4)",
    parameters=[
        _PLAN_ID,
        _ROUTES_ID_PARAMETER,
        query_parameter("lang", {"type": "string", "enum": ["vi", "en"]}),
    ],
    responses={
        "200": {
            "description": "the sheet",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
        **_ERRORS,
    },
)
def get_route_sheet(plan_id: str, routes_id: str, vehicle_id: str) -> Response:
    """Return a vehicle's printable route sheet in Vietnamese or English (``lang``)."""
    from coordination.dispatch import LANGUAGES, route_sheet_html

    _plan_meta(plan_id, "routes:read")
    folder = _routes_dir(plan_id, routes_id)
    lang = request.args.get("lang", "vi")
    if lang not in LANGUAGES:
        raise InvalidInputError(f"lang: must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    routes = json.loads((folder / "routes.json").read_text(encoding="utf-8"))
    if vehicle_id not in {r["vehicle"] for r in routes["routes"]}:
        raise RoutesNotFoundError(
            f"vehicle_id: {vehicle_id!r} has no route in routes {routes_id!r}"
        )
    return current_app.response_class(
        route_sheet_html(routes, vehicle_id, lang=lang), mimetype="text/html"
    )
