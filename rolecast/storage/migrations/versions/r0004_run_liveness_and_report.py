"""Runs record their process, a heartbeat and a report.

``pid`` and ``host`` (who runs it) and ``heartbeat_at`` (refreshed with every stored
step) let a later run mark a run whose process died without a word (SIGKILL, a lost
machine) as ``interrupted`` instead of ``running`` forever. ``report`` holds what a
scheduled ``rolecast reprofile`` concluded (its snapshot and its drift against the
previous run). All nullable: runs stored before this revision have none of them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the liveness and report columns to ``runs``."""
    report = sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("report", report, nullable=True))


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("report")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("host")
        batch_op.drop_column("pid")
