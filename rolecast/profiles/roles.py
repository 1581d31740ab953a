"""Roles as data: a prompt template, an output parser and a scorer each.

A role turns a tool case into *steps* (one prompt each). Profiling is teacher-forced:
each step's prompt is built from the gold history, so a role is scored on its own
sub-task and not on the mistakes of the roles before it. The same prompt builders serve
the live agent loop (:mod:`rolecast.agent`), which passes the real history instead.

Scorers never raise on a model's output: garbage is a scored failure.
"""

from __future__ import annotations

import abc
import difflib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rolecast.backends._base import ChatRequest, ChatResult, Message
from rolecast.errors import ConfigError
from rolecast.profiles import facts, metrics
from rolecast.profiles.prompts import load_template
from rolecast.types import (
    FINISH,
    GoldStep,
    Tool,
    ToolCase,
    ToolTurn,
    Turn,
    canonical_json,
    compact_json,
)

__all__ = [
    "DEFAULT_PIPELINE",
    "ROLES",
    "CallerRole",
    "ExtractorRole",
    "HistoryItem",
    "PlannerRole",
    "ResponderRole",
    "Role",
    "RoleStep",
    "StepScore",
    "check_pipeline",
    "dialogue_messages",
    "get_role",
    "parse_json_object",
]

DEFAULT_PIPELINE: tuple[str, ...] = ("planner", "caller", "extractor", "responder")
SCORER_VERSION = "2"
"""Bump when a scorer's rule changes: it is part of every role's prompt version."""

PARALLEL_TAG = "parallel"
"""Cases with this tag make their calls at once: scored order-free (:func:`open_calls`)."""

JSONRAG_TAG = "jsonrag"
"""IBM JSON-RAG cases: the extractor passes on full recall alone, as the study scores it."""

_OBSERVATION_CHARS = 2000
"""A tool result in a prompt is cut to this many characters: above the suite's largest
evidence (1,595), so no role is asked for a value its prompt does not show."""
_EXAMPLE_CHARS = 40


@dataclass(frozen=True)
class HistoryItem:
    """A tool call made so far and what it returned (already cut down, if extracted)."""

    tool: str
    arguments: dict[str, Any]
    observation: Any


@dataclass(frozen=True)
class RoleStep:
    """One prompt of a role on a case, with what the scorer needs to judge it."""

    index: int
    request: ChatRequest
    expected: Any
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepScore:
    """How one output scored: pass/fail, the primary score in [0, 1], and all metrics."""

    success: bool
    score: float
    metrics: dict[str, float]
    parsed: Any = None


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text``, or None; never raises."""
    text = text.strip()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = json.JSONDecoder().raw_decode(text, start)
        except (ValueError, RecursionError):  # also a 5000-digit number, 10000 nested "["
            start = text.find("{", start + 1)
            continue
        return value if isinstance(value, dict) else None
    return None


def render_value(value: Any, limit: int = _OBSERVATION_CHARS) -> str:
    """Compact JSON of a value, cut to ``limit`` characters."""
    text = value if isinstance(value, str) else canonical_json(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_tools(tools: Sequence[Tool]) -> str:
    """One line per tool: name, description, argument names."""
    lines = []
    for tool in tools:
        args = ", ".join((tool.parameters.get("properties") or {}).keys())
        description = tool.description.strip().splitlines()[0] if tool.description.strip() else ""
        lines.append(f"- {tool.name}({args}): {description}")
    return "\n".join(lines)


def format_history(history: Sequence[HistoryItem]) -> str:
    """Numbered calls with their (cut) results, or a placeholder when empty."""
    if not history:
        return "(none yet)"
    return "\n".join(
        f"{i}. {item.tool}({render_value(item.arguments, 200)}) -> {render_value(item.observation)}"
        for i, item in enumerate(history, start=1)
    )


def dialogue_messages(turns: Sequence[Turn]) -> tuple[Message, ...]:
    """Earlier turns of a dialogue as chat messages, for the model's own chat template.

    User and assistant turns become messages of their role; a tool call of an earlier
    turn becomes part of the assistant's message of that turn (``[called tool(args) ->
    result]``), so the messages alternate user / assistant as every chat template
    accepts, and no model is shown a transcript it could continue.
    """
    messages: list[Message] = []
    for turn in turns:
        if isinstance(turn, ToolTurn):
            arguments = render_value(turn.arguments, 200)
            role = "assistant"
            content = f"[called {turn.tool}({arguments}) -> {render_value(turn.observation)}]"
        else:
            role, content = turn.role, turn.content
        if messages and messages[-1].role == role:
            content = f"{messages[-1].content}\n{content}"
            messages.pop()
        messages.append(Message(role, content))
    return tuple(messages)


def gold_history(case: ToolCase, upto: int) -> list[HistoryItem]:
    """The gold calls before step ``upto``; large responses cut to their gold evidence."""
    items = []
    for step in case.steps[:upto]:
        observation = step.observation
        if step.evidence:
            observation = metrics.filter_json(observation, step.evidence)
        items.append(HistoryItem(step.tool, dict(step.arguments), observation))
    return items


def open_calls(case: ToolCase, index: int) -> list[GoldStep]:
    """The gold calls a step at ``index`` may rightly make, given the gold history before it.

    Sequential cases expect the gold call at ``index``. A case tagged ``parallel`` (BFCL
    parallel: calls made at once) is order-free: any gold call not yet in the history.
    """
    if PARALLEL_TAG in case.tags:
        return list(case.steps[index:])
    return list(case.steps[index : index + 1])


def closed_object_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A tool's parameter schema as a constraint for generation: an object, no extra keys."""
    constrained = dict(schema)
    constrained["type"] = "object"
    constrained.setdefault("properties", {})
    constrained["additionalProperties"] = False
    return constrained


class Role(abc.ABC):
    """A sub-task of the agent: builds prompts for a case and scores the outputs."""

    name: ClassVar[str]
    max_tokens: ClassVar[int] = 96

    @property
    def template(self):
        """The role's prompt template."""
        return load_template(self.name)

    revision: ClassVar[int] = 1
    """Bump when the role's request changes outside its template (schema, limits)."""

    scorer_version: ClassVar[str] = SCORER_VERSION
    """The version of this role's scoring rule; a role whose rule changes alone sets its
    own, so that only its stored verdicts are invalidated."""

    @property
    def prompt_version(self) -> str:
        """Template hash, role revision and limits, scorer version: keys every cached step."""
        return f"{self.template.version}.r{self.revision}t{self.max_tokens}.s{self.scorer_version}"

    @abc.abstractmethod
    def steps(self, case: ToolCase) -> list[RoleStep]:
        """The role's teacher-forced steps on ``case`` (may be empty)."""

    @abc.abstractmethod
    def score(self, case: ToolCase, step: RoleStep, result: ChatResult) -> StepScore:
        """Score one output; garbage is a failure, never an exception."""

    scored_metrics: ClassVar[tuple[str, ...]] = ()
    """The metrics every scored step records besides ``valid``."""

    def metric_names(self, step: RoleStep) -> tuple[str, ...]:
        """The metrics recorded on ``step`` (a metric may apply to some steps only)."""
        return self.scored_metrics

    def failed(self, step: RoleStep, reason: str) -> StepScore:
        """A zero on every metric of the step, for an output that could not be used.

        Aggregates average a metric over the steps that record it, so an unusable
        output must record each of its metrics as 0, not leave them out.
        """
        values = {"valid": 0.0, **dict.fromkeys(self.metric_names(step), 0.0)}
        return StepScore(success=False, score=0.0, metrics=values, parsed=reason)


class PlannerRole(Role):
    """Names the next tool or ``finish``.

    A step passes when the next action is right (``next_action``). Metrics as α-UMi
    defines them: Plan ACC (``plan_acc``: call a tool vs finish), Act. EM (``act_em``:
    the tool name, on steps whose gold is a call) and Hallu. (``hallucination``: a name
    that is no tool).
    """

    name = "planner"
    max_tokens = 32
    scored_metrics = ("next_action", "plan_acc", "act_em", "hallucination")

    def metric_names(self, step: RoleStep) -> tuple[str, ...]:
        """Act. EM only where the gold action is a tool call, as α-UMi scores it."""
        if step.expected == FINISH:
            return tuple(m for m in self.scored_metrics if m != "act_em")
        return self.scored_metrics

    def request(
        self,
        instruction: str,
        tools: Sequence[Tool],
        history: Sequence[HistoryItem],
        dialogue: Sequence[Turn] = (),
    ):
        """The planner prompt, constrained to the tool names plus ``finish``."""
        schema = {
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": [*(t.name for t in tools), FINISH]}
            },
            "required": ["action"],
            "additionalProperties": False,
        }
        messages = self.template.render(
            dialogue_messages(dialogue),
            tools=format_tools(tools),
            instruction=instruction,
            history=format_history(history),
        )
        return ChatRequest(messages=messages, json_schema=schema, max_tokens=self.max_tokens)

    def parse(self, text: str) -> str | None:
        """The action named in the output, or None."""
        value = parse_json_object(text)
        action = value.get("action") if value else None
        return action.strip() if isinstance(action, str) else None

    def steps(self, case: ToolCase) -> list[RoleStep]:
        """One step per gold call plus the final ``finish``."""
        gold = [step.tool for step in case.steps] + [FINISH]
        return [
            RoleStep(
                i,
                self.request(case.instruction, case.tools, gold_history(case, i), case.history),
                action,
            )
            for i, action in enumerate(gold)
        ]

    def score(self, case: ToolCase, step: RoleStep, result: ChatResult) -> StepScore:
        """Right next action = success; a name that is no tool counts as hallucination.

        On a ``parallel`` case any gold call still open is a right next action.
        """
        action = self.parse(result.text) if result.ok else None
        if action is None:
            return self.failed(step, "no action")
        names = [tool.name for tool in case.tools]
        expected = [call.tool for call in open_calls(case, step.index)] or [FINISH]
        target = action.strip() if action.strip() in expected else step.expected
        correct = metrics.action_exact_match(action, target)
        values = {
            "valid": 1.0,
            "next_action": float(correct),
            "plan_acc": float(metrics.plan_accuracy(action, target)),
            "act_em": float(correct),
            "hallucination": float(metrics.is_hallucinated(action, names)),
        }
        values = {key: values[key] for key in ("valid", *self.metric_names(step))}
        return StepScore(correct, float(correct), values, parsed=action)


class CallerRole(Role):
    """Fills the chosen tool's arguments. Metrics: valid JSON, Arg F1, exact match."""

    name = "caller"
    max_tokens = 128
    scored_metrics = ("arg_f1", "exact_match")
    revision = 2  # the schema is shown in the user's property order, no longer sorted

    def request(
        self,
        instruction: str,
        tool: Tool,
        history: Sequence[HistoryItem],
        dialogue: Sequence[Turn] = (),
    ):
        """The caller prompt, constrained to the tool's parameter schema."""
        messages = self.template.render(
            dialogue_messages(dialogue),
            instruction=instruction,
            history=format_history(history),
            tool_name=tool.name,
            tool_description=tool.description.strip().splitlines()[0] if tool.description else "",
            tool_schema=compact_json(tool.parameters),  # the user's property order
        )
        return ChatRequest(
            messages=messages,
            json_schema=closed_object_schema(tool.parameters),
            max_tokens=self.max_tokens,
        )

    def steps(self, case: ToolCase) -> list[RoleStep]:
        """One step per gold call."""
        steps = []
        for i, gold in enumerate(case.steps):
            tool = case.tool(gold.tool)
            assert tool is not None  # ToolCase validation guarantees it
            request = self.request(case.instruction, tool, gold_history(case, i), case.history)
            steps.append(RoleStep(i, request, gold))
        return steps

    def score(self, case: ToolCase, step: RoleStep, result: ChatResult) -> StepScore:
        """Exact argument match = success (AST-style when the gold lists accepted values).

        On a ``parallel`` case the arguments may be those of any open gold call to the
        same tool (order-free, as BFCL checks parallel calls); the best match is scored.
        """
        arguments = parse_json_object(result.text) if result.ok else None
        if arguments is None:
            return self.failed(step, "not a JSON object")
        golds = [call for call in open_calls(case, step.index) if call.tool == step.expected.tool]
        scored = [
            (self._exact(case, arguments, gold), metrics.arg_f1(arguments, gold.arguments))
            for gold in golds or [step.expected]
        ]
        exact, f1 = max(scored)
        values = {"valid": 1.0, "arg_f1": f1, "exact_match": float(exact)}
        return StepScore(exact, float(exact), values, parsed=arguments)

    @staticmethod
    def _exact(case: ToolCase, arguments: dict[str, Any], gold: GoldStep) -> bool:
        if gold.accepted is None:
            return metrics.args_exact_match(arguments, gold.arguments)
        from rolecast.profiles.bfcl_checker import check_call

        tool = case.tool(gold.tool)
        return bool(tool is not None and check_call(gold.tool, arguments, gold, tool).ok)


def leaf_examples(value: Any) -> dict[str, Any]:
    """Each leaf path of a JSON value (list indices omitted) with its first value."""
    examples: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(node, list):
            for child in node:
                walk(child, prefix)
        elif prefix and prefix not in examples:
            examples[prefix] = node

    walk(value, "")
    return examples


class ExtractorRole(Role):
    """JSON-RAG: keeps the fields of a large response that answer the request."""

    name = "extractor"
    max_tokens = 160
    scored_metrics = ("evidence_recall", "size_reduction")
    revision = 2
    max_items: ClassVar[int] = 8
    """At most this many field paths kept: bounds the output of a model that repeats."""
    min_reduction: ClassVar[float] = 0.3
    """A pass must keep every gold field and cut the response by at least this fraction.

    Not on IBM JSON-RAG cases (tag ``jsonrag``): the study passes a case when every
    expected field is kept, and their responses are skeletons of the expected fields, so a
    cut relative to them means little (``size_reduction`` is still recorded)."""

    def request(
        self, instruction: str, tool_name: str, observation: Any, dialogue: Sequence[Turn] = ()
    ):
        """The extractor prompt, constrained to the response's own field paths."""
        examples = leaf_examples(observation)
        paths = sorted(metrics.json_paths(observation)) or sorted(examples)
        fields = "\n".join(f"- {p}: {render_value(v, _EXAMPLE_CHARS)}" for p, v in examples.items())
        schema = {
            "type": "object",
            "properties": {
                "keep": {
                    "type": "array",
                    "items": {"type": "string", "enum": paths},
                    "minItems": 1,
                    "maxItems": self.max_items,
                }
            },
            "required": ["keep"],
            "additionalProperties": False,
        }
        messages = self.template.render(
            dialogue_messages(dialogue), instruction=instruction, tool_name=tool_name, fields=fields
        )
        return ChatRequest(messages=messages, json_schema=schema, max_tokens=self.max_tokens)

    def parse(self, text: str) -> list[str] | None:
        """The kept field paths, or None."""
        value = parse_json_object(text)
        keep = value.get("keep") if value else None
        if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
            return None
        return keep

    def steps(self, case: ToolCase) -> list[RoleStep]:
        """One step per gold call whose response needs cutting (``evidence`` set)."""
        return [
            RoleStep(
                i, self.request(case.instruction, gold.tool, gold.observation, case.history), gold
            )
            for i, gold in enumerate(case.steps)
            if gold.evidence is not None
        ]

    def score(self, case: ToolCase, step: RoleStep, result: ChatResult) -> StepScore:
        """Recall of the gold evidence; pass = full recall and a real cut."""
        keep = self.parse(result.text) if result.ok else None
        if keep is None:
            return self.failed(step, "no field list")
        gold = step.expected
        recall = metrics.evidence_recall(keep, gold.evidence or [])
        reduction = metrics.size_reduction(
            gold.observation, metrics.filter_json(gold.observation, keep)
        )
        needed = 0.0 if JSONRAG_TAG in case.tags else self.min_reduction
        success = recall >= 1.0 and reduction >= needed
        values = {"valid": 1.0, "evidence_recall": recall, "size_reduction": reduction}
        return StepScore(success, recall, values, parsed=keep)


class ResponderRole(Role):
    """Writes the final answer.

    A step passes when the answer states the gold answer's facts (numbers with units,
    dates, names, quoted values), contradicts none and does not repeat the request
    (:func:`rolecast.profiles.facts.answer_passes`); a gold answer that states no facts
    falls back to MiniLM cosine ≥ :attr:`threshold`. Metrics: ``fact_recall`` (where the
    gold states facts), MiniLM ``cosine`` and ``rouge_l`` (secondary).
    """

    name = "responder"
    max_tokens = 80
    scored_metrics = ("fact_recall", "cosine", "rouge_l")
    revision = 4  # no stop sequence: a reply may open with a blank line; answer = first line
    scorer_version = f"{SCORER_VERSION}-facts1"  # the fact check replaced cosine ≥ 0.7
    threshold: ClassVar[float] = facts.COSINE_FALLBACK
    """The cosine (all-MiniLM-L6-v2) a gold answer without facts needs."""

    def metric_names(self, step: RoleStep) -> tuple[str, ...]:
        """``fact_recall`` only where the gold answer states facts."""
        if facts.extract_facts(step.expected):
            return self.scored_metrics
        return tuple(m for m in self.scored_metrics if m != "fact_recall")

    def __init__(self, similarity: Callable[[str, str], float] | None = None) -> None:
        self._similarity = similarity

    def similarity(self, a: str, b: str) -> float:
        """Cosine of the two texts' embeddings (the packaged MiniLM unless injected)."""
        if self._similarity is None:
            from rolecast.profiles.embeddings import default_embedder

            self._similarity = default_embedder().similarity
        return self._similarity(a, b)

    def request(
        self, instruction: str, history: Sequence[HistoryItem], dialogue: Sequence[Turn] = ()
    ):
        """The responder prompt over the (cut) tool results.

        The template ends with a prefill (``Answer:``). A model may follow it with a blank
        line before the answer (SmolLM2 did on multi-step cases), so there is no stop
        sequence, which would end such a reply empty and score the stop string instead of
        the model: generation runs to the model's end of turn or :attr:`max_tokens`, and
        :meth:`answer_text` keeps the first non-empty line.
        """
        messages = self.template.render(
            dialogue_messages(dialogue), instruction=instruction, history=format_history(history)
        )
        return ChatRequest(messages=messages, max_tokens=self.max_tokens)

    @staticmethod
    def answer_text(text: str) -> str:
        """The answer in a responder output: its first non-empty line, stripped."""
        return next((line.strip() for line in text.splitlines() if line.strip()), "")

    def steps(self, case: ToolCase) -> list[RoleStep]:
        """One step after all gold calls, when the case has a gold answer."""
        if case.answer is None:
            return []
        request = self.request(case.instruction, gold_history(case, len(case.steps)), case.history)
        return [RoleStep(0, request, case.answer)]

    def score(self, case: ToolCase, step: RoleStep, result: ChatResult) -> StepScore:
        """The fact check (or the cosine fallback) = success; similarity reported beside it.

        The score is the fact recall (0 on a contradiction or an echo), or the cosine
        clipped to [0, 1] where the gold states no facts; the raw cosine is in the metrics.
        """
        text = self.answer_text(result.text) if result.ok else ""
        if not text:
            return self.failed(step, "empty answer")
        verdict = facts.answer_passes(text, step.expected, case.instruction, self.similarity)
        values = {
            "valid": 1.0,
            **verdict.metrics,
            "rouge_l": metrics.rouge_l_f(text, step.expected),
        }
        values = {key: values[key] for key in ("valid", *self.metric_names(step))}
        return StepScore(verdict.passed, verdict.score, values, parsed=text)


ROLES: dict[str, type[Role]] = {
    cls.name: cls for cls in (PlannerRole, CallerRole, ExtractorRole, ResponderRole)
}


def get_role(name: str) -> Role:
    """A role instance by name; unknown names get a suggestion."""
    if name not in ROLES:
        close = difflib.get_close_matches(name, ROLES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown role {name!r}{hint} (known: {', '.join(ROLES)})")
    return ROLES[name]()


def check_pipeline(pipeline: Sequence[str]) -> tuple[str, ...]:
    """Validate a pipeline: at least one role, known roles, no repeats.

    A pipeline may be part of the agent (``[caller]`` profiles and searches the caller
    alone, as for BFCL); ``rolecast run`` needs planner, caller and responder.
    """
    if not pipeline:
        raise ConfigError(f"the pipeline names no role; list some of {', '.join(ROLES)}")
    for name in pipeline:
        get_role(name)
    if len(set(pipeline)) != len(pipeline):
        raise ConfigError(f"pipeline {list(pipeline)} names a role twice")
    return tuple(pipeline)
