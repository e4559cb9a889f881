"""HTTP endpoints for alerts, their live stream and webhook subscriptions (issue 14).

Alerts (docs/live-operations-alerts.md) are raised by scans (:mod:`coordination.alert_scan`):
``POST /alerts/scan``, the ``oxyroute alerts scan`` command (cron) or the server's monitor
thread. Reading is scoped like every live-operations collection: a facility reporter sees its
own facility's alerts, a province coordinator its province's, national roles all. A person
acknowledges an alert with a note (audited; a second acknowledgement is a 409).

``GET /alerts/stream`` is a Server-Sent Events stream: each new alert is an ``event: alert``
with ``id: <alert_id>`` and the alert's JSON as ``data:``; ``: heartbeat`` comments every 15 s;
the server ends the stream after ``timeout_s`` (default 25 s) or ``max_events`` events, and the
client reconnects with ``Last-Event-ID`` (or ``since``) to resume where it stopped. The stream
waits for new alerts only for a client that accepts ``text/event-stream`` (as ``EventSource``
does); another gets the alerts stored so far and the end at once. The stream
polls the database once a second with a short-lived connection: it holds no connection while it
waits.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, current_app, jsonify, request, stream_with_context

from coordination.alert_monitor import AlertMonitor
from coordination.alert_scan import run_alert_scan, thresholds_of_regions
from coordination.alerts import alert_to_dict
from data.access import authorize
from data.errors import InvalidInputError, MalformedInputError
from data.schema.live import AlertKind, Level
from data.schema.registry import ID_PATTERN, Role
from data.store.alerts import WebhookAttempt, WebhookSubscription
from web.common import (
    API_PREFIX,
    app_state,
    authorize_facility,
    created,
    current_store,
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

bp = ApiBlueprint("alerts", __name__, url_prefix=API_PREFIX)

_ERRORS = error_responses("400", "401", "403", "404", "409", "422")
_ALERT_ID = path_parameter("alert_id", {"type": "integer", "minimum": 1})
_SUBSCRIPTION_ID = path_parameter("subscription_id", {"type": "integer", "minimum": 1})
_LEVELS = (Level.CRITICAL.value, Level.WARNING.value)
_SCOPE_QUERY = [
    query_parameter(
        "since",
        {
            "oneOf": [
                {"type": "string", "pattern": "^[0-9]{1,12}$"},
                {"type": "string", "format": "date-time"},
            ]
        },
        "alerts after an alert id, or raised at or after an ISO 8601 instant with its offset",
    ),
    query_parameter("level", {"type": "string", "enum": list(_LEVELS)}, "one level only"),
    query_parameter("province_code", PROVINCE_CODE_SCHEMA, "one province only"),
    query_parameter("facility_id", ID_SCHEMA, "one facility only"),
]
_LIMIT_QUERY = query_parameter(
    "limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "at most this many (200)"
)
_STREAM_RESPONSE = {
    "description": "Server-Sent Events: `event: alert`, `id: <alert_id>`, `data: <alert JSON>`",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}

STREAM_HOLD_S = 25
"""How long a stream stays open by default before the client reconnects (proxies close idle
connections after 30-60 s)."""
STREAM_MAX_S = 300
"""The longest ``timeout_s`` a client may ask; an app may lower it with the Flask setting
``OXYROUTE_ALERT_STREAM_MAX_S`` (seconds, float)."""
STREAM_POLL_S = 1.0
"""How often a stream looks for new alerts (Flask setting ``OXYROUTE_ALERT_STREAM_POLL_S``)."""
HEARTBEAT_S = 15.0
RETRY_MS = 5000
MAX_URL_CHARS = 2000


# ---------------------------------------------------------------------------- query parsing


def _query_facility() -> str | None:
    raw = request.args.get("facility_id")
    if raw is not None and not ID_PATTERN.fullmatch(raw):
        raise MalformedInputError(
            "facility_id: bad id", [f"facility_id: must be a facility id, got {raw!r:.80}"]
        )
    return raw


def _query_level() -> Level | None:
    raw = request.args.get("level")
    if raw is None:
        return None
    if raw not in _LEVELS:
        raise MalformedInputError(
            "level: bad level", [f"level: must be one of {', '.join(_LEVELS)}, got {raw!r:.40}"]
        )
    return Level(raw)


def _parse_since(raw: str, name: str) -> tuple[dt.datetime | None, int | None]:
    """Return (instant, None) or (None, alert id) from ``since`` or ``Last-Event-ID``."""
    if re.fullmatch(r"[0-9]{1,12}", raw):
        return None, int(raw)
    try:
        if len(raw) > 64:
            raise ValueError(raw)
        instant = dt.datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", raw))
    except ValueError:
        raise MalformedInputError(
            f"{name}: bad value",
            [f"{name}: must be an alert id or an ISO 8601 instant, got {raw!r:.60}"],
        ) from None
    if instant.tzinfo is None:
        raise MalformedInputError(
            f"{name}: no time zone",
            [f"{name}: give the offset (+07:00 or Z) of {raw!r:.60}"],
        )
    try:
        return instant.astimezone(dt.UTC), None
    except OverflowError:  # within a day of year 1 or 9999: as early or late as can be
        edge = dt.datetime.min if instant.year == 1 else dt.datetime.max
        return edge.replace(tzinfo=dt.UTC), None


def _scope(permission: str) -> tuple[str | None, str | None]:
    """Return the (province, facility) a read is limited to, after checking the user may."""
    require(permission)
    user = principal()
    facility_id = _query_facility()
    province_code = query_province()
    if user.role == Role.FACILITY_REPORTER:
        facility_id = facility_id or user.facility_id
        authorize(user, permission, facility_id=facility_id)
        return province_code, facility_id
    if facility_id is not None:
        authorize_facility(facility_id, permission)
        return province_code, facility_id
    if province_code is None and user.role == Role.PROVINCE_COORDINATOR:
        province_code = user.province_code
    authorize(user, permission, province_code=province_code)
    return province_code, None


# ---------------------------------------------------------------------------- alerts


@operation(
    bp,
    "GET",
    "/alerts",
    summary="Alerts raised since a time or after an alert id, oldest first (scoped)",
    parameters=[*_SCOPE_QUERY, _LIMIT_QUERY],
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def list_alerts() -> Response:
    """Return the alerts of the caller's scope; ``next_since`` resumes after the last one."""
    province_code, facility_id = _scope("alerts:read")
    level = _query_level()
    since, after_id = _parse_since(request.args.get("since", "0"), "since")
    limit = query_int("limit", 200, 1, 1000)
    found = current_store().list_alerts(
        since=since,
        after_id=after_id,
        level=level,
        province_code=province_code,
        facility_id=facility_id,
        limit=limit,
    )
    return jsonify(
        {
            "alerts": [alert_to_dict(a) for a in found],
            "next_since": str(found[-1].alert_id if found else (after_id or "")) or None,
        }
    )


@operation(
    bp,
    "GET",
    "/alerts/stream",
    summary="Live stream of new alerts (Server-Sent Events; resumes with Last-Event-ID)",
    parameters=[
        *_SCOPE_QUERY,
        query_parameter(
            "max_events",
            {"type": "integer", "minimum": 1, "maximum": 10000},
            "end the stream after this many alerts",
        ),
        query_parameter(
            "timeout_s",
            {"type": "integer", "minimum": 1, "maximum": STREAM_MAX_S},
            f"end the stream after this many seconds ({STREAM_HOLD_S})",
        ),
    ],
    responses={"200": _STREAM_RESPONSE, **_ERRORS},
)
def stream_alerts() -> Response:
    """Stream the scope's alerts stored after ``Last-Event-ID`` (or ``since``, or now)."""
    province_code, facility_id = _scope("alerts:read")
    level = _query_level()
    store = current_store()
    last_event = request.headers.get("Last-Event-ID")
    since_raw = last_event if last_event else request.args.get("since")
    since, after_id = (
        _parse_since(since_raw, "Last-Event-ID" if last_event else "since")
        if since_raw
        else (None, store.last_alert_id())
    )
    max_events = query_int("max_events", 0, 1, 10000) or None
    settings = current_app.config
    hold_s = min(
        float(query_int("timeout_s", STREAM_HOLD_S, 1, STREAM_MAX_S)),
        float(settings.get("OXYROUTE_ALERT_STREAM_MAX_S", STREAM_MAX_S)),
    )
    if not any(kind == "text/event-stream" for kind, _ in request.accept_mimetypes):
        hold_s = 0.0  # not an event-stream client: what is stored now, then the end
    poll_s = float(settings.get("OXYROUTE_ALERT_STREAM_POLL_S", STREAM_POLL_S))

    def events() -> Iterator[str]:
        yield f"retry: {RETRY_MS}\n: oxyroute alerts\n\n"
        cursor, lower, sent = after_id, since, 0
        deadline = time.monotonic() + hold_s
        beat = time.monotonic()
        while True:
            batch = store.list_alerts(
                since=lower,
                after_id=cursor,
                level=level,
                province_code=province_code,
                facility_id=facility_id,
                limit=100,
            )
            for alert in batch:
                data = json.dumps(alert_to_dict(alert), ensure_ascii=False)
                yield f"id: {alert.alert_id}\nevent: alert\ndata: {data}\n\n"
                cursor, sent = alert.alert_id, sent + 1
                if max_events is not None and sent >= max_events:
                    return
            if len(batch) == 100:
                continue
            now = time.monotonic()
            if now >= deadline:
                yield ": end of stream; reconnect with Last-Event-ID\n\n"
                return
            if now - beat >= HEARTBEAT_S:
                beat = now
                yield ": heartbeat\n\n"
            time.sleep(min(poll_s, deadline - now))

    response = Response(stream_with_context(events()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass events on at once
    return response


@operation(
    bp,
    "POST",
    "/alerts/<int:alert_id>/ack",
    summary="Acknowledge an alert with a note (audited; a second acknowledgement is 409)",
    parameters=[_ALERT_ID],
    request_body=json_request(
        {
            "type": "object",
            "properties": {"note": {"type": "string", "minLength": 1, "maxLength": 1000}},
            "required": ["note"],
            "additionalProperties": False,
        }
    ),
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def acknowledge_alert(alert_id: int) -> Response:
    """Record who saw the alert, when, and what they do about it."""
    require("alerts:write")
    body = _object_body({"note"}, {"note"})
    store = current_store()
    alert = store.get_alert(alert_id)
    _authorize_alert(alert.facility_id, alert.province_code, "alerts:write")
    done = store.acknowledge_alert(alert_id, actor=principal().username, note=body["note"])
    return jsonify(alert_to_dict(done))


def _authorize_alert(facility_id: str | None, province_code: str | None, permission: str) -> None:
    user = principal()
    authorize(user, permission, facility_id=facility_id, province_code=province_code)


@operation(
    bp,
    "POST",
    "/alerts/scan",
    summary="Run one alert scan now (a province's, or all with province_code null; audited)",
    request_body=json_request(
        {
            "type": "object",
            "properties": {"province_code": {"type": ["string", "null"], "pattern": "^[0-9]{2}$"}},
            "required": ["province_code"],
            "additionalProperties": False,
        }
    ),
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def scan_alerts() -> Response:
    """Raise the alerts due now in the province (webhooks are sent by the monitor or cron)."""
    require("alerts:write")
    body = _object_body({"province_code"}, {"province_code"})
    province_code = _body_province(body)
    user = principal()
    authorize(user, "alerts:write", province_code=province_code)
    service = current_app.extensions.get("oxyroute_plans")
    result = run_alert_scan(
        current_store(),
        app_state().config.clock(),
        province_code=province_code,
        thresholds_by_province=thresholds_of_regions(getattr(service, "regions", ())),
        actor=user.username,
    )
    return jsonify(
        {**result.to_dict(), "alerts": [alert_to_dict(a) for a in result.raised]},
    )


def _object_body(allowed: set[str], required: set[str]) -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        problem = "body: send a JSON object"
        raise MalformedInputError(problem, [problem])
    problems = [f"{key}: unknown field" for key in sorted(set(body) - allowed)]
    problems += [f"{key}: is required" for key in sorted(required - set(body))]
    if problems:
        raise InvalidInputError.from_problems("body", problems)
    return body


def _body_province(body: dict[str, Any]) -> str | None:
    value = body.get("province_code")
    if value is not None and not (isinstance(value, str) and re.fullmatch(r"[0-9]{2}", value)):
        raise InvalidInputError.from_problems(
            "body", [f"province_code: must be a two-digit code or null, got {value!r:.40}"]
        )
    return value


# ---------------------------------------------------------------------------- webhooks


def _subscription_json(subscription: WebhookSubscription) -> dict[str, Any]:
    return {
        "subscription_id": subscription.subscription_id,
        "province_code": subscription.province_code,
        "url": subscription.url,
        "kinds": [k.value for k in subscription.kinds],
        "active": subscription.active,
        "created_at": subscription.created_at.astimezone(dt.UTC).isoformat(),
        "created_by": subscription.created_by,
        "links": {"deliveries": f"{API_PREFIX}/webhooks/{subscription.subscription_id}/deliveries"},
    }


def _attempt_json(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "attempt_id": attempt.attempt_id,
        "alert_id": attempt.alert_id,
        "attempt": attempt.attempt,
        "attempted_at": attempt.attempted_at.astimezone(dt.UTC).isoformat(),
        "status_code": attempt.status_code,
        "error": attempt.error,
        "delivered": attempt.delivered,
        "next_attempt_at": None
        if attempt.next_attempt_at is None
        else attempt.next_attempt_at.astimezone(dt.UTC).isoformat(),
    }


def _webhook_fields(body: dict[str, Any]) -> tuple[str, list[AlertKind]]:
    problems = []
    url = body.get("url")
    if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", url):
        problems.append(f"url: must be an http:// or https:// URL, got {url!r:.80}")
    elif len(url) > MAX_URL_CHARS:
        problems.append(f"url: at most {MAX_URL_CHARS} characters, got {len(url)}")
    raw_kinds = body.get("kinds", [k.value for k in AlertKind])
    names = [k.value for k in AlertKind]
    if (
        not isinstance(raw_kinds, list)
        or not raw_kinds
        or any(not isinstance(k, str) or k not in names for k in raw_kinds)
    ):
        problems.append(
            f"kinds: must be a non-empty list of {', '.join(names)}, got {raw_kinds!r:.120}"
        )
    if problems:
        raise InvalidInputError.from_problems("body", problems)
    assert isinstance(url, str)
    assert isinstance(raw_kinds, list)
    return url, [AlertKind(k) for k in dict.fromkeys(raw_kinds)]


@operation(
    bp,
    "POST",
    "/webhooks",
    summary="Subscribe a URL to a province's alerts (the signing secret is shown once)",
    request_body=json_request(
        {
            "type": "object",
            "properties": {
                "url": {"type": "string", "format": "uri", "maxLength": MAX_URL_CHARS},
                "province_code": {"type": ["string", "null"], "pattern": "^[0-9]{2}$"},
                "kinds": {
                    "type": "array",
                    "items": {"type": "string", "enum": [k.value for k in AlertKind]},
                    "minItems": 1,
                },
            },
            "required": ["url", "province_code"],
            "additionalProperties": False,
        }
    ),
    responses={"201": OK_RESPONSE, **_ERRORS},
)
def create_webhook() -> Response:
    """Store a subscription and return it with its secret (never shown again)."""
    require("webhooks:write")
    body = _object_body({"url", "province_code", "kinds"}, {"url", "province_code"})
    province_code = _body_province(body)
    authorize(principal(), "webhooks:write", province_code=province_code)
    url, kinds = _webhook_fields(body)
    subscription = current_store().create_webhook(
        url=url, province_code=province_code, kinds=kinds, actor=principal().username
    )
    return created(
        {**_subscription_json(subscription), "secret": subscription.secret},
        f"{API_PREFIX}/webhooks/{subscription.subscription_id}/deliveries",
    )


@operation(
    bp,
    "GET",
    "/webhooks",
    summary="Active webhook subscriptions of the caller's province (all for admins)",
    parameters=[query_parameter("province_code", PROVINCE_CODE_SCHEMA, "one province only")],
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def list_webhooks() -> Response:
    """Return the active subscriptions (without their secrets)."""
    require("webhooks:read")
    user = principal()
    province_code = query_province()
    if province_code is None and user.role == Role.PROVINCE_COORDINATOR:
        province_code = user.province_code
    authorize(user, "webhooks:read", province_code=province_code)
    found = current_store().list_webhooks(province_code=province_code)
    return jsonify({"subscriptions": [_subscription_json(s) for s in found]})


def _owned_webhook(subscription_id: int, permission: str) -> WebhookSubscription:
    require(permission)
    subscription = current_store().get_webhook(subscription_id)
    authorize(principal(), permission, province_code=subscription.province_code)
    return subscription


@operation(
    bp,
    "DELETE",
    "/webhooks/<int:subscription_id>",
    summary="End a webhook subscription (its delivery log stays; audited)",
    parameters=[_SUBSCRIPTION_ID],
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def delete_webhook(subscription_id: int) -> Response:
    """Stop posting to the subscription; a second DELETE is 409."""
    _owned_webhook(subscription_id, "webhooks:write")
    ended = current_store().end_webhook(subscription_id, actor=principal().username)
    return jsonify(_subscription_json(ended))


@operation(
    bp,
    "GET",
    "/webhooks/<int:subscription_id>/deliveries",
    summary="The delivery log of a webhook subscription: every attempt, newest first",
    parameters=[_SUBSCRIPTION_ID, _LIMIT_QUERY],
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def list_webhook_deliveries(subscription_id: int) -> Response:
    """Return the attempts (status code, error, next retry) of one subscription."""
    subscription = _owned_webhook(subscription_id, "webhooks:read")
    limit = query_int("limit", 200, 1, 1000)
    attempts = current_store().list_webhook_attempts(subscription_id, limit=limit)
    return jsonify(
        {
            "subscription": _subscription_json(subscription),
            "attempts": [_attempt_json(a) for a in attempts],
        }
    )


# ---------------------------------------------------------------------------- server thread


def start_alert_monitor(
    app: Flask, *, interval_s: float = 60.0, regions: tuple[str, ...] = ()
) -> AlertMonitor:
    """Start the app's alert monitor: a scan and the due webhooks every ``interval_s`` seconds.

    For ``api.create_app`` (after the app's store is set up); the monitor uses the app's store
    and clock and the ``regions``' status thresholds, and is kept in
    ``app.extensions["oxyroute_alert_monitor"]`` (call its ``stop()`` on shutdown).
    """
    state = app.extensions["oxyroute"]
    monitor = AlertMonitor(
        state.store,
        state.config.clock,
        interval_s=interval_s,
        thresholds_by_province=thresholds_of_regions(regions),
    )
    app.extensions["oxyroute_alert_monitor"] = monitor
    monitor.start()
    return monitor
