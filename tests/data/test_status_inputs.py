"""The status inputs read from a SQLite store: revisions as of an instant, reviews, deliveries.

The world: the template's facilities 79-A (Chợ Rẫy), 79-B (Gia Định) and 01-C (Bạch Mai); the clock
moves to each submission's local time. Deliveries are written straight into the table (their
endpoints are another part of issue 14), with the columns the status reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, insert

from coordination.status import current_statuses
from data.db.models import deliveries
from data.reporting import LOCAL_TZ
from data.schema.live import Level, StatusThresholds
from data.schema.registry import DailyReport, Facility
from data.store.reviews import ReviewDecision
from data.store.status_inputs import LOOKBACK_DAYS, stock_instant


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2021, 8, day, hour, minute, tzinfo=LOCAL_TZ)


def submit(
    store: Any, clock: Any, facility_id: str, day: int, when: dt.datetime, **values: Any
) -> None:
    clock.now = when.astimezone(dt.UTC)
    fields: dict[str, Any] = {
        "oxygen_used_24h_m3": 240.0,
        "patients_cannula_mask": 20,
        "cylinders_full": {"40L": 30},
    }
    fields.update(values)
    store.submit_report(
        DailyReport(facility_id=facility_id, report_date=dt.date(2021, 8, day), **fields),
        submitted_by="tester",
    )


def add_delivery(store: Any, facility_id: str, state: str, **values: Any) -> None:
    row = {
        "facility_id": facility_id,
        "product": "cylinders",
        "planned_m3": 60.0,
        "state": state,
        "created_at": local(19, 8).astimezone(dt.UTC),
        "updated_at": local(19, 8).astimezone(dt.UTC),
        "version": 1,
    }
    row.update(
        {k: v.astimezone(dt.UTC) if isinstance(v, dt.datetime) else v for k, v in values.items()}
    )
    with store.engine.begin() as connection:
        connection.execute(insert(deliveries).values(**row))


def test_latest_revision_as_of_the_instant(store, clock) -> None:  # type: ignore[no-untyped-def]
    submit(store, clock, "79-A", 19, local(19, 15), cylinders_full={"40L": 10})
    submit(store, clock, "79-A", 19, local(19, 17), cylinders_full={"40L": 12})
    before = store.status_inputs(local(19, 16), facility_id="79-A")
    after = store.status_inputs(local(20, 10), facility_id="79-A")
    assert [(r.revision, dict(r.cylinders_full)) for r in before.reports] == [(1, {"40L": 10})]
    assert [(r.revision, dict(r.cylinders_full)) for r in after.reports] == [(2, {"40L": 12})]
    assert after.reports[0].stock_at == local(19, 17)
    assert after.reports[0].patients == (20, 0, 0, 0, 0)
    assert after.last_reports["79-A"] == (dt.date(2021, 8, 19), local(19, 15))


def test_a_late_correction_keeps_its_day() -> None:
    # corrected two days later: the stock is the day's, so the end of that day
    assert stock_instant(dt.date(2021, 8, 19), local(21, 9)) == local(20, 0)
    assert stock_instant(dt.date(2021, 8, 19), local(19, 15)) == local(19, 15)
    assert stock_instant(dt.date(2021, 8, 19), local(19, 15)).tzinfo == dt.UTC


def test_reports_newest_first_and_the_window(store, clock) -> None:  # type: ignore[no-untyped-def]
    for day in (10, 17, 18, 19):
        submit(store, clock, "79-B", day, local(day, 15))
    inputs = store.status_inputs(local(20, 10), province_code="79")
    # nothing flagged or reviewed: the newest report decides, the older ones are not read
    assert [r.report_date.day for r in inputs.reports] == [19]
    assert inputs.reports[0].check is None
    assert LOOKBACK_DAYS == 4
    assert {f.facility_id for f in inputs.facilities} == {"79-A", "79-B"}
    assert inputs.last_reports == {"79-B": (dt.date(2021, 8, 19), local(19, 15))}
    # a review of one of them: every report of the window comes, newest first (not 10 Aug)
    clock.now = local(19, 18).astimezone(dt.UTC)
    store.review_report(
        "79-B",
        dt.date(2021, 8, 18),
        decision=ReviewDecision.ACCEPTED,
        reason="đã gọi xác nhận",
        actor="coord79",
    )
    inputs = store.status_inputs(local(20, 10), province_code="79")
    assert [r.report_date.day for r in inputs.reports] == [19, 18, 17]
    assert [r.check is not None for r in inputs.reports] == [False, True, False]


def test_a_review_is_read_with_its_revision(store, clock) -> None:  # type: ignore[no-untyped-def]
    submit(store, clock, "79-A", 18, local(18, 15), cylinders_full={"40L": 30})
    submit(store, clock, "79-A", 19, local(19, 15), cylinders_full={"40L": 300})
    clock.now = local(19, 18).astimezone(dt.UTC)
    store.review_report(
        "79-A",
        dt.date(2021, 8, 19),
        decision=ReviewDecision.CORRECTION_REQUESTED,
        reason="300 bình? kiểm tra lại",
        actor="coord79",
    )
    inputs = store.status_inputs(local(20, 10), facility_id="79-A")
    newest = inputs.reports[0]
    assert newest.check.review is not None
    assert newest.check.review.decision is ReviewDecision.CORRECTION_REQUESTED
    # a review after the instant is not yet known then
    earlier = store.status_inputs(local(19, 17), facility_id="79-A")
    assert earlier.reports[0].check.review is None
    # the status skips the stock sent back for correction: 18 Aug's 180 m³, 43 h ago at 10 m³/h
    (status,) = current_statuses(store, local(20, 10), StatusThresholds(), facility_id="79-A")
    assert status.report_date == dt.date(2021, 8, 18)
    assert status.stock_m3 == pytest.approx(0.0)
    assert status.level is Level.CRITICAL


def test_deliveries_received_and_on_their_way(store, clock) -> None:  # type: ignore[no-untyped-def]
    add_delivery(store, "79-A", "delivered", received_m3=54.0, received_at=local(20, 6))
    add_delivery(
        store,
        "79-A",
        "delivered",
        received_m3=30.0,
        received_at=local(20, 11),
        eta=local(20, 10, 30),
    )
    add_delivery(store, "79-A", "in_transit", planned_m3=120.0, eta=local(20, 13))
    add_delivery(store, "79-A", "planned", planned_m3=60.0, eta=local(20, 12))
    add_delivery(store, "79-A", "planned", planned_m3=60.0)  # no ETA: not counted
    add_delivery(store, "79-A", "cancelled", planned_m3=60.0, eta=local(20, 12))
    add_delivery(store, "01-C", "in_transit", planned_m3=99.0, eta=local(20, 12))
    inputs = store.status_inputs(local(20, 10), province_code="79")
    assert [(d.gas_m3, d.at) for d in inputs.received] == [(54.0, local(20, 6))]
    # the one received at 11:00 was still on its way at 10:00 (its planned 60 m³)
    assert sorted((d.at, d.gas_m3) for d in inputs.in_transit) == [
        (local(20, 10, 30), 60.0),
        (local(20, 12), 60.0),
        (local(20, 13), 120.0),
    ]
    assert {d.facility_id for d in inputs.in_transit} == {"79-A"}


def test_the_status_on_a_store_by_hand(store, clock) -> None:  # type: ignore[no-untyped-def]
    # 30 x 40 L = 180 m³ at 15:00 on 19 Aug, 10 m³/h; +54 m³ at 06:00; at 10:00: 180 + 54 - 190
    submit(store, clock, "79-A", 19, local(19, 15))
    add_delivery(store, "79-A", "delivered", received_m3=54.0, received_at=local(20, 6))
    add_delivery(store, "79-A", "in_transit", planned_m3=120.0, eta=local(20, 13))
    statuses = current_statuses(store, local(20, 10), StatusThresholds(), province_code="79")
    by_id = {s.facility_id: s for s in statuses}
    a = by_id["79-A"]
    assert a.stock_m3 == pytest.approx(44.0)
    assert a.hours_to_empty == pytest.approx(4.4)
    assert a.level is Level.CRITICAL
    assert a.in_transit_m3 == pytest.approx(120.0) and a.next_arrival == local(20, 13)
    assert a.name == "Bệnh viện Chợ Rẫy"
    assert by_id["79-B"].level is Level.UNKNOWN
    assert [s.facility_id for s in statuses] == ["79-A", "79-B"]
    only = current_statuses(store, local(20, 10), StatusThresholds(), level=Level.UNKNOWN)
    assert {s.facility_id for s in only} == {"79-B", "01-C"}


def test_closed_facilities_are_left_out(store, clock) -> None:  # type: ignore[no-untyped-def]
    closed = dataclasses.replace(_facility("79-Z"), reporting_until=dt.date(2021, 8, 18))
    store.create_records([closed], actor="tester")
    ids = {f.facility_id for f in store.status_inputs(local(20, 10)).facilities}
    assert "79-Z" not in ids and "79-A" in ids


def _facility(facility_id: str) -> Facility:
    return Facility(
        facility_id=facility_id,
        name=f"Trạm y tế {facility_id}",
        province_code="79",
        lon=106.66,
        lat=10.76,
        tier=1,
        district="Quận 5",
        reporting_from=dt.date(2021, 8, 1),
    )


def test_the_number_of_queries_does_not_grow_with_facilities(store, clock) -> None:  # type: ignore[no-untyped-def]
    def count_queries() -> int:
        seen: list[str] = []

        def listener(*args: Any) -> None:
            seen.append(args[2])

        event.listen(store.engine, "before_cursor_execute", listener)
        try:
            store.status_inputs(local(20, 10))
        finally:
            event.remove(store.engine, "before_cursor_execute", listener)
        return len(seen)

    submit(store, clock, "79-A", 19, local(19, 15))
    few = count_queries()
    store.create_records([_facility(f"79-T{i}") for i in range(30)], actor="tester")
    for i in range(30):
        submit(store, clock, f"79-T{i}", 19, local(19, 15))
    assert count_queries() == few <= 6


def test_a_naive_instant_is_refused(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="aware"):
        store.status_inputs(dt.datetime(2021, 8, 20, 10))
