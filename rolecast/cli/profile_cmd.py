"""`rolecast profile`, `cases`, `show`, `report` and `import`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from rolecast.cli._common import (
    NO_VALUE,
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

#: Messages beside a report written to stdout (``wrote plots/heatmap.png``).
err_console = Console(stderr=True)


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
        "case_ids": {
            "profiled": [c.id for c in selection.profile],
            "holdout": [c.id for c in selection.holdout],
            "all": [c.id for c in loaded.cases],
        },
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
            store.reap_stale_runs()  # a run whose process died is interrupted, not running
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
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Check candidate names and case ids against this project."
        ),
    ] = None,
) -> None:
    """Store results measured elsewhere (docs/import-format.md) so search can use them."""
    from rolecast.profiles.imports import ResultStream, check_names, import_results

    results = ResultStream(path)  # a missing file or bad header fails before the store opens
    if config is not None:  # a first streaming pass, before the store opens: nothing written
        from rolecast.project import load_project
        from rolecast.workflow import select_cases

        project, _ = load_project(config)
        case_ids = [case.id for case in select_cases(project).loaded.cases]
        check_names((r for _, r in results), [c.name for c in project.candidates], case_ids)
        results = ResultStream(path)
    with open_store(db) as store:
        summary = import_results(store, results)
    for problem in summary.skipped:
        console.print(
            f"[yellow]skipped[/yellow] {escape(str(problem))}",
            highlight=False,
            soft_wrap=True,
            emoji=False,  # "results.csv:100:" is a line number, not the 💯 emoji
        )
    if summary.n_skipped > len(summary.skipped):
        console.print(f"[yellow]… and {summary.n_skipped - len(summary.skipped)} more[/yellow]")
    console.print(
        f"imported {summary.written} step(s) from {escape(str(path))} as run "
        f"{summary.run_id}; skipped {summary.n_skipped}"
    )


def report(
    config: ConfigOption = None,
    db: DbOption = None,
    subset: SubsetOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table | markdown | json | html")] = "table",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the json or html report here, not stdout."),
    ] = None,
    plots: Annotated[
        Path | None, typer.Option("--plots", help="Write the figures as PNG files into a folder.")
    ] = None,
    calibration_png: Annotated[
        Path | None,
        typer.Option("--calibration-png", help="Write the calibration reliability diagram here."),
    ] = None,
) -> None:
    """Every candidate × role × metric with n and a 95% interval; ties marked; calibration.

    With stored end-to-end runs (`rolecast verify`), the surrogates' calibration follows:
    predicted vs measured per coalition and per predicted-probability bin, MAE, bias and
    Spearman with intervals. ``--format html`` is one self-contained page (heat map,
    Pareto front, calibration, per-role tables); ``--format json`` is the same data
    (``{"rows": [...], "calibration": {...} | null, "heatmap": ..., "coalitions": ...}``).
    """
    from rolecast.errors import ConfigError
    from rolecast.project import load_project
    from rolecast.report import build_report
    from rolecast.reporting.hooks import calibration_for
    from rolecast.workflow import make_matrix, select_cases

    if fmt not in ("table", "markdown", "json", "html"):
        raise ConfigError(f"--format {fmt!r}: choose table, markdown, json or html")
    if output is not None and fmt not in ("json", "html"):
        raise ConfigError("--output is for --format json or html; redirect the others")
    project, _ = load_project(config)
    selection = select_cases(project, subset)
    full = fmt in ("json", "html") or plots is not None  # the search and the figures too
    figures = fmt == "html" or plots is not None or calibration_png is not None
    with open_store(db) as store:
        matrix, fingerprints = make_matrix(store, project, selection.profile)
        calibration = calibration_for(store, project, matrix, fingerprints, png=figures)
    if calibration_png is not None:
        if calibration is None or calibration.png is None:
            raise ConfigError(
                "--calibration-png: the store has no end-to-end run of this project's "
                "coalitions; run `rolecast verify` first"
            )
        _write(calibration_png, calibration.png)
    if not full:
        _print_rows(fmt, build_report(matrix), list(matrix.candidates))
        if calibration is not None and calibration.markdown:
            if fmt == "markdown":
                print("\n" + calibration.markdown)
            else:
                console.print(escape(calibration.markdown), highlight=False)
        return
    from rolecast.reporting import build_report_data, render_html, render_plots, write_plots

    data = build_report_data(matrix, project.budget, calibration=calibration)
    pngs = render_plots(data) if figures else {}
    if plots is not None:
        for path in write_plots(pngs, plots):
            err_console.print(f"wrote {escape(str(path))}", highlight=False)
    if fmt == "json":
        _emit(json.dumps(data.to_dict(), indent=2, ensure_ascii=False), output)
    elif fmt == "html":
        _emit(render_html(data, pngs), output)
    else:
        _print_rows(fmt, data.rows, data.candidates)


def _write(path: Path, content: bytes) -> None:
    """Write a file the user named; a failure is one line."""
    from rolecast.errors import ConfigError

    try:
        path.write_bytes(content)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write ({exc.strerror or exc})") from None
    err_console.print(f"wrote {escape(str(path))}", highlight=False)


def _emit(text: str, output: Path | None) -> None:
    """Print ``text`` or write it to ``output``."""
    if output is None:
        print(text)
    else:
        _write(output, (text + "\n").encode("utf-8"))


def _print_rows(fmt: str, rows: list, candidates: list[str]) -> None:
    """The rows as markdown or a rich table."""
    from rolecast.report import render_markdown, with_unmeasured

    if fmt == "markdown":
        print(render_markdown(rows, candidates))
        return
    from rich.table import Table

    table = Table(title="candidate × role × metric, 95% intervals", title_justify="left")
    for column in ("role", "metric", "candidate", "mean [95% CI]", "n", "method", "rank"):
        table.add_column(column)
    for role, metric, name, r in with_unmeasured(rows, candidates):
        if r is None:  # a metric this candidate has no measurement of
            table.add_row(role, metric, name, NO_VALUE, "0", "", "")
            continue
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
