"""Authorization classification of the alerts operations (issue 14); see :mod:`tests.web.authz`.

``OPERATIONS`` classifies every operation of this area; ``extend_world`` gives the owners
objects of this area through the API and records their ids in ``owner.objects``.

Alerts and webhook subscriptions carry a facility and a province: the feed and the stream are
collections filtered to the caller's scope; an alert (acknowledge) and a subscription (its
delivery log, its end) are objects. A scan and a new subscription name their province in the
body (required; null means all provinces, for national roles), so an intruder's request aimed at
the owner's province is refused.

The world's alerts are raised by an admin's scan as of 20 August 17:00, when every hospital has
missed that day's report (and has run dry since its report of the 19th), so each owner has
alerts. The officers' disposable facilities (which their DELETE control removes) must not get any:
an alert refers to its facility, so the scan runs while their reporting period is closed (PUT
``reporting_until``) and they are reopened after it; and the scan control runs last, after the
DELETE (the document lists alerts after the registry).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.web.authz import Kind, Owner, Spec

HOOK_URL = "http://127.0.0.1:9/oxyroute-hook"  # the discard port: nothing is ever sent in tests


def _scan_body(owner: Owner) -> dict[str, Any] | None:
    return None if owner.province_code is None else {"province_code": owner.province_code}


def _webhook_body(owner: Owner) -> dict[str, Any] | None:
    if owner.province_code is None:
        return None  # reporters may not subscribe
    return {"url": HOOK_URL, "province_code": owner.province_code, "kinds": ["report_missed"]}


OPERATIONS: dict[str, Spec] = {
    "GET /alerts": Spec(Kind.COLLECTION),
    "GET /alerts/stream": Spec(Kind.COLLECTION),
    "POST /alerts/scan": Spec(Kind.CREATE, body=_scan_body, last=True),
    "POST /alerts/{alert_id}/ack": Spec(
        Kind.OBJECT, body=lambda owner: {"note": f"đã gọi điện {owner.canary}"}
    ),
    "POST /webhooks": Spec(Kind.CREATE, body=_webhook_body),
    "GET /webhooks": Spec(Kind.COLLECTION),
    "GET /webhooks/{subscription_id}/deliveries": Spec(Kind.OBJECT),
    "DELETE /webhooks/{subscription_id}": Spec(Kind.OBJECT, last=True),
}


def _put(client: Any, token: str, record_id: str, document: dict[str, Any]) -> None:
    answer = client.call("PUT", f"/facilities/{record_id}", token, body=document)
    assert answer.status_code == 200, answer.get_data(as_text=True)


def extend_world(
    client: Any, owners: dict[str, Owner], *, admin_token: str, planner_token: str
) -> None:
    """Raise alerts for every owner's facility and give each officer a webhook subscription."""
    app = client.flask.application
    # Streams end at once here (the harness reads every answer to its end).
    app.config["OXYROUTE_ALERT_STREAM_MAX_S"] = 0.01
    clock = app.extensions["oxyroute"].config.clock
    disposables = [o for o in owners.values() if o.province_code is not None]
    for owner in disposables:
        closed = {**owner.facility_document, "reporting_until": "2021-08-01"}
        _put(client, admin_token, owner.record_id, closed)
    before = clock.now
    clock.now = dt.datetime(2021, 8, 20, 10, 0, tzinfo=dt.UTC)  # 17:00 in Hồ Chí Minh City
    try:
        scanned = client.call("POST", "/alerts/scan", admin_token, body={"province_code": None})
        assert scanned.status_code == 200, scanned.get_data(as_text=True)
    finally:
        clock.now = before
    for owner in disposables:
        _put(client, admin_token, owner.record_id, owner.facility_document)
    raised: dict[str, int] = {}
    for alert in scanned.get_json()["alerts"]:
        raised.setdefault(alert["facility_id"], alert["alert_id"])
    assert not {o.record_id for o in disposables} & set(raised), "a disposable has an alert"
    for owner in owners.values():
        owner.objects["alert_id"] = str(raised[owner.facility_id])
        owner.objects["subscription_id"] = None  # type: ignore[assignment]
        body = _webhook_body(owner)
        if body is not None:
            made = client.call("POST", "/webhooks", owner.token, body=body)
            assert made.status_code == 201, made.get_data(as_text=True)
            owner.objects["subscription_id"] = str(made.get_json()["subscription_id"])
