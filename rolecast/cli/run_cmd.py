"""`rolecast run`: execute a coalition as an agent with the real tools."""

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
    cases: str,
    max_steps: int | None,
    progress: bool = True,
    fmt: str = "text",
) -> None:
    """Load the coalition and the tools, run, print (and judge a case).

    ``fmt="json"`` prints the whole trajectory (nothing clipped) as one JSON document.
    """
    if fmt not in ("text", "json"):
        raise ConfigError(f"--format {fmt!r}: choose text or json")
    if instruction is not None and not instruction.strip():
        raise ConfigError("the instruction is blank; say what the agent should do")
    progress = progress and fmt == "text"  # JSON output stays one clean document
    from rolecast.agent import AgentStep, CoalitionRunner, judge
    from rolecast.export import load_coalition

    coalition = load_coalition(coalition_path)
    if max_steps is not None:
        coalition = coalition.model_copy(update={"max_steps": max_steps})
    from rolecast.tools import open_tools

    try:
        toolset = open_tools(coalition.tools)
    except ConfigError as exc:
        raise ConfigError(f"{coalition_path}: {exc}") from None
    try:
        runner = CoalitionRunner(coalition)  # loads no model yet: they load on first use
    except ConfigError as exc:
        raise ConfigError(f"{coalition_path}: {exc}") from None
    case = None
    if case_id is not None:
        from rolecast.profiles.loaders import load_cases

        found = {c.id: c for c in load_cases(cases).cases}
        if case_id not in found:
            raise CaseError(f"no case {case_id!r} in {cases}; e.g. {', '.join(list(found)[:5])}")
        case = found[case_id]
        instruction = case.instruction
    if not instruction:
        raise ConfigError("give an instruction or --case ID")
    tools = toolset.tools(case)
    spinner = console.status("running the coalition (each model loads on first use)")
    done: list[AgentStep] = []

    def on_step(step: AgentStep) -> None:
        done.append(step)
        spinner.update(f"step {len(done)} done ({step.kind} by {escape(step.actor)}); next")

    with toolset, runner, spinner if progress else nullcontext():
        trajectory = runner.run(
            instruction,
            tools,
            lambda name, arguments: toolset.call(name, arguments, case),
            on_step if progress else None,
            dialogue=case.history if case is not None else (),
        )
    verdict = None
    if case is not None:
        from rolecast.profiles.embeddings import default_embedder

        judging = console.status("judging against the gold answer (all-MiniLM-L6-v2)")
        with judging if progress and fmt == "text" else nullcontext():
            verdict = judge(case, trajectory, default_embedder().similarity)
    if fmt == "json":
        document = trajectory_json(trajectory)
        if case is not None:
            document["case"] = case.id
            document["gold_answer"] = case.answer
            document["verdict"] = verdict
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
        str | None, typer.Option("--case", help="Run a suite case and judge it.")
    ] = None,
    cases: Annotated[str, typer.Option("--cases", help="Where --case is looked up.")] = "builtin",
    max_steps: Annotated[
        int | None, typer.Option("--max-steps", min=1, help="Tool-loop limit.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress line while it runs.")] = True,
    fmt: Annotated[
        str, typer.Option("--format", help="text (long texts clipped) | json (everything)")
    ] = "text",
) -> None:
    """Run the coalition on an instruction (or a case), printing the trajectory."""
    run_coalition(coalition, instruction, case, cases, max_steps, progress, fmt)
