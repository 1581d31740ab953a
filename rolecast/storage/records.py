"""Frozen domain records the profile store takes and returns (no ORM objects leak out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

__all__ = ["AgentRunRecord", "RunRecord", "StepKey", "StepOutcome", "StepRecord"]


@dataclass(frozen=True)
class StepKey:
    """What makes a stored step reusable: same weights+decoding, role, prompt, case, step."""

    fingerprint: str
    role: str
    prompt_version: str
    case_hash: str
    step_index: int


@dataclass(frozen=True)
class StepRecord:
    """One scored step: a candidate's output for one role on one step of one case."""

    candidate: str
    fingerprint: str
    role: str
    prompt_version: str
    case_id: str
    case_hash: str
    step_index: int
    success: bool
    score: float
    metrics: dict[str, float] = field(default_factory=dict)
    output: str = ""
    error: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    source: str = "rolecast"
    run_id: int | None = None
    created_at: datetime | None = None

    @property
    def key(self) -> StepKey:
        """The cache key of this step."""
        return StepKey(
            self.fingerprint, self.role, self.prompt_version, self.case_hash, self.step_index
        )


class StepOutcome(NamedTuple):
    """What aggregating a stored step needs: its key, verdict, cost and provenance.

    :meth:`~rolecast.storage.ProfileStore.step_outcomes` reads tens of thousands of these
    at once for a profile matrix; a tuple per row costs a fraction of a
    :class:`StepRecord`, and the columns nobody aggregates (the score, the error, the
    timestamp) are not read. ``output`` is kept for imported steps only, where it says what
    was observed (see :func:`rolecast.profiles.imports.observation`); it is ``""`` for
    rolecast's own steps, whose model output aggregation never reads. ``metrics`` is
    read-only (rows with the same metrics share it).
    """

    candidate: str
    fingerprint: str
    role: str
    prompt_version: str
    case_id: str
    case_hash: str
    step_index: int
    success: bool
    metrics: Mapping[str, float]
    output: str
    tokens_in: int
    tokens_out: int
    latency_s: float
    source: str
    run_id: int | None


@dataclass(frozen=True)
class RunRecord:
    """One profiling (or import) run: when, what, how many steps generated vs reused."""

    id: int
    label: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    n_generated: int
    n_reused: int
    config: dict[str, Any] = field(default_factory=dict)
    pid: int | None = None
    """The process that ran it, on ``host``."""
    host: str | None = None
    heartbeat_at: datetime | None = None
    """When the run last showed life (started, or committed a step)."""
    report: dict[str, Any] | None = None
    """What a scheduled re-profile concluded (its snapshot and drift), if anything."""


@dataclass(frozen=True)
class AgentRunRecord:
    """One end-to-end agent run of a coalition on one case, judged against the gold.

    Keyed like steps: ``coalition_key`` hashes, per role, the candidate's fingerprint and
    the prompt version (plus the pipeline, tool set and step limit), and ``case_hash`` is
    the case's content hash; the pair is unique, so a stored run is never generated again.
    ``calls`` and ``answer`` keep what the agent did, so the run can be judged again when
    the judge changes (``judge_version``) without running the models again.
    """

    coalition_key: str
    case_hash: str
    case_id: str
    assignment: dict[str, str]
    fingerprints: dict[str, str]
    prompt_versions: dict[str, str]
    success: bool
    verdict: dict[str, Any] = field(default_factory=dict)
    judge_version: str = ""
    answer: str = ""
    calls: list[Any] = field(default_factory=list)
    stopped: str = ""
    n_steps: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    tools: str = "builtin"
    created_at: datetime | None = None
