"""Approval and locking of a province's day over HTTP: approve, read, list, unlock with a reason.

A coordinator (or an admin) approves a province's day once its reports are in; the approval locks
them (a later submission is 409) until someone unlocks the day, giving a reason.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Response, jsonify

from data.access import authorize
from data.errors import MalformedInputError
from data.store import Approval
from web.common import (
    API_PREFIX,
    created,
    current_store,
    json_body,
    path_date,
    principal,
    query_period,
    scoped_province,
)
from web.openapi import (
    DATE_SCHEMA,
    OK_RESPONSE,
    PROVINCE_CODE_SCHEMA,
    ApiBlueprint,
    error_responses,
    json_request,
    operation,
    path_parameter,
)
from web.registry import PERIOD_QUERY, PROVINCE_QUERY

bp = ApiBlueprint("approvals", __name__, url_prefix=API_PREFIX)

_ERRORS = error_responses("400", "401", "403", "404", "409", "422", "429")
_DAY = [
    path_parameter("province_code", PROVINCE_CODE_SCHEMA),
    path_parameter("report_date", DATE_SCHEMA),
]
_UNLOCK_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["reason"],
    "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 1000}},
}


@operation(
    bp,
    "GET",
    "/approvals",
    summary="Approved (locked) and unlocked province-days in a period",
    parameters=[PROVINCE_QUERY, *PERIOD_QUERY],
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def list_approvals() -> Response:
    """Return the approvals of a period (default: the last 30 days)."""
    province_code = scoped_province("approvals:read")
    date_from, date_to = query_period(30)
    items = current_store().list_approvals(
        date_from=date_from, date_to=date_to, province_code=province_code
    )
    return jsonify({"approvals": [_approval_json(a) for a in items]})


@operation(
    bp,
    "GET",
    "/approvals/<province_code>/<report_date>",
    summary="Approval state of a province's day",
    parameters=_DAY,
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def get_approval(province_code: str, report_date: str) -> Response:
    """Return the approval of a province's day (``locked: false`` when never approved)."""
    code, day = _approval_target(province_code, report_date, "approvals:read")
    items = current_store().list_approvals(date_from=day, date_to=day, province_code=code)
    if items:
        return jsonify(_approval_json(items[0]))
    return jsonify(
        {
            "province_code": code,
            "report_date": day.isoformat(),
            "locked": False,
            "approved_by": None,
            "approved_at": None,
            "unlocked_by": None,
            "unlocked_at": None,
            "unlock_reason": None,
        }
    )


@operation(
    bp,
    "POST",
    "/approvals/<province_code>/<report_date>",
    summary="Approve a province's day, locking its reports (coordinator, admin)",
    parameters=_DAY,
    responses={"201": OK_RESPONSE, **_ERRORS},
)
def approve_day(province_code: str, report_date: str) -> Response:
    """Approve and lock a province's day (409 if it is locked already)."""
    code, day = _approval_target(province_code, report_date, "approvals:write")
    approval = current_store().approve_day(code, day, actor=principal().username)
    return created(_approval_json(approval), f"{API_PREFIX}/approvals/{code}/{day}")


@operation(
    bp,
    "POST",
    "/approvals/<province_code>/<report_date>/unlock",
    summary="Unlock an approved day, giving a reason (coordinator, admin)",
    parameters=_DAY,
    request_body=json_request(_UNLOCK_BODY),
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def unlock_day(province_code: str, report_date: str) -> Response:
    """Unlock an approved day; the body gives the reason (409 if the day is not locked)."""
    code, day = _approval_target(province_code, report_date, "approvals:write")
    body = json_body()
    if not isinstance(body, dict) or set(body) - {"reason"}:
        raise MalformedInputError(
            "body: bad unlock request",
            ['body: send {"reason": "why the day is unlocked"} and nothing else'],
        )
    reason = body.get("reason")
    if not isinstance(reason, str):
        raise MalformedInputError("reason: is required", [f"reason: must be text, got {reason!r}"])
    approval = current_store().unlock_day(code, day, actor=principal().username, reason=reason)
    return jsonify(_approval_json(approval))


def _approval_json(approval: Approval) -> dict[str, Any]:
    return {
        "province_code": approval.province_code,
        "report_date": approval.report_date.isoformat(),
        "locked": approval.locked,
        "approved_by": approval.approved_by,
        "approved_at": approval.approved_at.astimezone(dt.UTC).isoformat(),
        "unlocked_by": approval.unlocked_by,
        "unlocked_at": None
        if approval.unlocked_at is None
        else approval.unlocked_at.astimezone(dt.UTC).isoformat(),
        "unlock_reason": approval.unlock_reason,
    }


def _approval_target(province_code: str, report_date: str, permission: str) -> tuple[str, dt.date]:
    """Parse and authorize the province-day of an approval request (scoped to coordinators)."""
    if not re.fullmatch(r"[0-9]{2}", province_code):
        raise MalformedInputError(
            "province_code: bad code",
            [f"province_code: must be a two-digit code, got {province_code!r}"],
        )
    day = path_date(report_date)
    authorize(principal(), permission, province_code=province_code)
    current_store().get_province(province_code)
    return province_code, day
