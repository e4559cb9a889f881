"""One alert scan: statuses, reports and deliveries from the store -> new alerts in the store.

Used by ``POST /api/v1/alerts/scan``, ``oxyroute alerts scan`` (fit for cron) and
:class:`coordination.alert_monitor.AlertMonitor` (a server's background thread); the rules are in
:mod:`coordination.alerts`. A scan is idempotent: each condition has a dedupe key, so running it
twice, or twice at once, raises each alert once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coordination.alerts import (
    DELIVERY_GRACE_MIN,
    late_delivery_alerts,
    missed_report_alerts,
    report_day,
    sort_drafts,
    stock_alerts,
)
from coordination.status import current_statuses
from data.region import region_status_settings
from data.schema.live import AlertKind, FacilityStatus, StatusThresholds
from data.store.alerts import Alert, AlertDraft

if TYPE_CHECKING:
    from data.store import Store

StatusSource = Callable[..., list[FacilityStatus]]
"""``(store, at, thresholds, *, province_code=None, thresholds_by_province=None) -> statuses``,
the signature of :func:`coordination.status.current_statuses` (the default)."""


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What one scan did: the alerts raised, and the facilities, statuses and deliveries seen."""

    at: dt.datetime
    province_code: str | None
    report_day: dt.date
    raised: list[Alert]
    facilities: int
    statuses: int
    late_deliveries: int
    recovered: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the figures as JSON-ready data (the alerts as ids)."""
        return {
            "at": self.at.astimezone(dt.UTC).isoformat(),
            "province_code": self.province_code,
            "report_day": self.report_day.isoformat(),
            "raised": len(self.raised),
            "alert_ids": [a.alert_id for a in self.raised],
            "facilities": self.facilities,
            "statuses": self.statuses,
            "late_deliveries": self.late_deliveries,
            "recovered": [{"facility_id": f, "kind": k} for f, k in self.recovered],
        }


def thresholds_of_regions(regions: Iterable[str]) -> dict[str, StatusThresholds]:
    """Return the status thresholds of the regions' provinces (a region's optional ``[status]``).

    The first region of a province sets its thresholds, as ``GET /api/v1/status`` does.
    """
    by_province: dict[str, StatusThresholds] = {}
    for region in regions:
        settings = region_status_settings(region)
        if settings.province_code is not None:
            by_province.setdefault(settings.province_code, settings.thresholds)
    return by_province


def run_alert_scan(
    store: Store,
    at: dt.datetime,
    *,
    province_code: str | None = None,
    thresholds: StatusThresholds | None = None,
    thresholds_by_province: Mapping[str, StatusThresholds] | None = None,
    grace_min: float = DELIVERY_GRACE_MIN,
    statuses: StatusSource | None = None,
    actor: str = "system",
) -> ScanResult:
    """Raise the alerts due at ``at`` (in one province, or everywhere) and return what was done.

    Parameters
    ----------
    store
        The registry store.
    at
        The present instant (aware).
    province_code
        Scan one province's facilities and deliveries only (None: all).
    thresholds, thresholds_by_province
        Hours to empty of the levels (default :class:`StatusThresholds`), and a province's own
        (:func:`thresholds_of_regions`).
    grace_min
        Minutes past its ETA before a delivery is late.
    statuses
        Where statuses come from (default :func:`coordination.status.current_statuses`).
    actor
        Who runs the scan (the audit row's actor).
    """
    thresholds = thresholds or StatusThresholds()
    source = statuses if statuses is not None else current_statuses
    facilities = store.list_facilities(province_code=province_code)
    current = source(
        store,
        at,
        thresholds,
        province_code=province_code,
        thresholds_by_province=thresholds_by_province,
    )
    drafts: list[AlertDraft]
    recovered: list[tuple[str, AlertKind]]
    drafts, recovered = stock_alerts(
        current,
        store.stock_episodes(),
        thresholds,
        thresholds_by_province=thresholds_by_province,
    )
    day = report_day(at)
    reported = {s.facility_id for s in store.first_submissions(date_from=day, date_to=day)}
    drafts += missed_report_alerts(facilities, reported, day)
    late = [
        d
        for d in store.open_deliveries(eta_before=at - dt.timedelta(minutes=grace_min))
        if province_code is None or d.province_code == province_code
    ]
    drafts += late_delivery_alerts(late, at, grace_min=grace_min)
    raised = store.insert_alerts(
        sort_drafts(drafts), recovered=recovered, actor=actor, scope=province_code or "all"
    )
    return ScanResult(
        at=at,
        province_code=province_code,
        report_day=day,
        raised=raised,
        facilities=len(facilities),
        statuses=len(current),
        late_deliveries=len(late),
        recovered=[(f, k.value) for f, k in recovered],
    )
