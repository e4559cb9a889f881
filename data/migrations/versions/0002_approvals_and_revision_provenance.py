"""Approval and locking of province-days; provenance (generated, source) of report revisions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE ADD COLUMN (no batch copy): a batch copy would drop the append-only
    # triggers of report_revisions.
    op.add_column(
        "report_revisions",
        sa.Column("generated", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("report_revisions", sa.Column("source", sa.Text(), nullable=True))
    op.create_table(
        "approvals",
        sa.Column("province_code", sa.String(length=300), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unlocked_by", sa.String(length=100), nullable=True),
        sa.Column("unlocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unlock_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.province_code"],
            name=op.f("fk_approvals_province_code_provinces"),
        ),
        sa.PrimaryKeyConstraint("province_code", "report_date", name=op.f("pk_approvals")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("approvals")
    # SQLite >= 3.35 drops columns in place (the triggers stay).
    op.drop_column("report_revisions", "source")
    op.drop_column("report_revisions", "generated")
