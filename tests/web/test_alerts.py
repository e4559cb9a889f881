"""Alerts over HTTP: scan, feed, scope, acknowledgement, the live stream (Server-Sent Events).

The registry fixture: 79-A Chợ Rẫy and 79-B Gia Định (Hồ Chí Minh City), 01-C Bạch Mai (Hà Nội),
all reporting since 1 August 2021, none with a report; the clock at 20 August 09:00 local, so a
scan raises the missed reports of 19 August.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from data.db.models import alerts, audit_events
from data.schema.live import AlertKind, Level
from data.store.alerts import AlertDraft
from tests.web.conftest import expect_error

SSE = {"Accept": "text/event-stream"}  # what EventSource sends; the stream waits only then


def _counts(app: Any) -> tuple[int, int]:
    store = app.extensions["oxyroute"].store
    with store.engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(alerts)).scalar_one(),
            connection.execute(select(func.count()).select_from(audit_events)).scalar_one(),
        )


def _scan(as_user: Any, province_code: str | None = None, user: str = "admin") -> Any:
    response = as_user(user).post("/alerts/scan", json={"province_code": province_code})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _ids(response: Any) -> list[str]:
    return [a["facility_id"] for a in response.get_json()["alerts"]]


def test_a_province_scan_raises_its_missed_reports_once(as_user: Any) -> None:
    first = _scan(as_user, "79", user="coord79")
    assert first["raised"] == 2 and first["report_day"] == "2021-08-19"
    assert sorted(a["dedupe_key"] for a in first["alerts"]) == [
        "report_missed:79-A:2021-08-19",
        "report_missed:79-B:2021-08-19",
    ]
    [chợ_rẫy] = [a for a in first["alerts"] if a["facility_id"] == "79-A"]
    assert chợ_rẫy["message"]["vi"].startswith("Bệnh viện Chợ Rẫy (79-A) chưa gửi báo cáo")
    assert "16:00 deadline" in chợ_rẫy["message"]["en"] and chợ_rẫy["level"] == "warning"
    assert _scan(as_user, "79", user="coord79")["raised"] == 0
    assert _scan(as_user, None)["raised"] == 1  # the admin's national scan: 01-C's


@pytest.mark.parametrize(
    ("user", "body", "status", "field"),
    [
        ("repA", {"province_code": None}, 403, None),  # reporters may not scan
        ("planner", {"province_code": "79"}, 403, None),  # nor planners
        ("coord01", {"province_code": "79"}, 403, None),  # another province
        ("coord79", {"province_code": None}, 403, None),  # a national scan
        ("coord79", {}, 422, "province_code"),  # must be said (null: all)
        ("admin", {"province_code": "7"}, 422, "province_code"),  # not a code
        ("admin", {"province_code": "79", "extra": 1}, 422, "extra"),  # unknown field
        ("admin", [1], 400, "body"),  # not an object
    ],
)
def test_refused_scans_store_nothing(
    app: Any, as_user: Any, user: str, body: Any, status: int, field: str | None
) -> None:
    before = _counts(app)
    error = expect_error(as_user(user).post("/alerts/scan", json=body), status)
    if field is not None:
        assert field in [d["field"] for d in error["details"]]
    assert _counts(app) == before


def test_the_feed_is_scoped(as_user: Any) -> None:
    _scan(as_user)
    assert _ids(as_user("repA").get("/alerts")) == ["79-A"]
    assert sorted(_ids(as_user("coord79").get("/alerts"))) == ["79-A", "79-B"]
    assert _ids(as_user("coord01").get("/alerts")) == ["01-C"]
    assert len(_ids(as_user("ministry").get("/alerts"))) == 3
    assert _ids(as_user("dispatcher").get("/alerts", query_string={"province_code": "01"})) == [
        "01-C"
    ]
    assert _ids(as_user("coord79").get("/alerts", query_string={"facility_id": "79-B"})) == ["79-B"]
    expect_error(as_user("repA").get("/alerts", query_string={"facility_id": "79-B"}), 403)
    expect_error(as_user("coord01").get("/alerts", query_string={"province_code": "79"}), 403)
    expect_error(as_user("coord01").get("/alerts", query_string={"facility_id": "79-A"}), 403)
    expect_error(as_user(None).get("/alerts"), 401)


def test_since_an_id_or_an_instant_and_by_level(as_user: Any, clock: Any) -> None:
    _scan(as_user)
    all_ids = [a["alert_id"] for a in as_user("admin").get("/alerts").get_json()["alerts"]]
    after = as_user("admin").get("/alerts", query_string={"since": str(all_ids[0])}).get_json()
    assert [a["alert_id"] for a in after["alerts"]] == all_ids[1:]
    assert after["next_since"] == str(all_ids[-1])
    for since, count in (("2021-08-20T01:59:00Z", 3), ("2021-08-20T09:01:00+07:00", 0)):
        found = as_user("admin").get("/alerts", query_string={"since": since})
        assert len(found.get_json()["alerts"]) == count, since
    assert _ids(as_user("admin").get("/alerts", query_string={"level": "critical"})) == []
    assert len(_ids(as_user("admin").get("/alerts", query_string={"level": "warning"}))) == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "yesterday"}, "since"),  # neither an id nor an instant
        ({"since": "2021-08-20T09:00"}, "since"),  # no time zone
        ({"level": "ok"}, "level"),  # alerts are critical or warning
        ({"limit": "0"}, "limit"),
        ({"facility_id": "a b"}, "facility_id"),
        ({"province_code": "7"}, "province_code"),
    ],
)
def test_bad_queries_name_the_field(as_user: Any, query: dict[str, str], field: str) -> None:
    error = expect_error(as_user("admin").get("/alerts", query_string=query), 400)
    assert [d["field"] for d in error["details"]] == [field]


def test_acknowledge_once_with_a_note_audited(app: Any, as_user: Any) -> None:
    _scan(as_user)
    [alert] = as_user("repA").get("/alerts").get_json()["alerts"]
    path = f"/alerts/{alert['alert_id']}/ack"
    before = _counts(app)
    for user, body, status in (
        ("repA", {"note": "đã xem"}, 403),  # reporters read alerts only
        ("coord01", {"note": "x"}, 403),  # another province's alert
        ("coord79", {"note": "  "}, 422),  # a blank note
        ("coord79", {}, 422),  # no note
        ("coord79", {"note": "a", "by": "x"}, 422),  # unknown field
    ):
        expect_error(as_user(user).post(path, json=body), status)
    assert _counts(app) == before
    expect_error(as_user("admin").post("/alerts/999999/ack", json={"note": "x"}), 404)
    done = as_user("coord79").post(path, json={"note": "Đã gọi Chợ Rẫy, gửi số liệu trước 10:00"})
    assert done.status_code == 200, done.get_data(as_text=True)
    acknowledged = done.get_json()["acknowledged"]
    assert acknowledged["by"] == "coord79" and acknowledged["at"] == "2021-08-20T02:00:00+00:00"
    assert acknowledged["note"] == "Đã gọi Chợ Rẫy, gửi số liệu trước 10:00"
    error = expect_error(as_user("dispatcher").post(path, json={"note": "tôi nữa"}), 409)
    assert "already acknowledged by coord79" in error["message"]
    audit = as_user("admin").get(
        "/audit", query_string={"entity": "alerts", "entity_id": str(alert["alert_id"])}
    )
    events = [e for e in audit.get_json()["events"] if e["action"] == "acknowledge"]
    assert [(e["actor"], e["detail"]["note"]) for e in events] == [
        ("coord79", "Đã gọi Chợ Rẫy, gửi số liệu trước 10:00")
    ]


# --------------------------------------------------------------------------- the stream


def _events(text: str) -> list[dict[str, Any]]:
    """Parse an event stream into its events (``id``, ``event``, ``data`` as JSON)."""
    out = []
    for block in text.split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            if name in ("id", "event", "data"):
                fields[name] = json.loads(value) if name == "data" else value
        if "data" in fields:
            out.append(fields)
    return out


def test_the_stream_sends_stored_alerts_with_ids_and_resumes(as_user: Any) -> None:
    _scan(as_user)
    response = as_user("coord79").get(
        "/alerts/stream", query_string={"since": "0", "timeout_s": 1}, headers=SSE
    )
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    text = response.get_data(as_text=True)
    assert text.startswith("retry: 5000\n") and text.endswith("reconnect with Last-Event-ID\n\n")
    events = _events(text)
    assert [e["event"] for e in events] == ["alert", "alert"]
    assert [e["data"]["facility_id"] for e in events] == ["79-A", "79-B"]
    assert [e["id"] for e in events] == [str(e["data"]["alert_id"]) for e in events]
    resumed = as_user("coord79").get(
        "/alerts/stream",
        query_string={"max_events": 1},
        headers={"Last-Event-ID": events[0]["id"], **SSE},
    )
    assert [e["data"]["facility_id"] for e in _events(resumed.get_data(as_text=True))] == ["79-B"]


def test_the_stream_sends_new_alerts_as_they_are_stored_and_is_scoped(
    app: Any, as_user: Any
) -> None:
    app.config["OXYROUTE_ALERT_STREAM_POLL_S"] = 0.05
    store = app.extensions["oxyroute"].store
    received: dict[str, str] = {}

    def listen(user: str) -> None:
        response = as_user(user).get(
            "/alerts/stream", query_string={"max_events": 1, "timeout_s": 5}, headers=SSE
        )
        received[user] = response.get_data(as_text=True)

    threads = [threading.Thread(target=listen, args=(u,)) for u in ("repA", "repB")]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # the streams are open and have nothing to send
    store.insert_alerts(
        [
            AlertDraft(
                kind=AlertKind.STOCK_CRITICAL,
                level=Level.CRITICAL,
                dedupe_key="stock_critical:79-A:1",
                message_vi="Nguy cấp: Bệnh viện Chợ Rẫy (79-A) còn khoảng 5,0 giờ oxy",
                message_en="Critical: Bệnh viện Chợ Rẫy (79-A) has about 5.0 hours of oxygen",
                facility_id="79-A",
                province_code="79",
                details={"hours_to_empty": 5.0},
            )
        ]
    )
    started = time.monotonic()
    threads[0].join(timeout=5)
    assert time.monotonic() - started < 2  # sent at once, not at the end of the stream
    threads[1].join(timeout=10)
    [event] = _events(received["repA"])
    assert event["data"]["message"]["vi"].startswith("Nguy cấp: Bệnh viện Chợ Rẫy (79-A)")
    assert _events(received["repB"]) == []  # 79-B's reporter does not see 79-A's alert


def test_the_stream_sends_heartbeats_and_ends_on_time(app: Any, as_user: Any, monkeypatch: Any):  # type: ignore[no-untyped-def]
    import web.alerts

    monkeypatch.setattr(web.alerts, "HEARTBEAT_S", 0.2)
    app.config["OXYROUTE_ALERT_STREAM_POLL_S"] = 0.1
    started = time.monotonic()
    text = (
        as_user("ministry")
        .get("/alerts/stream", query_string={"timeout_s": 1}, headers=SSE)
        .get_data(as_text=True)
    )
    assert 0.9 < time.monotonic() - started < 3
    assert text.count(": heartbeat\n\n") >= 2 and _events(text) == []
    # an app may cap how long a stream stays open
    app.config["OXYROUTE_ALERT_STREAM_MAX_S"] = 0.2
    started = time.monotonic()
    as_user("ministry").get(
        "/alerts/stream", query_string={"timeout_s": 60}, headers=SSE
    ).get_data()
    assert time.monotonic() - started < 1


def test_a_client_not_asking_for_events_gets_what_is_stored_at_once(as_user: Any) -> None:
    _scan(as_user)
    started = time.monotonic()
    response = as_user("coord01").get("/alerts/stream", query_string={"since": "0"})
    events = _events(response.get_data(as_text=True))
    assert time.monotonic() - started < 1 and [e["data"]["facility_id"] for e in events] == ["01-C"]
    instant = as_user("admin").get(
        "/alerts/stream", query_string={"since": "9999-12-31T23:00-05:00"}
    )
    assert instant.status_code == 200 and _events(instant.get_data(as_text=True)) == []


@pytest.mark.parametrize(
    ("user", "query", "headers", "status"),
    [
        ("repA", {"facility_id": "79-B"}, {}, 403),  # another facility
        ("coord01", {"province_code": "79"}, {}, 403),  # another province
        ("admin", {"max_events": "0"}, {}, 400),
        ("admin", {"timeout_s": "301"}, {}, 400),
        ("admin", {}, {"Last-Event-ID": "not an id"}, 400),
        (None, {}, {}, 401),
    ],
)
def test_refused_streams(
    as_user: Any, user: str | None, query: dict[str, str], headers: dict[str, str], status: int
) -> None:
    expect_error(as_user(user).get("/alerts/stream", query_string=query, headers=headers), status)


def test_a_scan_raises_stock_alerts_from_the_facilities_status(as_user: Any, clock: Any) -> None:
    """Chợ Rẫy reports at 08:00: 10 full 40 L cylinders (60 m³) and 150 m³ used in 24 h.

    By hand: 6.25 m³/h; at 09:00 60 - 6.25 = 53.75 m³ left, 8.6 h (warning, < 24 h); at 11:00
    60 - 3 x 6.25 = 41.25 m³, 6.6 h (critical, < 8 h).
    """
    clock.set_local("2021-08-20 08:00")
    report = {
        "report_date": "2021-08-20",
        "oxygen_used_24h_m3": 150.0,
        "patients_cannula_mask": 20,
        "patients_high_flow": 4,
        "patients_invasive": 2,
        "cylinders_full": {"40L": 10},
    }
    sent = as_user("repA").post("/facilities/79-A/reports", json=report)
    assert sent.status_code == 201, sent.get_data(as_text=True)
    clock.set_local("2021-08-20 09:00")
    stock = [a for a in _scan(as_user, "79", user="coord79")["alerts"] if "stock" in a["kind"]]
    assert [(a["dedupe_key"], a["details"]["hours_to_empty"]) for a in stock] == [
        ("stock_warning:79-A:1", 8.6)
    ]
    assert "còn khoảng 8,6 giờ oxy" in stock[0]["message"]["vi"]
    clock.set_local("2021-08-20 11:00")
    [critical] = _scan(as_user, "79", user="coord79")["alerts"]
    assert critical["dedupe_key"] == "stock_critical:79-A:1" and critical["level"] == "critical"
    assert "has about 6.6 hours of oxygen left (critical below 8.0 h)" in critical["message"]["en"]
    assert _scan(as_user, "79", user="coord79")["raised"] == 0


def test_an_app_can_run_the_alert_monitor(app: Any, as_user: Any) -> None:
    from web.alerts import start_alert_monitor

    monitor = start_alert_monitor(app, interval_s=0.05, regions=("hcmc",))
    try:
        for _ in range(100):
            if monitor.rounds >= 1:
                break
            time.sleep(0.05)
    finally:
        monitor.stop()
    assert app.extensions["oxyroute_alert_monitor"] is monitor
    assert monitor.thresholds_by_province is not None and "79" in monitor.thresholds_by_province
    assert len(as_user("ministry").get("/alerts").get_json()["alerts"]) == 3
