"""`rolecast quickstart`: the whole loop on the embedded default."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from rolecast.cli._common import (
    DbOption,
    SubsetOption,
    console,
    open_store,
    progress_bar,
    role_table,
)


def quickstart(
    db: DbOption = None,
    subset: SubsetOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the coalition.")] = Path(
        "coalition.yaml"
    ),
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Profile the two CPU models on all roles, search, export, and run one held-out case."""
    from rolecast.backends import fingerprints as model_fingerprints
    from rolecast.cli.run_cmd import run_coalition
    from rolecast.cli.search_cmd import run_search
    from rolecast.export import write_coalition
    from rolecast.profiles.profiler import profile
    from rolecast.project import load_project
    from rolecast.workflow import coalition_from_search, make_matrix, roles_of, select_cases

    started = time.perf_counter()
    project, _ = load_project(None)
    selection = select_cases(project, subset)
    roles = roles_of(project)
    console.rule("1. profile")
    console.print(
        f"{len(project.candidates)} models × {len(roles)} roles on {len(selection.profile)} "
        f"built-in cases ({len(selection.holdout)} more held out for end-to-end checks)"
    )
    model_fingerprints(project.candidates)  # a missing model fails before any store exists
    with open_store(db) as store:
        console.print(f"store: {escape(store.url)}")
        with progress_bar(progress) as update:
            outcome = profile(
                selection.profile,
                project.candidates,
                roles,
                store,
                progress=update,
                label="quickstart",
            )
        console.print(f"generated {outcome.generated} step(s), reused {outcome.reused}")
        matrix, _ = make_matrix(store, project, selection.profile)
        console.print(role_table(matrix))
    profiled = time.perf_counter()
    console.rule("2. search")
    result, matrix, project, store, fingerprints = run_search(
        None, db, subset, None, None, 10, None, progress=progress
    )
    console.rule("3. export")
    with store:
        path = write_coalition(
            coalition_from_search(result, matrix, project, store, fingerprints), out
        )
    console.print(f"wrote {escape(str(path))}")
    console.rule("4. run on a held-out case")
    case = next((c for c in selection.holdout if len(c.steps) >= 2), selection.holdout[0])
    run_coalition(path, None, case.id, project.cases, None, progress)
    finished = time.perf_counter()
    console.print(
        f"timings: profile {profiled - started:.0f}s, "
        f"search+export+run {finished - profiled:.0f}s, "
        f"total {finished - started:.0f}s"
    )
