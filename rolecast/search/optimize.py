"""Optuna search over role -> candidate assignments under budgets.

The feasible space is usually small (candidates ** roles); up to ``exhaustive_limit``
assignments it is enumerated with :class:`optuna.samplers.GridSampler`, so the
answer is exact. Larger spaces use TPE. Budgets are constraints set with
``Trial.set_constraint`` (feasible when ≤ 0); an assignment that breaks a budget is
recorded as infeasible without computing its accuracy. The Pareto front (accuracy up,
cost and memory down) is computed over every feasible assignment evaluated. Coalitions
with the same predicted accuracy are ordered by partial credit (the graded surrogate),
then by cost and memory.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import optuna
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from rolecast.allocator.coalition import CoalitionEval, ProfileMatrix
from rolecast.errors import BudgetError, StorageError
from rolecast.profiles.stats import is_tie
from rolecast.storage._url import driver_message, ensure_sqlite_parent, mask_url, resolve_db_url
from rolecast.storage.store import PG_CONNECT_TIMEOUT_S
from rolecast.types import Budget, stable_hash

__all__ = ["SearchResult", "search", "study_storage"]

Progress = Callable[[int, int], None]


@dataclass
class SearchResult:
    """Best coalition, the ones tied with it within noise, the ranking and the Pareto front."""

    best: CoalitionEval
    ties: list[CoalitionEval]
    ranked: list[CoalitionEval]
    pareto: list[CoalitionEval]
    n_evaluated: int
    n_infeasible: int
    exhaustive: bool
    study_name: str
    notes: list[str] = field(default_factory=list)


def study_storage(location: str) -> optuna.storages.RDBStorage:
    """Open an Optuna study database given as a URL or a SQLite file path, as ``--db`` is.

    Raises:
        StorageError: The location is not a database URL, its driver is missing, or the
            database cannot be opened or created.
    """
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


def search(
    matrix: ProfileMatrix,
    budget: Budget,
    *,
    n_trials: int | None = None,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    seed: int = 0,
    exhaustive_limit: int = 4096,
    progress: Progress | None = None,
) -> SearchResult:
    """Find the most accurate coalition within ``budget``.

    ``storage`` keeps the Optuna study (resumable, inspectable with optuna-dashboard): a
    URL or SQLite path opened by :func:`study_storage`, an open storage, or ``None`` for
    memory.
    """
    options = {role: sorted(matrix.options(role)) for role in matrix.roles}
    for role, names in options.items():
        if not names:
            raise BudgetError(f"no candidate is profiled on role {role!r}; run `rolecast profile`")
    space = math.prod(len(names) for names in options.values())
    exhaustive = space <= exhaustive_limit and n_trials is None
    trials = space if exhaustive else (n_trials or 200)
    # the sampler is part of the name: a grid resumed from TPE trials would skip assignments
    name = study_name or "rolecast-" + stable_hash(
        {
            "options": options,
            "cases": matrix.case_ids,
            "budget": budget.model_dump(),
            "sampler": "grid" if exhaustive else "tpe",
        },
        12,
    )
    sampler: optuna.samplers.BaseSampler = (
        optuna.samplers.GridSampler(dict(options), seed=seed)
        if exhaustive
        else optuna.samplers.TPESampler(seed=seed, multivariate=True)
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=name,
        storage=study_storage(storage) if isinstance(storage, str) else storage,
        sampler=sampler,
        direction="maximize",
        load_if_exists=True,
    )
    evaluated: dict[tuple[str, ...], CoalitionEval] = {}

    def objective(trial: optuna.Trial) -> float:
        assignment = {
            role: trial.suggest_categorical(role, names) for role, names in options.items()
        }
        violations = matrix.violations(assignment, budget)
        for key, excess in violations.items():
            trial.set_constraint(key, excess)
        if any(excess > 0 for excess in violations.values()):
            trial.set_user_attr("infeasible", True)
            return 0.0  # pruned: accuracy is not computed for an assignment over budget
        result = matrix.evaluate(assignment, budget)
        evaluated[tuple(assignment.values())] = result
        return result.accuracy.mean

    done = len([t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE])
    remaining = max(trials - done, 0)
    callbacks = [lambda s, t: progress(len(s.trials), trials)] if progress else []
    if remaining:
        study.optimize(objective, n_trials=remaining, callbacks=callbacks)

    # Every feasible assignment the study has seen (this call's and earlier workers').
    for trial in study.trials:
        if trial.state != optuna.trial.TrialState.COMPLETE or trial.user_attrs.get("infeasible"):
            continue
        assignment = {role: trial.params[role] for role in options if role in trial.params}
        if len(assignment) == len(options) and tuple(assignment.values()) not in evaluated:
            evaluated[tuple(assignment.values())] = matrix.evaluate(assignment, budget)
    feasible = [e for e in evaluated.values() if e.feasible]
    n_infeasible = sum(1 for t in study.trials if t.user_attrs.get("infeasible"))
    if not feasible:
        raise BudgetError(_nothing_fits(matrix, budget, options))
    ranked = sorted(
        feasible,
        key=lambda e: (-e.accuracy.mean, -e.partial_credit, e.cost_per_1k, e.memory_gb, e.label),
    )
    best = ranked[0]
    ties = [e for e in ranked[1:] if is_tie(best.case_success, e.case_success)]
    return SearchResult(
        best=best,
        ties=ties,
        ranked=ranked,
        pareto=pareto_front(feasible),
        n_evaluated=len(evaluated),
        n_infeasible=n_infeasible,
        exhaustive=exhaustive,
        study_name=name,
    )


def pareto_front(evals: list[CoalitionEval]) -> list[CoalitionEval]:
    """Coalitions no other beats on accuracy, cost and memory at once."""

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


def _nothing_fits(matrix: ProfileMatrix, budget: Budget, options: dict[str, list[str]]) -> str:
    """Which budget binds, and the cheapest coalition by the binding measure."""
    assignments = [
        dict(zip(options, combo, strict=True)) for combo in itertools.product(*options.values())
    ]
    parts = []
    for key, limit, measure, unit in (
        ("gpu_memory_gb", budget.gpu_memory_gb, matrix.coalition_memory_gb, "GB"),
        ("cost_per_1k_tasks", budget.cost_per_1k_tasks, matrix.cost_per_1k, "USD"),
        ("latency_s", budget.latency_s, matrix.latency_s, "s"),
    ):
        if limit is None:
            continue
        cheapest = min(assignments, key=measure)
        need = measure(cheapest)
        if need > limit:
            label = " ".join(f"{r}={n}" for r, n in cheapest.items())
            parts.append(
                f"{key}={limit:g} binds: the cheapest coalition ({label}) needs {need:.3g} {unit}"
            )
    if not parts:
        closest = min(assignments, key=lambda a: _worst_excess(matrix, a, budget))
        label = " ".join(f"{r}={n}" for r, n in closest.items())
        over = ", ".join(
            f"{key} by {excess:.3g}" for key, excess in matrix.violations(closest, budget).items()
            if excess > 0
        )  # fmt: skip
        parts.append(
            f"each budget alone can be met, but no coalition meets all at once; the closest "
            f"({label}) exceeds {over}; relax one of them"
        )
    return "no coalition fits the budget: " + "; ".join(parts)


def _worst_excess(matrix: ProfileMatrix, assignment: dict[str, str], budget: Budget) -> float:
    """The largest budget overrun of ``assignment``, relative to that budget."""
    limits = budget.model_dump()
    return max(
        (excess / limits[key] for key, excess in matrix.violations(assignment, budget).items()),
        default=0.0,
    )
