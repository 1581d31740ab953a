"""Berkeley Function Calling Leaderboard v4 (single-turn AST categories) as tool cases.

Files are JSON Lines despite their ``.json`` name: ``BFCL_v4_<category>.json`` holds
``{id, question: [[{role, content}]], function: [schemas]}`` and
``possible_answer/BFCL_v4_<category>.json`` the same ids with ``ground_truth: [{fn:
{arg: [acceptable values]}}]``. Categories with answers: ``simple_python``, ``multiple``,
``parallel``, ``parallel_multiple``; ``irrelevance`` has none, because the right answer
is to call nothing (gold ``steps=[]``).

* Schemas become JSON Schema: ``dict`` -> ``object``, ``float`` -> ``number``,
  ``tuple`` -> ``array``, ``any`` -> no type constraint, recursively through
  ``properties`` and ``items``; BFCL's non-standard ``optional`` flag is dropped
  (``required`` says the same).
* Each ground-truth call becomes ``GoldStep(tool, arguments, accepted)``: ``accepted``
  keeps BFCL's lists of acceptable values as they are (``""`` among them = the argument
  may be omitted), ``arguments`` is the canonical call: the first acceptable value of
  each argument, omitted when that first value is ``""`` (nested dicts likewise) unless
  the schema requires the argument, and omitted when the schema does not define it and
  ``""`` is acceptable.
  :mod:`rolecast.profiles.bfcl_checker` checks a call against ``accepted`` as BFCL does.
* Instruction: the content of the user turns, joined by blank lines. Case id
  ``bfcl/<id>``; tags ``bfcl``, the category, and ``parallel`` for the parallel ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rolecast.config import describe_validation_error, load_jsonl
from rolecast.errors import ConfigError
from rolecast.profiles.loaders import MALFORMED, LoadResult, Skipped, malformed
from rolecast.types import GoldStep, Tool, ToolCase

__all__ = ["ANSWERED_CATEGORIES", "bfcl_schema", "canonical_call", "load_bfcl"]

SOURCE = "bfcl"
PREFIX = "BFCL_v4_"
ANSWERED_CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple")
NO_CALL_CATEGORIES = ("irrelevance",)

_TYPES: dict[str, str | None] = {
    "dict": "object",
    "object": "object",
    "float": "number",
    "number": "number",
    "integer": "integer",
    "string": "string",
    "boolean": "boolean",
    "array": "array",
    "tuple": "array",
    "null": "null",
    "any": None,
}


class _RecordError(Exception):
    """A problem with one record; becomes a :class:`Skipped` entry."""


def load_bfcl(path: str | Path) -> LoadResult:
    """Load one ``BFCL_v4_<category>.json`` file, or every supported one in a folder.

    Raises:
        ConfigError: a file is missing, or an answered category has no
            ``possible_answer/`` file beside it.
    """
    path = Path(path)
    if path.is_dir():
        names = [f"{PREFIX}{c}.json" for c in (*ANSWERED_CATEGORIES, *NO_CALL_CATEGORIES)]
        files = [path / name for name in names if (path / name).is_file()]
        if not files:
            raise ConfigError(f"{path}: no {PREFIX}<category>.json file in this folder")
        result = LoadResult([])
        for file in files:
            result = result + load_bfcl(file)
        return result
    category = path.stem.removeprefix(PREFIX)
    if category in NO_CALL_CATEGORIES:
        answers: dict[str, Any] | None = None
        skipped: list[Skipped] = []
    elif category in ANSWERED_CATEGORIES:
        answers, skipped = _answers(path.parent / "possible_answer" / path.name)
    else:
        known = ", ".join(ANSWERED_CATEGORIES + NO_CALL_CATEGORIES)
        raise ConfigError(f"{path}: not a supported BFCL category file ({PREFIX}<{known}>.json)")
    cases: list[ToolCase] = []
    seen: set[str] = set()
    tags = [SOURCE, category] + (["parallel"] if category.startswith("parallel") else [])
    for line, record in load_jsonl(path):
        where = f"{path.name}:{line}"
        try:
            if isinstance(record, ConfigError):
                raise _RecordError(str(record).split(": ", 1)[-1])
            case_id = record.get("id") if isinstance(record, dict) else None
            if not isinstance(case_id, str):
                raise _RecordError("no 'id'")
            where = f"{path.name}: id {case_id!r}"
            seen.add(case_id)
            if answers is not None and case_id not in answers:
                raise _RecordError(f"no entry in possible_answer/{path.name}")
            tools = [_tool(schema) for schema in _list(record, "function")]
            gold = _gold_steps(answers[case_id], tools) if answers is not None else []
            cases.append(
                ToolCase(
                    id=f"bfcl/{case_id}",
                    instruction=_instruction(record),
                    tools=tools,
                    steps=gold,
                    source=SOURCE,
                    tags=tags,
                )
            )
        except _RecordError as exc:
            skipped.append(Skipped(SOURCE, where, str(exc)))
        except ValidationError as exc:
            skipped.append(Skipped(SOURCE, where, describe_validation_error(exc, ToolCase)))
        except MALFORMED as exc:
            skipped.append(Skipped(SOURCE, where, malformed(exc)))
    for case_id in (answers or {}).keys() - seen:
        skipped.append(
            Skipped(
                SOURCE,
                f"possible_answer/{path.name}: id {case_id!r}",
                f"no question with this id in {path.name}",
            )
        )
    return LoadResult(cases, skipped)


def _answers(path: Path) -> tuple[dict[str, Any], list[Skipped]]:
    """Ground truth by id; a malformed line is skipped, a missing file is an error."""
    if not path.is_file():
        raise ConfigError(f"{path}: BFCL answers file not found (expected beside the questions)")
    answers: dict[str, Any] = {}
    skipped = []
    for line, record in load_jsonl(path):
        where = f"possible_answer/{path.name}:{line}"
        if isinstance(record, ConfigError):
            skipped.append(Skipped(SOURCE, where, str(record).split(": ", 1)[-1]))
        elif not isinstance(record, dict) or not isinstance(record.get("id"), str):
            skipped.append(Skipped(SOURCE, where, "no 'id'"))
        elif not isinstance(record.get("ground_truth"), list):
            skipped.append(Skipped(SOURCE, where, "'ground_truth' is not a list"))
        elif record["id"] in answers:
            reason = f"a second answer for id {record['id']!r}; the first one is kept"
            skipped.append(Skipped(SOURCE, where, reason))
        else:
            answers[record["id"]] = record["ground_truth"]
    return answers, skipped


def _list(record: Mapping[str, Any], key: str) -> list[Any]:
    value = record.get(key)
    if not isinstance(value, list):
        raise _RecordError(f"{key!r} is not a list")
    return value


def _instruction(record: Mapping[str, Any]) -> str:
    turns = _list(record, "question")
    messages = [m for turn in turns for m in (turn if isinstance(turn, list) else [turn])]
    texts = [
        str(m.get("content", "")).strip()
        for m in messages
        if isinstance(m, dict) and m.get("role") == "user"
    ]
    if not any(texts):
        raise _RecordError("the question has no user message")
    return "\n\n".join(text for text in texts if text)


def _tool(schema: Any) -> Tool:
    if not isinstance(schema, dict) or not isinstance(schema.get("name"), str):
        raise _RecordError(f"function schema without a name: {str(schema)[:80]}")
    try:
        return Tool(
            name=schema["name"],
            description=str(schema.get("description", "")),
            parameters=bfcl_schema(schema.get("parameters") or {"type": "dict"}),
        )
    except ValidationError as exc:
        raise _RecordError(describe_validation_error(exc, Tool)) from None


def bfcl_schema(schema: Any) -> dict[str, Any]:
    """A BFCL parameter schema as JSON Schema (see the module docstring)."""
    if not isinstance(schema, Mapping):
        raise _RecordError(f"parameter schema {str(schema)[:80]} is not an object")
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type":
            names = value if isinstance(value, list) else [value]  # ["string", "null"] too
            unknown = [name for name in names if not isinstance(name, str) or name not in _TYPES]
            if unknown or not names:
                raise _RecordError(f"unknown BFCL type {value!r}")
            types = [_TYPES[name] for name in names]
            if None not in types:  # "any" anywhere: no constraint
                out["type"] = types if isinstance(value, list) else types[0]
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: bfcl_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = bfcl_schema(value)
        elif key != "optional":
            out[key] = value
    return out


def _gold_steps(ground_truth: list[Any], tools: list[Tool]) -> list[GoldStep]:
    by_name = {tool.name: tool for tool in tools}
    steps = []
    for call in ground_truth:
        if not isinstance(call, dict) or len(call) != 1:
            raise _RecordError(f"ground-truth call {str(call)[:80]} is not {{function: args}}")
        ((name, accepted),) = call.items()
        if name not in by_name:
            raise _RecordError(f"ground truth calls {name!r}, which is not among its functions")
        if not isinstance(accepted, dict) or not all(
            isinstance(values, list) and values for values in accepted.values()
        ):
            raise _RecordError(f"ground truth of {name!r}: each argument needs a list of values")
        parameters = by_name[name].parameters
        unknown = [
            arg for arg, values in accepted.items()
            if arg not in (parameters.get("properties") or {}) and "" not in values
        ]  # fmt: skip
        if unknown:
            raise _RecordError(f"ground truth of {name!r} sets {unknown}, which its schema lacks")
        arguments = canonical_call(accepted, parameters)
        steps.append(GoldStep(tool=name, arguments=arguments, accepted=accepted))
    return steps


def canonical_call(
    accepted: Mapping[str, list[Any]], parameters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The call made of each argument's first acceptable value.

    An argument whose first acceptable value is ``""`` is omitted, unless ``parameters``
    (the tool's JSON Schema) requires it: then its first other value is used. An
    argument the schema does not define is omitted when it may be (a few BFCL answers
    have one: ``parallel_multiple_26`` sets ``type``, a field of the nested items).
    """
    properties = (parameters or {}).get("properties")
    required = (parameters or {}).get("required") or []
    call = {}
    for name, values in accepted.items():
        present = [value for value in values if value != ""]
        if properties is not None and name not in properties and "" in values:
            continue
        if present and (values[0] != "" or name in required):
            call[name] = _first(present[0])
    return call


def _first(value: Any) -> Any:
    if isinstance(value, dict):  # a nested dict answer: values are lists of acceptable values
        return canonical_call(
            {k: v if isinstance(v, list) and v else [v] for k, v in value.items()}
        )
    if isinstance(value, list):
        return [_first(item) for item in value]
    return value
