"""`rolecast search` (and the search that `rolecast export` runs first)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from rolecast.cli._common import (
    ConfigOption,
    DbOption,
    SubsetOption,
    coalition_table,
    console,
    open_store,
    progress_bar,
)

MemoryOption = Annotated[
    float | None, typer.Option("--gpu-memory-gb", help="Override the budget's GPU memory (GB).")
]
CostOption = Annotated[
    float | None, typer.Option("--cost-per-1k", help="Override the budget's USD per 1000 tasks.")
]
TopOption = Annotated[
    int, typer.Option("--top", min=1, help="How many of the best coalitions to list (top-k).")
]
SurrogateOption = Annotated[
    str | None,
    typer.Option(
        "--surrogate",
        help="observed (0/1 outcomes) or irt (item-response probabilities); "
        "default: the project's (irt).",
    ),
]
StudyOption = Annotated[
    str | None,
    typer.Option(
        "--study-db", envvar="ROLECAST_STUDY_DB", help="Optuna storage URL (own database)."
    ),
]


def run_search(
    config,
    db,
    subset,
    gpu_memory_gb,
    cost_per_1k,
    top,
    study_db,
    show=True,
    progress=True,
    surrogate=None,
):
    """Load, search, print; returns (result, matrix, project, store, fingerprints)."""
    from rolecast.allocator.surrogate import SURROGATES
    from rolecast.config import parse_model
    from rolecast.errors import ConfigError
    from rolecast.project import load_project
    from rolecast.search import search, study_storage
    from rolecast.types import Budget
    from rolecast.workflow import make_matrix, select_cases

    if surrogate is not None and surrogate not in SURROGATES:  # before any store is opened
        raise ConfigError(f"--surrogate {surrogate!r}: choose one of {', '.join(SURROGATES)}")
    project, _ = load_project(config)
    overrides = {
        k: v
        for k, v in (("gpu_memory_gb", gpu_memory_gb), ("cost_per_1k_tasks", cost_per_1k))
        if v is not None
    }
    if overrides:
        budget = parse_model(Budget, {**project.budget.model_dump(), **overrides}, "budget")
        project = project.model_copy(update={"budget": budget})
    selection = select_cases(project, subset)
    store = open_store(db)
    storage = study_storage(study_db) if study_db else None
    matrix, fingerprints = make_matrix(store, project, selection.profile, surrogate)
    with progress_bar(show and progress) as update:
        result = search(
            matrix,
            project.budget,
            top_k=top,
            storage=storage,
            progress=lambda done, total: update("search", done, total),
        )
    if show:
        console.print(
            f"exact search (surrogate {matrix.surrogate}): the best of "
            f"{result.space_size:,} coalition(s), proven ({result.n_scored:,} scored, the rest "
            f"bounded away) in {result.seconds:.2f}s; "
            f"budget {project.budget.model_dump(exclude_none=True)}"
        )
        console.print(
            coalition_table(
                result.ranked, f"Top {len(result.ranked)} by predicted accuracy", result.ties
            )
        )
        console.print(coalition_table(result.pareto, "Pareto front (accuracy ↑, cost ↓, memory ↓)"))
        best = result.best
        console.print(
            f"[bold green]chosen:[/bold green] {escape(best.label)}  accuracy {best.accuracy}"
        )
        if result.ties:
            console.print(
                f"[yellow]tie:[/yellow] {len(result.ties)} other coalition(s) are within noise of "
                "the chosen one (paired bootstrap over the same cases); the ranking among them "
                "is not significant. Profile more cases to separate them."
            )
    return result, matrix, project, store, fingerprints


def search_command(
    config: ConfigOption = None,
    db: DbOption = None,
    subset: SubsetOption = None,
    gpu_memory_gb: MemoryOption = None,
    cost_per_1k: CostOption = None,
    top: TopOption = 10,
    study_db: StudyOption = None,
    surrogate: SurrogateOption = None,
) -> None:
    """Find the most accurate coalition within the budget; print ranking, ties, Pareto front."""
    _, _, _, store, _ = run_search(
        config, db, subset, gpu_memory_gb, cost_per_1k, top, study_db, surrogate=surrogate
    )
    store.close()
