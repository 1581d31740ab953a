"""`rolecast run`: execute a coalition as an agent with the project's tools."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from rolecast.cli._common import (
    INSTRUCTION_CHARS,
    clip,
    console,
    print_text,
    print_trajectory,
    trajectory_json,
)
from rolecast.errors import CaseError, ConfigError


def run_coalition(
    coalition_path: Path,
    instruction: str | None,
    case_id: str | None,
    cases: str | None,
    max_steps: int | None,
    progress: bool = True,
    tools: str | None = None,
    fmt: str = "text",
) -> None:
    """Load the coalition, find the case, open the tools, run, print (and judge a case).

    ``cases`` defaults to the source the coalition was profiled on, ``tools`` to the
    tools it records (its project's ``tools:``). ``fmt="json"`` prints the whole
    trajectory (nothing clipped) as one JSON document.
    """
    if fmt not in ("text", "json"):
        raise ConfigError(f"--format {fmt!r}: choose text or json")
    if instruction is not None and not instruction.strip():
        raise ConfigError("the instruction is blank; say what the agent should do")
    text = fmt == "text"
    progress = progress and text  # JSON output stays one clean document
    from rolecast.agent import AgentStep, CoalitionRunner, judge, run_case
    from rolecast.export import case_source, load_coalition
    from rolecast.tools import open_tools

    coalition = load_coalition(coalition_path)
    if max_steps is not None:
        coalition = coalition.model_copy(update={"max_steps": max_steps})
    try:
        runner = CoalitionRunner(coalition)  # loads no model yet: they load on first use
    except ConfigError as exc:
        raise ConfigError(f"{coalition_path}: {exc}") from None
    case = None
    if case_id is not None:
        from rolecast.profiles.loaders import load_cases

        source = cases if cases is not None else case_source(coalition, coalition_path)
        found = {c.id: c for c in load_cases(source).cases}
        if case_id not in found:
            raise CaseError(f"no case {case_id!r} in {source}; e.g. {', '.join(list(found)[:5])}")
        case = found[case_id]
    elif not instruction:
        raise ConfigError("give an instruction or --case ID")
    try:
        toolset = open_tools(coalition.tools if tools is None else tools)
    except ConfigError as exc:
        raise ConfigError(f"{coalition_path if tools is None else '--tools'}: {exc}") from None
    spinner = console.status("running the coalition (each model loads on first use)")
    done: list[AgentStep] = []

    def on_step(step: AgentStep) -> None:
        done.append(step)
        spinner.update(f"step {len(done)} done ({step.kind} by {escape(step.actor)}); next")

    missing: list[str] = []
    with toolset, runner:
        if text:
            console.print(f"tools: {escape(toolset.source)}")
        if case is not None:
            toolset.tools(case)  # a gold tool that no source provides: one line, no model
            missing = list(toolset.missing(case))
            if missing and text:
                left_out = escape(", ".join(missing))
                console.print(f"[yellow]not provided, left out:[/yellow] {left_out}")
        with spinner if progress else nullcontext():
            if case is not None:
                trajectory = run_case(runner, case, toolset, on_step if progress else None)
            else:
                trajectory = runner.run(
                    instruction or "",
                    toolset.tools(None),
                    lambda name, arguments: toolset.call(name, arguments, None),
                    on_step if progress else None,
                )
    verdict = None
    if case is not None:
        from rolecast.profiles.embeddings import default_embedder

        judging = console.status("judging against the gold answer (all-MiniLM-L6-v2)")
        with judging if progress else nullcontext():
            verdict = judge(case, trajectory, default_embedder().similarity)
    if not text:
        document = {"tools": toolset.source, **trajectory_json(trajectory)}
        if case is not None:
            document.update(
                case=case.id, gold_answer=case.answer, verdict=verdict, tools_left_out=missing
            )
        print(json.dumps(document, ensure_ascii=False, default=str))
        return
    print_trajectory(trajectory)
    if case is not None:
        print_text("gold answer: ", clip(str(case.answer), INSTRUCTION_CHARS))
        print_text("end-to-end: ", str(verdict))


def run(
    coalition: Annotated[Path, typer.Argument(help="coalition.yaml written by `rolecast export`.")],
    instruction: Annotated[str | None, typer.Argument(help="What the agent should do.")] = None,
    case: Annotated[
        str | None, typer.Option("--case", help="Run a case (with its history) and judge it.")
    ] = None,
    cases: Annotated[
        str | None,
        typer.Option(
            "--cases",
            help="Where --case is looked up. Default: the source the coalition was profiled on.",
        ),
    ] = None,
    tools: Annotated[
        str | None,
        typer.Option(
            "--tools",
            help="Tools to run with instead of the coalition's: builtin, replay, or "
            "package.module:ATTRIBUTE.",
        ),
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option("--max-steps", min=1, help="Tool-loop limit.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress line while it runs.")] = True,
    fmt: Annotated[
        str, typer.Option("--format", help="text (long texts clipped) | json (everything)")
    ] = "text",
) -> None:
    """Run the coalition on an instruction (or a case), printing the trajectory."""
    run_coalition(coalition, instruction, case, cases, max_steps, progress, tools, fmt)
