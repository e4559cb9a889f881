"""Province officers' review of flagged reports over HTTP: the queue, accept, ask for a correction.

Reports whose values the plausibility rules doubt (:mod:`data.plausibility`) are stored with
flags; an officer of the facility's province lists them, most serious first, and accepts each
with a reason or asks the facility for a correction. Both decisions are audited. Scoped by
province, with permissions of their own: ``reviews:read`` (coordinators, the ministry, admins)
and ``reviews:write`` (coordinators, admins).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, jsonify, request

from data.errors import MalformedInputError
from data.plausibility import Finding, seriousness
from data.store import ReportCheck, Review, ReviewDecision, ReviewItem, ReviewStatus
from web.common import (
    API_PREFIX,
    authorize_facility,
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
    ID_SCHEMA,
    OK_RESPONSE,
    ApiBlueprint,
    error_responses,
    json_request,
    operation,
    path_parameter,
    query_parameter,
)
from web.registry import PERIOD_QUERY, PROVINCE_QUERY

bp = ApiBlueprint("review", __name__, url_prefix=API_PREFIX)

_ERRORS = error_responses("400", "401", "403", "404", "409", "422", "429")
_REPORT = [path_parameter("facility_id", ID_SCHEMA), path_parameter("report_date", DATE_SCHEMA)]
_STATUSES = [s.value for s in ReviewStatus if s is not ReviewStatus.UNFLAGGED]
_DECISION_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["reason"],
    "properties": {
        "reason": {"type": "string", "minLength": 1, "maxLength": 2000},
        "revision": {"type": "integer", "minimum": 1},
    },
}


@operation(
    bp,
    "GET",
    "/review/reports",
    summary="Flagged reports waiting for review, most serious first (province officers)",
    parameters=[
        PROVINCE_QUERY,
        *PERIOD_QUERY,
        query_parameter("status", {"type": "string", "enum": _STATUSES}),
    ],
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def review_queue() -> Response:
    """Return the latest flagged revisions of a period (default: the last 30 days)."""
    province_code = scoped_province("reviews:read")
    date_from, date_to = query_period(30)
    raw = request.args.get("status", ReviewStatus.UNREVIEWED.value)
    if raw not in _STATUSES:
        raise MalformedInputError(
            "status: bad value", [f"status: must be one of {', '.join(_STATUSES)}, got {raw!r}"]
        )
    items = current_store().review_queue(
        date_from=date_from,
        date_to=date_to,
        province_code=province_code,
        status=ReviewStatus(raw),
    )
    return jsonify(
        {
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
            "status": raw,
            "items": [_item_json(item) for item in items],
        }
    )


@operation(
    bp,
    "POST",
    "/review/reports/<facility_id>/<report_date>/accept",
    summary="Accept a flagged report's values, giving a reason (audited)",
    parameters=_REPORT,
    request_body=json_request(_DECISION_BODY),
    responses={"201": OK_RESPONSE, **_ERRORS},
)
def accept_report(facility_id: str, report_date: str) -> Response:
    """Accept the latest revision of a report: plans may then take its values as declared."""
    return _decide(facility_id, report_date, ReviewDecision.ACCEPTED)


@operation(
    bp,
    "POST",
    "/review/reports/<facility_id>/<report_date>/correction",
    summary="Ask the facility to correct a report, saying what is wrong (audited)",
    parameters=_REPORT,
    request_body=json_request(_DECISION_BODY),
    responses={"201": OK_RESPONSE, **_ERRORS},
)
def request_correction(facility_id: str, report_date: str) -> Response:
    """Send the latest revision of a report back to its facility for a correction."""
    return _decide(facility_id, report_date, ReviewDecision.CORRECTION_REQUESTED)


def _decide(facility_id: str, report_date: str, decision: ReviewDecision) -> Response:
    day = path_date(report_date)
    authorize_facility(facility_id, "reviews:write")
    reason, revision = _decision_body(json_body())
    review = current_store().review_report(
        facility_id,
        day,
        decision=decision,
        reason=reason,
        actor=principal().username,
        revision=revision,
    )
    return created(
        review_json(review), f"{API_PREFIX}/facilities/{facility_id}/reports/{day.isoformat()}"
    )


def _decision_body(body: Any) -> tuple[str, int | None]:
    """Return the reason and the optional revision of a decision; 400 on any other shape."""
    if not isinstance(body, dict) or set(body) - {"reason", "revision"}:
        raise MalformedInputError(
            "body: bad review request",
            ['body: send {"reason": "why", "revision": <optional number>} and nothing else'],
        )
    reason, revision = body.get("reason"), body.get("revision")
    problems = []
    if not isinstance(reason, str):
        problems.append(f"reason: must be text, got {reason!r:.80}")
    if revision is not None and (
        isinstance(revision, bool) or not isinstance(revision, int) or revision < 1
    ):
        problems.append(f"revision: must be a whole number from 1, got {revision!r:.80}")
    if problems:
        raise MalformedInputError.from_problems("review request", problems)
    assert isinstance(reason, str)
    return reason, revision


# ---------------------------------------------------------------------------- serialisation


def flags_json(flags: tuple[Finding, ...]) -> list[dict[str, Any]]:
    """Return plausibility flags as JSON (rule, field, value, limit, messages vi and en)."""
    return [finding.to_dict() for finding in flags]


def review_json(review: Review) -> dict[str, Any]:
    """Return a review as JSON."""
    return {
        "facility_id": review.facility_id,
        "report_date": review.report_date.isoformat(),
        "revision": review.revision,
        "decision": review.decision.value,
        "reason": review.reason,
        "reviewed_by": review.reviewed_by,
        "reviewed_at": review.reviewed_at.astimezone(dt.UTC).isoformat(),
    }


def check_json(check: ReportCheck | None) -> dict[str, Any]:
    """Return a revision's flags, review status and latest review (unchecked: no flags)."""
    if check is None:
        return {"flags": [], "review_status": ReviewStatus.UNFLAGGED.value, "review": None}
    return {
        "flags": flags_json(check.flags),
        "review_status": check.status.value,
        "review": None if check.review is None else review_json(check.review),
    }


def _item_json(item: ReviewItem) -> dict[str, Any]:
    revision = item.revision
    return {
        "facility_id": revision.report.facility_id,
        "facility_name": item.facility_name,
        "province_code": item.province_code,
        "report_date": revision.report.report_date.isoformat(),
        "revision": revision.revision,
        "submitted_at": revision.submitted_at.astimezone(dt.UTC).isoformat(),
        "submitted_by": revision.submitted_by,
        "seriousness": round(seriousness(item.check.flags)[0], 3),
        **check_json(item.check),
        "report": revision.report.to_dict(),
    }
