"""`rolecast profile`, `cases`, `show`, `report` and `import`."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from rolecast.cli._common import (
    ConfigOption,
    DbOption,
    SubsetOption,
    console,
    open_store,
    progress_bar,
    role_table,
)

if TYPE_CHECKING:
    from rolecast.profiles.loaders import LoadResult


def profile(
    config: ConfigOption = None,
    db: DbOption = None,
    subset: SubsetOption = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="Only these roles.")] = None,
    candidate: Annotated[
        list[str] | None, typer.Option("--candidate", help="Only these candidates.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Profile every candidate on every role; steps already stored are reused."""
    from rolecast.backends import fingerprints as model_fingerprints
    from rolecast.profiles.profiler import profile as run_profile
    from rolecast.project import load_project
    from rolecast.workflow import make_matrix, roles_of, select_cases

    project, _ = load_project(config)
    roles = roles_of(project, role or ())
    candidates = [project.candidate(n) for n in candidate] if candidate else project.candidates
    selection = select_cases(project, subset)
    print_load(selection.loaded)
    console.print(
        f"profiling {len(candidates)} candidate(s) × {len(roles)} role(s) on "
        f"{len(selection.profile)} case(s) from {project.cases}"
    )
    model_fingerprints(candidates)  # a missing model fails before any store exists
    with open_store(db) as store:
        with progress_bar(progress) as update:
            outcome = run_profile(selection.profile, candidates, roles, store, progress=update)
        console.print(
            f"run {outcome.run_id}: generated {outcome.generated} step(s), reused "
            f"{outcome.reused}, generation errors {outcome.errors}"
        )
        if outcome.imported:
            console.print(
                f"not run (results come from `rolecast import`): {escape(str(outcome.imported))}"
            )
        if not role and not candidate:
            matrix, _ = make_matrix(store, project, selection.profile)
            console.print(role_table(matrix))


def print_load(loaded: LoadResult) -> None:
    """What a loader noted and skipped, one line each."""
    for note in loaded.notes:
        console.print(f"[dim]note[/dim] {escape(note)}", highlight=False, soft_wrap=True)
    for skipped in loaded.skipped:
        console.print(
            f"[yellow]skipped[/yellow] {escape(str(skipped))}", highlight=False, soft_wrap=True
        )


def cases(
    config: ConfigOption = None,
    subset: SubsetOption = None,
    fmt: Annotated[str, typer.Option("--format", help="text | json")] = "text",
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any record was skipped.")
    ] = False,
) -> None:
    """Load the project's cases and say what loads, what is skipped and why; runs no model."""
    from collections import Counter

    from rolecast.errors import ConfigError
    from rolecast.project import load_project
    from rolecast.workflow import select_cases

    if fmt not in ("text", "json"):
        raise ConfigError(f"--format {fmt!r}: choose text or json")
    project, _ = load_project(config)
    selection = select_cases(project, subset, strict_native=False)
    loaded = selection.loaded
    steps = Counter(min(len(case.steps), 2) for case in loaded.cases)
    summary = {
        "cases": project.cases,
        "loaded": len(loaded.cases),
        "profile": len([c for c in loaded.cases if c.split == "profile"]),
        "holdout": len(selection.holdout),
        "profiled": len(selection.profile),
        "no_tool": steps[0],
        "one_step": steps[1],
        "multi_step": steps[2],
        "skipped": [{"record": s.record, "reason": s.reason} for s in loaded.skipped],
        "notes": list(loaded.notes),
    }
    if fmt == "json":
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print_load(loaded)
        console.print(
            f"{project.cases}: {summary['loaded']} case(s) loaded ({summary['profile']} for "
            f"profiling, {summary['holdout']} held out), {len(loaded.skipped)} skipped; "
            f"{summary['no_tool']} need no tool, {summary['one_step']} one call, "
            f"{summary['multi_step']} two or more; profile runs on {summary['profiled']}",
            highlight=False,
            soft_wrap=True,
        )
    if strict and loaded.skipped:
        raise typer.Exit(1)


def show(
    config: ConfigOption = None,
    db: DbOption = None,
    subset: SubsetOption = None,
    runs: Annotated[bool, typer.Option("--runs", help="List the profiling runs instead.")] = False,
) -> None:
    """Show the stored role × model table (or the profiling runs)."""
    from rich.table import Table

    from rolecast.project import load_project
    from rolecast.workflow import make_matrix, select_cases

    with open_store(db) as store:
        if runs:
            table = Table(title=f"Profiling runs in {store.url}", title_justify="left")
            for column in ("run", "label", "started", "status", "generated", "reused"):
                table.add_column(column)
            for run in store.runs():
                table.add_row(
                    str(run.id),
                    run.label,
                    f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                    run.status,
                    str(run.n_generated),
                    str(run.n_reused),
                )
            console.print(table)
            return
        project, _ = load_project(config)
        selection = select_cases(project, subset)
        matrix, _ = make_matrix(store, project, selection.profile)
        console.print(role_table(matrix))


def import_results(
    path: Annotated[str, typer.Argument(help="CSV or JSONL of per-case, per-role outcomes.")],
    db: DbOption = None,
) -> None:
    """Store results measured elsewhere (docs/import-format.md) so search can use them."""
    from rolecast.profiles.imports import read_results

    records, skipped = read_results(path)
    for problem in skipped:
        console.print(
            f"[yellow]skipped[/yellow] {escape(str(problem))}", highlight=False, soft_wrap=True
        )
    with open_store(db) as store:
        run_id = store.start_run(f"import {path}", {"file": path})
        written = store.add_steps(dataclasses.replace(record, run_id=run_id) for record in records)
        store.finish_run(run_id, n_generated=written, n_reused=0)
    console.print(
        f"imported {written} step(s) from {escape(str(path))} as run {run_id}; "
        f"skipped {len(skipped)}"
    )


def report(
    config: ConfigOption = None,
    db: DbOption = None,
    subset: SubsetOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table | markdown | json")] = "table",
) -> None:
    """Every candidate × role × metric with n and a 95% interval; ties marked."""
    from rolecast.errors import ConfigError
    from rolecast.project import load_project
    from rolecast.report import build_report, render_markdown, to_json
    from rolecast.workflow import make_matrix, select_cases

    if fmt not in ("table", "markdown", "json"):
        raise ConfigError(f"--format {fmt!r}: choose table, markdown or json")
    project, _ = load_project(config)
    selection = select_cases(project, subset)
    with open_store(db) as store:
        matrix, _ = make_matrix(store, project, selection.profile)
    rows = build_report(matrix)
    if fmt == "json":
        print(to_json(rows))
    elif fmt == "markdown":
        print(render_markdown(rows, list(matrix.candidates)))
    else:
        from rich.table import Table

        table = Table(title="candidate × role × metric, 95% intervals", title_justify="left")
        for column in ("role", "metric", "candidate", "mean [95% CI]", "n", "method", "rank"):
            table.add_column(column)
        for r in rows:
            e = r.estimate
            table.add_row(
                r.role,
                r.metric,
                r.candidate,
                f"{e.mean:.3f} [{e.low:.3f}, {e.high:.3f}]",
                str(e.n),
                e.method,
                {"best": "best", "tie": "≈ tie"}.get(r.rank, ""),
            )
        console.print(table)
