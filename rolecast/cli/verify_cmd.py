"""`rolecast verify`: run the top coalitions end to end on held-out cases; measured vs predicted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from rolecast.cli._common import (
    ConfigOption,
    DbOption,
    SubsetOption,
    console,
    fmt,
    open_store,
    progress_bar,
)

BUDGET_POOL = 50
"""How many of the best predicted coalitions ``--budget-runs`` may spend runs on."""


def verify_table(report, title: str = "Predicted vs measured (held-out cases)") -> Table:
    """One row per coalition: its roles and why it runs, predicted [CI], measured [CI], n.

    Laid out to fit 80 columns (the quickstart's terminal): why a coalition runs is printed
    under its roles, headers break over two lines, and no vertical rules.
    """
    table = Table(
        title=title,
        title_justify="left",
        caption_justify="left",
        show_lines=True,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("coalition\n(why it runs)", no_wrap=True)
    table.add_column(f"predicted ({report.surrogate})\n[95% CI]", no_wrap=True)
    extra = [name for name in _surrogates(report) if name != report.surrogate]
    for name in extra:
        table.add_column(f"({name})", justify="right", no_wrap=True)
    table.add_column("measured\n[95% CI]", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    for m in report.coalitions:
        t = m.target
        missing = f"\n{len(m.missing)} not run" if m.missing else ""
        roles = "\n".join(escape(f"{role}={name}") for role, name in t.assignment.items())
        labels = "".join(f"\n[dim]({escape(label)})[/dim]" for label in t.labels)
        table.add_row(
            roles + labels,
            fmt(t.evaluation.accuracy),
            *[f"{t.predicted_by.get(name, float('nan')):.2f}" for name in extra],
            fmt(m.measured),
            f"{m.measured.n}{missing}",
        )
    table.caption = (
        f"predicted: the search's surrogate ({report.surrogate}) on the profiled cases, other "
        "surrogates beside it; measured: share of held-out cases solved end to end (Wilson)"
    )
    return table


def _surrogates(report) -> list[str]:
    names: dict[str, None] = {}
    for m in report.coalitions:
        names.update(dict.fromkeys(m.target.predicted_by))
    return list(names)


def print_report(report) -> None:
    """The table, the paired comparison and the run counts."""
    console.print(verify_table(report))
    if report.comparison is not None:
        console.print(
            f"[bold]pick vs best single model:[/bold] {escape(report.comparison.verdict)}"
        )
    console.print(
        f"{len(report.case_ids)} held-out case(s); agent runs generated {report.generated}, "
        f"reused {report.reused}"
        + (f", re-judged {report.rejudged}" if report.rejudged else "")
        + (f", infrastructure faults {report.faults} (not stored)" if report.faults else "")
    )
    for message in report.fault_messages[:5]:
        console.print(f"[yellow]fault:[/yellow] {escape(message)}")
    for note in report.notes:
        console.print(f"[dim]{escape(note)}[/dim]")


def run_verify(
    config: Path | None,
    db: str | None,
    subset: int | None,
    request,
    *,
    progress: bool = True,
):
    """Check the input, open the store, search, run, and return the report."""
    from rolecast.backends import fingerprints as model_fingerprints
    from rolecast.errors import StorageError
    from rolecast.project import load_project
    from rolecast.search import search
    from rolecast.storage import resolve_db_url
    from rolecast.tools import open_tools
    from rolecast.verify import check_request, holdout_cases, verify
    from rolecast.verify.surrogates import surrogate_matrices
    from rolecast.workflow import make_matrix, select_cases

    project, _ = load_project(config)
    named = check_request(request, project)
    selection = select_cases(project, subset)
    holdout_cases(project, selection.holdout, selection.profile, None)  # none left: stop here
    model_fingerprints(project.candidates)  # a missing model fails before any store exists
    url = resolve_db_url(db)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise StorageError(
            f"no profile database at {url.removeprefix('sqlite:///')}: run `rolecast profile` "
            f"(or `rolecast quickstart`) first, or point --db at one"
        )
    toolset = open_tools(project.tools if project.tools is not None else "builtin")
    with open_store(db) as store, toolset:
        matrix, fingerprints = make_matrix(store, project, selection.profile)
        # the budgeted search chooses among many coalitions, not only the top-k it starts from
        pool = BUDGET_POOL if request.budget_runs is not None else request.top_k
        result = search(matrix, project.budget, top_k=max(pool, request.top_k, 1))
        cases, notes = holdout_cases(
            project, selection.holdout, selection.profile, store, request.holdout
        )
        with progress_bar(progress) as update:
            report = verify(
                project,
                store,
                matrix,
                result.ranked,
                fingerprints,
                cases,
                toolset,
                top_k=request.top_k,
                named=named,
                surrogates=surrogate_matrices(matrix, store),
                progress=update,
                budget_runs=request.budget_runs,
            )
        report.notes.extend(notes)
    return report


def verify_command(
    config: ConfigOption = None,
    db: DbOption = None,
    subset: SubsetOption = None,
    top_k: Annotated[
        int, typer.Option("--top-k", help="How many of the search's best coalitions to run.")
    ] = 3,
    coalition: Annotated[
        list[str] | None,
        typer.Option(
            "--coalition",
            help="Also run this coalition: planner=NAME,caller=NAME,... (repeatable).",
        ),
    ] = None,
    coalition_file: Annotated[
        list[Path] | None,
        typer.Option("--coalition-file", help="Also run a coalition.yaml's assignment."),
    ] = None,
    holdout: Annotated[
        int | None,
        typer.Option("--holdout", help="Run this many held-out cases (default: all)."),
    ] = None,
    budget_runs: Annotated[
        int | None,
        typer.Option(
            "--budget-runs",
            help="Spend only this many end-to-end runs, chosen by top-two Thompson sampling "
            "over every feasible coalition (seeded with the top-k); default: every target "
            "on every held-out case.",
        ),
    ] = None,
    fmt_: Annotated[str, typer.Option("--format", help="table | json")] = "table",
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Run the top-k coalitions, the best single model and yours end to end on held-out cases."""
    from rolecast.errors import ConfigError
    from rolecast.verify import VerifyRequest

    if fmt_ not in ("table", "json"):
        raise ConfigError(f"--format {fmt_!r}: choose table or json")
    request = VerifyRequest(
        top_k=top_k,
        coalitions=tuple(coalition or ()),
        coalition_files=tuple(coalition_file or ()),
        holdout=holdout,
        budget_runs=budget_runs,
    )
    report = run_verify(config, db, subset, request, progress=progress and fmt_ == "table")
    if fmt_ == "json":
        print(report.to_json())
    else:
        print_report(report)
