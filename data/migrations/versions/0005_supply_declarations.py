"""Suppliers' daily supply declarations: one row per supplier and day (issue 13, real supply).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # A correction replaces the day's row; its earlier values stay in audit_events.
    op.create_table(
        "supply_declarations",
        sa.Column("declaration_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("supplier_id", sa.String(length=300), nullable=False),
        sa.Column("declaration_date", sa.Date(), nullable=False),
        sa.Column("liquid_lox_t", sa.Float(), nullable=False),
        sa.Column("cylinders_filled", sa.Integer(), nullable=False),
        sa.Column("liquid_stock_t", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declared_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.supplier_id"],
            name=op.f("fk_supply_declarations_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("declaration_id", name=op.f("pk_supply_declarations")),
        sa.UniqueConstraint(
            "supplier_id", "declaration_date", name="uq_supply_declarations_supplier_date"
        ),
    )
    op.create_index(
        "ix_supply_declarations_declaration_date", "supply_declarations", ["declaration_date"]
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_supply_declarations_declaration_date", table_name="supply_declarations")
    op.drop_table("supply_declarations")
