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
GpusOption = Annotated[
    str | None,
    typer.Option(
        "--gpus",
        help="The GPUs to place the models on, in GB: 2x80 (two 80 GB GPUs) or 80,40.",
    ),
]
FormatOption = Annotated[
    str, typer.Option("--format", help="table (for people) or json (rolecast schema search).")
]
ProgressOption = Annotated[bool, typer.Option(help="Show progress bars.")]
PARETO_ROWS = 20
"""Pareto-front rows the table shows; --format json lists them all."""
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
    gpus=None,
):
    """Load, search, print; returns (result, matrix, project, store, fingerprints)."""
    from rolecast.allocator.surrogate import SURROGATES
    from rolecast.config import parse_model
    from rolecast.errors import BudgetError, ConfigError
    from rolecast.project import load_project
    from rolecast.search import search, study_storage
    from rolecast.types import Budget, parse_gpus
    from rolecast.workflow import budget_misfit, make_matrix, select_cases

    if surrogate is not None and surrogate not in SURROGATES:  # before any store is opened
        raise ConfigError(f"--surrogate {surrogate!r}: choose one of {', '.join(SURROGATES)}")
    project, _ = load_project(config)
    overrides: dict[str, object] = {
        k: v
        for k, v in (("gpu_memory_gb", gpu_memory_gb), ("cost_per_1k_tasks", cost_per_1k))
        if v is not None
    }
    if gpus is not None:
        try:
            overrides["gpus"] = parse_gpus(gpus)
        except ValueError as exc:
            raise ConfigError(f"--gpus: {exc}") from None
    if overrides:
        budget = parse_model(Budget, {**project.budget.model_dump(), **overrides}, "budget")
        project = project.model_copy(update={"budget": budget})
    selection = select_cases(project, subset)
    store = open_store(db)
    storage = study_storage(study_db) if study_db else None
    misfit = budget_misfit(store, project, selection.profile)
    if misfit is not None:  # known from the candidates' memory: no step needs reading
        raise BudgetError(misfit)
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
        shown = result.pareto[:PARETO_ROWS]
        title = f"Pareto front (accuracy ↑, cost ↓, memory ↓): {len(result.pareto)} coalition(s)"
        if len(shown) < len(result.pareto):
            title += f", the {len(shown)} most accurate shown (--format json lists all)"
        console.print(coalition_table(shown, title))
        best = result.best
        console.print(
            f"[bold green]chosen:[/bold green] {escape(best.label)}  accuracy {best.accuracy}"
        )
        placed = result.placements.get(best.label)
        if placed and (project.budget.gpus or project.budget.gpu_memory_gb):
            where = ", ".join(
                f"{p.model} on GPU {'+'.join(map(str, p.gpus))} ({p.fraction:.2f} each"
                + (
                    f", tensor parallel {p.tensor_parallel_size}"
                    if p.tensor_parallel_size > 1
                    else ""
                )
                + ")"
                for p in placed
            )
            console.print(f"placement: {escape(where)}")
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
    gpus: GpusOption = None,
    output: FormatOption = "table",
    progress: ProgressOption = True,
) -> None:
    """Find the most accurate coalition within the budget; print ranking, ties, Pareto front.

    The result is exact (proven by branch and bound, not sampled); ``--format json``
    prints it as one JSON document (``rolecast schema search``).
    """
    from rolecast.errors import ConfigError
    from rolecast.storage import discard_new_sqlite_on_failure

    if output not in ("table", "json"):
        raise ConfigError(f"--format {output!r}: choose table or json")
    as_json = output == "json"
    with discard_new_sqlite_on_failure(study_db):  # nothing fits: no new study file left
        result, _, project, store, _ = run_search(
            config, db, subset, gpu_memory_gb, cost_per_1k, top, study_db,
            show=not as_json, progress=progress and not as_json, surrogate=surrogate, gpus=gpus,
        )  # fmt: skip
    if as_json:
        import sys

        from rolecast.search import search_report

        sys.stdout.write(search_report(result, project.budget).model_dump_json(indent=2) + "\n")
    store.close()
