"""Contacts on facilities and suppliers: focal person, phone and e-mail (all optional).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLES = ("facilities", "suppliers")
_COLUMNS = ("contact_name", "contact_phone", "contact_email")


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE ADD COLUMN (no batch copy): existing rows get NULL, "no contact known".
    for table in _TABLES:
        for column in _COLUMNS:
            op.add_column(table, sa.Column(column, sa.String(length=300), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    # SQLite >= 3.35 drops columns in place.
    for table in _TABLES:
        for column in reversed(_COLUMNS):
            op.drop_column(table, column)
