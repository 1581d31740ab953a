"""The tables of rolecast 0.1, the release before Alembic, copied as they were.

This is the schema a user's database has today: ``Base.metadata.create_all`` of
``rolecast/storage/_orm.py`` at that release, plus ``meta.schema_version = '1'``. It is
frozen here on purpose (never import the current ORM): the migration tests build a
database with it and upgrade that database in place.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    insert,
)
from sqlalchemy.dialects.postgresql import JSONB

_JSON = JSON().with_variant(JSONB(), "postgresql")

OLD = MetaData()
META = Table(
    "meta",
    OLD,
    Column("key", String(64), primary_key=True),
    Column("value", String(), nullable=False),
)
RUNS = Table(
    "runs",
    OLD,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("label", String(), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(32), nullable=False),
    Column("n_generated", Integer(), nullable=False),
    Column("n_reused", Integer(), nullable=False),
    Column("config", _JSON, nullable=False),
)
STEPS = Table(
    "steps",
    OLD,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("run_id", Integer(), ForeignKey("runs.id", ondelete="SET NULL")),
    Column("candidate", String(), nullable=False),
    Column("fingerprint", String(), nullable=False),
    Column("role", String(), nullable=False),
    Column("prompt_version", String(), nullable=False),
    Column("case_id", String(), nullable=False),
    Column("case_hash", String(), nullable=False),
    Column("step_index", Integer(), nullable=False),
    Column("success", Boolean(), nullable=False),
    Column("score", Double(), nullable=False),
    Column("metrics", _JSON, nullable=False),
    Column("output", Text(), nullable=False),
    Column("error", Text()),
    Column("tokens_in", Integer(), nullable=False),
    Column("tokens_out", Integer(), nullable=False),
    Column("latency_s", Double(), nullable=False),
    Column("source", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "fingerprint", "role", "prompt_version", "case_hash", "step_index", name="uq_steps_key"
    ),
    Index("ix_steps_candidate_role", "candidate", "role"),
)

#: When the old rows were written (SQLite keeps it naive: the UTC wall clock).
WRITTEN_AT = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


def old_steps(run_id: int, n: int) -> list[dict[str, Any]]:
    """``n`` step rows as rolecast 0.1 wrote them, with distinct values in every column."""
    return [
        {
            "run_id": run_id,
            "candidate": f"model-{i % 3}",
            "fingerprint": f"fp-{i % 3}",
            "role": ("planner", "caller")[i % 2],
            "prompt_version": "v1",
            "case_id": f"case-{i}",
            "case_hash": f"hash-{i}",
            "step_index": i % 4,
            "success": i % 5 != 0,
            "score": (i % 7) / 7,
            "metrics": {"plan_acc": (i % 7) / 7, "n": float(i)},
            "output": f"output {i} ünïcode",
            "error": None if i % 5 else f"error {i}",
            "tokens_in": 100 + i,
            "tokens_out": 10 + i,
            "latency_s": 0.25 * i,
            "source": "profile" if i % 2 else "import",
            "created_at": WRITTEN_AT,
        }
        for i in range(n)
    ]


def make_old_database(url: str, n_steps: int = 25, schema_version: str = "1") -> None:
    """A database exactly as rolecast 0.1 leaves it: one finished run and its steps."""
    engine = create_engine(url)
    try:
        OLD.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(META).values(key="schema_version", value=schema_version))
            run_id = conn.execute(  # the id from the database, as rolecast 0.1 let it be
                insert(RUNS).values(
                    label="profile",
                    started_at=WRITTEN_AT,
                    finished_at=WRITTEN_AT,
                    status="done",
                    n_generated=n_steps,
                    n_reused=0,
                    config={"project": "old"},
                )
            ).inserted_primary_key[0]
            assert run_id == 1, "the fixture needs an empty database"
            if n_steps:
                conn.execute(insert(STEPS), old_steps(run_id, n_steps))
    finally:
        engine.dispose()
