"""The profiler: every candidate × role × case step, scored and stored as it is produced.

Re-profiling is incremental: a step whose (candidate fingerprint, role, prompt version,
case hash, step index) is already stored is not generated again, and a candidate whose
steps are all stored is never even loaded.

Faults are not scores: a result whose backend reports an infrastructure fault (server
down, timeout, 5xx, refused key, broken protocol) is never stored, so it is never reused.
The profiler stops asking that candidate's server, profiles the other candidates, marks
the run ``failed`` and raises :class:`~rolecast.errors.InfrastructureError` naming the
candidate, where it is served and the fault; every step that did succeed is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from rolecast.backends import Backend, ChatResult, create_backend, fingerprints, generates
from rolecast.errors import InfrastructureError
from rolecast.profiles.roles import Role, RoleStep
from rolecast.storage import ProfileStore, StepRecord
from rolecast.types import Candidate, ToolCase

__all__ = ["CandidateFault", "ProfileOutcome", "Progress", "profile"]

Progress = Callable[[str, int, int], None]
"""Called as ``progress(description, done, total)`` after each stored step."""

BackendFactory = Callable[[Candidate], Backend]


@dataclass(frozen=True)
class CandidateFault:
    """An infrastructure fault that stopped one candidate's profiling."""

    candidate: str
    where: str
    """Where the model is served: the base URL, or backend:model for in-process ones."""
    fault: str
    """The fault kind (:class:`~rolecast.backends.Fault`)."""
    error: str
    not_profiled: int
    """Steps of this candidate left unprofiled (the faulted ones and those after them)."""

    def __str__(self) -> str:
        return (
            f"candidate {self.candidate} at {self.where}: {self.fault} fault ({self.error}); "
            f"{self.not_profiled} step(s) not profiled"
        )


@dataclass
class ProfileOutcome:
    """What a profiling run did."""

    run_id: int
    generated: int = 0
    reused: int = 0
    errors: int = 0
    per_pair: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    imported: list[str] = field(default_factory=list)
    """Candidates skipped because their results come from ``rolecast import``."""
    faults: list[CandidateFault] = field(default_factory=list)
    """Infrastructure faults (nothing of them stored); non-empty means the run failed."""


@dataclass(frozen=True)
class _Job:
    candidate: Candidate
    fingerprint: str
    role: Role
    case: ToolCase
    step: RoleStep


def profile(
    cases: Sequence[ToolCase],
    candidates: Sequence[Candidate],
    roles: Sequence[Role],
    store: ProfileStore,
    *,
    label: str = "profile",
    batch_size: int | None = None,
    progress: Progress | None = None,
    backend_factory: BackendFactory = create_backend,
    config: dict[str, Any] | None = None,
) -> ProfileOutcome:
    """Profile ``candidates`` on ``roles`` over ``cases``; returns what was generated.

    Each step is committed as soon as its batch returns; batches are the backend's own
    :attr:`~rolecast.backends.Backend.batch_size` unless ``batch_size`` is given, so a
    sequential backend commits every step as it is produced, and a batching engine (vLLM)
    gets all pending steps of a role in one call. A batch never spans two roles.

    Raises:
        InfrastructureError: A candidate's server faulted (see the module docstring); the
            error's ``outcome`` attribute holds this run's :class:`ProfileOutcome`.
    """
    # Fingerprints hash the weights: a missing model fails here, before a run is recorded.
    by_name = fingerprints(candidates)
    run_id = store.start_run(
        label,
        {
            "candidates": [c.name for c in candidates],
            "roles": [r.name for r in roles],
            "cases": [c.id for c in cases],
            **(config or {}),
        },
    )
    outcome = ProfileOutcome(run_id=run_id)
    plan: list[tuple[Candidate, list[_Job]]] = []
    # A role's steps (their prompts) and a case's hash are the same for every candidate:
    # built once, not once per candidate (a no-op reprofile is mostly this loop).
    hashes = {case.id: case.content_hash for case in cases}
    role_steps = {role.name: [(case, role.steps(case)) for case in cases] for role in roles}
    stored = store.existing_keys_many(
        [by_name[c.name] for c in candidates if generates(c)]
    )  # every candidate × role's reusable steps, in one query
    for candidate in candidates:
        if not generates(candidate):
            outcome.imported.append(candidate.name)  # measured elsewhere: nothing to run
            continue
        fp = by_name[candidate.name]
        jobs: list[_Job] = []
        for role in roles:
            done = stored.get((fp, role.name, role.prompt_version), set())
            counts = outcome.per_pair.setdefault(
                (candidate.name, role.name), {"new": 0, "reused": 0}
            )
            for case, steps in role_steps[role.name]:
                for step in steps:
                    if (hashes[case.id], step.index) in done:
                        counts["reused"] += 1
                        outcome.reused += 1
                    else:
                        counts["new"] += 1
                        jobs.append(_Job(candidate, fp, role, case, step))
        plan.append((candidate, jobs))

    total = sum(len(jobs) for _, jobs in plan)
    status = "interrupted"
    try:
        runner = _Runner(store, outcome, total, batch_size, progress, backend_factory)
        for candidate, jobs in plan:
            if jobs:
                runner.run(candidate, jobs)
        status = "failed" if outcome.faults else "done"
    finally:
        store.finish_run(
            run_id, n_generated=outcome.generated, n_reused=outcome.reused, status=status
        )
    if outcome.faults:
        error = InfrastructureError(
            "; ".join(str(fault) for fault in outcome.faults)
            + f"; run {run_id} failed: the {outcome.generated} step(s) that succeeded are "
            "stored, the faulted ones are not (the next run generates them once the server "
            "answers)"
        )
        error.outcome = outcome  # type: ignore[attr-defined]
        raise error
    return outcome


@dataclass
class _Runner:
    """Generates, scores and stores the jobs of one profiling run."""

    store: ProfileStore
    outcome: ProfileOutcome
    total: int
    batch_size: int | None
    progress: Progress | None
    backend_factory: BackendFactory

    def run(self, candidate: Candidate, jobs: list[_Job]) -> None:
        """Profile one candidate's jobs; stop at its first faulted batch."""
        outcome = self.outcome
        with self.backend_factory(candidate) as backend:
            size = self.batch_size or backend.batch_size
            start = 0
            for batch in _batches(jobs, size):
                results = backend.generate([job.step.request for job in batch])
                faulted: ChatResult | None = None
                n_faulted = 0
                for job, result in zip(batch, results, strict=True):
                    if result.fault is not None:  # the model never answered: not a score
                        faulted = faulted or result
                        n_faulted += 1
                        continue
                    self.store.add_step(_record(candidate, job, result, outcome.run_id))
                    outcome.generated += 1
                    outcome.errors += result.error is not None
                    if self.progress:
                        self.progress(
                            f"{candidate.name} · {job.role.name}", outcome.generated, self.total
                        )
                if faulted is not None:  # its server is failing: ask it nothing more
                    outcome.faults.append(
                        CandidateFault(
                            candidate=candidate.name,
                            where=_where(candidate),
                            fault=str(faulted.fault),
                            error=faulted.error or "",
                            not_profiled=n_faulted + len(jobs) - start - len(batch),
                        )
                    )
                    return
                start += len(batch)


def _record(candidate: Candidate, job: _Job, result: ChatResult, run_id: int) -> StepRecord:
    scored = job.role.score(job.case, job.step, result)
    return StepRecord(
        candidate=candidate.name,
        fingerprint=job.fingerprint,
        role=job.role.name,
        prompt_version=job.role.prompt_version,
        case_id=job.case.id,
        case_hash=job.case.content_hash,
        step_index=job.step.index,
        success=scored.success,
        score=scored.score,
        metrics=scored.metrics,
        output=result.text,
        error=result.error,
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
        latency_s=result.latency_s,
        run_id=run_id,
    )


def _where(candidate: Candidate) -> str:
    """Where a candidate is served, for a fault message; credentials in a URL are dropped."""
    if not candidate.base_url:
        return f"{candidate.backend}:{candidate.model}"
    parts = urlsplit(candidate.base_url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _batches(jobs: Sequence[_Job], size: int) -> list[list[_Job]]:
    """``jobs`` cut into batches of at most ``size``, each within one role."""
    batches: list[list[_Job]] = []
    for job in jobs:
        last = batches[-1] if batches else None
        if last is None or len(last) >= size or last[-1].role.name != job.role.name:
            batches.append([job])
        else:
            last.append(job)
    return batches
