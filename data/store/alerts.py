"""The store's part for alerts and webhooks: raise once, list, acknowledge, subscribe, log.

Issue 14 (live operations); the tables are in migration 0006. Each alert has a ``dedupe_key``
(unique): inserting a key that is already stored does nothing, so two scans at once raise each
alert once (:meth:`AlertStore.insert_alerts`). Stock alerts are raised once per *episode*: the
key carries the episode's number, and an episode ends when a scan sees the facility above the
threshold again (``details.recovered_at``); the next crossing opens episode n + 1
(docs/live-operations-alerts.md). Acknowledging is compare-and-set (a second one is 409) and
audited in the same transaction; so are a subscription's creation and end and every scan.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from data.db.models import (
    alerts,
    deliveries,
    facilities,
    webhook_deliveries,
    webhook_subscriptions,
)
from data.errors import ConflictError, InvalidInputError, RecordNotFoundError
from data.schema.live import AlertKind, DeliveryState, Level
from data.store.approvals import require_province
from data.store.base import StoreBase
from data.store.rows import aware_utc, inserted_id

STOCK_KINDS = (AlertKind.STOCK_CRITICAL, AlertKind.STOCK_WARNING)
MAX_NOTE_CHARS = 1000


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """An alert to raise (not stored yet); ``dedupe_key`` says which condition it is.

    ``details`` holds the figures of the messages (hours left, ETA, minutes late) and, for stock
    alerts, the ``episode`` number.
    """

    kind: AlertKind
    level: Level
    dedupe_key: str
    message_vi: str
    message_en: str
    facility_id: str | None = None
    province_code: str | None = None
    delivery_id: int | None = None
    request_id: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Alert:
    """A stored alert and, once a person acknowledged it, who, when and with what note."""

    alert_id: int
    kind: AlertKind
    level: Level
    dedupe_key: str
    message_vi: str
    message_en: str
    facility_id: str | None
    province_code: str | None
    delivery_id: int | None
    request_id: int | None
    details: Mapping[str, Any]
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_note: str | None = None


@dataclass(frozen=True, slots=True)
class StockEpisode:
    """The latest stock episode of one facility and kind: its number, and whether it is open."""

    number: int
    open: bool


@dataclass(frozen=True, slots=True)
class OpenDelivery:
    """A delivery still planned or in transit, with its facility's name (for late alerts)."""

    delivery_id: int
    facility_id: str
    facility_name: str
    province_code: str
    state: DeliveryState
    eta: dt.datetime
    planned_m3: float
    vehicle_id: str | None
    supplier_id: str | None


@dataclass(frozen=True, slots=True)
class WebhookSubscription:
    """Where a province's alerts are posted (its SMS or Zalo gateway); the secret signs them."""

    subscription_id: int
    province_code: str | None
    url: str
    secret: str
    kinds: tuple[AlertKind, ...]
    active: bool
    created_at: dt.datetime
    created_by: str

    def matches(self, alert: Alert) -> bool:
        """Return whether ``alert`` goes to this subscription (its province and kinds)."""
        in_province = self.province_code is None or self.province_code == alert.province_code
        return self.active and in_province and alert.kind in self.kinds


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """One attempt to post one alert to one subscription (the delivery log)."""

    attempt_id: int
    subscription_id: int
    alert_id: int
    attempt: int
    attempted_at: dt.datetime
    status_code: int | None
    error: str | None
    delivered: bool
    next_attempt_at: dt.datetime | None


def _alert(row: Mapping[Any, Any]) -> Alert:
    return Alert(
        alert_id=row["alert_id"],
        kind=AlertKind(row["kind"]),
        level=Level(row["level"]),
        dedupe_key=row["dedupe_key"],
        message_vi=row["message_vi"],
        message_en=row["message_en"],
        facility_id=row["facility_id"],
        province_code=row["province_code"],
        delivery_id=row["delivery_id"],
        request_id=row["request_id"],
        details=dict(row["details"] or {}),
        raised_at=aware_utc(row["raised_at"]),
        acknowledged_at=aware_utc(row["acknowledged_at"]),
        acknowledged_by=row["acknowledged_by"],
        acknowledged_note=row["acknowledged_note"],
    )


def _subscription(row: Mapping[Any, Any]) -> WebhookSubscription:
    return WebhookSubscription(
        subscription_id=row["subscription_id"],
        province_code=row["province_code"],
        url=row["url"],
        secret=row["secret"],
        kinds=tuple(AlertKind(k) for k in row["kinds"]),
        active=bool(row["active"]),
        created_at=aware_utc(row["created_at"]),
        created_by=row["created_by"],
    )


def _attempt(row: Mapping[Any, Any]) -> WebhookAttempt:
    return WebhookAttempt(
        attempt_id=row["attempt_id"],
        subscription_id=row["subscription_id"],
        alert_id=row["alert_id"],
        attempt=row["attempt"],
        attempted_at=aware_utc(row["attempted_at"]),
        status_code=row["status_code"],
        error=row["error"],
        delivered=bool(row["delivered"]),
        next_attempt_at=aware_utc(row["next_attempt_at"]),
    )


class AlertStore(StoreBase):
    """Repository functions for alerts, webhook subscriptions and their delivery log."""

    # ------------------------------------------------------------------ raising

    def insert_alerts(
        self,
        drafts: Sequence[AlertDraft],
        *,
        recovered: Iterable[tuple[str, AlertKind]] = (),
        actor: str = "system",
        scope: str = "all",
    ) -> list[Alert]:
        """Store the drafts whose ``dedupe_key`` is new and end recovered stock episodes.

        One transaction: each draft is inserted under a savepoint, and a key already stored
        (by this scan or a concurrent one) is skipped. ``recovered`` lists (facility, kind) whose
        open stock episode ends now (``details.recovered_at``). One audit row records the scan
        (``actor``, ``scope``, the keys raised).

        Returns
        -------
        list[Alert]
            The alerts stored by this call, in the order of ``drafts``.
        """
        now = self.clock()
        new_ids: list[int] = []
        with self._write() as connection:
            for draft in drafts:
                try:
                    with connection.begin_nested():
                        result = connection.execute(
                            insert(alerts).values(
                                kind=draft.kind.value,
                                level=draft.level.value,
                                facility_id=draft.facility_id,
                                province_code=draft.province_code,
                                delivery_id=draft.delivery_id,
                                request_id=draft.request_id,
                                dedupe_key=draft.dedupe_key,
                                message_vi=draft.message_vi,
                                message_en=draft.message_en,
                                details=dict(draft.details),
                                raised_at=now,
                            )
                        )
                        new_ids.append(inserted_id(result))
                except IntegrityError:
                    continue  # raised already: the dedupe key is unique
            self._end_episodes(connection, recovered, now)
            self._audit(
                connection,
                actor,
                "scan",
                "alerts",
                scope,
                {"raised": len(new_ids), "alert_ids": new_ids},
            )
            rows = connection.execute(
                select(alerts).where(alerts.c.alert_id.in_(new_ids)).order_by(alerts.c.alert_id)
            ).all()
        return [_alert(row._mapping) for row in rows]

    def _end_episodes(
        self, connection: Connection, recovered: Iterable[tuple[str, AlertKind]], now: dt.datetime
    ) -> None:
        for facility_id, kind in recovered:
            row = connection.execute(
                select(alerts.c.alert_id, alerts.c.details)
                .where(alerts.c.facility_id == facility_id, alerts.c.kind == kind.value)
                .order_by(alerts.c.alert_id.desc())
                .limit(1)
            ).first()
            if row is None or (row.details or {}).get("recovered_at") is not None:
                continue
            details = {**(row.details or {}), "recovered_at": now.astimezone(dt.UTC).isoformat()}
            connection.execute(
                update(alerts).where(alerts.c.alert_id == row.alert_id).values(details=details)
            )

    def stock_episodes(self) -> dict[tuple[str, AlertKind], StockEpisode]:
        """Return the latest stock episode of each (facility, stock kind) that ever had one."""
        latest = (
            select(func.max(alerts.c.alert_id))
            .where(alerts.c.kind.in_([k.value for k in STOCK_KINDS]))
            .group_by(alerts.c.facility_id, alerts.c.kind)
        )
        query = select(alerts.c.facility_id, alerts.c.kind, alerts.c.details).where(
            alerts.c.alert_id.in_(latest)
        )
        with self.engine.connect() as connection:
            return {
                (row.facility_id, AlertKind(row.kind)): StockEpisode(
                    number=int((row.details or {}).get("episode", 1)),
                    open=(row.details or {}).get("recovered_at") is None,
                )
                for row in connection.execute(query)
            }

    def open_deliveries(self, *, eta_before: dt.datetime) -> list[OpenDelivery]:
        """Return deliveries planned or in transit whose ETA is before ``eta_before``."""
        query = (
            select(
                deliveries.c.delivery_id,
                deliveries.c.facility_id,
                deliveries.c.state,
                deliveries.c.eta,
                deliveries.c.planned_m3,
                deliveries.c.vehicle_id,
                deliveries.c.supplier_id,
                facilities.c.name,
                facilities.c.province_code,
            )
            .join(facilities, facilities.c.facility_id == deliveries.c.facility_id)
            .where(
                deliveries.c.state.in_(
                    [DeliveryState.PLANNED.value, DeliveryState.IN_TRANSIT.value]
                ),
                deliveries.c.eta.is_not(None),
                deliveries.c.eta < eta_before,
            )
            .order_by(deliveries.c.delivery_id)
        )
        with self.engine.connect() as connection:
            return [
                OpenDelivery(
                    delivery_id=row.delivery_id,
                    facility_id=row.facility_id,
                    facility_name=row.name,
                    province_code=row.province_code,
                    state=DeliveryState(row.state),
                    eta=aware_utc(row.eta),
                    planned_m3=float(row.planned_m3),
                    vehicle_id=row.vehicle_id,
                    supplier_id=row.supplier_id,
                )
                for row in connection.execute(query)
            ]

    # ------------------------------------------------------------------ reading

    def list_alerts(
        self,
        *,
        since: dt.datetime | None = None,
        after_id: int | None = None,
        level: Level | None = None,
        province_code: str | None = None,
        facility_id: str | None = None,
        limit: int = 200,
    ) -> list[Alert]:
        """Return alerts raised at or after ``since`` and after ``after_id``, oldest first."""
        query = select(alerts).order_by(alerts.c.alert_id).limit(limit)
        if since is not None:
            query = query.where(alerts.c.raised_at >= since.astimezone(dt.UTC))
        if after_id is not None:
            query = query.where(alerts.c.alert_id > after_id)
        if level is not None:
            query = query.where(alerts.c.level == level.value)
        if province_code is not None:
            query = query.where(alerts.c.province_code == province_code)
        if facility_id is not None:
            query = query.where(alerts.c.facility_id == facility_id)
        with self.engine.connect() as connection:
            return [_alert(row._mapping) for row in connection.execute(query)]

    def last_alert_id(self) -> int:
        """Return the largest alert id stored (0 when there is none)."""
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.max(alerts.c.alert_id))).scalar() or 0)

    def get_alert(self, alert_id: int) -> Alert:
        """Return one alert.

        Raises
        ------
        RecordNotFoundError
            If there is no alert ``alert_id``.
        """
        with self.engine.connect() as connection:
            row = connection.execute(select(alerts).where(alerts.c.alert_id == alert_id)).first()
        if row is None:
            raise RecordNotFoundError(f"alert_id: no alert {alert_id}")
        return _alert(row._mapping)

    # ------------------------------------------------------------------ acknowledging

    def acknowledge_alert(self, alert_id: int, *, actor: str, note: str) -> Alert:
        """Record that ``actor`` has seen the alert and what they do about it (audited).

        Raises
        ------
        InvalidInputError
            If ``note`` is blank or longer than 1,000 characters.
        RecordNotFoundError
            If there is no alert ``alert_id``.
        ConflictError
            If the alert is already acknowledged (the first acknowledgement stays).
        """
        if not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE_CHARS:
            raise InvalidInputError(
                f"note: say what is done about the alert (1-{MAX_NOTE_CHARS} characters)"
            )
        now = self.clock()
        with self._write() as connection:
            done = connection.execute(
                update(alerts)
                .where(alerts.c.alert_id == alert_id, alerts.c.acknowledged_at.is_(None))
                .values(acknowledged_at=now, acknowledged_by=actor, acknowledged_note=note.strip())
            )
            row = connection.execute(select(alerts).where(alerts.c.alert_id == alert_id)).first()
            if row is None:
                raise RecordNotFoundError(f"alert_id: no alert {alert_id}")
            if done.rowcount != 1:
                raise ConflictError(
                    f"alert_id: alert {alert_id} was already acknowledged by "
                    f"{row.acknowledged_by} at {aware_utc(row.acknowledged_at).isoformat()}"
                )
            self._audit(
                connection, actor, "acknowledge", "alerts", str(alert_id), {"note": note.strip()}
            )
        return _alert(row._mapping)

    # ------------------------------------------------------------------ webhooks

    def create_webhook(
        self,
        *,
        url: str,
        province_code: str | None,
        kinds: Sequence[AlertKind],
        actor: str,
    ) -> WebhookSubscription:
        """Store a subscription with a new random secret (256 bits; audited without it)."""
        now = self.clock()
        secret = "whsec_" + secrets.token_urlsafe(32)
        with self._write() as connection:
            if province_code is not None:
                require_province(connection, province_code)
            subscription_id = inserted_id(
                connection.execute(
                    insert(webhook_subscriptions).values(
                        province_code=province_code,
                        url=url,
                        secret=secret,
                        kinds=[k.value for k in kinds],
                        active=True,
                        created_at=now,
                        created_by=actor,
                    )
                )
            )
            self._audit(
                connection,
                actor,
                "create",
                "webhook_subscriptions",
                str(subscription_id),
                {"url": url, "province_code": province_code, "kinds": [k.value for k in kinds]},
            )
        return self.get_webhook(subscription_id)

    def get_webhook(self, subscription_id: int) -> WebhookSubscription:
        """Return one subscription (ended ones too).

        Raises
        ------
        RecordNotFoundError
            If there is no subscription ``subscription_id``.
        """
        with self.engine.connect() as connection:
            row = connection.execute(
                select(webhook_subscriptions).where(
                    webhook_subscriptions.c.subscription_id == subscription_id
                )
            ).first()
        if row is None:
            raise RecordNotFoundError(f"subscription_id: no webhook subscription {subscription_id}")
        return _subscription(row._mapping)

    def list_webhooks(
        self, *, province_code: str | None = None, active_only: bool = True
    ) -> list[WebhookSubscription]:
        """Return subscriptions (of one province, or all when None), by id."""
        query = select(webhook_subscriptions).order_by(webhook_subscriptions.c.subscription_id)
        if province_code is not None:
            query = query.where(webhook_subscriptions.c.province_code == province_code)
        if active_only:
            query = query.where(webhook_subscriptions.c.active.is_(True))
        with self.engine.connect() as connection:
            return [_subscription(row._mapping) for row in connection.execute(query)]

    def end_webhook(self, subscription_id: int, *, actor: str) -> WebhookSubscription:
        """Stop posting to a subscription (its delivery log stays; audited).

        Raises
        ------
        RecordNotFoundError
            If there is no subscription ``subscription_id``.
        ConflictError
            If it has already ended.
        """
        with self._write() as connection:
            done = connection.execute(
                update(webhook_subscriptions)
                .where(
                    webhook_subscriptions.c.subscription_id == subscription_id,
                    webhook_subscriptions.c.active.is_(True),
                )
                .values(active=False)
            )
            if done.rowcount != 1:
                self.get_webhook(subscription_id)  # 404 if unknown
                raise ConflictError(
                    f"subscription_id: webhook subscription {subscription_id} has already ended"
                )
            self._audit(connection, actor, "delete", "webhook_subscriptions", str(subscription_id))
        return self.get_webhook(subscription_id)

    def record_webhook_attempt(
        self,
        *,
        subscription_id: int,
        alert_id: int,
        attempt: int,
        status_code: int | None,
        error: str | None,
        delivered: bool,
        next_attempt_at: dt.datetime | None,
        attempted_at: dt.datetime | None = None,
    ) -> WebhookAttempt:
        """Log one attempt (``next_attempt_at``: when to retry; None: no retry)."""
        with self._write() as connection:
            attempt_id = inserted_id(
                connection.execute(
                    insert(webhook_deliveries).values(
                        subscription_id=subscription_id,
                        alert_id=alert_id,
                        attempt=attempt,
                        attempted_at=attempted_at or self.clock(),
                        status_code=status_code,
                        error=None if error is None else error[:1000],
                        delivered=delivered,
                        next_attempt_at=next_attempt_at,
                    )
                )
            )
            row = connection.execute(
                select(webhook_deliveries).where(webhook_deliveries.c.attempt_id == attempt_id)
            ).one()
        return _attempt(row._mapping)

    def list_webhook_attempts(
        self, subscription_id: int, *, limit: int = 200
    ) -> list[WebhookAttempt]:
        """Return the delivery log of one subscription, newest first."""
        query = (
            select(webhook_deliveries)
            .where(webhook_deliveries.c.subscription_id == subscription_id)
            .order_by(webhook_deliveries.c.attempt_id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [_attempt(row._mapping) for row in connection.execute(query)]

    def pending_webhook_work(
        self, subscription: WebhookSubscription, *, at: dt.datetime, limit: int = 100
    ) -> list[tuple[Alert, int]]:
        """Return (alert, attempt number) due for ``subscription`` at ``at``.

        Due are the matching alerts raised since the subscription began that have no attempt
        yet (attempt 1), and those whose last attempt failed with a retry time at or before
        ``at`` (the next attempt).
        """
        last = (
            select(
                webhook_deliveries.c.alert_id,
                func.max(webhook_deliveries.c.attempt_id).label("attempt_id"),
            )
            .where(webhook_deliveries.c.subscription_id == subscription.subscription_id)
            .group_by(webhook_deliveries.c.alert_id)
            .subquery()
        )
        latest = webhook_deliveries.alias("latest")
        query = (
            select(alerts, latest.c.attempt, latest.c.delivered, latest.c.next_attempt_at)
            .outerjoin(last, last.c.alert_id == alerts.c.alert_id)
            .outerjoin(latest, latest.c.attempt_id == last.c.attempt_id)
            .where(
                alerts.c.raised_at >= subscription.created_at,
                alerts.c.kind.in_([k.value for k in subscription.kinds]),
                or_(
                    latest.c.attempt_id.is_(None),
                    and_(
                        latest.c.delivered.is_(False),
                        latest.c.next_attempt_at.is_not(None),
                        latest.c.next_attempt_at <= at.astimezone(dt.UTC),
                    ),
                ),
            )
            .order_by(alerts.c.alert_id)
            .limit(limit)
        )
        if subscription.province_code is not None:
            query = query.where(alerts.c.province_code == subscription.province_code)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [(_alert(row._mapping), int(row.attempt or 0) + 1) for row in rows]
