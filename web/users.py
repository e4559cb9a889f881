"""User administration and the audit trail over HTTP (admins; the audit trail: national roles)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, jsonify, request

from data.access import authorize
from data.errors import MalformedInputError
from data.schema.registry import Role
from data.store.users import DEFAULT_TOKEN_DAYS
from web.common import (
    API_PREFIX,
    app_state,
    created,
    current_store,
    json_body,
    plain,
    principal,
    query_int,
)
from web.openapi import (
    OK_RESPONSE,
    ApiBlueprint,
    error_responses,
    json_request,
    operation,
    path_parameter,
    query_parameter,
)

bp = ApiBlueprint("users", __name__, url_prefix=API_PREFIX)

_ERRORS = error_responses("400", "401", "403", "404", "409", "422", "429")
_USER_FIELDS = ("username", "role", "facility_id", "province_code")
_NEW_USER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["username", "role"],
    "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": 100},
        "role": {"type": "string", "enum": [r.value for r in Role]},
        "facility_id": {"type": ["string", "null"]},
        "province_code": {"type": ["string", "null"]},
    },
}


@operation(
    bp,
    "GET",
    "/audit",
    summary="Audit trail",
    parameters=[
        query_parameter("entity", {"type": "string"}),
        query_parameter("entity_id", {"type": "string"}),
        query_parameter("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
    ],
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def audit() -> Response:
    """Return the latest audit events, optionally of one entity or record."""
    authorize(principal(), "audit:read")
    events = current_store().audit_trail(
        entity=request.args.get("entity"),
        entity_id=request.args.get("entity_id"),
        limit=query_int("limit", 100, 1, 1000),
    )
    return jsonify({"events": [plain(e) for e in events]})


@operation(
    bp,
    "POST",
    "/users",
    summary="Create a user (admin)",
    request_body=json_request(_NEW_USER),
    responses={"201": OK_RESPONSE, **_ERRORS},
)
def add_user() -> Response:
    """Create a user with a role and its scope (a facility or a province)."""
    authorize(principal(), "users:admin")
    body = json_body()
    if not isinstance(body, dict):
        raise MalformedInputError("body: must be an object", ["body: must be a JSON object"])
    problems = [f"{name}: unknown field" for name in sorted(set(body) - set(_USER_FIELDS))]
    role_value = body.get("role")
    # isinstance first: a dict or list is unhashable, and `in` a set raised a 500 (issue 16).
    if not isinstance(role_value, str) or role_value not in {r.value for r in Role}:
        problems.append(
            f"role: must be one of {', '.join(r.value for r in Role)}, got {role_value!r}"
        )
    for name in ("username", "facility_id", "province_code"):
        if body.get(name) is not None and not isinstance(body[name], str):
            problems.append(f"{name}: must be text")
    if problems:
        raise MalformedInputError.from_problems("user", problems)
    current_store().add_user(
        str(body.get("username", "")),
        Role(str(role_value)),
        facility_id=body.get("facility_id"),
        province_code=body.get("province_code"),
        actor=principal().username,
    )
    return created(
        {k: body.get(k) for k in _USER_FIELDS},
        f"{API_PREFIX}/users/{body['username']}",
    )


_NEW_TOKEN = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "expires_in_days": {
            "type": "integer",
            "minimum": 1,
            "maximum": 365,
            "default": DEFAULT_TOKEN_DAYS,
        },
        "label": {"type": "string", "minLength": 1, "maxLength": 100},
    },
}


@operation(
    bp,
    "POST",
    "/users/<username>/tokens",
    summary="Issue a token (shown once; expires, by default after 90 days)",
    request_body=json_request(_NEW_TOKEN, required=False),
    responses={"201": OK_RESPONSE, **_ERRORS},
)
def issue_token(username: str) -> Response:
    """Issue a new token for a user; it is shown once, only its hash is stored.

    Every token expires: after ``expires_in_days`` (1-365, default 90), so that a token left in
    a script or a laptop does not work forever.
    """
    authorize(principal(), "users:admin")
    body = json_body() if request.content_length else {}
    days, label = _token_options(body)
    expires_at = app_state().config.clock() + dt.timedelta(days=days)
    token, token_id = current_store().issue_token_with_id(
        username, label=label, expires_at=expires_at, actor=principal().username
    )
    response = jsonify(
        {
            "username": username,
            "token": token,
            "token_id": token_id,
            "expires_at": expires_at.isoformat(),
            "note": "shown once; only its hash is stored",
        }
    )
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


def _token_options(body: Any) -> tuple[int, str]:
    problems = []
    if not isinstance(body, dict):
        problems.append("body: must be a JSON object")
        body = {}
    for key in sorted(set(body) - {"expires_in_days", "label"}):
        problems.append(f"{key}: unknown field (allowed: expires_in_days, label)")
    days = body.get("expires_in_days", DEFAULT_TOKEN_DAYS)
    if isinstance(days, float) and days.is_integer():
        days = int(days)  # JSON Schema's integer: 364.0 is 364
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        problems.append(f"expires_in_days: a whole number of days from 1 to 365, got {days!r}")
    label = body.get("label", "api")
    if not isinstance(label, str) or not 1 <= len(label) <= 100:
        problems.append(f"label: text of 1-100 characters, got {label!r}")
    if problems:
        raise MalformedInputError(problems[0], problems)
    return int(days), str(label)


@operation(
    bp,
    "GET",
    "/users/<username>/tokens",
    summary="A user's tokens (ids, expiry, state; never the token)",
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def list_tokens(username: str) -> Response:
    """List a user's tokens, so that an admin can revoke one."""
    authorize(principal(), "users:admin")
    tokens = current_store().list_tokens(username)
    response = jsonify({"username": username, "tokens": [plain(t) for t in tokens]})
    response.headers["Cache-Control"] = "no-store"
    return response


@operation(
    bp,
    "POST",
    "/users/<username>/tokens/<int:token_id>/revoke",
    summary="Revoke one token (it stops working at once)",
    parameters=[path_parameter("token_id", {"type": "integer", "minimum": 1})],
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def revoke_token(username: str, token_id: int) -> Response:
    """Revoke one token of a user; the user's other tokens keep working (audited)."""
    authorize(principal(), "users:admin")
    current_store().revoke_token(username, token_id, actor=principal().username)
    return jsonify({"username": username, "token_id": token_id, "revoked": True})


@operation(
    bp,
    "POST",
    "/users/<username>/disable",
    summary="Disable a user",
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def disable_user(username: str) -> Response:
    """Disable a user: their tokens stop working."""
    authorize(principal(), "users:admin")
    current_store().set_user_disabled(username, True, actor=principal().username)
    return jsonify({"username": username, "disabled": True})


@operation(
    bp,
    "POST",
    "/users/<username>/enable",
    summary="Enable a disabled user again",
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def enable_user(username: str) -> Response:
    """Enable a user again: their tokens that are neither expired nor revoked work again."""
    authorize(principal(), "users:admin")
    current_store().set_user_disabled(username, False, actor=principal().username)
    return jsonify({"username": username, "disabled": False})
