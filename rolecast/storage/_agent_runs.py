"""The profile store's end-to-end agent runs (``rolecast verify``); mixed into ProfileStore.

Kept apart from the step methods so each file stays one concept. Same contract as steps:
every write commits before returning; a run is unique on (coalition key, case hash).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rolecast.errors import StorageError
from rolecast.storage._orm import AgentRunRow
from rolecast.storage.records import AgentRunRecord

__all__ = ["AgentRunsMixin"]


class AgentRunsMixin:
    """Stored end-to-end runs: add one, list them, re-judge one."""

    def _tx(self, action: str) -> AbstractContextManager[Session]:  # provided by ProfileStore
        raise NotImplementedError

    def add_agent_run(self, record: AgentRunRecord) -> bool:
        """Store one judged run and commit; False (nothing written) when its key is stored.

        A run is generated once: a second writer with the same key (another verify on the
        same database) loses the race and its copy is dropped, never duplicated.
        """
        try:
            with self._tx("store an agent run") as session:
                session.add(_row(record))
        except StorageError as exc:
            if isinstance(exc.__context__, IntegrityError):  # the unique key: already stored
                return False
            raise
        return True

    def agent_runs(
        self,
        *,
        coalition_keys: Sequence[str] | None = None,
        case_hashes: Sequence[str] | None = None,
    ) -> list[AgentRunRecord]:
        """Stored runs matching every given filter (``None`` matches all), oldest first."""
        query = select(AgentRunRow)
        if coalition_keys is not None:
            query = query.where(AgentRunRow.coalition_key.in_(list(coalition_keys)))
        if case_hashes is not None:
            query = query.where(AgentRunRow.case_hash.in_(list(case_hashes)))
        query = query.order_by(AgentRunRow.id)
        with self._tx("read agent runs") as session:
            return [_record(row) for row in session.scalars(query)]

    def rejudge_agent_run(
        self, coalition_key: str, case_hash: str, verdict: dict[str, Any], judge_version: str
    ) -> None:
        """Replace a stored run's verdict (the judge changed; the agent is not run again)."""
        statement = (
            update(AgentRunRow)
            .where(AgentRunRow.coalition_key == coalition_key, AgentRunRow.case_hash == case_hash)
            .values(
                verdict=dict(verdict),
                success=bool(verdict.get("success")),
                judge_version=judge_version,
            )
        )
        with self._tx("re-judge an agent run") as session:
            session.execute(statement)


def _row(record: AgentRunRecord) -> AgentRunRow:
    return AgentRunRow(
        coalition_key=record.coalition_key,
        case_hash=record.case_hash,
        case_id=record.case_id,
        assignment=dict(record.assignment),
        fingerprints=dict(record.fingerprints),
        prompt_versions=dict(record.prompt_versions),
        success=record.success,
        verdict=dict(record.verdict),
        judge_version=record.judge_version,
        answer=record.answer,
        calls=list(record.calls),
        stopped=record.stopped,
        n_steps=record.n_steps,
        tokens_in=record.tokens_in,
        tokens_out=record.tokens_out,
        latency_s=record.latency_s,
        tools=record.tools,
        created_at=record.created_at or datetime.now(UTC),
    )


def _record(row: AgentRunRow) -> AgentRunRecord:
    return AgentRunRecord(
        coalition_key=row.coalition_key,
        case_hash=row.case_hash,
        case_id=row.case_id,
        assignment=dict(row.assignment or {}),
        fingerprints=dict(row.fingerprints or {}),
        prompt_versions=dict(row.prompt_versions or {}),
        success=row.success,
        verdict=dict(row.verdict or {}),
        judge_version=row.judge_version,
        answer=row.answer,
        calls=list(row.calls or []),
        stopped=row.stopped,
        n_steps=row.n_steps,
        tokens_in=row.tokens_in,
        tokens_out=row.tokens_out,
        latency_s=row.latency_s,
        tools=row.tools,
        created_at=row.created_at,
    )
