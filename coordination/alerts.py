"""When to raise an alert: stock below a threshold, a missed 16:00 report, a late delivery.

The rules (docs/live-operations-alerts.md) over plain data; the scan that feeds them from the
store and stores what they raise is :mod:`coordination.alert_scan`.

- **Stock** (``stock_critical`` / ``stock_warning``): a facility whose status level is critical
  (hours to empty < 8 h by default) or warning (< 24 h). Raised once per *episode*: the dedupe
  key is ``<kind>:<facility_id>:<episode>``; the episode stays open while the facility is at that
  level *or unknown* (no data is not recovery) and ends when a scan sees it at another known
  level; the next time it is at that level, episode n + 1 raises a new alert.
- **Report missed** (``report_missed``): a facility that must report on the day (its
  ``reporting_from`` is set and its period holds the day; not a merged duplicate) and has no
  report for it once the day's 16:00 deadline (Asia/Ho_Chi_Minh) has passed. The day is the
  last one whose deadline has passed: today from 16:00, yesterday before. Key
  ``report_missed:<facility_id>:<day>``.
- **Delivery late** (``delivery_late``): a delivery still planned or in transit whose ETA is more
  than :data:`DELIVERY_GRACE_MIN` minutes ago. Key ``delivery_late:<delivery_id>:<eta>``, so a
  new ETA can raise a new alert.

Messages are in Vietnamese and English and name the facility (name beside id) and the figure.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from data.dedupe import merged_into
from data.reporting import LOCAL_TZ, REPORT_DEADLINE_LOCAL, report_deadline
from data.schema.live import AlertKind, FacilityStatus, Level, StatusThresholds
from data.schema.registry import Facility
from data.store.alerts import Alert, AlertDraft, OpenDelivery, StockEpisode

DELIVERY_GRACE_MIN = 30
"""Minutes past its ETA before a delivery is late: city traffic and unloading at the previous
stop move arrivals by a quarter of an hour routinely (our choice; no source sets it)."""

_STOCK_KIND = {Level.CRITICAL: AlertKind.STOCK_CRITICAL, Level.WARNING: AlertKind.STOCK_WARNING}


def _vi_number(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def _local(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(LOCAL_TZ)


def _vi_time(instant: dt.datetime) -> str:
    return _local(instant).strftime("%H:%M %d/%m/%Y")


def _en_time(instant: dt.datetime) -> str:
    return _local(instant).strftime("%Y-%m-%d %H:%M")


def stock_alerts(
    statuses: Iterable[FacilityStatus],
    episodes: Mapping[tuple[str, AlertKind], StockEpisode],
    thresholds: StatusThresholds,
    *,
    thresholds_by_province: Mapping[str, StatusThresholds] | None = None,
) -> tuple[list[AlertDraft], list[tuple[str, AlertKind]]]:
    """Return the stock alerts to raise and the (facility, kind) episodes that end now.

    Parameters
    ----------
    statuses
        Facilities' statuses now (their ``level`` decides).
    episodes
        The latest stored episode of each (facility, stock kind).
    thresholds, thresholds_by_province
        The hours the levels were computed with (named in the messages): a province's own, else
        the defaults.
    """
    by_province = thresholds_by_province or {}
    drafts: list[AlertDraft] = []
    recovered: list[tuple[str, AlertKind]] = []
    for status in statuses:
        for level, kind in _STOCK_KIND.items():
            episode = episodes.get((status.facility_id, kind))
            if status.level == level:
                if episode is None or not episode.open:
                    number = 1 if episode is None else episode.number + 1
                    limits = by_province.get(status.province_code, thresholds)
                    drafts.append(_stock_draft(status, kind, number, limits))
            elif status.level != Level.UNKNOWN and episode is not None and episode.open:
                recovered.append((status.facility_id, kind))
    return drafts, recovered


def _stock_draft(
    status: FacilityStatus, kind: AlertKind, episode: int, thresholds: StatusThresholds
) -> AlertDraft:
    hours = status.hours_to_empty if status.hours_to_empty is not None else math.nan
    critical = kind == AlertKind.STOCK_CRITICAL
    limit_h = thresholds.critical_hours if critical else thresholds.warning_hours
    who = f"{status.name} ({status.facility_id})"
    if status.next_arrival is not None and status.in_transit_m3 > 0:
        coming_vi = (
            f"; đang trên đường {_vi_number(status.in_transit_m3)} m³, dự kiến đến "
            f"{_vi_time(status.next_arrival)}"
        )
        coming_en = (
            f"; {status.in_transit_m3:.1f} m³ in transit, expected at "
            f"{_en_time(status.next_arrival)}"
        )
    else:
        coming_vi, coming_en = "; chưa có chuyến nào đang tới", "; nothing in transit"
    message_vi = (
        f"{'Nguy cấp' if critical else 'Cảnh báo'}: {who} còn khoảng {_vi_number(hours)} giờ oxy "
        f"(ngưỡng {'nguy cấp' if critical else 'cảnh báo'} dưới {_vi_number(limit_h)} giờ)"
        f"{coming_vi}."
    )
    message_en = (
        f"{'Critical' if critical else 'Warning'}: {who} has about {hours:.1f} hours of oxygen "
        f"left ({'critical' if critical else 'warning'} below {limit_h:.1f} h){coming_en}."
    )
    return AlertDraft(
        kind=kind,
        level=Level.CRITICAL if critical else Level.WARNING,
        dedupe_key=f"{kind.value}:{status.facility_id}:{episode}",
        message_vi=message_vi,
        message_en=message_en,
        facility_id=status.facility_id,
        province_code=status.province_code,
        details={
            "facility_name": status.name,
            "episode": episode,
            "hours_to_empty": status.hours_to_empty,
            "threshold_h": limit_h,
            "stock_m3": status.stock_m3,
            "burn_m3_per_h": status.burn_m3_per_h,
            "burn_basis": status.burn_basis,
            "report_date": None if status.report_date is None else status.report_date.isoformat(),
            "in_transit_m3": status.in_transit_m3,
            "next_arrival": None
            if status.next_arrival is None
            else status.next_arrival.astimezone(dt.UTC).isoformat(),
        },
    )


def report_day(at: dt.datetime) -> dt.date:
    """Return the last day whose 16:00 report deadline (Asia/Ho_Chi_Minh) is at or before ``at``.

    Examples
    --------
    >>> from data.reporting import LOCAL_TZ
    >>> report_day(dt.datetime(2021, 8, 20, 15, 59, tzinfo=LOCAL_TZ))
    datetime.date(2021, 8, 19)
    >>> report_day(dt.datetime(2021, 8, 20, 16, 0, tzinfo=LOCAL_TZ))
    datetime.date(2021, 8, 20)
    """
    local = _local(at)
    today = local.date()
    return today if local.time() >= REPORT_DEADLINE_LOCAL else today - dt.timedelta(days=1)


def missed_report_alerts(
    facilities: Iterable[Facility], reported: Iterable[str], day: dt.date
) -> list[AlertDraft]:
    """Return a ``report_missed`` alert for each facility that must report ``day`` and has not.

    A facility must report when its ``reporting_from`` is set, its reporting period holds
    ``day`` and it is not a merged duplicate; ``reported`` are the ids with a report for ``day``.
    """
    done = set(reported)
    deadline = report_deadline(day)
    drafts = []
    for facility in facilities:
        if (
            facility.reporting_from is None
            or not facility.expected_on(day)
            or merged_into(facility) is not None
            or facility.facility_id in done
        ):
            continue
        who = f"{facility.name} ({facility.facility_id})"
        drafts.append(
            AlertDraft(
                kind=AlertKind.REPORT_MISSED,
                level=Level.WARNING,
                dedupe_key=f"report_missed:{facility.facility_id}:{day.isoformat()}",
                message_vi=(
                    f"{who} chưa gửi báo cáo ngày {day.strftime('%d/%m/%Y')} "
                    f"(hạn 16:00); gọi đầu mối để lấy số liệu."
                ),
                message_en=(
                    f"{who} has not sent its report for {day.isoformat()} by the 16:00 "
                    "deadline; call its focal person for the figures."
                ),
                facility_id=facility.facility_id,
                province_code=facility.province_code,
                details={
                    "facility_name": facility.name,
                    "report_date": day.isoformat(),
                    "deadline": deadline.isoformat(),
                    "contact_name": facility.contact_name,
                    "contact_phone": facility.contact_phone,
                },
            )
        )
    return drafts


def late_delivery_alerts(
    open_deliveries: Iterable[OpenDelivery],
    at: dt.datetime,
    *,
    grace_min: float = DELIVERY_GRACE_MIN,
) -> list[AlertDraft]:
    """Return a ``delivery_late`` alert for each delivery more than ``grace_min`` past its ETA.

    Raises
    ------
    ValueError
        If ``grace_min`` is negative.
    """
    if grace_min < 0:
        raise ValueError(f"grace_min: must be 0 or more minutes, got {grace_min}")
    drafts = []
    for delivery in open_deliveries:
        late_min = (at - delivery.eta).total_seconds() / 60
        if late_min <= grace_min:
            continue
        minutes = int(late_min)
        who = f"{delivery.facility_name} ({delivery.facility_id})"
        vehicle = delivery.vehicle_id or "?"
        drafts.append(
            AlertDraft(
                kind=AlertKind.DELIVERY_LATE,
                level=Level.WARNING,
                dedupe_key=(
                    f"delivery_late:{delivery.delivery_id}:"
                    f"{delivery.eta.astimezone(dt.UTC).isoformat()}"
                ),
                message_vi=(
                    f"Chuyến giao #{delivery.delivery_id} tới {who} trễ {minutes} phút so với giờ "
                    f"dự kiến {_vi_time(delivery.eta)} ({_vi_number(delivery.planned_m3)} m³, "
                    f"xe {vehicle})."
                ),
                message_en=(
                    f"Delivery #{delivery.delivery_id} to {who} is {minutes} minutes late against "
                    f"its ETA {_en_time(delivery.eta)} ({delivery.planned_m3:.1f} m³, "
                    f"vehicle {vehicle})."
                ),
                facility_id=delivery.facility_id,
                province_code=delivery.province_code,
                delivery_id=delivery.delivery_id,
                details={
                    "facility_name": delivery.facility_name,
                    "eta": delivery.eta.astimezone(dt.UTC).isoformat(),
                    "minutes_late": minutes,
                    "grace_min": grace_min,
                    "state": delivery.state.value,
                    "planned_m3": delivery.planned_m3,
                    "vehicle_id": delivery.vehicle_id,
                    "supplier_id": delivery.supplier_id,
                },
            )
        )
    return drafts


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    """Return an alert as the JSON of the feed, the stream's ``data:`` and webhooks' payloads.

    Instants are ISO 8601 in UTC; ``message`` has ``vi`` and ``en``.
    """

    def utc(value: dt.datetime | None) -> str | None:
        return None if value is None else value.astimezone(dt.UTC).isoformat()

    return {
        "alert_id": alert.alert_id,
        "kind": alert.kind.value,
        "level": alert.level.value,
        "facility_id": alert.facility_id,
        "province_code": alert.province_code,
        "delivery_id": alert.delivery_id,
        "request_id": alert.request_id,
        "message": {"vi": alert.message_vi, "en": alert.message_en},
        "details": dict(alert.details),
        "raised_at": utc(alert.raised_at),
        "acknowledged": None
        if alert.acknowledged_at is None
        else {
            "at": utc(alert.acknowledged_at),
            "by": alert.acknowledged_by,
            "note": alert.acknowledged_note,
        },
        "dedupe_key": alert.dedupe_key,
    }


def sort_drafts(drafts: Sequence[AlertDraft]) -> list[AlertDraft]:
    """Return drafts most urgent first (critical, then warning), then by dedupe key."""
    order = {Level.CRITICAL: 0, Level.WARNING: 1}
    return sorted(drafts, key=lambda d: (order.get(d.level, 2), d.dedupe_key))
