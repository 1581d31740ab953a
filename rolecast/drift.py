"""Drift between two scheduled re-profiles of one project: which scores moved, what changed.

A scheduled job (cron, a systemd timer, a Kubernetes CronJob) re-profiles the same
project again and again. Most runs change nothing; the ones that matter are those where
a model's score moved beyond noise (new weights behind the same name, a new prompt, new
cases) or the chosen coalition is another one. A :class:`Snapshot` is what one run
concluded; :func:`compare` sets two side by side.

A role × candidate score *moved* when the 95% Wilson intervals of its step pass rate in
the two runs do not overlap: a shift that the sample sizes cannot explain as noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rolecast.allocator import ProfileMatrix
from rolecast.profiles.stats import Estimate

__all__ = ["DriftReport", "Shift", "Snapshot", "compare", "snapshot"]


def _estimate_json(estimate: Estimate) -> dict[str, Any]:
    return {
        "mean": estimate.mean,
        "low": estimate.low,
        "high": estimate.high,
        "n": estimate.n,
        "method": estimate.method,
    }


def _estimate(data: Mapping[str, Any]) -> Estimate:
    return Estimate(
        float(data["mean"]), float(data["low"]), float(data["high"]), int(data["n"]),
        str(data.get("method", "wilson")),
    )  # fmt: skip


@dataclass(frozen=True)
class Snapshot:
    """What one re-profile run concluded: every role × candidate rate, and its pick."""

    run_id: int
    scores: dict[str, dict[str, Estimate]]
    """role -> candidate -> step pass rate with its 95% interval."""
    fingerprints: dict[str, str]
    """candidate -> the fingerprint its scores were measured with."""
    coalition: dict[str, str]
    """role -> candidate of the chosen coalition."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (stored with the run)."""
        return {
            "run": self.run_id,
            "scores": {
                role: {name: _estimate_json(e) for name, e in by_candidate.items()}
                for role, by_candidate in self.scores.items()
            },
            "fingerprints": dict(self.fingerprints),
            "coalition": dict(self.coalition),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        """Read back what :meth:`to_json` wrote."""
        return cls(
            run_id=int(data["run"]),
            scores={
                role: {name: _estimate(e) for name, e in by_candidate.items()}
                for role, by_candidate in data["scores"].items()
            },
            fingerprints=dict(data["fingerprints"]),
            coalition=dict(data["coalition"]),
        )


def snapshot(
    run_id: int,
    matrix: ProfileMatrix,
    coalition: Mapping[str, str],
    fingerprints: Mapping[str, str],
) -> Snapshot:
    """The snapshot of a run from its profile matrix and the chosen coalition."""
    scores: dict[str, dict[str, Estimate]] = {}
    for (name, role), stats in matrix.stats.items():
        scores.setdefault(role, {})[name] = stats.step_rate
    return Snapshot(
        run_id=run_id,
        scores={role: dict(sorted(by.items())) for role, by in sorted(scores.items())},
        fingerprints={name: fingerprints[name] for name in sorted(fingerprints)},
        coalition=dict(coalition),
    )


@dataclass(frozen=True)
class Shift:
    """A role × candidate score that moved beyond its intervals."""

    role: str
    candidate: str
    before: Estimate
    after: Estimate

    @property
    def direction(self) -> str:
        """``up`` or ``down``."""
        return "up" if self.after.mean > self.before.mean else "down"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "role": self.role,
            "candidate": self.candidate,
            "direction": self.direction,
            "before": _estimate_json(self.before),
            "after": _estimate_json(self.after),
        }


@dataclass(frozen=True)
class DriftReport:
    """This run against the previous one of the same project."""

    run: int
    previous_run: int | None
    """None for a project's first scheduled run: nothing to compare with."""
    moved: list[Shift] = field(default_factory=list)
    added: list[tuple[str, str]] = field(default_factory=list)
    """(role, candidate) pairs scored now but not before."""
    removed: list[tuple[str, str]] = field(default_factory=list)
    """(role, candidate) pairs scored before but not now."""
    refingerprinted: list[str] = field(default_factory=list)
    """Candidates whose fingerprint (weights, decoding settings) changed."""
    coalition_before: dict[str, str] | None = None
    coalition_after: dict[str, str] = field(default_factory=dict)

    @property
    def coalition_changed(self) -> bool:
        """Whether another coalition was chosen than in the previous run (False on the first)."""
        return self.coalition_before is not None and self.coalition_before != self.coalition_after

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (in the job's summary line and stored with the run)."""
        return {
            "run": self.run,
            "previous_run": self.previous_run,
            "coalition_changed": self.coalition_changed,
            "coalition_before": self.coalition_before,
            "coalition_after": self.coalition_after,
            "moved": [shift.to_json() for shift in self.moved],
            "added": [list(pair) for pair in self.added],
            "removed": [list(pair) for pair in self.removed],
            "refingerprinted": list(self.refingerprinted),
        }


def compare(previous: Snapshot | None, current: Snapshot) -> DriftReport:
    """What moved from ``previous`` to ``current`` (no previous: only the current pick)."""
    if previous is None:
        return DriftReport(run=current.run_id, previous_run=None, coalition_after=current.coalition)
    before = _pairs(previous)
    after = _pairs(current)
    moved = [
        Shift(role, name, before[(role, name)], estimate)
        for (role, name), estimate in after.items()
        if (role, name) in before and not before[(role, name)].overlaps(estimate)
    ]
    refingerprinted = sorted(
        name
        for name, fp in current.fingerprints.items()
        if name in previous.fingerprints and previous.fingerprints[name] != fp
    )
    return DriftReport(
        run=current.run_id,
        previous_run=previous.run_id,
        moved=moved,
        added=sorted(set(after) - set(before)),
        removed=sorted(set(before) - set(after)),
        refingerprinted=refingerprinted,
        coalition_before=dict(previous.coalition),
        coalition_after=dict(current.coalition),
    )


def _pairs(snap: Snapshot) -> dict[tuple[str, str], Estimate]:
    return {
        (role, name): estimate
        for role, by_candidate in snap.scores.items()
        for name, estimate in by_candidate.items()
    }
