"""Helpers for the verify tests: coalition configs of scripted candidates, a stand-in judge.

Imported by the tests and by the subprocess the kill test starts (it puts ``tests/`` on
``sys.path``), so both build exactly the same plans.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rolecast.backends import ChatRequest
from rolecast.export import (
    CoalitionConfig,
    Expected,
    Interval,
    Placement,
    Provenance,
    RoleAssignment,
)
from rolecast.suite import build_suite
from rolecast.types import Budget, Candidate
from rolecast.verify import RunPlan

PIPELINE = ("planner", "caller", "extractor", "responder")
HOLDOUT = [case for case in build_suite() if case.split == "holdout"]


def scripted(name: str) -> Candidate:
    return Candidate(name=name, backend="scripted", model=f"scripted/{name}", memory_gb=0.1)


def config(
    assignment: dict[str, str],
    max_steps: int = 4,
    candidates: dict[str, Candidate] | None = None,
    fingerprints: dict[str, str] | None = None,
    prompt_versions: dict[str, str] | None = None,
) -> CoalitionConfig:
    """A runnable coalition; scripted candidates (fingerprint ``fp-NAME``) unless given."""
    names = sorted(set(assignment.values()))
    versions = prompt_versions or {r: "v1" for r in PIPELINE}
    return CoalitionConfig(
        pipeline=list(PIPELINE),
        roles={
            r: RoleAssignment(candidate=assignment[r], prompt_version=versions[r]) for r in PIPELINE
        },
        candidates={n: (candidates or {}).get(n) or scripted(n) for n in names},
        placement=[Placement(candidate=n, gpu=0, memory_gb=0.1) for n in names],
        budget=Budget(),
        max_steps=max_steps,
        expected=Expected(
            accuracy=Interval(mean=0, low=0, high=1, n=0, method="wilson"),
            memory_gb=0.1,
            cost_per_1k_tasks=0,
            latency_s=0,
        ),
        provenance=Provenance(
            rolecast_version="t",
            created_at="2026-01-01T00:00:00Z",
            cases="builtin",
            case_ids=[],
            profile_runs=[],
            database="sqlite://",
            fingerprints={n: (fingerprints or {}).get(n, f"fp-{n}") for n in names},
        ),
    )


def plans(n_cases: int = 3) -> list[RunPlan]:
    """Two coalitions (one model alone, a mix) on the first ``n_cases`` held-out cases."""
    cases = tuple(HOLDOUT[:n_cases])
    return [
        RunPlan(config({r: "a" for r in PIPELINE}), cases),
        RunPlan(config({"planner": "a", "caller": "b", "extractor": "b", "responder": "a"}), cases),
    ]


class Finisher:
    """A scripted model that finishes at once and answers; counts calls; may hang at one."""

    def __init__(self, hang_at_call: int | None = None) -> None:
        self.calls = 0
        self.hang_at_call = hang_at_call

    def __call__(self, request: ChatRequest) -> str:
        self.calls += 1
        if self.hang_at_call is not None and self.calls >= self.hang_at_call:
            time.sleep(3600)  # the kill test kills the process here
        return '{"action": "finish"}'


def judge_by_id(succeeding: Sequence[str]):
    """A judge that passes the named cases (the bookkeeping tests do not test judging)."""

    def judge(case, trajectory):
        return {"success": case.id in succeeding, "answer_len": len(trajectory.answer)}

    return judge
