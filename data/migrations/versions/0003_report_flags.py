"""Plausibility flags on report revisions and province officers' reviews of flagged reports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_MESSAGE = "report_reviews is append-only: rows are never updated or deleted"


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE ADD COLUMN (no batch copy): a batch copy would drop the append-only
    # triggers of report_revisions. Older revisions keep NULL: they were never checked.
    op.add_column("report_revisions", sa.Column("flags", sa.JSON(), nullable=True))
    op.create_table(
        "report_reviews",
        sa.Column("review_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=100), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["report_revisions.revision_id"],
            name=op.f("fk_report_reviews_revision_id_report_revisions"),
        ),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_report_reviews")),
    )
    op.create_index("ix_report_reviews_revision_id", "report_reviews", ["revision_id"])
    _create_append_only_triggers()


def downgrade() -> None:
    """Revert this revision."""
    _drop_append_only_triggers()
    op.drop_index("ix_report_reviews_revision_id", table_name="report_reviews")
    op.drop_table("report_reviews")
    # SQLite >= 3.35 drops columns in place (the triggers stay).
    op.drop_column("report_revisions", "flags")


def _create_append_only_triggers() -> None:
    # A review is evidence, like an audit row: a new decision is a new row.
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER report_reviews_no_{verb.lower()} BEFORE {verb} ON report_reviews "
                f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION report_reviews_append_only() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION '{_MESSAGE}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER report_reviews_append_only BEFORE UPDATE OR DELETE ON report_reviews "
            "FOR EACH ROW EXECUTE FUNCTION report_reviews_append_only()"
        )


def _drop_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS report_reviews_no_{verb}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS report_reviews_append_only ON report_reviews")
        op.execute("DROP FUNCTION IF EXISTS report_reviews_append_only()")
