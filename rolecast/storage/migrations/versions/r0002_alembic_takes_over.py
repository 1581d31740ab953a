"""Alembic takes over: ``meta.schema_version`` becomes 2.

rolecast 0.1 opens a database only when ``meta.schema_version`` is 1. Setting it to 2
makes that release refuse a migrated database with one line (``has schema version 2``)
instead of writing into tables it does not know; from here on the version table
(``rolecast_alembic_version``) is what rolecast reads.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Mark the database as migrated, out of rolecast 0.1's reach."""
    op.execute(sa.text("UPDATE meta SET value = '2' WHERE key = 'schema_version'"))


def downgrade() -> None:
    """Hand the database back to rolecast 0.1."""
    op.execute(sa.text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
