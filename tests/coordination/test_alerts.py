"""Alert rules and scans: each kind raised and not raised, episodes, idempotent scans.

The world is the registry fixture (79-A Chợ Rẫy, 79-B Gia Định, 01-C Bạch Mai, reporting since
1 August 2021; the clock at 20 August 09:00 in Hồ Chí Minh City). Statuses are built by hand
(the status module computes them from reports and deliveries; here the level decides).
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import insert, select

from coordination.alert_scan import run_alert_scan
from coordination.alerts import (
    late_delivery_alerts,
    missed_report_alerts,
    report_day,
    stock_alerts,
)
from data.db.models import audit_events, deliveries
from data.reporting import LOCAL_TZ
from data.schema.live import AlertKind, FacilityStatus, Level, StatusThresholds
from data.store.alerts import OpenDelivery, StockEpisode
from tests.registry_world import FACILITY_A, FACILITY_B, FACILITY_C, Clock

AT = dt.datetime(2021, 8, 20, 9, 0, tzinfo=LOCAL_TZ)
THRESHOLDS = StatusThresholds()


def status(facility_id: str, hours: float | None, **changes: Any) -> FacilityStatus:
    """Return a status of a registry facility with ``hours`` to empty (level from defaults)."""
    facility = {f.facility_id: f for f in (FACILITY_A, FACILITY_B, FACILITY_C)}[facility_id]
    values: dict[str, Any] = {
        "facility_id": facility_id,
        "name": facility.name,
        "province_code": facility.province_code,
        "at": AT,
        "level": THRESHOLDS.level(hours),
        "hours_to_empty": hours,
        "stock_m3": None if hours is None else hours * 10.0,
        "liquid_stock_m3": None,
        "cylinders_stock_m3": None if hours is None else hours * 10.0,
        "burn_m3_per_h": 10.0,
        "burn_basis": "declared use",
        "report_date": dt.date(2021, 8, 19),
        "report_age_h": 17.0,
    }
    return FacilityStatus(**{**values, **changes})


# --------------------------------------------------------------------------- stock


def test_a_critical_facility_raises_one_critical_alert_naming_it_and_its_hours() -> None:
    drafts, recovered = stock_alerts([status("79-A", 5.24)], {}, THRESHOLDS)
    assert recovered == []
    [draft] = drafts
    assert draft.kind == AlertKind.STOCK_CRITICAL and draft.level == Level.CRITICAL
    assert draft.dedupe_key == "stock_critical:79-A:1"
    assert "Bệnh viện Chợ Rẫy (79-A)" in draft.message_vi and "5,2 giờ" in draft.message_vi
    assert "dưới 8,0 giờ" in draft.message_vi
    assert "about 5.2 hours" in draft.message_en and "critical below 8.0 h" in draft.message_en
    assert draft.details["hours_to_empty"] == 5.24 and draft.province_code == "79"


def test_warning_ok_and_unknown_levels() -> None:
    drafts, _ = stock_alerts(
        [status("79-A", 12.0), status("79-B", 30.0), status("01-C", None)], {}, THRESHOLDS
    )
    # 12 h: warning; 30 h: ok (nothing); unknown: nothing (the missed report says it)
    assert [(d.kind, d.facility_id) for d in drafts] == [(AlertKind.STOCK_WARNING, "79-A")]
    assert "Cảnh báo" in drafts[0].message_vi and "warning below 24.0 h" in drafts[0].message_en


def test_what_is_in_transit_is_in_the_message() -> None:
    arrival = dt.datetime(2021, 8, 20, 11, 30, tzinfo=LOCAL_TZ)
    [draft], _ = stock_alerts(
        [status("79-A", 3.0, in_transit_m3=146.0, next_arrival=arrival)], {}, THRESHOLDS
    )
    assert "146,0 m³, dự kiến đến 11:30 20/08/2021" in draft.message_vi
    assert "146.0 m³ in transit, expected at 2021-08-20 11:30" in draft.message_en


def test_an_open_episode_raises_nothing_and_recovery_opens_the_next() -> None:
    key = ("79-A", AlertKind.STOCK_CRITICAL)
    drafts, recovered = stock_alerts(
        [status("79-A", 4.0)], {key: StockEpisode(1, open=True)}, THRESHOLDS
    )
    assert drafts == [] and recovered == []
    # unknown (stale data) is not recovery
    drafts, recovered = stock_alerts(
        [status("79-A", None)], {key: StockEpisode(1, open=True)}, THRESHOLDS
    )
    assert drafts == [] and recovered == []
    # back above 8 h ends the critical episode (and starts a warning one)
    drafts, recovered = stock_alerts(
        [status("79-A", 10.0)], {key: StockEpisode(1, open=True)}, THRESHOLDS
    )
    assert recovered == [key] and [d.kind for d in drafts] == [AlertKind.STOCK_WARNING]
    drafts, _ = stock_alerts([status("79-A", 2.0)], {key: StockEpisode(1, open=False)}, THRESHOLDS)
    assert [d.dedupe_key for d in drafts] == ["stock_critical:79-A:2"]


# --------------------------------------------------------------------------- reports


@pytest.mark.parametrize(
    ("local", "day"),
    [
        ("2021-08-20 15:59:59", dt.date(2021, 8, 19)),  # before the deadline: yesterday's
        ("2021-08-20 16:00:00", dt.date(2021, 8, 20)),  # from 16:00: today's
        ("2021-08-21 00:30:00", dt.date(2021, 8, 20)),
    ],
)
def test_the_report_day_is_the_last_one_whose_deadline_passed(local: str, day: dt.date) -> None:
    assert report_day(dt.datetime.fromisoformat(local).replace(tzinfo=LOCAL_TZ)) == day


def test_missed_report_only_for_facilities_that_must_report() -> None:
    from dataclasses import replace

    day = dt.date(2021, 8, 19)
    facilities = [
        FACILITY_A,  # reported
        FACILITY_B,  # missed
        replace(FACILITY_C, reporting_from=None),  # never asked to report
        replace(FACILITY_C, facility_id="01-D", reporting_from=dt.date(2021, 8, 20)),  # not yet
        replace(FACILITY_C, facility_id="01-E", source="merged into 01-C; OSM"),  # merged
        replace(FACILITY_C, facility_id="01-F", reporting_until=dt.date(2021, 8, 18)),  # closed
    ]
    drafts = missed_report_alerts(facilities, {"79-A"}, day)
    assert [d.dedupe_key for d in drafts] == ["report_missed:79-B:2021-08-19"]
    assert "Bệnh viện Nhân dân Gia Định (79-B) chưa gửi báo cáo ngày 19/08/2021" in (
        drafts[0].message_vi
    )
    assert "for 2021-08-19 by the 16:00 deadline" in drafts[0].message_en


# --------------------------------------------------------------------------- deliveries


def _open(eta: dt.datetime) -> OpenDelivery:
    from data.schema.live import DeliveryState

    return OpenDelivery(
        delivery_id=7,
        facility_id="79-A",
        facility_name="Bệnh viện Chợ Rẫy",
        province_code="79",
        state=DeliveryState.IN_TRANSIT,
        eta=eta,
        planned_m3=146.0,
        vehicle_id="TK1",
        supplier_id="TDS",
    )


def test_a_delivery_is_late_after_the_grace() -> None:
    eta = AT - dt.timedelta(minutes=30)
    assert late_delivery_alerts([_open(eta)], AT) == []  # 30 min: within the grace
    [draft] = late_delivery_alerts([_open(eta - dt.timedelta(minutes=15))], AT)
    assert draft.dedupe_key == "delivery_late:7:2021-08-20T01:15:00+00:00"
    assert "trễ 45 phút so với giờ dự kiến 08:15 20/08/2021" in draft.message_vi
    assert "(79-A) is 45 minutes late against its ETA 2021-08-20 08:15" in draft.message_en
    with pytest.raises(ValueError, match="grace_min"):
        late_delivery_alerts([], AT, grace_min=-1)


# --------------------------------------------------------------------------- scans


def _delivery(store: Any, facility_id: str, eta: dt.datetime, state: str = "in_transit") -> int:
    now = dt.datetime(2021, 8, 20, tzinfo=dt.UTC)
    with store.engine.begin() as connection:
        result = connection.execute(
            insert(deliveries).values(
                facility_id=facility_id,
                product="liquid",
                planned_liquid_kg=1000.0,
                planned_m3=854.0,
                eta=eta,
                state=state,
                vehicle_id="TK1",
                created_at=now,
                updated_at=now,
                version=1,
            )
        )
    return int(result.inserted_primary_key[0])


def _statuses(levels: dict[str, float | None]) -> Any:
    def source(
        store: Any, at: dt.datetime, thresholds: Any, *, province_code: Any = None, **_: Any
    ) -> Any:
        return [
            status(f, h)
            for f, h in levels.items()
            if province_code is None or f.startswith(province_code)
        ]

    return source


def test_a_scan_raises_each_kind_once_and_a_second_scan_nothing(store: Any, clock: Clock) -> None:
    from data.schema.registry import DailyReport

    store.submit_report(
        DailyReport(facility_id="79-A", report_date=dt.date(2021, 8, 19), oxygen_used_24h_m3=150.0),
        submitted_by="repA",
    )
    _delivery(store, "79-B", clock() - dt.timedelta(minutes=50))  # late
    _delivery(store, "79-A", clock() - dt.timedelta(minutes=10))  # within the grace
    _delivery(store, "79-A", clock() - dt.timedelta(hours=3), state="delivered")  # done
    levels = _statuses({"79-A": 5.0, "79-B": 30.0, "01-C": None})
    first = run_alert_scan(store, clock(), statuses=levels, actor="tester")
    keys = sorted(a.dedupe_key for a in first.raised)
    assert keys == [
        "delivery_late:1:2021-08-20T01:10:00+00:00",
        "report_missed:01-C:2021-08-19",
        "report_missed:79-B:2021-08-19",
        "stock_critical:79-A:1",
    ]
    assert first.statuses == 3 and first.late_deliveries == 1 and first.facilities == 3
    assert run_alert_scan(store, clock(), statuses=levels).raised == []
    with store.engine.connect() as connection:
        scans = connection.execute(
            select(audit_events.c.actor, audit_events.c.detail).where(
                audit_events.c.action == "scan"
            )
        ).all()
    assert [(s.actor, s.detail["raised"]) for s in scans] == [("tester", 4), ("system", 0)]


def test_a_province_scan_raises_only_its_province(store: Any, clock: Clock) -> None:
    result = run_alert_scan(store, clock(), province_code="01", statuses=_statuses({}))
    assert [a.dedupe_key for a in result.raised] == ["report_missed:01-C:2021-08-19"]


def test_stock_episodes_across_scans(store: Any, clock: Clock) -> None:
    def scan(hours: float | None) -> list[str]:
        raised = run_alert_scan(store, clock(), statuses=_statuses({"79-A": hours})).raised
        return [a.dedupe_key for a in raised if a.kind != AlertKind.REPORT_MISSED]

    assert scan(5.0) == ["stock_critical:79-A:1"]
    assert scan(4.0) == []  # same episode
    assert scan(None) == []  # no data is not recovery
    assert scan(30.0) == []  # recovered: the episode ends
    [alert] = [a for a in store.list_alerts() if a.dedupe_key == "stock_critical:79-A:1"]
    assert alert.details["recovered_at"] == "2021-08-20T02:00:00+00:00"
    assert scan(3.0) == ["stock_critical:79-A:2"]  # a new episode
    assert scan(12.0) == ["stock_warning:79-A:1"]


def test_two_scans_at_once_raise_each_alert_once(store: Any, clock: Clock) -> None:
    levels = _statuses({"79-A": 2.0, "79-B": 2.0, "01-C": 2.0})
    results: list[Any] = []
    barrier = threading.Barrier(4)

    def scan() -> None:
        barrier.wait()
        results.append(run_alert_scan(store, clock(), statuses=levels))

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    raised = [a.dedupe_key for r in results for a in r.raised]
    assert len(raised) == len(set(raised)) == 6  # 3 critical + 3 missed reports
    assert len(store.list_alerts()) == 6


def test_a_provinces_own_thresholds_are_named_in_its_alerts() -> None:
    own = StatusThresholds(critical_hours=12.0, warning_hours=36.0)
    drafts, _ = stock_alerts(
        [status("79-A", 10.0, level=Level.CRITICAL), status("01-C", 5.0)],
        {},
        THRESHOLDS,
        thresholds_by_province={"79": own},
    )
    assert [d.details["threshold_h"] for d in drafts] == [12.0, 8.0]
    assert "critical below 12.0 h" in drafts[0].message_en
