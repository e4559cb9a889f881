"""The store's part for urgent requests (SOS): filing, audited compare-and-set state changes.

Issue 14 (live operations); the tables are in migration 0006. A facility (or its province on its
behalf) files a request; a province officer approves it (the approved quantity may differ, with a
reason) or rejects it (with a reason); a dispatcher sources it (a supplier and a vehicle chosen
among :mod:`coordination.sourcing`'s options) and dispatches it, which inserts its delivery row
(``deliveries``, state ``in_transit``) in the same transaction. The delivery's confirmation by the
receiver (the deliveries part) makes the request ``delivered``; there is no second way here.

Every change is compare-and-set on ``version``: the caller sends the version it saw, and a stale
version (or a concurrent winner) raises :class:`RequestConflictError` (409) with the current
request. The allowed changes are :data:`data.schema.live.REQUEST_TRANSITIONS`; each one leaves an
audit row (entity ``urgent_requests``, id the request id) with the actor, the states, the
quantities and the reason, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from data.db.models import deliveries, facilities, suppliers, urgent_requests
from data.errors import ConflictError, InvalidInputError, RecordNotFoundError
from data.schema.live import REQUEST_TRANSITIONS, DeliveryState, PlannedStop, Product, RequestState
from data.store.base import MAX_PAGE, StoreBase
from data.store.rows import aware_utc, inserted_id
from data.units import OxygenConversions

ENTITY = "urgent_requests"
"""Audit entity of urgent requests (the id is the request id)."""

MAX_LIQUID_KG = 100_000.0
"""Largest liquid request (kg of liquid oxygen): more than three 30 t tankers is not an SOS."""
MAX_CYLINDERS = 10_000
"""Largest cylinder request (40 L cylinders)."""
MAX_TEXT = 2000
_PHONE = re.compile(r"^\+?[0-9][0-9 .\-]{5,38}$")
_REQUEST_KEYS = frozenset(
    {
        "facility_id",
        "product",
        "requested_liquid_kg",
        "requested_cylinders",
        "needed_by",
        "reason",
        "contact_name",
        "contact_phone",
    }
)


class RequestConflictError(ConflictError):
    """The request changed since the caller saw it, or it cannot make this change (409).

    ``current`` is the request as stored now: read its ``state`` and ``version``, decide again,
    and send the change with that version.
    """

    def __init__(self, message: str, current: UrgentRequest) -> None:
        self.current = current
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class UrgentRequestDraft:
    """A request as filed, validated: what is needed, by when, why and whom to call.

    Build it with :meth:`from_mapping`, which lists every problem at once.
    """

    facility_id: str
    product: Product
    requested_liquid_kg: float | None
    requested_cylinders: int | None
    needed_by: dt.datetime
    reason: str
    contact_name: str | None = None
    contact_phone: str | None = None

    @classmethod
    def from_mapping(cls, data: Any, *, now: dt.datetime) -> UrgentRequestDraft:
        """Return the draft of a JSON object, checked against ``now`` (aware).

        Raises
        ------
        InvalidInputError
            Listing every problem: unknown keys, no facility, a product other than ``liquid``
            or ``cylinders``, a quantity missing, of the other product, not positive or too
            large, ``needed_by`` not an ISO 8601 instant with its offset or before ``now``, no
            reason, a contact too long or a phone that is not a phone number.
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError("body: expected a JSON object (an urgent request)")
        problems = [
            f"{key}: unknown key (allowed: {', '.join(sorted(_REQUEST_KEYS))})"
            for key in sorted(set(map(str, data)) - _REQUEST_KEYS)
        ]
        facility_id = data.get("facility_id")
        if not isinstance(facility_id, str) or not facility_id.strip():
            problems.append(f"facility_id: required, the facility's id, got {facility_id!r}")
        product = _product(problems, data.get("product"))
        liquid_kg, cylinders = _quantities(problems, product, data, "requested")
        needed_by = _instant(problems, "needed_by", data.get("needed_by"))
        if needed_by is not None and needed_by <= now:
            problems.append(
                f"needed_by: must be later than now ({now.isoformat(timespec='minutes')}), got "
                f"{data.get('needed_by')!r}"
            )
        reason = _text(problems, "reason", data.get("reason"), required=True)
        contact_name = _text(problems, "contact_name", data.get("contact_name"), limit=200)
        contact_phone = _text(problems, "contact_phone", data.get("contact_phone"), limit=40)
        if contact_phone is not None and not _PHONE.fullmatch(contact_phone):
            problems.append(
                f"contact_phone: digits, spaces, dots or dashes (an optional leading +), got "
                f"{contact_phone!r}"
            )
        if problems:
            raise InvalidInputError.from_problems("urgent request", problems)
        assert isinstance(facility_id, str)
        assert product is not None
        assert needed_by is not None
        return cls(
            facility_id=facility_id,
            product=product,
            requested_liquid_kg=liquid_kg,
            requested_cylinders=cylinders,
            needed_by=needed_by.astimezone(dt.UTC),
            reason=str(reason),
            contact_name=contact_name,
            contact_phone=contact_phone,
        )


def _product(problems: list[str], value: Any) -> Product | None:
    try:
        return Product(value)
    except ValueError:
        problems.append(f"product: must be liquid or cylinders, got {value!r}")
        return None


def _quantities(
    problems: list[str], product: Product | None, data: Mapping[str, Any], prefix: str
) -> tuple[float | None, int | None]:
    """Return (liquid kg, cylinders) of ``<prefix>_liquid_kg``/``<prefix>_cylinders``."""
    liquid_name, cylinder_name = f"{prefix}_liquid_kg", f"{prefix}_cylinders"
    liquid, cylinders = data.get(liquid_name), data.get(cylinder_name)
    if product is Product.LIQUID:
        if cylinders is not None:
            problems.append(f"{cylinder_name}: not for a liquid request; send {liquid_name}")
        kg = (
            float(liquid)
            if isinstance(liquid, int | float) and not isinstance(liquid, bool)
            else -1
        )
        if not math.isfinite(kg) or not 0 < kg <= MAX_LIQUID_KG:
            problems.append(
                f"{liquid_name}: kg of liquid oxygen, more than 0 and at most "
                f"{MAX_LIQUID_KG:,.0f}, got {liquid!r}"
            )
            return None, None
        return kg, None
    if product is Product.CYLINDERS:
        if liquid is not None:
            problems.append(f"{liquid_name}: not for a cylinders request; send {cylinder_name}")
        if isinstance(cylinders, bool) or not isinstance(cylinders, int):
            problems.append(f"{cylinder_name}: a whole number of 40 L cylinders, got {cylinders!r}")
            return None, None
        if not 0 < cylinders <= MAX_CYLINDERS:
            problems.append(
                f"{cylinder_name}: from 1 to {MAX_CYLINDERS:,} cylinders, got {cylinders!r}"
            )
            return None, None
        return None, cylinders
    return None, None


def _instant(problems: list[str], name: str, value: Any) -> dt.datetime | None:
    """Return an ISO 8601 instant with its UTC offset (a naive time is ambiguous: refused)."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        problems.append(
            f"{name}: an ISO 8601 date and time with its offset, such as "
            f"2021-08-20T18:00:00+07:00, got {value!r}"
        )
        return None
    if instant.tzinfo is None:
        problems.append(f"{name}: give the UTC offset (+07:00 in Việt Nam), got {value!r}")
        return None
    return instant


def _text(
    problems: list[str], name: str, value: Any, *, required: bool = False, limit: int = MAX_TEXT
) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{name}: {'required, ' if required else ''}non-empty text, got {value!r}")
        return None
    if len(value) > limit:
        problems.append(f"{name}: at most {limit} characters, got {len(value)}")
        return None
    return value.strip()


@dataclass(frozen=True, slots=True)
class UrgentRequest:
    """An urgent request as stored, with its facility's province and its delivery, if any.

    Quantities: ``*_liquid_kg`` in kg of liquid oxygen (liquid requests), ``*_cylinders`` in
    40 L cylinders (cylinder requests). Instants are aware UTC. ``sourcing`` is the chosen
    :class:`coordination.sourcing.SourcingOption` as JSON (None until sourced).
    """

    request_id: int
    facility_id: str
    facility_name: str
    province_code: str
    product: Product
    requested_liquid_kg: float | None
    requested_cylinders: int | None
    approved_liquid_kg: float | None
    approved_cylinders: int | None
    needed_by: dt.datetime
    reason: str
    contact_name: str | None
    contact_phone: str | None
    state: RequestState
    decision_reason: str | None
    sourcing: Mapping[str, Any] | None
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str
    version: int
    delivery_id: int | None = None
    delivery_state: str | None = None

    @property
    def quantity(self) -> float | int:
        """The quantity to send: approved if decided, else requested (kg or cylinders)."""
        if self.product is Product.LIQUID:
            return self.approved_liquid_kg or self.requested_liquid_kg or 0.0
        return self.approved_cylinders or self.requested_cylinders or 0

    def quantity_m3(self, conversions: OxygenConversions) -> float:
        """Return :attr:`quantity` as m³ of gas."""
        if self.product is Product.LIQUID:
            return conversions.lox_t_to_gas_m3(float(self.quantity) / 1000.0)
        return conversions.cylinders_to_gas_m3(self.quantity)

    def to_dict(self) -> dict[str, Any]:
        """Return the request as JSON-ready data (instants in ISO 8601, UTC)."""
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, dt.datetime) else value
        out["product"] = self.product.value
        out["state"] = self.state.value
        out["sourcing"] = None if self.sourcing is None else dict(self.sourcing)
        return out


@dataclass(frozen=True, slots=True)
class _Change:
    """One state change: the target, the columns it sets and what the audit row adds."""

    target: RequestState
    action: str
    values: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)


_SELECT = (
    select(
        urgent_requests,
        facilities.c.name.label("facility_name"),
        facilities.c.province_code,
        deliveries.c.delivery_id,
        deliveries.c.state.label("delivery_state"),
    )
    .join(facilities, facilities.c.facility_id == urgent_requests.c.facility_id)
    .outerjoin(deliveries, deliveries.c.request_id == urgent_requests.c.request_id)
)


def _from_row(row: Any) -> UrgentRequest:
    m = row._mapping
    return UrgentRequest(
        request_id=int(m["request_id"]),
        facility_id=m["facility_id"],
        facility_name=m["facility_name"],
        province_code=m["province_code"],
        product=Product(m["product"]),
        requested_liquid_kg=m["requested_liquid_kg"],
        requested_cylinders=m["requested_cylinders"],
        approved_liquid_kg=m["approved_liquid_kg"],
        approved_cylinders=m["approved_cylinders"],
        needed_by=aware_utc(m["needed_by"]),
        reason=m["reason"],
        contact_name=m["contact_name"],
        contact_phone=m["contact_phone"],
        state=RequestState(m["state"]),
        decision_reason=m["decision_reason"],
        sourcing=m["sourcing"],
        created_at=aware_utc(m["created_at"]),
        created_by=m["created_by"],
        updated_at=aware_utc(m["updated_at"]),
        updated_by=m["updated_by"],
        version=int(m["version"]),
        delivery_id=m["delivery_id"],
        delivery_state=m["delivery_state"],
    )


class UrgentRequestStore(StoreBase):
    """Repository functions for urgent requests and their audited state changes."""

    def file_request(self, draft: UrgentRequestDraft, *, actor: str) -> UrgentRequest:
        """Store a new request (state ``requested``, version 1) and its audit row.

        Raises
        ------
        RecordNotFoundError
            If there is no facility ``draft.facility_id`` (nothing is stored).
        """
        with self._write() as connection:
            exists = connection.execute(
                select(facilities.c.facility_id).where(
                    facilities.c.facility_id == draft.facility_id
                )
            ).first()
            if exists is None:
                raise RecordNotFoundError(
                    f"facility_id: no facilities record {draft.facility_id!r}"
                )
            now = self.clock()
            result = connection.execute(
                insert(urgent_requests).values(
                    facility_id=draft.facility_id,
                    product=draft.product.value,
                    requested_liquid_kg=draft.requested_liquid_kg,
                    requested_cylinders=draft.requested_cylinders,
                    needed_by=draft.needed_by,
                    reason=draft.reason,
                    contact_name=draft.contact_name,
                    contact_phone=draft.contact_phone,
                    state=RequestState.REQUESTED.value,
                    created_at=now,
                    created_by=actor,
                    updated_at=now,
                    updated_by=actor,
                    version=1,
                )
            )
            request_id = inserted_id(result)
            self._audit(
                connection,
                actor,
                "file",
                ENTITY,
                str(request_id),
                {
                    "from": None,
                    "to": RequestState.REQUESTED.value,
                    "version": 1,
                    "facility_id": draft.facility_id,
                    "product": draft.product.value,
                    "requested_liquid_kg": draft.requested_liquid_kg,
                    "requested_cylinders": draft.requested_cylinders,
                    "needed_by": draft.needed_by.isoformat(),
                    "reason": draft.reason,
                },
            )
            return self._read(connection, request_id)

    def get_request(self, request_id: int) -> UrgentRequest:
        """Return one request.

        Raises
        ------
        RecordNotFoundError
            If there is no request ``request_id``.
        """
        with self.engine.connect() as connection:
            return self._read(connection, request_id)

    def list_requests(
        self,
        *,
        states: Sequence[RequestState] = (),
        facility_id: str | None = None,
        province_code: str | None = None,
        limit: int = MAX_PAGE,
    ) -> list[UrgentRequest]:
        """Return requests by ``needed_by`` then id (filters: states, a facility, a province)."""
        query = _SELECT.order_by(urgent_requests.c.needed_by, urgent_requests.c.request_id)
        if states:
            query = query.where(urgent_requests.c.state.in_([s.value for s in states]))
        if facility_id is not None:
            query = query.where(urgent_requests.c.facility_id == facility_id)
        if province_code is not None:
            query = query.where(facilities.c.province_code == province_code)
        with self.engine.connect() as connection:
            return [_from_row(row) for row in connection.execute(query.limit(limit))]

    def approve_request(
        self,
        request_id: int,
        *,
        version: int,
        actor: str,
        approved_liquid_kg: float | None = None,
        approved_cylinders: int | None = None,
        reason: str | None = None,
    ) -> UrgentRequest:
        """Approve a request, by default for the requested quantity.

        An approved quantity that differs from the requested one needs a ``reason``.

        Raises
        ------
        InvalidInputError
            If the approved quantity is of the other product, not positive, too large, or
            differs without a reason (nothing is stored).
        RequestConflictError
            If ``version`` is stale or the request is not ``requested``.
        """
        with self._write() as connection:
            current = self._checked(connection, request_id, version, RequestState.APPROVED)
            problems: list[str] = []
            if approved_liquid_kg is None and approved_cylinders is None:
                approved_liquid_kg = current.requested_liquid_kg
                approved_cylinders = current.requested_cylinders
            liquid, cylinders = _quantities(
                problems,
                current.product,
                {
                    "approved_liquid_kg": approved_liquid_kg,
                    "approved_cylinders": approved_cylinders,
                },
                "approved",
            )
            differs = (liquid, cylinders) != (
                current.requested_liquid_kg,
                current.requested_cylinders,
            )
            if not problems and differs and not (reason and reason.strip()):
                problems.append(
                    "reason: required when the approved quantity differs from the requested one "
                    f"({_amount(current.requested_liquid_kg, current.requested_cylinders)} "
                    f"requested, {_amount(liquid, cylinders)} approved)"
                )
            if problems:
                raise InvalidInputError.from_problems("approval", problems)
            change = _Change(
                RequestState.APPROVED,
                "approve",
                {
                    "approved_liquid_kg": liquid,
                    "approved_cylinders": cylinders,
                    "decision_reason": reason.strip() if reason else None,
                },
                {
                    "requested_liquid_kg": current.requested_liquid_kg,
                    "requested_cylinders": current.requested_cylinders,
                    "approved_liquid_kg": liquid,
                    "approved_cylinders": cylinders,
                    "reason": reason.strip() if reason else None,
                },
            )
            return self._apply(connection, current, change, actor)

    def reject_request(
        self, request_id: int, *, version: int, actor: str, reason: str
    ) -> UrgentRequest:
        """Reject a request, saying why.

        Raises
        ------
        InvalidInputError
            If ``reason`` is empty.
        RequestConflictError
            If ``version`` is stale or the request is not ``requested``.
        """
        return self._decide(request_id, version, actor, RequestState.REJECTED, reason, True)

    def cancel_request(
        self, request_id: int, *, version: int, actor: str, reason: str | None = None
    ) -> UrgentRequest:
        """Cancel a request that is not yet dispatched (the reason is optional).

        Raises
        ------
        RequestConflictError
            If ``version`` is stale or the request is dispatched or final.
        """
        return self._decide(request_id, version, actor, RequestState.CANCELLED, reason, False)

    def source_request(
        self, request_id: int, *, version: int, actor: str, sourcing: Mapping[str, Any]
    ) -> UrgentRequest:
        """Record the chosen sourcing option of an approved request (state ``sourced``).

        Raises
        ------
        InvalidInputError
            If ``sourcing`` names no ``supplier_id``, ``vehicle_id`` and ``eta``, or a supplier
            that is not in the registry.
        RequestConflictError
            If ``version`` is stale or the request is not ``approved``.
        """
        missing = [
            f"option: has no {k}"
            for k in ("supplier_id", "vehicle_id", "eta")
            if not sourcing.get(k)
        ]
        if missing:
            raise InvalidInputError.from_problems("sourcing", missing)
        with self._write() as connection:
            current = self._checked(connection, request_id, version, RequestState.SOURCED)
            supplier = connection.execute(
                select(suppliers.c.supplier_id).where(
                    suppliers.c.supplier_id == sourcing["supplier_id"]
                )
            ).first()
            if supplier is None:
                raise InvalidInputError.from_problems(
                    "sourcing",
                    [f"option: supplier {sourcing['supplier_id']!r} is not in the registry"],
                )
            change = _Change(
                RequestState.SOURCED,
                "source",
                {"sourcing": dict(sourcing)},
                {"option": dict(sourcing)},
            )
            return self._apply(connection, current, change, actor)

    def dispatch_request(
        self,
        request_id: int,
        *,
        version: int,
        actor: str,
        conversions: OxygenConversions | None = None,
    ) -> UrgentRequest:
        """Dispatch a sourced request: state ``dispatched`` and its delivery row, together.

        The delivery (``in_transit``) carries the approved quantity, the chosen supplier and
        vehicle, and an ETA: the option's, or now plus the option's duration when the option's
        ETA has already passed (the truck leaves now, not when the option was computed).

        Raises
        ------
        RequestConflictError
            If ``version`` is stale, the request is not ``sourced``, or it already has a
            delivery.
        """
        conversions = conversions or OxygenConversions()
        with self._write() as connection:
            current = self._checked(connection, request_id, version, RequestState.DISPATCHED)
            if current.delivery_id is not None:
                raise RequestConflictError(
                    f"request {request_id} already has delivery {current.delivery_id}", current
                )
            sourcing = dict(current.sourcing or {})
            now = self.clock()
            eta = _dispatch_eta(sourcing, now)
            result = connection.execute(
                insert(deliveries).values(
                    facility_id=current.facility_id,
                    supplier_id=sourcing.get("supplier_id"),
                    vehicle_id=sourcing.get("vehicle_id"),
                    request_id=request_id,
                    product=current.product.value,
                    planned_liquid_kg=current.approved_liquid_kg,
                    planned_cylinders=current.approved_cylinders,
                    planned_m3=round(current.quantity_m3(conversions), 3),
                    eta=eta,
                    state=DeliveryState.IN_TRANSIT.value,
                    dispatched_at=now,
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
            )
            delivery_id = inserted_id(result)
            change = _Change(
                RequestState.DISPATCHED,
                "dispatch",
                {},
                {
                    "delivery_id": delivery_id,
                    "supplier_id": sourcing.get("supplier_id"),
                    "vehicle_id": sourcing.get("vehicle_id"),
                    "eta": eta.isoformat(),
                    "approved_liquid_kg": current.approved_liquid_kg,
                    "approved_cylinders": current.approved_cylinders,
                },
            )
            return self._apply(connection, current, change, actor)

    def planned_stops(self, *, start: dt.datetime, end: dt.datetime) -> list[PlannedStop]:
        """Return the planned or in-transit deliveries with a vehicle and an ETA in [start, end).

        Ordered by vehicle then stop; an urgent request's own trip (no stop index) is last in
        its vehicle's day, after the planned stops.
        """
        query = (
            select(deliveries, facilities.c.lon, facilities.c.lat)
            .join(facilities, facilities.c.facility_id == deliveries.c.facility_id)
            .where(
                and_(
                    deliveries.c.state.in_(
                        [DeliveryState.PLANNED.value, DeliveryState.IN_TRANSIT.value]
                    ),
                    deliveries.c.vehicle_id.is_not(None),
                    deliveries.c.eta >= start,
                    deliveries.c.eta < end,
                )
            )
            .order_by(deliveries.c.vehicle_id, deliveries.c.eta, deliveries.c.delivery_id)
        )
        out = []
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                m = row._mapping
                product = Product(m["product"])
                quantity = (
                    m["planned_liquid_kg"] if product is Product.LIQUID else m["planned_cylinders"]
                )
                out.append(
                    PlannedStop(
                        delivery_id=int(m["delivery_id"]),
                        vehicle_id=m["vehicle_id"],
                        stop_index=int(m["stop_index"]) if m["stop_index"] is not None else 10**6,
                        facility_id=m["facility_id"],
                        lon=float(m["lon"]),
                        lat=float(m["lat"]),
                        supplier_id=m["supplier_id"],
                        product=product,
                        quantity=float(quantity or 0.0),
                        eta=aware_utc(m["eta"]),
                        state=m["state"],
                    )
                )
        return sorted(out, key=lambda s: (s.vehicle_id, s.stop_index, s.eta))

    # ------------------------------------------------------------------------ internals

    def _read(self, connection: Connection, request_id: int) -> UrgentRequest:
        row = connection.execute(_SELECT.where(urgent_requests.c.request_id == request_id)).first()
        if row is None:
            raise RecordNotFoundError(f"request_id: no urgent request {request_id}")
        return _from_row(row)

    def _checked(
        self, connection: Connection, request_id: int, version: int, target: RequestState
    ) -> UrgentRequest:
        """Return the request if ``version`` is current and ``target`` is a next state of it."""
        current = self._read(connection, request_id)
        if version != current.version:
            raise RequestConflictError(
                f"version: request {request_id} is at version {current.version} "
                f"({current.state.value}), you sent {version}; read it again and decide anew",
                current,
            )
        allowed = REQUEST_TRANSITIONS[current.state]
        if target not in allowed:
            nexts = ", ".join(sorted(s.value for s in allowed)) or "none, it is final"
            raise RequestConflictError(
                f"state: request {request_id} is {current.state.value}; it cannot become "
                f"{target.value} (allowed: {nexts})",
                current,
            )
        return current

    def _decide(
        self,
        request_id: int,
        version: int,
        actor: str,
        target: RequestState,
        reason: str | None,
        reason_required: bool,
    ) -> UrgentRequest:
        if reason_required and not (isinstance(reason, str) and reason.strip()):
            raise InvalidInputError.from_problems(
                "decision", [f"reason: required to make a request {target.value}, got {reason!r}"]
            )
        if reason is not None and len(reason) > MAX_TEXT:
            raise InvalidInputError.from_problems(
                "decision", [f"reason: at most {MAX_TEXT} characters, got {len(reason)}"]
            )
        with self._write() as connection:
            current = self._checked(connection, request_id, version, target)
            text = reason.strip() if reason else None
            change = _Change(
                target,
                "reject" if target is RequestState.REJECTED else "cancel",
                {"decision_reason": text} if target is RequestState.REJECTED else {},
                {"reason": text},
            )
            return self._apply(connection, current, change, actor)

    def _apply(
        self, connection: Connection, current: UrgentRequest, change: _Change, actor: str
    ) -> UrgentRequest:
        """Compare-and-set the change on ``current.version``, audit it, return the result."""
        now = self.clock()
        result = connection.execute(
            update(urgent_requests)
            .where(
                urgent_requests.c.request_id == current.request_id,
                urgent_requests.c.version == current.version,
                urgent_requests.c.state == current.state.value,
            )
            .values(
                state=change.target.value,
                updated_at=now,
                updated_by=actor,
                version=current.version + 1,
                **change.values,
            )
        )
        if result.rowcount != 1:  # a concurrent writer won between the read and the update
            latest = self._read(connection, current.request_id)
            raise RequestConflictError(
                f"version: request {current.request_id} changed meanwhile (now version "
                f"{latest.version}, {latest.state.value}); read it again",
                latest,
            )
        self._audit(
            connection,
            actor,
            change.action,
            ENTITY,
            str(current.request_id),
            {
                "from": current.state.value,
                "to": change.target.value,
                "version": current.version + 1,
                **change.detail,
            },
        )
        return self._read(connection, current.request_id)


def _amount(liquid_kg: float | None, cylinders: int | None) -> str:
    return f"{liquid_kg:g} kg" if liquid_kg is not None else f"{cylinders} cylinders"


def _dispatch_eta(sourcing: Mapping[str, Any], now: dt.datetime) -> dt.datetime:
    """Return the option's ETA, or now + its duration if that ETA is already behind us."""
    eta = dt.datetime.fromisoformat(str(sourcing["eta"]))
    duration_s = float(sourcing.get("duration_s") or 0.0)
    return max(eta, now + dt.timedelta(seconds=duration_s)).astimezone(dt.UTC)
