"""Tables of the registry store (SQLAlchemy Core), generated from the registry record types.

Registry tables have one column per field of their record type in :mod:`data.schema.registry`,
so the two cannot drift apart; the Alembic migrations in ``data/migrations`` are the frozen DDL and
a test checks that they match these tables. Timestamps are stored in UTC.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from data.schema.registry import (
    DailyReport,
    EquipmentSupplier,
    Facility,
    Province,
    Supplier,
    TransportOperator,
    Vehicle,
    optional_hint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_FOREIGN_KEYS = {
    "province_code": "provinces.province_code",
    "operator_id": "transport_operators.operator_id",
    "home_depot_id": "suppliers.supplier_id",
    "facility_id": "facilities.facility_id",
}
_TEXT_FIELDS = {"note", "source", "address"}


def _column_type(name: str, base: Any) -> Any:
    if isinstance(base, type) and issubclass(base, StrEnum):
        return String(32)
    if base is str:
        return Text() if name in _TEXT_FIELDS else String(300)
    if base is int:
        return Integer()
    if base is float:
        return Float()
    if base is bool:
        return Boolean()
    if base is dt.date:
        return Date()
    if typing.get_origin(base) in (Mapping, dict, tuple):
        return JSON()
    raise TypeError(f"no column type for {name}: {base!r}")


def record_columns(
    record_type: Any,
    *,
    skip: tuple[str, ...] = (),
    primary_key: str | None = None,
    own_table: str = "",
) -> list[Column[Any]]:
    """Return one column per field of ``record_type`` (nullable when the field is optional)."""
    columns: list[Column[Any]] = []
    for name, hint in record_type.field_hints().items():
        if name in skip:
            continue
        optional, base = optional_hint(hint)
        args: list[Any] = [_column_type(name, base)]
        target = _FOREIGN_KEYS.get(name)
        if target and not target.startswith(own_table + "."):
            args.append(ForeignKey(target))
        columns.append(
            Column(
                name,
                *args,
                primary_key=(name == primary_key),
                nullable=optional and name != primary_key,
            )
        )
    return columns


def _timestamps() -> list[Column[Any]]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    ]


provinces = Table(
    "provinces",
    metadata,
    *record_columns(Province, primary_key="province_code", own_table="provinces"),
)
facilities = Table(
    "facilities",
    metadata,
    *record_columns(Facility, primary_key="facility_id", own_table="facilities"),
    *_timestamps(),
)
suppliers = Table(
    "suppliers",
    metadata,
    *record_columns(Supplier, primary_key="supplier_id", own_table="suppliers"),
    *_timestamps(),
)
transport_operators = Table(
    "transport_operators",
    metadata,
    *record_columns(TransportOperator, primary_key="operator_id", own_table="transport_operators"),
    *_timestamps(),
)
vehicles = Table(
    "vehicles",
    metadata,
    *record_columns(Vehicle, primary_key="vehicle_id", own_table="vehicles"),
    *_timestamps(),
)
equipment_suppliers = Table(
    "equipment_suppliers",
    metadata,
    *record_columns(
        EquipmentSupplier, primary_key="equipment_supplier_id", own_table="equipment_suppliers"
    ),
    *_timestamps(),
)

report_revisions = Table(
    "report_revisions",
    metadata,
    Column("revision_id", Integer, primary_key=True, autoincrement=True),
    Column("facility_id", String(300), ForeignKey("facilities.facility_id"), nullable=False),
    Column("report_date", Date, nullable=False),
    Column("revision", Integer, nullable=False),
    *record_columns(DailyReport, skip=("facility_id", "report_date")),
    Column("content_hash", String(64), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("submitted_by", String(300), nullable=False),
    # Provenance of the revision, not part of the report's content (nor of its hash): seeded
    # reports are generated=True with the generator named in source (migration 0002).
    Column("generated", Boolean, nullable=False, server_default=false()),
    Column("source", Text, nullable=True),
    # What the plausibility rules flagged when the revision was stored (data.plausibility,
    # migration 0003): a list of findings; [] when none; NULL for revisions stored before the
    # rules existed or generated ones, which were not checked.
    Column("flags", JSON, nullable=True),
    UniqueConstraint(
        "facility_id", "report_date", "revision", name="uq_report_revisions_facility_date_revision"
    ),
    Index("ix_report_revisions_report_date", "report_date"),
)
"""Append-only: triggers in the migration refuse UPDATE and DELETE."""

report_reviews = Table(
    "report_reviews",
    metadata,
    Column("review_id", Integer, primary_key=True, autoincrement=True),
    Column("revision_id", Integer, ForeignKey("report_revisions.revision_id"), nullable=False),
    Column("decision", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("reviewed_by", String(100), nullable=False),
    Column("reviewed_at", DateTime(timezone=True), nullable=False),
    Index("ix_report_reviews_revision_id", "revision_id"),
)
"""A province officer's decision on a flagged revision (accepted, or correction requested); the
latest row of a revision is its state. Append-only: triggers in migration 0003."""

supply_declarations = Table(
    "supply_declarations",
    metadata,
    Column("declaration_id", Integer, primary_key=True, autoincrement=True),
    Column("supplier_id", String(300), ForeignKey("suppliers.supplier_id"), nullable=False),
    Column("declaration_date", Date, nullable=False),
    Column("liquid_lox_t", Float, nullable=False),
    Column("cylinders_filled", Integer, nullable=False),
    Column("liquid_stock_t", Float, nullable=True),
    Column("note", Text, nullable=True),
    Column("declared_at", DateTime(timezone=True), nullable=False),
    Column("declared_by", String(100), nullable=False),
    UniqueConstraint(
        "supplier_id", "declaration_date", name="uq_supply_declarations_supplier_date"
    ),
    Index("ix_supply_declarations_declaration_date", "declaration_date"),
)
"""The latest declaration of each supplier and day; earlier versions are in ``audit_events``."""

# ----------------------------------------------------------------- live operations (issue 14)
# Quantities carry their unit in the name: liquid in kg of liquid oxygen, cylinders as a count,
# and every quantity also as m³ of gas (``*_m3``) so that stocks of both products add up.
# ``version`` columns make state changes compare-and-set: two coordinators acting on the same
# row at once, one wins and the other gets 409. Every state change is also in ``audit_events``.

plan_states = Table(
    "plan_states",
    metadata,
    Column("plan_id", String(32), primary_key=True),
    Column("region", String(300), nullable=False),
    Column("province_code", String(300), nullable=True),
    Column("plan_date", Date, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("approved_at", DateTime(timezone=True), nullable=True),
    Column("approved_by", String(100), nullable=True),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("published_by", String(100), nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_plan_states_plan_date", "plan_date"),
)
"""A plan's hand-off state (draft, approved, published); the plan itself is a file."""

urgent_requests = Table(
    "urgent_requests",
    metadata,
    Column("request_id", Integer, primary_key=True, autoincrement=True),
    Column("facility_id", String(300), ForeignKey("facilities.facility_id"), nullable=False),
    Column("product", String(16), nullable=False),
    Column("requested_liquid_kg", Float, nullable=True),
    Column("requested_cylinders", Integer, nullable=True),
    Column("approved_liquid_kg", Float, nullable=True),
    Column("approved_cylinders", Integer, nullable=True),
    Column("needed_by", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("contact_name", String(200), nullable=True),
    Column("contact_phone", String(40), nullable=True),
    Column("state", String(16), nullable=False),
    Column("decision_reason", Text, nullable=True),
    Column("sourcing", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_urgent_requests_facility_id", "facility_id"),
    Index("ix_urgent_requests_state", "state"),
)
"""Urgent requests (SOS) and their state; ``sourcing`` holds the chosen supplier and vehicle."""

deliveries = Table(
    "deliveries",
    metadata,
    Column("delivery_id", Integer, primary_key=True, autoincrement=True),
    Column("facility_id", String(300), ForeignKey("facilities.facility_id"), nullable=False),
    Column("supplier_id", String(300), ForeignKey("suppliers.supplier_id"), nullable=True),
    Column("plan_id", String(32), nullable=True),
    Column("routes_id", String(32), nullable=True),
    Column("vehicle_id", String(300), nullable=True),
    Column("stop_index", Integer, nullable=True),
    Column("request_id", Integer, ForeignKey("urgent_requests.request_id"), nullable=True),
    Column("product", String(16), nullable=False),
    Column("planned_liquid_kg", Float, nullable=True),
    Column("planned_cylinders", Integer, nullable=True),
    Column("planned_m3", Float, nullable=False),
    Column("eta", DateTime(timezone=True), nullable=True),
    Column("state", String(16), nullable=False),
    Column("dispatched_at", DateTime(timezone=True), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=True),
    Column("received_liquid_kg", Float, nullable=True),
    Column("received_cylinders", Integer, nullable=True),
    Column("received_m3", Float, nullable=True),
    Column("receiver_name", String(200), nullable=True),
    Column("note", Text, nullable=True),
    Column("proof_content_type", String(100), nullable=True),
    Column("proof", LargeBinary, nullable=True),
    Column("confirmed_by", String(100), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint(
        "routes_id", "vehicle_id", "stop_index", name="uq_deliveries_routes_vehicle_stop"
    ),
    Index("ix_deliveries_facility_id", "facility_id"),
    Index("ix_deliveries_state", "state"),
)
"""Planned deliveries (a published plan's route stops, or an urgent request's trip) and what the
driver or the receiving facility confirmed (proof of delivery: quantity, time, receiver, photo)."""

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("level", String(16), nullable=False),
    Column("facility_id", String(300), ForeignKey("facilities.facility_id"), nullable=True),
    Column("province_code", String(300), nullable=True),
    Column("delivery_id", Integer, ForeignKey("deliveries.delivery_id"), nullable=True),
    Column("request_id", Integer, ForeignKey("urgent_requests.request_id"), nullable=True),
    Column("dedupe_key", String(300), nullable=False, unique=True),
    Column("message_vi", Text, nullable=False),
    Column("message_en", Text, nullable=False),
    Column("details", JSON, nullable=True),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("acknowledged_at", DateTime(timezone=True), nullable=True),
    Column("acknowledged_by", String(100), nullable=True),
    Column("acknowledged_note", Text, nullable=True),
    Index("ix_alerts_raised_at", "raised_at"),
    Index("ix_alerts_facility_id", "facility_id"),
)
"""Alerts (threshold crossed, 16:00 report missed, delivery late); ``dedupe_key`` raises each
condition once."""

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("subscription_id", Integer, primary_key=True, autoincrement=True),
    Column("province_code", String(300), nullable=True),
    Column("url", Text, nullable=False),
    Column("secret", String(200), nullable=False),
    Column("kinds", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
)
"""Webhook subscriptions (a province's SMS or Zalo gateway); payloads are signed with
``secret`` (HMAC-SHA256), which the server must keep to sign."""

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("attempt_id", Integer, primary_key=True, autoincrement=True),
    Column(
        "subscription_id",
        Integer,
        ForeignKey("webhook_subscriptions.subscription_id"),
        nullable=False,
    ),
    Column("alert_id", Integer, ForeignKey("alerts.alert_id"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("delivered", Boolean, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Index("ix_webhook_deliveries_subscription_alert", "subscription_id", "alert_id"),
)
"""The delivery log of webhooks: one row per attempt (retries back off)."""


users = Table(
    "users",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("facility_id", String(300), ForeignKey("facilities.facility_id"), nullable=True),
    Column("province_code", String(300), ForeignKey("provinces.province_code"), nullable=True),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.user_id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", String(100), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)
"""Only the SHA-256 of each token is stored; the token itself is shown once, at creation."""

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("idempotency_id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.user_id"), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("revision_id", Integer, ForeignKey("report_revisions.revision_id"), nullable=False),
    Column("created", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "idempotency_key", name="uq_idempotency_keys_user_key"),
)

approvals = Table(
    "approvals",
    metadata,
    Column("province_code", String(300), ForeignKey("provinces.province_code"), primary_key=True),
    Column("report_date", Date, primary_key=True),
    Column("locked", Boolean, nullable=False),
    Column("approved_by", String(100), nullable=False),
    Column("approved_at", DateTime(timezone=True), nullable=False),
    Column("unlocked_by", String(100), nullable=True),
    Column("unlocked_at", DateTime(timezone=True), nullable=True),
    Column("unlock_reason", Text, nullable=True),
)
"""Approval state of a province's day (the latest approval or unlock); the history of every
approval and unlock is in ``audit_events`` (entity ``approvals``, id ``<province>/<date>``)."""

audit_events = Table(
    "audit_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(32), nullable=False),
    Column("entity", String(64), nullable=False),
    Column("entity_id", String(300), nullable=False),
    Column("detail", JSON, nullable=True),
    Index("ix_audit_events_entity", "entity", "entity_id"),
)
"""Append-only: triggers in the migration refuse UPDATE and DELETE."""

REGISTRY_TABLES: dict[str, Table] = {
    "facilities": facilities,
    "suppliers": suppliers,
    "transport-operators": transport_operators,
    "vehicles": vehicles,
    "equipment-suppliers": equipment_suppliers,
}
"""Registry collections by URL name (the keys of ``REGISTRY_RECORD_TYPES``)."""
