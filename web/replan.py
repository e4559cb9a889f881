"""HTTP endpoints for the live re-plan of a published day's routes (issue 15).

``POST /api/v1/plans/{plan_id}/routes/{routes_id}/replan`` takes what happened since the routes
were published (``events``, at ``now``) and stores the re-planned day as new routes beside the
old ones (``<plans_dir>/<plan_id>/routes/<new routes_id>/``), so the route sheets, the map and
the FHIR view show it; the routes re-planned stay as they were. The routes id may be a
re-plan's (a live day with several events: the events are those since that re-plan). The model is
:mod:`coordination.replan` (``docs/replan.md``); this module only parses, calls it, stores and
answers.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from flask import Response, current_app, g

from data.errors import InvalidInputError, MissingDataFileError
from web.common import API_PREFIX, current_store, json_body
from web.dispatch import _VEHICLE, _fleet, _plan_meta, _routes_dir, _save, _service
from web.openapi import (
    HEX_ID_SCHEMA,
    ApiBlueprint,
    error_responses,
    json_request,
    operation,
    path_parameter,
)
from web.plans import costly_operation

bp = ApiBlueprint("replan", __name__, url_prefix=API_PREFIX)

_BODY_KEYS = frozenset({"now", "events", "options", "vehicles"})
_TIME = {
    "type": "string",
    "description": "ISO 8601 with an offset (2021-08-20T09:30:00+07:00) or local HH:MM",
}
_EVENT = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {
            "type": "string",
            "enum": ["stop_done", "breakdown", "delay", "road_closed", "urgent_request"],
        },
        "vehicle": {"type": "string"},
        "step": {"type": "integer", "minimum": 1, "description": "index in the route's steps"},
        "quantity": {"type": "integer", "minimum": 0},
        "at": _TIME,
        "location": {
            "type": "array",
            "items": {"type": "number"},
            "minItems": 2,
            "maxItems": 2,
            "description": "[lon, lat], WGS84",
        },
        "carries": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "lox_kg": {"type": "integer", "minimum": 0},
                "cylinders": {"type": "integer", "minimum": 0},
            },
        },
        "minutes": {"type": "integer", "minimum": 1},
        "polygon": {"type": "object", "description": "GeoJSON Polygon, WGS84"},
        "road_names": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "facility_id": {"type": "string"},
        "product": {"type": "string", "enum": ["bulk_liquid", "cylinder"]},
        "needed_by": _TIME,
        "supplier_id": {"type": "string"},
    },
    "description": "one event; the keys each type takes are in docs/replan.md",
}
_REPLAN_REQUEST: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["now", "events"],
    "properties": {
        "now": {**_TIME, "description": "time of the re-plan, not before the routes start"},
        "events": {"type": "array", "items": _EVENT},
        "options": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "move_penalty_s": {"type": "integer", "minimum": 0},
                "eta_tolerance_min": {"type": "integer", "minimum": 0},
                "time_limit_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
                "seed": {"type": "integer", "minimum": 0},
                "max_iterations": {"type": ["integer", "null"], "minimum": 1},
            },
        },
        "vehicles": {
            "type": "array",
            "items": _VEHICLE,
            "minItems": 1,
            "description": "vehicles that may take work besides the routes' own (default: the "
            "registry's fleet)",
        },
    },
}


@operation(
    bp,
    "POST",
    "/plans/<plan_id>/routes/<routes_id>/replan",
    summary="Re-plan routes (published or re-planned) after events: done stops, breakdowns, "
    "delays (dispatchers)",
    parameters=[
        path_parameter("plan_id", HEX_ID_SCHEMA),
        path_parameter("routes_id", HEX_ID_SCHEMA),
    ],
    request_body=json_request(_REPLAN_REQUEST),
    responses={
        "201": {
            "description": "routes re-planned, validated and stored under a new routes id",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **error_responses("400", "401", "403", "404", "422", "429"),
    },
)
def replan_published_routes(plan_id: str, routes_id: str) -> Response:
    """Re-plan stored routes after the body's events and store the new routes; 201."""
    from coordination.dispatch import routes_to_geojson
    from coordination.replan import replan_routes

    meta = _plan_meta(plan_id, "routes:write")
    folder = _routes_dir(plan_id, routes_id)
    service = _service()
    routes = json.loads((folder / "routes.json").read_text(encoding="utf-8"))
    routes.setdefault("routes_id", routes_id)
    plan = json.loads(service.load(plan_id, "plan.json"))
    now, events, options, fleet = _replan_request(routes)
    try:
        region, network = service.region_network(meta["region"])
    except MissingDataFileError as exc:
        raise InvalidInputError(f"region: {exc}") from None
    new_id = uuid.uuid4().hex
    with costly_operation("replan"):
        document = replan_routes(
            routes,
            plan,
            events,
            now=now,
            network=network,
            region=region,
            fleet=fleet,
            options=options,
            routes_id=new_id,
        ).document
    document["meta"] = {
        "created_by": g.principal.username,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "replan_of": routes_id,
    }
    _save(
        plan_id,
        new_id,
        {
            "routes.json": json.dumps(document, ensure_ascii=False),
            "routes.geojson": json.dumps(
                routes_to_geojson(document, network, region),  # type: ignore[arg-type]
                ensure_ascii=False,
            ),
        },
    )
    return _created(plan_id, new_id, document)


def _replan_request(routes: dict[str, Any]) -> tuple[dt.datetime, Any, Any, tuple[Any, ...]]:
    """Return the body's time, events, options and extra fleet; every problem in one 422.

    ``now`` and the events' times are read on the routes' date (local HH:MM, or ISO 8601 with an
    offset). Without ``vehicles`` the registry's routable fleet may take work, if it has one.
    """
    from coordination.replan import ReplanOptions
    from coordination.replan_events import events_from_mapping

    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInputError("body: expected a JSON object with now and events")
    problems = [
        f"{key}: unknown key (allowed: {', '.join(sorted(_BODY_KEYS))})"
        for key in sorted(set(body) - _BODY_KEYS)
    ]
    date = dt.date.fromisoformat(routes["date"])
    now = _now(body.get("now"), date, problems)
    events: Any = ()
    if "events" not in body:
        problems.append("events: required (a list of events; [] re-plans from now as it stands)")
    else:
        try:
            events = events_from_mapping(body["events"], date=date)
        except InvalidInputError as error:
            problems += error.problems
    options = None
    try:
        options = ReplanOptions.from_mapping(body.get("options"))
    except InvalidInputError as error:
        problems += error.problems
    fleet: tuple[Any, ...] = ()
    try:
        fleet = _fleet(body, current_store())
    except InvalidInputError as error:
        if "vehicles" in body:
            problems += error.problems
        # else: the registry has no routable vehicle; the routes' own vehicles go on alone
    if problems or now is None:
        raise InvalidInputError.from_problems("re-plan request", problems)
    return now, events, options, fleet


def _now(value: Any, date: dt.date, problems: list[str]) -> dt.datetime | None:
    """Return ``now`` as an aware time: ISO 8601 with an offset, or local HH:MM on ``date``."""
    from coordination.replan_events import moment_on

    if value is None:
        problems.append("now: required (the time of the re-plan, e.g. 2021-08-20T09:30:00+07:00)")
        return None
    return moment_on(value, date, "now", problems)


def _created(plan_id: str, routes_id: str, document: dict[str, Any]) -> Response:
    """Return the 201 answer: the new routes' id, what changed, the balance and links."""
    base = f"{API_PREFIX}/plans/{plan_id}/routes/{routes_id}"
    replan = document["replan"]
    created = {
        "routes_id": routes_id,
        "plan_id": plan_id,
        "from_routes_id": replan["from_routes_id"],
        "day": document["day"],
        "date": document["date"],
        "now": replan["now"],
        "summary": document["summary"],
        "unassigned": document["unassigned"],
        "changes": replan["changes"],
        "balance": replan["balance"],
        "windows_relaxed": replan["windows_relaxed"],
        "links": {
            "self": base,
            "geojson": f"{base}?format=geojson",
            "replaces": f"{API_PREFIX}/plans/{plan_id}/routes/{replan['from_routes_id']}",
            "sheets": {
                r["vehicle"]: f"{base}/sheets/{r['vehicle']}?lang=vi" for r in document["routes"]
            },
        },
    }
    response = current_app.response_class(
        json.dumps(created, ensure_ascii=False), status=201, mimetype="application/json"
    )
    response.headers["Location"] = base
    return response
