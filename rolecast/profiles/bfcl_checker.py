"""AST-style checking of tool calls, as the Berkeley Function Calling Leaderboard does it.

After ``ast_checker.py`` in ShishirPatil/gorilla (``bfcl_eval/eval_checker/ast_eval``),
Python rules. A predicted call passes when:

* the function name is the gold one;
* every argument the schema requires is present;
* every argument is in the schema's properties and has a gold entry (BFCL counts an
  argument the gold call does not set as unexpected);
* its type is the schema's (an int is accepted where a float/``number`` is expected), or
  the type of one of its acceptable values (BFCL's "variable" rule: an answer written as
  the string ``"data['sales']"`` for an array parameter);
* its value is among the acceptable ones: strings compared after lowercasing and removing
  spaces and ``,./-_*^`` (and ``'`` read as ``"``), lists element by element, dicts key
  by key with the acceptable values of each key (recursively);
* an argument it leaves out is one whose acceptable values include ``""``, or that the
  gold call does not set.

Where rolecast departs from the reference, on purpose: ``any`` is no type constraint
(BFCL reads it as ``str``); int-for-float and the nested checks apply at every depth
(BFCL checks one level); and parallel calls are matched by a maximum bipartite matching
rather than BFCL's greedy first match, so a prediction never fails only because an
earlier gold call took the predicted call a later one needed.

Gold steps without ``accepted`` are checked against their ``arguments``, each the only
acceptable value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rolecast.types import GoldStep, Tool

__all__ = ["CheckResult", "check_call", "check_calls", "check_irrelevance", "standardize_string"]

_PUNCTUATION = re.compile(r"[ ,./\-_*^]")


@dataclass(frozen=True)
class CheckResult:
    """Whether a prediction passes, and if not, the first reason it does not."""

    ok: bool
    reason: str = ""


_OK = CheckResult(True)


def standardize_string(text: str) -> str:
    """BFCL's string normal form: no spaces or ``,./-_*^``, lowercase, ``'`` as ``"``."""
    return _PUNCTUATION.sub("", text).lower().replace("'", '"')


def check_call(
    predicted_name: str, predicted_args: Mapping[str, Any], gold: GoldStep, schema: Tool
) -> CheckResult:
    """Check one predicted call against one gold call and the tool's JSON schema."""
    if predicted_name != gold.tool:
        return CheckResult(False, f"called {predicted_name!r}, expected {gold.tool!r}")
    if not isinstance(predicted_args, Mapping):
        return CheckResult(False, f"arguments of {predicted_name!r} are not a JSON object")
    properties = schema.parameters.get("properties") or {}
    accepted = _accepted(gold)
    for name in schema.parameters.get("required") or []:
        if name not in predicted_args:
            return CheckResult(False, f"missing required argument {name!r}")
    for name, value in predicted_args.items():
        if name not in properties:
            return CheckResult(False, f"unexpected argument {name!r}: not in the schema")
        if name not in accepted:
            return CheckResult(False, f"unexpected argument {name!r}: the gold call omits it")
        acceptable = accepted[name]
        if not _type_ok(value, properties[name], acceptable):
            expected = properties[name].get("type", "any")
            return CheckResult(
                False,
                f"argument {name!r}: expected type {expected}, got {_kind(value)} ({value!r})",
            )
        if not any(_equal(value, answer) for answer in acceptable):
            return CheckResult(
                False, f"argument {name!r}: {value!r} is not among the acceptable {acceptable!r}"
            )
    for name, acceptable in accepted.items():
        if name not in predicted_args and "" not in acceptable:
            return CheckResult(False, f"missing argument {name!r} (acceptable: {acceptable!r})")
    return _OK


def check_calls(
    predicted: Sequence[tuple[str, Mapping[str, Any]]],
    gold_steps: Sequence[GoldStep],
    tools: Sequence[Tool] | Mapping[str, Tool],
) -> CheckResult:
    """Check calls made at once (BFCL parallel): order-free, one predicted call per gold call.

    The counts must be equal and each gold call is matched by a distinct predicted call.
    """
    by_name = tools if isinstance(tools, Mapping) else {tool.name: tool for tool in tools}
    if len(predicted) != len(gold_steps):
        return CheckResult(
            False, f"wrong number of calls: {len(predicted)} predicted, {len(gold_steps)} gold"
        )
    results: list[list[CheckResult]] = []
    for step in gold_steps:
        schema = by_name.get(step.tool)
        if schema is None:
            return CheckResult(False, f"gold tool {step.tool!r} has no schema among the tools")
        results.append([check_call(name, args, step, schema) for name, args in predicted])
    matched = _match([[r.ok for r in row] for row in results])
    for index, row in enumerate(results):
        if index not in matched:
            step = gold_steps[index]
            near = [
                r.reason for (name, _), r in zip(predicted, row, strict=True) if name == step.tool
            ]
            why = near[0] if near else f"no call to {step.tool!r}"
            return CheckResult(False, f"gold call {index} ({step.tool}) is not matched: {why}")
    return _OK


def check_irrelevance(predicted_calls: Sequence[Any]) -> CheckResult:
    """Pass iff nothing was called (BFCL ``irrelevance``: no function fits the request)."""
    if not predicted_calls:
        return _OK
    return CheckResult(False, f"expected no call, got {len(predicted_calls)}")


# ----------------------------------------------------------------------------- helpers


def _accepted(gold: GoldStep) -> dict[str, list[Any]]:
    if gold.accepted is not None:
        return gold.accepted
    return {name: [_as_accepted(value)] for name, value in gold.arguments.items()}


def _as_accepted(value: Any) -> Any:
    """A literal value in BFCL's answer form (a dict maps each key to its acceptable values)."""
    if isinstance(value, Mapping):
        return {key: [_as_accepted(item)] for key, item in value.items()}
    if isinstance(value, list):
        return [_as_accepted(item) for item in value]
    return value


def _match(ok: list[list[bool]]) -> dict[int, int]:
    """Maximum bipartite matching gold -> predicted (Kuhn's augmenting paths)."""
    owner: dict[int, int] = {}  # predicted index -> gold index

    def augment(gold: int, seen: set[int]) -> bool:
        for pred, fits in enumerate(ok[gold]):
            if fits and pred not in seen:
                seen.add(pred)
                if pred not in owner or augment(owner[pred], seen):
                    owner[pred] = gold
                    return True
        return False

    for gold in range(len(ok)):
        augment(gold, set())
    return {gold: pred for pred, gold in owner.items()}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "null" if value is None else type(value).__name__


def _schema_type_ok(value: Any, schema: Mapping[str, Any]) -> bool:
    expected = schema.get("type")
    if expected is None:
        return True
    kinds = {expected} if isinstance(expected, str) else set(expected)
    kind = _kind(value)
    if kind not in kinds and not (kind == "integer" and "number" in kinds):
        return False
    items = schema.get("items")
    if kind == "array" and isinstance(items, Mapping):
        return all(_schema_type_ok(item, items) for item in value)
    return True


def _type_ok(value: Any, schema: Mapping[str, Any], acceptable: list[Any]) -> bool:
    if _schema_type_ok(value, schema):
        return True
    kind = _kind(value)  # BFCL's variable rule: typed like one of the answers
    return any(answer != "" and _kind(answer) == kind for answer in acceptable)


def _equal(value: Any, answer: Any) -> bool:
    if isinstance(answer, str):
        return isinstance(value, str) and standardize_string(value) == standardize_string(answer)
    if isinstance(answer, bool) or isinstance(value, bool):
        return type(answer) is type(value) and answer == value
    if isinstance(answer, int | float):
        return isinstance(value, int | float) and value == answer
    if isinstance(answer, Mapping):  # BFCL: each key maps to its acceptable values
        if not isinstance(value, Mapping):
            return False
        options = {k: v if isinstance(v, list) else [v] for k, v in answer.items()}
        return all(
            key in options and any(_equal(item, a) for a in options[key])
            for key, item in value.items()
        ) and all(key in value or "" in acc for key, acc in options.items())
    if isinstance(answer, list):
        return (
            isinstance(value, list | tuple)
            and len(value) == len(answer)
            and all(_equal(v, a) for v, a in zip(value, answer, strict=True))
        )
    return value == answer
