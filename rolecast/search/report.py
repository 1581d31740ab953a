"""The machine-readable search result (``rolecast search --format json``).

:class:`SearchReport` is the published shape (``rolecast schema search``): the proven best
coalition, the top-k with predicted accuracy and interval, the ones tied with the best,
the Pareto front, each with memory, cost, latency and GPU placement, the Optuna study's
name and whether the result is proven exact.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rolecast.allocator.coalition import CoalitionEval
from rolecast.search.optimize import SearchResult
from rolecast.types import Budget, StrictModel

__all__ = ["SearchReport", "search_report"]


class AccuracyInterval(StrictModel):
    """Predicted accuracy with its 95% interval over the profiled cases."""

    mean: float
    low: float
    high: float
    n: int = Field(description="Cases the prediction rests on.")
    method: str = Field(description="wilson (0/1 outcomes) or bootstrap (probabilities).")


class ModelPlacementOut(StrictModel):
    """Where one distinct model of the coalition is served."""

    candidate: str
    gpus: list[int]
    memory_gb: float = Field(description="Memory on each of its GPUs.")
    memory_fraction: float = Field(description="--gpu-memory-utilization on each GPU.")
    tensor_parallel_size: int


class CoalitionOut(StrictModel):
    """One coalition and its predicted figures."""

    roles: dict[str, str] = Field(description="role -> candidate")
    label: str
    accuracy: AccuracyInterval
    partial_credit: float
    cost_per_1k_tasks: float
    memory_gb: float = Field(description="Distinct models counted once.")
    latency_s: float
    rank: int | None = Field(description="Position in the top-k (1 = best); None: not in it.")
    pareto: bool = Field(description="On the Pareto front (accuracy, cost, memory).")
    tie_with_best: bool = Field(description="Within noise of the best (paired bootstrap).")
    placement: list[ModelPlacementOut] | None = Field(
        description="GPU placement of its models; None when they cannot be placed."
    )


class SearchReport(StrictModel):
    """The exact search's result."""

    version: Literal[1] = 1
    exact: bool = Field(description="True: the best, top-k and front are proven, not sampled.")
    surrogate: str = Field(description="What the per-case scores are: observed, irt, ...")
    study: str = Field(description="Optuna study name (a hash of the data it was computed from).")
    budget: Budget
    space_size: int = Field(description="Number of role -> candidate assignments.")
    scored: int = Field(description="Coalitions whose accuracy was computed; the rest bounded.")
    seconds: float
    top_k: int
    best: CoalitionOut
    top: list[CoalitionOut]
    ties: list[CoalitionOut]
    pareto: list[CoalitionOut]


def search_report(result: SearchResult, budget: Budget) -> SearchReport:
    """The report of ``result``."""
    ranks = {e.label: i for i, e in enumerate(result.ranked, start=1)}
    front = {e.label for e in result.pareto}
    tied = {e.label for e in result.ties}

    def out(e: CoalitionEval) -> CoalitionOut:
        placed = result.placements.get(e.label)
        return CoalitionOut(
            roles=dict(e.assignment),
            label=e.label,
            accuracy=AccuracyInterval(
                mean=round(e.accuracy.mean, 6),
                low=round(e.accuracy.low, 6),
                high=round(e.accuracy.high, 6),
                n=e.accuracy.n,
                method=e.accuracy.method,
            ),
            partial_credit=round(e.partial_credit, 6),
            cost_per_1k_tasks=round(e.cost_per_1k, 6),
            memory_gb=round(e.memory_gb, 4),
            latency_s=round(e.latency_s, 4),
            rank=ranks.get(e.label),
            pareto=e.label in front,
            tie_with_best=e.label in tied,
            placement=None
            if placed is None
            else [
                ModelPlacementOut(
                    candidate=p.model,
                    gpus=list(p.gpus),
                    memory_gb=round(p.memory_gb, 4),
                    memory_fraction=round(p.fraction, 4),
                    tensor_parallel_size=p.tensor_parallel_size,
                )
                for p in placed
            ],
        )

    return SearchReport(
        exact=result.exact,
        surrogate=result.surrogate,
        study=result.study_name,
        budget=budget,
        space_size=result.space_size,
        scored=result.n_scored,
        seconds=round(result.seconds, 4),
        top_k=result.top_k,
        best=out(result.best),
        top=[out(e) for e in result.ranked],
        ties=[out(e) for e in result.ties],
        pareto=[out(e) for e in result.pareto],
    )
