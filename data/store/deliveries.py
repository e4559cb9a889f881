"""The store's part for planned deliveries, proof of delivery and plans' hand-off (issue 14).

A plan's hand-off is a row of ``plan_states`` (draft -> approved -> published); publishing turns
the plan's route stops into ``deliveries`` rows (planned -> in transit -> delivered, or
cancelled). Every state change is compare-and-set on the row's ``version`` (``UPDATE ... WHERE
version = :seen``; no row changed: :class:`~data.errors.ConflictError`, 409) and leaves one audit
row in the same transaction. A confirmed (delivered) delivery is final, so its received quantity
is counted into the facility's stock exactly once. Tables: migration 0006.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from data.db.models import deliveries, facilities, plan_states, suppliers, urgent_requests
from data.errors import ConflictError, InvalidInputError, RecordNotFoundError
from data.reporting import LOCAL_TZ
from data.schema.live import DELIVERY_TRANSITIONS, DeliveryState, PlanState, Product
from data.store.base import StoreBase
from data.store.rows import aware_utc, inserted_id
from data.units import OxygenConversions

MAX_PROOF_BYTES = 2 * 1024 * 1024
"""Largest proof-of-delivery image (photo or signature), 2 MiB: a phone photo at 1600 px."""

PROOF_TYPES: Mapping[bytes, str] = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}
"""Magic bytes of the accepted proof images and their media type (the header is not trusted)."""

MAX_TEXT_CHARS = 1000


@dataclass(frozen=True, slots=True)
class PlanHandoff:
    """A plan's hand-off state: who created, approved and published it, and when (UTC)."""

    plan_id: str
    region: str
    province_code: str | None
    plan_date: dt.date
    state: PlanState
    created_at: dt.datetime
    created_by: str
    approved_at: dt.datetime | None
    approved_by: str | None
    published_at: dt.datetime | None
    published_by: str | None
    version: int


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """A delivery to create: one drop stop of a published plan's routes.

    ``planned_liquid_kg`` (kg of liquid oxygen) is set for :attr:`Product.LIQUID`,
    ``planned_cylinders`` for :attr:`Product.CYLINDERS`; ``planned_m3`` is the same quantity as
    m³ of gas; ``eta`` is an aware instant.
    """

    facility_id: str
    supplier_id: str | None
    plan_id: str | None
    routes_id: str | None
    vehicle_id: str | None
    stop_index: int | None
    product: Product
    planned_liquid_kg: float | None
    planned_cylinders: int | None
    planned_m3: float
    eta: dt.datetime | None
    request_id: int | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A stored delivery with its facility's and supplier's names (shown beside the ids).

    Instants are aware UTC. ``received_*`` and ``receiver_name`` are set once it is confirmed;
    ``has_proof`` says whether a photo or signature was attached.
    """

    delivery_id: int
    facility_id: str
    facility_name: str
    province_code: str
    supplier_id: str | None
    supplier_name: str | None
    plan_id: str | None
    routes_id: str | None
    vehicle_id: str | None
    stop_index: int | None
    request_id: int | None
    product: Product
    planned_liquid_kg: float | None
    planned_cylinders: int | None
    planned_m3: float
    eta: dt.datetime | None
    state: DeliveryState
    dispatched_at: dt.datetime | None
    received_at: dt.datetime | None
    received_liquid_kg: float | None
    received_cylinders: int | None
    received_m3: float | None
    receiver_name: str | None
    note: str | None
    has_proof: bool
    confirmed_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @property
    def shortfall(self) -> dict[str, float] | None:
        """Planned minus received, in the product's unit and in m³; None if none or unconfirmed."""
        if self.state != DeliveryState.DELIVERED or self.received_m3 is None:
            return None
        if self.product == Product.LIQUID:
            missing = (self.planned_liquid_kg or 0.0) - (self.received_liquid_kg or 0.0)
            unit = "liquid_kg"
        else:
            missing = float((self.planned_cylinders or 0) - (self.received_cylinders or 0))
            unit = "cylinders"
        if missing <= 0:
            return None
        return {unit: round(missing, 3), "m3": round(self.planned_m3 - self.received_m3, 3)}


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the driver or the receiving facility confirms (proof of delivery).

    Exactly one of ``received_liquid_kg`` (kg of liquid oxygen) and ``received_cylinders``
    (full cylinders), matching the delivery's product; ``received_m3`` is the same as gas.
    ``proof`` is a JPEG or PNG image (checked by :func:`proof_content_type`) or None. The
    received m³ of gas follow from the delivery's own planned m³ per kg or per cylinder.
    """

    received_liquid_kg: float | None
    received_cylinders: int | None
    received_at: dt.datetime
    receiver_name: str
    note: str | None = None
    proof: bytes | None = None


@dataclass(frozen=True, slots=True)
class PublishResult:
    """A publish: the plan's new state, the deliveries it created and those already there."""

    plan: PlanHandoff
    created: tuple[Delivery, ...]
    existing: int


@dataclass(frozen=True, slots=True)
class SupplierReconciliation:
    """One supplier's day: dispatched against received (kg of liquid, cylinders, m³ of gas).

    Dispatched counts deliveries that left (in transit or confirmed); received and shortfalls
    count confirmed ones. ``supplier_id`` None: suppliers not in the registry.
    """

    supplier_id: str | None
    supplier_name: str | None
    deliveries_planned: int
    deliveries_dispatched: int
    deliveries_received: int
    dispatched_liquid_kg: float
    received_liquid_kg: float
    dispatched_cylinders: int
    received_cylinders: int
    dispatched_m3: float
    received_m3: float
    shortfalls: int
    shortfall_m3: float
    shortfall_facilities: tuple[str, ...]


def proof_content_type(content: bytes) -> str | None:
    """Return the media type of a proof image from its magic bytes (None: not JPEG or PNG)."""
    for magic, media_type in PROOF_TYPES.items():
        if content.startswith(magic):
            return media_type
    return None


def _plan_from_row(row: Mapping[Any, Any]) -> PlanHandoff:
    return PlanHandoff(
        plan_id=row["plan_id"],
        region=row["region"],
        province_code=row["province_code"],
        plan_date=row["plan_date"],
        state=PlanState(row["state"]),
        created_at=aware_utc(row["created_at"]),
        created_by=row["created_by"],
        approved_at=aware_utc(row["approved_at"]),
        approved_by=row["approved_by"],
        published_at=aware_utc(row["published_at"]),
        published_by=row["published_by"],
        version=row["version"],
    )


_DELIVERY_COLUMNS = [c for c in deliveries.c if c.name != "proof"]


def _delivery_query() -> Any:
    return (
        select(
            *_DELIVERY_COLUMNS,
            (deliveries.c.proof_content_type.is_not(None)).label("has_proof"),
            facilities.c.name.label("facility_name"),
            facilities.c.province_code.label("province_code"),
            suppliers.c.name.label("supplier_name"),
        )
        .join(facilities, facilities.c.facility_id == deliveries.c.facility_id)
        .outerjoin(suppliers, suppliers.c.supplier_id == deliveries.c.supplier_id)
    )


def _delivery_from_row(row: Mapping[Any, Any]) -> Delivery:
    return Delivery(
        delivery_id=row["delivery_id"],
        facility_id=row["facility_id"],
        facility_name=row["facility_name"],
        province_code=row["province_code"],
        supplier_id=row["supplier_id"],
        supplier_name=row["supplier_name"],
        plan_id=row["plan_id"],
        routes_id=row["routes_id"],
        vehicle_id=row["vehicle_id"],
        stop_index=row["stop_index"],
        request_id=row["request_id"],
        product=Product(row["product"]),
        planned_liquid_kg=row["planned_liquid_kg"],
        planned_cylinders=row["planned_cylinders"],
        planned_m3=row["planned_m3"],
        eta=aware_utc(row["eta"]),
        state=DeliveryState(row["state"]),
        dispatched_at=aware_utc(row["dispatched_at"]),
        received_at=aware_utc(row["received_at"]),
        received_liquid_kg=row["received_liquid_kg"],
        received_cylinders=row["received_cylinders"],
        received_m3=row["received_m3"],
        receiver_name=row["receiver_name"],
        note=row["note"],
        has_proof=bool(row["has_proof"]),
        confirmed_by=row["confirmed_by"],
        created_at=aware_utc(row["created_at"]),
        updated_at=aware_utc(row["updated_at"]),
        version=row["version"],
    )


def _local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC instants at which the Asia/Ho_Chi_Minh day ``day`` starts and ends."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL_TZ).astimezone(dt.UTC)
    return start, start + dt.timedelta(days=1)


def _stale(what: str, seen: int | None, row: Any) -> ConflictError:
    return ConflictError(
        f"version: {what} changed since it was read (sent version {seen}, now {row.version}, "
        f"state {row.state}); read it again and retry"
    )


def _check_receipt(delivery: Delivery, receipt: Receipt) -> None:
    """Refuse a receipt whose quantity does not fit the delivery's product (422, every problem)."""
    problems = []
    if delivery.product == Product.LIQUID:
        value: Any = receipt.received_liquid_kg
        if receipt.received_cylinders is not None:
            problems.append("received_cylinders: this delivery is liquid; give received_liquid_kg")
        if value is None or not 0 <= value < 1e6:
            problems.append(f"received_liquid_kg: kg received, 0 to 1,000,000, got {value!r}")
    else:
        value = receipt.received_cylinders
        if receipt.received_liquid_kg is not None:
            problems.append(
                "received_liquid_kg: this delivery is cylinders; give received_cylinders"
            )
        if value is None or not 0 <= value < 100_000:
            problems.append(f"received_cylinders: full cylinders received, got {value!r}")
    if not receipt.receiver_name.strip() or len(receipt.receiver_name) > 200:
        problems.append("receiver_name: who received it (1-200 characters)")
    if receipt.note is not None and len(receipt.note) > MAX_TEXT_CHARS:
        problems.append(f"note: at most {MAX_TEXT_CHARS} characters")
    if receipt.received_at.tzinfo is None:
        problems.append("received_at: give a time zone (e.g. +07:00)")
    if problems:
        raise InvalidInputError.from_problems("delivery confirmation", problems)


def _received_m3(delivery: Delivery, receipt: Receipt) -> float:
    """Return the received quantity as m³ of gas, at the delivery's planned m³ per unit.

    The planned ratio keeps a full receipt exactly equal to the plan (no shortfall by rounding)
    and the cylinder size of the plan; without a planned quantity, the default factors apply
    (:class:`~data.units.OxygenConversions`: 700 m³ per tonne, 6 m³ per 40 L cylinder).
    """
    if delivery.product == Product.LIQUID:
        received = receipt.received_liquid_kg or 0.0
        planned = delivery.planned_liquid_kg or 0.0
        default = OxygenConversions().lox_t_to_gas_m3(received / 1000.0)
    else:
        received = float(receipt.received_cylinders or 0)
        planned = float(delivery.planned_cylinders or 0)
        default = OxygenConversions().cylinders_to_gas_m3(received)
    if planned > 0:
        return round(received * delivery.planned_m3 / planned, 3)
    return round(default, 3)


class DeliveryStore(StoreBase):
    """Repository functions for deliveries, proof of delivery and plan states."""

    # ------------------------------------------------------------------ plan hand-off

    def register_plan(
        self,
        plan_id: str,
        *,
        region: str,
        province_code: str | None,
        plan_date: dt.date,
        actor: str,
        created_at: dt.datetime | None = None,
    ) -> PlanHandoff:
        """Record a new plan as a draft (audited); an already registered plan is returned as is.

        ``created_at`` (aware; default: now) is when the plan was computed: a plan stored before
        its hand-off row (issue 14) keeps the time of its ``meta.json``.
        """
        with self._write() as connection:
            row = connection.execute(
                select(plan_states).where(plan_states.c.plan_id == plan_id)
            ).first()
            if row is None:
                connection.execute(
                    insert(plan_states).values(
                        plan_id=plan_id,
                        region=region,
                        province_code=province_code,
                        plan_date=plan_date,
                        state=PlanState.DRAFT.value,
                        created_at=(created_at or self.clock()).astimezone(dt.UTC),
                        created_by=actor,
                        version=1,
                    )
                )
                self._audit(connection, actor, "create", "plan_states", plan_id, {"state": "draft"})
                row = connection.execute(
                    select(plan_states).where(plan_states.c.plan_id == plan_id)
                ).one()
        return _plan_from_row(row._mapping)

    def get_plan_state(self, plan_id: str) -> PlanHandoff | None:
        """Return a plan's hand-off state (None: the plan has no hand-off row yet)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(plan_states).where(plan_states.c.plan_id == plan_id)
            ).first()
        return None if row is None else _plan_from_row(row._mapping)

    def list_plan_states(
        self,
        *,
        region: str | None = None,
        plan_date: dt.date | None = None,
        states: Sequence[PlanState] | None = None,
        province_code: str | None = None,
        limit: int = 100,
    ) -> list[PlanHandoff]:
        """Return plans' hand-off states, newest first (by creation), filtered."""
        query = select(plan_states).order_by(plan_states.c.created_at.desc(), plan_states.c.plan_id)
        if region is not None:
            query = query.where(plan_states.c.region == region)
        if plan_date is not None:
            query = query.where(plan_states.c.plan_date == plan_date)
        if states is not None:
            query = query.where(plan_states.c.state.in_([s.value for s in states]))
        if province_code is not None:
            query = query.where(plan_states.c.province_code == province_code)
        with self.engine.connect() as connection:
            rows = connection.execute(query.limit(limit)).all()
        return [_plan_from_row(row._mapping) for row in rows]

    def _move_plan(
        self,
        connection: Connection,
        plan_id: str,
        *,
        source: PlanState,
        target: PlanState,
        actor: str,
        seen_version: int | None,
    ) -> None:
        """Compare-and-set a plan's state from ``source`` to ``target`` (audited)."""
        row = connection.execute(
            select(plan_states).where(plan_states.c.plan_id == plan_id)
        ).first()
        if row is None:
            raise RecordNotFoundError(f"plan_id: no plan {plan_id!r}")
        if row.state != source.value:
            needs = "approved" if target == PlanState.PUBLISHED else "a draft"
            raise ConflictError(
                f"state: plan {plan_id} is {row.state}; to be {target.value} it must be {needs}"
            )
        version = row.version if seen_version is None else seen_version
        prefix = "approved" if target == PlanState.APPROVED else "published"
        changed = connection.execute(
            update(plan_states)
            .where(
                and_(
                    plan_states.c.plan_id == plan_id,
                    plan_states.c.version == version,
                    plan_states.c.state == source.value,
                )
            )
            .values(
                state=target.value,
                version=version + 1,
                **{f"{prefix}_at": self.clock().astimezone(dt.UTC), f"{prefix}_by": actor},
            )
        ).rowcount
        if changed != 1:
            raise _stale(f"plan {plan_id}", seen_version, row)
        detail = {"from": source.value, "to": target.value, "version": version + 1}
        self._audit(connection, actor, target.value, "plan_states", plan_id, detail)

    def approve_plan(
        self, plan_id: str, *, actor: str, seen_version: int | None = None
    ) -> PlanHandoff:
        """Approve a draft plan (compare-and-set on ``seen_version`` when given; audited).

        Raises
        ------
        RecordNotFoundError
            If the plan has no hand-off row.
        ConflictError
            If the plan is not a draft, or its version is not ``seen_version``.
        """
        with self._write() as connection:
            self._move_plan(
                connection,
                plan_id,
                source=PlanState.DRAFT,
                target=PlanState.APPROVED,
                actor=actor,
                seen_version=seen_version,
            )
            row = connection.execute(
                select(plan_states).where(plan_states.c.plan_id == plan_id)
            ).one()
        return _plan_from_row(row._mapping)

    def publish_plan(
        self,
        plan_id: str,
        planned: Sequence[PlannedDelivery],
        *,
        actor: str,
        seen_version: int | None = None,
    ) -> PublishResult:
        """Publish an approved plan and create its planned deliveries in one transaction.

        Publishing a plan that is already published adds the deliveries of ``planned`` that are
        not there yet (routes of another day) and changes nothing else: each route stop becomes
        one delivery once (unique routes, vehicle, stop).

        Raises
        ------
        RecordNotFoundError
            If the plan has no hand-off row.
        InvalidInputError
            If a stop's facility is not in the registry (nothing is stored).
        ConflictError
            If the plan is a draft (approve it first) or its version is not ``seen_version``.
        """
        with self._write() as connection:
            row = connection.execute(
                select(plan_states).where(plan_states.c.plan_id == plan_id)
            ).first()
            if row is None:
                raise RecordNotFoundError(f"plan_id: no plan {plan_id!r}")
            if row.state == PlanState.PUBLISHED.value:
                if seen_version is not None and seen_version != row.version:
                    raise _stale(f"plan {plan_id}", seen_version, row)
            else:
                self._move_plan(
                    connection,
                    plan_id,
                    source=PlanState.APPROVED,
                    target=PlanState.PUBLISHED,
                    actor=actor,
                    seen_version=seen_version,
                )
            created_ids, existing = self._insert_planned(connection, planned, actor=actor)
            plan_row = connection.execute(
                select(plan_states).where(plan_states.c.plan_id == plan_id)
            ).one()
            rows = connection.execute(
                _delivery_query().where(deliveries.c.delivery_id.in_(created_ids))
            ).all()
        created = tuple(
            sorted((_delivery_from_row(r._mapping) for r in rows), key=lambda d: d.delivery_id)
        )
        return PublishResult(_plan_from_row(plan_row._mapping), created, existing)

    def _insert_planned(
        self, connection: Connection, planned: Sequence[PlannedDelivery], *, actor: str
    ) -> tuple[list[int], int]:
        """Insert the deliveries not yet stored; return their ids and how many were there."""
        known = {
            r.facility_id
            for r in connection.execute(
                select(facilities.c.facility_id).where(
                    facilities.c.facility_id.in_({p.facility_id for p in planned})
                )
            )
        }
        missing = sorted({p.facility_id for p in planned} - known)
        if missing:
            raise InvalidInputError(
                f"routes: facilities {missing} are not in the registry; register them (or "
                "route a plan made from the registry) before publishing"
            )
        now = self.clock().astimezone(dt.UTC)
        created: list[int] = []
        existing = 0
        for item in planned:
            found = connection.execute(
                select(deliveries.c.delivery_id).where(
                    and_(
                        deliveries.c.routes_id == item.routes_id,
                        deliveries.c.vehicle_id == item.vehicle_id,
                        deliveries.c.stop_index == item.stop_index,
                    )
                )
            ).first()
            if found is not None and item.routes_id is not None:
                existing += 1
                continue
            delivery_id = self._insert_delivery(connection, item, now)
            self._audit(
                connection,
                actor,
                "plan",
                "deliveries",
                str(delivery_id),
                {"state": "planned", "plan_id": item.plan_id, "routes_id": item.routes_id},
            )
            created.append(delivery_id)
        return created, existing

    def _insert_delivery(
        self, connection: Connection, item: PlannedDelivery, now: dt.datetime
    ) -> int:
        values = {
            "facility_id": item.facility_id,
            "supplier_id": item.supplier_id,
            "plan_id": item.plan_id,
            "routes_id": item.routes_id,
            "vehicle_id": item.vehicle_id,
            "stop_index": item.stop_index,
            "request_id": item.request_id,
            "product": item.product.value,
            "planned_liquid_kg": item.planned_liquid_kg,
            "planned_cylinders": item.planned_cylinders,
            "planned_m3": item.planned_m3,
            "eta": None if item.eta is None else item.eta.astimezone(dt.UTC),
            "state": DeliveryState.PLANNED.value,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        try:
            with connection.begin_nested():
                return inserted_id(connection.execute(insert(deliveries).values(**values)))
        except IntegrityError:
            raise ConflictError(
                f"routes_id: stop {item.stop_index} of vehicle {item.vehicle_id} of routes "
                f"{item.routes_id} is already a delivery (published concurrently); retry"
            ) from None

    def create_delivery(self, item: PlannedDelivery, *, actor: str) -> Delivery:
        """Create one planned delivery (an urgent request's trip, or a stop), audited.

        Raises
        ------
        InvalidInputError
            If its facility is not in the registry.
        ConflictError
            If its route stop is already a delivery.
        """
        with self._write() as connection:
            created, existing = self._insert_planned(connection, [item], actor=actor)
            if existing:
                raise ConflictError(
                    f"stop_index: stop {item.stop_index} of vehicle {item.vehicle_id} of routes "
                    f"{item.routes_id} is already a delivery"
                )
            row = connection.execute(
                _delivery_query().where(deliveries.c.delivery_id == created[0])
            ).one()
        return _delivery_from_row(row._mapping)

    # ------------------------------------------------------------------ deliveries

    def get_delivery(self, delivery_id: int) -> Delivery:
        """Return one delivery.

        Raises
        ------
        RecordNotFoundError
            If there is no delivery ``delivery_id``.
        """
        with self.engine.connect() as connection:
            row = connection.execute(
                _delivery_query().where(deliveries.c.delivery_id == delivery_id)
            ).first()
        if row is None:
            raise RecordNotFoundError(f"delivery_id: no delivery {delivery_id}")
        return _delivery_from_row(row._mapping)

    def list_deliveries(
        self,
        *,
        facility_id: str | None = None,
        province_code: str | None = None,
        plan_id: str | None = None,
        states: Sequence[DeliveryState] | None = None,
        on_date: dt.date | None = None,
        shortfall_only: bool = False,
        limit: int = 1000,
    ) -> list[Delivery]:
        """Return deliveries by ETA (earliest first), filtered.

        ``on_date`` keeps the deliveries whose ETA falls on that Asia/Ho_Chi_Minh day;
        ``shortfall_only`` the confirmed ones that received less than planned.
        """
        query = _delivery_query().order_by(deliveries.c.eta, deliveries.c.delivery_id)
        if facility_id is not None:
            query = query.where(deliveries.c.facility_id == facility_id)
        if province_code is not None:
            query = query.where(facilities.c.province_code == province_code)
        if plan_id is not None:
            query = query.where(deliveries.c.plan_id == plan_id)
        if states is not None:
            query = query.where(deliveries.c.state.in_([s.value for s in states]))
        if on_date is not None:
            start, end = _local_day_bounds(on_date)
            query = query.where(and_(deliveries.c.eta >= start, deliveries.c.eta < end))
        if shortfall_only:
            # Short deliveries are confirmed ones; which of them are short is decided per row.
            query = query.where(deliveries.c.state == DeliveryState.DELIVERED.value)
        else:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        found = [_delivery_from_row(row._mapping) for row in rows]
        if shortfall_only:
            found = [d for d in found if d.shortfall is not None]
        return found[:limit]

    def dispatch_delivery(
        self, delivery_id: int, *, actor: str, seen_version: int | None = None
    ) -> Delivery:
        """Mark a planned delivery in transit (compare-and-set, audited).

        Raises
        ------
        RecordNotFoundError
            If there is no such delivery.
        ConflictError
            If it is not planned, or its version is not ``seen_version``.
        """
        with self._write() as connection:
            now = self.clock().astimezone(dt.UTC)
            self._move_delivery(
                connection,
                delivery_id,
                DeliveryState.IN_TRANSIT,
                actor=actor,
                seen_version=seen_version,
                values={"dispatched_at": now},
            )
            row = connection.execute(
                _delivery_query().where(deliveries.c.delivery_id == delivery_id)
            ).one()
        return _delivery_from_row(row._mapping)

    def cancel_delivery(
        self, delivery_id: int, *, actor: str, reason: str, seen_version: int | None = None
    ) -> Delivery:
        """Cancel a delivery that was not confirmed (compare-and-set, audited with the reason)."""
        if not reason.strip() or len(reason) > MAX_TEXT_CHARS:
            raise InvalidInputError(f"reason: why it is cancelled (1-{MAX_TEXT_CHARS} characters)")
        with self._write() as connection:
            self._move_delivery(
                connection,
                delivery_id,
                DeliveryState.CANCELLED,
                actor=actor,
                seen_version=seen_version,
                values={"note": reason.strip()},
            )
            row = connection.execute(
                _delivery_query().where(deliveries.c.delivery_id == delivery_id)
            ).one()
        return _delivery_from_row(row._mapping)

    def _move_delivery(
        self,
        connection: Connection,
        delivery_id: int,
        target: DeliveryState,
        *,
        actor: str,
        seen_version: int | None,
        values: Mapping[str, Any],
    ) -> Any:
        """Compare-and-set a delivery to ``target`` if the transition is allowed (audited)."""
        row = connection.execute(
            select(deliveries.c.state, deliveries.c.version).where(
                deliveries.c.delivery_id == delivery_id
            )
        ).first()
        if row is None:
            raise RecordNotFoundError(f"delivery_id: no delivery {delivery_id}")
        source = DeliveryState(row.state)
        if target not in DELIVERY_TRANSITIONS[source]:
            final = " (a confirmed delivery is counted once)" if source.value == "delivered" else ""
            raise ConflictError(
                f"state: delivery {delivery_id} is {source.value}; it cannot become "
                f"{target.value}{final}"
            )
        version = row.version if seen_version is None else seen_version
        changed = connection.execute(
            update(deliveries)
            .where(
                and_(
                    deliveries.c.delivery_id == delivery_id,
                    deliveries.c.version == version,
                    deliveries.c.state == source.value,
                )
            )
            .values(
                state=target.value,
                version=version + 1,
                updated_at=self.clock().astimezone(dt.UTC),
                **values,
            )
        ).rowcount
        if changed != 1:
            raise _stale(f"delivery {delivery_id}", seen_version, row)
        detail = {"from": source.value, "to": target.value, "version": version + 1}
        self._audit(connection, actor, target.value, "deliveries", str(delivery_id), detail)
        return row

    def confirm_delivery(
        self,
        delivery_id: int,
        receipt: Receipt,
        *,
        actor: str,
        seen_version: int | None = None,
    ) -> Delivery:
        """Confirm a delivery with what was received (proof of delivery), audited.

        When the delivery carries an urgent request, the same transaction moves the request to
        delivered (audited too).

        Raises
        ------
        RecordNotFoundError
            If there is no such delivery.
        InvalidInputError
            If the quantity does not fit the product, or a text is blank or too long.
        ConflictError
            If it is already confirmed or cancelled (stock is never counted twice), its version
            is not ``seen_version``, or its urgent request is not sourced or dispatched.
        """
        delivery = self.get_delivery(delivery_id)
        _check_receipt(delivery, receipt)
        proof_type = None if receipt.proof is None else proof_content_type(receipt.proof)
        if receipt.proof is not None and proof_type is None:
            raise InvalidInputError("proof: a JPEG or PNG image is expected")
        with self._write() as connection:
            self._move_delivery(
                connection,
                delivery_id,
                DeliveryState.DELIVERED,
                actor=actor,
                seen_version=seen_version,
                values={
                    "received_at": receipt.received_at.astimezone(dt.UTC),
                    "received_liquid_kg": receipt.received_liquid_kg,
                    "received_cylinders": receipt.received_cylinders,
                    "received_m3": _received_m3(delivery, receipt),
                    "receiver_name": receipt.receiver_name.strip(),
                    "note": receipt.note,
                    "proof": receipt.proof,
                    "proof_content_type": proof_type,
                    "confirmed_by": actor,
                },
            )
            if delivery.request_id is not None:
                self._deliver_request(connection, delivery.request_id, delivery_id, actor=actor)
            row = connection.execute(
                _delivery_query().where(deliveries.c.delivery_id == delivery_id)
            ).one()
        return _delivery_from_row(row._mapping)

    def _deliver_request(
        self, connection: Connection, request_id: int, delivery_id: int, *, actor: str
    ) -> None:
        """Move an urgent request to delivered with its delivery's confirmation (audited).

        A sourced request passes through dispatched (its two transitions both audited): the
        goods arrived, whatever step the request's board missed.
        """
        row = connection.execute(
            select(urgent_requests.c.state, urgent_requests.c.version).where(
                urgent_requests.c.request_id == request_id
            )
        ).one()
        path = {"sourced": ["dispatched", "delivered"], "dispatched": ["delivered"]}.get(row.state)
        if path is None:
            raise ConflictError(
                f"request_id: urgent request {request_id} is {row.state}; only a sourced or "
                "dispatched request can be delivered"
            )
        version = row.version
        source = row.state
        for target in path:
            changed = connection.execute(
                update(urgent_requests)
                .where(
                    and_(
                        urgent_requests.c.request_id == request_id,
                        urgent_requests.c.version == version,
                    )
                )
                .values(
                    state=target,
                    version=version + 1,
                    updated_at=self.clock().astimezone(dt.UTC),
                    updated_by=actor,
                )
            ).rowcount
            if changed != 1:
                raise ConflictError(f"request_id: urgent request {request_id} changed; retry")
            version += 1
            detail = {"from": source, "to": target, "delivery_id": delivery_id}
            self._audit(connection, actor, target, "urgent_requests", str(request_id), detail)
            source = target

    def delivery_proof(self, delivery_id: int) -> tuple[str, bytes]:
        """Return a delivery's proof image: its media type and bytes.

        Raises
        ------
        RecordNotFoundError
            If there is no such delivery or it has no proof.
        """
        with self.engine.connect() as connection:
            row = connection.execute(
                select(deliveries.c.proof_content_type, deliveries.c.proof).where(
                    deliveries.c.delivery_id == delivery_id
                )
            ).first()
        if row is None or row.proof is None:
            raise RecordNotFoundError(f"delivery_id: delivery {delivery_id} has no proof image")
        return row.proof_content_type, bytes(row.proof)

    # ------------------------------------------------------------------ reconciliation

    def reconcile_deliveries(
        self, on_date: dt.date, *, province_code: str | None = None
    ) -> list[SupplierReconciliation]:
        """Return each supplier's day (deliveries due that Asia/Ho_Chi_Minh day), by supplier."""
        found = self.list_deliveries(on_date=on_date, province_code=province_code, limit=1_000_000)
        by_supplier: dict[str | None, list[Delivery]] = {}
        for item in found:
            by_supplier.setdefault(item.supplier_id, []).append(item)
        return [
            _reconcile(items)
            for _, items in sorted(by_supplier.items(), key=lambda kv: (kv[0] is None, kv[0]))
        ]


def _reconcile(items: list[Delivery]) -> SupplierReconciliation:
    left = [d for d in items if d.state in (DeliveryState.IN_TRANSIT, DeliveryState.DELIVERED)]
    received = [d for d in items if d.state == DeliveryState.DELIVERED]
    short = [d for d in received if d.shortfall is not None]
    return SupplierReconciliation(
        supplier_id=items[0].supplier_id,
        supplier_name=items[0].supplier_name,
        deliveries_planned=sum(d.state != DeliveryState.CANCELLED for d in items),
        deliveries_dispatched=len(left),
        deliveries_received=len(received),
        dispatched_liquid_kg=round(sum(d.planned_liquid_kg or 0.0 for d in left), 3),
        received_liquid_kg=round(sum(d.received_liquid_kg or 0.0 for d in received), 3),
        dispatched_cylinders=sum(d.planned_cylinders or 0 for d in left),
        received_cylinders=sum(d.received_cylinders or 0 for d in received),
        dispatched_m3=round(sum(d.planned_m3 for d in left), 3),
        received_m3=round(sum(d.received_m3 or 0.0 for d in received), 3),
        shortfalls=len(short),
        shortfall_m3=round(sum((d.shortfall or {}).get("m3", 0.0) for d in short), 3),
        shortfall_facilities=tuple(sorted({d.facility_name for d in short})),
    )
