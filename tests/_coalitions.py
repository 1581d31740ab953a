"""Hand-made candidates, role statistics and profile matrices for allocator/search/export tests.

Outcomes are written as strings, one character per case: ``"1101"`` means the candidate
succeeded on cases 0, 1 and 3 of the role and failed on case 2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rolecast.allocator import ProfileMatrix, RoleStats
from rolecast.profiles.stats import wilson_interval
from rolecast.types import Candidate


def candidate(name: str, memory_gb: float = 1.0, **fields: Any) -> Candidate:
    """A scripted candidate with a measured memory (no weights are ever looked up)."""
    return Candidate(
        name=name, backend="scripted", model=f"scripted/{name}", memory_gb=memory_gb, **fields
    )


def case_ids(n: int) -> list[str]:
    return [f"case-{i}" for i in range(n)]


def role_stats(
    name: str,
    role: str,
    outcomes: str,
    *,
    tokens_in: float = 0.0,
    tokens_out: float = 0.0,
    latency: float = 0.0,
    run_ids: tuple[int, ...] = (),
) -> RoleStats:
    """One candidate on one role; ``outcomes`` is one ``0``/``1`` per case."""
    ids = case_ids(len(outcomes))
    success = {cid: flag == "1" for cid, flag in zip(ids, outcomes, strict=True)}
    return RoleStats(
        candidate=name,
        role=role,
        case_success=success,
        step_rate=wilson_interval(sum(success.values()), len(success)),
        metric_means={},
        tokens_in_per_case=tokens_in,
        tokens_out_per_case=tokens_out,
        latency_per_case=latency,
        source="rolecast",
        run_ids=run_ids,
    )


def matrix(
    table: Mapping[tuple[str, str], str | RoleStats],
    candidates: Sequence[Candidate],
    roles: Sequence[str] | None = None,
) -> ProfileMatrix:
    """A matrix from ``(candidate, role) -> outcomes`` (or ready-made stats)."""
    stats = {
        key: value if isinstance(value, RoleStats) else role_stats(*key, value)
        for key, value in table.items()
    }
    n_cases = len(next(iter(stats.values())).case_success)
    role_names = list(roles) if roles is not None else list(dict.fromkeys(r for _, r in stats))
    return ProfileMatrix(stats, candidates, role_names, case_ids(n_cases))
