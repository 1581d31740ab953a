"""Run a coalition as an agent: planner -> caller -> tool -> extractor -> ... -> responder.

The same prompt builders as profiling are used, now with the real history: each role is
played by the candidate the coalition assigns to it, and each distinct model is loaded
once. A model's unusable output ends the tool loop and is recorded, never raised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rolecast.backends import Backend, ChatRequest, ChatResult, create_backend
from rolecast.errors import ConfigError
from rolecast.export import CoalitionConfig
from rolecast.profiles import facts, metrics
from rolecast.profiles.roles import (
    CallerRole,
    ExtractorRole,
    HistoryItem,
    PlannerRole,
    ResponderRole,
    parse_json_object,
)
from rolecast.tools import ToolSet
from rolecast.types import FINISH, Candidate, Tool, ToolCase, Turn, canonical_json

__all__ = [
    "AGENT_ROLES",
    "JUDGE_VERSION",
    "AgentStep",
    "CoalitionRunner",
    "Trajectory",
    "judge",
    "run_case",
]

AGENT_ROLES = ("planner", "caller", "responder")
"""The roles an agent cannot run without; the extractor is used when it is assigned."""

ToolFn = Callable[[str, dict[str, Any]], Any]

EXTRACT_ABOVE_CHARS = 1200
"""A tool response longer than this (as compact JSON) goes through the extractor."""


@dataclass(frozen=True)
class AgentStep:
    """One thing that happened: a role's output or a tool's result."""

    kind: str  # plan | call | tool | extract | answer
    actor: str  # "role:candidate" or "tool:name"
    text: str
    latency_s: float = 0.0
    data: Any = None


@dataclass
class Trajectory:
    """The whole run of one instruction."""

    instruction: str
    steps: list[AgentStep] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    answer: str = ""
    stopped: str = ""

    @property
    def tools_called(self) -> list[str]:
        """The tool names in call order."""
        return [name for name, _ in self.calls]


class CoalitionRunner:
    """Holds one backend per distinct candidate of a coalition."""

    def __init__(
        self,
        config: CoalitionConfig,
        backend_factory: Callable[[Candidate], Backend] = create_backend,
    ) -> None:
        missing = [role for role in AGENT_ROLES if role not in config.roles]
        if missing:
            raise ConfigError(
                f"the coalition has no {' or '.join(missing)}: running it as an agent needs "
                f"{', '.join(AGENT_ROLES)} (the extractor is optional); export one searched "
                f"with a pipeline that has them"
            )
        self.config = config
        self._factory = backend_factory
        self._backends: dict[str, Backend] = {}
        self._on_step: Callable[[AgentStep], None] | None = None
        self.planner, self.caller = PlannerRole(), CallerRole()
        self.extractor, self.responder = ExtractorRole(), ResponderRole()

    def _ask(self, role: str, request: ChatRequest) -> tuple[str, ChatResult]:
        name = self.config.roles[role].candidate
        if name not in self._backends:
            self._backends[name] = self._factory(self.config.placed_candidate(name))
        return name, self._backends[name].generate([request])[0]

    def _add(self, trajectory: Trajectory, step: AgentStep) -> None:
        trajectory.steps.append(step)
        if self._on_step is not None:
            self._on_step(step)

    def run(
        self,
        instruction: str,
        tools: Sequence[Tool],
        call_tool: ToolFn,
        on_step: Callable[[AgentStep], None] | None = None,
        dialogue: Sequence[Turn] = (),
    ) -> Trajectory:
        """Run ``instruction`` with ``tools`` until the planner finishes or steps run out.

        ``on_step`` sees each step as it happens (the CLI's progress line); ``dialogue``
        holds the earlier turns (a case's ``history``), shown to every role as messages.
        """
        self._on_step = on_step
        trajectory = Trajectory(instruction)
        history: list[HistoryItem] = []
        by_name = {tool.name: tool for tool in tools}
        trajectory.stopped = "step limit"
        for _ in range(self.config.max_steps):
            who, result = self._ask(
                "planner", self.planner.request(instruction, tools, history, dialogue)
            )
            action = self.planner.parse(result.text) if result.ok else None
            self._add(
                trajectory,
                AgentStep(
                    "plan", f"planner:{who}", result.error or result.text, result.latency_s, action
                ),
            )
            if action is None or action == FINISH or action not in by_name:
                trajectory.stopped = (
                    "finish" if action == FINISH else f"planner gave no usable action ({action!r})"
                )
                break
            who, result = self._ask(
                "caller", self.caller.request(instruction, by_name[action], history, dialogue)
            )
            arguments = (parse_json_object(result.text) if result.ok else None) or {}
            self._add(
                trajectory,
                AgentStep(
                    "call",
                    f"caller:{who}",
                    result.error or result.text,
                    result.latency_s,
                    arguments,
                ),
            )
            if (action, arguments) in trajectory.calls:
                trajectory.stopped = f"repeated call to {action} with the same arguments"
                break
            trajectory.calls.append((action, arguments))
            try:
                observation = call_tool(action, arguments)
            except ValueError as exc:  # the tool refused the arguments: the agent sees why
                observation = {"error": str(exc)}
            self._add(trajectory, AgentStep("tool", f"tool:{action}", canonical_json(observation)))
            observation = self._maybe_extract(
                instruction, action, observation, trajectory, dialogue
            )
            history.append(HistoryItem(action, arguments, observation))
        who, result = self._ask("responder", self.responder.request(instruction, history, dialogue))
        trajectory.answer = self.responder.answer_text(result.text) if result.ok else ""
        self._add(
            trajectory,
            AgentStep(
                "answer", f"responder:{who}", result.error or trajectory.answer, result.latency_s
            ),
        )
        return trajectory

    def _maybe_extract(
        self,
        instruction: str,
        tool: str,
        observation: Any,
        trajectory: Trajectory,
        dialogue: Sequence[Turn],
    ) -> Any:
        if "extractor" not in self.config.pipeline:
            return observation
        if len(canonical_json(observation)) <= EXTRACT_ABOVE_CHARS:
            return observation
        who, result = self._ask(
            "extractor", self.extractor.request(instruction, tool, observation, dialogue)
        )
        keep = self.extractor.parse(result.text) if result.ok else None
        self._add(
            trajectory,
            AgentStep(
                "extract", f"extractor:{who}", result.error or result.text, result.latency_s, keep
            ),
        )
        return metrics.filter_json(observation, keep) if keep else observation

    def close(self) -> None:
        """Free every loaded model."""
        for backend in self._backends.values():
            backend.close()
        self._backends.clear()

    def __enter__(self) -> CoalitionRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_case(
    runner: CoalitionRunner,
    case: ToolCase,
    toolset: ToolSet,
    on_step: Callable[[AgentStep], None] | None = None,
) -> Trajectory:
    """Run ``case`` (its instruction and dialogue history) with the tool set's tools.

    Raises:
        ConfigError: the tool set does not provide a tool the case's gold calls need.
        ToolError: a tool source failed as a whole (an MCP server stopped answering).
    """
    tools = toolset.tools(case)
    return runner.run(
        case.instruction,
        tools,
        lambda name, arguments: toolset.call(name, arguments, case),
        on_step,
        dialogue=case.history,
    )


JUDGE_VERSION = "ibm-pass+slots+cosine-1"
"""Names what :func:`judge` checks. Change it whenever the verdict changes: stored
end-to-end runs (``rolecast verify``) judged by another version are judged again from
their stored calls and answer, without running the models again."""


def judge(
    case: ToolCase, trajectory: Trajectory, similarity: Callable[[str, str], float]
) -> dict[str, Any]:
    """End-to-end verdict against the gold: IBM planner pass, slot filling, the answer.

    The answer passes as the responder role's steps do (:func:`facts.answer_passes`: the
    gold's facts stated, none contradicted, no echo of the request; cosine where the gold
    states no facts). ``answer_facts`` is the fact recall, None where the gold has no facts.
    """
    gold_calls = [(step.tool, dict(step.arguments)) for step in case.steps]
    plan_ok = metrics.ibm_planner_pass(trajectory.tools_called, [t for t, _ in gold_calls])
    procedural = plan_ok and metrics.ibm_slot_filling_pass(trajectory.calls, gold_calls)
    answered, cosine, recall = False, 0.0, None
    if case.answer and trajectory.answer:
        verdict = facts.answer_passes(trajectory.answer, case.answer, case.instruction, similarity)
        answered, cosine = verdict.passed, verdict.cosine
        recall = round(verdict.check.recall, 4) if verdict.check.facts else None
    return {
        "planner_pass": plan_ok,
        "procedural": procedural,
        "answer_cosine": round(cosine, 4),
        "answer_facts": recall,
        "success": procedural and answered,
    }
