"""The steps the CLI strings together: cases -> profile -> matrix -> search -> export.

Each function is a thin, testable join of the layers; the CLI only parses and prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rolecast.allocator import ProfileMatrix
from rolecast.allocator.coalition import candidate_memory, cost_per_1k, profiled_cases
from rolecast.allocator.surrogate import apply_surrogate
from rolecast.backends import fingerprints
from rolecast.errors import CaseError, ConfigError
from rolecast.export import CoalitionConfig, build_coalition_config
from rolecast.profiles.loaders import FORMATS, NATIVE_SUFFIXES, LoadResult, load_cases
from rolecast.profiles.roles import Role, get_role
from rolecast.project import ProjectConfig
from rolecast.storage import ProfileStore
from rolecast.types import ToolCase

__all__ = [
    "CaseSelection",
    "budget_misfit",
    "coalition_from_search",
    "make_matrix",
    "select_cases",
]


@dataclass(frozen=True)
class CaseSelection:
    """The cases of a project: what is profiled, what is held out, what was skipped."""

    profile: list[ToolCase]
    holdout: list[ToolCase]
    loaded: LoadResult


def select_cases(
    project: ProjectConfig, subset: int | None = None, *, strict_native: bool = True
) -> CaseSelection:
    """Load the project's cases and pick the profiling subset.

    A subset of the built-in suite or of a native case file is tag-balanced
    (:func:`rolecast.suite.default_subset`); of a benchmark file (ToolAlpaca, BFCL,
    JSON-RAG), its first ``n`` cases, so that a subset is a documented prefix.

    Args:
        project: the project.
        subset: overrides the project's ``subset``.
        strict_native: a native case file with a skipped record is an error (the user's
            own file is fixed, not half-used); ``rolecast cases`` passes False to list
            every problem instead.
    """
    loaded = load_cases(project.cases, **project.case_options)
    native = _is_native(project.cases)
    if loaded.skipped and native and strict_native:
        # A user's own case file is fixed, not half-used: the first problem, one line.
        more = len(loaded.skipped) - 1
        raise CaseError(str(loaded.skipped[0]) + (f" (and {more} more)" if more else ""))
    if not loaded.cases:
        raise CaseError(f"{project.cases}: no usable cases ({len(loaded.skipped)} skipped)")
    profile = [c for c in loaded.cases if c.split == "profile"]
    holdout = [c for c in loaded.cases if c.split == "holdout"]
    n = subset if subset is not None else project.subset
    if n is not None and n < len(profile):
        if project.cases == "builtin" or native:
            from rolecast.suite import default_subset

            profile = default_subset(loaded.cases, n)
        else:
            profile = profile[:n]
    return CaseSelection(profile=profile, holdout=holdout, loaded=loaded)


def _is_native(spec: str) -> bool:
    return spec.partition(":")[0] not in FORMATS and Path(spec).suffix.lower() in NATIVE_SUFFIXES


def roles_of(project: ProjectConfig, only: Sequence[str] = ()) -> list[Role]:
    """The pipeline's roles (or the named subset of them)."""
    names = [r for r in project.pipeline if not only or r in only]
    for name in only:
        get_role(name)  # unknown role -> one-line error with a suggestion
        if name not in project.pipeline:
            raise ConfigError(
                f"role {name!r} is not in the project's pipeline {project.pipeline}; "
                "add it there or profile one of those"
            )
    return [get_role(name) for name in names]


def make_matrix(
    store: ProfileStore,
    project: ProjectConfig,
    cases: Sequence[ToolCase],
    surrogate: str | None = None,
) -> tuple[ProfileMatrix, dict[str, str]]:
    """The stored results of every candidate on every role, and the fingerprints used.

    The matrix's case scores come from ``surrogate`` (default: the project's).
    """
    by_name = fingerprints(project.candidates)
    matrix = ProfileMatrix.from_store(store, cases, project.candidates, roles_of(project), by_name)
    return apply_surrogate(matrix, surrogate or project.surrogate), by_name


def budget_misfit(
    store: ProfileStore, project: ProjectConfig, cases: Sequence[ToolCase]
) -> str | None:
    """Why no coalition can fit the project's budget, when that is known without the steps.

    A coalition's memory depends only on its candidates, so a memory (or GPU) budget that
    even the smallest coalition exceeds rules every coalition out before a stored step is
    read. Cost and latency are bounded from above by one aggregate query (every stored
    step of each candidate × role summed); when they provably do not bind too, the
    message is the search's own. None when the search must read the steps to know.
    """
    from rolecast.search.diagnose import binding_budgets, certain_misfit
    from rolecast.search.space import Space

    budget = project.budget
    if not project.candidates or (budget.gpu_memory_gb is None and not budget.gpus):
        return None
    roles = roles_of(project)
    names = [role.name for role in roles]
    memory = {c.name: candidate_memory(c).total_gb for c in project.candidates}
    space = Space.of_budget_figures(names, memory)
    if not binding_budgets(space, budget):  # the smallest coalition fits: search decides
        return None
    if budget.cost_per_1k_tasks is not None or budget.latency_s is not None:
        n_cases = max(len(profiled_cases(cases, roles)[0]), 1)  # as the matrix divides
        totals = store.step_totals(candidates=list(memory), roles=names)
        cost: dict[tuple[str, str], float] = {}
        latency: dict[tuple[str, str], float] = {}
        for candidate in project.candidates:
            for role in names:
                t_in, t_out, seconds = totals.get((candidate.name, role), (0, 0, 0.0))
                key = (candidate.name, role)
                latency[key] = seconds / n_cases
                cost[key] = cost_per_1k(
                    candidate.prices, t_in / n_cases, t_out / n_cases, latency[key]
                )
        space = Space.of_budget_figures(names, memory, cost, latency)
    return certain_misfit(space, budget)


def coalition_from_search(
    result,
    matrix: ProfileMatrix,
    project: ProjectConfig,
    store: ProfileStore,
    fingerprints: dict[str, str],
) -> CoalitionConfig:
    """The exportable config of a search result's best coalition."""
    return build_coalition_config(
        result.best,
        result.ties,
        matrix,
        pipeline=list(project.pipeline),
        prompt_versions={r.name: r.prompt_version for r in roles_of(project)},
        budget=project.budget,
        cases=project.cases,
        database=store.url,
        fingerprints=fingerprints,
        study=result.study_name,
        tools=project.tools,
    )
