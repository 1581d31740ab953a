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

__all__ = [
    "ALL_ROLES",
    "ReportRow",
    "build_report",
    "render_markdown",
    "to_json",
    "with_unmeasured",
]

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
        name: _observed_case_pass(matrix, name)
        for name in matrix.candidates
        if all((name, role) in matrix.stats for role in matrix.roles)
    }
    alone = {name: value for name, value in alone.items() if value.n}
    groups: list[tuple[str, dict[str, dict[str, Estimate]]]] = []
    if alone:
        groups.append((ALL_ROLES, {"case_pass": alone}))
    for role in matrix.roles:
        per_metric: dict[str, dict[str, Estimate]] = {}
        for name in matrix.candidates:
            stats = matrix.stats.get((name, role))
            if stats is None:
                continue
            # cells imported as not observed are no measurement: left out, not failures
            seen = [ok for c, ok in stats.case_success.items() if stats.case_observed.get(c, True)]
            if seen:
                per_metric.setdefault("case_pass", {})[name] = wilson_interval(sum(seen), len(seen))
            if stats.step_rate.n:
                per_metric.setdefault("step_pass", {})[name] = stats.step_rate
            for metric, value in sorted(stats.metric_estimates.items()):
                per_metric.setdefault(metric, {})[name] = value
        # "valid" is shown only where some candidate produced unusable output, and then
        # for every candidate (a 1.00 left out would print as "—", no measurement)
        if all(v.mean >= 1.0 for v in per_metric.get("valid", {}).values()):
            per_metric.pop("valid", None)
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


def _observed_case_pass(matrix: ProfileMatrix, name: str) -> Estimate:
    """One model in every role: the cases it solved, over the cases it was observed on.

    The stored outcomes, whatever surrogate the matrix searches with: a report shows
    measurements. A case where some role was not observed (and nothing observed failed)
    is left out.
    """
    solved = observed = 0
    stats = [matrix.stats[(name, role)] for role in matrix.roles]
    for case in matrix.case_ids:
        seen = [s.case_observed.get(case, True) for s in stats]
        failed = any(ok and not s.case_success[case] for ok, s in zip(seen, stats, strict=True))
        if failed or all(seen):
            observed += 1
            solved += not failed
    return wilson_interval(solved, observed)


def with_unmeasured(
    rows: list[ReportRow], candidates: list[str]
) -> list[tuple[str, str, str, ReportRow | None]]:
    """``(role, metric, candidate, row)`` for every candidate of every reported metric.

    ``row`` is None where the candidate has no measurement of a metric another candidate
    has, so a table can print "—" there instead of leaving it out (or printing 0.00).
    """
    out: list[tuple[str, str, str, ReportRow | None]] = []
    keys = list(dict.fromkeys((r.role, r.metric) for r in rows))
    by_key = {(r.role, r.metric, r.candidate): r for r in rows}
    for role, metric in keys:
        for name in candidates:
            out.append((role, metric, name, by_key.get((role, metric, name))))
    return out


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
