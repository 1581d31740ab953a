"""Everything a report shows, gathered once from a profile matrix and a budget.

The same :class:`ReportData` feeds the JSON output, the PNGs and the HTML page, so the
three never disagree.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rolecast.allocator.coalition import CoalitionEval, ProfileMatrix
from rolecast.errors import BudgetError
from rolecast.profiles.stats import Estimate
from rolecast.report import ALL_ROLES, ReportRow, build_report
from rolecast.types import Budget

__all__ = [
    "Calibration",
    "CoalitionPoint",
    "HeatCell",
    "ReportData",
    "Searcher",
    "build_report_data",
]


@dataclass(frozen=True)
class HeatCell:
    """One candidate on one role: the share of cases passed, with its 95% interval."""

    role: str
    candidate: str
    mean: float
    low: float
    high: float
    n: int
    rank: str  # "best", "tie" or ""


@dataclass(frozen=True)
class CoalitionPoint:
    """A feasible coalition as the Pareto plot shows it."""

    label: str
    assignment: dict[str, str]
    accuracy: Estimate
    cost_per_1k: float
    memory_gb: float
    pareto: bool  # on the front (accuracy ↑, cost ↓, memory ↓)
    chosen: bool


@dataclass(frozen=True)
class Calibration:
    """End-to-end verification's predicted-versus-measured data and its figure.

    Built by the ``verify`` part of rolecast (its calibration report's ``to_dict()`` and
    PNG); the report only shows it.
    """

    data: dict[str, Any]
    png: bytes | None = None
    markdown: str | None = None


#: ``(matrix, budget) -> (feasible coalitions, Pareto front, chosen)``; the default runs
#: :func:`rolecast.search.search`. Raises :class:`BudgetError` when nothing fits.
Searcher = Callable[
    [ProfileMatrix, Budget], tuple[list[CoalitionEval], list[CoalitionEval], CoalitionEval]
]


@dataclass
class ReportData:
    """What the report shows; :meth:`to_dict` is ``rolecast report --format json``."""

    candidates: list[str]
    roles: list[str]
    surrogate: str
    n_cases: int
    budget: dict[str, Any]
    heat: list[HeatCell]
    rows: list[ReportRow]
    coalitions: list[CoalitionPoint]
    search_note: str | None = None  # why there is no Pareto front (nothing fits the budget)
    calibration: Calibration | None = None
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def chosen(self) -> CoalitionPoint | None:
        """The coalition search picks, if any fits the budget."""
        return next((c for c in self.coalitions if c.chosen), None)

    def cell(self, role: str, candidate: str) -> HeatCell | None:
        """The heat-map cell of this role and candidate (None: not profiled)."""
        return next((c for c in self.heat if (c.role, c.candidate) == (role, candidate)), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict with every figure the HTML page shows."""
        chosen = self.chosen
        return {
            "generated_at": self.generated_at.isoformat(),
            "surrogate": self.surrogate,
            "n_cases": self.n_cases,
            "budget": self.budget,
            "candidates": self.candidates,
            "roles": self.roles,
            "heatmap": [vars(cell) for cell in self.heat],
            "rows": [_row_dict(row) for row in self.rows],
            "coalitions": [_point_dict(point) for point in self.coalitions],
            "pareto": [_point_dict(p) for p in self.coalitions if p.pareto],
            "chosen": None if chosen is None else _point_dict(chosen),
            "search_note": self.search_note,
            "calibration": None if self.calibration is None else self.calibration.data,
        }


#: Up to this many coalitions, every feasible one is drawn (grey) behind the front.
MAX_DRAWN = 20_000


def default_searcher(
    matrix: ProfileMatrix, budget: Budget
) -> tuple[list[CoalitionEval], list[CoalitionEval], CoalitionEval]:
    """The coalitions to draw, the Pareto front and the pick of :func:`rolecast.search.search`.

    Every feasible coalition when there are at most :data:`MAX_DRAWN` of them; beyond that,
    the search's top-k and front only.
    """
    from rolecast.search import search

    result = search(matrix, budget)
    options = [matrix.options(role) for role in matrix.roles]
    drawn = {_key(e): e for e in (*result.ranked, *result.pareto, result.best)}
    if math.prod(len(names) for names in options) <= MAX_DRAWN:
        for names in itertools.product(*options):
            assignment = dict(zip(matrix.roles, names, strict=True))
            key = tuple(sorted(assignment.items()))
            if key in drawn or any(v > 0 for v in matrix.violations(assignment, budget).values()):
                continue
            drawn[key] = matrix.evaluate(assignment, budget)
    return list(drawn.values()), list(result.pareto), result.best


def build_report_data(
    matrix: ProfileMatrix,
    budget: Budget,
    *,
    searcher: Searcher = default_searcher,
    calibration: Calibration | None = None,
) -> ReportData:
    """Gather the heat map, the per-role tables and the coalitions for one matrix."""
    rows = build_report(matrix)
    heat = [
        HeatCell(r.role, r.candidate, e.mean, e.low, e.high, e.n, r.rank)
        for r in rows
        if r.metric == "case_pass"
        for e in (r.estimate,)
    ]
    roles = [role for role in (ALL_ROLES, *matrix.roles) if any(c.role == role for c in heat)]
    note = None
    points: list[CoalitionPoint] = []
    try:
        feasible, front, best = searcher(matrix, budget)
    except BudgetError as exc:
        note = str(exc)
    else:
        on_front = {_key(e) for e in front}
        points = [
            CoalitionPoint(
                label=e.label,
                assignment=dict(e.assignment),
                accuracy=e.accuracy,
                cost_per_1k=e.cost_per_1k,
                memory_gb=e.memory_gb,
                pareto=_key(e) in on_front,
                chosen=_key(e) == _key(best),
            )
            for e in feasible
        ]
    return ReportData(
        candidates=list(matrix.candidates),
        roles=roles,
        surrogate=matrix.surrogate,
        n_cases=len(matrix.case_ids),
        budget=budget.model_dump(exclude_none=True),
        heat=heat,
        rows=rows,
        coalitions=points,
        search_note=note,
        calibration=calibration,
    )


def _key(e: CoalitionEval) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(e.assignment.items()))


def _estimate(e: Estimate) -> dict[str, Any]:
    return {"mean": e.mean, "low": e.low, "high": e.high, "n": e.n, "method": e.method}


def _row_dict(row: ReportRow) -> dict[str, Any]:
    return {
        "role": row.role,
        "metric": row.metric,
        "candidate": row.candidate,
        **_estimate(row.estimate),
        "rank": row.rank,
    }


def _point_dict(point: CoalitionPoint) -> dict[str, Any]:
    return {
        "label": point.label,
        "assignment": point.assignment,
        "accuracy": _estimate(point.accuracy),
        "cost_per_1k": point.cost_per_1k,
        "memory_gb": point.memory_gb,
        "pareto": point.pareto,
        "chosen": point.chosen,
    }
