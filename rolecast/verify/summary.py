"""Measured accuracy per coalition, predicted beside it, and the pick against one model.

Measured accuracy is the share of held-out cases the coalition solved end to end, with a
Wilson 95 % interval. The pick and the best single model are compared on the same cases
with a paired bootstrap of the difference: the cases' difficulty, which both share,
cancels, so the interval is the one that says whether the pick is really better.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rolecast.profiles.stats import Estimate, is_tie, paired_difference, wilson_interval
from rolecast.storage import AgentRunRecord
from rolecast.verify.targets import BEST_SINGLE, PICK, Target

__all__ = ["Comparison", "Measured", "VerifyReport", "measure", "summarize"]


@dataclass(frozen=True)
class Measured:
    """One coalition's predicted and measured accuracy on the held-out cases."""

    target: Target
    outcomes: dict[str, bool]
    """case id -> solved end to end (only cases with a stored run)."""
    measured: Estimate
    missing: tuple[str, ...] = ()
    """Held-out cases with no stored run (faults, or a run budget that stopped early)."""


@dataclass(frozen=True)
class Comparison:
    """The pick minus the best single model, paired over the cases both were run on."""

    pick: str
    baseline: str
    difference: Estimate
    within_noise: bool
    same: bool = False
    """The pick is the best single model itself."""

    @property
    def verdict(self) -> str:
        """One line for people."""
        if self.same:
            return "the pick is the best single model"
        d = self.difference
        if d.n == 0:
            return "no case was run by both"
        noise = "within noise" if self.within_noise else "outside noise"
        if d.mean == 0:
            return (
                f"pick equal to the best single model ({d.mean:+.2f} "
                f"[{d.low:+.2f}, {d.high:+.2f}] over {d.n} cases): {noise}"
            )
        sign = "better" if d.mean > 0 else "worse"
        return (
            f"pick {sign} than the best single model by {d.mean:+.2f} "
            f"[{d.low:+.2f}, {d.high:+.2f}] over {d.n} cases: {noise}"
        )


@dataclass
class VerifyReport:
    """Everything ``rolecast verify`` prints (or writes as JSON)."""

    case_ids: list[str]
    coalitions: list[Measured]
    comparison: Comparison | None
    generated: int = 0
    reused: int = 0
    rejudged: int = 0
    faults: int = 0
    fault_messages: list[str] = field(default_factory=list)
    surrogate: str = "observed"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (``--format json``)."""
        return {
            "holdout_cases": list(self.case_ids),
            "surrogate": self.surrogate,
            "runs": {
                "generated": self.generated,
                "reused": self.reused,
                "rejudged": self.rejudged,
                "faults": self.faults,
                "fault_messages": list(self.fault_messages),
            },
            "coalitions": [_measured_dict(m, self.surrogate) for m in self.coalitions],
            "comparison": None if self.comparison is None else _comparison_dict(self.comparison),
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        """The report as indented JSON."""
        return json.dumps(self.to_dict(), indent=2)


def measure(
    target: Target, runs: Mapping[str, AgentRunRecord], case_ids: Sequence[str]
) -> Measured:
    """A target's measured accuracy from its stored runs (``case id -> run``)."""
    outcomes = {cid: runs[cid].success for cid in case_ids if cid in runs}
    missing = tuple(cid for cid in case_ids if cid not in runs)
    return Measured(
        target=target,
        outcomes=outcomes,
        measured=wilson_interval(sum(outcomes.values()), len(outcomes)),
        missing=missing,
    )


def compare(pick: Measured, baseline: Measured, seed: int = 0) -> Comparison:
    """Paired difference of the pick's outcomes minus the baseline's over shared cases."""
    shared = [cid for cid in pick.outcomes if cid in baseline.outcomes]
    a = [float(pick.outcomes[cid]) for cid in shared]
    b = [float(baseline.outcomes[cid]) for cid in shared]
    difference = paired_difference(a, b, seed=seed)
    same = pick.target.assignment == baseline.target.assignment
    return Comparison(
        pick=pick.target.label,
        baseline=baseline.target.label,
        difference=difference,
        within_noise=same or not shared or is_tie(a, b, seed=seed),
        same=same,
    )


def summarize(
    targets: Sequence[Target],
    runs_by_target: Sequence[Mapping[str, AgentRunRecord]],
    case_ids: Sequence[str],
    surrogate: str = "observed",
) -> VerifyReport:
    """Measure every target; compare the pick (``pick``, else ``top-1``) with the baseline."""
    measured = [measure(t, runs, case_ids) for t, runs in zip(targets, runs_by_target, strict=True)]
    pick = next((m for m in measured if PICK in m.target.labels), None) or next(
        (m for m in measured if "top-1" in m.target.labels), None
    )
    single = next((m for m in measured if BEST_SINGLE in m.target.labels), None)
    comparison = compare(pick, single) if pick is not None and single is not None else None
    return VerifyReport(list(case_ids), measured, comparison, surrogate=surrogate)


def _estimate_dict(e: Estimate) -> dict[str, Any]:
    return {"mean": e.mean, "low": e.low, "high": e.high, "n": e.n, "method": e.method}


def _measured_dict(m: Measured, surrogate: str) -> dict[str, Any]:
    t = m.target
    return {
        "labels": list(t.labels),
        "assignment": dict(t.assignment),
        "predicted": {
            **_estimate_dict(t.evaluation.accuracy),
            "surrogate": surrogate,
            "partial_credit": t.evaluation.partial_credit,
        },
        "predicted_by_surrogate": dict(t.predicted_by),
        "measured": _estimate_dict(m.measured),
        "outcomes": dict(m.outcomes),
        "missing": list(m.missing),
        "memory_gb": t.evaluation.memory_gb,
        "cost_per_1k_tasks": t.evaluation.cost_per_1k,
        "feasible": t.evaluation.feasible,
    }


def _comparison_dict(c: Comparison) -> dict[str, Any]:
    return {
        "pick": c.pick,
        "baseline": c.baseline,
        "difference": _estimate_dict(c.difference),
        "within_noise": c.within_noise,
        "same": c.same,
        "verdict": c.verdict,
    }
