"""Coalitions: role -> candidate, with predicted accuracy, memory and cost.

Predicted accuracy (the surrogate) keeps the correlation between roles on hard cases:
a case succeeds only if every step of every role succeeds with the assigned candidates,
and the coalition's accuracy is the mean over cases (with a Wilson interval). A product
of per-role averages would lose that correlation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rolecast.allocator.memory import MemoryEstimate, estimate_memory, shape_for
from rolecast.allocator.placement import MAX_UTILIZATION, ModelPlacement, place
from rolecast.allocator.surrogate import coalition_estimate
from rolecast.backends import local_weights
from rolecast.errors import RolecastError
from rolecast.profiles.imports import imported_outcomes, observed_steps, unconditional
from rolecast.profiles.roles import Role
from rolecast.profiles.stats import Estimate, estimate, wilson_interval
from rolecast.storage import ProfileStore, StepOutcome
from rolecast.types import Budget, Candidate, Prices, ToolCase

__all__ = [
    "CoalitionEval",
    "ProfileMatrix",
    "RoleStats",
    "candidate_memory",
    "cost_per_1k",
    "profiled_cases",
]

Assignment = Mapping[str, str]
"""role -> candidate name."""


@dataclass(frozen=True)
class RoleStats:
    """One candidate on one role, aggregated over the profiled cases."""

    candidate: str
    role: str
    case_success: dict[str, bool]
    step_rate: Estimate
    metric_means: dict[str, float]
    tokens_in_per_case: float
    tokens_out_per_case: float
    latency_per_case: float
    source: str
    metric_estimates: dict[str, Estimate] = field(default_factory=dict)
    """Per metric: mean with n and a 95% interval (Wilson for 0/1 metrics, else bootstrap)."""
    case_fraction: dict[str, float] = field(default_factory=dict)
    """Per case: the fraction of this role's steps that passed (1.0 when it has none)."""
    run_ids: tuple[int, ...] = ()
    """The profiling runs that produced these steps (imported rows have none)."""
    case_observed: dict[str, bool] = field(default_factory=dict)
    """Per case: False where the cell was not observed (an imported step marked not
    observed, or observed only where an upstream role succeeded and it did not); such a
    cell's ``case_success`` is a placeholder, never read as a failure. Absent means True."""

    def observed_rate(self) -> float:
        """Success rate over the observed cells (0.5 when none was observed)."""
        seen = [ok for case, ok in self.case_success.items() if self.case_observed.get(case, True)]
        return sum(seen) / len(seen) if seen else 0.5


@dataclass(frozen=True)
class CoalitionEval:
    """A coalition's predicted accuracy, memory, cost and budget violations."""

    assignment: dict[str, str]
    accuracy: Estimate
    case_success: tuple[float, ...]
    memory_gb: float
    cost_per_1k: float
    latency_s: float
    violations: dict[str, float] = field(default_factory=dict)
    partial_credit: float = 0.0
    """Mean over cases and roles of the fraction of steps passed: a graded score that
    orders coalitions tied on accuracy (e.g. all at 0 on a suite too hard for them)."""

    @property
    def feasible(self) -> bool:
        """True when no budget is exceeded."""
        return all(excess <= 0 for excess in self.violations.values())

    @property
    def label(self) -> str:
        """``planner=a caller=b ...`` for tables and messages."""
        return " ".join(f"{role}={name}" for role, name in self.assignment.items())


def candidate_memory(candidate: Candidate) -> MemoryEstimate:
    """Serving memory of one candidate, from its weights' metadata where available."""
    weights: Path | None = None
    if candidate.memory_gb is None:
        weights = local_weights(candidate)
    return estimate_memory(candidate, shape_for(candidate, weights))


def cost_per_1k(
    prices: Prices, tokens_in_per_case: float, tokens_out_per_case: float, latency_per_case: float
) -> float:
    """USD per 1000 tasks of one role played with these prices, tokens and seconds per case."""
    per_task = (
        tokens_in_per_case * prices.input_per_mtok / 1e6
        + tokens_out_per_case * prices.output_per_mtok / 1e6
        + latency_per_case * prices.per_hour / 3600
    )
    return 1000 * per_task


def profiled_cases(
    cases: Sequence[ToolCase], roles: Sequence[Role]
) -> tuple[list[ToolCase], dict[str, dict[str, list[int]]]]:
    """The cases some role has a step on, and per role and case the indices of its steps.

    A case on which no role of the pipeline has a step (a no-call case in a caller-only
    pipeline) says nothing about a coalition: a profile matrix leaves it out.
    """
    # computed once for every candidate (building a role's steps renders its prompts)
    indices = {
        role.name: {case.id: [step.index for step in role.steps(case)] for case in cases}
        for role in roles
    }
    kept = [case for case in cases if any(indices[role.name][case.id] for role in roles)]
    return kept, indices


class ProfileMatrix:
    """Stored per-case results of every candidate on every role, ready for search."""

    def __init__(
        self,
        stats: Mapping[tuple[str, str], RoleStats],
        candidates: Sequence[Candidate],
        roles: Sequence[str],
        case_ids: Sequence[str],
    ) -> None:
        self.stats = dict(stats)
        self.candidates = {c.name: c for c in candidates}
        self.roles = tuple(roles)
        self.case_ids = tuple(case_ids)
        self._memory: dict[str, MemoryEstimate] = {}
        self._scores: dict[tuple[str, str], np.ndarray] | None = None
        self.surrogate = "observed"
        """Name of what :meth:`case_scores` returns: ``observed`` 0/1 outcomes by default."""

    @classmethod
    def from_store(
        cls,
        store: ProfileStore,
        cases: Sequence[ToolCase],
        candidates: Sequence[Candidate],
        roles: Sequence[Role],
        fingerprints: Mapping[str, str],
    ) -> ProfileMatrix:
        """Read the steps of ``candidates`` × ``roles`` on ``cases``.

        rolecast's own steps must match the candidate's fingerprint, the role's prompt
        version and the case's content hash; a candidate with no such steps may use
        imported results (matched by case id). Missing steps raise with what to run.
        A case on which no role of the pipeline has a step (a no-call case in a caller-only
        pipeline) says nothing about a coalition and is left out, not counted as solved.
        """
        cases, indices = profiled_cases(cases, roles)
        case_ids = [case.id for case in cases]
        hashes = {case.id: case.content_hash for case in cases}
        stats: dict[tuple[str, str], RoleStats] = {}
        by_candidate: dict[str, dict[str, list[StepOutcome]]] = {c.name: {} for c in candidates}
        for row in store.step_outcomes(  # one query for all candidates, grouped here
            candidates=[c.name for c in candidates], roles=[r.name for r in roles]
        ):
            by_candidate[row.candidate].setdefault(row.role, []).append(row)
        for candidate in candidates:
            by_role = by_candidate[candidate.name]
            # what `given <role>` imports are conditional on
            upstream = imported_outcomes(r for rows in by_role.values() for r in rows)
            for role in roles:
                stats[(candidate.name, role.name)] = _role_stats(
                    candidate.name,
                    role,
                    cases,
                    by_role.get(role.name, []),
                    fingerprints.get(candidate.name),
                    upstream,
                    indices[role.name],
                    hashes,
                )
        return cls(stats, candidates, [r.name for r in roles], case_ids)

    def case_scores(self, candidate: str, role: str) -> np.ndarray:
        """Per case (in :attr:`case_ids` order): how likely ``candidate`` succeeds on ``role``.

        The search's objective is the mean over cases of the product of these values over
        the coalition's roles. By default they are the observed 0/1 outcomes (every step of
        the role on the case passed); :meth:`with_case_scores` swaps in another surrogate's
        probabilities in [0, 1].
        """
        if self._scores is not None:
            return self._scores[(candidate, role)]
        stats = self.stats[(candidate, role)]
        rate = stats.observed_rate()  # an unobserved cell is no failure: the role's rate
        return np.array([
            float(stats.case_success[case]) if stats.case_observed.get(case, True) else rate
            for case in self.case_ids
        ])  # fmt: skip

    def with_case_scores(
        self, scores: Mapping[tuple[str, str], np.ndarray], surrogate: str
    ) -> ProfileMatrix:
        """A copy whose :meth:`case_scores` are ``scores`` ((candidate, role) -> per case)."""
        missing = sorted(set(self.stats) - set(scores))
        if missing:
            raise RolecastError(f"surrogate {surrogate!r} has no scores for {missing[:3]}")
        copy = ProfileMatrix(self.stats, list(self.candidates.values()), self.roles, self.case_ids)
        copy._memory = self._memory
        copy._scores = {key: np.asarray(value, dtype=float) for key, value in scores.items()}
        copy.surrogate = surrogate
        return copy

    def profile_runs(self, assignment: Assignment) -> list[int]:
        """The profiling runs whose steps a coalition's prediction rests on."""
        return sorted({run for role, name in assignment.items()
                       for run in self.stats[(name, role)].run_ids})  # fmt: skip

    def options(self, role: str) -> list[str]:
        """Candidates profiled on ``role``."""
        return [name for (name, r) in self.stats if r == role]

    def memory(self, name: str) -> MemoryEstimate:
        """Memory estimate of a candidate (computed once)."""
        if name not in self._memory:
            self._memory[name] = candidate_memory(self.candidates[name])
        return self._memory[name]

    def coalition_memory_gb(self, assignment: Assignment) -> float:
        """Memory of the distinct candidates: a model used by several roles loads once.

        Summed in role order (first use of each model), the order the search adds them in.
        """
        total = 0.0
        for name in dict.fromkeys(assignment.values()):
            total += self.memory(name).total_gb
        return total

    def role_cost_per_1k(self, name: str, role: str) -> float:
        """USD per 1000 tasks of ``name`` playing ``role`` (tokens, latency, prices)."""
        s = self.stats[(name, role)]
        return cost_per_1k(
            self.candidates[name].prices,
            s.tokens_in_per_case,
            s.tokens_out_per_case,
            s.latency_per_case,
        )

    def cost_per_1k(self, assignment: Assignment) -> float:
        """USD per 1000 tasks from profiled tokens and latency and the candidates' prices."""
        total = 0.0
        for role, name in assignment.items():
            total += self.role_cost_per_1k(name, role)
        return total

    def latency_s(self, assignment: Assignment) -> float:
        """Mean seconds per task, the roles run one after another."""
        total = 0.0
        for role, name in assignment.items():
            total += self.stats[(name, role)].latency_per_case
        return total

    def placement(self, assignment: Assignment, budget: Budget) -> list[ModelPlacement] | None:
        """Where the coalition's distinct models go on ``budget.gpus`` (None: they do not fit).

        Without a GPU list the models share one GPU of ``budget.gpu_memory_gb`` (GPU 0),
        or, with no memory budget either, each gets GPU 0 with no fraction.
        """
        models = {name: self.memory(name) for name in dict.fromkeys(assignment.values())}
        if budget.gpus:
            return place(models, budget.gpus)
        size = budget.gpu_memory_gb
        return [
            ModelPlacement(
                model=name,
                gpus=(0,),
                memory_gb=memory.total_gb,
                fraction=min(memory.total_gb / size, 1.0) if size else 0.0,
                tensor_parallel_size=1,
            )
            for name, memory in models.items()
        ]

    def violations(self, assignment: Assignment, budget: Budget) -> dict[str, float]:
        """Budget name -> how far over it the coalition is (≤ 0 means within).

        ``gpus`` is 0 when the distinct models can be placed on the GPUs, else the GB by
        which their total exceeds 90% of the GPUs' memory (at least the smallest model's
        memory when the total fits but no arrangement does).
        """
        out: dict[str, float] = {}
        if budget.gpu_memory_gb is not None:
            out["gpu_memory_gb"] = self.coalition_memory_gb(assignment) - budget.gpu_memory_gb
        if budget.cost_per_1k_tasks is not None:
            out["cost_per_1k_tasks"] = self.cost_per_1k(assignment) - budget.cost_per_1k_tasks
        if budget.latency_s is not None:
            out["latency_s"] = self.latency_s(assignment) - budget.latency_s
        if budget.gpus:
            out["gpus"] = 0.0
            if self.placement(assignment, budget) is None:
                names = set(assignment.values())
                total = sum(self.memory(name).total_gb for name in names)
                over = total - MAX_UTILIZATION * sum(budget.gpus)
                smallest = min(self.memory(name).total_gb for name in names)
                out["gpus"] = max(over, smallest, 1e-9)
        return out

    def case_success(self, assignment: Assignment) -> tuple[float, ...]:
        """Per case: the product over roles of :meth:`case_scores`.

        With observed outcomes, 1.0 when every role's every step succeeded, else 0.0.
        """
        per_case = np.ones(len(self.case_ids))
        for role, name in assignment.items():
            per_case = per_case * self.case_scores(name, role)
        return tuple(float(v) for v in per_case)

    def role_credit(self, name: str, role: str) -> float:
        """Mean over cases of the fraction of the role's steps that ``name`` passed."""
        if not self.case_ids:
            return 0.0
        stats = self.stats[(name, role)]
        total = 0.0
        for case in self.case_ids:
            total += stats.case_fraction.get(case, float(stats.case_success[case]))
        return total / len(self.case_ids)

    def partial_credit(self, assignment: Assignment) -> float:
        """Mean over cases and roles of the fraction of the role's steps that passed."""
        if not assignment or not self.case_ids:
            return 0.0
        total = 0.0
        for role, name in assignment.items():
            total += self.role_credit(name, role)
        return total / len(assignment)

    def evaluate(self, assignment: Assignment, budget: Budget) -> CoalitionEval:
        """Everything search and export need to know about one coalition."""
        success = self.case_success(assignment)
        return CoalitionEval(
            assignment=dict(assignment),
            accuracy=coalition_estimate(success),
            case_success=success,
            memory_gb=self.coalition_memory_gb(assignment),
            cost_per_1k=self.cost_per_1k(assignment),
            latency_s=self.latency_s(assignment),
            violations=self.violations(assignment, budget),
            partial_credit=self.partial_credit(assignment),
        )


def _role_stats(
    name: str,
    role: Role,
    cases: Sequence[ToolCase],
    rows: Sequence[StepOutcome],
    fingerprint: str | None,
    upstream: Mapping[tuple[str, str], bool],
    indices: Mapping[str, list[int]],
    hashes: Mapping[str, str],
) -> RoleStats:
    native = {
        (r.case_hash, r.step_index): r
        for r in rows
        if r.fingerprint == fingerprint and r.prompt_version == role.prompt_version
    }
    imported: dict[str, list[StepOutcome]] = {}
    for r in rows:
        if r.source.startswith("import"):
            imported.setdefault(r.case_id, []).append(r)
    use_import = not native and bool(imported)
    per_case: dict[str, list[StepOutcome]] = {}
    missing = 0
    for case in cases:
        expected = indices[case.id]
        if use_import:
            found = imported.get(case.id, [])
            if expected and not found:  # a role with no step on the case passes vacuously
                missing += 1
            elif len(found) > 1:  # one row per step (not one per-case outcome): all of them
                missing += len(set(expected) - {r.step_index for r in found})
            per_case[case.id] = found
            continue
        found_steps = [native.get((hashes[case.id], i)) for i in expected]
        missing += sum(r is None for r in found_steps)
        per_case[case.id] = [r for r in found_steps if r is not None]
    if missing:
        raise RolecastError(
            f"candidate {name!r} on role {role.name!r}: {missing} step(s) are not profiled "
            f"for these cases (or were profiled with another prompt, model file or setting); "
            f"run `rolecast profile` first"
        )
    all_records = [r for case_rows in per_case.values() for r in case_rows]
    # imported steps not observed (or seen only where an upstream role passed and it did
    # not) are missing data: a cell is known when an observed step failed or all were seen
    if unconditional(all_records):  # every step observed, whatever its upstream
        case_observed = dict.fromkeys(per_case, True)
    else:
        observed_rows = {cid: observed_steps(rs, upstream) for cid, rs in per_case.items()}
        case_observed = {
            cid: len(observed_rows[cid]) == len(rs)
            or not all(r.success for r in observed_rows[cid])
            for cid, rs in per_case.items()
        }
        per_case = observed_rows
    records = [r for case_rows in per_case.values() for r in case_rows]
    n_cases = max(len(cases), 1)
    by_metric = {
        m: [r.metrics[m] for r in records if m in r.metrics]
        for m in sorted({k for r in records for k in r.metrics})
    }
    fraction = {
        cid: sum(r.success for r in rs) / len(rs) if rs else 1.0
        for cid, rs in per_case.items()
        if case_observed[cid]
    }
    fill = sum(fraction.values()) / len(fraction) if fraction else 0.5
    return RoleStats(
        candidate=name,
        role=role.name,
        case_success={
            cid: case_observed[cid] and all(r.success for r in rs) for cid, rs in per_case.items()
        },
        case_fraction={cid: fraction.get(cid, fill) for cid in per_case},
        step_rate=wilson_interval(sum(r.success for r in records), len(records)),
        # a metric is averaged over the steps that record it (Act. EM: gold calls only);
        # an unusable output records each of its role's metrics as 0 (Role.failed)
        metric_means={m: sum(v) / len(v) for m, v in by_metric.items()},
        metric_estimates={m: estimate(v) for m, v in by_metric.items()},
        tokens_in_per_case=sum(r.tokens_in for r in all_records) / n_cases,
        tokens_out_per_case=sum(r.tokens_out for r in all_records) / n_cases,
        latency_per_case=sum(r.latency_s for r in all_records) / n_cases,
        source="import" if use_import else "rolecast",
        run_ids=tuple(sorted({r.run_id for r in records if r.run_id is not None})),
        case_observed={cid: seen for cid, seen in case_observed.items() if not seen},
    )
