"""Run coalitions as agents on held-out cases; judge and store every run as it is produced.

A run is keyed like a step (:func:`coalition_key` and the case's content hash), so a run
already in the store is never generated again and a kill between runs loses only the one
in flight. An infrastructure fault (a backend result flagged as a fault, or a tool set
that raises :class:`~rolecast.errors.RolecastError`) says nothing about the models: the
run is counted as a fault and not stored, so the next verify tries it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rolecast.agent import JUDGE_VERSION, CoalitionRunner, Trajectory, judge
from rolecast.backends import Backend, ChatRequest, ChatResult, create_backend
from rolecast.errors import RolecastError
from rolecast.export import CoalitionConfig
from rolecast.storage import AgentRunRecord, ProfileStore
from rolecast.tools import ToolSet
from rolecast.types import Candidate, ToolCase, stable_hash

__all__ = [
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
            "tools": config.tools,
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


class _ToolFault(Exception):
    """A tool set's infrastructure failure, carried out of the agent loop."""


class _Recording(Backend):
    """Passes requests through and keeps every result, so faults can be found afterwards."""

    def __init__(self, inner: Backend, results: list[ChatResult]) -> None:
        super().__init__(inner.candidate)
        self._inner = inner
        self._results = results

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
        """Close the wrapped backend."""
        self._inner.close()


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
    judge_fn = judge_fn or default_judge()
    outcome = RunOutcome()
    total = sum(len(plan.cases) for plan in plans)
    done = 0
    results: list[ChatResult] = []  # what the backends returned during the current run
    for plan in plans:
        key = plan.key
        stored = {r.case_hash: r for r in store.agent_runs(coalition_keys=[key])}
        todo = [case for case in plan.cases if case.content_hash not in stored]
        for case in plan.cases:
            record = stored.get(case.content_hash)
            if record is None:
                continue
            outcome.reused += 1
            done += 1
            if record.judge_version != JUDGE_VERSION:
                _rejudge(store, record, case, judge_fn)
                outcome.rejudged += 1
        if progress is not None:
            progress("verify", done, total)
        if not todo or (limit is not None and outcome.generated >= limit):
            continue
        runner = CoalitionRunner(
            plan.config, backend_factory=lambda c: _Recording(backend_factory(c), results)
        )
        with runner:
            for case in todo:
                if limit is not None and outcome.generated >= limit:
                    break
                results.clear()
                record_or_fault = _run_one(runner, plan, key, case, toolset, judge_fn, results)
                if isinstance(record_or_fault, str):
                    outcome.faults += 1
                    outcome.fault_messages.append(f"{case.id}: {record_or_fault}")
                else:
                    store.add_agent_run(record_or_fault)
                    outcome.generated += 1
                done += 1
                if progress is not None:
                    progress("verify", done, total)
    return outcome


def _run_one(
    runner: CoalitionRunner,
    plan: RunPlan,
    key: str,
    case: ToolCase,
    toolset: ToolSet,
    judge_fn: Judge,
    results: list[ChatResult],
) -> AgentRunRecord | str:
    """One agent run: the stored record, or the fault's message when the infrastructure failed."""

    def call(name: str, arguments: dict[str, Any]) -> Any:
        try:
            return toolset.call(name, arguments, case)
        except RolecastError as exc:  # the tool's server, not the model
            raise _ToolFault(str(exc)) from None

    try:
        trajectory = runner.run(case.instruction, toolset.tools(case), call)
    except _ToolFault as exc:
        return f"tool fault: {exc}"
    faults = [r for r in results if r.faulted]
    if faults:
        return f"backend fault: {faults[0].error}"
    verdict = judge_fn(case, trajectory)
    config = plan.config
    return AgentRunRecord(
        coalition_key=key,
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
        tools=config.tools,
    )


def _rejudge(store: ProfileStore, record: AgentRunRecord, case: ToolCase, judge_fn: Judge) -> None:
    trajectory = Trajectory(case.instruction, answer=record.answer, stopped=record.stopped)
    trajectory.calls = [(str(name), dict(arguments)) for name, arguments in record.calls]
    verdict = judge_fn(case, trajectory)
    store.rejudge_agent_run(
        record.coalition_key, record.case_hash, _jsonable(verdict), JUDGE_VERSION
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
