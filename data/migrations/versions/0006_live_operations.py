"""Live operations (issue 14): plan states, urgent requests, deliveries, alerts, webhooks.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 12:35:52.897377
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    _create_plan_states()
    _create_webhook_subscriptions()
    _create_urgent_requests()
    _create_deliveries()
    _create_alerts()
    _create_webhook_deliveries()


def _create_plan_states() -> None:
    op.create_table(
        "plan_states",
        sa.Column("plan_id", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=300), nullable=False),
        sa.Column("province_code", sa.String(length=300), nullable=True),
        sa.Column("plan_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_plan_states")),
    )
    with op.batch_alter_table("plan_states", schema=None) as batch_op:
        batch_op.create_index("ix_plan_states_plan_date", ["plan_date"], unique=False)


def _create_webhook_subscriptions() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("subscription_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("province_code", sa.String(length=300), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("subscription_id", name=op.f("pk_webhook_subscriptions")),
    )


def _create_urgent_requests() -> None:
    op.create_table(
        "urgent_requests",
        sa.Column("request_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("facility_id", sa.String(length=300), nullable=False),
        sa.Column("product", sa.String(length=16), nullable=False),
        sa.Column("requested_liquid_kg", sa.Float(), nullable=True),
        sa.Column("requested_cylinders", sa.Integer(), nullable=True),
        sa.Column("approved_liquid_kg", sa.Float(), nullable=True),
        sa.Column("approved_cylinders", sa.Integer(), nullable=True),
        sa.Column("needed_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("sourcing", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facilities.facility_id"],
            name=op.f("fk_urgent_requests_facility_id_facilities"),
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_urgent_requests")),
    )
    with op.batch_alter_table("urgent_requests", schema=None) as batch_op:
        batch_op.create_index("ix_urgent_requests_facility_id", ["facility_id"], unique=False)
        batch_op.create_index("ix_urgent_requests_state", ["state"], unique=False)


def _create_deliveries() -> None:
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("facility_id", sa.String(length=300), nullable=False),
        sa.Column("supplier_id", sa.String(length=300), nullable=True),
        sa.Column("plan_id", sa.String(length=32), nullable=True),
        sa.Column("routes_id", sa.String(length=32), nullable=True),
        sa.Column("vehicle_id", sa.String(length=300), nullable=True),
        sa.Column("stop_index", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("product", sa.String(length=16), nullable=False),
        sa.Column("planned_liquid_kg", sa.Float(), nullable=True),
        sa.Column("planned_cylinders", sa.Integer(), nullable=True),
        sa.Column("planned_m3", sa.Float(), nullable=False),
        sa.Column("eta", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_liquid_kg", sa.Float(), nullable=True),
        sa.Column("received_cylinders", sa.Integer(), nullable=True),
        sa.Column("received_m3", sa.Float(), nullable=True),
        sa.Column("receiver_name", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("proof_content_type", sa.String(length=100), nullable=True),
        sa.Column("proof", sa.LargeBinary(), nullable=True),
        sa.Column("confirmed_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facilities.facility_id"],
            name=op.f("fk_deliveries_facility_id_facilities"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["urgent_requests.request_id"],
            name=op.f("fk_deliveries_request_id_urgent_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.supplier_id"],
            name=op.f("fk_deliveries_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "routes_id", "vehicle_id", "stop_index", name="uq_deliveries_routes_vehicle_stop"
        ),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_facility_id", ["facility_id"], unique=False)
        batch_op.create_index("ix_deliveries_state", ["state"], unique=False)


def _create_alerts() -> None:
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("facility_id", sa.String(length=300), nullable=True),
        sa.Column("province_code", sa.String(length=300), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("message_vi", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("acknowledged_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.delivery_id"],
            name=op.f("fk_alerts_delivery_id_deliveries"),
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facilities.facility_id"],
            name=op.f("fk_alerts_facility_id_facilities"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["urgent_requests.request_id"],
            name=op.f("fk_alerts_request_id_urgent_requests"),
        ),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_alerts_dedupe_key")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_facility_id", ["facility_id"], unique=False)
        batch_op.create_index("ix_alerts_raised_at", ["raised_at"], unique=False)


def _create_webhook_deliveries() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("attempt_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.alert_id"], name=op.f("fk_webhook_deliveries_alert_id_alerts")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.subscription_id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("attempt_id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_subscription_alert",
            ["subscription_id", "alert_id"],
            unique=False,
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_subscription_alert")

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_raised_at")
        batch_op.drop_index("ix_alerts_facility_id")

    op.drop_table("alerts")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_state")
        batch_op.drop_index("ix_deliveries_facility_id")

    op.drop_table("deliveries")
    with op.batch_alter_table("urgent_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_urgent_requests_state")
        batch_op.drop_index("ix_urgent_requests_facility_id")

    op.drop_table("urgent_requests")
    op.drop_table("webhook_subscriptions")
    with op.batch_alter_table("plan_states", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_states_plan_date")

    op.drop_table("plan_states")
