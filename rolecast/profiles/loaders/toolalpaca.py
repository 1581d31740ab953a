"""ToolAlpaca evaluation sets (``eval_real.json``, ``eval_simulated.json``) as tool cases.

One case per instruction, id ``toolalpaca/<API name>/<index>``; its tools are the API's
functions (``Function_Projection``), its gold steps the instruction's
``Golden_Answers``. All cases are split ``profile``: the benchmark is held out from
rolecast's point of view (never used to write prompts), and is what profiles measure.

How the source is read:

* ``Documentation`` is an OpenAPI 3 spec stored as a JSON string. Each function's
  parameters are the operation's path, query and header parameters plus the properties
  of its JSON request body, with local ``$ref`` s resolved; types, descriptions, enums,
  defaults and ``required`` are kept, OpenAPI-only keywords dropped. The description is
  the first line of ``Function_Description``.
* Credentials are not arguments: the parameters the API lists under ``Authentication``
  (``access_key``, ``appid``, ``api_key``) are left out of the schemas and of the gold
  arguments, as the IBM study's copy of the data does; the runtime supplies them.
* In ``Action_Input`` a ``""`` value marks an optional argument the call omits: it is
  dropped from the gold ``arguments``.
* A spec whose braces put path items inside another path item (AviationAPI's
  ``/preferred-routes`` holds ``/weather/metar`` and four more, and ``components``
  sits under ``paths``) is repaired: the nested items are lifted back to ``paths``,
  ``components`` to the top, and each lifted operation becomes a tool named by its
  ``operationId`` or, failing that, by ToolAlpaca's rule (path segments joined by ``_``,
  then ``_<method>``: ``/weather/metar`` GET is ``weather_metar_get``). Those functions
  are missing from ``Function_Projection`` only because of the brace error; the repair
  is reported in the load's notes.
* A record is skipped, with a reason, when its ``Documentation`` is not valid JSON or
  cannot be converted (the whole API), or when an instruction's gold names a function
  the API does not document or has an ``Action_Input`` that is not a JSON object (e.g.
  ToolAlpaca's ``${id from searchX}`` placeholders).

With ``ibm_dir`` (the IBM coalition study's folder) ``eval_real`` cases also get:

* ``answer``: ``expected_final_responses.json``, per API ``Name``, same order as the
  instructions (short human-written answer stubs).
* gold steps from the study's copy of ``eval_real`` (``toolalpaca-13b/api_data_0_11.json``
  ``Golden_Answers``), the version the study scored against: credentials removed and a
  few typos fixed (``"symbols": "symbols": [...]``, ``Arriivals``).
* ``observation``: the real API response ToolAlpaca-13B recorded in that file's
  ``Instances`` (``intermediate_steps``), attached to a gold step only when the recorded
  call is the gold call (same function, same arguments once ``""`` values are dropped).
  The observation is the recorded text verbatim (``"Status Code: 200. Response: ..."``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from pydantic import ValidationError

from rolecast.config import describe_validation_error, load_json_records
from rolecast.errors import ConfigError
from rolecast.profiles.loaders import MALFORMED, LoadResult, Skipped, malformed
from rolecast.profiles.metrics import json_equal
from rolecast.types import GoldStep, Tool, ToolCase

__all__ = ["load_toolalpaca"]

SOURCE = "toolalpaca"
IBM_ANSWERS = "expected_final_responses.json"
IBM_RECORDED = "toolalpaca-13b/api_data_0_11.json"

# OpenAPI keywords that are not JSON Schema (nullable is turned into a "null" type).
_OPENAPI_ONLY = {"example", "examples", "xml", "externalDocs", "discriminator", "readOnly",
                 "writeOnly", "deprecated", "nullable", "style", "explode"}  # fmt: skip
# OpenAPI ignores header parameters with these names (they are set by the transport).
_IGNORED_HEADERS = {"accept", "content-type", "authorization"}
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class _RecordError(Exception):
    """A problem with one record; becomes a :class:`Skipped` entry."""


def load_toolalpaca(path: str | Path, *, ibm_dir: Path | None = None) -> LoadResult:
    """Load a ToolAlpaca ``eval_*.json`` file, or every one in a folder.

    Args:
        path: ``eval_real.json`` / ``eval_simulated.json``, or a folder holding them.
        ibm_dir: the IBM coalition study's folder (``ibm_coalitions/``): adds gold
            answers, the study's gold steps and recorded observations to ``eval_real``.

    Raises:
        ConfigError: a file is missing, broken before its first API, or not a list of APIs.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("eval_*.json"))
        if not files:
            raise ConfigError(f"{path}: no ToolAlpaca eval_*.json file in this folder")
    else:
        files = [path]
    ibm = _IbmStudy(Path(ibm_dir)) if ibm_dir is not None else None
    result = LoadResult([])
    for file in files:
        result = result + _load_file(file, ibm)
    if ibm is not None:
        result.notes.extend(ibm.summary())
    return result


def _load_file(file: Path, ibm: _IbmStudy | None) -> LoadResult:
    data, broken = load_json_records(file)
    if not isinstance(data, list):
        raise ConfigError(f"{file}: expected a JSON list of APIs, got {type(data).__name__}")
    cases: list[ToolCase] = []
    skipped: list[Skipped] = []
    notes: list[str] = []
    for index, api in enumerate(data):
        if not isinstance(api, dict) or not isinstance(api.get("Name"), str):
            skipped.append(Skipped(SOURCE, f"{file.name}: API #{index}", "no 'Name'"))
            continue
        name = api["Name"]
        where = f"{file.name}: API {name!r}"
        instructions = api.get("Instructions")
        if not isinstance(instructions, list):
            skipped.append(Skipped(SOURCE, where, "'Instructions' is not a list"))
            continue
        try:
            auth = _auth_names(api.get("Authentication"))
            tools, repaired = _api_tools(api, auth)
        except (_RecordError, *MALFORMED) as exc:
            problem = str(exc) if isinstance(exc, _RecordError) else malformed(exc)
            reason = f"{problem}; its {len(instructions)} instructions are not loaded"
            skipped.append(Skipped(SOURCE, where, reason))
            continue
        if repaired:
            notes.append(
                f"{where}: the OpenAPI 'Documentation' nests path items inside another path "
                f"item; lifted back to 'paths' and loaded as {', '.join(repaired)}"
            )
        golds = api.get("Golden_Answers")
        study = ibm.for_api(name, instructions) if ibm is not None else None
        if study is not None and study.golds is not None:
            golds = study.golds
        if not isinstance(golds, list):
            skipped.append(Skipped(SOURCE, where, "'Golden_Answers' is not a list"))
            continue
        if len(golds) > len(instructions):
            notes.append(
                f"{where}: {len(golds)} Golden_Answers for {len(instructions)} instructions; "
                f"the {len(golds) - len(instructions)} without an instruction are not used"
            )
        for i, instruction in enumerate(instructions):
            record = f"{where} instruction {i}"
            try:
                if i >= len(golds):
                    raise _RecordError("no Golden_Answers entry")
                steps = _gold_steps(golds[i], tools, auth)
                answer = None
                if study is not None:
                    steps = study.attach(i, steps, auth)
                    answer = study.answer(i)
                case = ToolCase(
                    id=f"toolalpaca/{name}/{i}",
                    instruction=str(instruction),
                    tools=list(tools.values()),
                    steps=steps,
                    answer=answer,
                    split="profile",
                    source=SOURCE,
                    tags=[SOURCE, file.stem],
                )
            except _RecordError as exc:
                skipped.append(Skipped(SOURCE, record, str(exc)))
                continue
            except ValidationError as exc:
                reason = describe_validation_error(exc, ToolCase)
                skipped.append(Skipped(SOURCE, record, reason))
                continue
            except MALFORMED as exc:
                skipped.append(Skipped(SOURCE, record, malformed(exc)))
                continue
            cases.append(case)
    if broken is not None:
        skipped.append(Skipped(SOURCE, f"{file.name}: API #{broken.index}", broken.reason))
    return LoadResult(cases, skipped, notes + _schema_notes(file, cases))


def _schema_notes(file: Path, cases: list[ToolCase]) -> list[str]:
    """Say which gold calls break their own tool's schema (kept: the benchmark says so)."""
    broken = []
    for case in cases:
        for number, step in enumerate(case.steps):
            tool = case.tool(step.tool)
            validator = jsonschema.Draft202012Validator(tool.parameters if tool else {})
            error = next(iter(validator.iter_errors(step.arguments)), None)
            if error is not None:
                broken.append(f"{case.id} step {number} ({error.message})")
    if not broken:
        return []
    return [
        f"{file.name}: {len(broken)} gold steps have arguments that do not validate against "
        f"their tool's schema; kept as the benchmark defines them: {'; '.join(broken)}"
    ]


# ----------------------------------------------------------------------------- gold steps


def _gold_steps(gold: Any, tools: Mapping[str, Tool], auth: set[str]) -> list[GoldStep]:
    if not isinstance(gold, list):
        raise _RecordError("its Golden_Answers entry is not a list of steps")
    steps = []
    for number, step in enumerate(gold):
        if not isinstance(step, dict) or "Action" not in step:
            raise _RecordError(f"gold step {number} has no 'Action'")
        action = step["Action"]
        if not isinstance(action, str) or action not in tools:
            raise _RecordError(
                f"gold step {number} calls {action!r}, which the API's documentation does "
                f"not define (functions: {', '.join(tools)})"
            )
        arguments = _parse_arguments(step.get("Action_Input", "{}"))
        if arguments is None:
            raise _RecordError(
                f"gold step {number}: Action_Input is not a valid JSON object: "
                f"{_shorten(step.get('Action_Input'))}"
            )
        steps.append(GoldStep(tool=action, arguments=_clean_arguments(arguments, auth)))
    return steps


def _parse_arguments(raw: Any) -> dict[str, Any] | None:
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        return None
    try:
        value = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _clean_arguments(arguments: Mapping[str, Any], auth: set[str]) -> dict[str, Any]:
    """Drop omitted optionals (``""``) and credentials."""
    return {key: value for key, value in arguments.items() if value != "" and key not in auth}


def _auth_names(value: Any) -> set[str]:
    """The credential argument names of ``Authentication`` (``{name: secret}``)."""
    if not value:
        return set()
    if not isinstance(value, dict):
        raise _RecordError("'Authentication' is not an object (argument name -> secret)")
    return set(value)


def _shorten(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----------------------------------------------------------------------------- OpenAPI


def _api_tools(api: Mapping[str, Any], auth: set[str]) -> tuple[dict[str, Tool], list[str]]:
    """The API's functions as tools, by name, and the names recovered by :func:`_repair`."""
    raw = api.get("Documentation")
    if isinstance(raw, str):
        try:
            spec = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _RecordError(
                f"the OpenAPI 'Documentation' string is not valid JSON "
                f"(line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
    else:
        spec = raw
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
        raise _RecordError("the OpenAPI 'Documentation' has no 'paths' object")
    spec, lifted = _repair(spec)
    projection = api.get("Function_Projection")
    if not isinstance(projection, dict) or not projection:
        raise _RecordError("no 'Function_Projection' (function -> [path, method])")
    descriptions = api.get("Function_Description") or {}
    if not isinstance(descriptions, dict):
        raise _RecordError("'Function_Description' is not an object (function -> text)")
    resolver = _Resolver(spec)
    tools: dict[str, Tool] = {}
    recovered = [
        (_function_name(operation, path, method), [path, method])
        for path in lifted
        for method, operation in spec["paths"][path].items()
        if method in _METHODS and isinstance(operation, dict)
    ]
    recovered = [(name, target) for name, target in recovered if name not in projection]
    for name, target in [*projection.items(), *recovered]:
        if not (isinstance(target, list) and len(target) == 2 and all(
                isinstance(part, str) for part in target)):  # fmt: skip
            raise _RecordError(f"function {name!r}: projection {target!r} is not [path, method]")
        path_item, operation = _operation(spec["paths"], *target)
        if operation is None:
            raise _RecordError(
                f"function {name!r}: {target[1].upper()} {target[0]} is not in paths"
            )
        try:
            parameters = _parameters(path_item, operation, resolver, auth)
        except _RecordError as exc:
            raise _RecordError(f"function {name!r}: {exc}") from None
        text = descriptions.get(name) or operation.get("summary") or operation.get("description")
        description = str(text or "").strip().splitlines()
        try:
            tools[name] = Tool(
                name=name, description=description[0] if description else "", parameters=parameters
            )
        except ValidationError as exc:
            raise _RecordError(describe_validation_error(exc, Tool)) from None
    return tools, [name for name, _ in recovered]


def _repair(spec: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Lift path items (and ``components``) nested inside a path item by a brace error.

    Returns the repaired spec and the lifted paths; a spec without the error is returned
    as it is. A nested item never replaces a path the spec defines properly.
    """
    paths: dict[str, Any] = {}
    lifted: list[str] = []
    components = spec.get("components")
    for key, item in spec["paths"].items():
        if key == "components" and isinstance(item, dict) and components is None:
            components = item
            continue
        if not isinstance(item, dict):
            paths[key] = item
            continue
        nested = {k: v for k, v in item.items() if k.startswith("/") and isinstance(v, dict)}
        paths[key] = {k: v for k, v in item.items() if k not in nested}
        for sub, sub_item in nested.items():
            if sub not in spec["paths"] and sub not in paths:
                paths[sub] = sub_item
                lifted.append(sub)
    if not lifted and components is spec.get("components"):
        return spec, []
    repaired = {**spec, "paths": paths}
    if components is not None:
        repaired["components"] = components
    return repaired, lifted


def _function_name(operation: Mapping[str, Any], path: str, method: str) -> str:
    """A recovered function's name: its operationId, else ToolAlpaca's path rule."""
    operation_id = operation.get("operationId")
    if isinstance(operation_id, str) and operation_id.strip():
        return operation_id.strip()
    return path.strip("/").replace("/", "_") + "_" + method


def _operation(paths: Mapping[str, Any], path: str, method: str) -> tuple[dict, dict | None]:
    for candidate in (path, "/" + path.lstrip("/"), path.rstrip("/") or "/"):
        item = paths.get(candidate)
        if isinstance(item, dict) and isinstance(item.get(method.lower()), dict):
            return item, item[method.lower()]
    return {}, None


def _parameters(
    path_item: Mapping[str, Any], operation: Mapping[str, Any], resolver: _Resolver, auth: set[str]
) -> dict[str, Any]:
    """The JSON Schema of one operation's arguments."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*(path_item.get("parameters") or []), *(operation.get("parameters") or [])]:
        param = resolver.resolve(raw)
        if not isinstance(param, dict) or not isinstance(param.get("name"), str):
            raise _RecordError(f"parameter {_shorten(raw)} has no name")
        merged[(param["name"], str(param.get("in", "query")))] = param  # operation overrides
    properties: dict[str, Any] = {}
    required: list[str] = []
    for (name, location), param in merged.items():
        if name in auth or (location == "header" and name.lower() in _IGNORED_HEADERS):
            continue
        schema: Any = param.get("schema")
        if schema is None and isinstance(param.get("content"), dict):  # {media: {schema}}
            media: Any = next(iter(param["content"].values()), None)
            schema = media.get("schema") if isinstance(media, dict) else None
        schema = _json_schema(schema if isinstance(schema, dict) else {})
        if param.get("description"):
            schema = {**schema, "description": str(param["description"])}
        properties.setdefault(name, schema)
        if param.get("required") or location == "path":
            required.append(name)
    body = resolver.resolve(operation.get("requestBody")) if "requestBody" in operation else None
    if isinstance(body, dict) and isinstance(body.get("content"), dict) and body["content"]:
        content = body["content"]
        media = next((key for key in content if "json" in key), next(iter(content)))
        media_type = content[media]
        schema = media_type.get("schema") if isinstance(media_type, dict) else None
        schema = _json_schema(schema if isinstance(schema, dict) else {})
        if isinstance(schema.get("properties"), dict):
            for name, prop in schema["properties"].items():
                if name not in auth:
                    properties.setdefault(name, prop)
            if body.get("required") and isinstance(schema.get("required"), list):
                required.extend(n for n in schema["required"] if n not in auth)
        elif schema:
            properties.setdefault("body", schema)
            if body.get("required"):
                required.append("body")
    result: dict[str, Any] = {"type": "object", "properties": properties}
    required = [name for name in dict.fromkeys(required) if name in properties]
    if required:
        result["required"] = required
    return result


def _json_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An (already resolved) OpenAPI schema object as JSON Schema."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _OPENAPI_ONLY:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {
                name: _json_schema(sub) for name, sub in value.items() if isinstance(sub, dict)
            }
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _json_schema(value)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            out[key] = [_json_schema(sub) for sub in value if isinstance(sub, dict)]
        else:
            out[key] = value
    if schema.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


class _Resolver:
    """Inlines local ``$ref`` s (``#/components/...``) of one OpenAPI document."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._spec = spec

    def resolve(self, node: Any, seen: tuple[str, ...] = ()) -> Any:
        if isinstance(node, list):
            return [self.resolve(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" not in node:
            return {key: self.resolve(value, seen) for key, value in node.items()}
        ref = node["$ref"]
        if ref in seen:  # a recursive schema: stop at the first repetition
            return {"type": "object", "description": f"(recursive: {ref})"}
        target = self.resolve(self._lookup(ref), (*seen, ref))
        siblings = {k: self.resolve(v, seen) for k, v in node.items() if k != "$ref"}
        return {**target, **siblings} if isinstance(target, dict) else target

    def _lookup(self, ref: Any) -> Any:
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise _RecordError(f"$ref {ref!r} is not a local reference ('#/...')")
        node: Any = self._spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise _RecordError(f"$ref {ref!r} does not resolve")
            node = node[part]
        return node


# ----------------------------------------------------------------------------- IBM study


class _IbmStudy:
    """The IBM coalition study's copy of ``eval_real``; counts what it attached."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[str] = []
        answers, broken_answers = load_json_records(folder / IBM_ANSWERS)
        recorded, broken_recorded = load_json_records(folder / IBM_RECORDED)
        if not isinstance(answers, list) or not isinstance(recorded, list):
            raise ConfigError(f"{folder}: {IBM_ANSWERS} and {IBM_RECORDED} must be JSON lists")
        for name, broken in ((IBM_ANSWERS, broken_answers), (IBM_RECORDED, broken_recorded)):
            if broken is not None:
                self.problems.append(f"{name}: API #{broken.index}: {broken.reason}")
        self._answers = self._by_name(IBM_ANSWERS, answers)
        self._recorded = self._by_name(IBM_RECORDED, recorded)
        self.malformed_steps = 0
        self.gold_apis = self.answers = self.steps = self.observed_steps = 0
        self.observed_cases = self.fully_observed_cases = 0

    def _by_name(self, file: str, records: list) -> dict[str, dict]:
        """The records by API ``Name``; one without a name, or a repeated one, is a problem."""
        named: dict[str, dict] = {}
        for index, record in enumerate(records):
            name = record.get("Name") if isinstance(record, dict) else None
            if not isinstance(name, str):
                self.problems.append(f"{file}: API #{index}: no 'Name'; not used")
            elif name in named:
                self.problems.append(f"{file}: API #{index}: {name!r} again; the first is used")
            else:
                named[name] = record
        return named

    def for_api(self, name: str, instructions: list) -> _IbmApi | None:
        """The study's data for one API, each part used only if it lines up."""
        answers = self._answers.get(name, {}).get("Expected_Final_Responses")
        if answers is not None and not _one_per(answers, instructions):
            self.problems.append(f"{IBM_ANSWERS}: API {name!r}: not one answer per instruction")
            answers = None
        recorded = self._recorded.get(name)
        golds = runs = None
        if recorded is not None and recorded.get("Instructions") != instructions:
            self.problems.append(f"{IBM_RECORDED}: API {name!r}: other instructions; not used")
        elif recorded is not None:
            golds, runs = recorded.get("Golden_Answers"), recorded.get("Instances")
            if not _one_per(golds, instructions) or not _one_per(runs, instructions):
                self.problems.append(f"{IBM_RECORDED}: API {name!r}: not one run per instruction")
                golds = runs = None
        if answers is None and runs is None:
            return None
        self.gold_apis += golds is not None
        return _IbmApi(self, answers, golds, runs)

    def summary(self) -> list[str]:
        return [
            f"IBM ({self.folder}): gold steps of {self.gold_apis} APIs taken from the study's "
            f"copy ({IBM_RECORDED}); {self.answers} gold answers attached; recorded observations "
            f"attached to {self.observed_steps} of {self.steps} gold steps "
            f"({self.observed_cases} cases have at least one, {self.fully_observed_cases} "
            f"have all); a recorded call is attached only when it equals the gold call",
            *(
                [
                    f"{IBM_RECORDED}: {self.malformed_steps} recorded steps are not "
                    f"[[action, input, log], observation] and were not used"
                ]
                if self.malformed_steps
                else []
            ),
            *self.problems,
        ]


@dataclass
class _IbmApi:
    """One API's part of the study: answers, corrected golds and recorded runs."""

    study: _IbmStudy
    answers: list | None
    golds: list | None
    runs: list | None

    def answer(self, index: int) -> str | None:
        text = str(self.answers[index]).strip() if self.answers is not None else ""
        self.study.answers += bool(text)
        return text or None

    def attach(self, index: int, steps: list[GoldStep], auth: set[str]) -> list[GoldStep]:
        """Give each gold step the observation of a recorded call identical to it."""
        recorded, malformed = _recorded_calls(self.runs[index]) if self.runs else ([], 0)
        self.study.malformed_steps += malformed
        used: set[int] = set()
        attached = []
        for step in steps:
            match = next(
                (
                    n for n, (action, arguments, _) in enumerate(recorded)
                    if n not in used and action == step.tool and arguments is not None
                    and json_equal(_clean_arguments(arguments, auth), step.arguments)
                ),
                None,
            )  # fmt: skip
            if match is not None:
                used.add(match)
                step = step.model_copy(update={"observation": recorded[match][2]})
            attached.append(step)
        self.study.steps += len(steps)
        self.study.observed_steps += len(used)
        self.study.observed_cases += bool(used)
        self.study.fully_observed_cases += bool(steps) and len(used) == len(steps)
        return attached


def _one_per(values: Any, instructions: list) -> bool:
    return isinstance(values, list) and len(values) == len(instructions)


def _recorded_calls(run: Any) -> tuple[list[tuple[str, dict[str, Any] | None, str]], int]:
    """(action, arguments, observation) of each step of one recorded run; malformed steps."""
    calls = []
    malformed = 0
    steps = run.get("intermediate_steps") if isinstance(run, dict) else None
    for step in steps or []:
        try:
            (action, action_input, _log), observation = step
        except (TypeError, ValueError):
            malformed += 1
            continue
        calls.append((str(action), _parse_arguments(action_input), str(observation)))
    return calls, malformed
