"""Candidate × role × metric aggregates with n and 95% intervals, ties marked.

A rate is a Wilson interval, a mean a bootstrap interval. Within one role and metric,
a candidate whose interval overlaps the best one's is marked as tied with it: the
ranking between them is within noise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from rolecast.allocator.coalition import ProfileMatrix
from rolecast.profiles.stats import Estimate, wilson_interval
from rolecast.types import Budget

__all__ = ["ALL_ROLES", "ReportRow", "build_report", "render_markdown", "to_json"]

ALL_ROLES = "(all roles)"
"""Report group for one model playing every role: the coalition surrogate's case pass."""


@dataclass(frozen=True)
class ReportRow:
    """One aggregate: a candidate on a role, one metric."""

    role: str
    metric: str
    candidate: str
    estimate: Estimate
    rank: str  # "best", "tie" (within noise of the best) or ""


def build_report(matrix: ProfileMatrix) -> list[ReportRow]:
    """Every role's metrics for every candidate, with the best and ties marked."""
    rows: list[ReportRow] = []
    alone = {
        name: matrix.evaluate({role: name for role in matrix.roles}, Budget()).accuracy
        for name in matrix.candidates
        if all((name, role) in matrix.stats for role in matrix.roles)
    }
    groups: list[tuple[str, dict[str, dict[str, Estimate]]]] = []
    if alone:
        groups.append((ALL_ROLES, {"case_pass": alone}))
    for role in matrix.roles:
        per_metric: dict[str, dict[str, Estimate]] = {}
        for name in matrix.candidates:
            stats = matrix.stats.get((name, role))
            if stats is None:
                continue
            cases = stats.case_success
            per_metric.setdefault("case_pass", {})[name] = wilson_interval(
                sum(cases.values()), len(cases)
            )
            per_metric.setdefault("step_pass", {})[name] = stats.step_rate
            for metric, value in sorted(stats.metric_estimates.items()):
                if metric != "valid" or value.mean < 1.0:
                    per_metric.setdefault(metric, {})[name] = value
        groups.append((role, per_metric))
    for role, per_metric in groups:
        for metric, by_candidate in per_metric.items():
            lower_is_better = metric == "hallucination"
            best_name = (min if lower_is_better else max)(
                by_candidate, key=lambda n: by_candidate[n].mean
            )
            best = by_candidate[best_name]
            for name, value in by_candidate.items():
                if name == best_name:
                    rank = "best" if len(by_candidate) > 1 else ""
                    if any(v.overlaps(best) for n, v in by_candidate.items() if n != name):
                        rank = "tie"
                else:
                    rank = "tie" if value.overlaps(best) else ""
                rows.append(ReportRow(role, metric, name, value, rank))
    return rows


def render_markdown(rows: list[ReportRow], candidates: list[str]) -> str:
    """A markdown table: role, metric, one column per candidate (mean [low, high] n)."""
    header = "| role | metric | " + " | ".join(candidates) + " |"
    lines = [header, "|" + "---|" * (len(candidates) + 2)]
    keys = list(dict.fromkeys((r.role, r.metric) for r in rows))
    for role, metric in keys:
        cells = []
        for name in candidates:
            row = next(
                (r for r in rows if (r.role, r.metric, r.candidate) == (role, metric, name)), None
            )
            if row is None:
                cells.append("—")
                continue
            e = row.estimate
            mark = {"best": " **best**", "tie": " ≈"}.get(row.rank, "")
            cells.append(f"{e.mean:.3f} [{e.low:.3f}, {e.high:.3f}] n={e.n}{mark}")
        lines.append(f"| {role} | {metric} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("**best**: clearly ahead; ≈: 95% intervals overlap the best (within noise).")
    return "\n".join(lines)


def to_json(rows: list[ReportRow]) -> str:
    """The rows as JSON (for scheduled jobs and dashboards)."""
    return json.dumps(
        [
            {
                "role": r.role,
                "metric": r.metric,
                "candidate": r.candidate,
                "mean": r.estimate.mean,
                "low": r.estimate.low,
                "high": r.estimate.high,
                "n": r.estimate.n,
                "method": r.estimate.method,
                "rank": r.rank,
            }
            for r in rows
        ],
        indent=2,
    )
