"""The exact search of role -> candidate assignments, recorded in an Optuna study.

Two tools, two jobs. The accuracy surrogate (mean over cases of the product over roles of
per-case scores) is cheap and decomposable, so its optimum, top-k and Pareto front are
computed exactly by branch and bound (:mod:`rolecast.search.exact`): sampling an exact
objective only loses accuracy. Optuna keeps what it is good at: its RDB study is where the
result is recorded (one trial per top-k or Pareto coalition, with their figures as user
attributes), so ``--study-db``, shared workers and optuna-dashboard see it, and its
samplers decide which coalitions to verify end to end, where evaluations are expensive.

A study's name is a hash of everything the result depends on: the candidates, the case
ids, the budget, k, the surrogate and the per-case scores themselves. Another profile
store, or the same store after a re-profile, never resumes a stale study.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from rolecast.allocator.coalition import CoalitionEval, ProfileMatrix
from rolecast.allocator.placement import ModelPlacement
from rolecast.errors import BudgetError, StorageError
from rolecast.profiles.stats import is_tie
from rolecast.search.diagnose import binding_budgets, nothing_fits
from rolecast.search.exact import exact_search
from rolecast.search.space import Space
from rolecast.storage._url import driver_message, ensure_sqlite_parent, mask_url, resolve_db_url
from rolecast.storage.store import PG_CONNECT_TIMEOUT_S
from rolecast.types import Budget, stable_hash

if TYPE_CHECKING:
    import optuna

__all__ = ["SearchResult", "pareto_front", "record_study", "search", "study_key", "study_storage"]

Progress = Callable[[int, int], None]


@dataclass
class SearchResult:
    """The proven-best coalition, the top-k, the ones tied with the best, the Pareto front.

    ``ranked`` is the exact top-k (accuracy, then partial credit, then cost, memory and
    names); ``ties`` are the top-k coalitions within noise of the best (paired bootstrap);
    ``pareto`` is every feasible coalition no other beats on accuracy, cost and memory.
    ``placements`` maps each listed coalition's label to where its models go.
    """

    best: CoalitionEval
    ties: list[CoalitionEval]
    ranked: list[CoalitionEval]
    pareto: list[CoalitionEval]
    study_name: str
    space_size: int
    n_scored: int
    """Coalitions whose accuracy was computed; the rest were bounded away."""
    seconds: float
    top_k: int
    surrogate: str = "observed"
    exact: bool = True
    placements: dict[str, list[ModelPlacement]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def study_storage(location: str) -> optuna.storages.RDBStorage:
    """Open an Optuna study database given as a URL or a SQLite file path, as ``--db`` is.

    Raises:
        StorageError: The location is not a database URL, its driver is missing, or the
            database cannot be opened or created.
    """
    import optuna

    url = resolve_db_url(location)
    display = mask_url(url)
    hint = "give --study-db a file path, sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB"
    try:
        parsed = make_url(url)
        connect_args: dict[str, object] = {}
        if parsed.get_backend_name() == "sqlite":
            ensure_sqlite_parent(parsed, display, hint="point --study-db")
        elif parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
        return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": connect_args})
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StorageError(
            f"cannot open the study database {display}: {driver_message(exc)}; {hint}"
        ) from None


def study_key(matrix: ProfileMatrix, space: Space, budget: Budget, top_k: int) -> str:
    """``rolecast-<hash>`` of everything the result is computed from, scores included."""
    return "rolecast-" + stable_hash(
        {
            "candidates": [c.model_dump(mode="json") for c in matrix.candidates.values()],
            "cases": list(matrix.case_ids),
            "budget": budget.model_dump(),
            "surrogate": matrix.surrogate,
            "values": space.digest(),
            "top_k": top_k,
        },
        16,
    )


def search(
    matrix: ProfileMatrix,
    budget: Budget,
    *,
    top_k: int = 10,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    pareto: bool = True,
    progress: Progress | None = None,
) -> SearchResult:
    """The exact best coalition within ``budget``, its top-k, ties and Pareto front.

    ``storage`` (a URL or SQLite path opened by :func:`study_storage`, or an open Optuna
    storage) records the result as an Optuna study; ``None`` records nothing.

    Raises:
        BudgetError: no coalition fits; the message names the binding budget and the
            cheapest coalition, or the closest one when the budgets only clash together.
    """
    if top_k < 1:
        raise BudgetError(f"top_k must be at least 1, got {top_k}")
    started = time.perf_counter()
    space = Space.from_matrix(matrix)
    binding = binding_budgets(space, budget)
    if binding:  # O(candidates × roles): no search needed to know nothing fits
        raise BudgetError(nothing_fits(space, budget, binding))
    packs: dict[frozenset[str], bool] = {}

    def packs_onto_gpus(choice: tuple[int, ...]) -> bool:
        assignment = space.assignment(choice)
        key = frozenset(assignment.values())
        if key not in packs:
            packs[key] = matrix.placement(assignment, budget) is not None
        return packs[key]

    fits = packs_onto_gpus if budget.gpus else None
    found = exact_search(space, budget, k=top_k, fits=fits, pareto=pareto, progress=progress)
    if not found.top:
        raise BudgetError(nothing_fits(space, budget, []))
    evals: dict[tuple[int, ...], CoalitionEval] = {}
    for f in [*found.top, *found.front]:
        if f.choice not in evals:
            evals[f.choice] = matrix.evaluate(space.assignment(f.choice), budget)
    ranked = [evals[f.choice] for f in found.top]
    front = [evals[f.choice] for f in found.front]
    best = ranked[0]
    ties = [e for e in ranked[1:] if is_tie(best.case_success, e.case_success)]
    placements = {}
    for e in evals.values():
        placed = matrix.placement(e.assignment, budget)
        if placed is not None:
            placements[e.label] = placed
    result = SearchResult(
        best=best,
        ties=ties,
        ranked=ranked,
        pareto=front,
        study_name=study_name or study_key(matrix, space, budget, top_k),
        space_size=space.size,
        n_scored=found.n_scored,
        seconds=0.0,
        top_k=top_k,
        surrogate=matrix.surrogate,
        placements=placements,
    )
    if storage is not None:
        opened = study_storage(storage) if isinstance(storage, str) else storage
        record_study(result, space, budget, opened)
    result.seconds = time.perf_counter() - started
    return result


def record_study(
    result: SearchResult, space: Space, budget: Budget, storage: optuna.storages.BaseStorage
) -> optuna.Study:
    """Record the top-k and the Pareto front as trials of the result's study (once).

    The study has three objectives (accuracy up, cost and memory down), so
    optuna-dashboard draws the front; each trial's user attributes say its rank in the
    top-k, whether it is on the front or tied with the best, and its interval.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=result.study_name,
        storage=storage,
        directions=["maximize", "minimize", "minimize"],
        load_if_exists=True,
    )
    if any(t.user_attrs.get("source") == "rolecast-exact" for t in study.trials):
        return study  # the same data gives the same result: recorded already
    study.set_user_attr("exact", True)
    study.set_user_attr("space_size", result.space_size)
    study.set_user_attr("surrogate", result.surrogate)
    study.set_user_attr("budget", budget.model_dump(exclude_none=True))
    distributions: dict[str, optuna.distributions.BaseDistribution] = {
        role: optuna.distributions.CategoricalDistribution(list(names))
        for role, names in zip(space.roles, space.names, strict=True)
    }
    ranks = {e.label: i for i, e in enumerate(result.ranked, start=1)}
    on_front = {e.label for e in result.pareto}
    tied = {e.label for e in result.ties}
    listed = {e.label: e for e in [*result.ranked, *result.pareto]}
    trials = []
    for label, e in listed.items():
        attrs: dict[str, Any] = {
            "source": "rolecast-exact",
            "label": label,
            "rank": ranks.get(label),
            "pareto": label in on_front,
            "tie_with_best": label in tied,
            "accuracy_low": e.accuracy.low,
            "accuracy_high": e.accuracy.high,
            "partial_credit": e.partial_credit,
            "latency_s": e.latency_s,
        }
        trials.append(
            optuna.trial.create_trial(
                params=dict(e.assignment),
                distributions=distributions,
                values=[e.accuracy.mean, e.cost_per_1k, e.memory_gb],
                user_attrs=attrs,
            )
        )
    study.add_trials(trials)
    return study


def pareto_front(evals: list[CoalitionEval]) -> list[CoalitionEval]:
    """Coalitions no other beats on accuracy, cost and memory at once (of a given list)."""

    def dominates(a: CoalitionEval, b: CoalitionEval) -> bool:
        no_worse = (
            a.accuracy.mean >= b.accuracy.mean
            and a.cost_per_1k <= b.cost_per_1k
            and a.memory_gb <= b.memory_gb
        )
        better = (
            a.accuracy.mean > b.accuracy.mean
            or a.cost_per_1k < b.cost_per_1k
            or a.memory_gb < b.memory_gb
        )
        return no_worse and better

    front = [e for e in evals if not any(dominates(o, e) for o in evals if o is not e)]
    return sorted(front, key=lambda e: (-e.accuracy.mean, e.cost_per_1k, e.memory_gb))
