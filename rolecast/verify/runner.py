"""Run coalitions as agents on held-out cases; judge and store every run as it is produced.

A run is keyed like a step (:func:`coalition_key` and the case's content hash), so a run
already in the store is never generated again and a kill between runs loses only the one
in flight. An infrastructure fault (a backend result flagged as a fault, or a tool set or
server that raises :class:`~rolecast.errors.InfrastructureError`) says nothing about the
models: the run is counted as a fault and not stored, so the next verify tries it again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rolecast.agent import JUDGE_VERSION, CoalitionRunner, Trajectory, judge, run_case
from rolecast.backends import Backend, ChatRequest, ChatResult, create_backend
from rolecast.errors import InfrastructureError
from rolecast.export import CoalitionConfig
from rolecast.storage import AgentRunRecord, ProfileStore
from rolecast.tools import ToolSet
from rolecast.types import Candidate, ToolCase, stable_hash

__all__ = [
    "AgentSession",
    "Judge",
    "RunOutcome",
    "RunPlan",
    "coalition_key",
    "default_judge",
    "run_plans",
]

Judge = Callable[[ToolCase, Trajectory], dict[str, Any]]
"""``judge(case, trajectory) -> verdict`` with at least ``success`` (bool)."""

Progress = Callable[[str, int, int], None]


def coalition_key(config: CoalitionConfig) -> str:
    """What makes a stored end-to-end run reusable (the names are not part of it).

    Per role the candidate's fingerprint and prompt version, the pipeline, the tool set
    and the step limit.
    """
    fingerprints = config.provenance.fingerprints
    return stable_hash(
        {
            "pipeline": list(config.pipeline),
            "roles": {
                role: {
                    "fingerprint": fingerprints[assignment.candidate],
                    "prompt_version": assignment.prompt_version,
                }
                for role, assignment in config.roles.items()
            },
            "tools": config.tools.describe(),
            "max_steps": config.max_steps,
        },
        32,
    )


@dataclass(frozen=True)
class RunPlan:
    """One coalition and the cases to run it on."""

    config: CoalitionConfig
    cases: tuple[ToolCase, ...]

    @property
    def key(self) -> str:
        """The coalition key its runs are stored under."""
        return coalition_key(self.config)


@dataclass
class RunOutcome:
    """What a verify did: runs generated, reused from the store, re-judged, faulted."""

    generated: int = 0
    reused: int = 0
    rejudged: int = 0
    faults: int = 0
    fault_messages: list[str] = field(default_factory=list)


def default_judge() -> Judge:
    """The project's end-to-end judge (:func:`rolecast.agent.judge`).

    Its embedder is loaded only when there is something to judge.
    """
    cache: dict[str, Callable[[str, str], float]] = {}

    def similarity(a: str, b: str) -> float:
        if "f" not in cache:
            from rolecast.profiles.embeddings import default_embedder

            cache["f"] = default_embedder().similarity
        return cache["f"](a, b)

    return lambda case, trajectory: judge(case, trajectory, similarity)


class _Recording(Backend):
    """Passes requests through and keeps every result, so faults can be found afterwards."""

    def __init__(self, inner: Backend, results: list[ChatResult], owns: bool = True) -> None:
        super().__init__(inner.candidate)
        self._inner = inner
        self._results = results
        self._owns = owns

    @property
    def batch_size(self) -> int:
        """The wrapped backend's batch size."""
        return self._inner.batch_size

    def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Generate with the wrapped backend and record the results."""
        out = self._inner.generate(requests)
        self._results.extend(out)
        return out

    def close(self) -> None:
        """Close the wrapped backend, unless a session owns it."""
        if self._owns:
            self._inner.close()


class AgentSession:
    """Runs coalitions on cases as agents, reusing stored runs; one per verify.

    The models of the coalition run last stay loaded, and a model the next coalition
    shares is not loaded again; models it does not use are closed first, so no more than
    one coalition's models (which fit the budget) are in memory at once.
    """

    def __init__(
        self,
        store: ProfileStore,
        toolset: ToolSet,
        *,
        judge_fn: Judge | None = None,
        backend_factory: Callable[[Candidate], Backend] = create_backend,
    ) -> None:
        self.store, self.toolset = store, toolset
        self.judge_fn = judge_fn or default_judge()
        self.outcome = RunOutcome()
        self._factory = backend_factory
        self._backends: dict[str, Backend] = {}
        self._results: list[ChatResult] = []  # what the backends returned in the current run
        self._stored: dict[str, dict[str, AgentRunRecord]] = {}
        self._runner: tuple[str, CoalitionRunner] | None = None

    def stored(self, config: CoalitionConfig) -> dict[str, AgentRunRecord]:
        """The stored runs of a coalition by case hash (read once per coalition)."""
        key = coalition_key(config)
        if key not in self._stored:
            runs = self.store.agent_runs(coalition_keys=[key])
            self._stored[key] = {r.case_hash: r for r in runs}
        return self._stored[key]

    def get(
        self, config: CoalitionConfig, case: ToolCase, *, generate: bool = True
    ) -> AgentRunRecord | None:
        """The coalition's judged run on ``case``: stored, or run, judged and stored now.

        None when it is not stored and ``generate`` is False, or when the run hit an
        infrastructure fault (counted in :attr:`outcome`, not stored).
        """
        stored = self.stored(config)
        record = stored.get(case.content_hash)
        if record is not None:
            self.outcome.reused += 1
            if record.judge_version != JUDGE_VERSION:
                record = _rejudge(self.store, record, case, self.judge_fn)
                stored[case.content_hash] = record
                self.outcome.rejudged += 1
            return record
        if not generate:
            return None
        self._results.clear()
        made = _run_one(
            self._runner_for(config), config, case, self.toolset, self.judge_fn, self._results
        )
        if isinstance(made, str):
            self.outcome.faults += 1
            self.outcome.fault_messages.append(f"{case.id}: {made}")
            return None
        if not self.store.add_agent_run(made):  # another verify stored it meanwhile
            made = self.store.agent_runs(
                coalition_keys=[made.coalition_key], case_hashes=[made.case_hash]
            )[0]
        stored[case.content_hash] = made
        self.outcome.generated += 1
        return made

    def _runner_for(self, config: CoalitionConfig) -> CoalitionRunner:
        key = coalition_key(config)
        if self._runner is not None and self._runner[0] == key:
            return self._runner[1]
        for name in [n for n in self._backends if n not in config.candidates]:
            self._backends.pop(name).close()
        runner = CoalitionRunner(config, backend_factory=self._shared)
        self._runner = (key, runner)
        return runner

    def _shared(self, candidate: Candidate) -> Backend:
        if candidate.name not in self._backends:
            self._backends[candidate.name] = self._factory(candidate)
        return _Recording(self._backends[candidate.name], self._results, owns=False)

    def close(self) -> None:
        """Free every loaded model."""
        for backend in self._backends.values():
            backend.close()
        self._backends.clear()
        self._runner = None

    def __enter__(self) -> AgentSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_plans(
    plans: Sequence[RunPlan],
    store: ProfileStore,
    toolset: ToolSet,
    *,
    judge_fn: Judge | None = None,
    backend_factory: Callable[[Candidate], Backend] = create_backend,
    progress: Progress | None = None,
    limit: int | None = None,
) -> RunOutcome:
    """Run each plan's cases not yet stored; store each judged run as it is produced.

    ``limit`` caps the runs generated (stored runs are free). Stored runs judged by an
    older judge are judged again from their stored calls and answer (no model runs).
    """
    total = sum(len(plan.cases) for plan in plans)
    done = 0
    with AgentSession(store, toolset, judge_fn=judge_fn, backend_factory=backend_factory) as run:
        for plan in plans:
            for case in plan.cases:
                allowed = limit is None or run.outcome.generated < limit
                run.get(plan.config, case, generate=allowed)
                done += 1
                if progress is not None:
                    progress("verify", done, total)
        return run.outcome


def _run_one(
    runner: CoalitionRunner,
    config: CoalitionConfig,
    case: ToolCase,
    toolset: ToolSet,
    judge_fn: Judge,
    results: list[ChatResult],
) -> AgentRunRecord | str:
    """One agent run: the stored record, or the fault's message when the infrastructure failed."""
    try:
        trajectory = run_case(runner, case, toolset)
    except InfrastructureError as exc:  # a tool server (or a model server) failed as a whole
        return f"infrastructure fault: {exc}"
    faults = [r for r in results if r.faulted]
    if faults:
        return f"backend fault: {faults[0].error}"
    verdict = judge_fn(case, trajectory)
    return AgentRunRecord(
        coalition_key=coalition_key(config),
        case_hash=case.content_hash,
        case_id=case.id,
        assignment={role: a.candidate for role, a in config.roles.items()},
        fingerprints={
            role: config.provenance.fingerprints[a.candidate] for role, a in config.roles.items()
        },
        prompt_versions={role: a.prompt_version for role, a in config.roles.items()},
        success=bool(verdict.get("success")),
        verdict=_jsonable(verdict),
        judge_version=JUDGE_VERSION,
        answer=trajectory.answer,
        calls=[[name, arguments] for name, arguments in trajectory.calls],
        stopped=trajectory.stopped,
        n_steps=len(trajectory.steps),
        tokens_in=sum(r.tokens_in for r in results),
        tokens_out=sum(r.tokens_out for r in results),
        latency_s=round(sum(step.latency_s for step in trajectory.steps), 4),
        tools=toolset.source[:200],
    )


def _rejudge(
    store: ProfileStore, record: AgentRunRecord, case: ToolCase, judge_fn: Judge
) -> AgentRunRecord:
    trajectory = Trajectory(case.instruction, answer=record.answer, stopped=record.stopped)
    trajectory.calls = [(str(name), dict(arguments)) for name, arguments in record.calls]
    verdict = _jsonable(judge_fn(case, trajectory))
    store.rejudge_agent_run(record.coalition_key, record.case_hash, verdict, JUDGE_VERSION)
    return dataclasses.replace(
        record, verdict=verdict, success=bool(verdict.get("success")), judge_version=JUDGE_VERSION
    )


def _jsonable(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """Verdict values as plain JSON types (numpy floats and bools become Python ones)."""
    out: dict[str, Any] = {}
    for name, value in verdict.items():
        if isinstance(value, bool | str | int | float) or value is None:
            out[name] = value
        elif hasattr(value, "item"):
            out[name] = value.item()
        else:
            out[name] = str(value)
    return out
