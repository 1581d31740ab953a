"""Shared CLI pieces: options, the store, progress bars and tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rolecast.profiles.stats import Estimate

console = Console()

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="ROLECAST_DB",
        help="Profile store: a SQLite file path or a database URL (postgresql://...).",
        show_default="~/.local/share/rolecast/rolecast.db",
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Project YAML (candidates, budget). Default: embedded."),
]
SubsetOption = Annotated[
    int | None, typer.Option("--subset", min=1, help="Profile only this many cases.")
]


def open_store(db: str | None):
    """Open the profile store named by ``--db`` / ``ROLECAST_DB`` / the default."""
    from rolecast.storage import ProfileStore, resolve_db_url

    return ProfileStore(resolve_db_url(db))


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A ``progress(description, done, total)`` callback drawing one rich bar."""
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not enabled,
    ) as bar:
        task = bar.add_task("starting", total=None)

        def update(description: str, done: int, total: int) -> None:
            bar.update(task, description=description, completed=done, total=total)

        yield update


NO_VALUE = "—"
"""Printed for a metric a candidate has no measurement of (never 0.00)."""


def fmt(estimate: Estimate) -> str:
    """``0.62 [0.51, 0.72]``."""
    return f"{estimate.mean:.2f} [{estimate.low:.2f}, {estimate.high:.2f}]"


PRIMARY_METRIC = {
    "planner": "plan_acc",
    "caller": "arg_f1",
    "extractor": "evidence_recall",
    "responder": "cosine",
}


def role_table(matrix, title: str = "Role × model: step pass rate [95% CI]") -> Table:
    """Roles as rows, candidates as columns; ≈ marks a rate within noise of the best."""
    names = list(matrix.candidates)
    table = Table(title=title, title_justify="left")
    table.add_column("role")
    for name in names:
        table.add_column(name)
    for role in matrix.roles:
        rates = {}
        for name in names:
            stats = matrix.stats.get((name, role))
            if stats is not None:
                rates[name] = (stats.step_rate, stats)
        measured = [r for r in rates.values() if r[0].n > 0]
        best = max(measured, key=lambda r: r[0].mean)[0] if measured else None
        cells = []
        for name in names:
            if name not in rates:
                cells.append(NO_VALUE)
                continue
            estimate, stats = rates[name]
            if estimate.n == 0:  # every step imported as not observed: nothing measured
                cells.append(f"{NO_VALUE}\nn=0")
                continue
            metric = PRIMARY_METRIC.get(role)
            extra = f"\nn={estimate.n}"
            if metric:
                value = stats.metric_means.get(metric)
                extra += f"  {metric} {NO_VALUE if value is None else f'{value:.2f}'}"
            mark = ""
            if best is not None and estimate is not best:
                mark = " ≈" if estimate.overlaps(best) else ""
            elif len(measured) > 1:
                others = [r[0] for n, r in rates.items() if n != name and r[0].n > 0]
                tied = any(o.overlaps(estimate) for o in others)
                mark = " ≈" if tied else " ★"
            cells.append(f"{fmt(estimate)}{mark}{extra}")
        table.add_row(role, *cells)
    table.caption = "★ best, clearly;  ≈ within noise of the best (95% intervals overlap)"
    return table


def coalition_table(evals: Sequence, title: str, tied: Sequence = ()) -> Table:
    """One row per coalition: its roles, accuracy with interval, partial credit, GB, cost."""
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("coalition", no_wrap=True)
    table.add_column("accuracy [95% CI]", no_wrap=True)
    table.add_column("tie", justify="center")
    table.add_column("part", justify="right")
    table.add_column("GB", justify="right")
    table.add_column("$/1k", justify="right")
    table.add_column("s", justify="right")
    tied_labels = {t.label for t in tied}
    for e in evals:
        table.add_row(
            "\n".join(f"{role}={name}" for role, name in e.assignment.items()),
            fmt(e.accuracy),
            "≈" if e.label in tied_labels else "",
            f"{e.partial_credit:.2f}",
            f"{e.memory_gb:.2f}",
            f"{e.cost_per_1k:.2f}",
            f"{e.latency_s:.1f}",
        )
    table.caption = (
        "≈ within noise of the first row (paired bootstrap, same cases); part: partial "
        "credit, the mean share of steps passed; $/1k: USD per 1000 tasks; s: per task"
    )
    return table


INSTRUCTION_CHARS = 500
"""How much of an instruction or answer the text view shows (``--format json`` has it all)."""
STEP_CHARS = 240
"""How much of one step's text the text view shows."""


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more chars)"


def print_text(*parts: str | tuple[str, str]) -> None:
    """Print model or user text as it is: no markup, no highlighting, no wrapping cost.

    Each part is plain text or ``(text, style)``. rich's highlighter scans text with
    regular expressions whose cost grows with the square of an unbroken token's length
    (100 KB took 48 s), so model and user text never goes through it; callers clip it.
    """
    console.print(Text.assemble(*parts), highlight=False, soft_wrap=True)


def print_trajectory(trajectory) -> None:
    """The agent's steps, one line each, long texts clipped (``--format json``: in full)."""
    print_text(("instruction: ", "bold"), clip(trajectory.instruction, INSTRUCTION_CHARS))
    for i, step in enumerate(trajectory.steps, start=1):
        timing = f" ({step.latency_s:.1f}s)" if step.latency_s else ""
        print_text(
            f"  {i:>2}. ",
            (f"{step.kind:<7}", "cyan"),
            f" {step.actor}{timing}: ",
            clip(step.text.replace("\n", " "), STEP_CHARS),
        )
    print_text(
        ("answer: ", "bold"),
        clip(trajectory.answer or "(none)", INSTRUCTION_CHARS),
        ("   stopped: ", "dim"),
        (trajectory.stopped, "dim"),
    )


def trajectory_json(trajectory) -> dict:
    """The whole trajectory, nothing clipped, as JSON-ready data."""
    return {
        "instruction": trajectory.instruction,
        "steps": [
            {
                "kind": step.kind,
                "actor": step.actor,
                "text": step.text,
                "latency_s": step.latency_s,
                "data": step.data,
            }
            for step in trajectory.steps
        ],
        "calls": [{"tool": name, "arguments": arguments} for name, arguments in trajectory.calls],
        "answer": trajectory.answer,
        "stopped": trajectory.stopped,
    }
