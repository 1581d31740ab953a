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

QUICKSTART_HOLDOUT = 4
"""Held-out cases the quickstart verifies on (of 16): at most 3 coalitions × 4 cases = 12
agent runs, about 6 s each on 2 quiet cores, fit its 10-minute budget (BENCHMARKS.md §5);
`rolecast verify` runs them all."""
QUICKSTART_TOP_K = 2
"""Searched coalitions the quickstart verifies, besides the best single model."""


def quickstart(
    db: DbOption = None,
    subset: SubsetOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the coalition.")] = Path(
        "coalition.yaml"
    ),
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    holdout: Annotated[
        int, typer.Option("--holdout", min=1, help="Held-out cases to verify on.")
    ] = QUICKSTART_HOLDOUT,
) -> None:
    """Profile the two CPU models on all roles, search, export, and verify end to end."""
    from rolecast.backends import fingerprints as model_fingerprints
    from rolecast.cli.search_cmd import run_search
    from rolecast.cli.verify_cmd import print_report, run_verify
    from rolecast.export import write_coalition
    from rolecast.profiles.profiler import profile
    from rolecast.project import load_project
    from rolecast.verify import VerifyRequest
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
    console.rule("4. verify end to end on held-out cases")
    console.print(
        f"the top {QUICKSTART_TOP_K} coalitions and the best single model run as agents with "
        f"the built-in tools on {holdout} of the {len(selection.holdout)} held-out "
        f"cases (never profiled); `rolecast verify` runs all of them"
    )
    report = run_verify(
        None,
        db,
        subset,
        VerifyRequest(top_k=QUICKSTART_TOP_K, holdout=holdout),
        progress=progress,
    )
    print_report(report)
    finished = time.perf_counter()
    console.print(
        f"timings: profile {profiled - started:.0f}s, "
        f"search+export+verify {finished - profiled:.0f}s, "
        f"total {finished - started:.0f}s"
    )
