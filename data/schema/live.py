"""Shared vocabulary of live operations (issue 14): products, levels, states and their transitions.

The coordination unit's hourly loop (``../shared/OPERATIONS.md``): which facility runs dry first
(:class:`FacilityStatus`), what is on its way (:class:`DeliveryState`), urgent requests
(:class:`RequestState`), alerts (:class:`AlertKind`) and a plan's hand-off (:class:`PlanState`).
The tables are in :mod:`data.db.models` (migration 0006); the pure computations in
:mod:`coordination`; this module holds only what they all share.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Product(StrEnum):
    """What a facility receives: liquid oxygen into its tank, or filled cylinders."""

    LIQUID = "liquid"
    CYLINDERS = "cylinders"


class Level(StrEnum):
    """How urgent a facility's oxygen is, from its hours to empty (most urgent first)."""

    CRITICAL = "critical"
    WARNING = "warning"
    UNKNOWN = "unknown"
    OK = "ok"


LEVEL_ORDER: Mapping[Level, int] = {
    Level.CRITICAL: 0,
    Level.WARNING: 1,
    Level.UNKNOWN: 2,
    Level.OK: 3,
}
"""Sort key of levels: critical first; unknown before ok (no data is not good news)."""


@dataclass(frozen=True, slots=True)
class StatusThresholds:
    """Hours to empty below which a facility is critical or warning (per region, configurable).

    Defaults: CARE (Kerala) alerts at 5 h or less and its dashboard marks oxygen that runs out
    within 8 h (``../shared/OPERATIONS.md``); critical < 8 h, warning < 24 h (one reporting day).
    """

    critical_hours: float = 8.0
    warning_hours: float = 24.0

    def __post_init__(self) -> None:
        if not 0 < self.critical_hours < self.warning_hours:
            raise ValueError(
                "critical_hours must be > 0 and below warning_hours, got "
                f"{self.critical_hours} and {self.warning_hours}"
            )

    def level(self, hours_to_empty: float | None) -> Level:
        """Return the level of a facility with ``hours_to_empty`` (None: unknown)."""
        if hours_to_empty is None:
            return Level.UNKNOWN
        if hours_to_empty < self.critical_hours:
            return Level.CRITICAL
        if hours_to_empty < self.warning_hours:
            return Level.WARNING
        return Level.OK


@dataclass(frozen=True, slots=True)
class FacilityStatus:
    """One facility's oxygen now: stock, burn, hours to empty and what is on its way.

    Parameters
    ----------
    facility_id, name, province_code
        The facility, its name (shown beside the id) and its 2021 province.
    at
        The moment the status describes (timezone-aware, Asia/Ho_Chi_Minh).
    level
        From ``hours_to_empty`` and the region's :class:`StatusThresholds`.
    hours_to_empty
        Hours until the oxygen on hand is used up at ``burn_m3_per_h`` (None: unknown).
    stock_m3, liquid_stock_m3, cylinders_stock_m3
        Oxygen on hand now, m³ of gas, in all and by product (None: unknown).
    burn_m3_per_h
        Use per hour (None: unknown); ``burn_basis`` says where it comes from.
    burn_basis
        ``"declared use"`` (the latest report's 24 h use) or ``"patients x flows"``, or
        ``"unknown"``.
    report_date, report_age_h
        The last good report used and its age at ``at`` (None: no report).
    in_transit_m3, next_arrival
        Confirmed-dispatched quantities not yet received and the earliest ETA among them.
    """

    facility_id: str
    name: str
    province_code: str
    at: dt.datetime
    level: Level
    hours_to_empty: float | None
    stock_m3: float | None
    liquid_stock_m3: float | None
    cylinders_stock_m3: float | None
    burn_m3_per_h: float | None
    burn_basis: str
    report_date: dt.date | None
    report_age_h: float | None
    in_transit_m3: float = 0.0
    next_arrival: dt.datetime | None = None


class RequestState(StrEnum):
    """States of an urgent request (SOS)."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    SOURCED = "sourced"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


REQUEST_TRANSITIONS: Mapping[RequestState, frozenset[RequestState]] = {
    RequestState.REQUESTED: frozenset(
        {RequestState.APPROVED, RequestState.REJECTED, RequestState.CANCELLED}
    ),
    RequestState.APPROVED: frozenset({RequestState.SOURCED, RequestState.CANCELLED}),
    RequestState.SOURCED: frozenset({RequestState.DISPATCHED, RequestState.CANCELLED}),
    RequestState.DISPATCHED: frozenset({RequestState.DELIVERED}),
    RequestState.REJECTED: frozenset(),
    RequestState.DELIVERED: frozenset(),
    RequestState.CANCELLED: frozenset(),
}
"""The allowed next states of each state; rejected, delivered and cancelled are final."""


class DeliveryState(StrEnum):
    """States of a planned delivery (a route stop, or an urgent request's trip)."""

    PLANNED = "planned"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


DELIVERY_TRANSITIONS: Mapping[DeliveryState, frozenset[DeliveryState]] = {
    DeliveryState.PLANNED: frozenset(
        {DeliveryState.IN_TRANSIT, DeliveryState.DELIVERED, DeliveryState.CANCELLED}
    ),
    DeliveryState.IN_TRANSIT: frozenset({DeliveryState.DELIVERED, DeliveryState.CANCELLED}),
    DeliveryState.DELIVERED: frozenset(),
    DeliveryState.CANCELLED: frozenset(),
}
"""The allowed next states of a delivery; a confirmed (delivered) one is final, so its quantity
is counted into the facility's stock exactly once."""


class PlanState(StrEnum):
    """A plan's hand-off: a coordinator approves it, then publishes it to dispatchers."""

    DRAFT = "draft"
    APPROVED = "approved"
    PUBLISHED = "published"


class AlertKind(StrEnum):
    """Why an alert was raised."""

    STOCK_CRITICAL = "stock_critical"
    STOCK_WARNING = "stock_warning"
    REPORT_MISSED = "report_missed"
    DELIVERY_LATE = "delivery_late"
    URGENT_REQUEST = "urgent_request"


@dataclass(frozen=True, slots=True)
class PlannedStop:
    """A planned or in-transit delivery of a vehicle today (a route stop), for insertions.

    ``quantity`` is kg of liquid oxygen or a number of cylinders, by ``product``; read from the
    ``deliveries`` table by the store, used by the sourcing of urgent requests.
    """

    delivery_id: int
    vehicle_id: str
    stop_index: int
    facility_id: str
    lon: float
    lat: float
    supplier_id: str | None
    product: Product
    quantity: float
    eta: dt.datetime
    state: str = "planned"
