"""rolecast's own case files: :class:`ToolCase` records in YAML, JSON or JSON Lines.

* YAML (``.yaml``/``.yml``) and JSON (``.json``): a list of cases, or ``{"cases": [...]}``.
* JSON Lines (``.jsonl``): one case per line; blank lines are ignored.

Each record is validated as a :class:`ToolCase` (unknown keys are errors that name the
allowed keys; tool parameters must be JSON Schema objects, not a bare properties mapping),
and each gold call's arguments are checked against its tool's schema as the caller is
held to it (declared parameters only, types, required ones): a gold the caller can never
match is no case. An invalid record is skipped and located as ``file:line`` (YAML, JSONL)
or ``file record N`` (JSON, 1-based); a later record reusing an earlier id is skipped
too. A file that cannot be parsed at all raises :class:`ConfigError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rolecast.config import describe_validation_error, load_json, load_jsonl, load_yaml
from rolecast.errors import ConfigError
from rolecast.profiles.loaders import LoadResult, Skipped
from rolecast.types import ToolCase

__all__ = ["gold_problem", "load_native"]

SOURCE = "native"


def load_native(path: str | Path) -> LoadResult:
    """Load a native case file (``.yaml``, ``.yml``, ``.json`` or ``.jsonl``).

    Raises:
        ConfigError: the file is missing or malformed as a whole, has another suffix,
            or is not a list of cases (nor ``{"cases": [...]}``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        records: list[tuple[str, Any]] = []
        for line, value in load_jsonl(path):
            if isinstance(value, ConfigError):  # "<path>:<line>: malformed JSON: ..."
                value = str(value).split(": ", 1)[-1]
                records.append((f"{path.name}:{line}", _Malformed(value)))
            else:
                records.append((f"{path.name}:{line}", value))
    elif suffix in (".yaml", ".yml"):
        data = load_yaml(path)
        items = _items(path, data)
        lines = _yaml_lines(path)
        records = [
            (f"{path.name}:{lines[i]}" if i < len(lines) else f"{path.name} record {i + 1}", item)
            for i, item in enumerate(items)
        ]
    elif suffix == ".json":
        items = _items(path, load_json(path))
        records = [(f"{path.name} record {i + 1}", item) for i, item in enumerate(items)]
    else:
        raise ConfigError(f"{path}: a native case file must be .yaml, .yml, .json or .jsonl")
    if not records:
        raise ConfigError(f"{path}: no cases in this file")
    cases: list[ToolCase] = []
    skipped: list[Skipped] = []
    first_seen: dict[str, str] = {}
    for where, record in records:
        if isinstance(record, _Malformed):
            skipped.append(Skipped(SOURCE, where, record.message))
            continue
        try:
            case = ToolCase.model_validate(record)
        except ValidationError as exc:
            skipped.append(Skipped(SOURCE, where, describe_validation_error(exc, ToolCase)))
            continue
        problem = gold_problem(case)
        if problem:
            skipped.append(Skipped(SOURCE, where, problem))
            continue
        if case.id in first_seen:
            reason = f"duplicate case id {case.id!r} (first at {first_seen[case.id]})"
            skipped.append(Skipped(SOURCE, where, reason))
            continue
        first_seen[case.id] = where
        cases.append(case)
    return LoadResult(cases, skipped)


def gold_problem(case: ToolCase) -> str | None:
    """Why a gold call's arguments cannot match its tool's schema, or None.

    The caller is constrained to the tool's declared parameters (no others), so an
    argument the tool does not declare can never be matched; the arguments must also
    validate against the schema (types, required parameters, enums, ...).
    """
    import jsonschema
    from jsonschema.exceptions import best_match

    for index, step in enumerate(case.steps):
        tool = case.tool(step.tool)
        if tool is None:  # ToolCase validation already refuses this
            continue
        where = f"gold step {index} ({step.tool})"
        declared = list((tool.parameters.get("properties") or {}).keys())
        undeclared = [key for key in step.arguments if key not in declared]
        if undeclared:
            names = ", ".join(repr(key) for key in undeclared)
            return (
                f"{where}: argument{'s' if len(undeclared) > 1 else ''} {names} "
                f"{'are' if len(undeclared) > 1 else 'is'} not among the tool's parameters "
                f"{declared}; the caller can never pass"
            )
        validator = jsonschema.Draft202012Validator(tool.parameters)
        error = best_match(validator.iter_errors(step.arguments))
        if error is not None:
            at = "/".join(str(part) for part in error.absolute_path) or "(top)"
            return f"{where}: at {at!r}: {error.message}"
    return None


class _Malformed:
    """A JSON Lines line that is not JSON; skipped with its parse error."""

    def __init__(self, message: str) -> None:
        self.message = message


def _items(path: Path, data: Any) -> list[Any]:
    if isinstance(data, dict) and set(data) == {"cases"}:
        data = data["cases"]
    if not isinstance(data, list):
        raise ConfigError(
            f"{path}: expected a list of cases or {{'cases': [...]}}, got {type(data).__name__}"
        )
    return data


def _yaml_lines(path: Path) -> list[int]:
    """The 1-based line where each case of an (already parsed) YAML file starts."""
    node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    if isinstance(node, yaml.MappingNode):
        node = next((value for key, value in node.value if key.value == "cases"), None)
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in node.value]
