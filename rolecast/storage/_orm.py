"""The tables of the profile store (SQLAlchemy 2.0 typed ORM); private to ``rolecast.storage``.

A change to a table here needs an Alembic revision in ``migrations/versions`` (see
docs/migrations.md); a test fails while the migrated schema and these classes differ.

Timestamps are stored in UTC and always come back timezone-aware, whatever the dialect
(SQLite has no timezone type; PostgreSQL returns the session's zone).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AGENT_RUN_KEY_COLUMNS",
    "STEP_KEY_COLUMNS",
    "AgentRunRow",
    "Base",
    "MetaRow",
    "RunRow",
    "StepRow",
]

#: The columns of the unique step key, in :class:`~rolecast.storage.records.StepKey` order.
STEP_KEY_COLUMNS = ("fingerprint", "role", "prompt_version", "case_hash", "step_index")

#: The columns of the unique end-to-end run key (coalition identity, case content).
AGENT_RUN_KEY_COLUMNS = ("coalition_key", "case_hash")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and returned timezone-aware; a naive value is taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; SQLite stores it naive."""
        if value is None:
            return None
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach (or convert to) UTC."""
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


_JSON = JSON().with_variant(JSONB(), "postgresql")
_JSON_OR_NULL = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
"""A JSON column where Python ``None`` is SQL NULL (not JSON ``null``), so it can be tested."""


class Base(DeclarativeBase):
    """Declarative base of the profile store's tables."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: _JSON,
        dict[str, float]: _JSON,
        dict[str, str]: _JSON,
        list[Any]: _JSON,
        float: Double(),
        str: String(),
    }


class MetaRow(Base):
    """Key/value facts about the database itself.

    ``schema_version`` is 1 in databases of rolecast 0.1 (before Alembic) and 2 once
    migrated; the Alembic version table is what rolecast reads from then on.
    """

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str]


class RunRow(Base):
    """One profiling or import run.

    ``pid``, ``host`` and ``heartbeat_at`` (refreshed as steps commit) let a later run
    tell a run still going from one whose process died without saying so (SIGKILL, a
    lost machine); ``report`` holds what a scheduled re-profile concluded (its drift).
    """

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    label: Mapped[str]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(32))
    n_generated: Mapped[int] = mapped_column(default=0)
    n_reused: Mapped[int] = mapped_column(default=0)
    config: Mapped[dict[str, Any]]
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[datetime | None]
    report: Mapped[dict[str, Any] | None] = mapped_column(_JSON_OR_NULL)


class StepRow(Base):
    """One scored step; unique on the step key so a stored step is never generated twice."""

    __tablename__ = "steps"
    __table_args__ = (
        UniqueConstraint(*STEP_KEY_COLUMNS, name="uq_steps_key"),
        Index("ix_steps_candidate_role", "candidate", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    candidate: Mapped[str]
    fingerprint: Mapped[str]
    role: Mapped[str]
    prompt_version: Mapped[str]
    case_id: Mapped[str]
    case_hash: Mapped[str]
    step_index: Mapped[int]
    success: Mapped[bool]
    score: Mapped[float]
    metrics: Mapped[dict[str, float]]
    output: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    tokens_in: Mapped[int]
    tokens_out: Mapped[int]
    latency_s: Mapped[float]
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class AgentRunRow(Base):
    """One end-to-end agent run of a coalition on a held-out case (``rolecast verify``).

    Unique on (coalition key, case content hash) like a step on its step key: a stored run
    is never generated again. An infrastructure fault is never stored here.
    """

    __tablename__ = "agent_runs"
    __table_args__ = (
        UniqueConstraint(*AGENT_RUN_KEY_COLUMNS, name="uq_agent_runs_key"),
        Index("ix_agent_runs_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    coalition_key: Mapped[str] = mapped_column(String(64))
    case_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str]
    assignment: Mapped[dict[str, str]]
    fingerprints: Mapped[dict[str, str]]
    prompt_versions: Mapped[dict[str, str]]
    success: Mapped[bool]
    verdict: Mapped[dict[str, Any]]
    judge_version: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(Text)
    calls: Mapped[list[Any]]
    stopped: Mapped[str] = mapped_column(Text)
    n_steps: Mapped[int]
    tokens_in: Mapped[int]
    tokens_out: Mapped[int]
    latency_s: Mapped[float]
    tools: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
