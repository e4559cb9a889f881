"""HTTP endpoints for planned deliveries and proof of delivery (issue 14).

A published plan's route stops are planned deliveries (``POST /plans/{id}/publish``). Dispatchers
mark them in transit; the driver or the receiving facility confirms each one with the quantity
received, the time, the receiver's name, a note and an optional photo or signature (JPEG or PNG,
checked by its magic bytes, at most 2 MiB). A confirmation is final: confirming twice is a 409, so
a delivery's quantity reaches the facility's stock once. The daily reconciliation per supplier
(dispatched against received) is a CSV or XLSX file. Times a person reads are Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from typing import Any

from flask import Response, current_app, jsonify, request

from data.access import authorize
from data.errors import InvalidInputError, MalformedInputError, PermissionDeniedError
from data.exchange.compliance_table import XLSX_MIMETYPE
from data.exchange.delivery_reconciliation import reconciliation_file
from data.reporting import LOCAL_TZ
from data.schema.live import DeliveryState
from data.schema.registry import Role
from data.store.deliveries import (
    MAX_PROOF_BYTES,
    Delivery,
    Receipt,
    proof_content_type,
)
from web.common import (
    API_PREFIX,
    app_state,
    authorize_facility,
    current_store,
    error_response,
    optional_json_object,
    principal,
    query_bool,
    query_date,
    query_int,
    require,
    scoped_province,
    today,
)
from web.openapi import (
    ApiBlueprint,
    error_responses,
    json_request,
    operation,
    path_parameter,
    query_parameter,
)

bp = ApiBlueprint("deliveries", __name__, url_prefix=API_PREFIX)
_PLAN_ID = re.compile(r"[0-9a-f]{32}")
_ERRORS = error_responses("400", "401", "403", "404", "409", "422")
_DELIVERY_ID = path_parameter("delivery_id", {"type": "integer", "minimum": 1})
_DELIVERY_RESPONSE = {
    "description": "the delivery",
    "content": {"application/json": {"schema": {"type": "object"}}},
}
_CONFIRM_KEYS = {
    "received_liquid_kg",
    "received_cylinders",
    "received_at",
    "receiver_name",
    "note",
    "proof_base64",
    "version",
}
_CONFIRM_BODY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["receiver_name"],
    "properties": {
        "received_liquid_kg": {"type": "number", "minimum": 0, "description": "liquid: kg"},
        "received_cylinders": {"type": "integer", "minimum": 0, "description": "cylinders"},
        "received_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 with its offset; default: now",
        },
        "receiver_name": {"type": "string", "minLength": 1, "maxLength": 200},
        "note": {"type": "string", "maxLength": 1000},
        "proof_base64": {
            "type": "string",
            "contentEncoding": "base64",
            "description": f"a JPEG or PNG photo or signature, at most {MAX_PROOF_BYTES} bytes",
        },
        "version": {"type": "integer", "minimum": 1, "description": "compare-and-set"},
    },
}
_VERSION_BODY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"version": {"type": "integer", "minimum": 1}},
}


def _local_time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def delivery_to_dict(delivery: Delivery) -> dict[str, Any]:
    """Return a delivery as JSON: names beside ids, local times, shortfall flagged, links."""
    base = f"{API_PREFIX}/deliveries/{delivery.delivery_id}"
    links = {"self": base}
    if delivery.has_proof:
        links["proof"] = f"{base}/proof"
    return {
        "delivery_id": delivery.delivery_id,
        "state": delivery.state.value,
        "version": delivery.version,
        "facility_id": delivery.facility_id,
        "facility_name": delivery.facility_name,
        "province_code": delivery.province_code,
        "supplier_id": delivery.supplier_id,
        "supplier_name": delivery.supplier_name,
        "plan_id": delivery.plan_id,
        "routes_id": delivery.routes_id,
        "vehicle_id": delivery.vehicle_id,
        "stop_index": delivery.stop_index,
        "request_id": delivery.request_id,
        "product": delivery.product.value,
        "planned_liquid_kg": delivery.planned_liquid_kg,
        "planned_cylinders": delivery.planned_cylinders,
        "planned_m3": delivery.planned_m3,
        "eta": _local_time(delivery.eta),
        "dispatched_at": _local_time(delivery.dispatched_at),
        "received_at": _local_time(delivery.received_at),
        "received_liquid_kg": delivery.received_liquid_kg,
        "received_cylinders": delivery.received_cylinders,
        "received_m3": delivery.received_m3,
        "receiver_name": delivery.receiver_name,
        "note": delivery.note,
        "confirmed_by": delivery.confirmed_by,
        "has_proof": delivery.has_proof,
        "shortfall": delivery.shortfall,
        "links": links,
    }


def _delivery(delivery_id: int, permission: str) -> Delivery:
    """Return a delivery the user may use with ``permission`` (403 outside its scope)."""
    require(permission)
    delivery = current_store().get_delivery(delivery_id)
    authorize(
        principal(),
        permission,
        facility_id=delivery.facility_id,
        province_code=delivery.province_code,
    )
    return delivery


def _list_scope() -> tuple[str | None, str | None]:
    """Return the facility and province a listing is limited to (a reporter: its facility)."""
    require("deliveries:read")
    user = principal()
    facility_id = request.args.get("facility_id")
    if user.role == Role.FACILITY_REPORTER:
        facility_id = facility_id or user.facility_id
        authorize(user, "deliveries:read", facility_id=facility_id)
        return facility_id, None
    if facility_id is not None:
        facility = authorize_facility(facility_id, "deliveries:read")
        return facility.facility_id, None
    return None, scoped_province("deliveries:read")


def _query_state() -> list[DeliveryState] | None:
    raw = request.args.get("state")
    if raw is None:
        return None
    if raw not in {s.value for s in DeliveryState}:
        problem = f"state: one of {', '.join(s.value for s in DeliveryState)}, got {raw!r}"
        raise MalformedInputError(problem, [problem])
    return [DeliveryState(raw)]


def _query_plan_id() -> str | None:
    """Return the ``plan_id`` query (32 hex digits), or None; 400 for another value."""
    raw = request.args.get("plan_id")
    if raw is not None and not _PLAN_ID.fullmatch(raw):
        problem = f"plan_id: 32 lowercase hex digits, got {raw!r:.60}"
        raise MalformedInputError(problem, [problem])
    return raw


@operation(
    bp,
    "GET",
    "/deliveries",
    summary="List deliveries by ETA (a facility: its incoming deliveries)",
    parameters=[
        query_parameter("facility_id", {"type": "string"}),
        query_parameter("province_code", {"type": "string", "pattern": "^[0-9]{2}$"}),
        query_parameter("date", {"type": "string", "format": "date"}, "ETA's local day"),
        query_parameter("state", {"type": "string", "enum": [s.value for s in DeliveryState]}),
        query_parameter("plan_id", {"type": "string", "pattern": "^[0-9a-f]{32}$"}),
        query_parameter("shortfall", {"type": "boolean"}, "only confirmed short deliveries"),
        query_parameter("limit", {"type": "integer", "minimum": 1, "maximum": 5000}),
    ],
    responses={
        "200": {
            "description": "deliveries in the user's scope",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_ERRORS,
    },
)
def list_deliveries() -> Response:
    """List the deliveries in the user's scope, filtered; short ones are flagged."""
    facility_id, province_code = _list_scope()
    on_date = query_date("date") if request.args.get("date") is not None else None
    found = current_store().list_deliveries(
        facility_id=facility_id,
        province_code=province_code,
        plan_id=_query_plan_id(),
        states=_query_state(),
        on_date=on_date,
        shortfall_only=query_bool("shortfall"),
        limit=query_int("limit", 1000, 1, 5000),
    )
    items = [delivery_to_dict(d) for d in found]
    in_transit_m3 = sum(d.planned_m3 for d in found if d.state == DeliveryState.IN_TRANSIT)
    return jsonify(
        {
            "deliveries": items,
            "count": len(items),
            "in_transit_m3": round(in_transit_m3, 3),
            "shortfalls": [i["delivery_id"] for i in items if i["shortfall"] is not None],
        }
    )


@operation(
    bp,
    "GET",
    "/deliveries/<int:delivery_id>",
    summary="One delivery: planned, in transit or confirmed, with its proof's link",
    parameters=[_DELIVERY_ID],
    responses={"200": _DELIVERY_RESPONSE, **_ERRORS},
)
def get_delivery(delivery_id: int) -> Response:
    """Return one delivery in the user's scope."""
    return jsonify(delivery_to_dict(_delivery(delivery_id, "deliveries:read")))


def _version(body: dict[str, Any], problems: list[str]) -> int | None:
    version = body.get("version")
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        problems.append(f"version: a whole number from 1, got {version!r}")
        return None
    return version


@operation(
    bp,
    "POST",
    "/deliveries/<int:delivery_id>/dispatch",
    summary="Mark a planned delivery in transit (dispatchers, coordinators)",
    parameters=[_DELIVERY_ID],
    request_body=json_request(_VERSION_BODY, required=False),
    responses={"200": _DELIVERY_RESPONSE, **_ERRORS},
)
def dispatch_delivery(delivery_id: int) -> Response:
    """Mark a delivery in transit (compare-and-set on ``version``; 409 unless planned)."""
    if principal().role == Role.FACILITY_REPORTER:
        raise PermissionDeniedError(
            "a facility reporter confirms what it receives; a dispatcher marks it in transit"
        )
    _delivery(delivery_id, "deliveries:write")
    problems: list[str] = []
    version = _version(optional_json_object({"version"}), problems)
    if problems:
        raise InvalidInputError.from_problems("dispatch", problems)
    delivery = current_store().dispatch_delivery(
        delivery_id, actor=principal().username, seen_version=version
    )
    return jsonify(delivery_to_dict(delivery))


def _received_at(raw: Any, problems: list[str]) -> dt.datetime:
    now = app_state().config.clock()
    if raw is None:
        return now
    try:
        if not isinstance(raw, str):
            raise ValueError(raw)
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        problems.append(
            f"received_at: ISO 8601 with offset, e.g. 2021-08-20T10:30+07:00, got {raw!r}"
        )
        return now
    if value.tzinfo is None:
        problems.append(f"received_at: give the offset (e.g. +07:00), got {raw!r}")
        return now
    if value > now + dt.timedelta(minutes=5):
        problems.append(f"received_at: {raw} is in the future (now {_local_time(now)})")
    return value


def _quantity(body: dict[str, Any], name: str, problems: list[str]) -> Any:
    value = body.get(name)
    kinds = int if name == "received_cylinders" else int | float
    if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
        problems.append(f"{name}: a {'whole ' if kinds is int else ''}number, got {value!r}")
        return None
    return value


def _proof(raw: Any, problems: list[str]) -> bytes | Response | None:
    """Return the decoded proof image, or the 413/415 answer refusing it."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        problems.append("proof_base64: the image as base64 text")
        return None
    try:
        content = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        problems.append("proof_base64: not valid base64")
        return None
    if len(content) > MAX_PROOF_BYTES:
        return error_response(
            413,
            f"proof_base64: the image is {len(content)} bytes; at most {MAX_PROOF_BYTES}",
            [f"proof_base64: {len(content)} bytes, more than {MAX_PROOF_BYTES}"],
        )
    if proof_content_type(content) is None:
        return error_response(
            415,
            "proof_base64: a JPEG or PNG image is expected (checked by its content)",
            [f"proof_base64: starts with {content[:8].hex()}, neither JPEG nor PNG"],
        )
    return content


@operation(
    bp,
    "POST",
    "/deliveries/<int:delivery_id>/confirm",
    summary="Confirm a delivery: quantity received, time, receiver, note, photo (final)",
    parameters=[_DELIVERY_ID],
    request_body=json_request(_CONFIRM_BODY),
    responses={
        "200": _DELIVERY_RESPONSE,
        **_ERRORS,
        **error_responses("413", "415"),
    },
)
def confirm_delivery(delivery_id: int) -> Response:
    """Confirm a delivery (driver or receiving facility); a shortfall is flagged in the answer.

    Confirming twice is a 409 (the quantity is counted once); a stale ``version`` too. With an
    urgent request, the request becomes delivered in the same transaction.
    """
    _delivery(delivery_id, "deliveries:write")
    body = optional_json_object(_CONFIRM_KEYS)
    problems: list[str] = []
    proof = _proof(body.get("proof_base64"), problems)
    if isinstance(proof, Response):
        return proof
    receiver_name = body.get("receiver_name")
    if not isinstance(receiver_name, str):
        problems.append(f"receiver_name: who received it (text), got {receiver_name!r}")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        problems.append(f"note: text, got {note!r}")
    receipt_values = {
        "received_liquid_kg": _quantity(body, "received_liquid_kg", problems),
        "received_cylinders": _quantity(body, "received_cylinders", problems),
        "received_at": _received_at(body.get("received_at"), problems),
    }
    version = _version(body, problems)
    if problems:
        raise InvalidInputError.from_problems("delivery confirmation", problems)
    assert isinstance(receiver_name, str)
    receipt = Receipt(receiver_name=receiver_name, note=note, proof=proof, **receipt_values)
    delivery = current_store().confirm_delivery(
        delivery_id, receipt, actor=principal().username, seen_version=version
    )
    return jsonify(delivery_to_dict(delivery))


@operation(
    bp,
    "GET",
    "/deliveries/<int:delivery_id>/proof",
    summary="A confirmed delivery's photo or signature (JPEG or PNG)",
    parameters=[_DELIVERY_ID],
    responses={
        "200": {
            "description": "the image",
            "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **_ERRORS,
    },
)
def get_delivery_proof(delivery_id: int) -> Response:
    """Return a delivery's proof image to those who may read the delivery."""
    _delivery(delivery_id, "deliveries:read")
    media_type, content = current_store().delivery_proof(delivery_id)
    response = current_app.response_class(content, mimetype=media_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@operation(
    bp,
    "GET",
    "/deliveries/reconciliation.<any(csv, xlsx):ext>",
    summary="A day's reconciliation per supplier: dispatched against received (CSV or XLSX)",
    parameters=[
        query_parameter("date", {"type": "string", "format": "date"}, "ETA's local day; today"),
        query_parameter("province_code", {"type": "string", "pattern": "^[0-9]{2}$"}),
    ],
    responses={
        "200": {
            "description": "the reconciliation file",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **_ERRORS,
    },
)
def reconciliation(ext: str) -> Response:
    """Return the day's reconciliation per supplier as CSV (UTF-8) or XLSX, formula-safe."""
    require("deliveries:read")
    province_code = scoped_province("deliveries:read")
    day = query_date("date", today())
    rows = current_store().reconcile_deliveries(day, province_code=province_code)
    content, mimetype = reconciliation_file(day, rows, ext)
    response = current_app.response_class(content, mimetype=mimetype)
    scope = province_code or "all"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="reconciliation-{scope}-{day.isoformat()}.{ext}"'
    )
    return response
