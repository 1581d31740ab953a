"""The agent_runs table: end-to-end runs of ``rolecast verify``, one per coalition and case.

Unique on (coalition_key, case_hash) like a step on its step key, so a stored run is never
generated again; ``calls`` and ``answer`` let a run be judged again without the models.
New table only: existing rows are untouched.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create agent_runs with its unique key and a case index."""
    op.create_table(
        "agent_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("coalition_key", sa.String(64), nullable=False),
        sa.Column("case_hash", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("assignment", _JSON, nullable=False),
        sa.Column("fingerprints", _JSON, nullable=False),
        sa.Column("prompt_versions", _JSON, nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("verdict", _JSON, nullable=False),
        sa.Column("judge_version", sa.String(64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("calls", _JSON, nullable=False),
        sa.Column("stopped", sa.Text(), nullable=False),
        sa.Column("n_steps", sa.Integer(), nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("latency_s", sa.Double(), nullable=False),
        sa.Column("tools", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("coalition_key", "case_hash", name="uq_agent_runs_key"),
    )
    with op.batch_alter_table("agent_runs") as batch_op:
        batch_op.create_index("ix_agent_runs_case", ["case_id"], unique=False)


def downgrade() -> None:
    """Drop agent_runs (its runs are lost)."""
    with op.batch_alter_table("agent_runs") as batch_op:
        batch_op.drop_index("ix_agent_runs_case")
    op.drop_table("agent_runs")
