"""HTTP endpoints for a facility's oxygen now: hours to empty (issue 14).

``GET /status`` lists facilities most urgent first (critical, warning, unknown, ok; then hours to
empty): stock now, burn and its basis, hours to empty, the report's age, and what is on its way
(:mod:`coordination.status`, docs/live-operations-status.md). Scoped (``status:read``): a facility
reporter sees its own facility, a province coordinator its province (by default), national
roles everything. The levels use the thresholds of the served region of the facility's province
(its ``[status]`` table), else the defaults (critical < 8 h, warning < 24 h).
"""

from __future__ import annotations

import datetime as dt

from flask import Response, current_app, jsonify, request

from coordination.status import STALE_AFTER_H, current_statuses, parse_at, status_to_dict
from data.access import authorize
from data.errors import MalformedInputError
from data.region import region_status_settings
from data.reporting import LOCAL_TZ
from data.schema.live import Level, StatusThresholds
from data.schema.registry import ID_PATTERN, Role
from web.common import (
    API_PREFIX,
    app_state,
    authorize_facility,
    current_store,
    principal,
    query_province,
    require,
)
from web.openapi import (
    ID_SCHEMA,
    OK_RESPONSE,
    PROVINCE_CODE_SCHEMA,
    ApiBlueprint,
    error_responses,
    operation,
    query_parameter,
)

bp = ApiBlueprint("status", __name__, url_prefix=API_PREFIX)

_ERRORS = error_responses("400", "401", "403", "404", "422", "429")
_LEVELS = ", ".join(level.value for level in Level)


@operation(
    bp,
    "GET",
    "/status",
    summary=(
        "Facilities' oxygen now, most urgent first: stock, burn and its basis, hours to empty, "
        "level, report age, what is on its way"
    ),
    parameters=[
        query_parameter(
            "province_code",
            PROVINCE_CODE_SCHEMA,
            "one province (default: a coordinator's own; national roles: all)",
        ),
        query_parameter("facility_id", ID_SCHEMA, "one facility"),
        query_parameter(
            "level", {"type": "string", "enum": [level.value for level in Level]}, "one level"
        ),
        query_parameter(
            "at",
            {"type": "string", "format": "date-time"},
            "the instant, ISO 8601 (default: now); without an offset it is Asia/Ho_Chi_Minh time",
        ),
    ],
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def list_status() -> Response:
    """Return the statuses of the facilities in the caller's scope, most urgent first."""
    require("status:read")
    now = app_state().config.clock()
    at = _query_at(now)
    level = _query_level()
    province_code, facility_id = _scope()
    defaults, by_province = _thresholds()
    statuses = current_statuses(
        current_store(),
        at,
        defaults,
        province_code=province_code,
        facility_id=facility_id,
        level=level,
        conversions=app_state().config.conversions,
        thresholds_by_province=by_province,
    )
    counts = {lv.value: 0 for lv in Level}
    for status in statuses:
        counts[status.level.value] += 1
    return jsonify(
        {
            "at": at.astimezone(LOCAL_TZ).isoformat(),
            "thresholds": {
                "default": _thresholds_json(defaults),
                "by_province": {code: _thresholds_json(t) for code, t in by_province.items()},
            },
            "stale_after_h": STALE_AFTER_H,
            "counts": counts,
            "statuses": [status_to_dict(s) for s in statuses],
        }
    )


def _query_at(now: dt.datetime) -> dt.datetime:
    """Return the ``at`` query parameter (default ``now``): 400 if malformed, 422 if too late."""
    raw = request.args.get("at")
    return now if raw is None else parse_at(raw, now)


def _query_level() -> Level | None:
    raw = request.args.get("level")
    if raw is None:
        return None
    try:
        return Level(raw)
    except ValueError:
        raise MalformedInputError(
            "level: bad level", [f"level: must be one of {_LEVELS}, got {raw!r:.80}"]
        ) from None


def _scope() -> tuple[str | None, str | None]:
    """Return the province and facility the request is about, checked against the caller."""
    user = principal()
    province_code = query_province()
    facility_id = request.args.get("facility_id")
    if facility_id is not None and not ID_PATTERN.fullmatch(facility_id):
        raise MalformedInputError(
            "facility_id: bad id",
            [f"facility_id: must be a facility id such as '79-A', got {facility_id!r:.80}"],
        )
    if user.role == Role.FACILITY_REPORTER and facility_id is None:
        facility_id = user.facility_id
    if facility_id is not None:
        facility = authorize_facility(facility_id, "status:read")
        if province_code is not None and province_code != facility.province_code:
            authorize(user, "status:read", province_code=province_code)
        return province_code, facility_id
    if province_code is None and user.role == Role.PROVINCE_COORDINATOR:
        province_code = user.province_code
    authorize(user, "status:read", province_code=province_code)
    return province_code, None


def _thresholds() -> tuple[StatusThresholds, dict[str, StatusThresholds]]:
    """Return the default thresholds and those of the served regions' provinces."""
    defaults = StatusThresholds()
    by_province: dict[str, StatusThresholds] = {}
    service = current_app.extensions.get("oxyroute_plans")
    for region in getattr(service, "regions", ()):
        settings = region_status_settings(region)
        if settings.province_code is not None:
            # The first region served for a province sets its thresholds.
            by_province.setdefault(settings.province_code, settings.thresholds)
    return defaults, by_province


def _thresholds_json(thresholds: StatusThresholds) -> dict[str, float]:
    return {
        "critical_hours": thresholds.critical_hours,
        "warning_hours": thresholds.warning_hours,
    }
