"""Webhook subscriptions over HTTP, and delivery to a real local HTTP receiver.

The receiver is ``http.server`` in a thread on 127.0.0.1; it records every request and answers
with the statuses it was told to (then 204). Deliveries are sent by
``coordination.webhooks.deliver_due_webhooks`` with the real sender (urllib) and the test clock,
which the tests move past each retry time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.server
import itertools
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from coordination.webhooks import MAX_ATTEMPTS, deliver_due_webhooks, verify
from data.db.models import audit_events, webhook_subscriptions
from tests.web.conftest import expect_error


class Receiver:
    """A local HTTP receiver: 503 to the first ``fail_first`` posts of each alert, then 204."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                alert_id = json.loads(body)["alert_id"]
                seen = sum(json.loads(b)["alert_id"] == alert_id for _, b in receiver.requests)
                receiver.requests.append((dict(self.headers), body))
                status = 503 if seen < receiver.fail_first else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?gateway=zalo"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Any]:
    made: list[Receiver] = []

    def make(fail_first: int = 0) -> Receiver:
        made.append(Receiver(fail_first))
        return made[-1]

    yield make
    for r in made:
        r.close()


def _dead_url() -> str:
    """Return a local URL nobody listens on (a port bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/dead"


def _subscribe(as_user: Any, url: str, user: str = "coord79", **extra: Any) -> dict[str, Any]:
    body = {"url": url, "province_code": "79" if user == "coord79" else None, **extra}
    response = as_user(user).post("/webhooks", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def _scan(as_user: Any) -> list[dict[str, Any]]:
    response = as_user("admin").post("/alerts/scan", json={"province_code": None})
    return response.get_json()["alerts"]  # type: ignore[no-any-return]


def _rows(app: Any, table: Any) -> int:
    with app.extensions["oxyroute"].store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_signed_payloads_reach_a_real_receiver_once(
    app: Any, as_user: Any, clock: Any, receiver: Any
) -> None:
    hook = receiver()
    subscription = _subscribe(as_user, hook.url)
    secret = subscription["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    alerts = _scan(as_user)  # 79-A, 79-B and 01-C missed their reports
    store = app.extensions["oxyroute"].store
    attempts = deliver_due_webhooks(store, clock())
    assert [(a.alert_id, a.attempt, a.delivered, a.status_code) for a in attempts] == [
        (a["alert_id"], 1, True, 204) for a in alerts if a["province_code"] == "79"
    ]
    assert deliver_due_webhooks(store, clock()) == []  # delivered: nothing due
    headers, body = hook.requests[0]
    timestamp = headers["X-Oxyroute-Timestamp"]
    assert timestamp == str(int(clock().timestamp()))
    # the receiver's check, written out: HMAC-SHA256 of "<timestamp>.<body>" with the secret
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert headers["X-Oxyroute-Signature"] == "sha256=" + expected.hexdigest()
    assert verify(secret, timestamp, body, headers["X-Oxyroute-Signature"], now=clock())
    assert not verify("whsec_other", timestamp, body, headers["X-Oxyroute-Signature"], now=clock())
    assert not verify(secret, timestamp, body + b" ", headers["X-Oxyroute-Signature"], now=clock())
    replayed = clock() + dt.timedelta(minutes=6)
    assert not verify(secret, timestamp, body, headers["X-Oxyroute-Signature"], now=replayed)
    payload = json.loads(body)
    assert payload["message"]["vi"].startswith("Bệnh viện Chợ Rẫy (79-A)")
    assert headers["X-Oxyroute-Delivery"] == (
        f"{subscription['subscription_id']}-{payload['alert_id']}-1"
    )
    listed = as_user("coord79").get("/webhooks").get_json()["subscriptions"]
    assert [s["url"] for s in listed] == [hook.url] and "secret" not in listed[0]


def test_a_receiver_failing_twice_gets_three_attempts_with_backoff(
    app: Any, as_user: Any, clock: Any, receiver: Any
) -> None:
    hook = receiver(fail_first=2)
    subscription = _subscribe(as_user, hook.url, kinds=["report_missed"])
    alerts = [a["alert_id"] for a in _scan(as_user) if a["province_code"] == "79"]
    store = app.extensions["oxyroute"].store
    first = deliver_due_webhooks(store, clock())
    assert [(a.alert_id, a.status_code, a.delivered) for a in first] == [
        (alert_id, 503, False) for alert_id in alerts
    ]
    assert first[0].next_attempt_at == clock() + dt.timedelta(seconds=30)
    assert deliver_due_webhooks(store, clock()) == []  # the 30 s backoff is not over
    start = clock.now
    clock.now = start + dt.timedelta(seconds=30)
    assert [a.attempt for a in deliver_due_webhooks(store, clock())] == [2, 2]
    clock.now = start + dt.timedelta(seconds=30 + 59)
    assert deliver_due_webhooks(store, clock()) == []  # the 60 s backoff is not over
    clock.now = start + dt.timedelta(seconds=30 + 60)
    assert [a.delivered for a in deliver_due_webhooks(store, clock())] == [True, True]
    clock.now = start + dt.timedelta(hours=1)
    assert deliver_due_webhooks(store, clock()) == []  # delivered: never again
    log = as_user("coord79").get(f"/webhooks/{subscription['subscription_id']}/deliveries")
    for alert_id in alerts:
        mine = [a for a in log.get_json()["attempts"] if a["alert_id"] == alert_id]
        assert [(a["attempt"], a["status_code"], a["delivered"]) for a in reversed(mine)] == [
            (1, 503, False),
            (2, 503, False),
            (3, 204, True),
        ]
        assert mine[0]["next_attempt_at"] is None
        assert mine[1]["next_attempt_at"] == "2021-08-20T02:01:30+00:00"
    assert len(hook.requests) == 6


def test_a_dead_receiver_is_given_up_after_max_attempts(app: Any, as_user: Any, clock: Any) -> None:
    subscription = _subscribe(as_user, _dead_url(), user="admin")  # national: all 3 alerts
    _scan(as_user)
    store = app.extensions["oxyroute"].store
    start = clock.now
    for minute in range(0, 40):
        clock.now = start + dt.timedelta(minutes=minute)
        deliver_due_webhooks(store, clock())
    log = as_user("admin").get(
        f"/webhooks/{subscription['subscription_id']}/deliveries", query_string={"limit": 1000}
    )
    attempts = log.get_json()["attempts"]
    assert len(attempts) == 3 * MAX_ATTEMPTS
    by_alert: dict[int, list[dict[str, Any]]] = {}
    for attempt in reversed(attempts):
        by_alert.setdefault(attempt["alert_id"], []).append(attempt)
    for tries in by_alert.values():
        assert [t["attempt"] for t in tries] == list(range(1, MAX_ATTEMPTS + 1))
        assert all(t["status_code"] is None and "Error" in t["error"] for t in tries)
        assert tries[-1]["next_attempt_at"] is None
        gaps = [
            (
                dt.datetime.fromisoformat(b["attempted_at"])
                - dt.datetime.fromisoformat(a["attempted_at"])
            )
            for a, b in itertools.pairwise(tries)
        ]
        # 30 s, 1, 2, 4, 8 min; sent on the first minute tick at or after each retry time
        assert [g.total_seconds() for g in gaps] == [60, 60, 120, 240, 480]


def test_subscriptions_are_scoped_and_checked(app: Any, as_user: Any) -> None:
    before = (_rows(app, webhook_subscriptions), _rows(app, audit_events))
    for user, body, status, field in (
        ("coord01", {"url": "https://sms.example.vn/hook", "province_code": "79"}, 403, None),
        ("coord79", {"url": "https://sms.example.vn/hook", "province_code": None}, 403, None),
        ("repA", {"url": "https://sms.example.vn/hook", "province_code": None}, 403, None),
        ("dispatcher", {"url": "https://sms.example.vn/hook", "province_code": "79"}, 403, None),
        ("coord79", {"url": "ftp://sms.example.vn/hook", "province_code": "79"}, 422, "url"),
        ("coord79", {"url": "https://", "province_code": "79"}, 422, "url"),
        ("coord79", {"province_code": "79"}, 422, "url"),
        ("coord79", {"url": "https://a.vn", "province_code": "79", "kinds": []}, 422, "kinds"),
        ("coord79", {"url": "https://a.vn", "province_code": "79", "kinds": ["x"]}, 422, "kinds"),
        ("coord79", {"url": "https://a.vn"}, 422, "province_code"),
        ("admin", {"url": "https://a.vn", "province_code": "99"}, 404, None),
    ):
        error = expect_error(as_user(user).post("/webhooks", json=body), status)
        if field is not None:
            assert field in [d["field"] for d in error["details"]], (body, error)
    assert (_rows(app, webhook_subscriptions), _rows(app, audit_events)) == before
    made = _subscribe(as_user, "https://sms.example.vn/hook")
    path = f"/webhooks/{made['subscription_id']}"
    expect_error(as_user("coord01").get(f"{path}/deliveries"), 403)
    expect_error(as_user("coord01").delete(path), 403)
    assert as_user("coord01").get("/webhooks").get_json()["subscriptions"] == []
    expect_error(as_user("coord01").get("/webhooks", query_string={"province_code": "79"}), 403)
    expect_error(as_user("admin").delete("/webhooks/999999"), 404)
    ended = as_user("coord79").delete(path)
    assert ended.status_code == 200 and ended.get_json()["active"] is False
    expect_error(as_user("coord79").delete(path), 409)
    assert as_user("coord79").get("/webhooks").get_json()["subscriptions"] == []
    audit = as_user("admin").get(
        "/audit", query_string={"entity": "webhook_subscriptions", "entity_id": path.split("/")[-1]}
    )
    actions = [e["action"] for e in audit.get_json()["events"]]
    assert sorted(actions) == ["create", "delete"]
    assert made["secret"] not in json.dumps(audit.get_json())


def test_the_monitor_thread_scans_and_sends_with_an_injected_sender(
    app: Any, as_user: Any, clock: Any
) -> None:
    from coordination.alert_monitor import AlertMonitor
    from coordination.webhooks import SendResult

    subscription = _subscribe(as_user, "https://zalo.example.vn/hook")
    sent: list[tuple[str, dict[str, Any]]] = []

    def sender(url: str, body: bytes, headers: Any) -> SendResult:
        sent.append((url, json.loads(body)))
        return SendResult(200)

    monitor = AlertMonitor(app.extensions["oxyroute"].store, clock, interval_s=0.05, sender=sender)
    monitor.start()
    try:
        for _ in range(100):
            if monitor.rounds >= 3:
                break
            threading.Event().wait(0.05)
    finally:
        monitor.stop()
    assert monitor.rounds >= 3
    # the first round raised the missed reports and sent 79's two; later rounds sent nothing
    assert sorted(p["facility_id"] for _, p in sent) == ["79-A", "79-B"]
    assert {u for u, _ in sent} == {"https://zalo.example.vn/hook"}
    log = as_user("coord79").get(f"/webhooks/{subscription['subscription_id']}/deliveries")
    assert [a["delivered"] for a in log.get_json()["attempts"]] == [True, True]
    with pytest.raises(ValueError, match="interval_s"):
        AlertMonitor(app.extensions["oxyroute"].store, clock, interval_s=0)
