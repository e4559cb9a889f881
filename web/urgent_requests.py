"""HTTP endpoints for urgent requests (SOS) and their sourcing (issue 14).

A facility (or its province on its behalf) files a request; a province officer approves or
rejects it; a dispatcher asks for sourcing options computed on the roads, chooses one and
dispatches the request (its delivery row is created then). Who may do what
(docs/live-operations-requests.md):

- file, cancel: ``requests:write`` (a facility reporter for its own facility, a province
  officer in its province, an admin);
- approve, reject: ``requests:decide`` (a province officer in its province, an admin);
- options, source, dispatch: ``requests:dispatch`` (a province officer in its province, a
  dispatcher, an admin);
- read: ``requests:read`` (everyone, scoped: a reporter sees its facility, an officer its
  province).

Every change sends the version it saw (``version`` in the body, or an ``If-Match`` header); a
stale one gets 409 with the current request under ``error.current``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Response, current_app, jsonify, request

from data.access import authorize
from data.errors import InvalidInputError, MalformedInputError, RecordNotFoundError
from data.reporting import LOCAL_TZ
from data.schema.live import RequestState
from data.schema.registry import Facility, Role, Supplier, Vehicle
from data.store.urgent_requests import (
    MAX_CYLINDERS,
    MAX_LIQUID_KG,
    MAX_TEXT,
    RequestConflictError,
    UrgentRequest,
    UrgentRequestDraft,
)
from web.common import (
    API_PREFIX,
    app_state,
    authorize_facility,
    created,
    current_store,
    error_response,
    json_body,
    principal,
    query_int,
    query_province,
    require,
)
from web.openapi import (
    ID_SCHEMA,
    OK_RESPONSE,
    PROVINCE_CODE_SCHEMA,
    ApiBlueprint,
    error_responses,
    json_request,
    operation,
    path_parameter,
    query_parameter,
)

bp = ApiBlueprint("urgent_requests", __name__, url_prefix=API_PREFIX)

_ERRORS = error_responses("400", "401", "403", "404", "409", "422", "429")
_MAX_ID = 2**31 - 1
_REQUEST_ID = path_parameter("request_id", {"type": "integer", "minimum": 1, "maximum": _MAX_ID})
_VERSION = {"type": "integer", "minimum": 1, "maximum": _MAX_ID}
_REASON = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}
_LIQUID_KG = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_LIQUID_KG}
_CYLINDERS = {"type": "integer", "minimum": 1, "maximum": MAX_CYLINDERS}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": 'the version seen (instead of version in the body), e.g. "3"',
    "schema": {"type": "string", "pattern": '^(W/)?"?[0-9]{1,9}"?$'},
}
_NEW_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["facility_id", "product", "needed_by", "reason"],
    "properties": {
        "facility_id": ID_SCHEMA,
        "product": {"type": "string", "enum": ["liquid", "cylinders"]},
        "requested_liquid_kg": {**_LIQUID_KG, "description": "kg of liquid oxygen (liquid)"},
        "requested_cylinders": {**_CYLINDERS, "description": "40 L cylinders (cylinders)"},
        "needed_by": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 with its offset, later than now",
        },
        "reason": _REASON,
        "contact_name": {"type": "string", "minLength": 1, "maxLength": 200},
        "contact_phone": {"type": "string", "pattern": r"^\+?[0-9][0-9 .\-]{5,38}$"},
    },
}


def _action_body(**properties: Any) -> dict[str, Any]:
    return json_request(
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {"version": _VERSION, **properties},
        },
        required=False,
    )


_STATE_LABELS = {
    RequestState.REQUESTED: ("Chờ duyệt", "Requested"),
    RequestState.APPROVED: ("Đã duyệt", "Approved"),
    RequestState.SOURCED: ("Đã chọn nguồn", "Sourced"),
    RequestState.DISPATCHED: ("Đang vận chuyển", "Dispatched"),
    RequestState.DELIVERED: ("Đã giao", "Delivered"),
    RequestState.REJECTED: ("Từ chối", "Rejected"),
    RequestState.CANCELLED: ("Đã huỷ", "Cancelled"),
}
"""Columns of the board, in order, with their Vietnamese and English labels."""


@bp.errorhandler(RequestConflictError)
def _conflict(error: RequestConflictError) -> Response:
    """409 with the current request, so the client can decide again with its version."""
    response = error_response(409, str(error))
    body = response.get_json()
    body["error"]["current"] = request_json(error.current)
    out = jsonify(body)
    out.status_code = 409
    out.headers["ETag"] = f'"{error.current.version}"'
    return out


def request_json(item: UrgentRequest) -> dict[str, Any]:
    """Return a request as JSON, with its deadline also in local time and its board label."""
    out = item.to_dict()
    out["needed_by_local"] = item.needed_by.astimezone(LOCAL_TZ).isoformat()
    out["state_label_vi"], out["state_label_en"] = _STATE_LABELS[item.state]
    return out


def _one(item: UrgentRequest, status: int = 200) -> Response:
    response = jsonify(request_json(item))
    response.status_code = status
    response.headers["ETag"] = f'"{item.version}"'
    return response


def _authorized(request_id: int, permission: str) -> UrgentRequest:
    """Return a request the user may use with ``permission`` (403 before 404 for a role)."""
    require(permission)
    if not 1 <= request_id <= _MAX_ID:
        raise RecordNotFoundError(f"request_id: no urgent request {request_id}")
    item = current_store().get_request(request_id)
    authorize(
        principal(), permission, facility_id=item.facility_id, province_code=item.province_code
    )
    return item


def _action_fields(allowed: set[str]) -> dict[str, Any]:
    """Return the action's body (empty when none is sent) with its ``version``; 422 otherwise."""
    body: Any = json_body() if request.get_data(cache=True) else {}
    if not isinstance(body, dict):
        raise InvalidInputError('body: expected a JSON object such as {"version": 3}')
    problems = [
        f"{key}: unknown key (allowed: {', '.join(sorted(allowed | {'version'}))})"
        for key in sorted(set(body) - allowed - {"version"})
    ]
    version = body.get("version")
    header = request.headers.get("If-Match")
    if version is None and header is not None:
        match = re.fullmatch(r'(?:W/)?"?([0-9]{1,9})"?', header.strip())
        version = int(match.group(1)) if match else header
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= _MAX_ID:
        problems.append(
            "version: required, the version you saw (a whole number from GET "
            f"/requests/{{id}}), in the body or an If-Match header; got {version!r}"
        )
    if problems:
        raise InvalidInputError.from_problems("request change", problems)
    return {**body, "version": version}


# ---------------------------------------------------------------------------- filing, reading


@operation(
    bp,
    "POST",
    "/requests",
    summary="File an urgent request (SOS) for a facility: product, quantity, needed by, reason",
    request_body=json_request(_NEW_REQUEST),
    responses={"201": OK_RESPONSE, **_ERRORS},
)
def file_request() -> Response:
    """Store a new request (state requested, version 1); 201 with its Location."""
    require("requests:write")
    body = json_body()
    if isinstance(body, dict) and isinstance(body.get("facility_id"), str):
        authorize_facility(body["facility_id"], "requests:write")
    draft = UrgentRequestDraft.from_mapping(body, now=app_state().config.clock())
    item = current_store().file_request(draft, actor=principal().username)
    response = created(request_json(item), f"{API_PREFIX}/requests/{item.request_id}")
    response.headers["ETag"] = f'"{item.version}"'
    return response


@operation(
    bp,
    "GET",
    "/requests",
    summary="Urgent requests by deadline, and the board grouped by state (scoped by role)",
    parameters=[
        query_parameter(
            "state", {"type": "string", "enum": [s.value for s in RequestState]}, "one state"
        ),
        query_parameter("facility_id", ID_SCHEMA, "one facility"),
        query_parameter("province_code", PROVINCE_CODE_SCHEMA, "one province"),
    ],
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def list_requests() -> Response:
    """Return the requests the user may see, by ``needed_by``, and the board by state.

    A reporter sees its facility's requests, an officer its province's (by default); national
    roles see every province unless they filter.
    """
    require("requests:read")
    raw_state = request.args.get("state")
    states = () if raw_state is None else (_state(raw_state),)
    facility_id, province_code = _list_scope()
    items = current_store().list_requests(
        states=states, facility_id=facility_id, province_code=province_code
    )
    return jsonify(
        {
            "filters": {
                "state": raw_state,
                "facility_id": facility_id,
                "province_code": province_code,
            },
            "requests": [request_json(i) for i in items],
            "board": board(items),
        }
    )


def _state(raw: str) -> RequestState:
    try:
        return RequestState(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in RequestState)
        raise MalformedInputError(
            "state: unknown state", [f"state: one of {allowed}, got {raw!r:.40}"]
        ) from None


def _list_scope() -> tuple[str | None, str | None]:
    """Return the (facility, province) a listing is limited to, checked against the user."""
    user = principal()
    facility_id = request.args.get("facility_id")
    province_code = query_province()
    if user.role == Role.FACILITY_REPORTER:
        facility_id = facility_id or user.facility_id
    elif user.role == Role.PROVINCE_COORDINATOR and province_code is None:
        province_code = user.province_code
    if facility_id is not None:
        facility = authorize_facility(facility_id, "requests:read")
        if province_code is not None and province_code != facility.province_code:
            raise InvalidInputError(
                f"province_code: facility {facility_id} is in province "
                f"{facility.province_code}, not {province_code}"
            )
    else:
        authorize(user, "requests:read", province_code=province_code)
    return facility_id, province_code


def board(items: list[UrgentRequest]) -> list[dict[str, Any]]:
    """Return the board's columns: every state in order, its labels and its requests' ids."""
    return [
        {
            "state": state.value,
            "label_vi": labels[0],
            "label_en": labels[1],
            "count": sum(1 for i in items if i.state is state),
            "request_ids": [i.request_id for i in items if i.state is state],
        }
        for state, labels in _STATE_LABELS.items()
    ]


@operation(
    bp,
    "GET",
    "/requests/<int:request_id>",
    summary="One urgent request with its state, version (also the ETag) and delivery",
    parameters=[_REQUEST_ID],
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def get_request(request_id: int) -> Response:
    """Return one request."""
    return _one(_authorized(request_id, "requests:read"))


# ---------------------------------------------------------------------------- decisions


@operation(
    bp,
    "POST",
    "/requests/<int:request_id>/approve",
    summary="Approve a request (the approved quantity may differ, with a reason)",
    parameters=[_REQUEST_ID, _IF_MATCH],
    request_body=_action_body(
        approved_liquid_kg=_LIQUID_KG, approved_cylinders=_CYLINDERS, reason=_REASON
    ),
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def approve_request(request_id: int) -> Response:
    """Approve: requested -> approved (province officer of the facility's province, admin)."""
    _authorized(request_id, "requests:decide")
    fields = _action_fields({"approved_liquid_kg", "approved_cylinders", "reason"})
    item = current_store().approve_request(
        request_id,
        version=fields["version"],
        actor=principal().username,
        approved_liquid_kg=fields.get("approved_liquid_kg"),
        approved_cylinders=fields.get("approved_cylinders"),
        reason=fields.get("reason"),
    )
    return _one(item)


@operation(
    bp,
    "POST",
    "/requests/<int:request_id>/reject",
    summary="Reject a request, saying why",
    parameters=[_REQUEST_ID, _IF_MATCH],
    request_body=_action_body(reason=_REASON),
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def reject_request(request_id: int) -> Response:
    """Reject: requested -> rejected, with a reason (province officer, admin)."""
    _authorized(request_id, "requests:decide")
    fields = _action_fields({"reason"})
    item = current_store().reject_request(
        request_id,
        version=fields["version"],
        actor=principal().username,
        reason=fields.get("reason", ""),
    )
    return _one(item)


@operation(
    bp,
    "POST",
    "/requests/<int:request_id>/cancel",
    summary="Cancel a request that is not dispatched yet",
    parameters=[_REQUEST_ID, _IF_MATCH],
    request_body=_action_body(reason=_REASON),
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def cancel_request(request_id: int) -> Response:
    """Cancel: requested, approved or sourced -> cancelled (the filer's side: requests:write)."""
    _authorized(request_id, "requests:write")
    fields = _action_fields({"reason"})
    item = current_store().cancel_request(
        request_id,
        version=fields["version"],
        actor=principal().username,
        reason=fields.get("reason"),
    )
    return _one(item)


# ---------------------------------------------------------------------------- sourcing


_REGION_QUERY = query_parameter("region", ID_SCHEMA, "served region (default: the province's)")
_NEAREST_QUERY = query_parameter(
    "nearest", {"type": "integer", "minimum": 1, "maximum": 20}, "nearest suppliers (default 3)"
)


@operation(
    bp,
    "GET",
    "/requests/<int:request_id>/options",
    summary="Sourcing options of an approved request on the roads: new trips and insertions",
    parameters=[_REQUEST_ID, _REGION_QUERY, _NEAREST_QUERY],
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def request_options(request_id: int) -> Response:
    """Return the options by ETA, each saying whether it meets ``needed_by``."""
    item = _authorized(request_id, "requests:dispatch")
    answer, region_id = _options(item)
    return jsonify({"region": region_id, **answer.to_dict()})


@operation(
    bp,
    "POST",
    "/requests/<int:request_id>/source",
    summary="Choose a sourcing option (by option_id from .../options): approved -> sourced",
    parameters=[_REQUEST_ID, _IF_MATCH, _REGION_QUERY, _NEAREST_QUERY],
    request_body=json_request(
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["option_id"],
            "properties": {
                "version": _VERSION,
                "option_id": {"type": "string", "minLength": 1, "maxLength": 300},
            },
        }
    ),
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def source_request(request_id: int) -> Response:
    """Recompute the options, store the chosen one (with its ETA now) and mark it sourced."""
    item = _authorized(request_id, "requests:dispatch")
    fields = _action_fields({"option_id"})
    option_id = fields.get("option_id")
    answer, region_id = _options(item)
    chosen = answer.option(option_id) if isinstance(option_id, str) else None
    if chosen is None:
        known = ", ".join(o.option_id for o in answer.options) or "none"
        raise InvalidInputError.from_problems(
            "sourcing choice",
            [f"option_id: not an option of request {request_id} now (options: {known})"],
        )
    sourcing = {
        **chosen.to_dict(),
        "region": region_id,
        "computed_at": answer.computed_at.astimezone(dt.UTC).isoformat(),
    }
    updated = current_store().source_request(
        request_id, version=fields["version"], actor=principal().username, sourcing=sourcing
    )
    return _one(updated)


@operation(
    bp,
    "POST",
    "/requests/<int:request_id>/dispatch",
    summary="Dispatch a sourced request: its delivery (in transit) is created with it",
    parameters=[_REQUEST_ID, _IF_MATCH],
    request_body=_action_body(),
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def dispatch_request(request_id: int) -> Response:
    """Dispatch: sourced -> dispatched, and the delivery row (in transit, with its ETA)."""
    _authorized(request_id, "requests:dispatch")
    fields = _action_fields(set())
    item = current_store().dispatch_request(
        request_id,
        version=fields["version"],
        actor=principal().username,
        conversions=app_state().config.conversions,
    )
    return _one(item)


def _options(item: UrgentRequest) -> tuple[Any, str]:
    """Return the sourcing answer of an approved request and the region it was computed in."""
    from coordination.sourcing import (
        SourcingProblem,
        sourcing_options,
        sourcing_vehicles,
        supplier_offers,
    )
    from web.plans import PlanService

    if item.state is not RequestState.APPROVED:
        raise RequestConflictError(
            f"state: request {item.request_id} is {item.state.value}; options are for approved "
            "requests",
            item,
        )
    store = current_store()
    facility = store.get_record("facilities", item.facility_id)
    assert isinstance(facility, Facility)
    service: PlanService = current_app.extensions["oxyroute_plans"]
    region_id = _region_id(service, facility)
    try:
        region, network = service.region_network(region_id)
    except FileNotFoundError as error:
        raise InvalidInputError(f"region: {error}") from None
    now = app_state().config.clock()
    day = now.astimezone(LOCAL_TZ).date()
    start = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ).astimezone(dt.UTC)
    stops = tuple(store.planned_stops(start=start, end=start + dt.timedelta(days=1)))
    problem = SourcingProblem(
        request_id=item.request_id,
        facility_id=item.facility_id,
        lon=facility.lon,
        lat=facility.lat,
        product=item.product,
        quantity=float(item.quantity),
        needed_by=item.needed_by,
        now=now,
        suppliers=supplier_offers(
            [s for s in store.list_records("suppliers", limit=None) if isinstance(s, Supplier)],
            [d.declaration for d in store.list_declarations(date_from=day, date_to=day)],
        ),
        vehicles=sourcing_vehicles(
            [v for v in store.list_records("vehicles", limit=None) if isinstance(v, Vehicle)]
        ),
        stops=stops,
        nearest=query_int("nearest", 3, 1, 20),
    )
    # One matrix query over a few dozen places on the app's loaded network: not a costly
    # operation (bench_sourcing.py), so it is not rationed like plans and routes.
    answer = sourcing_options(
        problem, network, gateways=region.gateways, max_snap_m=region.max_snap_m
    )
    return answer, region_id


def _region_id(service: Any, facility: Facility) -> str:
    """Return the ``region`` query's region, else the first served one of the province."""
    from data.region import load_region

    asked = request.args.get("region")
    if asked is not None:
        accepted = service.accepted_regions()  # a region given by path: its id too (issue 16)
        if asked not in accepted:
            raise InvalidInputError(
                f"region: {asked!r:.80} is not one of the served regions {list(accepted)}"
            )
        return asked
    for region_id in service.regions:
        if (
            load_region(region_id, data_dir=service.data_dir).province_code
            == facility.province_code
        ):
            return str(region_id)
    raise InvalidInputError(
        f"facility_id: no served region covers province {facility.province_code} of "
        f"{facility.facility_id}; sourcing needs its road network"
    )
